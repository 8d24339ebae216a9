/*
 * tests/test_vcost.c — the verifier's cost on adversarial shapes (issue 15,
 * docs/VERIFIER.md "Cost").
 *
 * Each shape is generated at several sizes up to the instruction limit
 * (VFM_MAX_INSNS = 1,048,576).  Loading must either succeed within the
 * documented work budget, counted in the verifier's own work units
 * (vfm_facts_work: abstract words processed), or be refused with
 * VFM_ETOOBIG and a message naming the budget and the pc.  No wall-clock
 * time is asserted anywhere: the units are deterministic.
 *
 * The shapes (testkit/vshapes.h, shared with the benchmark's verify-time
 * curve, bench/micro.cc): many constants feeding the widening thresholds
 * (reachable and unreachable), many loops, a deep stack, wide joins,
 * nested loops, long DUP/OVER identity chains.  Memory after load is checked too: the
 * facts are a few bytes per instruction (vfm_program_memory against the
 * allocator's own accounting, mallinfo2).
 */
#include <malloc.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"
#include "vshapes.h"
#include "../vm/encoding.h"
#include "../verifier/verifier.h"

/* ASan replaces malloc: glibc's mallinfo2 then sees none of it. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

/* The documented budget (docs/VERIFIER.md): 128 units per abstract word of
 * the program (the widths of its reachable instructions) + 1 per
 * instruction + 2^22, at most 2^30. */
#define WORK_PER_SLOT 128u
#define WORK_BASE (UINT64_C(1) << 22)
#define WORK_MAX (UINT64_C(1) << 30)
static uint64_t budget_of(uint64_t width, uint32_t n)
{
	uint64_t b = WORK_PER_SLOT * width + n + WORK_BASE;
	return b < WORK_MAX ? b : WORK_MAX;
}
/* Bytes per instruction a loaded program holds (docs/VERIFIER.md, "Cost"):
 * decoded instruction 16, the interpreter's pre-decoded entry 32, pc map
 * 4, depth 2, flags 1, code <= 9, warnings <= 16 (8 each, array
 * doubling); plus the struct and names. */
#define BYTES_PER_INSN 80u
#define BYTES_FIXED 4096u

/* Assemble without echoing a megabyte of source on failure. */
static uint8_t *assemble(const char *src, size_t *len)
{
	uint8_t *out = NULL;
	vfm_diag_t d;
	vfm_error_t err = vfm_assemble(src, strlen(src), "shape.vfm", 1, &out, len, &d);
	if (err != VFM_OK)
		fail_msg("assembly failed: %s", d.message);
	return out;
}

/* Shape s (testkit/vshapes.h) assembled at target instructions. */
static uint8_t *shape_image(enum vshape s, uint32_t target, size_t *len)
{
	char *src = vshape_source(s, target, NULL);
	assert_non_null(src);
	uint8_t *img = assemble(src, len);
	free(src);
	return img;
}

/* Sum of the state widths of the reachable instructions. */
static uint64_t width_of(const vfm_program_t *p)
{
	uint64_t w = 0;
	for (uint32_t i = 0; i < p->n_insns; i++)
		if (vfm_facts_depth(p, i) >= 0)
			w += 1u + vfm_facts_n_scratch(p) + (uint32_t)vfm_facts_depth(p, i);
	return w;
}

/* Load one shape; returns the result and checks the contract. */
static vfm_error_t load_shape(enum vshape s, uint32_t target, uint64_t *work, uint32_t *n)
{
	size_t len;
	uint8_t *img = shape_image(s, target, &len);
	vfm_program_t *p = NULL;
	vfm_diag_t d;
	struct mallinfo2 before = mallinfo2();
	vfm_error_t err = vfm_program_create(img, len, &p, &d);
	struct mallinfo2 after = mallinfo2();
	free(img);
	*work = 0;
	*n = 0;
	if (err != VFM_OK) {
		/* Over a budget: refused clearly, naming it and the pc. */
		print_message("  %s at %u insns: %s\n", vshape_name(s), target, d.message);
		assert_int_equal(err, VFM_ETOOBIG);
		assert_non_null(strstr(d.message, "budget"));
		assert_non_null(strstr(d.message, "pc "));
		assert_true(d.pc >= 0);
		return err;
	}
	*work = vfm_facts_work(p);
	*n = p->n_insns;
	uint64_t width = width_of(p);
	print_message("  %-16s %8u insns: %10llu work units, width %10llu, %.2f units/word, "
		      "%zu bytes (%.1f/insn)\n",
		      vshape_name(s), p->n_insns, (unsigned long long)*work,
		      (unsigned long long)width, (double)*work / (double)width,
		      vfm_program_memory(p), (double)vfm_program_memory(p) / p->n_insns);
	/* The budget in work units, and the analysis ran (claims made). */
	assert_true(vfm_facts_analysed(p));
	assert_true(*work <= budget_of(width, p->n_insns));
	/* Memory after load: a few bytes per instruction, and what the
	 * program reports is what the allocator holds for it (within
	 * malloc's per-block overhead and one-time allocations of the C library). */
	size_t mem = vfm_program_memory(p);
	assert_true(mem <= (size_t)BYTES_PER_INSN * p->n_insns + BYTES_FIXED);
	size_t held = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
	if (!UNDER_ASAN) {
		assert_true(held <= mem + 8192 + (size_t)p->n_insns / 64);
		assert_true(held + 4096 >= mem / 2);
	}
	vfm_program_release(p);
	return VFM_OK;
}

static void test_shapes(void **state)
{
	(void)state;
	static const uint32_t sizes[] = {1000, 65536, VFM_MAX_INSNS};
	for (int s = 0; s < VSHAPE_COUNT; s++) {
		for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			uint64_t work;
			uint32_t n;
			vfm_error_t err = load_shape((enum vshape)s, sizes[k], &work, &n);
			/* Only the deep joins (a leader of ~200 words every 7
			 * or 8 instructions: 26-30 Mi words) exceed the memory
			 * budget (4 Mi words of leader states), at the limit. */
			if (err != VFM_OK)
				assert_true((s == VSHAPE_JOINS_DEEP || s == VSHAPE_CHAINS) &&
					    sizes[k] == VFM_MAX_INSNS);
		}
	}
}

/* The reproducers of issue 15, through the file load path's core. */
static void test_constants_linear(void **state)
{
	(void)state;
	/* Work per instruction does not grow with the number of constants:
	 * thresholds are bounded, so the loop iterates a bounded number of
	 * times whatever N is. */
	uint64_t w1, w2;
	uint32_t n1, n2;
	assert_int_equal(load_shape(VSHAPE_CONST_LIVE, 5000, &w1, &n1), VFM_OK);
	assert_int_equal(load_shape(VSHAPE_CONST_LIVE, 80000, &w2, &n2), VFM_OK);
	assert_true((double)w2 / n2 <= 1.5 * (double)w1 / n1 + 16);
	assert_int_equal(load_shape(VSHAPE_CONST_DEAD, 5000, &w1, &n1), VFM_OK);
	assert_int_equal(load_shape(VSHAPE_CONST_DEAD, 80000, &w2, &n2), VFM_OK);
	assert_true((double)w2 / n2 <= 1.5 * (double)w1 / n1 + 16);
}

/* The 196 KB straight-line program at depth 250: states of every pc are
 * not kept; a tool that asks gets them (computed once), counted. */
static void test_deep_memory(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = shape_image(VSHAPE_DEEP, 15000, &len);
	vfm_program_t *p = NULL;
	vfm_diag_t d;
	assert_int_equal(vfm_program_create(img, len, &p, &d), VFM_OK);
	free(img);
	size_t mem = vfm_program_memory(p);
	assert_true(mem <= (size_t)BYTES_PER_INSN * p->n_insns + BYTES_FIXED);
	/* On demand: 15,000 pcs x 251 words x 48 bytes. */
	const struct vfm_aslot *s = vfm_facts_state(p, p->n_insns - 1);
	assert_non_null(s);
	assert_true(vfm_program_memory(p) > mem + (size_t)p->n_insns * 200 * sizeof *s);
	vfm_program_release(p);
}

/* Loops nested 14 deep, each bound a distinct large constant: widening
 * at a head is global (its visit count is not reset when an outer loop
 * goes round again) and at most 8 widenings per head use thresholds, so
 * the cost stays additive, well within the budget. */
static void test_nested_deep(void **state)
{
	(void)state;
	char src[4096];
	size_t n = 0;
	for (int l = 0; l < 14; l++)
		n += (size_t)snprintf(src + n, sizeof src - n, "PUSH 0\nSTM %d\nN%d:\n", l, l);
	for (int l = 13; l >= 0; l--)
		n += (size_t)snprintf(src + n, sizeof src - n,
				      "LDM %d\nPUSH 1\nADD\nDUP\nSTM %d\nPUSH %d\nJLT N%d\n", l, l,
				      100000 + l, l);
	snprintf(src + n, sizeof src - n, "RET 1\n");
	size_t len;
	uint8_t *img = assemble(src, &len);
	vfm_program_t *p = NULL;
	vfm_diag_t d;
	assert_int_equal(vfm_program_create(img, len, &p, &d), VFM_OK);
	free(img);
	print_message("  14 nested loops: %llu work units, width %llu\n",
		      (unsigned long long)vfm_facts_work(p), (unsigned long long)width_of(p));
	assert_true(vfm_facts_work(p) <= budget_of(width_of(p), p->n_insns));
	vfm_program_release(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants_linear),
		cmocka_unit_test(test_deep_memory),
		cmocka_unit_test(test_nested_deep),
		cmocka_unit_test(test_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
