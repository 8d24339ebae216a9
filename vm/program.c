/*
 * vm/program.c — operations on a program that the engines and analyses
 * share: the pc → source line lookup and the successors of an
 * instruction.  (The interpreter's fused forms are built by
 * vm/predecode.c.)
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

void vfm_cfg_succ(const struct vfm_insn *insns, uint32_t i, uint32_t succ[2])
{
	const struct vfm_insn *insn = &insns[i];
	succ[0] = succ[1] = VFM_CFG_NONE;
	switch ((enum vfm_op_class)vfm_opinfo[insn->opcode].cls) {
	case VFM_CLASS_RET:
		break;
	case VFM_CLASS_JMP:
		succ[1] = insn->arg;
		break;
	case VFM_CLASS_JCC:
		succ[0] = i + 1;
		succ[1] = insn->arg;
		break;
	case VFM_CLASS_STACK:
	case VFM_CLASS_LOAD:
	case VFM_CLASS_LOADX:
	case VFM_CLASS_ALU2:
	case VFM_CLASS_ALU1:
	case VFM_CLASS_SPECIAL:
		succ[0] = i + 1;
		break;
	}
}
