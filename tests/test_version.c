/*
 * tests/test_version.c — one version, everywhere: vfm_version() (the
 * library that runs) equals VFM_VERSION_NUMBER (the header it was built
 * with), VFM_VERSION_STRING spells the same three numbers, and every tool's
 * --version prints that string (tools/cli.h takes it from vfm.h).  The
 * soname, vfm.pc and vfm(3) take the numbers from vfm.h too (Makefile,
 * tests/check_man.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfm.h"
#include "test_support.h"

static void test_runtime_equals_header(void **state)
{
	(void)state;
	assert_int_equal(vfm_version(), VFM_VERSION_NUMBER);
	assert_int_equal(vfm_version() >> 16, VFM_VERSION_MAJOR);
	assert_int_equal((vfm_version() >> 8) & 0xff, VFM_VERSION_MINOR);
	assert_int_equal(vfm_version() & 0xff, VFM_VERSION_PATCH);
}

static void test_string_spells_the_numbers(void **state)
{
	(void)state;
	char buf[64];
	snprintf(buf, sizeof buf, "%d.%d.%d", VFM_VERSION_MAJOR, VFM_VERSION_MINOR,
		 VFM_VERSION_PATCH);
	assert_string_equal(buf, VFM_VERSION_STRING);
}

/* `TOOL --version` prints a line that contains VFM_VERSION_STRING. */
static void test_tools_print_it(void **state)
{
	(void)state;
	static const char *const tools[] = {"vfm-asm", "vfm-dis", "vfm-verify", "vfm-test",
					    "vfm-gen", "vfm-progen", "vfm-compile", "vfm-filtertest"};
	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
		char cmd[512], line[256] = "";
		snprintf(cmd, sizeof cmd, "%s --version", ts_tool(tools[i]));
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		if (!fgets(line, sizeof line, p))
			line[0] = '\0';
		int rc = pclose(p);
		if (rc != 0 || !strstr(line, VFM_VERSION_STRING))
			fail_msg("%s --version: exit %d, printed \"%s\", expected %s", tools[i], rc,
				 line, VFM_VERSION_STRING);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtime_equals_header),
		cmocka_unit_test(test_string_spells_the_numbers),
		cmocka_unit_test(test_tools_print_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
