/*
 * verifier/absint.c — the abstract interpreter.
 *
 * Runs after the structural verifier (verify.c) has proven the program
 * well-formed and computed the stack depth at every instruction.  It never
 * rejects a program: it computes facts the engines may use (loads proven in
 * bounds, unreachable instructions, the abstract state at every pc) and
 * warnings for people.
 *
 * Abstract state before an instruction (layout in vm/program.h):
 *   slot 0                 the packet length (identity VFM_ID_LEN)
 *   slots 1 .. ns          the tracked scratch words
 *   slots 1+ns .. +depth   the stack, bottom to top
 * Each slot is an interval × tnum (verifier/domain.h) plus an identity:
 * slots with the same non-zero id hold the same concrete value on every
 * path to that point, so a comparison refines every copy (and comparing a
 * copy of LEN refines the packet length).
 *
 * Identities stay sound by two rules: an instruction producing a new value
 * gives it id 2 + insn and first strips that id from every other slot (an
 * older value of the same instruction, e.g. from a previous loop
 * iteration); a join keeps two slots in one class only if they are in one
 * class in both inputs, and relabels the classes with ids private to that
 * join point.
 *
 * Iteration: a worklist ordered by reverse postorder (an approximation of
 * weak topological order), widening with thresholds at loop heads from
 * their third state on (the first two are plain joins).  Intervals only
 * grow up to the next threshold at loop heads, tnums and identity
 * partitions have finite height, so the iteration terminates; a visit cap makes it stop early on pathological
 * inputs, in which case no facts are claimed.
 *
 * Around it: the control-flow graph in cfg.c, identities and length rooms
 * in slots.c, the domains in interval.c / tnum.c / aval.c, the runtime
 * oracle that checks these states during execution in oracle.c.
 */
#include <stdlib.h>
#include <string.h>

#include "verifier.h"
#include "../vm/semantics.h"
#include "cfg.h"
#include "domain.h"
#include "slots.h"

/* Limits: beyond these the analysis claims nothing (always sound). */
#define ABSINT_MAX_SLOTS (4u << 20)  /* abstract words stored for all pcs */
#define ABSINT_VISITS_PER_INSN 64u   /* average visits before giving up */
#define ABSINT_WIDEN_AFTER 2u        /* states of a loop head before widening */

struct absint {
	struct vfm_program *prog;
	const struct vfm_insn *insns;
	const int16_t *depth;
	uint32_t n;
	uint32_t ns; /* tracked scratch words */
	struct vfm_aslot *states;
	uint64_t *off;
	uint8_t *flags;
	uint8_t *edges;   /* bit 0: fall-through/not-taken propagated, bit 1: taken */
	uint32_t *visits;
	uint32_t *rpo;    /* insn -> reverse-postorder position */
	uint32_t *heap;   /* min-heap of insns by rpo */
	uint8_t *queued;
	uint32_t heap_len;
	uint64_t *thresholds;
	unsigned n_thresholds;
	struct vfm_aslot *cur, *out, *tmp; /* scratch states */
	uint64_t budget;  /* visits left */
};

static uint32_t slots_at(const struct absint *ai, uint32_t i)
{
	return 1 + ai->ns + (uint32_t)ai->depth[i];
}

/* ---- worklist ------------------------------------------------------------ */

static void heap_push(struct absint *ai, uint32_t insn)
{
	if (ai->queued[insn])
		return;
	ai->queued[insn] = 1;
	uint32_t k = ai->heap_len++;
	while (k > 0) {
		uint32_t parent = (k - 1) / 2;
		if (ai->rpo[ai->heap[parent]] <= ai->rpo[insn])
			break;
		ai->heap[k] = ai->heap[parent];
		k = parent;
	}
	ai->heap[k] = insn;
}

static uint32_t heap_pop(struct absint *ai)
{
	uint32_t top = ai->heap[0];
	uint32_t last = ai->heap[--ai->heap_len];
	uint32_t k = 0;
	for (;;) {
		uint32_t c = 2 * k + 1;
		if (c >= ai->heap_len)
			break;
		if (c + 1 < ai->heap_len && ai->rpo[ai->heap[c + 1]] < ai->rpo[ai->heap[c]])
			c++;
		if (ai->rpo[last] <= ai->rpo[ai->heap[c]])
			break;
		ai->heap[k] = ai->heap[c];
		k = c;
	}
	if (ai->heap_len)
		ai->heap[k] = last;
	ai->queued[top] = 0;
	return top;
}

/* ---- state helpers ------------------------------------------------------- */

static struct vfm_aslot *state_of(const struct absint *ai, uint32_t i)
{
	return ai->states + ai->off[i];
}

static struct vfm_aval load_result(unsigned size)
{
	struct vfm_aval v;
	uint64_t max = size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
	v.itv.lo = 0;
	v.itv.hi = max;
	v.tn.value = 0;
	v.tn.mask = max;
	return v;
}

/* ---- join ----------------------------------------------------------------- */

struct id_pair {
	uint32_t a, b, slot;
};

static int cmp_pair(const void *x, const void *y)
{
	const struct id_pair *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return p->slot < q->slot ? -1 : (p->slot > q->slot);
}

/* Identity of class `slot` at join point s: private to s, never equal to an
 * instruction's id (2 + insn) or VFM_ID_LEN. */
static uint32_t join_id(const struct absint *ai, uint32_t s, uint32_t slot)
{
	return 2 + ai->n + s * (1 + VFM_SCRATCH_WORDS + VFM_MAX_STACK) + slot;
}

/* dst = join(dst, src) at instruction s (widened when `widen`).  The
 * identity partition is the intersection of the two. */
static void join_into(struct absint *ai, uint32_t s, struct vfm_aslot *dst,
		      const struct vfm_aslot *src, uint32_t m, bool widen)
{
	struct id_pair pairs[1 + VFM_SCRATCH_WORDS + VFM_MAX_STACK];
	uint32_t n_pairs = 0;
	for (uint32_t k = 0; k < m; k++) {
		struct vfm_aval a = dst[k].v, b = src[k].v;
		struct vfm_aval j = vfm_aval_join(a, b);
		if (widen)
			j.itv = vfm_itv_widen(a.itv, j.itv, ai->thresholds, ai->n_thresholds);
		dst[k].v = j;
		/* Length room: what holds on both paths.  Sums name
		 * identities, which the join renames: dropped. */
		if (src[k].len_room < dst[k].len_room)
			dst[k].len_room = src[k].len_room;
		dst[k].sum_of = dst[k].sum_k = 0;
		uint32_t ia = dst[k].id, ib = src[k].id;
		if (ia == VFM_ID_LEN && ib == VFM_ID_LEN)
			continue; /* the length's class is the same everywhere */
		if (ia == 0 || ib == 0 || ia == VFM_ID_LEN || ib == VFM_ID_LEN) {
			dst[k].id = 0;
			continue;
		}
		pairs[n_pairs++] = (struct id_pair){ia, ib, k};
	}
	qsort(pairs, n_pairs, sizeof pairs[0], cmp_pair);
	for (uint32_t p = 0; p < n_pairs;) {
		uint32_t q = p + 1;
		while (q < n_pairs && pairs[q].a == pairs[p].a && pairs[q].b == pairs[p].b)
			q++;
		/* A class of one slot has no copies: no identity needed. */
		uint32_t id = q - p > 1 ? join_id(ai, s, pairs[p].slot) : 0;
		for (uint32_t r = p; r < q; r++)
			dst[pairs[r].slot].id = id;
		p = q;
	}
}

/* Merge an outgoing state into instruction s; queue s if it changed. */
static void merge(struct absint *ai, uint32_t from, unsigned edge, uint32_t s,
		  const struct vfm_aslot *out)
{
	uint32_t m = slots_at(ai, s);
	struct vfm_aslot *dst = state_of(ai, s);
	ai->edges[from] |= (uint8_t)(1u << edge);
	if (!(ai->flags[s] & VFM_FACT_REACHED)) {
		memcpy(dst, out, m * sizeof *dst);
		ai->flags[s] |= VFM_FACT_REACHED;
		ai->visits[s] = 1;
		heap_push(ai, s);
		return;
	}
	memcpy(ai->tmp, dst, m * sizeof *dst);
	bool widen = (ai->flags[s] & VFM_FACT_LOOP_HEAD) && ai->visits[s] >= ABSINT_WIDEN_AFTER;
	join_into(ai, s, ai->tmp, out, m, widen);
	if (memcmp(ai->tmp, dst, m * sizeof *dst) != 0) {
		memcpy(dst, ai->tmp, m * sizeof *dst);
		ai->visits[s]++;
		heap_push(ai, s);
	}
}

/* ---- transfer ------------------------------------------------------------- */

enum bounds { BOUNDS_ALWAYS, BOUNDS_NEVER, BOUNDS_MAYBE };

/* Is the packet load at i in bounds on every path (ALWAYS), on none
 * (NEVER), or neither, given the state s before it?  Used by the transfer
 * function and, on the final states only, for the facts: a flag set on an
 * early, more precise visit would not hold for the fixpoint. */
static enum bounds classify_load(const struct absint *ai, uint32_t i, const struct vfm_aslot *s)
{
	const struct vfm_insn *insn = &ai->insns[i];
	const struct vfm_opinfo *info = &vfm_opinfo[insn->opcode];
	struct vfm_interval len = s[0].v.itv;
	uint64_t k = insn->arg, size = info->size;
	if (info->cls == VFM_CLASS_LOAD) {
		if (k + size <= len.lo)
			return BOUNDS_ALWAYS;
		return k + size > len.hi ? BOUNDS_NEVER : BOUNDS_MAYBE;
	}
	/* Indexed: smallest and largest offset; a wrap is out of bounds. */
	struct vfm_interval idx = s[slots_at(ai, i) - 1].v.itv;
	bool lo_wraps = idx.lo > UINT64_MAX - k;
	bool hi_wraps = idx.hi > UINT64_MAX - k;
	uint64_t off_lo = idx.lo + k, off_hi = idx.hi + k;
	if (!hi_wraps && off_hi <= len.lo && size <= len.lo - off_hi)
		return BOUNDS_ALWAYS;
	/* idx + room <= len, learned from a guard: enough if k + size fits
	 * in the room (no wrap: idx + room <= len < 2^32). */
	uint32_t room = s[slots_at(ai, i) - 1].len_room;
	if (room != 0 && k + size <= (uint64_t)room - 1)
		return BOUNDS_ALWAYS;
	if (lo_wraps || off_lo > len.hi || size > len.hi - off_lo)
		return BOUNDS_NEVER;
	return BOUNDS_MAYBE;
}

/* Apply instruction i to its in-state and merge into the successors. */
static void step(struct absint *ai, uint32_t i)
{
	const struct vfm_insn *insn = &ai->insns[i];
	const struct vfm_opinfo *info = &vfm_opinfo[insn->opcode];
	uint32_t m = slots_at(ai, i);
	uint32_t top = m - 1;       /* top of stack slot, if depth > 0 */
	struct vfm_aslot *c = ai->cur;
	memcpy(c, state_of(ai, i), m * sizeof *c);
	uint32_t om = m - info->pops + info->pushes; /* slots after */

	switch ((enum vfm_op_class)info->cls) {
	case VFM_CLASS_STACK:
		switch ((enum vfm_stack_op)insn->opcode) {
		case VFM_STACK_PUSH:
			c[m] = (struct vfm_aslot){.v = vfm_aval_const(insn->imm)};
			break;
		case VFM_STACK_POP:
			break;
		case VFM_STACK_DUP:
			vfm_slots_share_id(c, m, top, i);
			c[m] = c[top];
			break;
		case VFM_STACK_SWAP: {
			struct vfm_aslot t = c[top];
			c[top] = c[top - 1];
			c[top - 1] = t;
			break;
		}
		case VFM_STACK_OVER:
			vfm_slots_share_id(c, m, top - 1, i);
			c[m] = c[top - 1];
			break;
		case VFM_STACK_LDM:
			if (insn->aux < ai->ns) {
				vfm_slots_share_id(c, m, 1 + insn->aux, i);
				c[m] = c[1 + insn->aux];
			} else {
				c[m] = (struct vfm_aslot){.v = vfm_aval_const(0)};
			}
			break;
		case VFM_STACK_STM:
			if (insn->aux < ai->ns) {
				vfm_slots_share_id(c, m, top, i);
				c[1 + insn->aux] = c[top];
			}
			break;
		}
		break;

	case VFM_CLASS_LOAD: {
		uint64_t end = (uint64_t)insn->arg + info->size;
		enum bounds b = classify_load(ai, i, c);
		if (b == BOUNDS_NEVER)
			return; /* every packet ends here */
		if (b == BOUNDS_MAYBE && !vfm_slots_len_at_least(c, m, end))
			return;
		vfm_slots_produce(c, m, m, i, load_result(info->size));
		break;
	}

	case VFM_CLASS_LOADX: {
		struct vfm_aslot idx = c[top];
		uint64_t k = insn->arg, size = info->size;
		enum bounds b = classify_load(ai, i, c);
		if (b == BOUNDS_NEVER)
			return;
		if (b == BOUNDS_MAYBE) {
			uint64_t off_lo = idx.v.itv.lo + k; /* no wrap: not NEVER */
			/* Continuing means the load was in bounds: the length is
			 * at least off_lo + size, and the index at most
			 * len.hi - k - size (for every copy of it). */
			if (!vfm_slots_len_at_least(c, m, off_lo + size))
				return;
			struct vfm_aval bound = vfm_aval_unknown();
			bound.itv.hi = c[0].v.itv.hi - k - size;
			bool empty = false;
			bound = vfm_aval_reduce(bound, &empty);
			if (empty || !vfm_slots_refine_id(c, m, idx.id, bound))
				return;
		}
		vfm_slots_produce(c, m, top, i, load_result(info->size));
		break;
	}

	case VFM_CLASS_ALU2: {
		struct vfm_aslot a = c[top - 1], b = c[top];
		struct vfm_aval r = vfm_aval_alu2(insn->opcode, a.v, b.v);
#ifdef VFM_TEST_CORRUPT
		/* Test build only (tests/test_z3_corrupt.c): a wrong transfer
		 * function, SUB computed as ADD, which the Z3 cross-check must
		 * refute.  Never defined in the library. */
		if (insn->opcode == VFM_OPC_SUB)
			r = vfm_aval_alu2(VFM_OPC_ADD, a.v, b.v);
#endif
		vfm_slots_produce(c, m, top - 1, i, r);
		/* x + c: remember it for a comparison of the sum with LEN. */
		if (insn->opcode == VFM_OPC_ADD)
			vfm_slots_note_sum(&c[top - 1], a, b, i);
		break;
	}

	case VFM_CLASS_ALU1:
		vfm_slots_produce(c, m, top, i, vfm_aval_alu1(insn->opcode, c[top].v));
		break;

	case VFM_CLASS_JMP:
		merge(ai, i, 1, insn->arg, c);
		return;

	case VFM_CLASS_JCC: {
		struct vfm_aslot a = c[top - 1], b = c[top];
		for (unsigned taken = 0; taken < 2; taken++) {
			struct vfm_aval ra = a.v, rb = b.v;
			bool edge = taken != 0;
#ifdef VFM_TEST_CORRUPT
			/* Test build only: JLT's edges refined the wrong way round. */
			if (insn->opcode == VFM_OPC_JLT)
				edge = !edge;
#endif
			if (!vfm_aval_refine(insn->opcode, edge, &ra, &rb))
				continue;
			memcpy(ai->out, c, om * sizeof *c);
			if (!vfm_slots_refine_id(ai->out, om, a.id, ra) ||
			    !vfm_slots_refine_id(ai->out, om, b.id, rb))
				continue;
			vfm_slots_learn_compare(ai->out, om, a, b, vfm_jcc_rel(insn->opcode, taken != 0));
			merge(ai, i, taken, taken ? insn->arg : i + 1, ai->out);
		}
		return;
	}

	case VFM_CLASS_RET:
		return;

	case VFM_CLASS_SPECIAL:
		switch ((enum vfm_special_op)insn->opcode) {
		case VFM_SPECIAL_LEN:
			c[m] = c[0];
			break;
		case VFM_SPECIAL_WLEN:
			/* The caller's wire length: any 32-bit value, unrelated
			 * to the packet length. */
			vfm_slots_produce(c, m, m, i, load_result(4));
			break;
		case VFM_SPECIAL_HASH5:
		case VFM_SPECIAL_TS:
			vfm_slots_produce(c, m, m, i, vfm_aval_unknown());
			break;
		case VFM_SPECIAL_FLOW_LOAD:
			vfm_slots_produce(c, m, top, i, vfm_aval_unknown());
			break;
		case VFM_SPECIAL_FLOW_STORE:
			break;
		}
		break;
	}
	merge(ai, i, 0, i + 1, c);
}

/* ---- after the fixpoint --------------------------------------------------- */

static int add_warning(struct vfm_facts *f, uint32_t *cap, uint32_t insn,
		       enum vfm_warning_kind kind)
{
	if (f->n_warnings == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 16;
		struct vfm_warning *w = realloc(f->warnings, ncap * sizeof *w);
		if (!w)
			return -1;
		f->warnings = w;
		*cap = ncap;
	}
	f->warnings[f->n_warnings++] = (struct vfm_warning){insn, (uint8_t)kind};
	return 0;
}

/* Loops only the budget ends: loop heads from which no RET is reachable
 * along edges the analysis found feasible. */
static int mark_budget_loops(struct absint *ai)
{
	uint32_t n = ai->n;
	/* Reverse reachability from every reached RET over feasible edges:
	 * iterate to a fixpoint (edges point both ways, so sweep backwards
	 * until nothing changes; each sweep is linear). */
	uint8_t *can_ret = calloc(n, 1);
	if (!can_ret)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if ((ai->flags[i] & VFM_FACT_REACHED) &&
		    vfm_opinfo[ai->insns[i].opcode].cls == VFM_CLASS_RET)
			can_ret[i] = 1;
	/* Sweeps go backwards, so forward edges settle in one sweep; each
	 * further sweep crosses one more backward edge.  Capped: without a
	 * fixpoint no loop is marked (a warning is missed, nothing claimed). */
	bool changed = true;
	for (unsigned sweep = 0; changed && sweep < 64; sweep++) {
		changed = false;
		for (uint32_t i = n; i-- > 0;) {
			if (can_ret[i] || !(ai->flags[i] & VFM_FACT_REACHED))
				continue;
			uint32_t succ[2];
			vfm_cfg_succ(ai->insns, i, succ);
			for (unsigned e = 0; e < 2; e++)
				if (succ[e] != VFM_CFG_NONE && (ai->edges[i] >> e & 1) && can_ret[succ[e]])
					can_ret[i] = 1;
			changed |= can_ret[i] != 0;
		}
	}
	for (uint32_t i = 0; i < n && !changed; i++)
		if ((ai->flags[i] & VFM_FACT_LOOP_HEAD) && (ai->flags[i] & VFM_FACT_REACHED) &&
		    !can_ret[i])
			ai->flags[i] |= VFM_FACT_BUDGET_LOOP;
	free(can_ret);
	return 0;
}

static int summarise(struct absint *ai)
{
	struct vfm_facts *f = &ai->prog->facts;
	uint32_t cap = 0;
	if (mark_budget_loops(ai) != 0)
		return -1;
	f->loads = f->loads_in_bounds = 0;
	/* Facts about loads and divisors come from the final states only. */
	for (uint32_t i = 0; i < ai->n; i++) {
		if (!(ai->flags[i] & VFM_FACT_REACHED))
			continue;
		const struct vfm_insn *insn = &ai->insns[i];
		const struct vfm_aslot *s = state_of(ai, i);
		uint8_t cls = vfm_opinfo[insn->opcode].cls;
		if (cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX) {
			enum bounds b = classify_load(ai, i, s);
			if (b == BOUNDS_ALWAYS)
				ai->flags[i] |= VFM_FACT_IN_BOUNDS;
			else if (b == BOUNDS_NEVER)
				ai->flags[i] |= VFM_FACT_ALWAYS_OOB;
		}
		if ((insn->opcode == VFM_OPC_DIV || insn->opcode == VFM_OPC_MOD) &&
		    vfm_aval_contains(s[slots_at(ai, i) - 1].v, 0))
			ai->flags[i] |= VFM_FACT_MAY_DIV0;
	}
	for (uint32_t i = 0; i < ai->n; i++) {
		uint8_t fl = ai->flags[i];
		uint8_t cls = vfm_opinfo[ai->insns[i].opcode].cls;
		int err = 0;
		if (!(fl & VFM_FACT_REACHED)) {
			if (i == 0 || (ai->flags[i - 1] & VFM_FACT_REACHED))
				err = add_warning(f, &cap, i, VFM_WARN_UNREACHABLE);
		} else if (cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX) {
			f->loads++;
			if (fl & VFM_FACT_IN_BOUNDS)
				f->loads_in_bounds++;
			else
				err = add_warning(f, &cap, i,
						  fl & VFM_FACT_ALWAYS_OOB ? VFM_WARN_ALWAYS_OOB
									   : VFM_WARN_MAY_OOB);
		}
		if (!err && (fl & VFM_FACT_REACHED) && (fl & VFM_FACT_MAY_DIV0))
			err = add_warning(f, &cap, i, VFM_WARN_MAY_DIV0);
		if (!err && (fl & VFM_FACT_BUDGET_LOOP))
			err = add_warning(f, &cap, i, VFM_WARN_BUDGET_LOOP);
		if (err)
			return -1;
	}
	return 0;
}

/* Widening thresholds: the program's constants and load ends, plus the
 * usual boundaries, sorted and unique. */
static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int collect_thresholds(struct absint *ai)
{
	static const uint64_t fixed[] = {0, 1, 0xFF, 0x100, 0xFFFF, 0x10000,
					 0xFFFFFFFFu, 0x100000000u, UINT64_MAX};
	uint64_t n = ai->n * 2u + sizeof fixed / sizeof fixed[0];
	ai->thresholds = malloc(n * sizeof *ai->thresholds);
	if (!ai->thresholds)
		return -1;
	unsigned k = 0;
	for (unsigned j = 0; j < sizeof fixed / sizeof fixed[0]; j++)
		ai->thresholds[k++] = fixed[j];
	for (uint32_t i = 0; i < ai->n; i++) {
		const struct vfm_insn *insn = &ai->insns[i];
		uint8_t cls = vfm_opinfo[insn->opcode].cls;
		if (insn->opcode == VFM_OPC_PUSH) {
			ai->thresholds[k++] = insn->imm;
			if (insn->imm)
				ai->thresholds[k++] = insn->imm - 1;
		} else if (cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX) {
			ai->thresholds[k++] = insn->arg;
			ai->thresholds[k++] = (uint64_t)insn->arg + vfm_opinfo[insn->opcode].size;
		}
	}
	qsort(ai->thresholds, k, sizeof *ai->thresholds, cmp_u64);
	unsigned u = 0;
	for (unsigned j = 0; j < k; j++)
		if (u == 0 || ai->thresholds[u - 1] != ai->thresholds[j])
			ai->thresholds[u++] = ai->thresholds[j];
	ai->n_thresholds = u;
	return 0;
}

static void drop_facts(struct vfm_facts *f)
{
	free(f->flags);
	free(f->states);
	free(f->state_off);
	free(f->warnings);
	f->flags = NULL;
	f->states = NULL;
	f->state_off = NULL;
	f->warnings = NULL;
	f->n_warnings = 0;
	f->loads = f->loads_in_bounds = 0;
}

void vfm_absint(struct vfm_program *prog)
{
	struct vfm_facts *f = &prog->facts;
	struct absint ai = {.prog = prog, .insns = prog->insns, .depth = f->depth,
			    .n = prog->n_insns};
	drop_facts(f);
	/* Track scratch words up to the highest one stored; others stay 0. */
	for (uint32_t i = 0; i < ai.n; i++)
		if (prog->insns[i].opcode == VFM_OPC_STM && prog->insns[i].aux + 1u > ai.ns)
			ai.ns = prog->insns[i].aux + 1u;
	uint64_t total = 0;
	f->state_off = malloc(((size_t)ai.n + 1) * sizeof *f->state_off);
	if (!f->state_off)
		goto fail;
	for (uint32_t i = 0; i < ai.n; i++) {
		f->state_off[i] = total;
		if (f->depth[i] >= 0)
			total += 1 + ai.ns + (uint32_t)f->depth[i];
	}
	f->state_off[ai.n] = total;
	if (total > ABSINT_MAX_SLOTS)
		goto fail;
	uint32_t max_slots = 1 + ai.ns + VFM_MAX_STACK + 2;
	f->states = malloc((total ? total : 1) * sizeof *f->states);
	f->flags = calloc(ai.n, 1);
	ai.edges = calloc(ai.n, 1);
	ai.visits = calloc(ai.n, sizeof *ai.visits);
	ai.rpo = malloc(ai.n * sizeof *ai.rpo);
	ai.heap = malloc(ai.n * sizeof *ai.heap);
	ai.queued = calloc(ai.n, 1);
	ai.cur = malloc(max_slots * sizeof *ai.cur);
	ai.out = malloc(max_slots * sizeof *ai.out);
	ai.tmp = malloc(max_slots * sizeof *ai.tmp);
	if (!f->states || !f->flags || !ai.edges || !ai.visits || !ai.rpo || !ai.heap ||
	    !ai.queued || !ai.cur || !ai.out || !ai.tmp)
		goto fail;
	ai.states = f->states;
	ai.off = f->state_off;
	ai.flags = f->flags;
	f->n_scratch = (uint8_t)ai.ns;
	if (vfm_cfg_rpo(ai.insns, ai.n, ai.rpo, ai.flags, VFM_FACT_LOOP_HEAD) != 0 ||
	    collect_thresholds(&ai) != 0)
		goto fail;

	/* Entry: length any u32, scratch 0, empty stack. */
	struct vfm_aslot *entry = ai.cur;
	bool empty = false;
	/* Whole-slot stores (unnamed fields 0): states are compared with memcmp. */
	entry[0] = (struct vfm_aslot){
		.v = vfm_aval_reduce((struct vfm_aval){{0, UINT32_MAX}, vfm_tnum_unknown()}, &empty),
		.id = VFM_ID_LEN};
	for (uint32_t k = 0; k < ai.ns; k++)
		entry[1 + k] = (struct vfm_aslot){.v = vfm_aval_const(0)};
	memcpy(ai.states, entry, (1 + ai.ns) * sizeof *entry);
	ai.flags[0] |= VFM_FACT_REACHED;
	ai.visits[0] = 1;
	heap_push(&ai, 0);

	ai.budget = (uint64_t)ai.n * ABSINT_VISITS_PER_INSN + 1024;
	while (ai.heap_len) {
		if (ai.budget-- == 0)
			goto fail;
		step(&ai, heap_pop(&ai));
	}
	if (summarise(&ai) != 0)
		goto fail;
	goto done;
fail:
	drop_facts(f);
done:
	free(ai.edges);
	free(ai.visits);
	free(ai.rpo);
	free(ai.heap);
	free(ai.queued);
	free(ai.cur);
	free(ai.out);
	free(ai.tmp);
	free(ai.thresholds);
}
