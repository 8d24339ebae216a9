/*
 * proofs/dom_init.h — the body of a struct vfm_dom_ops initializer
 * (proofs/dom_ops.h), included between its braces:
 *
 *     static const struct vfm_dom_ops dom64 = {
 *     #include "../proofs/dom_init.h"
 *     };
 *
 * It names the functions as VFM_DOM_FN(tnum_const) etc., by default
 * vfm_tnum_const at 64 bits; proofs/dom_inst.h defines VFM_DOM_FN and
 * VFM_DOM_INIT_BITS for its renamed instance first.  The ALU fields come
 * from the rows of vm/opcodes.def.  Not include-guarded: one use per
 * initializer.
 */
#ifndef VFM_DOM_FN
#define VFM_DOM_FN(n) vfm_##n
#endif
#ifndef VFM_DOM_INIT_BITS
#define VFM_DOM_INIT_BITS 64
#endif
	.bits = (VFM_DOM_INIT_BITS), .mask = UINT64_MAX >> (64 - (VFM_DOM_INIT_BITS)),
	.tnum_const = VFM_DOM_FN(tnum_const), .tnum_unknown = VFM_DOM_FN(tnum_unknown),
	.tnum_contains = VFM_DOM_FN(tnum_contains), .tnum_is_const = VFM_DOM_FN(tnum_is_const),
	.tnum_range = VFM_DOM_FN(tnum_range), .tnum_join = VFM_DOM_FN(tnum_join),
	.tnum_meet = VFM_DOM_FN(tnum_meet),
	.itv_const = VFM_DOM_FN(itv_const), .itv_full = VFM_DOM_FN(itv_full),
	.itv_contains = VFM_DOM_FN(itv_contains), .itv_join = VFM_DOM_FN(itv_join),
	.itv_meet = VFM_DOM_FN(itv_meet), .itv_widen = VFM_DOM_FN(itv_widen),
#define VFM_ALU2(NAME, ...) .tnum_##NAME = VFM_DOM_FN(tnum_##NAME), .itv_##NAME = VFM_DOM_FN(itv_##NAME),
#define VFM_ALU1(NAME, ...) .tnum_##NAME = VFM_DOM_FN(tnum_##NAME), .itv_##NAME = VFM_DOM_FN(itv_##NAME),
#define VFM_OP(...)
#include "opcodes.def"
	.aval_const = VFM_DOM_FN(aval_const), .aval_unknown = VFM_DOM_FN(aval_unknown),
	.aval_contains = VFM_DOM_FN(aval_contains), .aval_reduce = VFM_DOM_FN(aval_reduce),
	.aval_join = VFM_DOM_FN(aval_join), .aval_alu2 = VFM_DOM_FN(aval_alu2),
	.aval_alu1 = VFM_DOM_FN(aval_alu1), .aval_refine = VFM_DOM_FN(aval_refine),
#undef VFM_DOM_FN
#undef VFM_DOM_INIT_BITS
