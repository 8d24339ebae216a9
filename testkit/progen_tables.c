/*
 * testkit/progen_tables.c — sections 1 and 2 of the program generator: the
 * opcode tables derived from vfm_opinfo[], and the one decision primitive
 * (draw) with the choices built on it.  Layout: progen.c.
 */
#include "progen_int.h"

/* ---- 1. Opcode tables ----------------------------------------------------- */

static int is_control(const struct vfm_opinfo *oi)
{
	return oi->cls == VFM_CLASS_JMP || oi->cls == VFM_CLASS_JCC || oi->cls == VFM_CLASS_RET;
}

void pg_tables_init(struct pg_tables *T)
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
	 * term per expression form in pg_gen_expr (checked there as it runs). */
	T->exprmax[0] = 1;
	for (int l = 1; l <= PG_MAX_LEVEL; l++) {
		uint32_t m = T->exprmax[l - 1], b = m + 3; /* unary (masked index) */
		b = pg_max_u32(b, 2 * m + 3);                  /* binary, shuffles */
		b = pg_max_u32(b, 7);                          /* IHL */
		b = pg_max_u32(b, pg_max_u32(7, m + 2) + 1);      /* indexed load */
		b = pg_max_u32(b, pg_max_u32(3, m) + 1);          /* flow load */
		b = pg_max_u32(b, 2 * m + 4);                  /* compare to 0/1 */
		b = pg_max_u32(b, pg_max_u32(T->maxpops * m, m + 2) + T->maxpushes); /* generic */
		T->exprmax[l] = b;
	}
}

/* ---- 2. Generator state and decisions ------------------------------------- */

void pg_fail_at(struct gen *g, int code, int line)
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

int pg_grow_buf(void **p, size_t *cap, size_t need, size_t elem)
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

/*
 * The one decision primitive: nb bytes, little-endian.  Seeded runs take
 * the proposal; byte-driven runs read the input (0 past its end).  Either
 * way the value is recorded if recording is on.
 */
uint64_t pg_draw(struct gen *g, unsigned nb, uint64_t proposal)
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
		if (pg_grow_buf((void **)&g->choices, &g->cap_choices, g->n_choices + 1,
			     sizeof *g->choices))
			fail(g, PROGEN_ENOMEM);
		else
			g->choices[g->n_choices++] = (struct pg_choice){g->pos, nb};
	}
	g->pos += nb;
	if (g->rec_on) {
		if (pg_grow_buf((void **)&g->rec, &g->rec_cap, g->rec_n + nb, 1)) {
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
uint32_t pg_choose(struct gen *g, uint32_t n)
{
	if (n <= 1)
		return 0;
	return (uint32_t)(pg_draw(g, nbytes_for(n), g->bytes_mode ? 0 : pg_prng(g)) % n);
}

/* As choose, but a seeded run picks exactly want (< n). */
uint32_t pg_choose_v(struct gen *g, uint32_t n, uint32_t want)
{
	if (n <= 1)
		return 0;
	return (uint32_t)(pg_draw(g, nbytes_for(n), want) % n);
}

/* True with probability num/den; a 0 byte says no (unless num == den). */
int pg_maybe(struct gen *g, unsigned num, unsigned den)
{
	return pg_choose(g, den) >= den - num;
}

/*
 * Weighted pick among options with w[i] > 0 (at least one).  A seeded run
 * picks by pref (defaults to w; options with w == 0 are never picked) and
 * proposes a value inside that option's slot; 0 maps to the first option.
 */
unsigned pg_wpick(struct gen *g, const uint16_t *w, unsigned n, const uint16_t *pref)
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
		uint32_t x = (uint32_t)(pg_prng(g) % ptotal), start = 0;
		for (unsigned i = 0; i < n; i++) {
			uint32_t pw = w[i] ? pref[i] : 0;
			if (x < pw) {
				want = start + (uint32_t)(pg_prng(g) % w[i]);
				break;
			}
			x -= pw;
			start += w[i];
		}
	}
	uint32_t x = pg_choose_v(g, total, want);
	for (unsigned i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return 0;
}
