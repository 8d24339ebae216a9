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

#include "program.h"
#include "test_support.h"
#include "../tools/pcapio.h"
#include "../tools/pktgen.h"

#define CAP_COUNT 3000

static char tmpdir[256];
static char gen[1024], tester[1024]; /* tool paths */

static const char *const tmp_names[] = {
	"cap.pcap", "cap2.pcap", "cap3.pcap", "port80.bin", "synflood.bin", "tsbit.bin",
	"loop.bin", "accepted.pcap", "text.txt", "short.pcap", "garbage.bin",
	"rejected.bin", "sll.pcap", "synflood.jit",
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
	expect_failure(3, "short.pcap", "'%s' '%s' '%s'", tester, f, tmp_file("short.pcap"));

	/* Filters: missing, not bytecode, rejected by the verifier. */
	expect_failure(3, "missing.bin", "'%s' '%s/missing.bin' '%s'", tester, tmpdir, cap);
	write_bytes(tmp_file("garbage.bin"), "\x7f" "VFM garbage garbage garbage", 27);
	expect_failure(1, "garbage.bin", "'%s' '%s' '%s'", tester, tmp_file("garbage.bin"), cap);
	expect_failure(1, "cap.pcap", "'%s' '%s' '%s'", tester, cap, cap);
	/* Falls off the end (PUSH 1; POP): a well-formed file the verifier
	 * refuses.  Written with the file writer, as the assembler may refuse
	 * to produce it. */
	static const uint8_t code[] = {VFM_OPC_PUSH, 1, 0, 0, 0, 0, 0, 0, 0, VFM_OPC_POP};
	uint8_t *bytes = NULL;
	size_t len = 0;
	assert_int_equal(vfm_file_write(code, sizeof code, NULL, 0, NULL, &bytes, &len), VFM_OK);
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

/* A capture of another link type runs, with a warning. */
static void test_non_ethernet_warning(void **state)
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
	char *out;
	assert_int_equal(run(&out, "'%s' '%s' '%s'", tester, filter, path), 0);
	assert_non_null(strstr(out, "warning"));
	assert_non_null(strstr(out, "not Ethernet"));
	assert_int_equal(number_after(out, "packets:"), 5);
	free(out);
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
		cmocka_unit_test(test_non_ethernet_warning),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
