/*
 * vfm-compile — compile a VFM bytecode file for another engine: eBPF for
 * the Linux kernel (ebpf/, docs/EBPF.md) as a listing or as an ELF object
 * for libbpf, bpftool, ip and tc.
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../ebpf/ebpf.h"
#include "../ebpf/cbpf_emit.h"
#include "../ebpf/elf.h"
#include "vfm.h"
#include "../vm/program.h"

static const char usage_text[] =
	"usage: vfm-compile --target=TARGET [options] FILTER.bin\n"
	"\n"
	"Compile a verified VFM program for another engine (docs/EBPF.md).\n"
	"\n"
	"targets:\n"
	"  ebpf-raw     eBPF listing, one instruction per line, for tc (SCHED_CLS) or\n"
	"               XDP (--return=xdp);\n"
	"               each VFM instruction's code is preceded by '; pc N: insn'\n"
	"  ebpf         an ELF relocatable object (EM_BPF) for libbpf, bpftool, ip and\n"
	"               tc: one program per --attach point, in sections 'xdp', 'tc'\n"
	"               and 'socket' (functions vfm_xdp, vfm_tc, vfm_socket)\n"
	"  cbpf         classic BPF in tcpdump -ddd form (SO_ATTACH_FILTER, iptables -m\n"
	"               bpf, libpcap), for programs that fit cBPF (32-bit values,\n"
	"               forward jumps, no TS/HASH5/flow table, stack + scratch words\n"
	"               within cBPF's 16); else the first instruction that does not\n"
	"               fit is named (exit 1)\n"
	"\n"
	"options:\n"
	"  --target=T        the target (required)\n"
	"  --attach=LIST     ebpf: the programs to put in the object, a comma-separated\n"
	"                    list of xdp, tc and socket (default xdp,tc,socket; the\n"
	"                    default leaves socket out, with a note, for a filter\n"
	"                    that reads TS or WLEN, which socket filters cannot see)\n"
	"  --return=MODE     tc (default): TC_ACT_OK if the verdict is non-zero, else\n"
	"                    TC_ACT_SHOT; raw: the VFM verdict, status in skb->cb[0];\n"
	"                    xdp: an XDP program, XDP_PASS or XDP_DROP\n"
	"  --budget=N        backward jumps per packet (default 65536)\n"
	"  --packet-offset=N VFM byte 0 is skb byte N (default 0)\n"
	"  --helper-loads    read the packet with bpf_skb_load_bytes only\n"
	"  --flow-per-cpu    the flow table per CPU (BPF_MAP_TYPE_PERCPU_ARRAY)\n"
	"  --load            also load it into the kernel and report its verifier's answer\n"
	"  -o FILE           write to FILE instead of standard output (ebpf: required)\n"
	"  -h, --help        this help\n"
	"  --version         print the version\n"
	"\n"
	"exit status: 0 ok, 1 rejected (invalid program, unsupported opcode, kernel\n"
	"limit, kernel verifier, target not implemented), 2 usage, 3 I/O\n";

enum { OPT_TARGET = 256, OPT_ATTACH, OPT_RETURN, OPT_BUDGET, OPT_OFFSET, OPT_HELPER, OPT_PER_CPU, OPT_LOAD };

static const struct option longopts[] = {
	{"target", required_argument, NULL, OPT_TARGET},
	{"attach", required_argument, NULL, OPT_ATTACH},
	{"return", required_argument, NULL, OPT_RETURN},
	{"budget", required_argument, NULL, OPT_BUDGET},
	{"packet-offset", required_argument, NULL, OPT_OFFSET},
	{"helper-loads", no_argument, NULL, OPT_HELPER},
	{"flow-per-cpu", no_argument, NULL, OPT_PER_CPU},
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
	uint32_t shown = UINT32_MAX; /* the VFM instruction of the last header */
	for (uint32_t s = 0; s < ep->n_insns; s++) {
		int w = 0;
		uint32_t i = ep->vfm_of[s];
		if (i != UINT32_MAX && i != shown) {
			/* A hoisted region's checked copy, after the body. */
			bool copy = s != ep->vfm_start[i];
			vfm_format_insn(prog->code, prog->code_size, prog->pc_of[i], text, sizeof text);
			w += snprintf(line + w, sizeof line - (size_t)w, "; pc %u: %s%s\n", prog->pc_of[i],
				      text, copy ? " (checked copy)" : "");
		}
		shown = i;
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

/* The attach points of --attach, in the object's order. */
enum { ATTACH_XDP = 1, ATTACH_TC = 2, ATTACH_SOCKET = 4 };
static const struct {
	unsigned bit;
	const char *name, *section, *function;
	const char *hash5_function; /* its HASH5 subprogram in .text */
} attach_points[] = {
	{ATTACH_XDP, "xdp", "xdp", "vfm_xdp", "vfm_hash5_xdp"},
	{ATTACH_TC, "tc", "tc", "vfm_tc", "vfm_hash5_tc"},
	{ATTACH_SOCKET, "socket", "socket", "vfm_socket", "vfm_hash5_socket"},
};
#define N_ATTACH (sizeof attach_points / sizeof attach_points[0])

static int parse_attach(const struct cli *cli, const char *arg, unsigned *set)
{
	*set = 0;
	const char *p = arg;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i = 0;
		while (i < N_ATTACH && (strlen(attach_points[i].name) != n ||
					strncmp(p, attach_points[i].name, n)))
			i++;
		if (i == N_ATTACH)
			return cli_usage_error(cli, "bad --attach '%s' (a list of xdp, tc, socket)", arg);
		*set |= attach_points[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*set)
		return cli_usage_error(cli, "empty --attach");
	return 0;
}

/* Does the program read TS or WLEN (which a socket filter cannot see)? */
static const char *reads_skb_time(const vfm_program_t *vp)
{
	const struct vfm_program *prog = vp;
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		if (prog->insns[i].opcode == VFM_OPC_TS)
			return "TS";
		if (prog->insns[i].opcode == VFM_OPC_WLEN)
			return "WLEN";
	}
	return NULL;
}

/* Compile the program for one attach point (the socket filter returns
 * the verdict: bytes to keep, as a cBPF filter; docs/EBPF.md). */
static vfm_error_t compile_for(const vfm_program_t *prog, const struct vfm_ebpf_options *base,
			       unsigned point, struct vfm_ebpf_prog *ep, vfm_diag_t *diag)
{
	struct vfm_ebpf_options opt = *base;
	opt.target = point == ATTACH_XDP ? VFM_EBPF_XDP : point == ATTACH_TC ? VFM_EBPF_TC
									      : VFM_EBPF_SOCKET;
	return vfm_compile_ebpf(prog, &opt, ep, diag);
}

/* Load one compiled program into the kernel and say what it answered. */
static int kernel_check(const char *name, const char *input, const char *what,
			const struct vfm_ebpf_prog *ep)
{
	int fd, map_fd = -1;
	size_t log_size = 1u << 22;
	char *log = malloc(log_size);
	vfm_diag_t diag;
	/* A program with the flow table loads with a fresh map bound into a
	 * copy of its code (the object keeps the relocations instead). */
	struct vfm_ebpf_prog bound = *ep;
	bound.insns = NULL;
	vfm_error_t err = VFM_OK;
	if (ep->n_maps) {
		bound.insns = malloc((size_t)ep->n_insns * sizeof *ep->insns);
		if (!bound.insns) {
			free(log);
			cli_error(name, "out of memory");
			return CLI_EXIT_IO;
		}
		memcpy(bound.insns, ep->insns, (size_t)ep->n_insns * sizeof *ep->insns);
		err = vfm_ebpf_map_create(&ep->maps[0], &map_fd, &diag);
		if (err == VFM_OK)
			err = vfm_ebpf_prog_bind_map(&bound, 0, map_fd, &diag);
	} else {
		bound.insns = ep->insns;
	}
	if (err == VFM_OK)
		err = vfm_ebpf_kernel_load(&bound, &fd, log, log ? log_size : 0, &diag);
	if (ep->n_maps)
		free(bound.insns);
	vfm_ebpf_kernel_close(map_fd);
	int rc = CLI_EXIT_OK;
	if (err == VFM_OK) {
		fprintf(stderr, "%s: %sthe kernel accepted %u eBPF instructions (%u-byte stack)\n",
			name, what, ep->n_insns, ep->stack_bytes);
		vfm_ebpf_kernel_close(fd);
	} else {
		cli_error(name, "%s: %s%s", input, what, diag.message);
		if (err == VFM_EVERIFY && log)
			fprintf(stderr, "%s", log); /* the kernel verifier's whole log */
		rc = CLI_EXIT_REJECT;
	}
	free(log);
	return rc;
}

/* --target=ebpf: one program per attach point in an ELF object. */
static int write_object(const char *name, const char *input, const char *output,
			const vfm_program_t *prog, const struct vfm_ebpf_options *opt,
			unsigned attach, bool attach_given, bool load)
{
	struct vfm_ebpf_prog eps[N_ATTACH];
	struct vfm_elf_prog progs[N_ATTACH];
	struct vfm_elf_map maps[N_ATTACH][1];
	uint32_t n = 0;
	int rc = CLI_EXIT_OK;
	vfm_diag_t diag;
	const char *time_op = reads_skb_time(prog);
	if ((attach & ATTACH_SOCKET) && time_op) {
		if (attach_given) {
			cli_error(name, "%s: a socket filter cannot read %s (no skb->tstamp or "
					"skb->wire_len for BPF_PROG_TYPE_SOCKET_FILTER); leave socket "
					"out of --attach", input, time_op);
			return CLI_EXIT_REJECT;
		}
		fprintf(stderr, "%s: note: no socket program: the filter reads %s, which a "
				"socket filter cannot see\n", name, time_op);
		attach &= ~(unsigned)ATTACH_SOCKET;
	}
	for (size_t i = 0; i < N_ATTACH && rc == CLI_EXIT_OK; i++) {
		if (!(attach & attach_points[i].bit))
			continue;
		vfm_error_t err = compile_for(prog, opt, attach_points[i].bit, &eps[n], &diag);
		if (err != VFM_OK) {
			cli_error(name, "%s: %s: %s", input, attach_points[i].name, diag.message);
			rc = err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
			break;
		}
		/* The flow table (n_maps 0 or 1): the same name "vfm_flow" in
		 * every program, so the object holds one table that all its
		 * programs share. */
		for (uint32_t m = 0; m < eps[n].n_maps && m < 1; m++) {
			const struct vfm_ebpf_map *em = &eps[n].maps[m];
			maps[n][m] = (struct vfm_elf_map){.name = em->name, .type = em->type,
							  .key_size = em->key_size,
							  .value_size = em->value_size,
							  .max_entries = em->max_entries,
							  .flags = em->flags, .refs = em->refs,
							  .n_refs = em->n_refs};
		}
		progs[n] = (struct vfm_elf_prog){.section = attach_points[i].section,
						 .name = attach_points[i].function,
						 .insns = eps[n].insns,
						 .n_insns = eps[n].n_insns,
						 .maps = maps[n],
						 .n_maps = eps[n].n_maps < 1 ? eps[n].n_maps : 1};
		if (eps[n].n_subprogs) {
			/* HASH5's subprogram: the code after subprog_start,
			 * into .text as a function of its own. */
			uint32_t sub = eps[n].subprog_start[0];
			progs[n].n_insns = sub;
			progs[n].sub_name = attach_points[i].hash5_function;
			progs[n].sub_insns = eps[n].insns + sub;
			progs[n].n_sub_insns = eps[n].n_insns - sub;
		}
		n++;
		if (load) {
			char what[32];
			snprintf(what, sizeof what, "%s: ", attach_points[i].name);
			rc = kernel_check(name, input, what, &eps[n - 1]);
		}
	}
	if (rc == CLI_EXIT_OK) {
		uint8_t *obj;
		size_t len;
		/* None of the helpers the compiler calls (bpf_skb_load_bytes,
		 * bpf_ktime_get_ns, bpf_xdp_get_buff_len, bpf_map_lookup_elem)
		 * is GPL-only; "GPL" is what the raw loader (ebpf/kernel.c) uses
		 * too, and keeps GPL-only helpers open to later versions. */
		vfm_error_t err = vfm_elf_write(progs, n, "GPL", &obj, &len, &diag);
		if (err != VFM_OK) {
			cli_error(name, "%s: %s", input, diag.message);
			rc = err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
		} else {
			if (cli_write_file(name, output, obj, len) != 0)
				rc = CLI_EXIT_IO;
			free(obj);
		}
	}
	for (uint32_t i = 0; i < n; i++)
		vfm_ebpf_prog_free(&eps[i]);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli cli = {.name = "vfm-compile", .usage_text = usage_text, .shortopts = "o:",
			  .longopts = longopts};
	const char *output = "-", *target = NULL;
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_TC);
	int load = 0, c;
	unsigned attach = ATTACH_XDP | ATTACH_TC | ATTACH_SOCKET;
	bool attach_given = false;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_TARGET: target = optarg; break;
		case OPT_ATTACH:
			if (parse_attach(&cli, optarg, &attach) != 0)
				return CLI_EXIT_USAGE;
			attach_given = true;
			break;
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
		case OPT_PER_CPU: opt.flow_per_cpu = true; break;
		case OPT_LOAD: load = 1; break;
		}
	}
	const char *input = cli_one_operand(&cli, argc, argv);
	if (!target)
		return cli_usage_error(&cli, "--target is required (ebpf, ebpf-raw or cbpf)");
	if (strcmp(target, "ebpf-raw") && strcmp(target, "ebpf") && strcmp(target, "cbpf"))
		return cli_usage_error(&cli, "unknown target '%s' (ebpf, ebpf-raw or cbpf)", target);
	/* A binary object on a terminal or pipe is not offered (exit 1 as a
	 * target that is not there, per the exit statuses above). */
	if (!strcmp(target, "ebpf") && !strcmp(output, "-")) {
		cli_error(cli.name, "--target=ebpf writes a binary ELF object; writing it to "
				    "standard output is not implemented yet: give -o FILE.o");
		return CLI_EXIT_REJECT;
	}
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
	if (!strcmp(target, "cbpf")) {
		vfm_cbpf_insn_t *insns;
		size_t n;
		int rc = CLI_EXIT_OK;
		err = vfm_compile_cbpf(prog, &insns, &n, &diag);
		if (err != VFM_OK) {
			cli_error(cli.name, "%s: %s", input, diag.message);
			rc = err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
		} else {
			char *text = vfm_cbpf_format_ddd(insns, n);
			if (!text || cli_write_file(cli.name, output, text, strlen(text)) != 0)
				rc = CLI_EXIT_IO;
			free(text);
			free(insns);
		}
		vfm_program_release(prog);
		return rc;
	}
	if (!strcmp(target, "ebpf")) {
		int rc = write_object(cli.name, input, output, prog, &opt, attach, attach_given,
				      load);
		vfm_program_release(prog);
		return rc;
	}
	struct vfm_ebpf_prog ep;
	err = vfm_compile_ebpf(prog, &opt, &ep, &diag);
	if (err != VFM_OK) {
		cli_error(cli.name, "%s: %s", input, diag.message);
		vfm_program_release(prog);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	int rc = CLI_EXIT_OK;
	size_t tlen;
	char *text = listing(prog, &ep, &tlen);
	if (!text || cli_write_file(cli.name, output, text, tlen) != 0)
		rc = CLI_EXIT_IO;
	free(text);
	if (rc == CLI_EXIT_OK && load)
		rc = kernel_check(cli.name, input, "", &ep);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
	return rc;
}
