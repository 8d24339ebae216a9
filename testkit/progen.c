/*
 * testkit/progen.c — random verifiable VFM programs (see progen.h).
 *
 * Layout of this file:
 *   1. PRNG and opcode tables derived from vfm_opinfo[]
 *   2. the generator state and the one decision primitive (draw)
 *   3. emission: text, stack-depth and reachability bookkeeping, labels
 *   4. operands: constants, offsets, scratch indices
 *   5. expressions (net +1 value)
 *   6. statements (net 0) and terminators
 *   7. blocks and whole programs
 *   8. public API, mutation and crossover
 *
 * Size control.  Two budgets: a *soft* one (the requested size), which only
 * shapes the proposals a seeded run makes, and a *hard* cap H, which every
 * decision respects identically in seeded and byte-driven runs.  A
 * statement may start only if H - emitted - pending >= its worst-case cost,
 * where pending is the sum of the worst-case tails of the structures still
 * open (loop tails, reductions of deep stacks, the final RET).  Nested
 * bodies check the same condition, so the cap can never be exceeded and
 * every open structure can always be closed.
 */
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

/* ---- 1. PRNG and tables --------------------------------------------------- */

/* Opcode lists by role, derived from the table. */
struct pg_tables {
	uint8_t leaf[256], unary[256], binary[256], generic[256], jcc[256], rets[256],
		any[256], load[256], loadx[256];
	unsigned n_leaf, n_unary, n_binary, n_generic, n_jcc, n_rets, n_any, n_load, n_loadx;
	unsigned maxpops, maxpushes, maxretpops;
	uint32_t exprmax[PG_MAX_LEVEL + 1];
};

static int is_control(const struct vfm_opinfo *oi)
{
	return oi->cls == VFM_CLASS_JMP || oi->cls == VFM_CLASS_JCC || oi->cls == VFM_CLASS_RET;
}

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

static void tables_init(struct pg_tables *T)
{
	memset(T, 0, sizeof *T);
	for (unsigned op = 0; op < 256; op++) {
		const struct vfm_opinfo *oi = &vfm_opinfo[op];
		if (!oi->valid)
			continue;
		T->any[T->n_any++] = (uint8_t)op;
		if (oi->cls == VFM_CLASS_JCC) {
			if (oi->pops == 2 && oi->pushes == 0 && oi->operand == VFM_OPND_REL32)
				T->jcc[T->n_jcc++] = (uint8_t)op;
			continue;
		}
		if (oi->cls == VFM_CLASS_RET) {
			if (oi->pops <= 2 && oi->pushes == 0 && oi->operand != VFM_OPND_REL32) {
				T->rets[T->n_rets++] = (uint8_t)op;
				if (oi->pops > T->maxretpops)
					T->maxretpops = oi->pops;
			}
			continue;
		}
		if (is_control(oi) || oi->operand == VFM_OPND_REL32)
			continue;
		if (oi->pops > 3 || oi->pushes > 3)
			continue;
		T->generic[T->n_generic++] = (uint8_t)op;
		if (oi->pops > T->maxpops)
			T->maxpops = oi->pops;
		if (oi->pushes > T->maxpushes)
			T->maxpushes = oi->pushes;
		if (oi->pops == 0 && oi->pushes == 1)
			T->leaf[T->n_leaf++] = (uint8_t)op;
		if (oi->pops == 1 && oi->pushes == 1)
			T->unary[T->n_unary++] = (uint8_t)op;
		if (oi->pops == 2 && oi->pushes == 1)
			T->binary[T->n_binary++] = (uint8_t)op;
		if (oi->cls == VFM_CLASS_LOAD && oi->size && oi->pops == 0 && oi->pushes == 1)
			T->load[T->n_load++] = (uint8_t)op;
		if (oi->cls == VFM_CLASS_LOADX && oi->size && oi->pops == 1 && oi->pushes == 1)
			T->loadx[T->n_loadx++] = (uint8_t)op;
	}
	/* Worst-case instruction count of an expression of each level; one
	 * term per expression form in gen_expr (checked there as it runs). */
	T->exprmax[0] = 1;
	for (int l = 1; l <= PG_MAX_LEVEL; l++) {
		uint32_t m = T->exprmax[l - 1], b = m + 3; /* unary (masked index) */
		b = max_u32(b, 2 * m + 3);                  /* binary, shuffles */
		b = max_u32(b, 7);                          /* IHL */
		b = max_u32(b, max_u32(7, m + 2) + 1);      /* indexed load */
		b = max_u32(b, max_u32(3, m) + 1);          /* flow load */
		b = max_u32(b, 2 * m + 4);                  /* compare to 0/1 */
		b = max_u32(b, max_u32(T->maxpops * m, m + 2) + T->maxpushes); /* generic */
		T->exprmax[l] = b;
	}
}

/* ---- 2. Generator state and decisions ------------------------------------- */

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

static void fail_at(struct gen *g, int code, int line)
{
	if (!g->err) {
		g->err = code;
		g->err_line = line;
#ifdef PROGEN_DEBUG
		fprintf(stderr, "progen: error %d at progen.c:%d (insn %u, depth %d)\n", code,
			line, g->n, g->depth);
		if (getenv("PROGEN_DEBUG_TEXT") && g->txt)
			fprintf(stderr, "%s", g->txt);
#endif
	}
}
#define fail(g, code) fail_at(g, code, __LINE__)

static int grow_buf(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static uint64_t prng(struct gen *g) { return prng_xoshiro_next(g->rng); }

/*
 * The one decision primitive: nb bytes, little-endian.  Seeded runs take
 * the proposal; byte-driven runs read the input (0 past its end).  Either
 * way the value is recorded if recording is on.
 */
static uint64_t draw(struct gen *g, unsigned nb, uint64_t proposal)
{
	uint64_t r = 0;
	if (g->bytes_mode) {
		for (unsigned i = 0; i < nb; i++) {
			size_t p = g->pos + i;
			if (p < g->len)
				r |= (uint64_t)g->data[p] << (8 * i);
		}
	} else {
		r = nb >= 8 ? proposal : proposal & ((1ull << (8 * nb)) - 1);
	}
	if (g->index_on) {
		if (grow_buf((void **)&g->choices, &g->cap_choices, g->n_choices + 1,
			     sizeof *g->choices))
			fail(g, PROGEN_ENOMEM);
		else
			g->choices[g->n_choices++] = (struct pg_choice){g->pos, nb};
	}
	g->pos += nb;
	if (g->rec_on) {
		if (grow_buf((void **)&g->rec, &g->rec_cap, g->rec_n + nb, 1)) {
			fail(g, PROGEN_ENOMEM);
		} else {
			for (unsigned i = 0; i < nb; i++)
				g->rec[g->rec_n++] = (uint8_t)(r >> (8 * i));
		}
	}
	return r;
}

static unsigned nbytes_for(uint64_t n)
{
	return n <= 0x100 ? 1 : n <= 0x10000 ? 2 : n <= 0x100000000ull ? 4 : 8;
}

/* Uniform in [0, n); no decision when there is only one option. */
static uint32_t choose(struct gen *g, uint32_t n)
{
	if (n <= 1)
		return 0;
	return (uint32_t)(draw(g, nbytes_for(n), g->bytes_mode ? 0 : prng(g)) % n);
}

/* As choose, but a seeded run picks exactly want (< n). */
static uint32_t choose_v(struct gen *g, uint32_t n, uint32_t want)
{
	if (n <= 1)
		return 0;
	return (uint32_t)(draw(g, nbytes_for(n), want) % n);
}

/* True with probability num/den; a 0 byte says no (unless num == den). */
static int maybe(struct gen *g, unsigned num, unsigned den)
{
	return choose(g, den) >= den - num;
}

static uint64_t raw_bits(struct gen *g, unsigned nb) { return draw(g, nb, g->bytes_mode ? 0 : prng(g)); }

/*
 * Weighted pick among options with w[i] > 0 (at least one).  A seeded run
 * picks by pref (defaults to w; options with w == 0 are never picked) and
 * proposes a value inside that option's slot; 0 maps to the first option.
 */
static unsigned wpick(struct gen *g, const uint16_t *w, unsigned n, const uint16_t *pref)
{
	uint32_t total = 0, want = 0;
	for (unsigned i = 0; i < n; i++)
		total += w[i];
	if (!total) {
		fail(g, PROGEN_EINTERNAL);
		return 0;
	}
	if (!g->bytes_mode) {
		uint32_t ptotal = 0;
		if (pref)
			for (unsigned i = 0; i < n; i++)
				ptotal += w[i] ? pref[i] : 0;
		if (!ptotal)
			pref = w, ptotal = total;
		uint32_t x = (uint32_t)(prng(g) % ptotal), start = 0;
		for (unsigned i = 0; i < n; i++) {
			uint32_t pw = w[i] ? pref[i] : 0;
			if (x < pw) {
				want = start + (uint32_t)(prng(g) % w[i]);
				break;
			}
			x -= pw;
			start += w[i];
		}
	}
	uint32_t x = choose_v(g, total, want);
	for (unsigned i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return 0;
}

/* ---- 3. Emission ---------------------------------------------------------- */

static void tb_put(struct gen *g, const char *s, size_t k)
{
	if (!g->text_on || g->err)
		return;
	if (grow_buf((void **)&g->txt, &g->txt_cap, g->txt_n + k + 1, 1)) {
		fail(g, PROGEN_ENOMEM);
		return;
	}
	memcpy(g->txt + g->txt_n, s, k);
	g->txt_n += k;
	g->txt[g->txt_n] = '\0';
}

static void tb_str(struct gen *g, const char *s) { tb_put(g, s, strlen(s)); }

static void tb_u64(struct gen *g, uint64_t v, int hex)
{
	char buf[24];
	int i = (int)sizeof buf;
	if (hex) {
		do {
			buf[--i] = "0123456789abcdef"[v & 15];
			v >>= 4;
		} while (v);
		buf[--i] = 'x';
		buf[--i] = '0';
	} else {
		do {
			buf[--i] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
	}
	tb_put(g, buf + i, sizeof buf - (size_t)i);
}

__attribute__((format(printf, 2, 3))) static void comment(struct gen *g, const char *fmt, ...)
{
	if (!g->text_on || !g->c.comments || g->err)
		return;
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	tb_str(g, "\t; ");
	tb_put(g, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
	tb_str(g, "\n");
}

static int32_t headroom(const struct gen *g) { return (int32_t)g->c.maxd - g->depth; }

static int64_t room(const struct gen *g) { return (int64_t)g->c.H - g->n - g->P; }

/* Count one instruction and apply its stack effect.  raw: unstructured
 * dead code, whose effect on the (virtual) depth is ignored. */
static int account(struct gen *g, uint8_t op, int raw)
{
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	if (g->err)
		return 0;
	if (!oi->valid || g->n >= g->c.H) {
		fail(g, PROGEN_EINTERNAL);
		return 0;
	}
	int was = g->reachable;
	if (g->tags_on) {
		if (grow_buf((void **)&g->tags, &g->cap_tags, (size_t)g->n + 1, 1)) {
			fail(g, PROGEN_ENOMEM);
			return 0;
		}
		g->tags[g->n] = (uint8_t)((was ? 0 : PROGEN_TAG_DEAD) |
					  (oi->cls == VFM_CLASS_LOAD || oi->cls == VFM_CLASS_LOADX
						   ? PROGEN_TAG_LOAD : 0));
	}
	g->n++;
	g->st.insns++;
	g->st.op_count[op]++;
	if (was) {
		g->st.reachable++;
		int32_t nd = g->depth - oi->pops + oi->pushes;
		if (raw || g->depth < oi->pops || nd > (int32_t)g->c.maxd) {
			fail(g, PROGEN_EINTERNAL);
			return 0;
		}
		if ((uint32_t)nd > g->st.max_depth)
			g->st.max_depth = (uint32_t)nd;
		if (oi->cls == VFM_CLASS_LOADX)
			g->st.indexed_loads++;
	} else {
		g->st.dead_insns++;
	}
	if (!raw)
		g->depth += (int32_t)oi->pushes - (int32_t)oi->pops;
	if (oi->cls == VFM_CLASS_RET || oi->cls == VFM_CLASS_JMP)
		g->reachable = 0;
	return was;
}

/* Mark the last instruction emitted. */
static void tag_last(struct gen *g, uint8_t bits)
{
	if (g->tags_on && g->n && !g->err)
		g->tags[g->n - 1] |= bits;
}

static void text_insn(struct gen *g, uint8_t op)
{
	tb_str(g, "\t");
	tb_str(g, vfm_opinfo[op].mnemonic);
}

/* Any non-jump instruction.  fmt: 0 decimal, 1 hex, 2 dotted quad. */
static void emit_f(struct gen *g, uint8_t op, uint64_t v, int fmt, int raw)
{
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	if (oi->operand == VFM_OPND_REL32) {
		fail(g, PROGEN_EINTERNAL);
		return;
	}
	account(g, op, raw);
	text_insn(g, op);
	if (oi->operand != VFM_OPND_NONE) {
		tb_str(g, " ");
		if (fmt == 2 && v <= 0xFFFFFFFFu) {
			char buf[20];
			int k = snprintf(buf, sizeof buf, "%u.%u.%u.%u", (unsigned)(v >> 24),
					 (unsigned)(v >> 16) & 255, (unsigned)(v >> 8) & 255,
					 (unsigned)v & 255);
			tb_put(g, buf, (size_t)k);
		} else {
			tb_u64(g, v, fmt == 1 || (fmt == 0 && v >= 0x10000));
		}
	}
	tb_str(g, "\n");
}

static void emit(struct gen *g, uint8_t op, uint64_t v) { emit_f(g, op, v, 0, 0); }
static void emit0(struct gen *g, uint8_t op) { emit_f(g, op, 0, 0, 0); }

static uint32_t new_label(struct gen *g)
{
	if (grow_buf((void **)&g->labels, &g->cap_labels, (size_t)g->n_labels + 1,
		     sizeof *g->labels)) {
		fail(g, PROGEN_ENOMEM);
		return 0;
	}
	g->labels[g->n_labels] = (struct pg_label){-1, 0, 0};
	return g->n_labels++;
}

/* A reachable edge arrives at label l with the current depth. */
static void note_edge(struct gen *g, uint32_t l)
{
	struct pg_label *lb = &g->labels[l];
	if (lb->dead_def || (lb->depth >= 0 && lb->depth != g->depth))
		fail(g, PROGEN_EINTERNAL);
	lb->depth = g->depth;
}

static void emit_jump(struct gen *g, uint8_t op, uint32_t l)
{
	if (g->err || l >= g->n_labels)
		{ fail(g, g->err ? g->err : PROGEN_EINTERNAL); return; }
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	if (oi->operand != VFM_OPND_REL32)
		{ fail(g, PROGEN_EINTERNAL); return; }
	int32_t d0 = g->depth;
	if (account(g, op, 0)) {
		if (g->labels[l].defined)
			g->st.backward_jumps++;
		int32_t save = g->depth;
		g->depth = d0 - oi->pops;
		note_edge(g, l);
		g->depth = save;
	}
	text_insn(g, op);
	char buf[16];
	int k = snprintf(buf, sizeof buf, " L%u\n", l);
	tb_put(g, buf, (size_t)k);
}

/* Jump emitted in unstructured dead code (depth bookkeeping off). */
static void emit_raw_jump(struct gen *g, uint8_t op, uint32_t l)
{
	if (g->reachable)
		{ fail(g, PROGEN_EINTERNAL); return; }
	account(g, op, 1);
	text_insn(g, op);
	char buf[16];
	int k = snprintf(buf, sizeof buf, " L%u\n", l);
	tb_put(g, buf, (size_t)k);
}

static void def_label(struct gen *g, uint32_t l)
{
	if (g->err || l >= g->n_labels)
		{ fail(g, g->err ? g->err : PROGEN_EINTERNAL); return; }
	struct pg_label *lb = &g->labels[l];
	if (lb->defined)
		{ fail(g, PROGEN_EINTERNAL); return; }
	lb->defined = 1;
	if (g->reachable) {
		note_edge(g, l);
	} else if (lb->depth >= 0) {
		/* Reached only by jumps: their depth (the fall-through path
		 * ended, e.g. the first arm of a 0/1 diamond). */
		g->depth = lb->depth;
		g->reachable = 1;
	} else {
		lb->dead_def = 1;
	}
	char buf[16];
	int k = snprintf(buf, sizeof buf, "L%u:\n", l);
	tb_put(g, buf, (size_t)k);
}

/* ---- 4. Operands ---------------------------------------------------------- */

static const uint64_t interesting[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 15, 16, 17, 20, 23, 31, 32, 34, 53, 54, 63, 64,
	65, 80, 127, 128, 255, 256, 443, 1500, 0x800, 0x806, 0x8100, 0x86DD, 0xFFFF,
	0x10000, 0x7FFFFFFF, 0x80000000ull, 0xFFFFFFFFull, 0x100000000ull,
	0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0xFFFFFFFFFFFFFFFEull,
	0xFFFFFFFFFFFFFFFFull,
};
#define N_INTERESTING (sizeof interesting / sizeof interesting[0])

/* A PUSH immediate; *fmt says how to print it. */
static uint64_t gen_const(struct gen *g, int *fmt)
{
	*fmt = 0;
	switch (choose(g, 10)) {
	case 0: case 1: case 2:
		return choose(g, 16);
	case 3: case 4: case 5:
		return interesting[choose(g, N_INTERESTING)];
	case 6:
		return raw_bits(g, 1);
	case 7:
		*fmt = 2; /* an IPv4 address */
		return raw_bits(g, 4);
	case 8: {
		unsigned s = choose(g, 64);
		return (1ull << s) - (uint64_t)choose(g, 3) + 1; /* 2^s - 1 .. 2^s + 1 */
	}
	default:
		*fmt = 1;
		return raw_bits(g, 8);
	}
}

static void push_const(struct gen *g)
{
	int fmt;
	uint64_t v = gen_const(g, &fmt);
	emit_f(g, VFM_OPC_PUSH, v, fmt, 0);
}

static uint32_t gen_verdict(struct gen *g)
{
	switch (choose(g, 6)) {
	case 0: return 0;
	case 1: case 2: return 1;
	case 3: return 0xFFFFFFFFu;
	case 4: return choose(g, 256);
	default: return (uint32_t)raw_bits(g, 4);
	}
}

static const uint32_t header_offsets[] = {
	0, 6, 12, 13, 14, 15, 16, 18, 20, 22, 23, 24, 26, 28, 30, 34, 36, 38, 40, 42, 46, 54,
};
#define N_HEADER_OFFSETS (sizeof header_offsets / sizeof header_offsets[0])

static uint32_t free_scratch(struct gen *g)
{
	uint32_t i = choose(g, PG_SCRATCH);
	for (unsigned k = 0; k < PG_SCRATCH; k++, i = (i + 1) % PG_SCRATCH)
		if (!(g->reserved & (1u << i)))
			return i;
	fail(g, PROGEN_EINTERNAL);
	return 0;
}

static unsigned n_free_scratch(const struct gen *g)
{
	unsigned n = 0;
	for (unsigned i = 0; i < PG_SCRATCH; i++)
		n += !(g->reserved & (1u << i));
	return n;
}

/* Absolute load: below the enclosing length guard (mostly, if any), or at
 * an arbitrary offset. */
static void emit_load_size(struct gen *g, uint8_t op, uint32_t k)
{
	unsigned size = vfm_opinfo[op].size;
	int guarded = k <= g->guard_len && size <= g->guard_len - k;
	if (g->reachable) {
		if (guarded)
			g->st.guarded_loads++;
		else
			g->st.unguarded_loads++;
	}
	emit(g, op, k);
	if (guarded)
		tag_last(g, PROGEN_TAG_GUARDED);
}

static void emit_load(struct gen *g, uint8_t op)
{
	unsigned size = vfm_opinfo[op].size;
	uint32_t k;
	if (g->guard_len >= size && maybe(g, 3, 4)) {
		k = choose(g, g->guard_len - size + 1);
	} else {
		/* Far offsets end every packet (BOUNDS), so they stay out of
		 * code whose continuation matters (must_fall); deep ones end
		 * most packets, so they are rarer there. */
		static const uint16_t w_any[4] = {6, 5, 3, 1}, w_main[4] = {8, 7, 1, 0};
		unsigned c = wpick(g, g->must_fall ? w_main : w_any, 4, NULL);
		if (c == 0) {
			k = header_offsets[choose(g, N_HEADER_OFFSETS)];
		} else if (c == 1) {
			k = choose(g, 64);
		} else if (c == 2) {
			k = choose(g, g->must_fall ? 256 : 1600);
		} else {
			static const uint32_t far[] = {0xFFFFFFFFu, 0xFFFFFFFEu, 0x80000000u,
						       65535, 65536, 9000};
			g->end_hint = 1;
			k = maybe(g, 1, 2) ? far[choose(g, 6)] : (uint32_t)raw_bits(g, 4);
		}
	}
	emit_load_size(g, op, k);
}

/* A load of the given size class at a guarded offset (guard_len >= 1). */
static void emit_guarded_load(struct gen *g)
{
	uint8_t c[256];
	unsigned n = 0;
	for (unsigned i = 0; i < g->T.n_load; i++)
		if (vfm_opinfo[g->T.load[i]].size <= g->guard_len)
			c[n++] = g->T.load[i];
	if (!n)
		{ fail(g, PROGEN_EINTERNAL); return; }
	uint8_t op = c[choose(g, n)];
	unsigned size = vfm_opinfo[op].size;
	emit_load_size(g, op, choose(g, g->guard_len - size + 1));
}

static uint32_t gen_loadx_k(struct gen *g)
{
	switch (choose(g, 6)) {
	case 0: case 1: case 2: return choose(g, 16);
	case 3: return header_offsets[choose(g, N_HEADER_OFFSETS)];
	case 4: return choose(g, 256);
	default: /* k alone may put the load out of reach of any packet */
		if (g->must_fall)
			return 0x10000u + choose(g, 0x10000);
		return maybe(g, 1, 2) ? 0xFFFFFFFFu : (uint32_t)raw_bits(g, 4);
	}
}

/* Emit any non-jump opcode with an operand suited to it. */
static void emit_op(struct gen *g, uint8_t op)
{
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	switch ((enum vfm_operand_kind)oi->operand) {
	case VFM_OPND_NONE:
		emit0(g, op);
		return;
	case VFM_OPND_U8:
		/* A U8 op that pushes without popping reads scratch (LDM); any
		 * other may write it, so it keeps off reserved words. */
		emit(g, op, oi->pops == 0 && oi->pushes == 1 ? choose(g, PG_SCRATCH)
							   : free_scratch(g));
		return;
	case VFM_OPND_U32:
		if (oi->cls == VFM_CLASS_LOAD)
			emit_load(g, op);
		else if (oi->cls == VFM_CLASS_LOADX)
			emit(g, op, gen_loadx_k(g));
		else if (oi->cls == VFM_CLASS_RET)
			emit(g, op, gen_verdict(g));
		else
			emit(g, op, raw_bits(g, 4));
		return;
	case VFM_OPND_U64:
		if (op == VFM_OPC_PUSH) {
			push_const(g);
		} else {
			emit_f(g, op, raw_bits(g, 8), 1, 0);
		}
		return;
	case VFM_OPND_REL32:
		break;
	}
	fail(g, PROGEN_EINTERNAL);
}

/* ---- 5. Expressions: push exactly one value --------------------------------- */

static void gen_expr(struct gen *g, unsigned level);

/* The operand of an indexed load (LOADX class): mostly masked to 16 bits
 * so that the load may succeed; a raw value (often huge: always out of
 * bounds) only where the code after may die.  At most exprmax[level] + 2
 * instructions. */
static void gen_index(struct gen *g, unsigned level)
{
	if (!g->must_fall && maybe(g, 1, 4)) {
		gen_expr(g, level);
		g->end_hint = 1;
		return;
	}
	if (headroom(g) >= 2 && maybe(g, 3, 4)) {
		gen_expr(g, level);
		emit(g, VFM_OPC_PUSH, (1ull << choose(g, 17)) - 1);
		emit0(g, VFM_OPC_AND);
		return;
	}
	emit_load(g, maybe(g, 1, 2) ? VFM_OPC_LD8 : VFM_OPC_LD16);
}

/* The operands of op (its pops), then op. */
static void gen_apply(struct gen *g, uint8_t op, unsigned level)
{
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	if (oi->cls == VFM_CLASS_LOADX && oi->pops == 1)
		gen_index(g, level);
	else
		for (unsigned i = 0; i < oi->pops; i++)
			gen_expr(g, level);
	emit_op(g, op);
}

/* One instruction, net +1: any table leaf, or DUP/OVER copying a value
 * already on the stack (they leave what they read intact). */
static void gen_leaf(struct gen *g)
{
	uint16_t w[256 + 2];
	unsigned n = g->T.n_leaf;
	if (headroom(g) < 1)
		{ fail(g, PROGEN_EINTERNAL); return; }
	for (unsigned i = 0; i < n; i++) {
		uint8_t op = g->T.leaf[i];
		w[i] = op == VFM_OPC_PUSH ? 10 : op == VFM_OPC_LDM ? 3
		       : vfm_opinfo[op].cls == VFM_CLASS_LOAD ? 2 : 1;
	}
	w[n] = g->depth >= 1 ? 1 : 0;     /* DUP */
	w[n + 1] = g->depth >= 2 ? 1 : 0; /* OVER */
	unsigned k = wpick(g, w, n + 2, NULL);
	if (k == n)
		emit0(g, VFM_OPC_DUP);
	else if (k == n + 1)
		emit0(g, VFM_OPC_OVER);
	else
		emit_op(g, g->T.leaf[k]);
}

/* Offset value with a small known bound (for guarded indexed loads);
 * headroom >= 2. */
static void gen_bounded_offset(struct gen *g, unsigned level)
{
	switch (choose(g, 5)) {
	case 0: case 1: /* IPv4 header length: (LD8 14 & 15) * 4 [+ 14] */
		emit_load_size(g, VFM_OPC_LD8, maybe(g, 1, 4) ? 18 : 14);
		emit(g, VFM_OPC_PUSH, 15);
		emit0(g, VFM_OPC_AND);
		if (maybe(g, 1, 2)) {
			emit(g, VFM_OPC_PUSH, 4);
			emit0(g, VFM_OPC_MUL);
		} else {
			emit(g, VFM_OPC_PUSH, 2);
			emit0(g, VFM_OPC_SHL);
		}
		if (maybe(g, 1, 2)) {
			emit(g, VFM_OPC_PUSH, 14);
			emit0(g, VFM_OPC_ADD);
		}
		return;
	case 2: /* E & (2^j - 1) */
		gen_expr(g, level ? level - 1 : 0);
		emit(g, VFM_OPC_PUSH, (1ull << choose(g, 13)) - 1);
		emit0(g, VFM_OPC_AND);
		return;
	case 3: /* a packet byte or half-word */
		emit_load(g, maybe(g, 1, 3) ? VFM_OPC_LD16 : VFM_OPC_LD8);
		return;
	default: /* (M[i] & 63) << 2 */
		emit(g, VFM_OPC_LDM, choose(g, PG_SCRATCH));
		emit(g, VFM_OPC_PUSH, 63);
		emit0(g, VFM_OPC_AND);
		emit(g, VFM_OPC_PUSH, 2);
		emit0(g, VFM_OPC_SHL);
		return;
	}
}

/* A flow-table key: HASH5, packet fields, constants, scratch, any value.
 * headroom >= 2; at most max(3, exprmax[level]) instructions. */
static void gen_key(struct gen *g, unsigned level)
{
	switch (choose(g, 7)) {
	case 0: emit0(g, VFM_OPC_HASH5); return;
	case 1: emit_load_size(g, VFM_OPC_LD32, maybe(g, 1, 2) ? 26 : 30); return;
	case 2: emit_load(g, VFM_OPC_LD16); return;
	case 3: emit(g, VFM_OPC_PUSH, choose(g, 8)); return;
	case 4: emit(g, VFM_OPC_LDM, choose(g, PG_SCRATCH)); return;
	case 5: /* few distinct keys: collisions, updates, evictions */
		emit0(g, VFM_OPC_HASH5);
		emit(g, VFM_OPC_PUSH, (1u << choose(g, 6)) - 1);
		emit0(g, VFM_OPC_AND);
		return;
	default: gen_expr(g, level); return;
	}
}

/* A value that depends on the packet, the flow table or the time, so that a
 * condition on it is not decided by constants alone.  Same size bound as
 * gen_expr of the same level. */
static void gen_data(struct gen *g, unsigned level)
{
	const struct pg_tables *T = &g->T;
	int hr2 = headroom(g) >= 2;
	switch (choose(g, 7)) {
	case 0: case 1:
		emit_load(g, T->load[choose(g, T->n_load)]);
		return;
	case 2:
		emit0(g, VFM_OPC_LEN);
		return;
	case 3:
		emit0(g, maybe(g, 1, 2) ? VFM_OPC_HASH5 : VFM_OPC_TS);
		return;
	case 4:
		if (level && hr2) {
			gen_key(g, level - 1);
			emit0(g, VFM_OPC_FLOW_LOAD);
			return;
		}
		break;
	default:
		if (level && hr2) {
			gen_data(g, level - 1);
			gen_expr(g, level - 1);
			emit_op(g, T->binary[choose(g, T->n_binary)]);
			return;
		}
		break;
	}
	emit_load(g, T->load[choose(g, T->n_load)]);
}

enum { EX_LEAF, EX_UNARY, EX_BINARY, EX_SHUFFLE, EX_IHL, EX_LOADX, EX_FLOWLOAD, EX_BOOL,
       EX_GENERIC, EX_COUNT };

static void gen_expr(struct gen *g, unsigned level)
{
	const struct pg_tables *T = &g->T;
	int32_t hr = headroom(g), d0 = g->depth;
	uint32_t n0 = g->n;
	if (g->err)
		return;
	if (hr < 1)
		{ fail(g, PROGEN_EINTERNAL); return; }
	uint16_t w[EX_COUNT] = {10, 0};
	uint8_t gen_ok[256];
	unsigned n_gen = 0;
	if (level > 0) {
		w[EX_UNARY] = T->n_unary ? 3 : 0;
		w[EX_BINARY] = hr >= 2 && T->n_binary ? 6 : 0;
		w[EX_SHUFFLE] = hr >= 3 && T->n_binary ? 1 : 0;
		w[EX_IHL] = hr >= 2 ? 1 : 0;
		w[EX_LOADX] = hr >= 2 && T->n_loadx ? 2 : 0;
		w[EX_FLOWLOAD] = hr >= 2 ? 1 : 0;
		w[EX_BOOL] = hr >= 2 && T->n_jcc ? 1 : 0;
		for (unsigned i = 0; i < T->n_generic; i++) {
			const struct vfm_opinfo *oi = &vfm_opinfo[T->generic[i]];
			if (oi->pushes >= 1 && (oi->pushes == 1 || T->n_binary) &&
			    (int32_t)oi->pops <= hr && (int32_t)oi->pushes <= hr)
				gen_ok[n_gen++] = T->generic[i];
		}
		w[EX_GENERIC] = n_gen ? 2 : 0;
	}
	unsigned sub = level ? level - 1 : 0;
	static const uint16_t small[EX_COUNT] = {10, 2, 2};
	switch (wpick(g, w, EX_COUNT, g->tight ? small : NULL)) {
	case EX_LEAF:
		gen_leaf(g);
		break;
	case EX_UNARY:
		gen_apply(g, T->unary[choose(g, T->n_unary)], sub);
		break;
	case EX_BINARY:
		gen_expr(g, sub);
		gen_expr(g, sub);
		emit_op(g, T->binary[choose(g, T->n_binary)]);
		break;
	case EX_SHUFFLE:
		switch (choose(g, 3)) {
		case 0: /* b a -> a b -> a OP b */
			gen_expr(g, sub);
			gen_expr(g, sub);
			emit0(g, VFM_OPC_SWAP);
			break;
		case 1: /* a -> a a -> a OP a */
			gen_expr(g, sub);
			emit0(g, VFM_OPC_DUP);
			break;
		default: /* a b -> a b a -> a (b OP a) -> ... */
			gen_expr(g, sub);
			gen_expr(g, sub);
			emit0(g, VFM_OPC_OVER);
			emit_op(g, T->binary[choose(g, T->n_binary)]);
			break;
		}
		emit_op(g, T->binary[choose(g, T->n_binary)]);
		break;
	case EX_IHL:
		emit_load_size(g, VFM_OPC_LD8, 14);
		emit(g, VFM_OPC_PUSH, 15);
		emit0(g, VFM_OPC_AND);
		emit(g, VFM_OPC_PUSH, 4);
		emit0(g, VFM_OPC_MUL);
		break;
	case EX_LOADX: {
		uint8_t op = T->loadx[choose(g, T->n_loadx)];
		if (maybe(g, 1, 2)) {
			gen_bounded_offset(g, sub);
		} else {
			gen_index(g, sub);
		}
		emit(g, op, gen_loadx_k(g));
		break;
	}
	case EX_FLOWLOAD:
		gen_key(g, sub);
		emit0(g, VFM_OPC_FLOW_LOAD);
		break;
	case EX_BOOL: { /* a b Jcc -> 0/1 (or two constants) */
		uint32_t lt = new_label(g), le = new_label(g);
		gen_data(g, sub);
		gen_expr(g, sub);
		emit_jump(g, T->jcc[choose(g, T->n_jcc)], lt);
		int32_t dj = g->depth;
		int c01 = maybe(g, 3, 4);
		if (c01) {
			emit(g, VFM_OPC_PUSH, 0);
		} else {
			push_const(g);
		}
		emit_jump(g, VFM_OPC_JMP, le);
		g->depth = dj; /* the second arm starts where the jump left */
		def_label(g, lt);
		if (c01) {
			emit(g, VFM_OPC_PUSH, 1);
		} else {
			push_const(g);
		}
		def_label(g, le);
		break;
	}
	case EX_GENERIC: {
		uint8_t op = gen_ok[choose(g, n_gen)];
		const struct vfm_opinfo *oi = &vfm_opinfo[op];
		gen_apply(g, op, sub);
		for (unsigned i = 1; i < oi->pushes; i++) {
			if (maybe(g, 1, 3))
				emit0(g, VFM_OPC_POP);
			else
				emit_op(g, T->binary[choose(g, T->n_binary)]);
		}
		break;
	}
	}
	if (!g->err && (g->depth != d0 + 1 || g->n - n0 > T->exprmax[level]))
		fail(g, PROGEN_EINTERNAL);
}

/* ---- 6. Statements -------------------------------------------------------- */

static void gen_block(struct gen *g, uint32_t soft, int nested);

/* Drop k values from the top: POP, STM, a fold with a binary op, or a
 * FLOW_STORE of two.  At most k instructions. */
static void dispose(struct gen *g, unsigned k)
{
	while (k > 0 && !g->err) {
		unsigned c = choose(g, k >= 2 ? 6 : 3);
		if (c == 0) {
			emit0(g, VFM_OPC_POP);
			k--;
		} else if (c <= 2) {
			emit(g, VFM_OPC_STM, free_scratch(g));
			k--;
		} else if (c <= 4) {
			emit_op(g, g->T.binary[choose(g, g->T.n_binary)]);
			k--;
		} else {
			emit0(g, VFM_OPC_FLOW_STORE);
			k -= 2;
		}
	}
}

/* Terminator: a RET-class opcode of the table, on computed values, on what
 * is already on the stack, or with an immediate verdict. */
static uint32_t term_cost(const struct gen *g)
{
	return g->T.maxretpops * g->T.exprmax[g->c.level] + 1;
}

static void gen_term(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	uint16_t w[256];
	int big = room(g) >= (int64_t)term_cost(g);
	for (unsigned i = 0; i < T->n_rets; i++) {
		const struct vfm_opinfo *oi = &vfm_opinfo[T->rets[i]];
		int can_push = big && headroom(g) >= (int32_t)oi->pops;
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
	uint8_t op = T->rets[order[wpick(g, wo, n, pref)]];
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	int can_push = big && headroom(g) >= (int32_t)oi->pops;
	int use_existing = g->depth >= (int32_t)oi->pops && (!can_push || maybe(g, 1, 4));
	if (!use_existing)
		for (unsigned i = 0; i < oi->pops; i++)
			gen_expr(g, g->c.level);
	emit_op(g, op);
	/* The path ends here; code that follows (dead) continues at the
	 * depth the enclosing structure expects. */
	g->depth = d0;
}

/* Two values for a conditional jump; at most 2m + 6 instructions,
 * headroom >= 2.  Returns the opcode to use (a JCC of the table). */
static uint8_t gen_cond(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	unsigned L = g->c.level;
	uint8_t jop = T->jcc[choose(g, T->n_jcc)];
	switch (choose(g, 8)) {
	case 0: case 1: case 2:
		if (maybe(g, 1, 2)) {
			gen_expr(g, L);
			gen_data(g, L);
		} else {
			gen_data(g, L);
			gen_expr(g, L);
		}
		break;
	case 3: /* compare a copy kept in scratch (value identities) */
		gen_data(g, L);
		emit0(g, VFM_OPC_DUP);
		emit(g, VFM_OPC_STM, free_scratch(g));
		gen_expr(g, L);
		break;
	case 4:
		emit0(g, VFM_OPC_LEN);
		emit(g, VFM_OPC_PUSH, maybe(g, 1, 2) ? interesting[choose(g, 32)] : choose(g, 1600));
		break;
	case 5:
		emit_load_size(g, VFM_OPC_LD16, 12);
		emit(g, VFM_OPC_PUSH, maybe(g, 1, 2) ? 0x800 : 0x86DD);
		break;
	case 6:
		gen_key(g, L);
		emit0(g, VFM_OPC_FLOW_LOAD);
		push_const(g);
		break;
	default:
		emit(g, VFM_OPC_LDM, choose(g, PG_SCRATCH));
		push_const(g);
		break;
	}
	return jop;
}

static void st_ops(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	uint8_t ok[256];
	unsigned n = 0;
	int32_t hr = headroom(g);
	for (unsigned i = 0; i < T->n_generic; i++) {
		const struct vfm_opinfo *oi = &vfm_opinfo[T->generic[i]];
		if ((int32_t)oi->pops <= hr && (int32_t)oi->pushes <= hr)
			ok[n++] = T->generic[i];
	}
	if (!n)
		{ fail(g, PROGEN_EINTERNAL); return; }
	uint8_t op = ok[choose(g, n)];
	gen_apply(g, op, g->c.level);
	dispose(g, vfm_opinfo[op].pushes);
}

static void st_scratch(struct gen *g)
{
	unsigned L = g->c.level;
	int hr2 = headroom(g) >= 2;
	switch (hr2 ? choose(g, 4) : 0) {
	case 0: case 1:
		gen_expr(g, L);
		emit(g, VFM_OPC_STM, free_scratch(g));
		break;
	case 2: /* one value into two words */
		gen_expr(g, L);
		emit0(g, VFM_OPC_DUP);
		emit(g, VFM_OPC_STM, free_scratch(g));
		emit(g, VFM_OPC_STM, free_scratch(g));
		break;
	default: { /* M[i] = M[i] OP E */
		uint32_t i = free_scratch(g);
		emit(g, VFM_OPC_LDM, i);
		gen_expr(g, L);
		emit_op(g, g->T.binary[choose(g, g->T.n_binary)]);
		emit(g, VFM_OPC_STM, i);
		break;
	}
	}
}

/* Soft budget of a nested body (seeded runs only; no decision). */
static uint32_t part(struct gen *g, uint32_t soft, unsigned num, unsigned den)
{
	if (g->bytes_mode)
		return 0;
	uint64_t s = (uint64_t)soft * num / den;
	return (uint32_t)(s ? prng(g) % (s + 1) : 0);
}

static void body(struct gen *g, uint32_t soft, int must_fall)
{
	int saved = g->must_fall;
	g->must_fall = must_fall;
	g->nest++;
	gen_block(g, soft, 1);
	g->nest--;
	g->must_fall = saved;
}

static void st_branch(struct gen *g, uint32_t soft)
{
	uint32_t lend = new_label(g);
	int has_else = maybe(g, 2, 3);
	comment(g, "if%s", has_else ? "/else" : "");
	g->P += 1; /* the JMP over the then-part */
	uint8_t jop = gen_cond(g);
	if (!has_else) {
		emit_jump(g, jop, lend);
		body(g, soft > 4 ? soft - 4 : 0, 0);
		g->P -= 1;
	} else {
		uint32_t lthen = new_label(g);
		emit_jump(g, jop, lthen);
		uint32_t s1 = part(g, soft, 1, 1);
		body(g, s1, 0);
		g->P -= 1;
		int ended = !g->reachable; /* then Lend needs the then-part */
		emit_jump(g, VFM_OPC_JMP, lend);
		def_label(g, lthen);
		body(g, soft > s1 + 5 ? soft - s1 - 5 : 0, g->must_fall && ended);
	}
	def_label(g, lend);
}

/* Predicate "v != 0" on the value on top (consumed), jumping to l. */
static void jump_if_nonzero(struct gen *g, uint32_t l)
{
	switch (choose(g, 6)) {
	case 0: emit(g, VFM_OPC_PUSH, 0); emit_jump(g, VFM_OPC_JNE, l); break;
	case 1: emit(g, VFM_OPC_PUSH, 0); emit_jump(g, VFM_OPC_JGT, l); break;
	case 2: emit(g, VFM_OPC_PUSH, 0); emit0(g, VFM_OPC_SWAP); emit_jump(g, VFM_OPC_JLT, l); break;
	case 3: emit(g, VFM_OPC_PUSH, 1); emit_jump(g, VFM_OPC_JGE, l); break;
	case 4: emit(g, VFM_OPC_PUSH, 1); emit0(g, VFM_OPC_SWAP); emit_jump(g, VFM_OPC_JLE, l); break;
	default: emit_f(g, VFM_OPC_PUSH, ~0ull, 1, 0); emit_jump(g, VFM_OPC_JSET, l); break;
	}
}

/* Predicate "v < n" on the value on top (consumed), v counting up from 1. */
static void jump_if_below(struct gen *g, uint64_t n, uint32_t l)
{
	switch (choose(g, 5)) {
	case 0: emit(g, VFM_OPC_PUSH, n); emit_jump(g, VFM_OPC_JLT, l); break;
	case 1: emit(g, VFM_OPC_PUSH, n); emit0(g, VFM_OPC_SWAP); emit_jump(g, VFM_OPC_JGT, l); break;
	case 2: emit(g, VFM_OPC_PUSH, n); emit_jump(g, VFM_OPC_JNE, l); break;
	case 3: emit(g, VFM_OPC_PUSH, n - 1); emit_jump(g, VFM_OPC_JLE, l); break;
	default: emit(g, VFM_OPC_PUSH, n - 1); emit0(g, VFM_OPC_SWAP); emit_jump(g, VFM_OPC_JGE, l); break;
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
	return 1 + choose_v(g, max, g->bytes_mode ? 0 : (uint32_t)(prng(g) % max));
}

/* Bounded loops.  Forms 0-2 keep the counter in a reserved scratch word,
 * 3-4 on the stack (the body runs one deeper and never touches it). */
static void st_loop(struct gen *g, uint32_t soft)
{
	int32_t d = g->depth;
	int sc = n_free_scratch(g) > 0 && headroom(g) >= 2;
	int st = headroom(g) >= 3;
	uint16_t w[5] = {(uint16_t)(sc ? 3 : 0), (uint16_t)(sc ? 2 : 0), (uint16_t)(sc ? 2 : 0),
			 (uint16_t)(st ? 2 : 0), (uint16_t)(st ? 1 : 0)};
	unsigned form = wpick(g, w, 5, NULL);
	uint32_t N = loop_count(g);
	uint32_t lh = new_label(g), lb = new_label(g);
	int counted = g->reachable;
	uint32_t bsoft = soft > 12 ? soft - 12 : 0;
	g->P += 10;
	if (form <= 2) {
		uint32_t c = free_scratch(g);
		g->reserved |= 1u << c;
		comment(g, "loop %u times, counter M[%u] (%s)", N, c,
			form == 0 ? "down" : form == 1 ? "up" : "while");
		emit(g, VFM_OPC_PUSH, form == 1 ? 0 : N);
		emit(g, VFM_OPC_STM, c);
		def_label(g, lh);
		if (form == 2) {
			switch (choose(g, 3)) {
			case 0:
				emit(g, VFM_OPC_LDM, c);
				emit(g, VFM_OPC_PUSH, 0);
				emit_jump(g, VFM_OPC_JEQ, lb);
				break;
			case 1:
				emit(g, VFM_OPC_LDM, c);
				emit(g, VFM_OPC_PUSH, 1);
				emit_jump(g, VFM_OPC_JLT, lb);
				break;
			default:
				emit(g, VFM_OPC_PUSH, 0);
				emit(g, VFM_OPC_LDM, c);
				emit_jump(g, VFM_OPC_JGE, lb);
				break;
			}
		}
		loop_push(g, lb, d, lh, d, 0);
		body(g, bsoft, g->must_fall);
		g->P -= 10;
		emit(g, VFM_OPC_LDM, c);
		emit(g, VFM_OPC_PUSH, 1);
		emit0(g, form == 1 ? VFM_OPC_ADD : VFM_OPC_SUB);
		if (form == 2) {
			emit(g, VFM_OPC_STM, c);
			emit_jump(g, VFM_OPC_JMP, lh);
		} else {
			emit0(g, VFM_OPC_DUP);
			emit(g, VFM_OPC_STM, c);
			if (form == 0)
				jump_if_nonzero(g, lh);
			else
				jump_if_below(g, N, lh);
		}
		loop_pop(g, counted);
		def_label(g, lb);
		g->reserved &= ~(1u << c);
	} else {
		comment(g, "loop %u times, counter on the stack (%s)", N,
			form == 3 ? "do-while" : "while");
		emit(g, VFM_OPC_PUSH, N);
		def_label(g, lh);
		if (form == 4) {
			emit0(g, VFM_OPC_DUP);
			emit(g, VFM_OPC_PUSH, 0);
			emit_jump(g, VFM_OPC_JEQ, lb);
		}
		loop_push(g, lb, d + 1, lh, d + 1, 0);
		body(g, bsoft, g->must_fall);
		g->P -= 10;
		emit(g, VFM_OPC_PUSH, 1);
		emit0(g, VFM_OPC_SUB);
		if (form == 4) {
			emit_jump(g, VFM_OPC_JMP, lh);
		} else {
			emit0(g, VFM_OPC_DUP);
			jump_if_nonzero(g, lh);
		}
		loop_pop(g, counted);
		def_label(g, lb);
		emit0(g, VFM_OPC_POP);
	}
}

/* Loops whose end depends on data, or on nothing: the budget ends them. */
static void st_budget_loop(struct gen *g, uint32_t soft)
{
	unsigned L = g->c.level;
	int32_t d = g->depth;
	int sc = n_free_scratch(g) > 0;
	uint16_t w[4] = {2, (uint16_t)(sc ? 2 : 0), 1, 2};
	unsigned form = wpick(g, w, 4, NULL);
	uint32_t lh = new_label(g), lb = new_label(g);
	int counted = g->reachable;
	uint32_t bsoft = soft > 12 ? soft - 12 : 0;
	uint32_t tail = g->T.exprmax[L] + 10;
	g->P += tail;
	switch (form) {
	case 0: /* forever, maybe with a data-dependent exit at the top */
		comment(g, "loop until the budget ends%s", "");
		def_label(g, lh);
		if (!maybe(g, 1, 4))
			emit_jump(g, gen_cond(g), lb);
		loop_push(g, lb, d, lh, d, 1);
		body(g, bsoft, g->must_fall);
		g->P -= tail;
		emit_jump(g, VFM_OPC_JMP, lh);
		break;
	case 1: { /* counter stepped by a data-dependent amount (may be 0) */
		uint32_t c = free_scratch(g);
		g->reserved |= 1u << c;
		comment(g, "loop on M[%u] with a data-dependent step", c);
		emit(g, VFM_OPC_PUSH, loop_count(g));
		emit(g, VFM_OPC_STM, c);
		def_label(g, lh);
		loop_push(g, lb, d, lh, d, 1);
		body(g, bsoft, g->must_fall);
		g->P -= tail;
		emit(g, VFM_OPC_LDM, c);
		switch (choose(g, 4)) {
		case 0: gen_expr(g, L); emit(g, VFM_OPC_PUSH, 1); emit0(g, VFM_OPC_AND); break;
		case 1: emit_load(g, VFM_OPC_LD8); emit(g, VFM_OPC_PUSH, 3); emit0(g, VFM_OPC_AND); break;
		case 2: emit(g, VFM_OPC_PUSH, choose(g, 3)); break;
		default: emit0(g, VFM_OPC_TS); emit(g, VFM_OPC_PUSH, 1); emit0(g, VFM_OPC_AND); break;
		}
		emit0(g, VFM_OPC_SUB);
		emit0(g, VFM_OPC_DUP);
		emit(g, VFM_OPC_STM, c);
		jump_if_nonzero(g, lh);
		g->reserved &= ~(1u << c);
		break;
	}
	case 2: { /* a stack counter far too large (or 0, which wraps) */
		static const uint64_t huge[] = {0, 1ull << 32, 1ull << 63, ~0ull, 100000};
		comment(g, "loop with a huge stack counter%s", "");
		emit_f(g, VFM_OPC_PUSH, huge[choose(g, 5)], 1, 0);
		def_label(g, lh);
		loop_push(g, lb, d + 1, lh, d + 1, 1);
		body(g, bsoft, g->must_fall);
		g->P -= tail;
		emit(g, VFM_OPC_PUSH, 1);
		emit0(g, VFM_OPC_SUB);
		emit0(g, VFM_OPC_DUP);
		jump_if_nonzero(g, lh);
		break;
	}
	default: /* repeat while a packet-dependent value differs */
		comment(g, "loop while a value differs%s", "");
		def_label(g, lh);
		loop_push(g, lb, d, lh, d, 1);
		body(g, bsoft, g->must_fall);
		g->P -= tail;
		gen_data(g, L);
		push_const(g);
		emit_jump(g, g->T.jcc[choose(g, g->T.n_jcc)], lh);
		break;
	}
	loop_pop(g, counted);
	def_label(g, lb);
	if (form == 2)
		emit0(g, VFM_OPC_POP);
	g->end_hint = 1;
}

static uint32_t guard_length(struct gen *g)
{
	static const uint32_t hdr[] = {14, 15, 18, 20, 22, 24, 28, 34, 38, 42, 54, 58, 60, 64, 74, 78};
	switch (choose(g, 6)) {
	case 0: return 1 + choose(g, 16);
	case 1: case 2: case 3: return hdr[choose(g, 16)];
	case 4: return 1 + choose(g, 1600);
	default: return maybe(g, 1, 2) ? 65535 : 1 + (uint32_t)(raw_bits(g, 4) % 0xFFFFFFFFu);
	}
}

/* Loads, then a block, below a covering length check. */
static void guarded_part(struct gen *g, uint32_t n, uint32_t soft, int must_fall)
{
	uint32_t old = g->guard_len;
	g->guard_len = n > old ? n : old;
	unsigned k = 1 + choose(g, 3);
	for (unsigned i = 0; i < k; i++) {
		emit_guarded_load(g);
		if (maybe(g, 1, 2))
			emit0(g, VFM_OPC_POP);
		else
			emit(g, VFM_OPC_STM, free_scratch(g));
	}
	body(g, soft, must_fall);
	g->guard_len = old;
}

static void st_guard(struct gen *g, uint32_t soft)
{
	uint32_t n = guard_length(g);
	uint32_t lskip = new_label(g);
	unsigned form = choose(g, 7);
	uint32_t tail = term_cost(g) + 2;
	comment(g, "length guard: %u bytes", n);
	g->P += tail;
	switch (form) {
	case 0: case 1: /* LEN n JLT skip */
		emit0(g, VFM_OPC_LEN);
		emit(g, VFM_OPC_PUSH, n);
		emit_jump(g, VFM_OPC_JLT, lskip);
		g->P -= tail;
		guarded_part(g, n, soft, 0);
		break;
	case 2: /* n LEN JGT skip */
		emit(g, VFM_OPC_PUSH, n);
		emit0(g, VFM_OPC_LEN);
		emit_jump(g, VFM_OPC_JGT, lskip);
		g->P -= tail;
		guarded_part(g, n, soft, 0);
		break;
	case 3: /* LEN n-1 JLE skip, with a copy of LEN in scratch */
		emit0(g, VFM_OPC_LEN);
		if (maybe(g, 1, 2)) {
			emit0(g, VFM_OPC_DUP);
			emit(g, VFM_OPC_STM, free_scratch(g));
		}
		emit(g, VFM_OPC_PUSH, n - 1);
		emit_jump(g, VFM_OPC_JLE, lskip);
		g->P -= tail;
		guarded_part(g, n, soft, 0);
		break;
	case 4: { /* LEN n JGE ok; short path; JMP end; ok: guarded */
		uint32_t lok = new_label(g);
		emit0(g, VFM_OPC_LEN);
		emit(g, VFM_OPC_PUSH, n);
		emit_jump(g, VFM_OPC_JGE, lok);
		uint32_t s1 = part(g, soft, 1, 3);
		body(g, s1, 0);
		g->P -= tail;
		int ended = !g->reachable;
		emit_jump(g, VFM_OPC_JMP, lskip);
		def_label(g, lok);
		guarded_part(g, n, soft > s1 ? soft - s1 : 0, g->must_fall && ended);
		break;
	}
	default: { /* early return when too short */
		uint32_t lok = new_label(g);
		if (form == 5) {
			emit0(g, VFM_OPC_LEN);
			emit(g, VFM_OPC_PUSH, n);
			emit_jump(g, VFM_OPC_JGE, lok);
		} else {
			emit(g, VFM_OPC_PUSH, n);
			emit0(g, VFM_OPC_LEN);
			emit_jump(g, VFM_OPC_JLE, lok);
		}
		g->P -= tail;
		gen_term(g);
		def_label(g, lok);
		guarded_part(g, n, soft, g->must_fall);
		break;
	}
	}
	def_label(g, lskip);
}

/* Indexed loads at a computed offset, behind "offset + k + size <= LEN". */
static void st_indexed(struct gen *g, uint32_t soft)
{
	const struct pg_tables *T = &g->T;
	uint32_t c = 8 + choose(g, 64); /* covered bytes past the offset */
	uint32_t lskip = new_label(g);
	int use_stack = n_free_scratch(g) == 0 || maybe(g, 1, 3);
	gen_bounded_offset(g, g->c.level);
	if (use_stack) { /* off DUP c ADD LEN JGT pop; LDxX; ...; pop: POP */
		uint32_t lpop = new_label(g);
		comment(g, "indexed load, offset on the stack, %u bytes covered", c);
		emit0(g, VFM_OPC_DUP);
		emit(g, VFM_OPC_PUSH, c);
		emit0(g, VFM_OPC_ADD);
		emit0(g, VFM_OPC_LEN);
		emit_jump(g, VFM_OPC_JGT, lpop);
		uint8_t op = T->loadx[choose(g, T->n_loadx)];
		unsigned size = vfm_opinfo[op].size;
		if (size <= c) {
			if (g->reachable)
				g->st.guarded_indexed++;
			emit(g, op, choose(g, c - size + 1));
			tag_last(g, PROGEN_TAG_GUARDED);
		} else {
			emit(g, op, gen_loadx_k(g));
		}
		dispose(g, 1);
		emit_jump(g, VFM_OPC_JMP, lskip);
		g->depth++; /* the offset is still there on the jump's path */
		def_label(g, lpop);
		emit0(g, VFM_OPC_POP);
		def_label(g, lskip);
		return;
	}
	uint32_t t = free_scratch(g);
	g->reserved |= 1u << t;
	comment(g, "indexed loads at M[%u], %u bytes covered", t, c);
	emit(g, VFM_OPC_STM, t);
	switch (choose(g, 4)) {
	case 0: /* t c ADD LEN JGT skip */
		emit(g, VFM_OPC_LDM, t);
		emit(g, VFM_OPC_PUSH, c);
		emit0(g, VFM_OPC_ADD);
		emit0(g, VFM_OPC_LEN);
		emit_jump(g, VFM_OPC_JGT, lskip);
		break;
	case 1: /* LEN t c ADD JLT skip */
		emit0(g, VFM_OPC_LEN);
		emit(g, VFM_OPC_LDM, t);
		emit(g, VFM_OPC_PUSH, c);
		emit0(g, VFM_OPC_ADD);
		emit_jump(g, VFM_OPC_JLT, lskip);
		break;
	case 2: /* t c ADD LEN SWAP JLT skip */
		emit(g, VFM_OPC_LDM, t);
		emit(g, VFM_OPC_PUSH, c);
		emit0(g, VFM_OPC_ADD);
		emit0(g, VFM_OPC_LEN);
		emit0(g, VFM_OPC_SWAP);
		emit_jump(g, VFM_OPC_JLT, lskip);
		break;
	default: { /* t c ADD LEN JLE ok; JMP skip; ok: */
		uint32_t lok = new_label(g);
		emit(g, VFM_OPC_LDM, t);
		emit(g, VFM_OPC_PUSH, c);
		emit0(g, VFM_OPC_ADD);
		emit0(g, VFM_OPC_LEN);
		emit_jump(g, VFM_OPC_JLE, lok);
		emit_jump(g, VFM_OPC_JMP, lskip);
		def_label(g, lok);
		break;
	}
	}
	unsigned k = 1 + choose(g, 3);
	for (unsigned i = 0; i < k; i++) {
		uint8_t op = T->loadx[choose(g, T->n_loadx)];
		unsigned size = vfm_opinfo[op].size;
		emit(g, VFM_OPC_LDM, t);
		if (size > c) { /* a size the check does not cover */
			emit(g, op, gen_loadx_k(g));
		} else {
			if (g->reachable)
				g->st.guarded_indexed++;
			emit(g, op, choose(g, c - size + 1));
			tag_last(g, PROGEN_TAG_GUARDED);
		}
		dispose(g, 1);
	}
	body(g, soft > 16 ? soft - 16 : 0, 0);
	g->reserved &= ~(1u << t);
	def_label(g, lskip);
}

static void st_flow(struct gen *g)
{
	unsigned L = g->c.level;
	switch (choose(g, 4)) {
	case 0:
		comment(g, "flow store%s", "");
		gen_key(g, L);
		gen_expr(g, L);
		break;
	case 1:
		comment(g, "flow counter += 1%s", "");
		gen_key(g, L);
		emit0(g, VFM_OPC_DUP);
		emit0(g, VFM_OPC_FLOW_LOAD);
		emit(g, VFM_OPC_PUSH, 1);
		emit0(g, VFM_OPC_ADD);
		break;
	case 2:
		comment(g, "flow store of the timestamp%s", "");
		gen_key(g, L);
		emit0(g, VFM_OPC_TS);
		break;
	default:
		comment(g, "flow update%s", "");
		gen_key(g, L);
		emit0(g, VFM_OPC_DUP);
		emit0(g, VFM_OPC_FLOW_LOAD);
		gen_expr(g, L > 1 ? L - 1 : 0);
		emit_op(g, g->T.binary[choose(g, g->T.n_binary)]);
		break;
	}
	emit0(g, VFM_OPC_FLOW_STORE);
}

static void st_deep(struct gen *g, uint32_t soft)
{
	int32_t hr = headroom(g);
	int64_t r = room(g);
	uint32_t kmax = (uint32_t)(r - 4) / 2;
	if ((uint32_t)hr < kmax)
		kmax = (uint32_t)hr;
	uint32_t k;
	if (kmax == (uint32_t)hr && maybe(g, 1, 6)) {
		k = kmax; /* exactly to the limit */
	} else {
		uint32_t want = 0;
		if (!g->bytes_mode) {
			uint32_t cap = soft / 3 > 8 ? soft / 3 : 8;
			cap = cap < kmax ? cap : kmax;
			want = (uint32_t)(prng(g) % cap);
		}
		k = 1 + choose_v(g, kmax, want);
	}
	comment(g, "deep stack: %u more values (depth %d)", k, g->depth + (int32_t)k);
	for (uint32_t i = 0; i < k; i++)
		gen_leaf(g);
	g->P += k;
	body(g, soft > 2 * k ? soft - 2 * k : 0, g->must_fall);
	g->P -= k;
	dispose(g, k);
}

static void st_early_ret(struct gen *g)
{
	uint32_t l = new_label(g);
	comment(g, "early return%s", "");
	emit_jump(g, gen_cond(g), l);
	gen_term(g);
	def_label(g, l);
}

static void st_break(struct gen *g)
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
	uint32_t c = cand[choose(g, n)];
	struct pg_loop *lp = &g->loops[c / 2];
	int is_cont = c & 1;
	if (is_cont)
		lp->budget = 1;
	uint32_t l = is_cont ? lp->cont : lp->brk;
	comment(g, "%s", is_cont ? "continue" : "break");
	/* An unconditional continue would leave the loop no way out. */
	if (!(is_cont && g->must_fall) && maybe(g, 1, 6))
		emit_jump(g, VFM_OPC_JMP, l);
	else
		emit_jump(g, gen_cond(g), l);
}

static void st_dead(struct gen *g)
{
	const struct pg_tables *T = &g->T;
	uint32_t l = new_label(g);
	comment(g, "unreachable%s", "");
	emit_jump(g, VFM_OPC_JMP, l);
	unsigned k = 1 + choose(g, 6);
	for (unsigned i = 0; i < k; i++) {
		uint8_t op = T->any[choose(g, T->n_any)];
		switch ((enum vfm_operand_kind)vfm_opinfo[op].operand) {
		case VFM_OPND_NONE: emit_f(g, op, 0, 0, 1); break;
		case VFM_OPND_U8: emit_f(g, op, choose(g, PG_SCRATCH), 0, 1); break;
		case VFM_OPND_U32: emit_f(g, op, raw_bits(g, 4), 0, 1); break;
		case VFM_OPND_U64: emit_f(g, op, raw_bits(g, 8), 1, 1); break;
		case VFM_OPND_REL32: emit_raw_jump(g, op, l); break;
		}
	}
	def_label(g, l);
}

/* ---- 7. Blocks and programs --------------------------------------------- */

static int structure(unsigned f)
{
	return f == PROGEN_F_BRANCH || f == PROGEN_F_LOOP || f == PROGEN_F_BUDGET_LOOP ||
	       f == PROGEN_F_GUARD || f == PROGEN_F_INDEXED || f == PROGEN_F_DEEP;
}

/* Which statements may start here, and with which weight. */
static int eligible(struct gen *g, uint16_t *w)
{
	uint32_t m = g->T.exprmax[g->c.level];
	int32_t hr = headroom(g);
	int64_t r = room(g);
	int any = 0, can_nest = g->nest < g->c.nesting;
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++) {
		int32_t need_hr = 2;
		int64_t cost;
		int ok = 1;
		switch ((enum progen_feature)f) {
		case PROGEN_F_OPS:
			need_hr = 1;
			cost = (int64_t)max_u32(g->T.maxpops * m, m + 2) + 1 + g->T.maxpushes;
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
		case PROGEN_F_GUARD: cost = term_cost(g) + 20; break;
		case PROGEN_F_INDEXED: need_hr = 3; cost = m + 40; break;
		case PROGEN_F_FLOW: need_hr = 3; cost = 2 * m + 8; break;
		case PROGEN_F_DEEP: need_hr = 1; cost = 6; break;
		case PROGEN_F_EARLY_RET: cost = 2 * m + 7 + term_cost(g); break;
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
		if (structure(f) && !can_nest)
			ok = 0;
		if (f == PROGEN_F_LOOP && hr < 3 && n_free_scratch(g) == 0)
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
		pref[f] = soft < 10 && structure(f) ? 0 : w[f];
	unsigned f = wpick(g, w, PROGEN_F_COUNT, pref);
	g->st.stmts[f]++;
	switch ((enum progen_feature)f) {
	case PROGEN_F_OPS: st_ops(g); break;
	case PROGEN_F_SCRATCH: st_scratch(g); break;
	case PROGEN_F_BRANCH: st_branch(g, soft); break;
	case PROGEN_F_LOOP: st_loop(g, soft); break;
	case PROGEN_F_BUDGET_LOOP: st_budget_loop(g, soft); break;
	case PROGEN_F_GUARD: st_guard(g, soft); break;
	case PROGEN_F_INDEXED: st_indexed(g, soft); break;
	case PROGEN_F_FLOW: st_flow(g); break;
	case PROGEN_F_DEEP: st_deep(g, soft); break;
	case PROGEN_F_EARLY_RET: st_early_ret(g); break;
	case PROGEN_F_BREAK: st_break(g); break;
	case PROGEN_F_DEAD: st_dead(g); break;
	default: fail(g, PROGEN_EINTERNAL); break;
	}
}

/* Soft budget of one statement out of the rest of its block. */
static uint32_t stmt_soft(struct gen *g, uint32_t rem)
{
	if (g->bytes_mode || rem <= 4)
		return rem;
	switch (prng(g) % 8) {
	case 0: return rem;
	case 1: case 2: return 1 + (uint32_t)(prng(g) % rem);
	default: return 1 + (uint32_t)(prng(g) % (rem < 24 ? rem : 24));
	}
}

static void add_span(struct gen *g, size_t cont, size_t start, uint32_t block)
{
	if (grow_buf((void **)&g->spans, &g->cap_spans, g->n_spans + 1, sizeof *g->spans))
		{ fail(g, PROGEN_ENOMEM); return; }
	g->spans[g->n_spans++] = (struct pg_span){cont, start, g->pos, block};
}

static void gen_block(struct gen *g, uint32_t soft, int nested)
{
	uint32_t end = g->n + soft, block = (uint32_t)g->n_blocks;
	int tight0 = g->tight, hint0 = g->end_hint;
	g->end_hint = 0;
	if (g->index_on) {
		if (grow_buf((void **)&g->blocks, &g->cap_blocks, g->n_blocks + 1,
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
		if ((draw(g, 1, want ? 1 : 0) & 3) == 0) {
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
			gen_stmt(g, w, 1 + (uint32_t)(prng(g) % 24));
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
	if (nested && !g->must_fall && !g->err && room(g) >= (int64_t)term_cost(g) &&
	    maybe(g, 1, 10))
		gen_term(g);
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

static void gen_init(struct gen *g, const struct progen_config *cfg)
{
	memset(g, 0, sizeof *g);
	resolve_config(cfg, &g->c);
	tables_init(&g->T);
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

static void gen_free(struct gen *g)
{
	free(g->rec);
	free(g->spans);
	free(g->blocks);
	free(g->choices);
	free(g->txt);
	free(g->labels);
	free(g->tags);
}

static void gen_program(struct gen *g)
{
	if (g->err)
		return;
	if (g->c.comments) {
		char buf[96];
		int k = snprintf(buf, sizeof buf, "; vfm-progen program, target %u instructions\n",
				 g->c.target);
		tb_put(g, buf, (size_t)k);
	}
	g->P = term_cost(g);
	g->must_fall = 1;
	gen_block(g, g->c.target > 3 ? g->c.target - 2 : 0, 0);
	g->P = 0;
	uint32_t left = g->c.target > g->n ? g->c.target - g->n : 0;
	g->tight = left < 2 ? 2 : left < 8 ? 1 : 0;
	gen_term(g);
	if (!g->err && (g->depth != 0 || g->n_loops || g->reserved || g->nest))
		fail(g, PROGEN_EINTERNAL);
	for (uint32_t i = 0; i < g->n_labels && !g->err; i++)
		if (!g->labels[i].defined)
			fail(g, PROGEN_EINTERNAL);
}

/* ---- 8. Public API ------------------------------------------------------- */

void progen_config_init(struct progen_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->target_insns = 64;
	cfg->max_stack = VFM_MAX_STACK;
	cfg->max_loop_iters = 8;
	cfg->max_nesting = 5;
	cfg->expr_depth = 3;
	static const uint8_t defw[PROGEN_F_COUNT] = {
#define PROGEN_FEATURE_W_(e, name, w) w,
		PROGEN_FEATURES(PROGEN_FEATURE_W_)
#undef PROGEN_FEATURE_W_
	};
	memcpy(cfg->weight, defw, sizeof defw);
}

static size_t trim_zeros(const uint8_t *p, size_t n)
{
	while (n && p[n - 1] == 0)
		n--;
	return n;
}

void progen_result_free(struct progen_result *r)
{
	if (!r)
		return;
	free(r->asm_text);
	free(r->choices);
	free(r->tags);
	memset(r, 0, sizeof *r);
}

int progen_run(const struct progen_config *cfg, uint64_t seed, const uint8_t *data, size_t len,
	       unsigned flags, struct progen_result *out)
{
	if (!out)
		return PROGEN_EINVAL;
	memset(out, 0, sizeof *out);
	if ((flags & PROGEN_FROM_BYTES) && !data && len)
		return PROGEN_EINVAL;
	struct gen *g = malloc(sizeof *g);
	if (!g)
		return PROGEN_ENOMEM;
	gen_init(g, cfg);
	if (flags & PROGEN_FROM_BYTES) {
		g->bytes_mode = 1;
		g->data = data;
		g->len = len;
	} else {
		prng_xoshiro_seed(g->rng, seed);
	}
	g->rec_on = (flags & PROGEN_WANT_CHOICES) != 0;
	g->tags_on = (flags & PROGEN_WANT_TAGS) != 0;
	gen_program(g);
	int err = g->err;
	if (!err && !g->txt)
		err = PROGEN_EINTERNAL;
	out->stats = g->st;
	out->consumed = (flags & PROGEN_FROM_BYTES) ? g->pos : 0;
	if (!err) {
		out->asm_text = g->txt;
		g->txt = NULL;
		if (g->tags_on) {
			out->tags = g->tags ? g->tags : calloc(1, 1);
			g->tags = NULL;
			if (!out->tags)
				err = PROGEN_ENOMEM;
		}
		if (g->rec_on) {
			size_t n = trim_zeros(g->rec, g->rec_n);
			out->choices = malloc(n ? n : 1);
			if (!out->choices) {
				err = PROGEN_ENOMEM;
			} else {
				if (n)
					memcpy(out->choices, g->rec, n);
				out->n_choices = n;
			}
		}
	}
	gen_free(g);
	free(g);
	if (err) {
		struct progen_stats st = out->stats;
		progen_result_free(out);
		out->stats = st;
	}
	return err;
}

int progen_generate_ex(const struct progen_config *cfg, uint64_t seed, char **asm_text,
		       struct progen_stats *stats, uint8_t **choices, size_t *n_choices)
{
	if (!asm_text)
		return PROGEN_EINVAL;
	struct progen_result r;
	int err = progen_run(cfg, seed, NULL, 0, choices ? PROGEN_WANT_CHOICES : 0, &r);
	*asm_text = r.asm_text;
	if (stats)
		*stats = r.stats;
	if (choices)
		*choices = r.choices;
	if (n_choices)
		*n_choices = r.n_choices;
	return err;
}

int progen_generate(const struct progen_config *cfg, uint64_t seed, char **asm_text)
{
	return progen_generate_ex(cfg, seed, asm_text, NULL, NULL, NULL);
}

int progen_from_bytes_ex(const struct progen_config *cfg, const uint8_t *data, size_t len,
			 char **asm_text, struct progen_stats *stats, size_t *consumed)
{
	if (!asm_text)
		return PROGEN_EINVAL;
	struct progen_result r;
	int err = progen_run(cfg, 0, data, len, PROGEN_FROM_BYTES, &r);
	*asm_text = r.asm_text;
	if (stats)
		*stats = r.stats;
	if (consumed)
		*consumed = r.consumed;
	return err;
}

int progen_from_bytes(const uint8_t *data, size_t len, char **asm_text)
{
	return progen_from_bytes_ex(NULL, data, len, asm_text, NULL, NULL);
}

vfm_error_t progen_assemble(const char *asm_text, uint8_t **image, size_t *len,
			    vfm_diag_t *diag)
{
	return vfm_assemble(asm_text, strlen(asm_text), "progen.vfm", 1, image, len, diag);
}

/* Decode without text, indexing statements, blocks and decisions. */
static struct gen *index_bytes(const struct progen_config *cfg, const uint8_t *data, size_t len)
{
	struct gen *g = malloc(sizeof *g);
	if (!g)
		return NULL;
	gen_init(g, cfg);
	g->bytes_mode = 1;
	g->data = data;
	g->len = len;
	g->text_on = 0;
	g->index_on = 1;
	gen_program(g);
	if (g->err) {
		gen_free(g);
		free(g);
		return NULL;
	}
	return g;
}

/* Growable byte string for splicing. */
struct bstr {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

static void bs_add(struct bstr *b, const uint8_t *src, size_t src_len, size_t from, size_t to)
{
	if (to <= from)
		return;
	if (grow_buf((void **)&b->p, &b->cap, b->n + (to - from), 1)) {
		b->oom = 1;
		return;
	}
	for (size_t i = from; i < to; i++) /* past the end reads as 0 */
		b->p[b->n++] = i < src_len ? src[i] : 0;
}

static size_t bs_out(struct bstr *b, uint8_t *out, size_t max_out, const uint8_t *fallback,
		     size_t fallback_len)
{
	size_t n;
	if (b->oom) {
		n = fallback_len < max_out ? fallback_len : max_out;
		if (n)
			memmove(out, fallback, n);
	} else {
		n = trim_zeros(b->p, b->n < max_out ? b->n : max_out);
		if (n)
			memcpy(out, b->p, n);
	}
	free(b->p);
	return n;
}

/* Re-decode with statement idx replaced by a seeded one; the recording is
 * the new choice string. */
static int regen(const struct progen_config *cfg, const uint8_t *data, size_t len, int64_t idx,
		 size_t skip, uint64_t seed, struct bstr *out)
{
	struct gen *g = malloc(sizeof *g);
	if (!g)
		return -1;
	gen_init(g, cfg);
	g->bytes_mode = 1;
	g->data = data;
	g->len = len;
	g->text_on = 0;
	g->rec_on = 1;
	g->regen_at = idx;
	g->regen_skip = skip;
	g->regen_seed = seed;
	gen_program(g);
	int ok = !g->err;
	if (ok) {
		out->p = g->rec;
		out->n = g->rec_n;
		out->cap = g->rec_cap;
		g->rec = NULL;
	}
	gen_free(g);
	free(g);
	return ok ? 0 : -1;
}

size_t progen_mutate(const struct progen_config *cfg, uint8_t *data, size_t len, size_t max_len,
		     uint64_t seed)
{
	uint64_t s[4];
	prng_xoshiro_seed(s, seed ^ 0x6D75746174650000ull);
	if (len > max_len)
		len = max_len;
	struct gen *ix = index_bytes(cfg, data, len);
	if (!ix)
		return len;
	struct bstr b = {0};
	size_t ns = ix->n_spans;
	unsigned kind = (unsigned)(prng_xoshiro_next(s) % 8);
	if (!ns && kind != 6)
		kind = 1; /* nothing to move around: insert */
	const struct pg_span *sp = ns ? &ix->spans[prng_xoshiro_next(s) % ns] : NULL;
	switch (kind) {
	case 0: { /* regenerate a statement */
		/* Spans are recorded as statements end; its pre-order index
		 * is the number of statements that started before it. */
		uint32_t idx = 0;
		for (size_t j = 0; j < ns; j++)
			if (ix->spans[j].start < sp->start)
				idx++;
		if (regen(cfg, data, len, idx, sp->end, prng_xoshiro_next(s), &b))
			b.oom = 1;
		break;
	}
	case 1: { /* insert a fresh statement before another or at a block end */
		size_t at;
		uint32_t idx;
		size_t nb = 0;
		for (size_t j = 0; j < ix->n_blocks; j++)
			nb += ix->blocks[j].has_stop;
		uint64_t pick = prng_xoshiro_next(s) % (ns + nb ? ns + nb : 1);
		if (pick < ns) {
			at = ix->spans[pick].cont;
			idx = 0;
			for (size_t j = 0; j < ns; j++)
				if (ix->spans[j].start < ix->spans[pick].start)
					idx++;
		} else if (nb) {
			pick -= ns;
			size_t j = 0;
			for (;; j++)
				if (ix->blocks[j].has_stop && pick-- == 0)
					break;
			at = ix->blocks[j].stop;
			idx = ix->blocks[j].n_stmts_before;
		} else {
			at = 0;
			idx = 0;
		}
		struct bstr tmp = {0};
		static const uint8_t one = 1;
		bs_add(&tmp, data, len, 0, at);
		bs_add(&tmp, &one, 1, 0, 1);
		bs_add(&tmp, data, len, at, len > at ? len : at);
		if (tmp.oom || regen(cfg, tmp.p, tmp.n, idx, at + 1, prng_xoshiro_next(s), &b))
			b.oom = 1;
		free(tmp.p);
		break;
	}
	case 2: /* delete */
		bs_add(&b, data, len, 0, sp->cont);
		bs_add(&b, data, len, sp->end, len);
		break;
	case 3: /* duplicate */
		bs_add(&b, data, len, 0, sp->end);
		bs_add(&b, data, len, sp->cont, sp->end);
		bs_add(&b, data, len, sp->end, len);
		break;
	case 4: { /* swap with the next statement of the same block */
		const struct pg_span *nx = NULL;
		for (size_t j = 0; j < ns; j++)
			if (ix->spans[j].block == sp->block && ix->spans[j].cont == sp->end)
				nx = &ix->spans[j];
		if (!nx) {
			bs_add(&b, data, len, 0, sp->end);
			bs_add(&b, data, len, sp->cont, sp->end);
			bs_add(&b, data, len, sp->end, len);
			break;
		}
		bs_add(&b, data, len, 0, sp->cont);
		bs_add(&b, data, len, nx->cont, nx->end);
		bs_add(&b, data, len, sp->cont, sp->end);
		bs_add(&b, data, len, nx->end, len);
		break;
	}
	case 5: { /* copy a statement before another one */
		const struct pg_span *to = &ix->spans[prng_xoshiro_next(s) % ns];
		bs_add(&b, data, len, 0, to->cont);
		bs_add(&b, data, len, sp->cont, sp->end);
		bs_add(&b, data, len, to->cont, len);
		break;
	}
	default: { /* change one decision */
		bs_add(&b, data, len, 0, len);
		if (!ix->n_choices || b.oom)
			break;
		const struct pg_choice *c = &ix->choices[prng_xoshiro_next(s) % ix->n_choices];
		if (c->pos + c->nb > b.n)
			bs_add(&b, NULL, 0, 0, c->pos + c->nb - b.n);
		if (b.oom)
			break;
		uint64_t v = 0;
		for (unsigned i = 0; i < c->nb; i++)
			v |= (uint64_t)b.p[c->pos + i] << (8 * i);
		switch (prng_xoshiro_next(s) % 4) {
		case 0: v++; break;
		case 1: v--; break;
		case 2: v ^= 1ull << (prng_xoshiro_next(s) % (8 * c->nb)); break;
		default: v = prng_xoshiro_next(s); break;
		}
		for (unsigned i = 0; i < c->nb; i++)
			b.p[c->pos + i] = (uint8_t)(v >> (8 * i));
		break;
	}
	}
	gen_free(ix);
	free(ix);
	return bs_out(&b, data, max_len, data, len);
}

size_t progen_crossover(const struct progen_config *cfg, const uint8_t *a, size_t a_len,
			const uint8_t *b, size_t b_len, uint8_t *out, size_t max_out,
			uint64_t seed)
{
	uint64_t s[4];
	prng_xoshiro_seed(s, seed ^ 0x63726F7373000000ull);
	struct gen *ia = index_bytes(cfg, a, a_len), *ib = index_bytes(cfg, b, b_len);
	struct bstr r = {0};
	if (!ia || !ib || !ib->n_spans) {
		bs_add(&r, a, a_len, 0, a_len);
	} else {
		const struct pg_span *from = &ib->spans[prng_xoshiro_next(s) % ib->n_spans];
		size_t at = 0, resume = 0;
		if (ia->n_spans) {
			const struct pg_span *to = &ia->spans[prng_xoshiro_next(s) % ia->n_spans];
			at = to->cont;
			resume = prng_xoshiro_next(s) % 2 ? to->end : to->cont; /* replace or insert */
		} else {
			for (size_t j = 0; j < ia->n_blocks; j++)
				if (ia->blocks[j].has_stop) {
					at = resume = ia->blocks[j].stop;
					break;
				}
		}
		bs_add(&r, a, a_len, 0, at);
		bs_add(&r, b, b_len, from->cont, from->end);
		bs_add(&r, a, a_len, resume, a_len);
	}
	if (ia) {
		gen_free(ia);
		free(ia);
	}
	if (ib) {
		gen_free(ib);
		free(ib);
	}
	size_t n = a_len < max_out ? a_len : max_out;
	if (r.oom) {
		if (n)
			memcpy(out, a, n);
		free(r.p);
		return n;
	}
	return bs_out(&r, out, max_out, a, n);
}

const char *progen_feature_name(enum progen_feature f)
{
	static const char *const names[] = {
#define PROGEN_FEATURE_NAME_(e, name, w) name,
		PROGEN_FEATURES(PROGEN_FEATURE_NAME_)
#undef PROGEN_FEATURE_NAME_
	};
	return (unsigned)f < PROGEN_F_COUNT ? names[f] : "?";
}

int progen_feature_from_name(const char *name)
{
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++)
		if (strcmp(name, progen_feature_name((enum progen_feature)f)) == 0)
			return (int)f;
	return -1;
}

const char *progen_strerror(int code)
{
	switch (code) {
	case PROGEN_OK: return "success";
	case PROGEN_ENOMEM: return "out of memory";
	case PROGEN_EINVAL: return "invalid argument";
	case PROGEN_EINTERNAL: return "internal error: the generator broke its own invariants";
	}
	return "unknown error";
}
