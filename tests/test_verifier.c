/*
 * tests/test_verifier.c — structural verifier: accept/reject cases by
 * topic.  Every rejection checks the reason and that the message names the
 * pc and the source line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "program.h"
#include "../verifier/verifier.h"
#include "test_support.h"

struct verify_case {
	const char *name;
	const char *src;
	const char *expect; /* NULL: accepted; else a substring of the message */
	int64_t pc;         /* expected pc of the rejection (-1: don't check) */
	uint32_t max_depth; /* for accepted programs */
};

static const struct verify_case cases[] = {
	/* Accepted */
	{"minimal", "RET 0", NULL, -1, 0},
	{"quickstart_shape", "LD16 12\nPUSH 0x800\nJNE r\nRET 1\nr:\nRET 0", NULL, -1, 2},
	{"loop_same_depth", "PUSH 3\nl:\nPUSH 1\nSUB\nDUP\nPUSH 0\nJNE l\nRET", NULL, -1, 3},
	{"unreachable_code_allowed", "RET 1\nPOP\nPOP\nRET", NULL, -1, 0},
	{"diamond", "LD8 0\nPUSH 1\nJEQ a\nPUSH 2\nJMP b\na:\nPUSH 3\nb:\nRET", NULL, -1, 2},
	{"over_depth", "PUSH 1\nPUSH 2\nOVER\nRET", NULL, -1, 3},

	/* Falling off the end */
	{"falls_off_end", "PUSH 1", "falls off the end", 0, 0},
	{"falls_off_after_jcc", "PUSH 1\nPUSH 1\nJEQ x\nx:\nPUSH 1\nPOP", "falls off the end", 32, 0},
	{"jcc_last_falls_off", "x:\nPUSH 1\nPUSH 1\nJEQ x", "falls off the end", 18, 0},

	/* Stack underflow, per instruction class */
	{"underflow_ret", "RET", "stack underflow: RET needs 1 value, stack depth is 0", 0, 0},
	{"underflow_pop", "POP\nRET 0", "stack underflow: POP needs 1", 0, 0},
	{"underflow_add", "PUSH 1\nADD\nRET", "stack underflow: ADD needs 2 values, stack depth is 1", 9, 0},
	{"underflow_swap", "PUSH 1\nSWAP\nRET", "SWAP needs 2", 9, 0},
	{"underflow_over", "PUSH 1\nOVER\nRET", "OVER needs 2", 9, 0},
	{"underflow_jcc", "PUSH 1\nJEQ x\nx:\nRET 0", "JEQ needs 2", 9, 0},
	{"underflow_ldx", "LD8X 0\nRET", "LD8X needs 1", 0, 0},
	{"underflow_stm", "STM 0\nRET 0", "STM needs 1", 0, 0},
	{"underflow_flow_store", "PUSH 1\nFLOW_STORE\nRET 0", "FLOW_STORE needs 2", 9, 0},
	{"underflow_not", "NOT\nRET", "NOT needs 1", 0, 0},
	{"underflow_on_one_path", "LD8 0\nPUSH 0\nJEQ a\nPUSH 1\na:\nRET", "stack depth mismatch", -1, 0},

	/* Depth mismatch at joins, loops included */
	{"mismatch_join", "LD8 0\nPUSH 0\nJEQ a\nPUSH 1\nPUSH 2\nJMP b\na:\nPUSH 1\nb:\nRET",
	 "stack depth mismatch", -1, 0},
	{"mismatch_loop_grows", "l:\nPUSH 1\nJMP l", "stack depth mismatch", 9, 0},
	{"mismatch_loop_shrinks", "PUSH 1\nPUSH 2\nl:\nPOP\nLD8 0\nPUSH 0\nJEQ l\nRET",
	 "stack depth mismatch", -1, 0},

	/* Overflow: 257 values */
	{"overflow", NULL, "stack overflow: PUSH makes the depth 257, the maximum is 256", 256 * 9, 0},

	/* Scratch index */
	{"scratch_index_16", ".byte 0x06, 16\nRET 0", "LDM scratch index 16 out of range (0..15)", 0, 0},
	{"scratch_index_255", "PUSH 1\n.byte 0x07, 255\nRET 0", "STM scratch index 255", 9, 0},

	/* Opcodes and operands */
	{"unknown_opcode_0", ".byte 0x00", "unknown opcode 0x00", 0, 0},
	{"unknown_opcode_ff", "PUSH 1\n.byte 0xff\nRET", "unknown opcode 0xff", 9, 0},
	{"unknown_opcode_gap", ".byte 0x08\nRET 0", "unknown opcode 0x08", 0, 0},
	{"truncated_push", ".byte 0x01, 1, 2, 3", "PUSH operand needs 8 bytes, only 3 left", 0, 0},
	{"truncated_jump", "RET 0\n.byte 0x30, 0", "JMP operand needs 4 bytes", 5, 0},

	/* Jump targets */
	{"jump_past_end", ".byte 0x30, 10, 0, 0, 0\nRET 0", "JMP target pc 15 is outside the code", 0, 0},
	{"jump_before_start", ".byte 0x30, 0xf0, 0xff, 0xff, 0xff\nRET 0",
	 "JMP target pc -11 is outside the code", 0, 0},
	{"jump_into_operand", ".byte 0x30, 0xfc, 0xff, 0xff, 0xff\nRET 0",
	 "JMP target pc 1 is inside an instruction", 0, 0},
	{"jump_to_end_exactly", ".byte 0x30, 5, 0, 0, 0\nRET 0", "outside the code", 0, 0},
	{"jcc_into_push_operand", "PUSH 1\nPUSH 2\n.byte 0x31, 0xeb, 0xff, 0xff, 0xff\nRET 0",
	 "JEQ target pc 2 is inside an instruction", 18, 0},
};

static char *overflow_source(void)
{
	char *s = malloc(257 * 8 + 16), *p = s;
	assert_non_null(s);
	for (int i = 0; i < 257; i++)
		p += sprintf(p, "PUSH 1\n");
	sprintf(p, "RET\n");
	return s;
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct verify_case *c = &cases[i];
		char *generated = c->src ? NULL : overflow_source();
		const char *src = c->src ? c->src : generated;
		size_t len;
		uint8_t *bin = ts_assemble(src, &len);
		vfm_program_t *prog = NULL;
		vfm_diag_t diag;
		vfm_error_t err = vfm_program_create(bin, len, &prog, &diag);
		if (!c->expect) {
			if (err != VFM_OK)
				fail_msg("%s: rejected: %s", c->name, diag.message);
			assert_int_equal(vfm_program_max_depth(prog), c->max_depth);
		} else {
			if (err != VFM_EVERIFY)
				fail_msg("%s: expected rejection '%s', got %s", c->name, c->expect,
					 vfm_error_name(err));
			if (!strstr(diag.message, c->expect))
				fail_msg("%s: message '%s' lacks '%s'", c->name, diag.message,
					 c->expect);
			/* The message starts with the pc and names the source line. */
			assert_true(strncmp(diag.message, "pc ", 3) == 0);
			assert_non_null(strstr(diag.message, "test.vfm:"));
			assert_true(diag.line > 0);
			if (c->pc >= 0 && diag.pc != c->pc)
				fail_msg("%s: rejection at pc %lld, expected %lld (%s)", c->name,
					 (long long)diag.pc, (long long)c->pc, diag.message);
			assert_null(prog);
		}
		vfm_program_release(prog);
		free(bin);
		free(generated);
	}
}

/* Without a line table the message still names the pc. */
static void test_message_without_lines(void **state)
{
	(void)state;
	uint8_t *bin = NULL;
	size_t len;
	vfm_diag_t diag;
	assert_int_equal(vfm_assemble("PUSH 1\nADD\nRET", 14, "x", 0, &bin, &len, &diag), VFM_OK);
	vfm_program_t *prog;
	assert_int_equal(vfm_program_create(bin, len, &prog, &diag), VFM_EVERIFY);
	assert_string_equal(diag.message,
			    "pc 9: stack underflow: ADD needs 2 values, stack depth is 1");
	assert_int_equal(diag.line, 0);
	free(bin);
}

/* Depth facts: the depth before every instruction, -1 for unreachable. */
static void test_depth_facts(void **state)
{
	(void)state;
	size_t len;
	uint8_t *bin = ts_assemble("PUSH 1\nPUSH 2\nADD\nRET\nPUSH 5\nRET", &len);
	vfm_program_t *prog;
	assert_int_equal(vfm_program_create(bin, len, &prog, NULL), VFM_OK);
	static const int16_t want[] = {0, 1, 2, 1, -1, -1};
	assert_int_equal(prog->n_insns, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(vfm_facts_depth(prog, i), want[i]);
	assert_int_equal(vfm_facts_max_depth(prog), 2);
	assert_int_equal(vfm_facts_reachable(prog), 4);
	assert_false(vfm_facts_has_backward(prog));
	assert_false(vfm_facts_reads_scratch(prog));
	vfm_program_release(prog);
	free(bin);
}

/* A 65,536-instruction program verifies, in well under a second even in
 * sanitizer builds (the benchmark measures the real time). */
static void test_large_program(void **state)
{
	(void)state;
	/* Blocks of: LD8 k; PUSH c; JEQ next; LDM 1; PUSH 1; ADD; STM 1;
	 * next: — 7 instructions, all joins at depth 0. */
	const int blocks = 65536 / 7;
	size_t cap = (size_t)blocks * 96 + 64;
	char *src = malloc(cap), *p = src;
	assert_non_null(src);
	for (int b = 0; b < blocks; b++)
		p += sprintf(p, "LD8 %d\nPUSH %d\nJEQ n%d\nLDM 1\nPUSH 1\nADD\nSTM 1\nn%d:\n",
			     b % 64, b & 255, b, b);
	int used = blocks * 7;
	for (; used < 65535; used++)
		p += sprintf(p, "JMP e%d\ne%d:\n", used, used);
	sprintf(p, "RET 1\n");
	size_t len;
	uint8_t *bin = ts_assemble(src, &len);
	vfm_program_t *prog;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vfm_program_create(bin, len, &prog, NULL), VFM_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(vfm_program_insn_count(prog), 65536);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("65536-instruction program verified in %.2f ms\n", ms);
	vfm_program_release(prog);
	free(bin);
	free(src);
}

/* More than VFM_MAX_INSNS instructions is refused with a clear message. */
static void test_too_many_instructions(void **state)
{
	(void)state;
	uint32_t n = VFM_MAX_INSNS + 1;
	uint8_t *code = malloc(n);
	assert_non_null(code);
	memset(code, VFM_OPC_RETK, 1); /* placeholder first byte overwritten below */
	for (uint32_t i = 0; i < n; i++)
		code[i] = VFM_OPC_DUP;
	uint8_t *file;
	size_t len;
	assert_int_equal(vfm_file_write(code, n, NULL, 0, NULL, NULL, &file, &len), VFM_OK);
	vfm_program_t *prog;
	vfm_diag_t diag;
	assert_int_equal(vfm_program_create(file, len, &prog, &diag), VFM_EVERIFY);
	assert_non_null(strstr(diag.message, "more than 1048576 instructions"));
	free(file);
	free(code);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_message_without_lines),
		cmocka_unit_test(test_depth_facts),
		cmocka_unit_test(test_large_program),
		cmocka_unit_test(test_too_many_instructions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
