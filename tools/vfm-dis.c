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
	"instruction appear as .byte lines).  A file translated from classic BPF\n"
	"(vfm-asm -e or --cbpf) starts with the original cBPF listing, as\n"
	"`tcpdump -d` prints it, in comments (a line table maps each VFM line to\n"
	"its cBPF instruction: the verifier's messages name it).\n"
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
	if (err != VFM_OK) {
		free(bin);
		cli_error(cli.name, "%s: %s", input, diag.message);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	/* The cBPF origin, if the file keeps one, as comments first. */
	vfm_cbpf_insn_t *cbpf = NULL;
	size_t n_cbpf = 0;
	char *listing = NULL;
	size_t listing_len = 0;
	if (vfm_cbpf_from_file(bin, len, &cbpf, &n_cbpf, NULL) == VFM_OK) {
		FILE *m = open_memstream(&listing, &listing_len);
		if (!m) {
			free(cbpf);
			free(text);
			free(bin);
			cli_error(cli.name, "out of memory");
			return CLI_EXIT_IO;
		}
		fprintf(m, "; translated from classic BPF (%zu instructions):\n", n_cbpf);
		for (size_t i = 0; i < n_cbpf; i++) {
			char line[128];
			vfm_cbpf_format(&cbpf[i], (uint32_t)i, line, sizeof line);
			fprintf(m, ";   %s\n", line);
		}
		fclose(m);
		free(cbpf);
	}
	free(bin);
	size_t text_len = strlen(text);
	char *all = malloc(listing_len + text_len + 1);
	if (!all) {
		free(listing);
		free(text);
		cli_error(cli.name, "out of memory");
		return CLI_EXIT_IO;
	}
	if (listing_len)
		memcpy(all, listing, listing_len);
	memcpy(all + listing_len, text, text_len + 1);
	int rc = cli_write_file(cli.name, output, all, listing_len + text_len);
	free(all);
	free(listing);
	free(text);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
}
