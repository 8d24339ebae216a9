/*
 * tests/test_support.c — see test_support.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
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

vfm_program_t *ts_program_from_asm(const char *source)
{
	size_t len;
	uint8_t *bin = ts_assemble(source, &len);
	vfm_program_t *prog;
	vfm_diag_t diag;
	if (vfm_program_create(bin, len, &prog, &diag) != VFM_OK)
		fail_msg("load: %s\n--- source ---\n%s", diag.message, source);
	free(bin);
	return prog;
}

const char *ts_tool(const char *name)
{
	static char path[4096];
	const char *dir = getenv("VFM_BIN");
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "build/bin", name);
	return path;
}

char *ts_read_file(const char *path, size_t *len)
{
	uint8_t *buf;
	size_t n;
	if (fileio_read(path, &buf, &n) != 0)
		fail_msg("cannot read %s: %s (tests run from the repository root)", path,
			 strerror(errno));
	if (len)
		*len = n;
	return (char *)buf;
}

int ts_run(const char *cmd, char **output)
{
	char full[8192];
	snprintf(full, sizeof full, "%s 2>&1", cmd);
	FILE *p = popen(full, "r");
	assert_non_null(p);
	uint8_t *buf;
	size_t n;
	assert_int_equal(fileio_read_stream(p, &buf, &n), 0);
	int status = pclose(p);
	if (output)
		*output = (char *)buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int ts_collect_flow(uint64_t key, uint64_t value, void *list)
{
	struct ts_flow_list *l = list;
	if (l->n < TS_FLOW_LIST_MAX) {
		l->kv[2 * l->n] = key;
		l->kv[2 * l->n + 1] = value;
	}
	l->n++;
	return 0;
}

int ts_same_flow_entries(const vfm_state_t *a, const vfm_state_t *b)
{
	static struct ts_flow_list la, lb;
	la.n = lb.n = 0;
	vfm_flow_foreach(a, ts_collect_flow, &la);
	vfm_flow_foreach(b, ts_collect_flow, &lb);
	uint32_t n = la.n < TS_FLOW_LIST_MAX ? la.n : TS_FLOW_LIST_MAX;
	return la.n == lb.n && memcmp(la.kv, lb.kv, 2 * (size_t)n * sizeof la.kv[0]) == 0;
}
