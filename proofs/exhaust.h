/*
 * proofs/exhaust.h — exhaustive soundness checks of an abstract-domain
 * instance at a small width (at most 8 bits), against the concrete
 * semantics of vm/semantics.h at that width.
 *
 * Used by tests/test_domain.c (under `make test`, possibly sampled) and by
 * proofs/prove.c (`make proofs`, the full 8-bit brute force).
 *
 * Method.  For an abstract pair (A, B) the exact result set of op over
 * A x B is summarised by its minimum, maximum, bitwise AND and bitwise OR:
 * an interval result is sound iff it contains [min, max], a tnum result
 * iff it contains the tnum (AND, OR ^ AND) (the smallest tnum holding the
 * set).  The summaries are computed by dynamic programming over the
 * lattice (a tnum with an unknown bit is the union of the two tnums with
 * that bit known; [lo, hi] is [lo, hi-1] plus {hi}), so every concrete
 * pair of every abstract pair is accounted for at the cost of one
 * evaluation per concrete pair per B, not per (A, B).
 */
#ifndef VFM_EXHAUST_H
#define VFM_EXHAUST_H

#include <stdbool.h>
#include <stdint.h>

#include "dom_ops.h"

/* Concrete semantics at `bits` bits: vm/semantics.h on values below
 * 2^bits, wrapped to bits, shift counts masked with bits-1 (63 at 64). */
uint64_t vfm_exh_sem2(unsigned bits, uint8_t opcode, uint64_t a, uint64_t b);
uint64_t vfm_exh_sem1(unsigned bits, uint8_t opcode, uint64_t a);
/* Does the conditional jump `opcode` (JEQ..JSET) branch for a, b? */
bool vfm_exh_cond(uint8_t opcode, uint64_t a, uint64_t b);

struct vfm_exh_result {
	uint64_t cases;    /* abstract inputs (pairs) checked */
	uint64_t concrete; /* concrete input pairs they stand for */
	uint64_t exact;    /* results equal to the best abstraction */
	uint64_t failures; /* unsound results (or wrong constant folds) */
	char first[256];   /* the first failure, readable */
};

/*
 * Binary operator `opcode` (VFM_OPC_ADD..SHR) of D's tnum domain: every
 * tnum A, and every tnum B whose index is a multiple of b_stride (1: all
 * 3^bits x 3^bits pairs).  Also requires const op const to be the exact
 * constant.
 */
void vfm_exh_tnum2(const struct vfm_dom_ops *D, uint8_t opcode, unsigned b_stride,
		   struct vfm_exh_result *r);
/* Unary operator (VFM_OPC_NOT, NEG) on every tnum. */
void vfm_exh_tnum1(const struct vfm_dom_ops *D, uint8_t opcode, struct vfm_exh_result *r);

/*
 * Binary operator of D's interval domain: every interval A, and every
 * interval B if b_stride is 1; otherwise every constant B, every B with
 * lo = 0 or hi = max, and every b_stride-th other B.
 */
void vfm_exh_itv2(const struct vfm_dom_ops *D, uint8_t opcode, unsigned b_stride,
		  struct vfm_exh_result *r);
void vfm_exh_itv1(const struct vfm_dom_ops *D, uint8_t opcode, struct vfm_exh_result *r);

/* Number of tnums / intervals at a width, and the i-th of each. */
uint32_t vfm_exh_n_tnums(unsigned bits);
struct vfm_tnum vfm_exh_tnum_at(unsigned bits, uint32_t i);
uint32_t vfm_exh_n_itvs(unsigned bits);
struct vfm_interval vfm_exh_itv_at(unsigned bits, uint32_t i);

#endif
