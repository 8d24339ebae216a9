/*
 * testkit/progen.c — random verifiable VFM programs (see progen.h).
 *
 * The generator is split by section, all behind the private header
 * progen_int.h (the state, struct gen, and the cross-section functions,
 * prefixed pg_):
 *   1. opcode tables derived from vfm_opinfo[]        progen_tables.c
 *   2. the generator state and the one decision
 *      primitive (draw)                               progen_tables.c
 *   3. emission: text, stack-depth and reachability
 *      bookkeeping, labels                            progen_emit.c
 *   4. operands: constants, offsets, scratch indices  progen_emit.c
 *   5. expressions (net +1 value)                     progen_expr.c
 *   6. statements (net 0) and terminators             progen_stmt.c,
 *                                                     progen_guard.c
 *   7. blocks and whole programs                      progen_block.c
 *   8. public API, mutation and crossover             progen.c (this file)
 * The PRNG (xoshiro256** seeded by splitmix64) is testkit/prng.h.
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
#include "progen_int.h"

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
	pg_gen_init(g, cfg);
	if (flags & PROGEN_FROM_BYTES) {
		g->bytes_mode = 1;
		g->data = data;
		g->len = len;
	} else {
		prng_xoshiro_seed(g->rng, seed);
	}
	g->rec_on = (flags & PROGEN_WANT_CHOICES) != 0;
	g->tags_on = (flags & PROGEN_WANT_TAGS) != 0;
	pg_gen_program(g);
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
	pg_gen_free(g);
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
	pg_gen_init(g, cfg);
	g->bytes_mode = 1;
	g->data = data;
	g->len = len;
	g->text_on = 0;
	g->index_on = 1;
	pg_gen_program(g);
	if (g->err) {
		pg_gen_free(g);
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
	if (pg_grow_buf((void **)&b->p, &b->cap, b->n + (to - from), 1)) {
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
	pg_gen_init(g, cfg);
	g->bytes_mode = 1;
	g->data = data;
	g->len = len;
	g->text_on = 0;
	g->rec_on = 1;
	g->regen_at = idx;
	g->regen_skip = skip;
	g->regen_seed = seed;
	pg_gen_program(g);
	int ok = !g->err;
	if (ok) {
		out->p = g->rec;
		out->n = g->rec_n;
		out->cap = g->rec_cap;
		g->rec = NULL;
	}
	pg_gen_free(g);
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
	pg_gen_free(ix);
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
		pg_gen_free(ia);
		free(ia);
	}
	if (ib) {
		pg_gen_free(ib);
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
