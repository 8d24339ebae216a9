/*
 * vfm-asm — assemble VFM assembly into a bytecode file, or translate
 * classic BPF (a pcap-filter expression compiled by libpcap, or a
 * `tcpdump -ddd` listing) into one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pcapexpr.h"
#include "vfm.h"

static const char usage_text[] =
	"usage: vfm-asm [options] INPUT.vfm\n"
	"       vfm-asm -e EXPRESSION [--dlt NAME] [-s SNAPLEN] [-O] -o OUT.bin\n"
	"       vfm-asm --cbpf LISTING [--dlt NAME] [-o OUT.bin]\n"
	"\n"
	"Assemble VFM assembly (docs/ISA.md) into a bytecode file.  The output is\n"
	"also checked by the verifier, so a file that assembles but would be\n"
	"rejected at load time is reported here (exit 1) and not written.\n"
	"\n"
	"With -e, compile a pcap-filter expression (as tcpdump takes it, see\n"
	"pcap-filter(7)) with libpcap's pcap_compile, on no device, and translate\n"
	"the classic BPF to VFM with bpf_filter's semantics (docs/CBPF.md); with\n"
	"--cbpf, translate a `tcpdump -ddd` listing.  The file records the link\n"
	"type (vfm-test checks it against the capture) and the cBPF program.\n"
	"\n"
	"options:\n"
	"  -o FILE        output file (default: INPUT with .bin instead of .vfm)\n"
	"  -e EXPRESSION  compile a pcap-filter expression\n"
	"  --cbpf FILE    translate tcpdump -ddd output (\"-\" = stdin)\n"
	"  -y, --dlt NAME link type to compile for, libpcap's name or number\n"
	"                 (default EN10MB, Ethernet)\n"
	"  -s SNAPLEN     snapshot length for -e (default 262144, as tcpdump)\n"
	"  -O             do not optimize the compiled expression\n"
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

/* -e / --cbpf: classic BPF to a VFM file image; returns an exit code. */
static int translate_cbpf(const struct cli *cli, const char *expr, const char *listing,
			  const struct pcapexpr_options *po, int with_debug, uint8_t **bin,
			  size_t *bin_len)
{
	char err[PCAPEXPR_ERRBUF];
	vfm_cbpf_insn_t *insns;
	size_t n;
	if (expr) {
		if (pcapexpr_compile(expr, po, &insns, &n, err) != 0) {
			fprintf(stderr, "%s: cannot compile '%s': %s\n", cli->name, expr, err);
			return CLI_EXIT_REJECT;
		}
	} else {
		uint8_t *text;
		size_t len;
		if (cli_read_file(cli->name, listing, &text, &len) != 0)
			return CLI_EXIT_IO;
		int rc = pcapexpr_parse_ddd((const char *)text, len, &insns, &n, err);
		free(text);
		if (rc != 0) {
			fprintf(stderr, "%s: %s: %s\n", cli->name, listing, err);
			return CLI_EXIT_REJECT;
		}
	}
	const char *linktype = pcapexpr_linktype_name(po->linktype);
	vfm_cbpf_options_t opt = {
		.flags = with_debug ? 0 : VFM_CBPF_NO_LINES | VFM_CBPF_NO_ORIGIN,
		.source_name = with_debug ? (expr ? expr : listing) : NULL,
		.linktype = linktype,
	};
	vfm_diag_t diag;
	vfm_error_t e = vfm_from_cbpf(insns, n, &opt, bin, bin_len, &diag);
	free(insns);
	if (e != VFM_OK) {
		fprintf(stderr, "%s: %s: %s\n", cli->name, expr ? expr : listing, diag.message);
		return e == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_NO_DEBUG = 256, OPT_NO_VERIFY, OPT_CBPF };
	static const struct option longopts[] = {
		{"no-debug", no_argument, NULL, OPT_NO_DEBUG},
		{"no-verify", no_argument, NULL, OPT_NO_VERIFY},
		{"cbpf", required_argument, NULL, OPT_CBPF},
		{"dlt", required_argument, NULL, 'y'},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {.name = "vfm-asm", .usage_text = usage_text, .shortopts = "o:e:y:s:O",
			  .longopts = longopts};
	const char *input = NULL, *output = NULL, *expr = NULL, *listing = NULL;
	const char *dlt_name = NULL;
	int with_debug = 1, verify = 1, c;
	struct pcapexpr_options po;
	pcapexpr_options_init(&po);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'e':
			expr = optarg;
			break;
		case OPT_CBPF:
			listing = optarg;
			break;
		case 'y':
			dlt_name = optarg;
			break;
		case 's':
			po.snaplen = (int)cli_number(&cli, "-s", optarg, 1, 262144, NULL);
			break;
		case 'O':
			po.optimize = 0;
			break;
		case OPT_NO_DEBUG:
			with_debug = 0;
			break;
		case OPT_NO_VERIFY:
			verify = 0;
			break;
		}
	}
	uint8_t *bin = NULL;
	size_t bin_len = 0;
	vfm_diag_t diag;
	const char *name;
	if (expr || listing) {
		if (expr && listing)
			return cli_usage_error(&cli, "-e and --cbpf exclude each other");
		cli_no_operands(&cli, argc, argv);
		if (expr && !output)
			return cli_usage_error(&cli, "-e needs -o OUT.bin");
		if (dlt_name) {
			char err[PCAPEXPR_ERRBUF];
			po.linktype = pcapexpr_linktype(dlt_name, err);
			if (po.linktype < 0)
				return cli_usage_error(&cli, "--dlt: %s", err);
		}
		int rc = translate_cbpf(&cli, expr, listing, &po, with_debug, &bin, &bin_len);
		if (rc != CLI_EXIT_OK)
			return rc;
		input = listing;
		name = expr ? expr : listing;
	} else {
		if (dlt_name || po.snaplen != PCAPEXPR_DEFAULT_SNAPLEN || !po.optimize)
			return cli_usage_error(&cli, "--dlt, -s and -O go with -e or --cbpf "
						     "(assembly sets its link type with .linktype)");
		input = cli_one_operand(&cli, argc, argv);
		uint8_t *src;
		size_t src_len;
		if (cli_read_file(cli.name, input, &src, &src_len) != 0)
			return CLI_EXIT_IO;
		name = strcmp(input, "-") ? input : "<stdin>";
		vfm_error_t err = vfm_assemble((const char *)src, src_len, name, with_debug, &bin,
					       &bin_len, &diag);
		free(src);
		if (err != VFM_OK) {
			fprintf(stderr, "%s\n", diag.message);
			return err == VFM_EASM ? CLI_EXIT_REJECT : CLI_EXIT_IO;
		}
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
