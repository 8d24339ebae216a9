/*
 * verifier/oracle.c — the runtime oracle (docs/VERIFIER.md, "Runtime
 * oracle"): does a concrete machine state lie inside the abstract state the
 * verifier computed for that instruction?
 *
 * Called by the interpreter before every instruction in the -DVFM_ORACLE
 * build, and by the fuzz harnesses' reference interpreter.  Each check
 * mirrors one kind of claim of verifier/absint.c: reachability, the stack
 * depth, every slot's interval and tnum, length rooms, identities.
 */
#include "../vm/program.h"
#include "domain.h"
#include "verifier.h"

bool vfm_oracle_holds(const struct vfm_program *prog, uint32_t insn,
		      const uint64_t *stack, uint32_t depth, const uint64_t *scratch,
		      uint32_t len)
{
	const struct vfm_facts *f = &prog->facts;
	if (!f->flags || insn >= prog->n_insns)
		return true;
	if (!(f->flags[insn] & VFM_FACT_REACHED))
		return false; /* executed, yet claimed unreachable */
	if (f->depth[insn] < 0 || (uint32_t)f->depth[insn] != depth)
		return false;
	const struct vfm_aslot *s = vfm_facts_state(prog, insn);
	if (!s)
		return true; /* states too big to keep: nothing to check */
	if (!vfm_aval_contains(s[0].v, len))
		return false;
	for (uint32_t k = 0; k < VFM_SCRATCH_WORDS; k++) {
		if (k < f->n_scratch ? !vfm_aval_contains(s[1 + k].v, scratch[k]) : scratch[k] != 0)
			return false;
	}
	const struct vfm_aslot *st = s + 1 + f->n_scratch;
	for (uint32_t k = 0; k < depth; k++)
		if (!vfm_aval_contains(st[k].v, stack[k]))
			return false;
	/* Length room: value + (room - 1) <= len. */
	for (uint32_t k = 0; k < f->n_scratch + depth; k++) {
		const struct vfm_aslot *slot = k < f->n_scratch ? &s[1 + k] : &st[k - f->n_scratch];
		uint64_t value = k < f->n_scratch ? scratch[k] : stack[k - f->n_scratch];
		if (slot->len_room && (value > len || len - value < slot->len_room - 1))
			return false;
	}
	/* Identities: equal ids must hold equal values. */
	for (uint32_t k = 0; k < depth; k++) {
		if (st[k].id == VFM_ID_LEN && stack[k] != len)
			return false;
		for (uint32_t j = k + 1; j < depth && st[k].id; j++)
			if (st[j].id == st[k].id && stack[j] != stack[k])
				return false;
	}
	return true;
}
