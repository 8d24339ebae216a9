/*
 * proofs/dom_ops.h — a table of the abstract-domain functions of
 * verifier/domain.h, so that one test or proof can call the same code
 * compiled at several word widths.
 *
 * The library has the 64-bit instance.  proofs/dom8.c and proofs/dom16.c
 * compile verifier/tnum.c, interval.c and aval.c again with
 * VFM_DOMAIN_BITS = 8 and 16 (proofs/dom_inst.h renames their symbols), and
 * export their tables as vfm_dom8 and vfm_dom16.  A file that includes
 * verifier/domain.h can build the 64-bit table with
 *     static const struct vfm_dom_ops dom64 = {
 *     #include "../proofs/dom_init.h"
 *     };
 * Values of an instance of width W are uint64_t below 2^W.
 *
 * The ALU operators (fields tnum_NAME, itv_NAME), the lists of operators
 * and the lookups by opcode are generated from the VFM_ALU2 / VFM_ALU1 /
 * VFM_JCC rows of vm/opcodes.def: a new row does not build here until its
 * operators vfm_tnum_NAME and vfm_itv_NAME exist (and their renames in
 * dom_inst.h).
 */
#ifndef VFM_DOM_OPS_H
#define VFM_DOM_OPS_H

#include <stddef.h>

#include "../verifier/domain.h"

/* The operators the domains implement, for the tests and proofs that
 * iterate over them (static const in a header: no unused warning). */
static const uint8_t vfm_dom_alu2_ops[] = {
#define VFM_ALU2(name, code, ...) code,
#define VFM_OP(...)
#include "opcodes.def"
};
static const uint8_t vfm_dom_alu1_ops[] = {
#define VFM_ALU1(name, code, ...) code,
#define VFM_OP(...)
#include "opcodes.def"
};
static const uint8_t vfm_dom_jcc_ops[] = {
#define VFM_JCC(name, code, ...) code,
#define VFM_OP(...)
#include "opcodes.def"
};

typedef struct vfm_tnum (*vfm_dom_tn2)(struct vfm_tnum, struct vfm_tnum);
typedef struct vfm_tnum (*vfm_dom_tn1)(struct vfm_tnum);
typedef struct vfm_interval (*vfm_dom_itv2)(struct vfm_interval, struct vfm_interval);
typedef struct vfm_interval (*vfm_dom_itv1)(struct vfm_interval);

struct vfm_dom_ops {
	unsigned bits;  /* word width */
	uint64_t mask;  /* all ones at that width */

	struct vfm_tnum (*tnum_const)(uint64_t v);
	struct vfm_tnum (*tnum_unknown)(void);
	bool (*tnum_contains)(struct vfm_tnum t, uint64_t x);
	bool (*tnum_is_const)(struct vfm_tnum t);
	struct vfm_tnum (*tnum_range)(uint64_t lo, uint64_t hi);
	vfm_dom_tn2 tnum_join;
	struct vfm_tnum (*tnum_meet)(struct vfm_tnum a, struct vfm_tnum b, bool *empty);

	struct vfm_interval (*itv_const)(uint64_t v);
	struct vfm_interval (*itv_full)(void);
	bool (*itv_contains)(struct vfm_interval a, uint64_t x);
	vfm_dom_itv2 itv_join;
	struct vfm_interval (*itv_meet)(struct vfm_interval a, struct vfm_interval b,
					bool *empty);
	struct vfm_interval (*itv_widen)(struct vfm_interval prev, struct vfm_interval next,
					 const uint64_t *thresholds, unsigned n);

	/* tnum_ADD, itv_ADD, ..., tnum_NOT, itv_NOT, ... */
#define VFM_ALU2(NAME, ...) vfm_dom_tn2 tnum_##NAME; vfm_dom_itv2 itv_##NAME;
#define VFM_ALU1(NAME, ...) vfm_dom_tn1 tnum_##NAME; vfm_dom_itv1 itv_##NAME;
#define VFM_OP(...)
#include "opcodes.def"

	struct vfm_aval (*aval_const)(uint64_t v);
	struct vfm_aval (*aval_unknown)(void);
	bool (*aval_contains)(struct vfm_aval a, uint64_t x);
	struct vfm_aval (*aval_reduce)(struct vfm_aval a, bool *empty);
	struct vfm_aval (*aval_join)(struct vfm_aval a, struct vfm_aval b);
	struct vfm_aval (*aval_alu2)(uint8_t opcode, struct vfm_aval a, struct vfm_aval b);
	struct vfm_aval (*aval_alu1)(uint8_t opcode, struct vfm_aval a);
	bool (*aval_refine)(uint8_t opcode, bool taken, struct vfm_aval *a,
			    struct vfm_aval *b);
};

/* D's operator of ALU opcode op (NULL for another class). */
static inline vfm_dom_tn2 vfm_dom_op_tnum2(const struct vfm_dom_ops *D, uint8_t op)
{
	switch ((enum vfm_alu2_op)op) {
#define VFM_ALU2(NAME, ...) case VFM_ALU2_##NAME: return D->tnum_##NAME;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return NULL;
}

static inline vfm_dom_itv2 vfm_dom_op_itv2(const struct vfm_dom_ops *D, uint8_t op)
{
	switch ((enum vfm_alu2_op)op) {
#define VFM_ALU2(NAME, ...) case VFM_ALU2_##NAME: return D->itv_##NAME;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return NULL;
}

static inline vfm_dom_tn1 vfm_dom_op_tnum1(const struct vfm_dom_ops *D, uint8_t op)
{
	switch ((enum vfm_alu1_op)op) {
#define VFM_ALU1(NAME, ...) case VFM_ALU1_##NAME: return D->tnum_##NAME;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return NULL;
}

static inline vfm_dom_itv1 vfm_dom_op_itv1(const struct vfm_dom_ops *D, uint8_t op)
{
	switch ((enum vfm_alu1_op)op) {
#define VFM_ALU1(NAME, ...) case VFM_ALU1_##NAME: return D->itv_##NAME;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return NULL;
}

extern const struct vfm_dom_ops vfm_dom8, vfm_dom16;

#endif
