/*
 * tests/test_jit_hoist.c — guard hoisting and the memory compares of the
 * JIT (jit/common.c hoist_regions, can_load_jcc) against the interpreter
 * where they can go wrong: short packets.
 *
 * A hoisted region runs check-free behind one guard (len >= the largest
 * end its loads need) and falls back to a fully checked copy when the
 * guard fails; that copy must end every packet exactly as the interpreter
 * does — a drop by a test that runs before the first out-of-bounds load is
 * verdict 0 with status OK, not BOUNDS, and the instruction count stops
 * where the interpreter stops.  So every program here runs on every
 * truncation 0..MAX_LEN of several base packets (each kind of the packet
 * generator, plus hand-made packets that take the deepest paths of the
 * bench filters), on both compiled variants (counting, and the code
 * vfm_execute runs), and verdict, status and instruction count must be
 * equal to the interpreter's; the flow table too for the programs that use
 * it.  The test also checks that the programs meant to be hoisted were
 * (vfm_jit_hoisted_regions), so a silent loss of the optimisation shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../jit/common.h"
#include "pktgen.h"
#include "progen.h"
#include "test_support.h"

/* Longer than the largest offset + size any program here reads (78). */
#define MAX_LEN 128

struct base {
	uint8_t data[MAX_LEN];
};

/* IPv4/TCP to port 80, IHL 5 (F1, F2 and F3's deepest paths), from
 * 10.1.2.3, not a fragment. */
static void ipv4_tcp80(struct base *b, uint8_t ihl, uint8_t proto, uint16_t frag)
{
	memset(b->data, 0, sizeof b->data);
	b->data[12] = 0x08;
	b->data[14] = (uint8_t)(0x40 | ihl);
	b->data[20] = (uint8_t)(frag >> 8);
	b->data[21] = (uint8_t)frag;
	b->data[23] = proto;
	b->data[26] = 10;
	b->data[27] = 1;
	b->data[28] = 2;
	b->data[29] = 3;
	b->data[30] = 192;
	b->data[31] = 168;
	unsigned l4 = 14u + 4u * ihl;
	b->data[l4 + 0] = 0x30; /* source port 12345 */
	b->data[l4 + 1] = 0x39;
	b->data[l4 + 2] = 0;    /* destination port 80 */
	b->data[l4 + 3] = 80;
	for (unsigned k = l4 + 4; k < MAX_LEN; k++)
		b->data[k] = (uint8_t)(k * 7);
}

static void ipv6_tcp80(struct base *b)
{
	memset(b->data, 0, sizeof b->data);
	b->data[12] = 0x86;
	b->data[13] = 0xDD;
	b->data[20] = 6;
	b->data[56] = 0;
	b->data[57] = 80;
}

static struct base *make_bases(size_t *n)
{
	struct pktgen_config cfg = {.seed = 99, .count = 2000};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&cfg, &set), 0);
	struct base *b = calloc(PKTGEN_KIND_COUNT + 8, sizeof *b);
	assert_non_null(b);
	size_t k = 0;
	/* One packet of each generated kind that is at least MAX_LEN long
	 * (else the longest of that kind), zero-padded. */
	for (int kind = 0; kind < PKTGEN_KIND_COUNT; kind++) {
		const struct pktgen_packet *best = NULL;
		for (size_t i = 0; i < set.count; i++)
			if (set.pkts[i].kind == (enum pktgen_kind)kind &&
			    (!best || (best->len < MAX_LEN && set.pkts[i].len > best->len)))
				best = &set.pkts[i];
		if (!best)
			continue;
		memcpy(b[k].data, best->data, best->len < MAX_LEN ? best->len : MAX_LEN);
		k++;
	}
	ipv4_tcp80(&b[k++], 5, 6, 0);
	ipv4_tcp80(&b[k++], 5, 17, 0);
	ipv4_tcp80(&b[k++], 15, 6, 0);
	ipv4_tcp80(&b[k++], 5, 6, 0x2001); /* a later fragment */
	ipv4_tcp80(&b[k++], 5, 6, 0x4000); /* DF: not a fragment */
	ipv6_tcp80(&b[k++]);
	memset(b[k++].data, 0xFF, MAX_LEN);
	pktgen_free(&set);
	*n = k;
	return b;
}

/* Every truncation of every base on the interpreter and both JIT
 * variants.  Returns the runs compared. */
static unsigned long run_lengths(const char *name, const uint8_t *bin, size_t len,
				 const struct base *bases, size_t n_bases)
{
	vfm_config_t cnt = {.flow_capacity = 16, .budget = 50, .budget_set = 1};
	vfm_config_t nc = cnt;
	nc.no_insns = 1;
	vfm_state_t *interp = vfm_create_with(&cnt, NULL), *jit = vfm_create_with(&cnt, NULL);
	vfm_state_t *jit_nc = vfm_create_with(&nc, NULL);
	assert_int_equal(vfm_load_program(interp, bin, len), VFM_OK);
	assert_int_equal(vfm_load_program(jit, bin, len), VFM_OK);
	assert_int_equal(vfm_load_program(jit_nc, bin, len), VFM_OK);
	if (vfm_enable_jit(jit) != VFM_OK || vfm_enable_jit(jit_nc) != VFM_OK)
		fail_msg("%s: JIT refused: %s", name, vfm_last_error(jit));
	unsigned long runs = 0;
	for (size_t b = 0; b < n_bases; b++) {
		for (uint32_t l = 0; l <= MAX_LEN; l++) {
			vfm_packet_t pkt = {.data = bases[b].data, .len = l,
					    .ts_ns = 1000000000ull * (l + 1), .wire_len = 0};
			vfm_result_t ri, rj, rn;
			assert_int_equal(vfm_execute_ex(interp, &pkt, &ri), VFM_OK);
			assert_int_equal(vfm_execute_ex(jit, &pkt, &rj), VFM_OK);
			assert_int_equal(vfm_execute_ex(jit_nc, &pkt, &rn), VFM_OK);
			if (ri.verdict != rj.verdict || ri.status != rj.status || ri.insns != rj.insns ||
			    ri.verdict != rn.verdict || ri.status != rn.status || rn.insns != 0)
				fail_msg("%s, base %zu, length %u: interpreter %u/%s/%llu, JIT %u/%s/%llu, "
					 "JIT not counting %u/%s/%llu", name, b, l, ri.verdict,
					 vfm_status_name(ri.status), (unsigned long long)ri.insns,
					 rj.verdict, vfm_status_name(rj.status),
					 (unsigned long long)rj.insns, rn.verdict,
					 vfm_status_name(rn.status), (unsigned long long)rn.insns);
			if (!ts_same_flow_entries(interp, jit) || !ts_same_flow_entries(interp, jit_nc))
				fail_msg("%s, base %zu, length %u: flow tables differ", name, b, l);
			runs++;
		}
	}
	vfm_destroy(interp);
	vfm_destroy(jit);
	vfm_destroy(jit_nc);
	return runs;
}

/* Hand-written programs: each has regions with several unproven loads at
 * constant offsets, with exits between them (a test that drops before a
 * later load is reached), in the forms the fast and checked copies emit
 * differently. */
static const struct {
	const char *name;
	const char *src;
	int hoisted; /* regions expected */
} progs[] = {
	{"sizes", /* every load size, a fall-through into a join */
	 "LD8 0\nPUSH 1\nJGT a\nLD16 2\nPOP\nLD32 4\nPOP\nLD64 8\nPUSH 0\nJEQ a\nRET 3\n"
	 "a: LD8 20\nLD16 30\nADD\nLD32 40\nADD\nRET\n", 2},
	{"ordered byte compares (fused, every relation)",
	 "LD8 14\nPUSH 0x40\nJLT d\nLD8 23\nPUSH 6\nJLE d\nLD8 23\nPUSH 17\nJGE d\n"
	 "LD8 9\nPUSH 3\nJGT d\nLD8 60\nPUSH 0\nJNE d\nRET 1\nd: RET 2\n", 1},
	{"word compares and bit tests (fused)",
	 "LD16 12\nPUSH 0x0800\nJNE d\nLD16 20\nPUSH 0x1FFF\nJSET d\nLD32 26\nPUSH 0x0A010203\n"
	 "JEQ a\nLD32 30\nPUSH 0xC0A80000\nJNE d\na: RET 1\nd: RET 0\n", 1},
	{"indexed loads after the guard (fused LDnX compare)",
	 "LD16 12\nPUSH 0x800\nJNE d\nLD8 23\nPUSH 6\nJNE d\nLD8 14\nPUSH 15\nAND\nPUSH 2\n"
	 "SHL\nDUP\nLD16X 14\nPUSH 12345\nJEQ a1\nLD16X 16\nPUSH 80\nJEQ a\nd: RET 0\na: RET 1\n"
	 "a1: RET 3\n", 1},
	{"proven loads mixed in (after a LEN check)",
	 "LEN\nPUSH 40\nJLT s\nLD8 30\nLD8 31\nADD\nLD16 60\nADD\nLD8 70\nADD\nRET\n"
	 "s: LD8 3\nLD8 5\nADD\nRET\n", 2},
	{"a loop back to the region start (budget; guard runs again)",
	 "PUSH 0\nSTM 0\nl: LD8 1\nLD8 40\nADD\nLDM 0\nADD\nSTM 0\nLDM 0\nPUSH 600\nJLT l\n"
	 "LDM 0\nRET\n", 1},
	{"deep stack (frame slots) and a wide offset",
	 "LD8 1\nLD8 2\nLD8 3\nLD8 4\nLD8 5\nLD8 6\nLD8 7\nLD8 8\nLD8 9\nLD8 10\nLD8 11\n"
	 "LD8 77\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nRET\n", 1},
	{"flow table helpers in a hoisted region",
	 "LD32 26\nDUP\nFLOW_LOAD\nLD8 23\nADD\nFLOW_STORE\nLD16 34\nPUSH 22\nJEQ d\nHASH5\n"
	 "LD8 40\nADD\nRET\nd: RET 0\n", 1},
	{"always out of bounds and beyond any packet",
	 "LD8 5\nPUSH 0\nJEQ z\nLD8 6\nLD32 4294967290\nRET\nz: LD8 7\nLD8 8\nADD\nRET\n", 2},
	{"masked field compares (whole bytes of a word: one compare of the field)",
	 "LD32 12\nPUSH 0xFF000000\nAND\nPUSH 0x08000000\nJNE d\n"
	 "LD32 12\nPUSH 0x00FF0000\nAND\nPUSH 0\nJNE d\n"
	 "LD32 12\nPUSH 0xFFFF0000\nAND\nPUSH 0x08000000\nJNE d\n"
	 "LD32 14\nPUSH 0x00FFFF00\nAND\nPUSH 0x00000000\nJEQ a2\n"
	 "LD32 20\nPUSH 0x000000FF\nAND\nPUSH 0x10\nJGT a3\n"
	 "LD16 20\nPUSH 0xFF00\nAND\nPUSH 0x4000\nJSET a4\n"
	 "LD32 26\nPUSH 0xFF000000\nAND\nPUSH 0x0A000000\nJEQ a\n"
	 "LD32 30\nPUSH 0x0000FFFF\nAND\nPUSH 0x0102\nJLT a\nd: RET 0\na: RET 1\n"
	 "a2: RET 2\na3: RET 3\na4: RET 4\n", 1},
	{"masks a field compare cannot take (bits, gaps, three bytes, c outside)",
	 "LD32 12\nPUSH 0x0FF00000\nAND\nPUSH 0x00800000\nJNE d\n"
	 "LD32 12\nPUSH 0xFF00FF00\nAND\nPUSH 0x08004500\nJNE d\n"
	 "LD32 12\nPUSH 0x00FFFFFF\nAND\nPUSH 0x00000045\nJNE d\n"
	 "LD32 26\nPUSH 0xFF000000\nAND\nPUSH 0x0A000001\nJEQ a\n"
	 "LD32 20\nPUSH 0xFFFF0000\nAND\nPUSH 0x40000000\nJGT a\nd: RET 0\na: RET 1\n", 1},
	{"masked indexed field (LDnX)",
	 "LD8 14\nPUSH 15\nAND\nPUSH 2\nSHL\nDUP\nLD32X 14\nPUSH 0x0000FFFF\nAND\n"
	 "PUSH 80\nJEQ a1\nLD32X 12\nPUSH 0xFF000000\nAND\nPUSH 0x45000000\nJGE a\n"
	 "d: RET 0\na: RET 1\na1: RET 3\n", 0},
	{"one load per region: nothing hoisted",
	 "LD8 5\nPUSH 0\nJEQ z\nRET 1\nz: LD8 7\nRET\n", 0},
};

static void test_hoisted_programs(void **state)
{
	(void)state;
	size_t n_bases;
	struct base *bases = make_bases(&n_bases);
	unsigned long runs = 0;
	for (size_t p = 0; p < sizeof progs / sizeof progs[0]; p++) {
		size_t len;
		uint8_t *bin = ts_assemble(progs[p].src, &len);
		unsigned long before = vfm_jit_hoisted_regions;
		runs += run_lengths(progs[p].name, bin, len, bases, n_bases);
		/* Two VMs compiled it once each per variant: 2 x 2. */
		unsigned long got = (vfm_jit_hoisted_regions - before) / 4;
		if (got != (unsigned long)progs[p].hoisted)
			fail_msg("%s: %lu hoisted regions, expected %d", progs[p].name, got,
				 progs[p].hoisted);
		free(bin);
	}
	print_message("%zu programs x %zu bases x lengths 0..%d: %lu runs equal\n",
		      sizeof progs / sizeof progs[0], n_bases, MAX_LEN, runs);
	free(bases);
}

/* Scratch zeroing (jit/common.c scratch_zero_mask): only words an LDM may
 * read before an STM wrote them are zeroed at entry.  Each program reads
 * a word written on one path only, or in a loop after the first round, or
 * after a write on every path; a missed zeroing shows as a stale frame
 * word (the interpreter, run first on every packet, leaves its own data
 * on the stack below the caller). */
static void test_scratch_zeroing(void **state)
{
	(void)state;
	static const char *const srcs[] = {
		/* M[1] written only if byte 0 is odd */
		"LD8 0\nPUSH 1\nJSET w\nJMP r\nw: PUSH 7\nSTM 1\nr: LDM 1\nLDM 2\nADD\nRET\n",
		/* written on every path: no zeroing needed */
		"LD8 0\nPUSH 1\nJSET a\nPUSH 5\nSTM 3\nJMP r\na: PUSH 9\nSTM 3\nr: LDM 3\nRET\n",
		/* a loop that reads M[0] before its first store */
		"PUSH 0\nSTM 1\nl: LDM 0\nPUSH 3\nADD\nSTM 0\nLDM 1\nPUSH 1\nADD\nDUP\nSTM 1\n"
		"PUSH 4\nJLT l\nLDM 0\nLDM 15\nADD\nRET\n",
		/* stored, then read; and a word never written */
		"LD8 2\nSTM 4\nLDM 4\nLDM 5\nADD\nRET\n",
	};

	size_t n_bases;
	struct base *bases = make_bases(&n_bases);
	for (size_t p = 0; p < sizeof srcs / sizeof srcs[0]; p++) {
		size_t len;
		uint8_t *bin = ts_assemble(srcs[p], &len);
		run_lengths(srcs[p], bin, len, bases, n_bases);
		free(bin);
	}
	free(bases);
}

/* The bench filters and the shipped examples, which the optimisations are
 * for. */
static void test_bench_filters(void **state)
{
	(void)state;
	static const char *const files[] = {
		"bench/filters/f1.vfm", "bench/filters/f2.vfm", "bench/filters/f3.vfm",
		"bench/filters/f4.vfm", "examples/quickstart.vfm", "examples/tcp_dst_port_80.vfm",
		"examples/ddos_detect.vfm", "examples/rate_limit.vfm",
		"examples/block_ssh_telnet.vfm",
	};
	size_t n_bases;
	struct base *bases = make_bases(&n_bases);
	unsigned long before = vfm_jit_hoisted_regions, runs = 0;
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char *src = ts_read_file(files[f], NULL);
		size_t len;
		uint8_t *bin = ts_assemble(src, &len);
		runs += run_lengths(files[f], bin, len, bases, n_bases);
		free(bin);
		free(src);
	}
	/* F1 at least is one hoisted region. */
	assert_true(vfm_jit_hoisted_regions > before);
	print_message("%zu filters x %zu bases x lengths 0..%d: %lu runs equal\n",
		      sizeof files / sizeof files[0], n_bases, MAX_LEN, runs);
	free(bases);
}

/* Generated programs (testkit/progen) on every truncation of a few bases:
 * regions of every shape the generator makes. */
static void test_generated_lengths(void **state)
{
	(void)state;
	size_t n_bases;
	struct base *bases = make_bases(&n_bases);
	struct progen_config cfg;
	progen_config_init(&cfg);
#if defined(__SANITIZE_ADDRESS__)
	int n_programs = 40;
#else
	int n_programs = 200;
#endif
	if (getenv("VFM_HOIST_PROGRAMS"))
		n_programs = atoi(getenv("VFM_HOIST_PROGRAMS"));
	unsigned long before = vfm_jit_hoisted_regions, runs = 0;
	for (int p = 0; p < n_programs; p++) {
		cfg.target_insns = 8u + (unsigned)(p % 5) * 16u;
		char *src;
		assert_int_equal(progen_generate(&cfg, 777000u + (uint64_t)p, &src), 0);
		size_t len;
		uint8_t *bin = ts_assemble(src, &len);
		/* Three bases per program, varied. */
		struct base pick[3];
		for (int k = 0; k < 3; k++)
			pick[k] = bases[((size_t)p * 3 + (size_t)k) % n_bases];
		runs += run_lengths(src, bin, len, pick, 3);
		free(bin);
		free(src);
	}
	print_message("%d generated programs x 3 bases x lengths 0..%d: %lu runs equal, "
		      "%lu hoisted regions\n", n_programs, MAX_LEN, runs,
		      (vfm_jit_hoisted_regions - before) / 4);
	free(bases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hoisted_programs),
		cmocka_unit_test(test_bench_filters),
		cmocka_unit_test(test_scratch_zeroing),
		cmocka_unit_test(test_generated_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
