/*
 * tests/test_single_header.c — a program built against the generated
 * single header alone (no libvfm.a): assemble, load, run, inspect.
 */
#define VFM_IMPLEMENTATION
#include "vfm_single.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_quickstart_through_single_header(void **state)
{
	(void)state;
	const char *src = "LD16 12\nPUSH 0x0800\nJNE reject\nLD8 23\nPUSH 6\nJNE reject\n"
			  "LD16 36\nPUSH 80\nJEQ accept\nreject:\nRET 0\naccept:\nRET 1\n";
	uint8_t *bin;
	size_t len;
	vfm_diag_t diag;
	assert_int_equal(vfm_assemble(src, strlen(src), "q.vfm", 1, &bin, &len, &diag), VFM_OK);
	vfm_state_t *vm = vfm_create();
	assert_non_null(vm);
	assert_int_equal(vfm_load_program(vm, bin, len), VFM_OK);
	uint8_t pkt[64] = {0};
	pkt[12] = 0x08;
	pkt[23] = 6;
	pkt[37] = 80;
	assert_int_equal(vfm_execute(vm, pkt, sizeof pkt), 1);
	pkt[37] = 81;
	assert_int_equal(vfm_execute(vm, pkt, sizeof pkt), 0);
	vfm_result_t r;
	vfm_packet_t p = {.data = pkt, .len = 20, .ts_ns = 0};
	assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_OK);
	assert_int_equal(r.status, VFM_STATUS_BOUNDS);
	char *text;
	assert_int_equal(vfm_disassemble(bin, len, &text, NULL), VFM_OK);
	assert_non_null(strstr(text, "JEQ L62"));
	free(text);
	free(bin);
	vfm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quickstart_through_single_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
