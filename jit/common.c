/*
 * jit/common.c — the JIT driver and everything that does not depend on the
 * target (jit/common.h).  Built on every machine: vfm_jit_free is here.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "common.h"
#include "../verifier/verifier.h"

/* Sizing passes before giving up on a layout that keeps moving (branch
 * forms that depend on distances normally settle in two or three). */
#define MAX_SIZING_PASSES 8

unsigned long vfm_jit_flush_count;
unsigned long vfm_jit_hoisted_regions;

/* ---- emission ------------------------------------------------------------- */

void vfm_jit_emit32(struct vfm_jit_ctx *ctx, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		vfm_jit_emit8(ctx, (uint8_t)(v >> (8 * i)));
}

void vfm_jit_emit64(struct vfm_jit_ctx *ctx, uint64_t v)
{
	vfm_jit_emit32(ctx, (uint32_t)v);
	vfm_jit_emit32(ctx, (uint32_t)(v >> 32));
}

void vfm_jit_fail(struct vfm_jit_ctx *ctx, const char *why)
{
	if (!ctx->error) {
		ctx->error = why;
		ctx->error_insn = ctx->cur;
	}
}

/* ---- labels ----------------------------------------------------------------- */

static bool labels_reserve(struct vfm_jit_labels *l, uint32_t n)
{
	if (n <= l->cap)
		return true;
	uint32_t cap = l->cap ? l->cap : 64;
	while (cap < n)
		cap *= 2;
	size_t *p = realloc(l->pos, cap * sizeof *p);
	if (!p)
		return false;
	for (uint32_t k = l->cap; k < cap; k++)
		p[k] = SIZE_MAX;
	l->pos = p;
	l->cap = cap;
	return true;
}

uint32_t vfm_jit_label_new(struct vfm_jit_ctx *ctx)
{
	uint32_t id = ctx->next_label++;
	if (!labels_reserve(&ctx->labels, id + 1))
		vfm_jit_fail(ctx, "out of memory");
	else if (id >= ctx->labels.n)
		ctx->labels.n = id + 1;
	return id;
}

void vfm_jit_label_bind(struct vfm_jit_ctx *ctx, uint32_t label)
{
	if (label >= ctx->labels.n)
		return; /* allocation failed; the error is set */
	ctx->labels.pos[label] = ctx->pos;
	/* The emitting pass must put every label where the last sizing pass
	 * did: the code already written relies on it. */
	if (ctx->buf && (label >= ctx->prev_labels.n || ctx->prev_labels.pos[label] != ctx->pos))
		vfm_jit_fail(ctx, "internal error: a label moved in the emitting pass");
}

size_t vfm_jit_label_pos(const struct vfm_jit_ctx *ctx, uint32_t label)
{
	if (label < ctx->labels.n && ctx->labels.pos[label] != SIZE_MAX)
		return ctx->labels.pos[label];
	if (label < ctx->prev_labels.n && ctx->prev_labels.pos[label] != SIZE_MAX)
		return ctx->prev_labels.pos[label];
	return ctx->pos;
}

size_t vfm_jit_insn_pos(const struct vfm_jit_ctx *ctx, uint32_t i)
{
	/* In the checked copies (after the body) every offset is this pass's. */
	if ((i <= ctx->cur || ctx->slow) && ctx->insn_off[i] != UINT32_MAX)
		return ctx->insn_off[i];
	if (ctx->pass > 0)
		return ctx->prev_off[i];
	return ctx->pos;
}

uint32_t vfm_jit_exit_label(struct vfm_jit_ctx *ctx, uint32_t i, vfm_status_t status)
{
	uint32_t uncount = ctx->plan.count ? ctx->rest[i] : 0;
	for (uint32_t k = 0; k < ctx->n_exits; k++)
		if (ctx->exits[k].status == status && ctx->exits[k].uncount == uncount)
			return ctx->exits[k].label;
	if (ctx->n_exits == ctx->cap_exits) {
		uint32_t cap = ctx->cap_exits ? 2 * ctx->cap_exits : 8;
		struct vfm_jit_exit *p = realloc(ctx->exits, cap * sizeof *p);
		if (!p) {
			vfm_jit_fail(ctx, "out of memory");
			return VFM_JIT_EPILOGUE;
		}
		ctx->exits = p;
		ctx->cap_exits = cap;
	}
	uint32_t label = vfm_jit_label_new(ctx);
	ctx->exits[ctx->n_exits++] = (struct vfm_jit_exit){(uint8_t)status, uncount, label};
	return label;
}

int64_t vfm_jit_disp(struct vfm_jit_ctx *ctx, size_t from, size_t to, unsigned scale,
		     unsigned bits, const char *why)
{
	int64_t d = (int64_t)to - (int64_t)from;
	if (d % (int64_t)scale != 0 || !vfm_jit_fits_signed(d / (int64_t)scale, bits)) {
		vfm_jit_fail(ctx, why);
		return 0;
	}
	return d / (int64_t)scale;
}

bool vfm_jit_far(struct vfm_jit_ctx *ctx, bool near_reaches)
{
	uint32_t site = ctx->next_site++;
	if (site >= ctx->cap_far) {
		uint32_t cap = ctx->cap_far ? 2 * ctx->cap_far : 64;
		while (cap <= site)
			cap *= 2;
		uint8_t *p = realloc(ctx->far, cap);
		if (!p) {
			vfm_jit_fail(ctx, "out of memory");
			return true;
		}
		memset(p + ctx->cap_far, 0, cap - ctx->cap_far);
		ctx->far = p;
		ctx->cap_far = cap;
	}
	/* Sticky: in the emitting pass nothing moves, so a site far in the
	 * last sizing pass is far again and no new one appears. */
	if (!near_reaches)
		ctx->far[site] = 1;
	return ctx->far[site] != 0;
}

/* ---- constant blinding ---------------------------------------------------------- */

/* SplitMix64's output function (Steele, Lea, Flood 2014): a bijective
 * mix, so distinct counters give distinct, well-spread keys. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

struct vfm_jit_const vfm_jit_blind(struct vfm_jit_ctx *ctx, uint64_t v)
{
	if (!ctx->blind)
		return (struct vfm_jit_const){v, 0};
	uint64_t key = mix64(ctx->blind_seed + UINT64_C(0x9E3779B97F4A7C15) * ++ctx->blind_count);
	/* No halfword of the key zero: each halfword of the value is changed. */
	for (unsigned hw = 0; hw < 4; hw++)
		if (((key >> (16 * hw)) & 0xFFFFu) == 0)
			key |= UINT64_C(0x5A5A) << (16 * hw);
	if (v <= UINT32_MAX)
		key &= UINT32_MAX;
	return (struct vfm_jit_const){v ^ key, key};
}

/* ---- what gets code ---------------------------------------------------------- */

/* Instruction i is a jump target (or the end): a basic block starts there. */
static bool is_target(const uint8_t *target, uint32_t i)
{
	return target[i] != 0;
}

/* PUSH at i feeds the binary ALU op or conditional jump after it, and
 * nothing jumps between them: the pair is one operation with a constant. */
static bool fusable(const struct vfm_program *prog, const uint8_t *target, uint32_t i)
{
	if (prog->insns[i].opcode != VFM_OPC_PUSH || i + 1 >= prog->n_insns ||
	    prog->facts.depth[i] < 0 || is_target(target, i + 1))
		return false;
	uint8_t cls = vfm_opinfo[prog->insns[i + 1].opcode].cls;
	return cls == VFM_CLASS_JCC || cls == VFM_CLASS_ALU2;
}

bool vfm_jit_load_proven(const struct vfm_jit_ctx *ctx, uint32_t i)
{
	if (vfm_facts_flags(ctx->prog, i) & VFM_FACT_IN_BOUNDS)
		return true;
	return !ctx->slow && ctx->hoist.hoisted && ctx->hoist.hoisted[i];
}

bool vfm_jit_index_no_wrap(const struct vfm_jit_ctx *ctx, uint32_t i)
{
	/* A flag, not the state: abstract states do not outlive verification
	 * (docs/VERIFIER.md), and this is all the JIT needs of them. */
	uint8_t fl = vfm_facts_flags(ctx->prog, i);
	return (fl & VFM_FACT_REACHED) && (fl & VFM_FACT_INDEX_NO_WRAP);
}

bool vfm_jit_select_ret(const struct vfm_jit_ctx *ctx, uint32_t i, uint32_t *taken,
			uint32_t *fall)
{
	const struct vfm_program *prog = ctx->prog;
	if (ctx->plan.count || ctx->blind || vfm_jit_backward(ctx, i) || i + 1 >= prog->n_insns)
		return false;
	const struct vfm_insn *t = &prog->insns[prog->insns[i].arg], *f = &prog->insns[i + 1];
	if (t->opcode != VFM_OPC_RETK || f->opcode != VFM_OPC_RETK)
		return false;
	*taken = t->arg;
	*fall = f->arg;
	return true;
}

/* The multiply-high form of x / d for every x below 2^(64 - pre) (pre is
 * the shift already applied to the dividend, 0 for none):
 * m = ceil(2^(64+s) / d) is exact for every such x if
 * m * d - 2^(64+s) <= 2^(s+pre) (the error of m, times any x, stays below
 * one unit of the quotient; their Theorem 4.2), and m must fit 64 bits.
 * The smallest such s, or false. */
static bool udiv_mulhi(uint64_t d, unsigned pre, struct vfm_jit_udiv *out)
{
	unsigned l = 64u - (unsigned)__builtin_clzll(d - 1); /* ceil(log2 d), d > 1 */
	for (unsigned s = 0; s < l && s < 64; s++) {
		unsigned __int128 p = (unsigned __int128)1 << (64 + s);
		unsigned __int128 m = (p + d - 1) / d;
		if (m >> 64)
			return false; /* a larger s only makes m larger */
		if (m * d - p <= (unsigned __int128)1 << (s + pre)) {
			*out = (struct vfm_jit_udiv){VFM_JIT_UDIV_MULHI, s, pre, (uint64_t)m};
			return true;
		}
	}
	return false;
}

struct vfm_jit_udiv vfm_jit_udiv_plan(uint64_t k)
{
	if (k == 0)
		return (struct vfm_jit_udiv){.kind = VFM_JIT_UDIV_ZERO};
	if ((k & (k - 1)) == 0)
		return (struct vfm_jit_udiv){VFM_JIT_UDIV_SHIFT, (unsigned)__builtin_ctzll(k), 0, 0};
	/* The cheapest form first; then for an even k = 2^z * d, x >> z over
	 * d (one shift more, as gcc divides by 10^9); else the add step. */
	struct vfm_jit_udiv plan;
	if (udiv_mulhi(k, 0, &plan))
		return plan;
	unsigned z = (unsigned)__builtin_ctzll(k);
	if (z && udiv_mulhi(k >> z, z, &plan))
		return plan;
	/* Always exact (their Figure 4.1), l = ceil(log2 k):
	 * m = floor(2^64 (2^l - k) / k) + 1, which fits 64 bits because
	 * 2^l - k < k; the (x - t) >> 1 step keeps t + (x - t) in range. */
	unsigned l = 64u - (unsigned)__builtin_clzll(k - 1);
	uint64_t two_l_minus_k = l == 64 ? 0 - k : ((uint64_t)1 << l) - k;
	uint64_t m = (uint64_t)(((unsigned __int128)two_l_minus_k << 64) / k) + 1;
	return (struct vfm_jit_udiv){VFM_JIT_UDIV_MULADD, l - 1, 0, m};
}

uint64_t vfm_jit_udiv_eval(const struct vfm_jit_udiv *plan, uint64_t x)
{
	uint64_t pre = plan->kind == VFM_JIT_UDIV_MULHI ? x >> plan->pre_shift : x;
	uint64_t t = (uint64_t)(((unsigned __int128)pre * plan->magic) >> 64);
	switch (plan->kind) {
	case VFM_JIT_UDIV_ZERO: return 0;
	case VFM_JIT_UDIV_SHIFT: return x >> plan->shift;
	case VFM_JIT_UDIV_MULHI: return t >> plan->shift;
	case VFM_JIT_UDIV_MULADD: return (t + ((x - t) >> 1)) >> plan->shift;
	}
	return 0;
}

/* The memory compare starting at load i, if its instructions have that
 * shape (jumps into it are checked by can_load_jcc): `LDn[X] k; PUSH c;
 * Jcc`, the loaded value being the big-endian number of `size` bytes, so
 * that for equality and bit tests comparing the raw bytes with c's bytes
 * in packet order is the same test, and ordered relations survive the
 * swap only for one byte; or `LDn[X] k; PUSH m; AND; PUSH c; Jcc` with m
 * a run of whole 0xFF bytes and c within m, which compares only the bytes
 * m keeps: (x & m) REL c is field REL c >> shift for equality and bit
 * tests, and for every relation where the field is one byte (the shift is
 * monotonic).  c must fit the field, offsets a signed 32-bit displacement.
 * Returns the number of instructions (3 or 5), or 0. */
static unsigned mem_cmp_shape(const struct vfm_program *prog, uint32_t i,
			      struct vfm_jit_mem_cmp *m)
{
	const struct vfm_insn *ld = &prog->insns[i];
	uint8_t cls = vfm_opinfo[ld->opcode].cls;
	if ((cls != VFM_CLASS_LOAD && cls != VFM_CLASS_LOADX) || i + 2 >= prog->n_insns ||
	    prog->insns[i + 1].opcode != VFM_OPC_PUSH)
		return 0;
	unsigned size = vfm_opinfo[ld->opcode].size;
	if ((size != 1 && size != 2 && size != 4) || (uint64_t)ld->arg + size > INT32_MAX)
		return 0;
	*m = (struct vfm_jit_mem_cmp){.load = i, .size = size, .c = prog->insns[i + 1].imm};
	unsigned n = 3;
	if (prog->insns[i + 2].opcode == VFM_OPC_AND) {
		if (i + 4 >= prog->n_insns || prog->insns[i + 3].opcode != VFM_OPC_PUSH)
			return 0;
		uint64_t mask = prog->insns[i + 1].imm, c = prog->insns[i + 3].imm;
		if (mask == 0 || mask >> (8 * size) != 0 || (c & ~mask) != 0)
			return 0;
		unsigned lo = (unsigned)__builtin_ctzll(mask) / 8;
		unsigned hi = (64u - (unsigned)__builtin_clzll(mask) + 7) / 8;
		unsigned width = hi - lo;
		uint64_t ones = width == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * width)) - 1;
		if ((width != 1 && width != 2 && width != 4) || mask != ones << (8 * lo))
			return 0;
		m->delta = size - hi; /* the most significant byte comes first */
		m->size = width;
		m->c = c >> (8 * lo);
		n = 5;
	}
	m->jcc = i + n - 1;
	if (vfm_opinfo[prog->insns[m->jcc].opcode].cls != VFM_CLASS_JCC ||
	    (m->c >> (8 * m->size)) != 0)
		return 0;
	enum vfm_rel rel = vfm_jcc_rel(prog->insns[m->jcc].opcode, true);
	bool exact = m->size == 1 || rel == VFM_REL_EQ || rel == VFM_REL_NE ||
		     rel == VFM_REL_SET || rel == VFM_REL_CLEAR;
	return exact ? n : 0;
}

/* A memory compare at i with no jump into its middle; its length or 0. */
static unsigned can_load_jcc(const struct vfm_program *prog, const uint8_t *target, uint32_t i)
{
	struct vfm_jit_mem_cmp m;
	if (prog->facts.depth[i] < 0)
		return 0;
	unsigned n = mem_cmp_shape(prog, i, &m);
	for (unsigned k = 1; k < n; k++)
		if (is_target(target, i + k))
			return 0;
	return n;
}

/* Does instruction i end its basic block: may control go anywhere but
 * to i + 1 (a jump, a conditional jump, a return)? */
static bool ends_block(const struct vfm_program *prog, uint32_t i)
{
	uint32_t succ[2];
	vfm_cfg_succ(prog->insns, i, succ);
	return succ[0] != i + 1 || succ[1] != VFM_CFG_NONE;
}

/*
 * Scratch words that may be read before written: a forward must-analysis
 * over the instructions.  written[i] = the words an STM has stored on
 * every path to i (intersection over predecessors, the entry has none);
 * an LDM of a word not in written[i] may see the initial 0, so that word
 * is zeroed at entry.  Starting from "all written" everywhere but the
 * entry and only clearing bits, the iteration reaches the greatest fixed
 * point, loops included.  Returns 0xFFFF if out of memory (zero all).
 */
static uint16_t scratch_zero_mask(const struct vfm_program *prog)
{
	uint32_t n = prog->n_insns;
	uint16_t *in = malloc((n + 1) * sizeof *in);
	if (!in)
		return 0xFFFF;
	for (uint32_t i = 0; i <= n; i++)
		in[i] = 0xFFFF;
	in[0] = 0;
	for (bool changed = true; changed;) {
		changed = false;
		for (uint32_t i = 0; i < n; i++) {
			if (prog->facts.depth[i] < 0)
				continue;
			const struct vfm_insn *insn = &prog->insns[i];
			uint16_t out = in[i];
			if (insn->opcode == VFM_OPC_STM)
				out |= (uint16_t)(1u << (insn->aux & 15));
			uint8_t cls = vfm_opinfo[insn->opcode].cls;
			uint32_t succ[2], ns = 0;
			if (cls != VFM_CLASS_JMP && cls != VFM_CLASS_RET)
				succ[ns++] = i + 1;
			if (vfm_opinfo[insn->opcode].operand == VFM_OPND_REL32)
				succ[ns++] = insn->arg;
			for (uint32_t k = 0; k < ns; k++) {
				uint16_t m = in[succ[k]] & out;
				if (m != in[succ[k]]) {
					in[succ[k]] = m;
					changed = true;
				}
			}
		}
	}
	uint16_t mask = 0;
	for (uint32_t i = 0; i < n; i++)
		if (prog->facts.depth[i] >= 0 && prog->insns[i].opcode == VFM_OPC_LDM)
			mask |= (uint16_t)(~in[i] & (1u << (prog->insns[i].aux & 15)));
	free(in);
	return mask;
}

/* The feature scan: what the program needs, by class. */
static void plan_program(const struct vfm_program *prog, enum vfm_jit_variant variant,
			 struct vfm_jit_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		if (prog->facts.depth[i] < 0)
			continue;
		uint8_t op = prog->insns[i].opcode;
		switch ((enum vfm_op_class)vfm_opinfo[op].cls) {
		case VFM_CLASS_LOAD:
		case VFM_CLASS_LOADX:
			plan->packet = plan->len = true;
			break;
		case VFM_CLASS_STACK:
			switch ((enum vfm_stack_op)op) {
			case VFM_STACK_LDM:
			case VFM_STACK_STM:
				plan->scratch = true;
				break;
			case VFM_STACK_PUSH:
			case VFM_STACK_POP:
			case VFM_STACK_DUP:
			case VFM_STACK_SWAP:
			case VFM_STACK_OVER:
				break;
			}
			break;
		case VFM_CLASS_SPECIAL:
			switch ((enum vfm_special_op)op) {
			case VFM_SPECIAL_LEN:
				plan->len = true;
				break;
			case VFM_SPECIAL_HASH5:
				plan->packet = plan->len = plan->calls = true;
				break;
			case VFM_SPECIAL_FLOW_LOAD:
			case VFM_SPECIAL_FLOW_STORE:
				plan->calls = plan->args = true;
				break;
			case VFM_SPECIAL_WLEN: /* the caller's value, or len if 0 */
				plan->args = plan->len = true;
				break;
			case VFM_SPECIAL_TS:
				plan->args = true;
				break;
			}
			break;
		case VFM_CLASS_ALU2:
		case VFM_CLASS_ALU1:
		case VFM_CLASS_JMP:
		case VFM_CLASS_JCC:
		case VFM_CLASS_RET:
			break;
		}
	}
	plan->budget = prog->facts.has_backward;
	plan->reads_scratch = prog->facts.reads_scratch;
	plan->zero_mask = plan->reads_scratch ? scratch_zero_mask(prog) : 0;
	plan->max_depth = prog->facts.max_depth;
	/* Instruction counting (docs/ISA.md 7.3), in the counting variant:
	 * one add per basic block into the args' counter. */
	plan->count = variant == VFM_JIT_COUNTING;
	plan->args = plan->args || plan->count;
}

static bool hoist_regions(struct vfm_jit_ctx *ctx);

/* own[], block_len[] and rest[]: which instructions get code, where basic
 * blocks start and how many instructions each still holds. */
static bool plan_blocks(struct vfm_jit_ctx *ctx)
{
	const struct vfm_program *prog = ctx->prog;
	uint32_t n = prog->n_insns;
	uint8_t *target = calloc(n + 1, 1);
	ctx->own = malloc(n + 1);
	ctx->block_len = calloc(n + 1, sizeof *ctx->block_len);
	ctx->rest = calloc(n + 1, sizeof *ctx->rest);
	if (!target || !ctx->own || !ctx->block_len || !ctx->rest) {
		free(target);
		return false;
	}
	target[0] = target[n] = 1;
	for (uint32_t i = 0; i < n; i++) {
		const struct vfm_insn *insn = &prog->insns[i];
		if (vfm_opinfo[insn->opcode].operand == VFM_OPND_REL32)
			target[insn->arg] = 1;
		if (ends_block(prog, i))
			target[i + 1] = 1; /* a leader, though not a jump target */
	}
	memset(ctx->own, 1, n + 1);
	for (uint32_t i = 0; i < n; i++) {
		unsigned mem;
		if (prog->facts.depth[i] < 0)
			ctx->own[i] = 0; /* unreachable: no code */
		/* Fusions embed the PUSH's constant in the instruction:
		 * none under blinding (vfm_jit_blind). */
		else if (ctx->blind)
			continue;
		else if (ctx->target->load_jcc && (mem = can_load_jcc(prog, target, i)) != 0) {
			ctx->own[i] = VFM_JIT_LOAD_JCC;
			memset(&ctx->own[i + 1], 0, mem - 1);
			i += mem - 1;
		} else if (fusable(prog, target, i)) {
			ctx->own[i] = VFM_JIT_FUSED;
			ctx->own[i + 1] = 0;
		}
	}
	/* Blocks: from each leader to the next; rest[i] counts the
	 * instructions after i up to the block's end. */
	for (uint32_t b = 0; b < n;) {
		uint32_t e = b + 1;
		while (e < n && !target[e])
			e++;
		ctx->block_len[b] = e - b;
		for (uint32_t i = b; i < e; i++)
			ctx->rest[i] = e - 1 - i;
		b = e;
	}
	free(target);
	return !(ctx->target->guard && ctx->target->jump) || hoist_regions(ctx);
}

/* Guard hoisting (verifier/hoist.c has the regions and why they are
 * exact): the loads counted are those with code of their own (not the
 * second of a fused pair), at offsets a 32-bit guard compare reaches. */
static bool hoist_regions(struct vfm_jit_ctx *ctx)
{
	if (!vfm_hoist_plan(ctx->prog, ctx->own, INT32_MAX, &ctx->hoist))
		return false;
	if (!ctx->hoist.n_regions)
		return true;
	ctx->region_label = calloc(ctx->hoist.n_regions, sizeof *ctx->region_label);
	if (!ctx->region_label)
		return false;
	__atomic_add_fetch(&vfm_jit_hoisted_regions, ctx->hoist.n_regions, __ATOMIC_RELAXED);
	return true;
}

/* One instruction (or a fused pair or triple starting at i) through the
 * target's class emitter. */
static void emit_insn(struct vfm_jit_ctx *ctx, uint32_t i)
{
	const struct vfm_jit_target *t = ctx->target;
	const struct vfm_insn *insn = &ctx->prog->insns[i];
	if (ctx->own[i] == VFM_JIT_LOAD_JCC) {
		struct vfm_jit_mem_cmp m;
		mem_cmp_shape(ctx->prog, i, &m);
		t->load_jcc(ctx, &m);
		return;
	}
	if (ctx->own[i] == VFM_JIT_FUSED) {
		/* Fused: PUSH k; op becomes op with the constant k. */
		struct vfm_jit_operand k = {true, insn->imm};
		uint32_t j = i + 1;
		ctx->cur = j;
		if (vfm_opinfo[ctx->prog->insns[j].opcode].cls == VFM_CLASS_JCC)
			t->jcc(ctx, j, k);
		else
			t->alu2(ctx, j, k);
		return;
	}
	struct vfm_jit_operand top = {false, 0};
	switch ((enum vfm_op_class)vfm_opinfo[insn->opcode].cls) {
	case VFM_CLASS_STACK: t->stack(ctx, i); break;
	case VFM_CLASS_LOAD: t->load(ctx, i); break;
	case VFM_CLASS_LOADX: t->loadx(ctx, i); break;
	case VFM_CLASS_ALU2: t->alu2(ctx, i, top); break;
	case VFM_CLASS_ALU1: t->alu1(ctx, i); break;
	case VFM_CLASS_JMP: t->jmp(ctx, i); break;
	case VFM_CLASS_JCC: t->jcc(ctx, i, top); break;
	case VFM_CLASS_RET: t->ret(ctx, i); break;
	case VFM_CLASS_SPECIAL: t->special(ctx, i); break;
	}
}

/* One pass over the program: prologue, body, exit stubs, epilogue. */
static void emit_pass(struct vfm_jit_ctx *ctx)
{
	const struct vfm_jit_target *t = ctx->target;
	const struct vfm_program *prog = ctx->prog;
	ctx->pos = 0;
	ctx->cur = 0;
	ctx->next_label = 0;
	ctx->next_site = 0;
	ctx->n_exits = 0;
	ctx->blind_count = 0; /* the same keys in every pass */
	for (uint32_t k = 0; k < ctx->labels.n; k++)
		ctx->labels.pos[k] = SIZE_MAX;
	for (uint32_t k = 0; k < VFM_JIT_N_NAMED; k++)
		vfm_jit_label_new(ctx);
	for (uint32_t i = 0; i <= prog->n_insns; i++)
		ctx->insn_off[i] = UINT32_MAX;
	memset(ctx->arch, 0, t->arch_size);
	t->setup(ctx);
	t->prologue(ctx);
	for (uint32_t i = 0; i < prog->n_insns && !ctx->error; i++) {
		ctx->cur = i;
		if (ctx->buf && ctx->pos != ctx->prev_off[i]) {
			/* Code already written jumps here by the sizing pass's
			 * offsets: a moved instruction would be a wrong jump. */
			vfm_jit_fail(ctx, "internal error: an instruction moved in the emitting pass");
			break;
		}
		ctx->insn_off[i] = (uint32_t)ctx->pos;
		if (!ctx->own[i])
			continue;
		if (ctx->hoist.region_at && ctx->hoist.region_at[i]) {
			/* Before the count: a failed guard counts in the
			 * checked copy. */
			uint32_t k = ctx->hoist.region_at[i] - 1;
			ctx->region_label[k] = vfm_jit_label_new(ctx);
			t->guard(ctx, ctx->hoist.regions[k].need, ctx->region_label[k]);
		}
		if (ctx->plan.count && ctx->block_len[i])
			t->count(ctx, ctx->block_len[i]);
		emit_insn(ctx, i);
	}
	ctx->cur = prog->n_insns;
	ctx->insn_off[prog->n_insns] = (uint32_t)ctx->pos;
	/* The checked copies of the hoisted regions, out of the hot path. */
	ctx->slow = true;
	for (uint32_t k = 0; k < ctx->hoist.n_regions && !ctx->error; k++) {
		const struct vfm_hoist_region *r = &ctx->hoist.regions[k];
		vfm_jit_label_bind(ctx, ctx->region_label[k]);
		for (uint32_t i = r->start; i < r->end && !ctx->error; i++) {
			ctx->cur = i;
			if (!ctx->own[i])
				continue;
			if (ctx->plan.count && ctx->block_len[i])
				t->count(ctx, ctx->block_len[i]);
			emit_insn(ctx, i);
		}
		if (r->falls)
			t->jump(ctx, vfm_jit_insn_pos(ctx, r->end));
	}
	ctx->slow = false;
	ctx->cur = prog->n_insns;
	/* Exit stubs: the list grows while stubs are emitted only if a stub
	 * asked for another, which none does. */
	for (uint32_t k = 0; k < ctx->n_exits && !ctx->error; k++) {
		vfm_jit_label_bind(ctx, ctx->exits[k].label);
		t->exit(ctx, (vfm_status_t)ctx->exits[k].status, ctx->exits[k].uncount);
	}
	vfm_jit_label_bind(ctx, VFM_JIT_EPILOGUE);
	t->epilogue(ctx);
	if (ctx->pos > UINT32_MAX / 2)
		vfm_jit_fail(ctx, "code too large");
}

/* Keep this pass's offsets for the next; true if anything moved. */
static bool layout_moved(struct vfm_jit_ctx *ctx)
{
	uint32_t n = ctx->prog->n_insns + 1;
	bool moved = ctx->pass == 0 || memcmp(ctx->insn_off, ctx->prev_off, n * sizeof *ctx->prev_off) != 0 ||
		     ctx->labels.n != ctx->prev_labels.n ||
		     memcmp(ctx->labels.pos, ctx->prev_labels.pos, ctx->labels.n * sizeof(size_t)) != 0;
	memcpy(ctx->prev_off, ctx->insn_off, n * sizeof *ctx->prev_off);
	if (labels_reserve(&ctx->prev_labels, ctx->labels.n)) {
		memcpy(ctx->prev_labels.pos, ctx->labels.pos, ctx->labels.n * sizeof(size_t));
		ctx->prev_labels.n = ctx->labels.n;
	} else {
		vfm_jit_fail(ctx, "out of memory");
	}
	return moved;
}

/* ---- code memory ---------------------------------------------------------------- */

static uint8_t *code_alloc(const struct vfm_jit_target *t, size_t size, size_t *map);

/*
 * Where to ask for code pages: just below libvfm's own code, so that
 * vfm_execute's jump into the code, the code's return to the caller and
 * its helper calls stay within a few hundred MiB.  Measured on this
 * project's x86-64 bench machine (AMD EPYC, docs/JIT.md "Performance"):
 * the same bytes called from the same loop cost ~1.3 ns more per call
 * when mapped where mmap puts them by default (the top of the address
 * space, terabytes away from a PIE binary's text) than near the caller.
 * The address is only a hint: where it is taken, the kernel maps the
 * code anywhere, which is slower and just as correct.  The cursor walks
 * down through a window of CODE_WINDOW bytes and wraps, so freed pages
 * are asked for again on the next round.
 */
#define CODE_WINDOW ((uintptr_t)1 << 30)

/* Sanitizers lay out the address space themselves (shadow ranges sized
 * for the address width they detect): a hinted mapping can land where
 * their shadow does not reach (seen with ASan under qemu-aarch64), so
 * their builds leave the placement to mmap. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VFM_NO_CODE_HINT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define VFM_NO_CODE_HINT 1
#endif
#endif

static void *code_hint(size_t len)
{
#ifdef VFM_NO_CODE_HINT
	(void)len;
	return NULL;
#endif
	static uintptr_t cursor;
	uintptr_t top = ((uintptr_t)(void *)code_alloc & ~(uintptr_t)0xfffff) - ((uintptr_t)1 << 20);
	if (top < CODE_WINDOW + ((uintptr_t)1 << 32))
		return NULL; /* text too low to keep a window below it */
	uintptr_t cur = __atomic_load_n(&cursor, __ATOMIC_RELAXED), next;
	do {
		uintptr_t at = cur >= top - CODE_WINDOW + len && cur <= top ? cur : top;
		next = at - len;
	} while (!__atomic_compare_exchange_n(&cursor, &cur, next, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return (void *)next;
}

static uint8_t *code_alloc(const struct vfm_jit_target *t, size_t size, size_t *map)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	if (len == 0)
		len = (size_t)page;
	uint8_t *mem = mmap(code_hint(len), len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	*map = len;
	/* Every byte not written by the code traps: a stray jump stops. */
	for (size_t k = 0; k + t->fill_len <= len; k += t->fill_len)
		memcpy(mem + k, t->fill, t->fill_len);
	return mem;
}

/* Make the code read + execute (never writable and executable at once) and
 * publish it.  Programs are shared between threads: a thread that loses the
 * race to publish frees its copy. */
static vfm_error_t code_publish(struct vfm_jit_code **slot, const struct vfm_jit_target *t,
				uint8_t *mem, size_t size, size_t map, vfm_diag_t *diag)
{
	if (t->flush)
		t->flush(mem, size);
	__atomic_add_fetch(&vfm_jit_flush_count, 1, __ATOMIC_RELAXED);
	if (mprotect(mem, map, PROT_READ | PROT_EXEC) != 0) {
		munmap(mem, map);
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "JIT: cannot make code executable (W^X policy?)");
	}
	/* Code, size and map travel as one object, complete before the
	 * pointer is published (release): a reader that sees the pointer
	 * sees all three. */
	struct vfm_jit_code *pub = malloc(sizeof *pub), *expected = NULL;
	if (!pub) {
		munmap(mem, map);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	*pub = (struct vfm_jit_code){.code = mem, .size = size, .map = map};
	if (!__atomic_compare_exchange_n(slot, &expected, pub, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		munmap(mem, map);
		free(pub);
	}
	return VFM_OK;
}

static void ctx_free(struct vfm_jit_ctx *ctx)
{
	free(ctx->arch);
	free(ctx->insn_off);
	free(ctx->prev_off);
	free(ctx->own);
	free(ctx->block_len);
	free(ctx->rest);
	free(ctx->labels.pos);
	free(ctx->prev_labels.pos);
	free(ctx->exits);
	free(ctx->far);
	vfm_hoist_free(&ctx->hoist);
	free(ctx->region_label);
}

static vfm_error_t jit_failed(struct vfm_jit_ctx *ctx, vfm_diag_t *diag)
{
	uint32_t insn = ctx->error_insn < ctx->prog->n_insns ? ctx->error_insn : 0;
	vfm_error_t err = vfm_diag_set(diag, VFM_EUNSUPPORTED, ctx->prog->pc_of[insn], 0,
				       "JIT (%s): %s at pc %u; the interpreter runs the program",
				       ctx->target->name, ctx->error, ctx->prog->pc_of[insn]);
	ctx_free(ctx);
	return err;
}

static vfm_error_t compile_variant(struct vfm_program *prog, const struct vfm_jit_target *t,
				   enum vfm_jit_variant variant, bool blind, vfm_diag_t *diag)
{
	struct vfm_jit_code **slot = &prog->jit[(blind ? VFM_JIT_BLINDED : 0) + variant];
	if (__atomic_load_n(slot, __ATOMIC_ACQUIRE))
		return VFM_OK;
	struct vfm_jit_ctx ctx = {.prog = prog, .target = t, .blind = blind};
	/* The kernel's quality of randomness (get_random_u32), never rand(). */
	if (blind && getrandom(&ctx.blind_seed, sizeof ctx.blind_seed, 0) != sizeof ctx.blind_seed)
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "JIT: no random key for constant blinding (getrandom failed)");
	plan_program(prog, variant, &ctx.plan);
	ctx.arch = calloc(1, t->arch_size ? t->arch_size : 1);
	ctx.insn_off = malloc((prog->n_insns + 1) * sizeof *ctx.insn_off);
	ctx.prev_off = malloc((prog->n_insns + 1) * sizeof *ctx.prev_off);
	if (!ctx.arch || !ctx.insn_off || !ctx.prev_off || !plan_blocks(&ctx)) {
		ctx_free(&ctx);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	/* Sizing passes until the layout settles. */
	bool moved = true;
	for (ctx.pass = 0; moved && ctx.pass < MAX_SIZING_PASSES && !ctx.error; ctx.pass++) {
		emit_pass(&ctx);
		moved = layout_moved(&ctx);
	}
	if (!ctx.error && moved)
		vfm_jit_fail(&ctx, "code layout did not settle");
	if (ctx.error)
		return jit_failed(&ctx, diag);
	size_t size = ctx.pos, map;
	uint8_t *mem = code_alloc(t, size, &map);
	if (!mem) {
		ctx_free(&ctx);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "JIT: cannot map code memory");
	}
	ctx.buf = mem;
	emit_pass(&ctx);
	if (!ctx.error && ctx.pos != size)
		vfm_jit_fail(&ctx, "internal error: code size changed in the emitting pass");
	if (!ctx.error && t->validate && !t->validate(mem, size))
		vfm_jit_fail(&ctx, "an instruction could not be encoded");
	if (ctx.error) {
		munmap(mem, map);
		return jit_failed(&ctx, diag);
	}
	ctx_free(&ctx);
	return code_publish(slot, t, mem, size, map, diag);
}

vfm_error_t vfm_jit_compile(struct vfm_program *prog, bool blind, vfm_diag_t *diag)
{
	const struct vfm_jit_target *t = vfm_jit_native_target();
	if (!t)
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "this build has no JIT for this CPU; the interpreter runs the program");
	for (int v = VFM_JIT_VERDICT; v < VFM_JIT_BLINDED; v++) {
		vfm_error_t err = compile_variant(prog, t, (enum vfm_jit_variant)v, blind, diag);
		if (err != VFM_OK)
			return err;
	}
	return VFM_OK;
}

const char *vfm_jit_arch(void)
{
	const struct vfm_jit_target *t = vfm_jit_native_target();
	return t ? t->name : NULL;
}

const char *vfm_jit_objdump_arch(void)
{
	const struct vfm_jit_target *t = vfm_jit_native_target();
	return t ? t->objdump_arch : NULL;
}

void vfm_jit_free(struct vfm_program *prog)
{
	for (int v = 0; v < VFM_JIT_VARIANTS; v++) {
		/* The last reference is gone: no thread reads it any more. */
		struct vfm_jit_code *pub = __atomic_load_n(&prog->jit[v], __ATOMIC_ACQUIRE);
		if (pub) {
			munmap(pub->code, pub->map);
			free(pub);
		}
		prog->jit[v] = NULL;
	}
}
