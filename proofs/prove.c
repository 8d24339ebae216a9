/*
 * proofs/prove.c — soundness proofs of the abstract operators of
 * verifier/{tnum,interval,aval}.c (run by `make proofs`; proofs/README.md).
 *
 * Each claim is checked by Z3 in QF_BV as a negated query, expected unsat:
 *   "x in A and y in B and not (op(x, y) in op#(A, B))"
 * over the Z3 mirror of the C code (proofs/enc.c), which
 * tests/test_proofs_encoding.c ties to the C functions.  The concrete op is
 * the semantics of vm/semantics.h (pz_sem2).  Claims are proven at 64 bits;
 * mul, div and mod, whose queries contain multiplier/divider circuits
 * that SAT solving does not scale to, are proven at 8 bits and attempted
 * at 16 bits (and, with --attempt64, at 64) with a time limit: an attempt
 * that times out is reported, not a failure (proofs/README.md has the
 * measurements).  The brute-force rows run the C code itself, compiled at
 * 8 bits, on every abstract pair (proofs/exhaust.h).
 *
 * Prints a table (operator, width, result, seconds) and exits 1 if any
 * claim is sat (a counterexample is printed), unknown or timed out, or any
 * brute-force check fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <z3.h>

#include "dom_ops.h"
#include "enc.h"
#include "exhaust.h"
#include "program.h"

/* ---- jobs ------------------------------------------------------------- */

enum kind {
	K_TNUM2, K_TNUM1, K_ITV2, K_ITV1, K_AVAL2, K_AVAL1,
	K_TNUM_RANGE, K_TNUM_JOIN, K_TNUM_MEET,
	K_ITV_JOIN, K_ITV_MEET, K_ITV_WIDEN,
	K_NEXT, K_PREV, K_AVAL_REDUCE, K_AVAL_RESULT, K_AVAL_JOIN, K_NARROW, K_REFINE,
	K_BRUTE_TNUM2, K_BRUTE_TNUM1, K_BRUTE_ITV2, K_BRUTE_ITV1,
};

enum outcome { R_PENDING, R_UNSAT, R_SAT, R_UNKNOWN, R_TIMEOUT, R_PASS, R_FAIL, R_SKIP };

static const char *const outcome_name[] = {
	"pending", "unsat", "SAT", "UNKNOWN", "TIMEOUT", "pass", "FAIL", "skipped",
};

struct job {
	char name[48];
	enum kind kind;
	unsigned width;
	uint8_t opcode;
	bool taken;    /* refinement edge */
	bool optional; /* an attempt: a timeout is reported, not a failure */
	unsigned cases; /* > 1: the query is split into this many cases */
	bool control;   /* a deliberately false claim: expected sat */
	uint8_t spec;   /* control ALU rows: the concrete op of the claim */
	enum outcome result;
	double seconds;
	char detail[512];
};

#define MAX_JOBS 256
static struct job jobs[MAX_JOBS];
static unsigned n_jobs;

static struct {
	unsigned threads;
	unsigned timeout_s;
	unsigned attempt_s; /* time limit of an attempt */
	bool brute, try64, verbose;
	const char *only;
} opt = {2, 600, 45, true, false, false, NULL};

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* A row named prefix + name + suffix, lower case. */
static struct job *add_job(enum kind kind, unsigned width, uint8_t opcode, bool taken,
			   const char *prefix, const char *name, const char *suffix)
{
	struct job *j;
	if (n_jobs == MAX_JOBS) {
		fprintf(stderr, "prove: too many jobs\n");
		exit(2);
	}
	j = &jobs[n_jobs++];
	memset(j, 0, sizeof *j);
	snprintf(j->name, sizeof j->name, "%s%s%s", prefix, name, suffix);
	lower(j->name);
	j->kind = kind;
	j->width = width;
	j->opcode = opcode;
	j->taken = taken;
	return j;
}

/* The concrete operator a row's claim is about: its own, except in an
 * ALU control row. */
static uint8_t spec_op(const struct job *j)
{
	return j->control ? j->spec : j->opcode;
}

/* The operators of the VFM_ALU2 / VFM_ALU1 / VFM_JCC rows (dom_ops.h). */
#define alu2_ops vfm_dom_alu2_ops
#define alu1_ops vfm_dom_alu1_ops
#define jcc_ops vfm_dom_jcc_ops
/* NAME column of the opcode table. */
#define op_name(op) (vfm_opinfo[(uint8_t)(op)].name)
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static bool hard_op(uint8_t op)
{
	return op == VFM_OPC_MUL || op == VFM_OPC_DIV || op == VFM_OPC_MOD;
}

/* Operators of one domain: 64 bits; mul, div, mod at 8 bits, attempted
 * at 16 (and 64). */
static void add_op_jobs(enum kind k2, enum kind k1, const char *dom)
{
	for (size_t i = 0; i < N_ELEMS(alu2_ops); i++) {
		uint8_t op = alu2_ops[i];
		if (hard_op(op)) {
			add_job(k2, 8, op, false, dom, op_name(op), "");
			add_job(k2, 16, op, false, dom, op_name(op), "")->optional = true;
			if (opt.try64)
				add_job(k2, 64, op, false, dom, op_name(op), "")->optional = true;
		} else {
			struct job *j = add_job(k2, 64, op, false, dom, op_name(op), "");
			if (op == VFM_OPC_SHL || op == VFM_OPC_SHR)
				j->cases = 64;
		}
	}
	for (size_t i = 0; i < N_ELEMS(alu1_ops); i++)
		add_job(k1, 64, alu1_ops[i], false, dom, op_name(alu1_ops[i]), "");
}

/*
 * The product's operators are av_result(itv_op(a, b), tnum_op(a, b)) for
 * every opcode (aval.c; the encoding test checks the dispatch).  The
 * aval_result rows prove that step for any sound pair of components; end
 * to end rows over the whole mirror are added where the solver is quick
 * (not for shifts and mul/div/mod, whose composed queries it does not
 * finish in minutes: there the component rows and aval_result are the
 * proof).
 */
static void add_aval_op_jobs(void)
{
	static const uint8_t end_to_end[] = {
		VFM_OPC_ADD, VFM_OPC_SUB, VFM_OPC_AND, VFM_OPC_OR, VFM_OPC_XOR,
	};
	for (size_t i = 0; i < N_ELEMS(end_to_end); i++)
		add_job(K_AVAL2, 64, end_to_end[i], false, "aval_", op_name(end_to_end[i]), "");
	for (size_t i = 0; i < N_ELEMS(alu1_ops); i++)
		add_job(K_AVAL1, 64, alu1_ops[i], false, "aval_", op_name(alu1_ops[i]), "");
}

static void make_jobs(void)
{
	/* The lattice operations and the lemmas the product's rows use as
	 * hints, at every width a row using them runs at. */
	static const unsigned widths[] = {8, 16, 64};
	for (size_t i = 0; i < N_ELEMS(widths); i++) {
		unsigned w = widths[i];
		add_job(K_TNUM_RANGE, w, 0, false, "tnum_range", "", "");
		add_job(K_TNUM_JOIN, w, 0, false, "tnum_join", "", "");
		add_job(K_TNUM_MEET, w, 0, false, "tnum_meet", "", "");
		add_job(K_ITV_JOIN, w, 0, false, "itv_join", "", "");
		add_job(K_ITV_MEET, w, 0, false, "itv_meet", "", "");
		add_job(K_ITV_WIDEN, w, 0, false, "itv_widen", "", "");
		add_job(K_NEXT, w, 0, false, "lemma_next_member", "", "");
		add_job(K_PREV, w, 0, false, "lemma_prev_member", "", "");
		add_job(K_AVAL_REDUCE, w, 0, false, "aval_reduce", "", "");
		add_job(K_AVAL_RESULT, w, 0, false, "aval_result", "", "");
	}
	add_op_jobs(K_TNUM2, K_TNUM1, "tnum_");
	add_op_jobs(K_ITV2, K_ITV1, "itv_");
	add_aval_op_jobs();
	add_job(K_AVAL_JOIN, 64, 0, false, "aval_join", "", "");
	{
		/* Every relation of enum vfm_rel (vm/opcode.h). */
		static const struct { enum vfm_rel rel; const char *name; } rels[] = {
			{VFM_REL_EQ, "eq"}, {VFM_REL_NE, "ne"}, {VFM_REL_LT, "lt"},
			{VFM_REL_LE, "le"}, {VFM_REL_GT, "gt"}, {VFM_REL_GE, "ge"},
			{VFM_REL_SET, "set"}, {VFM_REL_CLEAR, "clear"},
		};
		_Static_assert(N_ELEMS(rels) == VFM_REL_COUNT, "a relation without a row");
		for (size_t i = 0; i < N_ELEMS(rels); i++)
			add_job(K_NARROW, 64, (uint8_t)rels[i].rel, false, "lemma_narrow_",
				rels[i].name, "");
	}
	for (size_t i = 0; i < N_ELEMS(jcc_ops); i++) {
		add_job(K_REFINE, 64, jcc_ops[i], true, "refine_", op_name(jcc_ops[i]), "_taken");
		add_job(K_REFINE, 64, jcc_ops[i], false, "refine_", op_name(jcc_ops[i]),
			"_not_taken");
	}
	/*
	 * Controls: deliberately false claims that must come back sat with a
	 * counterexample, so that a vacuous query (contradictory hypotheses,
	 * a claim that does not say what it should) cannot pass as a proof.
	 */
	{
		struct job *j;
		j = add_job(K_TNUM2, 64, VFM_OPC_ADD, false, "control_tnum_add_is_sub", "", "");
		j->control = true;
		j->spec = VFM_OPC_SUB;
		j = add_job(K_ITV2, 8, VFM_OPC_MUL, false, "control_itv_mul_is_add", "", "");
		j->control = true;
		j->spec = VFM_OPC_ADD;
		j = add_job(K_REFINE, 64, VFM_OPC_JLT, true, "control_refine_jlt_taken", "", "");
		j->control = true;
		j = add_job(K_REFINE, 64, VFM_OPC_JSET, false, "control_refine_jset_not", "", "");
		j->control = true;
	}
	if (opt.brute) {
		for (size_t i = 0; i < N_ELEMS(alu2_ops); i++)
			add_job(K_BRUTE_TNUM2, 8, alu2_ops[i], false, "brute_tnum_",
				op_name(alu2_ops[i]), "");
		for (size_t i = 0; i < N_ELEMS(alu1_ops); i++)
			add_job(K_BRUTE_TNUM1, 8, alu1_ops[i], false, "brute_tnum_",
				op_name(alu1_ops[i]), "");
		for (size_t i = 0; i < N_ELEMS(alu2_ops); i++)
			add_job(K_BRUTE_ITV2, 8, alu2_ops[i], false, "brute_itv_",
				op_name(alu2_ops[i]), "");
		for (size_t i = 0; i < N_ELEMS(alu1_ops); i++)
			add_job(K_BRUTE_ITV1, 8, alu1_ops[i], false, "brute_itv_",
				op_name(alu1_ops[i]), "");
	}
}

/* ---- queries ---------------------------------------------------------- */

/* Fresh abstract values named after `p` ("a" -> a.value, a.mask, a.lo, a.hi). */
static struct pz_tnum var_tnum(const struct pz *z, const char *p)
{
	char v[32], m[32];
	snprintf(v, sizeof v, "%s.value", p);
	snprintf(m, sizeof m, "%s.mask", p);
	return (struct pz_tnum){pz_var(z, v), pz_var(z, m)};
}

static struct pz_itv var_itv(const struct pz *z, const char *p)
{
	char lo[32], hi[32];
	snprintf(lo, sizeof lo, "%s.lo", p);
	snprintf(hi, sizeof hi, "%s.hi", p);
	return (struct pz_itv){pz_var(z, lo), pz_var(z, hi)};
}

static struct pz_aval var_aval(const struct pz *z, const char *p)
{
	return (struct pz_aval){var_itv(z, p), var_tnum(z, p)};
}

/* Boolean connectives. */
static Z3_ast AND2(const struct pz *z, Z3_ast a, Z3_ast b)
{
	Z3_ast t[2] = {a, b};
	return Z3_mk_and(z->c, 2, t);
}

static Z3_ast AND3(const struct pz *z, Z3_ast a, Z3_ast b, Z3_ast c)
{
	Z3_ast t[3] = {a, b, c};
	return Z3_mk_and(z->c, 3, t);
}

static Z3_ast OR2(const struct pz *z, Z3_ast a, Z3_ast b)
{
	Z3_ast t[2] = {a, b};
	return Z3_mk_or(z->c, 2, t);
}

static Z3_ast IMP(const struct pz *z, Z3_ast a, Z3_ast b)
{
	return Z3_mk_implies(z->c, a, b);
}

static Z3_ast NOT(const struct pz *z, Z3_ast a)
{
	return Z3_mk_not(z->c, a);
}

/* The interval bounds of a are members of its tnum, and both are well
 * formed: what aval.c calls reduced. */
static Z3_ast reduced(const struct pz *z, struct pz_aval a)
{
	return AND2(z, AND2(z, pz_tnum_wf(z, a.tn), pz_itv_wf(z, a.itv)),
		    AND2(z, pz_tnum_contains(z, a.tn, a.itv.lo),
			 pz_tnum_contains(z, a.tn, a.itv.hi)));
}

/*
 * The claims.  Each is a Bool term "hypotheses -> conclusion" over its
 * arguments; a row proves it for fresh variables (the query is its
 * negation, expected unsat), so it holds for all arguments.  A claim that
 * a row has proven may then be asserted as a hint for particular terms in
 * other rows: an instance of a valid formula changes no query's
 * satisfiability, but spares the solver rediscovering the lemma.
 */
static Z3_ast claim_tnum2(const struct pz *z, uint8_t op, uint8_t spec, struct pz_tnum a,
			  struct pz_tnum b, Z3_ast x, Z3_ast y)
{
	struct pz_tnum r = pz_tnum_alu2(z, op, a, b);
	return IMP(z, AND2(z, AND2(z, pz_tnum_wf(z, a), pz_tnum_wf(z, b)),
			   AND2(z, pz_tnum_contains(z, a, x), pz_tnum_contains(z, b, y))),
		   AND2(z, pz_tnum_wf(z, r), pz_tnum_contains(z, r, pz_sem2(z, spec, x, y))));
}

static Z3_ast claim_tnum1(const struct pz *z, uint8_t op, struct pz_tnum a, Z3_ast x)
{
	struct pz_tnum r = pz_tnum_alu1(z, op, a);
	return IMP(z, AND2(z, pz_tnum_wf(z, a), pz_tnum_contains(z, a, x)),
		   AND2(z, pz_tnum_wf(z, r), pz_tnum_contains(z, r, pz_sem1(z, op, x))));
}

static Z3_ast claim_itv2(const struct pz *z, uint8_t op, uint8_t spec, struct pz_itv a,
			 struct pz_itv b, Z3_ast x, Z3_ast y)
{
	struct pz_itv r = pz_itv_alu2(z, op, a, b);
	return IMP(z, AND2(z, pz_itv_contains(z, a, x), pz_itv_contains(z, b, y)),
		   AND2(z, pz_itv_wf(z, r), pz_itv_contains(z, r, pz_sem2(z, spec, x, y))));
}

static Z3_ast claim_itv1(const struct pz *z, uint8_t op, struct pz_itv a, Z3_ast x)
{
	struct pz_itv r = pz_itv_alu1(z, op, a);
	return IMP(z, pz_itv_contains(z, a, x),
		   AND2(z, pz_itv_wf(z, r), pz_itv_contains(z, r, pz_sem1(z, op, x))));
}

/* range(lo, hi) holds every x between lo and hi, in either order. */
static Z3_ast claim_tnum_range(const struct pz *z, Z3_ast lo, Z3_ast hi, Z3_ast x)
{
	Z3_context c = z->c;
	struct pz_tnum r = pz_tnum_range(z, lo, hi);
	return IMP(z, OR2(z, AND2(z, Z3_mk_bvule(c, lo, x), Z3_mk_bvule(c, x, hi)),
			  AND2(z, Z3_mk_bvule(c, hi, x), Z3_mk_bvule(c, x, lo))),
		   AND2(z, pz_tnum_wf(z, r), pz_tnum_contains(z, r, x)));
}

static Z3_ast claim_tnum_join(const struct pz *z, struct pz_tnum a, struct pz_tnum b, Z3_ast x)
{
	struct pz_tnum r = pz_tnum_join(z, a, b);
	return IMP(z, AND3(z, pz_tnum_wf(z, a), pz_tnum_wf(z, b),
			   OR2(z, pz_tnum_contains(z, a, x), pz_tnum_contains(z, b, x))),
		   AND2(z, pz_tnum_wf(z, r), pz_tnum_contains(z, r, x)));
}

/* Meet: a common member is kept and the meet is not empty (sound); a
 * member of a non-empty meet is common (exact). */
static Z3_ast claim_tnum_meet(const struct pz *z, struct pz_tnum a, struct pz_tnum b, Z3_ast x)
{
	Z3_ast e;
	struct pz_tnum r = pz_tnum_meet(z, a, b, &e);
	Z3_ast both = AND2(z, pz_tnum_contains(z, a, x), pz_tnum_contains(z, b, x));
	Z3_ast in_r = pz_tnum_contains(z, r, x);
	return IMP(z, AND2(z, pz_tnum_wf(z, a), pz_tnum_wf(z, b)),
		   AND2(z, IMP(z, both, AND3(z, NOT(z, e), in_r, pz_tnum_wf(z, r))),
			IMP(z, AND2(z, NOT(z, e), in_r), both)));
}

static Z3_ast claim_itv_join(const struct pz *z, struct pz_itv a, struct pz_itv b, Z3_ast x)
{
	struct pz_itv r = pz_itv_join(z, a, b);
	return IMP(z, OR2(z, pz_itv_contains(z, a, x), pz_itv_contains(z, b, x)),
		   AND2(z, pz_itv_wf(z, r), pz_itv_contains(z, r, x)));
}

static Z3_ast claim_itv_meet(const struct pz *z, struct pz_itv a, struct pz_itv b, Z3_ast x)
{
	Z3_ast e;
	struct pz_itv r = pz_itv_meet(z, a, b, &e);
	Z3_ast both = AND2(z, pz_itv_contains(z, a, x), pz_itv_contains(z, b, x));
	Z3_ast in_r = pz_itv_contains(z, r, x);
	return IMP(z, AND2(z, pz_itv_wf(z, a), pz_itv_wf(z, b)),
		   AND2(z, IMP(z, both, AND3(z, NOT(z, e), in_r, pz_itv_wf(z, r))),
			IMP(z, AND2(z, NOT(z, e), in_r), both)));
}

/* Widening contains the join (four thresholds, in any order). */
static Z3_ast claim_itv_widen(const struct pz *z, struct pz_itv p, struct pz_itv n,
			      const Z3_ast *thr, Z3_ast x)
{
	struct pz_itv r = pz_itv_widen(z, p, n, thr, 4);
	return IMP(z, AND3(z, pz_itv_wf(z, p), pz_itv_wf(z, n),
			   pz_itv_contains(z, pz_itv_join(z, p, n), x)),
		   AND2(z, pz_itv_wf(z, r), pz_itv_contains(z, r, x)));
}

/* next_member(t, lo) is a member >= lo if found, and found and <= every
 * member x >= lo. */
static Z3_ast claim_next(const struct pz *z, struct pz_tnum t, Z3_ast lo, Z3_ast x)
{
	Z3_context c = z->c;
	Z3_ast ok, n = pz_next_member(z, t, lo, &ok);
	return IMP(z, pz_tnum_wf(z, t),
		   AND2(z, IMP(z, ok, AND2(z, pz_tnum_contains(z, t, n), Z3_mk_bvuge(c, n, lo))),
			IMP(z, AND2(z, pz_tnum_contains(z, t, x), Z3_mk_bvuge(c, x, lo)),
			    AND2(z, ok, Z3_mk_bvule(c, n, x)))));
}

static Z3_ast claim_prev(const struct pz *z, struct pz_tnum t, Z3_ast hi, Z3_ast x)
{
	Z3_context c = z->c;
	Z3_ast ok, n = pz_prev_member(z, t, hi, &ok);
	return IMP(z, pz_tnum_wf(z, t),
		   AND2(z, IMP(z, ok, AND2(z, pz_tnum_contains(z, t, n), Z3_mk_bvule(c, n, hi))),
			IMP(z, AND2(z, pz_tnum_contains(z, t, x), Z3_mk_bvule(c, x, hi)),
			    AND2(z, ok, Z3_mk_bvuge(c, n, x)))));
}

/* Reduction keeps every member (so it says empty only when there is
 * none), and a non-empty result is reduced with bounds that are members. */
static Z3_ast reduce_spec(const struct pz *z, struct pz_aval a, struct pz_aval r, Z3_ast e,
			  Z3_ast x)
{
	return AND2(z, IMP(z, pz_aval_contains(z, a, x),
			   AND2(z, NOT(z, e), pz_aval_contains(z, r, x))),
		    IMP(z, NOT(z, e),
			AND3(z, reduced(z, r), pz_aval_contains(z, a, r.itv.lo),
			     pz_aval_contains(z, a, r.itv.hi))));
}

static Z3_ast claim_reduce(const struct pz *z, struct pz_aval a, Z3_ast x)
{
	Z3_ast e;
	struct pz_aval r = pz_aval_reduce(z, a, &e);
	return reduce_spec(z, a, r, e, x);
}

/* The last step of every ALU operator of the product (dom_av_result):
 * a value w in both components is in the reduced result. */
static Z3_ast claim_result(const struct pz *z, struct pz_itv i, struct pz_tnum t, Z3_ast w)
{
	struct pz_aval r = pz_aval_result(z, i, t);
	return IMP(z, AND3(z, pz_tnum_wf(z, t), pz_itv_contains(z, i, w), pz_tnum_contains(z, t, w)),
		   AND2(z, reduced(z, r), pz_aval_contains(z, r, w)));
}

static Z3_ast claim_aval2(const struct pz *z, uint8_t op, struct pz_aval a, struct pz_aval b,
			  Z3_ast x, Z3_ast y)
{
	struct pz_aval r = pz_aval_alu2(z, op, a, b);
	return IMP(z, AND2(z, pz_aval_contains(z, a, x), pz_aval_contains(z, b, y)),
		   AND2(z, reduced(z, r), pz_aval_contains(z, r, pz_sem2(z, op, x, y))));
}

static Z3_ast claim_aval1(const struct pz *z, uint8_t op, struct pz_aval a, Z3_ast x)
{
	struct pz_aval r = pz_aval_alu1(z, op, a);
	return IMP(z, pz_aval_contains(z, a, x),
		   AND2(z, reduced(z, r), pz_aval_contains(z, r, pz_sem1(z, op, x))));
}

static Z3_ast claim_aval_join(const struct pz *z, struct pz_aval a, struct pz_aval b,
			      Z3_ast x, Z3_ast y)
{
	struct pz_aval r = pz_aval_join(z, a, b);
	return IMP(z, AND2(z, pz_aval_contains(z, a, x), pz_aval_contains(z, b, y)),
		   AND3(z, reduced(z, r), pz_aval_contains(z, r, x), pz_aval_contains(z, r, y)));
}

/* The relation of a narrowing, on concrete values. */
static Z3_ast holds(const struct pz *z, enum vfm_rel rel, Z3_ast x, Z3_ast y)
{
	Z3_context c = z->c;
	switch (rel) {
	case VFM_REL_EQ: return Z3_mk_eq(c, x, y);
	case VFM_REL_NE: return NOT(z, Z3_mk_eq(c, x, y));
	case VFM_REL_LT: return Z3_mk_bvult(c, x, y);
	case VFM_REL_LE: return Z3_mk_bvule(c, x, y);
	case VFM_REL_GT: return Z3_mk_bvugt(c, x, y);
	case VFM_REL_GE: return Z3_mk_bvuge(c, x, y);
	case VFM_REL_SET: return NOT(z, Z3_mk_eq(c, Z3_mk_bvand(c, x, y), pz_num(z, 0)));
	case VFM_REL_CLEAR: return Z3_mk_eq(c, Z3_mk_bvand(c, x, y), pz_num(z, 0));
	}
	return Z3_mk_true(c);
}

/* Narrowing keeps every pair in the relation (any inputs, reduced or
 * not), and its results are reduced. */
static Z3_ast claim_narrow(const struct pz *z, enum vfm_rel rel, struct pz_aval a,
			   struct pz_aval b, Z3_ast x, Z3_ast y)
{
	struct pz_aval ra = a, rb = b;
	Z3_ast ok = pz_aval_narrow(z, rel, &ra, &rb);
	return IMP(z, AND3(z, pz_aval_contains(z, a, x), pz_aval_contains(z, b, y),
			   holds(z, rel, x, y)),
		   AND3(z, ok, AND2(z, pz_aval_contains(z, ra, x), pz_aval_contains(z, rb, y)),
			AND2(z, reduced(z, ra), reduced(z, rb))));
}

/* Every pair that takes the edge survives: the edge is feasible, both
 * values keep their member, and the results are reduced. */
static Z3_ast claim_refine(const struct pz *z, uint8_t op, bool taken, bool pairs_taken,
			   struct pz_aval a,
			   struct pz_aval b, Z3_ast x, Z3_ast y)
{
	struct pz_aval ra = a, rb = b;
	Z3_ast ok = pz_aval_refine(z, op, taken, &ra, &rb);
	Z3_ast cond = pz_cond(z, op, x, y);
	return IMP(z, AND3(z, pz_aval_contains(z, a, x), pz_aval_contains(z, b, y),
			   pairs_taken ? cond : NOT(z, cond)),
		   AND3(z, ok, AND2(z, pz_aval_contains(z, ra, x), pz_aval_contains(z, rb, y)),
			AND2(z, reduced(z, ra), reduced(z, rb))));
}

/* ---- hints --------------------------------------------------------------
 * Rows over the reduced product would make the solver re-prove, inside a
 * large formula, what the rows of the lemmas (meet, reduce, the component
 * operators) prove on their own.  Such rows install hooks (proofs/enc.h):
 * every meet and reduction the mirror builds gets the instances of the
 * proven meet and reduce claims for the query's witnesses x and y.  Each
 * row says which lemma rows it relies on (`uses`), and those rows run at
 * the same width in the same run.
 */
struct hints {
	Z3_solver s;
	Z3_ast wit[2];
	bool busy; /* building a hint: do not hint the hint's own terms */
	unsigned n_fresh;        /* refine_reduce calls so far */
	struct pz_aval fresh[2]; /* the values it returned: ra, rb */
};

static void hint(const struct pz *z, Z3_ast t)
{
	struct hints *h = z->hook_ctx;
	Z3_solver_assert(z->c, h->s, t);
}

static void hook_reduce(const struct pz *z, struct pz_aval a)
{
	struct hints *h = z->hook_ctx;
	if (h->busy)
		return;
	h->busy = true;
	for (int i = 0; i < 2; i++)
		hint(z, claim_reduce(z, a, h->wit[i]));
	h->busy = false;
}

static void hook_tnum_meet(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	struct hints *h = z->hook_ctx;
	if (h->busy)
		return;
	h->busy = true;
	for (int i = 0; i < 2; i++)
		hint(z, claim_tnum_meet(z, a, b, h->wit[i]));
	h->busy = false;
}

static void hook_itv_meet(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	struct hints *h = z->hook_ctx;
	if (h->busy)
		return;
	h->busy = true;
	for (int i = 0; i < 2; i++)
		hint(z, claim_itv_meet(z, a, b, h->wit[i]));
	h->busy = false;
}

/*
 * The reductions of a refinement's operands, abstracted: fresh values
 * "ra", "rb" (and flags "ra.empty", "rb.empty") about which only the
 * aval_reduce claim is asserted, for both witnesses.  That claim is proven
 * for every input by its own row, so the real reductions are among the
 * values this query covers: a modular proof, and the solver no longer
 * bit-blasts two 64-bit reductions per refinement row.
 */
static struct pz_aval hook_refine_reduce(const struct pz *z, struct pz_aval a, Z3_ast *empty)
{
	struct hints *h = z->hook_ctx;
	unsigned k = h->n_fresh++ % 2;
	const char *name = k ? "rb" : "ra";
	char ename[16];
	struct pz_aval r = var_aval(z, name);
	snprintf(ename, sizeof ename, "%s.empty", name);
	*empty = Z3_mk_const(z->c, Z3_mk_string_symbol(z->c, ename), Z3_mk_bool_sort(z->c));
	for (int i = 0; i < 2; i++)
		hint(z, reduce_spec(z, a, r, *empty, h->wit[i]));
	h->fresh[k] = r;
	return r;
}

static void install_hooks(struct pz *z, struct hints *h, Z3_solver s, Z3_ast x, Z3_ast y)
{
	h->s = s;
	h->wit[0] = x;
	h->wit[1] = y;
	h->busy = false;
	z->hook_ctx = h;
	z->on_reduce = hook_reduce;
	z->on_tnum_meet = hook_tnum_meet;
	z->on_itv_meet = hook_itv_meet;
}

/*
 * Assert the negated claim of job j (plus its hints); for a split job,
 * also the hypothesis of case k.  The cases cover every input, so the
 * claim holds iff every case is unsat.  Shift operators are split on the
 * concrete count, y & (width-1) = k: the concrete shift becomes a shift by
 * a constant, which the solver handles far better than a barrel shifter.
 */
static void build_query(struct pz *z, Z3_solver s, const struct job *j, unsigned k)
{
	Z3_context c = z->c;
	Z3_ast x = pz_var(z, "x"), y = pz_var(z, "y"), claim;
	uint8_t op = j->opcode;
	struct hints h;
	if (j->cases > 1 && (op == VFM_OPC_SHL || op == VFM_OPC_SHR))
		Z3_solver_assert(c, s, Z3_mk_eq(c, Z3_mk_bvand(c, y, pz_num(z, z->w - 1)),
						pz_num(z, k)));
	switch (j->kind) {
	case K_TNUM2:
		claim = claim_tnum2(z, op, spec_op(j), var_tnum(z, "a"), var_tnum(z, "b"), x, y);
		break;
	case K_TNUM1:
		claim = claim_tnum1(z, op, var_tnum(z, "a"), x);
		break;
	case K_ITV2:
		claim = claim_itv2(z, op, spec_op(j), var_itv(z, "a"), var_itv(z, "b"), x, y);
		break;
	case K_ITV1:
		claim = claim_itv1(z, op, var_itv(z, "a"), x);
		break;
	case K_TNUM_RANGE:
		claim = claim_tnum_range(z, pz_var(z, "lo"), pz_var(z, "hi"), x);
		break;
	case K_TNUM_JOIN:
		claim = claim_tnum_join(z, var_tnum(z, "a"), var_tnum(z, "b"), x);
		break;
	case K_TNUM_MEET:
		claim = claim_tnum_meet(z, var_tnum(z, "a"), var_tnum(z, "b"), x);
		break;
	case K_ITV_JOIN:
		claim = claim_itv_join(z, var_itv(z, "a"), var_itv(z, "b"), x);
		break;
	case K_ITV_MEET:
		claim = claim_itv_meet(z, var_itv(z, "a"), var_itv(z, "b"), x);
		break;
	case K_ITV_WIDEN: {
		Z3_ast thr[4] = {pz_var(z, "t0"), pz_var(z, "t1"), pz_var(z, "t2"), pz_var(z, "t3")};
		claim = claim_itv_widen(z, var_itv(z, "prev"), var_itv(z, "next"), thr, x);
		break;
	}
	case K_NEXT:
		claim = claim_next(z, var_tnum(z, "t"), pz_var(z, "lo"), x);
		break;
	case K_PREV:
		claim = claim_prev(z, var_tnum(z, "t"), pz_var(z, "hi"), x);
		break;
	case K_AVAL_REDUCE: {
		/* Hints: next/prev on the bounds, range and meet on the new
		 * bounds, for the witness x and for the new bounds themselves. */
		struct pz_aval a = var_aval(z, "a");
		Z3_ast ok_lo, ok_hi;
		Z3_ast lo = pz_next_member(z, a.tn, a.itv.lo, &ok_lo);
		Z3_ast hi = pz_prev_member(z, a.tn, a.itv.hi, &ok_hi);
		Z3_ast w[3] = {x, lo, hi};
		Z3_solver_assert(c, s, claim_next(z, a.tn, a.itv.lo, x));
		Z3_solver_assert(c, s, claim_prev(z, a.tn, a.itv.hi, x));
		for (int i = 0; i < 3; i++) {
			Z3_solver_assert(c, s, claim_tnum_range(z, lo, hi, w[i]));
			Z3_solver_assert(c, s, claim_tnum_meet(z, a.tn, pz_tnum_range(z, lo, hi), w[i]));
		}
		claim = claim_reduce(z, a, x);
		break;
	}
	case K_AVAL_RESULT:
		install_hooks(z, &h, s, x, x);
		claim = claim_result(z, var_itv(z, "i"), var_tnum(z, "t"), x);
		break;
	case K_AVAL_JOIN: {
		struct pz_aval a = var_aval(z, "a"), b = var_aval(z, "b");
		install_hooks(z, &h, s, x, y);
		Z3_solver_assert(c, s, claim_itv_join(z, a.itv, b.itv, x));
		Z3_solver_assert(c, s, claim_itv_join(z, a.itv, b.itv, y));
		Z3_solver_assert(c, s, claim_tnum_join(z, a.tn, b.tn, x));
		Z3_solver_assert(c, s, claim_tnum_join(z, a.tn, b.tn, y));
		claim = claim_aval_join(z, a, b, x, y);
		break;
	}
	case K_AVAL2: {
		struct pz_aval a = var_aval(z, "a"), b = var_aval(z, "b");
		install_hooks(z, &h, s, pz_sem2(z, op, x, y), x);
		Z3_solver_assert(c, s, claim_itv2(z, op, op, a.itv, b.itv, x, y));
		Z3_solver_assert(c, s, claim_tnum2(z, op, op, a.tn, b.tn, x, y));
		claim = claim_aval2(z, op, a, b, x, y);
		break;
	}
	case K_AVAL1: {
		struct pz_aval a = var_aval(z, "a");
		install_hooks(z, &h, s, pz_sem1(z, op, x), x);
		Z3_solver_assert(c, s, claim_itv1(z, op, a.itv, x));
		Z3_solver_assert(c, s, claim_tnum1(z, op, a.tn, x));
		claim = claim_aval1(z, op, a, x);
		break;
	}
	case K_NARROW:
		install_hooks(z, &h, s, x, y);
		claim = claim_narrow(z, (enum vfm_rel)op, var_aval(z, "a"), var_aval(z, "b"), x, y);
		break;
	case K_REFINE: {
		/* refine = narrow(reduce(a), reduce(b)), GT and GE swapped.
		 * The reductions are abstracted (hook_refine_reduce); the
		 * hint is the narrow claim for the reduced values. */
		struct pz_aval a = var_aval(z, "a"), b = var_aval(z, "b"), ra, rb;
		enum vfm_rel rel = vfm_jcc_rel(op, j->taken);
		install_hooks(z, &h, s, x, y);
		h.n_fresh = 0;
		z->refine_reduce = hook_refine_reduce;
		/* A control claims the edge keeps the pairs of the other edge. */
		claim = claim_refine(z, op, j->taken, j->control ? !j->taken : j->taken, a, b, x, y);
		ra = h.fresh[0];
		rb = h.fresh[1];
		if (rel == VFM_REL_GT)
			Z3_solver_assert(c, s, claim_narrow(z, VFM_REL_LT, rb, ra, y, x));
		else if (rel == VFM_REL_GE)
			Z3_solver_assert(c, s, claim_narrow(z, VFM_REL_LE, rb, ra, y, x));
		else
			Z3_solver_assert(c, s, claim_narrow(z, rel, ra, rb, x, y));
		break;
	}
	default:
		claim = Z3_mk_true(c);
		break;
	}
	z->on_reduce = NULL;
	z->on_tnum_meet = NULL;
	z->on_itv_meet = NULL;
	z->refine_reduce = NULL;
	Z3_solver_assert(c, s, Z3_mk_not(c, claim));
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One solver run of job j (case k); false unless unsat. */
static bool run_case(Z3_context c, struct pz *z, struct job *j, unsigned k,
		     unsigned limit_ms)
{
	Z3_solver s;
	Z3_params p;
	Z3_lbool r;
	s = Z3_mk_solver_for_logic(c, Z3_mk_string_symbol(c, "QF_BV"));
	Z3_solver_inc_ref(c, s);
	p = Z3_mk_params(c);
	Z3_params_inc_ref(c, p);
	Z3_params_set_uint(c, p, Z3_mk_string_symbol(c, "timeout"), limit_ms ? limit_ms : 1);
	Z3_solver_set_params(c, s, p);
	build_query(z, s, j, k);
	r = Z3_solver_check(c, s);
	if (r == Z3_L_FALSE) {
		j->result = R_UNSAT;
	} else if (r == Z3_L_TRUE) {
		Z3_model m = Z3_solver_get_model(c, s);
		Z3_model_inc_ref(c, m);
		j->result = R_SAT;
		snprintf(j->detail, sizeof j->detail, "counterexample (case %u):\n%s", k,
			 Z3_model_to_string(c, m));
		Z3_model_dec_ref(c, m);
	} else {
		const char *why = Z3_solver_get_reason_unknown(c, s);
		j->result = strstr(why, "timeout") || strstr(why, "canceled") ? R_TIMEOUT : R_UNKNOWN;
		snprintf(j->detail, sizeof j->detail, "%s (case %u of %u)", why, k,
			 j->cases ? j->cases : 1);
	}
	Z3_params_dec_ref(c, p);
	Z3_solver_dec_ref(c, s);
	return r == Z3_L_FALSE;
}

/* Every case of job j, within one time limit for the whole job. */
static void run_z3(struct job *j)
{
	Z3_config cfg = Z3_mk_config();
	Z3_context c = Z3_mk_context(cfg);
	struct pz z;
	double t0 = now(), limit = j->optional ? opt.attempt_s : opt.timeout_s;
	Z3_del_config(cfg);
	pz_init(&z, c, j->width);
	for (unsigned k = 0; k < (j->cases ? j->cases : 1); k++) {
		double left = limit - (now() - t0), t1 = now();
		bool ok = run_case(c, &z, j, k, left > 0 ? (unsigned)(left * 1000) : 0);
		if (opt.verbose && j->cases > 1)
			fprintf(stderr, "    %s/%u case %u: %s %.2f s\n", j->name, j->width, k,
				outcome_name[j->result], now() - t1);
		if (!ok)
			break;
	}
	Z3_del_context(c);
}

static void run_brute(struct job *j)
{
	struct vfm_exh_result r;
	switch (j->kind) {
	case K_BRUTE_TNUM2: vfm_exh_tnum2(&vfm_dom8, j->opcode, 1, &r); break;
	case K_BRUTE_TNUM1: vfm_exh_tnum1(&vfm_dom8, j->opcode, &r); break;
	case K_BRUTE_ITV2: vfm_exh_itv2(&vfm_dom8, j->opcode, 1, &r); break;
	default: vfm_exh_itv1(&vfm_dom8, j->opcode, &r); break;
	}
	j->result = r.failures ? R_FAIL : R_PASS;
	if (r.failures)
		snprintf(j->detail, sizeof j->detail, "%llu failures; first: %s",
			 (unsigned long long)r.failures, r.first);
	else
		snprintf(j->detail, sizeof j->detail,
			 "%llu abstract cases, %.3g concrete, %.1f%% best", (unsigned long long)r.cases,
			 (double)r.concrete, 100.0 * (double)r.exact / (double)r.cases);
}

/* ---- the worker pool -------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned next_job;
static unsigned *order; /* jobs, expected-longest first */

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct job *j;
		double t0;
		pthread_mutex_lock(&lock);
		j = next_job < n_jobs ? &jobs[order[next_job++]] : NULL;
		pthread_mutex_unlock(&lock);
		if (!j)
			return NULL;
		if (j->result == R_SKIP)
			continue;
		t0 = now();
		if (j->kind >= K_BRUTE_TNUM2)
			run_brute(j);
		else
			run_z3(j);
		j->seconds = now() - t0;
		if (opt.verbose) {
			pthread_mutex_lock(&lock);
			fprintf(stderr, "  %-26s %3u  %-8s %8.2f\n", j->name, j->width,
				outcome_name[j->result], j->seconds);
			pthread_mutex_unlock(&lock);
		}
	}
}

/* Rough cost, to start the long jobs first. */
static int cost(const struct job *j)
{
	if (j->optional)
		return 1000;
	if (j->kind == K_BRUTE_ITV2)
		return 500;
	if (j->kind == K_AVAL2)
		return 100;
	return 10;
}

static int by_cost(const void *a, const void *b)
{
	const struct job *x = &jobs[*(const unsigned *)a], *y = &jobs[*(const unsigned *)b];
	int d = cost(y) - cost(x);
	return d ? d : (int)(*(const unsigned *)a) - (int)(*(const unsigned *)b);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: prove [options]\n"
		"Prove the abstract operators of verifier/ sound with Z3 (QF_BV) and\n"
		"brute-force them at 8 bits; print a table; exit 1 on any failure.\n"
		"  -j N             worker threads (default 2)\n"
		"  --timeout S      time limit per query in seconds (default 600)\n"
		"  --attempt S      time limit of the 16-bit mul/div/mod attempts (default 45)\n"
		"  --attempt64      also attempt mul/div/mod at 64 bits\n"
		"  --no-brute       skip the 8-bit brute force\n"
		"  --only STR       run only the rows whose name contains STR\n"
		"  --list           list the rows and exit\n"
		"  -v               print each row as it finishes (stderr)\n"
		"  -h, --help       this text\n");
}

static unsigned parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s ? s : "", &end, 10);
	if (!s || !*s || *end || v == 0 || v > 100000) {
		fprintf(stderr, "prove: bad %s '%s'\n", what, s ? s : "");
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	bool list = false;
	unsigned failures = 0, attempts_timed_out = 0, rows = 0;
	pthread_t tid[64];
	double t0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-j"))
			opt.threads = parse_uint(i + 1 < argc ? argv[++i] : NULL, "-j");
		else if (!strcmp(a, "--timeout"))
			opt.timeout_s = parse_uint(i + 1 < argc ? argv[++i] : NULL, "--timeout");
		else if (!strcmp(a, "--attempt"))
			opt.attempt_s = parse_uint(i + 1 < argc ? argv[++i] : NULL, "--attempt");
		else if (!strcmp(a, "--attempt64"))
			opt.try64 = true;
		else if (!strcmp(a, "--no-brute"))
			opt.brute = false;
		else if (!strcmp(a, "--only") && i + 1 < argc)
			opt.only = argv[++i];
		else if (!strcmp(a, "--list"))
			list = true;
		else if (!strcmp(a, "-v"))
			opt.verbose = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "prove: unknown argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (opt.threads > 64)
		opt.threads = 64;
	make_jobs();
	for (unsigned i = 0; i < n_jobs; i++)
		if (opt.only && !strstr(jobs[i].name, opt.only))
			jobs[i].result = R_SKIP;
	if (list) {
		for (unsigned i = 0; i < n_jobs; i++)
			if (jobs[i].result != R_SKIP)
				printf("%-26s %3u%s\n", jobs[i].name, jobs[i].width,
				       jobs[i].optional ? "  (attempt)" : "");
		return 0;
	}
	order = malloc(n_jobs * sizeof *order);
	if (!order)
		return 2;
	for (unsigned i = 0; i < n_jobs; i++)
		order[i] = i;
	qsort(order, n_jobs, sizeof *order, by_cost);

	t0 = now();
	for (unsigned t = 0; t < opt.threads; t++)
		if (pthread_create(&tid[t], NULL, worker, NULL)) {
			fprintf(stderr, "prove: cannot start threads\n");
			return 2;
		}
	for (unsigned t = 0; t < opt.threads; t++)
		pthread_join(tid[t], NULL);

	printf("%-26s %5s  %-8s %9s\n", "operator", "width", "result", "seconds");
	for (unsigned i = 0; i < n_jobs; i++) {
		struct job *j = &jobs[i];
		const char *note = "";
		bool bad;
		if (j->result == R_SKIP)
			continue;
		if (j->control)
			bad = j->result != R_SAT;
		else
			bad = j->result == R_SAT || j->result == R_UNKNOWN || j->result == R_FAIL ||
			      (j->result == R_TIMEOUT && !j->optional);
		if (j->control) {
			note = bad ? "  (control NOT refuted: the query setup is vacuous)"
				   : "  (control: a false claim, refuted as it must be)";
		} else if (j->optional && j->result == R_TIMEOUT) {
			note = "  (attempt timed out; proven at 8 bits)";
			attempts_timed_out++;
		} else if (j->kind >= K_BRUTE_TNUM2 && !bad) {
			note = "  (exhaustive, C code at 8 bits)";
		}
		printf("%-26s %5u  %-8s %9.2f%s\n", j->name, j->width, outcome_name[j->result],
		       j->seconds, note);
		if ((bad && !j->control) || (opt.verbose && j->kind >= K_BRUTE_TNUM2))
			printf("    %s\n", j->detail);
		failures += bad;
		rows++;
	}
	printf("%u rows, %u failed, %u attempts timed out; %.1f s wall on %u threads\n",
	       rows, failures, attempts_timed_out, now() - t0, opt.threads);
	free(order);
	return failures ? 1 : 0;
}
