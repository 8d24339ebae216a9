/*
 * tests/test_interp.c — the interpreter's pre-decoded code (vm/icode.h):
 * superinstructions, check-free and one-compare loads, the six entries
 * (vfm_execute's, vfm_execute_ex's with and without counting, each lean and
 * full) and the scratch words zeroed per packet.
 *
 * Each program runs on every packet length from 0 to 80 bytes (so every
 * fused load meets packets that end just before, inside and after it) on
 * three VMs — vfm_execute_ex counting, vfm_execute_ex on a no_insns VM,
 * vfm_execute — and on the harnesses' reference interpreter
 * (fuzz/ref_interp.h: decodes the bytes as it goes, no fusion), which must
 * agree on verdict, status and instruction count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "icode.h"
#include "program.h"
#include "state.h"
#include "test_support.h"
#include "../verifier/verifier.h"

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond))                                                  \
			fail_msg(__VA_ARGS__);                                \
	} while (0)
#include "../fuzz/ref_interp.h"

/* A packet whose bytes hit the interesting values at the offsets the
 * programs below read. */
static void fill_packet(uint8_t *p, size_t n, unsigned variant)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + variant * 13);
	if (n > 13) {
		p[12] = variant & 1 ? 0x86 : 0x08;
		p[13] = variant & 1 ? 0xDD : 0x00;
	}
	if (n > 14)
		p[14] = (uint8_t)(0x40 | (5 + variant % 3));
	if (n > 23)
		p[23] = variant & 2 ? 17 : 6;
}

static unsigned n_runs;

static void run_all(const char *src, uint32_t budget)
{
	vfm_program_t *prog = ts_program_from_asm(src);
	vfm_config_t cfg = {.budget = budget, .budget_set = 1};
	vfm_config_t nocount = cfg;
	nocount.no_insns = 1;
	vfm_state_t *a = vfm_create_with(&cfg, NULL);
	vfm_state_t *b = vfm_create_with(&nocount, NULL);
	vfm_state_t *c = vfm_create_with(&cfg, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(vfm_attach_program(a, prog), VFM_OK);
	assert_int_equal(vfm_attach_program(b, prog), VFM_OK);
	assert_int_equal(vfm_attach_program(c, prog), VFM_OK);
	struct ref_ctx rc;
	assert_int_equal(ref_init(&rc, prog, VFM_DEFAULT_FLOW_CAPACITY, budget), 0);
	for (unsigned variant = 0; variant < 4; variant++) {
		for (uint32_t n = 0; n <= 80; n++) {
			/* Exactly n bytes on the heap: ASan sees any read
			 * past the packet. */
			uint8_t *buf = malloc(n ? n : 1);
			assert_non_null(buf);
			fill_packet(buf, n, variant);
			vfm_packet_t pkt = {.data = n ? buf : NULL, .len = n};
			vfm_result_t ra, rb, rr;
			assert_int_equal(vfm_execute_ex(a, &pkt, &ra), VFM_OK);
			assert_int_equal(vfm_execute_ex(b, &pkt, &rb), VFM_OK);
			uint32_t vc = vfm_execute(c, pkt.data, n);
			ref_run(&rc, &pkt, &rr);
			if (ra.verdict != rr.verdict || ra.status != rr.status ||
			    ra.insns != rr.insns)
				fail_msg("len %u variant %u: interpreter %u/%s/%llu, reference "
					 "%u/%s/%llu\n%s",
					 n, variant, ra.verdict, vfm_status_name(ra.status),
					 (unsigned long long)ra.insns, rr.verdict,
					 vfm_status_name(rr.status), (unsigned long long)rr.insns,
					 src);
			if (rb.verdict != rr.verdict || rb.status != rr.status || rb.insns != 0)
				fail_msg("len %u variant %u: no_insns VM %u/%s/%llu, reference "
					 "%u/%s\n%s",
					 n, variant, rb.verdict, vfm_status_name(rb.status),
					 (unsigned long long)rb.insns, rr.verdict,
					 vfm_status_name(rr.status), src);
			if (vc != rr.verdict)
				fail_msg("len %u variant %u: vfm_execute %u, reference %u\n%s", n,
					 variant, vc, rr.verdict, src);
			free(buf);
			n_runs++;
		}
	}
	check_flow_ref(a, &rc, 1);
	ref_free(&rc);
	vfm_destroy(a);
	vfm_destroy(b);
	vfm_destroy(c);
	vfm_program_release(prog);
}

static const char *const loads[] = {"LD8", "LD16", "LD32", "LD64"};
static const char *const jumps[] = {"JEQ", "JNE", "JGT", "JGE", "JLT", "JLE", "JSET"};

/* LOAD k; PUSH c; JCC for every load size and jump, at offsets below 8
 * (no group: k + size < 8), at the packet's start of interest and deep;
 * unproven and (after a guard) proven in bounds. */
static void test_load_push_jcc(void **state)
{
	(void)state;
	static const unsigned offsets[] = {0, 5, 12, 14, 40, 70};
	static const char *const consts[] = {"0", "0x0800", "6", "0xFFFFFFFFFFFFFFFF"};
	char src[512];
	for (size_t l = 0; l < 4; l++)
		for (size_t j = 0; j < 7; j++)
			for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++)
				for (size_t k = 0; k < 4; k++) {
					snprintf(src, sizeof src,
						 "%s %u\nPUSH %s\n%s yes\nRET 2\nyes:\nRET 1\n",
						 loads[l], offsets[o], consts[k], jumps[j]);
					run_all(src, 100);
					/* Proven: the guard makes len >= 80. */
					snprintf(src, sizeof src,
						 "LEN\nPUSH 80\nJLT short\n%s %u\nPUSH %s\n%s yes\n"
						 "RET 2\nyes:\nRET 1\nshort:\nRET 3\n",
						 loads[l], offsets[o], consts[k], jumps[j]);
					run_all(src, 100);
				}
}

/* LOADX k; PUSH c; JCC with an index that cannot wrap (IHL), one that may
 * (a loaded 64-bit word), a huge constant one, and a proven one. */
static void test_loadx_push_jcc(void **state)
{
	(void)state;
	static const char *const index[] = {
		"LD8 14\nPUSH 15\nAND\nPUSH 2\nSHL\n",      /* [0, 60]: no wrap */
		"LD64 0\n",                                  /* anything */
		"PUSH 0xFFFFFFFFFFFFFFFE\n",                 /* wraps */
		"PUSH 3\n",
		"LEN\nPUSH 80\nJLT short\nPUSH 2\n",          /* proven in bounds */
	};
	char src[512];
	for (size_t l = 0; l < 4; l++)
		for (size_t j = 0; j < 7; j++)
			for (size_t x = 0; x < sizeof index / sizeof index[0]; x++)
				for (unsigned k = 0; k < 20; k += 7) {
					snprintf(src, sizeof src,
						 "%s%sX %u\nPUSH 0x50\n%s yes\nRET 2\nyes:\nRET 1\n"
						 "short:\nRET 3\n",
						 index[x], loads[l], k, jumps[j]);
					run_all(src, 100);
				}
}

/* LEN; PUSH c; JCC and the IHL idiom for every load size, and groups whose
 * inner instructions are jump targets. */
static void test_other_groups(void **state)
{
	(void)state;
	char src[512];
	for (size_t j = 0; j < 7; j++)
		for (unsigned c = 0; c <= 80; c += 20) {
			snprintf(src, sizeof src, "LEN\nPUSH %u\n%s yes\nRET 2\nyes:\nRET 1\n", c,
				 jumps[j]);
			run_all(src, 100);
		}
	for (size_t l = 0; l < 4; l++)
		for (unsigned k = 0; k < 80; k += 13) {
			snprintf(src, sizeof src, "%s %u\nPUSH 0x0F\nAND\nPUSH 2\nSHL\nRET\n",
				 loads[l], k);
			run_all(src, 100);
			snprintf(src, sizeof src, "%s %u\nPUSH 0xF0F0\nAND\nPUSH 67\nSHL\nRET\n",
				 loads[l], k);
			run_all(src, 100);
		}
	/* A jump to the PUSH inside LD16 12; PUSH 0x800; JNE. */
	run_all("LD8 14\nPUSH 0x45\nJEQ a\nLD8 15\nJMP inner\na:\nLD16 12\ninner:\n"
		"PUSH 0x800\nJNE drop\nRET 1\ndrop:\nRET 0\n",
		100);
	/* Jumps to the AND and to the second PUSH of the IHL idiom. */
	run_all("LD8 13\nPUSH 1\nJEQ b\nLD8 23\nPUSH 17\nJEQ c\nLD8 14\nPUSH 7\nJMP mid\n"
		"c:\nLD8 14\nPUSH 15\nAND\nJMP mid2\nb:\nLD8 14\nPUSH 15\nmid:\nAND\n"
		"mid2:\nPUSH 2\nSHL\nRET\n",
		100);
	/* A jump to the JCC of LOADX k; PUSH c; JCC. */
	run_all("LD8 23\nPUSH 6\nJEQ t\nPUSH 1\nPUSH 2\nJMP j\nt:\nPUSH 4\nLD16X 10\nPUSH 0x50\n"
		"j:\nJGT yes\nRET 2\nyes:\nRET 1\n",
		100);
	/* The bench filters (the groups they are made of, in context). */
	const char *files[] = {"bench/filters/f1.vfm", "bench/filters/f2.vfm",
			       "bench/filters/f3.vfm", "bench/filters/f4.vfm"};
	for (size_t f = 0; f < 4; f++) {
		char *text = ts_read_file(files[f], NULL);
		run_all(text, 100);
		free(text);
	}
}

/* Backward jumps in groups: the budget is spent by the fused jump. */
static void test_budget_in_groups(void **state)
{
	(void)state;
	for (uint32_t budget = 0; budget < 4; budget++) {
		run_all("loop:\nLEN\nPUSH 0\nJNE loop\nRET 1\n", budget);
		run_all("loop:\nLD8 20\nPUSH 0x80\nJLT loop\nRET 1\n", budget);
		run_all("PUSH 5\nloop:\nPUSH 1\nSUB\nDUP\nPUSH 0\nJNE loop\nPOP\nRET 7\n", budget);
		/* A backward jump into the middle of a group. */
		run_all("LD8 14\nback:\nPUSH 3\nJNE skip\nPUSH 3\nJMP back\nskip:\nRET 1\n", budget);
	}
}

/* The scratch words zeroed per packet: those some path may read first. */
static uint16_t zero_mask(const char *src)
{
	vfm_program_t *prog = ts_program_from_asm(src);
	uint16_t m = vfm_scratch_read_before_write(prog);
	assert_int_equal(m, prog->scratch_zero);
	vfm_program_release(prog);
	return m;
}

static void test_scratch_zeroing(void **state)
{
	(void)state;
	assert_int_equal(zero_mask("RET 1\n"), 0);
	assert_int_equal(zero_mask("PUSH 1\nSTM 3\nLDM 3\nRET\n"), 0);
	assert_int_equal(zero_mask("LDM 3\nRET\n"), 1u << 3);
	/* Written on one path only. */
	assert_int_equal(zero_mask("LEN\nPUSH 10\nJLT s\nPUSH 1\nSTM 2\ns:\nLDM 2\nRET\n"),
			 1u << 2);
	/* Written on both paths. */
	assert_int_equal(zero_mask("LEN\nPUSH 10\nJLT s\nPUSH 1\nSTM 2\nJMP t\ns:\nPUSH 2\n"
				   "STM 2\nt:\nLDM 2\nRET\n"),
			 0);
	/* A loop that reads M[1] before it writes it: the first iteration
	 * reads the initial 0. */
	const char *loop = "PUSH 3\nSTM 0\nloop:\nLDM 1\nPUSH 1\nADD\nSTM 1\nLDM 0\nPUSH 1\n"
			   "SUB\nDUP\nSTM 0\nPUSH 0\nJNE loop\nLDM 1\nLDM 5\nADD\nRET\n";
	assert_int_equal(zero_mask(loop), (1u << 1) | (1u << 5));
	/* Unreachable reads do not count. */
	assert_int_equal(zero_mask("RET 1\nLDM 4\nRET\n"), 0);
	/* And the results: a previous packet's scratch never shows. */
	run_all(loop, 100);
	run_all("LEN\nPUSH 40\nJLT s\nLD32 20\nSTM 2\ns:\nLDM 2\nLD8 3\nSTM 7\nLDM 7\nADD\nRET\n",
		100);
}

/* Memory per instruction is as documented. */
static void test_icode_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct vfm_icode), 32);
	vfm_program_t *prog = ts_program_from_asm("LD16 12\nPUSH 0x800\nJNE d\nRET 1\nd:\nRET 0\n");
#ifndef VFM_ORACLE
	assert_int_equal(prog->icode[0].n, 3);
	assert_int_equal(prog->icode[1].n, 2); /* PUSH; JNE on its own */
#endif
	assert_int_equal(prog->icode[prog->n_insns].op, VFM_IOP_TRAP);
	vfm_program_release(prog);
}

static void test_summary(void **state)
{
	(void)state;
	print_message("%u packet runs compared with the reference\n", n_runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icode_layout),
		cmocka_unit_test(test_load_push_jcc),
		cmocka_unit_test(test_loadx_push_jcc),
		cmocka_unit_test(test_other_groups),
		cmocka_unit_test(test_budget_in_groups),
		cmocka_unit_test(test_scratch_zeroing),
		cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
