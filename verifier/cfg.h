/*
 * verifier/cfg.h — the control-flow graph of a decoded program, shared by
 * the structural verifier (verify.c), the abstract interpreter (absint.c)
 * and the Z3 cross-check (verifier/z3/).
 *
 * The graph is implicit in the decoded instructions (struct vfm_insn, jump
 * targets already resolved to instruction indices): these functions only
 * name the edges and compute the orders the analyses visit them in.
 */
#ifndef VFM_CFG_H
#define VFM_CFG_H

#include <stdint.h>

#include "../vm/program.h"

/* VFM_CFG_NONE and vfm_cfg_succ (the successors of one instruction) are
 * in vm/program.h: the interpreter's scratch analysis needs them too. */

/*
 * Depth-first search from instruction 0 (successors in the order above):
 * rpo[i] = i's position in reverse postorder, VFM_CFG_NONE for
 * instructions it does not reach; flags[v] |= head_mark for every target
 * v of a back edge (a loop head).  Returns -1 when out of memory.
 */
int vfm_cfg_rpo(const struct vfm_insn *insns, uint32_t n, uint32_t *rpo, uint8_t *flags,
		uint8_t head_mark);

/* Strongly connected regions of the instructions reachable from 0. */
struct vfm_cfg_sccs {
	uint32_t n_scc;   /* regions, numbered in reverse topological order */
	uint32_t *scc;    /* instruction -> region; VFM_CFG_NONE if unreached */
	uint32_t *first;  /* members of region r: member[first[r] .. first[r+1]) */
	uint32_t *member; /* instructions by region, each region in index order */
	uint8_t *loop;    /* region r contains a cycle (a self-loop counts) */
};

/* Tarjan's algorithm, iteratively.  Returns -1 when out of memory (then
 * vfm_cfg_sccs_free still applies). */
int vfm_cfg_find_sccs(const struct vfm_insn *insns, uint32_t n, struct vfm_cfg_sccs *out);
void vfm_cfg_sccs_free(struct vfm_cfg_sccs *s);

#endif
