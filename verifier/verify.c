/*
 * verifier/verify.c — structural verifier.
 *
 * Decodes the code section and proves the properties every engine relies
 * on instead of checking at run time (docs/ISA.md, "Verification"):
 *   - every opcode is assigned and its operand lies inside the code;
 *   - every jump lands on an instruction boundary inside the code;
 *   - no path falls off the end (every path ends in RET);
 *   - the stack depth before each instruction is the same on every path
 *     into it (loops included), never below what the instruction pops, and
 *     never above VFM_MAX_STACK;
 *   - scratch indices are below 16.
 * It runs in O(n log n) for n instructions (one decode pass, a binary search
 * per jump target, one visit per instruction in the depth propagation).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/program.h"
#include "cfg.h"
#include "verifier.h"

void vfm_describe_pc(const struct vfm_program *prog, uint32_t pc, char *buf,
		     size_t n)
{
	uint32_t line = vfm_program_line_of(prog, pc);
	if (line && prog->source_name)
		snprintf(buf, n, "pc %u (%s:%u)", pc, prog->source_name, line);
	else if (line)
		snprintf(buf, n, "pc %u (line %u)", pc, line);
	else
		snprintf(buf, n, "pc %u", pc);
}

/* Reject with "pc N (file:line): reason". */
__attribute__((format(printf, 4, 5))) static vfm_error_t
reject(const struct vfm_program *prog, vfm_diag_t *diag, uint32_t pc,
       const char *fmt, ...)
{
	char where[160], why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	vfm_describe_pc(prog, pc, where, sizeof where);
	return vfm_diag_set(diag, VFM_EVERIFY, pc, vfm_program_line_of(prog, pc),
			    "%s: %s", where, why);
}

/* Instruction index whose pc is `pc`, or -1 if pc is not a boundary. */
static int64_t index_of_pc(const uint32_t *pc_of, uint32_t n, int64_t pc)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pc_of[mid] < pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && pc_of[lo] == pc ? (int64_t)lo : -1;
}

/* Pass 1: find instruction boundaries and check opcodes and operands, then
 * allocate the per-instruction tables at their exact size. */
static vfm_error_t decode_boundaries(struct vfm_program *prog, vfm_diag_t *diag)
{
	const uint8_t *code = prog->code;
	uint32_t n = 0;
	for (uint32_t pc = 0; pc < prog->code_size; n++) {
		const struct vfm_opinfo *info = &vfm_opinfo[code[pc]];
		if (!info->valid)
			return reject(prog, diag, pc, "unknown opcode 0x%02x", code[pc]);
		unsigned size = vfm_insn_size(code[pc]);
		if (size > prog->code_size - pc)
			return reject(prog, diag, pc,
				      "%s operand needs %u bytes, only %u left in the code",
				      info->mnemonic, size - 1, prog->code_size - pc - 1);
		if (n >= VFM_MAX_INSNS)
			return reject(prog, diag, pc, "more than %u instructions",
				      VFM_MAX_INSNS);
		pc += size;
	}
	prog->n_insns = n;
	/* One extra entry each: a TRAP sentinel and the end-of-code pc. */
	prog->insns = calloc(n + 1, sizeof *prog->insns);
	prog->pc_of = malloc((n + 1) * sizeof *prog->pc_of);
	prog->facts.depth = malloc((n + 1) * sizeof *prog->facts.depth);
	if (!prog->insns || !prog->pc_of || !prog->facts.depth)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	n = 0;
	for (uint32_t pc = 0; pc < prog->code_size; pc += vfm_insn_size(code[pc]))
		prog->pc_of[n++] = pc;
	prog->pc_of[n] = prog->code_size;
	prog->insns[n].xop = VFM_XOP_TRAP;
	prog->facts.depth[n] = -1;
	return VFM_OK;
}

/* Pass 2: fill the decoded instructions and resolve jump targets. */
static vfm_error_t decode_insns(struct vfm_program *prog, vfm_diag_t *diag)
{
	const uint8_t *code = prog->code;
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		uint32_t pc = prog->pc_of[i];
		const struct vfm_opinfo *info = &vfm_opinfo[code[pc]];
		struct vfm_insn *insn = &prog->insns[i];
		memset(insn, 0, sizeof *insn);
		insn->opcode = code[pc];
		insn->xop = info->xop;
		switch ((enum vfm_operand_kind)info->operand) {
		case VFM_OPND_NONE:
			break;
		case VFM_OPND_U8:
			insn->aux = code[pc + 1];
			if (insn->aux >= VFM_SCRATCH_WORDS)
				return reject(prog, diag, pc,
					      "%s scratch index %u out of range (0..%u)",
					      info->mnemonic, insn->aux, VFM_SCRATCH_WORDS - 1);
			break;
		case VFM_OPND_U32:
			insn->arg = vfm_get_le32(code + pc + 1);
			break;
		case VFM_OPND_U64:
			insn->imm = vfm_get_le64(code + pc + 1);
			break;
		case VFM_OPND_REL32: {
			int64_t target = vfm_jump_target(code, pc);
			if (target < 0 || target >= prog->code_size)
				return reject(prog, diag, pc,
					      "%s target pc %lld is outside the code (0..%u)",
					      info->mnemonic, (long long)target,
					      prog->code_size - 1);
			int64_t ti = index_of_pc(prog->pc_of, prog->n_insns, target);
			if (ti < 0)
				return reject(prog, diag, pc,
					      "%s target pc %lld is inside an instruction",
					      info->mnemonic, (long long)target);
			insn->arg = (uint32_t)ti;
			insn->aux = ti <= (int64_t)i; /* backward: costs budget */
			break;
		}
		}
	}
	return VFM_OK;
}

/* Pass 3: propagate stack depths along every edge; each instruction is
 * visited once, when its depth first becomes known. */
static vfm_error_t check_depths(struct vfm_program *prog, vfm_diag_t *diag)
{
	uint32_t n = prog->n_insns;
	int16_t *depth = prog->facts.depth;
	uint32_t *work = malloc(sizeof *work * (n ? n : 1));
	if (!work)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	for (uint32_t i = 0; i < n; i++)
		depth[i] = -1;
	uint32_t top = 0, max = 0, reachable = 0;
	vfm_error_t err = VFM_OK;
	depth[0] = 0;
	work[top++] = 0;
	while (top > 0 && err == VFM_OK) {
		uint32_t i = work[--top];
		const struct vfm_insn *insn = &prog->insns[i];
		const struct vfm_opinfo *info = &vfm_opinfo[insn->opcode];
		uint32_t pc = prog->pc_of[i];
		int d = depth[i];
		reachable++;
		if (d < info->pops) {
			err = reject(prog, diag, pc,
				     "stack underflow: %s needs %u value%s, stack depth is %d",
				     info->mnemonic, info->pops, info->pops == 1 ? "" : "s", d);
			break;
		}
		int out = d - info->pops + info->pushes;
		if (out > VFM_MAX_STACK) {
			err = reject(prog, diag, pc,
				     "stack overflow: %s makes the depth %d, the maximum is %d",
				     info->mnemonic, out, VFM_MAX_STACK);
			break;
		}
		if ((uint32_t)out > max)
			max = (uint32_t)out;
		if ((uint32_t)d > max)
			max = (uint32_t)d;
		/* Successors from the CFG module: [0] the next instruction, [1]
		 * the jump target; the target's depth is checked first. */
		uint32_t next[2], succ[2];
		unsigned n_succ = 0;
		vfm_cfg_succ(prog->insns, i, next);
		if (next[0] != VFM_CFG_NONE && next[0] >= n) {
			err = reject(prog, diag, pc,
				     "execution falls off the end of the program after %s (every path must end in RET)",
				     info->mnemonic);
			goto done;
		}
		if (next[1] != VFM_CFG_NONE)
			succ[n_succ++] = next[1];
		if (next[0] != VFM_CFG_NONE)
			succ[n_succ++] = next[0];
		for (unsigned s = 0; s < n_succ; s++) {
			uint32_t t = succ[s];
			if (depth[t] < 0) {
				depth[t] = (int16_t)out;
				work[top++] = t;
			} else if (depth[t] != out) {
				char where[160];
				vfm_describe_pc(prog, prog->pc_of[t], where, sizeof where);
				err = reject(prog, diag, pc,
					     "stack depth mismatch: this path reaches %s with depth %d, another with depth %d",
					     where, out, depth[t]);
				goto done;
			}
		}
	}
done:
	free(work);
	if (err == VFM_OK) {
		prog->facts.max_depth = (uint16_t)max;
		prog->facts.reachable = reachable;
	}
	return err;
}

vfm_error_t vfm_verify(struct vfm_program *prog, vfm_diag_t *diag)
{
	if (prog->code_size == 0)
		return vfm_diag_set(diag, VFM_EVERIFY, -1, 0,
				    "empty program: every path must end in RET");
	vfm_error_t err = decode_boundaries(prog, diag);
	if (err == VFM_OK)
		err = decode_insns(prog, diag);
	if (err == VFM_OK)
		err = check_depths(prog, diag);
	if (err != VFM_OK)
		return err;
	prog->facts.reads_scratch = false;
	prog->facts.has_backward = false;
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		const struct vfm_insn *insn = &prog->insns[i];
		if (prog->facts.depth[i] < 0)
			continue;
		if (insn->opcode == VFM_OPC_LDM)
			prog->facts.reads_scratch = true;
		if (vfm_opinfo[insn->opcode].operand == VFM_OPND_REL32 && insn->aux)
			prog->facts.has_backward = true;
	}
	return VFM_OK;
}
