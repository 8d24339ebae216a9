/*
 * verifier/hoist.c — the regions of guard hoisting (verifier/hoist.h).
 *
 * A region is a straight line of code that control enters only at its
 * first instruction: from a jump target (or the entry) up to the next jump
 * target, or through an unconditional JMP or RET.  Jumps may leave it
 * anywhere.  If it has at least two packet loads at constant offsets that
 * the verifier did not prove, one compare at its start, len >= the largest
 * end they need, makes all of them safe.  The engine then emits the region
 * twice: a fast copy without those checks behind the guard, and a fully
 * checked copy for packets the guard refuses, instruction for instruction
 * the code the region would have without hoisting, so verdict, status,
 * instruction count and flow table equal the interpreter's on every packet,
 * however short.  Jump targets are region starts, never a region's middle,
 * so the checked copy's jumps go where the fast copy's go.
 *
 * Indexed loads are left to their own checks: the verifier's interval of
 * an index is a worst case (IHL*4 up to 60) and would raise the guard
 * above the lengths of ordinary packets, sending them to the checked copy.
 */
#include <stdlib.h>
#include <string.h>

#include "hoist.h"
#include "verifier.h"

static bool counted_load(const struct vfm_program *prog, const uint8_t *has_code,
			 uint64_t max_end, uint32_t i)
{
	const struct vfm_insn *insn = &prog->insns[i];
	const struct vfm_opinfo *oi = &vfm_opinfo[insn->opcode];
	return oi->cls == VFM_CLASS_LOAD && (!has_code || has_code[i]) &&
	       (uint64_t)insn->arg + oi->size <= max_end;
}

bool vfm_hoist_plan(const struct vfm_program *prog, const uint8_t *has_code, uint64_t max_end,
		    struct vfm_hoist *out)
{
	uint32_t n = prog->n_insns;
	memset(out, 0, sizeof *out);
	uint8_t *join = calloc(n + 1, 1);
	out->hoisted = calloc(n + 1, 1);
	out->region_at = calloc(n + 1, sizeof *out->region_at);
	if (!join || !out->hoisted || !out->region_at)
		goto oom;
	/* Where control arrives other than by falling through. */
	join[0] = join[n] = 1;
	for (uint32_t i = 0; i < n; i++)
		if (vfm_opinfo[prog->insns[i].opcode].operand == VFM_OPND_REL32)
			join[prog->insns[i].arg] = 1;
	uint32_t cap = 0;
	for (uint32_t s = 0; s < n;) {
		if (vfm_facts_depth(prog, s) < 0) {
			s++;
			continue;
		}
		uint32_t e = s, loads = 0;
		uint64_t need = 0;
		bool falls = true;
		while (e < n && (e == s || !join[e]) && vfm_facts_depth(prog, e) >= 0) {
			const struct vfm_insn *insn = &prog->insns[e];
			uint8_t cls = vfm_opinfo[insn->opcode].cls;
			if (counted_load(prog, has_code, max_end, e) &&
			    !(vfm_facts_flags(prog, e) & VFM_FACT_IN_BOUNDS)) {
				uint64_t end = (uint64_t)insn->arg + vfm_opinfo[insn->opcode].size;
				loads++;
				if (end > need)
					need = end;
			}
			e++;
			if (cls == VFM_CLASS_JMP || cls == VFM_CLASS_RET) {
				falls = false;
				break;
			}
		}
		/* The guard is emitted with the first instruction's code. */
		if (loads >= 2 && (!has_code || has_code[s])) {
			if (out->n_regions == cap) {
				cap = cap ? 2 * cap : 16;
				struct vfm_hoist_region *r = realloc(out->regions, cap * sizeof *r);
				if (!r)
					goto oom;
				out->regions = r;
			}
			for (uint32_t i = s; i < e; i++)
				if (counted_load(prog, has_code, need, i))
					out->hoisted[i] = 1;
			out->regions[out->n_regions++] =
				(struct vfm_hoist_region){s, e, (uint32_t)need, falls};
			out->region_at[s] = out->n_regions;
		}
		s = e;
	}
	free(join);
	return true;
oom:
	free(join);
	vfm_hoist_free(out);
	return false;
}

void vfm_hoist_free(struct vfm_hoist *h)
{
	free(h->regions);
	free(h->hoisted);
	free(h->region_at);
	memset(h, 0, sizeof *h);
}
