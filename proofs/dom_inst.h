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
#define vfm_tnum_ADD VFM_DOM_NAME(tnum_ADD)
#define vfm_tnum_SUB VFM_DOM_NAME(tnum_SUB)
#define vfm_tnum_MUL VFM_DOM_NAME(tnum_MUL)
#define vfm_tnum_DIV VFM_DOM_NAME(tnum_DIV)
#define vfm_tnum_MOD VFM_DOM_NAME(tnum_MOD)
#define vfm_tnum_AND VFM_DOM_NAME(tnum_AND)
#define vfm_tnum_OR VFM_DOM_NAME(tnum_OR)
#define vfm_tnum_XOR VFM_DOM_NAME(tnum_XOR)
#define vfm_tnum_SHL VFM_DOM_NAME(tnum_SHL)
#define vfm_tnum_SHR VFM_DOM_NAME(tnum_SHR)
#define vfm_tnum_NOT VFM_DOM_NAME(tnum_NOT)
#define vfm_tnum_NEG VFM_DOM_NAME(tnum_NEG)
#define vfm_itv_const VFM_DOM_NAME(itv_const)
#define vfm_itv_full VFM_DOM_NAME(itv_full)
#define vfm_itv_contains VFM_DOM_NAME(itv_contains)
#define vfm_itv_join VFM_DOM_NAME(itv_join)
#define vfm_itv_meet VFM_DOM_NAME(itv_meet)
#define vfm_itv_ADD VFM_DOM_NAME(itv_ADD)
#define vfm_itv_SUB VFM_DOM_NAME(itv_SUB)
#define vfm_itv_MUL VFM_DOM_NAME(itv_MUL)
#define vfm_itv_DIV VFM_DOM_NAME(itv_DIV)
#define vfm_itv_MOD VFM_DOM_NAME(itv_MOD)
#define vfm_itv_AND VFM_DOM_NAME(itv_AND)
#define vfm_itv_OR VFM_DOM_NAME(itv_OR)
#define vfm_itv_XOR VFM_DOM_NAME(itv_XOR)
#define vfm_itv_SHL VFM_DOM_NAME(itv_SHL)
#define vfm_itv_SHR VFM_DOM_NAME(itv_SHR)
#define vfm_itv_NOT VFM_DOM_NAME(itv_NOT)
#define vfm_itv_NEG VFM_DOM_NAME(itv_NEG)
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

/* The table names the renamed functions directly (d8_tnum_ADD, ...): a
 * row of vm/opcodes.def whose operators lack a rename above fails here. */
#define VFM_DOM_FN(n) VFM_DOM_NAME(n)
#define VFM_DOM_INIT_BITS VFM_DOMAIN_BITS
const struct vfm_dom_ops VFM_DOM_TABLE = {
#include "dom_init.h"
};
