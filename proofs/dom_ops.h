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
 *     static const struct vfm_dom_ops dom64 = VFM_DOM_OPS_INIT(64);
 * Values of an instance of width W are uint64_t below 2^W.
 */
#ifndef VFM_DOM_OPS_H
#define VFM_DOM_OPS_H

#include "../verifier/domain.h"

/* The operators the domains implement, as initializer lists for the tests
 * and proofs that iterate over them. */
#define VFM_DOM_ALU2_OPS                                                       \
	VFM_OPC_ADD, VFM_OPC_SUB, VFM_OPC_MUL, VFM_OPC_DIV, VFM_OPC_MOD,       \
	VFM_OPC_AND, VFM_OPC_OR, VFM_OPC_XOR, VFM_OPC_SHL, VFM_OPC_SHR
#define VFM_DOM_ALU1_OPS VFM_OPC_NOT, VFM_OPC_NEG
#define VFM_DOM_JCC_OPS                                                        \
	VFM_OPC_JEQ, VFM_OPC_JNE, VFM_OPC_JGT, VFM_OPC_JGE, VFM_OPC_JLT,       \
	VFM_OPC_JLE, VFM_OPC_JSET

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
	vfm_dom_tn2 tnum_add, tnum_sub, tnum_mul, tnum_div, tnum_mod, tnum_and,
		tnum_or, tnum_xor, tnum_shl, tnum_shr;
	vfm_dom_tn1 tnum_not, tnum_neg;

	struct vfm_interval (*itv_const)(uint64_t v);
	struct vfm_interval (*itv_full)(void);
	bool (*itv_contains)(struct vfm_interval a, uint64_t x);
	vfm_dom_itv2 itv_join;
	struct vfm_interval (*itv_meet)(struct vfm_interval a, struct vfm_interval b,
					bool *empty);
	vfm_dom_itv2 itv_add, itv_sub, itv_mul, itv_div, itv_mod, itv_and, itv_or,
		itv_xor, itv_shl, itv_shr;
	vfm_dom_itv1 itv_not, itv_neg;
	struct vfm_interval (*itv_widen)(struct vfm_interval prev, struct vfm_interval next,
					 const uint64_t *thresholds, unsigned n);

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

/* The initializer names the functions as domain.h spells them; inside
 * proofs/dom_inst.h those names are macros for the renamed instance. */
#define VFM_DOM_OPS_INIT(BITS)                                                 \
	{                                                                      \
		.bits = (BITS), .mask = UINT64_MAX >> (64 - (BITS)),           \
		.tnum_const = vfm_tnum_const, .tnum_unknown = vfm_tnum_unknown, \
		.tnum_contains = vfm_tnum_contains,                            \
		.tnum_is_const = vfm_tnum_is_const,                            \
		.tnum_range = vfm_tnum_range, .tnum_join = vfm_tnum_join,      \
		.tnum_meet = vfm_tnum_meet, .tnum_add = vfm_tnum_add,          \
		.tnum_sub = vfm_tnum_sub, .tnum_mul = vfm_tnum_mul,            \
		.tnum_div = vfm_tnum_div, .tnum_mod = vfm_tnum_mod,            \
		.tnum_and = vfm_tnum_and, .tnum_or = vfm_tnum_or,              \
		.tnum_xor = vfm_tnum_xor, .tnum_shl = vfm_tnum_shl,            \
		.tnum_shr = vfm_tnum_shr, .tnum_not = vfm_tnum_not,            \
		.tnum_neg = vfm_tnum_neg,                                      \
		.itv_const = vfm_itv_const, .itv_full = vfm_itv_full,          \
		.itv_contains = vfm_itv_contains, .itv_join = vfm_itv_join,    \
		.itv_meet = vfm_itv_meet, .itv_add = vfm_itv_add,              \
		.itv_sub = vfm_itv_sub, .itv_mul = vfm_itv_mul,                \
		.itv_div = vfm_itv_div, .itv_mod = vfm_itv_mod,                \
		.itv_and = vfm_itv_and, .itv_or = vfm_itv_or,                  \
		.itv_xor = vfm_itv_xor, .itv_shl = vfm_itv_shl,                \
		.itv_shr = vfm_itv_shr, .itv_not = vfm_itv_not,                \
		.itv_neg = vfm_itv_neg, .itv_widen = vfm_itv_widen,            \
		.aval_const = vfm_aval_const, .aval_unknown = vfm_aval_unknown, \
		.aval_contains = vfm_aval_contains,                            \
		.aval_reduce = vfm_aval_reduce, .aval_join = vfm_aval_join,    \
		.aval_alu2 = vfm_aval_alu2, .aval_alu1 = vfm_aval_alu1,        \
		.aval_refine = vfm_aval_refine,                                \
	}

extern const struct vfm_dom_ops vfm_dom8, vfm_dom16;

#endif
