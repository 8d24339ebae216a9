/*
 * tests/test_jit_wx.c — the JIT never maps memory writable and executable
 * at once (W^X, docs/JIT.md "Code memory").
 *
 * A thread reads /proc/self/maps over and over while the main thread
 * compiles, runs and frees generated programs on the native JIT (both
 * variants each); every mapping it sees with both w and x is kept.  At
 * the end none of them may contain an address where JIT code was
 * published (valgrind's own translation cache is RWX and reuses freed
 * pages, so under valgrind this part is not judged).  Published code
 * itself must sit in a mapping that is exactly r-x, checked right after
 * each compilation.  Skips where the build has no JIT.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"
#include "progen.h"

#define PROGRAMS 300
#define MAX_WX 4096

struct range {
	uintptr_t lo, hi;
	char perms[5];
};

/* The mapping of /proc/self/maps that holds addr, or false. */
static bool mapping_of(uintptr_t addr, struct range *out)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		struct range r;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s", &r.lo, &r.hi, r.perms) == 3 &&
		    addr >= r.lo && addr < r.hi) {
			*out = r;
			found = true;
		}
	}
	fclose(f);
	return found;
}

struct watcher {
	pthread_t thread;
	volatile int stop;
	unsigned long scans;
	struct range wx[MAX_WX];
	int n_wx;
};

/* Records each distinct writable+executable mapping it sees. */
static void *watch(void *arg)
{
	struct watcher *w = arg;
	char line[512];
	while (!w->stop) {
		FILE *f = fopen("/proc/self/maps", "r");
		if (!f)
			break;
		while (fgets(line, sizeof line, f)) {
			struct range r;
			if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s", &r.lo, &r.hi, r.perms) != 3 ||
			    r.perms[1] != 'w' || r.perms[2] != 'x')
				continue;
			bool known = false;
			for (int k = 0; k < w->n_wx && !known; k++)
				known = w->wx[k].lo == r.lo && w->wx[k].hi == r.hi;
			if (!known && w->n_wx < MAX_WX)
				w->wx[w->n_wx++] = r;
		}
		fclose(f);
		w->scans++;
	}
	return NULL;
}

static void test_never_writable_and_executable(void **state)
{
	(void)state;
	vfm_state_t *probe = ts_vm_from_asm("RET 1");
	if (vfm_enable_jit(probe) != VFM_OK) {
		vfm_destroy(probe);
		skip(); /* no JIT in this build (jit/none.c) */
	}
	vfm_destroy(probe);

	static struct watcher w; /* MAX_WX ranges: not on the stack */
	memset(&w, 0, sizeof w);
	assert_int_equal(pthread_create(&w.thread, NULL, watch, &w), 0);

	uintptr_t *code_at = calloc(PROGRAMS * 2, sizeof *code_at);
	assert_non_null(code_at);
	int n_code = 0;
	struct progen_config cfg;
	progen_config_init(&cfg);
	static const uint8_t pkt_bytes[64] = {[12] = 0x08, [14] = 0x45, [23] = 6};
	const vfm_packet_t pkt = {.data = pkt_bytes, .len = sizeof pkt_bytes};
	for (int p = 0; p < PROGRAMS; p++) {
		cfg.target_insns = 8u + (unsigned)(p % 9) * 40u;
		char *src;
		assert_int_equal(progen_generate(&cfg, 77000u + (uint64_t)p, &src), 0);
		/* Each program with and without counting: both variants. */
		for (int nc = 0; nc < 2; nc++) {
			size_t len;
			uint8_t *bin = ts_assemble(src, &len);
			vfm_config_t vcfg = {.flow_capacity = 16, .no_insns = nc};
			vfm_state_t *vm = vfm_create_with(&vcfg, NULL);
			assert_int_equal(vfm_load_program(vm, bin, len), VFM_OK);
			if (vfm_enable_jit(vm) != VFM_OK)
				fail_msg("JIT refused: %s\n%s", vfm_last_error(vm), src);
			const void *code;
			size_t size;
			assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_OK);
			struct range r;
			if (!mapping_of((uintptr_t)code, &r))
				fail_msg("JIT code at %p is in no mapping of /proc/self/maps", code);
			if (strncmp(r.perms, "r-x", 3) != 0)
				fail_msg("JIT code at %p is mapped %s, not r-x", code, r.perms);
			code_at[n_code++] = (uintptr_t)code;
			vfm_result_t res;
			assert_int_equal(vfm_execute_ex(vm, &pkt, &res), VFM_OK);
			vfm_destroy(vm);
			free(bin);
		}
		free(src);
	}
	w.stop = 1;
	assert_int_equal(pthread_join(w.thread, NULL), 0);
	print_message("%d compilations, /proc/self/maps read %lu times, %d W+X mappings seen "
		      "(none may hold JIT code)\n", n_code, w.scans, w.n_wx);
	assert_true(w.scans > 0);
	assert_true(w.n_wx < MAX_WX); /* else some went unrecorded */
	/* Under valgrind the check cannot judge: valgrind maps its own RWX
	 * translation cache into address space the client freed, JIT pages
	 * included (seen here).  The r-x check above still ran. */
	const char *preload = getenv("LD_PRELOAD");
	if (preload && strstr(preload, "vgpreload")) {
		print_message("under valgrind: W+X mappings not judged (its own cache reuses freed "
			      "pages)\n");
		w.n_wx = 0;
	}
	for (int k = 0; k < w.n_wx; k++)
		for (int c = 0; c < n_code; c++)
			if (code_at[c] >= w.wx[k].lo && code_at[c] < w.wx[k].hi)
				fail_msg("mapping %" PRIxPTR "-%" PRIxPTR " %s held JIT code at %" PRIxPTR,
					 w.wx[k].lo, w.wx[k].hi, w.wx[k].perms, code_at[c]);
	free(code_at);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_writable_and_executable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
