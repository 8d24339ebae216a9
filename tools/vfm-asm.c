/*
 * vfm-asm — assemble VFM assembly into a bytecode file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vfm.h"

static const char usage_text[] =
	"usage: vfm-asm [options] INPUT.vfm\n"
	"\n"
	"Assemble VFM assembly (docs/ISA.md) into a bytecode file.  The output is\n"
	"also checked by the verifier, so a file that assembles but would be\n"
	"rejected at load time is reported here (exit 1) and not written.\n"
	"\n"
	"options:\n"
	"  -o FILE        output file (default: INPUT with .bin instead of .vfm)\n"
	"  --no-debug     omit the debug sections (pc-to-line table, source name);\n"
	"                 the file then holds nothing but the code\n"
	"  --no-verify    write the file even if the verifier rejects it\n"
	"  -h, --help     this help\n"
	"  --version      print the version\n"
	"\n"
	"exit status: 0 written, 1 assembly or verification error, 2 usage, 3 I/O\n";

static char *default_output(const char *input)
{
	size_t n = strlen(input);
	const char *dot = strrchr(input, '.');
	const char *slash = strrchr(input, '/');
	size_t base = dot && (!slash || dot > slash) ? (size_t)(dot - input) : n;
	char *out = malloc(base + 5);
	if (out) {
		memcpy(out, input, base);
		memcpy(out + base, ".bin", 5);
	}
	return out;
}

int main(int argc, char **argv)
{
	enum { OPT_NO_DEBUG = 256, OPT_NO_VERIFY };
	static const struct option longopts[] = {
		{"no-debug", no_argument, NULL, OPT_NO_DEBUG},
		{"no-verify", no_argument, NULL, OPT_NO_VERIFY},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {.name = "vfm-asm", .usage_text = usage_text, .shortopts = "o:",
			  .longopts = longopts};
	const char *input, *output = NULL;
	int with_debug = 1, verify = 1, c;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_NO_DEBUG:
			with_debug = 0;
			break;
		case OPT_NO_VERIFY:
			verify = 0;
			break;
		}
	}
	input = cli_one_operand(&cli, argc, argv);
	uint8_t *src;
	size_t src_len;
	if (cli_read_file(cli.name, input, &src, &src_len) != 0)
		return CLI_EXIT_IO;
	uint8_t *bin = NULL;
	size_t bin_len = 0;
	vfm_diag_t diag;
	const char *name = strcmp(input, "-") ? input : "<stdin>";
	vfm_error_t err = vfm_assemble((const char *)src, src_len, name, with_debug, &bin,
				       &bin_len, &diag);
	free(src);
	if (err != VFM_OK) {
		fprintf(stderr, "%s\n", diag.message);
		return err == VFM_EASM ? CLI_EXIT_REJECT : CLI_EXIT_IO;
	}
	if (verify) {
		vfm_program_t *prog;
		if (vfm_program_create(bin, bin_len, &prog, &diag) != VFM_OK) {
			fprintf(stderr, "%s: verifier: %s\n", name, diag.message);
			free(bin);
			return CLI_EXIT_REJECT;
		}
		vfm_program_release(prog);
	}
	char *def = output ? NULL : default_output(input);
	int rc = cli_write_file(cli.name, output ? output : def, bin, bin_len);
	free(def);
	free(bin);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
}
