/*
 * verifier/tnum.c — tnums ("tristate numbers", known bits): a set of words
 * described by which bits are known and what they are (verifier/domain.h).
 *
 * Every function is pure and total, and over-approximates the concrete
 * operation of vm/semantics.h.  proofs/prove.c mirrors each function as Z3
 * terms line by line; tests/test_proofs_encoding.c checks that the mirror
 * computes what this file computes, so keep the two in step.
 *
 * Word width.  The code is written for VFM_DOMAIN_BITS-bit words stored in
 * uint64_t (64 in the library).  tests/ and proofs/ compile this same file
 * again at 8 and 16 bits (proofs/dom_inst.h) to test it exhaustively, so
 * every result that may carry past the width is masked with VFM_DOM_M and
 * every shift count stays below the width.  At 64 bits the masks vanish.
 */
#include "domain.h"
#include "program.h"
#include "semantics.h"

#include "dom_width.h"

static inline struct vfm_tnum dom_tn_make(uint64_t value, uint64_t mask)
{
	return (struct vfm_tnum){value, mask};
}

/* x with every bit below its highest set bit set too (0 stays 0).  Shifts
 * by 8..32 are no-ops at narrower widths, so one body serves all widths. */
static inline uint64_t dom_tn_fill(uint64_t x)
{
	x |= x >> 1;
	x |= x >> 2;
	x |= x >> 4;
	x |= x >> 8;
	x |= x >> 16;
	x |= x >> 32;
	return x;
}

struct vfm_tnum vfm_tnum_const(uint64_t v)
{
	return dom_tn_make(v & VFM_DOM_M, 0);
}

struct vfm_tnum vfm_tnum_unknown(void)
{
	return dom_tn_make(0, VFM_DOM_M);
}

bool vfm_tnum_contains(struct vfm_tnum t, uint64_t x)
{
	return (x & ~t.mask) == t.value;
}

bool vfm_tnum_is_const(struct vfm_tnum t)
{
	return t.mask == 0;
}

/* The bits above the highest bit in which lo and hi differ are common to
 * every value between them; the rest are unknown.  Symmetric in lo, hi. */
struct vfm_tnum vfm_tnum_range(uint64_t lo, uint64_t hi)
{
	uint64_t delta = dom_tn_fill(lo ^ hi) & VFM_DOM_M;
	return dom_tn_make(lo & ~delta & VFM_DOM_M, delta);
}

/* A bit stays known only if it is known and equal in both. */
struct vfm_tnum vfm_tnum_join(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t mu = a.mask | b.mask | (a.value ^ b.value);
	return dom_tn_make(a.value & ~mu, mu);
}

/* A bit is known if either knows it; a bit both know differently leaves
 * nothing (then a is returned, its content is unspecified). */
struct vfm_tnum vfm_tnum_meet(struct vfm_tnum a, struct vfm_tnum b, bool *empty)
{
	uint64_t clash = (a.value ^ b.value) & ~a.mask & ~b.mask;
	if (empty)
		*empty = clash != 0;
	if (clash)
		return a;
	return dom_tn_make(a.value | b.value, a.mask & b.mask);
}

/*
 * Addition: sv adds the known parts, sigma adds them with every unknown bit
 * set.  Wherever the two sums differ a carry may or may not have run, so
 * those bits (and every unknown input bit) are unknown in the result.
 */
struct vfm_tnum vfm_tnum_ADD(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t sm = (a.mask + b.mask) & VFM_DOM_M;
	uint64_t sv = (a.value + b.value) & VFM_DOM_M;
	uint64_t sigma = (sv + sm) & VFM_DOM_M;
	uint64_t mu = (sigma ^ sv) | a.mask | b.mask;
	return dom_tn_make(sv & ~mu, mu);
}

/* Subtraction: the largest (alpha) and smallest (beta) differences bracket
 * every borrow pattern; bits where they differ are unknown. */
struct vfm_tnum vfm_tnum_SUB(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t dv = (a.value - b.value) & VFM_DOM_M;
	uint64_t alpha = (dv + a.mask) & VFM_DOM_M;
	uint64_t beta = (dv - b.mask) & VFM_DOM_M;
	uint64_t mu = (alpha ^ beta) | a.mask | b.mask;
	return dom_tn_make(dv & ~mu, mu);
}

/*
 * Multiplication by shift-and-add, with the known and unknown parts kept
 * apart: value * value is exact for the known bits, and for each bit i of
 * a the unknown share of the partial product b << i is accumulated as a
 * tnum of value 0 — only b's unknown bits if a's bit is known 1, all of
 * b's possible bits if a's bit is unknown.  Adding {0, 0} changes nothing,
 * so every iteration adds (this keeps the Z3 mirror a straight line).
 * Known-bits multiplication of Harishankar et al., CGO 2022.
 */
struct vfm_tnum vfm_tnum_MUL(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t acc_v = (a.value * b.value) & VFM_DOM_M;
	struct vfm_tnum acc_m = dom_tn_make(0, 0);
	for (unsigned i = 0; i < VFM_DOMAIN_BITS; i++) {
		uint64_t bit = (uint64_t)1 << i;
		uint64_t part = (a.value & bit) ? b.mask
			      : (a.mask & bit) ? (b.value | b.mask)
					       : 0;
		acc_m = vfm_tnum_ADD(acc_m, dom_tn_make(0, (part << i) & VFM_DOM_M));
	}
	return vfm_tnum_ADD(dom_tn_make(acc_v, 0), acc_m);
}

/*
 * Division: x / y <= x, and x / 0 = 0, so every quotient lies in
 * [0, max(a) / max(min(b), 1)]; the tnum of that range keeps the leading
 * zeros.  The interval side of the reduced product is the precise one.
 */
struct vfm_tnum vfm_tnum_DIV(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t amax = a.value | a.mask, bmin = b.value;
	if (a.mask == 0 && b.mask == 0)
		return vfm_tnum_const(vfm_sem_DIV(a.value, b.value));
	return vfm_tnum_range(0, bmin ? amax / bmin : amax);
}

/*
 * Remainder: x % 2^k keeps x's low k bits exactly; otherwise x % y is at
 * most min(x, y - 1) for y != 0, and x itself for y = 0 (semantics.h).
 */
struct vfm_tnum vfm_tnum_MOD(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t amax = a.value | a.mask, bmax = b.value | b.mask;
	uint64_t lim = amax < bmax - 1 ? amax : bmax - 1;
	if (a.mask == 0 && b.mask == 0)
		return vfm_tnum_const(vfm_sem_MOD(a.value, b.value));
	if (b.mask == 0 && b.value != 0 && (b.value & (b.value - 1)) == 0)
		return vfm_tnum_AND(a, dom_tn_make(b.value - 1, 0));
	if (bmax == 0)
		return a;
	if (b.value != 0) /* b's minimum: no zero divisor */
		return vfm_tnum_range(0, lim);
	return vfm_tnum_join(a, vfm_tnum_range(0, lim));
}

/* Bitwise operations are exact per bit. */
struct vfm_tnum vfm_tnum_AND(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t alpha = a.value | a.mask, beta = b.value | b.mask;
	uint64_t v = a.value & b.value;
	return dom_tn_make(v, alpha & beta & ~v);
}

struct vfm_tnum vfm_tnum_OR(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t v = a.value | b.value;
	return dom_tn_make(v, (a.mask | b.mask) & ~v);
}

struct vfm_tnum vfm_tnum_XOR(struct vfm_tnum a, struct vfm_tnum b)
{
	uint64_t mu = a.mask | b.mask;
	return dom_tn_make((a.value ^ b.value) & ~mu, mu);
}

struct vfm_tnum vfm_tnum_NOT(struct vfm_tnum a)
{
	return dom_tn_make(~a.value & ~a.mask & VFM_DOM_M, a.mask);
}

struct vfm_tnum vfm_tnum_NEG(struct vfm_tnum a)
{
	return vfm_tnum_SUB(dom_tn_make(0, 0), a);
}

/*
 * Shifts.  The count is b & (BITS-1).  The result is the join of a shifted
 * by every possible count, computed like a barrel shifter: stage i shifts
 * by 2^i if count bit i is known 1, keeps the value if it is known 0, and
 * joins both if it is unknown.  Shifting by a constant commutes with join
 * and join is associative, so this is exactly the join over all counts:
 * exact for a known count, the best tnum otherwise, in log2(BITS) steps.
 */
struct vfm_tnum vfm_tnum_SHL(struct vfm_tnum a, struct vfm_tnum b)
{
	struct vfm_tnum r = a;
	for (unsigned s = 1; s < VFM_DOMAIN_BITS; s <<= 1) {
		struct vfm_tnum t = dom_tn_make((r.value << s) & VFM_DOM_M, (r.mask << s) & VFM_DOM_M);
		if (b.value & s)
			r = t;
		else if (b.mask & s)
			r = vfm_tnum_join(r, t);
	}
	return r;
}

struct vfm_tnum vfm_tnum_SHR(struct vfm_tnum a, struct vfm_tnum b)
{
	struct vfm_tnum r = a;
	for (unsigned s = 1; s < VFM_DOMAIN_BITS; s <<= 1) {
		struct vfm_tnum t = dom_tn_make(r.value >> s, r.mask >> s);
		if (b.value & s)
			r = t;
		else if (b.mask & s)
			r = vfm_tnum_join(r, t);
	}
	return r;
}
