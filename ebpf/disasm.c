/*
 * ebpf/disasm.c — one eBPF instruction as text, in the kernel verifier
 * log's notation ("r7 = *(u16 *)(r4 -2)", "if r1 > r2 goto +5"), for
 * `vfm-compile --target=ebpf-raw` and test failure messages.  Covers the
 * forms ebpf/compile.c emits; anything else prints as raw fields.
 */
#include <stdio.h>

#include "ebpf.h"
#include "insn.h"

static const char *alu_op(uint8_t op)
{
	switch (op) {
	case BPF_ADD: return "+=";
	case BPF_SUB: return "-=";
	case BPF_MUL: return "*=";
	case BPF_DIV: return "/=";
	case BPF_OR: return "|=";
	case BPF_AND: return "&=";
	case BPF_LSH: return "<<=";
	case BPF_RSH: return ">>=";
	case BPF_MOD: return "%=";
	case BPF_XOR: return "^=";
	case BPF_MOV: return "=";
	case BPF_ARSH: return "s>>=";
	}
	return NULL;
}

static const char *jmp_op(uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return "==";
	case BPF_JGT: return ">";
	case BPF_JGE: return ">=";
	case BPF_JSET: return "&";
	case BPF_JNE: return "!=";
	case BPF_JLT: return "<";
	case BPF_JLE: return "<=";
	case BPF_JSGT: return "s>";
	case BPF_JSGE: return "s>=";
	case BPF_JSLT: return "s<";
	case BPF_JSLE: return "s<=";
	}
	return NULL;
}

static const char *size_name(uint8_t size)
{
	switch (size) {
	case BPF_B: return "u8";
	case BPF_H: return "u16";
	case BPF_W: return "u32";
	case BPF_DW: return "u64";
	}
	return "?";
}

int vfm_ebpf_format_insn(const struct bpf_insn *insns, uint32_t n_insns, uint32_t slot,
			 char *buf, size_t n)
{
	const struct bpf_insn *in = &insns[slot];
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	int d = in->dst_reg, s = in->src_reg;
	long target = (long)slot + 1 + in->off;
	switch (cls) {
	case BPF_ALU64:
	case BPF_ALU: {
		char r = cls == BPF_ALU64 ? 'r' : 'w';
		if (op == BPF_NEG)
			return snprintf(buf, n, "%c%d = -%c%d", r, d, r, d);
		if (op == BPF_END)
			return snprintf(buf, n, "r%d = %s%d r%d", d,
					BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le", in->imm, d);
		const char *o = alu_op(op);
		if (!o)
			break;
		if (BPF_SRC(in->code) == BPF_X)
			return snprintf(buf, n, "%c%d %s %c%d", r, d, o, r, s);
		return snprintf(buf, n, "%c%d %s %d", r, d, o, in->imm);
	}
	case BPF_LD:
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && slot + 1 < n_insns)
			return snprintf(buf, n, "r%d = 0x%llx ll", d,
					(unsigned long long)((uint64_t)(uint32_t)insns[slot + 1].imm << 32 |
							     (uint32_t)in->imm));
		break;
	case BPF_LDX:
		if (BPF_MODE(in->code) == BPF_MEM)
			return snprintf(buf, n, "r%d = *(%s *)(r%d %+d)", d, size_name(BPF_SIZE(in->code)),
					s, in->off);
		break;
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_MEM)
			return snprintf(buf, n, "*(%s *)(r%d %+d) = r%d", size_name(BPF_SIZE(in->code)), d,
					in->off, s);
		break;
	case BPF_ST:
		if (BPF_MODE(in->code) == BPF_MEM)
			return snprintf(buf, n, "*(%s *)(r%d %+d) = %d", size_name(BPF_SIZE(in->code)), d,
					in->off, in->imm);
		break;
	case BPF_JMP: {
		if (op == BPF_JA)
			return snprintf(buf, n, "goto %+d <%ld>", in->off, target);
		if (op == BPF_CALL)
			return snprintf(buf, n, "call %d", in->imm);
		if (op == BPF_EXIT)
			return snprintf(buf, n, "exit");
		const char *o = jmp_op(op);
		if (!o)
			break;
		if (BPF_SRC(in->code) == BPF_X)
			return snprintf(buf, n, "if r%d %s r%d goto %+d <%ld>", d, o, s, in->off, target);
		return snprintf(buf, n, "if r%d %s %d goto %+d <%ld>", d, o, in->imm, in->off, target);
	}
	}
	/* The second slot of LD_IMM64, and anything not emitted by us. */
	if (slot > 0 && insns[slot - 1].code == (BPF_LD | BPF_IMM | BPF_DW))
		return snprintf(buf, n, "(second slot of ld_imm64)");
	return snprintf(buf, n, "code 0x%02x dst r%d src r%d off %d imm %d", in->code, d, s,
			in->off, in->imm);
}
