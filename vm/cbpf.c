/*
 * vm/cbpf.c — classic BPF (libpcap's struct bpf_insn) to VFM bytecode, with
 * the semantics of libpcap's bpf_filter() exactly (docs/CBPF.md is the
 * instruction-by-instruction reference; this file implements it).
 *
 * Machine mapping.  At every cBPF instruction boundary the VFM stack holds
 * exactly two words, X below A (A on top); both are always < 2^32.  The
 * cBPF scratch words M[0..15] are VFM's M[0..15].  So every jump between
 * cBPF instructions is at depth 2, which is what VFM's verifier demands
 * (one depth per pc), and an instruction's expansion only needs to restore
 * that shape.  Values stay 32-bit by masking after the operations that can
 * exceed 32 bits in VFM's 64-bit arithmetic (ADD, SUB, MUL, LSH, NEG).
 *
 * Where the two machines differ, the expansion closes the gap:
 *   - out-of-bounds loads: bpf_filter returns 0, VFM ends the packet with
 *     verdict 0 and status BOUNDS; the verdict is the same, so the
 *     translation relies on VFM's bounds check (no explicit guard), and
 *     BOUNDS tells the caller why the packet was dropped;
 *   - DIV/MOD by X == 0 returns 0 in bpf_filter; VFM defines x/0 = 0 and
 *     x%0 = x, so an explicit guard jumps to a shared RET 0;
 *   - LSH/RSH by X >= 32 gives A = 0 in bpf_filter; VFM masks the count
 *     with 63, so an explicit guard sets A to 0;
 *   - indexed loads: bpf_filter checks X + k without wrap-around, exactly
 *     VFM's LDnX (offset computed in 64 bits);
 *   - RET #k returns k itself (VFM's RET k is a u32 verdict: no change).
 *
 * The validator accepts what libpcap's bpf_validate() accepts and
 * bpf_filter() implements (bpf_validate of libpcap 1.10 accepts opcodes
 * that bpf_filter aborts on), minus constant shifts by 32 or more
 * (undefined behaviour in libpcap 1.10's bpf_filter, rejected by newer
 * libpcap) and Linux's negative-offset loads (SKF_AD_OFF, SKF_NET_OFF,
 * SKF_LL_OFF), which mean something else in the kernel.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"
#include "state.h"

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

#define CBPF_W 0x00
#define CBPF_H 0x08
#define CBPF_B 0x10
#define CBPF_IMM 0x00
#define CBPF_ABS 0x20
#define CBPF_IND 0x40
#define CBPF_MEM 0x60
#define CBPF_LEN 0x80
#define CBPF_MSH 0xa0

#define CBPF_ADD 0x00
#define CBPF_SUB 0x10
#define CBPF_MUL 0x20
#define CBPF_DIV 0x30
#define CBPF_OR 0x40
#define CBPF_AND 0x50
#define CBPF_LSH 0x60
#define CBPF_RSH 0x70
#define CBPF_NEG 0x80
#define CBPF_MOD 0x90
#define CBPF_XOR 0xa0

#define CBPF_JA 0x00
#define CBPF_JEQ 0x10
#define CBPF_JGT 0x20
#define CBPF_JGE 0x30
#define CBPF_JSET 0x40

#define CBPF_K 0x00
#define CBPF_X 0x08
#define CBPF_A 0x10 /* RET A */
#define CBPF_TAX 0x00
#define CBPF_TXA 0x80

/* Linux's negative load offsets (linux/filter.h): ancillary data from
 * SKF_AD_OFF (-0x1000) up, network- and link-layer-relative loads from
 * SKF_NET_OFF (-0x100000) and SKF_LL_OFF (-0x200000). */
#define CBPF_SKF_AD_OFF 0xFFFFF000u
#define CBPF_SKF_NET_OFF 0xFFF00000u
#define CBPF_SKF_LL_OFF 0xFFE00000u

/* The largest VFM expansion of one cBPF instruction, in bytes and in VFM
 * instructions (LSH X: 10 instructions, 42 bytes); checked as we emit. */
#define CBPF_MAX_BYTES 48u
#define CBPF_MAX_VFM_INSNS 12u

/* ---- printing (the format of libpcap's bpf_image) ----------------------- */

/* Mnemonic and operand of an instruction; NULL mnemonic for opcodes
 * bpf_filter does not implement. */
static const char *cbpf_mnemonic(uint16_t code, int *operand)
{
	/* operand: 0 none, 1 "#%d", 2 "#0x%x", 3 "[%d]", 4 "[x + %d]",
	 * 5 "M[%d]", 6 "x", 7 "4*([%d]&0xf)", 8 "#pktlen", 9 ja target */
	*operand = 0;
	switch (code) {
	case CBPF_RET | CBPF_K: *operand = 1; return "ret";
	case CBPF_RET | CBPF_A: return "ret";
	case CBPF_LD | CBPF_W | CBPF_ABS: *operand = 3; return "ld";
	case CBPF_LD | CBPF_H | CBPF_ABS: *operand = 3; return "ldh";
	case CBPF_LD | CBPF_B | CBPF_ABS: *operand = 3; return "ldb";
	case CBPF_LD | CBPF_W | CBPF_LEN: *operand = 8; return "ld";
	case CBPF_LDX | CBPF_W | CBPF_LEN: *operand = 8; return "ldx";
	case CBPF_LD | CBPF_W | CBPF_IND: *operand = 4; return "ld";
	case CBPF_LD | CBPF_H | CBPF_IND: *operand = 4; return "ldh";
	case CBPF_LD | CBPF_B | CBPF_IND: *operand = 4; return "ldb";
	case CBPF_LDX | CBPF_MSH | CBPF_B: *operand = 7; return "ldxb";
	case CBPF_LD | CBPF_IMM: *operand = 2; return "ld";
	case CBPF_LDX | CBPF_IMM: *operand = 2; return "ldx";
	case CBPF_LD | CBPF_MEM: *operand = 5; return "ld";
	case CBPF_LDX | CBPF_MEM: *operand = 5; return "ldx";
	case CBPF_ST: *operand = 5; return "st";
	case CBPF_STX: *operand = 5; return "stx";
	case CBPF_JMP | CBPF_JA: *operand = 9; return "ja";
	case CBPF_JMP | CBPF_JGT | CBPF_K: *operand = 2; return "jgt";
	case CBPF_JMP | CBPF_JGE | CBPF_K: *operand = 2; return "jge";
	case CBPF_JMP | CBPF_JEQ | CBPF_K: *operand = 2; return "jeq";
	case CBPF_JMP | CBPF_JSET | CBPF_K: *operand = 2; return "jset";
	case CBPF_JMP | CBPF_JGT | CBPF_X: *operand = 6; return "jgt";
	case CBPF_JMP | CBPF_JGE | CBPF_X: *operand = 6; return "jge";
	case CBPF_JMP | CBPF_JEQ | CBPF_X: *operand = 6; return "jeq";
	case CBPF_JMP | CBPF_JSET | CBPF_X: *operand = 6; return "jset";
	case CBPF_ALU | CBPF_ADD | CBPF_X: *operand = 6; return "add";
	case CBPF_ALU | CBPF_SUB | CBPF_X: *operand = 6; return "sub";
	case CBPF_ALU | CBPF_MUL | CBPF_X: *operand = 6; return "mul";
	case CBPF_ALU | CBPF_DIV | CBPF_X: *operand = 6; return "div";
	case CBPF_ALU | CBPF_MOD | CBPF_X: *operand = 6; return "mod";
	case CBPF_ALU | CBPF_AND | CBPF_X: *operand = 6; return "and";
	case CBPF_ALU | CBPF_OR | CBPF_X: *operand = 6; return "or";
	case CBPF_ALU | CBPF_XOR | CBPF_X: *operand = 6; return "xor";
	case CBPF_ALU | CBPF_LSH | CBPF_X: *operand = 6; return "lsh";
	case CBPF_ALU | CBPF_RSH | CBPF_X: *operand = 6; return "rsh";
	case CBPF_ALU | CBPF_ADD | CBPF_K: *operand = 1; return "add";
	case CBPF_ALU | CBPF_SUB | CBPF_K: *operand = 1; return "sub";
	case CBPF_ALU | CBPF_MUL | CBPF_K: *operand = 1; return "mul";
	case CBPF_ALU | CBPF_DIV | CBPF_K: *operand = 1; return "div";
	case CBPF_ALU | CBPF_MOD | CBPF_K: *operand = 1; return "mod";
	case CBPF_ALU | CBPF_AND | CBPF_K: *operand = 2; return "and";
	case CBPF_ALU | CBPF_OR | CBPF_K: *operand = 2; return "or";
	case CBPF_ALU | CBPF_XOR | CBPF_K: *operand = 2; return "xor";
	case CBPF_ALU | CBPF_LSH | CBPF_K: *operand = 1; return "lsh";
	case CBPF_ALU | CBPF_RSH | CBPF_K: *operand = 1; return "rsh";
	case CBPF_ALU | CBPF_NEG: return "neg";
	case CBPF_MISC | CBPF_TAX: return "tax";
	case CBPF_MISC | CBPF_TXA: return "txa";
	}
	return NULL;
}

/* The instruction without the "(NNN) " prefix. */
static int cbpf_format_body(const vfm_cbpf_insn_t *insn, uint32_t index,
			    char *buf, size_t n)
{
	int kind;
	const char *op = cbpf_mnemonic(insn->code, &kind);
	char operand[64];
	int32_t sk = (int32_t)insn->k;
	if (!op)
		return snprintf(buf, n, "%-8s 0x%x", "unimp", insn->code);
	switch (kind) {
	case 1: snprintf(operand, sizeof operand, "#%d", sk); break;
	case 2: snprintf(operand, sizeof operand, "#0x%x", insn->k); break;
	case 3: snprintf(operand, sizeof operand, "[%d]", sk); break;
	case 4: snprintf(operand, sizeof operand, "[x + %d]", sk); break;
	case 5: snprintf(operand, sizeof operand, "M[%d]", sk); break;
	case 6: snprintf(operand, sizeof operand, "x"); break;
	case 7: snprintf(operand, sizeof operand, "4*([%d]&0xf)", sk); break;
	case 8: snprintf(operand, sizeof operand, "#pktlen"); break;
	case 9:
		snprintf(operand, sizeof operand, "%d",
			 (int32_t)(index + 1u + insn->k));
		break;
	default: operand[0] = '\0'; break;
	}
	if (CBPF_CLASS(insn->code) == CBPF_JMP && insn->code != (CBPF_JMP | CBPF_JA))
		return snprintf(buf, n, "%-8s %-16s jt %u\tjf %u", op, operand,
				index + 1u + insn->jt, index + 1u + insn->jf);
	return snprintf(buf, n, "%-8s %s", op, operand);
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

static const char *cbpf_skf_name(uint32_t k)
{
	/* SKF_AD_* numbers of linux/filter.h, for the message. */
	static const char *const names[] = {
		"SKF_AD_PROTOCOL", NULL, NULL, NULL, "SKF_AD_PKTTYPE", NULL,
		NULL, NULL, "SKF_AD_IFINDEX", NULL, NULL, NULL, "SKF_AD_NLATTR",
		NULL, NULL, NULL, "SKF_AD_NLATTR_NEST", NULL, NULL, NULL,
		"SKF_AD_MARK", NULL, NULL, NULL, "SKF_AD_QUEUE", NULL, NULL,
		NULL, "SKF_AD_HATYPE", NULL, NULL, NULL, "SKF_AD_RXHASH", NULL,
		NULL, NULL, "SKF_AD_CPU", NULL, NULL, NULL, "SKF_AD_ALU_XOR_X",
		NULL, NULL, NULL, "SKF_AD_VLAN_TAG", NULL, NULL, NULL,
		"SKF_AD_VLAN_TAG_PRESENT", NULL, NULL, NULL, "SKF_AD_PAY_OFFSET",
		NULL, NULL, NULL, "SKF_AD_RANDOM", NULL, NULL, NULL,
		"SKF_AD_VLAN_TPID",
	};
	uint32_t off = k - CBPF_SKF_AD_OFF;
	if (off < sizeof names / sizeof names[0] && names[off])
		return names[off];
	return "SKF_AD_*";
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
		const vfm_cbpf_insn_t *p = &prog[i];
		int kind;
		if (!cbpf_mnemonic(p->code, &kind))
			return cbpf_fail(diag, VFM_EVERIFY, prog, i,
					 "unknown opcode 0x%02x (bpf_filter does not implement it)",
					 p->code);
		uint16_t c = p->code;
		switch (c) {
		case CBPF_LD | CBPF_MEM:
		case CBPF_LDX | CBPF_MEM:
		case CBPF_ST:
		case CBPF_STX:
			if (p->k >= VFM_CBPF_MEMWORDS)
				return cbpf_fail(diag, VFM_EVERIFY, prog, i,
						 "scratch index %u is not below %u", p->k,
						 VFM_CBPF_MEMWORDS);
			break;
		case CBPF_ALU | CBPF_DIV | CBPF_K:
		case CBPF_ALU | CBPF_MOD | CBPF_K:
			if (p->k == 0)
				return cbpf_fail(diag, VFM_EVERIFY, prog, i,
						 "%s by the constant 0",
						 c == (CBPF_ALU | CBPF_DIV | CBPF_K) ? "division"
										 : "modulo");
			break;
		case CBPF_ALU | CBPF_LSH | CBPF_K:
		case CBPF_ALU | CBPF_RSH | CBPF_K:
			if (p->k >= 32)
				return cbpf_fail(diag, VFM_EVERIFY, prog, i,
						 "constant shift by %u: shifts by 32 or more are undefined in bpf_filter",
						 p->k);
			break;
		case CBPF_LD | CBPF_W | CBPF_ABS:
		case CBPF_LD | CBPF_H | CBPF_ABS:
		case CBPF_LD | CBPF_B | CBPF_ABS:
			if (p->k >= CBPF_SKF_AD_OFF)
				return cbpf_fail(diag, VFM_EUNSUPPORTED, prog, i,
						 "Linux ancillary load SKF_AD_OFF%+d (%s) is not supported",
						 (int32_t)(p->k - CBPF_SKF_AD_OFF),
						 cbpf_skf_name(p->k));
			if (p->k >= CBPF_SKF_LL_OFF)
				return cbpf_fail(diag, VFM_EUNSUPPORTED, prog, i,
						 "Linux %s-relative load (offset %d) is not supported",
						 p->k >= CBPF_SKF_NET_OFF ? "SKF_NET_OFF" : "SKF_LL_OFF",
						 (int32_t)p->k);
			break;
		case CBPF_JMP | CBPF_JA: {
			int64_t t = (int64_t)i + 1 + (int32_t)p->k;
			if (t < 0 || t >= (int64_t)len)
				return cbpf_fail(diag, VFM_EVERIFY, prog, i,
						 "jump target %lld is outside the program (%u instructions)",
						 (long long)t, len);
			break;
		}
		case CBPF_JMP | CBPF_JGT | CBPF_K:
		case CBPF_JMP | CBPF_JGE | CBPF_K:
		case CBPF_JMP | CBPF_JEQ | CBPF_K:
		case CBPF_JMP | CBPF_JSET | CBPF_K:
		case CBPF_JMP | CBPF_JGT | CBPF_X:
		case CBPF_JMP | CBPF_JGE | CBPF_X:
		case CBPF_JMP | CBPF_JEQ | CBPF_X:
		case CBPF_JMP | CBPF_JSET | CBPF_X:
			if (i + 1u + p->jt >= len || i + 1u + p->jf >= len)
				return cbpf_fail(diag, VFM_EVERIFY, prog, i,
						 "jump target %u is past the end (%u instructions)",
						 i + 1u + (p->jt > p->jf ? p->jt : p->jf), len);
			break;
		default:
			break;
		}
	}
	if (CBPF_CLASS(prog[len - 1].code) != CBPF_RET)
		return cbpf_fail(diag, VFM_EVERIFY, prog, len - 1,
				 "the last instruction is not a return");
	return VFM_OK;
}

/* ---- translation ---------------------------------------------------------- */

enum { CBPF_TO_RET0 = -1 }; /* fix-up target: the shared RET 0 */

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
};

/* One VFM instruction: the buffers are sized for the worst case up front
 * (CBPF_MAX_BYTES, CBPF_MAX_VFM_INSNS per cBPF instruction), so emitting
 * never fails. */
static uint32_t cbpf_op(struct cbpf_emit *e, uint8_t opcode)
{
	uint32_t pc = e->len;
	if (e->line)
		e->lines[e->n_lines++] = (struct vfm_line){pc, e->line};
	e->code[e->len++] = opcode;
	return pc;
}

static void cbpf_op_u8(struct cbpf_emit *e, uint8_t opcode, uint8_t v)
{
	cbpf_op(e, opcode);
	e->code[e->len++] = v;
}

static void cbpf_op_u32(struct cbpf_emit *e, uint8_t opcode, uint32_t v)
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

/* A jump whose target is resolved later; returns the rel32's offset. */
static uint32_t cbpf_jump(struct cbpf_emit *e, uint8_t opcode, int64_t target)
{
	cbpf_op(e, opcode);
	uint32_t pos = e->len;
	e->len += 4;
	if (target != INT64_MIN)
		e->fix[e->n_fix++] = (struct cbpf_fix){pos, target};
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

/* Replace X (the word under A) by the value the sequence `load` pushes:
 * SWAP; POP; <load>; SWAP. */
#define CBPF_SET_X(e, load)                                                   \
	do {                                                                  \
		cbpf_op(e, VFM_OPC_SWAP);                                     \
		cbpf_op(e, VFM_OPC_POP);                                      \
		load;                                                         \
		cbpf_op(e, VFM_OPC_SWAP);                                     \
	} while (0)

static uint8_t cbpf_load_opcode(uint16_t code, int indexed)
{
	switch (code & 0x18) {
	case CBPF_W: return indexed ? VFM_OPC_LD32X : VFM_OPC_LD32;
	case CBPF_H: return indexed ? VFM_OPC_LD16X : VFM_OPC_LD16;
	default: return indexed ? VFM_OPC_LD8X : VFM_OPC_LD8;
	}
}

static uint8_t cbpf_alu_opcode(uint16_t code)
{
	switch (code & 0xf0) {
	case CBPF_ADD: return VFM_OPC_ADD;
	case CBPF_SUB: return VFM_OPC_SUB;
	case CBPF_MUL: return VFM_OPC_MUL;
	case CBPF_DIV: return VFM_OPC_DIV;
	case CBPF_MOD: return VFM_OPC_MOD;
	case CBPF_AND: return VFM_OPC_AND;
	case CBPF_OR: return VFM_OPC_OR;
	case CBPF_XOR: return VFM_OPC_XOR;
	case CBPF_LSH: return VFM_OPC_SHL;
	default: return VFM_OPC_SHR;
	}
}

/* Does the ALU op's VFM result need masking back to 32 bits? */
static int cbpf_alu_carries(uint16_t code)
{
	switch (code & 0xf0) {
	case CBPF_ADD:
	case CBPF_SUB:
	case CBPF_MUL:
	case CBPF_LSH:
	case CBPF_NEG:
		return 1;
	default:
		return 0;
	}
}

/* A conditional jump: compare, then branch to cBPF index jt_t or jf_t.
 * The operands are pushed so that the VFM compare (a OP b, b on top) is
 * the cBPF one: with k, DUP; PUSH k gives a = A, b = k; with X, OVER;
 * OVER gives a = X, b = A, so GT and GE turn into LT and LE. */
static void cbpf_branch(struct cbpf_emit *e, const vfm_cbpf_insn_t *p, uint32_t i)
{
	uint32_t next = i + 1, jt_t = next + p->jt, jf_t = next + p->jf;
	if (jt_t == jf_t) { /* the comparison has no effect */
		if (jt_t != next)
			cbpf_jump(e, VFM_OPC_JMP, jt_t);
		return;
	}
	int with_x = (p->code & CBPF_X) != 0;
	uint8_t op, neg; /* VFM jump for "true" and for "false" (0: none) */
	switch (p->code & 0xf0) {
	case CBPF_JEQ: op = VFM_OPC_JEQ; neg = VFM_OPC_JNE; break;
	case CBPF_JGT:
		op = with_x ? VFM_OPC_JLT : VFM_OPC_JGT;
		neg = with_x ? VFM_OPC_JGE : VFM_OPC_JLE;
		break;
	case CBPF_JGE:
		op = with_x ? VFM_OPC_JLE : VFM_OPC_JGE;
		neg = with_x ? VFM_OPC_JGT : VFM_OPC_JLT;
		break;
	default: op = VFM_OPC_JSET; neg = 0; break;
	}
	if (with_x) {
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_op(e, VFM_OPC_OVER);
	} else {
		cbpf_op(e, VFM_OPC_DUP);
		cbpf_push(e, p->k);
	}
	if (jf_t == next) {
		cbpf_jump(e, op, jt_t);
	} else if (jt_t == next && neg) {
		cbpf_jump(e, neg, jf_t);
	} else {
		cbpf_jump(e, op, jt_t);
		cbpf_jump(e, VFM_OPC_JMP, jf_t);
	}
}

/* Expand cBPF instruction i (validated). */
static void cbpf_insn(struct cbpf_emit *e, const vfm_cbpf_insn_t *p, uint32_t i,
		      int *uses_ret0)
{
	uint16_t c = p->code;
	switch (CBPF_CLASS(c)) {
	case CBPF_RET:
		if (c == (CBPF_RET | CBPF_K))
			cbpf_op_u32(e, VFM_OPC_RETK, p->k);
		else
			cbpf_op(e, VFM_OPC_RET); /* pops A; X is discarded */
		return;
	case CBPF_LD:
		cbpf_op(e, VFM_OPC_POP); /* the old A */
		switch (c & 0xe0) {
		case CBPF_ABS: cbpf_op_u32(e, cbpf_load_opcode(c, 0), p->k); break;
		case CBPF_IND:
			cbpf_op(e, VFM_OPC_DUP); /* X is the index */
			cbpf_op_u32(e, cbpf_load_opcode(c, 1), p->k);
			break;
		case CBPF_MEM: cbpf_op_u8(e, VFM_OPC_LDM, (uint8_t)p->k); break;
		case CBPF_LEN: cbpf_op(e, VFM_OPC_LEN); break;
		default: cbpf_push(e, p->k); break; /* IMM */
		}
		return;
	case CBPF_LDX:
		switch (c & 0xe0) {
		case CBPF_MEM: CBPF_SET_X(e, cbpf_op_u8(e, VFM_OPC_LDM, (uint8_t)p->k)); break;
		case CBPF_LEN: CBPF_SET_X(e, cbpf_op(e, VFM_OPC_LEN)); break;
		case CBPF_MSH:
			/* X = (P[k] & 0xf) << 2 */
			CBPF_SET_X(e, {
				cbpf_op_u32(e, VFM_OPC_LD8, p->k);
				cbpf_push(e, 0xf);
				cbpf_op(e, VFM_OPC_AND);
				cbpf_push(e, 2);
				cbpf_op(e, VFM_OPC_SHL);
			});
			break;
		default: CBPF_SET_X(e, cbpf_push(e, p->k)); break; /* IMM */
		}
		return;
	case CBPF_ST:
		cbpf_op(e, VFM_OPC_DUP);
		cbpf_op_u8(e, VFM_OPC_STM, (uint8_t)p->k);
		return;
	case CBPF_STX:
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_op_u8(e, VFM_OPC_STM, (uint8_t)p->k);
		return;
	case CBPF_MISC:
		if (c == (CBPF_MISC | CBPF_TXA)) {
			cbpf_op(e, VFM_OPC_POP); /* X X */
			cbpf_op(e, VFM_OPC_DUP);
		} else { /* TAX: A A */
			cbpf_op(e, VFM_OPC_SWAP);
			cbpf_op(e, VFM_OPC_POP);
			cbpf_op(e, VFM_OPC_DUP);
		}
		return;
	case CBPF_JMP:
		if (c == (CBPF_JMP | CBPF_JA)) {
			int64_t t = (int64_t)i + 1 + (int32_t)p->k;
			if (t != (int64_t)i + 1) /* backward too: VFM's budget */
				cbpf_jump(e, VFM_OPC_JMP, t);
		} else {
			cbpf_branch(e, p, i);
		}
		return;
	case CBPF_ALU:
		break;
	}
	/* ALU */
	uint8_t op = cbpf_alu_opcode(c);
	if (c == (CBPF_ALU | CBPF_NEG)) {
		cbpf_op(e, VFM_OPC_NEG);
		cbpf_mask(e);
		return;
	}
	if (!(c & CBPF_X)) {
		/* Constant operand: validation ruled out k == 0 for DIV/MOD
		 * and k >= 32 for shifts. */
		cbpf_push(e, p->k);
		cbpf_op(e, op);
		if (cbpf_alu_carries(c))
			cbpf_mask(e);
		return;
	}
	switch (c & 0xf0) {
	case CBPF_DIV:
	case CBPF_MOD:
		/* bpf_filter returns 0 when X == 0. */
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_push(e, 0);
		cbpf_jump(e, VFM_OPC_JEQ, CBPF_TO_RET0);
		*uses_ret0 = 1;
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_op(e, op);
		return;
	case CBPF_LSH:
	case CBPF_RSH: {
		/* bpf_filter: A = X < 32 ? A << X : 0 (VFM would use X & 63). */
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_push(e, 31);
		uint32_t big = cbpf_jump(e, VFM_OPC_JGT, INT64_MIN);
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_op(e, op);
		if (cbpf_alu_carries(c))
			cbpf_mask(e);
		uint32_t done = cbpf_jump(e, VFM_OPC_JMP, INT64_MIN);
		cbpf_patch(e, big, e->len);
		cbpf_op(e, VFM_OPC_POP);
		cbpf_push(e, 0);
		cbpf_patch(e, done, e->len);
		return;
	}
	default:
		cbpf_op(e, VFM_OPC_OVER);
		cbpf_op(e, op);
		if (cbpf_alu_carries(c))
			cbpf_mask(e);
		return;
	}
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
	e.fix = malloc(((size_t)len * 2 + 1) * sizeof *e.fix);
	uint8_t *origin = NULL;
	if (!start || !e.code || !e.lines || !e.fix) {
		err = vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
		goto done;
	}

	/* Prologue: X = 0, A = 0 (M[] is zeroed by VFM for every packet). */
	cbpf_push(&e, 0);
	cbpf_push(&e, 0);
	int uses_ret0 = 0;
	for (uint32_t i = 0; i < len; i++) {
		start[i] = e.len;
		e.line = i + 1u;
		uint32_t before = e.len, lines_before = e.n_lines;
		cbpf_insn(&e, &prog[i], i, &uses_ret0);
		/* The worst-case sizing above must hold. */
		if (e.len - before > CBPF_MAX_BYTES ||
		    e.n_lines - lines_before > CBPF_MAX_VFM_INSNS)
			abort();
	}
	e.line = 0;
	uint32_t ret0 = e.len;
	if (uses_ret0)
		cbpf_op_u32(&e, VFM_OPC_RETK, 0);
	for (uint32_t f = 0; f < e.n_fix; f++)
		cbpf_patch(&e, e.fix[f].pos,
			   e.fix[f].target == CBPF_TO_RET0 ? ret0
							  : start[e.fix[f].target]);

	const char *name = opt ? opt->source_name : NULL;
	err = vfm_file_write(e.code, e.len, (flags & VFM_CBPF_NO_LINES) ? NULL : e.lines,
			     (flags & VFM_CBPF_NO_LINES) ? 0 : e.n_lines, name, out,
			     out_len);
	if (err != VFM_OK) {
		err = vfm_diag_set(diag, err, -1, 0, "out of memory");
		goto done;
	}
	if (!(flags & VFM_CBPF_NO_ORIGIN)) {
		origin = malloc((size_t)len * 8u);
		if (!origin) {
			err = VFM_ENOMEM;
		} else {
			for (uint32_t i = 0; i < len; i++) {
				vfm_put_le16(origin + 8 * i, prog[i].code);
				origin[8 * i + 2] = prog[i].jt;
				origin[8 * i + 3] = prog[i].jf;
				vfm_put_le32(origin + 8 * i + 4, prog[i].k);
			}
			err = cbpf_add_section(out, out_len, VFM_SECTION_CBPF, origin,
					       len * 8u);
		}
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

vfm_error_t vfm_program_from_cbpf(const vfm_cbpf_insn_t *prog, size_t n,
				  const vfm_cbpf_options_t *opt,
				  vfm_program_t **out, vfm_diag_t *diag)
{
	uint8_t *img;
	size_t img_len;
	if (out)
		*out = NULL;
	else
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "out pointer is NULL");
	vfm_error_t err = vfm_from_cbpf(prog, n, opt, &img, &img_len, diag);
	if (err != VFM_OK)
		return err;
	err = vfm_program_create(img, img_len, out, diag);
	free(img);
	return err;
}

vfm_error_t vfm_load_cbpf(vfm_state_t *vm, const vfm_cbpf_insn_t *prog, size_t n,
			  const vfm_cbpf_options_t *opt)
{
	if (!vm)
		return VFM_EINVAL;
	vfm_diag_t diag;
	vfm_program_t *p;
	vfm_error_t err = vfm_program_from_cbpf(prog, n, opt, &p, &diag);
	if (err != VFM_OK) {
		/* A failed load keeps the previous program, as for bytecode. */
		vm->last_code = err;
		snprintf(vm->last_error, sizeof vm->last_error, "%s", diag.message);
		return err;
	}
	err = vfm_attach_program(vm, p);
	vfm_program_release(p);
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

#undef CBPF_SET_X
