/*
 * proofs/randval.h — seeded random abstract values for the domain tests
 * (tests/test_domain.c, tests/test_proofs_encoding.c), at any width of a
 * proofs/dom_ops.h table.  Biased towards the corner cases of the
 * operators: 0, 1, the maximum, powers of two, packet-sized values,
 * constants, narrow and full ranges, masks of low or high bits.
 */
#ifndef VFM_RANDVAL_H
#define VFM_RANDVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dom_ops.h"
#include "../testkit/prng.h"

/* SplitMix64 over a caller-owned state: reproducible per seed. */
#define vfm_rv_next prng_splitmix64

static inline uint64_t vfm_rv_word(uint64_t *s, const struct vfm_dom_ops *D)
{
	uint64_t m = D->mask;
	switch (vfm_rv_next(s) % 8) {
	case 0: return vfm_rv_next(s) % 17;
	case 1: return m - vfm_rv_next(s) % 17;
	case 2: return (((uint64_t)1 << (vfm_rv_next(s) % D->bits)) + vfm_rv_next(s) % 3 - 1) & m;
	case 3: return m >> (vfm_rv_next(s) % D->bits);
	case 4: return (vfm_rv_next(s) % 1600) & m; /* packet-sized */
	default: return vfm_rv_next(s) & m;
	}
}

static inline uint64_t vfm_rv_mask(uint64_t *s, const struct vfm_dom_ops *D)
{
	uint64_t m = D->mask;
	switch (vfm_rv_next(s) % 6) {
	case 0: return 0;
	case 1: return m;
	case 2: return m >> (vfm_rv_next(s) % D->bits);         /* low bits */
	case 3: return (m << (vfm_rv_next(s) % D->bits)) & m;   /* high bits */
	case 4: return vfm_rv_next(s) & vfm_rv_next(s) & vfm_rv_next(s) & m; /* a few */
	default: return vfm_rv_next(s) & m;
	}
}

/* A well-formed tnum (value & mask == 0). */
static inline struct vfm_tnum vfm_rv_tnum(uint64_t *s, const struct vfm_dom_ops *D)
{
	uint64_t mask = vfm_rv_mask(s, D);
	return (struct vfm_tnum){vfm_rv_word(s, D) & ~mask & D->mask, mask};
}

/* A well-formed interval (lo <= hi). */
static inline struct vfm_interval vfm_rv_itv(uint64_t *s, const struct vfm_dom_ops *D)
{
	uint64_t lo = vfm_rv_word(s, D), span;
	switch (vfm_rv_next(s) % 4) {
	case 0: span = 0; break;
	case 1: span = vfm_rv_next(s) % 9; break;
	case 2: span = vfm_rv_word(s, D); break;
	default: span = D->mask - lo; break;
	}
	if (span > D->mask - lo)
		span = D->mask - lo;
	return (struct vfm_interval){lo, lo + span};
}

/* A reduced, non-empty aval. */
static inline struct vfm_aval vfm_rv_aval(uint64_t *s, const struct vfm_dom_ops *D)
{
	for (;;) {
		struct vfm_aval a;
		bool empty;
		switch (vfm_rv_next(s) % 5) {
		case 0: a = D->aval_const(vfm_rv_word(s, D)); break;
		case 1: a.itv = vfm_rv_itv(s, D); a.tn = D->tnum_unknown(); break;
		case 2: a.itv = D->itv_full(); a.tn = vfm_rv_tnum(s, D); break;
		default: a.itv = vfm_rv_itv(s, D); a.tn = vfm_rv_tnum(s, D); break;
		}
		a = D->aval_reduce(a, &empty);
		if (!empty)
			return a;
	}
}

/* A member of a reduced aval (its bounds are members). */
static inline uint64_t vfm_rv_member(uint64_t *s, const struct vfm_dom_ops *D,
				     struct vfm_aval a)
{
	for (int i = 0; i < 16; i++) {
		uint64_t x = a.tn.value | (vfm_rv_next(s) & a.tn.mask);
		if (D->aval_contains(a, x))
			return x;
	}
	return vfm_rv_next(s) % 2 ? a.itv.lo : a.itv.hi;
}

#endif
