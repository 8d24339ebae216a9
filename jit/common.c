/*
 * jit/common.c — the parts of the JIT that do not depend on the target
 * (jit/common.h).  Built on every machine: vfm_jit_free is here.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

bool vfm_jit_fusable(const struct vfm_program *prog, uint32_t i)
{
	if (prog->insns[i].opcode != VFM_OPC_PUSH || i + 2 >= prog->n_insns ||
	    prog->facts.depth[i] < 0)
		return false;
	uint8_t cls = vfm_opinfo[prog->insns[i + 1].opcode].cls;
	return cls == VFM_CLASS_JCC || cls == VFM_CLASS_ALU2;
}

uint8_t *vfm_jit_own_code(const struct vfm_program *prog)
{
	uint8_t *own = malloc(prog->n_insns + 1);
	if (!own)
		return NULL;
	memset(own, 1, prog->n_insns + 1);
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (vfm_jit_fusable(prog, i))
			own[i + 1] = 0;
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (vfm_opinfo[prog->insns[i].opcode].operand == VFM_OPND_REL32)
			own[prog->insns[i].arg] = 1;
	return own;
}

uint8_t *vfm_jit_code_alloc(size_t size, uint8_t pad, size_t *map)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	uint8_t *mem = mmap(NULL, len ? len : (size_t)page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	*map = len ? len : (size_t)page;
	memset(mem, pad, *map);
	return mem;
}

void vfm_jit_code_free(uint8_t *mem, size_t map)
{
	munmap(mem, map);
}

vfm_error_t vfm_jit_code_publish(struct vfm_program *prog, uint8_t *mem, size_t size,
				 size_t map, vfm_diag_t *diag)
{
	if (mprotect(mem, map, PROT_READ | PROT_EXEC) != 0) {
		munmap(mem, map);
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "JIT: cannot make code executable (W^X policy?)");
	}
	void *expected = NULL;
	if (__atomic_compare_exchange_n(&prog->jit_code, &expected, mem, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		prog->jit_size = size;
		prog->jit_map = map;
	} else {
		munmap(mem, map);
	}
	return VFM_OK;
}

void vfm_jit_free(struct vfm_program *prog)
{
	if (prog->jit_code)
		munmap(prog->jit_code, prog->jit_map);
	prog->jit_code = NULL;
}
