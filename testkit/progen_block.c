/*
 * testkit/progen_block.c — section 7 of the program generator: statement
 * choice, blocks and whole programs (generator set-up and tear-down).
 * Layout: progen.c.
 */
#include "progen_int.h"

/* ---- 7. Blocks and programs --------------------------------------------- */

int pg_structure(unsigned f)
{
	return f == PROGEN_F_BRANCH || f == PROGEN_F_LOOP || f == PROGEN_F_BUDGET_LOOP ||
	       f == PROGEN_F_GUARD || f == PROGEN_F_INDEXED || f == PROGEN_F_DEEP;
}

/* Which statements may start here, and with which weight. */
static int eligible(struct gen *g, uint16_t *w)
{
	uint32_t m = g->T.exprmax[g->c.level];
	int32_t hr = pg_headroom(g);
	int64_t r = pg_room(g);
	int any = 0, can_nest = g->nest < g->c.nesting;
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++) {
		int32_t need_hr = 2;
		int64_t cost;
		int ok = 1;
		switch ((enum progen_feature)f) {
		case PROGEN_F_OPS:
			need_hr = 1;
			cost = (int64_t)pg_max_u32(g->T.maxpops * m, m + 2) + 1 + g->T.maxpushes;
			break;
		case PROGEN_F_SCRATCH: need_hr = 1; cost = m + 3; break;
		case PROGEN_F_BRANCH: cost = 2 * m + 8; break;
		case PROGEN_F_LOOP: cost = 16; break;
		case PROGEN_F_BUDGET_LOOP:
			/* Not where the code after must stay reachable: most
			 * packets would end in it (BUDGET), and the analysis
			 * may prove it never ends. */
			need_hr = 3;
			cost = 3 * m + 24;
			ok = !g->must_fall;
			break;
		case PROGEN_F_GUARD: cost = pg_term_cost(g) + 20; break;
		case PROGEN_F_INDEXED: need_hr = 3; cost = m + 40; break;
		case PROGEN_F_FLOW: need_hr = 3; cost = 2 * m + 8; break;
		case PROGEN_F_DEEP: need_hr = 1; cost = 6; break;
		case PROGEN_F_EARLY_RET: cost = 2 * m + 7 + pg_term_cost(g); break;
		case PROGEN_F_BREAK:
			cost = 2 * m + 8;
			ok = 0;
			for (unsigned i = 0; i < g->n_loops; i++)
				if (g->loops[i].brk_depth == g->depth ||
				    g->loops[i].cont_depth == g->depth)
					ok = 1;
			break;
		case PROGEN_F_DEAD: need_hr = 0; cost = 8; break;
		default: cost = 0; ok = 0; break;
		}
		if (pg_structure(f) && !can_nest)
			ok = 0;
		if (f == PROGEN_F_LOOP && hr < 3 && pg_n_free_scratch(g) == 0)
			ok = 0;
		w[f] = ok && hr >= need_hr && r >= cost ? g->c.w[f] : 0;
		any |= w[f] != 0;
	}
	return any;
}

static void gen_stmt(struct gen *g, const uint16_t *w, uint32_t soft)
{
	uint16_t pref[PROGEN_F_COUNT];
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++)
		pref[f] = soft < 10 && pg_structure(f) ? 0 : w[f];
	unsigned f = pg_wpick(g, w, PROGEN_F_COUNT, pref);
	g->st.stmts[f]++;
	switch ((enum progen_feature)f) {
	case PROGEN_F_OPS: pg_st_ops(g); break;
	case PROGEN_F_SCRATCH: pg_st_scratch(g); break;
	case PROGEN_F_BRANCH: pg_st_branch(g, soft); break;
	case PROGEN_F_LOOP: pg_st_loop(g, soft); break;
	case PROGEN_F_BUDGET_LOOP: pg_st_budget_loop(g, soft); break;
	case PROGEN_F_GUARD: pg_st_guard(g, soft); break;
	case PROGEN_F_INDEXED: pg_st_indexed(g, soft); break;
	case PROGEN_F_FLOW: pg_st_flow(g); break;
	case PROGEN_F_DEEP: pg_st_deep(g, soft); break;
	case PROGEN_F_EARLY_RET: pg_st_early_ret(g); break;
	case PROGEN_F_BREAK: pg_st_break(g); break;
	case PROGEN_F_DEAD: pg_st_dead(g); break;
	default: fail(g, PROGEN_EINTERNAL); break;
	}
}

/* Soft budget of one statement out of the rest of its block. */
static uint32_t stmt_soft(struct gen *g, uint32_t rem)
{
	if (g->bytes_mode || rem <= 4)
		return rem;
	switch (pg_prng(g) % 8) {
	case 0: return rem;
	case 1: case 2: return 1 + (uint32_t)(pg_prng(g) % rem);
	default: return 1 + (uint32_t)(pg_prng(g) % (rem < 24 ? rem : 24));
	}
}

static void add_span(struct gen *g, size_t cont, size_t start, uint32_t block)
{
	if (pg_grow_buf((void **)&g->spans, &g->cap_spans, g->n_spans + 1, sizeof *g->spans))
		{ fail(g, PROGEN_ENOMEM); return; }
	g->spans[g->n_spans++] = (struct pg_span){cont, start, g->pos, block};
}

void pg_gen_block(struct gen *g, uint32_t soft, int nested)
{
	uint32_t end = g->n + soft, block = (uint32_t)g->n_blocks;
	int tight0 = g->tight, hint0 = g->end_hint;
	g->end_hint = 0;
	if (g->index_on) {
		if (pg_grow_buf((void **)&g->blocks, &g->cap_blocks, g->n_blocks + 1,
			     sizeof *g->blocks))
			{ fail(g, PROGEN_ENOMEM); return; }
		g->blocks[g->n_blocks++] = (struct pg_block){0, 0, 0};
	}
	for (;;) {
		uint16_t w[PROGEN_F_COUNT];
		if (g->err || !eligible(g, w))
			break;
		size_t cont = g->pos;
		uint32_t idx = g->n_stmts;
		/* Seeded runs stop a block whose paths have all ended: what
		 * follows would be dead (decoded bytes may go on regardless). */
		int want = g->n < end && g->reachable && !g->end_hint;
		if ((pg_draw(g, 1, want ? 1 : 0) & 3) == 0) {
			if (g->index_on)
				g->blocks[block] = (struct pg_block){cont, idx, 1};
			break;
		}
		g->n_stmts++;
		size_t start = g->pos;
		uint32_t ssoft = stmt_soft(g, end > g->n ? end - g->n : 1);
		g->tight = ssoft < 8;
		if (g->regen_at == (int64_t)idx) { /* mutation: a fresh statement */
			g->regen_at = -1;
			g->bytes_mode = 0;
			prng_xoshiro_seed(g->rng, g->regen_seed);
			gen_stmt(g, w, 1 + (uint32_t)(pg_prng(g) % 24));
			g->bytes_mode = 1;
			g->pos = g->regen_skip;
		} else {
			gen_stmt(g, w, ssoft);
		}
		if (g->index_on)
			add_span(g, cont, start, block);
	}
	/* Sometimes a nested block ends the packet. */
	g->tight = tight0;
	if (nested && !g->must_fall && !g->err && pg_room(g) >= (int64_t)pg_term_cost(g) &&
	    pg_maybe(g, 1, 10))
		pg_gen_term(g);
	g->end_hint = hint0;
}

static void resolve_config(const struct progen_config *in, struct pg_cfg *c)
{
	struct progen_config def;
	if (!in) {
		progen_config_init(&def);
		in = &def;
	}
	c->target = in->target_insns ? in->target_insns : 64;
	if (c->target > PG_HARD_MAX)
		c->target = PG_HARD_MAX;
	uint64_t H = in->max_insns ? in->max_insns : 2ull * c->target + 1024;
	c->H = (uint32_t)(H > PG_HARD_MAX ? PG_HARD_MAX : H);
	if (c->target > c->H)
		c->target = c->H;
	c->maxd = in->max_stack && in->max_stack < VFM_MAX_STACK ? in->max_stack : VFM_MAX_STACK;
	c->iters = in->max_loop_iters ? in->max_loop_iters : 8;
	c->nesting = in->max_nesting ? in->max_nesting : 5;
	if (c->nesting > PG_MAX_NEST)
		c->nesting = PG_MAX_NEST;
	c->level = in->expr_depth ? in->expr_depth : 3;
	if (c->level > PG_MAX_LEVEL)
		c->level = PG_MAX_LEVEL;
	c->comments = !in->no_comments;
	int any = 0;
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++)
		any |= in->weight[f] != 0;
	static const uint8_t defw[PROGEN_F_COUNT] = {
#define PROGEN_FEATURE_W_(e, name, w) w,
		PROGEN_FEATURES(PROGEN_FEATURE_W_)
#undef PROGEN_FEATURE_W_
	};
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++)
		c->w[f] = any ? in->weight[f] : defw[f];
}

void pg_gen_init(struct gen *g, const struct progen_config *cfg)
{
	memset(g, 0, sizeof *g);
	resolve_config(cfg, &g->c);
	pg_tables_init(&g->T);
	g->reachable = 1;
	g->regen_at = -1;
	g->text_on = 1;
	/* The patterns below name these opcodes; the table must have them
	 * with the shapes they assume. */
	static const struct { uint8_t op, pops, pushes; } need[] = {
		{VFM_OPC_PUSH, 0, 1}, {VFM_OPC_POP, 1, 0}, {VFM_OPC_DUP, 1, 2},
		{VFM_OPC_SWAP, 2, 2}, {VFM_OPC_OVER, 2, 3}, {VFM_OPC_LDM, 0, 1},
		{VFM_OPC_STM, 1, 0}, {VFM_OPC_LEN, 0, 1}, {VFM_OPC_LD8, 0, 1},
		{VFM_OPC_LD16, 0, 1}, {VFM_OPC_LD32, 0, 1}, {VFM_OPC_ADD, 2, 1},
		{VFM_OPC_SUB, 2, 1}, {VFM_OPC_MUL, 2, 1}, {VFM_OPC_AND, 2, 1},
		{VFM_OPC_SHL, 2, 1}, {VFM_OPC_JMP, 0, 0}, {VFM_OPC_JEQ, 2, 0},
		{VFM_OPC_JNE, 2, 0}, {VFM_OPC_JGT, 2, 0}, {VFM_OPC_JGE, 2, 0},
		{VFM_OPC_JLT, 2, 0}, {VFM_OPC_JLE, 2, 0}, {VFM_OPC_JSET, 2, 0},
		{VFM_OPC_HASH5, 0, 1}, {VFM_OPC_FLOW_LOAD, 1, 1},
		{VFM_OPC_FLOW_STORE, 2, 0}, {VFM_OPC_TS, 0, 1},
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		const struct vfm_opinfo *oi = &vfm_opinfo[need[i].op];
		if (!oi->valid || oi->pops != need[i].pops || oi->pushes != need[i].pushes)
			fail(g, PROGEN_EINTERNAL);
	}
	if (!g->T.n_rets || !g->T.n_jcc || !g->T.n_binary || !g->T.n_load || !g->T.n_loadx)
		fail(g, PROGEN_EINTERNAL);
}

void pg_gen_free(struct gen *g)
{
	free(g->rec);
	free(g->spans);
	free(g->blocks);
	free(g->choices);
	free(g->txt);
	free(g->labels);
	free(g->tags);
}

void pg_gen_program(struct gen *g)
{
	if (g->err)
		return;
	if (g->c.comments) {
		char buf[96];
		int k = snprintf(buf, sizeof buf, "; vfm-progen program, target %u instructions\n",
				 g->c.target);
		pg_tb_put(g, buf, (size_t)k);
	}
	g->P = pg_term_cost(g);
	g->must_fall = 1;
	pg_gen_block(g, g->c.target > 3 ? g->c.target - 2 : 0, 0);
	g->P = 0;
	uint32_t left = g->c.target > g->n ? g->c.target - g->n : 0;
	g->tight = left < 2 ? 2 : left < 8 ? 1 : 0;
	pg_gen_term(g);
	if (!g->err && (g->depth != 0 || g->n_loops || g->reserved || g->nest))
		fail(g, PROGEN_EINTERNAL);
	for (uint32_t i = 0; i < g->n_labels && !g->err; i++)
		if (!g->labels[i].defined)
			fail(g, PROGEN_EINTERNAL);
}
