/*
 * vfm-dis — disassemble a bytecode file into assembly that re-assembles
 * to the same code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vfm.h"

static const char usage[] =
	"usage: vfm-dis [-o OUT.vfm] FILTER.bin\n"
	"\n"
	"Disassemble a VFM bytecode file.  Jump targets get labels L<pc>; each line\n"
	"ends with its pc.  `vfm-asm` turns the output back into the same code.\n"
	"Files the verifier rejects are still shown (bytes that are not an\n"
	"instruction appear as .byte lines).\n"
	"\n"
	"options:\n"
	"  -o FILE      write to FILE instead of standard output\n"
	"  -h, --help   this help\n"
	"\n"
	"exit status: 0 ok, 1 not a valid bytecode file, 2 usage, 3 I/O\n";

int main(int argc, char **argv)
{
	const char *input = NULL, *output = "-";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		} else if (!strcmp(a, "-o")) {
			if (++i >= argc) {
				cli_error("vfm-dis", "-o needs a file name");
				return CLI_EXIT_USAGE;
			}
			output = argv[i];
		} else if (a[0] == '-' && a[1]) {
			cli_error("vfm-dis", "unknown option '%s' (see --help)", a);
			return CLI_EXIT_USAGE;
		} else if (input) {
			cli_error("vfm-dis", "more than one input file (see --help)");
			return CLI_EXIT_USAGE;
		} else {
			input = a;
		}
	}
	if (!input) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	uint8_t *bin;
	size_t len;
	if (cli_read_file("vfm-dis", input, &bin, &len) != 0)
		return CLI_EXIT_IO;
	char *text;
	vfm_diag_t diag;
	vfm_error_t err = vfm_disassemble(bin, len, &text, &diag);
	free(bin);
	if (err != VFM_OK) {
		cli_error("vfm-dis", "%s: %s", input, diag.message);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	int rc = cli_write_file("vfm-dis", output, text, strlen(text));
	free(text);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
}
