/*
 * vm/cbpf.c — classic BPF (libpcap's struct bpf_insn) to VFM bytecode, with
 * the semantics of libpcap's bpf_filter() exactly.  docs/CBPF.md is the
 * instruction-by-instruction reference; this file implements it.  Loading
 * the result (verification) is api/cbpf.c's job: this file only uses vm/.
 *
 * Machine mapping.  At every cBPF instruction boundary the VFM stack holds
 * exactly two words, X below A (A on top); both are always < 2^32.  The
 * cBPF scratch words M[0..15] are VFM's M[0..15], which VFM zeroes for
 * every packet.  So every jump between cBPF instructions lands at depth 2,
 * which is what VFM's verifier demands (one depth per pc), and each
 * instruction's expansion only has to restore that shape.  Values stay
 * 32-bit by masking after the operations that can leave 32 bits in VFM's
 * 64-bit arithmetic (ADD, SUB, MUL, LSH, NEG); the others cannot.
 *
 * Where the two machines differ, the expansion closes the gap:
 *   - out-of-bounds loads: bpf_filter returns 0; VFM ends the packet with
 *     verdict 0 and status BOUNDS.  Same verdict, so the translation relies
 *     on VFM's bounds check (no explicit guard).  VFM's check is
 *     overflow-safe and the indexed offset X + k is computed in 64 bits,
 *     exactly bpf_filter's three-comparison check;
 *   - DIV/MOD by X == 0 returns 0 in bpf_filter; VFM defines x/0 = 0 and
 *     x%0 = x and carries on, so a guard jumps to a shared RET 0;
 *   - LSH/RSH by X >= 32 gives A = 0 in bpf_filter (libpcap >= 1.10
 *     checks); VFM masks the count with 63, so a guard pushes 0;
 *   - `ld #len` / `ldx #len` are bpf_filter's wirelen: VFM's WLEN;
 *   - RET #k returns k itself (VFM's RET k is the same u32 verdict).
 *
 * The validator accepts what libpcap's bpf_validate() accepts and
 * bpf_filter() implements (bpf_validate accepts opcodes that bpf_filter
 * aborts on), minus constant shifts by 32 or more (undefined behaviour in
 * bpf_filter, never emitted by pcap_compile, refused by Linux) and Linux's
 * negative-offset loads (SKF_AD_OFF, SKF_NET_OFF, SKF_LL_OFF), which mean
 * something else in the kernel than in bpf_filter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"

/* cBPF encoding (the BSD/libpcap/Linux constants, spelled out here so that
 * libvfm needs no libpcap headers). */
#define CBPF_CLASS(c) ((c) & 0x07)
#define CBPF_LD 0x00
#define CBPF_LDX 0x01
#define CBPF_ST 0x02
#define CBPF_STX 0x03
#define CBPF_ALU 0x04
#define CBPF_JMP 0x05
#define CBPF_RET 0x06
#define CBPF_MISC 0x07

/* Linux's negative load offsets (linux/filter.h): ancillary data from
 * SKF_AD_OFF (-0x1000) up, network- and link-layer-relative loads from
 * SKF_NET_OFF (-0x100000) and SKF_LL_OFF (-0x200000). */
#define CBPF_SKF_AD_OFF 0xFFFFF000u
#define CBPF_SKF_NET_OFF 0xFFF00000u
#define CBPF_SKF_LL_OFF 0xFFE00000u

/*
 * The opcodes bpf_filter implements: X(code, mnemonic, operand format).
 * Every other code is refused.  The operand formats are bpf_image()'s.
 */
enum cbpf_fmt {
	CBPF_F_NONE,   /* ret a, neg, tax, txa */
	CBPF_F_DEC,    /* #%d */
	CBPF_F_HEX,    /* #0x%x */
	CBPF_F_ABS,    /* [%d] */
	CBPF_F_IND,    /* [x + %d] */
	CBPF_F_MEM,    /* M[%d] */
	CBPF_F_X,      /* x */
	CBPF_F_MSH,    /* 4*([%d]&0xf) */
	CBPF_F_PKTLEN, /* #pktlen */
	CBPF_F_JA,     /* absolute target */
};

#define CBPF_OPCODES(X)                                                       \
	X(0x06, "ret", CBPF_F_DEC)   /* ret #k */                             \
	X(0x16, "ret", CBPF_F_NONE)  /* ret a */                              \
	X(0x20, "ld", CBPF_F_ABS)    /* ld [k] */                             \
	X(0x28, "ldh", CBPF_F_ABS)                                            \
	X(0x30, "ldb", CBPF_F_ABS)                                            \
	X(0x80, "ld", CBPF_F_PKTLEN) /* ld #len */                            \
	X(0x81, "ldx", CBPF_F_PKTLEN)                                         \
	X(0x40, "ld", CBPF_F_IND)    /* ld [x + k] */                         \
	X(0x48, "ldh", CBPF_F_IND)                                            \
	X(0x50, "ldb", CBPF_F_IND)                                            \
	X(0xb1, "ldxb", CBPF_F_MSH)  /* ldxb 4*([k]&0xf) */                   \
	X(0x00, "ld", CBPF_F_HEX)    /* ld #k */                              \
	X(0x01, "ldx", CBPF_F_HEX)                                            \
	X(0x60, "ld", CBPF_F_MEM)    /* ld M[k] */                            \
	X(0x61, "ldx", CBPF_F_MEM)                                            \
	X(0x02, "st", CBPF_F_MEM)                                             \
	X(0x03, "stx", CBPF_F_MEM)                                            \
	X(0x05, "ja", CBPF_F_JA)                                              \
	X(0x15, "jeq", CBPF_F_HEX)                                            \
	X(0x25, "jgt", CBPF_F_HEX)                                            \
	X(0x35, "jge", CBPF_F_HEX)                                            \
	X(0x45, "jset", CBPF_F_HEX)                                           \
	X(0x1d, "jeq", CBPF_F_X)                                              \
	X(0x2d, "jgt", CBPF_F_X)                                              \
	X(0x3d, "jge", CBPF_F_X)                                              \
	X(0x4d, "jset", CBPF_F_X)                                             \
	X(0x04, "add", CBPF_F_DEC)                                            \
	X(0x14, "sub", CBPF_F_DEC)                                            \
	X(0x24, "mul", CBPF_F_DEC)                                            \
	X(0x34, "div", CBPF_F_DEC)                                            \
	X(0x94, "mod", CBPF_F_DEC)                                            \
	X(0x54, "and", CBPF_F_HEX)                                            \
	X(0x44, "or", CBPF_F_HEX)                                             \
	X(0xa4, "xor", CBPF_F_HEX)                                            \
	X(0x64, "lsh", CBPF_F_DEC)                                            \
	X(0x74, "rsh", CBPF_F_DEC)                                            \
	X(0x0c, "add", CBPF_F_X)                                              \
	X(0x1c, "sub", CBPF_F_X)                                              \
	X(0x2c, "mul", CBPF_F_X)                                              \
	X(0x3c, "div", CBPF_F_X)                                              \
	X(0x9c, "mod", CBPF_F_X)                                              \
	X(0x5c, "and", CBPF_F_X)                                              \
	X(0x4c, "or", CBPF_F_X)                                               \
	X(0xac, "xor", CBPF_F_X)                                              \
	X(0x6c, "lsh", CBPF_F_X)                                              \
	X(0x7c, "rsh", CBPF_F_X)                                              \
	X(0x84, "neg", CBPF_F_NONE)                                           \
	X(0x07, "tax", CBPF_F_NONE)                                           \
	X(0x87, "txa", CBPF_F_NONE)

/* Mnemonic and operand format of a code; NULL for codes bpf_filter does
 * not implement (the one `default:`: it rejects). */
static const char *cbpf_mnemonic(uint16_t code, enum cbpf_fmt *fmt)
{
	switch (code) {
#define CBPF_MNEM_CASE_(c, m, f)                                              \
	case c:                                                               \
		*fmt = f;                                                     \
		return m;
		CBPF_OPCODES(CBPF_MNEM_CASE_)
#undef CBPF_MNEM_CASE_
	default:
		*fmt = CBPF_F_NONE;
		return NULL;
	}
}

/* ---- printing (the format of libpcap's bpf_image) ----------------------- */

static void cbpf_format_operand(const vfm_cbpf_insn_t *insn, uint32_t index,
				enum cbpf_fmt fmt, char *operand, size_t size);

/* The instruction without the "(NNN) " prefix. */
static int cbpf_format_body(const vfm_cbpf_insn_t *insn, uint32_t index,
			    char *buf, size_t n)
{
	enum cbpf_fmt fmt;
	const char *op = cbpf_mnemonic(insn->code, &fmt);
	char operand[64];
	if (!op) {
		op = "unimp";
		snprintf(operand, sizeof operand, "0x%x", insn->code);
	} else {
		cbpf_format_operand(insn, index, fmt, operand, sizeof operand);
	}
	/* bpf_image's rule: jt/jf for every JMP-class code but `ja`'s op. */
	if (CBPF_CLASS(insn->code) == CBPF_JMP && (insn->code & 0xf0) != 0)
		return snprintf(buf, n, "%-8s %-16s jt %u\tjf %u", op, operand,
				index + 1u + insn->jt, index + 1u + insn->jf);
	return snprintf(buf, n, "%-8s %s", op, operand);
}

/* The operand as bpf_image prints it. */
static void cbpf_format_operand(const vfm_cbpf_insn_t *insn, uint32_t index,
				enum cbpf_fmt fmt, char *operand, size_t size)
{
	int32_t sk = (int32_t)insn->k;
	switch (fmt) {
	case CBPF_F_NONE: operand[0] = '\0'; break;
	case CBPF_F_DEC: snprintf(operand, size, "#%d", sk); break;
	case CBPF_F_HEX: snprintf(operand, size, "#0x%x", insn->k); break;
	case CBPF_F_ABS: snprintf(operand, size, "[%d]", sk); break;
	case CBPF_F_IND: snprintf(operand, size, "[x + %d]", sk); break;
	case CBPF_F_MEM: snprintf(operand, size, "M[%d]", sk); break;
	case CBPF_F_X: snprintf(operand, size, "x"); break;
	case CBPF_F_MSH: snprintf(operand, size, "4*([%d]&0xf)", sk); break;
	case CBPF_F_PKTLEN: snprintf(operand, size, "#pktlen"); break;
	case CBPF_F_JA:
		/* bpf_image prints n + 1 + k as an int: wraps like it. */
		snprintf(operand, size, "%d", (int32_t)(index + 1u + insn->k));
		break;
	}
}

int vfm_cbpf_format(const vfm_cbpf_insn_t *insn, uint32_t index, char *buf,
		    size_t n)
{
	if (!insn)
		return snprintf(buf, n, "(null)");
	char body[128];
	cbpf_format_body(insn, index, body, sizeof body);
	return snprintf(buf, n, "(%03u) %s", index, body);
}

/* ---- validation ---------------------------------------------------------- */

/* Message "cBPF instruction I (ldh [12]): reason"; line = I + 1, the same
 * numbering as the line table of a translated program. */
__attribute__((format(printf, 5, 6))) static vfm_error_t
cbpf_fail(vfm_diag_t *diag, vfm_error_t code, const vfm_cbpf_insn_t *prog,
	  uint32_t i, const char *fmt, ...)
{
	char why[200], body[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	cbpf_format_body(&prog[i], i, body, sizeof body);
	/* Collapse the tab of jump listings: messages are one line. */
	for (char *p = body; *p; p++)
		if (*p == '\t')
			*p = ' ';
	return vfm_diag_set(diag, code, -1, i + 1u, "cBPF instruction %u (%s): %s",
			    i, body, why);
}

/* Name of a Linux ancillary offset (linux/filter.h), for the message. */
static const char *cbpf_skf_name(uint32_t k)
{
	static const struct {
		uint16_t off;
		const char *name;
	} names[] = {
		{0, "SKF_AD_PROTOCOL"},   {4, "SKF_AD_PKTTYPE"},
		{8, "SKF_AD_IFINDEX"},    {12, "SKF_AD_NLATTR"},
		{16, "SKF_AD_NLATTR_NEST"}, {20, "SKF_AD_MARK"},
		{24, "SKF_AD_QUEUE"},     {28, "SKF_AD_HATYPE"},
		{32, "SKF_AD_RXHASH"},    {36, "SKF_AD_CPU"},
		{40, "SKF_AD_ALU_XOR_X"}, {44, "SKF_AD_VLAN_TAG"},
		{48, "SKF_AD_VLAN_TAG_PRESENT"}, {52, "SKF_AD_PAY_OFFSET"},
		{56, "SKF_AD_RANDOM"},    {60, "SKF_AD_VLAN_TPID"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (k - CBPF_SKF_AD_OFF == names[i].off)
			return names[i].name;
	return "an unknown SKF_AD_* number";
}

/* Is instruction p (of a known code) acceptable?  VFM_OK, or the refusal. */
static vfm_error_t cbpf_check_insn(const vfm_cbpf_insn_t *prog, uint32_t len,
				   uint32_t i, vfm_diag_t *diag)
{
	const vfm_cbpf_insn_t *p = &prog[i];
	enum cbpf_fmt fmt;
	if (!cbpf_mnemonic(p->code, &fmt))
		return cbpf_fail(diag, VFM_EVERIFY, prog, i,
				 "unknown opcode 0x%02x (bpf_filter does not implement it)",
				 p->code);
	/* Scratch words (bpf_validate). */
	if (fmt == CBPF_F_MEM && p->k >= VFM_CBPF_MEMWORDS)
		return cbpf_fail(diag, VFM_EVERIFY, prog, i,
				 "scratch index %u is not below %u", p->k, VFM_CBPF_MEMWORDS);
	/* Division by a constant 0 (bpf_validate). */
	if ((p->code == 0x34 || p->code == 0x94) && p->k == 0)
		return cbpf_fail(diag, VFM_EVERIFY, prog, i, "%s by the constant 0",
				 p->code == 0x34 ? "division" : "modulo");
	/* Constant shifts by 32 or more: undefined in bpf_filter (docs/CBPF.md). */
	if ((p->code == 0x64 || p->code == 0x74) && p->k >= 32)
		return cbpf_fail(diag, VFM_EVERIFY, prog, i,
				 "constant shift by %u: shifts by 32 or more are undefined in bpf_filter",
				 p->k);
	/* Linux's negative offsets: absolute loads only; for [x + k] and
	 * 4*([k]&0xf) bpf_filter (like VFM) takes k as an offset. */
	if (fmt == CBPF_F_ABS && p->k >= CBPF_SKF_AD_OFF)
		return cbpf_fail(diag, VFM_EUNSUPPORTED, prog, i,
				 "Linux ancillary load SKF_AD_OFF%+d (%s) is not supported",
				 (int32_t)(p->k - CBPF_SKF_AD_OFF), cbpf_skf_name(p->k));
	if (fmt == CBPF_F_ABS && p->k >= CBPF_SKF_LL_OFF)
		return cbpf_fail(diag, VFM_EUNSUPPORTED, prog, i,
				 "Linux %s-relative load (offset %d) is not supported",
				 p->k >= CBPF_SKF_NET_OFF ? "SKF_NET_OFF" : "SKF_LL_OFF",
				 (int32_t)p->k);
	/* Jump targets (bpf_validate; `ja` is signed, backward allowed). */
	if (fmt == CBPF_F_JA) {
		int64_t t = (int64_t)i + 1 + (int32_t)p->k;
		if (t < 0 || t >= (int64_t)len)
			return cbpf_fail(diag, VFM_EVERIFY, prog, i,
					 "jump target %lld is outside the program (%u instructions)",
					 (long long)t, len);
	} else if (CBPF_CLASS(p->code) == CBPF_JMP) {
		if (i + 1u + p->jt >= len || i + 1u + p->jf >= len)
			return cbpf_fail(diag, VFM_EVERIFY, prog, i,
					 "jump target %u is past the end (%u instructions)",
					 i + 1u + (p->jt > p->jf ? p->jt : p->jf), len);
	}
	return VFM_OK;
}

vfm_error_t vfm_cbpf_validate(const vfm_cbpf_insn_t *prog, size_t n,
			      vfm_diag_t *diag)
{
	if (diag)
		memset(diag, 0, sizeof *diag);
	if (!prog && n)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "cBPF program is NULL");
	if (n == 0)
		return vfm_diag_set(diag, VFM_EVERIFY, -1, 0,
				    "cBPF program is empty (bpf_validate needs at least one instruction)");
	if (n > VFM_CBPF_MAX_INSNS)
		return vfm_diag_set(diag, VFM_ETOOBIG, -1, 0,
				    "cBPF program has %zu instructions, more than the limit of %u",
				    n, VFM_CBPF_MAX_INSNS);
	uint32_t len = (uint32_t)n;
	for (uint32_t i = 0; i < len; i++) {
		vfm_error_t err = cbpf_check_insn(prog, len, i, diag);
		if (err != VFM_OK)
			return err;
	}
	if (CBPF_CLASS(prog[len - 1].code) != CBPF_RET)
		return cbpf_fail(diag, VFM_EVERIFY, prog, len - 1,
				 "the last instruction is not a return");
	return VFM_OK;
}

/* ---- translation ---------------------------------------------------------- */

/* The largest VFM expansion of one cBPF instruction, in bytes and in VFM
 * instructions (lsh x: 10 instructions, 42 bytes; a conditional jump with
 * both targets: 4 instructions, 20 bytes); checked as we emit. */
#define CBPF_MAX_BYTES 48u
#define CBPF_MAX_VFM_INSNS 12u

enum { CBPF_TO_RET0 = -1, CBPF_NO_FIX = -2 }; /* special fix-up targets */

struct cbpf_fix {
	uint32_t pos;   /* offset of the rel32 in code */
	int64_t target; /* cBPF index, or CBPF_TO_RET0 */
};

struct cbpf_emit {
	uint8_t *code;
	uint32_t len;
	struct vfm_line *lines;
	uint32_t n_lines;
	uint32_t line; /* cBPF index + 1 of what is being emitted; 0: none */
	struct cbpf_fix *fix;
	uint32_t n_fix;
	int uses_ret0; /* some guard jumps to the shared RET 0 */
};

/* One VFM instruction.  The buffers are sized for the worst case up front
 * (CBPF_MAX_BYTES, CBPF_MAX_VFM_INSNS per cBPF instruction), so emitting
 * cannot run out of room; vfm_from_cbpf checks the bound after each. */
static void cbpf_op(struct cbpf_emit *e, enum vfm_opcode opcode)
{
	if (e->line)
		e->lines[e->n_lines++] = (struct vfm_line){e->len, e->line};
	e->code[e->len++] = (uint8_t)opcode;
}

static void cbpf_op_u8(struct cbpf_emit *e, enum vfm_opcode opcode, uint8_t v)
{
	cbpf_op(e, opcode);
	e->code[e->len++] = v;
}

static void cbpf_op_u32(struct cbpf_emit *e, enum vfm_opcode opcode, uint32_t v)
{
	cbpf_op(e, opcode);
	vfm_put_le32(e->code + e->len, v);
	e->len += 4;
}

static void cbpf_push(struct cbpf_emit *e, uint64_t v)
{
	cbpf_op(e, VFM_OPC_PUSH);
	vfm_put_le64(e->code + e->len, v);
	e->len += 8;
}

/* A jump whose target is resolved later (CBPF_NO_FIX: by cbpf_patch);
 * returns the rel32's offset. */
static uint32_t cbpf_jump(struct cbpf_emit *e, enum vfm_opcode opcode, int64_t target)
{
	cbpf_op(e, opcode);
	uint32_t pos = e->len;
	e->len += 4;
	if (target != CBPF_NO_FIX)
		e->fix[e->n_fix++] = (struct cbpf_fix){pos, target};
	if (target == CBPF_TO_RET0)
		e->uses_ret0 = 1;
	return pos;
}

/* Point the rel32 at pos to the VFM pc target. */
static void cbpf_patch(struct cbpf_emit *e, uint32_t pos, uint32_t target)
{
	vfm_put_le32(e->code + pos, (uint32_t)((int64_t)target - (int64_t)(pos + 4)));
}

/* Keep A 32-bit after an operation that can carry out of 32 bits. */
static void cbpf_mask(struct cbpf_emit *e)
{
	cbpf_push(e, 0xFFFFFFFFu);
	cbpf_op(e, VFM_OPC_AND);
}

/* A = A op k (k != 0 for DIV/MOD, k < 32 for shifts: validated). */
static void cbpf_alu_k(struct cbpf_emit *e, enum vfm_opcode op, uint32_t k, int carries)
{
	cbpf_push(e, k);
	cbpf_op(e, op);
	if (carries)
		cbpf_mask(e);
}

/* A = A op X (OVER brings X to the top: a = A, b = X). */
static void cbpf_alu_x(struct cbpf_emit *e, enum vfm_opcode op, int carries)
{
	cbpf_op(e, VFM_OPC_OVER);
	cbpf_op(e, op);
	if (carries)
		cbpf_mask(e);
}

/* DIV/MOD by X: bpf_filter returns 0 when X == 0. */
static void cbpf_div_x(struct cbpf_emit *e, enum vfm_opcode op)
{
	cbpf_op(e, VFM_OPC_OVER);
	cbpf_push(e, 0);
	cbpf_jump(e, VFM_OPC_JEQ, CBPF_TO_RET0);
	cbpf_alu_x(e, op, 0);
}

/* LSH/RSH by X: bpf_filter gives A = X < 32 ? A op X : 0; VFM would use
 * X & 63, so counts above 31 take the other branch. */
static void cbpf_shift_x(struct cbpf_emit *e, enum vfm_opcode op, int carries)
{
	cbpf_op(e, VFM_OPC_OVER);
	cbpf_push(e, 31);
	uint32_t big = cbpf_jump(e, VFM_OPC_JGT, CBPF_NO_FIX);
	cbpf_alu_x(e, op, carries);
	uint32_t done = cbpf_jump(e, VFM_OPC_JMP, CBPF_NO_FIX);
	cbpf_patch(e, big, e->len);
	cbpf_op(e, VFM_OPC_POP);
	cbpf_push(e, 0);
	cbpf_patch(e, done, e->len);
}

/* Replace A by what one load instruction pushes (POP the old A first). */
static void cbpf_set_a_load(struct cbpf_emit *e, enum vfm_opcode op, uint32_t k)
{
	cbpf_op(e, VFM_OPC_POP);
	cbpf_op_u32(e, op, k);
}

/* A = P[X + k]: the index is a copy of X (POP A; DUP X). */
static void cbpf_set_a_ind(struct cbpf_emit *e, enum vfm_opcode op, uint32_t k)
{
	cbpf_op(e, VFM_OPC_POP);
	cbpf_op(e, VFM_OPC_DUP);
	cbpf_op_u32(e, op, k);
}

/* X is the word under A: SWAP; POP; <push the new X>; SWAP.  These two
 * bracket the push. */
static void cbpf_x_begin(struct cbpf_emit *e)
{
	cbpf_op(e, VFM_OPC_SWAP);
	cbpf_op(e, VFM_OPC_POP);
}

static void cbpf_x_end(struct cbpf_emit *e)
{
	cbpf_op(e, VFM_OPC_SWAP);
}

/*
 * A conditional jump: compare, then branch to cBPF index jt_t or jf_t.
 * The operands are pushed so that the VFM compare (a OP b, b on top) is
 * the cBPF one: with k, DUP; PUSH k gives a = A, b = k; with X, OVER;
 * OVER gives a = X, b = A, so A > X and A >= X become X < A and X <= A.
 * taken/not_taken: the VFM jumps for "condition true" and "false"
 * (not_taken 0: none, JSET has no complement).
 */
static void cbpf_branch(struct cbpf_emit *e, const vfm_cbpf_insn_t *p, uint32_t i,
			int with_x, enum vfm_opcode taken, int has_not, enum vfm_opcode not_taken)
{
	uint32_t next = i + 1, jt_t = next + p->jt, jf_t = next + p->jf;
	if (jt_t == jf_t) { /* the comparison has no effect */
		if (jt_t != next)
			cbpf_jump(e, VFM_OPC_JMP, jt_t);
		return;
	}
	if (with_x) {
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_op(e, VFM_OPC_OVER);
	} else {
		cbpf_op(e, VFM_OPC_DUP);
		cbpf_push(e, p->k);
	}
	if (jf_t == next) {
		cbpf_jump(e, taken, jt_t);
	} else if (jt_t == next && has_not) {
		cbpf_jump(e, not_taken, jf_t);
	} else {
		cbpf_jump(e, taken, jt_t);
		cbpf_jump(e, VFM_OPC_JMP, jf_t);
	}
}

/* Expand cBPF instruction i (validated).  Every code cbpf_mnemonic knows
 * has its case; the default is unreachable after validation and rejects
 * rather than emit nothing. */
static vfm_error_t cbpf_insn(struct cbpf_emit *e, const vfm_cbpf_insn_t *prog,
			     uint32_t i, vfm_diag_t *diag)
{
	const vfm_cbpf_insn_t *p = &prog[i];
	uint32_t k = p->k;
	switch (p->code) {
	/* returns: RET pops A (X is left behind, which RET allows) */
	case 0x06: cbpf_op_u32(e, VFM_OPC_RETK, k); break;
	case 0x16: cbpf_op(e, VFM_OPC_RET); break;
	/* A = packet, length, constant, scratch */
	case 0x20: cbpf_set_a_load(e, VFM_OPC_LD32, k); break;
	case 0x28: cbpf_set_a_load(e, VFM_OPC_LD16, k); break;
	case 0x30: cbpf_set_a_load(e, VFM_OPC_LD8, k); break;
	case 0x40: cbpf_set_a_ind(e, VFM_OPC_LD32X, k); break;
	case 0x48: cbpf_set_a_ind(e, VFM_OPC_LD16X, k); break;
	case 0x50: cbpf_set_a_ind(e, VFM_OPC_LD8X, k); break;
	case 0x80:
		cbpf_op(e, VFM_OPC_POP);
		cbpf_op(e, VFM_OPC_WLEN);
		break;
	case 0x00:
		cbpf_op(e, VFM_OPC_POP);
		cbpf_push(e, k);
		break;
	case 0x60:
		cbpf_op(e, VFM_OPC_POP);
		cbpf_op_u8(e, VFM_OPC_LDM, (uint8_t)k);
		break;
	/* X = length, MSH, constant, scratch */
	case 0x81:
		cbpf_x_begin(e);
		cbpf_op(e, VFM_OPC_WLEN);
		cbpf_x_end(e);
		break;
	case 0xb1: /* X = (P[k] & 0xf) << 2 */
		cbpf_x_begin(e);
		cbpf_op_u32(e, VFM_OPC_LD8, k);
		cbpf_push(e, 0xf);
		cbpf_op(e, VFM_OPC_AND);
		cbpf_push(e, 2);
		cbpf_op(e, VFM_OPC_SHL);
		cbpf_x_end(e);
		break;
	case 0x01:
		cbpf_x_begin(e);
		cbpf_push(e, k);
		cbpf_x_end(e);
		break;
	case 0x61:
		cbpf_x_begin(e);
		cbpf_op_u8(e, VFM_OPC_LDM, (uint8_t)k);
		cbpf_x_end(e);
		break;
	/* stores */
	case 0x02:
		cbpf_op(e, VFM_OPC_DUP);
		cbpf_op_u8(e, VFM_OPC_STM, (uint8_t)k);
		break;
	case 0x03:
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_op_u8(e, VFM_OPC_STM, (uint8_t)k);
		break;
	/* jumps; a backward `ja` becomes a backward JMP under VFM's budget */
	case 0x05: {
		int64_t t = (int64_t)i + 1 + (int32_t)k;
		if (t != (int64_t)i + 1)
			cbpf_jump(e, VFM_OPC_JMP, t);
		break;
	}
	case 0x15: cbpf_branch(e, p, i, 0, VFM_OPC_JEQ, 1, VFM_OPC_JNE); break;
	case 0x25: cbpf_branch(e, p, i, 0, VFM_OPC_JGT, 1, VFM_OPC_JLE); break;
	case 0x35: cbpf_branch(e, p, i, 0, VFM_OPC_JGE, 1, VFM_OPC_JLT); break;
	case 0x45: cbpf_branch(e, p, i, 0, VFM_OPC_JSET, 0, VFM_OPC_JSET); break;
	case 0x1d: cbpf_branch(e, p, i, 1, VFM_OPC_JEQ, 1, VFM_OPC_JNE); break;
	case 0x2d: cbpf_branch(e, p, i, 1, VFM_OPC_JLT, 1, VFM_OPC_JGE); break;
	case 0x3d: cbpf_branch(e, p, i, 1, VFM_OPC_JLE, 1, VFM_OPC_JGT); break;
	case 0x4d: cbpf_branch(e, p, i, 1, VFM_OPC_JSET, 0, VFM_OPC_JSET); break;
	/* ALU with k */
	case 0x04: cbpf_alu_k(e, VFM_OPC_ADD, k, 1); break;
	case 0x14: cbpf_alu_k(e, VFM_OPC_SUB, k, 1); break;
	case 0x24: cbpf_alu_k(e, VFM_OPC_MUL, k, 1); break;
	case 0x34: cbpf_alu_k(e, VFM_OPC_DIV, k, 0); break;
	case 0x94: cbpf_alu_k(e, VFM_OPC_MOD, k, 0); break;
	case 0x54: cbpf_alu_k(e, VFM_OPC_AND, k, 0); break;
	case 0x44: cbpf_alu_k(e, VFM_OPC_OR, k, 0); break;
	case 0xa4: cbpf_alu_k(e, VFM_OPC_XOR, k, 0); break;
	case 0x64: cbpf_alu_k(e, VFM_OPC_SHL, k, 1); break;
	case 0x74: cbpf_alu_k(e, VFM_OPC_SHR, k, 0); break;
	/* ALU with X */
	case 0x0c: cbpf_alu_x(e, VFM_OPC_ADD, 1); break;
	case 0x1c: cbpf_alu_x(e, VFM_OPC_SUB, 1); break;
	case 0x2c: cbpf_alu_x(e, VFM_OPC_MUL, 1); break;
	case 0x3c: cbpf_div_x(e, VFM_OPC_DIV); break;
	case 0x9c: cbpf_div_x(e, VFM_OPC_MOD); break;
	case 0x5c: cbpf_alu_x(e, VFM_OPC_AND, 0); break;
	case 0x4c: cbpf_alu_x(e, VFM_OPC_OR, 0); break;
	case 0xac: cbpf_alu_x(e, VFM_OPC_XOR, 0); break;
	case 0x6c: cbpf_shift_x(e, VFM_OPC_SHL, 1); break;
	case 0x7c: cbpf_shift_x(e, VFM_OPC_SHR, 0); break;
	case 0x84: /* A = 0 - A, mod 2^32 */
		cbpf_op(e, VFM_OPC_NEG);
		cbpf_mask(e);
		break;
	/* register moves */
	case 0x07: /* X = A: [X A] -> [A A] */
		cbpf_op(e, VFM_OPC_SWAP);
		cbpf_op(e, VFM_OPC_POP);
		cbpf_op(e, VFM_OPC_DUP);
		break;
	case 0x87: /* A = X: [X A] -> [X X] */
		cbpf_op(e, VFM_OPC_POP);
		cbpf_op(e, VFM_OPC_DUP);
		break;
	default:
		return cbpf_fail(diag, VFM_EVERIFY, prog, i,
				 "unknown opcode 0x%02x (bpf_filter does not implement it)",
				 p->code);
	}
	return VFM_OK;
}

/* Append a section to a file image made by vfm_file_write: one more in
 * the header's count and a new CRC. */
static vfm_error_t cbpf_add_section(uint8_t **img, size_t *len, uint16_t type,
				    const uint8_t *payload, uint32_t size)
{
	uint8_t *buf = realloc(*img, *len + VFM_SECTION_HEADER_SIZE + size);
	if (!buf)
		return VFM_ENOMEM;
	uint8_t *s = buf + *len;
	vfm_put_le16(s, type);
	vfm_put_le16(s + 2, 0);
	vfm_put_le32(s + 4, size);
	memcpy(s + VFM_SECTION_HEADER_SIZE, payload, size);
	*len += VFM_SECTION_HEADER_SIZE + size;
	vfm_put_le32(buf + 12, vfm_get_le32(buf + 12) + 1u);
	vfm_put_le32(buf + 16, vfm_crc32(buf + VFM_HEADER_SIZE, *len - VFM_HEADER_SIZE));
	*img = buf;
	return VFM_OK;
}

/* The cBPF program as the VFM_SECTION_CBPF payload (8 bytes each, LE). */
static uint8_t *cbpf_origin(const vfm_cbpf_insn_t *prog, uint32_t len)
{
	uint8_t *origin = malloc((size_t)len * 8u);
	if (!origin)
		return NULL;
	for (uint32_t i = 0; i < len; i++) {
		vfm_put_le16(origin + 8 * i, prog[i].code);
		origin[8 * i + 2] = prog[i].jt;
		origin[8 * i + 3] = prog[i].jf;
		vfm_put_le32(origin + 8 * i + 4, prog[i].k);
	}
	return origin;
}

vfm_error_t vfm_from_cbpf(const vfm_cbpf_insn_t *prog, size_t n,
			  const vfm_cbpf_options_t *opt, uint8_t **out,
			  size_t *out_len, vfm_diag_t *diag)
{
	if (!out || !out_len) {
		if (diag)
			memset(diag, 0, sizeof *diag);
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "out pointer is NULL");
	}
	*out = NULL;
	*out_len = 0;
	vfm_error_t err = vfm_cbpf_validate(prog, n, diag);
	if (err != VFM_OK)
		return err;
	uint32_t len = (uint32_t)n, flags = opt ? opt->flags : 0;

	struct cbpf_emit e = {0};
	uint32_t *start = malloc(((size_t)len + 1) * sizeof *start);
	e.code = malloc(32u + (size_t)len * CBPF_MAX_BYTES);
	e.lines = malloc(((size_t)len * CBPF_MAX_VFM_INSNS + 4) * sizeof *e.lines);
	/* At most two resolved jumps per instruction (jt and jf). */
	e.fix = malloc(((size_t)len * 2 + 1) * sizeof *e.fix);
	uint8_t *origin = NULL;
	if (!start || !e.code || !e.lines || !e.fix) {
		err = vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
		goto done;
	}

	/* Prologue: X = 0, A = 0 (M[] is zeroed by VFM for every packet). */
	cbpf_push(&e, 0);
	cbpf_push(&e, 0);
	for (uint32_t i = 0; i < len; i++) {
		start[i] = e.len;
		e.line = i + 1u;
		uint32_t before = e.len, lines_before = e.n_lines;
		err = cbpf_insn(&e, prog, i, diag);
		if (err != VFM_OK)
			goto done;
		/* The worst-case sizing of the buffers must hold; a breach
		 * is a bug here, reported rather than written past. */
		if (e.len - before > CBPF_MAX_BYTES ||
		    e.n_lines - lines_before > CBPF_MAX_VFM_INSNS) {
			err = cbpf_fail(diag, VFM_EINVAL, prog, i,
					"internal error: expansion exceeds %u bytes",
					CBPF_MAX_BYTES);
			goto done;
		}
	}
	e.line = 0;
	uint32_t ret0 = e.len;
	if (e.uses_ret0)
		cbpf_op_u32(&e, VFM_OPC_RETK, 0);
	for (uint32_t f = 0; f < e.n_fix; f++)
		cbpf_patch(&e, e.fix[f].pos,
			   e.fix[f].target == CBPF_TO_RET0 ? ret0
							  : start[e.fix[f].target]);

	const char *name = opt ? opt->source_name : NULL;
	const char *linktype = opt ? opt->linktype : NULL;
	if (linktype && !vfm_linktype_name_ok((const uint8_t *)linktype, strlen(linktype))) {
		err = vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				   "link type '%s' is not a name of letters, digits and '_'",
				   linktype);
		goto done;
	}
	int with_lines = !(flags & VFM_CBPF_NO_LINES);
	err = vfm_file_write(e.code, e.len, with_lines ? e.lines : NULL,
			     with_lines ? e.n_lines : 0, name, linktype, out, out_len);
	if (err != VFM_OK) {
		err = vfm_diag_set(diag, err, -1, 0, "out of memory");
		goto done;
	}
	if (!(flags & VFM_CBPF_NO_ORIGIN)) {
		origin = cbpf_origin(prog, len);
		err = origin ? cbpf_add_section(out, out_len, VFM_SECTION_CBPF, origin,
						len * 8u)
			     : VFM_ENOMEM;
		if (err != VFM_OK) {
			free(*out);
			*out = NULL;
			*out_len = 0;
			err = vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
		}
	}
done:
	free(origin);
	free(start);
	free(e.code);
	free(e.lines);
	free(e.fix);
	return err;
}

vfm_error_t vfm_cbpf_from_file(const uint8_t *bytes, size_t len,
			       vfm_cbpf_insn_t **out, size_t *n, vfm_diag_t *diag)
{
	struct vfm_file file;
	if (diag)
		memset(diag, 0, sizeof *diag);
	if (!out || !n)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "out pointer is NULL");
	*out = NULL;
	*n = 0;
	vfm_error_t err = vfm_file_parse(bytes, len, &file, diag);
	if (err != VFM_OK)
		return err;
	/* The parser checked every section header and size; walk them again
	 * for the one type it skips. */
	uint32_t n_sections = vfm_get_le32(bytes + 12);
	size_t pos = VFM_HEADER_SIZE + (size_t)file.code_size;
	for (uint32_t s = 0; s < n_sections; s++) {
		uint16_t type = vfm_get_le16(bytes + pos);
		uint32_t size = vfm_get_le32(bytes + pos + 4);
		pos += VFM_SECTION_HEADER_SIZE;
		if (type == VFM_SECTION_CBPF) {
			if (size == 0 || size % 8 != 0 || size / 8 > VFM_CBPF_MAX_INSNS)
				return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
						    "cBPF section size %u is not a multiple of 8 between 8 and %u",
						    size, 8u * VFM_CBPF_MAX_INSNS);
			vfm_cbpf_insn_t *p = malloc((size / 8) * sizeof *p);
			if (!p)
				return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
			for (uint32_t i = 0; i < size / 8; i++) {
				const uint8_t *q = bytes + pos + 8 * i;
				p[i].code = vfm_get_le16(q);
				p[i].jt = q[2];
				p[i].jf = q[3];
				p[i].k = vfm_get_le32(q + 4);
			}
			*out = p;
			*n = size / 8;
			return VFM_OK;
		}
		pos += size;
	}
	return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
			    "the file has no cBPF section (it was not translated from classic BPF)");
}
