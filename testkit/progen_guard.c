/*
 * testkit/progen_guard.c — section 6, second half: statements built around
 * the packet length (guarded and indexed loads), the flow table, deep
 * stacks, early returns, loop breaks and dead code.  Layout: progen.c.
 */
#include "progen_int.h"

static uint32_t guard_length(struct gen *g)
{
	static const uint32_t hdr[] = {14, 15, 18, 20, 22, 24, 28, 34, 38, 42, 54, 58, 60, 64, 74, 78};
	switch (pg_choose(g, 6)) {
	case 0: return 1 + pg_choose(g, 16);
	case 1: case 2: case 3: return hdr[pg_choose(g, 16)];
	case 4: return 1 + pg_choose(g, 1600);
	default: return pg_maybe(g, 1, 2) ? 65535 : 1 + (uint32_t)(pg_raw_bits(g, 4) % 0xFFFFFFFFu);
	}
}

/* Loads, then a block, below a covering length check. */
static void guarded_part(struct gen *g, uint32_t n, uint32_t soft, int must_fall)
{
	uint32_t old = g->guard_len;
	g->guard_len = n > old ? n : old;
	unsigned k = 1 + pg_choose(g, 3);
	for (unsigned i = 0; i < k; i++) {
		pg_emit_guarded_load(g);
		if (pg_maybe(g, 1, 2))
			pg_emit0(g, VFM_OPC_POP);
		else
			pg_emit(g, VFM_OPC_STM, pg_free_scratch(g));
	}
	pg_body(g, soft, must_fall);
	g->guard_len = old;
}

void pg_st_guard(struct gen *g, uint32_t soft)
{
	uint32_t n = guard_length(g);
	uint32_t lskip = pg_new_label(g);
	unsigned form = pg_choose(g, 7);
	uint32_t tail = pg_term_cost(g) + 2;
	pg_comment(g, "length guard: %u bytes", n);
	g->P += tail;
	switch (form) {
	case 0: case 1: /* LEN n JLT skip */
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit(g, VFM_OPC_PUSH, n);
		pg_emit_jump(g, VFM_OPC_JLT, lskip);
		g->P -= tail;
		guarded_part(g, n, soft, 0);
		break;
	case 2: /* n LEN JGT skip */
		pg_emit(g, VFM_OPC_PUSH, n);
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit_jump(g, VFM_OPC_JGT, lskip);
		g->P -= tail;
		guarded_part(g, n, soft, 0);
		break;
	case 3: /* LEN n-1 JLE skip, with a copy of LEN in scratch */
		pg_emit0(g, VFM_OPC_LEN);
		if (pg_maybe(g, 1, 2)) {
			pg_emit0(g, VFM_OPC_DUP);
			pg_emit(g, VFM_OPC_STM, pg_free_scratch(g));
		}
		pg_emit(g, VFM_OPC_PUSH, n - 1);
		pg_emit_jump(g, VFM_OPC_JLE, lskip);
		g->P -= tail;
		guarded_part(g, n, soft, 0);
		break;
	case 4: { /* LEN n JGE ok; short path; JMP end; ok: guarded */
		uint32_t lok = pg_new_label(g);
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit(g, VFM_OPC_PUSH, n);
		pg_emit_jump(g, VFM_OPC_JGE, lok);
		uint32_t s1 = pg_part(g, soft, 1, 3);
		pg_body(g, s1, 0);
		g->P -= tail;
		int ended = !g->reachable;
		pg_emit_jump(g, VFM_OPC_JMP, lskip);
		pg_def_label(g, lok);
		guarded_part(g, n, soft > s1 ? soft - s1 : 0, g->must_fall && ended);
		break;
	}
	default: { /* early return when too short */
		uint32_t lok = pg_new_label(g);
		if (form == 5) {
			pg_emit0(g, VFM_OPC_LEN);
			pg_emit(g, VFM_OPC_PUSH, n);
			pg_emit_jump(g, VFM_OPC_JGE, lok);
		} else {
			pg_emit(g, VFM_OPC_PUSH, n);
			pg_emit0(g, VFM_OPC_LEN);
			pg_emit_jump(g, VFM_OPC_JLE, lok);
		}
		g->P -= tail;
		pg_gen_term(g);
		pg_def_label(g, lok);
		guarded_part(g, n, soft, g->must_fall);
		break;
	}
	}
	pg_def_label(g, lskip);
}

/* Indexed loads at a computed offset, behind "offset + k + size <= LEN". */
void pg_st_indexed(struct gen *g, uint32_t soft)
{
	const struct pg_tables *T = &g->T;
	uint32_t c = 8 + pg_choose(g, 64); /* covered bytes past the offset */
	uint32_t lskip = pg_new_label(g);
	int use_stack = pg_n_free_scratch(g) == 0 || pg_maybe(g, 1, 3);
	pg_gen_bounded_offset(g, g->c.level);
	if (use_stack) { /* off DUP c ADD LEN JGT pop; LDxX; ...; pop: POP */
		uint32_t lpop = pg_new_label(g);
		pg_comment(g, "indexed load, offset on the stack, %u bytes covered", c);
		pg_emit0(g, VFM_OPC_DUP);
		pg_emit(g, VFM_OPC_PUSH, c);
		pg_emit0(g, VFM_OPC_ADD);
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit_jump(g, VFM_OPC_JGT, lpop);
		uint8_t op = T->loadx[pg_choose(g, T->n_loadx)];
		unsigned size = vfm_opinfo[op].size;
		if (size <= c) {
			if (g->reachable)
				g->st.guarded_indexed++;
			pg_emit(g, op, pg_choose(g, c - size + 1));
			pg_tag_last(g, PROGEN_TAG_GUARDED);
		} else {
			pg_emit(g, op, pg_gen_loadx_k(g));
		}
		pg_dispose(g, 1);
		pg_emit_jump(g, VFM_OPC_JMP, lskip);
		g->depth++; /* the offset is still there on the jump's path */
		pg_def_label(g, lpop);
		pg_emit0(g, VFM_OPC_POP);
		pg_def_label(g, lskip);
		return;
	}
	uint32_t t = pg_free_scratch(g);
	g->reserved |= 1u << t;
	pg_comment(g, "indexed loads at M[%u], %u bytes covered", t, c);
	pg_emit(g, VFM_OPC_STM, t);
	switch (pg_choose(g, 4)) {
	case 0: /* t c ADD LEN JGT skip */
		pg_emit(g, VFM_OPC_LDM, t);
		pg_emit(g, VFM_OPC_PUSH, c);
		pg_emit0(g, VFM_OPC_ADD);
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit_jump(g, VFM_OPC_JGT, lskip);
		break;
	case 1: /* LEN t c ADD JLT skip */
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit(g, VFM_OPC_LDM, t);
		pg_emit(g, VFM_OPC_PUSH, c);
		pg_emit0(g, VFM_OPC_ADD);
		pg_emit_jump(g, VFM_OPC_JLT, lskip);
		break;
	case 2: /* t c ADD LEN SWAP JLT skip */
		pg_emit(g, VFM_OPC_LDM, t);
		pg_emit(g, VFM_OPC_PUSH, c);
		pg_emit0(g, VFM_OPC_ADD);
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit0(g, VFM_OPC_SWAP);
		pg_emit_jump(g, VFM_OPC_JLT, lskip);
		break;
	default: { /* t c ADD LEN JLE ok; JMP skip; ok: */
		uint32_t lok = pg_new_label(g);
		pg_emit(g, VFM_OPC_LDM, t);
		pg_emit(g, VFM_OPC_PUSH, c);
		pg_emit0(g, VFM_OPC_ADD);
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit_jump(g, VFM_OPC_JLE, lok);
		pg_emit_jump(g, VFM_OPC_JMP, lskip);
		pg_def_label(g, lok);
		break;
	}
	}
	unsigned k = 1 + pg_choose(g, 3);
	for (unsigned i = 0; i < k; i++) {
		uint8_t op = T->loadx[pg_choose(g, T->n_loadx)];
		unsigned size = vfm_opinfo[op].size;
		pg_emit(g, VFM_OPC_LDM, t);
		if (size > c) { /* a size the check does not cover */
			pg_emit(g, op, pg_gen_loadx_k(g));
		} else {
			if (g->reachable)
				g->st.guarded_indexed++;
			pg_emit(g, op, pg_choose(g, c - size + 1));
			pg_tag_last(g, PROGEN_TAG_GUARDED);
		}
		pg_dispose(g, 1);
	}
	pg_body(g, soft > 16 ? soft - 16 : 0, 0);
	g->reserved &= ~(1u << t);
	pg_def_label(g, lskip);
}

void pg_st_flow(struct gen *g)
{
	unsigned L = g->c.level;
	switch (pg_choose(g, 4)) {
	case 0:
		pg_comment(g, "flow store%s", "");
		pg_gen_key(g, L);
		pg_gen_expr(g, L);
		break;
	case 1:
		pg_comment(g, "flow counter += 1%s", "");
		pg_gen_key(g, L);
		pg_emit0(g, VFM_OPC_DUP);
		pg_emit0(g, VFM_OPC_FLOW_LOAD);
		pg_emit(g, VFM_OPC_PUSH, 1);
		pg_emit0(g, VFM_OPC_ADD);
		break;
	case 2:
		pg_comment(g, "flow store of the timestamp%s", "");
		pg_gen_key(g, L);
		pg_emit0(g, VFM_OPC_TS);
		break;
	default:
		pg_comment(g, "flow update%s", "");
		pg_gen_key(g, L);
		pg_emit0(g, VFM_OPC_DUP);
		pg_emit0(g, VFM_OPC_FLOW_LOAD);
		pg_gen_expr(g, L > 1 ? L - 1 : 0);
		pg_emit_op(g, g->T.binary[pg_choose(g, g->T.n_binary)]);
		break;
	}
	pg_emit0(g, VFM_OPC_FLOW_STORE);
}

void pg_st_deep(struct gen *g, uint32_t soft)
{
	int32_t hr = pg_headroom(g);
	int64_t r = pg_room(g);
	uint32_t kmax = (uint32_t)(r - 4) / 2;
	if ((uint32_t)hr < kmax)
		kmax = (uint32_t)hr;
	uint32_t k;
	if (kmax == (uint32_t)hr && pg_maybe(g, 1, 6)) {
		k = kmax; /* exactly to the limit */
	} else {
		uint32_t want = 0;
		if (!g->bytes_mode) {
			uint32_t cap = soft / 3 > 8 ? soft / 3 : 8;
			cap = cap < kmax ? cap : kmax;
			want = (uint32_t)(pg_prng(g) % cap);
		}
		k = 1 + pg_choose_v(g, kmax, want);
	}
	pg_comment(g, "deep stack: %u more values (depth %d)", k, g->depth + (int32_t)k);
	for (uint32_t i = 0; i < k; i++)
		pg_gen_leaf(g);
	g->P += k;
	pg_body(g, soft > 2 * k ? soft - 2 * k : 0, g->must_fall);
	g->P -= k;
	pg_dispose(g, k);
}

void pg_st_early_ret(struct gen *g)
{
	uint32_t l = pg_new_label(g);
	pg_comment(g, "early return%s", "");
	pg_emit_jump(g, pg_gen_cond(g), l);
	pg_gen_term(g);
	pg_def_label(g, l);
}

void pg_st_break(struct gen *g)
{
	uint32_t cand[2 * (PG_MAX_NEST + 2)];
	unsigned n = 0;
	for (unsigned i = 0; i < g->n_loops; i++) {
		if (g->loops[i].brk_depth == g->depth)
			cand[n++] = 2 * i;
		if (g->loops[i].cont_depth == g->depth)
			cand[n++] = 2 * i + 1;
	}
	if (!n)
		{ fail(g, PROGEN_EINTERNAL); return; }
	uint32_t c = cand[pg_choose(g, n)];
	struct pg_loop *lp = &g->loops[c / 2];
	int is_cont = c & 1;
	if (is_cont)
		lp->budget = 1;
	uint32_t l = is_cont ? lp->cont : lp->brk;
	pg_comment(g, "%s", is_cont ? "continue" : "break");
	/* An unconditional continue would leave the loop no way out. */
	if (!(is_cont && g->must_fall) && pg_maybe(g, 1, 6))
		pg_emit_jump(g, VFM_OPC_JMP, l);
	else
		pg_emit_jump(g, pg_gen_cond(g), l);
}

void pg_st_dead(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	uint32_t l = pg_new_label(g);
	pg_comment(g, "unreachable%s", "");
	pg_emit_jump(g, VFM_OPC_JMP, l);
	unsigned k = 1 + pg_choose(g, 6);
	for (unsigned i = 0; i < k; i++) {
		uint8_t op = T->any[pg_choose(g, T->n_any)];
		switch ((enum vfm_operand_kind)vfm_opinfo[op].operand) {
		case VFM_OPND_NONE: pg_emit_f(g, op, 0, 0, 1); break;
		case VFM_OPND_U8: pg_emit_f(g, op, pg_choose(g, PG_SCRATCH), 0, 1); break;
		case VFM_OPND_U32: pg_emit_f(g, op, pg_raw_bits(g, 4), 0, 1); break;
		case VFM_OPND_U64: pg_emit_f(g, op, pg_raw_bits(g, 8), 1, 1); break;
		case VFM_OPND_REL32: pg_emit_raw_jump(g, op, l); break;
		}
	}
	pg_def_label(g, l);
}
