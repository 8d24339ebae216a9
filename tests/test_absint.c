/*
 * tests/test_absint.c — the abstract interpreter's facts by topic: bounds,
 * branch refinement, loops and widening, identities, scratch, indexed
 * loads; warnings; the runtime oracle's check itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program.h"
#include "../verifier/verifier.h"
#include "test_support.h"

static vfm_program_t *load(const char *src)
{
	vfm_program_t *prog = ts_program_from_asm(src);
	assert_true(vfm_facts_analysed(prog));
	return prog;
}

/* Instruction index of the n-th (0-based) instruction with this opcode. */
static uint32_t nth(const vfm_program_t *prog, uint8_t opcode, int n)
{
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].opcode == opcode && n-- == 0)
			return i;
	fail_msg("opcode 0x%02x #%d not found", opcode, n);
	return 0;
}

static const struct vfm_aslot *slot(const vfm_program_t *prog, uint32_t i, int k)
{
	const struct vfm_facts *f = &prog->facts;
	assert_true(f->flags[i] & VFM_FACT_REACHED);
	/* k >= 0: stack slot from the bottom; k == -1: the packet length. */
	return vfm_facts_state(prog, i) + (k < 0 ? 0 : 1 + f->n_scratch + (uint32_t)k);
}

static void expect_itv(const struct vfm_aslot *s, uint64_t lo, uint64_t hi)
{
	if (s->v.itv.lo != lo || s->v.itv.hi != hi) {
		char got[128];
		vfm_format_aval(s, got, sizeof got);
		fail_msg("slot %s, expected interval [%llu,%llu]", got, (unsigned long long)lo,
			 (unsigned long long)hi);
	}
}

static int has_warning(const vfm_program_t *prog, uint32_t insn, enum vfm_warning_kind kind)
{
	for (uint32_t w = 0; w < vfm_facts_n_warnings(prog); w++)
		if (vfm_facts_warning(prog, w)->insn == insn && vfm_facts_warning(prog, w)->kind == kind)
			return 1;
	return 0;
}

/* ---- bounds -------------------------------------------------------------- */

static void test_len_check_proves_loads(void **state)
{
	(void)state;
	vfm_program_t *p = load("LEN\nPUSH 38\nJLT short\n"
				"LD16 12\nLD8 23\nLD16 36\nADD\nADD\nRET\n"
				"short:\nRET 0");
	for (int k = 0; k < 2; k++)
		assert_true(vfm_facts_flags(p, nth(p, VFM_OPC_LD16, k)) & VFM_FACT_IN_BOUNDS);
	assert_true(vfm_facts_flags(p, nth(p, VFM_OPC_LD8, 0)) & VFM_FACT_IN_BOUNDS);
	assert_int_equal(vfm_facts_loads(p), 3);
	assert_int_equal(vfm_facts_loads_in_bounds(p), 3);
	assert_int_equal(vfm_facts_n_warnings(p), 0);
	/* After the check, the length is known to be at least 38. */
	expect_itv(slot(p, nth(p, VFM_OPC_LD16, 0), -1), 38, UINT32_MAX);
	vfm_program_release(p);
}

static void test_check_too_short_leaves_warning(void **state)
{
	(void)state;
	vfm_program_t *p = load("LEN\nPUSH 37\nJLT short\nLD16 36\nRET\nshort:\nRET 0");
	uint32_t ld = nth(p, VFM_OPC_LD16, 0);
	assert_false(vfm_facts_flags(p, ld) & VFM_FACT_IN_BOUNDS);
	assert_true(has_warning(p, ld, VFM_WARN_MAY_OOB));
	char msg[384];
	vfm_warning_message(p, vfm_facts_warning(p, 0), msg, sizeof msg);
	assert_non_null(strstr(msg, "needs length >= 38, length here is [37,"));
	vfm_program_release(p);
}

static void test_successful_load_teaches_length(void **state)
{
	(void)state;
	/* Once LD32 20 has run, the packet has at least 24 bytes. */
	vfm_program_t *p = load("LD32 20\nLD16 12\nADD\nRET");
	assert_false(vfm_facts_flags(p, 0) & VFM_FACT_IN_BOUNDS);
	assert_true(vfm_facts_flags(p, 1) & VFM_FACT_IN_BOUNDS);
	expect_itv(slot(p, 1, -1), 24, UINT32_MAX);
	vfm_program_release(p);
}

static void test_always_out_of_bounds(void **state)
{
	(void)state;
	vfm_program_t *p = load("LEN\nPUSH 10\nJGT big\nLD16 20\nRET\nbig:\nRET 1");
	uint32_t ld = nth(p, VFM_OPC_LD16, 0);
	assert_true(vfm_facts_flags(p, ld) & VFM_FACT_ALWAYS_OOB);
	assert_true(has_warning(p, ld, VFM_WARN_ALWAYS_OOB));
	/* The RET after it is unreachable: every packet ends at the load. */
	assert_false(vfm_facts_flags(p, ld + 1) & VFM_FACT_REACHED);
	assert_true(has_warning(p, ld + 1, VFM_WARN_UNREACHABLE));
	vfm_program_release(p);
}

/* ---- refinement ------------------------------------------------------------ */

struct edge_case {
	const char *jcc;
	uint64_t k;            /* compare LD8 0 (in [0,255]) against k */
	uint64_t taken_lo, taken_hi, fall_lo, fall_hi;
};

static void test_refinement_each_jcc(void **state)
{
	(void)state;
	static const struct edge_case cases[] = {
		{"JEQ", 7, 7, 7, 0, 255},
		{"JNE", 0, 1, 255, 0, 0},
		{"JGT", 100, 101, 255, 0, 100},
		{"JGE", 100, 100, 255, 0, 99},
		{"JLT", 100, 0, 99, 100, 255},
		{"JLE", 100, 0, 100, 101, 255},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char src[256];
		/* DUP keeps a copy of the byte below the compared pair. */
		snprintf(src, sizeof src,
			 "LD8 0\nDUP\nPUSH %llu\n%s yes\nRET\nyes:\nRET\n",
			 (unsigned long long)cases[c].k, cases[c].jcc);
		vfm_program_t *p = load(src);
		uint32_t ret_fall = nth(p, VFM_OPC_RET, 0), ret_taken = nth(p, VFM_OPC_RET, 1);
		expect_itv(slot(p, ret_taken, 0), cases[c].taken_lo, cases[c].taken_hi);
		expect_itv(slot(p, ret_fall, 0), cases[c].fall_lo, cases[c].fall_hi);
		vfm_program_release(p);
	}
}

static void test_jset_refines_bits(void **state)
{
	(void)state;
	vfm_program_t *p = load("LD8 0\nDUP\nPUSH 4\nJSET set\nRET\nset:\nRET\n");
	const struct vfm_aslot *fall = slot(p, nth(p, VFM_OPC_RET, 0), 0);
	const struct vfm_aslot *taken = slot(p, nth(p, VFM_OPC_RET, 1), 0);
	assert_int_equal(fall->v.tn.mask & 4, 0);
	assert_int_equal(fall->v.tn.value & 4, 0);
	assert_int_equal(taken->v.tn.mask & 4, 0);
	assert_int_equal(taken->v.tn.value & 4, 4);
	vfm_program_release(p);
}

static void test_infeasible_edge_is_unreachable(void **state)
{
	(void)state;
	/* A byte is never above 255: the taken edge is dead. */
	vfm_program_t *p = load("LD8 0\nPUSH 255\nJGT never\nRET 1\nnever:\nRET 2");
	uint32_t never = nth(p, VFM_OPC_RETK, 1);
	assert_false(vfm_facts_flags(p, never) & VFM_FACT_REACHED);
	assert_true(has_warning(p, never, VFM_WARN_UNREACHABLE));
	vfm_program_release(p);
}

/* ---- identities --------------------------------------------------------------- */

static void test_identity_over_and_scratch(void **state)
{
	(void)state;
	/* The index is stored, copied with OVER, and one copy is compared:
	 * the other copy (and the scratch word) are refined too, so the
	 * indexed load through the stored copy is proven in bounds. */
	vfm_program_t *p = load("LEN\nPUSH 100\nJLT out\n"
				"LD8 14\nDUP\nSTM 3\nPUSH 60\nJGT out\n"
				"LDM 3\nLD16X 20\nRET\nout:\nRET 0");
	uint32_t ldx = nth(p, VFM_OPC_LD16X, 0);
	assert_true(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS);
	expect_itv(slot(p, ldx, 0), 0, 60);
	vfm_program_release(p);
}

static void test_len_copies_refine_length(void **state)
{
	(void)state;
	/* Comparing a stored copy of LEN refines the length itself. */
	vfm_program_t *p = load("LEN\nSTM 0\nLDM 0\nPUSH 54\nJLT out\nLD32 50\nRET\nout:\nRET 0");
	assert_true(vfm_facts_flags(p, nth(p, VFM_OPC_LD32, 0)) & VFM_FACT_IN_BOUNDS);
	vfm_program_release(p);
}

static void test_identity_killed_by_new_value(void **state)
{
	(void)state;
	/* In a loop the same LD8 produces a new value each time round: the
	 * old copy in M0 must not be refined by a check of the new one. */
	vfm_program_t *p = load("PUSH 0\nSTM 1\n"
				"top:\nLD8 0\nSTM 0\nLD8 1\nPUSH 10\nJGT out\n"
				"LDM 1\nPUSH 1\nADD\nDUP\nSTM 1\nPUSH 3\nJLT top\n"
				"out:\nLDM 0\nRET");
	uint32_t last_ldm = nth(p, VFM_OPC_LDM, 1);
	/* M0 holds a byte: [0,255], whatever the loop compared. */
	expect_itv(slot(p, last_ldm + 1, 0), 0, 255);
	vfm_program_release(p);
}

/* ---- loops and widening -------------------------------------------------------- */

static void test_loop_counter_widens_and_terminates(void **state)
{
	(void)state;
	vfm_program_t *p = load("PUSH 0\nSTM 0\n"
				"top:\nLDM 0\nPUSH 1\nADD\nDUP\nSTM 0\nPUSH 20\nJLT top\n"
				"LDM 0\nRET");
	uint32_t top = nth(p, VFM_OPC_LDM, 0);
	assert_true(vfm_facts_flags(p, top) & VFM_FACT_LOOP_HEAD);
	/* M0 at the head: within [0, 20) after widening to the threshold. */
	const struct vfm_aslot *m0 = vfm_facts_state(p, top) + 1;
	assert_int_equal(m0->v.itv.lo, 0);
	assert_true(m0->v.itv.hi >= 19 && m0->v.itv.hi <= 20);
	assert_false(has_warning(p, top, VFM_WARN_BUDGET_LOOP));
	vfm_program_release(p);
}

static void test_budget_loop_warning(void **state)
{
	(void)state;
	vfm_program_t *p = load("PUSH 1\nspin:\nDUP\nPOP\nJMP spin");
	uint32_t head = nth(p, VFM_OPC_DUP, 0);
	assert_true(has_warning(p, head, VFM_WARN_BUDGET_LOOP));
	vfm_program_release(p);
}

static void test_div_by_maybe_zero(void **state)
{
	(void)state;
	vfm_program_t *p = load("PUSH 100\nLD8 0\nDIV\nPUSH 100\nPUSH 7\nMOD\nADD\nRET");
	assert_true(has_warning(p, nth(p, VFM_OPC_DIV, 0), VFM_WARN_MAY_DIV0));
	assert_false(has_warning(p, nth(p, VFM_OPC_MOD, 0), VFM_WARN_MAY_DIV0));
	vfm_program_release(p);
}

/* ---- indexed loads --------------------------------------------------------------- */

static void test_ihl_indexed_load(void **state)
{
	(void)state;
	/* IHL * 4 is at most 60: with length >= 14 + 60 + 4 the port load
	 * at 14 + IHL*4 + 2 is proven in bounds. */
	vfm_program_t *p = load("LEN\nPUSH 78\nJLT out\n"
				"LD8 14\nPUSH 15\nAND\nPUSH 2\nSHL\nLD16X 16\nRET\nout:\nRET 0");
	uint32_t ldx = nth(p, VFM_OPC_LD16X, 0);
	assert_true(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS);
	expect_itv(slot(p, ldx, 0), 0, 60);
	assert_int_equal(slot(p, ldx, 0)->v.tn.mask, 0x3C);
	vfm_program_release(p);
}

/* ---- relation to the length: `off + c <= LEN` guards --------------------- */

/* The idiomatic guard of an indexed load: keep the offset, compare
 * offset + c with LEN, load at offset + k with k + size <= c. */
#define IHL_GUARD(cmp_and_branch)                                             \
	"LEN\nPUSH 34\nJLT out\nLD8 14\nPUSH 15\nAND\nPUSH 2\nSHL\n"      \
	"DUP\nPUSH 18\nADD\n" cmp_and_branch "LD16X 16\nRET\nout:\nRET 0\nout2:\nRET 0"

static void expect_ldx_proven(const char *src, bool proven, uint32_t room)
{
	vfm_program_t *p = load(src);
	uint32_t ldx = nth(p, VFM_OPC_LD16X, 0);
	if (!!(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS) != proven)
		fail_msg("LD16X %s proven in:\n%s", proven ? "not" : "wrongly", src);
	assert_int_equal(slot(p, ldx, 0)->len_room, room);
	vfm_program_release(p);
}

static void test_len_guard_on_sum(void **state)
{
	(void)state;
	/* off + 18 <= len, in each way of writing it: off + 16 + 2 fits. */
	expect_ldx_proven(IHL_GUARD("LEN\nJGT out2\n"), true, 19);   /* not (sum > len) */
	expect_ldx_proven(IHL_GUARD("LEN\nJLE ok\nRET 0\nok:\n"), true, 19);
	expect_ldx_proven(IHL_GUARD("LEN\nSWAP\nJLT out2\n"), true, 19); /* not (len < sum) */
	expect_ldx_proven(IHL_GUARD("LEN\nSWAP\nJGE ok\nRET 0\nok:\n"), true, 19);
	/* Strict: off + 18 < len gives room 19. */
	expect_ldx_proven(IHL_GUARD("LEN\nJGE out2\n"), true, 20);
	/* The wrong edge, or a sum too small for the load, proves nothing. */
	expect_ldx_proven(IHL_GUARD("LEN\nJLE out2\n"), false, 0);
	vfm_program_t *p = load("LEN\nPUSH 34\nJLT out\nLD8 14\nPUSH 15\nAND\nPUSH 2\nSHL\n"
				"DUP\nPUSH 17\nADD\nLEN\nJGT out2\nLD16X 16\nRET\n"
				"out:\nRET 0\nout2:\nRET 0");
	uint32_t ldx = nth(p, VFM_OPC_LD16X, 0);
	assert_false(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS);
	assert_int_equal(slot(p, ldx, 0)->len_room, 18);
	vfm_program_release(p);
}

static void test_len_guard_survives_copies_not_joins(void **state)
{
	(void)state;
	/* The fact is on every copy (here one stored in M[0] and reloaded)... */
	vfm_program_t *p = load("LD8 14\nPUSH 60\nAND\nSTM 0\nLDM 0\nPUSH 4\nADD\n"
				"LEN\nJGT out\nLDM 0\nLD32X 0\nRET\nout:\nRET 0");
	uint32_t ldx = nth(p, VFM_OPC_LD32X, 0);
	assert_true(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS);
	vfm_program_release(p);
	/* ...and a join keeps the smaller room of the two paths: 2 bytes
	 * proven on one path, 4 on the other, a 4-byte load is not proven. */
	p = load("LD8 14\nPUSH 60\nAND\nDUP\nPUSH 2\nADD\nLEN\nJGT out\n"
		 "LD8 15\nPUSH 1\nJEQ join\nDUP\nPUSH 4\nADD\nLEN\nJGT out\n"
		 "join:\nLD32X 0\nRET\nout:\nRET 0");
	ldx = nth(p, VFM_OPC_LD32X, 0);
	assert_false(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS);
	assert_int_equal(slot(p, ldx, 0)->len_room, 3);
	vfm_program_release(p);
}

/* A sum that may wrap around says nothing about the operand. */
static void test_len_guard_wrapping_sum(void **state)
{
	(void)state;
	vfm_program_t *p = load("LD64 0\nDUP\nPUSH 8\nADD\nLEN\nJGT out\n"
				"LD8X 0\nRET\nout:\nRET 0");
	uint32_t ldx = nth(p, VFM_OPC_LD8X, 0);
	assert_false(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS);
	vfm_program_release(p);
}

static void test_indexed_wrap_always_oob(void **state)
{
	(void)state;
	vfm_program_t *p = load("PUSH 0xFFFFFFFFFFFFFFFF\nLD8X 1\nRET");
	assert_true(vfm_facts_flags(p, 1) & VFM_FACT_ALWAYS_OOB);
	vfm_program_release(p);
}

/* Regression (found by tests/test_jit.c on a generated program): facts
 * must come from the fixpoint, not from an early visit.  The first visit
 * of the loop sees index 0, which is in bounds; later ones do not. */
#define GROWING_INDEX_LOOP                                                    \
	"LEN\nPUSH 10\nJLT out\nPUSH 0\n"                                      \
	"top:\nDUP\nLD8X 0\nPOP\nPUSH 1\nADD\nDUP\nPUSH 200\nJLT top\n"       \
	"RET\nout:\nRET 0"

static void test_facts_from_fixpoint_only(void **state)
{
	(void)state;
	vfm_program_t *p = load(GROWING_INDEX_LOOP);
	uint32_t ldx = nth(p, VFM_OPC_LD8X, 0);
	assert_false(vfm_facts_flags(p, ldx) & VFM_FACT_IN_BOUNDS);
	assert_true(has_warning(p, ldx, VFM_WARN_MAY_OOB));
	vfm_program_release(p);
	/* And every engine stops at the packet's end. */
	vfm_state_t *vm = ts_vm_from_asm(GROWING_INDEX_LOOP);
	uint8_t pkt[12] = {0};
	vfm_packet_t pk = {.data = pkt, .len = sizeof pkt, .ts_ns = 0};
	vfm_result_t r;
	for (int jit = 0; jit < 2; jit++) {
		if (jit && vfm_enable_jit(vm) != VFM_OK)
			break;
		assert_int_equal(vfm_execute_ex(vm, &pk, &r), VFM_OK);
		assert_int_equal(r.status, VFM_STATUS_BOUNDS);
	}
	vfm_destroy(vm);
}

/* ---- the oracle's check -------------------------------------------------------- */

static void test_oracle_holds(void **state)
{
	(void)state;
	vfm_program_t *p = load("LEN\nPUSH 20\nJLT out\nLD8 0\nRET\nout:\nRET 0");
	uint64_t scratch[16] = {0};
	uint64_t stack[1] = {0};
	uint32_t ret = nth(p, VFM_OPC_RET, 0);
	stack[0] = 200;
	assert_true(vfm_oracle_holds(p, ret, stack, 1, scratch, 60));
	/* A length the verifier excluded on this path. */
	assert_false(vfm_oracle_holds(p, ret, stack, 1, scratch, 10));
	/* A byte above 255. */
	stack[0] = 256;
	assert_false(vfm_oracle_holds(p, ret, stack, 1, scratch, 60));
	/* Wrong depth. */
	assert_false(vfm_oracle_holds(p, ret, stack, 0, scratch, 60));
	/* Untracked scratch words must be 0. */
	stack[0] = 1;
	scratch[5] = 1;
	assert_false(vfm_oracle_holds(p, ret, stack, 1, scratch, 60));
	vfm_program_release(p);
}

/* Every example analyses, and its facts are consistent with running it. */
static void test_examples_analyse(void **state)
{
	(void)state;
	static const char *names[] = {"quickstart", "tcp_dst_port_80", "ddos_detect", "rate_limit",
				      "block_ssh_telnet"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[128];
		snprintf(path, sizeof path, "examples/%s.vfm", names[i]);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		char src[16384];
		size_t n = fread(src, 1, sizeof src - 1, f);
		fclose(f);
		src[n] = '\0';
		vfm_program_t *p = load(src);
		assert_true(vfm_facts_loads(p) > 0);
		print_message("%-16s %u of %u loads proven in bounds, %u warnings\n", names[i],
			      vfm_facts_loads_in_bounds(p), vfm_facts_loads(p), vfm_facts_n_warnings(p));
		/* Its every load is guarded by a length check: all proven. */
		if (!strcmp(names[i], "block_ssh_telnet")) {
			assert_int_equal(vfm_facts_loads_in_bounds(p), vfm_facts_loads(p));
			assert_int_equal(vfm_facts_n_warnings(p), 0);
		}
		vfm_program_release(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_len_check_proves_loads),
		cmocka_unit_test(test_check_too_short_leaves_warning),
		cmocka_unit_test(test_successful_load_teaches_length),
		cmocka_unit_test(test_always_out_of_bounds),
		cmocka_unit_test(test_refinement_each_jcc),
		cmocka_unit_test(test_jset_refines_bits),
		cmocka_unit_test(test_infeasible_edge_is_unreachable),
		cmocka_unit_test(test_identity_over_and_scratch),
		cmocka_unit_test(test_len_copies_refine_length),
		cmocka_unit_test(test_identity_killed_by_new_value),
		cmocka_unit_test(test_loop_counter_widens_and_terminates),
		cmocka_unit_test(test_budget_loop_warning),
		cmocka_unit_test(test_div_by_maybe_zero),
		cmocka_unit_test(test_ihl_indexed_load),
		cmocka_unit_test(test_len_guard_on_sum),
		cmocka_unit_test(test_len_guard_survives_copies_not_joins),
		cmocka_unit_test(test_len_guard_wrapping_sum),
		cmocka_unit_test(test_indexed_wrap_always_oob),
		cmocka_unit_test(test_facts_from_fixpoint_only),
		cmocka_unit_test(test_oracle_holds),
		cmocka_unit_test(test_examples_analyse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
