/*
 * jit/common.h — what every native back end shares: which instructions
 * get code of their own, and W^X code memory published on a shared
 * program.  The back ends (jit/x86_64.c) do only instruction selection
 * and encoding.
 */
#ifndef VFM_JIT_COMMON_H
#define VFM_JIT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm/jit.h"

/* PUSH at i feeds the Jcc or binary ALU op after it: a back end may emit
 * the pair as one compare (or operation) with an immediate. */
bool vfm_jit_fusable(const struct vfm_program *prog, uint32_t i);

/* own[i] = 1 if instruction i needs code of its own: every instruction,
 * except the second of a fusable pair when no jump lands on it.  n_insns
 * + 1 bytes (the end counts as a target); malloc'd, NULL if out of memory. */
uint8_t *vfm_jit_own_code(const struct vfm_program *prog);

/* Writable memory for `size` bytes of code, in whole pages, every byte set
 * to `pad` (a trapping instruction of the target, so that a stray jump
 * into the padding stops).  *map gets the mapped length.  NULL on failure. */
uint8_t *vfm_jit_code_alloc(size_t size, uint8_t pad, size_t *map);

/* Unmap memory from vfm_jit_code_alloc that was never published. */
void vfm_jit_code_free(uint8_t *mem, size_t map);

/* Make the code read + execute (never writable and executable at once) and
 * publish it as prog->jit_code.  Programs are shared between threads: a
 * thread that loses the race to publish frees its copy.  On failure the
 * memory is freed and the error set in diag. */
vfm_error_t vfm_jit_code_publish(struct vfm_program *prog, uint8_t *mem, size_t size,
				 size_t map, vfm_diag_t *diag);

#endif
