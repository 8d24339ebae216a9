/*
 * jit/none.c — the back end on machines without one: vfm_jit_compile
 * (jit/common.c) reports VFM_EUNSUPPORTED and the interpreter runs every
 * program.  The Makefile links this file where no jit/<arch>.c exists.
 */
#include "common.h"

const struct vfm_jit_target *vfm_jit_native_target(void)
{
	return NULL;
}
