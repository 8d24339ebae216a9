/*
 * tests/test_jit_harden.c — constant blinding (vfm_enable_jit_ex with
 * VFM_JIT_HARDEN, docs/JIT.md "Constant blinding"): the program's
 * constants are in the native code without it and absent with it, the
 * keys differ from one compilation to the next, and blinded code gives
 * the interpreter's results.  (test_semantics and test_jit run their
 * tables and generated programs on the blinded JIT too.)  Skips where the
 * build has no JIT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

/* Constants no code generator would produce on its own: a PUSH of 64 and
 * of 32 bits, an ALU operand and a compare operand (fused with their PUSH
 * when not blinding), a verdict, and load offsets whose checks (and the
 * guard hoisted over the two loads) compare the length with 0x3C4D1A2F. */
#define C64 UINT64_C(0x1122334455667788)
static const uint32_t c32[] = {
	0x5EC0DE42u, /* PUSH */
	0x6A7B8C9Du, /* ADD operand */
	0x0BADF00Du, /* JNE operand */
	0x7E57AB1Eu, /* RET k */
	0x3C4D1A2Bu, /* LD32 offset */
	0x3C4D1A2Fu, /* its end: the bounds check and the region's guard */
};
static const char *const source =
	"        PUSH 0x1122334455667788\n"
	"        PUSH 0x5EC0DE42\n"
	"        ADD\n"
	"        PUSH 0x6A7B8C9D\n"
	"        ADD\n"
	"        LEN\n"
	"        PUSH 0x0BADF00D\n"
	"        JNE far\n"
	"        RET 0x7E57AB1E\n"
	"far:    LD32 0x3C4D1A2B\n"
	"        LD16 0x3C4D1A10\n"
	"        ADD\n"
	"        ADD\n"
	"        RET\n";

/* Native code of a fresh compilation of `source` (a new program each
 * time, so each has its own keys); the VM stays alive for the code. */
static vfm_state_t *compile(unsigned flags, const uint8_t **code, size_t *size)
{
	vfm_state_t *vm = ts_vm_from_asm(source);
	vfm_error_t err = vfm_enable_jit_ex(vm, flags);
	if (err == VFM_EUNSUPPORTED && !vfm_jit_arch()) {
		vfm_destroy(vm);
		return NULL;
	}
	if (err != VFM_OK)
		fail_msg("vfm_enable_jit_ex(%u): %s", flags, vfm_last_error(vm));
	const void *p;
	assert_int_equal(vfm_jit_code(vm, &p, size), VFM_OK);
	*code = p;
	return vm;
}

/* x86-64: the constant's little-endian bytes anywhere in the code (an
 * imm32, a disp32, the halves of a MOV imm64). */
static bool bytes_found(const uint8_t *code, size_t size, uint32_t v)
{
	uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	for (size_t k = 0; k + 4 <= size; k++)
		if (memcmp(code + k, le, 4) == 0)
			return true;
	return false;
}

/* AArch64: two consecutive move-wide instructions (MOVZ/MOVN then MOVK,
 * C6.2) that put the 32-bit v into halfwords hw, hw + 1 of one register;
 * a constant that fits neither an immediate field nor a bitmask is always
 * built that way. */
static bool movk_pair_found(const uint8_t *code, size_t size, uint32_t v, unsigned hw)
{
	for (size_t k = 0; k + 8 <= size; k += 4) {
		uint32_t a, b;
		memcpy(&a, code + k, 4);
		memcpy(&b, code + k + 4, 4);
		bool wide_a = (a & 0x1F800000u) == 0x12800000u, wide_b = (b & 0x1F800000u) == 0x12800000u;
		if (!wide_a || !wide_b || (a & 31) != (b & 31) || ((b >> 29) & 3) != 3 ||
		    ((a >> 21) & 3) != hw || ((b >> 21) & 3) != hw + 1)
			continue;
		uint32_t lo = (a >> 5) & 0xFFFFu;
		if (((a >> 29) & 3) == 0) /* MOVN: the complement */
			lo = ~lo & 0xFFFFu;
		if ((lo | ((b >> 5) & 0xFFFFu) << 16) == v)
			return true;
	}
	return false;
}

/* Is the 32-bit v (as halfwords hw, hw + 1 on AArch64) in the code? */
static bool found(const uint8_t *code, size_t size, uint32_t v, unsigned hw)
{
	if (strcmp(vfm_jit_arch(), "arm64") == 0)
		return movk_pair_found(code, size, v, hw);
	return bytes_found(code, size, v);
}

static void test_constants_present_without_blinding(void **state)
{
	(void)state;
	const uint8_t *code;
	size_t size;
	vfm_state_t *vm = compile(0, &code, &size);
	if (!vm)
		skip();
	/* The 64-bit PUSH: a MOV imm64 on x86-64, four move-wides on ARM64
	 * (and the 32-bit ones: halfwords 0 and 1 on ARM64). */
	assert_true(found(code, size, (uint32_t)C64, 0));
	assert_true(found(code, size, (uint32_t)(C64 >> 32), 2));
	for (size_t k = 0; k < sizeof c32 / sizeof c32[0]; k++)
		if (!found(code, size, c32[k], 0))
			fail_msg("constant 0x%08x not found in the unblinded %s code", c32[k],
				 vfm_jit_arch());
	vfm_destroy(vm);
}

static void test_constants_absent_with_blinding(void **state)
{
	(void)state;
	const uint8_t *code;
	size_t size;
	vfm_state_t *vm = compile(VFM_JIT_HARDEN, &code, &size);
	if (!vm)
		skip();
	for (unsigned hw = 0; hw <= 2; hw += 2) {
		assert_false(found(code, size, (uint32_t)C64, hw));
		assert_false(found(code, size, (uint32_t)(C64 >> 32), hw));
		for (size_t k = 0; k < sizeof c32 / sizeof c32[0]; k++)
			if (found(code, size, c32[k], hw))
				fail_msg("constant 0x%08x is in the blinded %s code", c32[k],
					 vfm_jit_arch());
	}
	vfm_destroy(vm);
}

/* Each compilation draws its own key: the same program compiled twice
 * gives different code of the same size (keys never change the form of
 * what is emitted on x86-64; on ARM64 the key's halfwords can). */
static void test_keys_per_compilation(void **state)
{
	(void)state;
	const uint8_t *a, *b;
	size_t na, nb;
	vfm_state_t *va = compile(VFM_JIT_HARDEN, &a, &na);
	if (!va)
		skip();
	vfm_state_t *vb = compile(VFM_JIT_HARDEN, &b, &nb);
	assert_true(na != nb || memcmp(a, b, na) != 0);
	vfm_destroy(va);
	vfm_destroy(vb);
}

/* Blinded code computes what the interpreter computes: every packet
 * passes the length test to the far loads and ends with BOUNDS after the
 * same instructions.  (The semantic table and the generated programs run
 * blinded in test_semantics and test_jit.) */
static void test_blinded_results(void **state)
{
	(void)state;
	vfm_state_t *interp = ts_vm_from_asm(source), *jit = ts_vm_from_asm(source);
	if (vfm_enable_jit_ex(jit, VFM_JIT_HARDEN) != VFM_OK) {
		vfm_destroy(interp);
		vfm_destroy(jit);
		skip();
	}
	static uint8_t pkt[64];
	for (uint32_t len = 0; len <= sizeof pkt; len += 16) {
		vfm_packet_t p = {.data = pkt, .len = len};
		vfm_result_t ri, rj;
		assert_int_equal(vfm_execute_ex(interp, &p, &ri), VFM_OK);
		assert_int_equal(vfm_execute_ex(jit, &p, &rj), VFM_OK);
		assert_int_equal(ri.verdict, rj.verdict);
		assert_int_equal(ri.status, rj.status);
		assert_int_equal(ri.insns, rj.insns);
		assert_int_equal(rj.status, VFM_STATUS_BOUNDS);
	}
	vfm_destroy(interp);
	vfm_destroy(jit);
}

/* Blinded constants of every shape come out exact: each half of the
 * 64-bit value (x86-64 builds the high word first and corrects for the
 * low word's sign extension: bit 31 set and clear), 32-bit values, and
 * values with zero and all-ones halfwords (ARM64's MOVZ/MOVN choice). */
static void test_blinded_constant_values(void **state)
{
	(void)state;
	static const uint64_t values[] = {
		0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, UINT64_C(0x100000000),
		UINT64_C(0x123456789ABCDEF0), UINT64_C(0x1234567812345678),
		UINT64_C(0xFFFFFFFF80000000), UINT64_C(0x00000001FFFFFFFF),
		UINT64_C(0x8000000000000000), UINT64_C(0xFFFFFFFFFFFFFFFF),
		UINT64_C(0xFFFF0000FFFF0000), UINT64_C(0x0000FFFF0000FFFF),
	};
	char src[128];
	for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
		for (int half = 0; half < 2; half++) {
			snprintf(src, sizeof src, "PUSH %llu\nPUSH %s\n%s\nRET",
				 (unsigned long long)values[k], half ? "32" : "0xFFFFFFFF",
				 half ? "SHR" : "AND");
			vfm_state_t *vm = ts_vm_from_asm(src);
			if (vfm_enable_jit_ex(vm, VFM_JIT_HARDEN) != VFM_OK) {
				vfm_destroy(vm);
				skip();
			}
			uint32_t want = (uint32_t)(half ? values[k] >> 32 : values[k]);
			if (vfm_execute(vm, NULL, 0) != want)
				fail_msg("PUSH 0x%llx blinded: half %d is 0x%x, want 0x%x",
					 (unsigned long long)values[k], half,
					 vfm_execute(vm, NULL, 0), want);
			vfm_destroy(vm);
		}
	}
}

static void test_unknown_flags(void **state)
{
	(void)state;
	vfm_state_t *vm = ts_vm_from_asm("RET 1");
	assert_int_equal(vfm_enable_jit_ex(vm, 0x80u), VFM_EINVAL);
	assert_non_null(strstr(vfm_last_error(vm), "unknown flags"));
	vfm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants_present_without_blinding),
		cmocka_unit_test(test_constants_absent_with_blinding),
		cmocka_unit_test(test_keys_per_compilation),
		cmocka_unit_test(test_blinded_results),
		cmocka_unit_test(test_blinded_constant_values),
		cmocka_unit_test(test_unknown_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
