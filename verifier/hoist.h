/*
 * verifier/hoist.h — guard hoisting: which straight-line regions of a
 * verified program can have their packet-load checks replaced by one guard
 * at the region's start (verifier/hoist.c).  A pure function of the
 * program and its facts, shared by the JIT driver (jit/common.c) and the
 * eBPF back end (ebpf/compile.c); each engine passes its own conditions.
 */
#ifndef VFM_HOIST_H
#define VFM_HOIST_H

#include <stdbool.h>
#include <stdint.h>

#include "../vm/program.h"

/* A region: control enters it only at `start`; if the packet's length is
 * at least `need`, every load marked hoisted in it is in bounds. */
struct vfm_hoist_region {
	uint32_t start, end; /* instructions [start, end) */
	uint32_t need;       /* the largest k + size of its hoisted loads */
	bool falls;          /* the last instruction falls through to end */
};

struct vfm_hoist {
	struct vfm_hoist_region *regions;
	uint32_t n_regions;
	uint8_t *hoisted;    /* n_insns + 1: 1 for a load the guard covers */
	uint32_t *region_at; /* n_insns + 1: region index + 1 at its start, else 0 */
};

/*
 * Fill *out (zeroed first; vfm_hoist_free releases it).  has_code: NULL,
 * or has_code[i] == 0 for an instruction the engine emits no code of its
 * own for (the second of a fused pair): its load is not counted and no
 * region starts there.  Loads whose k + size exceeds max_end keep their own
 * check.  A region needs at least two loads to cover.  false: out of memory
 * (*out then holds nothing).
 */
bool vfm_hoist_plan(const struct vfm_program *prog, const uint8_t *has_code, uint64_t max_end,
		    struct vfm_hoist *out);
void vfm_hoist_free(struct vfm_hoist *h);

#endif
