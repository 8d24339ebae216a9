/*
 * verifier/z3/z3solve.c — deciding the claims (z3_internal.h).
 *
 * Queries.  A claim is a Boolean term that is satisfiable iff the claim is
 * false ("violation"), already conjoined with the reach conditions.  A
 * group of claims is asked as one disjunction: unsat proves them all;
 * sat gives a model, every claim the model violates is refuted (a
 * counterexample is extracted, optionally a shorter one is searched), and
 * the rest is asked again; unknown (timeout) splits the group in halves
 * down to single claims, which are then reported unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "z3_internal.h"

/* One query, on a fresh solver running the qfufbv tactic (simplification,
 * Ackermann reduction of the packet function, bit-blasting, SAT).  Much
 * faster here than an incremental solver (Z3's push/pop and assumption
 * modes use other engines that are slow on these formulas, measured), at
 * the price of bit-blasting each query's cone.  (Writing the Ackermann
 * reduction out in the encoding instead, for pure QF_BV, was measured
 * too: it puts every earlier packet read into the cone of every later
 * computed read, and was much slower on programs with indexed loads in
 * loops.) */
Z3_lbool vfm_z3i_solve(struct zc *z, Z3_ast q, Z3_model *model, uint32_t timeout_ms,
		      const char *what)
{
	Z3_context c = z->c;
	double t0 = z->opt.trace ? vfm_z3i_now() : 0;
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
			vfm_z3i_now() - t0);
	return r;
}

bool vfm_z3i_eval_true(struct zc *z, Z3_model m, Z3_ast t)
{
	Z3_ast out = NULL;
	return Z3_model_eval(z->c, m, t, true, &out) && out &&
	       Z3_get_bool_value(z->c, out) == Z3_L_TRUE;
}

uint64_t vfm_z3i_eval_u64(struct zc *z, Z3_model m, Z3_ast t)
{
	Z3_ast out = NULL;
	uint64_t v = 0;
	if (Z3_model_eval(z->c, m, t, true, &out) && out)
		Z3_get_numeral_uint64(z->c, out, &v);
	return v;
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
	if (z->opt.minimize && vfm_z3i_eval_u64(z, m, z->len32) > 64) {
		static const uint32_t bounds[] = {64, 1514, 65535};
		for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
			Z3_model mm = NULL;
			Z3_ast q = mk_and2(z, cl->viol,
					   Z3_mk_bvule(z->c, z->len32, num_w(z, bounds[b], 32)));
			if (vfm_z3i_solve(z, q, &mm, z->opt.timeout_ms, "shorter counterexample") == Z3_L_TRUE) {
				best = mm;
				break;
			}
		}
	}
	struct vfm_z3_failure *fl = &rep->fail[rep->n_fail];
	memset(fl, 0, sizeof *fl);
	vfm_z3i_describe_failure(z, cl, best, fl);
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
		Z3_lbool r = vfm_z3i_solve(z, q, &m, group_timeout(z, n), what);
		if (vfm_z3i_failed(z))
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
			if (vfm_z3i_eval_true(z, m, cl[j]->viol)) {
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

vfm_error_t vfm_z3i_solve_claims(struct zc *z)
{
	const struct vfm_facts *f = z->f;
	struct vfm_z3_report *rep = z->rep;
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
	if (vfm_z3i_failed(z))
		return VFM_EUNSUPPORTED;
	for (size_t j = 0; j < z->n_cl; j++) {
		const struct claim *cl = &z->cl[j];
		if (cl->purpose == P_PRECISION) {
			if (cl->status == CL_HOLDS)
				z->provable[cl->insn] = 1;
			else if (cl->status == CL_UNKNOWN)
				rep->precision_unknown++;
		} else if (cl->status == CL_UNKNOWN) {
			rep->unknown[cl->kind]++;
			rep->unknowns++;
		}
	}
	rep->complete = true;
	if (z->n_cut) {
		Z3_ast q = mk_orn(z, z->cut, z->n_cut);
		Z3_lbool r = q == z->fal ? Z3_L_FALSE : vfm_z3i_solve(z, q, NULL, z->opt.timeout_ms, "paths beyond the bound");
		rep->complete = r == Z3_L_FALSE;
		rep->complete_unknown = r == Z3_L_UNDEF;
	}
	for (unsigned kd = 0; kd < VFM_Z3_KIND_COUNT; kd++)
		rep->claims += rep->checked[kd];
	if (vfm_z3i_failed(z))
		return VFM_EUNSUPPORTED;
	return rep->failures ? VFM_EVERIFY : VFM_OK;
}
