/*
 * jit/x86_64.c — the x86-64 back end: registers, encoders and emitters on
 * the shared JIT driver (jit/common.h), which decides what gets code,
 * counts blocks, runs the passes and publishes the code.
 *
 * Design (facts from the verifier shape the code):
 *   - the stack depth at every instruction is static, so stack slot k has a
 *     fixed home: a register for the first slots, a frame word beyond; no
 *     stack pointer exists at run time.  Every program keeps the
 *     arguments in RDI/RSI/RDX (args, data, len) and its first slots in caller-saved
 *     R8-R11, so small filters push nothing; a helper call (HASH5, flow
 *     table) saves the caller-saved registers in use around itself, so
 *     that a packet that calls nothing pays nothing for the calls it
 *     might have made;
 *   - every RET and exit restores and returns in place (no jump to a
 *     shared epilogue);
 *   - loads the verifier proved in bounds carry no check; the others one
 *     overflow-safe compare against the length register;
 *   - a fused PUSH k (the driver passes it as an immediate operand) becomes
 *     a compare or ALU op with an immediate where it fits imm32, and DIV
 *     or MOD by it a multiply by its reciprocal (MUL, vfm_jit_udiv_plan)
 *     or a shift;
 *   - the backward-jump budget is a register counter, present only in
 *     programs with backward jumps; in the counting variant the
 *     instruction count is one memory add per basic block into struct
 *     vfm_jit_args.
 * HASH5, FLOW_LOAD and FLOW_STORE call the interpreter's C helpers.
 *
 * Generated function (System V; vfm_jit_fn, vm/jit.h):
 *   uint64_t fn(struct vfm_jit_args *a, const uint8_t *data, uint32_t len)
 * returns verdict | status << 32.  All branches are rel32, so code size
 * does not depend on distances and the layout settles in two passes.
 *
 * Encodings: Intel SDM Vol. 2 (instruction set reference), chapter and
 * instruction noted on each encoder.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../vm/state.h"

/* ---- registers ------------------------------------------------------------ */

enum reg {
	RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
	R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
};

/* Roles, chosen per program by x86_setup (the register map below); the
 * macros read the map of the context `e` every emitter has. */
#define REG_DATA (arch(e)->data)     /* packet pointer */
#define REG_LEN (arch(e)->len)       /* packet length, zero-extended */
#define REG_ARGS (arch(e)->args)     /* struct vfm_jit_args * */
#define REG_BUDGET (arch(e)->budget) /* backward jumps left */
#define TMP0 RAX
#define TMP1 RCX       /* also the shift count (CL) */
#define TMP2 RDX       /* clobbered by DIV; SWAP's temporary */

#define MAX_SLOT_REGS 10
/* The arguments stay where the caller put them (RDI, RSI, RDX) and the
 * first slots take caller-saved registers, so that small filters save
 * and restore nothing; deeper slots take callee-saved registers (pushed
 * only if used), then the frame. */
static const enum reg slot_pool[] = {R8, R9, R10, R11, RBX, RBP, R12, R13, R14, R15};
/* The caller-saved registers a role or a slot may live in: a helper call
 * saves those in use to the frame's save area, word i for register i. */
static const enum reg caller_saved[] = {RDI, RSI, RDX, R8, R9, R10, R11};
#define N_CALLER_SAVED 7

/* ---- frame ------------------------------------------------------------------ */

/* Callee-saved registers the program uses and the frame below them (from
 * rsp upwards: spilled slots, scratch words, call save area), each present
 * only if the plan needs it: small filters get no frame and few pushes. */
struct x86 {
	enum reg data, len, args, budget;
	enum reg slot[MAX_SLOT_REGS]; /* homes of slots 0..n_slot_regs-1 */
	unsigned n_slot_regs;
	enum reg saved[8];            /* callee-saved registers pushed */
	unsigned n_saved;
	int32_t scratch_off, save_off; /* frame offsets */
	uint32_t frame;                /* bytes below the pushes */
};

static struct x86 *arch(struct vfm_jit_ctx *e)
{
	return e->arch;
}

/* ---- encoders --------------------------------------------------------------- */

static void byte(struct vfm_jit_ctx *e, uint8_t b)
{
	vfm_jit_emit8(e, b);
}

static void imm32(struct vfm_jit_ctx *e, uint32_t v)
{
	vfm_jit_emit32(e, v);
}

static void imm64(struct vfm_jit_ctx *e, uint64_t v)
{
	vfm_jit_emit64(e, v);
}

/* REX prefix: W = 64-bit operand, R = reg field ext, B = rm/base ext (2.2.1). */
static void rex(struct vfm_jit_ctx *e, bool w, int reg, int rm)
{
	uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0));
	if (r != 0x40)
		byte(e, r);
}

/* ModRM with register direct addressing (mod = 11) (2.1.5). */
static void modrm_rr(struct vfm_jit_ctx *e, int reg, int rm)
{
	byte(e, (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

static bool fits8(int64_t v)
{
	return v >= -128 && v <= 127;
}

/* ModRM + SIB + displacement for [base + disp]: disp8 (mod = 01) where it
 * fits, else disp32 (mod = 10); RSP/R12 need a SIB (2.1.5, table 2-2). */
static void modrm_mem(struct vfm_jit_ctx *e, int reg, int base, int32_t disp)
{
	bool d8 = fits8(disp);
	byte(e, (uint8_t)((d8 ? 0x40 : 0x80) | (reg & 7) << 3 | (base & 7)));
	if ((base & 7) == RSP)
		byte(e, 0x24); /* SIB: no index, base */
	if (d8)
		byte(e, (uint8_t)(int8_t)disp);
	else
		imm32(e, (uint32_t)disp);
}

/* ModRM + SIB for [base + index + disp] (scale 1; disp8 or disp32). */
static void modrm_sib(struct vfm_jit_ctx *e, int reg, int base, int index, int32_t disp)
{
	bool d8 = fits8(disp);
	byte(e, (uint8_t)((d8 ? 0x40 : 0x80) | (reg & 7) << 3 | RSP));
	byte(e, (uint8_t)((index & 7) << 3 | (base & 7)));
	if (d8)
		byte(e, (uint8_t)(int8_t)disp);
	else
		imm32(e, (uint32_t)disp);
}

static void rex_sib(struct vfm_jit_ctx *e, bool w, int reg, int index, int base)
{
	uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
			      ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0));
	if (r != 0x40)
		byte(e, r);
}

/* MOV r64, r64 — 89 /r (MOV). */
static void mov_rr(struct vfm_jit_ctx *e, int dst, int src)
{
	if (dst == src)
		return;
	rex(e, true, src, dst);
	byte(e, 0x89);
	modrm_rr(e, src, dst);
}

/* MOV r32, r32 — 89 /r without REX.W: zero-extends into the upper half,
 * so it is emitted even when dst == src. */
static void mov_rr32(struct vfm_jit_ctx *e, int dst, int src)
{
	rex(e, false, src, dst);
	byte(e, 0x89);
	modrm_rr(e, src, dst);
}

/* MOV r64, imm: B8+r imm32 (zero-extends) or REX.W B8+r imm64 (MOV). */
static void mov_ri(struct vfm_jit_ctx *e, int dst, uint64_t v)
{
	if (v <= UINT32_MAX) {
		rex(e, false, 0, dst);
		byte(e, (uint8_t)(0xB8 + (dst & 7)));
		imm32(e, (uint32_t)v);
	} else {
		rex(e, true, 0, dst);
		byte(e, (uint8_t)(0xB8 + (dst & 7)));
		imm64(e, v);
	}
}

/* MOV r64, [base + disp32] — REX.W 8B /r (MOV). */
static void load_rm(struct vfm_jit_ctx *e, int dst, int base, int32_t disp)
{
	rex(e, true, dst, base);
	byte(e, 0x8B);
	modrm_mem(e, dst, base, disp);
}

/* MOV [base + disp32], r64 — REX.W 89 /r (MOV). */
static void store_mr(struct vfm_jit_ctx *e, int base, int32_t disp, int src)
{
	rex(e, true, src, base);
	byte(e, 0x89);
	modrm_mem(e, src, base, disp);
}

/* LEA r64, [base + disp] — REX.W 8D /r (LEA): base + disp without
 * touching the flags. */
static void lea_rm(struct vfm_jit_ctx *e, int dst, int base, int32_t disp)
{
	rex(e, true, dst, base);
	byte(e, 0x8D);
	modrm_mem(e, dst, base, disp);
}

/* ALU r64, r64 — ADD 01, OR 09, AND 21, SUB 29, XOR 31, CMP 39 (/r). */
enum alu { ALU_ADD = 0x01, ALU_OR = 0x09, ALU_AND = 0x21, ALU_SUB = 0x29,
	   ALU_XOR = 0x31, ALU_CMP = 0x39 };
static void alu_rr(struct vfm_jit_ctx *e, enum alu op, int dst, int src)
{
	rex(e, true, src, dst);
	byte(e, (uint8_t)op);
	modrm_rr(e, src, dst);
}

/* ALU r64, imm (sign-extended) — REX.W 83 /digit ib where the value fits
 * 8 bits, else REX.W 81 /digit id (ADD /0, OR /1, AND /4, SUB /5, XOR /6,
 * CMP /7). */
static void alu_ri_w(struct vfm_jit_ctx *e, bool w, enum alu op, int dst, int32_t v)
{
	static const uint8_t digit[0x40] = {[ALU_ADD] = 0, [ALU_OR] = 1, [ALU_AND] = 4,
					    [ALU_SUB] = 5, [ALU_XOR] = 6, [ALU_CMP] = 7};
	rex(e, w, 0, dst);
	byte(e, fits8(v) ? 0x83 : 0x81);
	modrm_rr(e, digit[op], dst);
	if (fits8(v))
		byte(e, (uint8_t)(int8_t)v);
	else
		imm32(e, (uint32_t)v);
}

static void alu_ri(struct vfm_jit_ctx *e, enum alu op, int dst, int32_t v)
{
	alu_ri_w(e, true, op, dst, v);
}

/* IMUL r64, r/m64 — REX.W 0F AF /r (IMUL; low 64 bits equal MUL's). */
static void imul_rr(struct vfm_jit_ctx *e, int dst, int src)
{
	rex(e, true, dst, src);
	byte(e, 0x0F);
	byte(e, 0xAF);
	modrm_rr(e, dst, src);
}

/* Unary group 3: NOT /2, NEG /3, MUL /4 (RDX:RAX = RAX * rm), DIV /6 —
 * REX.W F7 /digit. */
static void grp3(struct vfm_jit_ctx *e, int digit, int rm)
{
	rex(e, true, 0, rm);
	byte(e, 0xF7);
	modrm_rr(e, digit, rm);
}

/* SHL /4, SHR /5 by CL — REX.W D3 /digit (SAL/SAR/SHL/SHR; count masked
 * with 63 by the CPU, as VFM defines). */
static void shift_cl(struct vfm_jit_ctx *e, int digit, int rm)
{
	rex(e, true, 0, rm);
	byte(e, 0xD3);
	modrm_rr(e, digit, rm);
}

/* SHL /4, SHR /5 by imm8 — REX.W C1 /digit ib. */
static void shift_imm(struct vfm_jit_ctx *e, int digit, int rm, uint8_t count)
{
	rex(e, true, 0, rm);
	byte(e, 0xC1);
	modrm_rr(e, digit, rm);
	byte(e, count);
}

/* A constant of the program into dst, the only way program constants
 * reach the code (jit/common.h, vfm_jit_blind); touches only dst.  Not
 * blinded: mov_ri.  Blinded, below 2^32: MOV r32, v ^ key; XOR r32, key
 * (32-bit operations zero-extend).  Blinded, 64 bits, with no second
 * register: the high word through MOV r32 + XOR r32, shifted up, then the
 * low word by two sign-extended XOR r64, imm32 (value ^ key, then key);
 * their sign extensions cancel except for the low word's own bit 31, which
 * the high word is complemented for in advance. */
static void mov_const(struct vfm_jit_ctx *e, int dst, uint64_t v)
{
	struct vfm_jit_const c = vfm_jit_blind(e, v);
	if (!c.key) {
		mov_ri(e, dst, v);
		return;
	}
	if (v <= UINT32_MAX) {
		mov_ri(e, dst, c.coded);
		alu_ri_w(e, false, ALU_XOR, dst, (int32_t)(uint32_t)c.key);
		return;
	}
	uint32_t lo = (uint32_t)v, klo = (uint32_t)c.key, khi = (uint32_t)(c.key >> 32);
	uint32_t hi = (uint32_t)(v >> 32) ^ (lo & 0x80000000u ? UINT32_MAX : 0);
	mov_ri(e, dst, hi ^ khi);
	alu_ri_w(e, false, ALU_XOR, dst, (int32_t)khi);
	shift_imm(e, 4, dst, 32);
	alu_ri(e, ALU_XOR, dst, (int32_t)(lo ^ klo));
	alu_ri(e, ALU_XOR, dst, (int32_t)klo);
}

/* A program constant that fits a sign-extended imm32 or disp32 field and
 * may be embedded (not under blinding). */
static bool embed32(const struct vfm_jit_ctx *e, uint64_t v)
{
	return vfm_jit_may_embed(e) && v <= INT32_MAX;
}

/* CMP len, end (end <= UINT32_MAX, a program-derived constant): the
 * immediate form, or through TMP0. */
static void cmp_len(struct vfm_jit_ctx *e, uint64_t end)
{
	if (embed32(e, end)) {
		alu_ri(e, ALU_CMP, REG_LEN, (int32_t)end);
	} else {
		mov_const(e, TMP0, end);
		alu_rr(e, ALU_CMP, REG_LEN, TMP0);
	}
}

/* TEST r64, r64 — REX.W 85 /r (TEST). */
static void test_rr(struct vfm_jit_ctx *e, int a, int b)
{
	rex(e, true, b, a);
	byte(e, 0x85);
	modrm_rr(e, b, a);
}

enum cc { CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7 };

/* CMOVcc r64, r64 — REX.W 0F 40+cc /r (Vol. 2A, CMOVcc). */
static void cmov_rr(struct vfm_jit_ctx *e, enum cc cc, int dst, int src)
{
	rex(e, true, dst, src);
	byte(e, 0x0F);
	byte(e, (uint8_t)(0x40 + cc));
	modrm_rr(e, dst, src);
}

/* Big-endian packet load into dst from [REG_DATA + index + disp]
 * (index < 0: no index): MOVZX r32, m8 (0F B6), MOVZX r32, m16 (0F B7)
 * then ROL r16, 8 (66 C1 /0 8), MOV r32, m32 (8B) + BSWAP r32 (0F C8+r),
 * MOV r64, m64 (REX.W 8B) + BSWAP r64. */
static void load_be(struct vfm_jit_ctx *e, int dst, int index, int32_t disp, unsigned size)
{
	bool w = size == 8;
	if (index >= 0)
		rex_sib(e, w, dst, index, REG_DATA);
	else
		rex(e, w, dst, REG_DATA);
	switch (size) {
	case 1:
		byte(e, 0x0F);
		byte(e, 0xB6);
		break;
	case 2:
		byte(e, 0x0F);
		byte(e, 0xB7);
		break;
	default:
		byte(e, 0x8B);
		break;
	}
	if (index >= 0)
		modrm_sib(e, dst, REG_DATA, index, disp);
	else
		modrm_mem(e, dst, REG_DATA, disp);
	if (size == 2) {
		/* ROL r16, 8: swap the two bytes; bits 16..63 stay zero. */
		byte(e, 0x66);
		rex(e, false, 0, dst);
		byte(e, 0xC1);
		modrm_rr(e, 0, dst);
		byte(e, 8);
	} else if (size >= 4) {
		rex(e, w, 0, dst);
		byte(e, 0x0F);
		byte(e, (uint8_t)(0xC8 + (dst & 7)));
	}
}

/* Jcc rel32 — 0F 80+cc cd; JMP rel32 — E9 cd.  Targets are code offsets
 * (jit/common.h: known from the previous pass when forward); the
 * displacement is range-checked. */
static void rel32_to(struct vfm_jit_ctx *e, size_t target)
{
	int64_t rel = vfm_jit_disp(e, e->pos + 4, target, 1, 32, "branch out of rel32 range");
	imm32(e, (uint32_t)(int32_t)rel);
}

static void jcc(struct vfm_jit_ctx *e, enum cc cc, size_t target)
{
	byte(e, 0x0F);
	byte(e, (uint8_t)(0x80 | cc));
	rel32_to(e, target);
}

static void jmp(struct vfm_jit_ctx *e, size_t target)
{
	byte(e, 0xE9);
	rel32_to(e, target);
}

/* CALL r64 — FF /2 (CALL). */
static void call_r(struct vfm_jit_ctx *e, int r)
{
	rex(e, false, 0, r);
	byte(e, 0xFF);
	modrm_rr(e, 2, r);
}

/* PUSH r64 — 50+r; POP r64 — 58+r; RET — C3. */
static void push_r(struct vfm_jit_ctx *e, int r)
{
	rex(e, false, 0, r);
	byte(e, (uint8_t)(0x50 + (r & 7)));
}

static void pop_r(struct vfm_jit_ctx *e, int r)
{
	rex(e, false, 0, r);
	byte(e, (uint8_t)(0x58 + (r & 7)));
}

/* ADD qword [base + disp], imm — REX.W 83 /0 ib or REX.W 81 /0 id (ADD). */
static void add_mi(struct vfm_jit_ctx *e, int base, int32_t disp, int32_t v)
{
	rex(e, true, 0, base);
	byte(e, fits8(v) ? 0x83 : 0x81);
	modrm_mem(e, 0, base, disp);
	if (fits8(v))
		byte(e, (uint8_t)(int8_t)v);
	else
		imm32(e, (uint32_t)v);
}

/* ---- stack slots -------------------------------------------------------------- */

static bool slot_in_reg(struct vfm_jit_ctx *e, int k)
{
	return (unsigned)k < arch(e)->n_slot_regs;
}

static int32_t slot_disp(struct vfm_jit_ctx *e, int k)
{
	return 8 * (k - (int)arch(e)->n_slot_regs);
}

/* A register holding slot k: its home, or `tmp` loaded from the frame. */
static int get_slot(struct vfm_jit_ctx *e, int k, int tmp)
{
	if (slot_in_reg(e, k))
		return arch(e)->slot[k];
	load_rm(e, tmp, RSP, slot_disp(e, k));
	return tmp;
}

/* The register to compute slot k's new value in: its home, or `tmp`
 * (then put_slot stores it). */
static int slot_target(struct vfm_jit_ctx *e, int k, int tmp)
{
	return slot_in_reg(e, k) ? (int)arch(e)->slot[k] : tmp;
}

static void put_slot(struct vfm_jit_ctx *e, int k, int src)
{
	if (slot_in_reg(e, k))
		mov_rr(e, arch(e)->slot[k], src);
	else
		store_mr(e, RSP, slot_disp(e, k), src);
}

static void copy_slot(struct vfm_jit_ctx *e, int dst, int src)
{
	put_slot(e, dst, get_slot(e, src, TMP0));
}

/* ---- helper calls ------------------------------------------------------------- */

/* Is caller-saved register r a role the program has, or the home of a
 * slot below `depth`? */
static bool live_across_call(struct vfm_jit_ctx *e, enum reg r, int depth)
{
	const struct vfm_jit_plan *p = &e->plan;
	const struct x86 *x = arch(e);
	if ((p->packet && r == x->data) || (p->len && r == x->len) ||
	    (p->args && r == x->args) || (p->budget && r == x->budget))
		return true;
	for (int k = 0; k < depth && k < (int)x->n_slot_regs; k++)
		if (x->slot[k] == r)
			return true;
	return false;
}

/* Save (or restore) the caller-saved registers in use around a helper
 * call: the roles, and the homes of the slots below `depth` (those the
 * call leaves on the stack). */
static void save_live(struct vfm_jit_ctx *e, int depth, bool restore)
{
	for (int i = 0; i < N_CALLER_SAVED; i++) {
		if (!live_across_call(e, caller_saved[i], depth))
			continue;
		if (restore)
			load_rm(e, caller_saved[i], RSP, arch(e)->save_off + 8 * i);
		else
			store_mr(e, RSP, arch(e)->save_off + 8 * i, caller_saved[i]);
	}
}

static void call_helper(struct vfm_jit_ctx *e, const void *fn)
{
	mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
	call_r(e, RAX);
}

/* ---- control ------------------------------------------------------------------ */

/* Condition code under which "a REL b" holds after CMP a, b (SET and
 * CLEAR: after TEST a, b). */
static enum cc cc_of(enum vfm_rel rel)
{
	switch (rel) {
	case VFM_REL_EQ: return CC_E;
	case VFM_REL_NE: return CC_NE;
	case VFM_REL_LT: return CC_B;
	case VFM_REL_LE: return CC_BE;
	case VFM_REL_GT: return CC_A;
	case VFM_REL_GE: return CC_AE;
	case VFM_REL_SET: return CC_NE;
	case VFM_REL_CLEAR: return CC_E;
	}
	return CC_E;
}

/* Does the relation compare by TEST (bits) rather than CMP (order)? */
static bool rel_is_test(enum vfm_rel rel)
{
	return rel == VFM_REL_SET || rel == VFM_REL_CLEAR;
}

static void emit_return(struct vfm_jit_ctx *e);

/* Jump i to its target when cc holds (always, if !conditional); backward
 * jumps spend budget first and exit with BUDGET when none is left.  A
 * jump between two constant returns returns their select instead
 * (vfm_jit_select_ret). */
static void branch(struct vfm_jit_ctx *e, uint32_t i, bool conditional, enum cc cc)
{
	uint32_t taken, fall;
	if (conditional && vfm_jit_select_ret(e, i, &taken, &fall)) {
		/* Both ways return a constant: MOV (flags intact), CMOVcc. */
		mov_ri(e, RAX, fall);
		mov_ri(e, RCX, taken);
		cmov_rr(e, cc, RAX, RCX);
		emit_return(e);
		return;
	}
	size_t dest = vfm_jit_insn_pos(e, e->prog->insns[i].arg);
	if (!vfm_jit_backward(e, i)) {
		if (conditional)
			jcc(e, cc, dest);
		else
			jmp(e, dest);
		return;
	}
	/* Not taken: skip the budget code (the inverse condition is cc ^ 1). */
	uint32_t skip = vfm_jit_label_new(e);
	if (conditional)
		jcc(e, (enum cc)(cc ^ 1), vfm_jit_label_pos(e, skip));
	test_rr(e, REG_BUDGET, REG_BUDGET);
	jcc(e, CC_E, vfm_jit_label_pos(e, vfm_jit_exit_label(e, i, VFM_STATUS_BUDGET)));
	alu_ri(e, ALU_SUB, REG_BUDGET, 1);
	jmp(e, dest);
	vfm_jit_label_bind(e, skip);
}

/* Compare a_reg with b (a register or an immediate) for relation rel. */
static void compare(struct vfm_jit_ctx *e, enum vfm_rel rel, int a_reg, int b_reg,
		    struct vfm_jit_operand b)
{
	bool test = rel_is_test(rel);
	if (b.is_imm && embed32(e, b.imm)) {
		if (test) {
			/* TEST r/m64, imm32 — REX.W F7 /0 id. */
			rex(e, true, 0, a_reg);
			byte(e, 0xF7);
			modrm_rr(e, 0, a_reg);
			imm32(e, (uint32_t)b.imm);
		} else {
			alu_ri(e, ALU_CMP, a_reg, (int32_t)b.imm);
		}
		return;
	}
	if (b.is_imm) {
		mov_const(e, TMP1, b.imm);
		b_reg = TMP1;
	}
	if (test)
		test_rr(e, a_reg, b_reg);
	else
		alu_rr(e, ALU_CMP, a_reg, b_reg);
}

/* ---- emitters, one per class ------------------------------------------------------ */

static void x86_stack(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	int d = vfm_jit_depth(e, i), top = d - 1;
	switch ((enum vfm_stack_op)insn->opcode) {
	case VFM_STACK_PUSH:
		if (slot_in_reg(e, d)) {
			mov_const(e, arch(e)->slot[d], insn->imm);
		} else {
			mov_const(e, TMP0, insn->imm);
			put_slot(e, d, TMP0);
		}
		break;
	case VFM_STACK_POP:
		break;
	case VFM_STACK_DUP:
		copy_slot(e, d, top);
		break;
	case VFM_STACK_SWAP: {
		int a = get_slot(e, top - 1, TMP0);
		int b = get_slot(e, top, TMP1);
		mov_rr(e, TMP2, a);
		put_slot(e, top - 1, b);
		put_slot(e, top, TMP2);
		break;
	}
	case VFM_STACK_OVER:
		copy_slot(e, d, top - 1);
		break;
	case VFM_STACK_LDM:
		load_rm(e, TMP0, RSP, arch(e)->scratch_off + 8 * insn->aux);
		put_slot(e, d, TMP0);
		break;
	case VFM_STACK_STM:
		store_mr(e, RSP, arch(e)->scratch_off + 8 * insn->aux, get_slot(e, top, TMP0));
		break;
	}
}

/* Absolute load: in bounds iff k + size <= len (k + size cannot wrap:
 * k < 2^32). */
static void x86_load(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	unsigned size = vfm_opinfo[insn->opcode].size;
	int d = vfm_jit_depth(e, i);
	uint64_t end = (uint64_t)insn->arg + size;
	if (!vfm_jit_load_proven(e, i)) {
		size_t out = vfm_jit_label_pos(e, vfm_jit_exit_label(e, i, VFM_STATUS_BOUNDS));
		if (end > UINT32_MAX) {
			jmp(e, out); /* beyond any packet */
			return;
		}
		cmp_len(e, end);
		jcc(e, CC_B, out);
	}
	int dst = slot_target(e, d, TMP1);
	if (embed32(e, insn->arg)) {
		load_be(e, dst, -1, (int32_t)insn->arg, size);
	} else {
		/* k does not fit a signed disp32 (or is blinded): index by it. */
		mov_const(e, TMP0, insn->arg);
		load_be(e, dst, TMP0, 0, size);
	}
	if (dst == TMP1)
		put_slot(e, d, TMP1);
}

/* Bounds check of indexed load i (unless proven), then where its bytes
 * are: [REG_DATA + *index + *disp].  off = index + k without wrap; in
 * bounds iff off + size <= len.  The verifier's interval of the index
 * decides the form: if index + k + size cannot wrap (hi <= 2^64 - 1 -
 * (k + size)), no carry test is needed, and if k + size also fits a
 * displacement one LEA computes the end (the brief's overflow-safe check
 * in two instructions plus the branch); otherwise the sum is formed and
 * its carry taken as out of bounds. */
static void loadx_address(struct vfm_jit_ctx *e, uint32_t i, int *index, int32_t *disp)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	unsigned size = vfm_opinfo[insn->opcode].size;
	int top = vfm_jit_depth(e, i) - 1;
	int idx = get_slot(e, top, TMP0);
	uint64_t k = insn->arg, end_k = k + size;
	bool nowrap = vfm_jit_index_no_wrap(e, i);
	if (!vfm_jit_load_proven(e, i)) {
		size_t out = vfm_jit_label_pos(e, vfm_jit_exit_label(e, i, VFM_STATUS_BOUNDS));
		if (nowrap && embed32(e, end_k)) {
			lea_rm(e, TMP1, idx, (int32_t)end_k);
		} else {
			mov_const(e, TMP1, end_k);
			alu_rr(e, ALU_ADD, TMP1, idx);
			if (!nowrap)
				jcc(e, CC_B, out); /* carry: the sum wrapped */
		}
		alu_rr(e, ALU_CMP, REG_LEN, TMP1);
		jcc(e, CC_B, out);
	}
	if (k == 0 || embed32(e, k)) {
		/* In bounds, index + k < 2^32: the address is exact. */
		*index = idx;
		*disp = (int32_t)k;
		return;
	}
	/* k does not fit a signed disp32 (or is blinded): add it to the
	 * index first. */
	mov_rr(e, TMP0, idx);
	mov_const(e, TMP1, k);
	alu_rr(e, ALU_ADD, TMP0, TMP1);
	*index = TMP0;
	*disp = 0;
}

static void x86_loadx(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	unsigned size = vfm_opinfo[insn->opcode].size;
	int top = vfm_jit_depth(e, i) - 1;
	int index;
	int32_t disp;
	loadx_address(e, i, &index, &disp);
	int dst = slot_target(e, top, TMP1);
	load_be(e, dst, index, disp, size);
	if (dst == TMP1)
		put_slot(e, top, TMP1);
}

/* A memory compare (the driver checked can_load_jcc): check the load as
 * LDn/LDnX would, at its full width, then compare (or test) the field's
 * bytes in place with the constant byte-swapped at compile time, so
 * nothing is loaded into a register or swapped (or masked) at run time:
 * CMP r/m8, imm8 (80 /7 ib), CMP r/m16|32, imm8 sign-extended
 * (66? 83 /7 ib) or imm16/32 (66? 81 /7), TEST r/m8, imm8 (F6 /0 ib),
 * TEST r/m16|32, imm (66? F7 /0). */
static void x86_load_jcc(struct vfm_jit_ctx *e, const struct vfm_jit_mem_cmp *m)
{
	uint32_t i = m->load, j = m->jcc;
	const struct vfm_insn *insn = &e->prog->insns[i];
	unsigned size = m->size;
	uint64_t c = m->c;
	enum vfm_rel rel = vfm_jcc_rel(e->prog->insns[j].opcode, true);
	int index = -1;
	int32_t disp = (int32_t)insn->arg;
	if (vfm_opinfo[insn->opcode].cls == VFM_CLASS_LOADX) {
		loadx_address(e, i, &index, &disp);
	} else if (!vfm_jit_load_proven(e, i)) {
		size_t out = vfm_jit_label_pos(e, vfm_jit_exit_label(e, i, VFM_STATUS_BOUNDS));
		cmp_len(e, insn->arg + vfm_opinfo[insn->opcode].size);
		jcc(e, CC_B, out);
	}
	disp += (int32_t)m->delta; /* k + size <= INT32_MAX: no overflow */
	/* The constant as the bytes appear in the packet. */
	uint32_t raw = (uint32_t)c;
	if (size == 2)
		raw = (uint32_t)__builtin_bswap16((uint16_t)c);
	else if (size == 4)
		raw = __builtin_bswap32((uint32_t)c);
	bool test = rel_is_test(rel);
	int64_t sraw = size == 1 ? (int8_t)raw : size == 2 ? (int16_t)raw : (int32_t)raw;
	bool short_imm = !test && size > 1 && fits8(sraw);
	if (size == 2)
		byte(e, 0x66); /* operand-size prefix, before REX */
	if (index >= 0)
		rex_sib(e, false, 0, index, REG_DATA);
	else
		rex(e, false, 0, REG_DATA);
	uint8_t opc = size == 1 ? (test ? 0xF6 : 0x80) : test ? 0xF7 : short_imm ? 0x83 : 0x81;
	byte(e, opc);
	int digit = test ? 0 : 7;
	if (index >= 0)
		modrm_sib(e, digit, REG_DATA, index, disp);
	else
		modrm_mem(e, digit, REG_DATA, disp);
	if (size == 1 || short_imm)
		byte(e, (uint8_t)raw);
	else if (size == 2) {
		byte(e, (uint8_t)raw);
		byte(e, (uint8_t)(raw >> 8));
	} else
		imm32(e, raw);
	branch(e, j, true, cc_of(rel));
}

/* Guard of a hoisted region: to the checked copy if len < need. */
static void x86_guard(struct vfm_jit_ctx *e, uint32_t need, uint32_t label)
{
	cmp_len(e, need);
	jcc(e, CC_B, vfm_jit_label_pos(e, label));
}

static void x86_jump(struct vfm_jit_ctx *e, size_t target)
{
	jmp(e, target);
}

/* DIV and MOD: x/0 = 0 and x%0 = x, so test the divisor first.  a_reg is
 * not RAX, RCX or RDX unless it is TMP0 (RAX). */
static void divmod(struct vfm_jit_ctx *e, bool mod, int a_reg, int b_reg)
{
	uint32_t zero = vfm_jit_label_new(e), done = vfm_jit_label_new(e);
	mov_rr(e, TMP1, b_reg);
	test_rr(e, TMP1, TMP1);
	jcc(e, CC_E, vfm_jit_label_pos(e, zero));
	mov_rr(e, RAX, a_reg);
	alu_rr(e, ALU_XOR, RDX, RDX);
	grp3(e, 6, TMP1); /* DIV rcx: rdx:rax / rcx */
	mov_rr(e, a_reg, mod ? RDX : RAX);
	jmp(e, vfm_jit_label_pos(e, done));
	vfm_jit_label_bind(e, zero);
	if (!mod)
		alu_rr(e, ALU_XOR, a_reg, a_reg);
	vfm_jit_label_bind(e, done);
}

/* DIV and MOD by a constant k without a divide (vfm_jit_udiv_plan): a
 * shift or mask for a power of two, else a multiply-high (of x >>
 * pre_shift where the plan says), the quotient q in RDX (MULHI) or RAX
 * (MULADD), and x % k = x - q * k.  MUL takes RAX and clobbers RDX:RAX,
 * so the dividend is read from a_reg, or from RCX where a_reg is TMP0 (a
 * slot in the frame).  Same register contract as divmod. */
static void divmod_k(struct vfm_jit_ctx *e, bool mod, int a_reg, uint64_t k)
{
	struct vfm_jit_udiv plan = vfm_jit_udiv_plan(k);
	switch (plan.kind) {
	case VFM_JIT_UDIV_ZERO:
		if (!mod)
			alu_rr(e, ALU_XOR, a_reg, a_reg); /* x / 0 = 0; x % 0 = x */
		return;
	case VFM_JIT_UDIV_SHIFT:
		if (!mod) {
			if (plan.shift)
				shift_imm(e, 5, a_reg, (uint8_t)plan.shift);
		} else if (embed32(e, k - 1)) {
			alu_ri(e, ALU_AND, a_reg, (int32_t)(k - 1)); /* k = 1: and 0 */
		} else {
			mov_const(e, TMP1, k - 1);
			alu_rr(e, ALU_AND, a_reg, TMP1);
		}
		return;
	case VFM_JIT_UDIV_MULHI:
	case VFM_JIT_UDIV_MULADD:
		break;
	}
	int x = a_reg;
	if (a_reg == RAX) {
		x = TMP1;
		mov_rr(e, x, RAX);
	}
	if (plan.pre_shift) {
		mov_rr(e, RAX, x);
		shift_imm(e, 5, RAX, (uint8_t)plan.pre_shift);
		mov_const(e, RDX, plan.magic);
		grp3(e, 4, RDX); /* MUL rdx: RDX = mulhi(x >> pre_shift, magic) */
	} else {
		mov_const(e, RAX, plan.magic);
		grp3(e, 4, x); /* MUL x: RDX = mulhi(x, magic) */
	}
	int q = RDX;
	if (plan.kind == VFM_JIT_UDIV_MULADD) {
		mov_rr(e, RAX, x);
		alu_rr(e, ALU_SUB, RAX, RDX);
		shift_imm(e, 5, RAX, 1);
		alu_rr(e, ALU_ADD, RAX, RDX);
		q = RAX;
	}
	if (plan.shift)
		shift_imm(e, 5, q, (uint8_t)plan.shift);
	if (!mod) {
		mov_rr(e, a_reg, q);
		return;
	}
	int kreg = q == RAX ? RDX : RAX; /* the other one is free now */
	mov_const(e, kreg, k);
	imul_rr(e, q, kreg);
	alu_rr(e, ALU_SUB, x, q);
	if (x != a_reg)
		mov_rr(e, a_reg, x);
}

/* Binary ALU: a (slot top-1) in its home or RAX, b (the top slot, in its
 * home or RCX) or an immediate. */
static void x86_alu2(struct vfm_jit_ctx *e, uint32_t i, struct vfm_jit_operand bo)
{
	uint8_t op = e->prog->insns[i].opcode;
	int d = vfm_jit_depth(e, i);
	int a_slot = d - 2; /* a fused k still counts in the depth */
	int a = get_slot(e, a_slot, TMP0);
	int b = -1;
	bool imm32ok = bo.is_imm && embed32(e, bo.imm);
	if (!bo.is_imm) {
		b = get_slot(e, d - 1, TMP1);
	} else if (!imm32ok && op != VFM_ALU2_SHL && op != VFM_ALU2_SHR && op != VFM_ALU2_DIV &&
		   op != VFM_ALU2_MOD) {
		mov_const(e, TMP1, bo.imm);
		b = TMP1;
	}
	enum alu alu = ALU_ADD;
	switch ((enum vfm_alu2_op)op) {
	case VFM_ALU2_ADD: alu = ALU_ADD; goto simple;
	case VFM_ALU2_SUB: alu = ALU_SUB; goto simple;
	case VFM_ALU2_AND: alu = ALU_AND; goto simple;
	case VFM_ALU2_OR: alu = ALU_OR; goto simple;
	case VFM_ALU2_XOR: alu = ALU_XOR; goto simple;
	simple:
		if (imm32ok)
			alu_ri(e, alu, a, (int32_t)bo.imm);
		else
			alu_rr(e, alu, a, b);
		break;
	case VFM_ALU2_MUL:
		if (imm32ok) {
			mov_const(e, TMP1, bo.imm);
			b = TMP1;
		}
		imul_rr(e, a, b);
		break;
	case VFM_ALU2_SHL:
	case VFM_ALU2_SHR: {
		int digit = op == VFM_ALU2_SHL ? 4 : 5;
		if (bo.is_imm) {
			shift_imm(e, digit, a, (uint8_t)(bo.imm & 63));
		} else {
			mov_rr(e, TMP1, b); /* the count in CL, masked by the CPU */
			shift_cl(e, digit, a);
		}
		break;
	}
	case VFM_ALU2_DIV:
	case VFM_ALU2_MOD:
		if (bo.is_imm)
			divmod_k(e, op == VFM_ALU2_MOD, a, bo.imm);
		else
			divmod(e, op == VFM_ALU2_MOD, a, b);
		break;
	}
	if (a == TMP0)
		put_slot(e, a_slot, TMP0);
}

static void x86_alu1(struct vfm_jit_ctx *e, uint32_t i)
{
	int top = vfm_jit_depth(e, i) - 1;
	int r = get_slot(e, top, TMP0);
	switch ((enum vfm_alu1_op)e->prog->insns[i].opcode) {
	case VFM_ALU1_NOT: grp3(e, 2, r); break;
	case VFM_ALU1_NEG: grp3(e, 3, r); break;
	}
	if (r == TMP0)
		put_slot(e, top, TMP0);
}

static void x86_jmp(struct vfm_jit_ctx *e, uint32_t i)
{
	switch ((enum vfm_jmp_op)e->prog->insns[i].opcode) {
	case VFM_JMP_JMP:
		branch(e, i, false, CC_E);
		break;
	}
}

static void x86_jcc(struct vfm_jit_ctx *e, uint32_t i, struct vfm_jit_operand bo)
{
	uint8_t op = e->prog->insns[i].opcode;
	int d = vfm_jit_depth(e, i);
	enum vfm_rel rel = vfm_jcc_rel(op, true);
	int a = get_slot(e, d - 2, TMP0);
	int b = bo.is_imm ? -1 : get_slot(e, d - 1, TMP1);
	compare(e, rel, a, b, bo);
	branch(e, i, true, cc_of(rel));
}

/* Return the verdict (saturated to 32 bits) with status OK. */
static void x86_ret(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	switch ((enum vfm_ret_op)insn->opcode) {
	case VFM_RET_RET:
		mov_rr(e, RAX, get_slot(e, vfm_jit_depth(e, i) - 1, TMP0));
		mov_ri(e, RCX, 0xFFFFFFFFu);
		alu_rr(e, ALU_CMP, RAX, RCX);
		cmov_rr(e, CC_A, RAX, RCX);
		break;
	case VFM_RET_RETK:
		mov_const(e, RAX, insn->arg);
		break;
	}
	emit_return(e);
}

static void x86_special(struct vfm_jit_ctx *e, uint32_t i)
{
	int d = vfm_jit_depth(e, i), top = d - 1;
	switch ((enum vfm_special_op)e->prog->insns[i].opcode) {
	case VFM_SPECIAL_LEN:
		put_slot(e, d, REG_LEN);
		break;
	case VFM_SPECIAL_WLEN:
		/* vfm_sem_wire_len: the caller's wire length, or len if 0. */
		load_rm(e, TMP0, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, wire_len));
		test_rr(e, TMP0, TMP0);
		cmov_rr(e, CC_E, TMP0, REG_LEN);
		put_slot(e, d, TMP0);
		break;
	case VFM_SPECIAL_TS:
		load_rm(e, TMP0, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, ts_ns));
		put_slot(e, d, TMP0);
		break;
	case VFM_SPECIAL_HASH5:
		save_live(e, d, false);
		mov_rr(e, RDI, REG_DATA);
		mov_rr(e, RSI, REG_LEN);
		call_helper(e, (const void *)vfm_hash5);
		save_live(e, d, true);
		put_slot(e, d, RAX);
		break;
	case VFM_SPECIAL_FLOW_LOAD:
		/* No slot lives in RDI, RSI or RDX, and the roles there are
		 * saved: the key goes to RSI, then the flow pointer is read
		 * through REG_ARGS (RDI) into RDI. */
		save_live(e, top, false); /* the key is consumed */
		mov_rr(e, RSI, get_slot(e, top, RSI));
		load_rm(e, RDI, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, flow));
		call_helper(e, (const void *)vfm_flow_load);
		save_live(e, top, true);
		put_slot(e, top, RAX);
		break;
	case VFM_SPECIAL_FLOW_STORE:
		save_live(e, top - 1, false); /* key and value are consumed */
		/* key = slot top-1, value = slot top; the flow pointer first,
		 * while REG_ARGS (RDI) is intact. */
		load_rm(e, RDI, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, flow));
		mov_rr(e, RSI, get_slot(e, top - 1, RSI));
		mov_rr(e, RDX, get_slot(e, top, RDX));
		call_helper(e, (const void *)vfm_flow_store);
		save_live(e, top - 1, true);
		break;
	}
}

/* ---- prologue, exits, epilogue -------------------------------------------------- */

/* Callee-saved registers and frame for the plan. */
static bool is_callee_saved(enum reg r)
{
	return r == RBX || r == RBP || r == R12 || r == R13 || r == R14 || r == R15;
}

/* Does the program use RDX as a temporary (DIV, MOD, SWAP)?  Then the
 * length, which arrives there, lives in R11. */
static bool uses_rdx(const struct vfm_program *prog)
{
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		uint8_t op = prog->insns[i].opcode;
		if (op == VFM_OPC_DIV || op == VFM_OPC_MOD || op == VFM_OPC_SWAP)
			return true;
	}
	return false;
}

/* The register map and frame for the plan. */
static void x86_setup(struct vfm_jit_ctx *e)
{
	const struct vfm_jit_plan *p = &e->plan;
	struct x86 *x = arch(e);
	x->args = RDI;
	x->data = RSI;
	x->len = uses_rdx(e->prog) ? R11 : RDX;
	x->budget = R10;
	x->n_slot_regs = 0;
	for (size_t k = 0; k < sizeof slot_pool / sizeof slot_pool[0]; k++) {
		enum reg r = slot_pool[k];
		if ((r == R11 && p->len && x->len == R11) || (r == R10 && p->budget))
			continue;
		x->slot[x->n_slot_regs++] = r;
	}
	for (unsigned k = 0; k < x->n_slot_regs && k < p->max_depth; k++)
		if (is_callee_saved(x->slot[k]))
			x->saved[x->n_saved++] = x->slot[k];
	uint32_t size = p->max_depth > x->n_slot_regs ? 8u * (p->max_depth - x->n_slot_regs) : 0;
	x->scratch_off = (int32_t)size;
	if (p->scratch)
		size += 8 * VFM_SCRATCH_WORDS;
	x->save_off = (int32_t)size;
	if (p->calls) {
		size += 8 * N_CALLER_SAVED;
		/* At a call rsp must be 16-aligned: entry leaves it 8 mod 16,
		 * each push adds 8. */
		if ((8 + 8 * x->n_saved + size) % 16 != 0)
			size += 8;
	}
	x->frame = size;
}

static void x86_prologue(struct vfm_jit_ctx *e)
{
	const struct vfm_jit_plan *p = &e->plan;
	struct x86 *x = arch(e);
	for (unsigned r = 0; r < x->n_saved; r++)
		push_r(e, x->saved[r]);
	if (x->frame)
		alu_ri(e, ALU_SUB, RSP, (int32_t)x->frame);
	/* The arguments arrive in RDI (args), RSI (data) and EDX (len: a
	 * uint32_t, whose upper half System V leaves undefined, so the
	 * 32-bit move that zero-extends it is there even in place). */
	if (p->args && x->args != RDI)
		mov_rr(e, x->args, RDI);
	if (p->packet && x->data != RSI)
		mov_rr(e, x->data, RSI);
	if (p->len)
		mov_rr32(e, x->len, RDX);
	if (p->budget)
		load_rm(e, x->budget, RDI, (int32_t)offsetof(struct vfm_jit_args, budget));
	/* Zero only the scratch words an LDM may read before they are
	 * written (the driver's zero_mask); a word always stored first
	 * needs no clearing. */
	if (p->zero_mask) {
		alu_rr(e, ALU_XOR, RAX, RAX);
		for (int k = 0; k < VFM_SCRATCH_WORDS; k++)
			if (p->zero_mask & (1u << k))
				store_mr(e, RSP, x->scratch_off + 8 * k, RAX);
	}
}

/* Restore and return, in place: every RET and exit gets its own copy
 * (a few bytes) instead of a jump to a shared epilogue. */
static void emit_return(struct vfm_jit_ctx *e)
{
	struct x86 *x = arch(e);
	if (x->frame)
		alu_ri(e, ALU_ADD, RSP, (int32_t)x->frame);
	for (unsigned r = x->n_saved; r-- > 0;)
		pop_r(e, x->saved[r]);
	byte(e, 0xC3); /* RET */
}

static void x86_count(struct vfm_jit_ctx *e, uint32_t n)
{
	add_mi(e, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, insns), (int32_t)n);
}

/* Verdict 0 with the status in the high half. */
static void x86_exit(struct vfm_jit_ctx *e, vfm_status_t status, uint32_t uncount)
{
	if (uncount)
		add_mi(e, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, insns),
		       -(int32_t)uncount);
	mov_ri(e, RAX, (uint64_t)status << 32);
	emit_return(e);
}

/* The shared epilogue label's code: every return is emitted in place, so
 * nothing jumps here; it stays for targets that share one. */
static void x86_epilogue(struct vfm_jit_ctx *e)
{
	emit_return(e);
}

static const struct vfm_jit_target x86_64_target = {
	.name = "x86-64",
	.objdump_arch = "i386:x86-64",
	.fill = {0xCC}, /* INT3 */
	.fill_len = 1,
	.arch_size = sizeof(struct x86),
	.setup = x86_setup,
	.prologue = x86_prologue,
	.epilogue = x86_epilogue,
	.exit = x86_exit,
	.count = x86_count,
	.stack = x86_stack,
	.load = x86_load,
	.loadx = x86_loadx,
	.alu2 = x86_alu2,
	.alu1 = x86_alu1,
	.jmp = x86_jmp,
	.jcc = x86_jcc,
	.ret = x86_ret,
	.special = x86_special,
	.load_jcc = x86_load_jcc,
	.guard = x86_guard,
	.jump = x86_jump,
	.flush = NULL, /* x86 keeps instruction fetch coherent with stores */
	.validate = NULL,
};

const struct vfm_jit_target *vfm_jit_native_target(void)
{
	return &x86_64_target;
}
