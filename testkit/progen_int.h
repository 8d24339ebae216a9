/*
 * testkit/progen_int.h — private to the program generator (progen*.c):
 * the generator state, the opcode tables and the functions the sections
 * call across files.  Nothing outside testkit/progen*.c includes it; the
 * API is progen.h.
 *
 * Every helper here takes the generator state explicitly and keeps the
 * order of its draws: moving a function between files must never change
 * which program a seed or a byte string gives (tests/test_progen.c pins
 * digests of both).
 */
#ifndef VFM_TESTKIT_PROGEN_INT_H
#define VFM_TESTKIT_PROGEN_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"
#include "progen.h"
#include "program.h"

#define PG_MAX_LEVEL 5
#define PG_MAX_NEST 8
#define PG_HARD_MAX 900000u /* 900k PUSH = 8.1 MB, under the 8 MiB code limit */
#define PG_SCRATCH VFM_SCRATCH_WORDS

/* Opcode lists by role, derived from the table. */
struct pg_tables {
	uint8_t leaf[256], unary[256], binary[256], generic[256], jcc[256], rets[256],
		any[256], load[256], loadx[256];
	unsigned n_leaf, n_unary, n_binary, n_generic, n_jcc, n_rets, n_any, n_load, n_loadx;
	unsigned maxpops, maxpushes, maxretpops;
	uint32_t exprmax[PG_MAX_LEVEL + 1];
};

struct pg_cfg {
	uint32_t target, H, maxd, iters;
	unsigned nesting, level;
	int comments;
	uint16_t w[PROGEN_F_COUNT];
};

struct pg_label {
	int32_t depth;    /* -1 until a reachable jump or fall-through fixes it */
	uint8_t defined;
	uint8_t dead_def; /* defined while unreachable */
};

struct pg_loop {
	uint32_t brk, cont;
	int32_t brk_depth, cont_depth;
	int budget; /* may end only by the budget (continue skips the step) */
};

struct pg_span { size_t cont, start, end; uint32_t block; };
struct pg_block { size_t stop; uint32_t n_stmts_before; int has_stop; };
struct pg_choice { size_t pos; unsigned nb; };

struct gen {
	struct pg_cfg c;
	struct pg_tables T;

	/* decision source */
	int bytes_mode;
	const uint8_t *data;
	size_t len, pos;
	uint64_t rng[4];

	/* recording of decisions (choice string out) */
	int rec_on;
	uint8_t *rec;
	size_t rec_n, rec_cap;

	/* mutation support: statement spans, block ends and decisions */
	int index_on;
	struct pg_span *spans;
	size_t n_spans, cap_spans;
	struct pg_block *blocks;
	size_t n_blocks, cap_blocks;
	struct pg_choice *choices;
	size_t n_choices, cap_choices;
	uint32_t n_stmts;
	int64_t regen_at;
	size_t regen_skip;
	uint64_t regen_seed;

	/* per-instruction tags (PROGEN_TAG_*) */
	int tags_on;
	uint8_t *tags;
	size_t cap_tags;

	/* text */
	int text_on;
	char *txt;
	size_t txt_n, txt_cap;

	/* machine bookkeeping */
	uint32_t n, P; /* emitted instructions, pending tail cost */
	int32_t depth;
	int reachable;
	unsigned nest;
	uint32_t reserved; /* scratch words owned by open loops / regions */
	uint32_t guard_len; /* packet length proven by enclosing LEN checks */
	struct pg_loop loops[PG_MAX_NEST + 2];
	unsigned n_loops;
	struct pg_label *labels;
	uint32_t n_labels;
	size_t cap_labels;

	struct progen_stats st;
	/* The code after the current structure must stay reachable, so this
	 * block may not end every path (no final RET, no loop without an
	 * exit).  Set at the top level and passed into loop and deep-stack
	 * bodies, whose fall-through is the only way on; without it one
	 * exit-less loop would make the rest of a long program dead. */
	int must_fall;
	/* Seeded runs: the last statement ends most packets (a loop only the
	 * budget ends, a load far past any packet), so end the block here:
	 * code after it would rarely run and the analysis may prove it dead. */
	int end_hint;
	int tight; /* seeded runs: soft budget nearly spent: 1 small expressions,
		    * 2 also RET k */
	int err, err_line;
};

#define fail(g, code) pg_fail_at(g, code, __LINE__)

/* progen_tables.c */
void pg_tables_init(struct pg_tables *T);
void pg_fail_at(struct gen *g, int code, int line);
int pg_grow_buf(void **p, size_t *cap, size_t need, size_t elem);
uint64_t pg_draw(struct gen *g, unsigned nb, uint64_t proposal);
uint32_t pg_choose(struct gen *g, uint32_t n);
uint32_t pg_choose_v(struct gen *g, uint32_t n, uint32_t want);
int pg_maybe(struct gen *g, unsigned num, unsigned den);
unsigned pg_wpick(struct gen *g, const uint16_t *w, unsigned n, const uint16_t *pref);

/* progen_emit.c */
void pg_tb_put(struct gen *g, const char *s, size_t k);
/* A "; ..." comment line in the text, when comments are on. */
__attribute__((format(printf, 2, 3))) void pg_comment(struct gen *g, const char *fmt, ...);
void pg_tag_last(struct gen *g, uint8_t bits);
void pg_emit_f(struct gen *g, uint8_t op, uint64_t v, int fmt, int raw);
uint32_t pg_new_label(struct gen *g);
void pg_emit_jump(struct gen *g, uint8_t op, uint32_t l);
void pg_emit_raw_jump(struct gen *g, uint8_t op, uint32_t l);
void pg_def_label(struct gen *g, uint32_t l);
/* Constants that steer filters into corner cases (at least 32). */
extern const uint64_t pg_interesting[];
void pg_push_const(struct gen *g);
uint32_t pg_free_scratch(struct gen *g);
unsigned pg_n_free_scratch(const struct gen *g);
void pg_emit_load_size(struct gen *g, uint8_t op, uint32_t k);
void pg_emit_load(struct gen *g, uint8_t op);
void pg_emit_guarded_load(struct gen *g);
uint32_t pg_gen_loadx_k(struct gen *g);
void pg_emit_op(struct gen *g, uint8_t op);

/* progen_expr.c */
void pg_gen_apply(struct gen *g, uint8_t op, unsigned level);
void pg_gen_leaf(struct gen *g);
void pg_gen_bounded_offset(struct gen *g, unsigned level);
void pg_gen_key(struct gen *g, unsigned level);
void pg_gen_data(struct gen *g, unsigned level);
void pg_gen_expr(struct gen *g, unsigned level);

/* progen_stmt.c */
void pg_dispose(struct gen *g, unsigned k);
uint32_t pg_term_cost(const struct gen *g);
void pg_gen_term(struct gen *g);
uint8_t pg_gen_cond(struct gen *g);
void pg_st_ops(struct gen *g);
void pg_st_scratch(struct gen *g);
uint32_t pg_part(struct gen *g, uint32_t soft, unsigned num, unsigned den);
void pg_body(struct gen *g, uint32_t soft, int must_fall);
void pg_st_branch(struct gen *g, uint32_t soft);
void pg_st_loop(struct gen *g, uint32_t soft);
void pg_st_budget_loop(struct gen *g, uint32_t soft);

/* progen_guard.c */
void pg_st_guard(struct gen *g, uint32_t soft);
void pg_st_indexed(struct gen *g, uint32_t soft);
void pg_st_flow(struct gen *g);
void pg_st_deep(struct gen *g, uint32_t soft);
void pg_st_early_ret(struct gen *g);
void pg_st_break(struct gen *g);
void pg_st_dead(struct gen *g);

/* progen_block.c */
int pg_structure(unsigned f);
void pg_gen_block(struct gen *g, uint32_t soft, int nested);
void pg_gen_init(struct gen *g, const struct progen_config *cfg);
void pg_gen_free(struct gen *g);
void pg_gen_program(struct gen *g);

/* One-liners on hot paths, inline in every section. */
static inline uint32_t pg_max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static inline uint64_t pg_prng(struct gen *g) { return prng_xoshiro_next(g->rng); }
static inline uint64_t pg_raw_bits(struct gen *g, unsigned nb) { return pg_draw(g, nb, g->bytes_mode ? 0 : pg_prng(g)); }
static inline int32_t pg_headroom(const struct gen *g) { return (int32_t)g->c.maxd - g->depth; }
static inline int64_t pg_room(const struct gen *g) { return (int64_t)g->c.H - g->n - g->P; }
static inline void pg_emit(struct gen *g, uint8_t op, uint64_t v) { pg_emit_f(g, op, v, 0, 0); }
static inline void pg_emit0(struct gen *g, uint8_t op) { pg_emit_f(g, op, 0, 0, 0); }

#endif
