/*
 * vfm-compile — compile a VFM bytecode file for another engine: today
 * eBPF for the Linux kernel (ebpf/, docs/EBPF.md), as a listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../ebpf/ebpf.h"
#include "vfm.h"

static const char usage_text[] =
	"usage: vfm-compile --target=TARGET [options] FILTER.bin\n"
	"\n"
	"Compile a verified VFM program for another engine (docs/EBPF.md).\n"
	"\n"
	"targets:\n"
	"  ebpf-raw     eBPF listing, one instruction per line, for tc (SCHED_CLS) or\n"
	"               XDP (--return=xdp);\n"
	"               each VFM instruction's code is preceded by '; pc N: insn'\n"
	"  ebpf         an ELF object for tc/ip: not implemented yet (exits 1)\n"
	"\n"
	"options:\n"
	"  --target=T        the target (required)\n"
	"  --return=MODE     tc (default): TC_ACT_OK if the verdict is non-zero, else\n"
	"                    TC_ACT_SHOT; raw: the VFM verdict, status in skb->cb[0];\n"
	"                    xdp: an XDP program, XDP_PASS or XDP_DROP\n"
	"  --budget=N        backward jumps per packet (default 65536)\n"
	"  --packet-offset=N VFM byte 0 is skb byte N (default 0)\n"
	"  --helper-loads    read the packet with bpf_skb_load_bytes only\n"
	"  --load            also load it into the kernel and report its verifier's answer\n"
	"  -o FILE           write to FILE instead of standard output\n"
	"  -h, --help        this help\n"
	"  --version         print the version\n"
	"\n"
	"exit status: 0 ok, 1 rejected (invalid program, unsupported opcode, kernel\n"
	"limit, kernel verifier, target not implemented), 2 usage, 3 I/O\n";

enum { OPT_TARGET = 256, OPT_RETURN, OPT_BUDGET, OPT_OFFSET, OPT_HELPER, OPT_LOAD };

static const struct option longopts[] = {
	{"target", required_argument, NULL, OPT_TARGET},
	{"return", required_argument, NULL, OPT_RETURN},
	{"budget", required_argument, NULL, OPT_BUDGET},
	{"packet-offset", required_argument, NULL, OPT_OFFSET},
	{"helper-loads", no_argument, NULL, OPT_HELPER},
	{"load", no_argument, NULL, OPT_LOAD},
	{NULL, 0, NULL, 0},
};

static char *listing(const vfm_program_t *vp, const struct vfm_ebpf_prog *ep, size_t *len)
{
	const struct vfm_program *prog = vp;
	size_t cap = 4096, n = 0;
	char *out = malloc(cap), line[512], text[160];
	if (!out)
		return NULL;
	uint32_t next_vfm = 0;
	for (uint32_t s = 0; s < ep->n_insns; s++) {
		int w = 0;
		while (next_vfm < ep->n_vfm &&
		       (ep->vfm_start[next_vfm] == UINT32_MAX || ep->vfm_start[next_vfm] <= s)) {
			if (ep->vfm_start[next_vfm] == s) {
				vfm_format_insn(prog->code, prog->code_size, prog->pc_of[next_vfm], text,
						sizeof text);
				w += snprintf(line + w, sizeof line - (size_t)w, "; pc %u: %s\n",
					      prog->pc_of[next_vfm], text);
			}
			next_vfm++;
		}
		vfm_ebpf_format_insn(ep->insns, ep->n_insns, s, text, sizeof text);
		w += snprintf(line + w, sizeof line - (size_t)w, "%5u: %s\n", s, text);
		while (n + (size_t)w + 1 > cap) {
			char *p = realloc(out, cap *= 2);
			if (!p) {
				free(out);
				return NULL;
			}
			out = p;
		}
		memcpy(out + n, line, (size_t)w);
		n += (size_t)w;
	}
	out[n] = 0;
	*len = n;
	return out;
}

int main(int argc, char **argv)
{
	struct cli cli = {.name = "vfm-compile", .usage_text = usage_text, .shortopts = "o:",
			  .longopts = longopts};
	const char *output = "-", *target = NULL;
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_TC);
	int load = 0, c;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_TARGET: target = optarg; break;
		case OPT_RETURN:
			if (!strcmp(optarg, "tc"))
				opt.target = VFM_EBPF_TC;
			else if (!strcmp(optarg, "raw"))
				opt.target = VFM_EBPF_RAW;
			else if (!strcmp(optarg, "xdp"))
				opt.target = VFM_EBPF_XDP;
			else
				return cli_usage_error(&cli, "bad --return '%s' (tc, raw or xdp)", optarg);
			break;
		case OPT_BUDGET:
			opt.budget = (uint32_t)cli_number(&cli, "budget", optarg, 0, UINT32_MAX, NULL);
			break;
		case OPT_OFFSET:
			opt.packet_offset = (uint32_t)cli_number(&cli, "packet offset", optarg, 0,
								 VFM_EBPF_MAX_PACKET_OFF, NULL);
			break;
		case OPT_HELPER: opt.helper_loads = true; break;
		case OPT_LOAD: load = 1; break;
		}
	}
	const char *input = cli_one_operand(&cli, argc, argv);
	if (!target)
		return cli_usage_error(&cli, "--target is required (ebpf-raw or ebpf)");
	if (strcmp(target, "ebpf-raw") && strcmp(target, "ebpf"))
		return cli_usage_error(&cli, "unknown target '%s' (ebpf-raw or ebpf)", target);
	uint8_t *bin;
	size_t len;
	if (cli_read_file(cli.name, input, &bin, &len) != 0)
		return CLI_EXIT_IO;
	vfm_program_t *prog;
	vfm_diag_t diag;
	vfm_error_t err = vfm_program_create(bin, len, &prog, &diag);
	free(bin);
	if (err != VFM_OK) {
		cli_error(cli.name, "%s: %s", input, diag.message);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	struct vfm_ebpf_prog ep;
	err = vfm_compile_ebpf(prog, &opt, &ep, &diag);
	if (err != VFM_OK) {
		cli_error(cli.name, "%s: %s", input, diag.message);
		vfm_program_release(prog);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	int rc = CLI_EXIT_OK;
	if (!strcmp(target, "ebpf")) {
		cli_error(cli.name, "--target=ebpf (ELF object) is not implemented yet; "
				    "--target=ebpf-raw prints the listing");
		rc = CLI_EXIT_REJECT;
	} else {
		size_t tlen;
		char *text = listing(prog, &ep, &tlen);
		if (!text || cli_write_file(cli.name, output, text, tlen) != 0)
			rc = CLI_EXIT_IO;
		free(text);
	}
	if (rc == CLI_EXIT_OK && load) {
		int fd;
		size_t log_size = 1u << 22;
		char *log = malloc(log_size);
		err = vfm_ebpf_kernel_load(&ep, &fd, log, log ? log_size : 0, &diag);
		if (err == VFM_OK) {
			fprintf(stderr, "%s: the kernel accepted %u eBPF instructions (%u-byte stack)\n",
				cli.name, ep.n_insns, ep.stack_bytes);
			vfm_ebpf_kernel_close(fd);
		} else {
			cli_error(cli.name, "%s: %s", input, diag.message);
			if (err == VFM_EVERIFY && log)
				fprintf(stderr, "%s", log); /* the kernel verifier's whole log */
			rc = CLI_EXIT_REJECT;
		}
		free(log);
	}
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
	return rc;
}
