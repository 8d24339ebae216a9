/*
 * tests/test_examples.c — the shipped example filters do what their
 * comments say, on every packet of a generated traffic mix.
 *
 * For each example filter in examples/: assemble the file as shipped,
 * load it, run it over MIX_COUNT packets from tools/pktgen (fixed seed,
 * with timestamps) and compare every packet's verdict and status with an expectation
 * computed here independently: the bytes are parsed with plain C and the
 * filter's logic, flow state included, is re-implemented on a small hash
 * map of our own.  Nothing of the library is used for the expectation, so
 * a bug in the assembler, verifier, interpreter or flow table shows up as
 * a mismatch on a concrete packet.
 *
 * The models follow the order in which each filter reads the packet,
 * because the first read past the end decides the outcome (verdict 0,
 * status BOUNDS).  Each test also asserts that the mix exercises the
 * filter's interesting outcomes, so a generator change that stopped
 * producing, say, floods would fail here rather than pass vacuously.
 *
 * Also: each example assembles, verifies, and disassembles to text that
 * re-assembles to identical bytes; and the command-line tools accept it.
 *
 * Run from the repository root (reads examples/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pktgen.h"
#include "test_support.h"
#include "vfm.h"

#define MIX_SEED 0x5EEDF17E5ull
#define MIX_COUNT 10000u
/* 1 ms mean gap: the 10,000 packets span about 10 s, so rate_limit.vfm
 * sees several of its 1 s windows (bursts stay ~1 us apart). */
#define MIX_GAP_NS 1000000u
/* Large enough that no set of the 4-way table overflows for this mix:
 * the tests assert zero evictions, which makes the simple map below an
 * exact model of the table's contents. */
#define FLOW_CAPACITY (1u << 18)

#define DDOS_TAG 0x53594E0000000000ull /* "SYN\0" << 32 */
#define DDOS_THRESHOLD 64u
#define RATE_TAG 0x5241544500000000ull /* "RATE" << 32 */
#define RATE_LIMIT 100u
#define RATE_WINDOW_NS 1000000000ull

static const char *const example_names[] = {
	"quickstart.vfm",
	"tcp_dst_port_80.vfm",
	"ddos_detect.vfm",
	"rate_limit.vfm",
	"block_ssh_telnet.vfm",
};
#define N_EXAMPLES (sizeof example_names / sizeof example_names[0])

/* ---- shared fixture: the traffic mix ------------------------------------ */

static struct pktgen_set mix;
static vfm_packet_t *mix_pkts;

static int mix_setup(void **state)
{
	(void)state;
	struct pktgen_config cfg = {
		.seed = MIX_SEED,
		.count = MIX_COUNT,
		.start_ns = 0,
		.mean_gap_ns = MIX_GAP_NS,
	};
	if (pktgen_generate(&cfg, &mix) != 0 || mix.count != MIX_COUNT)
		return -1;
	mix_pkts = calloc(mix.count, sizeof *mix_pkts);
	if (!mix_pkts)
		return -1;
	for (size_t i = 0; i < mix.count; i++) {
		mix_pkts[i].data = mix.pkts[i].data;
		mix_pkts[i].len = mix.pkts[i].len;
		mix_pkts[i].ts_ns = mix.pkts[i].ts_ns;
	}
	return 0;
}

static int mix_teardown(void **state)
{
	(void)state;
	free(mix_pkts);
	mix_pkts = NULL;
	pktgen_free(&mix);
	return 0;
}

/* ---- reading the example files ------------------------------------------ */

static char *read_example(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, "examples/%s", name);
	return ts_read_file(path, len);
}

static uint8_t *assemble_example(const char *name, int with_debug, size_t *out_len)
{
	size_t src_len;
	char *src = read_example(name, &src_len);
	uint8_t *bytes = NULL;
	vfm_diag_t diag;
	vfm_error_t err = vfm_assemble(src, src_len, name, with_debug, &bytes, out_len, &diag);
	free(src);
	if (err != VFM_OK)
		fail_msg("%s does not assemble: %s", name, diag.message);
	return bytes;
}

static vfm_state_t *vm_for_example(const char *name)
{
	vfm_config_t cfg = {.flow_capacity = FLOW_CAPACITY};
	vfm_diag_t diag;
	vfm_state_t *vm = vfm_create_with(&cfg, &diag);
	if (!vm)
		fail_msg("vfm_create_with: %s", diag.message);
	size_t len;
	uint8_t *bytes = assemble_example(name, 1, &len);
	if (vfm_load_program(vm, bytes, len) != VFM_OK)
		fail_msg("%s does not load: %s", name, vfm_last_error(vm));
	free(bytes);
	return vm;
}

/* ---- the expectation side: plain C -------------------------------------- */

struct expect {
	uint32_t verdict;
	vfm_status_t status;
};

static const struct expect ACCEPT = {1, VFM_STATUS_OK};
static const struct expect DROP = {0, VFM_STATUS_OK};
static const struct expect CUT = {0, VFM_STATUS_BOUNDS};

/* Read n bytes big-endian at off; 0 if they are not all inside the packet
 * (the filter then ends with BOUNDS). */
static int ld(const vfm_packet_t *pk, uint64_t off, unsigned n, uint64_t *v)
{
	if (off > pk->len || n > pk->len - off)
		return 0;
	uint64_t x = 0;
	for (unsigned i = 0; i < n; i++)
		x = x << 8 | pk->data[off + i];
	*v = x;
	return 1;
}

#define LD(off, n, var)                                                       \
	do {                                                                  \
		if (!ld(pk, (off), (n), &(var)))                              \
			return CUT;                                           \
	} while (0)

/* A small open-addressing map uint64 → uint64 with its own counters,
 * standing in for the VM's flow table. */
struct map {
	uint64_t *keys, *vals;
	uint8_t *used;
	size_t cap; /* power of two */
	size_t entries;
	uint64_t hits, misses, inserts, updates;
};

static void map_init(struct map *m, size_t cap)
{
	memset(m, 0, sizeof *m);
	m->cap = cap;
	m->keys = calloc(cap, sizeof *m->keys);
	m->vals = calloc(cap, sizeof *m->vals);
	m->used = calloc(cap, 1);
	assert_true(m->keys && m->vals && m->used);
}

static void map_free(struct map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
}

static size_t map_slot(const struct map *m, uint64_t key)
{
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & (m->cap - 1);
	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint64_t map_load(struct map *m, uint64_t key)
{
	size_t i = map_slot(m, key);
	if (m->used[i]) {
		m->hits++;
		return m->vals[i];
	}
	m->misses++;
	return 0;
}

static void map_store(struct map *m, uint64_t key, uint64_t val)
{
	size_t i = map_slot(m, key);
	if (m->used[i]) {
		m->updates++;
	} else {
		assert_true(m->entries < m->cap / 2); /* keep probing short */
		m->used[i] = 1;
		m->keys[i] = key;
		m->entries++;
		m->inserts++;
	}
	m->vals[i] = val;
}

/* ---- running a filter and comparing ------------------------------------- */

typedef struct expect (*model_fn)(const vfm_packet_t *pk, void *ctx);

struct run_counts {
	size_t accepted, dropped, bounds;
};

/* Run the example over the whole mix (batch entry point), check that
 * per-packet execution on a fresh VM agrees, and compare every packet with
 * the model.  Returns the batch VM (for its flow table) and the counts. */
static vfm_state_t *run_and_compare(const char *name, model_fn model, void *ctx,
				    struct run_counts *counts)
{
	size_t n = mix.count;
	vfm_result_t *res = calloc(n, sizeof *res);
	assert_non_null(res);
	vfm_state_t *vm = vm_for_example(name);
	assert_int_equal(vfm_execute_batch(vm, mix_pkts, n, res), VFM_OK);

	/* The single-packet entry point on a fresh VM: same results. */
	vfm_state_t *vm1 = vm_for_example(name);
	for (size_t i = 0; i < n; i++) {
		vfm_result_t r;
		assert_int_equal(vfm_execute_ex(vm1, &mix_pkts[i], &r), VFM_OK);
		if (r.verdict != res[i].verdict || r.status != res[i].status ||
		    r.insns != res[i].insns)
			fail_msg("%s packet %zu: batch and single runs differ", name, i);
	}
	vfm_destroy(vm1);

	/* The JIT, where this build has one: same results again. */
	vfm_state_t *vmj = vm_for_example(name);
	if (vfm_enable_jit(vmj) == VFM_OK) {
		for (size_t i = 0; i < n; i++) {
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vmj, &mix_pkts[i], &r), VFM_OK);
			if (r.verdict != res[i].verdict || r.status != res[i].status)
				fail_msg("%s packet %zu: JIT and interpreter differ", name, i);
		}
	}
	vfm_destroy(vmj);

	memset(counts, 0, sizeof *counts);
	for (size_t i = 0; i < n; i++) {
		struct expect e = model(&mix_pkts[i], ctx);
		if (res[i].verdict != e.verdict || res[i].status != e.status)
			fail_msg("%s packet %zu (%s, %u bytes, ts %llu): got verdict %u "
				 "status %s, expected verdict %u status %s",
				 name, i, pktgen_kind_name(mix.pkts[i].kind),
				 mix_pkts[i].len, (unsigned long long)mix_pkts[i].ts_ns,
				 res[i].verdict, vfm_status_name(res[i].status), e.verdict,
				 vfm_status_name(e.status));
		if (e.verdict)
			counts->accepted++;
		else
			counts->dropped++;
		if (e.status == VFM_STATUS_BOUNDS)
			counts->bounds++;
	}
	free(res);
	print_message("%-20s accepted %5zu  dropped %5zu  (BOUNDS %zu)\n", name,
		      counts->accepted, counts->dropped, counts->bounds);
	return vm;
}

/* The flow table holds exactly the model map's entries and counters. */
struct table_check {
	const struct map *m;
	size_t seen;
	int bad;
};

static int check_entry(uint64_t key, uint64_t value, void *arg)
{
	struct table_check *tc = arg;
	size_t i = map_slot(tc->m, key);
	if (!tc->m->used[i] || tc->m->vals[i] != value)
		tc->bad = 1;
	tc->seen++;
	return 0;
}

static void assert_flow_matches(vfm_state_t *vm, const struct map *m)
{
	vfm_flow_stats_t st;
	assert_int_equal(vfm_flow_stats(vm, &st), VFM_OK);
	assert_int_equal(st.capacity, FLOW_CAPACITY);
	assert_int_equal(st.evictions, 0); /* else the model is not exact */
	assert_int_equal(st.entries, m->entries);
	assert_int_equal(st.hits, m->hits);
	assert_int_equal(st.misses, m->misses);
	assert_int_equal(st.inserts, m->inserts);
	assert_int_equal(st.updates, m->updates);
	struct table_check tc = {.m = m};
	vfm_flow_foreach(vm, check_entry, &tc);
	assert_int_equal(tc.seen, m->entries);
	assert_false(tc.bad);
}

/* ---- quickstart.vfm: the seed's filter, kept as printed ------------------ */

/* EtherType 0x0800, protocol byte 6, and bytes 36-37 == 80.  It assumes a
 * 20-byte IPv4 header and ignores fragments; the model reproduces exactly
 * that, wrong answers included. */
static struct expect model_quickstart(const vfm_packet_t *pk, void *ctx)
{
	(void)ctx;
	uint64_t v;
	LD(12, 2, v);
	if (v != 0x0800)
		return DROP;
	LD(23, 1, v);
	if (v != 6)
		return DROP;
	LD(36, 2, v);
	return v == 80 ? ACCEPT : DROP;
}

/* ---- tcp_dst_port_80.vfm ------------------------------------------------ */

struct tcp80_stats {
	size_t v4, v4_options, v6, later_fragments, bounds;
};

static struct expect model_tcp80(const vfm_packet_t *pk, void *ctx)
{
	struct tcp80_stats *st = ctx;
	uint64_t ethertype, proto, frag, vihl, port;
	LD(12, 2, ethertype);
	if (ethertype == 0x0800) {
		LD(23, 1, proto);
		if (proto != 6)
			return DROP;
		LD(20, 2, frag);
		if (frag & 0x1FFF) {
			st->later_fragments++;
			return DROP;
		}
		LD(14, 1, vihl);
		uint64_t ihl_bytes = (vihl & 0x0F) * 4;
		LD(14 + ihl_bytes + 2, 2, port);
		if (port != 80)
			return DROP;
		st->v4++;
		if (ihl_bytes > 20)
			st->v4_options++;
		return ACCEPT;
	}
	if (ethertype == 0x86DD) {
		LD(20, 1, proto);
		if (proto != 6)
			return DROP;
		LD(56, 2, port);
		if (port != 80)
			return DROP;
		st->v6++;
		return ACCEPT;
	}
	return DROP;
}

/* ---- block_ssh_telnet.vfm ----------------------------------------------- */

struct block_stats {
	size_t ssh, telnet, short_or_cut;
};

/* Every read is length-checked first: nothing ends with BOUNDS. */
static struct expect model_block(const vfm_packet_t *pk, void *ctx)
{
	struct block_stats *st = ctx;
	const uint8_t *b = pk->data;
	if (pk->len < 34) {
		st->short_or_cut++;
		return ACCEPT;
	}
	if ((b[12] << 8 | b[13]) != 0x0800 || b[23] != 6 || ((b[20] << 8 | b[21]) & 0x1FFF))
		return ACCEPT;
	uint32_t ihl_bytes = (b[14] & 0x0F) * 4u;
	if (ihl_bytes + 18 > pk->len) {
		st->short_or_cut++;
		return ACCEPT;
	}
	uint32_t port = (uint32_t)b[14 + ihl_bytes + 2] << 8 | b[14 + ihl_bytes + 3];
	if (port == 22)
		st->ssh++;
	if (port == 23)
		st->telnet++;
	return port == 22 || port == 23 ? DROP : ACCEPT;
}

/* ---- ddos_detect.vfm ---------------------------------------------------- */

struct ddos_ctx {
	struct map m;
	size_t syns, syns_dropped;
};

static struct expect model_ddos(const vfm_packet_t *pk, void *vctx)
{
	struct ddos_ctx *c = vctx;
	uint64_t ethertype, proto, frag, vihl, flags, src;
	LD(12, 2, ethertype);
	if (ethertype != 0x0800)
		return ACCEPT;
	LD(23, 1, proto);
	if (proto != 6)
		return ACCEPT;
	LD(20, 2, frag);
	if (frag & 0x1FFF)
		return ACCEPT;
	LD(14, 1, vihl);
	LD(14 + (vihl & 0x0F) * 4 + 13, 1, flags);
	const unsigned SYN = 0x02, ACK = 0x10;
	if (!(flags & SYN) || (flags & ACK))
		return ACCEPT;
	LD(26, 4, src);
	uint64_t key = DDOS_TAG | src;
	uint64_t count = map_load(&c->m, key) + 1;
	map_store(&c->m, key, count);
	c->syns++;
	if (count > DDOS_THRESHOLD) {
		c->syns_dropped++;
		return DROP;
	}
	return ACCEPT;
}

/* ---- rate_limit.vfm ----------------------------------------------------- */

struct rate_ctx {
	struct map m;
	size_t limited, resets;
	uint64_t first_window, last_window;
};

static struct expect model_rate(const vfm_packet_t *pk, void *vctx)
{
	struct rate_ctx *c = vctx;
	uint64_t ethertype, src;
	LD(12, 2, ethertype);
	if (ethertype != 0x0800)
		return ACCEPT;
	LD(26, 4, src);
	uint64_t key = RATE_TAG | src;
	uint64_t window = (pk->ts_ns / RATE_WINDOW_NS) & 0xFFFFFFFFu;
	if (c->first_window == 0)
		c->first_window = window;
	c->last_window = window;
	uint64_t old = map_load(&c->m, key);
	uint64_t count;
	if (old >> 32 == window) {
		count = old & 0xFFFFFFFFu;
	} else {
		if (old != 0) /* this source was seen in an earlier window */
			c->resets++;
		count = 0;
	}
	if (count >= RATE_LIMIT) {
		c->limited++;
		return DROP;
	}
	map_store(&c->m, key, window << 32 | (count + 1));
	return ACCEPT;
}

/* ---- tests -------------------------------------------------------------- */

static void test_quickstart(void **state)
{
	(void)state;
	struct run_counts n;
	vfm_state_t *vm = run_and_compare("quickstart.vfm", model_quickstart, NULL, &n);
	assert_true(n.accepted > 0 && n.dropped > n.bounds && n.bounds > 0);
	vfm_flow_stats_t st;
	assert_int_equal(vfm_flow_stats(vm, &st), VFM_OK);
	assert_int_equal(st.hits + st.misses + st.inserts + st.updates, 0);
	vfm_destroy(vm);

	/* The seed's filter disagrees with a correct `tcp dst port 80` on
	 * this mix (IPv4 options, IPv6, later fragments): that is why
	 * tcp_dst_port_80.vfm exists.  Compare the two models. */
	struct tcp80_stats s80 = {0};
	size_t differ = 0;
	for (size_t i = 0; i < mix.count; i++)
		if (model_quickstart(&mix_pkts[i], NULL).verdict !=
		    model_tcp80(&mix_pkts[i], &s80).verdict)
			differ++;
	print_message("quickstart.vfm differs from tcp dst port 80 on %zu packets\n",
		      differ);
	assert_true(differ > 0);
}

static void test_tcp_dst_port_80(void **state)
{
	(void)state;
	struct tcp80_stats st = {0};
	struct run_counts n;
	vfm_state_t *vm = run_and_compare("tcp_dst_port_80.vfm", model_tcp80, &st, &n);
	vfm_destroy(vm);
	print_message("  accepted: IPv4 %zu (with options %zu), IPv6 %zu; "
		      "later fragments dropped %zu\n",
		      st.v4, st.v4_options, st.v6, st.later_fragments);
	assert_true(n.accepted > 0 && n.dropped > n.bounds && n.bounds > 0);
	assert_true(st.v4_options > 0); /* the IHL is really read */
	assert_true(st.v6 > 0);
	assert_true(st.later_fragments > 0);
}

static void test_block_ssh_telnet(void **state)
{
	(void)state;
	struct block_stats st = {0};
	struct run_counts n;
	vfm_state_t *vm = run_and_compare("block_ssh_telnet.vfm", model_block, &st, &n);
	vfm_destroy(vm);
	print_message("  dropped: SSH %zu, telnet %zu; passed short or cut %zu\n", st.ssh,
		      st.telnet, st.short_or_cut);
	assert_int_equal(n.bounds, 0);
	assert_true(st.ssh > 0 && n.accepted > 0 && st.short_or_cut > 0);
	assert_int_equal(n.dropped, st.ssh + st.telnet);
	/* test_absint checks that the verifier proves every load of this
	 * example in bounds. */
}

static void test_ddos_detect(void **state)
{
	(void)state;
	struct ddos_ctx c = {0};
	map_init(&c.m, 1u << 16);
	struct run_counts n;
	vfm_state_t *vm = run_and_compare("ddos_detect.vfm", model_ddos, &c, &n);
	print_message("  SYNs %zu from %zu sources, %zu dropped over the threshold\n",
		      c.syns, c.m.entries, c.syns_dropped);
	assert_true(n.accepted > 0);
	assert_true(c.syns_dropped > 0);            /* the flood is caught */
	assert_true(c.syns > c.syns_dropped);       /* ordinary SYNs pass */
	assert_true(n.dropped > c.syns_dropped);    /* truncated frames too */
	assert_int_equal(n.dropped, c.syns_dropped + n.bounds);

	/* One entry per distinct SYN source; one load and one store per SYN. */
	assert_flow_matches(vm, &c.m);
	vfm_flow_stats_t st;
	assert_int_equal(vfm_flow_stats(vm, &st), VFM_OK);
	assert_int_equal(st.inserts, c.m.entries);
	assert_int_equal(st.hits + st.misses, c.syns);
	assert_int_equal(st.inserts + st.updates, c.syns);
	map_free(&c.m);
	vfm_destroy(vm);
}

static void test_rate_limit(void **state)
{
	(void)state;
	struct rate_ctx c = {0};
	map_init(&c.m, 1u << 16);
	struct run_counts n;
	vfm_state_t *vm = run_and_compare("rate_limit.vfm", model_rate, &c, &n);
	print_message("  %zu over the limit, %zu window resets, windows %llu..%llu, "
		      "%zu sources\n",
		      c.limited, c.resets, (unsigned long long)c.first_window,
		      (unsigned long long)c.last_window, c.m.entries);
	assert_true(n.accepted > 0);
	assert_true(c.limited > 0);                  /* bursts are limited */
	assert_true(c.resets > 0);                   /* and counts restart */
	assert_true(c.last_window - c.first_window >= 2);
	assert_int_equal(n.dropped, c.limited + n.bounds);
	assert_flow_matches(vm, &c.m);
	map_free(&c.m);
	vfm_destroy(vm);
}

/* Every example assembles, verifies, and its disassembly re-assembles to
 * the same bytes (without debug sections on both sides, which the
 * disassembly cannot reproduce: it has no source line numbers to keep). */
static void test_assemble_verify_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_EXAMPLES; i++) {
		const char *name = example_names[i];
		size_t len1, len2;
		uint8_t *b1 = assemble_example(name, 0, &len1);

		vfm_program_t *prog = NULL;
		vfm_diag_t diag;
		if (vfm_program_create(b1, len1, &prog, &diag) != VFM_OK)
			fail_msg("%s is rejected: %s", name, diag.message);
		assert_true(vfm_program_insn_count(prog) > 0);
		assert_true(vfm_program_max_depth(prog) <= 4);
		vfm_program_release(prog);

		char *text = NULL;
		if (vfm_disassemble(b1, len1, &text, &diag) != VFM_OK)
			fail_msg("%s does not disassemble: %s", name, diag.message);
		uint8_t *b2 = NULL;
		if (vfm_assemble(text, strlen(text), "disassembly", 0, &b2, &len2,
				 &diag) != VFM_OK)
			fail_msg("%s: disassembly does not re-assemble: %s\n%s", name,
				 diag.message, text);
		if (len1 != len2 || memcmp(b1, b2, len1) != 0)
			fail_msg("%s: disassembly re-assembles to different bytes:\n%s",
				 name, text);
		free(b1);
		free(b2);
		free(text);

		/* With debug sections it still loads (line table accepted). */
		b1 = assemble_example(name, 1, &len1);
		if (vfm_program_create(b1, len1, &prog, &diag) != VFM_OK)
			fail_msg("%s with debug sections is rejected: %s", name,
				 diag.message);
		vfm_program_release(prog);
		free(b1);
	}
}

/* The command-line path of the README: vfm-asm writes a file that
 * vfm-verify accepts. */
static void test_cli_tools(void **state)
{
	(void)state;
	char asm_tool[4096], verify_tool[4096];
	snprintf(asm_tool, sizeof asm_tool, "%s", ts_tool("vfm-asm"));
	snprintf(verify_tool, sizeof verify_tool, "%s", ts_tool("vfm-verify"));
	if (access(asm_tool, X_OK) != 0 || access(verify_tool, X_OK) != 0)
		skip();
	char dir[] = "/tmp/vfm-examples-XXXXXX";
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < N_EXAMPLES; i++) {
		char out[256], cmd[8192];
		char *output = NULL;
		snprintf(out, sizeof out, "%s/%zu.bin", dir, i);
		snprintf(cmd, sizeof cmd, "%s -o %s examples/%s", asm_tool, out,
			 example_names[i]);
		int rc = ts_run(cmd, &output);
		if (rc != 0)
			fail_msg("%s: exit %d\n%s", cmd, rc, output);
		free(output);
		snprintf(cmd, sizeof cmd, "%s %s", verify_tool, out);
		rc = ts_run(cmd, &output);
		if (rc != 0 || !strstr(output, "OK"))
			fail_msg("%s: exit %d\n%s", cmd, rc, output);
		free(output);
		unlink(out);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assemble_verify_roundtrip),
		cmocka_unit_test(test_cli_tools),
		cmocka_unit_test(test_quickstart),
		cmocka_unit_test(test_tcp_dst_port_80),
		cmocka_unit_test(test_block_ssh_telnet),
		cmocka_unit_test(test_ddos_detect),
		cmocka_unit_test(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, mix_setup, mix_teardown);
}
