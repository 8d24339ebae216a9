/*
 * vfm-verify — run the verifier on bytecode files and say why it rejects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "program.h"

static const char usage[] =
	"usage: vfm-verify [-v] FILTER.bin...\n"
	"\n"
	"Verify VFM bytecode files exactly as loading does.  Prints one line per\n"
	"file: OK with instruction count and maximum stack depth, or the reason\n"
	"for rejection with its pc and source line.\n"
	"\n"
	"options:\n"
	"  -v           also list every instruction with its pc and the stack\n"
	"               depth before it ('-' for unreachable instructions)\n"
	"  -h, --help   this help\n"
	"\n"
	"exit status: 0 all accepted, 1 some rejected, 2 usage, 3 I/O\n";

static void print_depths(const struct vfm_program *prog)
{
	char insn[64];
	printf("%8s  %5s  %s\n", "pc", "depth", "instruction");
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		uint32_t pc = prog->pc_of[i];
		vfm_format_insn(prog->code, prog->code_size, pc, insn, sizeof insn);
		uint32_t line = vfm_program_line_of(prog, pc);
		if (prog->facts.depth[i] < 0)
			printf("%8u  %5s  %-28s", pc, "-", insn);
		else
			printf("%8u  %5d  %-28s", pc, prog->facts.depth[i], insn);
		if (line)
			printf(" ; line %u", line);
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	int verbose = 0, n_files = 0, worst = CLI_EXIT_OK;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		} else if (!strcmp(argv[i], "-v")) {
			verbose = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_error("vfm-verify", "unknown option '%s' (see --help)", argv[i]);
			return CLI_EXIT_USAGE;
		} else {
			n_files++;
		}
	}
	if (n_files == 0) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		const char *path = argv[i];
		if (path[0] == '-' && path[1])
			continue;
		uint8_t *bin;
		size_t len;
		if (cli_read_file("vfm-verify", path, &bin, &len) != 0) {
			worst = CLI_EXIT_IO;
			continue;
		}
		vfm_program_t *prog;
		vfm_diag_t diag;
		vfm_error_t err = vfm_program_create(bin, len, &prog, &diag);
		free(bin);
		if (err != VFM_OK) {
			printf("%s: REJECTED: %s\n", path, diag.message);
			if (worst == CLI_EXIT_OK)
				worst = CLI_EXIT_REJECT;
			continue;
		}
		printf("%s: OK: %u instructions, %u bytes, max stack depth %u\n", path,
		       prog->n_insns, prog->code_size, prog->facts.max_depth);
		if (verbose)
			print_depths(prog);
		vfm_program_release(prog);
	}
	fflush(stdout);
	return worst;
}
