/*
 * verifier/z3/z3claims.c — every claim of the verifier's facts
 * (prog->facts) as a Boolean "violation" term: satisfiable iff the claim
 * is false, already conjoined with the node's reach condition
 * (z3_internal.h; the kinds of claims: z3check.h).
 *
 * A slot claim at a node is not asked again when a dominator of the node
 * (every path to it passes there) holds the same term with a claim at
 * least as strong: it follows from that one (and is refuted, or unknown,
 * with it).
 *
 */
#include <stdlib.h>

#include "../domain.h"
#include "z3_internal.h"

void vfm_z3i_add_claim(struct zc *z, uint32_t insn, uint8_t kind, uint8_t purpose, Z3_ast viol)
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
Z3_ast vfm_z3i_slot_term(struct zc *z, const struct znode *nd, uint32_t j)
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

/* The claim about node slot q (numbering of nslot_term) at insn i. */
static struct vfm_aval nslot_claim(const struct vfm_facts *f, const struct vfm_aslot *s,
				   uint32_t q)
{
	uint32_t ns = f->n_scratch;
	if (q == 0)
		return s[0].v;
	if (q <= N_SCRATCH)
		return q - 1 < ns ? s[q].v : vfm_aval_const(0);
	return s[1 + ns + (q - 1 - N_SCRATCH)].v;
}

/* State slot j (layout of vm/program.h) among slots st (scratch, then
 * the stack). */
static Z3_ast st_term(struct zc *z, Z3_ast *st, uint32_t j)
{
	uint32_t ns = z->f->n_scratch;
	if (j == 0)
		return z->len64;
	if (j <= ns)
		return st[j - 1];
	return st[N_SCRATCH + (j - 1 - ns)];
}

/* Identities broken among slots st at insn i (NULL: none possible). */
static Z3_ast identity_viol(struct zc *z, uint32_t i, Z3_ast *st, Z3_ast *tmp)
{
	const struct vfm_aslot *s = vfm_facts_state(z->prog, i);
	uint32_t mf = 1 + z->f->n_scratch + (uint32_t)z->f->depth[i];
	size_t nt = 0;
	for (uint32_t j = 0; j < mf; j++) {
		if (s[j].id == 0)
			continue;
		Z3_ast a = st_term(z, st, j), b = NULL;
		if (s[j].id == VFM_ID_LEN) {
			b = z->len64;
		} else {
			for (uint32_t q = 0; q < j && !b; q++)
				if (s[q].id == s[j].id)
					b = st_term(z, st, q);
		}
		if (b && a != b)
			tmp[nt++] = mk_not(z, Z3_mk_eq(z->c, a, b));
	}
	return mk_orn(z, tmp, nt);
}

/* Length rooms broken: value + (room - 1) <= len, i.e. value <= len and
 * len - value >= room - 1 (no wrap-around). */
static Z3_ast room_viol(struct zc *z, uint32_t i, Z3_ast *st, Z3_ast *tmp)
{
	const struct vfm_aslot *s = vfm_facts_state(z->prog, i);
	uint32_t mf = 1 + z->f->n_scratch + (uint32_t)z->f->depth[i];
	size_t nt = 0;
	for (uint32_t j = 1; j < mf; j++) {
		if (s[j].len_room == 0)
			continue;
		Z3_ast a = st_term(z, st, j);
		Z3_ast r1 = Z3_mk_unsigned_int64(z->c, s[j].len_room - 1u, Z3_get_sort(z->c, a));
		Z3_ast ok[2] = {Z3_mk_bvule(z->c, a, z->len64),
				Z3_mk_bvuge(z->c, Z3_mk_bvsub(z->c, z->len64, a), r1)};
		tmp[nt++] = mk_not(z, Z3_mk_and(z->c, 2, ok));
	}
	return mk_orn(z, tmp, nt);
}

Z3_ast vfm_z3i_state_viol(struct zc *z, uint32_t i, Z3_ast *st)
{
	const struct vfm_aslot *s = vfm_facts_state(z->prog, i);
	uint32_t m = 1 + N_SCRATCH + (uint32_t)z->f->depth[i];
	Z3_ast tmp[1 + N_SCRATCH + VFM_MAX_STACK + 2], part[3];
	size_t nt = 0;
	for (uint32_t q = 0; q < m; q++) {
		Z3_ast v = outside(z, q ? st[q - 1] : z->len64, nslot_claim(z->f, s, q));
		if (v)
			tmp[nt++] = v;
	}
	part[0] = mk_orn(z, tmp, nt);
	part[1] = identity_viol(z, i, st, tmp);
	part[2] = room_viol(z, i, st, tmp);
	return mk_orn(z, part, 3);
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
	const struct vfm_aslot *s = vfm_facts_state(z->prog, i);
	uint32_t m = 1 + N_SCRATCH + (uint32_t)f->depth[i];
	nd->known = malloc(m * sizeof *nd->known);
	if (!nd->known) {
		z->oom = true;
		return;
	}
	const struct znode *dom = nd->idom != NO_NODE ? &z->nodes[nd->idom] : NULL;
	uint32_t dm = 0;
	if (dom && dom->known)
		dm = 1 + N_SCRATCH + (uint32_t)f->depth[dom->insn];
	/* An inductive loop head's slots are assumed inside its state. */
	bool assumed = z->inductive && z->head[i];
	size_t nt = 0;
	for (uint32_t q = 0; q < m; q++) {
		struct vfm_aval claim = nslot_claim(f, s, q);
		Z3_ast t = nslot_term(z, nd, q);
		if (assumed) {
			nd->known[q] = claim;
			continue;
		}
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
	if (assumed)
		return;
	Z3_ast v = mk_orn(z, tmp, nt);
	if (v != z->fal)
		nd->vviol = mk_and2(z, nd->reach, v);
	v = identity_viol(z, i, nd->slot, tmp);
	if (v != z->fal)
		nd->iviol = mk_and2(z, nd->reach, v);
	v = room_viol(z, i, nd->slot, tmp);
	if (v != z->fal)
		nd->rviol = mk_and2(z, nd->reach, v);
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
			vfm_z3i_add_claim(z, i, VFM_Z3_UNREACHABLE, P_SOUND, v);
		return;
	}

	/* Values and identities, at every node of i. */
	const struct vfm_aslot *s = vfm_facts_state(z->prog, i);
	uint32_t ns = f->n_scratch, m = 1 + ns + (uint32_t)f->depth[i];
	rep->checked[VFM_Z3_VALUE] += m + (N_SCRATCH - ns);
	for (uint32_t j = 0; j < m; j++) {
		if (s[j].id != 0)
			rep->checked[VFM_Z3_IDENTITY]++;
		if (j > 0 && s[j].len_room != 0)
			rep->checked[VFM_Z3_LEN_ROOM]++;
	}
	uint32_t nv = 0, ni = 0;
	for (uint32_t k = 0; k < z->levels[i]; k++) {
		struct znode *nd = node_at(z, i, k);
		if (nd->vviol)
			vv[nv++] = nd->vviol;
		if (nd->iviol)
			iv[ni++] = nd->iviol;
	}
	if (nv)
		vfm_z3i_add_claim(z, i, VFM_Z3_VALUE, P_SOUND, mk_orn(z, vv, nv));
	if (ni)
		vfm_z3i_add_claim(z, i, VFM_Z3_IDENTITY, P_SOUND, mk_orn(z, iv, ni));
	ni = 0;
	for (uint32_t k = 0; k < z->levels[i]; k++) {
		struct znode *nd = node_at(z, i, k);
		if (nd->rviol)
			iv[ni++] = nd->rviol;
	}
	if (ni)
		vfm_z3i_add_claim(z, i, VFM_Z3_LEN_ROOM, P_SOUND, mk_orn(z, iv, ni));

	/* An indexed load marked no-wrap: index <= 2^64 - 1 - (k + size),
	 * which lets the engines drop the carry check (vm/predecode.c). */
	if (cls == VFM_CLASS_LOADX && (fl & VFM_FACT_INDEX_NO_WRAP)) {
		rep->checked[VFM_Z3_INDEX_NO_WRAP]++;
		uint64_t need = (uint64_t)insn->arg + vfm_opinfo[insn->opcode].size;
		nv = 0;
		for (uint32_t k = 0; k < z->levels[i]; k++) {
			struct znode *nd = node_at(z, i, k);
			if (nd->reach && nd->index)
				vv[nv++] = mk_and2(z, nd->reach,
						   Z3_mk_bvugt(z->c, nd->index, num64(z, UINT64_MAX - need)));
		}
		Z3_ast v = mk_orn(z, vv, nv);
		if (v != z->fal)
			vfm_z3i_add_claim(z, i, VFM_Z3_INDEX_NO_WRAP, P_SOUND, v);
	}

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
			z->provable[i] = 1;
		return;
	}
	vfm_z3i_add_claim(z, i, kind, purpose, v);
}

/*
 * The budget-loop warning at head h (inductive pass only): no RET is
 * reachable from h, and with VFM_FACT_BUDGET_ONLY no load that can fail
 * either (every packet entering h ends with BUDGET).  Checked segment by
 * segment: the segment starting at h reaches no RET (no failing load) and
 * arrives only at heads with the same flag, which are checked in turn, so
 * by induction over the segments of an execution the claim holds on every
 * path, however long.
 */
static void budget_loop_claim(struct zc *z, uint32_t h, Z3_ast *tmp, size_t cap)
{
	uint8_t need = z->f->flags[h] & (VFM_FACT_BUDGET_LOOP | VFM_FACT_BUDGET_ONLY);
	size_t nt = 0;
	z->rep->checked[VFM_Z3_BUDGET_LOOP]++;
	for (uint32_t p = 0; p < z->n_visited && nt + 1 < cap; p++) {
		const struct znode *nd = &z->nodes[z->visit[p]];
		uint8_t cls = vfm_opinfo[z->prog->insns[nd->insn].opcode].cls;
		if (nd->ret)
			tmp[nt++] = nd->reach;
		else if ((need & VFM_FACT_BUDGET_ONLY) && nd->cond &&
			 (cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX))
			tmp[nt++] = mk_and2(z, nd->reach, mk_not(z, nd->cond));
	}
	for (size_t a = 0; a < z->n_arr && nt + 1 < cap; a++)
		if ((z->f->flags[z->arr[a].head] & need) != need)
			tmp[nt++] = z->arr[a].cond;
	Z3_ast v = mk_orn(z, tmp, nt);
	if (v != z->fal)
		vfm_z3i_add_claim(z, h, VFM_Z3_BUDGET_LOOP, P_SOUND,
				  mk_and2(z, vfm_z3i_start(z, h), v));
}

vfm_error_t vfm_z3i_make_claims(struct zc *z)
{
	const struct vfm_program *prog = z->prog;
	const struct vfm_facts *f = z->f;
	struct vfm_z3_report *rep = z->rep;
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
	if (z->inductive) {
		size_t cap = (size_t)z->n_visited + z->n_arr + 1;
		tmp = malloc(cap * sizeof *tmp);
		for (uint32_t h = 0; h < z->n && tmp && !z->oom; h++)
			if (z->head[h] && (f->flags[h] & VFM_FACT_BUDGET_LOOP) && z->levels[h])
				budget_loop_claim(z, h, tmp, cap);
		if (!tmp)
			z->oom = true;
		free(tmp);
	}
	free(vv);
	free(iv);
	if (z->oom)
		return VFM_ENOMEM;
	if (vfm_z3i_failed(z))
		return VFM_EUNSUPPORTED;
	return VFM_OK;
}
