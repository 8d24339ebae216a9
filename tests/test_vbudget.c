/*
 * tests/test_vbudget.c — a program over the verifier's work budget is
 * refused with VFM_ETOOBIG, the message naming the budget and the pc
 * (docs/VERIFIER.md, "Cost").  Linked with verifier/absint.c built with
 * -DVFM_TEST_TINY_BUDGET (4 units per abstract word, no base; Makefile):
 * the library's budget is too generous for a small test to exceed it
 * (tests/test_vcost.c shows the shapes that come nearest stay within it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static vfm_error_t load(const char *src, vfm_diag_t *d)
{
	size_t len;
	uint8_t *img = ts_assemble(src, &len);
	vfm_program_t *p = NULL;
	vfm_error_t err = vfm_program_create(img, len, &p, d);
	free(img);
	if (err == VFM_OK)
		vfm_program_release(p);
	else
		assert_null(p);
	return err;
}

/* A loop takes several passes: over 4 units per word. */
static void test_loop_refused(void **state)
{
	(void)state;
	vfm_diag_t d;
	vfm_error_t err = load("PUSH 0\nSTM 0\nl:\nLDM 0\nPUSH 1\nADD\nDUP\nSTM 0\n"
			       "PUSH 100\nJLT l\nRET 1\n", &d);
	print_message("  %s\n", d.message);
	assert_int_equal(err, VFM_ETOOBIG);
	assert_non_null(strstr(d.message, "work budget"));
	assert_non_null(strstr(d.message, "pc "));
	assert_true(d.pc >= 0);
	/* The pc named lies in the loop (pc 3 .. 16 of this encoding). */
	assert_true(d.pc >= 3);
}

/* Straight-line code is one pass (plus the replay): within budget even
 * with 4 units per word (one pass, the replay, the merges). */
static void test_straight_line_loads(void **state)
{
	(void)state;
	vfm_diag_t d;
	assert_int_equal(load("LEN\nPUSH 14\nJLT out\nLD16 12\nRET\nout:\nRET 0\n", &d), VFM_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_refused),
		cmocka_unit_test(test_straight_line_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
