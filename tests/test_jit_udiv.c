/*
 * tests/test_jit_udiv.c — division by a constant in the JITs
 * (vfm_jit_udiv_plan, jit/common.c): DIV and MOD with a fused PUSH k
 * multiply by a reciprocal instead of dividing, which is exact only if
 * the multiplier and shift are right for every 64-bit dividend.
 *
 * First the plan itself, evaluated in C (vfm_jit_udiv_eval), against the
 * CPU's division: every divisor 1..2^16, every power of two and its
 * neighbours, the powers of ten, and random divisors of every magnitude,
 * each at the dividends where an inexact multiplier fails first (around
 * each multiple near 2^64, 2^64 - 1, k - 1, k) and at random ones.  Then
 * the code of this machine's JIT, both compiled variants, and blinded
 * (which fuses no constant, so it runs the register form): a program
 * divides a 64-bit value from the packet by k and compares with the
 * expected quotient or remainder, also from the packet, over a few
 * hundred divisors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../jit/common.h"
#include "test_support.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

/* splitmix64: a fixed sequence, so a failure reproduces. */
static uint64_t next_random(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* A random divisor with a random number of significant bits. */
static uint64_t random_divisor(void)
{
	unsigned bits = 1 + (unsigned)(next_random() % 64);
	uint64_t k = next_random() >> (64 - bits);
	return k ? k : 1;
}

static unsigned long checked_divisors, mulhi_plans, preshift_plans, muladd_plans;

/* The plan for k against x / k at the dividends that matter. */
static void check_divisor(uint64_t k)
{
	struct vfm_jit_udiv plan = vfm_jit_udiv_plan(k);
	bool pow2 = (k & (k - 1)) == 0;
	if (pow2 != (plan.kind == VFM_JIT_UDIV_SHIFT))
		fail_msg("k = 0x%llx: plan kind %d", (unsigned long long)k, (int)plan.kind);
	mulhi_plans += plan.kind == VFM_JIT_UDIV_MULHI;
	preshift_plans += plan.kind == VFM_JIT_UDIV_MULHI && plan.pre_shift;
	muladd_plans += plan.kind == VFM_JIT_UDIV_MULADD;
	uint64_t top = UINT64_MAX / k * k; /* the largest multiple of k */
	uint64_t xs[] = {0, 1, k - 1, k, k + 1, 2 * k - 1, 2 * k, top, top - 1, top - k,
			 top - k + 1, top + (k - 1), UINT64_MAX, UINT64_MAX - 1,
			 UINT64_MAX >> 1, (UINT64_MAX >> 1) + 1, next_random(), next_random(),
			 next_random() >> (next_random() % 64), next_random() % k * k};
	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		uint64_t x = xs[i], got = vfm_jit_udiv_eval(&plan, x);
		if (got != x / k)
			fail_msg("0x%llx / 0x%llx: plan %d (magic 0x%llx, shift %u) gives 0x%llx, "
				 "want 0x%llx",
				 (unsigned long long)x, (unsigned long long)k, (int)plan.kind,
				 (unsigned long long)plan.magic, plan.shift,
				 (unsigned long long)got, (unsigned long long)(x / k));
	}
	checked_divisors++;
}

static void test_plan_matches_division(void **state)
{
	(void)state;
	struct vfm_jit_udiv zero = vfm_jit_udiv_plan(0);
	assert_int_equal(zero.kind, VFM_JIT_UDIV_ZERO);
	for (uint64_t k = 1; k <= 1u << 16; k++)
		check_divisor(k);
	for (unsigned b = 0; b < 64; b++)
		for (int d = -3; d <= 3; d++)
			if ((1ull << b) + (uint64_t)d != 0)
				check_divisor((1ull << b) + (uint64_t)d);
	for (uint64_t k = 10; k <= 10000000000000000000u; k *= 10) {
		check_divisor(k);
		if (k > UINT64_MAX / 10)
			break;
	}
	check_divisor(UINT64_MAX);
	for (int i = 0; i < 200000; i++)
		check_divisor(random_divisor());
	/* Every multiply-high form is exercised: k = 3 needs no add step,
	 * k = 7 does (at 64 bits), 10^9 = 2^9 * 1953125 takes the shift
	 * first. */
	assert_int_equal(vfm_jit_udiv_plan(3).kind, VFM_JIT_UDIV_MULHI);
	assert_int_equal(vfm_jit_udiv_plan(7).kind, VFM_JIT_UDIV_MULADD);
	struct vfm_jit_udiv billion = vfm_jit_udiv_plan(1000000000);
	assert_int_equal(billion.kind, VFM_JIT_UDIV_MULHI);
	assert_int_equal(billion.pre_shift, 9);
	assert_true(mulhi_plans > 1000 && preshift_plans > 1000 && muladd_plans > 1000);
	print_message("plan: %lu divisors (%lu multiply-high, %lu of them shifted first, "
		      "%lu with the add step)\n",
		      checked_divisors, mulhi_plans, preshift_plans, muladd_plans);
}

/* ---- the code ---------------------------------------------------------------- */

/* x from bytes 0..7 and the expected result from 8..15 (big-endian); the
 * program returns 1 where `x OP k` equals it.  With `deep`, the dividend
 * sits below 24 pushed words, beyond every register slot. */
static vfm_state_t *divide_vm(const char *op, uint64_t k, bool deep, unsigned jit_flags)
{
	char src[1024];
	snprintf(src, sizeof src,
		 "%s"
		 "LD32 0\nPUSH 32\nSHL\nLD32 4\nOR\nPUSH %llu\n%s\n"
		 "LD32 8\nPUSH 32\nSHL\nLD32 12\nOR\nJEQ ok\nRET 0\nok:\nRET 1\n",
		 deep ? "PUSH 1\nPUSH 2\nPUSH 3\nPUSH 4\nPUSH 5\nPUSH 6\nPUSH 7\nPUSH 8\n"
			"PUSH 9\nPUSH 10\nPUSH 11\nPUSH 12\nPUSH 13\nPUSH 14\nPUSH 15\n"
			"PUSH 16\nPUSH 17\nPUSH 18\nPUSH 19\nPUSH 20\nPUSH 21\nPUSH 22\n"
			"PUSH 23\nPUSH 24\n"
		      : "",
		 (unsigned long long)k, op);
	vfm_state_t *vm = ts_vm_from_asm(src);
	vfm_error_t err = vfm_enable_jit_ex(vm, jit_flags);
	if (err == VFM_EUNSUPPORTED) {
		vfm_destroy(vm);
		return NULL;
	}
	if (err != VFM_OK)
		fail_msg("vfm_enable_jit_ex: %s", vfm_last_error(vm));
	return vm;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void test_jit_code_matches_division(void **state)
{
	(void)state;
	unsigned long programs = 0, runs = 0;
	for (int n = 0; n < 400; n++) {
		uint64_t k = n < 12 ? (uint64_t[]){0, 1, 2, 3, 7, 10, 641, 1000000000,
						   0x8000000000000000u, 0x8000000000000001u,
						   UINT64_MAX, 0x100000001u}[n]
				    : random_divisor();
		for (int mod = 0; mod < 2; mod++) {
			for (unsigned variant = 0; variant < 4; variant++) {
				bool deep = variant & 1;
				unsigned flags = variant & 2 ? VFM_JIT_HARDEN : 0;
				vfm_state_t *vm = divide_vm(mod ? "MOD" : "DIV", k, deep, flags);
				if (!vm)
					skip();
				programs++;
				uint64_t top = k ? UINT64_MAX / k * k : 0;
				uint64_t xs[] = {0, 1, k - 1, k, k + 1, top, top - 1, top + (k - 1),
						 UINT64_MAX, next_random(), next_random() >> 20};
				for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
					uint64_t x = xs[i];
					uint64_t want = mod ? (k ? x % k : x) : (k ? x / k : 0);
					uint8_t pkt[16];
					put_be64(pkt, x);
					put_be64(pkt + 8, want);
					vfm_packet_t p = {.data = pkt, .len = sizeof pkt};
					vfm_result_t r;
					assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_OK);
					uint32_t plain = vfm_execute(vm, pkt, sizeof pkt);
					if (r.verdict != 1 || r.status != VFM_STATUS_OK || plain != 1)
						fail_msg("0x%llx %s 0x%llx (deep %d, flags %u): verdict %u/%u "
							 "status %d, want 0x%llx",
							 (unsigned long long)x, mod ? "%" : "/",
							 (unsigned long long)k, deep, flags, r.verdict, plain,
							 (int)r.status, (unsigned long long)want);
					runs++;
				}
				vfm_destroy(vm);
			}
		}
	}
	print_message("code: %lu programs, %lu runs\n", programs, runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_matches_division),
		cmocka_unit_test(test_jit_code_matches_division),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
