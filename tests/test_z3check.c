/*
 * tests/test_z3check.c — the Z3 cross-check (verifier/z3/z3check.h):
 *
 *   - every example filter (the .vfm files in examples/) has no unsound
 *     claim, and on the examples the verifier proves every load Z3 can
 *     prove (proven == provable);
 *   - hand-written programs by topic (bounds after LEN checks, refinement
 *     on both edges of every conditional jump, loops, identities after
 *     DUP/OVER/STM, indexed loads, scratch, special values) pass;
 *   - the encoding is the interpreter's semantics: evaluated on concrete
 *     packets (vfm_z3_eval_packets) it gives the interpreter's status,
 *     verdict and instruction count, on the topic programs, the examples
 *     and generated programs;
 *   - the checker bites: facts corrupted on purpose (an interval shrunk, a
 *     tnum bit claimed, a false identity, an OOB load marked in bounds, an
 *     in-bounds load marked always-OOB, a reachable instruction marked
 *     unreachable, a zero divisor declared impossible, a length bound, a
 *     claim that only fails after some loop iterations) are refuted, and
 *     each counterexample is replayed through the interpreter, which must
 *     show the refuted behaviour (status, verdict);
 *   - generated programs (tools/progen) have no unsound claim.
 *
 * Campaign mode (docs/VERIFIER.md reports its runs):
 *   VFM_Z3_PROGRAMS=10000 build/tests/test_z3check
 * with optional VFM_Z3_SEED (first seed, default 1), VFM_Z3_INSNS (target
 * size; default: 16, 32 and 48 instructions in turn), VFM_Z3_UNROLL, VFM_Z3_TIMEOUT (ms per query) and
 * VFM_Z3_KEEP (directory, default build/z3-failures) where a program with
 * an unsound claim is written with its report.  The summary (count, time,
 * unsound, unknown, proven/provable, bounded/complete) is printed at the
 * end; only the generated programs are checked in this mode, so a campaign
 * can run in chunks of seeds.  Without VFM_Z3_PROGRAMS, 160 programs are
 * checked (50 under ASan) after the other tests.
 *
 * Run from the repository root (reads examples/ and corpus/).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "prng.h"
#include "progen.h"
#include "../verifier/z3/z3check.h"
#include "program.h"
#include "../verifier/verifier.h"
#include "test_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return dflt;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		fail_msg("%s=%s: not a number", name, s);
	return v;
}

static vfm_program_t *load_src(const char *src, const char *name)
{
	uint8_t *bin = NULL;
	size_t len = 0;
	vfm_diag_t diag;
	if (vfm_assemble(src, strlen(src), name, 1, &bin, &len, &diag) != VFM_OK)
		fail_msg("%s: %s", name, diag.message);
	vfm_program_t *prog = NULL;
	if (vfm_program_create(bin, len, &prog, &diag) != VFM_OK)
		fail_msg("%s: %s", name, diag.message);
	free(bin);
	assert_true(vfm_facts_analysed(prog));
	return prog;
}

static char *read_text(const char *path)
{
	return ts_read_file(path, NULL);
}

/* Options for the fixed programs: a generous timeout, so that a loaded
 * machine does not turn a claim into "unknown" (the tests require none). */
static const struct vfm_z3_options *patient(void)
{
	static struct vfm_z3_options opt;
	vfm_z3_options_init(&opt);
	opt.timeout_ms = 60000;
	return &opt;
}

/* Print the report (for the test log) and fail if a claim was refuted. */
static void expect_sound(const vfm_program_t *prog, const char *name,
			 const struct vfm_z3_options *opt, struct vfm_z3_report *rep)
{
	vfm_error_t err = vfm_z3_check(prog, opt ? opt : patient(), rep);
	if (err != VFM_OK || rep->failures) {
		fprintf(stderr, "%s:\n", name);
		vfm_z3_print_report(stderr, prog, rep);
		fail_msg("%s: z3 check returned %s with %u unsound claims (%s)", name,
			 vfm_error_name(err), rep->failures, rep->error);
	}
}

/* ---- examples -------------------------------------------------------------- */

static void test_examples(void **state)
{
	(void)state;
	DIR *d = opendir("examples");
	assert_non_null(d);
	struct dirent *e;
	unsigned n = 0, loads = 0, proven = 0, provable = 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".vfm") != 0)
			continue;
		char path[512];
		snprintf(path, sizeof path, "examples/%s", e->d_name);
		char *src = read_text(path);
		vfm_program_t *prog = load_src(src, path);
		struct vfm_z3_report rep;
		expect_sound(prog, path, NULL, &rep);
		print_message("%-28s %3u insns: %4u claims, loads proven/provable %u/%u of %u, "
			      "%u unknown, %.3f s\n",
			      e->d_name, rep.insns, rep.claims, rep.proven, rep.provable, rep.loads,
			      rep.unknowns, rep.seconds);
		/* The verifier proves every load Z3 can prove on the examples,
		 * in particular every load under a covering length check. */
		assert_int_equal(rep.proven, rep.provable);
		assert_int_equal(rep.unknowns, 0);
		loads += rep.loads;
		proven += rep.proven;
		provable += rep.provable;
		n++;
		vfm_z3_report_free(&rep);
		vfm_program_release(prog);
		free(src);
	}
	closedir(d);
	assert_true(n >= 4);
	print_message("examples: %u programs, loads proven/provable %u/%u of %u\n", n, proven,
		      provable, loads);
}

/* ---- hand-written programs by topic --------------------------------------- */

struct topic_case {
	const char *name;
	const char *src;
	int loops;         /* 1: expect "bounded"; 0: loop-free */
	int complete;      /* with loops: expect every path within the bound */
	int all_provable;  /* every reached load is provable in bounds */
	int all_proven;    /* ... and the verifier proves each */
};

static const struct topic_case topics[] = {
	/* Bounds after LEN checks, in every comparison form. */
	{"len_jlt", "LEN\nPUSH 38\nJLT short\nLD16 12\nLD8 23\nLD16 36\nADD\nADD\nRET\n"
		    "short:\nRET 0", 0, 0, 1, 1},
	{"len_jge", "LEN\nPUSH 14\nJGE ok\nRET 0\nok:\nLD16 12\nRET", 0, 0, 1, 1},
	{"len_swapped_jgt", "PUSH 14\nLEN\nJGT short\nLD16 12\nRET\nshort:\nRET 0", 0, 0, 1, 1},
	{"len_jle", "LEN\nPUSH 20\nJLE short\nLD32 16\nLD8 20\nADD\nRET\nshort:\nRET 0", 0, 0, 1,
	 1},
	{"len_jeq", "LEN\nPUSH 60\nJEQ exact\nRET 0\nexact:\nLD64 52\nRET", 0, 0, 1, 1},
	{"len_jne_fallthrough", "LEN\nPUSH 4\nJNE other\nLD32 0\nRET\nother:\nRET 1", 0, 0, 1, 1},
	{"len_too_short", "LEN\nPUSH 37\nJLT short\nLD16 36\nRET\nshort:\nRET 0", 0, 0, 0, 0},
	{"load_teaches_length", "LD32 20\nLD16 12\nADD\nRET", 0, 0, 0, 0},
	{"always_oob", "LEN\nPUSH 10\nJGT big\nLD16 20\nRET\nbig:\nRET 1", 0, 0, 0, 0},
	{"len_copy_in_scratch", "LEN\nSTM 3\nLDM 3\nPUSH 100\nJLT s\nLD8 99\nRET\ns:\nRET 0", 0, 0,
	 1, 1},
	{"len_arith", "LEN\nPUSH 8\nSUB\nPUSH 100\nJGT s\nRET 0\ns:\nLD8 7\nRET", 0, 0, 0, 0},

	/* Refinement on both edges of every conditional jump: the byte is
	 * returned on each edge, so the state on each edge is claimed. */
	{"refine_jeq", "LD8 0\nDUP\nPUSH 7\nJEQ t\nRET\nt:\nRET", 0, 0, 0, 0},
	{"refine_jne", "LD8 0\nDUP\nPUSH 7\nJNE t\nRET\nt:\nRET", 0, 0, 0, 0},
	{"refine_jgt", "LD8 0\nDUP\nPUSH 100\nJGT t\nRET\nt:\nRET", 0, 0, 0, 0},
	{"refine_jge", "LD8 0\nDUP\nPUSH 100\nJGE t\nRET\nt:\nRET", 0, 0, 0, 0},
	{"refine_jlt", "LD8 0\nDUP\nPUSH 100\nJLT t\nRET\nt:\nRET", 0, 0, 0, 0},
	{"refine_jle", "LD8 0\nDUP\nPUSH 100\nJLE t\nRET\nt:\nRET", 0, 0, 0, 0},
	{"refine_jset", "LD8 0\nDUP\nPUSH 0x81\nJSET t\nRET\nt:\nRET", 0, 0, 0, 0},
	{"refine_const_left", "PUSH 5\nLD16 0\nDUP\nSTM 0\nJLT t\nLDM 0\nRET\nt:\nLDM 0\nRET", 0, 0,
	 0, 0},
	{"refine_two_vars", "LD8 0\nLD8 1\nOVER\nOVER\nJLT t\nSUB\nRET\nt:\nSWAP\nSUB\nRET", 0, 0, 0,
	 0},
	{"refine_infeasible_edge", "PUSH 3\nPUSH 4\nJGT dead\nRET 1\ndead:\nRET 2", 0, 0, 0, 0},

	/* Loops: counters in scratch and on the stack, nested, budget-only. */
	{"loop_scratch_counter", "PUSH 0\nSTM 0\nl:\nLDM 0\nPUSH 1\nADD\nDUP\nSTM 0\nPUSH 5\n"
				 "JLT l\nLDM 0\nRET", 1, 1, 0, 0},
	{"loop_stack_counter", "PUSH 3\nl:\nPUSH 1\nSUB\nDUP\nPUSH 0\nJNE l\nRET", 1, 1, 0, 0},
	{"loop_sum_bytes", "LEN\nPUSH 8\nJLT s\nPUSH 0\nPUSH 0\nl:\nDUP\nLD8X 0\nSTM 1\nPUSH 1\nADD\n"
			   "SWAP\nLDM 1\nADD\nSWAP\nDUP\nPUSH 8\nJLT l\nPOP\nRET\ns:\nRET 0",
	 1, 1, 1, 1},
	{"loop_nested", "PUSH 0\nSTM 0\no:\nPUSH 0\nSTM 1\ni:\nLDM 1\nPUSH 1\nADD\nDUP\nSTM 1\n"
			"PUSH 2\nJLT i\nLDM 0\nPUSH 1\nADD\nDUP\nSTM 0\nPUSH 2\nJLT o\nLDM 0\nLDM 1\n"
			"ADD\nRET", 1, 1, 0, 0},
	{"loop_budget_only", "LD8 0\nl:\nPUSH 1\nADD\nDUP\nPUSH 0\nJNE l\nRET", 1, 0, 0, 0},
	{"loop_self_jump", "LD8 0\nPUSH 1\nJEQ spin\nRET 1\nspin:\nJMP spin", 1, 0, 0, 0},

	/* Identities: a comparison on one copy refines the others. */
	{"identity_dup", "LD8 0\nDUP\nPUSH 10\nJGT big\nPUSH 10\nSWAP\nSUB\nRET\nbig:\nRET", 0, 0, 0,
	 0},
	{"identity_over", "LD16 0\nPUSH 1\nOVER\nPUSH 300\nJGE big\nADD\nRET\nbig:\nPOP\nRET", 0, 0,
	 0, 0},
	{"identity_stm_ldm", "LD8 3\nDUP\nSTM 2\nPUSH 20\nJLT small\nLDM 2\nRET\nsmall:\nLDM 2\n"
			     "PUSH 20\nADD\nRET", 0, 0, 0, 0},
	{"identity_len_copy", "LEN\nDUP\nSTM 0\nPUSH 64\nJLT s\nLDM 0\nLD8 63\nADD\nRET\ns:\nRET 0",
	 0, 0, 1, 1},
	{"identity_join", "LD8 0\nDUP\nPUSH 1\nJEQ a\nDUP\nJMP b\na:\nDUP\nb:\nDUP\nPUSH 5\nJGT c\n"
			  "ADD\nRET\nc:\nSUB\nRET", 0, 0, 0, 0},

	/* Indexed loads with computed offsets. */
	{"indexed_ihl", "LEN\nPUSH 34\nJLT drop\nLD8 14\nPUSH 15\nAND\nPUSH 4\nMUL\nDUP\nPUSH 14\n"
			"ADD\nPUSH 4\nADD\nLEN\nJGT drop1\nLD16X 16\nRET\ndrop1:\nPOP\ndrop:\nRET 0",
	 0, 0, 1, 0},
	{"indexed_unguarded", "LD8 0\nLD8X 1\nRET", 0, 0, 0, 0},
	{"indexed_overflow", "PUSH 0xFFFFFFFFFFFFFFFF\nLD8X 1\nRET", 0, 0, 0, 0},
	{"indexed_masked", "LEN\nPUSH 256\nJLT s\nLD8 0\nPUSH 0x7f\nAND\nLD32X 100\nRET\ns:\nRET 0",
	 0, 0, 1, 1},

	/* Scratch, arithmetic corners and special values. */
	{"scratch_mix", "LD8 0\nSTM 5\nLD8 1\nSTM 9\nLDM 5\nLDM 9\nMUL\nLDM 0\nADD\nRET", 0, 0, 0,
	 0},
	{"div_mod_corners", "LD8 0\nLD8 1\nDIV\nLD8 2\nLD8 3\nMOD\nADD\nLEN\nPUSH 7\nMOD\nADD\nRET",
	 0, 0, 0, 0},
	{"shifts", "LD8 0\nLD8 1\nSHL\nLD8 2\nPUSH 65\nSHR\nOR\nNOT\nNEG\nRET", 0, 0, 0, 0},
	{"special_values", "HASH5\nTS\nADD\nDUP\nFLOW_LOAD\nSWAP\nPUSH 3\nFLOW_STORE\nPUSH 7\nAND\n"
			   "HASH5\nHASH5\nSUB\nOR\nRET", 0, 0, 0, 0},
	{"ts_rate_window", "TS\nPUSH 1000000000\nDIV\nPUSH 0xFFFFFFFF\nAND\nRET", 0, 0, 0, 0},
	{"unreachable_tail", "RET 1\nLD8 0\nRET", 0, 0, 0, 0},

	/* Semantic corners, driven by packet bytes (for the comparison with
	 * the interpreter): masked shift counts, x/0 and x%0, wrapping,
	 * 64-bit compares, verdict saturation, indexed offsets that overflow. */
	{"sem_shr_mask", "LD64 0\nLD8 8\nSHR\nPUSH 0xFFFFFFFF\nAND\nRET", 0, 0, 0, 0},
	{"sem_shl_mask", "LD64 0\nLD8 8\nSHL\nPUSH 32\nSHR\nRET", 0, 0, 0, 0},
	{"sem_div", "LD64 0\nLD8 8\nDIV\nRET", 0, 0, 0, 0},
	{"sem_div_high", "LD64 0\nLD8 8\nDIV\nPUSH 32\nSHR\nRET", 0, 0, 0, 0},
	{"sem_mod", "LD64 0\nLD8 8\nMOD\nPUSH 0xFFFFFFFF\nAND\nRET", 0, 0, 0, 0},
	{"sem_mod_high", "LD64 0\nLD8 8\nMOD\nPUSH 32\nSHR\nRET", 0, 0, 0, 0},
	{"sem_mul", "LD64 0\nLD64 8\nMUL\nPUSH 40\nSHR\nRET", 0, 0, 0, 0},
	{"sem_sub_wrap", "LD8 0\nLD8 1\nSUB\nPUSH 48\nSHR\nRET", 0, 0, 0, 0},
	{"sem_neg_not", "LD8 0\nNEG\nPUSH 0xFFFFF\nAND\nLD8 1\nNOT\nPUSH 44\nSHR\nXOR\nRET", 0, 0,
	 0, 0},
	{"sem_saturate", "LD64 0\nRET", 0, 0, 0, 0},
	{"sem_jset", "LD8 0\nLD8 1\nJSET t\nRET 1\nt:\nRET 2", 0, 0, 0, 0},
	{"sem_jgt64", "LD64 0\nLD64 8\nJGT a\nLD64 0\nLD64 8\nJEQ b\nRET 1\na:\nRET 2\nb:\nRET 3", 0,
	 0, 0, 0},
	{"sem_jle_jge", "LD8 0\nLD8 1\nJLE a\nRET 1\na:\nLD8 0\nLD8 1\nJGE b\nRET 2\nb:\nRET 3", 0,
	 0, 0, 0},
	{"sem_index_overflow", "LD64 0\nLD8X 0\nRET", 0, 0, 0, 0},
	{"sem_index_near_wrap", "LD8 0\nPUSH 0xFFFFFFFFFFFFFF00\nOR\nLD8X 0x100\nRET", 0, 0, 0, 0},
	{"sem_index_len", "LEN\nLD8 0\nSUB\nLD16X 0\nRET", 0, 0, 0, 0},
	{"sem_ld_order", "LD32 0\nLD16 1\nLD8 3\nADD\nXOR\nRET", 0, 0, 0, 0},
};

static void test_topics(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
		const struct topic_case *c = &topics[t];
		vfm_program_t *prog = load_src(c->src, c->name);
		struct vfm_z3_report rep;
		expect_sound(prog, c->name, NULL, &rep);
		if (rep.unknowns)
			fail_msg("%s: %u unknown claims", c->name, rep.unknowns);
		if (rep.loops != (c->loops != 0))
			fail_msg("%s: loops %d, expected %d", c->name, rep.loops, c->loops);
		if (c->loops && rep.complete != (c->complete != 0))
			fail_msg("%s: complete %d, expected %d", c->name, rep.complete, c->complete);
		if (c->all_provable && rep.provable != rep.loads)
			fail_msg("%s: provable %u of %u loads", c->name, rep.provable, rep.loads);
		if (c->all_proven && rep.proven != rep.loads)
			fail_msg("%s: proven %u of %u loads", c->name, rep.proven, rep.loads);
		print_message("%-24s %4u claims, %s, loads proven/provable %u/%u of %u\n", c->name,
			      rep.claims,
			      !rep.loops ? "exact" : rep.complete ? "bounded, complete" : "bounded",
			      rep.proven, rep.provable, rep.loads);
		vfm_z3_report_free(&rep);
		vfm_program_release(prog);
	}
}

/* ---- the encoding is the interpreter's semantics ---------------------------- */

#define EVAL_PACKETS 48
#define EVAL_MAXLEN 160

/* Random packets biased towards what filters compare: short lengths, small
 * and protocol-like byte values, repeated bytes. */
static void random_packets(uint64_t seed, uint8_t buf[][EVAL_MAXLEN], vfm_packet_t *pkts)
{
	static const uint8_t common[] = {0, 1, 2, 4, 5, 6, 7, 8, 0x11, 0x45, 0x60, 0x81, 0xff};
	uint64_t x = seed;
	for (unsigned q = 0; q < EVAL_PACKETS; q++) {
		uint64_t r = prng_splitmix64(&x);
		uint32_t len = q < 8 ? q * 3 : (uint32_t)(r % EVAL_MAXLEN);
		uint8_t fill = (uint8_t)(r >> 32);
		for (uint32_t j = 0; j < len; j++) {
			uint64_t b = prng_splitmix64(&x);
			buf[q][j] = (b & 3) == 0 ? common[(b >> 8) % sizeof common]
				  : (b & 3) == 1 ? fill : (uint8_t)(b >> 16);
		}
		pkts[q] = (vfm_packet_t){.data = buf[q], .len = len, .ts_ns = q & 1 ? prng_splitmix64(&x) : 0};
	}
}

/* vfm_z3_eval_packets (the encoding under concrete inputs) against the
 * interpreter: same status, verdict and instruction count on every packet
 * whose execution stays within the bound.  Programs with FLOW_STORE are
 * skipped (the encoding leaves FLOW_LOAD unconstrained). */
static unsigned compare_with_interpreter(const char *src, const char *name, uint64_t seed)
{
	if (strstr(src, "FLOW_STORE"))
		return 0;
	vfm_program_t *prog = load_src(src, name);
	vfm_state_t *vm = ts_vm_from_asm(src);
	static uint8_t buf[EVAL_PACKETS][EVAL_MAXLEN];
	vfm_packet_t pkts[EVAL_PACKETS];
	struct vfm_z3_eval ev[EVAL_PACKETS];
	random_packets(seed, buf, pkts);
	assert_int_equal(vfm_z3_eval_packets(prog, VFM_Z3_DEFAULT_UNROLL, pkts, EVAL_PACKETS, ev),
			 VFM_OK);
	unsigned compared = 0;
	for (unsigned q = 0; q < EVAL_PACKETS; q++) {
		vfm_result_t res;
		assert_int_equal(vfm_execute_ex(vm, &pkts[q], &res), VFM_OK);
		if (ev[q].beyond_bound)
			continue;
		if (res.status != ev[q].status || res.verdict != ev[q].verdict ||
		    res.insns != ev[q].insns)
			fail_msg("%s, packet %u (len %u): interpreter %s verdict %u insns %llu, "
				 "encoding %s verdict %u insns %llu\n%s",
				 name, q, pkts[q].len, vfm_status_name(res.status), res.verdict,
				 (unsigned long long)res.insns,
				 vfm_status_name((vfm_status_t)ev[q].status), ev[q].verdict,
				 (unsigned long long)ev[q].insns, src);
		compared++;
	}
	vfm_destroy(vm);
	vfm_program_release(prog);
	return compared;
}

static void test_encoding_matches_interpreter(void **state)
{
	(void)state;
	unsigned compared = 0, programs = 0;
	for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
		compared += compare_with_interpreter(topics[t].src, topics[t].name, t + 1);
		programs++;
	}
	DIR *d = opendir("examples");
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".vfm") != 0)
			continue;
		char path[512];
		snprintf(path, sizeof path, "examples/%s", e->d_name);
		char *src = read_text(path);
		compared += compare_with_interpreter(src, path, l);
		programs++;
		free(src);
	}
	closedir(d);
	struct progen_config cfg;
	progen_config_init(&cfg);
	unsigned n = UNDER_ASAN ? 20 : 60;
	for (uint64_t s = 1; s <= n; s++) {
		char *text = NULL;
		assert_int_equal(progen_generate(&cfg, 1000 + s, &text), PROGEN_OK);
		char name[64];
		snprintf(name, sizeof name, "progen-%llu.vfm", (unsigned long long)(1000 + s));
		compared += compare_with_interpreter(text, name, s);
		programs++;
		free(text);
	}
	print_message("encoding == interpreter on %u packets over %u programs\n", compared,
		      programs);
	assert_true(compared > 1000);
}

/* ---- the checker bites ------------------------------------------------------ */

static uint32_t nth_op(const vfm_program_t *prog, uint8_t opcode, int n)
{
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].opcode == opcode && n-- == 0)
			return i;
	fail_msg("opcode 0x%02x not found", opcode);
	return 0;
}

/* Slot k of the state before insn i (-1: the length, else stack from the
 * bottom); writable: the test corrupts it. */
static struct vfm_aslot *state_slot(vfm_program_t *prog, uint32_t i, int k)
{
	struct vfm_facts *f = &prog->facts;
	assert_true(f->flags[i] & VFM_FACT_REACHED);
	/* The per-pc states are computed on first use and kept: a change
	 * here is what the Z3 check then reads. */
	struct vfm_aslot *s = (struct vfm_aslot *)vfm_facts_state(prog, i);
	assert_non_null(s);
	return s + (k < 0 ? 0 : 1 + f->n_scratch + (uint32_t)k);
}

/* Run the check on corrupted facts: it must refute a claim of `kind` at
 * insn with a counterexample.  Returns the failure (copied). */
static struct vfm_z3_failure expect_refuted(vfm_program_t *prog, const char *name,
					    uint32_t insn, enum vfm_z3_claim_kind kind,
					    const struct vfm_z3_options *opt,
					    struct vfm_z3_report *rep)
{
	vfm_error_t err = vfm_z3_check(prog, opt, rep);
	if (err != VFM_EVERIFY || rep->n_fail == 0) {
		vfm_z3_print_report(stderr, prog, rep);
		fail_msg("%s: corrupted facts not detected (%s)", name, vfm_error_name(err));
	}
	for (uint32_t j = 0; j < rep->n_fail; j++) {
		const struct vfm_z3_failure *fl = &rep->fail[j];
		if (fl->insn == insn && fl->kind == kind) {
			assert_true(fl->has_cex);
			assert_non_null(fl->text);
			assert_non_null(strstr(fl->text, "counterexample: len = "));
			print_message("%s: detected:\n%s", name, fl->text);
			return *fl;
		}
	}
	vfm_z3_print_report(stderr, prog, rep);
	fail_msg("%s: no %s failure at insn %u", name, vfm_z3_kind_name(kind), insn);
	return rep->fail[0];
}

/* Run the counterexample packet through a fresh VM (the program's facts
 * do not matter to the interpreter's results). */
static vfm_result_t replay(const char *src, const struct vfm_z3_failure *fl)
{
	assert_true(fl->exact);
	assert_int_equal(fl->n_bytes, fl->len); /* the whole packet is known */
	vfm_state_t *vm = ts_vm_from_asm(src);
	vfm_packet_t pkt = {.data = fl->bytes, .len = fl->len, .ts_ns = fl->ts, fl->wire_len};
	vfm_result_t res;
	assert_int_equal(vfm_execute_ex(vm, &pkt, &res), VFM_OK);
	vfm_destroy(vm);
	return res;
}

static void test_detects_shrunk_interval(void **state)
{
	(void)state;
	const char *src = "LEN\nPUSH 20\nJLT short\nLD8 10\nRET\nshort:\nRET 0";
	vfm_program_t *p = load_src(src, "shrunk");
	uint32_t ret = nth_op(p, VFM_OPC_RET, 0);
	struct vfm_aslot *s = state_slot(p, ret, 0);
	assert_int_equal(s->v.itv.hi, 255);
	s->v.itv.hi = 100; /* the byte is claimed to be at most 100 */
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl = expect_refuted(p, "shrunk", ret, VFM_Z3_VALUE, NULL, &rep);
	assert_true(fl.value > 100 && fl.value <= 255);
	assert_int_equal(fl.slot, 1 + vfm_facts_n_scratch(p));
	vfm_result_t r = replay(src, &fl);
	assert_int_equal(r.status, VFM_STATUS_OK);
	assert_int_equal(r.verdict, fl.value); /* RET returns that byte */
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_tnum_bit(void **state)
{
	(void)state;
	const char *src = "LEN\nPUSH 1\nJLT short\nLD8 0\nRET\nshort:\nRET 0";
	vfm_program_t *p = load_src(src, "tnum");
	uint32_t ret = nth_op(p, VFM_OPC_RET, 0);
	struct vfm_aslot *s = state_slot(p, ret, 0);
	s->v.tn.mask = 0xFE; /* bit 0 claimed known 0: "the byte is even" */
	s->v.tn.value = 0;
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl = expect_refuted(p, "tnum", ret, VFM_Z3_VALUE, NULL, &rep);
	assert_true(fl.value & 1);
	vfm_result_t r = replay(src, &fl);
	assert_true(r.verdict & 1);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_false_identity(void **state)
{
	(void)state;
	const char *src = "LEN\nPUSH 2\nJLT short\nLD8 0\nLD8 1\nRET\nshort:\nRET 0";
	vfm_program_t *p = load_src(src, "identity");
	uint32_t ret = nth_op(p, VFM_OPC_RET, 0);
	state_slot(p, ret, 0)->id = 777; /* the two bytes claimed equal */
	state_slot(p, ret, 1)->id = 777;
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl = expect_refuted(p, "identity", ret, VFM_Z3_IDENTITY, NULL, &rep);
	assert_true(fl.len >= 2);
	assert_int_not_equal(fl.bytes[0], fl.bytes[1]);
	vfm_result_t r = replay(src, &fl);
	assert_int_equal(r.verdict, fl.bytes[1]);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);

	/* A copy of the length claimed to be the length, but it is not. */
	const char *src2 = "LEN\nPUSH 1\nADD\nRET";
	p = load_src(src2, "identity_len");
	ret = nth_op(p, VFM_OPC_RET, 0);
	state_slot(p, ret, 0)->id = VFM_ID_LEN;
	fl = expect_refuted(p, "identity_len", ret, VFM_Z3_IDENTITY, NULL, &rep);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_oob_load_marked_in_bounds(void **state)
{
	(void)state;
	const char *src = "LD16 12\nPUSH 0x800\nJNE drop\nRET 1\ndrop:\nRET 0";
	vfm_program_t *p = load_src(src, "oob_in_bounds");
	uint32_t ld = nth_op(p, VFM_OPC_LD16, 0);
	assert_false(p->facts.flags[ld] & VFM_FACT_IN_BOUNDS);
	p->facts.flags[ld] |= VFM_FACT_IN_BOUNDS;
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl =
		expect_refuted(p, "oob_in_bounds", ld, VFM_Z3_IN_BOUNDS, NULL, &rep);
	assert_true(fl.len < 14);
	vfm_result_t r = replay(src, &fl);
	assert_int_equal(r.status, VFM_STATUS_BOUNDS);
	assert_int_equal(r.insns, 1);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);

	/* Indexed: the offset is computed from a packet byte. */
	const char *src2 = "LEN\nPUSH 16\nJLT s\nLD8 0\nLD16X 2\nRET\ns:\nRET 0";
	p = load_src(src2, "oob_indexed");
	ld = nth_op(p, VFM_OPC_LD16X, 0);
	assert_false(p->facts.flags[ld] & VFM_FACT_IN_BOUNDS);
	p->facts.flags[ld] |= VFM_FACT_IN_BOUNDS;
	fl = expect_refuted(p, "oob_indexed", ld, VFM_Z3_IN_BOUNDS, NULL, &rep);
	assert_true(fl.len >= 16 && fl.bytes[0] + 2u + 2u > fl.len);
	r = replay(src2, &fl);
	assert_int_equal(r.status, VFM_STATUS_BOUNDS);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_false_always_oob(void **state)
{
	(void)state;
	const char *src = "LD8 5\nRET";
	vfm_program_t *p = load_src(src, "always_oob");
	p->facts.flags[0] |= VFM_FACT_ALWAYS_OOB;
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl = expect_refuted(p, "always_oob", 0, VFM_Z3_ALWAYS_OOB, NULL, &rep);
	assert_true(fl.len >= 6);
	vfm_result_t r = replay(src, &fl);
	assert_int_equal(r.status, VFM_STATUS_OK);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_reachable_marked_unreachable(void **state)
{
	(void)state;
	const char *src = "LD8 0\nPUSH 7\nJEQ seven\nRET 1\nseven:\nRET 2";
	vfm_program_t *p = load_src(src, "unreachable");
	uint32_t ret2 = p->n_insns - 1;
	assert_true(p->facts.flags[ret2] & VFM_FACT_REACHED);
	p->facts.flags[ret2] &= (uint8_t)~VFM_FACT_REACHED;
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl =
		expect_refuted(p, "unreachable", ret2, VFM_Z3_UNREACHABLE, NULL, &rep);
	assert_true(fl.len >= 1);
	assert_int_equal(fl.bytes[0], 7);
	vfm_result_t r = replay(src, &fl);
	assert_int_equal(r.verdict, 2);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_zero_divisor(void **state)
{
	(void)state;
	const char *src = "PUSH 100\nLD8 0\nDIV\nRET";
	vfm_program_t *p = load_src(src, "div0");
	uint32_t div = nth_op(p, VFM_OPC_DIV, 0);
	assert_true(p->facts.flags[div] & VFM_FACT_MAY_DIV0);
	p->facts.flags[div] &= (uint8_t)~VFM_FACT_MAY_DIV0;
	struct vfm_z3_report rep;
	/* Also the divisor slot itself, so both claims are refuted. */
	struct vfm_z3_failure fl =
		expect_refuted(p, "div0", div, VFM_Z3_NONZERO_DIVISOR, NULL, &rep);
	assert_int_equal(fl.bytes[0], 0);
	vfm_result_t r = replay(src, &fl);
	assert_int_equal(r.status, VFM_STATUS_OK);
	assert_int_equal(r.verdict, 0); /* 100 / 0 = 0 */
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_length_claim(void **state)
{
	(void)state;
	const char *src = "LEN\nPUSH 14\nJLT s\nLD16 12\nRET\ns:\nRET 0";
	vfm_program_t *p = load_src(src, "length");
	uint32_t ld = nth_op(p, VFM_OPC_LD16, 0);
	struct vfm_aslot *len = state_slot(p, ld, -1);
	assert_int_equal(len->v.itv.lo, 14);
	len->v.itv.lo = 15; /* off by one */
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl = expect_refuted(p, "length", ld, VFM_Z3_VALUE, NULL, &rep);
	assert_int_equal(fl.slot, 0);
	assert_int_equal(fl.len, 14);
	assert_int_equal(fl.value, 14);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

/* A length room one too large: "off + 19 <= len" where the guard gives
 * off + 18 <= len.  Z3 checks rooms as claims of their own (issue 15). */
static void test_detects_length_room(void **state)
{
	(void)state;
	const char *src = "LD8 0\nDUP\nPUSH 18\nADD\nLEN\nJGT out\nLD16X 16\nRET\nout:\nRET 0";
	vfm_program_t *p = load_src(src, "room");
	uint32_t ld = nth_op(p, VFM_OPC_LD16X, 0);
	struct vfm_aslot *idx = state_slot(p, ld, 0);
	assert_int_equal(idx->len_room, 19); /* off + 18 <= len: room 18, stored + 1 */
	struct vfm_z3_report rep;
	assert_int_equal(vfm_z3_check(p, NULL, &rep), VFM_OK);
	assert_true(rep.checked[VFM_Z3_LEN_ROOM] > 0);
	vfm_z3_report_free(&rep);
	idx->len_room = 20;
	struct vfm_z3_failure fl = expect_refuted(p, "room", ld, VFM_Z3_LEN_ROOM, NULL, &rep);
	assert_int_equal(fl.slot, 1);
	assert_true(fl.value + 18 == fl.len);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_detects_only_after_iterations(void **state)
{
	(void)state;
	/* M[0] counts 1..5; the claim "M[0] <= 3 at the loop head" fails only
	 * on the fourth pass: found with 8 unrollings, not with 2, where the
	 * inductive check refutes it instead (3 + 1 arrives at the head). */
	const char *src = "PUSH 0\nSTM 0\nl:\nLDM 0\nPUSH 1\nADD\nDUP\nSTM 0\nPUSH 5\nJLT l\n"
			  "LDM 0\nRET";
	vfm_program_t *p = load_src(src, "loop");
	uint32_t head = nth_op(p, VFM_OPC_LDM, 0);
	struct vfm_aslot *m0 = (struct vfm_aslot *)vfm_facts_state(p, head) + 1;
	assert_true(m0->v.itv.hi >= 4);
	m0->v.itv.hi = 3;
	struct vfm_z3_options opt;
	vfm_z3_options_init(&opt);
	opt.unroll = 2;
	struct vfm_z3_report rep;
	struct vfm_z3_failure fl = expect_refuted(p, "loop", head, VFM_Z3_LOOP_HEAD, &opt, &rep);
	assert_true(rep.loops);
	assert_false(rep.complete); /* the bound cut paths: nothing proven there */
	assert_int_equal(rep.failed[VFM_Z3_VALUE], 0); /* not within 2 unrollings */
	assert_int_equal(rep.inductive, VFM_Z3_IND_FAILED);
	assert_true(fl.inductive);
	assert_int_equal(fl.start_pc, p->pc_of[head]); /* not preserved */
	vfm_z3_report_free(&rep);
	opt.unroll = 8;
	fl = expect_refuted(p, "loop", head, VFM_Z3_VALUE, &opt, &rep);
	assert_int_equal(fl.value, 4);
	assert_int_equal(fl.unroll, 4);
	assert_true(rep.complete);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

static void test_report_text(void **state)
{
	(void)state;
	const char *src = "LD16 12\nRET";
	vfm_program_t *p = load_src(src, "report");
	p->facts.flags[0] |= VFM_FACT_IN_BOUNDS;
	struct vfm_z3_report rep;
	assert_int_equal(vfm_z3_check(p, NULL, &rep), VFM_EVERIFY);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	vfm_z3_print_report(f, p, &rep);
	fclose(f);
	assert_non_null(strstr(buf, "exact: loop-free"));
	assert_non_null(strstr(buf, "1 unsound"));
	assert_non_null(strstr(buf, "UNSOUND pc 0 (report:1): LD16 12: unsound in-bounds claim"));
	assert_non_null(strstr(buf, "counterexample: len = "));
	free(buf);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);

	/* A loop: the report says the check is bounded. */
	p = load_src("LD8 0\nl:\nPUSH 1\nSUB\nDUP\nPUSH 0\nJNE l\nRET", "bounded");
	assert_int_equal(vfm_z3_check(p, NULL, &rep), VFM_OK);
	f = open_memstream(&buf, &n);
	vfm_z3_print_report(f, p, &rep);
	fclose(f);
	assert_non_null(strstr(buf, "bounded: 8 unrollings"));
	free(buf);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);

	assert_int_equal(vfm_z3_check(NULL, NULL, &rep), VFM_EINVAL);
	vfm_z3_report_free(&rep);
}

/* ---- regressions ------------------------------------------------------------- */

/* Every program ever found with an unsound claim is kept here. */
static void test_regressions(void **state)
{
	(void)state;
	DIR *d = opendir("corpus/z3-regressions");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".vfm") != 0)
			continue;
		char path[512];
		snprintf(path, sizeof path, "corpus/z3-regressions/%s", e->d_name);
		char *src = read_text(path);
		vfm_program_t *prog = load_src(src, path);
		struct vfm_z3_report rep;
		expect_sound(prog, path, NULL, &rep);
		vfm_z3_report_free(&rep);
		vfm_program_release(prog);
		free(src);
	}
	closedir(d);
}

/* ---- generated programs ------------------------------------------------------ */

static void keep_failure(const char *dir, uint64_t seed, const char *text,
			 const vfm_program_t *prog, const struct vfm_z3_report *rep)
{
	mkdir("build", 0777);
	mkdir(dir, 0777);
	char path[512];
	snprintf(path, sizeof path, "%s/seed-%llu.vfm", dir, (unsigned long long)seed);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "; progen seed %llu: unsound claims found by vfm_z3_check\n",
		(unsigned long long)seed);
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (m) {
		vfm_z3_print_report(m, prog, rep);
		fclose(m);
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(f, "; %s\n", line);
		free(buf);
	}
	fputs(text, f);
	fclose(f);
	fprintf(stderr, "kept %s\n", path);
}

static void test_generated(void **state)
{
	(void)state;
	uint64_t count = env_u64("VFM_Z3_PROGRAMS", UNDER_ASAN ? 50 : 160);
	uint64_t first = env_u64("VFM_Z3_SEED", 1);
	struct progen_config cfg;
	progen_config_init(&cfg);
	/* Sizes 16, 32 and 48 in turn, unless VFM_Z3_INSNS fixes one. */
	uint32_t fixed_size = (uint32_t)env_u64("VFM_Z3_INSNS", 0);
	struct vfm_z3_options opt;
	vfm_z3_options_init(&opt);
	opt.unroll = (uint32_t)env_u64("VFM_Z3_UNROLL", opt.unroll);
	opt.timeout_ms = (uint32_t)env_u64("VFM_Z3_TIMEOUT", opt.timeout_ms);
	const char *keep = getenv("VFM_Z3_KEEP") ? getenv("VFM_Z3_KEEP") : "build/z3-failures";
	bool campaign = getenv("VFM_Z3_PROGRAMS") != NULL;

	uint64_t unsound = 0, unsound_programs = 0, unknown = 0, unknown_programs = 0;
	uint64_t loads = 0, proven = 0, provable = 0, prec_unknown = 0, claims = 0;
	uint64_t provable_bounded = 0, bounded_programs = 0;
	uint64_t ind_proven = 0, ind_failed = 0, ind_unknown = 0;
	uint64_t budget_claims = 0, no_wrap_claims = 0, head_claims = 0;
	uint64_t looped = 0, complete = 0, insns = 0, queries = 0, over1s = 0;
	double t0 = now_seconds(), slowest = 0, z3_time = 0;
	uint64_t slowest_seed = 0;
	for (uint64_t s = first; s < first + count; s++) {
		char *text = NULL;
		cfg.target_insns = fixed_size ? fixed_size : 16u * (1 + (uint32_t)(s % 3));
		int rc = progen_generate(&cfg, s, &text);
		if (rc != PROGEN_OK)
			fail_msg("progen seed %llu: %s", (unsigned long long)s, progen_strerror(rc));
		char name[64];
		snprintf(name, sizeof name, "progen-%llu.vfm", (unsigned long long)s);
		vfm_program_t *prog = load_src(text, name);
		struct vfm_z3_report rep;
		vfm_error_t err = vfm_z3_check(prog, &opt, &rep);
		if (err != VFM_OK && err != VFM_EVERIFY)
			fail_msg("%s: %s (%s)", name, vfm_error_name(err), rep.error);
		if (rep.failures) {
			unsound += rep.failures;
			unsound_programs++;
			fprintf(stderr, "%s: %u unsound claims\n", name, rep.failures);
			vfm_z3_print_report(stderr, prog, &rep);
			keep_failure(keep, s, text, prog, &rep);
		}
		unknown += rep.unknowns;
		unknown_programs += rep.unknowns != 0;
		loads += rep.loads;
		proven += rep.proven;
		provable += rep.provable;
		provable_bounded += rep.provable_bounded;
		/* Bounded: some claim holds within the unrollings only (not
		 * complete, and the inductive check did not cover it). */
		bounded_programs += vfm_z3_scope(&rep) == VFM_Z3_BOUNDED;
		ind_proven += rep.inductive == VFM_Z3_IND_PROVEN;
		ind_failed += rep.inductive == VFM_Z3_IND_FAILED;
		ind_unknown += rep.inductive == VFM_Z3_IND_UNKNOWN;
		budget_claims += rep.checked[VFM_Z3_BUDGET_LOOP];
		no_wrap_claims += rep.checked[VFM_Z3_INDEX_NO_WRAP];
		head_claims += rep.checked[VFM_Z3_LOOP_HEAD];
		prec_unknown += rep.precision_unknown;
		claims += rep.claims;
		looped += rep.loops;
		complete += rep.loops && rep.complete;
		insns += rep.insns;
		queries += rep.queries;
		z3_time += rep.seconds;
		over1s += rep.seconds > 1.0;
		if (rep.seconds > slowest) {
			slowest = rep.seconds;
			slowest_seed = s;
		}
		vfm_z3_report_free(&rep);
		vfm_program_release(prog);
		free(text);
		if (campaign && (s - first + 1) % 500 == 0)
			fprintf(stderr, "z3 campaign: %llu programs, %llu unsound, %.0f s\n",
				(unsigned long long)(s - first + 1), (unsigned long long)unsound,
				now_seconds() - t0);
	}
	double secs = now_seconds() - t0;
	char sizes[32];
	snprintf(sizes, sizeof sizes, fixed_size ? "%u" : "16/32/48", fixed_size);
	print_message("generated programs: %llu (seeds %llu..%llu, target %s insns, %llu insns "
		      "in all), unroll %u, timeout %u ms\n",
		      (unsigned long long)count, (unsigned long long)first,
		      (unsigned long long)(first + count - 1), sizes,
		      (unsigned long long)insns, opt.unroll, opt.timeout_ms);
	print_message("  %.1f s in all (%.1f s in the check, %.3f s per program, slowest "
		      "%.2f s seed %llu, %llu over 1 s), %llu queries\n",
		      secs, z3_time, count ? z3_time / (double)count : 0.0, slowest,
		      (unsigned long long)slowest_seed, (unsigned long long)over1s,
		      (unsigned long long)queries);
	print_message("  %llu claims; unsound: %llu in %llu programs; unknown (timeout): %llu in "
		      "%llu programs\n",
		      (unsigned long long)claims, (unsigned long long)unsound,
		      (unsigned long long)unsound_programs, (unsigned long long)unknown,
		      (unsigned long long)unknown_programs);
	print_message("  with loops: %llu (bounded; complete within the bound: %llu)\n",
		      (unsigned long long)looped, (unsigned long long)complete);
	print_message("  inductive check of the loop-head states: proven in %llu, refuted in %llu "
		      "(soundness findings), unknown in %llu programs; %llu arrival claims\n",
		      (unsigned long long)ind_proven, (unsigned long long)ind_failed,
		      (unsigned long long)ind_unknown, (unsigned long long)head_claims);
	print_message("  budget-loop claims: %llu; index-no-wrap claims: %llu\n",
		      (unsigned long long)budget_claims, (unsigned long long)no_wrap_claims);
	print_message("  bounded (paths beyond the unrollings, neither complete nor covered by "
		      "the inductive check; claims checked within the unrollings only): %llu "
		      "programs\n", (unsigned long long)bounded_programs);
	print_message("  loads proven/provable: %llu/%llu of %llu reached (%llu precision "
		      "queries unknown); provable, not proven (unbounded results only): %llu; "
		      "in bounds within the bound only (bounded, not counted): %llu\n",
		      (unsigned long long)proven, (unsigned long long)provable,
		      (unsigned long long)loads, (unsigned long long)prec_unknown,
		      (unsigned long long)(provable - proven), (unsigned long long)provable_bounded);
	assert_int_equal(unsound, 0);
	assert_int_equal(ind_failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_topics),
		cmocka_unit_test(test_encoding_matches_interpreter),
		cmocka_unit_test(test_detects_shrunk_interval),
		cmocka_unit_test(test_detects_tnum_bit),
		cmocka_unit_test(test_detects_false_identity),
		cmocka_unit_test(test_detects_oob_load_marked_in_bounds),
		cmocka_unit_test(test_detects_false_always_oob),
		cmocka_unit_test(test_detects_reachable_marked_unreachable),
		cmocka_unit_test(test_detects_zero_divisor),
		cmocka_unit_test(test_detects_length_claim),
		cmocka_unit_test(test_detects_length_room),
		cmocka_unit_test(test_detects_only_after_iterations),
		cmocka_unit_test(test_report_text),
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_generated),
	};
	/* A campaign (VFM_Z3_PROGRAMS set) runs the generated programs only,
	 * so that it can be split into chunks of seeds without re-running the
	 * other tests each time. */
	const struct CMUnitTest campaign[] = {cmocka_unit_test(test_generated)};
	if (getenv("VFM_Z3_PROGRAMS"))
		return cmocka_run_group_tests(campaign, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
