/*
 * ebpf/cbpf_emit.c — VFM bytecode to classic BPF (ebpf/cbpf_emit.h).
 *
 * Machine mapping.  VFM stack slot s (0 = bottom) is cBPF scratch word
 * M[s]; the VFM scratch words the program uses follow, M[D + r] for the
 * r-th one used (D = the program's maximum stack depth, from the
 * verifier); A and X are temporaries within one VFM instruction.  So a
 * program fits when D plus its scratch words is at most 16.  A `PUSH k`
 * whose only use is the next ALU or jump instruction is folded into it
 * (`add #k`, `jeq #k`), when nothing jumps between the two.
 *
 * 32-bit values.  cBPF computes modulo 2^32.  For ADD, SUB, MUL, AND, OR,
 * XOR, NOT, NEG, SHL (of the shifted value), PUSH, DUP, SWAP, OVER, LDM,
 * STM and the loads, the cBPF word is congruent to the VFM word modulo
 * 2^32 whatever the VFM word is.  The instructions whose result depends on
 * the whole word — comparisons, DIV, MOD, SHR, shift counts, an indexed
 * load's offset, RET's verdict — are where the word must be below 2^32,
 * so that the congruent word is the word itself.  The verifier's interval
 * for each such operand (facts.states) must prove it; else the program
 * does not fit, and the message names that instruction.  A program
 * translated from cBPF (vm/cbpf.c) masks its ADD/SUB/MUL/LSH/NEG results
 * with `PUSH 0xffffffff; AND`, so it always fits (with its stack of 2-4
 * words and its scratch words).
 *
 * Other semantics (docs/ISA.md vs libpcap's bpf_filter and the kernel):
 * - Out-of-bounds loads: cBPF returns 0 from the filter, VFM ends the
 *   packet with verdict 0 (status BOUNDS): the same verdict.
 * - DIV/MOD by a word that may be 0: cBPF returns 0 from the filter, VFM
 *   gives x/0 = 0, x%0 = x and goes on; the translation tests the divisor
 *   first and computes VFM's result.
 * - Shift counts: VFM masks with 63, cBPF leaves counts of 32 or more
 *   undefined (the kernel's checker refuses them as constants): counts
 *   must be proven at most 31.
 * - LEN and WLEN both become `ld #len`: in the kernel skb->len, which is
 *   both; in libpcap the wire length, which is LEN only when the capture
 *   did not cut the packet.
 * - Absolute offsets of 2^31 and more are Linux's negative (ancillary,
 *   SKF_NET_OFF, SKF_LL_OFF) offsets in cBPF: such a load becomes `ret #0`,
 *   VFM's verdict for every packet under 2 GiB (the load is out of bounds).
 *   An indexed load whose x + k may reach 2^31 is refused.
 * Refused outright: LD64/LD64X, TS, HASH5, FLOW_LOAD, FLOW_STORE, backward
 * jumps (cBPF jumps only forward).
 */
#include "cbpf_emit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf_common.h>

#include "../verifier/domain.h"
#include "../verifier/verifier.h"

#define U32_MAX_ 0xFFFFFFFFull

/* A jump target while emitting: a VFM instruction (its first cBPF
 * instruction) or an item of the output list. */
enum { T_NONE, T_VFM, T_ITEM };
struct target {
	uint8_t kind;
	uint32_t v;
};

/* One output instruction before layout.  Conditional jumps with far
 * targets grow to `jcc 0,1; ja T; ja F` (layout decides). */
struct item {
	uint16_t code;
	uint32_t k;
	struct target t, f; /* conditional jumps: true, false; ja: t */
	bool is_jcc, is_ja, is_long;
};

struct emitter {
	const struct vfm_program *prog;
	struct item *items;
	uint32_t n, cap;
	uint32_t *first_item; /* per VFM insn: index of its first item */
	bool oom;
	/* The next item starts a VFM instruction that a jump may reach: A is
	 * not known there, so its `ld M[c]` must stay. */
	bool at_target;
	uint8_t scratch_cell[VFM_SCRATCH_WORDS]; /* VFM M[j] -> cBPF cell */
};

static struct item *add(struct emitter *e, uint16_t code, uint32_t k)
{
	if (e->oom)
		return NULL;
	if (e->n == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 64;
		struct item *p = realloc(e->items, cap * sizeof *p);
		if (!p) {
			e->oom = true;
			return NULL;
		}
		e->items = p;
		e->cap = cap;
	}
	struct item *it = &e->items[e->n++];
	memset(it, 0, sizeof *it);
	e->at_target = false;
	it->code = code;
	it->k = k;
	return it;
}

/* A = M[cell], left out right after `st M[cell]` (A holds it) unless a
 * jump may land between the two. */
static void ld_mem(struct emitter *e, uint32_t cell)
{
	if (!e->at_target && e->n > 0 && e->items[e->n - 1].code == BPF_ST &&
	    e->items[e->n - 1].k == cell && !e->oom)
		return;
	add(e, BPF_LD | BPF_MEM, cell);
}
static void ldx_mem(struct emitter *e, uint32_t cell) { add(e, BPF_LDX | BPF_MEM, cell); }
static void st(struct emitter *e, uint32_t cell) { add(e, BPF_ST, cell); }
static void stx(struct emitter *e, uint32_t cell) { add(e, BPF_STX, cell); }
static void ld_imm(struct emitter *e, uint32_t k) { add(e, BPF_LD | BPF_IMM, k); }

static void ja(struct emitter *e, struct target t)
{
	struct item *it = add(e, BPF_JMP | BPF_JA, 0);
	if (it) {
		it->is_ja = true;
		it->t = t;
	}
}

static void jcc(struct emitter *e, uint16_t code, uint32_t k, struct target t, struct target f)
{
	struct item *it = add(e, code, k);
	if (it) {
		it->is_jcc = true;
		it->t = t;
		it->f = f;
	}
}

static struct target vfm_t(uint32_t insn) { return (struct target){T_VFM, insn}; }
static struct target item_t(uint32_t item) { return (struct target){T_ITEM, item}; }

/* The abstract value of stack slot `slot` before instruction i; all
 * values where the verifier has no state (too big to record). */
static const struct vfm_aval *slot_val(const struct vfm_program *p, uint32_t i, int slot)
{
	static struct vfm_aval unknown;
	static bool unknown_set;
	const struct vfm_aslot *st = vfm_facts_state(p, i);
	if (st)
		return &st[1 + vfm_facts_n_scratch(p) + (uint32_t)slot].v;
	if (!unknown_set) {
		unknown = vfm_aval_unknown();
		unknown_set = true;
	}
	return &unknown;
}

static vfm_error_t refuse(const struct vfm_program *p, uint32_t i, vfm_diag_t *diag,
			  const char *why)
{
	char text[96];
	vfm_format_insn(p->code, p->code_size, p->pc_of[i], text, sizeof text);
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, p->pc_of[i],
			    vfm_program_line_of(p, p->pc_of[i]), "cBPF: pc %u (%s): %s", p->pc_of[i],
			    text, why);
}

/* Does instruction i fit cBPF, given the verifier's facts? */
static vfm_error_t check_insn(const struct vfm_program *p, uint32_t i, vfm_diag_t *diag)
{
	const struct vfm_insn *in = &p->insns[i];
	int s = p->facts.depth[i];
	char why[160];
	switch (in->opcode) {
	case VFM_OPC_LD64:
	case VFM_OPC_LD64X:
		return refuse(p, i, diag, "a 64-bit load (cBPF words are 32 bits)");
	case VFM_OPC_TS:
		return refuse(p, i, diag, "cBPF has no packet timestamp");
	case VFM_OPC_HASH5:
	case VFM_OPC_FLOW_LOAD:
	case VFM_OPC_FLOW_STORE:
		return refuse(p, i, diag, "cBPF has no flow table or HASH5");
	case VFM_OPC_JMP:
	case VFM_OPC_JEQ: case VFM_OPC_JNE: case VFM_OPC_JGT: case VFM_OPC_JGE:
	case VFM_OPC_JLT: case VFM_OPC_JLE: case VFM_OPC_JSET:
		if (in->arg <= i)
			return refuse(p, i, diag, "a backward jump (cBPF jumps only forward)");
		break;
	default:
		break;
	}
	/* Operands whose whole value matters (the file header's comment).  An
	 * instruction the value analysis found unreachable (a branch it
	 * decided) never runs: its states are not computed, nothing to prove. */
	if (!(p->facts.flags[i] & VFM_FACT_REACHED))
		return VFM_OK;
	switch (in->opcode) {
	case VFM_OPC_JEQ: case VFM_OPC_JNE: case VFM_OPC_JGT: case VFM_OPC_JGE:
	case VFM_OPC_JLT: case VFM_OPC_JLE: case VFM_OPC_JSET:
	case VFM_OPC_DIV: case VFM_OPC_MOD:
		for (int k = 1; k <= 2; k++)
			if (slot_val(p, i, s - k)->itv.hi > U32_MAX_)
				return refuse(p, i, diag, k == 1 ? "the top operand may be 2^32 or more "
								   "(cBPF words are 32 bits)"
								 : "the operand below the top may be 2^32 "
								   "or more (cBPF words are 32 bits)");
		break;
	case VFM_OPC_SHR:
		if (slot_val(p, i, s - 2)->itv.hi > U32_MAX_)
			return refuse(p, i, diag, "the shifted value may be 2^32 or more (cBPF words "
						  "are 32 bits)");
		/* fall through */
	case VFM_OPC_SHL:
		if (slot_val(p, i, s - 1)->itv.hi > 31) {
			snprintf(why, sizeof why, "the shift count may be %llu (cBPF defines counts "
						  "up to 31)",
				 (unsigned long long)slot_val(p, i, s - 1)->itv.hi);
			return refuse(p, i, diag, why);
		}
		break;
	case VFM_OPC_LD8X: case VFM_OPC_LD16X: case VFM_OPC_LD32X:
		if (slot_val(p, i, s - 1)->itv.hi + in->arg > 0x7FFFFFFFull ||
		    slot_val(p, i, s - 1)->itv.hi > 0x7FFFFFFFull)
			return refuse(p, i, diag, "the offset x + k may reach 2^31 (cBPF computes it "
						  "in 32 bits)");
		break;
	case VFM_OPC_RET:
		if (slot_val(p, i, s - 1)->itv.hi > U32_MAX_)
			return refuse(p, i, diag, "the verdict may be 2^32 or more (VFM saturates it, "
						  "cBPF returns 32 bits)");
		break;
	default:
		break;
	}
	return VFM_OK;
}

/* cBPF ALU op of a VFM ALU2 opcode. */
static uint16_t alu_op(uint8_t opcode)
{
	switch (opcode) {
	case VFM_OPC_ADD: return BPF_ADD;
	case VFM_OPC_SUB: return BPF_SUB;
	case VFM_OPC_MUL: return BPF_MUL;
	case VFM_OPC_DIV: return BPF_DIV;
	case VFM_OPC_MOD: return BPF_MOD;
	case VFM_OPC_AND: return BPF_AND;
	case VFM_OPC_OR: return BPF_OR;
	case VFM_OPC_XOR: return BPF_XOR;
	case VFM_OPC_SHL: return BPF_LSH;
	default: return BPF_RSH;
	}
}

static uint16_t load_size(uint8_t opcode)
{
	switch (opcode) {
	case VFM_OPC_LD8: case VFM_OPC_LD8X: return BPF_B;
	case VFM_OPC_LD16: case VFM_OPC_LD16X: return BPF_H;
	default: return BPF_W;
	}
}

/* One VFM instruction.  fused_k: the immediate of a PUSH folded into it
 * (has_k), which is then not on the stack: depth s counts it. */
static void emit_insn(struct emitter *e, uint32_t i, bool has_k, uint64_t k64)
{
	const struct vfm_program *p = e->prog;
	const struct vfm_insn *in = &p->insns[i];
	int s = p->facts.depth[i]; /* depth before i, the folded PUSH included */
	uint32_t k = (uint32_t)k64;
	switch (in->opcode) {
	case VFM_OPC_PUSH: ld_imm(e, (uint32_t)in->imm); st(e, (uint32_t)s); break;
	case VFM_OPC_POP: break;
	case VFM_OPC_DUP: ld_mem(e, (uint32_t)s - 1); st(e, (uint32_t)s); break;
	case VFM_OPC_SWAP:
		ld_mem(e, (uint32_t)s - 2);
		ldx_mem(e, (uint32_t)s - 1);
		st(e, (uint32_t)s - 1);
		stx(e, (uint32_t)s - 2);
		break;
	case VFM_OPC_OVER: ld_mem(e, (uint32_t)s - 2); st(e, (uint32_t)s); break;
	case VFM_OPC_LDM: ld_mem(e, e->scratch_cell[in->aux]); st(e, (uint32_t)s); break;
	case VFM_OPC_STM: ld_mem(e, (uint32_t)s - 1); st(e, e->scratch_cell[in->aux]); break;
	case VFM_OPC_LD8: case VFM_OPC_LD16: case VFM_OPC_LD32:
		if (in->arg > 0x7FFFFFFFu) {
			/* Out of bounds for every packet under 2 GiB: verdict 0.
			 * (In cBPF it would be a negative, Linux ancillary offset.) */
			add(e, BPF_RET | BPF_K, 0);
			/* Dead, but the kernel's checker follows the code in
			 * order and wants M[s] written before a later read. */
			st(e, (uint32_t)s);
			break;
		}
		add(e, BPF_LD | load_size(in->opcode) | BPF_ABS, in->arg);
		st(e, (uint32_t)s);
		break;
	case VFM_OPC_LD8X: case VFM_OPC_LD16X: case VFM_OPC_LD32X:
		ldx_mem(e, (uint32_t)s - 1);
		add(e, BPF_LD | load_size(in->opcode) | BPF_IND, in->arg);
		st(e, (uint32_t)s - 1);
		break;
	case VFM_OPC_LEN: case VFM_OPC_WLEN:
		add(e, BPF_LD | BPF_W | BPF_LEN, 0);
		st(e, (uint32_t)s);
		break;
	case VFM_OPC_NOT:
		ld_mem(e, (uint32_t)s - 1);
		add(e, BPF_ALU | BPF_XOR | BPF_K, 0xFFFFFFFFu);
		st(e, (uint32_t)s - 1);
		break;
	case VFM_OPC_NEG:
		ld_mem(e, (uint32_t)s - 1);
		add(e, BPF_ALU | BPF_NEG, 0);
		st(e, (uint32_t)s - 1);
		break;
	case VFM_OPC_ADD: case VFM_OPC_SUB: case VFM_OPC_MUL: case VFM_OPC_AND:
	case VFM_OPC_OR: case VFM_OPC_XOR: case VFM_OPC_SHL: case VFM_OPC_SHR:
	case VFM_OPC_DIV: case VFM_OPC_MOD: {
		uint32_t a = (uint32_t)s - 2, b = (uint32_t)s - 1;
		uint16_t op = alu_op(in->opcode);
		bool div = in->opcode == VFM_OPC_DIV || in->opcode == VFM_OPC_MOD;
		if (has_k) {
			if (div && k == 0) { /* x/0 = 0, x%0 = x (docs/ISA.md) */
				if (in->opcode == VFM_OPC_DIV) {
					ld_imm(e, 0);
					st(e, a);
				}
				break;
			}
			ld_mem(e, a);
			add(e, BPF_ALU | op | BPF_K, k);
			st(e, a);
			break;
		}
		if (div && (!(p->facts.flags[i] & VFM_FACT_REACHED) ||
			    slot_val(p, i, s - 1)->itv.lo == 0)) {
			/* ld b; jeq #0 -> zero; ld a; ldx b; op x; st a; ja next;
			 * zero: (DIV) ld #0; st a */
			ld_mem(e, b);
			uint32_t j = e->n; /* the jeq */
			jcc(e, BPF_JMP | BPF_JEQ | BPF_K, 0, item_t(j + 6), item_t(j + 1));
			ld_mem(e, a);
			ldx_mem(e, b);
			add(e, BPF_ALU | op | BPF_X, 0);
			st(e, a);
			ja(e, vfm_t(i + 1));
			if (in->opcode == VFM_OPC_DIV) {
				ld_imm(e, 0);
				st(e, a);
			}
			break;
		}
		ld_mem(e, a);
		ldx_mem(e, b);
		add(e, BPF_ALU | op | BPF_X, 0);
		st(e, a);
		break;
	}
	case VFM_OPC_JMP: ja(e, vfm_t(in->arg)); break;
	case VFM_OPC_JEQ: case VFM_OPC_JNE: case VFM_OPC_JGT: case VFM_OPC_JGE:
	case VFM_OPC_JLT: case VFM_OPC_JLE: case VFM_OPC_JSET: {
		struct target taken = vfm_t(in->arg), fall = vfm_t(i + 1), t = taken, f = fall;
		uint16_t op;
		switch (in->opcode) {
		case VFM_OPC_JEQ: op = BPF_JEQ; break;
		case VFM_OPC_JNE: op = BPF_JEQ; t = fall; f = taken; break;
		case VFM_OPC_JGT: op = BPF_JGT; break;
		case VFM_OPC_JGE: op = BPF_JGE; break;
		case VFM_OPC_JLT: op = BPF_JGE; t = fall; f = taken; break;
		case VFM_OPC_JLE: op = BPF_JGT; t = fall; f = taken; break;
		default: op = BPF_JSET; break;
		}
		ld_mem(e, (uint32_t)s - 2);
		if (has_k) {
			jcc(e, BPF_JMP | op | BPF_K, k, t, f);
		} else {
			ldx_mem(e, (uint32_t)s - 1);
			jcc(e, BPF_JMP | op | BPF_X, 0, t, f);
		}
		break;
	}
	case VFM_OPC_RET:
		ld_mem(e, (uint32_t)s - 1);
		add(e, BPF_RET | 0x10 /* BPF_A, <linux/filter.h> */, 0);
		break;
	case VFM_OPC_RETK: add(e, BPF_RET | BPF_K, in->arg); break;
	default: break; /* refused by check_insn */
	}
}

/* Can the PUSH at i be folded into instruction i + 1? */
static bool foldable(const struct vfm_program *p, uint32_t i, const bool *is_target)
{
	if (p->insns[i].opcode != VFM_OPC_PUSH || i + 1 >= p->n_insns || is_target[i + 1])
		return false;
	uint8_t cls = vfm_opinfo[p->insns[i + 1].opcode].cls;
	return cls == VFM_CLASS_ALU2 || cls == VFM_CLASS_JCC;
}

static vfm_error_t layout(struct emitter *e, vfm_cbpf_insn_t **out, size_t *n_out,
			  vfm_diag_t *diag)
{
	uint32_t *pos = malloc(((size_t)e->n + 1) * sizeof *pos);
	if (!pos)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	/* Grow far jumps until every one fits (sizes only grow: this ends). */
	bool changed = true;
	uint32_t total = 0;
	while (changed) {
		changed = false;
		total = 0;
		for (uint32_t j = 0; j < e->n; j++) {
			pos[j] = total;
			total += e->items[j].is_long ? 3 : 1;
		}
		pos[e->n] = total;
		for (uint32_t j = 0; j < e->n; j++) {
			struct item *it = &e->items[j];
			if (!it->is_jcc || it->is_long)
				continue;
			uint32_t t = it->t.kind == T_VFM ? e->first_item[it->t.v] : it->t.v;
			uint32_t f = it->f.kind == T_VFM ? e->first_item[it->f.v] : it->f.v;
			if (pos[t] - pos[j] - 1 > 255 || pos[f] - pos[j] - 1 > 255) {
				it->is_long = true;
				changed = true;
			}
		}
	}
	if (total > VFM_CBPF_EMIT_MAX_INSNS) {
		free(pos);
		return vfm_diag_set(diag, VFM_ETOOBIG, -1, 0,
				    "cBPF: %u instructions, over the kernel's limit of %u "
				    "(BPF_MAXINSNS)", total, VFM_CBPF_EMIT_MAX_INSNS);
	}
	vfm_cbpf_insn_t *o = calloc(total ? total : 1, sizeof *o);
	if (!o) {
		free(pos);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	for (uint32_t j = 0; j < e->n; j++) {
		const struct item *it = &e->items[j];
		uint32_t at = pos[j];
		o[at].code = it->code;
		o[at].k = it->k;
		if (it->is_ja) {
			uint32_t t = it->t.kind == T_VFM ? e->first_item[it->t.v] : it->t.v;
			o[at].k = pos[t] - at - 1;
		} else if (it->is_jcc) {
			uint32_t t = it->t.kind == T_VFM ? e->first_item[it->t.v] : it->t.v;
			uint32_t f = it->f.kind == T_VFM ? e->first_item[it->f.v] : it->f.v;
			if (!it->is_long) {
				o[at].jt = (uint8_t)(pos[t] - at - 1);
				o[at].jf = (uint8_t)(pos[f] - at - 1);
			} else { /* jcc 0, 1; ja t; ja f */
				o[at].jt = 0;
				o[at].jf = 1;
				o[at + 1] = (vfm_cbpf_insn_t){BPF_JMP | BPF_JA, 0, 0, pos[t] - at - 2};
				o[at + 2] = (vfm_cbpf_insn_t){BPF_JMP | BPF_JA, 0, 0, pos[f] - at - 3};
			}
		}
	}
	free(pos);
	*out = o;
	*n_out = total;
	return VFM_OK;
}

vfm_error_t vfm_compile_cbpf(const struct vfm_program *prog, vfm_cbpf_insn_t **out, size_t *n,
			     vfm_diag_t *diag)
{
	*out = NULL;
	*n = 0;
	const struct vfm_facts *f = &prog->facts;
	if (!f->flags || (prog->n_insns && (f->flags[0] & VFM_FACT_REACHED) &&
			  !vfm_facts_state(prog, 0)))
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "cBPF: the verifier's value analysis did not run on this program "
				    "(resource limits), so 32-bit values cannot be proven");
	/* Which VFM scratch words are used, and the cells they get. */
	bool used[VFM_SCRATCH_WORDS] = {false}, read[VFM_SCRATCH_WORDS] = {false};
	bool *is_target = calloc(prog->n_insns + 1, sizeof *is_target);
	if (!is_target)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		const struct vfm_insn *in = &prog->insns[i];
		if (f->depth[i] < 0)
			continue;
		if (in->opcode == VFM_OPC_LDM || in->opcode == VFM_OPC_STM) {
			used[in->aux] = true;
			read[in->aux] |= in->opcode == VFM_OPC_LDM;
		}
		uint8_t cls = vfm_opinfo[in->opcode].cls;
		if ((cls == VFM_CLASS_JMP || cls == VFM_CLASS_JCC) && in->arg <= prog->n_insns)
			is_target[in->arg] = true;
		/* a division's guard jumps to the next instruction */
		if (in->opcode == VFM_OPC_DIV || in->opcode == VFM_OPC_MOD)
			is_target[i + 1] = true;
	}
	struct emitter e = {.prog = prog};
	uint32_t n_scratch = 0;
	for (unsigned j = 0; j < VFM_SCRATCH_WORDS; j++)
		if (used[j])
			e.scratch_cell[j] = (uint8_t)(f->max_depth + n_scratch++);
	vfm_error_t err = VFM_OK;
	for (uint32_t i = 0; i < prog->n_insns && err == VFM_OK; i++) {
		if (f->depth[i] < 0)
			continue;
		err = check_insn(prog, i, diag);
		int top = f->depth[i] + vfm_opinfo[prog->insns[i].opcode].pushes -
			  vfm_opinfo[prog->insns[i].opcode].pops;
		int need = f->depth[i] > top ? f->depth[i] : top;
		if (err == VFM_OK && (uint32_t)need + n_scratch > VFM_CBPF_MEMWORDS) {
			char why[160];
			snprintf(why, sizeof why, "needs %d stack words and %u scratch words, more "
						  "than cBPF's 16 M[] words",
				 need, n_scratch);
			err = refuse(prog, i, diag, why);
		}
	}
	if (err != VFM_OK) {
		free(is_target);
		return err;
	}
	e.first_item = calloc(prog->n_insns + 1, sizeof *e.first_item);
	if (!e.first_item) {
		free(is_target);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	/* VFM zeroes its scratch words per packet; the kernel's checker wants
	 * every M[] read written first on every path. */
	for (unsigned j = 0; j < VFM_SCRATCH_WORDS; j++)
		if (read[j]) {
			ld_imm(&e, 0);
			st(&e, e.scratch_cell[j]);
		}
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		e.first_item[i] = e.n;
		if (f->depth[i] < 0)
			continue;
		e.at_target |= is_target[i]; /* kept over instructions with no code */
		if (foldable(prog, i, is_target) && f->depth[i + 1] >= 0) {
			e.first_item[i + 1] = e.n;
			emit_insn(&e, i + 1, true, prog->insns[i].imm);
			i++;
			continue;
		}
		emit_insn(&e, i, false, 0);
	}
	e.first_item[prog->n_insns] = e.n;
	free(is_target);
	if (e.oom) {
		free(e.items);
		free(e.first_item);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	err = layout(&e, out, n, diag);
	free(e.items);
	free(e.first_item);
	return err;
}

char *vfm_cbpf_format_ddd(const vfm_cbpf_insn_t *insns, size_t n)
{
	size_t cap = 16 + n * 40;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	size_t w = (size_t)snprintf(s, cap, "%zu\n", n);
	for (size_t i = 0; i < n; i++)
		w += (size_t)snprintf(s + w, cap - w, "%u %u %u %u\n", insns[i].code, insns[i].jt,
				      insns[i].jf, insns[i].k);
	return s;
}
