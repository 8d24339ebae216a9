/*
 * verifier/z3/z3_internal.h — what the files of the Z3 cross-check share
 * (private; the public interface is z3check.h).
 *
 * The check runs in four steps, one file each, driven by z3check.c:
 *   z3encode.c  the program's exact semantics as Z3 terms: per node (an
 *               instruction after k backward jumps in its loop) a reach
 *               condition and the state; the per-opcode terms, from the
 *               rows of vm/opcodes.def and the rules of vm/semantics.h
 *   z3claims.c  every claim of the verifier's facts as a "violation" term
 *   z3solve.c   the queries: groups of claims, split on timeout, models
 *   z3report.c  counterexamples and the human-readable report
 * Their design is described at the top of each file and in z3check.h.
 */
#ifndef VFM_Z3_INTERNAL_H
#define VFM_Z3_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <z3.h>

#include "../../vm/program.h"
#include "../cfg.h"
#include "../verifier.h"
#include "z3check.h"

#define N_SCRATCH VFM_SCRATCH_WORDS
#define NO_NODE UINT32_MAX

/* One node of the unrolled graph: instruction insn after k backward jumps
 * taken since its loop region was entered. */
struct znode {
	Z3_ast reach;  /* NULL: no edge reaches this node */
	Z3_ast *slot;  /* N_SCRATCH scratch words, then the stack */
	Z3_ast cond;   /* loads: in bounds; DIV/MOD: divisor is zero */
	Z3_ast index;  /* indexed loads: the popped index */
	Z3_ast fresh;  /* FLOW_LOAD: its value */
	Z3_ast ret;    /* RET, RET k: the popped word or k (64 bits) */
	Z3_ast vviol;  /* reach and some slot outside its claim (NULL: none) */
	Z3_ast rviol;  /* reach and some length room broken (NULL: none) */
	Z3_ast iviol;  /* reach and some identity broken (NULL: none) */
	uint32_t idom; /* immediate dominator (node id), NO_NODE for the entry */
	uint32_t insn;
	/* What is known (claimed here or at a dominator) about each slot's
	 * term: [0] the length, [1..16] scratch, then the stack.  NULL until
	 * the node's claims are made. */
	struct vfm_aval *known;
};

/* An edge into a loop head in the inductive pass (cond: its reach
 * condition), kept for the budget-loop claims. */
struct arrival {
	uint32_t head;
	Z3_ast cond;
};

enum { CL_PENDING, CL_HOLDS, CL_VIOLATED, CL_UNKNOWN };
enum { P_SOUND, P_PRECISION };

struct claim {
	uint32_t insn;
	uint8_t kind;    /* enum vfm_z3_claim_kind (P_SOUND) */
	uint8_t purpose;
	uint8_t status;
	Z3_ast viol;     /* satisfiable iff the claim fails */
};

/* The checker's state. */
struct zc {
	const struct vfm_program *prog;
	const struct vfm_facts *f;
	struct vfm_z3_options opt;
	struct vfm_z3_report *rep;
	Z3_context c;
	Z3_sort b8, b32, b64;
	Z3_ast len32, len64, ts, h5, tru, fal, zero64;
	/* WLEN: wire_in is the caller's vfm_packet_t.wire_len (free), wlen64
	 * what WLEN pushes (vfm_sem_wire_len: wire_in, or len if it is 0). */
	Z3_ast wire_in, wlen64;
	Z3_func_decl pkt; /* the packet: BV32 -> BV8 (reads only: an array) */
	Z3_tactic tactic;
	uint32_t n, K;
	/* Nodes of insn i: nodes[base[i] + k] for k < levels[i] (K + 1 in a
	 * loop, else 1; 0 if structurally unreachable). */
	struct znode *nodes;
	uint32_t *base;
	uint32_t *levels;
	struct vfm_cfg_sccs sccs; /* loop regions (verifier/cfg.h) */
	uint32_t *ord;       /* node id -> position in the visiting order */
	uint32_t n_nodes;
	uint32_t *visit;     /* node ids in visiting order */
	uint32_t n_visited;
	bool uses_hash5, uses_flow, uses_ts, uses_wlen;
	Z3_ast *cut;
	size_t n_cut, cap_cut;
	/* The inductive pass (z3check.h): every loop head (a backward jump's
	 * target) is a cut point.  head[i] is i's number as a start (1..),
	 * 0 if i is no head; sel picks the start of the segment a model runs
	 * (0 = the entry), so the paths of one model start at one cut point
	 * and merges stay mutually exclusive.  Every edge into a head is an
	 * arrival, checked against the head's abstract state, not merged. */
	bool inductive;
	uint32_t *head;
	Z3_ast sel;
	struct arrival *arr;
	size_t n_arr, cap_arr;
	/* Per instruction: the precision claim holds (a load the verifier did
	 * not prove is in bounds on every path this pass covers). */
	uint8_t *provable;
	struct claim *cl;
	size_t n_cl, cap_cl;
	bool oom;
};

static inline struct znode *node_at(struct zc *z, uint32_t insn, uint32_t k)
{
	return &z->nodes[z->base[insn] + k];
}

/* ---- term helpers (constant-folding the Boolean connectives) ---------- */

static inline Z3_ast num64(struct zc *z, uint64_t v)
{
	return Z3_mk_unsigned_int64(z->c, v, z->b64);
}

static inline Z3_ast num_w(struct zc *z, uint64_t v, unsigned bits)
{
	return Z3_mk_unsigned_int64(z->c, v, Z3_mk_bv_sort(z->c, bits));
}

static inline Z3_ast mk_and2(struct zc *z, Z3_ast a, Z3_ast b)
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

static inline Z3_ast mk_or2(struct zc *z, Z3_ast a, Z3_ast b)
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

static inline Z3_ast mk_not(struct zc *z, Z3_ast a)
{
	if (a == z->tru)
		return z->fal;
	if (a == z->fal)
		return z->tru;
	return Z3_mk_not(z->c, a);
}

/* A disjunction of n terms (NULL entries skipped); false if none.  Reorders
 * t. */
static inline Z3_ast mk_orn(struct zc *z, Z3_ast *t, size_t n)
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

static inline bool is_const(struct zc *z, Z3_ast t, uint64_t *v)
{
	return Z3_is_numeral_ast(z->c, t) && Z3_get_numeral_uint64(z->c, t, v);
}

/* ---- between the files ------------------------------------------------- */

/* z3check.c */
double vfm_z3i_now(void);
/* Loop regions, node layout, the Z3 context (z->prog, z->rep, z->n and
 * z->opt set); teardown frees what setup and the steps made. */
vfm_error_t vfm_z3i_setup(struct zc *z);
void vfm_z3i_teardown(struct zc *z);
/* A Z3 error happened (report->error says which, the first time). */
bool vfm_z3i_failed(struct zc *z);

/* z3encode.c: nodes per instruction for bound K (returns the total), and
 * every node's reach condition and state. */
uint64_t vfm_z3i_layout_nodes(struct zc *z);
vfm_error_t vfm_z3i_encode(struct zc *z);

/* z3claims.c */
void vfm_z3i_add_claim(struct zc *z, uint32_t insn, uint8_t kind, uint8_t purpose, Z3_ast viol);
/* All claims of the facts (after vfm_z3i_encode). */
vfm_error_t vfm_z3i_make_claims(struct zc *z);
/* The concrete term of state slot j (layout of vm/program.h) at node nd. */
Z3_ast vfm_z3i_slot_term(struct zc *z, const struct znode *nd, uint32_t j);
/* Violation of insn i's abstract state (values, identities, length
 * rooms) by the slots st (scratch, then the stack): a loop head's
 * assumption and the check of every arrival there.  NULL: none possible. */
Z3_ast vfm_z3i_state_viol(struct zc *z, uint32_t i, Z3_ast *st);
/* The start of a segment at a loop head: sel == head[i] (entry: 0). */
Z3_ast vfm_z3i_start(struct zc *z, uint32_t i);

/* z3solve.c */
Z3_lbool vfm_z3i_solve(struct zc *z, Z3_ast q, Z3_model *model, uint32_t timeout_ms,
		       const char *what);
bool vfm_z3i_eval_true(struct zc *z, Z3_model m, Z3_ast t);
uint64_t vfm_z3i_eval_u64(struct zc *z, Z3_model m, Z3_ast t);
/* Decide every claim (soundness, then precision, then completeness) and
 * fill the report; returns VFM_EVERIFY when some claim is refuted. */
vfm_error_t vfm_z3i_solve_claims(struct zc *z);

/* z3report.c: what model m refutes about claim cl, with the
 * counterexample packet. */
void vfm_z3i_describe_failure(struct zc *z, const struct claim *cl, Z3_model m,
			      struct vfm_z3_failure *fail);

#endif
