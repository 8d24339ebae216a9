/*
 * tests/test_jit_arm64.c — the ARM64 back end's own tests.
 *
 * On every host: the A64 encoders of jit/arm64_insn.h against words
 * checked with `aarch64-linux-gnu-objdump -d` (the disassembly is in each
 * row), and the bitmask-immediate encoder against a brute-force decoder
 * written from the Arm ARM's DecodeBitMasks() pseudocode: every one of the
 * 5,334 encodable 64-bit values must round-trip, and nothing else may be
 * accepted.
 *
 * On AArch64 (under qemu-aarch64 in CI): branch relaxation on a program
 * whose native code exceeds 1 MiB, so B.cond/CBZ/CBNZ to the far end
 * (jumps, bounds exits and budget exits) need the inverted-branch-over-B
 * form, compared with the interpreter; a B beyond its reach (the reach
 * lowered for the test) makes vfm_enable_jit refuse and the VM interpret;
 * the cache-flush hook runs before
 * publication; the validate hook rejects the encoders' sentinel; unused
 * code bytes are BRK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../jit/arm64_insn.h"
#include "../jit/common.h"
#include "test_support.h"

/* ---- encoders ------------------------------------------------------------ */

struct golden {
	uint32_t word, expect;
	const char *objdump;
};

#define G(call, word, text) {call, word, text}

static void test_encoders_golden(void **state)
{
	(void)state;
	const struct golden rows[] = {
		G(a64_addsub_imm(A64_ADD, 4, 4, 3), 0x91000c84, "add x4, x4, #0x3"),
		G(a64_addsub_imm(A64_SUB, A64_SP, A64_SP, 0x80), 0xd10203ff, "sub sp, sp, #0x80"),
		G(a64_addsub_imm(A64_SUBS, A64_ZR, 1, 0x5000), 0xf140143f, "cmp x1, #0x5, lsl #12"),
		G(a64_addsub_imm(A64_ADDS, A64_ZR, 7, 4095), 0xb13ffcff, "cmn x7, #0xfff"),
		G(a64_logic_imm(A64_ANDS_IMM, A64_ZR, 5, 0xFFFFFFFF00000000u), 0xf2607cbf,
		  "tst x5, #0xffffffff00000000"),
		G(a64_logic_imm(A64_ORR_IMM, 9, A64_ZR, 0x5555555555555555u), 0xb200f3e9,
		  "mov x9, #0x5555555555555555"),
		G(a64_logic_imm(A64_EOR_IMM, 9, 9, 0x0ff00ff00ff00ff0u), 0xd20c9d29,
		  "eor x9, x9, #0xff00ff00ff00ff0"),
		G(a64_logic_imm(A64_AND_IMM, 3, 4, 0x8000000000000001u), 0x92410483,
		  "and x3, x4, #0x8000000000000001"),
		G(a64_movw(A64_MOVZ, 0, 2, 2), 0xd2c00040, "mov x0, #0x200000000"),
		G(a64_movw(A64_MOVN, 1, 0x1234, 1), 0x92a24681, "mov x1, #0xffffffffedcbffff"),
		G(a64_movw(A64_MOVK, 16, 0xbeef, 3), 0xf2f7ddf0, "movk x16, #0xbeef, lsl #48"),
		G(a64_movn_w(2, 0xedcb, 0), 0x129db962, "mov w2, #0xffff1234"),
		G(a64_addsub_reg(A64_SUB_REG, 3, A64_ZR, 3, A64_LSL, 0), 0xcb0303e3, "neg x3, x3"),
		G(a64_addsub_reg(A64_SUBS_REG, A64_ZR, 1, 17, A64_LSL, 0), 0xeb11003f, "cmp x1, x17"),
		G(a64_addsub_reg(A64_ADDS_REG, 17, 5, 17, A64_LSL, 0), 0xab1100b1, "adds x17, x5, x17"),
		G(a64_logic_reg(A64_ORR_REG, 5, A64_ZR, 6), 0xaa0603e5, "mov x5, x6"),
		G(a64_logic_reg(A64_ORN_REG, 5, A64_ZR, 5), 0xaa2503e5, "mvn x5, x5"),
		G(a64_logic_reg(A64_ORR_REG_W, 2, A64_ZR, 2), 0x2a0203e2, "mov w2, w2"),
		G(a64_logic_reg(A64_ANDS_REG, A64_ZR, 5, 6), 0xea0600bf, "tst x5, x6"),
		G(a64_logic_reg(A64_EOR_REG, 7, 7, 8), 0xca0800e7, "eor x7, x7, x8"),
		G(a64_dp2(A64_UDIV, 15, 5, 6), 0x9ac608af, "udiv x15, x5, x6"),
		G(a64_dp2(A64_LSLV, 5, 5, 6), 0x9ac620a5, "lsl x5, x5, x6"),
		G(a64_dp2(A64_LSRV, 5, 5, 6), 0x9ac624a5, "lsr x5, x5, x6"),
		G(a64_dp3(A64_MADD, 5, 5, 6, A64_ZR), 0x9b067ca5, "mul x5, x5, x6"),
		G(a64_dp3(A64_MSUB, 5, 15, 6, 5), 0x9b0695e5, "msub x5, x15, x6, x5"),
		G(a64_dp3(A64_UMULH, 15, 5, 6, A64_ZR), 0x9bc67caf, "umulh x15, x5, x6"),
		G(a64_addsub_reg(A64_ADD_REG, 15, 15, 17, A64_LSR, 1), 0x8b5105ef,
		  "add x15, x15, x17, lsr #1"),
		G(a64_lsl_imm(5, 5, 2), 0xd37ef4a5, "lsl x5, x5, #2"),
		G(a64_lsl_imm(5, 5, 63), 0xd34100a5, "lsl x5, x5, #63"),
		G(a64_lsr_imm(5, 5, 13), 0xd34dfca5, "lsr x5, x5, #13"),
		G(a64_csinv_w(0, 5, A64_ZR, A64_EQ), 0x5a9f00a0, "csinv w0, w5, wzr, eq"),
		G(a64_csel_x(0, 0, A64_ZR, A64_NE), 0x9a9f1000, "csel x0, x0, xzr, ne"),
		G(a64_rev(A64_REV16_W, 5, 5), 0x5ac004a5, "rev16 w5, w5"),
		G(a64_rev(A64_REV_W, 5, 5), 0x5ac008a5, "rev w5, w5"),
		G(a64_rev(A64_REV_X, 5, 5), 0xdac00ca5, "rev x5, x5"),
		G(a64_ldst_imm(A64_LDRB, 5, 0, 23), 0x39405c05, "ldrb w5, [x0, #23]"),
		G(a64_ldst_imm(A64_LDRH, 5, 0, 12), 0x79401805, "ldrh w5, [x0, #12]"),
		G(a64_ldst_imm(A64_LDRW, 5, 0, 28), 0xb9401c05, "ldr w5, [x0, #28]"),
		G(a64_ldst_imm(A64_LDRX, 4, 2, 32), 0xf9401044, "ldr x4, [x2, #32]"),
		G(a64_ldst_imm(A64_STRX, 4, 2, 32), 0xf9001044, "str x4, [x2, #32]"),
		G(a64_ldst_imm(A64_STRX, 9, A64_SP, 32760), 0xf93fffe9, "str x9, [sp, #32760]"),
		G(a64_ldst_unscaled(A64_LDRW, 5, 0, 26), 0xb841a005, "ldur w5, [x0, #26]"),
		G(a64_ldst_unscaled(A64_LDRX, 5, 0, 255), 0xf84ff005, "ldur x5, [x0, #255]"),
		G(a64_ldst_unscaled(A64_LDRH, 5, 0, 13), 0x7840d005, "ldurh w5, [x0, #13]"),
		G(a64_ldst_reg(A64_LDRB, 24, 19, 16), 0x38706a78, "ldrb w24, [x19, x16]"),
		G(a64_ldst_reg(A64_LDRH, 24, 19, 16), 0x78706a78, "ldrh w24, [x19, x16]"),
		G(a64_ldst_reg(A64_LDRW, 24, 19, 16), 0xb8706a78, "ldr w24, [x19, x16]"),
		G(a64_ldst_reg(A64_LDRX, 24, 19, 16), 0xf8706a78, "ldr x24, [x19, x16]"),
		G(a64_ldst_reg(A64_STRX, 24, 19, 16), 0xf8306a78, "str x24, [x19, x16]"),
		G(a64_pair(A64_STP_PRE, 29, 30, A64_SP, -16), 0xa9bf7bfd, "stp x29, x30, [sp, #-16]!"),
		G(a64_pair(A64_LDP_POST, 29, 30, A64_SP, 16), 0xa8c17bfd, "ldp x29, x30, [sp], #16"),
		G(a64_pair(A64_STP_OFF, A64_ZR, A64_ZR, A64_SP, 112), 0xa9077fff,
		  "stp xzr, xzr, [sp, #112]"),
		G(a64_pair(A64_LDP_OFF, 3, 4, A64_SP, 504), 0xa95f93e3, "ldp x3, x4, [sp, #504]"),
		G(a64_b(-1), 0x17ffffff, "b .-4"),
		G(a64_b((1 << 25) - 1), 0x15ffffff, "b .+0x7fffffc"),
		G(a64_bcond(A64_LO, 24), 0x54000303, "b.lo .+0x60"),
		G(a64_bcond(A64_HI, -(1 << 18)), 0x54800008, "b.hi .-0x100000"),
		G(a64_cbz(false, 3, 5), 0xb40000a3, "cbz x3, .+0x14"),
		G(a64_cbz(true, 17, -2), 0xb5ffffd1, "cbnz x17, .-8"),
		G(a64_blr(16), 0xd63f0200, "blr x16"),
		G(A64_RET, 0xd65f03c0, "ret"),
		G(a64_brk(0x3e8), 0xd4207d00, "brk #0x3e8"),
	};
	for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
		if (rows[k].word != rows[k].expect)
			fail_msg("row %zu (%s): got 0x%08x, want 0x%08x", k, rows[k].objdump,
				 rows[k].word, rows[k].expect);
}

/* Operands out of their fields give the sentinel, never a wrong word. */
static void test_encoders_refuse(void **state)
{
	(void)state;
	assert_int_equal(a64_addsub_imm(A64_ADD, 1, 1, 4096 + 1), A64_INVALID);
	assert_int_equal(a64_addsub_imm(A64_ADD, 1, 1, UINT64_C(4096) << 12), A64_INVALID);
	assert_int_equal(a64_logic_imm(A64_AND_IMM, 1, 1, 0), A64_INVALID);
	assert_int_equal(a64_logic_imm(A64_AND_IMM, 1, 1, UINT64_MAX), A64_INVALID);
	assert_int_equal(a64_logic_imm(A64_AND_IMM, 1, 1, 0x12), A64_INVALID);
	assert_int_equal(a64_movw(A64_MOVZ, 1, 0x10000, 0), A64_INVALID);
	assert_int_equal(a64_movw(A64_MOVZ, 1, 1, 4), A64_INVALID);
	assert_int_equal(a64_movn_w(1, 1, 2), A64_INVALID);
	assert_int_equal(a64_lsl_imm(1, 1, 64), A64_INVALID);
	assert_int_equal(a64_ldst_imm(A64_LDRH, 1, 2, 13), A64_INVALID);     /* unaligned */
	assert_int_equal(a64_ldst_imm(A64_LDRB, 1, 2, 4096), A64_INVALID);
	assert_int_equal(a64_ldst_imm(A64_LDRX, 1, 2, 8 * 4096), A64_INVALID);
	assert_int_equal(a64_ldst_unscaled(A64_LDRW, 1, 2, 256), A64_INVALID);
	assert_int_equal(a64_pair(A64_STP_PRE, 1, 2, A64_SP, 512), A64_INVALID);
	assert_int_equal(a64_pair(A64_STP_PRE, 1, 2, A64_SP, 12), A64_INVALID);
	/* B.cond/CBZ: +-1 MiB, B: +-128 MiB. */
	assert_int_not_equal(a64_bcond(A64_EQ, (1 << 18) - 1), A64_INVALID);
	assert_int_equal(a64_bcond(A64_EQ, 1 << 18), A64_INVALID);
	assert_int_not_equal(a64_bcond(A64_EQ, -(1 << 18)), A64_INVALID);
	assert_int_equal(a64_bcond(A64_EQ, -(1 << 18) - 1), A64_INVALID);
	assert_int_equal(a64_cbz(true, 1, 1 << 18), A64_INVALID);
	assert_int_not_equal(a64_b(-(1 << 25)), A64_INVALID);
	assert_int_equal(a64_b(1 << 25), A64_INVALID);
	assert_int_equal(a64_b(-(1 << 25) - 1), A64_INVALID);
}

/* DecodeBitMasks(N, imms, immr, immediate = TRUE) for 64-bit operations
 * (Arm ARM, shared pseudocode aarch64/instrs/integer/bitmasks), written
 * from the pseudocode, independently of the encoder.  false: reserved. */
static bool decode_bitmask(unsigned n, unsigned immr, unsigned imms, uint64_t *out)
{
	/* len = HighestSetBit(N:NOT(imms)), a 7-bit value. */
	unsigned combined = n << 6 | (~imms & 0x3Fu);
	int len = -1;
	for (int b = 6; b >= 0; b--)
		if (combined >> b & 1) {
			len = b;
			break;
		}
	if (len < 1)
		return false;
	unsigned esize = 1u << len;
	unsigned levels = esize - 1;
	unsigned s = imms & levels, r = immr & levels;
	if (s == levels)
		return false; /* all ones: reserved */
	uint64_t welem = (UINT64_C(2) << s) - 1; /* Ones(s + 1) */
	uint64_t emask = esize == 64 ? UINT64_MAX : (UINT64_C(1) << esize) - 1;
	uint64_t elem = r == 0 ? welem : ((welem >> r) | (welem << (esize - r))) & emask;
	uint64_t v = 0;
	for (unsigned k = 0; k < 64; k += esize)
		v |= elem << k;
	*out = v;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static void test_bitmask_immediates(void **state)
{
	(void)state;
	/* Every field combination; each value is encodable, distinct values
	 * number 5,334 (the well-known count for 64-bit operations). */
	static uint64_t all[2 * 64 * 64];
	size_t n = 0;
	for (unsigned nbit = 0; nbit < 2; nbit++)
		for (unsigned immr = 0; immr < 64; immr++)
			for (unsigned imms = 0; imms < 64; imms++) {
				uint64_t v;
				if (decode_bitmask(nbit, immr, imms, &v))
					all[n++] = v;
			}
	qsort(all, n, sizeof all[0], cmp_u64);
	size_t distinct = 0;
	for (size_t k = 0; k < n; k++)
		if (k == 0 || all[k] != all[k - 1])
			all[distinct++] = all[k];
	assert_int_equal(distinct, 5334);
	/* Each one round-trips through the encoder. */
	for (size_t k = 0; k < distinct; k++) {
		int32_t f = a64_bitmask_imm(all[k]);
		uint64_t back;
		if (f < 0)
			fail_msg("0x%016llx is encodable but the encoder refused it",
				 (unsigned long long)all[k]);
		assert_true(decode_bitmask((unsigned)f >> 12, (unsigned)f >> 6 & 63, (unsigned)f & 63,
					   &back));
		if (back != all[k])
			fail_msg("0x%016llx encoded as N:immr:imms 0x%x decodes to 0x%016llx",
				 (unsigned long long)all[k], (unsigned)f, (unsigned long long)back);
	}
	/* Nothing else is accepted: random values, and every value one bit
	 * away from an encodable one (the near misses). */
	uint64_t seed = 1;
	for (int k = 0; k < 200000 + (int)distinct * 64; k++) {
		uint64_t v = k < 200000 ? splitmix(&seed)
					: all[(size_t)(k - 200000) / 64] ^
						  (UINT64_C(1) << ((k - 200000) % 64));
		bool member = bsearch(&v, all, distinct, sizeof all[0], cmp_u64) != NULL;
		int32_t f = a64_bitmask_imm(v);
		if (member != (f >= 0))
			fail_msg("0x%016llx: encodable %d, encoder says %d", (unsigned long long)v,
				 member, f >= 0);
	}
	assert_int_equal(a64_bitmask_imm(0), -1);
	assert_int_equal(a64_bitmask_imm(UINT64_MAX), -1);
}

/* ---- the back end (AArch64 only) ---------------------------------------------- */

#if defined(__aarch64__)

/* Long conditional branches in code: B.cond, CBZ or CBNZ over the next
 * word (+8), which is a B. */
static unsigned long_branches(const uint8_t *code, size_t size)
{
	unsigned n = 0;
	for (size_t k = 0; k + 8 <= size; k += 4) {
		uint32_t w, next;
		memcpy(&w, code + k, 4);
		memcpy(&next, code + k + 4, 4);
		bool bcond = (w & 0xFF000010u) == 0x54000000u;
		bool cbz = (w & 0x7E000000u) == 0x34000000u;
		if ((bcond || cbz) && (w >> 5 & 0x7FFFFu) == 2 && (next & 0xFC000000u) == 0x14000000u)
			n++;
	}
	return n;
}

/* Runs src on the interpreter and the JIT over the packets, all results
 * equal; returns the JIT's code size and (if n_long) the number of long
 * conditional branches in it. */
static size_t same_on_both(const char *src, const vfm_packet_t *pkts, int n_pkts,
			   const vfm_result_t *expect, unsigned *n_long)
{
	size_t len;
	uint8_t *bin = ts_assemble(src, &len);
	vfm_config_t cfg = {.budget = 3, .budget_set = 1};
	vfm_state_t *interp = vfm_create_with(&cfg, NULL), *jit = vfm_create_with(&cfg, NULL);
	assert_int_equal(vfm_load_program(interp, bin, len), VFM_OK);
	assert_int_equal(vfm_load_program(jit, bin, len), VFM_OK);
	if (vfm_enable_jit(jit) != VFM_OK)
		fail_msg("JIT refused: %s", vfm_last_error(jit));
	const void *code;
	size_t size;
	assert_int_equal(vfm_jit_code(jit, &code, &size), VFM_OK);
	if (n_long)
		*n_long = long_branches(code, size);
	for (int k = 0; k < n_pkts; k++) {
		vfm_result_t ri, rj;
		assert_int_equal(vfm_execute_ex(interp, &pkts[k], &ri), VFM_OK);
		assert_int_equal(vfm_execute_ex(jit, &pkts[k], &rj), VFM_OK);
		if (ri.verdict != rj.verdict || ri.status != rj.status || ri.insns != rj.insns)
			fail_msg("packet %d: interpreter %u/%s/%llu, JIT %u/%s/%llu", k, ri.verdict,
				 vfm_status_name(ri.status), (unsigned long long)ri.insns, rj.verdict,
				 vfm_status_name(rj.status), (unsigned long long)rj.insns);
		if (expect && (rj.verdict != expect[k].verdict || rj.status != expect[k].status))
			fail_msg("packet %d: JIT %u/%s, expected %u/%s", k, rj.verdict,
				 vfm_status_name(rj.status), expect[k].verdict,
				 vfm_status_name(expect[k].status));
	}
	vfm_destroy(interp);
	vfm_destroy(jit);
	free(bin);
	return size;
}

/* Appends printf output to a growing string. */
struct sbuf {
	char *p;
	size_t n, cap;
};

static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		assert_true(w >= 0);
		if ((size_t)w < b->cap - b->n) {
			b->n += (size_t)w;
			return;
		}
		b->cap = 2 * b->cap + (size_t)w + 1;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
}

/*
 * A program whose native code is well over 1 MiB: 70,000 PUSH k; ADD
 * pairs with constants that need MOVZ + 3 MOVK, between branches at the
 * top and targets at the bottom.  Forward B.cond (JEQ, JGT), CBZ (JEQ
 * against 0), the bounds exit of the first load and the budget exit of a
 * loop at the top (both stubs come after the body) need the long form; a
 * backward conditional jump over the whole body needs a B for its target
 * (budget 3: the packet that loops ends with BUDGET).
 */
static char *far_branch_program(void)
{
	struct sbuf b = {malloc(1 << 16), 0, 1 << 16};
	assert_non_null(b.p);
	put(&b, "LD8 0\nDUP\nPUSH 1\nJEQ far_eq\n"   /* B.cond */
		"DUP\nPUSH 0\nJEQ far_zero\n"        /* CBZ */
		"DUP\nPUSH 8\nJGT maybe_bounds\n"
		"PUSH 0\nsmall:\nPUSH 1\nADD\nDUP\nPUSH 2\nJLT small\nPOP\n" /* 1 back jump */
		"top:\n"
		"PUSH 0\n");
	for (int k = 0; k < 70000; k++)
		put(&b, "PUSH 0x%llx\nADD\n", 0x1234567800000001ull + (unsigned long long)k * 0x10001);
	put(&b, "POP\n"
		"DUP\nPUSH 2\nJEQ top\n"             /* backward, budget 3 then BUDGET */
		"PUSH 0\nJNE far_nonzero\n"          /* CBNZ */
		"RET 5\n"
		"far_eq:\nPOP\nRET 11\n"
		"far_zero:\nPOP\nRET 12\n"
		"far_nonzero:\nRET 13\n"
		"maybe_bounds:\nLD8 4000\nRET 14\n");
	return b.p;
}

/* Packets by first byte: 1 far_eq, 0 far_zero, 2 the loop to BUDGET, 3
 * falls through to far_nonzero, 9 maybe_bounds (BOUNDS), empty: BOUNDS at
 * the first load. */
static const uint8_t far_d0[1] = {0}, far_d1[1] = {1}, far_d2[1] = {2}, far_d3[1] = {3},
		     far_d9[1] = {9};
static const vfm_packet_t far_pkts[] = {
	{.data = far_d1, .len = 1}, {.data = far_d0, .len = 1}, {.data = far_d2, .len = 1},
	{.data = far_d3, .len = 1}, {.data = far_d9, .len = 1}, {.data = far_d0, .len = 0},
};
static const vfm_result_t far_expect[] = {
	{11, VFM_STATUS_OK, 0}, {12, VFM_STATUS_OK, 0}, {0, VFM_STATUS_BUDGET, 0},
	{13, VFM_STATUS_OK, 0}, {0, VFM_STATUS_BOUNDS, 0}, {0, VFM_STATUS_BOUNDS, 0},
};
#define FAR_PACKETS ((int)(sizeof far_pkts / sizeof far_pkts[0]))

static void test_far_branches(void **state)
{
	(void)state;
	char *src = far_branch_program();
	unsigned n_long;
	size_t size = same_on_both(src, far_pkts, FAR_PACKETS, far_expect, &n_long);
	print_message("far-branch program: %zu bytes of native code, %u long branches\n", size,
		      n_long);
	assert_true(size > (1u << 20) + (1u << 18));
	/* JEQ far_eq (B.EQ), JEQ far_zero (CBZ), JGT maybe_bounds, the first
	 * load's bounds exit and the small loop's budget exit (CBZ): the exit
	 * stubs come after the body. */
	assert_true(n_long >= 5);
	free(src);
}

/*
 * A B beyond its reach: no program within the instruction limit has 128
 * MiB of code (docs/JIT.md), so the test lowers the reach b_to() checks to
 * that of B.cond (+-1 MiB) and compiles the far-branch program, whose long
 * forms then cannot reach.  vfm_enable_jit must refuse with the message,
 * publish no code, and leave the VM on the interpreter with the right
 * results.
 */
static void test_b_beyond_reach_refused(void **state)
{
	(void)state;
	char *src = far_branch_program();
	size_t len;
	uint8_t *bin = ts_assemble(src, &len);
	vfm_config_t cfg = {.budget = 3, .budget_set = 1};
	vfm_state_t *vm = vfm_create_with(&cfg, NULL);
	assert_int_equal(vfm_load_program(vm, bin, len), VFM_OK);
	vfm_jit_a64_b_bits = A64_IMM19_BITS;
	vfm_error_t err = vfm_enable_jit(vm);
	vfm_jit_a64_b_bits = A64_IMM26_BITS;
	assert_int_equal(err, VFM_EUNSUPPORTED);
	if (!strstr(vfm_last_error(vm), "beyond the +-128 MiB reach of B"))
		fail_msg("message: %s", vfm_last_error(vm));
	const void *code;
	size_t size;
	assert_int_not_equal(vfm_jit_code(vm, &code, &size), VFM_OK);
	for (int k = 0; k < FAR_PACKETS; k++) {
		vfm_result_t r;
		assert_int_equal(vfm_execute_ex(vm, &far_pkts[k], &r), VFM_OK);
		assert_int_equal(r.verdict, far_expect[k].verdict);
		assert_int_equal(r.status, far_expect[k].status);
	}
	/* With the real reach the same VM compiles. */
	assert_int_equal(vfm_enable_jit(vm), VFM_OK);
	vfm_destroy(vm);
	free(bin);
	free(src);
}

/*
 * Deep stacks, with and without helper calls: slots in every kind of home
 * (caller- and callee-saved registers, frame words) as operands of every
 * ALU op, register and immediate forms, and helper calls at many depths,
 * so that live caller-saved slot registers are saved and restored around
 * them (generated programs are rarely this deep).  The result folds every
 * slot into 32 bits that RET returns exactly.
 */
static void test_deep_stacks_and_calls(void **state)
{
	(void)state;
	static const char *const ops[] = {"ADD", "SUB", "MUL", "DIV", "MOD", "AND",
					  "OR",  "XOR", "SHL", "SHR"};
	static const uint8_t pkt[16] = {0x45, 0x00, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
					0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	const vfm_packet_t pkts[] = {{.data = pkt, .len = 16}, {.data = pkt, .len = 8},
				     {.data = pkt, .len = 3}};
	for (int calls = 0; calls < 2; calls++)
		for (int depth = 2; depth <= 48; depth += depth < 24 ? 1 : 8) {
			struct sbuf b = {malloc(4096), 0, 4096};
			assert_non_null(b.p);
			uint64_t c = 0x9E3779B97F4A7C15u * (uint64_t)(depth + 1);
			for (int k = 0; k < depth; k++) {
				c = c * 6364136223846793005u + 1442695040888963407u;
				/* Every fourth slot a packet byte, the rest constants of
				 * every size (some 0, to hit x/0 and x%0). */
				if (k % 4 == 1)
					put(&b, "LD8 %d\n", k % 8);
				else
					put(&b, "PUSH %llu\n", (unsigned long long)(k % 7 == 3 ? 0 : c >> (k % 64)));
				if (calls && k % 5 == 2)
					put(&b, "DUP\nHASH5\nXOR\nFLOW_LOAD\nPUSH 1\nADD\n");
			}
			for (int k = depth - 1, n = 0; k > 0; k--, n++) {
				const char *op = ops[n % 10];
				if (n % 3 == 0)
					put(&b, "%s\n", op);              /* register form */
				else
					put(&b, "PUSH %u\n%s\nADD\n", 1u + 37u * (unsigned)n, op); /* fused */
				if (n % 4 == 1)
					put(&b, "NOT\nDUP\nSTM 3\nLDM 3\nSWAP\nOVER\nPOP\nPOP\n");
				if (n % 5 == 4)
					put(&b, "NEG\n");
				if (calls && n % 3 == 1)
					put(&b, "DUP\nDUP\nFLOW_STORE\n");
			}
			put(&b, "DUP\nPUSH 32\nSHR\nXOR\nPUSH 0xFFFFFFFF\nAND\nRET\n");
			same_on_both(b.p, pkts, 3, NULL, NULL);
			free(b.p);
		}
}

/* Constants take the fewest instructions: one MOVZ, MOVN (W or X) or
 * ORR where one suffices, else MOVZ/MOVN and one MOVK per remaining
 * halfword; and they hold the right value (checked through both halves
 * of each, which RET returns unsaturated). */
static void test_constants(void **state)
{
	(void)state;
	const struct {
		uint64_t v;
		unsigned insns;
	} rows[] = {
		{0, 1}, {7, 1}, {0xFFFF, 1}, {0x10000, 1}, {0xABCD00000000, 1},
		{UINT64_MAX, 1}, {0xFFFFFFFF, 1}, {0xFFFF1234, 1}, {0x1234FFFF, 1},
		{0x1234FFFFFFFFFFFF, 1}, {0xFFFFFFFFFFFF1234, 1}, {0x5555555555555555, 1},
		{0x00FF00FF00FF00FF, 1}, {0x0000123400005678, 2}, {0x12345678, 2},
		{0xFFFF1234FFFF5678, 2}, {0x1234567800000000, 2}, {0x123456789ABCDEF0, 4},
		{0x0001000200030000, 3},
	};
	char src[256];
	snprintf(src, sizeof src, "PUSH 7\nRET");
	unsigned long base;
	{
		vfm_state_t *vm = ts_vm_from_asm(src);
		const void *code;
		size_t size;
		assert_int_equal(vfm_enable_jit(vm), VFM_OK);
		assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_OK);
		base = size;
		vfm_destroy(vm);
	}
	for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
		uint64_t v = rows[k].v;
		snprintf(src, sizeof src, "PUSH %llu\nRET", (unsigned long long)v);
		vfm_state_t *vm = ts_vm_from_asm(src);
		const void *code;
		size_t size;
		assert_int_equal(vfm_enable_jit(vm), VFM_OK);
		assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_OK);
		unsigned insns = (unsigned)((size - base) / 4 + 1);
		if (insns != rows[k].insns)
			fail_msg("PUSH 0x%llx: %u instructions, want %u", (unsigned long long)v,
				 insns, rows[k].insns);
		vfm_destroy(vm);
		for (int half = 0; half < 2; half++) {
			snprintf(src, sizeof src, "PUSH %llu\nPUSH %s\n%s\nRET",
				 (unsigned long long)v, half ? "32" : "0xFFFFFFFF", half ? "SHR" : "AND");
			vm = ts_vm_from_asm(src);
			assert_int_equal(vfm_enable_jit(vm), VFM_OK);
			uint32_t want = (uint32_t)(half ? v >> 32 : v);
			assert_int_equal(vfm_execute(vm, NULL, 0), want);
			vfm_destroy(vm);
		}
	}
}

/* The flush hook exists and runs once per compilation, before the code
 * is published. */
static void test_flush_hook_called(void **state)
{
	(void)state;
	const struct vfm_jit_target *t = vfm_jit_native_target();
	assert_non_null(t);
	assert_non_null(t->flush);
	assert_string_equal(t->objdump_arch, "aarch64");
	unsigned long before = vfm_jit_flush_count;
	vfm_state_t *vm = ts_vm_from_asm("LD8 0\nRET");
	assert_int_equal(vfm_enable_jit(vm), VFM_OK);
	/* One flush per compiled variant (with and without counting), and
	 * as many again for the blinded pair. */
	assert_int_equal(vfm_jit_flush_count, before + 2);
	assert_int_equal(vfm_enable_jit_ex(vm, VFM_JIT_HARDEN), VFM_OK);
	assert_int_equal(vfm_jit_flush_count, before + 4);
	vfm_destroy(vm);
}

/* The validate hook rejects the sentinel anywhere in the code, accepts
 * real code, and the fill is BRK. */
static void test_validate_and_fill(void **state)
{
	(void)state;
	const struct vfm_jit_target *t = vfm_jit_native_target();
	vfm_state_t *vm = ts_vm_from_asm("LD16 12\nPUSH 0x800\nJEQ a\nRET 0\na:\nRET 1");
	assert_int_equal(vfm_enable_jit(vm), VFM_OK);
	const void *code;
	size_t size;
	assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_OK);
	assert_true(size % 4 == 0);
	assert_true(t->validate(code, size));
	uint8_t *copy = malloc(size);
	assert_non_null(copy);
	memcpy(copy, code, size);
	uint32_t bad = A64_INVALID;
	memcpy(copy + size / 8 * 4, &bad, 4);
	assert_false(t->validate(copy, size));
	free(copy);
	uint32_t fill;
	memcpy(&fill, t->fill, 4);
	assert_int_equal(t->fill_len, 4);
	assert_int_equal(fill & 0xFFE0001Fu, 0xD4200000u); /* BRK #imm16 */
	/* The rest of the code page traps. */
	long page = 4096;
	size_t end = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	for (size_t k = size; k + 4 <= end; k += 4) {
		uint32_t w;
		memcpy(&w, (const uint8_t *)code + k, 4);
		assert_int_equal(w, fill);
	}
	vfm_destroy(vm);
}

#else
/* The back end runs only on AArch64 (ci/arm64.sh runs it under qemu). */
#define NOT_HERE(name)                 \
	static void name(void **state) \
	{                              \
		(void)state;           \
		skip();                \
	}
NOT_HERE(test_far_branches)
NOT_HERE(test_b_beyond_reach_refused)
NOT_HERE(test_constants)
NOT_HERE(test_deep_stacks_and_calls)
NOT_HERE(test_flush_hook_called)
NOT_HERE(test_validate_and_fill)
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoders_golden),
		cmocka_unit_test(test_encoders_refuse),
		cmocka_unit_test(test_bitmask_immediates),
		cmocka_unit_test(test_far_branches),
		cmocka_unit_test(test_b_beyond_reach_refused),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_deep_stacks_and_calls),
		cmocka_unit_test(test_flush_hook_called),
		cmocka_unit_test(test_validate_and_fill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
