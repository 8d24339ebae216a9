/*
 * verifier/interval.c — unsigned intervals [lo, hi] (verifier/domain.h).
 *
 * Pure, total functions over-approximating vm/semantics.h.  Conventions as
 * in verifier/tnum.c: VFM_DOMAIN_BITS-bit words in uint64_t (the tests and
 * proofs compile this file again at 8 and 16 bits), results masked with
 * VFM_DOM_M, and a line-by-line Z3 mirror in proofs/enc.c.
 *
 * Precision policy: every operator is exact when both operands are
 * constants (the verifier folds constants through it), monotone bounds
 * where the operation is monotone, and the full range where a result set
 * would wrap around (a wrapped set is not an interval).
 */
#include "domain.h"
#include "program.h"
#include "semantics.h"

#include "dom_width.h"

static inline struct vfm_interval dom_itv_make(uint64_t lo, uint64_t hi)
{
	return (struct vfm_interval){lo, hi};
}

static inline bool dom_itv_is_const(struct vfm_interval a)
{
	return a.lo == a.hi;
}

static inline uint64_t dom_itv_min(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

static inline uint64_t dom_itv_max(uint64_t x, uint64_t y)
{
	return x > y ? x : y;
}

/* Does x * y exceed the width?  (True product, not the wrapped one.) */
static inline bool dom_itv_mul_overflows(uint64_t x, uint64_t y)
{
#if VFM_DOMAIN_BITS == 64
	uint64_t p;
	return __builtin_mul_overflow(x, y, &p);
#elif VFM_DOMAIN_BITS <= 32
	return x * y > VFM_DOM_M;
#else
#error "VFM_DOMAIN_BITS must be 64 or at most 32"
#endif
}

struct vfm_interval vfm_itv_const(uint64_t v)
{
	return dom_itv_make(v & VFM_DOM_M, v & VFM_DOM_M);
}

struct vfm_interval vfm_itv_full(void)
{
	return dom_itv_make(0, VFM_DOM_M);
}

bool vfm_itv_contains(struct vfm_interval a, uint64_t x)
{
	return a.lo <= x && x <= a.hi;
}

struct vfm_interval vfm_itv_join(struct vfm_interval a, struct vfm_interval b)
{
	return dom_itv_make(dom_itv_min(a.lo, b.lo), dom_itv_max(a.hi, b.hi));
}

/* On an empty intersection a is returned (its content is unspecified). */
struct vfm_interval vfm_itv_meet(struct vfm_interval a, struct vfm_interval b, bool *empty)
{
	uint64_t lo = dom_itv_max(a.lo, b.lo), hi = dom_itv_min(a.hi, b.hi);
	if (empty)
		*empty = lo > hi;
	if (lo > hi)
		return a;
	return dom_itv_make(lo, hi);
}

/*
 * Addition.  As integers the sums form [a.lo+b.lo, a.hi+b.hi]; if both
 * ends carry out of the width (or neither does) the wrapped set is still
 * that interval shifted by 2^BITS, and only a carry at one end splits it.
 */
struct vfm_interval vfm_itv_ADD(struct vfm_interval a, struct vfm_interval b)
{
	uint64_t lo = (a.lo + b.lo) & VFM_DOM_M, hi = (a.hi + b.hi) & VFM_DOM_M;
	bool carry_lo = lo < a.lo, carry_hi = hi < a.hi;
	if (carry_lo != carry_hi)
		return vfm_itv_full();
	return dom_itv_make(lo, hi);
}

/* Subtraction, the same argument with borrows. */
struct vfm_interval vfm_itv_SUB(struct vfm_interval a, struct vfm_interval b)
{
	uint64_t lo = (a.lo - b.hi) & VFM_DOM_M, hi = (a.hi - b.lo) & VFM_DOM_M;
	bool borrow_lo = a.lo < b.hi, borrow_hi = a.hi < b.lo;
	if (borrow_lo != borrow_hi)
		return vfm_itv_full();
	return dom_itv_make(lo, hi);
}

/* Multiplication is monotone while the largest product fits. */
struct vfm_interval vfm_itv_MUL(struct vfm_interval a, struct vfm_interval b)
{
	if (dom_itv_is_const(a) && dom_itv_is_const(b))
		return vfm_itv_const(vfm_sem_MUL(a.lo, b.lo));
	if (dom_itv_mul_overflows(a.hi, b.hi))
		return vfm_itv_full();
	/* (The masks matter only for a malformed a or b with lo > hi.) */
	return dom_itv_make((a.lo * b.lo) & VFM_DOM_M, (a.hi * b.hi) & VFM_DOM_M);
}

/*
 * Division (x / 0 = 0).  With a non-zero divisor the quotient is monotone:
 * up in x, down in y.  A divisor range that includes 0 adds the value 0.
 */
struct vfm_interval vfm_itv_DIV(struct vfm_interval a, struct vfm_interval b)
{
	if (b.hi == 0)
		return vfm_itv_const(0);
	if (b.lo == 0)
		return dom_itv_make(0, a.hi);
	return dom_itv_make(a.lo / b.hi, a.hi / b.lo);
}

/*
 * Remainder (x % 0 = x).  x % y = x when x < y; a constant divisor with
 * one quotient over all of a keeps the order (x % c = x - q*c); otherwise
 * x % y <= min(x, y - 1).  A divisor range including 0 also yields x.
 */
struct vfm_interval vfm_itv_MOD(struct vfm_interval a, struct vfm_interval b)
{
	if (b.hi == 0)
		return a;
	if (b.lo == 0)
		return dom_itv_make(0, a.hi);
	if (a.hi < b.lo)
		return a;
	if (dom_itv_is_const(b) && a.lo / b.lo == a.hi / b.lo)
		return dom_itv_make(a.lo % b.lo, a.hi % b.lo);
	return dom_itv_make(0, dom_itv_min(a.hi, b.hi - 1));
}

/* x & y <= min(x, y).  The tnum side of the product knows the bits. */
struct vfm_interval vfm_itv_AND(struct vfm_interval a, struct vfm_interval b)
{
	if (dom_itv_is_const(a) && dom_itv_is_const(b))
		return vfm_itv_const(a.lo & b.lo);
	return dom_itv_make(0, dom_itv_min(a.hi, b.hi));
}

/* x | y >= max(x, y), and sets no bit above the highest bit of either. */
struct vfm_interval vfm_itv_OR(struct vfm_interval a, struct vfm_interval b)
{
	if (dom_itv_is_const(a) && dom_itv_is_const(b))
		return vfm_itv_const(a.lo | b.lo);
	return dom_itv_make(dom_itv_max(a.lo, b.lo), vfm_tnum_range(0, a.hi | b.hi).mask);
}

/* x ^ y sets no bit above the highest bit of either. */
struct vfm_interval vfm_itv_XOR(struct vfm_interval a, struct vfm_interval b)
{
	if (dom_itv_is_const(a) && dom_itv_is_const(b))
		return vfm_itv_const(a.lo ^ b.lo);
	return dom_itv_make(0, vfm_tnum_range(0, a.hi | b.hi).mask);
}

/*
 * Shift counts are y & (BITS-1).  If every y in b lies in one block of
 * BITS consecutive values, the counts form the interval [lo & (BITS-1),
 * hi & (BITS-1)]; otherwise any count is possible.
 */
static inline struct vfm_interval dom_itv_counts(struct vfm_interval b)
{
	if ((b.lo ^ b.hi) & ~(uint64_t)(VFM_DOMAIN_BITS - 1))
		return dom_itv_make(0, VFM_DOMAIN_BITS - 1);
	return dom_itv_make(b.lo & (VFM_DOMAIN_BITS - 1), b.hi & (VFM_DOMAIN_BITS - 1));
}

/* x << c is monotone in both while the largest shift keeps every bit. */
struct vfm_interval vfm_itv_SHL(struct vfm_interval a, struct vfm_interval b)
{
	struct vfm_interval c = dom_itv_counts(b);
	if (dom_itv_is_const(a) && dom_itv_is_const(c))
		return vfm_itv_const(a.lo << c.lo);
	if (a.hi > (VFM_DOM_M >> c.hi))
		return vfm_itv_full();
	return dom_itv_make((a.lo << c.lo) & VFM_DOM_M, (a.hi << c.hi) & VFM_DOM_M);
}

/* x >> c is monotone: up in x, down in c. */
struct vfm_interval vfm_itv_SHR(struct vfm_interval a, struct vfm_interval b)
{
	struct vfm_interval c = dom_itv_counts(b);
	return dom_itv_make(a.lo >> c.hi, a.hi >> c.lo);
}

/* ~x is order-reversing and exact. */
struct vfm_interval vfm_itv_NOT(struct vfm_interval a)
{
	return dom_itv_make(~a.hi & VFM_DOM_M, ~a.lo & VFM_DOM_M);
}

struct vfm_interval vfm_itv_NEG(struct vfm_interval a)
{
	return vfm_itv_SUB(vfm_itv_const(0), a);
}

/*
 * Widening with thresholds.  A bound that did not move keeps prev's value;
 * a bound that moved outwards jumps to the nearest threshold at or beyond
 * next's bound (0 and the all-ones word are implied).  Bounds can then only
 * take finitely many values, so an ascending chain of widenings stops.
 * The thresholds are scanned, not searched: their order is not relied on.
 */
struct vfm_interval vfm_itv_widen(struct vfm_interval prev, struct vfm_interval next,
				  const uint64_t *thresholds, unsigned n_thresholds)
{
	uint64_t lo = prev.lo, hi = prev.hi;
	if (next.lo < prev.lo) {
		lo = 0;
		for (unsigned i = 0; i < n_thresholds; i++)
			if (thresholds[i] <= next.lo && thresholds[i] > lo)
				lo = thresholds[i];
	}
	if (next.hi > prev.hi) {
		hi = VFM_DOM_M;
		for (unsigned i = 0; i < n_thresholds; i++)
			if (thresholds[i] >= next.hi && thresholds[i] < hi)
				hi = thresholds[i];
	}
	return dom_itv_make(lo, hi);
}
