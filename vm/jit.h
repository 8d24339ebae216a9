/*
 * vm/jit.h — the interface between vm/ and the native code generators in
 * jit/ (declared here so that vm/ does not include jit/).  jit/common.c
 * implements it on top of the one back end the Makefile links
 * (jit/x86_64.c or jit/arm64.c, or jit/none.c where the CPU has none).
 */
#ifndef VFM_JIT_H
#define VFM_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "program.h"

struct vfm_flow_table;

/* What generated code reads besides the packet (offsets used by the JIT). */
struct vfm_jit_args {
	struct vfm_flow_table *flow;
	uint64_t ts_ns;
	uint64_t budget;
	uint64_t wire_len; /* vfm_packet_t.wire_len; WLEN reads len where it is 0 */
	uint64_t insns;    /* instructions executed: VFM_JIT_COUNTING code adds to it */
};

/* Generated code: returns verdict | (uint64_t)status << 32.  args comes
 * first, so that vfm_execute(vm, data, len) hands its own three argument
 * registers on unchanged (vm->plain_args is at the start of the VM); len
 * is 32 bits wide, and the code zero-extends it where it reads it. */
typedef uint64_t (*vfm_jit_fn)(struct vfm_jit_args *args, const uint8_t *data, uint32_t len);

/* Compile prog to native code, both variants, into prog->jit[] (no-op if
 * already done); with `blind`, the constant-blinded pair at
 * VFM_JIT_BLINDED + variant.  VFM_EUNSUPPORTED where this build has no JIT. */
vfm_error_t vfm_jit_compile(struct vfm_program *prog, bool blind, vfm_diag_t *diag);
void vfm_jit_free(struct vfm_program *prog);

#endif
