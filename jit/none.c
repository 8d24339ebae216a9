/*
 * jit/none.c — the JIT interface on machines without a back end: every
 * program stays interpreted (vfm_jit_free is in jit/common.c).
 */
#if !defined(__x86_64__)

#include "../vm/jit.h"

vfm_error_t vfm_jit_compile(struct vfm_program *prog, vfm_diag_t *diag)
{
	(void)prog;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
			    "this build has no JIT for this CPU; the interpreter runs the program");
}

#endif
