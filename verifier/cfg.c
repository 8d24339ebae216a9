/*
 * verifier/cfg.c — reverse postorder, loop heads and strongly connected
 * regions of a decoded program (verifier/cfg.h); the successors of an
 * instruction are vm/program.c's vfm_cfg_succ.
 */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

/* The k-th existing successor inside [0, n) of i (k < 2), or NONE. */
static uint32_t cfg_nth_succ(const struct vfm_insn *insns, uint32_t n, uint32_t i, unsigned k)
{
	uint32_t succ[2];
	unsigned m = 0;
	vfm_cfg_succ(insns, i, succ);
	for (unsigned j = 0; j < 2; j++)
		if (succ[j] < n && m++ == k)
			return succ[j];
	return VFM_CFG_NONE;
}

/* Iterative DFS: each stack entry tries its successors in order. */
int vfm_cfg_rpo(const struct vfm_insn *insns, uint32_t n, uint32_t *rpo, uint8_t *flags,
		uint8_t head_mark)
{
	uint32_t *stack = malloc(sizeof *stack * (n ? n : 1));
	uint8_t *next_edge = calloc(n ? n : 1, 1); /* next successor to try */
	uint8_t *color = calloc(n ? n : 1, 1);     /* 0 white, 1 on stack, 2 finished */
	if (!stack || !next_edge || !color) {
		free(stack);
		free(next_edge);
		free(color);
		return -1;
	}
	uint32_t top = 0, post = n;
	for (uint32_t i = 0; i < n; i++)
		rpo[i] = VFM_CFG_NONE;
	if (n) {
		stack[top++] = 0;
		color[0] = 1;
	}
	while (top) {
		uint32_t u = stack[top - 1];
		if (next_edge[u] < 2) {
			uint32_t succ[2];
			vfm_cfg_succ(insns, u, succ);
			uint32_t v = succ[next_edge[u]++];
			if (v >= n)
				continue;
			if (color[v] == 0) {
				color[v] = 1;
				stack[top++] = v;
			} else if (color[v] == 1) {
				flags[v] |= head_mark;
			}
			continue;
		}
		color[u] = 2;
		rpo[u] = --post;
		top--;
	}
	free(stack);
	free(next_edge);
	free(color);
	return 0;
}

void vfm_cfg_sccs_free(struct vfm_cfg_sccs *s)
{
	free(s->scc);
	free(s->first);
	free(s->member);
	free(s->loop);
	memset(s, 0, sizeof *s);
}

int vfm_cfg_find_sccs(const struct vfm_insn *insns, uint32_t n, struct vfm_cfg_sccs *out)
{
	size_t n1 = n ? n : 1;
	uint32_t *index = malloc(n1 * sizeof *index), *low = malloc(n1 * sizeof *low);
	uint32_t *stack = malloc(n1 * sizeof *stack), *frame = malloc(n1 * sizeof *frame);
	uint8_t *next = calloc(n1, 1), *on = calloc(n1, 1);
	memset(out, 0, sizeof *out);
	out->scc = malloc(n1 * sizeof *out->scc);
	out->member = malloc(n1 * sizeof *out->member);
	out->first = malloc((n1 + 1) * sizeof *out->first);
	out->loop = calloc(n1 + 1, 1);
	int rc = -1;
	if (!index || !low || !stack || !frame || !next || !on || !out->scc || !out->member ||
	    !out->first || !out->loop)
		goto done;
	for (uint32_t i = 0; i < n; i++) {
		index[i] = VFM_CFG_NONE;
		out->scc[i] = VFM_CFG_NONE;
	}
	uint32_t counter = 0, sp = 0, fp = 0;
	if (n) {
		index[0] = low[0] = counter++;
		stack[sp++] = 0;
		on[0] = 1;
		frame[fp++] = 0;
	}
	while (fp) {
		uint32_t v = frame[fp - 1];
		uint32_t w = next[v] < 2 ? cfg_nth_succ(insns, n, v, next[v]) : VFM_CFG_NONE;
		if (w != VFM_CFG_NONE) {
			next[v]++;
			if (index[w] == VFM_CFG_NONE) {
				index[w] = low[w] = counter++;
				stack[sp++] = w;
				on[w] = 1;
				frame[fp++] = w;
			} else if (on[w] && index[w] < low[v]) {
				low[v] = index[w];
			}
			continue;
		}
		fp--;
		if (fp && low[v] < low[frame[fp - 1]])
			low[frame[fp - 1]] = low[v];
		if (low[v] == index[v]) {
			uint32_t r = out->n_scc++, size = 0, x;
			do {
				x = stack[--sp];
				on[x] = 0;
				out->scc[x] = r;
				size++;
			} while (x != v);
			out->loop[r] = size > 1;
		}
	}
	/* Self-loops (a jump to itself) are cycles of one instruction. */
	for (uint32_t i = 0; i < n; i++) {
		if (out->scc[i] == VFM_CFG_NONE)
			continue;
		for (unsigned k = 0; k < 2; k++)
			if (cfg_nth_succ(insns, n, i, k) == i)
				out->loop[out->scc[i]] = 1;
	}
	/* Members by region, in index order (counting sort). */
	memset(out->first, 0, (out->n_scc + 1) * sizeof *out->first);
	for (uint32_t i = 0; i < n; i++)
		if (out->scc[i] != VFM_CFG_NONE)
			out->first[out->scc[i] + 1]++;
	for (uint32_t r = 0; r < out->n_scc; r++)
		out->first[r + 1] += out->first[r];
	memcpy(low, out->first, out->n_scc * sizeof *low); /* fill cursors */
	for (uint32_t i = 0; i < n; i++)
		if (out->scc[i] != VFM_CFG_NONE)
			out->member[low[out->scc[i]]++] = i;
	rc = 0;
done:
	free(index);
	free(low);
	free(stack);
	free(frame);
	free(next);
	free(on);
	return rc;
}
