/*
 * tests/test_support.c — see test_support.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "test_support.h"

uint8_t *ts_assemble(const char *source, size_t *len)
{
	uint8_t *out = NULL;
	vfm_diag_t diag;
	vfm_error_t err = vfm_assemble(source, strlen(source), "test.vfm", 1, &out, len, &diag);
	if (err != VFM_OK)
		fail_msg("assembly failed: %s\n--- source ---\n%s", diag.message, source);
	return out;
}

vfm_state_t *ts_vm_from_asm(const char *source)
{
	size_t len;
	uint8_t *bytes = ts_assemble(source, &len);
	vfm_state_t *vm = vfm_create();
	assert_non_null(vm);
	if (vfm_load_program(vm, bytes, len) != VFM_OK)
		fail_msg("load failed: %s\n--- source ---\n%s", vfm_last_error(vm), source);
	free(bytes);
	return vm;
}

const char *ts_tool(const char *name)
{
	static char path[4096];
	const char *dir = getenv("VFM_BIN");
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "build/bin", name);
	return path;
}

int ts_run(const char *cmd, char **output)
{
	char full[8192];
	snprintf(full, sizeof full, "%s 2>&1", cmd);
	FILE *p = popen(full, "r");
	assert_non_null(p);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += got;
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[n] = '\0';
	int status = pclose(p);
	if (output)
		*output = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
