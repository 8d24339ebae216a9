/*
 * vm/program.c — operations on a program that the engines share: the
 * pc → source line lookup.  (The interpreter's fused forms are built by
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
