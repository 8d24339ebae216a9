/*
 * testkit/progen_stmt.c — section 6, first half: terminators, conditions,
 * straight-line statements, branches and loops (net stack effect 0).
 * Layout: progen.c.
 */
#include "progen_int.h"

/* ---- 6. Statements -------------------------------------------------------- */

/* Drop k values from the top: POP, STM, a fold with a binary op, or a
 * FLOW_STORE of two.  At most k instructions. */
void pg_dispose(struct gen *g, unsigned k)
{
	while (k > 0 && !g->err) {
		unsigned c = pg_choose(g, k >= 2 ? 6 : 3);
		if (c == 0) {
			pg_emit0(g, VFM_OPC_POP);
			k--;
		} else if (c <= 2) {
			pg_emit(g, VFM_OPC_STM, pg_free_scratch(g));
			k--;
		} else if (c <= 4) {
			pg_emit_op(g, g->T.binary[pg_choose(g, g->T.n_binary)]);
			k--;
		} else {
			pg_emit0(g, VFM_OPC_FLOW_STORE);
			k -= 2;
		}
	}
}

/* Terminator: a RET-class opcode of the table, on computed values, on what
 * is already on the stack, or with an immediate verdict. */
uint32_t pg_term_cost(const struct gen *g)
{
	return g->T.maxretpops * g->T.exprmax[g->c.level] + 1;
}

void pg_gen_term(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	uint16_t w[256];
	int big = pg_room(g) >= (int64_t)pg_term_cost(g);
	for (unsigned i = 0; i < T->n_rets; i++) {
		const struct vfm_opinfo *oi = &vfm_opinfo[T->rets[i]];
		int can_push = big && pg_headroom(g) >= (int32_t)oi->pops;
		int can_use = g->depth >= (int32_t)oi->pops;
		w[i] = (uint16_t)(oi->pops == 0 ? 4 : can_push ? 4 : can_use ? 1 : 0);
	}
	/* Options with an immediate come first so that 0 bytes give RET 0. */
	unsigned order[256], n = 0;
	uint16_t wo[256];
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < T->n_rets; i++)
			if ((vfm_opinfo[T->rets[i]].pops == 0) == (pass == 0)) {
				order[n] = i;
				wo[n++] = w[i];
			}
	int32_t d0 = g->depth;
	uint16_t pref[256];
	for (unsigned i = 0; i < n; i++)
		pref[i] = g->tight >= 2 && vfm_opinfo[T->rets[order[i]]].pops ? 0 : wo[i];
	uint8_t op = T->rets[order[pg_wpick(g, wo, n, pref)]];
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	int can_push = big && pg_headroom(g) >= (int32_t)oi->pops;
	int use_existing = g->depth >= (int32_t)oi->pops && (!can_push || pg_maybe(g, 1, 4));
	if (!use_existing)
		for (unsigned i = 0; i < oi->pops; i++)
			pg_gen_expr(g, g->c.level);
	pg_emit_op(g, op);
	/* The path ends here; code that follows (dead) continues at the
	 * depth the enclosing structure expects. */
	g->depth = d0;
}

/* A packet field under a mask, and a constant: `LDn k; PUSH m; AND;
 * PUSH c`, mostly with m whole bytes and c within it (the JIT compares
 * such a field in place, jit/common.c mem_cmp_shape), sometimes a mask
 * of any bits or a c with bits outside m (the ordinary path). */
static void gen_masked_field(struct gen *g)
{
	unsigned size = pg_maybe(g, 2, 3) ? 4 : 2;
	pg_emit_load(g, size == 4 ? VFM_OPC_LD32 : VFM_OPC_LD16);
	uint64_t mask;
	if (pg_maybe(g, 7, 8)) {
		unsigned width = size == 4 ? (unsigned[]){1, 2, 4}[pg_choose(g, 3)]
					   : 1 + pg_choose(g, 2);
		unsigned lo = pg_choose(g, size - width + 1);
		mask = (width == 4 ? 0xFFFFFFFFull : (1ull << (8 * width)) - 1) << (8 * lo);
	} else {
		mask = pg_raw_bits(g, size);
	}
	uint64_t c = pg_raw_bits(g, size);
	if (pg_maybe(g, 7, 8))
		c &= mask;
	pg_emit(g, VFM_OPC_PUSH, mask);
	pg_emit0(g, VFM_OPC_AND);
	pg_emit(g, VFM_OPC_PUSH, c);
}

/* Two values for a conditional jump; at most 2m + 6 instructions,
 * headroom >= 2.  Returns the opcode to use (a JCC of the table). */
uint8_t pg_gen_cond(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	unsigned L = g->c.level;
	uint8_t jop = T->jcc[pg_choose(g, T->n_jcc)];
	switch (pg_choose(g, 8)) {
	case 0: case 1: case 2:
		if (pg_maybe(g, 1, 2)) {
			pg_gen_expr(g, L);
			pg_gen_data(g, L);
		} else {
			pg_gen_data(g, L);
			pg_gen_expr(g, L);
		}
		break;
	case 3: /* compare a copy kept in scratch (value identities) */
		pg_gen_data(g, L);
		pg_emit0(g, VFM_OPC_DUP);
		pg_emit(g, VFM_OPC_STM, pg_free_scratch(g));
		pg_gen_expr(g, L);
		break;
	case 4:
		pg_emit0(g, VFM_OPC_LEN);
		pg_emit(g, VFM_OPC_PUSH, pg_maybe(g, 1, 2) ? pg_interesting[pg_choose(g, 32)] : pg_choose(g, 1600));
		break;
	case 5:
		if (pg_maybe(g, 1, 2)) {
			pg_emit_load_size(g, VFM_OPC_LD16, 12);
			pg_emit(g, VFM_OPC_PUSH, pg_maybe(g, 1, 2) ? 0x800 : 0x86DD);
		} else {
			gen_masked_field(g);
		}
		break;
	case 6:
		pg_gen_key(g, L);
		pg_emit0(g, VFM_OPC_FLOW_LOAD);
		pg_push_const(g);
		break;
	default:
		pg_emit(g, VFM_OPC_LDM, pg_choose(g, PG_SCRATCH));
		pg_push_const(g);
		break;
	}
	return jop;
}

void pg_st_ops(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	uint8_t ok[256];
	unsigned n = 0;
	int32_t hr = pg_headroom(g);
	for (unsigned i = 0; i < T->n_generic; i++) {
		const struct vfm_opinfo *oi = &vfm_opinfo[T->generic[i]];
		if ((int32_t)oi->pops <= hr && (int32_t)oi->pushes <= hr)
			ok[n++] = T->generic[i];
	}
	if (!n)
		{ fail(g, PROGEN_EINTERNAL); return; }
	uint8_t op = ok[pg_choose(g, n)];
	pg_gen_apply(g, op, g->c.level);
	pg_dispose(g, vfm_opinfo[op].pushes);
}

void pg_st_scratch(struct gen *g)
{
	unsigned L = g->c.level;
	int hr2 = pg_headroom(g) >= 2;
	switch (hr2 ? pg_choose(g, 4) : 0) {
	case 0: case 1:
		pg_gen_expr(g, L);
		pg_emit(g, VFM_OPC_STM, pg_free_scratch(g));
		break;
	case 2: /* one value into two words */
		pg_gen_expr(g, L);
		pg_emit0(g, VFM_OPC_DUP);
		pg_emit(g, VFM_OPC_STM, pg_free_scratch(g));
		pg_emit(g, VFM_OPC_STM, pg_free_scratch(g));
		break;
	default: { /* M[i] = M[i] OP E */
		uint32_t i = pg_free_scratch(g);
		pg_emit(g, VFM_OPC_LDM, i);
		pg_gen_expr(g, L);
		pg_emit_op(g, g->T.binary[pg_choose(g, g->T.n_binary)]);
		pg_emit(g, VFM_OPC_STM, i);
		break;
	}
	}
}

/* Soft budget of a nested pg_body (seeded runs only; no decision). */
uint32_t pg_part(struct gen *g, uint32_t soft, unsigned num, unsigned den)
{
	if (g->bytes_mode)
		return 0;
	uint64_t s = (uint64_t)soft * num / den;
	return (uint32_t)(s ? pg_prng(g) % (s + 1) : 0);
}

void pg_body(struct gen *g, uint32_t soft, int must_fall)
{
	int saved = g->must_fall;
	g->must_fall = must_fall;
	g->nest++;
	pg_gen_block(g, soft, 1);
	g->nest--;
	g->must_fall = saved;
}

void pg_st_branch(struct gen *g, uint32_t soft)
{
	uint32_t lend = pg_new_label(g);
	int has_else = pg_maybe(g, 2, 3);
	pg_comment(g, "if%s", has_else ? "/else" : "");
	g->P += 1; /* the JMP over the then-part */
	uint8_t jop = pg_gen_cond(g);
	if (!has_else) {
		pg_emit_jump(g, jop, lend);
		pg_body(g, soft > 4 ? soft - 4 : 0, 0);
		g->P -= 1;
	} else {
		uint32_t lthen = pg_new_label(g);
		pg_emit_jump(g, jop, lthen);
		uint32_t s1 = pg_part(g, soft, 1, 1);
		pg_body(g, s1, 0);
		g->P -= 1;
		int ended = !g->reachable; /* then Lend needs the then-part */
		pg_emit_jump(g, VFM_OPC_JMP, lend);
		pg_def_label(g, lthen);
		pg_body(g, soft > s1 + 5 ? soft - s1 - 5 : 0, g->must_fall && ended);
	}
	pg_def_label(g, lend);
}

/* Predicate "v != 0" on the value on top (consumed), jumping to l. */
static void jump_if_nonzero(struct gen *g, uint32_t l)
{
	switch (pg_choose(g, 6)) {
	case 0: pg_emit(g, VFM_OPC_PUSH, 0); pg_emit_jump(g, VFM_OPC_JNE, l); break;
	case 1: pg_emit(g, VFM_OPC_PUSH, 0); pg_emit_jump(g, VFM_OPC_JGT, l); break;
	case 2: pg_emit(g, VFM_OPC_PUSH, 0); pg_emit0(g, VFM_OPC_SWAP); pg_emit_jump(g, VFM_OPC_JLT, l); break;
	case 3: pg_emit(g, VFM_OPC_PUSH, 1); pg_emit_jump(g, VFM_OPC_JGE, l); break;
	case 4: pg_emit(g, VFM_OPC_PUSH, 1); pg_emit0(g, VFM_OPC_SWAP); pg_emit_jump(g, VFM_OPC_JLE, l); break;
	default: pg_emit_f(g, VFM_OPC_PUSH, ~0ull, 1, 0); pg_emit_jump(g, VFM_OPC_JSET, l); break;
	}
}

/* Predicate "v < n" on the value on top (consumed), v counting up from 1. */
static void jump_if_below(struct gen *g, uint64_t n, uint32_t l)
{
	switch (pg_choose(g, 5)) {
	case 0: pg_emit(g, VFM_OPC_PUSH, n); pg_emit_jump(g, VFM_OPC_JLT, l); break;
	case 1: pg_emit(g, VFM_OPC_PUSH, n); pg_emit0(g, VFM_OPC_SWAP); pg_emit_jump(g, VFM_OPC_JGT, l); break;
	case 2: pg_emit(g, VFM_OPC_PUSH, n); pg_emit_jump(g, VFM_OPC_JNE, l); break;
	case 3: pg_emit(g, VFM_OPC_PUSH, n - 1); pg_emit_jump(g, VFM_OPC_JLE, l); break;
	default: pg_emit(g, VFM_OPC_PUSH, n - 1); pg_emit0(g, VFM_OPC_SWAP); pg_emit_jump(g, VFM_OPC_JGE, l); break;
	}
}

static struct pg_loop *loop_push(struct gen *g, uint32_t brk, int32_t brk_depth, uint32_t cont,
				 int32_t cont_depth, int budget)
{
	struct pg_loop *lp = &g->loops[g->n_loops++];
	*lp = (struct pg_loop){brk, cont, brk_depth, cont_depth, budget};
	return lp;
}

static void loop_pop(struct gen *g, int counted)
{
	struct pg_loop *lp = &g->loops[--g->n_loops];
	if (counted) {
		g->st.loops++;
		if (lp->budget)
			g->st.budget_loops++;
	}
}

static uint32_t loop_count(struct gen *g)
{
	uint32_t max = g->c.iters;
	return 1 + pg_choose_v(g, max, g->bytes_mode ? 0 : (uint32_t)(pg_prng(g) % max));
}

/* Bounded loops.  Forms 0-2 keep the counter in a reserved scratch word,
 * 3-4 on the stack (the body runs one deeper and never touches it). */
void pg_st_loop(struct gen *g, uint32_t soft)
{
	int32_t d = g->depth;
	int sc = pg_n_free_scratch(g) > 0 && pg_headroom(g) >= 2;
	int st = pg_headroom(g) >= 3;
	uint16_t w[5] = {(uint16_t)(sc ? 3 : 0), (uint16_t)(sc ? 2 : 0), (uint16_t)(sc ? 2 : 0),
			 (uint16_t)(st ? 2 : 0), (uint16_t)(st ? 1 : 0)};
	unsigned form = pg_wpick(g, w, 5, NULL);
	uint32_t N = loop_count(g);
	uint32_t lh = pg_new_label(g), lb = pg_new_label(g);
	int counted = g->reachable;
	uint32_t bsoft = soft > 12 ? soft - 12 : 0;
	g->P += 10;
	if (form <= 2) {
		uint32_t c = pg_free_scratch(g);
		g->reserved |= 1u << c;
		pg_comment(g, "loop %u times, counter M[%u] (%s)", N, c,
			form == 0 ? "down" : form == 1 ? "up" : "while");
		pg_emit(g, VFM_OPC_PUSH, form == 1 ? 0 : N);
		pg_emit(g, VFM_OPC_STM, c);
		pg_def_label(g, lh);
		if (form == 2) {
			switch (pg_choose(g, 3)) {
			case 0:
				pg_emit(g, VFM_OPC_LDM, c);
				pg_emit(g, VFM_OPC_PUSH, 0);
				pg_emit_jump(g, VFM_OPC_JEQ, lb);
				break;
			case 1:
				pg_emit(g, VFM_OPC_LDM, c);
				pg_emit(g, VFM_OPC_PUSH, 1);
				pg_emit_jump(g, VFM_OPC_JLT, lb);
				break;
			default:
				pg_emit(g, VFM_OPC_PUSH, 0);
				pg_emit(g, VFM_OPC_LDM, c);
				pg_emit_jump(g, VFM_OPC_JGE, lb);
				break;
			}
		}
		loop_push(g, lb, d, lh, d, 0);
		pg_body(g, bsoft, g->must_fall);
		g->P -= 10;
		pg_emit(g, VFM_OPC_LDM, c);
		pg_emit(g, VFM_OPC_PUSH, 1);
		pg_emit0(g, form == 1 ? VFM_OPC_ADD : VFM_OPC_SUB);
		if (form == 2) {
			pg_emit(g, VFM_OPC_STM, c);
			pg_emit_jump(g, VFM_OPC_JMP, lh);
		} else {
			pg_emit0(g, VFM_OPC_DUP);
			pg_emit(g, VFM_OPC_STM, c);
			if (form == 0)
				jump_if_nonzero(g, lh);
			else
				jump_if_below(g, N, lh);
		}
		loop_pop(g, counted);
		pg_def_label(g, lb);
		g->reserved &= ~(1u << c);
	} else {
		pg_comment(g, "loop %u times, counter on the stack (%s)", N,
			form == 3 ? "do-while" : "while");
		pg_emit(g, VFM_OPC_PUSH, N);
		pg_def_label(g, lh);
		if (form == 4) {
			pg_emit0(g, VFM_OPC_DUP);
			pg_emit(g, VFM_OPC_PUSH, 0);
			pg_emit_jump(g, VFM_OPC_JEQ, lb);
		}
		loop_push(g, lb, d + 1, lh, d + 1, 0);
		pg_body(g, bsoft, g->must_fall);
		g->P -= 10;
		pg_emit(g, VFM_OPC_PUSH, 1);
		pg_emit0(g, VFM_OPC_SUB);
		if (form == 4) {
			pg_emit_jump(g, VFM_OPC_JMP, lh);
		} else {
			pg_emit0(g, VFM_OPC_DUP);
			jump_if_nonzero(g, lh);
		}
		loop_pop(g, counted);
		pg_def_label(g, lb);
		pg_emit0(g, VFM_OPC_POP);
	}
}

/* Loops whose end depends on data, or on nothing: the budget ends them. */
void pg_st_budget_loop(struct gen *g, uint32_t soft)
{
	unsigned L = g->c.level;
	int32_t d = g->depth;
	int sc = pg_n_free_scratch(g) > 0;
	uint16_t w[4] = {2, (uint16_t)(sc ? 2 : 0), 1, 2};
	unsigned form = pg_wpick(g, w, 4, NULL);
	uint32_t lh = pg_new_label(g), lb = pg_new_label(g);
	int counted = g->reachable;
	uint32_t bsoft = soft > 12 ? soft - 12 : 0;
	uint32_t tail = g->T.exprmax[L] + 10;
	g->P += tail;
	switch (form) {
	case 0: /* forever, maybe with a data-dependent exit at the top */
		pg_comment(g, "loop until the budget ends%s", "");
		pg_def_label(g, lh);
		if (!pg_maybe(g, 1, 4))
			pg_emit_jump(g, pg_gen_cond(g), lb);
		loop_push(g, lb, d, lh, d, 1);
		pg_body(g, bsoft, g->must_fall);
		g->P -= tail;
		pg_emit_jump(g, VFM_OPC_JMP, lh);
		break;
	case 1: { /* counter stepped by a data-dependent amount (may be 0) */
		uint32_t c = pg_free_scratch(g);
		g->reserved |= 1u << c;
		pg_comment(g, "loop on M[%u] with a data-dependent step", c);
		pg_emit(g, VFM_OPC_PUSH, loop_count(g));
		pg_emit(g, VFM_OPC_STM, c);
		pg_def_label(g, lh);
		loop_push(g, lb, d, lh, d, 1);
		pg_body(g, bsoft, g->must_fall);
		g->P -= tail;
		pg_emit(g, VFM_OPC_LDM, c);
		switch (pg_choose(g, 4)) {
		case 0: pg_gen_expr(g, L); pg_emit(g, VFM_OPC_PUSH, 1); pg_emit0(g, VFM_OPC_AND); break;
		case 1: pg_emit_load(g, VFM_OPC_LD8); pg_emit(g, VFM_OPC_PUSH, 3); pg_emit0(g, VFM_OPC_AND); break;
		case 2: pg_emit(g, VFM_OPC_PUSH, pg_choose(g, 3)); break;
		default: pg_emit0(g, VFM_OPC_TS); pg_emit(g, VFM_OPC_PUSH, 1); pg_emit0(g, VFM_OPC_AND); break;
		}
		pg_emit0(g, VFM_OPC_SUB);
		pg_emit0(g, VFM_OPC_DUP);
		pg_emit(g, VFM_OPC_STM, c);
		jump_if_nonzero(g, lh);
		g->reserved &= ~(1u << c);
		break;
	}
	case 2: { /* a stack counter far too large (or 0, which wraps) */
		static const uint64_t huge[] = {0, 1ull << 32, 1ull << 63, ~0ull, 100000};
		pg_comment(g, "loop with a huge stack counter%s", "");
		pg_emit_f(g, VFM_OPC_PUSH, huge[pg_choose(g, 5)], 1, 0);
		pg_def_label(g, lh);
		loop_push(g, lb, d + 1, lh, d + 1, 1);
		pg_body(g, bsoft, g->must_fall);
		g->P -= tail;
		pg_emit(g, VFM_OPC_PUSH, 1);
		pg_emit0(g, VFM_OPC_SUB);
		pg_emit0(g, VFM_OPC_DUP);
		jump_if_nonzero(g, lh);
		break;
	}
	default: /* repeat while a packet-dependent value differs */
		pg_comment(g, "loop while a value differs%s", "");
		pg_def_label(g, lh);
		loop_push(g, lb, d, lh, d, 1);
		pg_body(g, bsoft, g->must_fall);
		g->P -= tail;
		pg_gen_data(g, L);
		pg_push_const(g);
		pg_emit_jump(g, g->T.jcc[pg_choose(g, g->T.n_jcc)], lh);
		break;
	}
	loop_pop(g, counted);
	pg_def_label(g, lb);
	if (form == 2)
		pg_emit0(g, VFM_OPC_POP);
	g->end_hint = 1;
}
