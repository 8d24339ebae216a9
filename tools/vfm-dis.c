/*
 * vfm-dis — disassemble a bytecode file into assembly that re-assembles
 * to the same code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vfm.h"

static const char usage_text[] =
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
	"  --version    print the version\n"
	"\n"
	"exit status: 0 ok, 1 not a valid bytecode file, 2 usage, 3 I/O\n";

int main(int argc, char **argv)
{
	struct cli cli = {.name = "vfm-dis", .usage_text = usage_text, .shortopts = "o:"};
	const char *input, *output = "-";
	int c;
	while ((c = cli_next(&cli, argc, argv)) != -1)
		if (c == 'o')
			output = optarg;
	input = cli_one_operand(&cli, argc, argv);
	uint8_t *bin;
	size_t len;
	if (cli_read_file(cli.name, input, &bin, &len) != 0)
		return CLI_EXIT_IO;
	char *text;
	vfm_diag_t diag;
	vfm_error_t err = vfm_disassemble(bin, len, &text, &diag);
	free(bin);
	if (err != VFM_OK) {
		cli_error(cli.name, "%s: %s", input, diag.message);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	int rc = cli_write_file(cli.name, output, text, strlen(text));
	free(text);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
}
