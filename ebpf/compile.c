/*
 * ebpf/compile.c — VFM bytecode to eBPF (ebpf/ebpf.h, docs/EBPF.md).
 *
 * One pass over the verified instructions in order, one emitter per
 * opcode class, each switching over its class's enum from vm/opcode.h
 * without `default:` (-Werror=switch names every emitter a new opcode
 * needs); after the body, the checked copies of the hoisted regions
 * (verifier/hoist.c) and the out-of-line helper reads.  eBPF instructions
 * have a fixed size, so branches are recorded as fix-ups against labels
 * and patched once at the end, range-checked against the 16-bit branch
 * offset.
 *
 * Operand stack: slot s (0 = bottom) is R7, R8, R9 for s < 3 and an
 * 8-byte word of the BPF stack above that; the verifier's static depth
 * per pc says which slots are live, so no code checks the stack.  R6
 * holds the context (struct __sk_buff *); R0-R5 are temporaries (helper
 * calls clobber them, and nothing lives there across an instruction).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkt_cls.h>

#include "../verifier/hoist.h"
#include "../verifier/verifier.h"
#include "ebpf.h"
#include "insn.h"

#define CTX R6
#define N_STACK_REGS 3
static const uint8_t stack_reg[N_STACK_REGS] = {R7, R8, R9};

/* Labels: ids below n_insns are the VFM instructions' starts; then the
 * shared exits; then labels local to one instruction. */
enum exit_label {
	EXIT_BOUNDS,
	EXIT_BUDGET,
	N_EXITS
};

struct fixup {
	uint32_t at;    /* slot of the branch */
	uint32_t label;
	bool call;      /* a BPF-to-BPF call: the distance goes in imm, not off */
};

/* Frame of the HASH5 subprogram: the IP header (40 bytes) and the ports. */
#define H5_HDR_OFF (-48)
#define H5_PORTS_OFF (-56)
#define H5_FRAME 64u /* rounded as the kernel rounds frames (32 bytes) */

struct ecx {
	const struct vfm_program *prog;
	const struct vfm_ebpf_options *opt;
	struct bpf_insn *code;
	uint32_t *owner;     /* per slot: the VFM instruction it is code of, or UINT32_MAX */
	uint32_t n, cap;
	uint32_t *vfm_start;
	uint32_t *label_pos; /* UINT32_MAX while unbound */
	uint32_t n_labels, cap_labels;
	struct fixup *fix;
	uint32_t n_fix, cap_fix;
	bool exit_used[N_EXITS];
	/* BPF stack frame: offsets from R10 (negative). */
	int16_t len_off, budget_off, buf_off, scratch_off, slot_off;
	int16_t flow_key_off, stats_off; /* flow ops: map key, counters pointer */
	bool uses_flow, uses_hash5;
	unsigned scratch_words;          /* M[0 .. scratch_words-1] in the frame */
	uint32_t set_mask, n_sets;       /* flow table: sets - 1, sets */
	uint32_t hash5_label, subprog_start;
	uint32_t *map_refs;              /* LD_IMM64 slots of the flow map */
	uint32_t n_map_refs, cap_map_refs;
	uint32_t frame;
	/* Guard hoisting (verifier/hoist.h): the regions, each region's
	 * checked copy, the frame slot holding the packet pointer its guard
	 * proved, and whether a checked copy is being emitted. */
	struct vfm_hoist hoist;
	uint32_t *region_label;
	int16_t data_off;
	uint32_t guard_end; /* slot after the last guard: R4 still holds its pointer */
	bool slow;
	uint8_t *join;      /* n_insns + 1: where control arrives other than by falling through */
	/* Helper reads for bytes direct access cannot prove, emitted out of
	 * line after the body so that the direct read falls through. */
	struct cold_read *cold;
	uint32_t n_cold, cap_cold;
	uint32_t cur; /* VFM instruction being compiled */
	vfm_error_t err;
	char why[240];
};

struct cold_read {
	uint32_t label, back; /* the stub, and where it returns */
	uint32_t owner;       /* the VFM instruction it belongs to */
	uint64_t k;
	uint8_t size, dst;
	bool is_const;
};

static void fail(struct ecx *c, vfm_error_t err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct ecx *c, vfm_error_t err, const char *fmt, ...)
{
	if (c->err != VFM_OK)
		return;
	c->err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
}

static uint32_t cur_pc(const struct ecx *c)
{
	return c->prog->pc_of[c->cur < c->prog->n_insns ? c->cur : 0];
}

/* ---- emission, labels, fix-ups ---------------------------------------------- */

static void emit(struct ecx *c, struct bpf_insn in)
{
	if (c->err != VFM_OK)
		return;
	if (c->n >= VFM_EBPF_MAX_INSNS) {
		fail(c, VFM_ETOOBIG,
		     "more than %u eBPF instructions (the kernel's BPF_COMPLEXITY_LIMIT_INSNS) at pc %u",
		     VFM_EBPF_MAX_INSNS, cur_pc(c));
		return;
	}
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? 2 * c->cap : 256;
		struct bpf_insn *p = realloc(c->code, cap * sizeof *p);
		if (p)
			c->code = p;
		uint32_t *o = p ? realloc(c->owner, cap * sizeof *o) : NULL;
		if (!o) {
			fail(c, VFM_ENOMEM, "out of memory");
			return;
		}
		c->owner = o;
		c->cap = cap;
	}
	c->owner[c->n] = c->cur < c->prog->n_insns ? c->cur : UINT32_MAX;
	c->code[c->n++] = in;
}

static uint32_t label_new(struct ecx *c)
{
	if (c->n_labels == c->cap_labels) {
		uint32_t cap = c->cap_labels ? 2 * c->cap_labels : 64;
		uint32_t *p = realloc(c->label_pos, cap * sizeof *p);
		if (!p) {
			fail(c, VFM_ENOMEM, "out of memory");
			return 0;
		}
		c->label_pos = p;
		c->cap_labels = cap;
	}
	c->label_pos[c->n_labels] = UINT32_MAX;
	return c->n_labels++;
}

static void label_bind(struct ecx *c, uint32_t label)
{
	if (c->err == VFM_OK)
		c->label_pos[label] = c->n;
}

static uint32_t exit_label(struct ecx *c, enum exit_label e)
{
	c->exit_used[e] = true;
	return c->prog->n_insns + (uint32_t)e;
}

/* A branch (its off patched later) to `label`. */
static void emit_branch(struct ecx *c, struct bpf_insn in, uint32_t label)
{
	if (c->err != VFM_OK)
		return;
	if (c->n_fix == c->cap_fix) {
		uint32_t cap = c->cap_fix ? 2 * c->cap_fix : 64;
		struct fixup *p = realloc(c->fix, cap * sizeof *p);
		if (!p) {
			fail(c, VFM_ENOMEM, "out of memory");
			return;
		}
		c->fix = p;
		c->cap_fix = cap;
	}
	c->fix[c->n_fix++] = (struct fixup){c->n, label, false};
	emit(c, in);
}

/* A call (its imm patched later) of the subprogram at `label`. */
static void emit_call_label(struct ecx *c, uint32_t label)
{
	emit_branch(c, ebpf_call_local(0), label);
	if (c->err == VFM_OK)
		c->fix[c->n_fix - 1].call = true;
}

static void resolve_fixups(struct ecx *c)
{
	for (uint32_t k = 0; k < c->n_fix && c->err == VFM_OK; k++) {
		const struct fixup *f = &c->fix[k];
		uint32_t to = c->label_pos[f->label];
		int64_t d = (int64_t)to - ((int64_t)f->at + 1);
		if (to == UINT32_MAX) {
			fail(c, VFM_EINVAL, "internal error: branch to an unbound label");
		} else if (f->call) {
			c->code[f->at].imm = (int32_t)d;
		} else if (d < INT16_MIN || d > INT16_MAX) {
			/* Report the VFM instruction the branch belongs to. */
			c->cur = c->owner[f->at] != UINT32_MAX ? c->owner[f->at] : 0;
			fail(c, VFM_ETOOBIG,
			     "a branch spans %lld eBPF instructions, over the 16-bit branch offset "
			     "(32767) at pc %u", (long long)d, cur_pc(c));
		} else {
			c->code[f->at].off = (int16_t)d;
		}
	}
}

/* ---- constants and the operand stack ------------------------------------------ */

static bool fits_s32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)(uint32_t)v == v;
}

/* reg = v, in the fewest slots. */
static void emit_mov_const(struct ecx *c, unsigned reg, uint64_t v)
{
	if (fits_s32(v))
		emit(c, ebpf_alu64_imm(BPF_MOV, reg, (int32_t)(uint32_t)v));
	else if (v <= UINT32_MAX)
		emit(c, ebpf_mov32_imm(reg, (uint32_t)v));
	else {
		emit(c, ebpf_ld_imm64_lo(reg, v));
		emit(c, ebpf_ld_imm64_hi(v));
	}
}

/* if reg OP v goto label, for any 64-bit v (tmp may be clobbered). */
static void emit_branch_const(struct ecx *c, uint8_t op, unsigned reg, uint64_t v,
			      uint32_t label, unsigned tmp)
{
	if (fits_s32(v)) {
		emit_branch(c, ebpf_jmp_imm(op, reg, (int32_t)(uint32_t)v, 0), label);
	} else {
		emit_mov_const(c, tmp, v);
		emit_branch(c, ebpf_jmp_reg(op, reg, tmp, 0), label);
	}
}

static bool slot_in_reg(unsigned s)
{
	return s < N_STACK_REGS;
}

static int16_t slot_mem(const struct ecx *c, unsigned s)
{
	return (int16_t)(c->slot_off - 8 * (int)(s - N_STACK_REGS));
}

/* The register holding slot s: its own, or tmp after loading it. */
static unsigned get_slot(struct ecx *c, unsigned s, unsigned tmp)
{
	if (slot_in_reg(s))
		return stack_reg[s];
	emit(c, ebpf_ldx_mem(BPF_DW, tmp, R10, slot_mem(c, s)));
	return tmp;
}

/* The register to compute slot s's new value in (then put_slot). */
static unsigned slot_dst(unsigned s, unsigned tmp)
{
	return slot_in_reg(s) ? stack_reg[s] : tmp;
}

static void put_slot(struct ecx *c, unsigned s, unsigned reg)
{
	if (slot_in_reg(s)) {
		if (reg != stack_reg[s])
			emit(c, ebpf_mov64_reg(stack_reg[s], reg));
	} else {
		emit(c, ebpf_stx_mem(BPF_DW, R10, reg, slot_mem(c, s)));
	}
}

static bool is_xdp(const struct ecx *c)
{
	return c->opt->target == VFM_EBPF_XDP;
}

static bool is_socket(const struct ecx *c)
{
	return c->opt->target == VFM_EBPF_SOCKET;
}

/* Socket filters have no direct packet access: every read is a helper. */
static bool helper_only(const struct ecx *c)
{
	return c->opt->helper_loads || is_socket(c);
}

/* bpf_skb_load_bytes or bpf_xdp_load_bytes (ctx, offset, to, len): the
 * bytes at any offset below the packet's whole length, fragments too. */
static int32_t load_bytes_helper(const struct ecx *c)
{
	return is_xdp(c) ? BPF_FUNC_xdp_load_bytes : BPF_FUNC_skb_load_bytes;
}

/* Context fields of the packet's start and end (u32 loads). */
static int16_t ctx_data(const struct ecx *c)
{
	return is_xdp(c) ? offsetof(struct xdp_md, data) : offsetof(struct __sk_buff, data);
}
static int16_t ctx_data_end(const struct ecx *c)
{
	return is_xdp(c) ? offsetof(struct xdp_md, data_end) : offsetof(struct __sk_buff, data_end);
}

static unsigned depth(const struct ecx *c, uint32_t i)
{
	return (unsigned)vfm_facts_depth(c->prog, i);
}

/* ---- packet access ------------------------------------------------------------- */

static uint8_t size_field(unsigned size)
{
	return size == 1 ? BPF_B : size == 2 ? BPF_H : size == 4 ? BPF_W : BPF_DW;
}

/* Network to host order of a zero-extended `size`-byte load in dst. */
static void emit_from_be(struct ecx *c, unsigned dst, unsigned size)
{
	if (size > 1)
		emit(c, ebpf_to_be(dst, (int32_t)(8 * size)));
}

static void emit_helper_read(struct ecx *c, bool is_const, uint64_t k, unsigned size,
			     unsigned dst);

/*
 * dst = the `size` bytes at VFM offset k (is_const) or R2 (not), big-endian.
 * The VFM bounds check has passed: off + size <= VFM len.  The kernel's
 * verifier still wants its own proof for direct access (a compare of the
 * pointer against data_end), which fails for bytes past the linear part
 * (a non-linear skb, a multi-buffer XDP frame); then, and for offsets
 * direct access cannot reach, bpf_skb_load_bytes / bpf_xdp_load_bytes
 * reads it instead.
 */
static void emit_packet_read(struct ecx *c, bool is_const, uint64_t k, unsigned size, unsigned dst)
{
	uint64_t po = c->opt->packet_offset;
	bool reach = is_const ? po + k + size <= VFM_EBPF_MAX_PACKET_OFF
			      : po + size <= VFM_EBPF_MAX_PACKET_OFF;
	if (helper_only(c) || !reach) {
		emit_helper_read(c, is_const, k, size, dst);
		return;
	}
	uint32_t slow = label_new(c), done = label_new(c);
	emit(c, ebpf_ldx_mem(BPF_W, R4, CTX, ctx_data(c)));
	emit(c, ebpf_ldx_mem(BPF_W, R5, CTX, ctx_data_end(c)));
	if (is_const) {
		emit(c, ebpf_alu64_imm(BPF_ADD, R4, (int32_t)(po + k + size)));
		emit_branch(c, ebpf_jmp_reg(BPF_JGT, R4, R5, 0), slow);
		emit(c, ebpf_ldx_mem(size_field(size), dst, R4, (int16_t)-(int)size));
	} else {
		/* A range the kernel can follow: offsets beyond direct
		 * reach take the helper. */
		emit_branch(c, ebpf_jmp_imm(BPF_JGT, R2,
					    (int32_t)(VFM_EBPF_MAX_PACKET_OFF - po - size), 0),
			    slow);
		emit(c, ebpf_alu64_reg(BPF_ADD, R4, R2));
		if (po)
			emit(c, ebpf_alu64_imm(BPF_ADD, R4, (int32_t)po));
		emit(c, ebpf_mov64_reg(R3, R4));
		emit(c, ebpf_alu64_imm(BPF_ADD, R3, (int32_t)size));
		emit_branch(c, ebpf_jmp_reg(BPF_JGT, R3, R5, 0), slow);
		emit(c, ebpf_ldx_mem(size_field(size), dst, R4, 0));
	}
	emit_from_be(c, dst, size);
	label_bind(c, done);
	if (c->err != VFM_OK)
		return;
	if (c->n_cold == c->cap_cold) {
		uint32_t cap = c->cap_cold ? 2 * c->cap_cold : 32;
		struct cold_read *p = realloc(c->cold, cap * sizeof *p);
		if (!p) {
			fail(c, VFM_ENOMEM, "out of memory");
			return;
		}
		c->cold = p;
		c->cap_cold = cap;
	}
	c->cold[c->n_cold++] = (struct cold_read){slow, done, c->cur, k, (uint8_t)size,
						  (uint8_t)dst, is_const};
}

/* bpf_{skb,xdp}_load_bytes(ctx, offset, to, len): dst = the bytes at VFM
 * offset k (is_const) or R2, big-endian. */
static void emit_helper_read(struct ecx *c, bool is_const, uint64_t k, unsigned size, unsigned dst)
{
	uint64_t po = c->opt->packet_offset;
	if (is_const)
		emit(c, ebpf_mov32_imm(R2, (uint32_t)(po + k)));
	else if (po)
		emit(c, ebpf_alu64_imm(BPF_ADD, R2, (int32_t)po));
	emit(c, ebpf_mov64_reg(R1, CTX));
	emit(c, ebpf_mov64_reg(R3, R10));
	emit(c, ebpf_alu64_imm(BPF_ADD, R3, c->buf_off));
	emit(c, ebpf_alu64_imm(BPF_MOV, R4, (int32_t)size));
	emit(c, ebpf_call(load_bytes_helper(c)));
	/* It fails only past the packet's length, which the VFM check
	 * excluded. */
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R0, 0, 0), exit_label(c, EXIT_BOUNDS));
	emit(c, ebpf_ldx_mem(size_field(size), dst, R10, c->buf_off));
	emit_from_be(c, dst, size);
}

/* The out-of-line helper reads, each back to the code after its direct
 * read (R2 still holds an indexed read's offset there). */
static void emit_cold_reads(struct ecx *c)
{
	uint32_t saved = c->cur;
	for (uint32_t r = 0; r < c->n_cold && c->err == VFM_OK; r++) {
		const struct cold_read *cr = &c->cold[r];
		c->cur = cr->owner;
		label_bind(c, cr->label);
		emit_helper_read(c, cr->is_const, cr->k, cr->size, cr->dst);
		emit_branch(c, ebpf_ja(0), cr->back);
	}
	c->cur = saved;
}

/* The VFM verifier proved the load in bounds on every path: no VFM check
 * (the kernel's own data_end proof stays, in emit_packet_read). */
static bool load_proven(const struct ecx *c, uint32_t i)
{
	return vfm_facts_flags(c->prog, i) & VFM_FACT_IN_BOUNDS;
}

/* A load of a hoisted region's fast copy: no check at all. */
static bool load_hoisted(const struct ecx *c, uint32_t i)
{
	return !c->slow && c->hoist.hoisted && c->hoist.hoisted[i];
}

/* The guard of hoisted region k, emitted before its first instruction:
 * to the checked copy unless data + offset + need <= data_end, which also
 * gives need <= VFM len (the linear part is at most the whole packet).
 * The proven pointer is kept in the frame: the kernel's verifier tracks
 * the range of a spilled packet pointer, and R0-R5 do not survive the
 * region's helper calls. */
static void emit_region_guard(struct ecx *c, uint32_t k)
{
	c->region_label[k] = label_new(c);
	emit(c, ebpf_ldx_mem(BPF_W, R4, CTX, ctx_data(c)));
	emit(c, ebpf_ldx_mem(BPF_W, R5, CTX, ctx_data_end(c)));
	emit(c, ebpf_mov64_reg(R3, R4));
	emit(c, ebpf_alu64_imm(BPF_ADD, R3,
			       (int32_t)(c->opt->packet_offset + c->hoist.regions[k].need)));
	emit_branch(c, ebpf_jmp_reg(BPF_JGT, R3, R5, 0), c->region_label[k]);
	emit(c, ebpf_stx_mem(BPF_DW, R10, R4, c->data_off));
	c->guard_end = c->n;
}

static void emit_load(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned size = 0;
	switch ((enum vfm_load_op)insn->opcode) {
#define VFM_LOAD(name, code, mnem, sz) case VFM_LOAD_##name: size = sz; break;
#define VFM_OP(...)
#include "../vm/opcodes.def"
	}
	unsigned d = depth(c, i);
	unsigned dst = slot_dst(d, R0);
	if (load_hoisted(c, i)) {
		/* The region's guard proved data + offset + need <= data_end
		 * for the pointer it kept in the frame. */
		if (c->n != c->guard_end)
			emit(c, ebpf_ldx_mem(BPF_DW, R4, R10, c->data_off));
		emit(c, ebpf_ldx_mem(size_field(size), dst, R4,
				     (int16_t)(c->opt->packet_offset + insn->arg)));
		emit_from_be(c, dst, size);
		put_slot(c, d, dst);
		return;
	}
	/* In bounds iff k + size <= len (k < 2^32: the sum cannot wrap). */
	if (!load_proven(c, i)) {
		emit(c, ebpf_ldx_mem(BPF_DW, R1, R10, c->len_off));
		emit_branch_const(c, BPF_JLT, R1, (uint64_t)insn->arg + size,
				  exit_label(c, EXIT_BOUNDS), R2);
	}
	emit_packet_read(c, true, insn->arg, size, dst);
	put_slot(c, d, dst);
}

/* R2 += k (R3 clobbered). */
static void emit_add_offset(struct ecx *c, uint32_t k)
{
	if (fits_s32(k)) {
		emit(c, ebpf_alu64_imm(BPF_ADD, R2, (int32_t)k));
	} else {
		emit(c, ebpf_mov32_imm(R3, k));
		emit(c, ebpf_alu64_reg(BPF_ADD, R2, R3));
	}
}

static void emit_loadx(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned size = 0;
	switch ((enum vfm_loadx_op)insn->opcode) {
#define VFM_LOADX(name, code, mnem, sz) case VFM_LOADX_##name: size = sz; break;
#define VFM_OP(...)
#include "../vm/opcodes.def"
	}
	unsigned d = depth(c, i);
	unsigned x = get_slot(c, d - 1, R1);
	uint32_t bounds = exit_label(c, EXIT_BOUNDS);
	bool proven = load_proven(c, i); /* x + k + size <= len, no wrap */
	/* R2 = x + k; a sum that wraps past 2^64 is out of bounds. */
	emit(c, ebpf_mov64_reg(R2, x));
	if (insn->arg) {
		emit_add_offset(c, insn->arg);
		if (!proven)
			emit_branch(c, ebpf_jmp_reg(BPF_JLT, R2, x, 0), bounds);
	}
	if (!proven) {
		/* off <= len && size <= len - off, never off + size. */
		emit(c, ebpf_ldx_mem(BPF_DW, R3, R10, c->len_off));
		emit_branch(c, ebpf_jmp_imm(BPF_JLT, R3, (int32_t)size, 0), bounds);
		emit(c, ebpf_alu64_imm(BPF_SUB, R3, (int32_t)size));
		emit_branch(c, ebpf_jmp_reg(BPF_JGT, R2, R3, 0), bounds);
	}
	unsigned dst = slot_dst(d - 1, R0);
	emit_packet_read(c, false, 0, size, dst);
	put_slot(c, d - 1, dst);
}

/* ---- class emitters -------------------------------------------------------------- */

/* PUSH k at i becomes the immediate of the ALU2 or Jcc after it, which
 * pops it: k fits the sign-extended 32-bit immediate, nothing jumps
 * between them, and DIV/MOD by an immediate 0 (which the kernel's
 * verifier refuses) stays a register operation. */
static bool push_fuses(const struct ecx *c, uint32_t i)
{
	const struct vfm_program *prog = c->prog;
	if (prog->insns[i].opcode != VFM_OPC_PUSH || i + 1 >= prog->n_insns || c->join[i + 1] ||
	    vfm_facts_depth(prog, i + 1) < 0 || !fits_s32(prog->insns[i].imm))
		return false;
	uint8_t next = prog->insns[i + 1].opcode, cls = vfm_opinfo[next].cls;
	if (cls == VFM_CLASS_JCC)
		return true;
	return cls == VFM_CLASS_ALU2 &&
	       !(prog->insns[i].imm == 0 && (next == VFM_OPC_DIV || next == VFM_OPC_MOD));
}

static void emit_stack(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned d = depth(c, i);
	switch ((enum vfm_stack_op)insn->opcode) {
	case VFM_STACK_PUSH: {
		if (push_fuses(c, i))
			break; /* the next instruction's immediate */
		unsigned dst = slot_dst(d, R1);
		emit_mov_const(c, dst, insn->imm);
		put_slot(c, d, dst);
		break;
	}
	case VFM_STACK_POP:
		break; /* the slot is dead: nothing to do */
	case VFM_STACK_DUP:
		put_slot(c, d, get_slot(c, d - 1, R1));
		break;
	case VFM_STACK_SWAP: {
		unsigned a = get_slot(c, d - 2, R1);
		unsigned b = get_slot(c, d - 1, R2);
		if (a != R1) {
			emit(c, ebpf_mov64_reg(R1, a));
			a = R1;
		}
		put_slot(c, d - 2, b);
		put_slot(c, d - 1, a);
		break;
	}
	case VFM_STACK_OVER:
		put_slot(c, d, get_slot(c, d - 2, R1));
		break;
	case VFM_STACK_LDM: {
		unsigned dst = slot_dst(d, R1);
		emit(c, ebpf_ldx_mem(BPF_DW, dst, R10, (int16_t)(c->scratch_off - 8 * insn->aux)));
		put_slot(c, d, dst);
		break;
	}
	case VFM_STACK_STM:
		emit(c, ebpf_stx_mem(BPF_DW, R10, get_slot(c, d - 1, R1),
				     (int16_t)(c->scratch_off - 8 * insn->aux)));
		break;
	}
}

/* The top operand of an ALU2 or Jcc at i: a register, or the constant of
 * the PUSH k fused into it (push_fuses). */
struct operand {
	bool is_k;
	unsigned reg;
	int32_t k;
};

static struct operand get_top(struct ecx *c, uint32_t i, unsigned tmp)
{
	if (i > 0 && push_fuses(c, i - 1))
		return (struct operand){true, 0, (int32_t)(uint32_t)c->prog->insns[i - 1].imm};
	return (struct operand){false, get_slot(c, depth(c, i) - 1, tmp), 0};
}

static void emit_alu2(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned d = depth(c, i);
	struct operand b = get_top(c, i, R2);
	unsigned a = get_slot(c, d - 2, R1); /* a's own register, or R1 */
	uint8_t op = 0;
	switch ((enum vfm_alu2_op)insn->opcode) {
	case VFM_ALU2_ADD: op = BPF_ADD; break;
	case VFM_ALU2_SUB: op = BPF_SUB; break;
	case VFM_ALU2_MUL: op = BPF_MUL; break;
	/* eBPF's unsigned DIV and MOD define x/0 = 0 and x%0 = x, as VFM. */
	case VFM_ALU2_DIV: op = BPF_DIV; break;
	case VFM_ALU2_MOD: op = BPF_MOD; break;
	case VFM_ALU2_AND: op = BPF_AND; break;
	case VFM_ALU2_OR: op = BPF_OR; break;
	case VFM_ALU2_XOR: op = BPF_XOR; break;
	/* eBPF masks 64-bit shift counts with 63 at run time too; the
	 * explicit mask keeps the kernel's verifier from seeing a count
	 * of 64 or more. */
	case VFM_ALU2_SHL: op = BPF_LSH; break;
	case VFM_ALU2_SHR: op = BPF_RSH; break;
	}
	if (b.is_k) {
		if (op == BPF_LSH || op == BPF_RSH)
			b.k &= 63;
		emit(c, ebpf_alu64_imm(op, a, b.k));
		put_slot(c, d - 2, a);
		return;
	}
	if (op == BPF_LSH || op == BPF_RSH) {
		if (b.reg != R2) { /* b's slot is dead after: but keep it untouched */
			emit(c, ebpf_mov64_reg(R2, b.reg));
			b.reg = R2;
		}
		emit(c, ebpf_alu64_imm(BPF_AND, R2, 63));
	}
	emit(c, ebpf_alu64_reg(op, a, b.reg));
	put_slot(c, d - 2, a);
}

static void emit_alu1(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned d = depth(c, i);
	unsigned a = get_slot(c, d - 1, R1);
	switch ((enum vfm_alu1_op)insn->opcode) {
	case VFM_ALU1_NOT: emit(c, ebpf_alu64_imm(BPF_XOR, a, -1)); break;
	case VFM_ALU1_NEG: emit(c, ebpf_neg64(a)); break;
	}
	put_slot(c, d - 1, a);
}

/* One unit of budget for a taken backward jump, or the BUDGET exit. */
static void emit_spend_budget(struct ecx *c)
{
	emit(c, ebpf_ldx_mem(BPF_DW, R1, R10, c->budget_off));
	emit_branch(c, ebpf_jmp_imm(BPF_JEQ, R1, 0, 0), exit_label(c, EXIT_BUDGET));
	emit(c, ebpf_alu64_imm(BPF_SUB, R1, 1));
	emit(c, ebpf_stx_mem(BPF_DW, R10, R1, c->budget_off));
}

static void emit_jmp(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	switch ((enum vfm_jmp_op)insn->opcode) {
	case VFM_JMP_JMP:
		if (insn->aux)
			emit_spend_budget(c);
		emit_branch(c, ebpf_ja(0), insn->arg);
		break;
	}
}

/* if a REL b goto label. */
static void emit_branch_rel(struct ecx *c, enum vfm_rel rel, unsigned a, struct operand b,
			    uint32_t label)
{
	uint8_t op = 0;
	switch (rel) {
	case VFM_REL_EQ: op = BPF_JEQ; break;
	case VFM_REL_NE: op = BPF_JNE; break;
	case VFM_REL_LT: op = BPF_JLT; break;
	case VFM_REL_LE: op = BPF_JLE; break;
	case VFM_REL_GT: op = BPF_JGT; break;
	case VFM_REL_GE: op = BPF_JGE; break;
	case VFM_REL_SET: op = BPF_JSET; break;
	case VFM_REL_CLEAR: /* no eBPF op: skip the jump when any bit is set */
		emit(c, b.is_k ? ebpf_jmp_imm(BPF_JSET, a, b.k, 1) : ebpf_jmp_reg(BPF_JSET, a, b.reg, 1));
		emit_branch(c, ebpf_ja(0), label);
		return;
	}
	emit_branch(c, b.is_k ? ebpf_jmp_imm(op, a, b.k, 0) : ebpf_jmp_reg(op, a, b.reg, 0), label);
}

static void emit_jcc(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned d = depth(c, i);
	struct operand b = get_top(c, i, R2);
	unsigned a = get_slot(c, d - 2, R1);
	enum vfm_rel rel = vfm_jcc_rel(insn->opcode, true);
	if (!insn->aux) {
		emit_branch_rel(c, rel, a, b, insn->arg);
		return;
	}
	/* Backward: the taken edge spends budget first.  The fall-through
	 * is a local label, not i + 1's: in a hoisted region's checked copy
	 * i + 1 is the copy's next instruction, not the fast copy's. */
	uint32_t take = label_new(c), next = label_new(c);
	emit_branch_rel(c, rel, a, b, take);
	emit_branch(c, ebpf_ja(0), next);
	label_bind(c, take);
	emit_spend_budget(c);
	emit_branch(c, ebpf_ja(0), insn->arg);
	label_bind(c, next);
}

/* Return the verdict in R0 (status OK), as the target returns it. */
static void emit_verdict_exit(struct ecx *c)
{
	switch (c->opt->target) {
	case VFM_EBPF_RAW:
		emit(c, ebpf_st_mem(BPF_W, CTX, offsetof(struct __sk_buff, cb), VFM_STATUS_OK));
		break;
	case VFM_EBPF_SOCKET: /* the verdict itself: bytes to keep */
		break;
	case VFM_EBPF_TC:
	case VFM_EBPF_XDP:
		emit(c, ebpf_jmp_imm(BPF_JEQ, R0, 0, 2));
		emit(c, ebpf_mov32_imm(R0, (uint32_t)(is_xdp(c) ? XDP_PASS : TC_ACT_OK)));
		emit(c, ebpf_exit());
		emit(c, ebpf_mov32_imm(R0, (uint32_t)(is_xdp(c) ? XDP_DROP : TC_ACT_SHOT)));
		break;
	}
	emit(c, ebpf_exit());
}

/* RET and RET k return in place (no shared exit: a jump less per packet). */
static void emit_ret(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned d = depth(c, i);
	bool action = c->opt->target == VFM_EBPF_TC || is_xdp(c);
	switch ((enum vfm_ret_op)insn->opcode) {
	case VFM_RET_RET: {
		unsigned v = get_slot(c, d - 1, R0);
		if (v != R0)
			emit(c, ebpf_mov64_reg(R0, v));
		if (!action) { /* sat32: values above 0xFFFFFFFF become 0xFFFFFFFF */
			emit(c, ebpf_mov32_imm(R1, UINT32_MAX));
			emit(c, ebpf_jmp_reg(BPF_JLE, R0, R1, 1));
			emit(c, ebpf_mov64_reg(R0, R1));
		}
		emit_verdict_exit(c);
		break;
	}
	case VFM_RET_RETK:
		/* The action is known here: no test at run time. */
		if (action)
			emit(c, ebpf_mov32_imm(R0, (uint32_t)(is_xdp(c) ? (insn->arg ? XDP_PASS : XDP_DROP)
							     : (insn->arg ? TC_ACT_OK : TC_ACT_SHOT))));
		else
			emit(c, ebpf_mov32_imm(R0, insn->arg));
		if (c->opt->target == VFM_EBPF_RAW)
			emit(c, ebpf_st_mem(BPF_W, CTX, offsetof(struct __sk_buff, cb), VFM_STATUS_OK));
		emit(c, ebpf_exit());
		break;
	}
}

/* ---- the flow table (a BPF ARRAY map of sets, docs/EBPF.md) ---------------------- */

/* reg = vfm_mix64(reg) (vm/semantics.h), tmp clobbered. */
static void emit_mix64(struct ecx *c, unsigned reg, unsigned tmp)
{
	static const struct { int shift; uint64_t mul; } step[3] = {
		{30, 0xBF58476D1CE4E5B9u}, {27, 0x94D049BB133111EBu}, {31, 0}};
	for (int s = 0; s < 3; s++) {
		emit(c, ebpf_mov64_reg(tmp, reg));
		emit(c, ebpf_alu64_imm(BPF_RSH, tmp, step[s].shift));
		emit(c, ebpf_alu64_reg(BPF_XOR, reg, tmp));
		if (step[s].mul) {
			emit_mov_const(c, tmp, step[s].mul);
			emit(c, ebpf_alu64_reg(BPF_MUL, reg, tmp));
		}
	}
}

/* reg = &flow map (the kernel puts the map's address for its fd). */
static void emit_map_ld(struct ecx *c, unsigned reg)
{
	if (c->err != VFM_OK)
		return;
	if (c->n_map_refs == c->cap_map_refs) {
		uint32_t cap = c->cap_map_refs ? 2 * c->cap_map_refs : 16;
		uint32_t *p = realloc(c->map_refs, cap * sizeof *p);
		if (!p) {
			fail(c, VFM_ENOMEM, "out of memory");
			return;
		}
		c->map_refs = p;
		c->cap_map_refs = cap;
	}
	c->map_refs[c->n_map_refs++] = c->n;
	emit(c, ebpf_ld_map_fd(reg, -1)); /* -1 until vfm_ebpf_prog_bind_map */
	emit(c, ebpf_ld_imm64_hi(0));
}

/* R0 = the map entry `index` (R1 holds it), or the BOUNDS exit if the
 * lookup fails (it cannot: the index is below max_entries; the kernel
 * wants the NULL check). */
static void emit_map_lookup(struct ecx *c)
{
	emit(c, ebpf_stx_mem(BPF_W, R10, R1, c->flow_key_off));
	emit_map_ld(c, R1);
	emit(c, ebpf_mov64_reg(R2, R10));
	emit(c, ebpf_alu64_imm(BPF_ADD, R2, c->flow_key_off));
	emit(c, ebpf_call(BPF_FUNC_map_lookup_elem));
	emit_branch(c, ebpf_jmp_imm(BPF_JEQ, R0, 0, 0), exit_label(c, EXIT_BOUNDS));
}

/* R0 = &set of the key in `key` (vm/flow.c set_of), R5 = &counters. */
static void emit_flow_set(struct ecx *c, unsigned key)
{
	if (key != R1)
		emit(c, ebpf_mov64_reg(R1, key));
	emit_mix64(c, R1, R2);
	emit(c, ebpf_alu64_imm(BPF_AND, R1, (int32_t)c->set_mask));
	emit_map_lookup(c);
	emit(c, ebpf_ldx_mem(BPF_DW, R5, R10, c->stats_off));
}

/* One more in a counter (R5 = &counters; R2 clobbered). */
static void emit_count(struct ecx *c, size_t field)
{
	emit(c, ebpf_alu64_imm(BPF_MOV, R2, 1));
	emit(c, ebpf_atomic_add64(R5, R2, (int16_t)field));
}

#define SET_KEY(w) ((int16_t)(offsetof(struct vfm_ebpf_flow_set, key) + 8 * (w)))
#define SET_VALUE(w) ((int16_t)(offsetof(struct vfm_ebpf_flow_set, value) + 8 * (w)))
#define SET_USED ((int16_t)offsetof(struct vfm_ebpf_flow_set, used))
#define SET_VICTIM ((int16_t)offsetof(struct vfm_ebpf_flow_set, victim))
#define COUNTER(f) offsetof(struct vfm_ebpf_flow_counters, f)

/* For each occupied way w of the set at R0 (R1 = its used mask) whose key
 * equals `key`: `found(w)` code, then goto done.  Falls through if none. */
static void emit_find_way(struct ecx *c, unsigned key, void (*found)(struct ecx *, unsigned, unsigned),
			  unsigned arg, uint32_t done)
{
	for (unsigned w = 0; w < VFM_EBPF_FLOW_WAYS; w++) {
		uint32_t next = label_new(c);
		emit(c, ebpf_jmp_imm(BPF_JSET, R1, 1 << w, 1));
		emit_branch(c, ebpf_ja(0), next);
		emit(c, ebpf_ldx_mem(BPF_DW, R2, R0, SET_KEY(w)));
		emit_branch(c, ebpf_jmp_reg(BPF_JNE, R2, key, 0), next);
		found(c, w, arg);
		emit_branch(c, ebpf_ja(0), done);
		label_bind(c, next);
	}
}

static void found_load(struct ecx *c, unsigned w, unsigned dst)
{
	emit(c, ebpf_ldx_mem(BPF_DW, dst, R0, SET_VALUE(w)));
	emit_count(c, COUNTER(hits));
}

static void found_store(struct ecx *c, unsigned w, unsigned val)
{
	emit(c, ebpf_stx_mem(BPF_DW, R0, val, SET_VALUE(w)));
	emit_count(c, COUNTER(updates));
}

/* FLOW_LOAD: pop key, push its value or 0 (vm/flow.c vfm_flow_load). */
static void emit_flow_load(struct ecx *c, uint32_t i)
{
	unsigned d = depth(c, i);
	emit_flow_set(c, get_slot(c, d - 1, R1));
	unsigned key = get_slot(c, d - 1, R3);
	unsigned dst = slot_dst(d - 1, R4);
	uint32_t done = label_new(c);
	emit(c, ebpf_ldx_mem(BPF_B, R1, R0, SET_USED));
	emit_find_way(c, key, found_load, dst, done);
	emit(c, ebpf_alu64_imm(BPF_MOV, dst, 0));
	emit_count(c, COUNTER(misses));
	label_bind(c, done);
	put_slot(c, d - 1, dst);
}

/* FLOW_STORE: pop value, pop key, store (vm/flow.c vfm_flow_store): the
 * key's way if present, else the first free way, else the victim's,
 * which then advances. */
static void emit_flow_store(struct ecx *c, uint32_t i)
{
	unsigned d = depth(c, i);
	emit_flow_set(c, get_slot(c, d - 2, R1));
	unsigned key = get_slot(c, d - 2, R3);
	unsigned val = get_slot(c, d - 1, R4);
	uint32_t done = label_new(c);
	emit(c, ebpf_ldx_mem(BPF_B, R1, R0, SET_USED));
	emit_find_way(c, key, found_store, val, done);
	emit_count(c, COUNTER(inserts));
	for (unsigned w = 0; w < VFM_EBPF_FLOW_WAYS; w++) {
		uint32_t next = label_new(c);
		emit_branch(c, ebpf_jmp_imm(BPF_JSET, R1, 1 << w, 0), next);
		emit(c, ebpf_alu64_imm(BPF_OR, R1, 1 << w));
		emit(c, ebpf_stx_mem(BPF_B, R0, R1, SET_USED));
		emit(c, ebpf_stx_mem(BPF_DW, R0, key, SET_KEY(w)));
		emit(c, ebpf_stx_mem(BPF_DW, R0, val, SET_VALUE(w)));
		emit_count(c, COUNTER(entries));
		emit_branch(c, ebpf_ja(0), done);
		label_bind(c, next);
	}
	/* Full: way = victim, victim = (victim + 1) % 4.  The & 3 keeps the
	 * kernel's verifier (and a corrupted map) inside the set. */
	emit(c, ebpf_ldx_mem(BPF_B, R2, R0, SET_VICTIM));
	emit(c, ebpf_alu64_imm(BPF_AND, R2, VFM_EBPF_FLOW_WAYS - 1));
	emit(c, ebpf_mov64_reg(R1, R2));
	emit(c, ebpf_alu64_imm(BPF_ADD, R1, 1));
	emit(c, ebpf_alu64_imm(BPF_AND, R1, VFM_EBPF_FLOW_WAYS - 1));
	emit(c, ebpf_stx_mem(BPF_B, R0, R1, SET_VICTIM));
	emit(c, ebpf_alu64_imm(BPF_LSH, R2, 3));
	emit(c, ebpf_alu64_reg(BPF_ADD, R0, R2));
	emit(c, ebpf_stx_mem(BPF_DW, R0, key, SET_KEY(0)));
	emit(c, ebpf_stx_mem(BPF_DW, R0, val, SET_VALUE(0)));
	emit_count(c, COUNTER(evictions));
	label_bind(c, done);
}

/* ---- HASH5: a BPF-to-BPF subprogram (vm/hash5.c, docs/ISA.md) ------------------- */

/* HASH5: push hash5(packet) from the subprogram (R1 ctx, R2 VFM len). */
static void emit_hash5_call(struct ecx *c, uint32_t i)
{
	unsigned d = depth(c, i);
	emit(c, ebpf_mov64_reg(R1, CTX));
	emit(c, ebpf_ldx_mem(BPF_DW, R2, R10, c->len_off));
	emit_call_label(c, c->hash5_label);
	put_slot(c, d, R0);
}

/* In the subprogram: `n` packet bytes at VFM offset k (const) or R9 to
 * the frame at `to`, through the helper; its failure (impossible below
 * the length, which the caller checked) returns 0 via `fail_label`. */
static void h5_read(struct ecx *c, bool is_const, uint32_t k, unsigned n, int16_t to,
		    uint32_t fail_label)
{
	uint32_t po = c->opt->packet_offset;
	if (is_const) {
		emit(c, ebpf_mov32_imm(R2, po + k));
	} else {
		emit(c, ebpf_mov64_reg(R2, R9));
		if (po)
			emit(c, ebpf_alu64_imm(BPF_ADD, R2, (int32_t)po));
	}
	emit(c, ebpf_mov64_reg(R1, R6));
	emit(c, ebpf_mov64_reg(R3, R10));
	emit(c, ebpf_alu64_imm(BPF_ADD, R3, to));
	emit(c, ebpf_alu64_imm(BPF_MOV, R4, (int32_t)n));
	emit(c, ebpf_call(load_bytes_helper(c)));
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R0, 0, 0), fail_label);
}

/* dst = big-endian `size` bytes at frame offset off. */
static void h5_field(struct ecx *c, unsigned dst, int16_t off, unsigned size)
{
	emit(c, ebpf_ldx_mem(size_field(size), dst, R10, off));
	emit_from_be(c, dst, size);
}

/* R9 = the ports word (sport << 16 | dport) at VFM offset R9 if the
 * protocol in R8 is TCP or UDP and R3 (bytes left from there) >= 4,
 * else 0.  R9 = offset on entry. */
static void h5_ports(struct ecx *c, uint32_t fail_label)
{
	uint32_t yes = label_new(c), none = label_new(c), done = label_new(c);
	emit_branch(c, ebpf_jmp_imm(BPF_JEQ, R8, 6, 0), yes);
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R8, 17, 0), none);
	label_bind(c, yes);
	emit_branch(c, ebpf_jmp_imm(BPF_JLT, R3, 4, 0), none);
	h5_read(c, false, 0, 4, H5_PORTS_OFF, fail_label);
	h5_field(c, R9, H5_PORTS_OFF, 4);
	emit_branch(c, ebpf_ja(0), done);
	label_bind(c, none);
	emit(c, ebpf_alu64_imm(BPF_MOV, R9, 0));
	label_bind(c, done);
}

/* R0 = mix64(R0 ^ (R8 << 32 | R9)); return it. */
static void h5_finish(struct ecx *c)
{
	emit(c, ebpf_alu64_imm(BPF_LSH, R8, 32));
	emit(c, ebpf_alu64_reg(BPF_OR, R8, R9));
	emit(c, ebpf_alu64_reg(BPF_XOR, R0, R8));
	emit_mix64(c, R0, R1);
	emit(c, ebpf_exit());
}

/*
 * The subprogram, vm/hash5.c step by step: R6 ctx, R7 length, R8
 * EtherType then the protocol, R9 the IP header's offset then the ports.
 * The packet is read with the helper (the caller's direct-access proofs
 * do not carry into a subprogram; fragments are read the same way).
 */
static void emit_hash5_sub(struct ecx *c)
{
	uint32_t ret0 = label_new(c), novlan = label_new(c), v4 = label_new(c);
	c->subprog_start = c->n;
	label_bind(c, c->hash5_label);
	emit(c, ebpf_mov64_reg(R6, R1));
	emit(c, ebpf_mov64_reg(R7, R2));
	emit_branch(c, ebpf_jmp_imm(BPF_JLT, R7, 14, 0), ret0);
	h5_read(c, true, 12, 2, H5_HDR_OFF, ret0);
	h5_field(c, R8, H5_HDR_OFF, 2);
	emit(c, ebpf_alu64_imm(BPF_MOV, R9, 14));
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R8, 0x8100, 0), novlan);
	emit_branch(c, ebpf_jmp_imm(BPF_JLT, R7, 18, 0), ret0);
	h5_read(c, true, 16, 2, H5_HDR_OFF, ret0);
	h5_field(c, R8, H5_HDR_OFF, 2);
	emit(c, ebpf_alu64_imm(BPF_MOV, R9, 18));
	label_bind(c, novlan);
	emit(c, ebpf_alu64_reg(BPF_SUB, R7, R9)); /* bytes from the IP header */
	emit_branch(c, ebpf_jmp_imm(BPF_JEQ, R8, 0x0800, 0), v4);
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R8, 0x86DD, 0), ret0);

	/* IPv6: the fixed header, ports right after it. */
	emit_branch(c, ebpf_jmp_imm(BPF_JLT, R7, 40, 0), ret0);
	h5_read(c, false, 0, 40, H5_HDR_OFF, ret0);
	h5_field(c, R1, H5_HDR_OFF, 1);
	emit(c, ebpf_alu64_imm(BPF_RSH, R1, 4));
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R1, 6, 0), ret0);
	h5_field(c, R8, H5_HDR_OFF + 6, 1); /* next header */
	emit(c, ebpf_alu64_imm(BPF_ADD, R9, 40));
	emit(c, ebpf_mov64_reg(R3, R7));
	emit(c, ebpf_alu64_imm(BPF_SUB, R3, 40));
	h5_ports(c, ret0);
	emit_mov_const(c, R0, 0xC2B2AE3D27D4EB4Fu);
	for (int off = 8; off < 40; off += 8) { /* source, then destination */
		h5_field(c, R1, (int16_t)(H5_HDR_OFF + off), 8);
		emit(c, ebpf_alu64_reg(BPF_XOR, R0, R1));
		emit_mix64(c, R0, R1);
	}
	h5_finish(c);

	/* IPv4: IHL-aware; ports 0 for non-first fragments. */
	label_bind(c, v4);
	emit_branch(c, ebpf_jmp_imm(BPF_JLT, R7, 20, 0), ret0);
	h5_read(c, false, 0, 20, H5_HDR_OFF, ret0);
	h5_field(c, R1, H5_HDR_OFF, 1);
	emit(c, ebpf_mov64_reg(R2, R1));
	emit(c, ebpf_alu64_imm(BPF_RSH, R2, 4));
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R2, 4, 0), ret0);
	emit(c, ebpf_alu64_imm(BPF_AND, R1, 0x0F));
	emit(c, ebpf_alu64_imm(BPF_LSH, R1, 2)); /* IHL in bytes */
	emit_branch(c, ebpf_jmp_imm(BPF_JLT, R1, 20, 0), ret0);
	h5_field(c, R8, H5_HDR_OFF + 9, 1); /* protocol */
	uint32_t noports = label_new(c), have = label_new(c);
	h5_field(c, R2, H5_HDR_OFF + 6, 2);
	emit(c, ebpf_alu64_imm(BPF_AND, R2, 0x1FFF)); /* fragment offset */
	emit_branch(c, ebpf_jmp_imm(BPF_JNE, R2, 0, 0), noports);
	/* ihl <= ip_len, then ip_len - ihl bytes left for the ports */
	emit_branch(c, ebpf_jmp_reg(BPF_JGT, R1, R7, 0), noports);
	emit(c, ebpf_mov64_reg(R3, R7));
	emit(c, ebpf_alu64_reg(BPF_SUB, R3, R1));
	emit(c, ebpf_alu64_reg(BPF_ADD, R9, R1));
	h5_ports(c, ret0);
	emit_branch(c, ebpf_ja(0), have);
	label_bind(c, noports);
	emit(c, ebpf_alu64_imm(BPF_MOV, R9, 0));
	label_bind(c, have);
	h5_field(c, R0, H5_HDR_OFF + 12, 4);
	emit(c, ebpf_alu64_imm(BPF_LSH, R0, 32));
	h5_field(c, R1, H5_HDR_OFF + 16, 4);
	emit(c, ebpf_alu64_reg(BPF_OR, R0, R1));
	emit_mov_const(c, R1, 0x9E3779B97F4A7C15u);
	emit(c, ebpf_alu64_reg(BPF_XOR, R0, R1));
	emit_mix64(c, R0, R1);
	h5_finish(c);

	label_bind(c, ret0);
	emit(c, ebpf_alu64_imm(BPF_MOV, R0, 0));
	emit(c, ebpf_exit());
}

static void emit_special(struct ecx *c, uint32_t i)
{
	const struct vfm_insn *insn = &c->prog->insns[i];
	unsigned d = depth(c, i);
	switch ((enum vfm_special_op)insn->opcode) {
	case VFM_SPECIAL_LEN: {
		unsigned dst = slot_dst(d, R1);
		emit(c, ebpf_ldx_mem(BPF_DW, dst, R10, c->len_off));
		put_slot(c, d, dst);
		break;
	}
	case VFM_SPECIAL_WLEN: {
		if (is_xdp(c) || is_socket(c)) { /* no wire length beyond the frame */
			unsigned dst = slot_dst(d, R1);
			emit(c, ebpf_ldx_mem(BPF_DW, dst, R10, c->len_off));
			put_slot(c, d, dst);
			break;
		}
		/* skb->wire_len, or LEN when it is 0 (unknown), as VFM. */
		uint32_t use_len = label_new(c), done = label_new(c);
		unsigned dst = slot_dst(d, R1);
		emit(c, ebpf_ldx_mem(BPF_W, dst, CTX, offsetof(struct __sk_buff, wire_len)));
		emit_branch(c, ebpf_jmp_imm(BPF_JEQ, dst, 0, 0), use_len);
		if (c->opt->packet_offset) {
			emit(c, ebpf_mov32_imm(R2, c->opt->packet_offset));
			emit(c, ebpf_alu64_reg(BPF_SUB, dst, R2));
		}
		emit_branch(c, ebpf_ja(0), done);
		label_bind(c, use_len);
		emit(c, ebpf_ldx_mem(BPF_DW, dst, R10, c->len_off));
		label_bind(c, done);
		put_slot(c, d, dst);
		break;
	}
	case VFM_SPECIAL_TS: {
		/* The caller's timestamp: skb->tstamp, 0 if none.  XDP frames
		 * carry none: the time of the run. */
		unsigned dst = slot_dst(d, R1);
		if (is_xdp(c) || is_socket(c)) {
			emit(c, ebpf_call(BPF_FUNC_ktime_get_ns));
			put_slot(c, d, R0);
			break;
		}
		emit(c, ebpf_ldx_mem(BPF_DW, dst, CTX, offsetof(struct __sk_buff, tstamp)));
		put_slot(c, d, dst);
		break;
	}
	case VFM_SPECIAL_HASH5:
		emit_hash5_call(c, i);
		break;
	case VFM_SPECIAL_FLOW_LOAD:
		emit_flow_load(c, i);
		break;
	case VFM_SPECIAL_FLOW_STORE:
		emit_flow_store(c, i);
		break;
	}
}

static void emit_insn(struct ecx *c, uint32_t i)
{
	switch ((enum vfm_op_class)vfm_opinfo[c->prog->insns[i].opcode].cls) {
	case VFM_CLASS_STACK: emit_stack(c, i); break;
	case VFM_CLASS_LOAD: emit_load(c, i); break;
	case VFM_CLASS_LOADX: emit_loadx(c, i); break;
	case VFM_CLASS_ALU2: emit_alu2(c, i); break;
	case VFM_CLASS_ALU1: emit_alu1(c, i); break;
	case VFM_CLASS_JMP: emit_jmp(c, i); break;
	case VFM_CLASS_JCC: emit_jcc(c, i); break;
	case VFM_CLASS_RET: emit_ret(c, i); break;
	case VFM_CLASS_SPECIAL: emit_special(c, i); break;
	}
}

/* ---- frame, prologue, exits --------------------------------------------------------- */

/* Lay out the BPF stack frame; false (with the reason) if over 512 bytes. */
static bool plan_frame(struct ecx *c)
{
	const struct vfm_program *prog = c->prog;
	bool loads = false, scratch = false;
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		if (vfm_facts_depth(prog, i) < 0)
			continue;
		uint8_t op = prog->insns[i].opcode, cls = vfm_opinfo[op].cls;
		loads |= cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX;
		if (op == VFM_OPC_LDM || op == VFM_OPC_STM) {
			scratch = true;
			if (prog->insns[i].aux + 1u > c->scratch_words)
				c->scratch_words = prog->insns[i].aux + 1u;
		}
		c->uses_flow |= op == VFM_OPC_FLOW_LOAD || op == VFM_OPC_FLOW_STORE;
		c->uses_hash5 |= op == VFM_OPC_HASH5;
	}
	uint32_t used = 8;
	c->len_off = -8;
	if (vfm_facts_has_backward(prog)) {
		used += 8;
		c->budget_off = (int16_t)-(int)used;
	}
	if (loads) {
		used += 8;
		c->buf_off = (int16_t)-(int)used;
	}
	if (c->hoist.n_regions)
		c->data_off = (int16_t)-(int)(used += 8);
	if (c->uses_flow) {
		c->flow_key_off = (int16_t)-(int)(used += 8);
		c->stats_off = (int16_t)-(int)(used += 8);
	}
	if (scratch) {
		c->scratch_off = (int16_t)-(int)(used + 8); /* M[i] at scratch_off - 8i */
		used += 8 * c->scratch_words; /* M[0] .. the highest index used */
	}
	c->slot_off = (int16_t)-(int)(used + 8);
	unsigned max_depth = vfm_facts_max_depth(prog);
	if (max_depth > N_STACK_REGS)
		used += 8 * (max_depth - N_STACK_REGS);
	c->frame = used;
	/* A call's frames add up (the kernel rounds each to 32 bytes). */
	uint32_t total = c->uses_hash5 ? ((used + 31) & ~31u) + H5_FRAME : used;
	if (total <= VFM_EBPF_MAX_STACK)
		return true;
	if (c->hoist.n_regions) { /* no room for the guard's pointer: no hoisting */
		vfm_hoist_free(&c->hoist);
		free(c->region_label);
		c->region_label = NULL;
		return plan_frame(c);
	}
	/* Name the first instruction that reaches the maximum depth. */
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		int dd = vfm_facts_depth(prog, i);
		const struct vfm_opinfo *oi = &vfm_opinfo[prog->insns[i].opcode];
		if (dd >= 0 && (unsigned)(dd - oi->pops + oi->pushes) >= max_depth) {
			c->cur = i;
			break;
		}
	}
	fail(c, VFM_ETOOBIG,
	     "stack depth %u needs a %u-byte BPF stack frame%s, over the kernel's %u-byte limit "
	     "(MAX_BPF_STACK) at pc %u", max_depth, total,
	     c->uses_hash5 ? " (with the HASH5 subprogram's)" : "", VFM_EBPF_MAX_STACK, cur_pc(c));
	return false;
}

static void emit_prologue(struct ecx *c)
{
	emit(c, ebpf_mov64_reg(CTX, R1));
	if (is_xdp(c)) { /* the frame's length: data_end - data without frags */
		emit(c, ebpf_call(BPF_FUNC_xdp_get_buff_len));
		emit(c, ebpf_mov64_reg(R1, R0));
	} else {
		emit(c, ebpf_ldx_mem(BPF_W, R1, CTX, offsetof(struct __sk_buff, len)));
	}
	uint32_t po = c->opt->packet_offset;
	if (po) {
		emit_mov_const(c, R2, po);
		emit_branch(c, ebpf_jmp_reg(BPF_JLT, R1, R2, 0), exit_label(c, EXIT_BOUNDS));
		emit(c, ebpf_alu64_reg(BPF_SUB, R1, R2));
	}
	emit(c, ebpf_stx_mem(BPF_DW, R10, R1, c->len_off));
	if (vfm_facts_has_backward(c->prog)) {
		emit(c, ebpf_mov32_imm(R1, c->opt->budget));
		emit(c, ebpf_stx_mem(BPF_DW, R10, R1, c->budget_off));
	}
	if (vfm_facts_reads_scratch(c->prog))
		for (unsigned w = 0; w < c->scratch_words; w++)
			emit(c, ebpf_st_mem(BPF_DW, R10, (int16_t)(c->scratch_off - 8 * w), 0));
	if (c->uses_flow) { /* the counters' address, once per packet */
		emit(c, ebpf_mov32_imm(R1, c->n_sets));
		emit_map_lookup(c);
		emit(c, ebpf_stx_mem(BPF_DW, R10, R0, c->stats_off));
	}
}

/* The shared exits, those used only (the kernel refuses unreachable code). */
static void emit_exits(struct ecx *c)
{
	bool raw = c->opt->target == VFM_EBPF_RAW, sock = is_socket(c);
	int32_t drop = is_xdp(c) ? XDP_DROP : TC_ACT_SHOT;
	int16_t cb0 = offsetof(struct __sk_buff, cb);
	static const vfm_status_t status_of[N_EXITS] = {
		[EXIT_BOUNDS] = VFM_STATUS_BOUNDS, [EXIT_BUDGET] = VFM_STATUS_BUDGET};
	for (int e = 0; e < N_EXITS; e++) {
		if (!c->exit_used[e])
			continue;
		label_bind(c, c->prog->n_insns + (uint32_t)e);
		if (raw) {
			emit(c, ebpf_st_mem(BPF_W, CTX, cb0, (int32_t)status_of[e]));
			emit(c, ebpf_mov32_imm(R0, 0));
		} else if (sock) {
			emit(c, ebpf_mov32_imm(R0, 0));
		} else {
			emit(c, ebpf_mov32_imm(R0, (uint32_t)drop));
		}
		emit(c, ebpf_exit());
	}
}

/* Regions whose packet checks one guard replaces (verifier/hoist.c), for
 * direct packet access only: helper loads have no data_end to prove.  The
 * reach keeps po + k within a load's 16-bit offset.  A program whose
 * frame cannot take the pointer slot is compiled without hoisting
 * (plan_frame retries). */
static void plan_hoisting(struct ecx *c)
{
	uint32_t po = c->opt->packet_offset;
	if (helper_only(c) || po >= INT16_MAX)
		return;
	if (!vfm_hoist_plan(c->prog, NULL, (uint64_t)INT16_MAX - po, &c->hoist)) {
		fail(c, VFM_ENOMEM, "out of memory");
		return;
	}
	if (c->hoist.n_regions) {
		c->region_label = calloc(c->hoist.n_regions, sizeof *c->region_label);
		if (!c->region_label)
			fail(c, VFM_ENOMEM, "out of memory");
	}
}

/* The checked copy of each hoisted region, after the main body: the
 * region's code as it would be without hoisting; its fall-through goes
 * where the fast copy's does. */
static void emit_checked_copies(struct ecx *c)
{
	const struct vfm_program *prog = c->prog;
	c->slow = true;
	for (uint32_t k = 0; k < c->hoist.n_regions && c->err == VFM_OK; k++) {
		const struct vfm_hoist_region *r = &c->hoist.regions[k];
		label_bind(c, c->region_label[k]);
		for (uint32_t i = r->start; i < r->end; i++) {
			c->cur = i;
			emit_insn(c, i);
		}
		if (!r->falls)
			continue;
		/* The fall-through of the last instruction; if the VFM
		 * verifier found it dead, any exit will do. */
		bool live = r->end < prog->n_insns && vfm_facts_depth(prog, r->end) >= 0;
		emit_branch(c, ebpf_ja(0), live ? r->end : exit_label(c, EXIT_BOUNDS));
	}
	c->slow = false;
}

void vfm_ebpf_options_init(struct vfm_ebpf_options *opt, enum vfm_ebpf_target target)
{
	memset(opt, 0, sizeof *opt);
	opt->target = target;
	opt->budget = VFM_DEFAULT_BUDGET;
}

static void ecx_free(struct ecx *c)
{
	free(c->code);
	free(c->owner);
	free(c->join);
	free(c->cold);
	vfm_hoist_free(&c->hoist);
	free(c->region_label);
	free(c->vfm_start);
	free(c->label_pos);
	free(c->fix);
	free(c->map_refs);
}

vfm_error_t vfm_compile_ebpf(const struct vfm_program *prog, const struct vfm_ebpf_options *opt,
			     struct vfm_ebpf_prog *out, vfm_diag_t *diag)
{
	if (!prog || !opt || !out)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "vfm_compile_ebpf: NULL argument");
	memset(out, 0, sizeof *out);
	uint32_t cap = opt->flow_capacity ? opt->flow_capacity : VFM_DEFAULT_FLOW_CAPACITY;
	if (cap < VFM_EBPF_FLOW_WAYS || cap > VFM_MAX_FLOW_CAPACITY || (cap & (cap - 1)))
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "eBPF: flow capacity %u is not a power of two in 4..%u", cap,
				    VFM_MAX_FLOW_CAPACITY);
	if (opt->target > VFM_EBPF_SOCKET)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "eBPF: unknown target %d",
				    (int)opt->target);
	struct ecx c = {.prog = prog, .opt = opt};
	c.n_sets = cap / VFM_EBPF_FLOW_WAYS;
	c.set_mask = c.n_sets - 1;
	uint32_t n = prog->n_insns;
	c.vfm_start = malloc((n + 1) * sizeof *c.vfm_start);
	c.join = calloc(n + 1, 1);
	if (!c.vfm_start || !c.join) {
		free(c.vfm_start);
		free(c.join);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	c.guard_end = UINT32_MAX;
	for (uint32_t i = 0; i < n; i++)
		if (vfm_opinfo[prog->insns[i].opcode].operand == VFM_OPND_REL32)
			c.join[prog->insns[i].arg] = 1;
	for (uint32_t i = 0; i < n + N_EXITS; i++)
		label_new(&c);
	c.hash5_label = label_new(&c);
	plan_hoisting(&c);
	if (plan_frame(&c)) {
		c.cur = n;
		emit_prologue(&c);
		for (uint32_t i = 0; i < n && c.err == VFM_OK; i++) {
			c.cur = i;
			c.vfm_start[i] = UINT32_MAX;
			if (vfm_facts_depth(prog, i) < 0)
				continue; /* unreachable: no code, the kernel wants none */
			c.vfm_start[i] = c.n;
			label_bind(&c, i);
			if (c.hoist.region_at && c.hoist.region_at[i])
				emit_region_guard(&c, c.hoist.region_at[i] - 1);
			emit_insn(&c, i);
		}
		emit_checked_copies(&c);
		emit_cold_reads(&c);
		c.cur = n;
		emit_exits(&c);
		if (c.uses_hash5)
			emit_hash5_sub(&c);
		resolve_fixups(&c);
	}
	if (c.err != VFM_OK) {
		uint32_t pc = cur_pc(&c);
		vfm_error_t err = vfm_diag_set(diag, c.err, c.err == VFM_ENOMEM ? -1 : (int64_t)pc,
					       vfm_program_line_of(prog, pc), "eBPF: %s", c.why);
		ecx_free(&c);
		return err;
	}
	if (c.n_map_refs) {
		struct vfm_ebpf_map *m = calloc(1, sizeof *m);
		if (!m) {
			ecx_free(&c);
			return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
		}
		m->kind = VFM_EBPF_MAP_FLOW;
		snprintf(m->name, sizeof m->name, "vfm_flow");
		m->type = opt->flow_per_cpu ? BPF_MAP_TYPE_PERCPU_ARRAY : BPF_MAP_TYPE_ARRAY;
		m->key_size = sizeof(uint32_t);
		m->value_size = sizeof(struct vfm_ebpf_flow_set);
		m->max_entries = c.n_sets + 1;
		m->refs = c.map_refs;
		m->n_refs = c.n_map_refs;
		c.map_refs = NULL;
		out->maps = m;
		out->n_maps = 1;
	}
	if (c.uses_hash5) {
		out->subprog_start[0] = c.subprog_start;
		out->n_subprogs = 1;
	}
	out->vfm_pc = malloc((n + 1) * sizeof *out->vfm_pc);
	if (!out->vfm_pc) {
		free(out->maps ? out->maps->refs : NULL);
		free(out->maps);
		ecx_free(&c);
		memset(out, 0, sizeof *out);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	for (uint32_t i = 0; i < n; i++)
		out->vfm_pc[i] = prog->pc_of[i];
	c.vfm_start[n] = c.n;
	out->insns = c.code;
	out->n_insns = c.n;
	out->vfm_start = c.vfm_start;
	out->n_vfm = n;
	out->stack_bytes = c.frame;
	out->prog_type = opt->target == VFM_EBPF_XDP      ? BPF_PROG_TYPE_XDP
			 : opt->target == VFM_EBPF_SOCKET ? BPF_PROG_TYPE_SOCKET_FILTER
							  : BPF_PROG_TYPE_SCHED_CLS;
	/* XDP: multi-buffer frames too (LEN is the whole frame). */
	out->prog_flags = opt->target == VFM_EBPF_XDP ? BPF_F_XDP_HAS_FRAGS : 0;
	out->vfm_of = c.owner;
	out->n_hoisted = c.hoist.n_regions;
	free(c.label_pos);
	free(c.fix);
	free(c.map_refs);
	vfm_hoist_free(&c.hoist);
	free(c.region_label);
	free(c.join);
	free(c.cold);
	return VFM_OK;
}

void vfm_ebpf_prog_free(struct vfm_ebpf_prog *p)
{
	if (!p)
		return;
	free(p->insns);
	free(p->vfm_start);
	free(p->vfm_pc);
	free(p->vfm_of);
	for (uint32_t m = 0; p->maps && m < p->n_maps; m++)
		free(p->maps[m].refs);
	free(p->maps);
	memset(p, 0, sizeof *p);
}

vfm_error_t vfm_ebpf_prog_bind_map(struct vfm_ebpf_prog *p, uint32_t map, int fd,
				   vfm_diag_t *diag)
{
	if (!p || map >= p->n_maps || fd < 0)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "vfm_ebpf_prog_bind_map: no map %u or a bad fd %d", map, fd);
	const struct vfm_ebpf_map *m = &p->maps[map];
	for (uint32_t r = 0; r < m->n_refs; r++)
		p->insns[m->refs[r]].imm = fd;
	return VFM_OK;
}
