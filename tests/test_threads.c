/*
 * tests/test_threads.c — one program shared by several threads, as vfm.h
 * says is safe: each thread attaches it to its own VM, enables the JIT
 * (the first ones race to compile and publish the native code), reads the
 * code with vfm_jit_code, runs packets, asks for the program's memory and
 * the verifier's per-pc states (computed on first use and published the
 * same way), and releases its reference.  The main thread's reference is
 * dropped while the workers still run, so the last worker frees it.
 *
 * Part of every build's `make check`; `make test` also runs it built with
 * ThreadSanitizer (`make check-threads`, build/tsan), which reports any
 * data race between these threads (the JIT's code and size were once
 * published separately: issue 15).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"
#include "../verifier/verifier.h"

#define THREADS 4
#define ROUNDS 8

struct worker {
	vfm_program_t *prog; /* a reference this worker owns */
	pthread_barrier_t *start;
	uint32_t accepted;   /* verdicts != 0 */
	int jit;             /* the JIT ran (0 where there is none) */
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	pthread_barrier_wait(w->start);
	for (int r = 0; r < ROUNDS; r++) {
		vfm_state_t *vm = vfm_create();
		if (!vm || vfm_attach_program(vm, w->prog) != VFM_OK) {
			w->errors++;
			vfm_destroy(vm);
			continue;
		}
		if (vfm_enable_jit(vm) == VFM_OK) {
			const void *code;
			size_t size;
			if (vfm_jit_code(vm, &code, &size) != VFM_OK || !code || size == 0)
				w->errors++;
			else
				w->jit = 1;
		}
		/* The tools' view while others run: memory and states. */
		if (vfm_program_memory(w->prog) == 0)
			w->errors++;
		if (!vfm_facts_state(w->prog, 0))
			w->errors++;
		uint8_t pkt[64];
		for (unsigned k = 0; k < 200; k++) {
			memset(pkt, 0, sizeof pkt);
			pkt[12] = 0x08;
			pkt[23] = (uint8_t)(k % 2 ? 6 : 17);
			vfm_result_t res;
			vfm_packet_t p = {.data = pkt, .len = 20 + k % 44};
			if (vfm_execute_ex(vm, &p, &res) != VFM_OK)
				w->errors++;
			w->accepted += res.verdict != 0;
			w->accepted += vfm_execute(vm, pkt, p.len) != 0;
		}
		vfm_destroy(vm);
	}
	vfm_program_release(w->prog);
	return NULL;
}

static void test_shared_program(void **state)
{
	(void)state;
	/* TCP over IPv4, guarded loads, a loop (so the budget is live). */
	const char *src = "LEN\nPUSH 34\nJLT no\nLD16 12\nPUSH 0x800\nJNE no\n"
			  "PUSH 0\nSTM 0\nl:\nLDM 0\nPUSH 1\nADD\nDUP\nSTM 0\nPUSH 3\nJLT l\n"
			  "LD8 23\nPUSH 6\nJNE no\nRET 1\nno:\nRET 0\n";
	size_t len;
	uint8_t *img = ts_assemble(src, &len);
	vfm_program_t *prog = NULL;
	vfm_diag_t d;
	assert_int_equal(vfm_program_create(img, len, &prog, &d), VFM_OK);
	free(img);
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, THREADS);
	pthread_t tid[THREADS];
	struct worker w[THREADS];
	for (int t = 0; t < THREADS; t++) {
		w[t] = (struct worker){.prog = vfm_program_retain(prog), .start = &start};
		assert_int_equal(pthread_create(&tid[t], NULL, work, &w[t]), 0);
	}
	/* Drop ours now: the last worker frees the program. */
	vfm_program_release(prog);
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_join(tid[t], NULL), 0);
	pthread_barrier_destroy(&start);
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(w[t].errors, 0);
		/* Same packets, same verdicts on every thread and engine. */
		assert_int_equal(w[t].accepted, w[0].accepted);
		assert_int_equal(w[t].jit, w[0].jit);
	}
	assert_true(w[0].accepted > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
