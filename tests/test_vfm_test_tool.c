/*
 * tests/test_vfm_test_tool.c — vfm-gen and vfm-test, run as programs.
 *
 * vfm-test's numbers are checked against the library itself: the test reads
 * the same capture (tools/pcapio), runs the same filter with vfm_execute_ex
 * and the same timestamps and configuration, and expects vfm-test to print
 * exactly those counts, statuses and flow-table statistics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "kengine.h"
#include "program.h"
#include "test_support.h"
#include "pcapio.h"
#include "pktgen.h"

#define CAP_COUNT 3000

static char tmpdir[256];
static char gen[1024], tester[1024]; /* tool paths */
static char assembler[1024], filtertest[1024], verifier[1024], disassembler[1024];

static const char *const tmp_names[] = {
	"cap.pcap", "cap2.pcap", "cap3.pcap", "port80.bin", "synflood.bin", "tsbit.bin",
	"loop.bin", "accepted.pcap", "text.txt", "short.pcap", "garbage.bin",
	"rejected.bin", "sll.pcap", "synflood.jit", "sll.bin", "port80.vfm", "odd.pcap",
	"odd.out", "ng.pcapng", "ng.out", "verdicts.txt", "expr.bin", "expr.ddd", "ddd.bin",
	"sll-tcp.pcap", "expr-sll.bin", "jumbo.pcap",
};

#define N_TMP (sizeof tmp_names / sizeof tmp_names[0])

/* tmpdir/name; one stable buffer per name in tmp_names, so several paths
 * can appear in one command line. */
static const char *tmp_file(const char *name)
{
	static char paths[N_TMP][512];
	for (size_t i = 0; i < N_TMP; i++) {
		if (strcmp(tmp_names[i], name) == 0) {
			snprintf(paths[i], sizeof paths[i], "%s/%s", tmpdir, name);
			return paths[i];
		}
	}
	fail_msg("tmp_file: '%s' is not in tmp_names", name);
	return NULL;
}

static int group_setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/vfm-tooltest-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(gen, sizeof gen, "%s", ts_tool("vfm-gen"));
	snprintf(tester, sizeof tester, "%s", ts_tool("vfm-test"));
	snprintf(assembler, sizeof assembler, "%s", ts_tool("vfm-asm"));
	snprintf(filtertest, sizeof filtertest, "%s", ts_tool("vfm-filtertest"));
	snprintf(verifier, sizeof verifier, "%s", ts_tool("vfm-verify"));
	snprintf(disassembler, sizeof disassembler, "%s", ts_tool("vfm-dis"));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TMP; i++)
		unlink(tmp_file(tmp_names[i]));
	rmdir(tmpdir);
	return 0;
}

/* Run a command line built printf-style; returns the exit status and the
 * combined output (malloc'ed) in *out. */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof cmd);
	int rc = ts_run(cmd, out);
	if (strstr(*out, "Sanitizer")) /* sanitizer builds: a report fails */
		fail_msg("%s\n%s", cmd, *out);
	return rc;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Assemble source into tmpdir/name. */
static const char *filter_file(const char *name, const char *source)
{
	size_t len;
	uint8_t *bytes = ts_assemble(source, &len);
	const char *path = tmp_file(name);
	write_bytes(path, bytes, len);
	free(bytes);
	return path;
}

/* The filters: IPv4 TCP dst port 80 (IHL-aware, so truncated frames end
 * with BOUNDS); a per-source SYN counter in the flow table; the parity of
 * the microsecond timestamp (only right if vfm-test passes capture time);
 * a loop of LEN + 1 iterations (BUDGET with a small --budget). */
static const char port80_src[] =
	"\tLD16 12\n\tPUSH 0x800\n\tJNE drop\n"
	"\tLD8 23\n\tPUSH 6\n\tJNE drop\n"
	"\tLD16 20\n\tPUSH 0x1FFF\n\tJSET drop\n"
	"\tLD8 14\n\tPUSH 15\n\tAND\n\tPUSH 2\n\tSHL\n"
	"\tLD16X 16\n\tPUSH 80\n\tJNE drop\n"
	"\tRET 1\n"
	"drop:\n\tRET 0\n";
static const char synflood_src[] =
	"\tLD16 12\n\tPUSH 0x800\n\tJNE accept\n"
	"\tLD8 23\n\tPUSH 6\n\tJNE accept\n"
	"\tLD8 47\n\tPUSH 0x12\n\tAND\n\tPUSH 2\n\tJNE accept\n"
	"\tLD32 26\n\tDUP\n\tFLOW_LOAD\n\tPUSH 1\n\tADD\n\tDUP\n\tSTM 0\n\tFLOW_STORE\n"
	"\tLDM 0\n\tPUSH 20\n\tJGT drop\n"
	"accept:\n\tRET 1\n"
	"drop:\n\tRET 0\n";
static const char tsbit_src[] =
	"\tTS\n\tPUSH 1000\n\tDIV\n\tPUSH 1\n\tAND\n\tRET\n";
static const char loop_src[] =
	"\tLEN\n\tPUSH 1\n\tADD\n"
	"loop:\n\tPUSH 1\n\tSUB\n\tDUP\n\tPUSH 0\n\tJGT loop\n"
	"\tPOP\n\tRET 1\n";

/* A capture made by vfm-gen (the tool under test too). */
static const char *capture(void)
{
	static int made;
	const char *path = tmp_file("cap.pcap");
	if (!made) {
		char *out;
		int rc = run(&out, "'%s' -n %d -s 11 -o '%s'", gen, CAP_COUNT, path);
		if (rc != 0)
			fail_msg("vfm-gen failed (%d): %s", rc, out);
		free(out);
		made = 1;
	}
	return path;
}

struct expect {
	size_t accepted;
	size_t status[VFM_STATUS_COUNT];
	vfm_flow_stats_t flow;
	vfm_result_t *results; /* one per packet */
};

/* What the library says for this filter, capture and configuration. */
static void reference(const char *filter, const struct pcapio_capture *cap,
		      const vfm_config_t *cfg, struct expect *e)
{
	vfm_diag_t diag;
	vfm_program_t *prog;
	memset(e, 0, sizeof *e);
	if (vfm_program_create_file(filter, &prog, &diag) != VFM_OK)
		fail_msg("%s", diag.message);
	vfm_state_t *vm = vfm_create_with(cfg, &diag);
	assert_non_null(vm);
	assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
	e->results = calloc(cap->count + 1, sizeof *e->results);
	assert_non_null(e->results);
	for (size_t i = 0; i < cap->count; i++) {
		vfm_packet_t p = {.data = cap->pkts[i].data, .len = cap->pkts[i].caplen, .ts_ns = cap->pkts[i].ts_ns,
				  .wire_len = cap->pkts[i].len};
		assert_int_equal(vfm_execute_ex(vm, &p, &e->results[i]), VFM_OK);
		e->accepted += e->results[i].verdict != 0;
		e->status[e->results[i].status]++;
	}
	assert_int_equal(vfm_flow_stats(vm, &e->flow), VFM_OK);
	vfm_destroy(vm);
	vfm_program_release(prog);
}

static void read_capture(const char *path, struct pcapio_capture *cap)
{
	char err[PCAPIO_ERRBUF];
	if (pcapio_read(path, cap, err) != 0)
		fail_msg("%s", err);
}

/* The number after key in out (first occurrence); fails if absent. */
static unsigned long long number_after(const char *out, const char *key)
{
	const char *p = strstr(out, key);
	if (!p)
		fail_msg("no '%s' in output:\n%s", key, out);
	char *end;
	unsigned long long v = strtoull(p + strlen(key), &end, 10);
	if (end == p + strlen(key))
		fail_msg("no number after '%s' in output:\n%s", key, out);
	return v;
}

static void check_report(const char *out, size_t packets, const struct expect *e)
{
	char key[64];
	assert_int_equal(number_after(out, "packets:"), packets);
	assert_int_equal(number_after(out, "accepted:"), e->accepted);
	assert_int_equal(number_after(out, "dropped:"), packets - e->accepted);
	for (unsigned s = 0; s < VFM_STATUS_COUNT; s++) {
		snprintf(key, sizeof key, "status %s ", vfm_status_name((vfm_status_t)s));
		assert_int_equal(number_after(out, key), e->status[s]);
	}
	const char *flow = strstr(out, "flow table:");
	assert_non_null(flow);
	assert_int_equal(number_after(flow, "capacity "), e->flow.capacity);
	assert_int_equal(number_after(flow, "entries "), e->flow.entries);
	assert_int_equal(number_after(flow, "hits "), e->flow.hits);
	assert_int_equal(number_after(flow, "misses "), e->flow.misses);
	assert_int_equal(number_after(flow, "inserts "), e->flow.inserts);
	assert_int_equal(number_after(flow, "updates "), e->flow.updates);
	assert_int_equal(number_after(flow, "evictions "), e->flow.evictions);
	assert_non_null(strstr(out, "throughput:"));
	assert_non_null(strstr(out, "ns/packet"));
}

/* Run vfm-test with opts and compare with the library under cfg. */
static void compare(const char *name, const char *source, const char *opts,
		    const vfm_config_t *cfg, struct expect *keep)
{
	const char *filter = filter_file(name, source);
	const char *cap_path = capture();
	struct pcapio_capture cap;
	read_capture(cap_path, &cap);
	assert_int_equal(cap.count, CAP_COUNT);
	struct expect e;
	reference(filter, &cap, cfg, &e);
	char *out;
	int rc = run(&out, "'%s' %s '%s' '%s'", tester, opts, filter, cap_path);
	if (rc != 0)
		fail_msg("vfm-test exit %d:\n%s", rc, out);
	check_report(out, cap.count, &e);
	free(out);
	pcapio_free(&cap);
	if (keep)
		*keep = e;
	else
		free(e.results);
}

static void test_counts_match_library(void **state)
{
	(void)state;
	struct expect e;
	compare("port80.bin", port80_src, "", NULL, &e);
	/* The capture exercises both verdicts and out-of-bounds loads. */
	assert_true(e.accepted > CAP_COUNT / 20);
	assert_true(e.accepted < CAP_COUNT);
	assert_true(e.status[VFM_STATUS_BOUNDS] > 0);
	free(e.results);
}

static void test_flow_table_counts(void **state)
{
	(void)state;
	struct expect e;
	compare("synflood.bin", synflood_src, "", NULL, &e);
	assert_true(e.flow.hits > 0 && e.flow.inserts > 0);
	assert_true(e.accepted < CAP_COUNT); /* the flood is cut */
	free(e.results);

	/* A tiny table: evictions, and the capacity reported as configured. */
	vfm_config_t cfg = {.flow_capacity = 4};
	compare("synflood.bin", synflood_src, "--flow-capacity 4", &cfg, &e);
	assert_int_equal(e.flow.capacity, 4);
	assert_true(e.flow.evictions > 0);
	free(e.results);
}

/* Capture timestamps reach TS: the parity of the microsecond changes from
 * packet to packet, and a run with every ts 0 would accept nothing. */
static void test_timestamps_reach_ts(void **state)
{
	(void)state;
	struct expect e;
	compare("tsbit.bin", tsbit_src, "", NULL, &e);
	assert_true(e.accepted > CAP_COUNT / 4 && e.accepted < CAP_COUNT * 3 / 4);
	free(e.results);
}

static void test_budget_option(void **state)
{
	(void)state;
	struct expect e;
	vfm_config_t cfg = {.budget = 100, .budget_set = 1};
	compare("loop.bin", loop_src, "--budget 100", &cfg, &e);
	assert_true(e.status[VFM_STATUS_BUDGET] > 0);
	assert_true(e.status[VFM_STATUS_OK] > 0);
	free(e.results);
	/* Budget 0: every packet that would jump back ends with BUDGET. */
	cfg.budget = 0;
	compare("loop.bin", loop_src, "--budget 0", &cfg, &e);
	free(e.results);
	compare("loop.bin", loop_src, "", NULL, &e);
	assert_int_equal(e.status[VFM_STATUS_BUDGET], 0);
	free(e.results);
}

static void test_repeat_and_jit(void **state)
{
	(void)state;
	struct expect e;
	compare("synflood.bin", synflood_src, "--repeat 3", NULL, &e);
	free(e.results);
	char *out;
	const char *filter = tmp_file("synflood.bin");
	if (run(&out, "'%s' --repeat 3 '%s' '%s'", tester, filter, capture()) != 0)
		fail_msg("%s", out);
	assert_non_null(strstr(out, "3 passes"));
	assert_non_null(strstr(out, "fastest pass"));
	free(out);

	/* --jit: either a JIT runs, or the tool says so and interprets. */
	vfm_state_t *vm = ts_vm_from_asm("\tRET 1\n");
	vfm_error_t jit = vfm_enable_jit(vm);
	vfm_destroy(vm);
	compare("synflood.bin", synflood_src, "--jit", NULL, &e);
	free(e.results);
	/* --jit-harden (constant blinding): the same counts. */
	compare("synflood.bin", synflood_src, "--jit-harden", NULL, &e);
	free(e.results);
	assert_int_equal(run(&out, "'%s' --jit '%s' '%s'", tester, filter, capture()), 0);
	if (jit == VFM_EUNSUPPORTED) {
		assert_non_null(strstr(out, "JIT unsupported"));
		assert_non_null(strstr(out, "engine:      interpreter"));
	} else {
		assert_non_null(strstr(out, "engine:      jit"));
		/* --jit-dump writes the native code: it starts with a push
		 * (0x53 push rbx, 0x55 push rbp, or REX 0x41) and ends in RET. */
		free(out);
		const char *dump = tmp_file("synflood.jit");
		assert_int_equal(run(&out, "'%s' --jit --jit-dump '%s' '%s' '%s'", tester, dump,
				     filter, capture()),
				 0);
		FILE *f = fopen(dump, "rb");
		assert_non_null(f);
		uint8_t code[4096];
		size_t n = fread(code, 1, sizeof code, f);
		fclose(f);
		assert_true(n > 16);
#if defined(__aarch64__)
		/* AArch64: the last word is RET (0xD65F03C0, little-endian). */
		static const uint8_t ret[4] = {0xC0, 0x03, 0x5F, 0xD6};
		assert_memory_equal(code + n - 4, ret, 4);
#else
		assert_int_equal(code[n - 1], 0xC3);
#endif
	}
	free(out);
}

/* -w writes exactly the accepted packets, in order, unchanged. */
static void test_write_accepted(void **state)
{
	(void)state;
	const char *filter = filter_file("port80.bin", port80_src);
	struct pcapio_capture cap, acc;
	read_capture(capture(), &cap);
	struct expect e;
	reference(filter, &cap, NULL, &e);
	char *out;
	char acc_path[512];
	snprintf(acc_path, sizeof acc_path, "%s", tmp_file("accepted.pcap"));
	int rc = run(&out, "'%s' -w '%s' '%s' '%s'", tester, acc_path, filter, capture());
	if (rc != 0)
		fail_msg("vfm-test exit %d:\n%s", rc, out);
	free(out);
	read_capture(acc_path, &acc);
	assert_int_equal(acc.count, e.accepted);
	assert_int_equal(acc.linktype, cap.linktype);
	size_t j = 0;
	for (size_t i = 0; i < cap.count; i++) {
		if (!e.results[i].verdict)
			continue;
		assert_true(j < acc.count);
		assert_int_equal(acc.pkts[j].caplen, cap.pkts[i].caplen);
		assert_int_equal(acc.pkts[j].len, cap.pkts[i].len);
		assert_int_equal(acc.pkts[j].ts_ns, cap.pkts[i].ts_ns);
		assert_memory_equal(acc.pkts[j].data, cap.pkts[i].data, cap.pkts[i].caplen);
		j++;
	}
	assert_int_equal(j, acc.count);
	pcapio_free(&acc);
	pcapio_free(&cap);
	free(e.results);

	/* An unwritable output is an I/O error naming the file. */
	rc = run(&out, "'%s' -w '%s/no-such-dir/x.pcap' '%s' '%s'", tester, tmpdir, filter,
		 capture());
	if (rc != 3 || !strstr(out, "no-such-dir/x.pcap"))
		fail_msg("exit %d:\n%s", rc, out);
	free(out);
}

/* -v: one line per packet, in order, with the library's verdict. */
static void test_verbose(void **state)
{
	(void)state;
	const char *filter = filter_file("port80.bin", port80_src);
	struct pcapio_capture cap;
	read_capture(capture(), &cap);
	struct expect e;
	reference(filter, &cap, NULL, &e);
	char *out;
	assert_int_equal(run(&out, "'%s' -v '%s' '%s'", tester, filter, capture()), 0);
	size_t lines = 0;
	char *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "packet ", 7) != 0)
			continue;
		assert_true(lines < cap.count);
		unsigned long idx;
		unsigned len, verdict;
		char status[32];
		assert_int_equal(sscanf(line, "packet %lu: len %u verdict %u %*s status %31s",
					&idx, &len, &verdict, status), 4);
		assert_int_equal(idx, lines + 1);
		assert_int_equal(len, cap.pkts[lines].caplen);
		assert_int_equal(verdict, e.results[lines].verdict);
		assert_string_equal(status, vfm_status_name(e.results[lines].status));
		lines++;
	}
	assert_int_equal(lines, cap.count);
	free(out);
	free(e.results);
	pcapio_free(&cap);
}

/* Expect a failure with this exit status and a message naming name. */
static void expect_failure(int want_rc, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void expect_failure(int want_rc, const char *name, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	char *out;
	int rc = ts_run(cmd, &out);
	if (rc != want_rc || (name && !strstr(out, name)) || strstr(out, "Sanitizer"))
		fail_msg("%s\nexit %d (want %d), output:\n%s", cmd, rc, want_rc, out);
	free(out);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	const char *filter = filter_file("port80.bin", port80_src);
	char f[512], cap[512];
	snprintf(f, sizeof f, "%s", filter);
	snprintf(cap, sizeof cap, "%s", capture());

	/* Captures: missing, not a capture, cut short. */
	expect_failure(3, "missing.pcap", "'%s' '%s' '%s/missing.pcap'", tester, f, tmpdir);
	write_bytes(tmp_file("text.txt"), "just some text, no capture\n", 27);
	expect_failure(3, "text.txt", "'%s' '%s' '%s'", tester, f, tmp_file("text.txt"));
	FILE *in = fopen(cap, "rb");
	assert_non_null(in);
	uint8_t head[3000];
	assert_int_equal(fread(head, 1, sizeof head, in), sizeof head);
	fclose(in);
	write_bytes(tmp_file("short.pcap"), head, sizeof head);
	/* Cut off in the middle of a record: the complete packets are run and
	 * reported, with a warning and exit status 4. */
	char *out;
	assert_int_equal(run(&out, "'%s' '%s' '%s'", tester, f, tmp_file("short.pcap")), 4);
	assert_non_null(strstr(out, "warning"));
	assert_non_null(strstr(out, "truncated"));
	struct pcapio_capture whole;
	read_capture(cap, &whole);
	size_t complete = 0, off = 24; /* pcap file header, then 16-byte records */
	while (off + 16 + whole.pkts[complete].caplen <= sizeof head)
		off += 16 + whole.pkts[complete++].caplen;
	assert_true(complete > 0);
	assert_int_equal(number_after(out, "packets:"), complete);
	pcapio_free(&whole);
	free(out);

	/* Filters: missing, not bytecode, rejected by the verifier. */
	expect_failure(3, "missing.bin", "'%s' '%s/missing.bin' '%s'", tester, tmpdir, cap);
	write_bytes(tmp_file("garbage.bin"), "\x7f" "VFM garbage garbage garbage", 27);
	expect_failure(1, "garbage.bin", "'%s' '%s' '%s'", tester, tmp_file("garbage.bin"), cap);
	write_bytes(tmp_file("text.txt"), "just some text\n", 15);
	expect_failure(1, "neither VFM bytecode (bad magic) nor assembly", "'%s' '%s' '%s'",
		       tester, tmp_file("text.txt"), cap);
	expect_failure(1, "cap.pcap", "'%s' '%s' '%s'", tester, cap, cap);
	/* Falls off the end (PUSH 1; POP): a well-formed file the verifier
	 * refuses.  Written with the file writer, as the assembler may refuse
	 * to produce it. */
	static const uint8_t code[] = {VFM_OPC_PUSH, 1, 0, 0, 0, 0, 0, 0, 0, VFM_OPC_POP};
	uint8_t *bytes = NULL;
	size_t len = 0;
	assert_int_equal(vfm_file_write(code, sizeof code, NULL, 0, NULL, NULL, &bytes, &len), VFM_OK);
	write_bytes(tmp_file("rejected.bin"), bytes, len);
	free(bytes);
	expect_failure(1, "rejected.bin", "'%s' '%s' '%s'", tester, tmp_file("rejected.bin"), cap);

	/* Command lines. */
	expect_failure(2, NULL, "'%s'", tester);
	expect_failure(2, NULL, "'%s' '%s'", tester, f);
	expect_failure(2, NULL, "'%s' '%s' '%s' extra", tester, f, cap);
	expect_failure(2, "--repeat", "'%s' --repeat 0 '%s' '%s'", tester, f, cap);
	expect_failure(2, "--budget", "'%s' --budget 12x '%s' '%s'", tester, f, cap);
	expect_failure(2, "--budget", "'%s' --budget -1 '%s' '%s'", tester, f, cap);
	expect_failure(2, "power of two", "'%s' --flow-capacity 3 '%s' '%s'", tester, f, cap);
	expect_failure(2, NULL, "'%s' --no-such-option '%s' '%s'", tester, f, cap);
}

static void test_help(void **state)
{
	(void)state;
	char *out;
	assert_int_equal(run(&out, "'%s' --help", tester), 0);
	assert_non_null(strstr(out, "usage: vfm-test"));
	assert_non_null(strstr(out, "--repeat"));
	free(out);
	assert_int_equal(run(&out, "'%s' -h", gen), 0);
	assert_non_null(strstr(out, "usage: vfm-gen"));
	free(out);
}

/* vfm-gen: the same seed gives the same file; another seed another. */
static void test_gen_deterministic(void **state)
{
	(void)state;
	char *out;
	char a[512], b[512], c[512];
	snprintf(a, sizeof a, "%s", capture());
	snprintf(b, sizeof b, "%s", tmp_file("cap2.pcap"));
	snprintf(c, sizeof c, "%s", tmp_file("cap3.pcap"));
	assert_int_equal(run(&out, "'%s' -n %d -s 11 -o '%s'", gen, CAP_COUNT, b), 0);
	free(out);
	assert_int_equal(run(&out, "'%s' --count %d --seed 12 --output '%s'", gen, CAP_COUNT, c), 0);
	assert_non_null(strstr(out, "3000 packets"));
	free(out);
	assert_int_equal(run(&out, "cmp -s '%s' '%s'", a, b), 0);
	free(out);
	assert_int_not_equal(run(&out, "cmp -s '%s' '%s'", a, c), 0);
	free(out);

	/* The file holds what the library generates for the same seed. */
	struct pcapio_capture cap;
	read_capture(a, &cap);
	struct pktgen_set set;
	struct pktgen_config cfg = {.seed = 11, .count = CAP_COUNT};
	assert_int_equal(pktgen_generate(&cfg, &set), 0);
	assert_int_equal(cap.count, set.count);
	for (size_t i = 0; i < cap.count; i++) {
		assert_int_equal(cap.pkts[i].caplen, set.pkts[i].len);
		assert_int_equal(cap.pkts[i].len, set.pkts[i].wire_len);
		assert_int_equal(cap.pkts[i].ts_ns, set.pkts[i].ts_ns);
	}
	assert_memory_equal(cap.buf, set.buf, set.buf_len);
	pktgen_free(&set);
	pcapio_free(&cap);
}

static void test_gen_bad_arguments(void **state)
{
	(void)state;
	char out_path[512];
	snprintf(out_path, sizeof out_path, "%s", tmp_file("cap3.pcap"));
	expect_failure(2, "count", "'%s' -n abc -o '%s'", gen, out_path);
	expect_failure(2, "count", "'%s' -n -5 -o '%s'", gen, out_path);
	expect_failure(2, "count", "'%s' -n 10x -o '%s'", gen, out_path);
	expect_failure(2, "count", "'%s' -n 99999999999 -o '%s'", gen, out_path);
	expect_failure(2, "seed", "'%s' -s '' -o '%s'", gen, out_path);
	expect_failure(2, "seed", "'%s' -s 0xZZ -o '%s'", gen, out_path);
	expect_failure(2, "output", "'%s' -n 10", gen);
	expect_failure(2, NULL, "'%s' -n 10 -o '%s' stray", gen, out_path);
	expect_failure(2, NULL, "'%s' --bogus -o '%s'", gen, out_path);
	expect_failure(3, "no-such-dir", "'%s' -n 10 -o '%s/no-such-dir/x.pcap'", gen, tmpdir);
	char *out;
	assert_int_equal(run(&out, "'%s' -n 0 -s 0x10 -o '%s'", gen, out_path), 0);
	free(out);
}

/* A capture of another link type: a program for Ethernet (declared or by
 * default) is refused, unless --linktype-ok; one that declares the
 * capture's link type runs. */
static void test_linktype(void **state)
{
	(void)state;
	char err[PCAPIO_ERRBUF];
	const char *path = tmp_file("sll.pcap");
	struct pcapio_writer *w = pcapio_writer_open(path, 113 /* LINUX_SLL */, 0, err);
	assert_non_null(w);
	static const uint8_t pkt[20] = {0};
	for (int i = 0; i < 5; i++)
		assert_int_equal(pcapio_write(w, pkt, sizeof pkt, sizeof pkt, (uint64_t)i), 0);
	assert_int_equal(pcapio_writer_close(w, err), 0);
	const char *filter = filter_file("port80.bin", port80_src);
	expect_failure(1, "link type LINUX_SLL", "'%s' '%s' '%s'", tester, filter, path);
	char *out;
	assert_int_equal(run(&out, "'%s' --linktype-ok '%s' '%s'", tester, filter, path), 0);
	assert_int_equal(number_after(out, "packets:"), 5);
	free(out);
	const char *sll = filter_file("sll.bin", ".linktype LINUX_SLL\nLD16 14\nRET\n");
	assert_int_equal(run(&out, "'%s' '%s' '%s'", tester, sll, path), 0);
	assert_int_equal(number_after(out, "packets:"), 5);
	free(out);
	/* ... and is refused on Ethernet. */
	expect_failure(1, "written for link type LINUX_SLL", "'%s' '%s' '%s'", tester, sll,
		       capture());
}

/* An assembly source as the filter, -c, --verdicts and --json. */
static void test_source_count_verdicts_json(void **state)
{
	(void)state;
	const char *src = tmp_file("port80.vfm");
	write_bytes(src, port80_src, strlen(port80_src));
	const char *filter = filter_file("port80.bin", port80_src);
	char *a, *b;
	assert_int_equal(run(&a, "'%s' '%s' '%s'", tester, src, capture()), 0);
	assert_int_equal(run(&b, "'%s' '%s' '%s'", tester, filter, capture()), 0);
	assert_int_equal(number_after(a, "accepted:"), number_after(b, "accepted:"));
	assert_int_equal(number_after(a, "packets:"), CAP_COUNT);
	free(a);
	free(b);

	assert_int_equal(run(&a, "'%s' -c 100 '%s' '%s'", tester, filter, capture()), 0);
	assert_int_equal(number_after(a, "packets:"), 100);
	free(a);

	/* --verdicts: index, s.ns, caplen, len, verdict, status per line, as
	 * the library computes them. */
	struct pcapio_capture cap;
	read_capture(capture(), &cap);
	struct expect e;
	reference(filter, &cap, NULL, &e);
	const char *listing = tmp_file("verdicts.txt");
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "'%s' --verdicts -c 500 '%s' '%s' > '%s'", tester, filter,
		 capture(), listing);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(listing, "r");
	assert_non_null(f);
	char line[256];
	size_t rows = 0;
	while (fgets(line, sizeof line, f) && rows < 500) {
		size_t idx;
		unsigned long long sec, ns;
		unsigned caplen, len, verdict;
		char status[32];
		assert_int_equal(sscanf(line, "%zu\t%llu.%llu\t%u\t%u\t%u\t%31s", &idx, &sec, &ns,
					&caplen, &len, &verdict, status), 7);
		const struct pcapio_packet *p = &cap.pkts[rows];
		assert_int_equal(idx, rows + 1);
		assert_int_equal(sec * 1000000000ull + ns, p->ts_ns);
		assert_int_equal(caplen, p->caplen);
		assert_int_equal(len, p->len);
		assert_int_equal(verdict, e.results[rows].verdict);
		assert_string_equal(status, vfm_status_name(e.results[rows].status));
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, 500);

	/* --json: one object with the same counts. */
	assert_int_equal(run(&a, "'%s' --json '%s' '%s'", tester, filter, capture()), 0);
	assert_true(a[0] == '{');
	char want[128];
	snprintf(want, sizeof want, "\"packets\":%d,\"accepted\":%zu,", CAP_COUNT, e.accepted);
	assert_non_null(strstr(a, want));
	snprintf(want, sizeof want, "\"BOUNDS\":%zu", e.status[VFM_STATUS_BOUNDS]);
	assert_non_null(strstr(a, want));
	assert_non_null(strstr(a, "\"truncated\":false"));
	free(a);
	free(e.results);
	pcapio_free(&cap);
}

/* Timestamps and lengths go through -w exactly as read: a time before 1970,
 * an original length below the captured one; pcapng in gives pcapng out,
 * with a time classic pcap cannot hold.  Snapped packets are counted. */
static void test_write_exact(void **state)
{
	(void)state;
	char err[PCAPIO_ERRBUF];
	static const uint8_t pkt[64] = {[12] = 0x08};
	const uint64_t ts[3] = {(uint64_t)-1500000000ll, 7, 1ull << 62};
	const uint32_t len[3] = {10, 64, 1000};
	for (int ng = 0; ng < 2; ng++) {
		const char *in = tmp_file(ng ? "ng.pcapng" : "odd.pcap");
		const char *out_path = tmp_file(ng ? "ng.out" : "odd.out");
		struct pcapio_writer *w = pcapio_writer_open_format(
			in, PCAPIO_LINKTYPE_ETHERNET, 0, ng ? PCAPIO_PCAPNG : PCAPIO_PCAP, err);
		assert_non_null(w);
		int n = ng ? 3 : 2; /* 2^62 ns does not fit classic pcap */
		for (int i = 0; i < n; i++)
			assert_int_equal(pcapio_write(w, pkt, sizeof pkt, len[i], ts[i]), 0);
		assert_int_equal(pcapio_writer_close(w, err), 0);
		const char *all = filter_file("sll.bin", "RET 1\n");
		char *out;
		assert_int_equal(run(&out, "'%s' -w '%s' '%s' '%s'", tester, out_path, all, in), 0);
		assert_int_equal(number_after(out, "snapped:"), ng ? 1 : 0);
		free(out);
		struct pcapio_capture cap;
		read_capture(out_path, &cap);
		assert_int_equal(cap.count, n);
		assert_int_equal(cap.pcapng, ng);
		for (int i = 0; i < n; i++) {
			assert_int_equal(cap.pkts[i].ts_ns, ts[i]);
			assert_int_equal(cap.pkts[i].len, len[i]);
			assert_int_equal(cap.pkts[i].caplen, sizeof pkt);
		}
		pcapio_free(&cap);
	}
	/* Classic pcap refuses what it cannot hold, rather than wrapping. */
	struct pcapio_writer *w = pcapio_writer_open(tmp_file("odd.out"), 1, 0, err);
	assert_non_null(w);
	assert_int_equal(pcapio_write(w, pkt, sizeof pkt, sizeof pkt, 1ull << 62), -1);
	assert_int_not_equal(pcapio_writer_close(w, err), 0);
	assert_non_null(strstr(err, "pcapng"));
}

/* ---- classic BPF in: -e, --cbpf, vfm-filtertest, --equiv-cbpf --------- */

static const char *const expressions[] = {
	"tcp dst port 80", "udp or icmp", "ip6 and tcp", "vlan and ip", "greater 200",
	"ip[8] < 64", "tcp[tcpflags] & tcp-syn != 0", "net 10.0.0.0/8", "not arp",
};

/* bpf_filter's value for every packet of cap, for expr compiled for the
 * capture's link type and snaplen. */
static u_int *libpcap_verdicts(const char *expr, const struct pcapio_capture *cap)
{
	pcap_t *pd = pcap_open_dead(cap->linktype, (int)cap->snaplen);
	assert_non_null(pd);
	struct bpf_program fp;
	if (pcap_compile(pd, &fp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
		fail_msg("pcap_compile(%s): %s", expr, pcap_geterr(pd));
	u_int *v = calloc(cap->count + 1, sizeof *v);
	assert_non_null(v);
	for (size_t i = 0; i < cap->count; i++)
		v[i] = bpf_filter(fp.bf_insns, cap->pkts[i].data, cap->pkts[i].len,
				  cap->pkts[i].caplen);
	pcap_freecode(&fp);
	pcap_close(pd);
	return v;
}

/* vfm-test --verdicts output against libpcap, exactly. */
static void expect_listing(const char *cmd_prefix, const char *capture_path, const char *expr)
{
	struct pcapio_capture cap;
	read_capture(capture_path, &cap);
	u_int *want = libpcap_verdicts(expr, &cap);
	const char *listing = tmp_file("verdicts.txt");
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "%s --verdicts '%s' > '%s'", cmd_prefix, capture_path, listing);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
	FILE *f = fopen(listing, "r");
	assert_non_null(f);
	char line[256];
	size_t rows = 0;
	while (fgets(line, sizeof line, f)) {
		size_t idx;
		unsigned verdict;
		if (sscanf(line, "%zu\t%*s\t%*u\t%*u\t%u", &idx, &verdict) != 2)
			continue; /* the summary lines after the listing */
		assert_true(rows < cap.count);
		if (verdict != want[rows])
			fail_msg("%s: packet %zu: VFM %u, bpf_filter %u", expr, rows + 1, verdict,
				 want[rows]);
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, cap.count);
	free(want);
	pcapio_free(&cap);
}

static void test_expression_engines_equal_libpcap(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof expressions / sizeof expressions[0]; i++) {
		char prefix[2048];
		snprintf(prefix, sizeof prefix, "'%s' -e '%s'", tester, expressions[i]);
		expect_listing(prefix, capture(), expressions[i]);
		snprintf(prefix, sizeof prefix, "'%s' --jit -e '%s'", tester, expressions[i]);
		expect_listing(prefix, capture(), expressions[i]);
		/* vfm-asm -e, then the file: the same, and Z3 finds no packet
		 * on which the translation and its cBPF origin differ. */
		const char *bin = tmp_file("expr.bin");
		char *out;
		assert_int_equal(run(&out, "'%s' -e '%s' -o '%s'", assembler, expressions[i], bin), 0);
		free(out);
		snprintf(prefix, sizeof prefix, "'%s' '%s'", tester, bin);
		expect_listing(prefix, capture(), expressions[i]);
		assert_int_equal(run(&out, "'%s' --equiv-cbpf --max-len 128 '%s'", verifier, bin), 0);
		assert_non_null(strstr(out, "equal to its cBPF origin"));
		free(out);
	}
	char *out;
	/* Bad expressions: a clear error, exit 1, nothing written. */
	assert_int_equal(run(&out, "'%s' -e 'tcp dst port' '%s'", tester, capture()), 1);
	assert_non_null(strstr(out, "cannot compile 'tcp dst port'"));
	free(out);
	assert_int_equal(run(&out, "'%s' -e 'tcp dst port' -o '%s'", assembler,
			     tmp_file("expr.bin")), 1);
	free(out);
	assert_int_equal(run(&out, "'%s' -e ip", assembler), 2); /* -o needed */
	free(out);
	assert_int_equal(run(&out, "'%s' -e ip --dlt NO_SUCH -o '%s'", assembler,
			     tmp_file("expr.bin")), 2);
	assert_non_null(strstr(out, "unknown link type"));
	free(out);
	/* The disassembly shows the cBPF origin. */
	assert_int_equal(run(&out, "'%s' -e 'udp' -o '%s'", assembler, tmp_file("expr.bin")), 0);
	free(out);
	assert_int_equal(run(&out, "'%s' '%s'", disassembler, tmp_file("expr.bin")), 0);
	assert_non_null(strstr(out, "; translated from classic BPF"));
	assert_non_null(strstr(out, "ldh      [12]"));
	assert_non_null(strstr(out, ".linktype EN10MB"));
	free(out);
}

/* A Linux cooked capture: -e compiles for LINUX_SLL and agrees with
 * libpcap; a program compiled for SLL runs on it, not on Ethernet. */
static void test_expression_other_linktype(void **state)
{
	(void)state;
	char err[PCAPIO_ERRBUF];
	const char *path = tmp_file("sll-tcp.pcap");
	struct pcapio_writer *w = pcapio_writer_open(path, 113 /* LINUX_SLL */, 0, err);
	assert_non_null(w);
	struct pcapio_capture eth;
	read_capture(capture(), &eth);
	/* The Ethernet mix re-framed: a 16-byte SLL header (protocol from the
	 * EtherType) instead of the 14-byte Ethernet one. */
	for (size_t i = 0; i < eth.count; i++) {
		const struct pcapio_packet *p = &eth.pkts[i];
		if (p->caplen < 14)
			continue;
		uint8_t buf[16384];
		size_t body = p->caplen - 14;
		if (body + 16 > sizeof buf)
			continue;
		memset(buf, 0, 16);
		buf[14] = p->data[12];
		buf[15] = p->data[13];
		memcpy(buf + 16, p->data + 14, body);
		assert_int_equal(pcapio_write(w, buf, (uint32_t)(body + 16), p->len + 2, p->ts_ns), 0);
	}
	assert_int_equal(pcapio_writer_close(w, err), 0);
	pcapio_free(&eth);
	char prefix[2048];
	snprintf(prefix, sizeof prefix, "'%s' -e 'tcp dst port 80'", tester);
	expect_listing(prefix, path, "tcp dst port 80");
	const char *bin = tmp_file("expr-sll.bin");
	char *out;
	assert_int_equal(run(&out, "'%s' -e 'tcp dst port 80' --dlt LINUX_SLL -o '%s'", assembler,
			     bin), 0);
	free(out);
	snprintf(prefix, sizeof prefix, "'%s' '%s'", tester, bin);
	expect_listing(prefix, path, "tcp dst port 80");
	expect_failure(1, "written for link type LINUX_SLL", "'%s' '%s' '%s'", tester, bin,
		       capture());
}

/* tcpdump -ddd listings in. */
static void test_cbpf_listing(void **state)
{
	(void)state;
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program fp;
	assert_int_equal(pcap_compile(pd, &fp, "tcp dst port 80", 1, PCAP_NETMASK_UNKNOWN), 0);
	const char *ddd = tmp_file("expr.ddd");
	FILE *f = fopen(ddd, "w");
	assert_non_null(f);
	fprintf(f, "%u\n", fp.bf_len);
	for (unsigned i = 0; i < fp.bf_len; i++)
		fprintf(f, "%u %u %u %u\n", fp.bf_insns[i].code, fp.bf_insns[i].jt,
			fp.bf_insns[i].jf, fp.bf_insns[i].k);
	fclose(f);
	pcap_freecode(&fp);
	pcap_close(pd);
	const char *bin = tmp_file("ddd.bin");
	char *out;
	assert_int_equal(run(&out, "'%s' --cbpf '%s' -o '%s'", assembler, ddd, bin), 0);
	free(out);
	char prefix[2048];
	snprintf(prefix, sizeof prefix, "'%s' '%s'", tester, bin);
	expect_listing(prefix, capture(), "tcp dst port 80");
	/* Malformed listings name the line. */
	write_bytes(ddd, "2\n40 0 0 12\n6 0 0\n", strlen("2\n40 0 0 12\n6 0 0\n"));
	assert_int_equal(run(&out, "'%s' --cbpf '%s' -o '%s'", assembler, ddd, bin), 1);
	assert_non_null(strstr(out, "line 3"));
	free(out);
	write_bytes(ddd, "3\n6 0 0 1\n", strlen("3\n6 0 0 1\n"));
	assert_int_equal(run(&out, "'%s' --cbpf '%s' -o '%s'", assembler, ddd, bin), 1);
	assert_non_null(strstr(out, "the count says 3"));
	free(out);
}

/* vfm-filtertest: filtertest's interface; -r prints VFM's verdicts. */
/* --engine=kernel: the same report and verdicts as the interpreter, from
 * the eBPF program under BPF_PROG_TEST_RUN (with TS: the tsbit filter;
 * with the budget: the loop filter; with the flow table: synflood, its
 * counters read back from the map); clear errors without bpf(). */
static void test_engine_kernel(void **state)
{
	(void)state;
	char why[256], *out, *ref;
	const char *filter = filter_file("port80.bin", port80_src);
	assert_int_equal(run(&out, "'%s' --engine=kernel --jit '%s' '%s'", tester, filter,
			     capture()), 2);
	free(out);
	assert_int_equal(run(&out, "'%s' --engine=gpu '%s' '%s'", tester, filter, capture()), 2);
	assert_non_null(strstr(out, "bad --engine 'gpu'"));
	free(out);
	if (!kengine_available(why, sizeof why)) {
		/* Without bpf(): a clear error, exit 1. */
		assert_int_equal(run(&out, "'%s' --engine=kernel '%s' '%s'", tester, filter,
				     capture()), 1);
		assert_non_null(strstr(out, "the kernel refuses to load or run eBPF"));
		free(out);
		print_message("skipped: the kernel engine's runs: %s\n", why);
		skip();
	}
	compare("port80.bin", port80_src, "--engine=kernel", NULL, NULL);
	compare("tsbit.bin", tsbit_src, "--engine=kernel", NULL, NULL);
	vfm_config_t cfg = {.budget = 100, .budget_set = 1};
	struct expect e;
	compare("loop.bin", loop_src, "--engine=kernel --budget 100", &cfg, &e);
	assert_true(e.status[VFM_STATUS_BUDGET] > 0);
	free(e.results);
	/* --verdicts: the same line for every packet */
	assert_int_equal(run(&ref, "'%s' --verdicts '%s' '%s'", tester, filter, capture()), 0);
	assert_int_equal(run(&out, "'%s' --engine=kernel --verdicts '%s' '%s'", tester, filter,
			     capture()), 0);
	char *ref_end = strstr(ref, "filter:"), *out_end = strstr(out, "filter:");
	assert_non_null(ref_end);
	assert_non_null(out_end);
	assert_int_equal(ref_end - ref, out_end - out);
	assert_memory_equal(ref, out, (size_t)(ref_end - ref));
	assert_non_null(strstr(out, "engine:      kernel (eBPF, BPF_PROG_TEST_RUN; 0 packets not run)"));
	free(ref);
	free(out);
	assert_int_equal(run(&out, "'%s' --engine=kernel --json '%s' '%s'", tester, filter,
			     capture()), 0);
	assert_non_null(strstr(out, "\"not_run\":0"));
	assert_non_null(strstr(out, "\"engine\":\"kernel\""));
	free(out);
	/* a frame over KENGINE_MAX_LEN is counted as not run, the others run */
	char err[PCAPIO_ERRBUF];
	struct pcapio_writer *w = pcapio_writer_open(tmp_file("jumbo.pcap"), 1, 65535, err);
	assert_non_null(w);
	static uint8_t frame[KENGINE_MAX_LEN + 100];
	frame[12] = 0x08; /* IPv4 EtherType, not TCP: port80 drops it */
	assert_int_equal(pcapio_write(w, frame, sizeof frame, sizeof frame, 1), 0);
	assert_int_equal(pcapio_write(w, frame, 60, 60, 2), 0);
	assert_int_equal(pcapio_writer_close(w, err), 0);
	assert_int_equal(run(&out, "'%s' --engine=kernel --verdicts '%s' '%s'", tester, filter,
			     tmp_file("jumbo.pcap")), 0);
	assert_non_null(strstr(out, "\t3100\t3100\t-\tNOT_RUN\n"));
	assert_non_null(strstr(out, "\t60\t60\t0\tOK\n"));
	assert_non_null(strstr(out, "1 packets not run"));
	assert_int_equal(number_after(out, "packets:"), 2);
	assert_int_equal(number_after(out, "dropped:"), 1);
	free(out);
	/* the flow table: the kernel's map gives the interpreter's counters,
	 * with the default capacity and a small one that evicts */
	compare("synflood.bin", synflood_src, "--engine=kernel", NULL, NULL);
	vfm_config_t small = {.flow_capacity = 4};
	compare("synflood.bin", synflood_src, "--engine=kernel --flow-capacity 4", &small, &e);
	assert_true(e.flow.evictions > 0);
	free(e.results);
	/* not root: bpf() refused, a clear error (the files must be readable) */
	if (getuid() == 0 && run(&out, "setpriv --help") == 0) {
		free(out);
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "chmod 755 '%s' && chmod 644 '%s' '%s'", tmpdir,
			 tmp_file("port80.bin"), capture());
		assert_int_equal(ts_run(cmd, &out), 0);
		free(out);
		assert_int_equal(run(&out, "setpriv --reuid=65534 --regid=65534 --clear-groups "
					   "'%s' --engine=kernel '%s' '%s'", tester,
				     tmp_file("port80.bin"), capture()), 1);
		if (!strstr(out, "the kernel refuses to load or run eBPF"))
			fail_msg("as nobody: %s", out);
		free(out);
		snprintf(cmd, sizeof cmd, "chmod 700 '%s'", tmpdir);
		assert_int_equal(ts_run(cmd, &out), 0);
	}
	free(out);
}

static void test_filtertest(void **state)
{
	(void)state;
	char *out;
	assert_int_equal(run(&out, "'%s' EN10MB 'tcp port 80'", filtertest), 0);
	assert_non_null(strstr(out, "(000) ldh      [12]"));
	assert_non_null(strstr(out, "ret      #262144"));
	free(out);
	assert_int_equal(run(&out, "'%s' EN10MB 'tcp port'", filtertest), 65); /* EX_DATAERR */
	free(out);
	assert_int_equal(run(&out, "'%s' NO_SUCH_DLT ip", filtertest), 64); /* EX_USAGE */
	free(out);
	assert_int_equal(run(&out, "'%s' -r '%s/missing.pcap' ip", filtertest, tmpdir), 66);
	free(out);
	assert_int_equal(run(&out, "'%s' -l EN10MB ip", filtertest), 64);
	assert_non_null(strstr(out, "not supported"));
	free(out);
	/* -r: one line per packet, bpf_filter's value. */
	struct pcapio_capture cap;
	read_capture(capture(), &cap);
	u_int *want = libpcap_verdicts("udp or tcp dst port 80", &cap);
	const char *listing = tmp_file("verdicts.txt");
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "'%s' -r '%s' 'udp or tcp dst port 80' > '%s'", filtertest,
		 capture(), listing);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(listing, "r");
	assert_non_null(f);
	size_t rows = 0;
	unsigned v;
	while (fscanf(f, "%u", &v) == 1) {
		assert_true(rows < cap.count);
		assert_int_equal(v, want[rows]);
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, cap.count);
	free(want);
	pcapio_free(&cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_match_library),
		cmocka_unit_test(test_flow_table_counts),
		cmocka_unit_test(test_timestamps_reach_ts),
		cmocka_unit_test(test_budget_option),
		cmocka_unit_test(test_repeat_and_jit),
		cmocka_unit_test(test_write_accepted),
		cmocka_unit_test(test_verbose),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_gen_deterministic),
		cmocka_unit_test(test_gen_bad_arguments),
		cmocka_unit_test(test_linktype),
		cmocka_unit_test(test_source_count_verdicts_json),
		cmocka_unit_test(test_write_exact),
		cmocka_unit_test(test_expression_engines_equal_libpcap),
		cmocka_unit_test(test_expression_other_linktype),
		cmocka_unit_test(test_cbpf_listing),
		cmocka_unit_test(test_filtertest),
		cmocka_unit_test(test_engine_kernel),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
