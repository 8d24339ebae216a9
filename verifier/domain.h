/*
 * verifier/domain.h — the abstract domains of the verifier: unsigned
 * 64-bit intervals, tnums (known bits), and their reduced product.
 *
 * Small pure, total functions: no allocation, no globals, defined for every
 * input (including an empty/bottom argument where noted).  Every operator
 * over-approximates the concrete operation of vm/semantics.h: for all
 * concrete x in A and y in B, op(x, y) is in op#(A, B).  This soundness is
 * proven per operator in proofs/ (Z3, QF_BV, 64-bit) and tested
 * exhaustively at 8-bit width in tests/test_domain.c.
 */
#ifndef VFM_DOMAIN_H
#define VFM_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "../vm/facts.h"  /* struct vfm_tnum, vfm_interval, vfm_aval */
#include "../vm/opcode.h" /* enum vfm_rel, vfm_jcc_rel */

/* ---- tnum: a set of values by known bits (type in vm/facts.h) --------- */

struct vfm_tnum vfm_tnum_const(uint64_t v);
struct vfm_tnum vfm_tnum_unknown(void);
bool vfm_tnum_contains(struct vfm_tnum t, uint64_t x);
bool vfm_tnum_is_const(struct vfm_tnum t);
/* Smallest tnum containing every value of [lo, hi]. */
struct vfm_tnum vfm_tnum_range(uint64_t lo, uint64_t hi);
struct vfm_tnum vfm_tnum_join(struct vfm_tnum a, struct vfm_tnum b);
/* Intersection; *empty set true when a and b share no value. */
struct vfm_tnum vfm_tnum_meet(struct vfm_tnum a, struct vfm_tnum b, bool *empty);

struct vfm_tnum vfm_tnum_ADD(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_SUB(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_MUL(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_DIV(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_MOD(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_AND(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_OR(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_XOR(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_SHL(struct vfm_tnum a, struct vfm_tnum b); /* count b & 63 */
struct vfm_tnum vfm_tnum_SHR(struct vfm_tnum a, struct vfm_tnum b);
struct vfm_tnum vfm_tnum_NOT(struct vfm_tnum a);
struct vfm_tnum vfm_tnum_NEG(struct vfm_tnum a);

/* ---- unsigned intervals [lo, hi], lo <= hi (type in vm/facts.h) -------- */

struct vfm_interval vfm_itv_const(uint64_t v);
struct vfm_interval vfm_itv_full(void);
bool vfm_itv_contains(struct vfm_interval a, uint64_t x);
struct vfm_interval vfm_itv_join(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_meet(struct vfm_interval a, struct vfm_interval b, bool *empty);

/* Wrapping arithmetic: a result interval that would wrap is full. */
struct vfm_interval vfm_itv_ADD(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_SUB(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_MUL(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_DIV(struct vfm_interval a, struct vfm_interval b); /* x/0 = 0 */
struct vfm_interval vfm_itv_MOD(struct vfm_interval a, struct vfm_interval b); /* x%0 = x */
struct vfm_interval vfm_itv_AND(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_OR(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_XOR(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_SHL(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_SHR(struct vfm_interval a, struct vfm_interval b);
struct vfm_interval vfm_itv_NOT(struct vfm_interval a);
struct vfm_interval vfm_itv_NEG(struct vfm_interval a);

/* Widening with thresholds: a bound of `next` that moved past `prev`'s
 * jumps to the nearest threshold beyond it (thresholds sorted ascending;
 * 0 and UINT64_MAX are implied).  Result contains join(prev, next). */
struct vfm_interval vfm_itv_widen(struct vfm_interval prev, struct vfm_interval next,
				  const uint64_t *thresholds, unsigned n_thresholds);

/* ---- reduced product (type in vm/facts.h) ------------------------------- */

struct vfm_aval vfm_aval_const(uint64_t v);
struct vfm_aval vfm_aval_unknown(void);
bool vfm_aval_contains(struct vfm_aval a, uint64_t x);
/* Tighten each component with the other: interval bounds move to the
 * nearest values the tnum allows, the tnum learns the bits common to the
 * whole interval.  *empty true if no value satisfies both. */
struct vfm_aval vfm_aval_reduce(struct vfm_aval a, bool *empty);
struct vfm_aval vfm_aval_join(struct vfm_aval a, struct vfm_aval b);
/* Result of an opcode (enum vfm_opcode of an ALU op), reduced. */
struct vfm_aval vfm_aval_alu2(uint8_t opcode, struct vfm_aval a, struct vfm_aval b);
struct vfm_aval vfm_aval_alu1(uint8_t opcode, struct vfm_aval a);

/*
 * Branch refinement for a conditional jump (enum vfm_opcode JEQ..JSET)
 * comparing a OP b: narrows *a and *b to the values for which the jump is
 * taken (taken = true) or not taken.  Returns false if that edge is
 * infeasible (no pair of values takes it), leaving *a and *b unspecified.
 */
bool vfm_aval_refine(uint8_t opcode, bool taken, struct vfm_aval *a, struct vfm_aval *b);


#endif
