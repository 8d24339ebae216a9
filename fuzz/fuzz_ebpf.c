/*
 * fuzz/fuzz_ebpf.c — libFuzzer target: the eBPF back end (ebpf/compile.c,
 * docs/EBPF.md) on generated programs, for every attach point.
 *
 * Input format (fuzz/README.md), the frame of fuzz_diff:
 *
 *   byte 0     flags
 *                bits 0-2  budget: 0, 1, 2, 5, 16, 100, 1000, 4096
 *                bits 3-4  flow capacity: 4, 8, 64, default
 *                bit  5    every packet read with bpf_skb_load_bytes
 *                bit  6    packet offset 14 (the VFM packet starts after
 *                          an Ethernet header)
 *   bytes 1-2  little-endian u16: length P of the program part (clipped)
 *   P bytes    a progen choice string (progen_from_bytes: any bytes give a
 *              program that must pass the verifier)
 *   rest       packets for the kernel: [u8 length][bytes], at most 16
 *
 * Every input, everywhere (no bpf() needed, so OSS-Fuzz runs it): the
 * program is compiled by vfm_compile_ebpf for tc, raw, XDP and socket
 * filter.  Each result is either a refusal that names a documented limit
 * (BPF_COMPLEXITY_LIMIT_INSNS, the 16-bit branch offset, MAX_BPF_STACK)
 * and a pc of the program, as VFM_ETOOBIG, or code the kernel's verifier
 * could take: within the instruction and stack limits, registers r0-r10,
 * every jump inside its function and never into the second slot of an
 * LD_IMM64, calls to subprogram starts, every function ending in exit or
 * ja, map references on map-loading LD_IMM64s, the program type of the
 * target, and a listing of every instruction.
 *
 * The custom mutator and crossover are fuzz_diff's (fuzz/frame_mutator.h):
 * statement-level edits of the program, byte-level ones of the packets.
 *
 * With VFM_FUZZ_KERNEL set and bpf() allowed (root; fuzz/fuzz_kernel.h),
 * also: testkit/kengine loads the program for each attach point into the
 * kernel, whose verifier must accept it or refuse it within a documented
 * limit, and the first packets run through BPF_PROG_TEST_RUN must give the
 * interpreter's verdict and status (and the kernel's tc, XDP and socket
 * actions the raw verdict), with the interpreter's flow table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfm.h"
#include "program.h"
#include "progen.h"
#include "kengine.h"
#include "../ebpf/ebpf.h"
#include "../ebpf/insn.h"

#define FUZZ_NAME "fuzz_ebpf"
#include "fuzz_common.h"
#include "fuzz_kernel.h"

static const uint32_t budgets[8] = {0, 1, 2, 5, 16, 100, 1000, 4096};
static const uint32_t capacities[4] = {4, 8, 64, 0};
/* Packets run on the kernel per input: TEST_RUN costs a syscall each. */
#define KERNEL_PACKETS 4

static const enum vfm_ebpf_target targets[] = {VFM_EBPF_TC, VFM_EBPF_RAW, VFM_EBPF_XDP,
					       VFM_EBPF_SOCKET};
static const char *const target_names[] = {"tc", "raw", "xdp", "socket"};

/* VFM_FUZZ_STATS: what the inputs did, printed at exit. */
static unsigned long n_inputs, n_compiled, n_refused, n_kernel;

static void print_stats(void)
{
	if (n_inputs == 0) /* libFuzzer's -jobs parent runs no input */
		return;
	fprintf(stderr,
		"fuzz_ebpf: %lu inputs, %lu outputs checked, %lu refused within a documented "
		"limit, %lu loaded on the kernel\n",
		n_inputs, n_compiled, n_refused, n_kernel);
}

FUZZ_PRINT_STATS_AT_EXIT(print_stats)

/* The limits docs/EBPF.md documents, as the compiler's messages name them. */
static const char *const documented_limits[] = {
	"BPF_COMPLEXITY_LIMIT_INSNS",
	"16-bit branch offset",
	"MAX_BPF_STACK",
};

/* A refusal: VFM_ETOOBIG, a documented limit, and a pc of the program in
 * both the message ("at pc N") and diag.pc. */
static void check_refusal(const struct vfm_program *prog, const char *target, vfm_error_t err,
			  const vfm_diag_t *diag)
{
	CHECK(err == VFM_ETOOBIG, "%s: vfm_compile_ebpf: %s: %s", target, vfm_error_name(err),
	      diag->message);
	bool named = false;
	for (size_t k = 0; k < sizeof documented_limits / sizeof documented_limits[0]; k++)
		named = named || strstr(diag->message, documented_limits[k]) != NULL;
	CHECK(named, "%s: the refusal names no documented limit: %s", target, diag->message);
	const char *at = strstr(diag->message, " at pc ");
	CHECK(at, "%s: the refusal names no pc: %s", target, diag->message);
	unsigned long pc = strtoul(at + 7, NULL, 10);
	bool is_pc = false;
	for (uint32_t i = 0; i < prog->n_insns && !is_pc; i++)
		is_pc = prog->pc_of[i] == pc;
	CHECK(is_pc && diag->pc == (int64_t)pc, "%s: pc %lu (diag %lld) is no instruction's: %s",
	      target, pc, (long long)diag->pc, diag->message);
}

static bool is_ld_imm64(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW);
}

/* The function (main program or subprogram) slot s belongs to: [lo, hi). */
static void function_of(const struct vfm_ebpf_prog *p, uint32_t s, uint32_t *lo, uint32_t *hi)
{
	*lo = 0;
	*hi = p->n_insns;
	for (uint32_t f = 0; f < p->n_subprogs; f++) {
		uint32_t start = p->subprog_start[f];
		uint32_t end = f + 1 < p->n_subprogs ? p->subprog_start[f + 1] : p->n_insns;
		if (s < start && *hi > start)
			*hi = start;
		if (s >= start && s < end) {
			*lo = start;
			*hi = end;
		}
	}
}

/* What the kernel's verifier checks first (check_subprogs, check_cfg,
 * the LD_IMM64 and register rules), on our output. */
static void check_output(const char *target, enum vfm_ebpf_target t,
			 const struct vfm_ebpf_prog *p)
{
	CHECK(p->n_insns > 0 && p->n_insns <= VFM_EBPF_MAX_INSNS, "%s: %u instructions", target,
	      p->n_insns);
	CHECK(p->stack_bytes <= VFM_EBPF_MAX_STACK, "%s: a %u-byte stack frame", target,
	      p->stack_bytes);
	uint32_t want_type = t == VFM_EBPF_XDP	  ? BPF_PROG_TYPE_XDP
			     : t == VFM_EBPF_SOCKET ? BPF_PROG_TYPE_SOCKET_FILTER
						    : BPF_PROG_TYPE_SCHED_CLS;
	CHECK(p->prog_type == want_type, "%s: program type %u", target, p->prog_type);
	uint8_t *second = calloc(p->n_insns, 1); /* second slots of LD_IMM64 */
	CHECK(second, "out of memory");
	for (uint32_t s = 0; s < p->n_insns; s++) {
		if (is_ld_imm64(&p->insns[s])) {
			CHECK(s + 1 < p->n_insns && p->insns[s + 1].code == 0,
			      "%s: slot %u: LD_IMM64 without its second slot", target, s);
			second[++s] = 1;
		}
	}
	for (uint32_t s = 0; s < p->n_insns; s++) {
		const struct bpf_insn *in = &p->insns[s];
		char text[160];
		CHECK(vfm_ebpf_format_insn(p->insns, p->n_insns, s, text, sizeof text) > 0,
		      "%s: slot %u does not list", target, s);
		if (second[s])
			continue;
		CHECK(in->dst_reg <= BPF_REG_10 && in->src_reg <= BPF_REG_10,
		      "%s: slot %u (%s): register out of range", target, s, text);
		uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		if (cls != BPF_JMP && cls != BPF_JMP32)
			continue;
		uint32_t lo, hi;
		function_of(p, s, &lo, &hi);
		if (op == BPF_EXIT)
			continue;
		if (op == BPF_CALL) {
			if (in->src_reg != BPF_PSEUDO_CALL)
				continue; /* a helper */
			int64_t to = (int64_t)s + 1 + in->imm;
			bool start = false;
			for (uint32_t f = 0; f < p->n_subprogs; f++)
				start = start || to == p->subprog_start[f];
			CHECK(start, "%s: slot %u (%s): call to %lld, no subprogram", target, s, text,
			      (long long)to);
			continue;
		}
		int64_t to = (int64_t)s + 1 + in->off;
		CHECK(to >= lo && to < hi && !second[to],
		      "%s: slot %u (%s): jump to %lld, outside [%u, %u) or into an LD_IMM64", target,
		      s, text, (long long)to, lo, hi);
	}
	/* No function falls off its end. */
	for (uint32_t f = 0; f <= p->n_subprogs; f++) {
		uint32_t end = f < p->n_subprogs ? p->subprog_start[f] : p->n_insns;
		CHECK(end > 0 && !second[end - 1], "%s: function ending at %u", target, end);
		const struct bpf_insn *last = &p->insns[end - 1];
		CHECK(last->code == (BPF_JMP | BPF_EXIT) || last->code == (BPF_JMP | BPF_JA),
		      "%s: the function ending at slot %u falls through", target, end);
	}
	for (uint32_t m = 0; m < p->n_maps; m++)
		for (uint32_t r = 0; r < p->maps[m].n_refs; r++) {
			uint32_t s = p->maps[m].refs[r];
			CHECK(s < p->n_insns && is_ld_imm64(&p->insns[s]) &&
				      p->insns[s].src_reg == BPF_PSEUDO_MAP_FD,
			      "%s: map %u reference %u at slot %u is no map load", target, m, r, s);
		}
	free(second);
}

/* The kernel: every attach point loaded (kengine), the first packets on
 * it against the interpreter. */
static void run_kernel(vfm_program_t *prog, const struct kengine_config *kcfg,
		       const struct fuzz_frame *fr)
{
	struct kengine kern;
	if (!kernel_load(prog, kcfg, &kern))
		return;
	n_kernel++;
	vfm_config_t cfg = {.flow_capacity = kcfg->flow_capacity, .budget = kcfg->budget,
			    .budget_set = 1};
	vfm_state_t *vm = vfm_create_with(&cfg, NULL);
	CHECK(vm && vfm_attach_program(vm, prog) == VFM_OK, "interpreter VM");
	struct fuzz_packets ps;
	CHECK(fuzz_cut_packets(&ps, fr->pkts, fr->pkts_len, 0, FUZZ_EMPTY_NULL) == 0,
	      "out of memory");
	bool all_ran = true;
	for (size_t i = 0; i < ps.n && i < KERNEL_PACKETS && all_ran; i++) {
		vfm_result_t ri, rk;
		vfm_diag_t kd;
		CHECK(vfm_execute_ex(vm, &ps.pkt[i], &ri) == VFM_OK, "execute_ex failed");
		vfm_error_t err = kengine_run(&kern, &ps.pkt[i], &rk, &kd);
		if (err == VFM_EUNSUPPORTED) {
			all_ran = false; /* TEST_RUN cannot take it: stop comparing tables */
			break;
		}
		CHECK(err == VFM_OK, "packet %zu: kernel: %s", i, kd.message);
		CHECK(ri.verdict == rk.verdict && ri.status == rk.status,
		      "packet %zu: interpreter %u/%s, kernel %u/%s", i, ri.verdict,
		      vfm_status_name(ri.status), rk.verdict, vfm_status_name(rk.status));
	}
	if (all_ran) {
		vfm_diag_t kd;
		CHECK(kengine_flow_check(&kern, vm, &kd) == VFM_OK, "kernel: %s", kd.message);
	}
	fuzz_free_packets(&ps);
	vfm_destroy(vm);
	kengine_close(&kern);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_frame fr;
	fuzz_frame_split(data, size, 0xFFFFu, &fr);
	n_inputs++;
	char *text = NULL;
	int rc = progen_from_bytes(fr.prog, fr.prog_len, &text);
	if (rc == PROGEN_ENOMEM)
		return 0;
	CHECK(rc == PROGEN_OK && text, "progen_from_bytes: %s", progen_strerror(rc));
	uint8_t *image = NULL;
	size_t len = 0;
	vfm_diag_t diag;
	vfm_program_t *prog = NULL;
	vfm_error_t err = progen_assemble(text, &image, &len, &diag);
	if (err == VFM_OK)
		err = vfm_program_create(image, len, &prog, &diag);
	if (err == VFM_ENOMEM) {
		free(image);
		free(text);
		return 0;
	}
	CHECK(err == VFM_OK, "a generated program fails to load: %s: %s\n%s", vfm_error_name(err),
	      diag.message, text);

	struct kengine_config kcfg = {
		.budget = budgets[fr.flags & 7u],
		.flow_capacity = capacities[(fr.flags >> 3) & 3u],
		.helper_loads = (fr.flags >> 5) & 1u,
	};
	for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
		struct vfm_ebpf_options opt;
		vfm_ebpf_options_init(&opt, targets[k]);
		opt.budget = kcfg.budget;
		opt.flow_capacity = kcfg.flow_capacity;
		opt.helper_loads = kcfg.helper_loads;
		opt.packet_offset = (fr.flags >> 6) & 1u ? 14 : 0;
		struct vfm_ebpf_prog out;
		err = vfm_compile_ebpf(prog, &opt, &out, &diag);
		if (err == VFM_ENOMEM)
			continue;
		if (err != VFM_OK) {
			check_refusal(prog, target_names[k], err, &diag);
			n_refused++;
			continue;
		}
		check_output(target_names[k], targets[k], &out);
		n_compiled++;
		vfm_ebpf_prog_free(&out);
	}
	if (kernel_wanted())
		run_kernel(prog, &kcfg, &fr);
	vfm_program_release(prog);
	free(image);
	free(text);
	return 0;
}

/* Structural edits of the program part, as fuzz_diff's (fuzz/frame_mutator.h):
 * a mutant stays a program the verifier accepts, so every mutation tests the
 * back end rather than the generator's decoder. */
#include "frame_mutator.h"
