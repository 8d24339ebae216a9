/*
 * testkit/progen_expr.c — section 5 of the program generator: expressions,
 * each pushing exactly one value.  Layout: progen.c.
 */
#include "progen_int.h"

/* ---- 5. Expressions: push exactly one value --------------------------------- */

/* The operand of an indexed load (LOADX class): mostly masked to 16 bits
 * so that the load may succeed; a raw value (often huge: always out of
 * bounds) only where the code after may die.  At most exprmax[level] + 2
 * instructions. */
static void gen_index(struct gen *g, unsigned level)
{
	if (!g->must_fall && pg_maybe(g, 1, 4)) {
		pg_gen_expr(g, level);
		g->end_hint = 1;
		return;
	}
	if (pg_headroom(g) >= 2 && pg_maybe(g, 3, 4)) {
		pg_gen_expr(g, level);
		pg_emit(g, VFM_OPC_PUSH, (1ull << pg_choose(g, 17)) - 1);
		pg_emit0(g, VFM_OPC_AND);
		return;
	}
	pg_emit_load(g, pg_maybe(g, 1, 2) ? VFM_OPC_LD8 : VFM_OPC_LD16);
}

/* The operands of op (its pops), then op. */
void pg_gen_apply(struct gen *g, uint8_t op, unsigned level)
{
	const struct vfm_opinfo *oi = &vfm_opinfo[op];
	if (oi->cls == VFM_CLASS_LOADX && oi->pops == 1)
		gen_index(g, level);
	else
		for (unsigned i = 0; i < oi->pops; i++)
			pg_gen_expr(g, level);
	pg_emit_op(g, op);
}

/* One instruction, net +1: any table leaf, or DUP/OVER copying a value
 * already on the stack (they leave what they read intact). */
void pg_gen_leaf(struct gen *g)
{
	uint16_t w[256 + 2];
	unsigned n = g->T.n_leaf;
	if (pg_headroom(g) < 1)
		{ fail(g, PROGEN_EINTERNAL); return; }
	for (unsigned i = 0; i < n; i++) {
		uint8_t op = g->T.leaf[i];
		w[i] = op == VFM_OPC_PUSH ? 10 : op == VFM_OPC_LDM ? 3
		       : vfm_opinfo[op].cls == VFM_CLASS_LOAD ? 2 : 1;
	}
	w[n] = g->depth >= 1 ? 1 : 0;     /* DUP */
	w[n + 1] = g->depth >= 2 ? 1 : 0; /* OVER */
	unsigned k = pg_wpick(g, w, n + 2, NULL);
	if (k == n)
		pg_emit0(g, VFM_OPC_DUP);
	else if (k == n + 1)
		pg_emit0(g, VFM_OPC_OVER);
	else
		pg_emit_op(g, g->T.leaf[k]);
}

/* Offset value with a small known bound (for guarded indexed loads);
 * headroom >= 2. */
void pg_gen_bounded_offset(struct gen *g, unsigned level)
{
	switch (pg_choose(g, 5)) {
	case 0: case 1: /* IPv4 header length: (LD8 14 & 15) * 4 [+ 14] */
		pg_emit_load_size(g, VFM_OPC_LD8, pg_maybe(g, 1, 4) ? 18 : 14);
		pg_emit(g, VFM_OPC_PUSH, 15);
		pg_emit0(g, VFM_OPC_AND);
		if (pg_maybe(g, 1, 2)) {
			pg_emit(g, VFM_OPC_PUSH, 4);
			pg_emit0(g, VFM_OPC_MUL);
		} else {
			pg_emit(g, VFM_OPC_PUSH, 2);
			pg_emit0(g, VFM_OPC_SHL);
		}
		if (pg_maybe(g, 1, 2)) {
			pg_emit(g, VFM_OPC_PUSH, 14);
			pg_emit0(g, VFM_OPC_ADD);
		}
		return;
	case 2: /* E & (2^j - 1) */
		pg_gen_expr(g, level ? level - 1 : 0);
		pg_emit(g, VFM_OPC_PUSH, (1ull << pg_choose(g, 13)) - 1);
		pg_emit0(g, VFM_OPC_AND);
		return;
	case 3: /* a packet byte or half-word */
		pg_emit_load(g, pg_maybe(g, 1, 3) ? VFM_OPC_LD16 : VFM_OPC_LD8);
		return;
	default: /* (M[i] & 63) << 2 */
		pg_emit(g, VFM_OPC_LDM, pg_choose(g, PG_SCRATCH));
		pg_emit(g, VFM_OPC_PUSH, 63);
		pg_emit0(g, VFM_OPC_AND);
		pg_emit(g, VFM_OPC_PUSH, 2);
		pg_emit0(g, VFM_OPC_SHL);
		return;
	}
}

/* A flow-table key: HASH5, packet fields, constants, scratch, any value.
 * headroom >= 2; at most max(3, exprmax[level]) instructions. */
void pg_gen_key(struct gen *g, unsigned level)
{
	switch (pg_choose(g, 7)) {
	case 0: pg_emit0(g, VFM_OPC_HASH5); return;
	case 1: pg_emit_load_size(g, VFM_OPC_LD32, pg_maybe(g, 1, 2) ? 26 : 30); return;
	case 2: pg_emit_load(g, VFM_OPC_LD16); return;
	case 3: pg_emit(g, VFM_OPC_PUSH, pg_choose(g, 8)); return;
	case 4: pg_emit(g, VFM_OPC_LDM, pg_choose(g, PG_SCRATCH)); return;
	case 5: /* few distinct keys: collisions, updates, evictions */
		pg_emit0(g, VFM_OPC_HASH5);
		pg_emit(g, VFM_OPC_PUSH, (1u << pg_choose(g, 6)) - 1);
		pg_emit0(g, VFM_OPC_AND);
		return;
	default: pg_gen_expr(g, level); return;
	}
}

/* A value that depends on the packet, the flow table or the time, so that a
 * condition on it is not decided by constants alone.  Same size bound as
 * gen_expr of the same level. */
void pg_gen_data(struct gen *g, unsigned level)
{
	const struct pg_tables *T = &g->T;
	int hr2 = pg_headroom(g) >= 2;
	switch (pg_choose(g, 7)) {
	case 0: case 1:
		pg_emit_load(g, T->load[pg_choose(g, T->n_load)]);
		return;
	case 2:
		pg_emit0(g, VFM_OPC_LEN);
		return;
	case 3:
		pg_emit0(g, pg_maybe(g, 1, 2) ? VFM_OPC_HASH5 : VFM_OPC_TS);
		return;
	case 4:
		if (level && hr2) {
			pg_gen_key(g, level - 1);
			pg_emit0(g, VFM_OPC_FLOW_LOAD);
			return;
		}
		break;
	default:
		if (level && hr2) {
			pg_gen_data(g, level - 1);
			pg_gen_expr(g, level - 1);
			pg_emit_op(g, T->binary[pg_choose(g, T->n_binary)]);
			return;
		}
		break;
	}
	pg_emit_load(g, T->load[pg_choose(g, T->n_load)]);
}

enum { EX_LEAF, EX_UNARY, EX_BINARY, EX_SHUFFLE, EX_IHL, EX_LOADX, EX_FLOWLOAD, EX_BOOL,
       EX_GENERIC, EX_COUNT };

void pg_gen_expr(struct gen *g, unsigned level)
{
	const struct pg_tables *T = &g->T;
	int32_t hr = pg_headroom(g), d0 = g->depth;
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
	switch (pg_wpick(g, w, EX_COUNT, g->tight ? small : NULL)) {
	case EX_LEAF:
		pg_gen_leaf(g);
		break;
	case EX_UNARY:
		pg_gen_apply(g, T->unary[pg_choose(g, T->n_unary)], sub);
		break;
	case EX_BINARY:
		pg_gen_expr(g, sub);
		pg_gen_expr(g, sub);
		pg_emit_op(g, T->binary[pg_choose(g, T->n_binary)]);
		break;
	case EX_SHUFFLE:
		switch (pg_choose(g, 3)) {
		case 0: /* b a -> a b -> a OP b */
			pg_gen_expr(g, sub);
			pg_gen_expr(g, sub);
			pg_emit0(g, VFM_OPC_SWAP);
			break;
		case 1: /* a -> a a -> a OP a */
			pg_gen_expr(g, sub);
			pg_emit0(g, VFM_OPC_DUP);
			break;
		default: /* a b -> a b a -> a (b OP a) -> ... */
			pg_gen_expr(g, sub);
			pg_gen_expr(g, sub);
			pg_emit0(g, VFM_OPC_OVER);
			pg_emit_op(g, T->binary[pg_choose(g, T->n_binary)]);
			break;
		}
		pg_emit_op(g, T->binary[pg_choose(g, T->n_binary)]);
		break;
	case EX_IHL:
		pg_emit_load_size(g, VFM_OPC_LD8, 14);
		pg_emit(g, VFM_OPC_PUSH, 15);
		pg_emit0(g, VFM_OPC_AND);
		pg_emit(g, VFM_OPC_PUSH, 4);
		pg_emit0(g, VFM_OPC_MUL);
		break;
	case EX_LOADX: {
		uint8_t op = T->loadx[pg_choose(g, T->n_loadx)];
		if (pg_maybe(g, 1, 2)) {
			pg_gen_bounded_offset(g, sub);
		} else {
			gen_index(g, sub);
		}
		pg_emit(g, op, pg_gen_loadx_k(g));
		break;
	}
	case EX_FLOWLOAD:
		pg_gen_key(g, sub);
		pg_emit0(g, VFM_OPC_FLOW_LOAD);
		break;
	case EX_BOOL: { /* a b Jcc -> 0/1 (or two constants) */
		uint32_t lt = pg_new_label(g), le = pg_new_label(g);
		pg_gen_data(g, sub);
		pg_gen_expr(g, sub);
		pg_emit_jump(g, T->jcc[pg_choose(g, T->n_jcc)], lt);
		int32_t dj = g->depth;
		int c01 = pg_maybe(g, 3, 4);
		if (c01) {
			pg_emit(g, VFM_OPC_PUSH, 0);
		} else {
			pg_push_const(g);
		}
		pg_emit_jump(g, VFM_OPC_JMP, le);
		g->depth = dj; /* the second arm starts where the jump left */
		pg_def_label(g, lt);
		if (c01) {
			pg_emit(g, VFM_OPC_PUSH, 1);
		} else {
			pg_push_const(g);
		}
		pg_def_label(g, le);
		break;
	}
	case EX_GENERIC: {
		uint8_t op = gen_ok[pg_choose(g, n_gen)];
		const struct vfm_opinfo *oi = &vfm_opinfo[op];
		pg_gen_apply(g, op, sub);
		for (unsigned i = 1; i < oi->pushes; i++) {
			if (pg_maybe(g, 1, 3))
				pg_emit0(g, VFM_OPC_POP);
			else
				pg_emit_op(g, T->binary[pg_choose(g, T->n_binary)]);
		}
		break;
	}
	}
	if (!g->err && (g->depth != d0 + 1 || g->n - n0 > T->exprmax[level]))
		fail(g, PROGEN_EINTERNAL);
}
