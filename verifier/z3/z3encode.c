/*
 * verifier/z3/z3encode.c — the program's exact semantics as Z3 terms
 * (z3_internal.h, what is encoded: z3check.h).
 *
 * Encoding.  The CFG's strongly connected regions are found (Tarjan) and
 * visited in topological order.  An instruction outside loops has one
 * node; one inside a loop region has nodes (insn, k), k = 0..K, the
 * instruction after k backward jumps taken since the region was entered.
 * Inside a region a forward edge keeps k and a backward jump adds one (cut
 * beyond K); an edge into another region arrives at k = 0.  Visiting a
 * loop region level by level, each level in index order, visits every
 * node after all of its predecessors: one pass, no worklist.  A node holds
 * its reach condition (the disjunction of its incoming edge conditions)
 * and its state: 16 scratch terms, then the stack.  Execution is
 * deterministic and visits a node at most once, so incoming edges are
 * mutually exclusive and states merge as ite(edge, incoming, previous).
 * Terms are built once and shared (Z3 hash-conses them), so a query
 * contains only the cone of the claims it asks about.
 *
 *
 * The per-opcode semantics are written here once, from the rows of
 * vm/opcodes.def and the rules of vm/semantics.h: step() switches over the
 * opcode classes and the per-class enums without default, and the ALU and
 * compare terms are dispatched from the rows, so a new opcode does not
 * build until it has an encoding.  Nothing here reads the verifier's
 * transfer functions: the check cannot share their blind spots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/semantics.h"
#include "z3_internal.h"

/* size bytes of the packet at 32-bit address addr, big-endian, zero-
 * extended to 64 bits. */
static Z3_ast load_bytes(struct zc *z, Z3_ast addr, unsigned size)
{
	Z3_ast v = NULL;
	for (unsigned j = 0; j < size; j++) {
		Z3_ast a = j ? Z3_mk_bvadd(z->c, addr, num_w(z, j, 32)) : addr;
		Z3_ast byte = Z3_mk_app(z->c, z->pkt, 1, &a);
		v = v ? Z3_mk_concat(z->c, v, byte) : byte;
	}
	return size < 8 ? Z3_mk_zero_ext(z->c, 64 - 8 * size, v) : v;
}

/* ---- per-opcode terms, from the table and vm/semantics.h -------------- */

/*
 * One term function per ALU row of vm/opcodes.def, z3_alu2_NAME /
 * z3_alu1_NAME, each the rule of vfm_sem_NAME written in Z3 (independent
 * of the verifier's abstract operators); the dispatch below is generated
 * from the rows, so a new row does not build without its term.
 */
static Z3_ast z3_alu2_ADD(struct zc *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvadd(z->c, a, b); }
static Z3_ast z3_alu2_SUB(struct zc *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvsub(z->c, a, b); }
static Z3_ast z3_alu2_MUL(struct zc *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvmul(z->c, a, b); }

/* x / 0 = 0 (SMT-LIB's bvudiv gives all ones). */
static Z3_ast z3_alu2_DIV(struct zc *z, Z3_ast a, Z3_ast b)
{
	Z3_context c = z->c;
	Z3_ast q = Z3_mk_ite(c, Z3_mk_eq(c, b, z->zero64), z->zero64, Z3_mk_bvudiv(c, a, b));
	/* Guarded as MOD: q <= a always holds. */
	return Z3_mk_ite(c, Z3_mk_bvule(c, q, a), q, z->zero64);
}

/* x % 0 = x. */
static Z3_ast z3_alu2_MOD(struct zc *z, Z3_ast a, Z3_ast b)
{
	Z3_context c = z->c;
	Z3_ast b0 = Z3_mk_eq(c, b, z->zero64);
	Z3_ast r = Z3_mk_ite(c, b0, a, Z3_mk_bvurem(c, a, b));
	/* Guarded form, equal to r for every input: the guard (b = 0 or
	 * r < b) and r <= a always holds, so the solver can bound r by
	 * comparisons without reasoning through the divider circuit
	 * ("x % len < len"). */
	Z3_ast g[2] = {Z3_mk_bvult(c, r, b), b0};
	Z3_ast both[2] = {Z3_mk_or(c, 2, g), Z3_mk_bvule(c, r, a)};
	return Z3_mk_ite(c, Z3_mk_and(c, 2, both), r, z->zero64);
}

static Z3_ast z3_alu2_AND(struct zc *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvand(z->c, a, b); }
static Z3_ast z3_alu2_OR(struct zc *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvor(z->c, a, b); }
static Z3_ast z3_alu2_XOR(struct zc *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvxor(z->c, a, b); }

/* Shift counts masked with 63. */
static Z3_ast z3_alu2_SHL(struct zc *z, Z3_ast a, Z3_ast b)
{
	return Z3_mk_bvshl(z->c, a, Z3_mk_bvand(z->c, b, num64(z, 63)));
}

static Z3_ast z3_alu2_SHR(struct zc *z, Z3_ast a, Z3_ast b)
{
	return Z3_mk_bvlshr(z->c, a, Z3_mk_bvand(z->c, b, num64(z, 63)));
}

static Z3_ast z3_alu1_NOT(struct zc *z, Z3_ast a) { return Z3_mk_bvnot(z->c, a); }
static Z3_ast z3_alu1_NEG(struct zc *z, Z3_ast a) { return Z3_mk_bvneg(z->c, a); }

static Z3_ast alu2(struct zc *z, uint8_t opcode, Z3_ast a, Z3_ast b)
{
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(NAME, ...) case VFM_ALU2_##NAME: return z3_alu2_##NAME(z, a, b);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return NULL; /* not an ALU2 opcode: the caller switched on the class */
}

static Z3_ast alu1(struct zc *z, uint8_t opcode, Z3_ast a)
{
	switch ((enum vfm_alu1_op)opcode) {
#define VFM_ALU1(NAME, ...) case VFM_ALU1_##NAME: return z3_alu1_##NAME(z, a);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return NULL;
}

/* a REL b, unsigned (vfm_sem_rel).  A conditional jump's taken edge holds
 * the relation of its row (vfm_jcc_rel); its fall-through edge is encoded
 * as the negation, not from the row's second column, so a wrong FALL
 * column in the table shows up as a refuted claim of the refinement. */
static Z3_ast rel_term(struct zc *z, enum vfm_rel rel, Z3_ast a, Z3_ast b)
{
	Z3_context c = z->c;
	switch (rel) {
	case VFM_REL_EQ: return Z3_mk_eq(c, a, b);
	case VFM_REL_NE: return Z3_mk_not(c, Z3_mk_eq(c, a, b));
	case VFM_REL_LT: return Z3_mk_bvult(c, a, b);
	case VFM_REL_LE: return Z3_mk_bvule(c, a, b);
	case VFM_REL_GT: return Z3_mk_bvugt(c, a, b);
	case VFM_REL_GE: return Z3_mk_bvuge(c, a, b);
	case VFM_REL_SET: return Z3_mk_not(c, Z3_mk_eq(c, Z3_mk_bvand(c, a, b), z->zero64));
	case VFM_REL_CLEAR: return Z3_mk_eq(c, Z3_mk_bvand(c, a, b), z->zero64);
	}
	return NULL;
}

/* ---- symbolic execution -------------------------------------------------- */

/* Nearest common dominator of two visited nodes. */
static uint32_t dom_meet(struct zc *z, uint32_t a, uint32_t b)
{
	/* Both are visited nodes: walk the later one up.  The inductive pass
	 * has several roots (the entry and the loop heads): none in common. */
	while (a != b) {
		if (a == NO_NODE || b == NO_NODE)
			return NO_NODE;
		if (z->ord[a] > z->ord[b])
			a = z->nodes[a].idom;
		else
			b = z->nodes[b].idom;
	}
	return a;
}

/* The inductive pass: an edge with condition e into loop head h carrying
 * state st ends there.  The state must lie in h's abstract state (a
 * LOOP_HEAD claim: from the entry, "established"; from a segment that
 * started at a head, "preserved"); a head claimed unreachable (no state)
 * must not be arrived at (LOOP_HEAD too). */
static void arrive(struct zc *z, uint32_t h, Z3_ast e, Z3_ast *st)
{
	if (z->n_arr == z->cap_arr) {
		size_t ncap = z->cap_arr ? z->cap_arr * 2 : 16;
		struct arrival *p = realloc(z->arr, ncap * sizeof *p);
		if (!p) {
			z->oom = true;
			return;
		}
		z->arr = p;
		z->cap_arr = ncap;
	}
	z->arr[z->n_arr++] = (struct arrival){h, e};
	z->rep->checked[VFM_Z3_LOOP_HEAD]++;
	if (!(z->f->flags[h] & VFM_FACT_REACHED)) {
		/* No state at h: no segment starts there, so any arrival breaks
		 * the cover of the executions, as a state outside would. */
		vfm_z3i_add_claim(z, h, VFM_Z3_LOOP_HEAD, P_SOUND, e);
		return;
	}
	Z3_ast v = vfm_z3i_state_viol(z, h, st);
	if (v && v != z->fal)
		vfm_z3i_add_claim(z, h, VFM_Z3_LOOP_HEAD, P_SOUND, mk_and2(z, e, v));
}

/* The inductive pass: loop head h as a start, with fresh slots inside its
 * abstract state. */
static void start_at_head(struct zc *z, uint32_t h)
{
	Z3_context c = z->c;
	struct znode *nd = node_at(z, h, 0);
	int d = z->f->depth[h];
	if (!(z->f->flags[h] & VFM_FACT_REACHED) || d < 0)
		return; /* claimed unreachable: arrivals there are refuted */
	size_t m = N_SCRATCH + (size_t)d;
	nd->slot = malloc(m * sizeof *nd->slot);
	if (!nd->slot) {
		z->oom = true;
		return;
	}
	for (size_t j = 0; j < m; j++) {
		char name[48];
		snprintf(name, sizeof name, "head_%u_%zu", h, j);
		nd->slot[j] = Z3_mk_const(c, Z3_mk_string_symbol(c, name), z->b64);
	}
	Z3_ast v = vfm_z3i_state_viol(z, h, nd->slot);
	nd->reach = mk_and2(z, vfm_z3i_start(z, h), v ? mk_not(z, v) : z->tru);
	nd->idom = NO_NODE;
	nd->insn = h;
}

Z3_ast vfm_z3i_start(struct zc *z, uint32_t i)
{
	return Z3_mk_eq(z->c, z->sel, num_w(z, i < z->n ? z->head[i] : 0, 32));
}

/* An edge from node `from` with condition e into (to, k) carrying state st
 * (scratch, then depth stack words). */
static void edge(struct zc *z, uint32_t from, uint32_t to, uint32_t k, Z3_ast e, Z3_ast *st,
		 int depth)
{
	if (e == z->fal)
		return;
	if (z->inductive && to < z->n && z->head[to] && z->f->depth[to] == depth) {
		arrive(z, to, e, st);
		return;
	}
	if (to < z->n && z->levels[to] && k >= z->levels[to]) {
		if (z->n_cut == z->cap_cut) {
			size_t ncap = z->cap_cut ? z->cap_cut * 2 : 16;
			Z3_ast *p = realloc(z->cut, ncap * sizeof *p);
			if (!p) {
				z->oom = true;
				return;
			}
			z->cut = p;
			z->cap_cut = ncap;
		}
		z->cut[z->n_cut++] = e;
		return;
	}
	if (to >= z->n || z->f->depth[to] != depth) {
		/* The structural verifier's depth is wrong here (or the
		 * instruction was declared unreachable): a claim about depth. */
		vfm_z3i_add_claim(z, to < z->n ? to : z->n - 1, VFM_Z3_DEPTH, P_SOUND, e);
		return;
	}
	struct znode *nd = node_at(z, to, k);
	size_t m = N_SCRATCH + (size_t)depth;
	if (!nd->reach) {
		nd->slot = malloc((m ? m : 1) * sizeof *nd->slot);
		if (!nd->slot) {
			z->oom = true;
			return;
		}
		memcpy(nd->slot, st, m * sizeof *st);
		nd->reach = e;
		nd->idom = from;
		nd->insn = to;
		return;
	}
	nd->idom = dom_meet(z, nd->idom, from);
	nd->reach = mk_or2(z, nd->reach, e);
	for (size_t j = 0; j < m; j++)
		if (nd->slot[j] != st[j])
			nd->slot[j] = Z3_mk_ite(z->c, e, st[j], nd->slot[j]);
}

/* Level of the edge i -> t taken at level k: within one strongly
 * connected region a backward jump (t <= i) counts one more, a forward
 * edge keeps the count; entering another region starts at 0. */
static uint32_t next_level(const struct zc *z, uint32_t i, uint32_t t, uint32_t k)
{
	if (t >= z->n || z->sccs.scc[t] != z->sccs.scc[i])
		return 0;
	return t <= i ? k + 1 : k;
}

static void step(struct zc *z, uint32_t i, uint32_t k)
{
	struct znode *nd = node_at(z, i, k);
	uint32_t me = z->base[i] + k;
	const struct vfm_insn *insn = &z->prog->insns[i];
	const struct vfm_opinfo *info = &vfm_opinfo[insn->opcode];
	Z3_context c = z->c;
	Z3_ast S[N_SCRATCH + VFM_MAX_STACK + 2];
	Z3_ast *M = S, *st = S + N_SCRATCH;
	Z3_ast R = nd->reach;
	int d = z->f->depth[i];
	memcpy(S, nd->slot, (N_SCRATCH + (size_t)d) * sizeof *S);

	switch ((enum vfm_op_class)info->cls) {
	case VFM_CLASS_STACK:
		switch ((enum vfm_stack_op)insn->opcode) {
		case VFM_STACK_PUSH: st[d++] = num64(z, insn->imm); break;
		case VFM_STACK_POP: d--; break;
		case VFM_STACK_DUP: st[d] = st[d - 1]; d++; break;
		case VFM_STACK_SWAP: {
			Z3_ast t = st[d - 1];
			st[d - 1] = st[d - 2];
			st[d - 2] = t;
			break;
		}
		case VFM_STACK_OVER: st[d] = st[d - 2]; d++; break;
		case VFM_STACK_LDM: st[d++] = M[insn->aux & 15]; break;
		case VFM_STACK_STM: M[insn->aux & 15] = st[--d]; break;
		}
		break;

	case VFM_CLASS_LOAD: {
		uint64_t end = (uint64_t)insn->arg + info->size;
		/* len is at most 2^32 - 1: a load ending past that never fits. */
		Z3_ast inb = end > UINT32_MAX ? z->fal : Z3_mk_bvule(c, num64(z, end), z->len64);
		nd->cond = inb;
		st[d++] = load_bytes(z, num_w(z, insn->arg, 32), info->size);
		edge(z, me, i + 1, next_level(z, i, i + 1, k), mk_and2(z, R, inb), S, d);
		return;
	}

	case VFM_CLASS_LOADX: {
		Z3_ast x = st[d - 1];
		/* off = x + k exactly (65 bits); in bounds iff off + size <= len. */
		Z3_ast off = Z3_mk_bvadd(c, Z3_mk_zero_ext(c, 1, x), num_w(z, insn->arg, 65));
		Z3_ast end = Z3_mk_bvadd(c, off, num_w(z, info->size, 65));
		Z3_ast inb = Z3_mk_bvule(c, end, Z3_mk_zero_ext(c, 33, z->len32));
		nd->cond = inb;
		nd->index = x;
		Z3_ast addr = Z3_mk_bvadd(c, Z3_mk_extract(c, 31, 0, x), num_w(z, insn->arg, 32));
		st[d - 1] = load_bytes(z, addr, info->size);
		edge(z, me, i + 1, next_level(z, i, i + 1, k), mk_and2(z, R, inb), S, d);
		return;
	}

	case VFM_CLASS_ALU2: {
		Z3_ast b = st[--d], a = st[d - 1];
		if (insn->opcode == VFM_OPC_DIV || insn->opcode == VFM_OPC_MOD)
			nd->cond = Z3_mk_eq(c, b, z->zero64);
		st[d - 1] = alu2(z, insn->opcode, a, b);
		break;
	}

	case VFM_CLASS_ALU1:
		st[d - 1] = alu1(z, insn->opcode, st[d - 1]);
		break;

	case VFM_CLASS_JMP: {
		uint32_t t = insn->arg;
		edge(z, me, t, next_level(z, i, t, k), R, S, d);
		return;
	}

	case VFM_CLASS_JCC: {
		Z3_ast b = st[--d];
		Z3_ast a = st[--d];
		Z3_ast cnd = rel_term(z, vfm_jcc_rel(insn->opcode, true), a, b);
		uint32_t t = insn->arg;
		edge(z, me, t, next_level(z, i, t, k), mk_and2(z, R, cnd), S, d);
		edge(z, me, i + 1, next_level(z, i, i + 1, k), mk_and2(z, R, mk_not(z, cnd)), S, d);
		return;
	}

	case VFM_CLASS_RET:
		switch ((enum vfm_ret_op)insn->opcode) {
		case VFM_RET_RET: nd->ret = st[d - 1]; break;
		case VFM_RET_RETK: nd->ret = num64(z, insn->arg); break;
		}
		return;

	case VFM_CLASS_SPECIAL:
		switch ((enum vfm_special_op)insn->opcode) {
		case VFM_SPECIAL_LEN: st[d++] = z->len64; break;
		case VFM_SPECIAL_WLEN: st[d++] = z->wlen64; z->uses_wlen = true; break;
		case VFM_SPECIAL_HASH5: st[d++] = z->h5; z->uses_hash5 = true; break;
		case VFM_SPECIAL_TS: st[d++] = z->ts; z->uses_ts = true; break;
		case VFM_SPECIAL_FLOW_LOAD: {
			char name[48];
			snprintf(name, sizeof name, "flow_load_%u_%u", i, k);
			nd->fresh = Z3_mk_const(c, Z3_mk_string_symbol(c, name), z->b64);
			st[d - 1] = nd->fresh;
			z->uses_flow = true;
			break;
		}
		case VFM_SPECIAL_FLOW_STORE: d -= 2; break;
		}
		break;
	}
	edge(z, me, i + 1, next_level(z, i, i + 1, k), R, S, d);
}

/* ---- the unrolled graph ----------------------------------------------------- */

/* Nodes per instruction for bound K; returns the total. */
uint64_t vfm_z3i_layout_nodes(struct zc *z)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < z->n; i++) {
		uint32_t r = z->sccs.scc[i];
		z->levels[i] = r == UINT32_MAX ? 0 : z->sccs.loop[r] ? z->K + 1 : 1;
		z->base[i] = (uint32_t)total;
		total += z->levels[i];
	}
	return total;
}

/* Build the terms: every node's reach condition and state. */
vfm_error_t vfm_z3i_encode(struct zc *z)
{
	struct vfm_z3_report *rep = z->rep;
	Z3_context c = z->c;

	z->b8 = Z3_mk_bv_sort(c, 8);
	z->b32 = Z3_mk_bv_sort(c, 32);
	z->b64 = Z3_mk_bv_sort(c, 64);
	z->len32 = Z3_mk_const(c, Z3_mk_string_symbol(c, "len"), z->b32);
	z->len64 = Z3_mk_zero_ext(c, 32, z->len32);
	z->pkt = Z3_mk_func_decl(c, Z3_mk_string_symbol(c, "packet"), 1, &z->b32, z->b8);
	z->ts = Z3_mk_const(c, Z3_mk_string_symbol(c, "ts"), z->b64);
	/* WLEN: the caller's wire length, any 32-bit value; 0 means "none"
	 * and WLEN then reads the packet length (vfm_sem_wire_len). */
	z->wire_in = Z3_mk_const(c, Z3_mk_string_symbol(c, "wire_len"), z->b32);
	z->wlen64 = Z3_mk_zero_ext(c, 32, Z3_mk_ite(c, Z3_mk_eq(c, z->wire_in, num_w(z, 0, 32)),
						    z->len32, z->wire_in));
	z->h5 = Z3_mk_const(c, Z3_mk_string_symbol(c, "hash5"), z->b64);
	z->tru = Z3_mk_true(c);
	z->fal = Z3_mk_false(c);
	z->zero64 = num64(z, 0);

	z->tactic = Z3_mk_tactic(c, "qfufbv");
	Z3_tactic_inc_ref(c, z->tactic);
	if (vfm_z3i_failed(z))
		return VFM_EUNSUPPORTED;

	/* Encode: entry node (0, 0) with zero scratch and an empty stack;
	 * in the inductive pass also every loop head, and the entry is the
	 * start sel == 0. */
	Z3_ast init[N_SCRATCH];
	for (unsigned w = 0; w < N_SCRATCH; w++)
		init[w] = z->zero64;
	Z3_ast entry = z->tru;
	if (z->inductive) {
		z->sel = Z3_mk_const(c, Z3_mk_string_symbol(c, "start"), z->b32);
		entry = Z3_mk_eq(c, z->sel, num_w(z, 0, 32));
		for (uint32_t i = 0; i < z->n && !z->oom; i++)
			if (z->head[i] && z->levels[i])
				start_at_head(z, i);
	}
	edge(z, NO_NODE, 0, 0, entry, init, 0);
	/* Regions in topological order; within a loop region level by level,
	 * within a level in index order: every node after its predecessors. */
	for (uint32_t r = z->sccs.n_scc; r-- > 0 && !z->oom;) {
		uint32_t levels = z->sccs.loop[r] ? z->K + 1 : 1;
		for (uint32_t k = 0; k < levels && !z->oom; k++) {
			bool any = false;
			for (uint32_t p = z->sccs.first[r]; p < z->sccs.first[r + 1] && !z->oom; p++) {
				uint32_t i = z->sccs.member[p], id = z->base[i] + k;
				if (!z->nodes[id].reach)
					continue;
				any = true;
				z->ord[id] = z->n_visited;
				z->visit[z->n_visited++] = id;
				step(z, i, k);
			}
			if (!any)
				break;
			if (k > 0)
				rep->loops = true;
		}
		if (vfm_z3i_failed(z))
			return VFM_EUNSUPPORTED;
	}
	if (z->oom)
		return VFM_ENOMEM;
	rep->nodes = z->n_visited;
	if (z->n_cut)
		rep->loops = true;
	return VFM_OK;
}
