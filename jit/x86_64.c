/*
 * jit/x86_64.c — the x86-64 JIT.
 *
 * Compiles a verified program to native code with exactly the
 * interpreter's semantics (docs/ISA.md).  The verifier's facts shape the
 * code:
 *   - the stack depth at every instruction is static, so stack slot k has a
 *     fixed home: a register for the first eight slots, a frame word
 *     beyond; no stack pointer exists at run time;
 *   - loads the verifier proved in bounds carry no check; the others one
 *     overflow-safe compare against the length register;
 *   - PUSH k followed by a conditional jump or a binary ALU op becomes one
 *     compare (or op) with an immediate;
 *   - the backward-jump budget is a register counter, present only in
 *     programs with backward jumps.
 * HASH5, FLOW_LOAD and FLOW_STORE call the interpreter's C helpers.
 *
 * Generated function (System V):
 *   uint64_t fn(const uint8_t *data, uint64_t len, struct vfm_jit_args *a)
 * returns verdict | status << 32.
 *
 * Emission runs twice through the same code: a sizing pass (buffer NULL)
 * records the offset of every instruction and exit, the second pass writes.
 * All branches use rel32, so sizes do not depend on targets; each fix-up is
 * range-checked anyway.  The code lives in its own pages, written while
 * RW and then made RX (never RWX); the rest of the last page is INT3.
 *
 * Encodings: Intel SDM Vol. 2 (instruction set reference), chapter and
 * instruction noted on each encoder.
 */
#if defined(__x86_64__)

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../vm/semantics.h"
#include "../vm/state.h"

/* ---- registers ------------------------------------------------------------ */

enum reg {
	RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
	R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
};

/* Fixed roles. */
#define REG_DATA R12   /* packet pointer */
#define REG_LEN R13    /* packet length, zero-extended */
#define REG_ARGS R14   /* struct vfm_jit_args * */
#define REG_BUDGET R15 /* backward jumps left */
#define TMP0 RAX
#define TMP1 RCX       /* also the shift count (CL) */
#define TMP2 RDX       /* clobbered by DIV */

/* Homes of stack slots 0..7; deeper slots live in the frame. */
static const enum reg slot_regs[] = {RBX, RBP, RSI, RDI, R8, R9, R10, R11};
#define N_SLOT_REGS 8
/* Caller-saved slot registers: saved around helper calls. */
static const enum reg caller_saved_slots[] = {RSI, RDI, R8, R9, R10, R11};
#define N_CALLER_SAVED 6

/* Frame (from rsp upwards): spilled slots, scratch words, call save area,
 * each present only if the program needs it (struct layout). */
#define FRAME_SPILL 0

/* ---- emission context -------------------------------------------------------- */

/* What the program needs: callee-saved registers to preserve, and the
 * frame.  Small filters get no frame and few pushes. */
struct layout {
	enum reg saved[6];
	unsigned n_saved;
	int32_t scratch_off, save_off; /* frame offsets */
	uint32_t frame;                /* bytes below the pushes */
	bool packet, len, args, budget;
};

struct emit {
	const struct layout *lay;
	uint8_t *buf;     /* NULL in the sizing pass */
	size_t pos;
	uint32_t *insn_off; /* code offset of every instruction (pass 1) */
	size_t exit_bounds, exit_budget;
	const uint8_t *emit_next; /* emit_next[i]: instruction i has its own code */
	bool failed;      /* a fix-up out of range: give up */
};

static void byte(struct emit *e, uint8_t b)
{
	if (e->buf)
		e->buf[e->pos] = b;
	e->pos++;
}

static void imm32(struct emit *e, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		byte(e, (uint8_t)(v >> (8 * i)));
}

static void imm64(struct emit *e, uint64_t v)
{
	imm32(e, (uint32_t)v);
	imm32(e, (uint32_t)(v >> 32));
}

/* REX prefix: W = 64-bit operand, R = reg field ext, B = rm/base ext (2.2.1). */
static void rex(struct emit *e, bool w, int reg, int rm)
{
	uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0));
	if (r != 0x40)
		byte(e, r);
}

/* ModRM with register direct addressing (mod = 11) (2.1.5). */
static void modrm_rr(struct emit *e, int reg, int rm)
{
	byte(e, (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

/* ModRM + SIB/disp32 for [base + disp32] (mod = 10); RSP/R12 need a SIB. */
static void modrm_mem(struct emit *e, int reg, int base, int32_t disp)
{
	byte(e, (uint8_t)(0x80 | (reg & 7) << 3 | (base & 7)));
	if ((base & 7) == RSP)
		byte(e, 0x24); /* SIB: no index, base */
	imm32(e, (uint32_t)disp);
}

/* ModRM + SIB for [base + index + disp32] (mod = 10, scale 1). */
static void modrm_sib(struct emit *e, int reg, int base, int index, int32_t disp)
{
	byte(e, (uint8_t)(0x80 | (reg & 7) << 3 | RSP));
	byte(e, (uint8_t)((index & 7) << 3 | (base & 7)));
	imm32(e, (uint32_t)disp);
}

static void rex_sib(struct emit *e, bool w, int reg, int index, int base)
{
	uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
			      ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0));
	if (r != 0x40)
		byte(e, r);
}

/* MOV r64, r64 — 89 /r (MOV). */
static void mov_rr(struct emit *e, int dst, int src)
{
	if (dst == src)
		return;
	rex(e, true, src, dst);
	byte(e, 0x89);
	modrm_rr(e, src, dst);
}

/* MOV r64, imm: B8+r imm32 (zero-extends) or REX.W B8+r imm64 (MOV). */
static void mov_ri(struct emit *e, int dst, uint64_t v)
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
static void load_rm(struct emit *e, int dst, int base, int32_t disp)
{
	rex(e, true, dst, base);
	byte(e, 0x8B);
	modrm_mem(e, dst, base, disp);
}

/* MOV [base + disp32], r64 — REX.W 89 /r (MOV). */
static void store_mr(struct emit *e, int base, int32_t disp, int src)
{
	rex(e, true, src, base);
	byte(e, 0x89);
	modrm_mem(e, src, base, disp);
}

/* ALU r64, r64 — ADD 01, OR 09, AND 21, SUB 29, XOR 31, CMP 39 (/r). */
enum alu { ALU_ADD = 0x01, ALU_OR = 0x09, ALU_AND = 0x21, ALU_SUB = 0x29,
	   ALU_XOR = 0x31, ALU_CMP = 0x39 };
static void alu_rr(struct emit *e, enum alu op, int dst, int src)
{
	rex(e, true, src, dst);
	byte(e, (uint8_t)op);
	modrm_rr(e, src, dst);
}

/* ALU r64, imm32 (sign-extended) — REX.W 81 /digit id (ADD /0, OR /1,
 * AND /4, SUB /5, XOR /6, CMP /7). */
static void alu_ri(struct emit *e, enum alu op, int dst, int32_t v)
{
	static const uint8_t digit[0x40] = {[ALU_ADD] = 0, [ALU_OR] = 1, [ALU_AND] = 4,
					    [ALU_SUB] = 5, [ALU_XOR] = 6, [ALU_CMP] = 7};
	rex(e, true, 0, dst);
	byte(e, 0x81);
	modrm_rr(e, digit[op], dst);
	imm32(e, (uint32_t)v);
}

/* IMUL r64, r/m64 — REX.W 0F AF /r (IMUL; low 64 bits equal MUL's). */
static void imul_rr(struct emit *e, int dst, int src)
{
	rex(e, true, dst, src);
	byte(e, 0x0F);
	byte(e, 0xAF);
	modrm_rr(e, dst, src);
}

/* Unary group 3: NOT /2, NEG /3, DIV /6 — REX.W F7 /digit. */
static void grp3(struct emit *e, int digit, int rm)
{
	rex(e, true, 0, rm);
	byte(e, 0xF7);
	modrm_rr(e, digit, rm);
}

/* SHL /4, SHR /5 by CL — REX.W D3 /digit (SAL/SAR/SHL/SHR; count masked
 * with 63 by the CPU, as VFM defines). */
static void shift_cl(struct emit *e, int digit, int rm)
{
	rex(e, true, 0, rm);
	byte(e, 0xD3);
	modrm_rr(e, digit, rm);
}

/* SHL /4, SHR /5 by imm8 — REX.W C1 /digit ib. */
static void shift_imm(struct emit *e, int digit, int rm, uint8_t count)
{
	rex(e, true, 0, rm);
	byte(e, 0xC1);
	modrm_rr(e, digit, rm);
	byte(e, count);
}

/* TEST r64, r64 — REX.W 85 /r (TEST). */
static void test_rr(struct emit *e, int a, int b)
{
	rex(e, true, b, a);
	byte(e, 0x85);
	modrm_rr(e, b, a);
}

/* CMOVA r64, r64 — REX.W 0F 47 /r (CMOVcc). */
static void cmova_rr(struct emit *e, int dst, int src)
{
	rex(e, true, dst, src);
	byte(e, 0x0F);
	byte(e, 0x47);
	modrm_rr(e, dst, src);
}

/* Big-endian packet load into dst from [REG_DATA + index + disp]
 * (index < 0: no index): MOVZX r32, m8 (0F B6), MOVZX r32, m16 (0F B7)
 * then ROL r16, 8 (66 C1 /0 8), MOV r32, m32 (8B) + BSWAP r32 (0F C8+r),
 * MOV r64, m64 (REX.W 8B) + BSWAP r64. */
static void load_be(struct emit *e, int dst, int index, int32_t disp, unsigned size)
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

/* Jcc rel32 — 0F 80+cc cd; JMP rel32 — E9 cd.  Targets are code offsets;
 * the displacement is checked to fit (it always does: code < 2 GiB). */
enum cc { CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7 };

static void rel32_to(struct emit *e, size_t target)
{
	int64_t rel = (int64_t)target - (int64_t)(e->pos + 4);
	if (rel < INT32_MIN || rel > INT32_MAX)
		e->failed = true;
	imm32(e, (uint32_t)(int32_t)rel);
}

static void jcc(struct emit *e, enum cc cc, size_t target)
{
	byte(e, 0x0F);
	byte(e, (uint8_t)(0x80 | cc));
	rel32_to(e, target);
}

static void jmp(struct emit *e, size_t target)
{
	byte(e, 0xE9);
	rel32_to(e, target);
}

/* CALL r64 — FF /2 (CALL). */
static void call_r(struct emit *e, int r)
{
	rex(e, false, 0, r);
	byte(e, 0xFF);
	modrm_rr(e, 2, r);
}

/* PUSH r64 — 50+r; POP r64 — 58+r; RET — C3. */
static void push_r(struct emit *e, int r)
{
	rex(e, false, 0, r);
	byte(e, (uint8_t)(0x50 + (r & 7)));
}

static void pop_r(struct emit *e, int r)
{
	rex(e, false, 0, r);
	byte(e, (uint8_t)(0x58 + (r & 7)));
}

/* ---- stack slots -------------------------------------------------------------- */

static bool slot_in_reg(int k)
{
	return k < N_SLOT_REGS;
}

static int32_t slot_disp(int k)
{
	return FRAME_SPILL + 8 * (k - N_SLOT_REGS);
}

/* A register holding slot k: its home, or `tmp` loaded from the frame. */
static int get_slot(struct emit *e, int k, int tmp)
{
	if (slot_in_reg(k))
		return slot_regs[k];
	load_rm(e, tmp, RSP, slot_disp(k));
	return tmp;
}

/* The register to compute slot k's new value in: its home, or `tmp`
 * (then put_slot stores it). */
static int slot_target(int k, int tmp)
{
	return slot_in_reg(k) ? (int)slot_regs[k] : tmp;
}

static void put_slot(struct emit *e, int k, int src)
{
	if (slot_in_reg(k))
		mov_rr(e, slot_regs[k], src);
	else
		store_mr(e, RSP, slot_disp(k), src);
}

static void copy_slot(struct emit *e, int dst, int src)
{
	put_slot(e, dst, get_slot(e, src, TMP0));
}

/* ---- helper calls ------------------------------------------------------------- */

/* Save the caller-saved slot registers that hold live slots (< depth). */
static void save_live(struct emit *e, int depth, bool restore)
{
	for (int i = 0; i < N_CALLER_SAVED; i++) {
		int k = 2 + i; /* slot_regs[2..7] are the caller-saved ones */
		if (k >= depth)
			break;
		if (restore)
			load_rm(e, caller_saved_slots[i], RSP, e->lay->save_off + 8 * i);
		else
			store_mr(e, RSP, e->lay->save_off + 8 * i, caller_saved_slots[i]);
	}
}

static void call_helper(struct emit *e, const void *fn)
{
	mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
	call_r(e, RAX);
}

/* ---- instructions ------------------------------------------------------------- */

static enum alu alu_of(uint8_t opcode)
{
	switch (opcode) {
	case VFM_OPC_ADD: return ALU_ADD;
	case VFM_OPC_SUB: return ALU_SUB;
	case VFM_OPC_AND: return ALU_AND;
	case VFM_OPC_OR: return ALU_OR;
	case VFM_OPC_XOR: return ALU_XOR;
	default: return 0;
	}
}

/* Condition code under which "a OP b" holds after CMP a, b (JSET: after
 * TEST a, b). */
static enum cc cc_of(uint8_t opcode)
{
	switch (opcode) {
	case VFM_OPC_JEQ: return CC_E;
	case VFM_OPC_JNE: return CC_NE;
	case VFM_OPC_JGT: return CC_A;
	case VFM_OPC_JGE: return CC_AE;
	case VFM_OPC_JLT: return CC_B;
	case VFM_OPC_JLE: return CC_BE;
	default: return CC_NE; /* JSET */
	}
}

/* Branch to instruction `target` when cc holds; backward branches spend
 * budget first (and exit with BUDGET when none is left). */
static void branch(struct emit *e, uint32_t self, uint32_t target, bool conditional,
		   enum cc cc)
{
	size_t dest = e->insn_off[target];
	bool backward = target <= self;
	if (!backward) {
		if (conditional)
			jcc(e, cc, dest);
		else
			jmp(e, dest);
		return;
	}
	/* Conditional: skip the budget code when the branch is not taken
	 * (the inverse condition is cc ^ 1). */
	size_t skip_at = 0;
	if (conditional) {
		byte(e, 0x0F);
		byte(e, (uint8_t)(0x80 | (cc ^ 1)));
		skip_at = e->pos;
		imm32(e, 0); /* patched below */
	}
	test_rr(e, REG_BUDGET, REG_BUDGET);
	jcc(e, CC_E, e->exit_budget);
	alu_ri(e, ALU_SUB, REG_BUDGET, 1);
	jmp(e, dest);
	if (conditional && e->buf) {
		int64_t rel = (int64_t)e->pos - (int64_t)(skip_at + 4);
		uint32_t v = (uint32_t)(int32_t)rel;
		for (int i = 0; i < 4; i++)
			e->buf[skip_at + i] = (uint8_t)(v >> (8 * i));
	}
}

/* Compare slot a with an immediate or a slot, for a Jcc. */
static void compare(struct emit *e, uint8_t opcode, int a_reg, int b_reg, bool b_imm,
		    uint64_t imm)
{
	bool jset = opcode == VFM_OPC_JSET;
	if (b_imm && imm <= INT32_MAX) {
		if (jset) {
			/* TEST r/m64, imm32 — REX.W F7 /0 id. */
			rex(e, true, 0, a_reg);
			byte(e, 0xF7);
			modrm_rr(e, 0, a_reg);
			imm32(e, (uint32_t)imm);
		} else {
			alu_ri(e, ALU_CMP, a_reg, (int32_t)imm);
		}
		return;
	}
	if (b_imm) {
		mov_ri(e, TMP1, imm);
		b_reg = TMP1;
	}
	if (jset)
		test_rr(e, a_reg, b_reg);
	else
		alu_rr(e, ALU_CMP, a_reg, b_reg);
}

/* a = a OP b for a binary ALU opcode; a_reg is slot a's register (its
 * home or a temporary), b in b_reg or an immediate. */
static void binop(struct emit *e, uint8_t opcode, int a_reg, int b_reg, bool b_imm, uint64_t imm)
{
	enum alu alu = alu_of(opcode);
	if (alu && b_imm && imm <= INT32_MAX) {
		alu_ri(e, alu, a_reg, (int32_t)imm);
		return;
	}
	if ((opcode == VFM_OPC_SHL || opcode == VFM_OPC_SHR) && b_imm) {
		shift_imm(e, opcode == VFM_OPC_SHL ? 4 : 5, a_reg, (uint8_t)(imm & 63));
		return;
	}
	if (b_imm) {
		mov_ri(e, TMP1, imm);
		b_reg = TMP1;
	}
	switch (opcode) {
	case VFM_OPC_MUL:
		imul_rr(e, a_reg, b_reg);
		break;
	case VFM_OPC_SHL:
	case VFM_OPC_SHR:
		mov_rr(e, TMP1, b_reg);
		shift_cl(e, opcode == VFM_OPC_SHL ? 4 : 5, a_reg);
		break;
	case VFM_OPC_DIV:
	case VFM_OPC_MOD: {
		/* x/0 = 0 and x%0 = x: test the divisor first. */
		mov_rr(e, TMP1, b_reg);
		test_rr(e, TMP1, TMP1);
		size_t jz_at = e->pos;
		jcc(e, CC_E, 0); /* patched: to the zero case */
		mov_rr(e, RAX, a_reg);
		alu_rr(e, ALU_XOR, RDX, RDX);
		grp3(e, 6, TMP1); /* DIV rcx: rdx:rax / rcx */
		mov_rr(e, a_reg, opcode == VFM_OPC_DIV ? RAX : RDX);
		size_t jmp_at = e->pos;
		jmp(e, 0); /* patched: past the zero case */
		size_t zero_case = e->pos;
		if (opcode == VFM_OPC_DIV)
			alu_rr(e, ALU_XOR, a_reg, a_reg);
		size_t done = e->pos;
		if (e->buf) {
			uint32_t r1 = (uint32_t)(int32_t)((int64_t)zero_case - (int64_t)(jz_at + 6));
			uint32_t r2 = (uint32_t)(int32_t)((int64_t)done - (int64_t)(jmp_at + 5));
			for (int i = 0; i < 4; i++) {
				e->buf[jz_at + 2 + i] = (uint8_t)(r1 >> (8 * i));
				e->buf[jmp_at + 1 + i] = (uint8_t)(r2 >> (8 * i));
			}
		}
		break;
	}
	default:
		alu_rr(e, alu, a_reg, b_reg);
		break;
	}
}

/* Return verdict (in reg, saturated) with status OK. */
static void emit_return_reg(struct emit *e, int reg, size_t epilogue)
{
	mov_rr(e, RAX, reg);
	mov_ri(e, RCX, 0xFFFFFFFFu);
	alu_rr(e, ALU_CMP, RAX, RCX);
	cmova_rr(e, RAX, RCX);
	jmp(e, epilogue);
}

/* Out-of-bounds check for `size` bytes at absolute offset k. */
static void check_abs(struct emit *e, uint64_t end)
{
	/* in bounds iff k + size <= len (k + size cannot wrap: k < 2^32) */
	if (end <= INT32_MAX) {
		alu_ri(e, ALU_CMP, REG_LEN, (int32_t)end);
	} else {
		mov_ri(e, TMP0, end);
		alu_rr(e, ALU_CMP, REG_LEN, TMP0);
	}
	jcc(e, CC_B, e->exit_bounds);
}

static void emit_insn(struct emit *e, const struct vfm_program *prog, uint32_t i,
		      size_t epilogue)
{
	const struct vfm_insn *insn = &prog->insns[i];
	const struct vfm_opinfo *info = &vfm_opinfo[insn->opcode];
	const uint8_t *flags = prog->facts.flags;
	int d = prog->facts.depth[i];
	int top = d - 1;
	if (d < 0) {
		byte(e, 0xCC); /* unreachable: INT3 */
		return;
	}
	/* Fused forms: PUSH k; Jcc and PUSH k; binary ALU op become one
	 * compare or op with an immediate.  The second instruction keeps its
	 * own code only if something jumps to it (skip[i + 1] otherwise). */
	if (vfm_jit_fusable(prog, i)) {
		const struct vfm_insn *next = &prog->insns[i + 1];
		int a = get_slot(e, top, TMP0);
		if (vfm_opinfo[next->opcode].cls == VFM_CLASS_JCC) {
			compare(e, next->opcode, a, -1, true, insn->imm);
			branch(e, i, next->arg, true, cc_of(next->opcode));
		} else {
			binop(e, next->opcode, a, -1, true, insn->imm);
			if (a == TMP0)
				put_slot(e, top, TMP0);
		}
		if (e->emit_next[i + 1])
			jmp(e, e->insn_off[i + 2]);
		return;
	}

	switch ((enum vfm_opcode)insn->opcode) {
	case VFM_OPC_PUSH:
		if (slot_in_reg(d)) {
			mov_ri(e, slot_regs[d], insn->imm);
		} else {
			mov_ri(e, TMP0, insn->imm);
			put_slot(e, d, TMP0);
		}
		break;
	case VFM_OPC_POP:
		break;
	case VFM_OPC_DUP:
		copy_slot(e, d, top);
		break;
	case VFM_OPC_SWAP: {
		int a = get_slot(e, top - 1, TMP0);
		int b = get_slot(e, top, TMP1);
		mov_rr(e, TMP2, a);
		put_slot(e, top - 1, b);
		put_slot(e, top, TMP2);
		break;
	}
	case VFM_OPC_OVER:
		copy_slot(e, d, top - 1);
		break;
	case VFM_OPC_LDM:
		load_rm(e, TMP0, RSP, e->lay->scratch_off + 8 * insn->aux);
		put_slot(e, d, TMP0);
		break;
	case VFM_OPC_STM:
		store_mr(e, RSP, e->lay->scratch_off + 8 * insn->aux, get_slot(e, top, TMP0));
		break;
	case VFM_OPC_LD8:
	case VFM_OPC_LD16:
	case VFM_OPC_LD32:
	case VFM_OPC_LD64: {
		uint64_t end = (uint64_t)insn->arg + info->size;
		if (!(flags && (flags[i] & VFM_FACT_IN_BOUNDS))) {
			if (end > UINT32_MAX) {
				jmp(e, e->exit_bounds); /* beyond any packet */
				break;
			}
			check_abs(e, end);
		}
		int dst = slot_target(d, TMP1);
		if (insn->arg <= INT32_MAX) {
			load_be(e, dst, -1, (int32_t)insn->arg, info->size);
		} else {
			/* k does not fit a signed disp32: index by it. */
			mov_ri(e, TMP0, insn->arg);
			load_be(e, dst, TMP0, 0, info->size);
		}
		if (dst == TMP1)
			put_slot(e, d, TMP1);
		break;
	}
	case VFM_OPC_LD8X:
	case VFM_OPC_LD16X:
	case VFM_OPC_LD32X:
	case VFM_OPC_LD64X: {
		/* off = index + k, no wrap; in bounds iff off + size <= len. */
		int idx = get_slot(e, top, TMP0);
		mov_rr(e, TMP0, idx);
		if (!(flags && (flags[i] & VFM_FACT_IN_BOUNDS))) {
			mov_ri(e, TMP1, (uint64_t)insn->arg + info->size);
			alu_rr(e, ALU_ADD, TMP1, TMP0);
			jcc(e, CC_B, e->exit_bounds); /* carry: the sum wrapped */
			alu_rr(e, ALU_CMP, REG_LEN, TMP1);
			jcc(e, CC_B, e->exit_bounds);
		}
		/* The offset fits in 32 bits here; k may not fit a signed
		 * disp32, so add it to the index first. */
		mov_ri(e, TMP1, insn->arg);
		alu_rr(e, ALU_ADD, TMP0, TMP1);
		int dst = slot_target(top, TMP1);
		load_be(e, dst, TMP0, 0, info->size);
		if (dst == TMP1)
			put_slot(e, top, TMP1);
		break;
	}
	case VFM_OPC_LEN:
		put_slot(e, d, REG_LEN);
		break;
	case VFM_OPC_ADD:
	case VFM_OPC_SUB:
	case VFM_OPC_MUL:
	case VFM_OPC_DIV:
	case VFM_OPC_MOD:
	case VFM_OPC_AND:
	case VFM_OPC_OR:
	case VFM_OPC_XOR:
	case VFM_OPC_SHL:
	case VFM_OPC_SHR: {
		/* a (slot top-1) in its home or RAX, b (top) in its home or RCX;
		 * binop keeps RAX/RCX/RDX usage consistent with both. */
		int a = get_slot(e, top - 1, TMP0);
		int b = get_slot(e, top, TMP1);
		binop(e, insn->opcode, a, b, false, 0);
		if (a == TMP0)
			put_slot(e, top - 1, TMP0);
		break;
	}
	case VFM_OPC_NOT:
	case VFM_OPC_NEG: {
		int r = get_slot(e, top, TMP0);
		grp3(e, insn->opcode == VFM_OPC_NOT ? 2 : 3, r);
		if (r == TMP0)
			put_slot(e, top, TMP0);
		break;
	}
	case VFM_OPC_JMP:
		branch(e, i, insn->arg, false, CC_E);
		break;
	case VFM_OPC_JEQ:
	case VFM_OPC_JNE:
	case VFM_OPC_JGT:
	case VFM_OPC_JGE:
	case VFM_OPC_JLT:
	case VFM_OPC_JLE:
	case VFM_OPC_JSET: {
		int a = get_slot(e, top - 1, TMP0);
		int b = get_slot(e, top, TMP1);
		compare(e, insn->opcode, a, b, false, 0);
		branch(e, i, insn->arg, true, cc_of(insn->opcode));
		break;
	}
	case VFM_OPC_RET:
		emit_return_reg(e, get_slot(e, top, TMP0), epilogue);
		return;
	case VFM_OPC_RETK:
		mov_ri(e, RAX, insn->arg);
		jmp(e, epilogue);
		return;
	case VFM_OPC_HASH5:
		save_live(e, d, false);
		mov_rr(e, RDI, REG_DATA);
		mov_rr(e, RSI, REG_LEN);
		call_helper(e, (const void *)vfm_hash5);
		save_live(e, d, true);
		put_slot(e, d, RAX);
		break;
	case VFM_OPC_FLOW_LOAD:
		save_live(e, d, false);
		mov_rr(e, RSI, get_slot(e, top, RSI));
		load_rm(e, RDI, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, flow));
		call_helper(e, (const void *)vfm_flow_load);
		save_live(e, d, true);
		put_slot(e, top, RAX);
		break;
	case VFM_OPC_FLOW_STORE:
		save_live(e, d, false);
		/* key = slot top-1, value = slot top; load both before RDI/RSI
		 * are overwritten (either may live there). */
		mov_rr(e, RDX, get_slot(e, top, RDX));
		mov_rr(e, RCX, get_slot(e, top - 1, RCX));
		mov_rr(e, RSI, RCX);
		load_rm(e, RDI, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, flow));
		call_helper(e, (const void *)vfm_flow_store);
		save_live(e, d, true);
		break;
	case VFM_OPC_WLEN:
		load_rm(e, TMP0, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, wire_len));
		put_slot(e, d, TMP0);
		break;
	case VFM_OPC_TS:
		load_rm(e, TMP0, REG_ARGS, (int32_t)offsetof(struct vfm_jit_args, ts_ns));
		put_slot(e, d, TMP0);
		break;
	}
	/* Fall through to the next instruction (its code follows). */
}

/* Decide which registers and frame parts the program needs. */
static void plan_layout(const struct vfm_program *prog, struct layout *lay)
{
	bool calls = false, scratch = false;
	memset(lay, 0, sizeof *lay);
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		if (prog->facts.depth[i] < 0)
			continue;
		uint8_t op = prog->insns[i].opcode, cls = vfm_opinfo[op].cls;
		if (cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX || op == VFM_OPC_HASH5)
			lay->packet = lay->len = true;
		if (op == VFM_OPC_LEN)
			lay->len = true;
		if (op == VFM_OPC_HASH5 || op == VFM_OPC_FLOW_LOAD || op == VFM_OPC_FLOW_STORE)
			calls = true;
		if (op == VFM_OPC_FLOW_LOAD || op == VFM_OPC_FLOW_STORE || op == VFM_OPC_TS ||
		    op == VFM_OPC_WLEN)
			lay->args = true;
		if (op == VFM_OPC_LDM || op == VFM_OPC_STM)
			scratch = true;
	}
	lay->budget = prog->facts.has_backward;
	unsigned depth = prog->facts.max_depth;
	if (depth >= 1)
		lay->saved[lay->n_saved++] = RBX;
	if (depth >= 2)
		lay->saved[lay->n_saved++] = RBP;
	if (lay->packet)
		lay->saved[lay->n_saved++] = REG_DATA;
	if (lay->len)
		lay->saved[lay->n_saved++] = REG_LEN;
	if (lay->args)
		lay->saved[lay->n_saved++] = REG_ARGS;
	if (lay->budget)
		lay->saved[lay->n_saved++] = REG_BUDGET;
	uint32_t size = depth > N_SLOT_REGS ? 8u * (depth - N_SLOT_REGS) : 0;
	lay->scratch_off = (int32_t)size;
	if (scratch)
		size += 8 * VFM_SCRATCH_WORDS;
	lay->save_off = (int32_t)size;
	if (calls) {
		size += 8 * N_CALLER_SAVED;
		/* At a call rsp must be 16-aligned: entry leaves it 8 mod 16,
		 * each push adds 8. */
		if ((8 + 8 * lay->n_saved + size) % 16 != 0)
			size += 8;
	}
	lay->frame = size;
}

/* Prologue, body, exits, epilogue: one pass. */
static void emit_program(struct emit *e, const struct vfm_program *prog, size_t epilogue)
{
	const struct layout *lay = e->lay;
	for (unsigned r = 0; r < lay->n_saved; r++)
		push_r(e, lay->saved[r]);
	if (lay->frame)
		alu_ri(e, ALU_SUB, RSP, (int32_t)lay->frame);
	if (lay->packet)
		mov_rr(e, REG_DATA, RDI);
	if (lay->len)
		mov_rr(e, REG_LEN, RSI);
	if (lay->args)
		mov_rr(e, REG_ARGS, RDX);
	if (lay->budget)
		load_rm(e, REG_BUDGET, RDX, (int32_t)offsetof(struct vfm_jit_args, budget));
	if (prog->facts.reads_scratch) {
		alu_rr(e, ALU_XOR, RAX, RAX);
		for (int k = 0; k < VFM_SCRATCH_WORDS; k++)
			store_mr(e, RSP, lay->scratch_off + 8 * k, RAX);
	}
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		if (!e->buf)
			e->insn_off[i] = e->pos;
		if (e->emit_next[i])
			emit_insn(e, prog, i, epilogue);
	}
	/* Exits: verdict 0 with the status in the high half. */
	if (!e->buf)
		e->exit_bounds = e->pos;
	mov_ri(e, RAX, (uint64_t)VFM_STATUS_BOUNDS << 32);
	jmp(e, epilogue);
	if (!e->buf)
		e->exit_budget = e->pos;
	mov_ri(e, RAX, (uint64_t)VFM_STATUS_BUDGET << 32);
	/* Epilogue: falls through from the budget exit. */
	if (lay->frame)
		alu_ri(e, ALU_ADD, RSP, (int32_t)lay->frame);
	for (unsigned r = lay->n_saved; r-- > 0;)
		pop_r(e, lay->saved[r]);
	byte(e, 0xC3);
}

vfm_error_t vfm_jit_compile(struct vfm_program *prog, vfm_diag_t *diag)
{
	if (__atomic_load_n(&prog->jit_code, __ATOMIC_ACQUIRE))
		return VFM_OK;
	struct emit e = {0};
	e.insn_off = calloc(prog->n_insns + 1, sizeof *e.insn_off);
	uint8_t *emit_next = vfm_jit_own_code(prog);
	if (!e.insn_off || !emit_next) {
		free(e.insn_off);
		free(emit_next);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	e.emit_next = emit_next;
	struct layout lay;
	plan_layout(prog, &lay);
	e.lay = &lay;
	/* Pass 1: sizes and offsets.  The epilogue's offset is not known
	 * yet; jumps to it are rel32 either way, so a placeholder suffices. */
	emit_program(&e, prog, 0);
	size_t size = e.pos;
	size_t epilogue = e.exit_budget + 10; /* mov rax, imm64 is 10 bytes */
	size_t map;
	uint8_t *mem = vfm_jit_code_alloc(size, 0xCC, &map); /* INT3 padding */
	if (!mem) {
		free(e.insn_off);
		free(emit_next);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "JIT: cannot map code memory");
	}
	e.buf = mem;
	e.pos = 0;
	emit_program(&e, prog, epilogue);
	free(e.insn_off);
	free(emit_next);
	if (e.failed || e.pos != size) {
		vfm_jit_code_free(mem, map);
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "JIT: internal error (code size changed between passes)");
	}
	return vfm_jit_code_publish(prog, mem, size, map, diag);
}

#endif
