/*
 * verifier/z3/z3check.c — Z3 cross-check of the verifier's claims on the
 * program's exact semantics.  What is encoded and checked: z3check.h.
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
 * A slot claim at a node is not asked again when a dominator of the node
 * (every path to it passes there) holds the same term with a claim at
 * least as strong: it follows from that one (and is refuted, or unknown,
 * with it).
 *
 * Queries.  A claim is a Boolean term that is satisfiable iff the claim is
 * false ("violation"), already conjoined with the reach conditions.  A
 * group of claims is asked as one disjunction: unsat proves them all;
 * sat gives a model, every claim the model violates is refuted (a
 * counterexample is extracted, optionally a shorter one is searched), and
 * the rest is asked again; unknown (timeout) splits the group in halves
 * down to single claims, which are then reported unknown.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <z3.h>

#include "../../vm/program.h"
#include "../../vm/semantics.h"
#include "../domain.h"
#include "z3check.h"

#define N_SCRATCH VFM_SCRATCH_WORDS

/* ---- small utilities ----------------------------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->n;
		int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (w < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)w < room) {
			b->n += (size_t)w;
			return;
		}
		size_t ncap = b->cap ? b->cap * 2 : 256;
		while (ncap < b->n + (size_t)w + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the checker's state ------------------------------------------------- */

struct znode {
	Z3_ast reach;  /* NULL: no edge reaches this node */
	Z3_ast *slot;  /* N_SCRATCH scratch words, then the stack */
	Z3_ast cond;   /* loads: in bounds; DIV/MOD: divisor is zero */
	Z3_ast index;  /* indexed loads: the popped index */
	Z3_ast fresh;  /* FLOW_LOAD: its value */
	Z3_ast ret;    /* RET, RET k: the popped word or k (64 bits) */
	Z3_ast vviol;  /* reach and some slot outside its claim (NULL: none) */
	Z3_ast iviol;  /* reach and some identity broken (NULL: none) */
	uint32_t idom; /* immediate dominator (node id), NO_NODE for the entry */
	uint32_t insn;
	/* What is known (claimed here or at a dominator) about each slot's
	 * term: [0] the length, [1..16] scratch, then the stack.  NULL until
	 * the node's claims are made. */
	struct vfm_aval *known;
};

#define NO_NODE UINT32_MAX

enum { CL_PENDING, CL_HOLDS, CL_VIOLATED, CL_UNKNOWN };
enum { P_SOUND, P_PRECISION };

struct claim {
	uint32_t insn;
	uint8_t kind;    /* enum vfm_z3_claim_kind (P_SOUND) */
	uint8_t purpose;
	uint8_t status;
	Z3_ast viol;     /* satisfiable iff the claim fails */
};

struct zc {
	const struct vfm_program *prog;
	const struct vfm_facts *f;
	struct vfm_z3_options opt;
	struct vfm_z3_report *rep;
	Z3_context c;
	Z3_sort b8, b32, b64;
	Z3_ast len32, len64, wlen32, wlen64, ts, h5, tru, fal, zero64;
	Z3_func_decl pkt; /* the packet: BV32 -> BV8 (reads only: an array) */
	Z3_tactic tactic;
	uint32_t n, K;
	/* Nodes of insn i: nodes[base[i] + k] for k < levels[i] (K + 1 in a
	 * loop, else 1; 0 if structurally unreachable). */
	struct znode *nodes;
	uint32_t *base;
	uint32_t *levels;
	uint32_t *scc;       /* strongly connected region of each insn */
	uint32_t *ord;       /* node id -> position in the visiting order */
	uint32_t n_nodes;
	uint32_t n_scc;      /* regions, numbered in reverse topological order */
	uint32_t *scc_first; /* members of region r: member[scc_first[r] ..] */
	uint32_t *member;    /* by region, each in index order */
	uint8_t *scc_loop;   /* region r contains a cycle */
	uint32_t *visit;     /* node ids in visiting order */
	uint32_t n_visited;
	bool uses_hash5, uses_flow, uses_ts, uses_wlen;
	Z3_ast *cut;
	size_t n_cut, cap_cut;
	struct claim *cl;
	size_t n_cl, cap_cl;
	bool oom;
};

static struct znode *node_at(struct zc *z, uint32_t insn, uint32_t k)
{
	return &z->nodes[z->base[insn] + k];
}

static void on_z3_error(Z3_context c, Z3_error_code e)
{
	(void)c;
	(void)e; /* checked with Z3_get_error_code after each phase */
}

static bool z3_failed(struct zc *z)
{
	Z3_error_code e = Z3_get_error_code(z->c);
	if (e == Z3_OK)
		return false;
	if (!z->rep->error[0])
		snprintf(z->rep->error, sizeof z->rep->error, "Z3 error: %s",
			 Z3_get_error_msg(z->c, e));
	return true;
}

/* ---- term helpers -------------------------------------------------------- */

static Z3_ast num64(struct zc *z, uint64_t v)
{
	return Z3_mk_unsigned_int64(z->c, v, z->b64);
}

static Z3_ast num_w(struct zc *z, uint64_t v, unsigned bits)
{
	return Z3_mk_unsigned_int64(z->c, v, Z3_mk_bv_sort(z->c, bits));
}

static Z3_ast mk_and2(struct zc *z, Z3_ast a, Z3_ast b)
{
	if (a == z->fal || b == z->fal)
		return z->fal;
	if (a == z->tru)
		return b;
	if (b == z->tru)
		return a;
	Z3_ast args[2] = {a, b};
	return Z3_mk_and(z->c, 2, args);
}

static Z3_ast mk_or2(struct zc *z, Z3_ast a, Z3_ast b)
{
	if (!a || a == z->fal)
		return b;
	if (!b || b == z->fal)
		return a;
	if (a == z->tru || b == z->tru)
		return z->tru;
	Z3_ast args[2] = {a, b};
	return Z3_mk_or(z->c, 2, args);
}

static Z3_ast mk_not(struct zc *z, Z3_ast a)
{
	if (a == z->tru)
		return z->fal;
	if (a == z->fal)
		return z->tru;
	return Z3_mk_not(z->c, a);
}

/* A disjunction of n terms (NULL entries skipped); false if none. */
static Z3_ast mk_orn(struct zc *z, Z3_ast *t, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!t[i] || t[i] == z->fal)
			continue;
		if (t[i] == z->tru)
			return z->tru;
		t[m++] = t[i];
	}
	if (m == 0)
		return z->fal;
	if (m == 1)
		return t[0];
	return Z3_mk_or(z->c, (unsigned)m, t);
}

static bool is_const(struct zc *z, Z3_ast t, uint64_t *v)
{
	return Z3_is_numeral_ast(z->c, t) && Z3_get_numeral_uint64(z->c, t, v);
}

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

static Z3_ast alu2(struct zc *z, uint8_t opcode, Z3_ast a, Z3_ast b)
{
	Z3_context c = z->c;
	switch ((enum vfm_opcode)opcode) {
	case VFM_OPC_ADD: return Z3_mk_bvadd(c, a, b);
	case VFM_OPC_SUB: return Z3_mk_bvsub(c, a, b);
	case VFM_OPC_MUL: return Z3_mk_bvmul(c, a, b);
	case VFM_OPC_DIV: { /* x / 0 = 0 (SMT-LIB's bvudiv gives all ones) */
		Z3_ast q = Z3_mk_ite(c, Z3_mk_eq(c, b, z->zero64), z->zero64, Z3_mk_bvudiv(c, a, b));
		/* Guarded as MOD: q <= a always holds. */
		return Z3_mk_ite(c, Z3_mk_bvule(c, q, a), q, z->zero64);
	}
	case VFM_OPC_MOD: { /* x % 0 = x */
		Z3_ast b0 = Z3_mk_eq(c, b, z->zero64);
		Z3_ast r = Z3_mk_ite(c, b0, a, Z3_mk_bvurem(c, a, b));
		/* Guarded form, equal to r for every input: the guard
		 * (b = 0 or r < b) and r <= a always holds, so the solver can
		 * bound r by comparisons without reasoning through the divider
		 * circuit ("x % len < len"). */
		Z3_ast g[2] = {Z3_mk_bvult(c, r, b), b0};
		Z3_ast both[2] = {Z3_mk_or(c, 2, g), Z3_mk_bvule(c, r, a)};
		return Z3_mk_ite(c, Z3_mk_and(c, 2, both), r, z->zero64);
	}
	case VFM_OPC_AND: return Z3_mk_bvand(c, a, b);
	case VFM_OPC_OR: return Z3_mk_bvor(c, a, b);
	case VFM_OPC_XOR: return Z3_mk_bvxor(c, a, b);
	case VFM_OPC_SHL: return Z3_mk_bvshl(c, a, Z3_mk_bvand(c, b, num64(z, 63)));
	case VFM_OPC_SHR: return Z3_mk_bvlshr(c, a, Z3_mk_bvand(c, b, num64(z, 63)));
	default: return NULL;
	}
}

static Z3_ast compare(struct zc *z, uint8_t opcode, Z3_ast a, Z3_ast b)
{
	Z3_context c = z->c;
	switch ((enum vfm_opcode)opcode) {
	case VFM_OPC_JEQ: return Z3_mk_eq(c, a, b);
	case VFM_OPC_JNE: return Z3_mk_not(c, Z3_mk_eq(c, a, b));
	case VFM_OPC_JGT: return Z3_mk_bvugt(c, a, b);
	case VFM_OPC_JGE: return Z3_mk_bvuge(c, a, b);
	case VFM_OPC_JLT: return Z3_mk_bvult(c, a, b);
	case VFM_OPC_JLE: return Z3_mk_bvule(c, a, b);
	case VFM_OPC_JSET: return Z3_mk_not(c, Z3_mk_eq(c, Z3_mk_bvand(c, a, b), z->zero64));
	default: return NULL;
	}
}

/* ---- claims -------------------------------------------------------------- */

static void add_claim(struct zc *z, uint32_t insn, uint8_t kind, uint8_t purpose, Z3_ast viol)
{
	if (z->n_cl == z->cap_cl) {
		size_t ncap = z->cap_cl ? z->cap_cl * 2 : 64;
		struct claim *p = realloc(z->cl, ncap * sizeof *p);
		if (!p) {
			z->oom = true;
			return;
		}
		z->cl = p;
		z->cap_cl = ncap;
	}
	z->cl[z->n_cl++] = (struct claim){insn, kind, purpose, CL_PENDING, viol};
}

/* ---- symbolic execution -------------------------------------------------- */

/* Nearest common dominator of two visited nodes. */
static uint32_t dom_meet(struct zc *z, uint32_t a, uint32_t b)
{
	/* Both are visited nodes: walk the later one up. */
	while (a != b) {
		while (z->ord[a] > z->ord[b])
			a = z->nodes[a].idom;
		while (z->ord[b] > z->ord[a])
			b = z->nodes[b].idom;
	}
	return a;
}

/* An edge from node `from` with condition e into (to, k) carrying state st
 * (scratch, then depth stack words). */
static void edge(struct zc *z, uint32_t from, uint32_t to, uint32_t k, Z3_ast e, Z3_ast *st,
		 int depth)
{
	if (e == z->fal)
		return;
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
		add_claim(z, to < z->n ? to : z->n - 1, VFM_Z3_DEPTH, P_SOUND, e);
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
	if (t >= z->n || z->scc[t] != z->scc[i])
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
		st[d - 1] = insn->opcode == VFM_OPC_NOT ? Z3_mk_bvnot(c, st[d - 1])
							: Z3_mk_bvneg(c, st[d - 1]);
		break;

	case VFM_CLASS_JMP: {
		uint32_t t = insn->arg;
		edge(z, me, t, next_level(z, i, t, k), R, S, d);
		return;
	}

	case VFM_CLASS_JCC: {
		Z3_ast b = st[--d];
		Z3_ast a = st[--d];
		Z3_ast cnd = compare(z, insn->opcode, a, b);
		uint32_t t = insn->arg;
		edge(z, me, t, next_level(z, i, t, k), mk_and2(z, R, cnd), S, d);
		edge(z, me, i + 1, next_level(z, i, i + 1, k), mk_and2(z, R, mk_not(z, cnd)), S, d);
		return;
	}

	case VFM_CLASS_RET:
		nd->ret = insn->opcode == VFM_OPC_RET ? st[d - 1] : num64(z, insn->arg);
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

/* ---- claims from the facts ---------------------------------------------- */

/* Violation of "v lies in a": NULL if a says nothing (or v is a constant
 * inside it). */
static Z3_ast outside(struct zc *z, Z3_ast v, struct vfm_aval a)
{
	uint64_t cv;
	if (is_const(z, v, &cv))
		return vfm_aval_contains(a, cv) ? NULL : z->tru;
	Z3_ast t[3];
	size_t m = 0;
	if (a.itv.lo > 0)
		t[m++] = Z3_mk_bvult(z->c, v, num64(z, a.itv.lo));
	if (a.itv.hi < UINT64_MAX)
		t[m++] = Z3_mk_bvugt(z->c, v, num64(z, a.itv.hi));
	if (a.tn.mask != UINT64_MAX)
		t[m++] = Z3_mk_not(z->c, Z3_mk_eq(z->c, Z3_mk_bvand(z->c, v, num64(z, ~a.tn.mask)),
						 num64(z, a.tn.value)));
	return m ? mk_orn(z, t, m) : NULL;
}

/* The concrete term of state slot j at node nd (layout of vm/program.h). */
static Z3_ast slot_term(struct zc *z, const struct znode *nd, uint32_t j)
{
	uint32_t ns = z->f->n_scratch;
	if (j == 0)
		return z->len64;
	if (j <= ns)
		return nd->slot[j - 1];
	return nd->slot[N_SCRATCH + (j - 1 - ns)];
}

/* Node slot numbering for `known`: 0 the length, 1 + w scratch word w,
 * 1 + N_SCRATCH + p stack word p. */
static Z3_ast nslot_term(struct zc *z, const struct znode *nd, uint32_t q)
{
	return q == 0 ? z->len64 : nd->slot[q - 1];
}

/* Does every value of a lie in b? */
static bool aval_within(struct vfm_aval a, struct vfm_aval b)
{
	return a.itv.lo >= b.itv.lo && a.itv.hi <= b.itv.hi &&
	       (a.tn.mask & ~b.tn.mask) == 0 && (a.tn.value & ~b.tn.mask) == b.tn.value;
}

/* Both hold: a value lies in the meet (a itself if the meet is empty,
 * i.e. the node is unreachable). */
static struct vfm_aval aval_both(struct vfm_aval a, struct vfm_aval b)
{
	bool e1 = false, e2 = false;
	struct vfm_aval r;
	r.itv = vfm_itv_meet(a.itv, b.itv, &e1);
	r.tn = vfm_tnum_meet(a.tn, b.tn, &e2);
	return e1 || e2 ? a : r;
}

/*
 * The value and identity claims at node id: nd->vviol, nd->iviol.  A slot
 * whose term (the same Z3 term, so the same function of the inputs) was
 * already claimed at a dominator with a value set inside this claim needs
 * no new query: every path here passes through that dominator.  Nodes are
 * visited in topological order, so the dominator's `known` is ready.
 */
static void node_claims(struct zc *z, uint32_t id, Z3_ast *tmp)
{
	const struct vfm_facts *f = z->f;
	struct znode *nd = &z->nodes[id];
	uint32_t i = nd->insn;
	if (!nd->reach || !(f->flags[i] & VFM_FACT_REACHED) || f->depth[i] < 0)
		return;
	const struct vfm_aslot *s = f->states + f->state_off[i];
	uint32_t ns = f->n_scratch, d = (uint32_t)f->depth[i];
	uint32_t m = 1 + N_SCRATCH + d;
	nd->known = malloc(m * sizeof *nd->known);
	if (!nd->known) {
		z->oom = true;
		return;
	}
	const struct znode *dom = nd->idom != NO_NODE ? &z->nodes[nd->idom] : NULL;
	uint32_t dm = 0;
	if (dom && dom->known)
		dm = 1 + N_SCRATCH + (uint32_t)f->depth[dom->insn];
	size_t nt = 0;
	for (uint32_t q = 0; q < m; q++) {
		struct vfm_aval claim;
		if (q == 0)
			claim = s[0].v;
		else if (q <= N_SCRATCH)
			claim = q - 1 < ns ? s[q].v : vfm_aval_const(0);
		else
			claim = s[1 + ns + (q - 1 - N_SCRATCH)].v;
		Z3_ast t = nslot_term(z, nd, q);
		const struct vfm_aval *inh = NULL;
		if (dm) {
			if (q < dm && nslot_term(z, dom, q) == t)
				inh = &dom->known[q];
			for (uint32_t r = 0; r < dm && !inh; r++)
				if (nslot_term(z, dom, r) == t)
					inh = &dom->known[r];
		}
		if (inh && aval_within(*inh, claim)) {
			nd->known[q] = *inh;
			continue;
		}
		nd->known[q] = inh ? aval_both(*inh, claim) : claim;
		Z3_ast v = outside(z, t, claim);
		if (v)
			tmp[nt++] = v;
	}
	Z3_ast v = mk_orn(z, tmp, nt);
	if (v != z->fal)
		nd->vviol = mk_and2(z, nd->reach, v);

	nt = 0;
	uint32_t mf = 1 + ns + d;
	for (uint32_t j = 0; j < mf; j++) {
		if (s[j].id == 0)
			continue;
		Z3_ast a = slot_term(z, nd, j), b = NULL;
		if (s[j].id == VFM_ID_LEN) {
			b = z->len64;
		} else {
			for (uint32_t q = 0; q < j && !b; q++)
				if (s[q].id == s[j].id)
					b = slot_term(z, nd, q);
		}
		if (b && a != b)
			tmp[nt++] = mk_not(z, Z3_mk_eq(z->c, a, b));
	}
	v = mk_orn(z, tmp, nt);
	if (v != z->fal)
		nd->iviol = mk_and2(z, nd->reach, v);
}

/* A load the verifier did not prove, that Z3 shows always in bounds. */
static void note_provable(struct vfm_z3_report *rep, uint32_t pc)
{
	rep->provable++;
	if (rep->n_gap < VFM_Z3_MAX_GAP)
		rep->gap_pc[rep->n_gap++] = pc;
}

static void claims_at(struct zc *z, uint32_t i, Z3_ast *tmp, Z3_ast *vv, Z3_ast *iv)
{
	const struct vfm_facts *f = z->f;
	uint8_t fl = f->flags[i];
	const struct vfm_insn *insn = &z->prog->insns[i];
	uint8_t cls = vfm_opinfo[insn->opcode].cls;
	struct vfm_z3_report *rep = z->rep;
	uint32_t nk = 0;

	if (!(fl & VFM_FACT_REACHED) || f->depth[i] < 0) {
		rep->checked[VFM_Z3_UNREACHABLE]++;
		for (uint32_t k = 0; k < z->levels[i]; k++)
			tmp[nk++] = node_at(z, i, k)->reach;
		Z3_ast v = mk_orn(z, tmp, nk);
		if (v != z->fal)
			add_claim(z, i, VFM_Z3_UNREACHABLE, P_SOUND, v);
		return;
	}

	/* Values and identities, at every node of i. */
	const struct vfm_aslot *s = f->states + f->state_off[i];
	uint32_t ns = f->n_scratch, m = 1 + ns + (uint32_t)f->depth[i];
	rep->checked[VFM_Z3_VALUE] += m + (N_SCRATCH - ns);
	for (uint32_t j = 0; j < m; j++)
		if (s[j].id != 0)
			rep->checked[VFM_Z3_IDENTITY]++;
	uint32_t nv = 0, ni = 0;
	for (uint32_t k = 0; k < z->levels[i]; k++) {
		struct znode *nd = node_at(z, i, k);
		if (nd->vviol)
			vv[nv++] = nd->vviol;
		if (nd->iviol)
			iv[ni++] = nd->iviol;
	}
	if (nv)
		add_claim(z, i, VFM_Z3_VALUE, P_SOUND, mk_orn(z, vv, nv));
	if (ni)
		add_claim(z, i, VFM_Z3_IDENTITY, P_SOUND, mk_orn(z, iv, ni));

	/* Loads and divisors. */
	bool is_load = cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX;
	bool is_div = insn->opcode == VFM_OPC_DIV || insn->opcode == VFM_OPC_MOD;
	if (!is_load && !(is_div && !(fl & VFM_FACT_MAY_DIV0)))
		return;
	uint8_t kind, purpose = P_SOUND;
	bool want_true = true; /* the claim is "cond holds" (else "never holds") */
	if (is_div) {
		kind = VFM_Z3_NONZERO_DIVISOR;
		want_true = false;
	} else if (fl & VFM_FACT_IN_BOUNDS) {
		kind = VFM_Z3_IN_BOUNDS;
	} else if (fl & VFM_FACT_ALWAYS_OOB) {
		kind = VFM_Z3_ALWAYS_OOB;
		want_true = false;
	} else {
		kind = VFM_Z3_IN_BOUNDS;
		purpose = P_PRECISION;
	}
	if (purpose == P_SOUND)
		rep->checked[kind]++;
	else if (!z->opt.precision)
		return;
	nv = 0;
	for (uint32_t k = 0; k < z->levels[i]; k++) {
		struct znode *nd = node_at(z, i, k);
		if (nd->reach)
			vv[nv++] = mk_and2(z, nd->reach, want_true ? mk_not(z, nd->cond) : nd->cond);
	}
	Z3_ast v = mk_orn(z, vv, nv);
	if (v == z->fal) {
		if (purpose == P_PRECISION)
			note_provable(rep, z->prog->pc_of[i]);
		return;
	}
	add_claim(z, i, kind, purpose, v);
}

/* ---- solving ------------------------------------------------------------- */

/* One query, on a fresh solver running the qfufbv tactic (simplification,
 * Ackermann reduction of the packet function, bit-blasting, SAT).  Much
 * faster here than an incremental solver (Z3's push/pop and assumption
 * modes use other engines that are slow on these formulas, measured), at
 * the price of bit-blasting each query's cone.  (Writing the Ackermann
 * reduction out in the encoding instead, for pure QF_BV, was measured
 * too: it puts every earlier packet read into the cone of every later
 * computed read, and was much slower on programs with indexed loads in
 * loops.) */
static Z3_lbool solve(struct zc *z, Z3_ast q, Z3_model *model, uint32_t timeout_ms,
		      const char *what)
{
	Z3_context c = z->c;
	double t0 = z->opt.trace ? now_seconds() : 0;
	z->rep->queries++;
	Z3_solver s = Z3_mk_solver_from_tactic(c, z->tactic);
	Z3_solver_inc_ref(c, s);
	if (timeout_ms) {
		Z3_params p = Z3_mk_params(c);
		Z3_params_inc_ref(c, p);
		Z3_params_set_uint(c, p, Z3_mk_string_symbol(c, "timeout"), timeout_ms);
		Z3_solver_set_params(c, s, p);
		Z3_params_dec_ref(c, p);
	}
	Z3_solver_assert(c, s, q);
	Z3_lbool r = Z3_solver_check(c, s);
	if (r == Z3_L_TRUE && model) {
		*model = Z3_solver_get_model(c, s);
		Z3_model_inc_ref(c, *model);
	}
	if (r == Z3_L_UNDEF)
		z->rep->timeouts++;
	Z3_solver_dec_ref(c, s);
	if (z->opt.trace)
		fprintf(z->opt.trace, "z3 query: %s: %s in %.3f s\n", what,
			r == Z3_L_TRUE ? "sat" : r == Z3_L_FALSE ? "unsat" : "unknown",
			now_seconds() - t0);
	return r;
}

static bool eval_true(struct zc *z, Z3_model m, Z3_ast t)
{
	Z3_ast out = NULL;
	return Z3_model_eval(z->c, m, t, true, &out) && out &&
	       Z3_get_bool_value(z->c, out) == Z3_L_TRUE;
}

static uint64_t eval_u64(struct zc *z, Z3_model m, Z3_ast t)
{
	Z3_ast out = NULL;
	uint64_t v = 0;
	if (Z3_model_eval(z->c, m, t, true, &out) && out)
		Z3_get_numeral_uint64(z->c, out, &v);
	return v;
}

static const char *const kind_names[VFM_Z3_KIND_COUNT] = {
	"value", "identity", "in-bounds", "always-out-of-bounds", "nonzero-divisor",
	"unreachable", "depth",
};

const char *vfm_z3_kind_name(enum vfm_z3_claim_kind kind)
{
	return (unsigned)kind < VFM_Z3_KIND_COUNT ? kind_names[kind] : "?";
}

static void slot_name(const struct zc *z, uint32_t i, uint32_t j, char *buf, size_t n)
{
	uint32_t ns = z->f->n_scratch;
	if (j == 0)
		snprintf(buf, n, "packet length");
	else if (j <= ns)
		snprintf(buf, n, "M[%u]", j - 1);
	else {
		uint32_t sp = j - 1 - ns, d = (uint32_t)z->f->depth[i];
		snprintf(buf, n, "stack[%u]%s", sp, sp + 1 == d ? " (top)" : "");
	}
}

static void fmt_aval(const struct vfm_aslot *s, char *buf, size_t n)
{
	const struct vfm_aval *v = &s->v;
	char id[24] = "";
	if (s->id == VFM_ID_LEN)
		snprintf(id, sizeof id, " =len");
	else if (s->id)
		snprintf(id, sizeof id, " #%u", s->id);
	snprintf(buf, n, "[%#" PRIx64 ", %#" PRIx64 "] bits %#" PRIx64 "/%#" PRIx64 "%s",
		 v->itv.lo, v->itv.hi, v->tn.value, v->tn.mask, id);
}

/* Describe what the model m refutes about claim cl into f->text etc. */
static void describe_failure(struct zc *z, const struct claim *cl, Z3_model m,
			     struct vfm_z3_failure *fail)
{
	const struct vfm_facts *f = z->f;
	uint32_t i = cl->insn;
	struct sbuf b = {0};
	char where[200], insn_text[64], sname[48], aval[160];
	vfm_describe_pc(z->prog, z->prog->pc_of[i], where, sizeof where);
	vfm_format_insn(z->prog->code, z->prog->code_size, z->prog->pc_of[i], insn_text,
			sizeof insn_text);
	fail->insn = i;
	fail->pc = z->prog->pc_of[i];
	fail->kind = cl->kind;
	fail->slot = -1;
	sb_printf(&b, "%s: %s: unsound %s claim", where, insn_text, vfm_z3_kind_name(cl->kind));

	/* The node of i where the counterexample breaks the claim (a loop
	 * may reach several nodes of i on one path). */
	uint32_t k = 0;
	for (; k < z->levels[i]; k++) {
		struct znode *nd = node_at(z, i, k);
		Z3_ast v = NULL;
		if (!nd->reach)
			continue;
		switch ((enum vfm_z3_claim_kind)cl->kind) {
		case VFM_Z3_VALUE:
			v = nd->vviol;
			break;
		case VFM_Z3_IDENTITY:
			v = nd->iviol;
			break;
		case VFM_Z3_IN_BOUNDS:
			v = nd->cond ? mk_and2(z, nd->reach, mk_not(z, nd->cond)) : NULL;
			break;
		case VFM_Z3_ALWAYS_OOB:
		case VFM_Z3_NONZERO_DIVISOR:
			v = nd->cond ? mk_and2(z, nd->reach, nd->cond) : NULL;
			break;
		default:
			v = nd->reach;
			break;
		}
		if (v && eval_true(z, m, v))
			break;
	}
	fail->unroll = k;
	struct znode *nd = k < z->levels[i] ? node_at(z, i, k) : NULL;
	if (k > 0 && nd)
		sb_printf(&b, " (after %u backward jumps in its loop)", k);
	sb_printf(&b, "\n");

	switch ((enum vfm_z3_claim_kind)cl->kind) {
	case VFM_Z3_VALUE:
	case VFM_Z3_IDENTITY: {
		if (!nd)
			break;
		const struct vfm_aslot *s = f->states + f->state_off[i];
		uint32_t ns = f->n_scratch, ms = 1 + ns + (uint32_t)f->depth[i];
		for (uint32_t j = 0; j < ms; j++) {
			uint64_t v = eval_u64(z, m, slot_term(z, nd, j));
			slot_name(z, i, j, sname, sizeof sname);
			fmt_aval(&s[j], aval, sizeof aval);
			if (cl->kind == VFM_Z3_VALUE && !vfm_aval_contains(s[j].v, v)) {
				sb_printf(&b, "  %s = %#" PRIx64 ", claimed %s\n", sname, v, aval);
				if (fail->slot < 0) {
					fail->slot = (int32_t)j;
					fail->value = v;
				}
			}
			if (cl->kind == VFM_Z3_IDENTITY && s[j].id) {
				uint64_t other = 0;
				const char *what = NULL;
				char oname[48];
				if (s[j].id == VFM_ID_LEN) {
					other = eval_u64(z, m, z->len64);
					what = "the packet length";
				} else {
					for (uint32_t q = 0; q < j && !what; q++)
						if (s[q].id == s[j].id) {
							other = eval_u64(z, m, slot_term(z, nd, q));
							slot_name(z, i, q, oname, sizeof oname);
							what = oname;
						}
				}
				if (what && other != v) {
					sb_printf(&b, "  %s = %#" PRIx64 " but %s = %#" PRIx64
						  ", claimed equal (id %u)\n",
						  sname, v, what, other, s[j].id);
					if (fail->slot < 0) {
						fail->slot = (int32_t)j;
						fail->value = v;
					}
				}
			}
		}
		if (cl->kind == VFM_Z3_VALUE)
			for (uint32_t w = ns; w < N_SCRATCH; w++) {
				uint64_t v = eval_u64(z, m, nd->slot[w]);
				if (v != 0) {
					sb_printf(&b, "  M[%u] = %#" PRIx64 ", untracked (claimed 0)\n",
						  w, v);
					if (fail->slot < 0) {
						fail->slot = (int32_t)(1 + w);
						fail->value = v;
					}
				}
			}
		break;
	}
	case VFM_Z3_IN_BOUNDS:
	case VFM_Z3_ALWAYS_OOB: {
		const struct vfm_insn *in = &z->prog->insns[i];
		uint64_t off = in->arg;
		unsigned size = vfm_opinfo[in->opcode].size;
		if (nd && nd->index) {
			uint64_t x = eval_u64(z, m, nd->index);
			sb_printf(&b, "  index %#" PRIx64 " + %u", x, in->arg);
			off = x + in->arg;
			if (off < x)
				sb_printf(&b, " overflows 64 bits\n");
			else
				sb_printf(&b, " = offset %" PRIu64 "\n", off);
		}
		fail->value = off;
		uint64_t len = eval_u64(z, m, z->len64);
		sb_printf(&b, "  %u-byte load at offset %" PRIu64 " with len %" PRIu64 " is %s\n",
			  size, off, len,
			  cl->kind == VFM_Z3_IN_BOUNDS ? "out of bounds" : "in bounds");
		break;
	}
	case VFM_Z3_NONZERO_DIVISOR:
		sb_printf(&b, "  the divisor is 0 (the verifier claimed it never is)\n");
		break;
	case VFM_Z3_UNREACHABLE:
		sb_printf(&b, "  the instruction is reached (the verifier claimed it is not)\n");
		break;
	case VFM_Z3_DEPTH:
		sb_printf(&b, "  reached with a stack depth other than the verifier's %d\n",
			  f->depth[i]);
		break;
	case VFM_Z3_KIND_COUNT:
		break;
	}

	/* The counterexample packet. */
	fail->has_cex = true;
	fail->len = (uint32_t)eval_u64(z, m, z->len32);
	fail->ts = z->uses_ts ? eval_u64(z, m, z->ts) : 0;
	fail->wire_len = z->uses_wlen ? (uint32_t)eval_u64(z, m, z->wlen64) : 0;
	fail->exact = !z->uses_hash5 && !z->uses_flow;
	fail->n_bytes = fail->len < VFM_Z3_CEX_BYTES ? fail->len : VFM_Z3_CEX_BYTES;
	fail->bytes = malloc(fail->n_bytes ? fail->n_bytes : 1);
	if (!fail->bytes)
		fail->n_bytes = 0;
	for (uint32_t j = 0; j < fail->n_bytes; j++)
	{
		Z3_ast a = num_w(z, j, 32);
		fail->bytes[j] = (uint8_t)eval_u64(z, m, Z3_mk_app(z->c, z->pkt, 1, &a));
	}
	sb_printf(&b, "  counterexample: len = %u", fail->len);
	if (z->uses_ts)
		sb_printf(&b, ", ts = %" PRIu64, fail->ts);
	if (z->uses_wlen)
		sb_printf(&b, ", wire length = %" PRIu32, fail->wire_len);
	if (z->uses_hash5)
		sb_printf(&b, ", HASH5 = %#" PRIx64, eval_u64(z, m, z->h5));
	for (uint32_t q = 0; q < z->n && z->uses_flow; q++)
		for (uint32_t kk = 0; kk < z->levels[q]; kk++) {
			struct znode *x = node_at(z, q, kk);
			if (!x->fresh || !x->reach || !eval_true(z, m, x->reach))
				continue;
			sb_printf(&b, ", FLOW_LOAD at pc %u", z->prog->pc_of[q]);
			if (kk)
				sb_printf(&b, " (after %u backward jumps)", kk);
			sb_printf(&b, " = %#" PRIx64, eval_u64(z, m, x->fresh));
		}
	sb_printf(&b, "\n");
	uint32_t show = fail->n_bytes < 256 ? fail->n_bytes : 256;
	for (uint32_t j = 0; j < show; j += 16) {
		sb_printf(&b, "    %04x ", j);
		for (uint32_t q = j; q < j + 16 && q < show; q++)
			sb_printf(&b, " %02x", fail->bytes[q]);
		sb_printf(&b, "\n");
	}
	if (show < fail->len)
		sb_printf(&b, "    ... (%u more bytes)\n", fail->len - show);
	fail->text = b.oom ? NULL : b.p;
	if (b.oom)
		free(b.p);
}

/* A refuted soundness claim: keep a counterexample (shorter if asked). */
static void record_failure(struct zc *z, struct claim *cl, Z3_model m)
{
	struct vfm_z3_report *rep = z->rep;
	rep->failed[cl->kind]++;
	rep->failures++;
	if (rep->n_fail >= z->opt.max_failures)
		return;
	Z3_model best = m;
	if (z->opt.minimize && eval_u64(z, m, z->len32) > 64) {
		static const uint32_t bounds[] = {64, 1514, 65535};
		for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
			Z3_model mm = NULL;
			Z3_ast q = mk_and2(z, cl->viol,
					   Z3_mk_bvule(z->c, z->len32, num_w(z, bounds[b], 32)));
			if (solve(z, q, &mm, z->opt.timeout_ms, "shorter counterexample") == Z3_L_TRUE) {
				best = mm;
				break;
			}
		}
	}
	struct vfm_z3_failure *fl = &rep->fail[rep->n_fail];
	memset(fl, 0, sizeof *fl);
	describe_failure(z, cl, best, fl);
	rep->n_fail++;
	if (best != m)
		Z3_model_dec_ref(z->c, best);
}

/* A group that times out is split, so it gets less time than one claim:
 * half the timeout, at least 250 ms. */
static uint32_t group_timeout(const struct zc *z, size_t n)
{
	uint32_t t = z->opt.timeout_ms;
	if (n == 1 || t == 0 || t <= 250)
		return t;
	return t / 2 > 250 ? t / 2 : 250;
}

/* Decide every claim of cl[0..n) (see the header comment). */
static void check_group(struct zc *z, struct claim **cl, size_t n)
{
	Z3_ast *t = malloc((n ? n : 1) * sizeof *t);
	if (!t) {
		z->oom = true;
		return;
	}
	while (n > 0) {
		for (size_t j = 0; j < n; j++)
			t[j] = cl[j]->viol;
		Z3_ast q = n == 1 ? t[0] : Z3_mk_or(z->c, (unsigned)n, t);
		Z3_model m = NULL;
		char what[96];
		snprintf(what, sizeof what, "%zu %s claim%s from insn %u (%s)", n,
			 cl[0]->purpose == P_SOUND ? "soundness" : "precision", n == 1 ? "" : "s",
			 cl[0]->insn, vfm_z3_kind_name((enum vfm_z3_claim_kind)cl[0]->kind));
		Z3_lbool r = solve(z, q, &m, group_timeout(z, n), what);
		if (z3_failed(z))
			break;
		if (r == Z3_L_FALSE) {
			for (size_t j = 0; j < n; j++)
				cl[j]->status = CL_HOLDS;
			break;
		}
		if (r == Z3_L_UNDEF) {
			if (n == 1) {
				cl[0]->status = CL_UNKNOWN;
				break;
			}
			free(t);
			t = NULL;
			check_group(z, cl, n / 2);
			check_group(z, cl + n / 2, n - n / 2);
			return;
		}
		size_t kept = 0, found = 0;
		for (size_t j = 0; j < n; j++) {
			if (eval_true(z, m, cl[j]->viol)) {
				cl[j]->status = CL_VIOLATED;
				if (cl[j]->purpose == P_SOUND)
					record_failure(z, cl[j], m);
				found++;
			} else {
				cl[kept++] = cl[j];
			}
		}
		Z3_model_dec_ref(z->c, m);
		if (found == 0) { /* cannot happen; avoid looping */
			if (n == 1) {
				cl[0]->status = CL_UNKNOWN;
				break;
			}
			free(t);
			check_group(z, cl, n / 2);
			check_group(z, cl + n / 2, n - n / 2);
			return;
		}
		n = kept;
	}
	free(t);
}

/* ---- driver --------------------------------------------------------------- */

void vfm_z3_options_init(struct vfm_z3_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->unroll = VFM_Z3_DEFAULT_UNROLL;
	opt->timeout_ms = VFM_Z3_DEFAULT_TIMEOUT_MS;
	opt->max_failures = VFM_Z3_DEFAULT_MAX_FAILURES;
	opt->precision = true;
	opt->minimize = true;
}

void vfm_z3_report_free(struct vfm_z3_report *report)
{
	if (!report)
		return;
	for (uint32_t j = 0; j < report->n_fail; j++) {
		free(report->fail[j].bytes);
		free(report->fail[j].text);
	}
	free(report->fail);
	report->fail = NULL;
	report->n_fail = 0;
}

/* ---- strongly connected regions ------------------------------------------ */

static unsigned successors(const struct zc *z, uint32_t i, uint32_t succ[2])
{
	const struct vfm_insn *insn = &z->prog->insns[i];
	unsigned m = 0;
	switch ((enum vfm_op_class)vfm_opinfo[insn->opcode].cls) {
	case VFM_CLASS_RET:
		break;
	case VFM_CLASS_JMP:
		succ[m++] = insn->arg;
		break;
	case VFM_CLASS_JCC:
		succ[m++] = i + 1;
		succ[m++] = insn->arg;
		break;
	default:
		succ[m++] = i + 1;
		break;
	}
	/* Verified code never leaves [0, n); be safe anyway. */
	unsigned k = 0;
	for (unsigned j = 0; j < m; j++)
		if (succ[j] < z->n)
			succ[k++] = succ[j];
	return k;
}

/* Tarjan's algorithm, iteratively, over the instructions reachable from 0.
 * Regions come out in reverse topological order.  Fills scc (UINT32_MAX
 * for unreachable instructions), n_scc, scc_first, member, scc_loop. */
static int find_regions(struct zc *z)
{
	uint32_t n = z->n;
	uint32_t *index = malloc(n * sizeof *index), *low = malloc(n * sizeof *low);
	uint32_t *stack = malloc(n * sizeof *stack), *frame = malloc(n * sizeof *frame);
	uint8_t *next = calloc(n, 1), *on = calloc(n, 1);
	z->scc = malloc(n * sizeof *z->scc);
	z->member = malloc(n * sizeof *z->member);
	z->scc_first = malloc((n + 1) * sizeof *z->scc_first);
	z->scc_loop = calloc(n + 1, 1);
	int rc = -1;
	if (!index || !low || !stack || !frame || !next || !on || !z->scc || !z->member ||
	    !z->scc_first || !z->scc_loop)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		index[i] = UINT32_MAX;
		z->scc[i] = UINT32_MAX;
	}
	uint32_t counter = 0, sp = 0, fp = 0;
	index[0] = low[0] = counter++;
	stack[sp++] = 0;
	on[0] = 1;
	frame[fp++] = 0;
	while (fp) {
		uint32_t v = frame[fp - 1], succ[2];
		unsigned m = successors(z, v, succ);
		if (next[v] < m) {
			uint32_t w = succ[next[v]++];
			if (w == v)
				z->scc_loop[n] = 1; /* self-loop: marked below */
			if (index[w] == UINT32_MAX) {
				index[w] = low[w] = counter++;
				stack[sp++] = w;
				on[w] = 1;
				frame[fp++] = w;
			} else if (on[w] && index[w] < low[v]) {
				low[v] = index[w];
			}
			continue;
		}
		fp--;
		if (fp && low[v] < low[frame[fp - 1]])
			low[frame[fp - 1]] = low[v];
		if (low[v] == index[v]) {
			uint32_t r = z->n_scc++, size = 0, x;
			do {
				x = stack[--sp];
				on[x] = 0;
				z->scc[x] = r;
				size++;
			} while (x != v);
			z->scc_loop[r] = size > 1;
		}
	}
	/* Self-loops (a jump to itself) are cycles of one instruction. */
	z->scc_loop[n] = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t succ[2];
		if (z->scc[i] == UINT32_MAX)
			continue;
		unsigned m = successors(z, i, succ);
		for (unsigned j = 0; j < m; j++)
			if (succ[j] == i)
				z->scc_loop[z->scc[i]] = 1;
	}
	/* Members by region, in index order (counting sort). */
	memset(z->scc_first, 0, (z->n_scc + 1) * sizeof *z->scc_first);
	for (uint32_t i = 0; i < n; i++)
		if (z->scc[i] != UINT32_MAX)
			z->scc_first[z->scc[i] + 1]++;
	for (uint32_t r = 0; r < z->n_scc; r++)
		z->scc_first[r + 1] += z->scc_first[r];
	memcpy(low, z->scc_first, z->n_scc * sizeof *low); /* fill cursors */
	for (uint32_t i = 0; i < n; i++)
		if (z->scc[i] != UINT32_MAX)
			z->member[low[z->scc[i]]++] = i;
	rc = 0;
out:
	free(index);
	free(low);
	free(stack);
	free(frame);
	free(next);
	free(on);
	return rc;
}

/* Nodes per instruction for bound K; returns the total. */
static uint64_t layout_nodes(struct zc *z)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < z->n; i++) {
		uint32_t r = z->scc[i];
		z->levels[i] = r == UINT32_MAX ? 0 : z->scc_loop[r] ? z->K + 1 : 1;
		z->base[i] = (uint32_t)total;
		total += z->levels[i];
	}
	return total;
}

/* Build the terms: every node's reach condition and state. */
static vfm_error_t encode(struct zc *z)
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
	/* WLEN: the caller's wire length, any 32-bit value (0 stands for
	 * "unknown" and reads as len; a free value covers both). */
	z->wlen32 = Z3_mk_const(c, Z3_mk_string_symbol(c, "wire_len"), z->b32);
	z->wlen64 = Z3_mk_zero_ext(c, 32, z->wlen32);
	z->h5 = Z3_mk_const(c, Z3_mk_string_symbol(c, "hash5"), z->b64);
	z->tru = Z3_mk_true(c);
	z->fal = Z3_mk_false(c);
	z->zero64 = num64(z, 0);

	z->tactic = Z3_mk_tactic(c, "qfufbv");
	Z3_tactic_inc_ref(c, z->tactic);
	if (z3_failed(z))
		return VFM_EUNSUPPORTED;

	/* Encode: entry node (0, 0) with zero scratch and an empty stack. */
	Z3_ast init[N_SCRATCH];
	for (unsigned w = 0; w < N_SCRATCH; w++)
		init[w] = z->zero64;
	edge(z, NO_NODE, 0, 0, z->tru, init, 0);
	/* Regions in topological order; within a loop region level by level,
	 * within a level in index order: every node after its predecessors. */
	for (uint32_t r = z->n_scc; r-- > 0 && !z->oom;) {
		uint32_t levels = z->scc_loop[r] ? z->K + 1 : 1;
		for (uint32_t k = 0; k < levels && !z->oom; k++) {
			bool any = false;
			for (uint32_t p = z->scc_first[r]; p < z->scc_first[r + 1] && !z->oom; p++) {
				uint32_t i = z->member[p], id = z->base[i] + k;
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
		if (z3_failed(z))
			return VFM_EUNSUPPORTED;
	}
	if (z->oom)
		return VFM_ENOMEM;
	rep->nodes = z->n_visited;
	if (z->n_cut)
		rep->loops = true;
	return VFM_OK;
}

static vfm_error_t run(struct zc *z)
{
	const struct vfm_program *prog = z->prog;
	const struct vfm_facts *f = z->f;
	struct vfm_z3_report *rep = z->rep;
	vfm_error_t err = encode(z);
	if (err != VFM_OK)
		return err;

	/* Claims. */
	Z3_ast *tmp = malloc((1 + N_SCRATCH + VFM_MAX_STACK + 2 + (size_t)z->K + 1) * sizeof *tmp);
	Z3_ast *vv = malloc(((size_t)z->K + 1) * sizeof *vv);
	Z3_ast *iv = malloc(((size_t)z->K + 1) * sizeof *iv);
	if (!tmp || !vv || !iv) {
		free(tmp);
		free(vv);
		free(iv);
		return VFM_ENOMEM;
	}
	rep->checked[VFM_Z3_DEPTH] = (uint32_t)f->reachable;
	for (uint32_t p = 0; p < z->n_visited && !z->oom; p++)
		node_claims(z, z->visit[p], tmp);
	for (uint32_t i = 0; i < z->n && !z->oom; i++) {
		uint8_t cls = vfm_opinfo[prog->insns[i].opcode].cls;
		if ((f->flags[i] & VFM_FACT_REACHED) && f->depth[i] >= 0 &&
		    (cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX))
			rep->loads++;
		claims_at(z, i, tmp, vv, iv);
	}
	free(tmp);
	free(vv);
	free(iv);
	if (z->oom)
		return VFM_ENOMEM;
	if (z3_failed(z))
		return VFM_EUNSUPPORTED;
	rep->proven = f->loads_in_bounds;

	/* Solve: soundness claims, then precision, then completeness. */
	struct claim **group = malloc((z->n_cl + 1) * sizeof *group);
	if (!group)
		return VFM_ENOMEM;
	for (int purpose = P_SOUND; purpose <= P_PRECISION; purpose++) {
		size_t g = 0;
		for (size_t j = 0; j < z->n_cl; j++)
			if (z->cl[j].purpose == purpose)
				group[g++] = &z->cl[j];
		check_group(z, group, g);
	}
	free(group);
	if (z->oom)
		return VFM_ENOMEM;
	if (z3_failed(z))
		return VFM_EUNSUPPORTED;
	for (size_t j = 0; j < z->n_cl; j++) {
		const struct claim *cl = &z->cl[j];
		if (cl->purpose == P_PRECISION) {
			if (cl->status == CL_HOLDS)
				note_provable(rep, prog->pc_of[cl->insn]);
			else if (cl->status == CL_UNKNOWN)
				rep->precision_unknown++;
		} else if (cl->status == CL_UNKNOWN) {
			rep->unknown[cl->kind]++;
			rep->unknowns++;
		}
	}
	rep->provable += rep->proven;

	rep->complete = true;
	if (z->n_cut) {
		Z3_ast q = mk_orn(z, z->cut, z->n_cut);
		Z3_lbool r = q == z->fal ? Z3_L_FALSE : solve(z, q, NULL, z->opt.timeout_ms, "paths beyond the bound");
		rep->complete = r == Z3_L_FALSE;
		rep->complete_unknown = r == Z3_L_UNDEF;
	}
	for (unsigned kd = 0; kd < VFM_Z3_KIND_COUNT; kd++)
		rep->claims += rep->checked[kd];
	if (z3_failed(z))
		return VFM_EUNSUPPORTED;
	return rep->failures ? VFM_EVERIFY : VFM_OK;
}

/* Regions, node layout (K lowered to fit), node arrays and the Z3 context.
 * On failure report->error says why. */
static vfm_error_t setup(struct zc *z)
{
	const struct vfm_program *prog = z->prog;
	struct vfm_z3_report *report = z->rep;
	if (prog->n_insns > VFM_Z3_MAX_NODES) {
		snprintf(report->error, sizeof report->error,
			 "%u instructions: too big for the Z3 check (at most %u)", prog->n_insns,
			 VFM_Z3_MAX_NODES);
		return VFM_ETOOBIG;
	}
	z->base = malloc(z->n * sizeof *z->base);
	z->levels = malloc(z->n * sizeof *z->levels);
	report->fail = calloc(z->opt.max_failures ? z->opt.max_failures : 1, sizeof *report->fail);
	if (!z->base || !z->levels || !report->fail || find_regions(z) != 0)
		return VFM_ENOMEM;
	/* Lower K until the unrolled graph fits. */
	z->K = z->opt.unroll;
	uint64_t total = layout_nodes(z);
	while (total > VFM_Z3_MAX_NODES && z->K > 0) {
		z->K /= 2;
		total = layout_nodes(z);
	}
	if (total > VFM_Z3_MAX_NODES) {
		snprintf(report->error, sizeof report->error,
			 "%u instructions: too big for the Z3 check", prog->n_insns);
		return VFM_ETOOBIG;
	}
	report->unroll = z->K;
	z->n_nodes = (uint32_t)total;
	z->nodes = calloc(total ? total : 1, sizeof *z->nodes);
	z->ord = malloc((total ? total : 1) * sizeof *z->ord);
	z->visit = malloc((total ? total : 1) * sizeof *z->visit);
	if (!z->nodes || !z->ord || !z->visit)
		return VFM_ENOMEM;

	Z3_config cfg = Z3_mk_config();
	Z3_set_param_value(cfg, "model", "true");
	z->c = Z3_mk_context(cfg);
	Z3_del_config(cfg);
	if (!z->c) {
		snprintf(report->error, sizeof report->error, "cannot create a Z3 context");
		return VFM_ENOMEM;
	}
	Z3_set_error_handler(z->c, on_z3_error);
	return VFM_OK;
}

static void teardown(struct zc *z)
{
	if (z->c) {
		if (z->tactic)
			Z3_tactic_dec_ref(z->c, z->tactic);
		Z3_del_context(z->c);
	}
	for (size_t j = 0; z->nodes && j < z->n_nodes; j++) {
		free(z->nodes[j].slot);
		free(z->nodes[j].known);
	}
	free(z->nodes);
	free(z->ord);
	free(z->visit);
	free(z->base);
	free(z->levels);
	free(z->scc);
	free(z->member);
	free(z->scc_first);
	free(z->scc_loop);
	free(z->cut);
	free(z->cl);
}

vfm_error_t vfm_z3_check(const vfm_program_t *prog, const struct vfm_z3_options *opt,
			 struct vfm_z3_report *report)
{
	if (!report)
		return VFM_EINVAL;
	memset(report, 0, sizeof *report);
	if (!prog) {
		snprintf(report->error, sizeof report->error, "no program");
		return VFM_EINVAL;
	}
	double t0 = now_seconds();
	struct zc z = {.prog = prog, .f = &prog->facts, .rep = report, .n = prog->n_insns};
	if (opt)
		z.opt = *opt;
	else
		vfm_z3_options_init(&z.opt);
	report->insns = prog->n_insns;
	if (!prog->facts.flags || !prog->facts.states || prog->n_insns == 0) {
		snprintf(report->error, sizeof report->error,
			 "the verifier claimed nothing (abstract interpretation did not run)");
		report->seconds = now_seconds() - t0;
		return VFM_OK;
	}
	report->facts = true;
	vfm_error_t err = setup(&z);
	if (err == VFM_OK)
		err = run(&z);
	if (err == VFM_ENOMEM && !report->error[0])
		snprintf(report->error, sizeof report->error, "out of memory");
	teardown(&z);
	report->seconds = now_seconds() - t0;
	return err;
}

vfm_error_t vfm_z3_eval_packets(const vfm_program_t *prog, uint32_t unroll,
				const vfm_packet_t *pkts, size_t n, struct vfm_z3_eval *out)
{
	if (!prog || (n && (!pkts || !out)))
		return VFM_EINVAL;
	for (size_t q = 0; q < n; q++)
		if (pkts[q].len && !pkts[q].data)
			return VFM_EINVAL;
	memset(out, 0, n * sizeof *out);
	struct vfm_z3_report report;
	memset(&report, 0, sizeof report);
	struct zc z = {.prog = prog, .f = &prog->facts, .rep = &report, .n = prog->n_insns};
	vfm_z3_options_init(&z.opt);
	z.opt.unroll = unroll;
	vfm_error_t err = setup(&z);
	if (err == VFM_OK)
		err = encode(&z);
	if (err != VFM_OK)
		goto done;

	/* One term each: instructions executed, verdict, "some RET reached",
	 * "a cut edge taken"; then per packet one model of the inputs. */
	Z3_context c = z.c;
	Z3_ast zero32 = Z3_mk_unsigned_int64(c, 0, z.b32), one = Z3_mk_unsigned_int64(c, 1, z.b32);
	Z3_ast count = zero32, verdict = z.zero64, returned = z.fal;
	for (uint32_t p = 0; p < z.n_visited; p++) {
		const struct znode *nd = &z.nodes[z.visit[p]];
		count = Z3_mk_bvadd(c, count, Z3_mk_ite(c, nd->reach, one, zero32));
		if (nd->ret) {
			verdict = Z3_mk_ite(c, nd->reach, nd->ret, verdict);
			returned = mk_or2(&z, returned, nd->reach);
		}
	}
	Z3_ast beyond = mk_orn(&z, z.cut, z.n_cut);
	for (size_t q = 0; q < n && !z3_failed(&z); q++) {
		const uint8_t *data = pkts[q].data;
		uint32_t len = pkts[q].len;
		Z3_model m = Z3_mk_model(c);
		Z3_model_inc_ref(c, m);
		Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, z.len32)),
				    Z3_mk_unsigned_int64(c, len, z.b32));
		Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, z.ts)),
				    num64(&z, pkts[q].ts_ns));
		Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, z.wlen32)),
				    Z3_mk_unsigned_int64(c, vfm_sem_wire_len(len, pkts[q].wire_len),
							 z.b32));
		Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, z.h5)),
				    num64(&z, len ? vfm_hash5(data, len) : 0));
		/* FLOW_LOAD: 0, what a fresh VM's empty table gives (exact for
		 * programs without FLOW_STORE). */
		for (uint32_t p = 0; p < z.n_visited; p++) {
			const struct znode *nd = &z.nodes[z.visit[p]];
			if (nd->fresh)
				Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, nd->fresh)),
						    z.zero64);
		}
		Z3_func_interp fi = Z3_add_func_interp(c, m, z.pkt, Z3_mk_unsigned_int64(c, 0, z.b8));
		Z3_func_interp_inc_ref(c, fi);
		for (uint32_t j = 0; j < len; j++) {
			Z3_ast_vector args = Z3_mk_ast_vector(c);
			Z3_ast_vector_inc_ref(c, args);
			Z3_ast_vector_push(c, args, Z3_mk_unsigned_int64(c, j, z.b32));
			Z3_func_interp_add_entry(c, fi, args, Z3_mk_unsigned_int64(c, data[j], z.b8));
			Z3_ast_vector_dec_ref(c, args);
		}
		Z3_func_interp_dec_ref(c, fi);
		out[q].beyond_bound = eval_true(&z, m, beyond);
		out[q].insns = eval_u64(&z, m, count);
		bool ok = eval_true(&z, m, returned);
		out[q].status = ok ? VFM_STATUS_OK : VFM_STATUS_BOUNDS;
		out[q].verdict = ok ? vfm_sem_verdict(eval_u64(&z, m, verdict)) : 0;
		Z3_model_dec_ref(c, m);
	}
	if (z3_failed(&z))
		err = VFM_EUNSUPPORTED;
done:
	teardown(&z);
	vfm_z3_report_free(&report);
	return err;
}

/* ---- report ---------------------------------------------------------------- */

void vfm_z3_print_report(FILE *out, const vfm_program_t *prog,
			 const struct vfm_z3_report *r)
{
	if (!r->facts) {
		fprintf(out, "z3: %s\n", r->error[0] ? r->error : "nothing checked");
		return;
	}
	if (r->error[0])
		fprintf(out, "z3: error: %s\n", r->error);
	if (!r->loops)
		fprintf(out, "z3: exact: loop-free, every path checked\n");
	else if (r->complete)
		fprintf(out, "z3: bounded: %u unrollings (each loop takes at most %u backward jumps "
			     "per entry); complete: no path takes more\n", r->unroll, r->unroll);
	else
		fprintf(out, "z3: bounded: %u unrollings (each loop takes at most %u backward jumps "
			     "per entry); paths beyond the bound %s\n", r->unroll, r->unroll,
			r->complete_unknown ? "may exist (query timed out)" : "exist, not checked");
	fprintf(out, "z3: %u claims checked at %u nodes: %u unsound, %u unknown (timeout)\n",
		r->claims, r->nodes, r->failures, r->unknowns);
	fprintf(out, "z3:  ");
	for (unsigned k = 0; k < VFM_Z3_KIND_COUNT; k++)
		fprintf(out, " %s %u%s", vfm_z3_kind_name((enum vfm_z3_claim_kind)k), r->checked[k],
			k + 1 < VFM_Z3_KIND_COUNT ? "," : "\n");
	fprintf(out, "z3: loads proven/provable in bounds: %u/%u of %u reached loads",
		r->proven, r->provable, r->loads);
	if (r->precision_unknown)
		fprintf(out, " (%u unknown)", r->precision_unknown);
	fputc('\n', out);
	for (uint32_t j = 0; j < r->n_gap; j++) {
		char where[200];
		vfm_describe_pc(prog, r->gap_pc[j], where, sizeof where);
		fprintf(out, "z3: provable, not proven: %s\n", where);
	}
	if (r->provable - r->proven > r->n_gap)
		fprintf(out, "z3: ... %u more provable loads not proven\n",
			r->provable - r->proven - r->n_gap);
	fprintf(out, "z3: %u queries, %u timeouts, %.3f s\n", r->queries, r->timeouts, r->seconds);
	for (uint32_t j = 0; j < r->n_fail; j++)
		fprintf(out, "UNSOUND %s", r->fail[j].text ? r->fail[j].text : "(out of memory)\n");
	if (r->failures > r->n_fail)
		fprintf(out, "... %u more unsound claims not shown\n", r->failures - r->n_fail);
}
