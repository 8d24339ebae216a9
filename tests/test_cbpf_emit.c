/*
 * tests/test_cbpf_emit.c — `vfm-compile --target=cbpf` (ebpf/cbpf_emit.c):
 * VFM programs translated to classic BPF and run on libpcap's bpf_filter
 * and the kernel's checker.
 *
 * - The examples and bench filters that fit: cBPF on bpf_filter equals the
 *   interpreter's verdict on every generated packet; the tool prints the
 *   same program in -ddd form.
 * - Round trip: tcpdump expressions compiled by libpcap, translated to VFM
 *   (vm/cbpf.c) and back to cBPF, give bpf_filter the verdict of the
 *   original cBPF program on every packet.
 * - Every translation is attached with SO_ATTACH_FILTER (the kernel's
 *   checker; skipped if the socket cannot be made).
 * - Programs that do not fit are refused with the first instruction named.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/filter.h>
#include <pcap/pcap.h>

#include "../ebpf/cbpf_emit.h"
/* The generator only; its reference interpreter is test_cbpf's. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../fuzz/cbpf_gen.h"
#pragma GCC diagnostic pop
#include "pktgen.h"
#include "progen.h"
#include "test_support.h"

#define N_PACKETS 2000

static struct pktgen_set packets;
static char tmpdir[256];
static unsigned attached, attach_skipped;

static int group_setup(void **state)
{
	(void)state;
	struct pktgen_config cfg = {.seed = 7, .count = N_PACKETS};
	if (pktgen_generate(&cfg, &packets) != 0)
		return -1;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/vfm-cbpfemit-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	pktgen_free(&packets);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ts_run(cmd, &out);
	free(out);
	print_message("  SO_ATTACH_FILTER: %u programs accepted by the kernel, %u skipped\n",
		      attached, attach_skipped);
	return 0;
}

/* The kernel's classic-BPF checker: attach to a UDP socket. */
static void kernel_attach(const vfm_cbpf_insn_t *insns, size_t n, const char *what)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		attach_skipped++;
		return;
	}
	struct sock_fprog fp = {.len = (unsigned short)n, .filter = (struct sock_filter *)insns};
	int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
	int e = errno;
	close(fd);
	if (rc != 0 && (e == EPERM || e == ENOPROTOOPT)) {
		attach_skipped++;
		return;
	}
	if (rc != 0)
		fail_msg("%s: SO_ATTACH_FILTER refused the translation (%zu instructions): %s", what,
			 n, strerror(e));
	attached++;
}

static vfm_program_t *program_of(const uint8_t *img, size_t len, const char *what)
{
	vfm_program_t *prog;
	vfm_diag_t d;
	if (vfm_program_create(img, len, &prog, &d) != VFM_OK)
		fail_msg("%s: %s", what, d.message);
	return prog;
}

static void translate(const vfm_program_t *prog, vfm_cbpf_insn_t **insns, size_t *n,
		      const char *what)
{
	vfm_diag_t d;
	if (vfm_compile_cbpf(prog, insns, n, &d) != VFM_OK)
		fail_msg("%s: %s", what, d.message);
	kernel_attach(*insns, *n, what);
}

/* Examples and bench filters: cBPF on bpf_filter vs the interpreter.  The
 * packets run with wire length = captured length: LEN becomes `ld #len`,
 * the wire length (ebpf/cbpf_emit.c). */
static void test_vfm_filters(void **state)
{
	(void)state;
	static const char *const files[] = {
		"examples/quickstart.vfm", "examples/block_ssh_telnet.vfm",
		"examples/tcp_dst_port_80.vfm", "bench/filters/f1.vfm", "bench/filters/f2.vfm",
		"bench/filters/f3.vfm", "bench/filters/f4.vfm",
	};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		size_t len;
		char *src = ts_read_file(files[f], &len);
		uint8_t *img = ts_assemble(src, &len);
		free(src);
		vfm_program_t *prog = program_of(img, len, files[f]);
		vfm_cbpf_insn_t *insns;
		size_t n;
		translate(prog, &insns, &n, files[f]);
		vfm_diag_t d;
		vfm_state_t *vm = vfm_create_with(NULL, &d);
		assert_non_null(vm);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		unsigned accepted = 0;
		for (size_t i = 0; i < packets.count; i++) {
			const struct pktgen_packet *p = &packets.pkts[i];
			vfm_packet_t pkt = {.data = p->data, .len = p->len};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
			u_int got = bpf_filter((const struct bpf_insn *)insns, p->data, p->len, p->len);
			if (got != r.verdict)
				fail_msg("%s: packet %zu (%u bytes, %s): bpf_filter %u, VFM %u", files[f],
					 i, p->len, pktgen_kind_name(p->kind), got, r.verdict);
			accepted += got != 0;
		}
		print_message("  %s: %zu cBPF instructions, %zu packets agree (%u accepted)\n",
			      files[f], n, packets.count, accepted);
		/* the tool prints the same program, -ddd form */
		char bin[512], *out;
		snprintf(bin, sizeof bin, "%s/f.bin", tmpdir);
		FILE *fp = fopen(bin, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(img, 1, len, fp), len);
		assert_int_equal(fclose(fp), 0);
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "%s --target=cbpf %s", ts_tool("vfm-compile"), bin);
		assert_int_equal(ts_run(cmd, &out), 0);
		char *want = vfm_cbpf_format_ddd(insns, n);
		assert_string_equal(out, want);
		free(want);
		free(out);
		free(img);
		free(insns);
		vfm_destroy(vm);
		vfm_program_release(prog);
	}
}

/* tcpdump expressions: cBPF -> VFM -> cBPF, against the original. */
static void test_round_trip(void **state)
{
	(void)state;
	static const char *const exprs[] = {
		"tcp dst port 80",
		"ip and udp",
		"(tcp or udp) and (src net 10.0.0.0/8 or dst net 192.168.0.0/16) and not port 22 and greater 100",
		"vlan and ip",
		"icmp or arp",
		"ip[2:2] > 100",
		"tcp[tcpflags] & tcp-syn != 0",
		"ip6 and tcp",
		"len < 100",
		"ip[2:2] - 20 > 40",
		"ip[2:2] / 4 = 10 or ip[2:2] % 7 = 3",
		"ip[0] & 0xf << 2 > 20",
		"ip[8] * 3 + ip[9] > 200",
		"ether[12:2] >> 4 = 0x80",
		"udp and ip[6:2] & 0x1fff = 0 and udp[0:2] > 1000",
		"ip and ip[12:4] - ip[16:4] > 5",
	};
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 262144);
	assert_non_null(pc);
	unsigned total = 0;
	for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
		struct bpf_program fp;
		if (pcap_compile(pc, &fp, exprs[e], 1, PCAP_NETMASK_UNKNOWN) != 0)
			fail_msg("pcap_compile '%s': %s", exprs[e], pcap_geterr(pc));
		vfm_program_t *prog;
		vfm_diag_t d;
		if (vfm_program_from_cbpf((const vfm_cbpf_insn_t *)fp.bf_insns, fp.bf_len, NULL,
					  &prog, &d) != VFM_OK)
			fail_msg("'%s' to VFM: %s", exprs[e], d.message);
		vfm_cbpf_insn_t *insns;
		size_t n;
		translate(prog, &insns, &n, exprs[e]);
		for (size_t i = 0; i < packets.count; i++) {
			const struct pktgen_packet *p = &packets.pkts[i];
			u_int want = bpf_filter(fp.bf_insns, p->data, p->wire_len, p->len);
			u_int got = bpf_filter((const struct bpf_insn *)insns, p->data, p->wire_len,
					       p->len);
			if (got != want)
				fail_msg("'%s': packet %zu (%u of %u bytes): round trip %u, original %u",
					 exprs[e], i, p->len, p->wire_len, got, want);
		}
		print_message("  '%s': %u cBPF -> %u VFM -> %zu cBPF instructions\n", exprs[e],
			      fp.bf_len, vfm_program_insn_count(prog), n);
		total += (unsigned)packets.count;
		free(insns);
		vfm_program_release(prog);
		pcap_freecode(&fp);
	}
	pcap_close(pc);
	print_message("  round trip: %u packet runs agree with the original cBPF\n", total);
}

/* Refusals: the first instruction that does not fit, by pc and mnemonic. */
static void expect_refusal(const char *src, vfm_error_t code, const char *want)
{
	size_t len;
	uint8_t *img = ts_assemble(src, &len);
	vfm_program_t *prog = program_of(img, len, src);
	free(img);
	vfm_cbpf_insn_t *insns = (vfm_cbpf_insn_t *)1;
	size_t n = 1;
	vfm_diag_t d;
	assert_int_equal(vfm_compile_cbpf(prog, &insns, &n, &d), code);
	assert_null(insns);
	assert_int_equal(n, 0);
	if (!strstr(d.message, want))
		fail_msg("message '%s' lacks '%s'", d.message, want);
	vfm_program_release(prog);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refusal("\tLD8 0\n\tPOP\n\tTS\n\tRET\n", VFM_EUNSUPPORTED,
		       "cBPF: pc 6 (TS): cBPF has no packet timestamp");
	expect_refusal("\tHASH5\n\tRET\n", VFM_EUNSUPPORTED, "cBPF: pc 0 (HASH5)");
	expect_refusal("\tPUSH 1\n\tFLOW_LOAD\n\tRET\n", VFM_EUNSUPPORTED, "(FLOW_LOAD)");
	expect_refusal("\tLD64 0\n\tRET\n", VFM_EUNSUPPORTED, "pc 0 (LD64 0): a 64-bit load");
	expect_refusal("top:\n\tLD8 0\n\tPUSH 1\n\tJEQ top\n\tRET 1\n", VFM_EUNSUPPORTED,
		       "(JEQ ");
	expect_refusal("\tLD32 0\n\tLD32 4\n\tMUL\n\tPUSH 5\n\tJGT yes\n\tRET 0\nyes:\n\tRET 1\n",
		       VFM_EUNSUPPORTED, "(JGT ");
	expect_refusal("\tLD32 0\n\tLD32 4\n\tMUL\n\tPUSH 5\n\tJGT yes\n\tRET 0\nyes:\n\tRET 1\n",
		       VFM_EUNSUPPORTED, "the operand below the top may be 2^32 or more");
	expect_refusal("\tLD32 0\n\tLD8 4\n\tSHL\n\tPUSH 0xffffffff\n\tAND\n\tRET\n",
		       VFM_EUNSUPPORTED, "the shift count may be 255");
	expect_refusal("\tLD32 0\n\tPUSH 1\n\tADD\n\tRET\n", VFM_EUNSUPPORTED,
		       "the verdict may be 2^32 or more");
	expect_refusal("\tPUSH 0x100000000\n\tPUSH 1\n\tJEQ a\na:\n\tRET 0\n", VFM_EUNSUPPORTED,
		       "(JEQ ");
	/* 17 stack words: more than cBPF's 16 M[] words */
	char deep[512] = "";
	for (int i = 0; i < 17; i++)
		strcat(deep, "\tPUSH 1\n");
	for (int i = 0; i < 16; i++)
		strcat(deep, "\tADD\n");
	strcat(deep, "\tRET\n");
	expect_refusal(deep, VFM_EUNSUPPORTED, "more than cBPF's 16 M[] words");
	/* the tool: exit 1 and the message */
	char bin[512], cmd[1200], *out;
	size_t len;
	uint8_t *img = ts_assemble("\tTS\n\tRET\n", &len);
	snprintf(bin, sizeof bin, "%s/ts.bin", tmpdir);
	FILE *fp = fopen(bin, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(img, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(img);
	snprintf(cmd, sizeof cmd, "%s --target=cbpf %s", ts_tool("vfm-compile"), bin);
	assert_int_equal(ts_run(cmd, &out), 1);
	assert_non_null(strstr(out, "cBPF: pc 0 (TS): cBPF has no packet timestamp"));
	free(out);
}

/* What fits although a word may exceed 32 bits: modular operations whose
 * results only reach exact uses after a mask; DIV by a word that may be 0
 * (VFM's x/0 = 0, x%0 = x, not cBPF's "return 0"); a far branch. */
static void test_fits(void **state)
{
	(void)state;
	char far[40000] = "\tLD8 0\n\tPUSH 1\n\tJEQ end\n";
	for (int i = 0; i < 300; i++)
		strcat(far, "\tLD8 1\n\tPOP\n");
	strcat(far, "\tRET 5\nend:\n\tRET 9\n");
	const char *const srcs[] = {
		"\tLD32 0\n\tLD32 4\n\tMUL\n\tNOT\n\tPUSH 0xffffffff\n\tAND\n\tRET\n",
		"\tLD8 0\n\tLD8 1\n\tDIV\n\tLD8 2\n\tLD8 3\n\tMOD\n\tADD\n\tRET\n",
		"\tLD8 0\n\tPUSH 0\n\tDIV\n\tLD8 1\n\tPUSH 0\n\tMOD\n\tADD\n\tRET\n",
		/* an absolute offset of 2^31 or more: out of bounds, ret #0 */
		"\tLD32 0x90000000\n\tRET\n",
		"\tLD8 0\n\tPUSH 6\n\tJEQ a\n\tLD16 0x80000000\n\tPUSH 1\n\tADD\n\tRET\na:\n\tRET 3\n",
		"\tLD16 0\n\tDUP\n\tSTM 3\n\tLDM 5\n\tOVER\n\tSWAP\n\tSUB\n\tPUSH 0xffffffff\n\tAND\n"
		"\tLDM 3\n\tJLE a\n\tRET 1\na:\n\tLD8 2\n\tPUSH 3\n\tSHR\n\tRET\n",
		far,
	};
	for (size_t s = 0; s < sizeof srcs / sizeof srcs[0]; s++) {
		size_t len;
		uint8_t *img = ts_assemble(srcs[s], &len);
		vfm_program_t *prog = program_of(img, len, srcs[s]);
		free(img);
		vfm_cbpf_insn_t *insns;
		size_t n;
		translate(prog, &insns, &n, "fits");
		vfm_diag_t d;
		vfm_state_t *vm = vfm_create_with(NULL, &d);
		assert_non_null(vm);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		for (size_t i = 0; i < packets.count; i++) {
			const struct pktgen_packet *p = &packets.pkts[i];
			vfm_packet_t pkt = {.data = p->data, .len = p->len};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
			u_int got = bpf_filter((const struct bpf_insn *)insns, p->data, p->len, p->len);
			if (got != r.verdict)
				fail_msg("program %zu, packet %zu: bpf_filter %u, VFM %u", s, i, got,
					 r.verdict);
		}
		free(insns);
		vfm_destroy(vm);
		vfm_program_release(prog);
	}
}

/* Generated programs (testkit/progen: no loops, no flow table, stack up to
 * 12): those that fit must agree with the interpreter on bpf_filter and be
 * accepted by the kernel; the others must be refused with a pc named.
 * This checks the 32-bit reasoning on the verifier's intervals. */
#define N_GENERATED 1500
static void test_generated(void **state)
{
	(void)state;
	struct progen_config cfg;
	progen_config_init(&cfg);
	cfg.target_insns = 40;
	cfg.max_stack = 12;
	cfg.weight[PROGEN_F_LOOP] = 0;
	cfg.weight[PROGEN_F_BUDGET_LOOP] = 0;
	cfg.weight[PROGEN_F_FLOW] = 0;
	cfg.weight[PROGEN_F_BREAK] = 0;
	unsigned fit = 0, refused = 0, runs = 0;
	for (uint64_t seed = 1; seed <= N_GENERATED; seed++) {
		char *src;
		assert_int_equal(progen_generate(&cfg, seed, &src), 0);
		size_t len;
		uint8_t *img = ts_assemble(src, &len);
		vfm_program_t *prog = program_of(img, len, src);
		free(img);
		vfm_cbpf_insn_t *insns;
		size_t n;
		vfm_diag_t d;
		vfm_error_t err = vfm_compile_cbpf(prog, &insns, &n, &d);
		if (err != VFM_OK) {
			if ((err != VFM_EUNSUPPORTED && err != VFM_ETOOBIG) || !strstr(d.message, "cBPF: "))
				fail_msg("seed %llu: %s (%s)", (unsigned long long)seed, d.message,
					 vfm_error_name(err));
			refused++;
			free(src);
			vfm_program_release(prog);
			continue;
		}
		fit++;
		kernel_attach(insns, n, "generated");
		vfm_state_t *vm = vfm_create_with(NULL, &d);
		assert_non_null(vm);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		for (size_t i = 0; i < packets.count; i += 40) {
			const struct pktgen_packet *p = &packets.pkts[i];
			vfm_packet_t pkt = {.data = p->data, .len = p->len};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
			u_int got = bpf_filter((const struct bpf_insn *)insns, p->data, p->len, p->len);
			if (got != r.verdict)
				fail_msg("seed %llu, packet %zu: bpf_filter %u, VFM %u (%s)\n%s",
					 (unsigned long long)seed, i, got, r.verdict,
					 vfm_status_name(r.status), src);
			runs++;
		}
		vfm_destroy(vm);
		free(insns);
		free(src);
		vfm_program_release(prog);
	}
	print_message("  generated: %u programs, %u fit cBPF (%u packet runs agree), %u refused "
		      "with a pc\n", N_GENERATED, fit, runs, refused);
	assert_true(fit > 0);
}

/* Random cBPF programs (fuzz/cbpf_gen.h: forward jumps only) and random
 * pcap-filter expressions: cBPF -> VFM -> cBPF on bpf_filter equals the
 * original on every packet.  The only refusals allowed: an indexed load
 * whose x + k may reach 2^31 (negative in the kernel's cBPF), a program
 * that needs more than 16 M[] words, and protochain's backward jump. */
#define N_RANDOM 3000
static void round_trip_one(const vfm_cbpf_insn_t *orig, size_t n_orig, const char *what,
			   unsigned *fit, unsigned *refused, unsigned *runs)
{
	vfm_program_t *prog;
	vfm_diag_t d;
	if (vfm_program_from_cbpf(orig, n_orig, NULL, &prog, &d) != VFM_OK) {
		(*refused)++; /* Linux ancillary offsets, constant shifts >= 32: vm/cbpf.c */
		return;
	}
	vfm_cbpf_insn_t *insns;
	size_t n;
	vfm_error_t err = vfm_compile_cbpf(prog, &insns, &n, &d);
	if (err != VFM_OK) {
		if (!strstr(d.message, "x + k may reach 2^31") &&
		    !strstr(d.message, "more than cBPF's 16 M[] words") &&
		    !strstr(d.message, "a backward jump")) /* protochain */
			fail_msg("%s: refused: %s", what, d.message);
		(*refused)++;
		vfm_program_release(prog);
		return;
	}
	(*fit)++;
	kernel_attach(insns, n, what);
	for (size_t i = 0; i < packets.count; i += 20) {
		const struct pktgen_packet *p = &packets.pkts[i];
		u_int want = bpf_filter((const struct bpf_insn *)orig, p->data, p->wire_len, p->len);
		u_int got = bpf_filter((const struct bpf_insn *)insns, p->data, p->wire_len, p->len);
		if (got != want)
			fail_msg("%s: packet %zu: round trip %u, original %u", what, i, got, want);
		(*runs)++;
	}
	free(insns);
	vfm_program_release(prog);
}

static void test_random_round_trip(void **state)
{
	(void)state;
	unsigned fit = 0, refused = 0, runs = 0;
	struct cbpf_gen_insn prog[64];
	for (uint64_t seed = 1; seed <= N_RANDOM; seed++) {
		struct cbpf_src src = {.rng = seed};
		size_t n = cbpf_gen_program(&src, prog, 48, 0);
		char what[64];
		snprintf(what, sizeof what, "random cBPF program %llu", (unsigned long long)seed);
		round_trip_one((const vfm_cbpf_insn_t *)prog, n, what, &fit, &refused, &runs);
	}
	print_message("  random cBPF: %u programs, %u round-tripped (%u packet runs agree), "
		      "%u refused\n", N_RANDOM, fit, runs, refused);
	assert_true(fit > N_RANDOM / 2);
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 262144);
	assert_non_null(pc);
	unsigned compiled = 0;
	fit = refused = runs = 0;
	for (uint64_t seed = 1; seed <= 600; seed++) {
		struct cbpf_src src = {.rng = seed};
		char expr[2048];
		cbpf_gen_expr(&src, expr, sizeof expr);
		struct bpf_program fp;
		if (pcap_compile(pc, &fp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
			continue;
		compiled++;
		round_trip_one((const vfm_cbpf_insn_t *)fp.bf_insns, fp.bf_len, expr, &fit, &refused,
			       &runs);
		pcap_freecode(&fp);
	}
	pcap_close(pc);
	print_message("  random expressions: %u compiled, %u round-tripped (%u packet runs "
		      "agree), %u refused\n", compiled, fit, runs, refused);
	assert_true(fit > 0);
}

/* The tools: vfm-asm -e EXPR -> vfm-compile --target=cbpf -> vfm-asm
 * --cbpf, and vfm-test gives both programs the same counts. */
static void test_tools_round_trip(void **state)
{
	(void)state;
	char cmd[8192], *out, *ref;
	const char *d = tmpdir;
	char gen[1024], vasm[1024], comp[1024], test[1024]; /* ts_tool's buffer is reused */
	snprintf(gen, sizeof gen, "%s", ts_tool("vfm-gen"));
	snprintf(vasm, sizeof vasm, "%s", ts_tool("vfm-asm"));
	snprintf(comp, sizeof comp, "%s", ts_tool("vfm-compile"));
	snprintf(test, sizeof test, "%s", ts_tool("vfm-test"));
	snprintf(cmd, sizeof cmd,
		 "'%s' -n 3000 -s 5 -o '%s/cap.pcap' && "
		 "'%s' -e 'tcp dst port 80 or (udp and ip[8] > 60)' -o '%s/expr.bin' && "
		 "'%s' --target=cbpf '%s/expr.bin' -o '%s/back.ddd' && "
		 "'%s' --cbpf '%s/back.ddd' -o '%s/back.bin'",
		 gen, d, vasm, d, comp, d, d, vasm, d, d);
	if (ts_run(cmd, &out) != 0)
		fail_msg("%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "'%s' --verdicts '%s/expr.bin' '%s/cap.pcap'", test, d, d);
	assert_int_equal(ts_run(cmd, &ref), 0);
	snprintf(cmd, sizeof cmd, "'%s' --verdicts '%s/back.bin' '%s/cap.pcap'", test, d, d);
	assert_int_equal(ts_run(cmd, &out), 0);
	/* the verdict lines, up to the summary (whose filter line differs) */
	char *a = strstr(ref, "filter:"), *b = strstr(out, "filter:");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a - ref, b - out);
	assert_memory_equal(ref, out, (size_t)(a - ref));
	assert_non_null(strstr(strstr(out, "packets:"), "3000"));
	free(ref);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfm_filters),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_tools_round_trip),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
