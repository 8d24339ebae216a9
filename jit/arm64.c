/*
 * jit/arm64.c — the AArch64 back end: registers, emitters and the glue to
 * the shared JIT driver (jit/common.h), which decides what gets code,
 * counts blocks, runs the passes and publishes the code.  The encoders
 * are pure functions in jit/arm64_insn.h.
 *
 * Design (as jit/x86_64.c; the verifier's facts shape the code):
 *   - the stack depth at every instruction is static, so stack slot k has a
 *     fixed home: one of 20 registers (17 in programs that call helpers),
 *     a frame word beyond; no stack pointer exists at run time;
 *   - loads the verifier proved in bounds carry no check; the others one
 *     overflow-safe compare against the length register;
 *   - a fused PUSH k (the driver passes it as an immediate operand) uses
 *     the immediate forms where k fits: ADD/SUB imm12, CMP/CMN, logical
 *     bitmask immediates, shifts, powers of two for MUL, CBZ/CBNZ for
 *     compares with 0; DIV and MOD by k multiply by a reciprocal (UMULH,
 *     vfm_jit_udiv_plan); constants are built with MOVZ/MOVN and the
 *     fewest MOVKs, or one ORR of a bitmask immediate;
 *   - DIV by a register is UDIV, which gives 0 for a zero divisor (VFM's
 *     x/0 = 0); MOD is UDIV + MSUB, which then gives a - 0 * b = a (VFM's
 *     x%0 = x); LSLV and
 *     LSRV take the count modulo 64 (VFM masks with 63);
 *   - the backward-jump budget and the instruction count live in
 *     registers; the count is one ADD per basic block and is stored into
 *     struct vfm_jit_args by the epilogue;
 *   - conditional branches reach +-1 MiB; a farther target gets the
 *     inverted branch over a B (+-128 MiB), chosen through the driver's
 *     vfm_jit_far; beyond that the compilation fails with a message and
 *     the interpreter runs the program.
 * HASH5, FLOW_LOAD and FLOW_STORE call the interpreter's C helpers under
 * AAPCS64: arguments in x0-x2, x19-x28 callee-saved (saved here in pairs),
 * SP 16-byte aligned at every call, x18 never touched.
 *
 * Generated function (AAPCS64; vfm_jit_fn, vm/jit.h):
 *   uint64_t fn(struct vfm_jit_args *a, const uint8_t *data, uint32_t len)
 * returns verdict | status << 32.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arm64_insn.h"
#include "common.h"
#include "../vm/state.h"

/* ---- registers -------------------------------------------------------------- */

/*
 * Two register maps, chosen per program.  A program without helper calls
 * (the common filter) keeps data and len where AAPCS64 passes them (args
 * moves out of x0, the result register) and puts its first nine slots in
 * caller-saved registers, so a small filter has no prologue beyond
 * loading the instruction count; slots 9..18 use callee-saved x19..x28,
 * pushed in pairs only when the program is that deep.  A program that
 * calls helpers needs its fixed roles to survive the calls, so they move
 * to callee-saved registers; its slots take the
 * remaining callee-saved ones first, then caller-saved x3..x14, which are
 * saved around each call only while they hold live slots.  x15-x17 are
 * temporaries, x18 is the platform register and x29/x30 the frame record.
 */
struct a64_map {
	uint8_t data, len, args, budget, count;
	uint8_t slots[20];
	unsigned n_slots;
};

/* data and len stay in x1 and x2; args moves from x0 to x3, because x0
 * takes the result before the epilogue stores the count through args. */
static const struct a64_map leaf_map = {
	.data = A64_X1, .len = A64_X2, .args = A64_X3, .budget = A64_X4, .count = A64_X5,
	.slots = {A64_X6, A64_X7, A64_X8, A64_X9, A64_X10, A64_X11, A64_X12, A64_X13, A64_X14,
		  A64_X19, A64_X20, A64_X21, A64_X22, A64_X23, A64_X24, A64_X25, A64_X26,
		  A64_X27, A64_X28},
	.n_slots = 19,
};

static const struct a64_map call_map = {
	.data = A64_X19, .len = A64_X20, .args = A64_X21, .budget = A64_X22, .count = A64_X23,
	.slots = {A64_X24, A64_X25, A64_X26, A64_X27, A64_X28, A64_X3, A64_X4, A64_X5, A64_X6,
		  A64_X7, A64_X8, A64_X9, A64_X10, A64_X11, A64_X12, A64_X13, A64_X14},
	.n_slots = 17,
};

#define TMP0 A64_X16 /* also the helper address for BLR */
#define TMP1 A64_X17
#define TMP2 A64_X15
/* x0 is free between instructions too: it takes the result only at a RET
 * and a helper's argument and result only around the call. */
#define TMP3 A64_X0

/* Callee-saved registers are x19..x28 (AAPCS64 6.1.1). */
static bool callee_saved(unsigned r)
{
	return r >= A64_X19 && r <= A64_X28;
}

/* ---- frame ---------------------------------------------------------------------- */

/*
 * From the caller's SP downwards: the frame record x29/x30 (programs with
 * calls), the callee-saved pairs in use, then `locals` bytes: scratch
 * words at [sp + scratch_off], the save area for caller-saved slot
 * registers around calls at [sp + save_off] (low, so STP/LDP reach it),
 * spilled slots at [sp + spill_off].  Every size is a multiple of 16, so
 * SP stays 16-byte aligned.
 */
struct a64 {
	const struct a64_map *map;
	bool frame_record;
	uint8_t pairs[5][2];
	unsigned n_pairs;
	uint32_t locals, scratch_off, save_off, spill_off;
};

static struct a64 *arch(struct vfm_jit_ctx *e)
{
	return e->arch;
}

static const struct a64_map *map(struct vfm_jit_ctx *e)
{
	return arch(e)->map;
}

/* ---- emission ---------------------------------------------------------------------- */

static void emit_word(struct vfm_jit_ctx *e, uint32_t word)
{
	vfm_jit_emit32(e, word);
}

/* MOV Xd, Xm (ORR Xd, XZR, Xm); not for SP. */
static void mov_rr(struct vfm_jit_ctx *e, unsigned rd, unsigned rm)
{
	if (rd != rm)
		emit_word(e, a64_logic_reg(A64_ORR_REG, rd, A64_ZR, rm));
}

/* Xd = v in the fewest instructions: one MOVZ, MOVN (64- or 32-bit) or
 * ORR of a bitmask immediate if any fits, else MOVZ or MOVN (whichever
 * leaves fewer halfwords to fill) plus one MOVK per remaining halfword. */
static void mov_imm(struct vfm_jit_ctx *e, unsigned rd, uint64_t v)
{
	unsigned zero = 0, ones = 0;
	for (unsigned hw = 0; hw < 4; hw++) {
		uint32_t h = (uint32_t)(v >> (16 * hw)) & 0xFFFFu;
		zero += h == 0;
		ones += h == 0xFFFFu;
	}
	if (zero >= 3) {
		unsigned hw = 0;
		while (v != 0 && ((v >> (16 * hw)) & 0xFFFFu) == 0)
			hw++;
		emit_word(e, a64_movw(A64_MOVZ, rd, (uint32_t)(v >> (16 * hw)) & 0xFFFFu, hw));
		return;
	}
	if (ones >= 3) {
		unsigned hw = 0;
		while (v != UINT64_MAX && ((v >> (16 * hw)) & 0xFFFFu) == 0xFFFFu)
			hw++;
		emit_word(e, a64_movw(A64_MOVN, rd, ~(uint32_t)(v >> (16 * hw)) & 0xFFFFu, hw));
		return;
	}
	if (v >> 32 == 0 && ((v & 0xFFFFu) == 0xFFFFu || (v >> 16) == 0xFFFFu)) {
		/* 0xFFFFxxxx or 0xxxxxFFFF: MOVN W clears the high word. */
		unsigned hw = (v & 0xFFFFu) == 0xFFFFu;
		emit_word(e, a64_movn_w(rd, ~(uint32_t)(v >> (16 * hw)) & 0xFFFFu, hw));
		return;
	}
	if (a64_bitmask_imm(v) >= 0) {
		emit_word(e, a64_logic_imm(A64_ORR_IMM, rd, A64_ZR, v));
		return;
	}
	bool inverted = ones > zero;
	uint32_t skip = inverted ? 0xFFFFu : 0;
	bool first = true;
	for (unsigned hw = 0; hw < 4; hw++) {
		uint32_t h = (uint32_t)(v >> (16 * hw)) & 0xFFFFu;
		if (h == skip)
			continue;
		if (first)
			emit_word(e, inverted ? a64_movw(A64_MOVN, rd, ~h & 0xFFFFu, hw)
					 : a64_movw(A64_MOVZ, rd, h, hw));
		else
			emit_word(e, a64_movw(A64_MOVK, rd, h, hw));
		first = false;
	}
}

/* A constant of the program into rd, the only way program constants reach
 * the code (jit/common.h, vfm_jit_blind).  Not blinded: mov_imm.
 * Blinded: mov_imm of v ^ key, mov_imm of the key into TMP2 (the
 * blinding register: no constant's destination, and free between
 * instructions), EOR. */
static void mov_const(struct vfm_jit_ctx *e, unsigned rd, uint64_t v)
{
	struct vfm_jit_const c = vfm_jit_blind(e, v);
	mov_imm(e, rd, c.coded);
	if (c.key) {
		mov_imm(e, TMP2, c.key);
		emit_word(e, a64_logic_reg(A64_EOR_REG, rd, rd, TMP2));
	}
}

/* CMP len, #end for a program-derived end: the immediate form where it
 * fits and may be embedded, else through TMP0. */
static void cmp_len(struct vfm_jit_ctx *e, uint64_t end)
{
	const struct a64_map *m = map(e);
	if (vfm_jit_may_embed(e) && a64_addsub_imm_ok(end)) {
		emit_word(e, a64_addsub_imm(A64_SUBS, A64_ZR, m->len, end)); /* CMP */
	} else {
		mov_const(e, TMP0, end);
		emit_word(e, a64_addsub_reg(A64_SUBS_REG, A64_ZR, m->len, TMP0, A64_LSL, 0));
	}
}

/* Xd = Xn + imm (mod 2^64): ADD or SUB imm12 (shifted or not), two of
 * them for 24-bit amounts, else through `tmp` (which may be rd, not rn). */
static void add_imm(struct vfm_jit_ctx *e, unsigned rd, unsigned rn, uint64_t imm, unsigned tmp)
{
	uint64_t neg = 0 - imm;
	if (a64_addsub_imm_ok(imm)) {
		emit_word(e, a64_addsub_imm(A64_ADD, rd, rn, imm));
	} else if (a64_addsub_imm_ok(neg)) {
		emit_word(e, a64_addsub_imm(A64_SUB, rd, rn, neg));
	} else if (imm < (UINT64_C(1) << 24)) {
		emit_word(e, a64_addsub_imm(A64_ADD, rd, rn, imm & 0xFFFu));
		emit_word(e, a64_addsub_imm(A64_ADD, rd, rd, imm & ~UINT64_C(0xFFF)));
	} else if (neg < (UINT64_C(1) << 24)) {
		emit_word(e, a64_addsub_imm(A64_SUB, rd, rn, neg & 0xFFFu));
		emit_word(e, a64_addsub_imm(A64_SUB, rd, rd, neg & ~UINT64_C(0xFFF)));
	} else {
		mov_imm(e, tmp, imm);
		emit_word(e, a64_addsub_reg(A64_ADD_REG, rd, rn, tmp, A64_LSL, 0));
	}
}

/* LDR/STR Xt, [SP + off] (frame words). */
static void frame_ldst(struct vfm_jit_ctx *e, enum a64_ldst op, unsigned rt, uint32_t off)
{
	emit_word(e, a64_ldst_imm(op, rt, A64_SP, off));
}

/* ---- branches ------------------------------------------------------------------------ */

/* A conditional branch: B.cond after flags, or CBZ/CBNZ on a register. */
enum test_kind { TEST_COND, TEST_CBZ, TEST_CBNZ };

struct test {
	enum test_kind kind;
	enum a64_cond cond; /* TEST_COND */
	unsigned reg;       /* TEST_CBZ, TEST_CBNZ */
};

static struct test invert(struct test t)
{
	switch (t.kind) {
	case TEST_COND: t.cond = (enum a64_cond)(t.cond ^ 1); break;
	case TEST_CBZ: t.kind = TEST_CBNZ; break;
	case TEST_CBNZ: t.kind = TEST_CBZ; break;
	}
	return t;
}

static uint32_t test_insn(struct test t, int64_t words)
{
	switch (t.kind) {
	case TEST_COND: return a64_bcond(t.cond, words);
	case TEST_CBZ: return a64_cbz(false, t.reg, words);
	case TEST_CBNZ: return a64_cbz(true, t.reg, words);
	}
	return A64_INVALID;
}

/* Displacement in instructions from the current position to `target`. */
static int64_t words_to(const struct vfm_jit_ctx *e, size_t target)
{
	return ((int64_t)target - (int64_t)e->pos) / 4;
}

/* The reach of B as a signed field width: imm26, +-128 MiB.  A variable
 * only so that test_jit_arm64 can lower it and reach the refusal below
 * with a program of one or two MiB; nothing else writes it. */
unsigned vfm_jit_a64_b_bits = A64_IMM26_BITS;

/* B target; out of +-128 MiB the compilation fails (and the word is the
 * sentinel, in case a caller ignored that). */
static void b_to(struct vfm_jit_ctx *e, size_t target)
{
	int64_t words = words_to(e, target);
	if (!a64_fits(words, vfm_jit_a64_b_bits))
		vfm_jit_fail(e, "branch beyond the +-128 MiB reach of B");
	emit_word(e, a64_b(words));
}

/* Branch to target if t holds: the short form where it reaches (+-1 MiB),
 * else the inverted test over a B. */
static void branch_if(struct vfm_jit_ctx *e, struct test t, size_t target)
{
	int64_t words = words_to(e, target);
	if (!vfm_jit_far(e, a64_fits(words, A64_IMM19_BITS))) {
		emit_word(e, test_insn(t, words));
		return;
	}
	emit_word(e, test_insn(invert(t), 2)); /* over the B */
	b_to(e, target);
}

static void leave(struct vfm_jit_ctx *e);

/* A register holding the constant v for a CSEL: XZR for 0. */
static unsigned const_reg(struct vfm_jit_ctx *e, unsigned reg, uint32_t v)
{
	if (!v)
		return A64_ZR;
	mov_imm(e, reg, v); /* MOVZ/MOVN/ORR: the flags stay */
	return reg;
}

/* Jump i to its target when t holds (always, if t is NULL); backward
 * jumps spend budget first and exit with BUDGET when none is left.  A
 * conditional jump whose two successors both return a constant returns
 * a CSEL of the two instead (vfm_jit_select_ret): no data-dependent
 * branch at a filter's end. */
static void branch(struct vfm_jit_ctx *e, uint32_t i, const struct test *t)
{
	uint32_t taken, fall;
	if (t && vfm_jit_select_ret(e, i, &taken, &fall)) {
		enum a64_cond cond = t->cond;
		if (t->kind != TEST_COND) {
			/* CBZ/CBNZ set no flags: CMP reg, #0. */
			emit_word(e, a64_addsub_imm(A64_SUBS, A64_ZR, t->reg, 0));
			cond = t->kind == TEST_CBZ ? A64_EQ : A64_NE;
		}
		unsigned yes = const_reg(e, A64_X0, taken), no = const_reg(e, TMP1, fall);
		emit_word(e, a64_csel_x(A64_X0, yes, no, cond));
		leave(e);
		return;
	}
	size_t dest = vfm_jit_insn_pos(e, e->prog->insns[i].arg);
	if (!vfm_jit_backward(e, i)) {
		if (t)
			branch_if(e, *t, dest);
		else
			b_to(e, dest);
		return;
	}
	uint32_t skip = vfm_jit_label_new(e);
	if (t)
		branch_if(e, invert(*t), vfm_jit_label_pos(e, skip));
	struct test empty = {TEST_CBZ, A64_AL, map(e)->budget};
	branch_if(e, empty, vfm_jit_label_pos(e, vfm_jit_exit_label(e, i, VFM_STATUS_BUDGET)));
	emit_word(e, a64_addsub_imm(A64_SUB, map(e)->budget, map(e)->budget, 1));
	b_to(e, dest);
	vfm_jit_label_bind(e, skip);
}

/* ---- stack slots ------------------------------------------------------------------------- */

static bool slot_in_reg(struct vfm_jit_ctx *e, int k)
{
	return (unsigned)k < map(e)->n_slots;
}

static uint32_t slot_off(struct vfm_jit_ctx *e, int k)
{
	return arch(e)->spill_off + 8u * ((unsigned)k - map(e)->n_slots);
}

/* A register holding slot k: its home, or `tmp` loaded from the frame. */
static unsigned get_slot(struct vfm_jit_ctx *e, int k, unsigned tmp)
{
	if (slot_in_reg(e, k))
		return map(e)->slots[k];
	frame_ldst(e, A64_LDRX, tmp, slot_off(e, k));
	return tmp;
}

/* The register to compute slot k's new value in: its home, or `tmp`
 * (then put_slot stores it). */
static unsigned slot_target(struct vfm_jit_ctx *e, int k, unsigned tmp)
{
	return slot_in_reg(e, k) ? map(e)->slots[k] : tmp;
}

static void put_slot(struct vfm_jit_ctx *e, int k, unsigned src)
{
	if (slot_in_reg(e, k))
		mov_rr(e, map(e)->slots[k], src);
	else
		frame_ldst(e, A64_STRX, src, slot_off(e, k));
}

static void copy_slot(struct vfm_jit_ctx *e, int dst, int src)
{
	put_slot(e, dst, get_slot(e, src, TMP0));
}

/* ---- helper calls ---------------------------------------------------------------------------- */

/* Save (or restore) the caller-saved registers holding slots below n:
 * in pairs where two neighbours are live. */
static void save_live(struct vfm_jit_ctx *e, int n, bool restore)
{
	const struct a64_map *m = map(e);
	uint32_t off = arch(e)->save_off;
	int k = 0, limit = n < (int)m->n_slots ? n : (int)m->n_slots;
	while (k < limit && callee_saved(m->slots[k]))
		k++;
	for (; k < limit; k += 2, off += 16) {
		if (k + 1 < limit)
			emit_word(e, a64_pair(restore ? A64_LDP_OFF : A64_STP_OFF, m->slots[k],
					 m->slots[k + 1], A64_SP, (int32_t)off));
		else
			frame_ldst(e, restore ? A64_LDRX : A64_STRX, m->slots[k], off);
	}
}

/* BLR to a C function through TMP0. */
static void call_helper(struct vfm_jit_ctx *e, const void *fn)
{
	mov_imm(e, TMP0, (uint64_t)(uintptr_t)fn);
	emit_word(e, a64_blr(TMP0));
}

/* ---- emitters, one per class ----------------------------------------------------------------- */

static void a64_stack(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	int d = vfm_jit_depth(e, i), top = d - 1;
	switch ((enum vfm_stack_op)insn->opcode) {
	case VFM_STACK_PUSH: {
		unsigned r = slot_target(e, d, TMP0);
		mov_const(e, r, insn->imm);
		put_slot(e, d, r);
		break;
	}
	case VFM_STACK_POP:
		break;
	case VFM_STACK_DUP:
		copy_slot(e, d, top);
		break;
	case VFM_STACK_SWAP: {
		unsigned a = get_slot(e, top - 1, TMP0);
		unsigned b = get_slot(e, top, TMP1);
		mov_rr(e, TMP2, a);
		put_slot(e, top - 1, b);
		put_slot(e, top, TMP2);
		break;
	}
	case VFM_STACK_OVER:
		copy_slot(e, d, top - 1);
		break;
	case VFM_STACK_LDM: {
		unsigned r = slot_target(e, d, TMP0);
		frame_ldst(e, A64_LDRX, r, arch(e)->scratch_off + 8u * insn->aux);
		put_slot(e, d, r);
		break;
	}
	case VFM_STACK_STM:
		frame_ldst(e, A64_STRX, get_slot(e, top, TMP0), arch(e)->scratch_off + 8u * insn->aux);
		break;
	}
}

/* The load of `size` bytes and the byte swap to network order. */
static enum a64_ldst load_op(unsigned size)
{
	return size == 1 ? A64_LDRB : size == 2 ? A64_LDRH : size == 4 ? A64_LDRW : A64_LDRX;
}

static void to_big_endian(struct vfm_jit_ctx *e, unsigned r, unsigned size)
{
	/* LDRB/LDRH/LDR W zero-extend; REV16 W and REV W keep bits 32..63
	 * clear. */
	if (size == 2)
		emit_word(e, a64_rev(A64_REV16_W, r, r));
	else if (size == 4)
		emit_word(e, a64_rev(A64_REV_W, r, r));
	else if (size == 8)
		emit_word(e, a64_rev(A64_REV_X, r, r));
}

/* Absolute load: in bounds iff k + size <= len (k + size cannot wrap:
 * k < 2^32). */
static void a64_load(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	unsigned size = vfm_opinfo[insn->opcode].size;
	int d = vfm_jit_depth(e, i);
	uint64_t end = (uint64_t)insn->arg + size;
	const struct a64_map *m = map(e);
	if (!vfm_jit_load_proven(e, i)) {
		size_t out = vfm_jit_label_pos(e, vfm_jit_exit_label(e, i, VFM_STATUS_BOUNDS));
		if (end > UINT32_MAX) {
			b_to(e, out); /* beyond any packet */
			return;
		}
		cmp_len(e, end);
		branch_if(e, (struct test){TEST_COND, A64_LO, 0}, out);
	}
	unsigned dst = slot_target(e, d, TMP1);
	enum a64_ldst op = load_op(size);
	bool embed = vfm_jit_may_embed(e);
	if (embed && a64_ldst_imm_ok(op, insn->arg)) {
		emit_word(e, a64_ldst_imm(op, dst, m->data, insn->arg));
	} else if (embed && insn->arg < 256) {
		emit_word(e, a64_ldst_unscaled(op, dst, m->data, insn->arg));
	} else {
		mov_const(e, TMP0, insn->arg);
		emit_word(e, a64_ldst_reg(op, dst, m->data, TMP0));
	}
	to_big_endian(e, dst, size);
	put_slot(e, d, dst);
}

/* Guard of a hoisted region (jit/common.c): to the region's checked copy
 * if len < need (need <= INT32_MAX): CMP len, #need (or through TMP0) +
 * B.LO, relaxed like every conditional branch. */
static void a64_guard(struct vfm_jit_ctx *e, uint32_t need, uint32_t label)
{
	cmp_len(e, need);
	branch_if(e, (struct test){TEST_COND, A64_LO, 0}, vfm_jit_label_pos(e, label));
}

/* The checked copy's fall-through back into the body. */
static void a64_jump(struct vfm_jit_ctx *e, size_t target)
{
	b_to(e, target);
}

/* Indexed load: off = index + k without wrap; in bounds iff
 * off + size <= len, checked as index + (k + size) with the carry. */
static void a64_loadx(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	unsigned size = vfm_opinfo[insn->opcode].size;
	int top = vfm_jit_depth(e, i) - 1;
	const struct a64_map *m = map(e);
	unsigned idx = get_slot(e, top, TMP0);
	unsigned off = idx;
	if (!vfm_jit_load_proven(e, i)) {
		size_t out = vfm_jit_label_pos(e, vfm_jit_exit_label(e, i, VFM_STATUS_BOUNDS));
		uint64_t end = (uint64_t)insn->arg + size;
		if (vfm_jit_may_embed(e) && a64_addsub_imm_ok(end)) {
			emit_word(e, a64_addsub_imm(A64_ADDS, TMP1, idx, end));
		} else {
			mov_const(e, TMP1, end);
			emit_word(e, a64_addsub_reg(A64_ADDS_REG, TMP1, idx, TMP1, A64_LSL, 0));
		}
		branch_if(e, (struct test){TEST_COND, A64_HS, 0}, out); /* carry: wrapped */
		emit_word(e, a64_addsub_reg(A64_SUBS_REG, A64_ZR, m->len, TMP1, A64_LSL, 0));
		branch_if(e, (struct test){TEST_COND, A64_LO, 0}, out);
		/* off = (index + k + size) - size */
		emit_word(e, a64_addsub_imm(A64_SUB, TMP0, TMP1, size));
		off = TMP0;
	} else if (insn->arg != 0 && vfm_jit_may_embed(e)) {
		add_imm(e, TMP0, idx, insn->arg, TMP1);
		off = TMP0;
	} else if (insn->arg != 0) {
		mov_const(e, TMP1, insn->arg);
		emit_word(e, a64_addsub_reg(A64_ADD_REG, TMP0, idx, TMP1, A64_LSL, 0));
		off = TMP0;
	}
	unsigned dst = slot_target(e, top, TMP1);
	emit_word(e, a64_ldst_reg(load_op(size), dst, m->data, off));
	to_big_endian(e, dst, size);
	put_slot(e, top, dst);
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* a = a OP k for a logical op: the bitmask immediate if k is one, else
 * the identities of 0 and all-ones, else k through TMP1. */
static void logic_k(struct vfm_jit_ctx *e, enum a64_logic_imm op, enum a64_logic_reg rop,
		    unsigned a, uint64_t k)
{
	if (a64_bitmask_imm(k) >= 0) {
		emit_word(e, a64_logic_imm(op, a, a, k));
		return;
	}
	mov_const(e, TMP1, k);
	emit_word(e, a64_logic_reg(rop, a, a, TMP1));
}

/* DIV and MOD by a constant k without UDIV (vfm_jit_udiv_plan): a shift
 * or mask for a power of two, else UMULH into TMP1 (of x >> pre_shift,
 * in TMP2, where the plan says), and x % k = x - q * k by MSUB with k in
 * TMP3.  TMP2 is taken
 * only between the constant loads, which may use it for blinding. */
static void divmod_k(struct vfm_jit_ctx *e, bool mod, unsigned a, uint64_t k)
{
	struct vfm_jit_udiv plan = vfm_jit_udiv_plan(k);
	switch (plan.kind) {
	case VFM_JIT_UDIV_ZERO:
		if (!mod)
			mov_imm(e, a, 0); /* x / 0 = 0; x % 0 = x */
		return;
	case VFM_JIT_UDIV_SHIFT:
		if (!mod) {
			if (plan.shift)
				emit_word(e, a64_lsr_imm(a, a, plan.shift));
		} else if (k == 1) {
			mov_imm(e, a, 0);
		} else {
			emit_word(e, a64_logic_imm(A64_AND_IMM, a, a, k - 1));
		}
		return;
	case VFM_JIT_UDIV_MULHI:
	case VFM_JIT_UDIV_MULADD:
		break;
	}
	mov_const(e, TMP1, plan.magic);
	if (plan.pre_shift) {
		emit_word(e, a64_lsr_imm(TMP2, a, plan.pre_shift));
		emit_word(e, a64_dp3(A64_UMULH, TMP1, TMP2, TMP1, A64_ZR));
	} else {
		emit_word(e, a64_dp3(A64_UMULH, TMP1, a, TMP1, A64_ZR)); /* t */
	}
	if (plan.kind == VFM_JIT_UDIV_MULADD) {
		emit_word(e, a64_addsub_reg(A64_SUB_REG, TMP2, a, TMP1, A64_LSL, 0));
		emit_word(e, a64_addsub_reg(A64_ADD_REG, TMP1, TMP1, TMP2, A64_LSR, 1));
	}
	if (plan.shift)
		emit_word(e, a64_lsr_imm(TMP1, TMP1, plan.shift)); /* q */
	if (!mod) {
		mov_rr(e, a, TMP1);
		return;
	}
	mov_const(e, TMP3, k);
	emit_word(e, a64_dp3(A64_MSUB, a, TMP1, TMP3, a));
}

/* Binary ALU with a constant right operand, computed in place in a. */
static void alu2_k(struct vfm_jit_ctx *e, enum vfm_alu2_op op, unsigned a, uint64_t k)
{
	switch (op) {
	case VFM_ALU2_ADD:
		add_imm(e, a, a, k, TMP1);
		break;
	case VFM_ALU2_SUB:
		add_imm(e, a, a, 0 - k, TMP1);
		break;
	case VFM_ALU2_AND:
		logic_k(e, A64_AND_IMM, A64_AND_REG, a, k);
		break;
	case VFM_ALU2_OR:
		logic_k(e, A64_ORR_IMM, A64_ORR_REG, a, k);
		break;
	case VFM_ALU2_XOR:
		logic_k(e, A64_EOR_IMM, A64_EOR_REG, a, k);
		break;
	case VFM_ALU2_MUL:
		if (is_pow2(k)) {
			emit_word(e, a64_lsl_imm(a, a, (unsigned)__builtin_ctzll(k)));
		} else {
			mov_const(e, TMP1, k);
			emit_word(e, a64_dp3(A64_MADD, a, a, TMP1, A64_ZR));
		}
		break;
	case VFM_ALU2_DIV:
	case VFM_ALU2_MOD:
		divmod_k(e, op == VFM_ALU2_MOD, a, k);
		break;
	case VFM_ALU2_SHL:
		if (k & 63)
			emit_word(e, a64_lsl_imm(a, a, (unsigned)(k & 63)));
		break;
	case VFM_ALU2_SHR:
		if (k & 63)
			emit_word(e, a64_lsr_imm(a, a, (unsigned)(k & 63)));
		break;
	}
}

/* Binary ALU on two registers, in place in a. */
static void alu2_reg(struct vfm_jit_ctx *e, enum vfm_alu2_op op, unsigned a, unsigned b)
{
	switch (op) {
	case VFM_ALU2_ADD: emit_word(e, a64_addsub_reg(A64_ADD_REG, a, a, b, A64_LSL, 0)); break;
	case VFM_ALU2_SUB: emit_word(e, a64_addsub_reg(A64_SUB_REG, a, a, b, A64_LSL, 0)); break;
	case VFM_ALU2_AND: emit_word(e, a64_logic_reg(A64_AND_REG, a, a, b)); break;
	case VFM_ALU2_OR: emit_word(e, a64_logic_reg(A64_ORR_REG, a, a, b)); break;
	case VFM_ALU2_XOR: emit_word(e, a64_logic_reg(A64_EOR_REG, a, a, b)); break;
	case VFM_ALU2_MUL: emit_word(e, a64_dp3(A64_MADD, a, a, b, A64_ZR)); break;
	/* UDIV by zero is 0, and then MSUB leaves a: x/0 = 0, x%0 = x. */
	case VFM_ALU2_DIV: emit_word(e, a64_dp2(A64_UDIV, a, a, b)); break;
	case VFM_ALU2_MOD:
		emit_word(e, a64_dp2(A64_UDIV, TMP2, a, b));
		emit_word(e, a64_dp3(A64_MSUB, a, TMP2, b, a));
		break;
	/* LSLV/LSRV shift by b mod 64 = b & 63. */
	case VFM_ALU2_SHL: emit_word(e, a64_dp2(A64_LSLV, a, a, b)); break;
	case VFM_ALU2_SHR: emit_word(e, a64_dp2(A64_LSRV, a, a, b)); break;
	}
}

static void a64_alu2(struct vfm_jit_ctx *e, uint32_t i, struct vfm_jit_operand bo)
{
	enum vfm_alu2_op op = (enum vfm_alu2_op)e->prog->insns[i].opcode;
	int d = vfm_jit_depth(e, i);
	int a_slot = d - 2; /* a fused k still counts in the depth */
	unsigned a = get_slot(e, a_slot, TMP0);
	if (bo.is_imm)
		alu2_k(e, op, a, bo.imm);
	else
		alu2_reg(e, op, a, get_slot(e, d - 1, TMP1));
	put_slot(e, a_slot, a);
}

static void a64_alu1(struct vfm_jit_ctx *e, uint32_t i)
{
	int top = vfm_jit_depth(e, i) - 1;
	unsigned r = get_slot(e, top, TMP0);
	switch ((enum vfm_alu1_op)e->prog->insns[i].opcode) {
	case VFM_ALU1_NOT: emit_word(e, a64_logic_reg(A64_ORN_REG, r, A64_ZR, r)); break; /* MVN */
	case VFM_ALU1_NEG: emit_word(e, a64_addsub_reg(A64_SUB_REG, r, A64_ZR, r, A64_LSL, 0)); break;
	}
	put_slot(e, top, r);
}

static void a64_jmp(struct vfm_jit_ctx *e, uint32_t i)
{
	switch ((enum vfm_jmp_op)e->prog->insns[i].opcode) {
	case VFM_JMP_JMP:
		branch(e, i, NULL);
		break;
	}
}

/* Condition under which "a REL b" holds after CMP a, b (SET and CLEAR:
 * after TST a, b). */
static enum a64_cond cond_of(enum vfm_rel rel)
{
	switch (rel) {
	case VFM_REL_EQ: return A64_EQ;
	case VFM_REL_NE: return A64_NE;
	case VFM_REL_LT: return A64_LO;
	case VFM_REL_LE: return A64_LS;
	case VFM_REL_GT: return A64_HI;
	case VFM_REL_GE: return A64_HS;
	case VFM_REL_SET: return A64_NE;
	case VFM_REL_CLEAR: return A64_EQ;
	}
	return A64_AL;
}

/* Set the flags for "a REL b" (or, for a == or != 0, nothing: CBZ/CBNZ)
 * and return the test that branches when it holds. */
static struct test compare(struct vfm_jit_ctx *e, enum vfm_rel rel, unsigned a, int d,
			   struct vfm_jit_operand bo)
{
	struct test t = {TEST_COND, cond_of(rel), 0};
	bool bits = rel == VFM_REL_SET || rel == VFM_REL_CLEAR;
	bool equality = rel == VFM_REL_EQ || rel == VFM_REL_NE;
	if (bo.is_imm && bo.imm == 0 && equality)
		return (struct test){rel == VFM_REL_EQ ? TEST_CBZ : TEST_CBNZ, A64_AL, a};
	if (bo.is_imm && bits && a64_bitmask_imm(bo.imm) >= 0) {
		emit_word(e, a64_logic_imm(A64_ANDS_IMM, A64_ZR, a, bo.imm)); /* TST */
		return t;
	}
	if (bo.is_imm && !bits && a64_addsub_imm_ok(bo.imm)) {
		emit_word(e, a64_addsub_imm(A64_SUBS, A64_ZR, a, bo.imm)); /* CMP */
		return t;
	}
	if (bo.is_imm && equality && a64_addsub_imm_ok(0 - bo.imm)) {
		/* CMN a, -k sets Z as CMP a, k does (not C: equality only). */
		emit_word(e, a64_addsub_imm(A64_ADDS, A64_ZR, a, 0 - bo.imm));
		return t;
	}
	unsigned b;
	if (bo.is_imm) {
		mov_const(e, TMP1, bo.imm);
		b = TMP1;
	} else {
		b = get_slot(e, d - 1, TMP1);
	}
	if (bits)
		emit_word(e, a64_logic_reg(A64_ANDS_REG, A64_ZR, a, b)); /* TST */
	else
		emit_word(e, a64_addsub_reg(A64_SUBS_REG, A64_ZR, a, b, A64_LSL, 0)); /* CMP */
	return t;
}

static void a64_jcc(struct vfm_jit_ctx *e, uint32_t i, struct vfm_jit_operand bo)
{
	uint8_t op = e->prog->insns[i].opcode;
	int d = vfm_jit_depth(e, i);
	unsigned a = get_slot(e, d - 2, TMP0);
	struct test t = compare(e, vfm_jcc_rel(op, true), a, d, bo);
	branch(e, i, &t);
}

static void a64_epilogue(struct vfm_jit_ctx *e);

/* Go to the epilogue with the result in x0; where the epilogue is two
 * words (no frame: store the count, RET) it is cheaper to repeat it. */
static void leave(struct vfm_jit_ctx *e)
{
	const struct a64 *x = arch(e);
	if (!x->frame_record && x->n_pairs == 0 && x->locals == 0)
		a64_epilogue(e);
	else
		b_to(e, vfm_jit_label_pos(e, VFM_JIT_EPILOGUE));
}

/* Return the verdict (saturated to 32 bits) with status OK. */
static void a64_ret(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct vfm_insn *insn = &e->prog->insns[i];
	switch ((enum vfm_ret_op)insn->opcode) {
	case VFM_RET_RET: {
		unsigned v = get_slot(e, vfm_jit_depth(e, i) - 1, TMP0);
		/* w0 = v < 2^32 ? v : 0xFFFFFFFF, high word clear: TST of the
		 * high 32 bits, CSINV W. */
		emit_word(e, a64_logic_imm(A64_ANDS_IMM, A64_ZR, v, UINT64_C(0xFFFFFFFF00000000)));
		emit_word(e, a64_csinv_w(A64_X0, v, A64_ZR, A64_EQ));
		break;
	}
	case VFM_RET_RETK:
		mov_const(e, A64_X0, insn->arg);
		break;
	}
	leave(e);
}

static void a64_special(struct vfm_jit_ctx *e, uint32_t i)
{
	const struct a64_map *m = map(e);
	int d = vfm_jit_depth(e, i), top = d - 1;
	switch ((enum vfm_special_op)e->prog->insns[i].opcode) {
	case VFM_SPECIAL_LEN:
		put_slot(e, d, m->len);
		break;
	case VFM_SPECIAL_WLEN: {
		/* vfm_sem_wire_len: the caller's wire length, or len if 0. */
		unsigned r = slot_target(e, d, TMP0);
		emit_word(e, a64_ldst_imm(A64_LDRX, r, m->args, offsetof(struct vfm_jit_args, wire_len)));
		emit_word(e, a64_addsub_imm(A64_SUBS, A64_ZR, r, 0)); /* CMP r, #0 */
		emit_word(e, a64_csel_x(r, m->len, r, A64_EQ));
		put_slot(e, d, r);
		break;
	}
	case VFM_SPECIAL_TS: {
		unsigned r = slot_target(e, d, TMP0);
		emit_word(e, a64_ldst_imm(A64_LDRX, r, m->args, offsetof(struct vfm_jit_args, ts_ns)));
		put_slot(e, d, r);
		break;
	}
	case VFM_SPECIAL_HASH5:
		save_live(e, d, false);
		mov_rr(e, A64_X0, m->data);
		mov_rr(e, A64_X1, m->len);
		call_helper(e, (const void *)vfm_hash5);
		save_live(e, d, true);
		put_slot(e, d, A64_X0);
		break;
	case VFM_SPECIAL_FLOW_LOAD:
		/* In programs with calls no slot lives in x0..x2. */
		save_live(e, top, false);
		mov_rr(e, A64_X1, get_slot(e, top, A64_X1));
		emit_word(e, a64_ldst_imm(A64_LDRX, A64_X0, m->args, offsetof(struct vfm_jit_args, flow)));
		call_helper(e, (const void *)vfm_flow_load);
		save_live(e, top, true);
		put_slot(e, top, A64_X0);
		break;
	case VFM_SPECIAL_FLOW_STORE:
		save_live(e, top - 1, false);
		mov_rr(e, A64_X1, get_slot(e, top - 1, A64_X1)); /* key */
		mov_rr(e, A64_X2, get_slot(e, top, A64_X2));     /* value */
		emit_word(e, a64_ldst_imm(A64_LDRX, A64_X0, m->args, offsetof(struct vfm_jit_args, flow)));
		call_helper(e, (const void *)vfm_flow_store);
		save_live(e, top - 1, true);
		break;
	}
}

/* ---- prologue, exits, epilogue ------------------------------------------------------------ */

/* Register map, callee-saved pairs and frame for the plan. */
static void a64_setup(struct vfm_jit_ctx *e)
{
	const struct vfm_jit_plan *p = &e->plan;
	struct a64 *x = arch(e);
	const struct a64_map *m = p->calls ? &call_map : &leaf_map;
	x->map = m;
	x->frame_record = p->calls; /* BLR clobbers x30 */
	bool used[32] = {false};
	used[m->data] = p->packet;
	used[m->len] = p->len;
	used[m->args] = p->args;
	used[m->budget] = p->budget;
	used[m->count] = p->count;
	unsigned in_regs = p->max_depth < m->n_slots ? p->max_depth : m->n_slots;
	unsigned n_caller_saved = 0;
	for (unsigned k = 0; k < in_regs; k++) {
		used[m->slots[k]] = true;
		n_caller_saved += !callee_saved(m->slots[k]);
	}
	for (unsigned r = A64_X19; r <= A64_X28; r += 2) {
		if (used[r] || used[r + 1]) {
			x->pairs[x->n_pairs][0] = (uint8_t)r;
			x->pairs[x->n_pairs][1] = (uint8_t)(r + 1);
			x->n_pairs++;
		}
	}
	uint32_t size = 0;
	x->scratch_off = size;
	if (p->scratch)
		size += 8 * VFM_SCRATCH_WORDS;
	x->save_off = size;
	if (p->calls)
		size += 8 * ((n_caller_saved + 1) & ~1u);
	x->spill_off = size;
	if (p->max_depth > m->n_slots)
		size += 8 * (p->max_depth - m->n_slots);
	x->locals = (size + 15) & ~15u;
}

static void a64_prologue(struct vfm_jit_ctx *e)
{
	const struct vfm_jit_plan *p = &e->plan;
	const struct a64_map *m = map(e);
	struct a64 *x = arch(e);
	if (x->frame_record) {
		emit_word(e, a64_pair(A64_STP_PRE, A64_FP, A64_LR, A64_SP, -16));
		emit_word(e, a64_addsub_imm(A64_ADD, A64_FP, A64_SP, 0)); /* MOV x29, SP */
	}
	for (unsigned k = 0; k < x->n_pairs; k++)
		emit_word(e, a64_pair(A64_STP_PRE, x->pairs[k][0], x->pairs[k][1], A64_SP, -16));
	if (x->locals)
		emit_word(e, a64_addsub_imm(A64_SUB, A64_SP, A64_SP, x->locals));
	/* The arguments arrive in x0 (args), x1 (data) and w2 (len: a
	 * uint32_t, whose upper half AAPCS64 leaves undefined, so the 32-bit
	 * move that zero-extends it is there even in place). */
	if (p->packet)
		mov_rr(e, m->data, A64_X1);
	if (p->len)
		emit_word(e, a64_logic_reg(A64_ORR_REG_W, m->len, A64_ZR, A64_X2));
	if (p->args)
		mov_rr(e, m->args, A64_X0);
	/* From the incoming x0: m->args is set up only if the program reads
	 * args otherwise. */
	if (p->budget)
		emit_word(e, a64_ldst_imm(A64_LDRX, m->budget, A64_X0, offsetof(struct vfm_jit_args, budget)));
	if (p->count)
		emit_word(e, a64_ldst_imm(A64_LDRX, m->count, m->args, offsetof(struct vfm_jit_args, insns)));
	if (p->reads_scratch)
		for (unsigned k = 0; k < VFM_SCRATCH_WORDS; k += 2)
			emit_word(e, a64_pair(A64_STP_OFF, A64_ZR, A64_ZR, A64_SP,
					 (int32_t)(x->scratch_off + 8 * k)));
}

static void a64_count(struct vfm_jit_ctx *e, uint32_t n)
{
	add_imm(e, map(e)->count, map(e)->count, n, TMP0);
}

/* Verdict 0 with the status in the high half. */
static void a64_exit(struct vfm_jit_ctx *e, vfm_status_t status, uint32_t uncount)
{
	if (uncount)
		add_imm(e, map(e)->count, map(e)->count, 0 - (uint64_t)uncount, TMP0);
	emit_word(e, a64_movw(A64_MOVZ, A64_X0, (uint32_t)status, 2)); /* status << 32 */
	leave(e);
}

static void a64_epilogue(struct vfm_jit_ctx *e)
{
	const struct vfm_jit_plan *p = &e->plan;
	const struct a64_map *m = map(e);
	struct a64 *x = arch(e);
	if (p->count)
		emit_word(e, a64_ldst_imm(A64_STRX, m->count, m->args, offsetof(struct vfm_jit_args, insns)));
	if (x->locals)
		emit_word(e, a64_addsub_imm(A64_ADD, A64_SP, A64_SP, x->locals));
	for (unsigned k = x->n_pairs; k-- > 0;)
		emit_word(e, a64_pair(A64_LDP_POST, x->pairs[k][0], x->pairs[k][1], A64_SP, 16));
	if (x->frame_record)
		emit_word(e, a64_pair(A64_LDP_POST, A64_FP, A64_LR, A64_SP, 16));
	emit_word(e, A64_RET);
}

/* ---- code memory hooks ------------------------------------------------------------------ */

/* AArch64 instruction fetch is not coherent with data stores: clean the
 * data cache and invalidate the instruction cache over the code (B2.4.4
 * "Concurrent modification and execution of instructions"; gcc's builtin
 * emits DC CVAU / IC IVAU with the barriers). */
static void a64_flush(uint8_t *code, size_t size)
{
	__builtin___clear_cache((char *)code, (char *)code + size);
}

/* Reject code with an encoder's sentinel word (operands it could not
 * encode). */
static bool a64_validate(const uint8_t *code, size_t size)
{
	if (size % 4 != 0)
		return false;
	for (size_t k = 0; k < size; k += 4) {
		uint32_t w = (uint32_t)code[k] | (uint32_t)code[k + 1] << 8 |
			     (uint32_t)code[k + 2] << 16 | (uint32_t)code[k + 3] << 24;
		if (w == A64_INVALID)
			return false;
	}
	return true;
}

static const struct vfm_jit_target arm64_target = {
	.name = "arm64",
	.objdump_arch = "aarch64",
	.fill = {0x00, 0x7D, 0x20, 0xD4}, /* BRK #0x3E8 (0xD4207D00), little-endian */
	.fill_len = 4,
	.arch_size = sizeof(struct a64),
	.setup = a64_setup,
	.prologue = a64_prologue,
	.epilogue = a64_epilogue,
	.exit = a64_exit,
	.count = a64_count,
	.stack = a64_stack,
	.load = a64_load,
	.loadx = a64_loadx,
	.alu2 = a64_alu2,
	.alu1 = a64_alu1,
	.jmp = a64_jmp,
	.jcc = a64_jcc,
	.ret = a64_ret,
	.special = a64_special,
	/* No memory compare on A64 (load_jcc stays NULL); guard hoisting. */
	.guard = a64_guard,
	.jump = a64_jump,
	.flush = a64_flush,
	.validate = a64_validate,
};

const struct vfm_jit_target *vfm_jit_native_target(void)
{
	return &arm64_target;
}
