/*
 * tests/test_z3_corrupt.c — the Z3 cross-check is an independent encoding:
 * it catches a wrong transfer function of the abstract interpreter.
 *
 * This test is linked with verifier/absint.c compiled with
 * -DVFM_TEST_CORRUPT (Makefile: the object replaces libvfm's absint.o in
 * this binary only), which corrupts two transfer functions:
 *   - SUB is analysed as ADD (a wrong ALU transfer function);
 *   - JLT's edges are refined the wrong way round (a wrong relation).
 * The verifier then makes unsound claims about programs that use them, and
 * vfm_z3_check, whose per-opcode semantics come from the opcode table and
 * vm/semantics.h and never from the verifier, must refute each with a
 * counterexample.  A program that uses neither must still check clean, so
 * the refutations come from the corrupted functions, not from the setup.
 *
 * Nothing here runs the interpreter: under the oracle build the corrupted
 * facts would (rightly) abort it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../verifier/domain.h"
#include "../verifier/z3/z3check.h"
#include "program.h"
#include "../verifier/verifier.h"

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

static uint32_t nth_op(const vfm_program_t *prog, uint8_t opcode, int n)
{
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].opcode == opcode && n-- == 0)
			return i;
	fail_msg("opcode 0x%02x not found", opcode);
	return 0;
}

/* The stack top's claimed value before insn i. */
static struct vfm_aval top_claim(const vfm_program_t *prog, uint32_t i)
{
	const struct vfm_facts *f = &prog->facts;
	assert_true(f->flags[i] & VFM_FACT_REACHED);
	assert_true(f->depth[i] > 0);
	return vfm_facts_state(prog, i)[f->n_scratch + (uint32_t)f->depth[i]].v;
}

/* The check must refute a VALUE claim about the stack top at insn with a
 * counterexample; returns that failure's value (the real top). */
static uint64_t expect_refuted_top(const vfm_program_t *prog, const char *name, uint32_t insn)
{
	struct vfm_z3_report rep;
	vfm_error_t err = vfm_z3_check(prog, NULL, &rep);
	if (err != VFM_EVERIFY || rep.n_fail == 0) {
		vfm_z3_print_report(stderr, prog, &rep);
		fail_msg("%s: the corrupted transfer function was not detected (%s)", name,
			 vfm_error_name(err));
	}
	uint32_t top = 1 + vfm_facts_n_scratch(prog) + (uint32_t)vfm_facts_depth(prog, insn) - 1;
	for (uint32_t j = 0; j < rep.n_fail; j++) {
		const struct vfm_z3_failure *fl = &rep.fail[j];
		if (fl->insn != insn || fl->kind != VFM_Z3_VALUE || fl->slot != (int32_t)top)
			continue;
		assert_true(fl->has_cex);
		assert_non_null(fl->text);
		assert_non_null(strstr(fl->text, "counterexample: len = "));
		assert_true(fl->len >= 1 && fl->n_bytes >= 1);
		print_message("%s: detected:\n%s", name, fl->text);
		uint64_t v = fl->value;
		/* The counterexample's first byte is the loaded value. */
		if (strcmp(name, "sub") == 0)
			assert_int_equal(v, (uint64_t)fl->bytes[0] - 1);
		else
			assert_int_equal(v, fl->bytes[0]);
		vfm_z3_report_free(&rep);
		return v;
	}
	vfm_z3_print_report(stderr, prog, &rep);
	fail_msg("%s: no value failure for the stack top at insn %u", name, insn);
	return 0;
}

/* SUB analysed as ADD: the verifier claims byte - 1 lies in [1, 256]; Z3
 * finds a byte for which it does not (every byte does not, in fact). */
static void test_corrupt_alu(void **state)
{
	(void)state;
	vfm_program_t *p = load_src("LD8 0\nPUSH 1\nSUB\nRET\n", "sub");
	uint32_t ret = nth_op(p, VFM_OPC_RET, 0);
	struct vfm_aval claim = top_claim(p, ret);
	/* The corrupted claim, [0,255] + 1 (built against an uncorrupted
	 * libvfm this fails here: see the Makefile rule). */
	assert_int_equal(claim.itv.lo, 1);
	assert_int_equal(claim.itv.hi, 256);
	uint64_t v = expect_refuted_top(p, "sub", ret);
	assert_false(vfm_aval_contains(claim, v));
	vfm_program_release(p);
}

/* JLT refined the wrong way round: on the taken edge the verifier claims
 * the byte is >= 10, on the fall-through edge < 10. */
static void test_corrupt_refinement(void **state)
{
	(void)state;
	vfm_program_t *p = load_src("LD8 0\nDUP\nPUSH 10\nJLT small\nRET\nsmall:\nRET\n", "jlt");
	uint32_t small = nth_op(p, VFM_OPC_RET, 1);
	struct vfm_aval claim = top_claim(p, small);
	assert_int_equal(claim.itv.lo, 10); /* the corrupted claim */
	uint64_t v = expect_refuted_top(p, "jlt", small);
	assert_true(v < 10);
	vfm_program_release(p);
}

/* Neither SUB nor JLT: the corrupted build claims nothing wrong, and the
 * check agrees. */
static void test_uncorrupted_ops_hold(void **state)
{
	(void)state;
	vfm_program_t *p = load_src("LD8 0\nPUSH 1\nADD\nDUP\nPUSH 10\nJGT big\nRET\nbig:\nRET 0\n",
				    "clean");
	struct vfm_z3_report rep;
	vfm_error_t err = vfm_z3_check(p, NULL, &rep);
	if (err != VFM_OK)
		vfm_z3_print_report(stderr, p, &rep);
	assert_int_equal(err, VFM_OK);
	assert_int_equal(rep.failures, 0);
	assert_true(rep.claims > 0);
	vfm_z3_report_free(&rep);
	vfm_program_release(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corrupt_alu),
		cmocka_unit_test(test_corrupt_refinement),
		cmocka_unit_test(test_uncorrupted_ops_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
