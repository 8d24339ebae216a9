/*
 * testkit/progen_emit.c — sections 3 and 4 of the program generator:
 * emission (text, stack-depth and reachability bookkeeping, labels) and
 * operands (constants, offsets, scratch indices).  Layout: progen.c.
 */
#include "progen_int.h"

/* ---- 3. Emission ---------------------------------------------------------- */

void pg_tb_put(struct gen *g, const char *s, size_t k)
{
	if (!g->text_on || g->err)
		return;
	if (pg_grow_buf((void **)&g->txt, &g->txt_cap, g->txt_n + k + 1, 1)) {
		fail(g, PROGEN_ENOMEM);
		return;
	}
	memcpy(g->txt + g->txt_n, s, k);
	g->txt_n += k;
	g->txt[g->txt_n] = '\0';
}

static void tb_str(struct gen *g, const char *s) { pg_tb_put(g, s, strlen(s)); }

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
	pg_tb_put(g, buf + i, sizeof buf - (size_t)i);
}

void pg_comment(struct gen *g, const char *fmt, ...)
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
	pg_tb_put(g, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
	tb_str(g, "\n");
}

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
		if (pg_grow_buf((void **)&g->tags, &g->cap_tags, (size_t)g->n + 1, 1)) {
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
void pg_tag_last(struct gen *g, uint8_t bits)
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
void pg_emit_f(struct gen *g, uint8_t op, uint64_t v, int fmt, int raw)
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
			pg_tb_put(g, buf, (size_t)k);
		} else {
			tb_u64(g, v, fmt == 1 || (fmt == 0 && v >= 0x10000));
		}
	}
	tb_str(g, "\n");
}

uint32_t pg_new_label(struct gen *g)
{
	if (pg_grow_buf((void **)&g->labels, &g->cap_labels, (size_t)g->n_labels + 1,
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

void pg_emit_jump(struct gen *g, uint8_t op, uint32_t l)
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
	pg_tb_put(g, buf, (size_t)k);
}

/* Jump emitted in unstructured dead code (depth bookkeeping off). */
void pg_emit_raw_jump(struct gen *g, uint8_t op, uint32_t l)
{
	if (g->reachable)
		{ fail(g, PROGEN_EINTERNAL); return; }
	account(g, op, 1);
	text_insn(g, op);
	char buf[16];
	int k = snprintf(buf, sizeof buf, " L%u\n", l);
	pg_tb_put(g, buf, (size_t)k);
}

void pg_def_label(struct gen *g, uint32_t l)
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
	pg_tb_put(g, buf, (size_t)k);
}

/* ---- 4. Operands ---------------------------------------------------------- */

const uint64_t pg_interesting[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 15, 16, 17, 20, 23, 31, 32, 34, 53, 54, 63, 64,
	65, 80, 127, 128, 255, 256, 443, 1500, 0x800, 0x806, 0x8100, 0x86DD, 0xFFFF,
	0x10000, 0x7FFFFFFF, 0x80000000ull, 0xFFFFFFFFull, 0x100000000ull,
	0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0xFFFFFFFFFFFFFFFEull,
	0xFFFFFFFFFFFFFFFFull,
};
#define N_INTERESTING (sizeof pg_interesting / sizeof pg_interesting[0])

/* A PUSH immediate; *fmt says how to print it. */
static uint64_t gen_const(struct gen *g, int *fmt)
{
	*fmt = 0;
	switch (pg_choose(g, 10)) {
	case 0: case 1: case 2:
		return pg_choose(g, 16);
	case 3: case 4: case 5:
		return pg_interesting[pg_choose(g, N_INTERESTING)];
	case 6:
		return pg_raw_bits(g, 1);
	case 7:
		*fmt = 2; /* an IPv4 address */
		return pg_raw_bits(g, 4);
	case 8: {
		unsigned s = pg_choose(g, 64);
		return (1ull << s) - (uint64_t)pg_choose(g, 3) + 1; /* 2^s - 1 .. 2^s + 1 */
	}
	default:
		*fmt = 1;
		return pg_raw_bits(g, 8);
	}
}

void pg_push_const(struct gen *g)
{
	int fmt;
	uint64_t v = gen_const(g, &fmt);
	pg_emit_f(g, VFM_OPC_PUSH, v, fmt, 0);
}

static uint32_t gen_verdict(struct gen *g)
{
	switch (pg_choose(g, 6)) {
	case 0: return 0;
	case 1: case 2: return 1;
	case 3: return 0xFFFFFFFFu;
	case 4: return pg_choose(g, 256);
	default: return (uint32_t)pg_raw_bits(g, 4);
	}
}

static const uint32_t header_offsets[] = {
	0, 6, 12, 13, 14, 15, 16, 18, 20, 22, 23, 24, 26, 28, 30, 34, 36, 38, 40, 42, 46, 54,
};
#define N_HEADER_OFFSETS (sizeof header_offsets / sizeof header_offsets[0])

uint32_t pg_free_scratch(struct gen *g)
{
	uint32_t i = pg_choose(g, PG_SCRATCH);
	for (unsigned k = 0; k < PG_SCRATCH; k++, i = (i + 1) % PG_SCRATCH)
		if (!(g->reserved & (1u << i)))
			return i;
	fail(g, PROGEN_EINTERNAL);
	return 0;
}

unsigned pg_n_free_scratch(const struct gen *g)
{
	unsigned n = 0;
	for (unsigned i = 0; i < PG_SCRATCH; i++)
		n += !(g->reserved & (1u << i));
	return n;
}

/* Absolute load: below the enclosing length guard (mostly, if any), or at
 * an arbitrary offset. */
void pg_emit_load_size(struct gen *g, uint8_t op, uint32_t k)
{
	unsigned size = vfm_opinfo[op].size;
	int guarded = k <= g->guard_len && size <= g->guard_len - k;
	if (g->reachable) {
		if (guarded)
			g->st.guarded_loads++;
		else
			g->st.unguarded_loads++;
	}
	pg_emit(g, op, k);
	if (guarded)
		pg_tag_last(g, PROGEN_TAG_GUARDED);
}

void pg_emit_load(struct gen *g, uint8_t op)
{
	unsigned size = vfm_opinfo[op].size;
	uint32_t k;
	if (g->guard_len >= size && pg_maybe(g, 3, 4)) {
		k = pg_choose(g, g->guard_len - size + 1);
	} else {
		/* Far offsets end every packet (BOUNDS), so they stay out of
		 * code whose continuation matters (must_fall); deep ones end
		 * most packets, so they are rarer there. */
		static const uint16_t w_any[4] = {6, 5, 3, 1}, w_main[4] = {8, 7, 1, 0};
		unsigned c = pg_wpick(g, g->must_fall ? w_main : w_any, 4, NULL);
		if (c == 0) {
			k = header_offsets[pg_choose(g, N_HEADER_OFFSETS)];
		} else if (c == 1) {
			k = pg_choose(g, 64);
		} else if (c == 2) {
			k = pg_choose(g, g->must_fall ? 256 : 1600);
		} else {
			static const uint32_t far[] = {0xFFFFFFFFu, 0xFFFFFFFEu, 0x80000000u,
						       65535, 65536, 9000};
			g->end_hint = 1;
			k = pg_maybe(g, 1, 2) ? far[pg_choose(g, 6)] : (uint32_t)pg_raw_bits(g, 4);
		}
	}
	pg_emit_load_size(g, op, k);
}

/* A load of the given size class at a guarded offset (guard_len >= 1). */
void pg_emit_guarded_load(struct gen *g)
{
	uint8_t c[256];
	unsigned n = 0;
	for (unsigned i = 0; i < g->T.n_load; i++)
		if (vfm_opinfo[g->T.load[i]].size <= g->guard_len)
			c[n++] = g->T.load[i];
	if (!n)
		{ fail(g, PROGEN_EINTERNAL); return; }
	uint8_t op = c[pg_choose(g, n)];
	unsigned size = vfm_opinfo[op].size;
	pg_emit_load_size(g, op, pg_choose(g, g->guard_len - size + 1));
}

uint32_t pg_gen_loadx_k(struct gen *g)
{
	switch (pg_choose(g, 6)) {
	case 0: case 1: case 2: return pg_choose(g, 16);
	case 3: return header_offsets[pg_choose(g, N_HEADER_OFFSETS)];
	case 4: return pg_choose(g, 256);
	default: /* k alone may put the load out of reach of any packet */
		if (g->must_fall)
			return 0x10000u + pg_choose(g, 0x10000);
		return pg_maybe(g, 1, 2) ? 0xFFFFFFFFu : (uint32_t)pg_raw_bits(g, 4);
	}
}

/* Emit any non-jump opcode with an operand suited to it. */
void pg_emit_op(struct gen *g, uint8_t op)
{
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	switch ((enum vfm_operand_kind)oi->operand) {
	case VFM_OPND_NONE:
		pg_emit0(g, op);
		return;
	case VFM_OPND_U8:
		/* A U8 op that pushes without popping reads scratch (LDM); any
		 * other may write it, so it keeps off reserved words. */
		pg_emit(g, op, oi->pops == 0 && oi->pushes == 1 ? pg_choose(g, PG_SCRATCH)
							   : pg_free_scratch(g));
		return;
	case VFM_OPND_U32:
		if (oi->cls == VFM_CLASS_LOAD)
			pg_emit_load(g, op);
		else if (oi->cls == VFM_CLASS_LOADX)
			pg_emit(g, op, pg_gen_loadx_k(g));
		else if (oi->cls == VFM_CLASS_RET)
			pg_emit(g, op, gen_verdict(g));
		else
			pg_emit(g, op, pg_raw_bits(g, 4));
		return;
	case VFM_OPND_U64:
		if (op == VFM_OPC_PUSH) {
			pg_push_const(g);
		} else {
			pg_emit_f(g, op, pg_raw_bits(g, 8), 1, 0);
		}
		return;
	case VFM_OPND_REL32:
		break;
	}
	fail(g, PROGEN_EINTERNAL);
}
