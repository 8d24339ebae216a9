/*
 * tests/test_ebpf.c — the eBPF back end (ebpf/) against the interpreter:
 * generated programs (testkit/progen) compiled to eBPF, loaded into this
 * machine's kernel and run on generated traffic (testkit/pktgen) through
 * BPF_PROG_TEST_RUN; verdict and status must equal the interpreter's on
 * every packet.  Also the compiler's refusals (unsupported opcodes, kernel
 * limits) and `vfm-compile`.  Without bpf() (no privilege) the kernel
 * parts skip, saying why.  (The semantic table in test_semantics.c runs on
 * the kernel engines too.)
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/bpf.h>

#include "../ebpf/ebpf.h"
#include "../ebpf/insn.h"
#include "kengine.h"
#include "pktgen.h"
#include "progen.h"
#include "test_support.h"

/* The same under ASan: the time is the kernel's (verifying, running). */
#define N_PROGRAMS 100
#define PKTS_PER_PROGRAM 24
#define BUDGET 200
#define FLOW_CAPACITY 16 /* small: sets fill and evict */

static void require_kernel(void)
{
	char why[320];
	if (!kengine_available(why, sizeof why)) {
		print_message("kernel engine skipped: %s\n", why);
		skip();
	}
}

/* Refusals name the limit and the pc; no kernel needed. */
static void test_compiler_refusals(void **state)
{
	(void)state;
	/* 70 words deep: over the 512-byte BPF stack, named with its pc. */
	char src[1024], *p = src;
	for (int i = 0; i < 70; i++)
		p += sprintf(p, "PUSH 1\n");
	for (int i = 0; i < 69; i++)
		p += sprintf(p, "ADD\n");
	sprintf(p, "RET\n");
	vfm_program_t *prog = ts_program_from_asm(src);
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_RAW);
	struct vfm_ebpf_prog ep;
	vfm_diag_t diag;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_ETOOBIG);
	if (!strstr(diag.message, "512-byte limit (MAX_BPF_STACK) at pc 621"))
		fail_msg("message '%s' lacks the limit and pc", diag.message);
	vfm_program_release(prog);
	/* 59 deep fits alone (8 + 56 * 8 = 456 bytes), not with the HASH5
	 * subprogram's 64-byte frame on top (480 + 64). */
	p = src;
	p += sprintf(p, "HASH5\nPOP\n");
	for (int i = 0; i < 59; i++)
		p += sprintf(p, "PUSH 1\n");
	for (int i = 0; i < 58; i++)
		p += sprintf(p, "ADD\n");
	sprintf(p, "RET\n");
	prog = ts_program_from_asm(src);
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_ETOOBIG);
	if (!strstr(diag.message, "with the HASH5 subprogram's") || !strstr(diag.message, "at pc"))
		fail_msg("message '%s' lacks the subprogram's frame or the pc", diag.message);
	vfm_program_release(prog);
	/* A flow capacity that is not a power of two. */
	prog = ts_program_from_asm("PUSH 1\nFLOW_LOAD\nRET");
	opt.flow_capacity = 12;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_EINVAL);
	assert_non_null(strstr(diag.message, "flow capacity 12"));
	opt.target = (enum vfm_ebpf_target)99;
	opt.flow_capacity = 0;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_EINVAL);
	vfm_program_release(prog);
}

/* A kernel refusal for a documented limit names the limit and the VFM pc
 * (a loop the budget ends: the kernel's verifier walks all 65536
 * iterations, past its 1M processed instructions). */
static void test_kernel_limit_message(void **state)
{
	(void)state;
	require_kernel();
	char src[512], *p = src;
	p += sprintf(p, "loop:\nLEN\nPUSH 100000\nJGT out\n");
	for (int i = 0; i < 12; i++)
		p += sprintf(p, "PUSH %d\nSTM 1\n", i);
	sprintf(p, "JMP loop\nout:\nRET 1\n");
	vfm_program_t *prog = ts_program_from_asm(src);
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_RAW);
	struct vfm_ebpf_prog ep;
	vfm_diag_t diag;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_OK);
	int fd;
	vfm_error_t err = vfm_ebpf_kernel_load(&ep, &fd, NULL, 0, &diag);
	if (err == VFM_OK)
		vfm_ebpf_kernel_close(fd);
	print_message("kernel refusal: %s\n", diag.message);
	assert_int_equal(err, VFM_ETOOBIG);
	assert_non_null(strstr(diag.message, "BPF_COMPLEXITY_LIMIT"));
	assert_non_null(strstr(diag.message, " at pc "));
	assert_true(diag.pc >= 0);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
}

/* The map description an ELF writer and the loader use: each ref is an
 * LD_IMM64 of the map (BPF_PSEUDO_MAP_FD); binding fills in the fd; a
 * program whose map is not bound is refused before bpf(). */
static void test_flow_map_description(void **state)
{
	(void)state;
	vfm_program_t *prog = ts_program_from_asm(
		"PUSH 7\nFLOW_LOAD\nPUSH 1\nADD\nPUSH 7\nSWAP\nFLOW_STORE\nHASH5\nRET");
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_TC);
	opt.flow_capacity = 64;
	struct vfm_ebpf_prog ep;
	vfm_diag_t diag;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_OK);
	assert_int_equal(ep.n_maps, 1);
	const struct vfm_ebpf_map *m = &ep.maps[0];
	assert_string_equal(m->name, "vfm_flow");
	assert_int_equal(m->type, BPF_MAP_TYPE_ARRAY);
	assert_int_equal(m->key_size, 4);
	assert_int_equal(m->value_size, 72);
	assert_int_equal(m->max_entries, 64 / 4 + 1);
	assert_int_equal(m->n_refs, 3); /* the counters, FLOW_LOAD, FLOW_STORE */
	for (uint32_t r = 0; r < m->n_refs; r++) {
		const struct bpf_insn *in = &ep.insns[m->refs[r]];
		assert_int_equal(in->code, BPF_LD | BPF_IMM | BPF_DW);
		assert_int_equal(in->src_reg, BPF_PSEUDO_MAP_FD);
		assert_int_equal(in->imm, -1);
	}
	assert_int_equal(ep.n_subprogs, 1);
	assert_true(ep.subprog_start[0] > m->refs[m->n_refs - 1]);
	int fd;
	assert_int_equal(vfm_ebpf_kernel_load(&ep, &fd, NULL, 0, &diag), VFM_EINVAL);
	assert_non_null(strstr(diag.message, "vfm_flow is not bound"));
	assert_int_equal(vfm_ebpf_prog_bind_map(&ep, 1, 3, &diag), VFM_EINVAL);
	assert_int_equal(vfm_ebpf_prog_bind_map(&ep, 0, 5, &diag), VFM_OK);
	for (uint32_t r = 0; r < m->n_refs; r++)
		assert_int_equal(ep.insns[m->refs[r]].imm, 5);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
	/* No flow ops, no map. */
	prog = ts_program_from_asm("HASH5\nRET");
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_OK);
	assert_int_equal(ep.n_maps, 0);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
}

struct tally {
	unsigned accepted, refused_stack, refused_complexity, mismatches, flow_programs;
	unsigned packets, statuses[VFM_STATUS_COUNT], flow_entries;
};

static void diff_program(const char *src, const vfm_packet_t *pkts, size_t n, int p,
			 bool helper_loads, struct tally *t)
{
	vfm_program_t *prog = ts_program_from_asm(src);
	struct kengine_config kcfg = {.budget = BUDGET, .helper_loads = helper_loads,
				      .flow_capacity = FLOW_CAPACITY};
	struct kengine_diff d;
	kengine_diff(prog, &kcfg, pkts, n, &d);
	vfm_program_release(prog);
	switch (d.outcome) {
	case KENGINE_SAME:
		break;
	case KENGINE_COMPILE_REFUSED:
		/* The documented limit: HASH5's subprogram frame on top of a
		 * deep stack over 512 bytes. */
		if (d.err == VFM_ETOOBIG && strstr(d.diag.message, "MAX_BPF_STACK")) {
			t->refused_stack++;
			return;
		}
		fail_msg("program %d: the eBPF compiler refused it: %s\n%s", p, d.diag.message, src);
		break;
	case KENGINE_KERNEL_REFUSED:
		/* The documented limit (docs/EBPF.md): the kernel's verifier
		 * walks every iteration of a loop the budget ends, and a
		 * program whose paths exceed its 1,000,000 processed
		 * instructions, or 8192 jumps in one path's history
		 * (BPF_COMPLEXITY_LIMIT_JMP_SEQ), is refused. */
		if (strstr(kengine_log(), "BPF program is too large") ||
		    strstr(kengine_log(), "jumps is too complex")) {
			t->refused_complexity++;
			return;
		}
		fail_msg("program %d: the kernel refused it: %s\n%s\n%s", p, d.diag.message, src,
			 kengine_log());
		break;
	case KENGINE_MISMATCH:
		t->mismatches++;
		fail_msg("program %d%s: %s\n%s", p, helper_loads ? " with helper loads" : "",
			 d.diag.message, src);
		break;
	case KENGINE_FAILED:
		fail_msg("program %d: %s\n%s", p, d.diag.message, src);
		break;
	}
	t->accepted++;
	t->packets += d.packets;
	for (int s = 0; s < VFM_STATUS_COUNT; s++)
		t->statuses[s] += d.statuses[s];
	if (!helper_loads && strstr(src, "FLOW_")) {
		t->flow_programs++;
		t->flow_entries += d.flow_entries;
	}
}

static void test_differential_generated(void **state)
{
	(void)state;
	require_kernel();
	struct pktgen_config pcfg = {.seed = 11, .count = 4096};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&pcfg, &set), 0);
	struct progen_config cfg;
	progen_config_init(&cfg); /* every statement kind, flow ops included */
	cfg.max_stack = 40;
	struct tally t = {0};
	unsigned helper_programs = 0, generated = 0;
	vfm_packet_t pkts[PKTS_PER_PROGRAM];
	for (uint64_t seed = 5000; t.accepted < N_PROGRAMS && generated < 4 * N_PROGRAMS; seed++) {
		cfg.target_insns = 8u + (unsigned)(generated % 7) * 24u;
		generated++;
		char *src;
		assert_int_equal(progen_generate(&cfg, seed, &src), 0);
		for (int i = 0; i < PKTS_PER_PROGRAM; i++) {
			const struct pktgen_packet *pk =
				&set.pkts[((size_t)generated * 31u + (size_t)i * 17u) % set.count];
			/* Every third packet claims a longer wire length (WLEN). */
			pkts[i] = (vfm_packet_t){.data = pk->data, .len = pk->len, .ts_ns = pk->ts_ns,
						 .wire_len = i % 3 ? 0 : pk->len + 100};
		}
		unsigned before = t.accepted;
		diff_program(src, pkts, PKTS_PER_PROGRAM, (int)generated, false, &t);
		/* Every fourth program also with every read through the helper. */
		if (t.accepted > before && t.accepted % 4 == 0) {
			diff_program(src, pkts, PKTS_PER_PROGRAM, (int)generated, true, &t);
			t.accepted--; /* the same program: counted once */
			helper_programs++;
		}
		free(src);
	}
	print_message("%u generated programs: kernel accepted %u (%u of them also with helper "
		      "loads; %u with flow ops, %u flow entries compared at the end), refused by "
		      "the compiler's stack limit (HASH5 frame) %u, by the kernel verifier's "
		      "complexity limits %u; %u packets: OK %u, BOUNDS %u, BUDGET %u; "
		      "mismatches %u\n",
		      generated, t.accepted, helper_programs, t.flow_programs, t.flow_entries,
		      t.refused_stack, t.refused_complexity, t.packets, t.statuses[VFM_STATUS_OK],
		      t.statuses[VFM_STATUS_BOUNDS], t.statuses[VFM_STATUS_BUDGET], t.mismatches);
	pktgen_free(&set);
	assert_int_equal(t.mismatches, 0);
	/* The comparison must have exercised every outcome and the table. */
	assert_int_equal(t.accepted, N_PROGRAMS);
	assert_true(t.statuses[VFM_STATUS_OK] && t.statuses[VFM_STATUS_BOUNDS] &&
		    t.statuses[VFM_STATUS_BUDGET]);
	assert_true(t.flow_programs > N_PROGRAMS / 10 && t.flow_entries > 0);
}

/* XDP multi-buffer: what the kernel puts in the linear part of a jumbo
 * frame under TEST_RUN (a hand-written program returning data_end -
 * data), then VFM programs on frames up to 9000 bytes against the
 * interpreter: action = verdict != 0, and the flow map's entries. */
static int collect_kv(uint64_t key, uint64_t value, void *arg)
{
	uint64_t *a = arg;
	if (a[0] < 64) {
		a[1 + 2 * a[0]] = key;
		a[2 + 2 * a[0]] = value;
	}
	a[0]++;
	return 0;
}

static void test_xdp_jumbo_frames(void **state)
{
	(void)state;
	require_kernel();
	static uint8_t frame[9000];
	uint64_t rng = 0x9E3779B97F4A7C15u;
	for (size_t i = 0; i < sizeof frame; i++) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		frame[i] = (uint8_t)(rng >> 56);
	}
	/* Ethernet + IPv4 (IHL 5) + TCP ports 0x1234 -> 0x0050 */
	static const uint8_t hdr[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
				      0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1,
				      192, 168, 1, 2, 0x12, 0x34, 0x00, 0x50};
	memcpy(frame, hdr, sizeof hdr);

	struct bpf_insn lin[] = {
		ebpf_ldx_mem(BPF_W, R2, R1, offsetof(struct xdp_md, data)),
		ebpf_ldx_mem(BPF_W, R3, R1, offsetof(struct xdp_md, data_end)),
		ebpf_mov64_reg(R0, R3),
		ebpf_alu64_reg(BPF_SUB, R0, R2),
		ebpf_exit(),
	};
	struct vfm_ebpf_prog raw = {.insns = lin, .n_insns = 5, .prog_type = BPF_PROG_TYPE_XDP,
				    .prog_flags = BPF_F_XDP_HAS_FRAGS};
	int fd;
	vfm_diag_t diag;
	if (vfm_ebpf_kernel_load(&raw, &fd, NULL, 0, &diag) != VFM_OK)
		fail_msg("linear-length probe: %s", diag.message);
	uint32_t linear;
	assert_int_equal(vfm_ebpf_kernel_run_xdp(fd, frame, 8954, &linear, &diag), VFM_OK);
	vfm_ebpf_kernel_close(fd);
	print_message("XDP TEST_RUN of an 8954-byte frame: data_end - data = %u\n", linear);
	assert_true(linear < 8954);

	static const char *const progs[] = {
		"LEN\nPUSH 8000\nJGT big\nRET 0\nbig:\nRET 1",  /* LEN is the whole frame */
		"LEN\nRET",
		"LEN\nPUSH 1\nSUB\nLD8X 0\nRET",                 /* the last byte */
		"LD16 3519\nRET",                                /* across the linear end */
		"LD32 5000\nRET",
		"LD64 8990\nRET",                                /* BOUNDS below 8998 */
		"PUSH 4000\nLD64X 100\nPUSH 0xFF\nAND\nRET",
		"HASH5\nDUP\nPUSH 1\nFLOW_STORE\nFLOW_LOAD\nRET", /* HASH5 in a jumbo frame */
		"LD8 7000\nDUP\nFLOW_LOAD\nPUSH 1\nADD\nFLOW_STORE\nRET 1",
	};
	static const uint32_t sizes[] = {60, 1514, 3519, 3520, 3521, 4000, 5004, 7001, 8000,
					 8001, 8954, 8997, 8998, 9000};
	unsigned runs = 0, passes = 0;
	for (size_t p = 0; p < sizeof progs / sizeof progs[0]; p++) {
		vfm_program_t *prog = ts_program_from_asm(progs[p]);
		struct vfm_ebpf_options opt;
		vfm_ebpf_options_init(&opt, VFM_EBPF_XDP);
		opt.flow_capacity = 64;
		struct vfm_ebpf_prog ep;
		if (vfm_compile_ebpf(prog, &opt, &ep, &diag) != VFM_OK)
			fail_msg("%s: %s", progs[p], diag.message);
		int map_fd = -1;
		if (ep.n_maps) {
			assert_int_equal(vfm_ebpf_map_create(&ep.maps[0], &map_fd, &diag), VFM_OK);
			assert_int_equal(vfm_ebpf_prog_bind_map(&ep, 0, map_fd, &diag), VFM_OK);
		}
		if (vfm_ebpf_kernel_load(&ep, &fd, NULL, 0, &diag) != VFM_OK)
			fail_msg("%s: %s", progs[p], diag.message);
		vfm_config_t vcfg = {.flow_capacity = 64};
		vfm_state_t *vm = vfm_create_with(&vcfg, NULL);
		assert_non_null(vm);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
			vfm_packet_t pkt = {.data = frame, .len = sizes[z]};
			vfm_result_t r;
			uint32_t action;
			assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
			if (vfm_ebpf_kernel_run_xdp(fd, frame, sizes[z], &action, &diag) != VFM_OK)
				fail_msg("%s, %u bytes: %s", progs[p], sizes[z], diag.message);
			if (action != (r.verdict ? XDP_PASS : XDP_DROP))
				fail_msg("%s, %u-byte frame: XDP action %u, interpreter verdict %u (%s)",
					 progs[p], sizes[z], action, r.verdict,
					 vfm_status_name(r.status));
			runs++;
			passes += action == XDP_PASS;
		}
		if (map_fd >= 0) {
			uint64_t want[129] = {0}, got[129] = {0};
			vfm_flow_foreach(vm, collect_kv, want);
			assert_int_equal(vfm_ebpf_flow_read(map_fd, &ep.maps[0], collect_kv, got, NULL,
							    &diag), VFM_OK);
			assert_true(want[0] > 0);
			assert_memory_equal(want, got, sizeof want);
			vfm_ebpf_kernel_close(map_fd);
		}
		vfm_destroy(vm);
		vfm_ebpf_kernel_close(fd);
		vfm_ebpf_prog_free(&ep);
		vfm_program_release(prog);
	}
	print_message("jumbo XDP frames: %u runs, %u passed, all equal to the interpreter\n", runs,
		      passes);
	assert_true(passes > 0 && passes < runs);
}

/* A socket filter returns the verdict itself; under TEST_RUN this
 * kernel starts its packet after the Ethernet header (kengine adapts). */
static void test_socket_filter(void **state)
{
	(void)state;
	require_kernel();
	vfm_diag_t diag;
	int skips = kengine_socket_skips(&diag);
	if (skips < 0)
		fail_msg("socket filter probe: %s", diag.message);
	print_message("SOCKET_FILTER under BPF_PROG_TEST_RUN: the first %d bytes of the frame "
		      "are hidden (%s)\n", skips, skips ? "it starts at the IP header" : "whole frame");
	vfm_program_t *prog = ts_program_from_asm("LD8 0\nPUSH 256\nMUL\nLEN\nOR\nRET");
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_SOCKET);
	struct vfm_ebpf_prog ep;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_OK);
	assert_int_equal(ep.prog_type, BPF_PROG_TYPE_SOCKET_FILTER);
	int fd;
	if (vfm_ebpf_kernel_load(&ep, &fd, NULL, 0, &diag) != VFM_OK)
		fail_msg("%s", diag.message);
	uint8_t frame[60] = {0};
	frame[0] = 0xAA;
	frame[14] = 0x45;
	uint32_t ret, cb0;
	assert_int_equal(vfm_ebpf_kernel_run(fd, frame, sizeof frame, 0, 0, &ret, &cb0, &diag), VFM_OK);
	/* byte 0 * 256 | LEN, of what the filter sees */
	uint32_t want = skips ? 0x45u * 256 | (60 - 14) : 0xAAu * 256 | 60;
	assert_int_equal(ret, want);
	vfm_ebpf_kernel_close(fd);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
}

/* vfm-compile: the listing, the ELF target that is not there yet, --help. */
static void test_vfm_compile_tool(void **state)
{
	(void)state;
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s examples/quickstart.vfm -o build/test_ebpf_quickstart.bin",
		 ts_tool("vfm-asm"));
	assert_int_equal(ts_run(cmd, &out), 0);
	free(out);
	snprintf(cmd, sizeof cmd, "%s --target=ebpf-raw build/test_ebpf_quickstart.bin",
		 ts_tool("vfm-compile"));
	assert_int_equal(ts_run(cmd, &out), 0);
	/* Each VFM instruction's code under its pc; the exits at the end. */
	if (!strstr(out, "; pc 0: LD16 12\n") || !strstr(out, "r6 = r1\n") ||
	    !strstr(out, "= be16 r7\n") || !strstr(out, "call 26\n") || !strstr(out, "exit\n"))
		fail_msg("unexpected listing:\n%s", out);
	free(out);
	/* XDP: the length from bpf_xdp_get_buff_len, no skb_load_bytes. */
	snprintf(cmd, sizeof cmd, "%s --target=ebpf-raw --return=xdp build/test_ebpf_quickstart.bin",
		 ts_tool("vfm-compile"));
	assert_int_equal(ts_run(cmd, &out), 0);
	if (!strstr(out, "call 188\n") || strstr(out, "call 26\n"))
		fail_msg("unexpected XDP listing:\n%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s --target=ebpf build/test_ebpf_quickstart.bin",
		 ts_tool("vfm-compile"));
	assert_int_equal(ts_run(cmd, &out), 1);
	if (!strstr(out, "not implemented yet"))
		fail_msg("--target=ebpf should say it is not implemented:\n%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s --target=bogus build/test_ebpf_quickstart.bin",
		 ts_tool("vfm-compile"));
	assert_int_equal(ts_run(cmd, &out), 2);
	free(out);
	snprintf(cmd, sizeof cmd, "%s --help", ts_tool("vfm-compile"));
	assert_int_equal(ts_run(cmd, &out), 0);
	assert_non_null(strstr(out, "--target"));
	free(out);
	remove("build/test_ebpf_quickstart.bin");
}

/* Guard hoisting (verifier/hoist.c): one data_end check per region and a
 * checked copy for packets it refuses.  Filters with hoisted regions, each
 * on three frames cut to every length 0..128, against the interpreter on
 * every program kengine loads (raw at offsets 0 and 14, tc, XDP, socket):
 * verdict, status and the flow table, whichever copy ran. */
static const char *const hoisted_srcs[] = {
	/* F1 of the bench */
	"	LD16 12\n	PUSH 0x0800\n	JNE drop\n	LD8 23\n	PUSH 6\n	JNE drop\n"
	"	LD16 36\n	PUSH 80\n	JNE drop\n	RET 1\ndrop:\n	RET 0\n",
	/* a flow store before the region's farthest load: short packets end
	 * with BOUNDS after the store, on the checked copy */
	"	LD8 14\n	LD16 12\n	ADD\n	DUP\n	PUSH 7\n	FLOW_STORE\n	LD32 60\n"
	"	ADD\n	PUSH 3\n	FLOW_LOAD\n	ADD\n	RET\n",
	/* a backward Jcc inside a region: its fall-through stays in the copy
	 * that took it */
	"	PUSH 0\n	STM 0\nloop:\n	LD8 20\n	LD8 30\n	ADD\n	LDM 0\n	ADD\n	STM 0\n"
	"	LDM 0\n	PUSH 0x300\n	JLT loop\n"
	"	LD16 40\n	LD16 50\n	ADD\n	LDM 0\n	ADD\n	RET\n",
	/* two regions, the second entered by a jump */
	"	LD16 12\n	LD8 14\n	ADD\n	PUSH 0x900\n	JGT far\n	LD32 26\n	LD32 30\n	XOR\n	RET\n"
	"far:\n	LD64 40\n	LD8 90\n	OR\n	RET\n",
};

static void test_hoisted_every_length(void **state)
{
	(void)state;
	require_kernel();
	struct pktgen_config pcfg = {.seed = 3, .count = 512};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&pcfg, &set), 0);
	enum { MAX_LEN = 128, BASES = 3 };
	static vfm_packet_t pkts[BASES * (MAX_LEN + 1)];
	size_t n = 0;
	for (size_t p = 0, bases = 0; p < set.count && bases < BASES; p++) {
		if (set.pkts[p].len < MAX_LEN)
			continue;
		for (uint32_t len = 0; len <= MAX_LEN; len++)
			pkts[n++] = (vfm_packet_t){.data = set.pkts[p].data, .len = len};
		bases++;
	}
	assert_int_equal(n, BASES * (MAX_LEN + 1));
	unsigned regions = 0, runs = 0;
	for (size_t f = 0; f < sizeof hoisted_srcs / sizeof *hoisted_srcs; f++) {
		vfm_program_t *prog = ts_program_from_asm(hoisted_srcs[f]);
		struct vfm_ebpf_options opt;
		vfm_ebpf_options_init(&opt, VFM_EBPF_TC);
		struct vfm_ebpf_prog ep;
		vfm_diag_t diag;
		assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &diag), VFM_OK);
		if (!ep.n_hoisted)
			fail_msg("filter %zu: no hoisted region", f);
		regions += ep.n_hoisted;
		vfm_ebpf_prog_free(&ep);
		struct kengine_config kcfg = {.budget = BUDGET, .flow_capacity = FLOW_CAPACITY};
		struct kengine_diff d;
		kengine_diff(prog, &kcfg, pkts, n, &d);
		vfm_program_release(prog);
		if (d.outcome != KENGINE_SAME)
			fail_msg("filter %zu: outcome %d: %s\n%s\n%s", f, (int)d.outcome, d.diag.message,
				 hoisted_srcs[f], kengine_log());
		assert_true(d.statuses[VFM_STATUS_OK] && d.statuses[VFM_STATUS_BOUNDS]);
		runs += d.packets;
	}
	print_message("hoisted regions: %zu filters (%u regions) x %zu packets (lengths 0..%d): "
		      "%u equal to the interpreter\n",
		      sizeof hoisted_srcs / sizeof *hoisted_srcs, regions, n, MAX_LEN, runs);
	pktgen_free(&set);
}

/* The per-CPU flow map (vfm_ebpf_options.flow_per_cpu): the thread pinned
 * to one CPU, then to another, runs the same packets through a HASH5 +
 * flow-table filter each time; each CPU's table must equal a fresh
 * interpreter's after those packets, and the CPUs not run on stay empty. */
static const char per_cpu_src[] =
	"	HASH5\n	DUP\n	FLOW_LOAD\n	PUSH 1\n	ADD\n	FLOW_STORE\n"
	"	LD8 23\n	PUSH 6\n	JEQ tcp\n	RET 1\ntcp:\n	RET 0\n";

static void test_flow_per_cpu(void **state)
{
	(void)state;
	require_kernel();
	cpu_set_t allowed, one;
	assert_int_equal(sched_getaffinity(0, sizeof allowed, &allowed), 0);
	int cpus[2], n_cpus = 0;
	for (int c = 0; c < CPU_SETSIZE && n_cpus < 2; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[n_cpus++] = c;
	vfm_program_t *prog = ts_program_from_asm(per_cpu_src);
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_RAW);
	opt.flow_per_cpu = true;
	opt.flow_capacity = 256; /* sets fill and evict */
	struct vfm_ebpf_prog ep;
	vfm_diag_t d;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &d), VFM_OK);
	assert_int_equal(ep.maps[0].type, BPF_MAP_TYPE_PERCPU_ARRAY);
	int map_fd, fd;
	assert_int_equal(vfm_ebpf_map_create(&ep.maps[0], &map_fd, &d), VFM_OK);
	assert_int_equal(vfm_ebpf_prog_bind_map(&ep, 0, map_fd, &d), VFM_OK);
	if (vfm_ebpf_kernel_load(&ep, &fd, NULL, 0, &d) != VFM_OK)
		fail_msg("load: %s", d.message);
	/* One table is not per CPU, and the reverse. */
	assert_int_equal(vfm_ebpf_flow_read(map_fd, &ep.maps[0], NULL, NULL, NULL, &d), VFM_EINVAL);
	assert_non_null(strstr(d.message, "vfm_ebpf_flow_read_cpu"));
	unsigned possible = vfm_ebpf_possible_cpus();
	assert_true(possible >= (unsigned)n_cpus);
	assert_int_equal(vfm_ebpf_flow_read_cpu(map_fd, &ep.maps[0], possible, NULL, NULL, NULL, &d),
			 VFM_EINVAL);
	struct pktgen_config pcfg = {.seed = 23, .count = 400};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&pcfg, &set), 0);
	vfm_config_t vcfg = {.flow_capacity = 256};
	static struct ts_flow_list want, got;
	for (int k = 0; k < n_cpus; k++) {
		CPU_ZERO(&one);
		CPU_SET(cpus[k], &one);
		assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
		vfm_state_t *vm = vfm_create_with(&vcfg, &d);
		assert_non_null(vm);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		unsigned ran = 0;
		for (size_t p = 0; p < set.count; p++) {
			const struct pktgen_packet *pk = &set.pkts[p];
			uint32_t ret, cb0;
			if (vfm_ebpf_kernel_run(fd, pk->data, pk->len, 0, 0, &ret, &cb0, &d) != VFM_OK)
				continue; /* TEST_RUN refuses it (under 14 bytes, a cut IP header) */
			vfm_packet_t pkt = {.data = pk->data, .len = pk->len};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
			assert_int_equal(ret, r.verdict);
			assert_int_equal(cb0, r.status);
			ran++;
		}
		for (int j = 0; j <= k; j++) {
			want.n = got.n = 0;
			vfm_flow_foreach(vm, ts_collect_flow, &want);
			vfm_flow_stats_t ks, vs;
			assert_int_equal(vfm_ebpf_flow_read_cpu(map_fd, &ep.maps[0], (unsigned)cpus[j],
							       ts_collect_flow, &got, &ks, &d),
					 VFM_OK);
			assert_int_equal(vfm_flow_stats(vm, &vs), VFM_OK);
			/* Both CPUs ran the same packets from empty tables. */
			assert_true(want.n > 10 && want.n <= 1024);
			assert_int_equal(got.n, want.n);
			assert_memory_equal(got.kv, want.kv, 2 * sizeof(uint64_t) * want.n);
			assert_memory_equal(&ks, &vs, sizeof ks);
		}
		for (unsigned c = 0; c < possible; c++) {
			if ((int)c == cpus[0] || (n_cpus > 1 && (int)c == cpus[1] && k == 1))
				continue;
			vfm_flow_stats_t ks;
			assert_int_equal(vfm_ebpf_flow_read_cpu(map_fd, &ep.maps[0], c, NULL, NULL, &ks, &d),
					 VFM_OK);
			assert_int_equal(ks.entries + ks.hits + ks.misses, 0);
		}
		print_message("per-CPU flow map, CPU %d: %u packets equal, %u entries and the counters "
			      "equal the interpreter's, on this CPU's table and the earlier one's; "
			      "the tables of the %u possible CPUs not run on are empty\n",
			      cpus[k], ran, want.n, possible - (unsigned)(k + 1));
		vfm_destroy(vm);
	}
	assert_int_equal(sched_setaffinity(0, sizeof allowed, &allowed), 0);
	assert_int_equal(vfm_ebpf_flow_clear(map_fd, &ep.maps[0], &d), VFM_OK);
	vfm_flow_stats_t ks;
	assert_int_equal(vfm_ebpf_flow_read_cpu(map_fd, &ep.maps[0], (unsigned)cpus[0], NULL, NULL, &ks,
					       &d), VFM_OK);
	assert_int_equal(ks.entries, 0);
	pktgen_free(&set);
	vfm_ebpf_kernel_close(fd);
	vfm_ebpf_kernel_close(map_fd);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiler_refusals),
		cmocka_unit_test(test_flow_map_description),
		cmocka_unit_test(test_kernel_limit_message),
		cmocka_unit_test(test_xdp_jumbo_frames),
		cmocka_unit_test(test_socket_filter),
		cmocka_unit_test(test_vfm_compile_tool),
		cmocka_unit_test(test_hoisted_every_length),
		cmocka_unit_test(test_flow_per_cpu),
		cmocka_unit_test(test_differential_generated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
