/*
 * tests/test_api.c — the public API: configuration, loading, execution
 * entry points, errors and misuse (NULL pointers, execute before load,
 * failed loads), program sharing between VMs and threads, memory size.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static const uint8_t pkt9[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_null_arguments(void **state)
{
	(void)state;
	vfm_destroy(NULL);
	vfm_program_release(NULL);
	assert_null(vfm_program_retain(NULL));
	assert_int_equal(vfm_load_program(NULL, pkt9, 9), VFM_EINVAL);
	assert_int_equal(vfm_load_program_file(NULL, "x"), VFM_EINVAL);
	assert_int_equal(vfm_enable_jit(NULL), VFM_EINVAL);
	assert_int_equal(vfm_execute(NULL, pkt9, 9), 0);
	assert_int_equal(vfm_execute_ex(NULL, NULL, NULL), VFM_EINVAL);
	assert_int_equal(vfm_flow_stats(NULL, NULL), VFM_EINVAL);
	assert_int_equal(vfm_attach_program(NULL, NULL), VFM_EINVAL);
	assert_int_equal(vfm_flow_peek(NULL, 1, NULL), 0);
	assert_int_equal(vfm_memory(NULL), 0);
	assert_int_equal(vfm_program_insn_count(NULL), 0);
	vfm_flow_clear(NULL);
	assert_non_null(vfm_last_error(NULL));

	vfm_state_t *vm = vfm_create();
	assert_non_null(vm);
	assert_int_equal(vfm_load_program(vm, NULL, 0), VFM_EINVAL);
	assert_non_null(strstr(vfm_last_error(vm), "no bytes"));
	assert_int_equal(vfm_load_program_file(vm, NULL), VFM_EINVAL);
	assert_int_equal(vfm_attach_program(vm, NULL), VFM_EINVAL);
	vfm_result_t r;
	assert_int_equal(vfm_execute_ex(vm, NULL, &r), VFM_EINVAL);
	vfm_packet_t bad = {.data = NULL, .len = 5, .ts_ns = 0};
	assert_int_equal(vfm_execute_ex(vm, &bad, &r), VFM_EINVAL);
	assert_non_null(strstr(vfm_last_error(vm), "NULL"));
	vfm_destroy(vm);
}

static void test_execute_before_load(void **state)
{
	(void)state;
	vfm_state_t *vm = vfm_create();
	assert_string_equal(vfm_last_error(vm), "");
	assert_int_equal(vfm_execute(vm, pkt9, 9), 0);
	assert_int_equal(vfm_last_error_code(vm), VFM_ENOPROGRAM);
	assert_non_null(strstr(vfm_last_error(vm), "no program loaded"));
	vfm_packet_t p = {.data = pkt9, .len = 9, .ts_ns = 0};
	vfm_result_t r = {7, VFM_STATUS_OK, 7};
	assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_ENOPROGRAM);
	assert_int_equal(r.verdict, 0);
	assert_int_equal(r.status, VFM_STATUS_NOPROGRAM);
	assert_int_equal(vfm_enable_jit(vm), VFM_ENOPROGRAM);
	vfm_destroy(vm);
}

/* A failed load keeps the previous program; the error says why. */
static void test_failed_load_keeps_program(void **state)
{
	(void)state;
	vfm_state_t *vm = ts_vm_from_asm("RET 5");
	assert_int_equal(vfm_execute(vm, pkt9, 9), 5);
	size_t len;
	uint8_t *bad = ts_assemble("PUSH 1\nADD\nRET", &len);
	assert_int_equal(vfm_load_program(vm, bad, len), VFM_EVERIFY);
	assert_int_equal(vfm_last_error_code(vm), VFM_EVERIFY);
	assert_non_null(strstr(vfm_last_error(vm), "pc 9 (test.vfm:2): stack underflow"));
	assert_int_equal(vfm_execute(vm, pkt9, 9), 5);
	assert_int_equal(vfm_load_program_file(vm, "/nonexistent.bin"), VFM_EIO);
	assert_int_equal(vfm_execute(vm, pkt9, 9), 5);
	free(bad);
	vfm_destroy(vm);
}

static void test_zero_length_packet(void **state)
{
	(void)state;
	vfm_state_t *vm = ts_vm_from_asm("LEN\nRET");
	assert_int_equal(vfm_execute(vm, NULL, 0), 0);
	vfm_packet_t p = {.data = NULL, .len = 0, .ts_ns = 0};
	vfm_result_t r;
	assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_OK);
	assert_int_equal(r.status, VFM_STATUS_OK);
	vfm_destroy(vm);
}

static void test_config(void **state)
{
	(void)state;
	vfm_diag_t diag;
	vfm_config_t cfg = {.flow_capacity = 1000};
	assert_null(vfm_create_with(&cfg, &diag));
	assert_int_equal(diag.code, VFM_EINVAL);
	assert_non_null(strstr(diag.message, "power of two"));
	cfg.flow_capacity = 2;
	assert_null(vfm_create_with(&cfg, &diag));
	cfg.flow_capacity = VFM_MAX_FLOW_CAPACITY * 2u;
	assert_null(vfm_create_with(&cfg, &diag));
	cfg.flow_capacity = 64;
	vfm_state_t *vm = vfm_create_with(&cfg, &diag);
	assert_non_null(vm);
	vfm_flow_stats_t st;
	assert_int_equal(vfm_flow_stats(vm, &st), VFM_OK);
	assert_int_equal(st.capacity, 64);
	vfm_destroy(vm);

	/* The default VM is under 1 MiB. */
	vm = vfm_create();
	assert_int_equal(vfm_flow_stats(vm, &st), VFM_OK);
	assert_int_equal(st.capacity, VFM_DEFAULT_FLOW_CAPACITY);
	assert_true(vfm_memory(vm) < (1u << 20));
	print_message("default VM: %zu bytes\n", vfm_memory(vm));
	vfm_destroy(vm);
}

static void test_batch(void **state)
{
	(void)state;
	vfm_state_t *vm = ts_vm_from_asm("LD8 0\nRET");
	const uint8_t a[] = {7}, b[] = {0};
	vfm_packet_t pkts[3] = {{.data = a, .len = 1}, {.data = b, .len = 0}, {.data = pkt9, .len = 9}};
	vfm_result_t r[3];
	assert_int_equal(vfm_execute_batch(vm, pkts, 3, r), VFM_OK);
	assert_int_equal(r[0].verdict, 7);
	assert_int_equal(r[1].status, VFM_STATUS_BOUNDS);
	assert_int_equal(r[2].verdict, 1);
	assert_int_equal(vfm_execute_batch(vm, pkts, 0, r), VFM_OK);
	assert_int_equal(vfm_execute_batch(vm, NULL, 1, r), VFM_EINVAL);
	vfm_destroy(vm);
}

static void test_jit_unsupported_keeps_interpreting(void **state)
{
	(void)state;
	vfm_state_t *vm = ts_vm_from_asm("RET 3");
	vfm_error_t err = vfm_enable_jit(vm);
	if (err == VFM_EUNSUPPORTED)
		assert_non_null(strstr(vfm_last_error(vm), "no JIT"));
	assert_int_equal(vfm_execute(vm, pkt9, 9), 3);
	vfm_destroy(vm);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vfm_error_name(VFM_EVERIFY), "VFM_EVERIFY");
	assert_string_equal(vfm_error_string(VFM_ETRUNCATED), "bytecode file is truncated");
	assert_string_equal(vfm_status_name(VFM_STATUS_BOUNDS), "BOUNDS");
	assert_string_equal(vfm_status_name(VFM_STATUS_BUDGET), "BUDGET");
	assert_string_equal(vfm_error_name((vfm_error_t)999), "VFM_E?");
	assert_string_equal(vfm_status_name((vfm_status_t)999), "?");
}

/* ---- sharing one program between VMs and threads --------------------- */

struct worker {
	vfm_program_t *prog;
	uint64_t sum;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	vfm_state_t *vm = vfm_create();
	if (!vm || vfm_attach_program(vm, w->prog) != VFM_OK)
		return NULL;
	uint8_t pkt[2];
	for (unsigned i = 0; i < 20000; i++) {
		pkt[0] = (uint8_t)i;
		pkt[1] = (uint8_t)(i >> 8);
		w->sum += vfm_execute(vm, pkt, 2);
	}
	vfm_flow_stats_t st;
	vfm_flow_stats(vm, &st);
	w->sum += st.inserts; /* each VM has its own table */
	vfm_destroy(vm);
	return NULL;
}

static void test_shared_program_threads(void **state)
{
	(void)state;
	size_t len;
	/* Count packets per first byte in the flow table; verdict = count. */
	uint8_t *bin = ts_assemble("LD8 0\nDUP\nFLOW_LOAD\nPUSH 1\nADD\nDUP\nSTM 0\n"
				   "FLOW_STORE\nLDM 0\nRET",
				   &len);
	vfm_program_t *prog;
	assert_int_equal(vfm_program_create(bin, len, &prog, NULL), VFM_OK);
	free(bin);
	struct worker w[2] = {{prog, 0}, {prog, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* 20000 packets over 256 keys: both threads see the same sums. */
	assert_true(w[0].sum > 0);
	assert_int_equal(w[0].sum, w[1].sum);
	vfm_program_release(prog);
}

static void test_program_refcount(void **state)
{
	(void)state;
	size_t len;
	uint8_t *bin = ts_assemble("RET 9", &len);
	vfm_program_t *prog;
	assert_int_equal(vfm_program_create(bin, len, &prog, NULL), VFM_OK);
	free(bin);
	vfm_state_t *a = vfm_create(), *b = vfm_create();
	assert_int_equal(vfm_attach_program(a, prog), VFM_OK);
	assert_int_equal(vfm_attach_program(b, prog), VFM_OK);
	vfm_program_release(prog); /* the VMs keep it alive */
	assert_int_equal(vfm_execute(a, pkt9, 9), 9);
	vfm_destroy(a);
	assert_int_equal(vfm_execute(b, pkt9, 9), 9);
	vfm_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_execute_before_load),
		cmocka_unit_test(test_failed_load_keeps_program),
		cmocka_unit_test(test_zero_length_packet),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_jit_unsupported_keeps_interpreting),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_shared_program_threads),
		cmocka_unit_test(test_program_refcount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
