/*
 * proofs/dom_inst.h — compile verifier/{tnum,interval,aval}.c at another
 * word width under other names, and export their table (proofs/dom_ops.h).
 *
 * Include once per translation unit, after defining
 *   VFM_DOMAIN_BITS  the width (8 or 16 here; at most 32, or 64),
 *   VFM_DOM_PREFIX   the prefix replacing "vfm_" (d8_, d16_),
 *   VFM_DOM_TABLE    the name of the exported table.
 * The sources are included verbatim: the instance is the code that runs in
 * the library, with only the width changed.
 */
#ifndef VFM_DOMAIN_BITS
#error "define VFM_DOMAIN_BITS, VFM_DOM_PREFIX and VFM_DOM_TABLE first"
#endif

#define VFM_DOM_CAT2(a, b) a##b
#define VFM_DOM_CAT(a, b) VFM_DOM_CAT2(a, b)
#define VFM_DOM_NAME(n) VFM_DOM_CAT(VFM_DOM_PREFIX, n)

#define vfm_tnum_const VFM_DOM_NAME(tnum_const)
#define vfm_tnum_unknown VFM_DOM_NAME(tnum_unknown)
#define vfm_tnum_contains VFM_DOM_NAME(tnum_contains)
#define vfm_tnum_is_const VFM_DOM_NAME(tnum_is_const)
#define vfm_tnum_range VFM_DOM_NAME(tnum_range)
#define vfm_tnum_join VFM_DOM_NAME(tnum_join)
#define vfm_tnum_meet VFM_DOM_NAME(tnum_meet)
#define vfm_tnum_add VFM_DOM_NAME(tnum_add)
#define vfm_tnum_sub VFM_DOM_NAME(tnum_sub)
#define vfm_tnum_mul VFM_DOM_NAME(tnum_mul)
#define vfm_tnum_div VFM_DOM_NAME(tnum_div)
#define vfm_tnum_mod VFM_DOM_NAME(tnum_mod)
#define vfm_tnum_and VFM_DOM_NAME(tnum_and)
#define vfm_tnum_or VFM_DOM_NAME(tnum_or)
#define vfm_tnum_xor VFM_DOM_NAME(tnum_xor)
#define vfm_tnum_shl VFM_DOM_NAME(tnum_shl)
#define vfm_tnum_shr VFM_DOM_NAME(tnum_shr)
#define vfm_tnum_not VFM_DOM_NAME(tnum_not)
#define vfm_tnum_neg VFM_DOM_NAME(tnum_neg)
#define vfm_itv_const VFM_DOM_NAME(itv_const)
#define vfm_itv_full VFM_DOM_NAME(itv_full)
#define vfm_itv_contains VFM_DOM_NAME(itv_contains)
#define vfm_itv_join VFM_DOM_NAME(itv_join)
#define vfm_itv_meet VFM_DOM_NAME(itv_meet)
#define vfm_itv_add VFM_DOM_NAME(itv_add)
#define vfm_itv_sub VFM_DOM_NAME(itv_sub)
#define vfm_itv_mul VFM_DOM_NAME(itv_mul)
#define vfm_itv_div VFM_DOM_NAME(itv_div)
#define vfm_itv_mod VFM_DOM_NAME(itv_mod)
#define vfm_itv_and VFM_DOM_NAME(itv_and)
#define vfm_itv_or VFM_DOM_NAME(itv_or)
#define vfm_itv_xor VFM_DOM_NAME(itv_xor)
#define vfm_itv_shl VFM_DOM_NAME(itv_shl)
#define vfm_itv_shr VFM_DOM_NAME(itv_shr)
#define vfm_itv_not VFM_DOM_NAME(itv_not)
#define vfm_itv_neg VFM_DOM_NAME(itv_neg)
#define vfm_itv_widen VFM_DOM_NAME(itv_widen)
#define vfm_aval_const VFM_DOM_NAME(aval_const)
#define vfm_aval_unknown VFM_DOM_NAME(aval_unknown)
#define vfm_aval_contains VFM_DOM_NAME(aval_contains)
#define vfm_aval_reduce VFM_DOM_NAME(aval_reduce)
#define vfm_aval_join VFM_DOM_NAME(aval_join)
#define vfm_aval_alu2 VFM_DOM_NAME(aval_alu2)
#define vfm_aval_alu1 VFM_DOM_NAME(aval_alu1)
#define vfm_aval_refine VFM_DOM_NAME(aval_refine)

/* domain.h is included first here, so it declares the renamed functions. */
#include "../verifier/domain.h"
#include "dom_ops.h"

#include "../verifier/tnum.c"
#include "../verifier/interval.c"
#include "../verifier/aval.c"

const struct vfm_dom_ops VFM_DOM_TABLE = VFM_DOM_OPS_INIT(VFM_DOMAIN_BITS);
