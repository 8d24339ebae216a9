/*
 * vm/program.c — operations on a program that the engines share: the
 * pc → source line lookup and the interpreter's fused forms.
 */
#include "program.h"

uint32_t vfm_program_line_of(const struct vfm_program *prog, uint32_t pc)
{
	/* Binary search for the exact pc: the table is sorted by pc. */
	uint32_t lo = 0, hi = prog->n_lines;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (prog->lines[mid].pc < pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < prog->n_lines && prog->lines[lo].pc == pc ? prog->lines[lo].line : 0;
}

void vfm_fuse(struct vfm_program *prog)
{
	/* PUSH k followed by a binary ALU op or a conditional jump becomes one
	 * fused instruction at the PUSH's index that skips the next one.  The
	 * second instruction keeps its own unfused form, so a jump straight
	 * to it still behaves correctly. */
	for (uint32_t i = 0; i + 1 < prog->n_insns; i++) {
		struct vfm_insn *push = &prog->insns[i];
		const struct vfm_insn *next = &prog->insns[i + 1];
		if (push->opcode != VFM_OPC_PUSH)
			continue;
		switch ((enum vfm_op_class)vfm_opinfo[next->opcode].cls) {
		case VFM_CLASS_ALU2:
			switch ((enum vfm_alu2_op)next->opcode) {
#define VFM_ALU2(name, ...) \
	case VFM_ALU2_##name: push->xop = VFM_XOP_##name##_K; break;
#define VFM_OP(...)
#include "opcodes.def"
			}
			break;
		case VFM_CLASS_JCC:
			switch ((enum vfm_jcc_op)next->opcode) {
#define VFM_JCC(name, ...) \
	case VFM_JCC_##name: push->xop = VFM_XOP_##name##_K; break;
#define VFM_OP(...)
#include "opcodes.def"
			}
			break;
		case VFM_CLASS_STACK:
		case VFM_CLASS_LOAD:
		case VFM_CLASS_LOADX:
		case VFM_CLASS_ALU1:
		case VFM_CLASS_JMP:
		case VFM_CLASS_RET:
		case VFM_CLASS_SPECIAL:
			continue; /* no fused form */
		}
		push->arg = next->arg;
		push->aux = next->aux;
	}
}

