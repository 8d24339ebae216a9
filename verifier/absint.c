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
 * Iteration: a worklist of extended basic blocks ordered by reverse
 * postorder of their leaders (an approximation of weak topological
 * order); only leaders store a state.  Widening with thresholds at loop
 * heads from their third state on (the first two are plain joins), at
 * most ABSINT_THRESHOLD_STEPS times, then to the bounds.  Intervals only
 * grow, tnums and identity partitions have finite height, so the
 * iteration terminates; the work and memory budgets below make a
 * pathological program a refusal (VFM_ETOOBIG), never a stall.  After the
 * fixpoint every block is replayed once for the facts and warnings.
 *
 * Around it: the control-flow graph in cfg.c, identities and length rooms
 * in slots.c, the domains in interval.c / tnum.c / aval.c, the runtime
 * oracle that checks these states during execution in oracle.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"
#include "../vm/semantics.h"
#include "cfg.h"
#include "domain.h"
#include "slots.h"

/*
 * Budgets (docs/VERIFIER.md, "Cost").  Work is counted in units of one
 * abstract word (slot) processed: a visit of instruction i costs the width
 * of its state, a merge the width of the target's, and each instruction
 * one unit for the linear passes.  The budget is ABSINT_WORK_PER_SLOT
 * times the program's size in words (the sum of the widths of its
 * reachable instructions) plus one per instruction plus ABSINT_WORK_BASE,
 * and never more than ABSINT_MAX_WORK; memory during the iteration is the
 * states of the block leaders only, at most ABSINT_MAX_HEAD_SLOTS words.
 * A program over either is refused with VFM_ETOOBIG, naming the budget
 * and the pc: loading never stalls.
 */
#ifndef VFM_TEST_TINY_BUDGET
#define ABSINT_WORK_PER_SLOT 128u
#define ABSINT_WORK_BASE (UINT64_C(1) << 22)
#else
/* Test build only (tests/test_vbudget.c): a budget small programs exceed,
 * to test the refusal.  Never defined in the library. */
#define ABSINT_WORK_PER_SLOT 4u
#define ABSINT_WORK_BASE UINT64_C(0)
#endif
#define ABSINT_MAX_WORK (UINT64_C(1) << 30)
#define ABSINT_MAX_HEAD_SLOTS (4u << 20) /* 192 MiB of leader states at most */
#define ABSINT_MAX_STATE_SLOTS (4u << 20) /* per-pc states for tools (lazy) */
#define ABSINT_WIDEN_AFTER 2u        /* states of a loop head before widening */
/* Widening thresholds: at most this many from the program (the first in
 * program order among reachable instructions), plus the fixed ones; and
 * at most ABSINT_THRESHOLD_STEPS widenings with thresholds per loop head,
 * after which that head widens to the bounds.  Both bound the number of
 * iterations of a loop independently of the program's constants. */
#define ABSINT_MAX_THRESHOLDS 256u
#define ABSINT_THRESHOLD_STEPS 8u

struct absint {
	struct vfm_program *prog;
	const struct vfm_insn *insns;
	const int16_t *depth;
	uint32_t n;
	uint32_t ns; /* tracked scratch words */
	struct vfm_aslot *states;
	uint64_t *off;
	uint8_t *flags;
	uint8_t *leader;  /* first instruction of a basic block: state stored */
	uint8_t *edges;   /* bit 0: fall-through/not-taken propagated, bit 1: taken */
	uint32_t *visits;
	uint32_t *rpo;    /* insn -> reverse-postorder position */
	uint32_t *heap;   /* min-heap of insns by rpo */
	uint8_t *queued;
	uint32_t heap_len;
	uint64_t *thresholds;
	unsigned n_thresholds;
	struct vfm_aslot *cur, *out, *tmp, *ft; /* scratch states */
	uint64_t work;    /* units spent (see the budgets above) */
	uint64_t budget;  /* units allowed */
	uint32_t over_at; /* instruction at which the budget ran out */
	/* Replay of the final states (facts, per-pc states): merges do not
	 * change anything, rec (if not NULL) receives the state of every pc. */
	bool replay;
	struct vfm_aslot *rec;
	const uint64_t *rec_off;
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

/* Widening of prev by next with the program's thresholds (or, when
 * !thresholds, none: straight to the bounds).  vfm_itv_widen (the proven
 * operator, verifier/interval.c) takes the largest threshold <= next.lo
 * and the smallest >= next.hi from any list; the sorted list is searched
 * here for just those two (O(log T)) and only they are passed, which
 * gives the same result as passing all of them. */
static struct vfm_interval widen_itv(const struct absint *ai, struct vfm_interval prev,
				     struct vfm_interval next, bool thresholds)
{
	uint64_t pick[2];
	unsigned n_pick = 0;
	const uint64_t *t = ai->thresholds;
	unsigned n = thresholds ? ai->n_thresholds : 0;
	if (n && next.lo < prev.lo) {
		/* largest t[j] <= next.lo */
		unsigned lo = 0, hi = n;
		while (lo < hi) {
			unsigned mid = lo + (hi - lo) / 2;
			if (t[mid] <= next.lo)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0)
			pick[n_pick++] = t[lo - 1];
	}
	if (n && next.hi > prev.hi) {
		/* smallest t[j] >= next.hi */
		unsigned lo = 0, hi = n;
		while (lo < hi) {
			unsigned mid = lo + (hi - lo) / 2;
			if (t[mid] < next.hi)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n)
			pick[n_pick++] = t[lo];
	}
	return vfm_itv_widen(prev, next, pick, n_pick);
}

/* dst = join(dst, src) at instruction s (widened when `widen`).  The
 * identity partition is the intersection of the two. */
static void join_into(struct absint *ai, uint32_t s, struct vfm_aslot *dst,
		      const struct vfm_aslot *src, uint32_t m, bool widen, bool thresholds)
{
	struct id_pair pairs[1 + VFM_SCRATCH_WORDS + VFM_MAX_STACK];
	uint32_t n_pairs = 0;
	for (uint32_t k = 0; k < m; k++) {
		struct vfm_aval a = dst[k].v, b = src[k].v;
		struct vfm_aval j = vfm_aval_join(a, b);
		if (widen)
			j.itv = widen_itv(ai, a.itv, j.itv, thresholds);
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

/* Merge an outgoing state into leader s; queue s if it changed.  In the
 * replay (the fixpoint is reached) only the edge is noted. */
static void merge(struct absint *ai, uint32_t from, unsigned edge, uint32_t s,
		  const struct vfm_aslot *out)
{
	uint32_t m = slots_at(ai, s);
	ai->edges[from] |= (uint8_t)(1u << edge);
	if (ai->replay)
		return;
	struct vfm_aslot *dst = state_of(ai, s);
	ai->work += m;
	if (!(ai->flags[s] & VFM_FACT_REACHED)) {
		memcpy(dst, out, m * sizeof *dst);
		ai->flags[s] |= VFM_FACT_REACHED;
		ai->visits[s] = 1;
		heap_push(ai, s);
		return;
	}
	memcpy(ai->tmp, dst, m * sizeof *dst);
	bool widen = (ai->flags[s] & VFM_FACT_LOOP_HEAD) && ai->visits[s] >= ABSINT_WIDEN_AFTER;
	bool thresholds = ai->visits[s] < ABSINT_WIDEN_AFTER + ABSINT_THRESHOLD_STEPS;
	join_into(ai, s, ai->tmp, out, m, widen, thresholds);
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

/* Apply instruction i to its in-state c (in place) and merge into the
 * leaders it jumps to.  Returns true if control falls through to i + 1
 * with the state now in c; false if the path ends or every edge was
 * merged. */
static bool step(struct absint *ai, uint32_t i, struct vfm_aslot *c)
{
	const struct vfm_insn *insn = &ai->insns[i];
	const struct vfm_opinfo *info = &vfm_opinfo[insn->opcode];
	uint32_t m = slots_at(ai, i);
	uint32_t top = m - 1;       /* top of stack slot, if depth > 0 */
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
			return false; /* every packet ends here */
		if (b == BOUNDS_MAYBE && !vfm_slots_len_at_least(c, m, end))
			return false;
		vfm_slots_produce(c, m, m, i, load_result(info->size));
		break;
	}

	case VFM_CLASS_LOADX: {
		struct vfm_aslot idx = c[top];
		uint64_t k = insn->arg, size = info->size;
		enum bounds b = classify_load(ai, i, c);
		if (b == BOUNDS_NEVER)
			return false;
		if (b == BOUNDS_MAYBE) {
			uint64_t off_lo = idx.v.itv.lo + k; /* no wrap: not NEVER */
			/* Continuing means the load was in bounds: the length is
			 * at least off_lo + size, and the index at most
			 * len.hi - k - size (for every copy of it). */
			if (!vfm_slots_len_at_least(c, m, off_lo + size))
				return false;
			struct vfm_aval bound = vfm_aval_unknown();
			bound.itv.hi = c[0].v.itv.hi - k - size;
			bool empty = false;
			bound = vfm_aval_reduce(bound, &empty);
			if (empty || !vfm_slots_refine_id(c, m, idx.id, bound))
				return false;
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
		return false;

	case VFM_CLASS_JCC: {
		struct vfm_aslot a = c[top - 1], b = c[top];
		bool falls = false;
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
			if (!taken && !ai->leader[i + 1]) {
				/* Falls through within the block: continue there. */
				memcpy(ai->ft, ai->out, om * sizeof *c);
				falls = true;
				continue;
			}
			merge(ai, i, taken, taken ? insn->arg : i + 1, ai->out);
		}
		if (falls)
			memcpy(c, ai->ft, om * sizeof *c);
		return falls;
	}

	case VFM_CLASS_RET:
		return false;

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
	return true;
}

/* Facts about loads and divisors, from the final state s before i (a
 * flag set on an early, more precise visit would not hold for the
 * fixpoint). */
static void note_facts(struct absint *ai, uint32_t i, const struct vfm_aslot *s)
{
	const struct vfm_insn *insn = &ai->insns[i];
	uint8_t cls = vfm_opinfo[insn->opcode].cls;
	if (cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX) {
		enum bounds b = classify_load(ai, i, s);
		if (b == BOUNDS_ALWAYS)
			ai->flags[i] |= VFM_FACT_IN_BOUNDS;
		else if (b == BOUNDS_NEVER)
			ai->flags[i] |= VFM_FACT_ALWAYS_OOB;
		/* The interpreter's one-compare indexed load (vm/predecode.c)
		 * needs the index's interval only for this, so it is kept as
		 * a flag rather than the state. */
		uint64_t need = (uint64_t)insn->arg + vfm_opinfo[insn->opcode].size;
		if (cls == VFM_CLASS_LOADX && slots_at(ai, i) > 0 &&
		    s[slots_at(ai, i) - 1].v.itv.hi <= UINT64_MAX - need)
			ai->flags[i] |= VFM_FACT_INDEX_NO_WRAP;
	}
	if ((insn->opcode == VFM_OPC_DIV || insn->opcode == VFM_OPC_MOD) &&
	    vfm_aval_contains(s[slots_at(ai, i) - 1].v, 0))
		ai->flags[i] |= VFM_FACT_MAY_DIV0;
}

/* Run the basic block that starts at leader h from its stored state: each
 * instruction's state is computed from the one before, so only leaders
 * store a state.  Returns false when the work budget ran out. */
static bool run_block(struct absint *ai, uint32_t h)
{
	struct vfm_aslot *c = ai->cur;
	memcpy(c, state_of(ai, h), slots_at(ai, h) * sizeof *c);
	for (uint32_t i = h;; i++) {
		uint32_t m = slots_at(ai, i);
		ai->work += m;
		if (ai->work > ai->budget) {
			ai->over_at = i;
			return false;
		}
		ai->flags[i] |= VFM_FACT_REACHED;
		if (ai->replay) {
			note_facts(ai, i, c);
			if (ai->rec)
				memcpy(ai->rec + ai->rec_off[i], c, m * sizeof *c);
		}
		if (!step(ai, i, c))
			return true;
		if (ai->leader[i + 1]) {
			merge(ai, i, 0, i + 1, c);
			return true;
		}
		ai->edges[i] |= 1;
	}
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

/* Loops that never return a verdict: loop heads from which no RET is
 * reachable along edges the analysis found feasible.  If no load that may
 * fail is reachable from the head either, the budget is the only way out
 * (VFM_FACT_BUDGET_ONLY: every packet entering ends with BUDGET); else a
 * packet may also end with BOUNDS on the way. */
static int mark_budget_loops(struct absint *ai)
{
	uint32_t n = ai->n;
	/* Reverse reachability over feasible edges, two marks: bit 0 "a RET
	 * is reachable", bit 1 "a load not proven in bounds is reachable".
	 * Sweeps go backwards, so forward edges settle in one sweep; each
	 * further sweep crosses one more backward edge.  Capped (64 sweeps,
	 * linear each): without a fixpoint no loop is marked (a warning is
	 * missed, nothing claimed). */
	uint8_t *can = calloc(n, 1);
	if (!can)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t fl = ai->flags[i];
		uint8_t cls = vfm_opinfo[ai->insns[i].opcode].cls;
		if (!(fl & VFM_FACT_REACHED))
			continue;
		if (cls == VFM_CLASS_RET)
			can[i] |= 1;
		if ((cls == VFM_CLASS_LOAD || cls == VFM_CLASS_LOADX) && !(fl & VFM_FACT_IN_BOUNDS))
			can[i] |= 2;
	}
	bool changed = true;
	for (unsigned sweep = 0; changed && sweep < 64; sweep++) {
		changed = false;
		for (uint32_t i = n; i-- > 0;) {
			if (can[i] == 3 || !(ai->flags[i] & VFM_FACT_REACHED))
				continue;
			uint32_t succ[2];
			uint8_t old = can[i];
			vfm_cfg_succ(ai->insns, i, succ);
			for (unsigned e = 0; e < 2; e++)
				if (succ[e] != VFM_CFG_NONE && (ai->edges[i] >> e & 1))
					can[i] |= can[succ[e]];
			changed |= can[i] != old;
		}
	}
	for (uint32_t i = 0; i < n && !changed; i++)
		if ((ai->flags[i] & VFM_FACT_LOOP_HEAD) && (ai->flags[i] & VFM_FACT_REACHED) &&
		    !(can[i] & 1))
			ai->flags[i] |= (uint8_t)(VFM_FACT_BUDGET_LOOP |
						  (can[i] & 2 ? 0 : VFM_FACT_BUDGET_ONLY));
	free(can);
	return 0;
}

/* The warnings, in pc order, after the facts are final. */
static int summarise(struct absint *ai)
{
	struct vfm_facts *f = &ai->prog->facts;
	uint32_t cap = 0;
	if (mark_budget_loops(ai) != 0)
		return -1;
	f->loads = f->loads_in_bounds = 0;
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

/* Widening thresholds: the constants and load ends of reachable
 * instructions (at most ABSINT_MAX_THRESHOLDS, the first in program
 * order), plus the usual boundaries, sorted and unique (widen_itv
 * searches them). */
static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int collect_thresholds(struct absint *ai)
{
	static const uint64_t fixed[] = {0, 1, 0xFF, 0x100, 0xFFFF, 0x10000,
					 0xFFFFFFFFu, 0x100000000u, UINT64_MAX};
	unsigned n_fixed = sizeof fixed / sizeof fixed[0];
	ai->thresholds = malloc((ABSINT_MAX_THRESHOLDS + n_fixed) * sizeof *ai->thresholds);
	if (!ai->thresholds)
		return -1;
	unsigned k = 0;
	for (unsigned j = 0; j < n_fixed; j++)
		ai->thresholds[k++] = fixed[j];
	for (uint32_t i = 0; i < ai->n && k + 2 <= ABSINT_MAX_THRESHOLDS + n_fixed; i++) {
		const struct vfm_insn *insn = &ai->insns[i];
		uint8_t cls = vfm_opinfo[insn->opcode].cls;
		if (ai->depth[i] < 0)
			continue; /* unreachable: feeds nothing */
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
	free(f->warnings);
	vfm_facts_states_free(f);
	f->flags = NULL;
	f->warnings = NULL;
	f->n_warnings = 0;
	f->loads = f->loads_in_bounds = 0;
}

static void absint_free(struct absint *ai)
{
	free(ai->states);
	free(ai->off);
	free(ai->leader);
	free(ai->edges);
	free(ai->visits);
	free(ai->rpo);
	free(ai->heap);
	free(ai->queued);
	free(ai->cur);
	free(ai->out);
	free(ai->tmp);
	free(ai->ft);
	free(ai->thresholds);
}

enum absint_result { ABSINT_DONE, ABSINT_NOMEM, ABSINT_OVER_WORK, ABSINT_OVER_MEMORY };

/*
 * The analysis proper.  Fills prog->facts' flags (flags_out, if not NULL,
 * receives them instead: the lazy per-pc states below re-run it) and, if
 * rec is not NULL, the state before every reached pc at rec + rec_off[i].
 */
static enum absint_result analyse(struct vfm_program *prog, uint8_t *flags,
				  struct vfm_aslot *rec, const uint64_t *rec_off,
				  uint64_t *work_out, uint32_t *pc_out)
{
	struct vfm_facts *f = &prog->facts;
	struct absint ai = {.prog = prog, .insns = prog->insns, .depth = f->depth,
			    .n = prog->n_insns, .flags = flags};
	enum absint_result res = ABSINT_NOMEM;
	ai.ns = f->n_scratch;
	uint32_t n = ai.n;
	ai.leader = calloc((size_t)n + 1, 1);
	ai.off = malloc(((size_t)n + 1) * sizeof *ai.off);
	if (!ai.leader || !ai.off)
		goto out;
	/* Leaders (the only instructions whose state is stored): the entry
	 * and jump targets.  A block runs on through a conditional jump's
	 * not-taken edge (extended basic blocks); what follows a JMP or RET
	 * is reached only as a jump target. */
	ai.leader[0] = 1;
	ai.leader[n] = 1;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t cls = vfm_opinfo[prog->insns[i].opcode].cls;
		if (cls == VFM_CLASS_JMP || cls == VFM_CLASS_JCC)
			ai.leader[prog->insns[i].arg] = 1;
	}
	/* ... except where the not-taken edge leaves a loop: the block would
	 * otherwise re-run the code after the loop on every iteration. */
	struct vfm_cfg_sccs sccs = {0};
	if (vfm_cfg_find_sccs(prog->insns, n, &sccs) != 0) {
		vfm_cfg_sccs_free(&sccs);
		goto out;
	}
	for (uint32_t i = 0; i + 1 < n; i++)
		if (vfm_opinfo[prog->insns[i].opcode].cls == VFM_CLASS_JCC &&
		    sccs.scc[i] != VFM_CFG_NONE && sccs.loop[sccs.scc[i]] &&
		    sccs.scc[i + 1] != sccs.scc[i])
			ai.leader[i + 1] = 1;
	vfm_cfg_sccs_free(&sccs);
	uint64_t head_slots = 0, width = 0;
	for (uint32_t i = 0; i < n; i++) {
		ai.off[i] = head_slots;
		if (f->depth[i] < 0)
			continue;
		width += slots_at(&ai, i);
		if (ai.leader[i])
			head_slots += slots_at(&ai, i);
	}
	ai.off[n] = head_slots;
	ai.budget = ABSINT_WORK_PER_SLOT * width + n + ABSINT_WORK_BASE;
	if (ai.budget > ABSINT_MAX_WORK)
		ai.budget = ABSINT_MAX_WORK;
	if (head_slots > ABSINT_MAX_HEAD_SLOTS) {
		/* Name the first leader past the memory budget. */
		for (uint32_t i = 0; i < n; i++)
			if (ai.leader[i] && f->depth[i] >= 0 && ai.off[i] + slots_at(&ai, i) > ABSINT_MAX_HEAD_SLOTS) {
				*pc_out = i;
				break;
			}
		*work_out = head_slots;
		res = ABSINT_OVER_MEMORY;
		goto out;
	}
	uint32_t max_slots = 1 + ai.ns + VFM_MAX_STACK + 2;
	ai.states = malloc((head_slots ? head_slots : 1) * sizeof *ai.states);
	ai.edges = calloc(n ? n : 1, 1);
	ai.visits = calloc(n ? n : 1, sizeof *ai.visits);
	ai.rpo = malloc((n ? n : 1) * sizeof *ai.rpo);
	ai.heap = malloc((n ? n : 1) * sizeof *ai.heap);
	ai.queued = calloc(n ? n : 1, 1);
	ai.cur = malloc(max_slots * sizeof *ai.cur);
	ai.out = malloc(max_slots * sizeof *ai.out);
	ai.tmp = malloc(max_slots * sizeof *ai.tmp);
	ai.ft = malloc(max_slots * sizeof *ai.ft);
	if (!ai.states || !ai.edges || !ai.visits || !ai.rpo || !ai.heap || !ai.queued ||
	    !ai.cur || !ai.out || !ai.tmp || !ai.ft)
		goto out;
	if (vfm_cfg_rpo(ai.insns, n, ai.rpo, ai.flags, VFM_FACT_LOOP_HEAD) != 0 ||
	    collect_thresholds(&ai) != 0)
		goto out;
	ai.work = n; /* the passes over the instructions */

	/* Entry: length any u32, scratch 0, empty stack. */
	struct vfm_aslot *entry = ai.states;
	bool empty = false;
	/* Whole-slot stores (unnamed fields 0): states are compared with memcmp. */
	entry[0] = (struct vfm_aslot){
		.v = vfm_aval_reduce((struct vfm_aval){{0, UINT32_MAX}, vfm_tnum_unknown()}, &empty),
		.id = VFM_ID_LEN};
	for (uint32_t k = 0; k < ai.ns; k++)
		entry[1 + k] = (struct vfm_aslot){.v = vfm_aval_const(0)};
	ai.flags[0] |= VFM_FACT_REACHED;
	ai.visits[0] = 1;
	heap_push(&ai, 0);

	while (ai.heap_len) {
		if (!run_block(&ai, heap_pop(&ai)))
			goto over;
	}
	/* The fixpoint: replay every reached block once from its final
	 * state for the facts (and the per-pc states if asked). */
	ai.replay = true;
	ai.rec = rec;
	ai.rec_off = rec_off;
	for (uint32_t i = 0; i < n; i++)
		if (ai.leader[i] && (ai.flags[i] & VFM_FACT_REACHED) && !run_block(&ai, i))
			goto over;
	*work_out = ai.work;
	/* Warnings on the main run only (rec == NULL); the lazy re-run for
	 * the per-pc states needs none. */
	res = !rec && summarise(&ai) != 0 ? ABSINT_NOMEM : ABSINT_DONE;
	goto out;
over:
	*work_out = ai.budget;
	*pc_out = ai.over_at;
	res = ABSINT_OVER_WORK;
out:
	absint_free(&ai);
	return res;
}

vfm_error_t vfm_absint(struct vfm_program *prog, vfm_diag_t *diag)
{
	struct vfm_facts *f = &prog->facts;
	drop_facts(f);
	/* Track scratch words up to the highest one stored; others stay 0. */
	uint32_t ns = 0;
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].opcode == VFM_OPC_STM && prog->insns[i].aux + 1u > ns)
			ns = prog->insns[i].aux + 1u;
	f->n_scratch = (uint8_t)ns;
	f->flags = calloc(prog->n_insns ? prog->n_insns : 1, 1);
	if (!f->flags)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	uint64_t work = 0;
	uint32_t at = 0;
	enum absint_result r = analyse(prog, f->flags, NULL, NULL, &work, &at);
	f->work = work;
	char where[128];
	switch (r) {
	case ABSINT_DONE:
		break;
	case ABSINT_NOMEM:
		drop_facts(f);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	case ABSINT_OVER_WORK:
		vfm_describe_pc(prog, prog->pc_of[at], where, sizeof where);
		drop_facts(f);
		return vfm_diag_set(diag, VFM_ETOOBIG, prog->pc_of[at],
				    vfm_program_line_of(prog, prog->pc_of[at]),
				    "verifier: %s: verification work budget of %" PRIu64
				    " units (%u per abstract word of the program + 1 per "
				    "instruction + %" PRIu64 ", at most %" PRIu64
				    ") exhausted here; the program is too expensive to verify",
				    where, work, ABSINT_WORK_PER_SLOT, ABSINT_WORK_BASE, ABSINT_MAX_WORK);
	case ABSINT_OVER_MEMORY:
		vfm_describe_pc(prog, prog->pc_of[at], where, sizeof where);
		drop_facts(f);
		return vfm_diag_set(diag, VFM_ETOOBIG, prog->pc_of[at],
				    vfm_program_line_of(prog, prog->pc_of[at]),
				    "verifier: %s: verification memory budget of %u abstract words "
				    "at block leaders exceeded here (%" PRIu64
				    " needed); too many branch targets at this stack depth",
				    where, ABSINT_MAX_HEAD_SLOTS, work);
	}
	return VFM_OK;
}

/* ---- per-pc states, on demand -------------------------------------------- */

/* Published when the states cannot be kept (too big, out of memory), so
 * that asking again does not re-run the analysis. */
static struct vfm_fact_states no_states;

size_t vfm_facts_extra_bytes(const struct vfm_facts *f)
{
	/* The warnings array as allocated (capacity: powers of two from 16). */
	size_t bytes = 0;
	if (f->warnings) {
		uint32_t cap = 16;
		while (cap < f->n_warnings)
			cap *= 2;
		bytes += cap * sizeof *f->warnings;
	}
	const struct vfm_fact_states *st = __atomic_load_n(&f->states, __ATOMIC_ACQUIRE);
	if (st && st != &no_states)
		bytes += st->bytes;
	return bytes;
}

void vfm_facts_states_free(struct vfm_facts *f)
{
	struct vfm_fact_states *st = f->states;
	f->states = NULL;
	if (st && st != &no_states) {
		free(st->off);
		free(st->slots);
		free(st);
	}
}

/* Re-run the analysis (deterministic: the same fixpoint as at load),
 * recording the state before every reached pc. */
static struct vfm_fact_states *build_states(const struct vfm_program *prog)
{
	const struct vfm_facts *f = &prog->facts;
	uint32_t n = prog->n_insns;
	struct vfm_fact_states *st = calloc(1, sizeof *st);
	uint8_t *flags = calloc(n ? n : 1, 1);
	if (!st || !flags)
		goto fail;
	st->off = malloc(((size_t)n + 1) * sizeof *st->off);
	if (!st->off)
		goto fail;
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		st->off[i] = total;
		if (f->depth[i] >= 0)
			total += 1u + f->n_scratch + (uint32_t)f->depth[i];
	}
	st->off[n] = total;
	if (total > ABSINT_MAX_STATE_SLOTS)
		goto fail;
	st->slots = malloc((total ? total : 1) * sizeof *st->slots);
	uint64_t work;
	uint32_t at;
	/* The analysis writes only into flags, slots and its own memory:
	 * prog is read, so casting away const is safe (and shared readers
	 * see nothing change). */
	if (!st->slots || analyse((struct vfm_program *)prog, flags, st->slots, st->off,
				  &work, &at) != ABSINT_DONE)
		goto fail;
	st->bytes = sizeof *st + ((size_t)n + 1) * sizeof *st->off +
		    (total ? total : 1) * sizeof *st->slots;
	free(flags);
	return st;
fail:
	if (st) {
		free(st->off);
		free(st->slots);
	}
	free(st);
	free(flags);
	return &no_states;
}

const struct vfm_aslot *vfm_facts_state(const struct vfm_program *prog, uint32_t i)
{
	if (!(vfm_facts_flags(prog, i) & VFM_FACT_REACHED))
		return NULL;
	struct vfm_fact_states **slot = (struct vfm_fact_states **)&prog->facts.states;
	struct vfm_fact_states *st = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!st) {
		/* Publish one; if another thread won the race, use its. */
		struct vfm_fact_states *mine = build_states(prog), *expected = NULL;
		if (__atomic_compare_exchange_n(slot, &expected, mine, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			st = mine;
		} else {
			if (mine != &no_states) {
				free(mine->off);
				free(mine->slots);
				free(mine);
			}
			st = expected;
		}
	}
	if (st == &no_states)
		return NULL;
	return st->slots + st->off[i];
}
