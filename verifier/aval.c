/*
 * verifier/aval.c — the reduced product of an interval and a tnum
 * (verifier/domain.h): reduction, join, the ALU dispatch and branch
 * refinement.
 *
 * Conventions as in verifier/tnum.c (VFM_DOMAIN_BITS-bit words, masks, a
 * line-by-line Z3 mirror in proofs/enc.c).  A value is "reduced" when its
 * interval bounds are members of its tnum and its tnum has no member
 * outside the interval's common high bits; every result here is reduced.
 */
#include "domain.h"
#include "program.h"
#include "semantics.h"

#include "dom_width.h"

struct vfm_aval vfm_aval_const(uint64_t v)
{
	return (struct vfm_aval){vfm_itv_const(v), vfm_tnum_const(v)};
}

struct vfm_aval vfm_aval_unknown(void)
{
	return (struct vfm_aval){vfm_itv_full(), vfm_tnum_unknown()};
}

bool vfm_aval_contains(struct vfm_aval a, uint64_t x)
{
	return vfm_itv_contains(a.itv, x) && vfm_tnum_contains(a.tn, x);
}

/*
 * The smallest member of t that is >= x; *ok = false if there is none.
 * y is x with t's known bits imposed.  If y differs from x, look at the
 * highest bit where they differ (a known bit of t): if y has a 1 there, y
 * is already larger and its unknown bits below that point are cleared;
 * if y has a 0 there, the member must raise the lowest unknown bit above
 * that point which x has as 0, and clear the unknown bits below it.
 */
static uint64_t dom_av_next_member(struct vfm_tnum t, uint64_t x, bool *ok)
{
	uint64_t y = t.value | (x & t.mask);
	uint64_t d = x ^ y;
	uint64_t below = vfm_tnum_range(0, d).mask; /* highest difference and below */
	uint64_t top = below ^ (below >> 1);
	uint64_t free = ~x & t.mask & ~below & VFM_DOM_M;
	uint64_t q = free & (0 - free);              /* lowest bit that can rise */
	*ok = true;
	if (d == 0)
		return x;
	if (y & top)
		return (y & ~below) | (t.value & below);
	if (q == 0) {
		*ok = false;
		return 0;
	}
	return (y & ~(q | (q - 1))) | q | (t.value & (q - 1));
}

/* The largest member of t that is <= x: complementing reverses the order
 * and maps t's members onto not(t)'s. */
static uint64_t dom_av_prev_member(struct vfm_tnum t, uint64_t x, bool *ok)
{
	return ~dom_av_next_member(vfm_tnum_NOT(t), ~x & VFM_DOM_M, ok) & VFM_DOM_M;
}

/*
 * One round reaches the fixpoint: the new bounds are members of the tnum,
 * and so of its meet with their range, which therefore cannot tighten
 * them further.  A malformed tnum (value & mask != 0) or interval
 * (lo > hi) has no member, and is reported empty like any other.
 */
struct vfm_aval vfm_aval_reduce(struct vfm_aval a, bool *empty)
{
	bool ok_lo, ok_hi, none;
	uint64_t lo = dom_av_next_member(a.tn, a.itv.lo, &ok_lo);
	uint64_t hi = dom_av_prev_member(a.tn, a.itv.hi, &ok_hi);
	struct vfm_aval r;
	none = (a.tn.value & a.tn.mask) != 0 || !ok_lo || !ok_hi || lo > hi;
	if (empty)
		*empty = none;
	if (none)
		return a;
	r.itv.lo = lo;
	r.itv.hi = hi;
	/* Cannot clash: lo is a member of both. */
	r.tn = vfm_tnum_meet(a.tn, vfm_tnum_range(lo, hi), NULL);
	return r;
}

/* The join of reduced values may be reducible again ({1} join {3} gives
 * [1,3] and the tnum 0b?1, whose meet with [1,3]'s tnum is 0b?1). */
struct vfm_aval vfm_aval_join(struct vfm_aval a, struct vfm_aval b)
{
	struct vfm_aval r = {vfm_itv_join(a.itv, b.itv), vfm_tnum_join(a.tn, b.tn)};
	bool empty;
	struct vfm_aval red = vfm_aval_reduce(r, &empty);
	return empty ? r : red;
}

/* Intersection of both components, reduced. */
static struct vfm_aval dom_av_meet(struct vfm_aval a, struct vfm_aval b, bool *empty)
{
	bool e_itv, e_tn;
	struct vfm_aval r = {vfm_itv_meet(a.itv, b.itv, &e_itv),
			     vfm_tnum_meet(a.tn, b.tn, &e_tn)};
	r = vfm_aval_reduce(r, empty);
	*empty = *empty || e_itv || e_tn;
	return r;
}

/* Reduce a computed product; on inputs with no member (then any result is
 * sound) the reduction may find it empty and the product is kept as is. */
static struct vfm_aval dom_av_result(struct vfm_interval itv, struct vfm_tnum tn)
{
	struct vfm_aval r = {itv, tn};
	bool empty;
	struct vfm_aval red = vfm_aval_reduce(r, &empty);
	return empty ? r : red;
}

/*
 * The ALU dispatch is generated from the VFM_ALU2 / VFM_ALU1 rows of
 * vm/opcodes.def: every row NAME calls vfm_itv_NAME and vfm_tnum_NAME, so
 * a new row does not build until both operators exist.  An opcode of
 * another class has no abstract operator here: unknown.
 */
struct vfm_aval vfm_aval_alu2(uint8_t opcode, struct vfm_aval a, struct vfm_aval b)
{
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(NAME, ...)                                                    \
	case VFM_ALU2_##NAME:                                                  \
		return dom_av_result(vfm_itv_##NAME(a.itv, b.itv),             \
				     vfm_tnum_##NAME(a.tn, b.tn));
#define VFM_OP(...)
#include "opcodes.def"
	}
	return vfm_aval_unknown();
}

struct vfm_aval vfm_aval_alu1(uint8_t opcode, struct vfm_aval a)
{
	switch ((enum vfm_alu1_op)opcode) {
#define VFM_ALU1(NAME, ...)                                                    \
	case VFM_ALU1_##NAME:                                                  \
		return dom_av_result(vfm_itv_##NAME(a.itv), vfm_tnum_##NAME(a.tn));
#define VFM_OP(...)
#include "opcodes.def"
	}
	return vfm_aval_unknown();
}

/* x != c for a constant c: drop c if it is an end of x's interval (the
 * caller's reduction then moves that end to the next tnum member). */
static struct vfm_interval dom_av_exclude(struct vfm_interval x, uint64_t c)
{
	if (x.lo == c && x.lo < x.hi)
		x.lo++;
	else if (x.hi == c && x.lo < x.hi)
		x.hi--;
	return x;
}

/*
 * Narrow x and y to the pairs with x REL y.  Returns false if no pair is
 * left.  GT and GE are LT and LE with the operands swapped.
 */
static bool dom_av_narrow(enum vfm_rel rel, struct vfm_aval *x, struct vfm_aval *y)
{
	bool empty = false, e2 = false;
	switch (rel) {
	case VFM_REL_GT:
		return dom_av_narrow(VFM_REL_LT, y, x);
	case VFM_REL_GE:
		return dom_av_narrow(VFM_REL_LE, y, x);
	case VFM_REL_EQ:
		*x = dom_av_meet(*x, *y, &empty);
		*y = *x;
		return !empty;
	case VFM_REL_NE:
		if (x->itv.lo == x->itv.hi && y->itv.lo == y->itv.hi && x->itv.lo == y->itv.lo)
			return false;
		if (y->itv.lo == y->itv.hi)
			x->itv = dom_av_exclude(x->itv, y->itv.lo);
		if (x->itv.lo == x->itv.hi)
			y->itv = dom_av_exclude(y->itv, x->itv.lo);
		break;
	case VFM_REL_LT:
		/* x < y: x <= max(y) - 1 and y >= min(x) + 1. */
		if (y->itv.hi == 0 || x->itv.lo == VFM_DOM_M)
			return false;
		if (x->itv.hi > y->itv.hi - 1)
			x->itv.hi = y->itv.hi - 1;
		if (y->itv.lo < x->itv.lo + 1)
			y->itv.lo = x->itv.lo + 1;
		break;
	case VFM_REL_LE:
		if (x->itv.hi > y->itv.hi)
			x->itv.hi = y->itv.hi;
		if (y->itv.lo < x->itv.lo)
			y->itv.lo = x->itv.lo;
		break;
	case VFM_REL_SET: {
		/* Some bit is 1 in both.  If only one bit can be, it is. */
		uint64_t common = (x->tn.value | x->tn.mask) & (y->tn.value | y->tn.mask);
		struct vfm_tnum one = {common, ~common & VFM_DOM_M};
		if (common == 0)
			return false;
		/* Neither is 0: an end at 0 moves up. */
		x->itv = dom_av_exclude(x->itv, 0);
		y->itv = dom_av_exclude(y->itv, 0);
		if ((common & (common - 1)) == 0) {
			x->tn = vfm_tnum_meet(x->tn, one, &empty);
			y->tn = vfm_tnum_meet(y->tn, one, &e2);
		}
		break;
	}
	case VFM_REL_CLEAR: {
		/* No bit is 1 in both: a bit known 1 in one is 0 in the other. */
		struct vfm_tnum not_x = {0, ~x->tn.value & VFM_DOM_M};
		struct vfm_tnum not_y = {0, ~y->tn.value & VFM_DOM_M};
		x->tn = vfm_tnum_meet(x->tn, not_y, &empty);
		y->tn = vfm_tnum_meet(y->tn, not_x, &e2);
		break;
	}
	}
	if (empty || e2)
		return false;
	*x = vfm_aval_reduce(*x, &empty);
	*y = vfm_aval_reduce(*y, &e2);
	return !empty && !e2;
}

bool vfm_aval_refine(uint8_t opcode, bool taken, struct vfm_aval *a, struct vfm_aval *b)
{
	bool empty_a, empty_b;
	struct vfm_aval x = vfm_aval_reduce(*a, &empty_a);
	struct vfm_aval y = vfm_aval_reduce(*b, &empty_b);
	bool ok;
	if (empty_a || empty_b)
		return false;
	if (vfm_opinfo[opcode].cls != VFM_CLASS_JCC) {
		/* Not a comparison: no relation to narrow by. */
		*a = x;
		*b = y;
		return true;
	}
	/* The relation of this edge, from the JCC row of vm/opcodes.def. */
	ok = dom_av_narrow(vfm_jcc_rel(opcode, taken), &x, &y);
	*a = x;
	*b = y;
	return ok;
}
