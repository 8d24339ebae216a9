/*
 * verifier/z3/z3check.c — the driver of the Z3 cross-check: options,
 * setup (loop regions from verifier/cfg.h, the node layout with K lowered
 * to fit, the Z3 context), vfm_z3_check, vfm_z3_eval_packets, teardown.
 * What is encoded and checked: z3check.h; the steps: z3_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../vm/semantics.h"
#include "z3_internal.h"

double vfm_z3i_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_z3_error(Z3_context c, Z3_error_code e)
{
	(void)c;
	(void)e; /* checked with Z3_get_error_code after each phase */
}

bool vfm_z3i_failed(struct zc *z)
{
	Z3_error_code e = Z3_get_error_code(z->c);
	if (e == Z3_OK)
		return false;
	if (!z->rep->error[0])
		snprintf(z->rep->error, sizeof z->rep->error, "Z3 error: %s",
			 Z3_get_error_msg(z->c, e));
	return true;
}

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

/* Regions, node layout (K lowered to fit), node arrays and the Z3 context.
 * On failure report->error says why. */
vfm_error_t vfm_z3i_setup(struct zc *z)
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
	if (!z->base || !z->levels || !report->fail || vfm_cfg_find_sccs(z->prog->insns, z->n, &z->sccs) != 0)
		return VFM_ENOMEM;
	z->provable = calloc(z->n, 1);
	z->head = calloc(z->n, sizeof *z->head);
	if (!z->provable || !z->head)
		return VFM_ENOMEM;
	/* Loop heads: the targets of backward jumps, numbered as starts. */
	uint32_t heads = 0;
	for (uint32_t i = 0; i < z->n; i++) {
		uint8_t cls = vfm_opinfo[prog->insns[i].opcode].cls;
		uint32_t t = prog->insns[i].arg;
		if ((cls == VFM_CLASS_JMP || cls == VFM_CLASS_JCC) && t <= i && !z->head[t])
			z->head[t] = ++heads;
	}
	report->heads = heads;
	/* Lower K until the unrolled graph fits (the inductive pass: one node
	 * per instruction, K = 0). */
	z->K = z->inductive ? 0 : z->opt.unroll;
	uint64_t total = vfm_z3i_layout_nodes(z);
	while (total > VFM_Z3_MAX_NODES && z->K > 0) {
		z->K /= 2;
		total = vfm_z3i_layout_nodes(z);
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

void vfm_z3i_teardown(struct zc *z)
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
	vfm_cfg_sccs_free(&z->sccs);
	free(z->cut);
	free(z->cl);
	free(z->arr);
	free(z->head);
	free(z->provable);
}

/* Encode, make the claims, decide them. */
static vfm_error_t run(struct zc *z)
{
	vfm_error_t err = vfm_z3i_encode(z);
	if (err == VFM_OK)
		err = vfm_z3i_make_claims(z);
	if (err == VFM_OK)
		err = vfm_z3i_solve_claims(z);
	return err;
}

/* One pass over prog (bounded, or inductive), into rep; provable (n
 * bytes, may be NULL) receives the loads the pass shows in bounds. */
static vfm_error_t run_pass(const vfm_program_t *prog, const struct vfm_z3_options *opt,
			    bool inductive, struct vfm_z3_report *rep, uint8_t *provable)
{
	struct zc z = {.prog = prog, .f = &prog->facts, .rep = rep, .n = prog->n_insns,
		       .opt = *opt, .inductive = inductive};
	rep->insns = prog->n_insns;
	rep->facts = true;
	vfm_error_t err = vfm_z3i_setup(&z);
	if (err == VFM_OK)
		err = run(&z);
	if (err == VFM_ENOMEM && !rep->error[0])
		snprintf(rep->error, sizeof rep->error, "out of memory");
	if (provable && z.provable)
		memcpy(provable, z.provable, prog->n_insns);
	vfm_z3i_teardown(&z);
	return err;
}

/* The inductive pass's results into the report of the bounded one. */
static void merge_inductive(struct vfm_z3_report *rep, struct vfm_z3_report *ind,
			    const struct vfm_z3_options *opt)
{
	rep->ind_claims = ind->claims;
	rep->ind_failed = ind->failures;
	rep->ind_unknown = ind->unknowns;
	rep->inductive = ind->failed[VFM_Z3_LOOP_HEAD] ? VFM_Z3_IND_FAILED
			 : ind->unknown[VFM_Z3_LOOP_HEAD] || ind->error[0] ? VFM_Z3_IND_UNKNOWN
			 : VFM_Z3_IND_PROVEN;
	for (unsigned k = 0; k < VFM_Z3_KIND_COUNT; k++) {
		rep->failed[k] += ind->failed[k];
		/* Claims only the inductive pass makes are counted there. */
		if (k == VFM_Z3_LOOP_HEAD || k == VFM_Z3_BUDGET_LOOP) {
			rep->checked[k] += ind->checked[k];
			rep->claims += ind->checked[k];
			rep->unknown[k] += ind->unknown[k];
			rep->unknowns += ind->unknown[k];
		}
	}
	rep->failures += ind->failures;
	rep->queries += ind->queries;
	rep->timeouts += ind->timeouts;
	for (uint32_t j = 0; j < ind->n_fail; j++) {
		if (rep->n_fail < opt->max_failures) {
			rep->fail[rep->n_fail] = ind->fail[j];
			rep->fail[rep->n_fail].inductive = true;
			rep->fail[rep->n_fail].exact = false;
			rep->n_fail++;
		} else {
			free(ind->fail[j].bytes);
			free(ind->fail[j].text);
		}
	}
	ind->n_fail = 0;
	if (ind->error[0] && !rep->error[0])
		snprintf(rep->error, sizeof rep->error, "inductive pass: %.140s", ind->error);
}

/*
 * Which loads the verifier did not prove are provable, for every path:
 * those the bounded pass shows in bounds when it covers every path
 * (loop-free, or complete), and those the inductive pass shows in bounds
 * when the head states are proven inductive (the claim then holds from
 * every state the heads allow, a superset of the reachable ones).  The
 * rest of the bounded pass's are provable within the bound only.
 */
static void count_provable(const vfm_program_t *prog, struct vfm_z3_report *rep,
			   const uint8_t *bounded, const uint8_t *inductive)
{
	bool all_paths = !rep->loops || rep->complete;
	bool ind_ok = rep->inductive == VFM_Z3_IND_PROVEN;
	uint32_t n_bounded = 0;
	rep->provable = rep->proven;
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		bool b = bounded[i], u = (all_paths && b) || (ind_ok && inductive && inductive[i]);
		if (u) {
			rep->provable++;
			if (rep->n_gap < VFM_Z3_MAX_GAP)
				rep->gap_pc[rep->n_gap++] = prog->pc_of[i];
		} else if (b) {
			rep->provable_bounded++;
		}
	}
	/* No unbounded gap to list: list the bounded-only loads instead. */
	if (rep->provable == rep->proven && rep->provable_bounded) {
		rep->gap_bounded = true;
		for (uint32_t i = 0; i < prog->n_insns && n_bounded < VFM_Z3_MAX_GAP; i++)
			if (bounded[i])
				rep->gap_pc[n_bounded++] = prog->pc_of[i];
		rep->n_gap = n_bounded;
	}
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
	double t0 = vfm_z3i_now();
	struct vfm_z3_options o;
	if (opt)
		o = *opt;
	else
		vfm_z3_options_init(&o);
	report->insns = prog->n_insns;
	if (!prog->facts.flags || prog->n_insns == 0 || !vfm_facts_state(prog, 0)) {
		snprintf(report->error, sizeof report->error,
			 "the verifier claimed nothing (abstract interpretation did not run)");
		report->seconds = vfm_z3i_now() - t0;
		return VFM_OK;
	}
	uint8_t *bounded = calloc(prog->n_insns, 1), *inductive = NULL;
	if (!bounded) {
		snprintf(report->error, sizeof report->error, "out of memory");
		return VFM_ENOMEM;
	}
	vfm_error_t err = run_pass(prog, &o, false, report, bounded);
	if ((err == VFM_OK || err == VFM_EVERIFY) && report->loops) {
		struct vfm_z3_report ind;
		memset(&ind, 0, sizeof ind);
		inductive = calloc(prog->n_insns, 1);
		vfm_error_t e2 = inductive ? run_pass(prog, &o, true, &ind, inductive) : VFM_ENOMEM;
		merge_inductive(report, &ind, &o);
		vfm_z3_report_free(&ind);
		if (e2 != VFM_OK && e2 != VFM_EVERIFY)
			err = e2;
		else if (e2 == VFM_EVERIFY)
			err = VFM_EVERIFY;
	}
	count_provable(prog, report, bounded, inductive);
	free(bounded);
	free(inductive);
	report->seconds = vfm_z3i_now() - t0;
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
	vfm_error_t err = vfm_z3i_setup(&z);
	if (err == VFM_OK)
		err = vfm_z3i_encode(&z);
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
	for (size_t q = 0; q < n && !vfm_z3i_failed(&z); q++) {
		const uint8_t *data = pkts[q].data;
		uint32_t len = pkts[q].len;
		Z3_model m = Z3_mk_model(c);
		Z3_model_inc_ref(c, m);
		Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, z.len32)),
				    Z3_mk_unsigned_int64(c, len, z.b32));
		Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, z.ts)),
				    num64(&z, pkts[q].ts_ns));
		/* The caller's wire length as given (0: none, WLEN reads len). */
		Z3_add_const_interp(c, m, Z3_get_app_decl(c, Z3_to_app(c, z.wire_in)),
				    Z3_mk_unsigned_int64(c, pkts[q].wire_len, z.b32));
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
		out[q].beyond_bound = vfm_z3i_eval_true(&z, m, beyond);
		out[q].insns = vfm_z3i_eval_u64(&z, m, count);
		bool ok = vfm_z3i_eval_true(&z, m, returned);
		out[q].status = ok ? VFM_STATUS_OK : VFM_STATUS_BOUNDS;
		out[q].verdict = ok ? vfm_sem_verdict(vfm_z3i_eval_u64(&z, m, verdict)) : 0;
		Z3_model_dec_ref(c, m);
	}
	if (vfm_z3i_failed(&z))
		err = VFM_EUNSUPPORTED;
done:
	vfm_z3i_teardown(&z);
	vfm_z3_report_free(&report);
	return err;
}
