/*
 * tests/test_domain.c — soundness and precision of the abstract domains
 * (verifier/tnum.c, interval.c, aval.c).
 *
 * The domain sources are compiled a second time at 8 bits (proofs/dom8.c),
 * which makes exhaustive checks possible; the 64-bit library instance is
 * tested on random inputs.  What is exhaustive at 8 bits (normal build):
 *   - every binary tnum operator on all 3^8 x 3^8 = 43M tnum pairs, and
 *     through them on all 2^32 concrete pairs (proofs/exhaust.h);
 *   - NOT and NEG on every tnum and every interval;
 *   - every binary interval operator on every interval A x the constant
 *     B, the B with lo = 0 or hi = 255, and every 200th other B (the full
 *     1.08G-pair run is part of `make proofs`);
 *   - const op const folding for every pair of 8-bit constants (aval);
 *   - tnum join and meet laws on every pair; interval join and meet on
 *     every A against sampled B; reduction on every tnum x sampled
 *     intervals; refinement of every jump and edge on every aval A against
 *     every constant B, with exact bounds required.
 * The rest (aval operators and refinement between non-constant values,
 * widening, the 64-bit instance) is random with a fixed seed.  Under ASan
 * the exhaustive loops are strided (DOM_ASAN below).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../proofs/dom_ops.h"
#include "../proofs/exhaust.h"
#include "../proofs/randval.h"
#include "program.h"
#include "semantics.h"

#if defined(__SANITIZE_ADDRESS__)
#define DOM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DOM_ASAN 1
#endif
#endif
#ifndef DOM_ASAN
#define DOM_ASAN 0
#endif

/* Sampling: 1 = every case.  ASan runs 3-10x slower. */
#define TNUM_B_STRIDE (DOM_ASAN ? 11u : 1u)
#define ITV_B_STRIDE (DOM_ASAN ? 2000u : 200u)
#define SAMPLE_SCALE (DOM_ASAN ? 4u : 1u) /* divides random-test counts */

static const struct vfm_dom_ops dom64 = {
#include "../proofs/dom_init.h"
};
static const struct vfm_dom_ops *const D8 = &vfm_dom8;

/* The operators of the VFM_ALU2 / VFM_ALU1 / VFM_JCC rows (dom_ops.h). */
#define alu2_ops vfm_dom_alu2_ops
#define alu1_ops vfm_dom_alu1_ops
#define jcc_ops vfm_dom_jcc_ops
/* NAME column of the opcode table. */
#define op_name(op) (vfm_opinfo[(uint8_t)(op)].name)
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- random abstract values (proofs/randval.h), one fixed seed ---------- */

static uint64_t rng_state = 0x5EED;

static uint64_t rnd(void) { return vfm_rv_next(&rng_state); }
static uint64_t rnd_word(const struct vfm_dom_ops *D) { return vfm_rv_word(&rng_state, D); }
static struct vfm_tnum rnd_tnum(const struct vfm_dom_ops *D) { return vfm_rv_tnum(&rng_state, D); }
static struct vfm_interval rnd_itv(const struct vfm_dom_ops *D) { return vfm_rv_itv(&rng_state, D); }
static struct vfm_aval rnd_aval(const struct vfm_dom_ops *D) { return vfm_rv_aval(&rng_state, D); }
static uint64_t rnd_member(const struct vfm_dom_ops *D, struct vfm_aval a)
{
	return vfm_rv_member(&rng_state, D, a);
}

/* ---- 8-bit exhaustive operator soundness ------------------------------ */

static void report(const char *what, uint8_t op, const struct vfm_exh_result *r)
{
	if (r->failures)
		fail_msg("%s %s: %llu failures; first: %s", what, op_name(op),
			 (unsigned long long)r->failures, r->first);
	assert_true(r->cases > 0);
}

static void test_tnum_exhaustive_8bit(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_ELEMS(alu2_ops); k++) {
		struct vfm_exh_result r;
		uint8_t op = alu2_ops[k];
		vfm_exh_tnum2(D8, op, TNUM_B_STRIDE, &r);
		report("tnum", op, &r);
		/* Bitwise ops, add and sub and shifts give the best tnum. */
		if (op != VFM_OPC_MUL && op != VFM_OPC_DIV && op != VFM_OPC_MOD)
			assert_int_equal(r.exact, r.cases);
		if (TNUM_B_STRIDE == 1)
			assert_int_equal(r.concrete, (uint64_t)1 << 32);
	}
	for (size_t k = 0; k < N_ELEMS(alu1_ops); k++) {
		struct vfm_exh_result r;
		vfm_exh_tnum1(D8, alu1_ops[k], &r);
		report("tnum", alu1_ops[k], &r);
		assert_int_equal(r.cases, 6561);
		assert_int_equal(r.exact, r.cases);
	}
}

static void test_interval_exhaustive_8bit(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_ELEMS(alu2_ops); k++) {
		struct vfm_exh_result r;
		uint8_t op = alu2_ops[k];
		vfm_exh_itv2(D8, op, ITV_B_STRIDE, &r);
		report("interval", op, &r);
		/* Add and sub are exact (a set that wraps at one end holds 0
		 * and the maximum); so are div and shr. */
		if (op == VFM_OPC_ADD || op == VFM_OPC_SUB || op == VFM_OPC_DIV ||
		    op == VFM_OPC_SHR)
			assert_int_equal(r.exact, r.cases);
	}
	for (size_t k = 0; k < N_ELEMS(alu1_ops); k++) {
		struct vfm_exh_result r;
		vfm_exh_itv1(D8, alu1_ops[k], &r);
		report("interval", alu1_ops[k], &r);
		assert_int_equal(r.cases, 32896);
		assert_int_equal(r.exact, r.cases);
	}
}

/* ---- lattice laws at 8 bits ------------------------------------------ */

static bool tnum_le(struct vfm_tnum a, struct vfm_tnum b) /* gamma(a) within gamma(b) */
{
	return (a.mask & ~b.mask) == 0 && (a.value & ~b.mask) == b.value;
}

static void test_tnum_lattice_8bit(void **state)
{
	uint32_t n = vfm_exh_n_tnums(8);
	(void)state;
	for (uint32_t i = 0; i < n; i++) {
		struct vfm_tnum a = vfm_exh_tnum_at(8, i);
		for (uint32_t j = 0; j < n; j += TNUM_B_STRIDE) {
			struct vfm_tnum b = vfm_exh_tnum_at(8, j), jn = D8->tnum_join(a, b);
			/* The join is the best tnum of the union: its known bits are
			 * those of the AND and the OR of all members. */
			uint64_t and = a.value & b.value;
			uint64_t or = a.value | a.mask | b.value | b.mask;
			if (jn.value != and || jn.mask != (or ^ and))
				fail_msg("join (%#llx,%#llx) (%#llx,%#llx)",
					 (unsigned long long)a.value, (unsigned long long)a.mask,
					 (unsigned long long)b.value, (unsigned long long)b.mask);
		}
	}
	/* Meet: exactly the common members, empty iff there are none. */
	for (uint32_t i = 0; i < n; i++) {
		struct vfm_tnum a = vfm_exh_tnum_at(8, i);
		for (uint32_t j = i % 97; j < n; j += 97 * TNUM_B_STRIDE) {
			struct vfm_tnum b = vfm_exh_tnum_at(8, j);
			bool empty, any = false;
			struct vfm_tnum mt = D8->tnum_meet(a, b, &empty);
			for (uint64_t x = 0; x < 256; x++) {
				bool in = D8->tnum_contains(a, x) && D8->tnum_contains(b, x);
				any |= in;
				if (!empty && D8->tnum_contains(mt, x) != in)
					fail_msg("meet member %llu", (unsigned long long)x);
			}
			assert_int_equal(empty, !any);
		}
	}
	/* range: the best tnum of [lo, hi]. */
	for (uint64_t lo = 0; lo < 256; lo++)
		for (uint64_t hi = lo; hi < 256; hi++) {
			struct vfm_tnum t = D8->tnum_range(lo, hi);
			uint64_t and = 255, or = 0;
			for (uint64_t x = lo; x <= hi; x++) {
				and &= x;
				or |= x;
			}
			assert_int_equal(t.value, and);
			assert_int_equal(t.mask, or ^ and);
			assert_true(tnum_le(t, D8->tnum_range(hi, lo)) &&
				    tnum_le(D8->tnum_range(hi, lo), t));
		}
}

static void test_interval_lattice_8bit(void **state)
{
	uint32_t n = vfm_exh_n_itvs(8);
	(void)state;
	for (uint32_t i = 0; i < n; i++) {
		struct vfm_interval a = vfm_exh_itv_at(8, i);
		for (uint32_t j = i % 31; j < n; j += 31 * (DOM_ASAN ? 8 : 1)) {
			struct vfm_interval b = vfm_exh_itv_at(8, j);
			struct vfm_interval jn = D8->itv_join(a, b), mt;
			bool empty;
			uint64_t lo = a.lo > b.lo ? a.lo : b.lo, hi = a.hi < b.hi ? a.hi : b.hi;
			assert_true(jn.lo <= a.lo && jn.lo <= b.lo && jn.hi >= a.hi && jn.hi >= b.hi);
			assert_true(jn.lo == a.lo || jn.lo == b.lo);
			assert_true(jn.hi == a.hi || jn.hi == b.hi);
			mt = D8->itv_meet(a, b, &empty);
			assert_int_equal(empty, lo > hi);
			if (!empty) {
				assert_int_equal(mt.lo, lo);
				assert_int_equal(mt.hi, hi);
			}
		}
	}
}

/*
 * Reduction: never loses a member, finds emptiness exactly, and moves the
 * interval bounds to the exact minimum and maximum of the set.
 */
static void test_reduce_8bit(void **state)
{
	uint32_t nt = vfm_exh_n_tnums(8), ni = vfm_exh_n_itvs(8);
	unsigned stride = DOM_ASAN ? 211 : 23;
	(void)state;
	for (uint32_t i = 0; i < nt; i++) {
		struct vfm_tnum t = vfm_exh_tnum_at(8, i);
		uint64_t mem[256];
		unsigned nm = 0;
		for (uint64_t x = 0; x < 256; x++)
			if (D8->tnum_contains(t, x))
				mem[nm++] = x;
		for (uint32_t j = i % stride; j < ni; j += stride) {
			struct vfm_aval a = {vfm_exh_itv_at(8, j), t}, r;
			bool empty;
			uint64_t lo = 256, hi = 0;
			for (unsigned k = 0; k < nm; k++)
				if (D8->itv_contains(a.itv, mem[k])) {
					lo = lo < mem[k] ? lo : mem[k];
					hi = mem[k];
				}
			r = D8->aval_reduce(a, &empty);
			assert_int_equal(empty, lo > hi);
			if (empty)
				continue;
			assert_int_equal(r.itv.lo, lo);
			assert_int_equal(r.itv.hi, hi);
			assert_true(tnum_le(r.tn, t));
			assert_int_equal(r.tn.value & r.tn.mask, 0);
			for (unsigned k = 0; k < nm; k++)
				if (D8->itv_contains(a.itv, mem[k]) &&
				    !D8->aval_contains(r, mem[k]))
					fail_msg("reduce lost %llu", (unsigned long long)mem[k]);
		}
	}
	/* Malformed inputs have no member. */
	{
		bool empty;
		struct vfm_aval bad = {{5, 4}, {0, 255}};
		D8->aval_reduce(bad, &empty);
		assert_true(empty);
		bad = (struct vfm_aval){{0, 255}, {1, 1}};
		D8->aval_reduce(bad, &empty);
		assert_true(empty);
	}
}

/* ---- the reduced product at 8 bits ----------------------------------- */

/* Members of an 8-bit aval, ascending. */
static unsigned members8(struct vfm_aval a, uint8_t *out)
{
	unsigned n = 0;
	for (uint64_t x = 0; x < 256; x++)
		if (D8->aval_contains(a, x))
			out[n++] = (uint8_t)x;
	return n;
}

static void test_aval_const_fold_8bit(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_ELEMS(alu2_ops); k++)
		for (uint64_t a = 0; a < 256; a++)
			for (uint64_t b = 0; b < 256; b++) {
				struct vfm_aval r = D8->aval_alu2(alu2_ops[k], D8->aval_const(a),
								  D8->aval_const(b));
				uint64_t c = vfm_exh_sem2(8, alu2_ops[k], a, b);
				if (r.itv.lo != c || r.itv.hi != c || r.tn.value != c || r.tn.mask)
					fail_msg("%s %llu %llu not folded to %llu",
						 op_name(alu2_ops[k]), (unsigned long long)a,
						 (unsigned long long)b, (unsigned long long)c);
			}
	for (size_t k = 0; k < N_ELEMS(alu1_ops); k++)
		for (uint64_t a = 0; a < 256; a++) {
			struct vfm_aval r = D8->aval_alu1(alu1_ops[k], D8->aval_const(a));
			uint64_t c = vfm_exh_sem1(8, alu1_ops[k], a);
			assert_true(r.itv.lo == c && r.itv.hi == c && r.tn.value == c && !r.tn.mask);
		}
}

static void test_aval_ops_random_8bit(void **state)
{
	uint8_t ma[256], mb[256];
	(void)state;
	for (size_t k = 0; k < N_ELEMS(alu2_ops); k++) {
		uint8_t op = alu2_ops[k];
		for (unsigned it = 0; it < 4000 / SAMPLE_SCALE; it++) {
			struct vfm_aval a = rnd_aval(D8), b = rnd_aval(D8), r;
			unsigned na = members8(a, ma), nb = members8(b, mb);
			bool empty;
			r = D8->aval_alu2(op, a, b);
			D8->aval_reduce(r, &empty);
			assert_false(empty);
			for (unsigned i = 0; i < na; i++)
				for (unsigned j = 0; j < nb; j++)
					if (!D8->aval_contains(r, vfm_exh_sem2(8, op, ma[i], mb[j])))
						fail_msg("aval %s: %u op %u", op_name(op), ma[i], mb[j]);
		}
	}
	for (size_t k = 0; k < N_ELEMS(alu1_ops); k++)
		for (unsigned it = 0; it < 4000; it++) {
			struct vfm_aval a = rnd_aval(D8), r = D8->aval_alu1(alu1_ops[k], a);
			unsigned na = members8(a, ma);
			for (unsigned i = 0; i < na; i++)
				assert_true(D8->aval_contains(r, vfm_exh_sem1(8, alu1_ops[k], ma[i])));
		}
	/* Unknown opcodes give the unknown value. */
	{
		struct vfm_aval u = D8->aval_alu2(VFM_OPC_PUSH, D8->aval_const(1), D8->aval_const(2));
		assert_int_equal(u.itv.hi, 255);
		assert_int_equal(u.tn.mask, 255);
		u = D8->aval_alu1(VFM_OPC_ADD, D8->aval_const(1));
		assert_int_equal(u.tn.mask, 255);
	}
}

static void test_aval_join_8bit(void **state)
{
	uint8_t ma[256], mb[256];
	(void)state;
	for (unsigned it = 0; it < 20000 / SAMPLE_SCALE; it++) {
		struct vfm_aval a = rnd_aval(D8), b = rnd_aval(D8), j = D8->aval_join(a, b);
		unsigned na = members8(a, ma), nb = members8(b, mb);
		for (unsigned i = 0; i < na; i++)
			assert_true(D8->aval_contains(j, ma[i]));
		for (unsigned i = 0; i < nb; i++)
			assert_true(D8->aval_contains(j, mb[i]));
	}
	/* The example of aval.c: {1} join {3} = [1,3] with tnum 0b??1... */
	{
		struct vfm_aval j = D8->aval_join(D8->aval_const(1), D8->aval_const(3));
		assert_int_equal(j.itv.lo, 1);
		assert_int_equal(j.itv.hi, 3);
		assert_int_equal(j.tn.value, 1);
		assert_int_equal(j.tn.mask, 2);
	}
}

/*
 * Refinement: every pair that takes the edge survives in (a', b'); false
 * only if no pair takes it.  With a constant b the result is exact: false
 * iff no a takes the edge, else a's bounds are the least and greatest a
 * that do.
 */
static void check_refine8(uint8_t op, bool taken, struct vfm_aval a, struct vfm_aval b,
			  bool exact)
{
	uint8_t ma[256], mb[256];
	unsigned na = members8(a, ma), nb = members8(b, mb);
	struct vfm_aval ra = a, rb = b;
	bool ok = D8->aval_refine(op, taken, &ra, &rb), any = false;
	uint64_t lo = 256, hi = 0;
	for (unsigned i = 0; i < na; i++)
		for (unsigned j = 0; j < nb; j++) {
			if (vfm_exh_cond(op, ma[i], mb[j]) != taken)
				continue;
			any = true;
			lo = lo < ma[i] ? lo : ma[i];
			hi = hi > ma[i] ? hi : ma[i];
			if (!ok || !D8->aval_contains(ra, ma[i]) || !D8->aval_contains(rb, mb[j]))
				fail_msg("refine %s %s: pair (%u, %u) lost; a=[%llu,%llu](%#llx,%#llx) "
					 "b=[%llu,%llu](%#llx,%#llx) ok=%d",
					 op_name(op), taken ? "taken" : "not taken", ma[i], mb[j],
					 (unsigned long long)a.itv.lo, (unsigned long long)a.itv.hi,
					 (unsigned long long)a.tn.value, (unsigned long long)a.tn.mask,
					 (unsigned long long)b.itv.lo, (unsigned long long)b.itv.hi,
					 (unsigned long long)b.tn.value, (unsigned long long)b.tn.mask,
					 ok);
		}
	if (!exact)
		return;
	/* a & c != 0 for a constant c of several bits is not a tnum. */
	if (op == VFM_OPC_JSET && taken && (b.itv.lo & (b.itv.lo - 1)) != 0)
		exact = false;
	if (exact && (ok != any || (any && (ra.itv.lo != lo || ra.itv.hi != hi))))
		fail_msg("refine %s %s imprecise: a=[%llu,%llu](%#llx,%#llx) b=%llu: "
			 "ok=%d [%llu,%llu], expected ok=%d [%llu,%llu]",
			 op_name(op), taken ? "taken" : "not taken",
			 (unsigned long long)a.itv.lo, (unsigned long long)a.itv.hi,
			 (unsigned long long)a.tn.value, (unsigned long long)a.tn.mask,
			 (unsigned long long)b.itv.lo, ok, (unsigned long long)ra.itv.lo,
			 (unsigned long long)ra.itv.hi, any, (unsigned long long)lo,
			 (unsigned long long)hi);
}

static void test_refine_const_8bit(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_ELEMS(jcc_ops); k++)
		for (int taken = 0; taken < 2; taken++)
			for (uint64_t c = 0; c < 256; c += DOM_ASAN ? 5 : 1)
				for (unsigned it = 0; it < 60; it++) {
					struct vfm_aval a = rnd_aval(D8);
					check_refine8(jcc_ops[k], taken, a, D8->aval_const(c), true);
				}
}

static void test_refine_random_8bit(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_ELEMS(jcc_ops); k++)
		for (int taken = 0; taken < 2; taken++)
			for (unsigned it = 0; it < 6000 / SAMPLE_SCALE; it++) {
				struct vfm_aval a = rnd_aval(D8), b = rnd_aval(D8);
				check_refine8(jcc_ops[k], taken, a, b, false);
				/* A constant on the left is exact for b by symmetry:
				 * check it through the mirrored jump. */
				check_refine8(jcc_ops[k], taken, D8->aval_const(rnd() & 255), b, false);
			}
}

/* ---- widening --------------------------------------------------------- */

static void test_widen(void **state)
{
	const struct vfm_dom_ops *Ds[] = {D8, &dom64};
	(void)state;
	for (size_t d = 0; d < N_ELEMS(Ds); d++) {
		const struct vfm_dom_ops *D = Ds[d];
		for (unsigned it = 0; it < 20000; it++) {
			uint64_t thr[6];
			unsigned n = (unsigned)(rnd() % 7);
			struct vfm_interval p = rnd_itv(D), q = rnd_itv(D), w, j;
			for (unsigned i = 0; i < n; i++)
				thr[i] = rnd_word(D);
			w = D->itv_widen(p, q, thr, n);
			j = D->itv_join(p, q);
			assert_true(w.lo <= j.lo && j.hi <= w.hi && w.hi <= D->mask);
			/* A bound either stays or lands on a threshold, 0 or max. */
			if (w.lo != p.lo) {
				bool on = w.lo == 0;
				for (unsigned i = 0; i < n; i++)
					on |= w.lo == thr[i];
				assert_true(on);
			}
			if (w.hi != p.hi) {
				bool on = w.hi == D->mask;
				for (unsigned i = 0; i < n; i++)
					on |= w.hi == thr[i];
				assert_true(on);
			}
		}
	}
	/* An ascending chain stabilises after at most n + 1 widenings per
	 * bound: the loop counter 0, 1, 2, ... with thresholds 64 and 1500. */
	{
		const uint64_t thr[] = {1500, 64};
		struct vfm_interval x = {0, 0};
		unsigned steps = 0;
		for (;;) {
			struct vfm_interval next = dom64.itv_join(x, dom64.itv_ADD(x, dom64.itv_const(1)));
			struct vfm_interval w = dom64.itv_widen(x, next, thr, 2);
			steps++;
			if (w.lo == x.lo && w.hi == x.hi)
				break;
			x = w;
			assert_true(steps < 10);
		}
		assert_int_equal(x.lo, 0);
		assert_int_equal(x.hi, UINT64_MAX);
		x = dom64.itv_widen((struct vfm_interval){0, 10}, (struct vfm_interval){0, 11}, thr, 2);
		assert_int_equal(x.hi, 64);
		x = dom64.itv_widen((struct vfm_interval){100, 200}, (struct vfm_interval){70, 200}, thr, 2);
		assert_int_equal(x.lo, 64);
		x = dom64.itv_widen((struct vfm_interval){100, 200}, (struct vfm_interval){50, 150}, thr, 2);
		assert_int_equal(x.lo, 0);
		assert_int_equal(x.hi, 200);
		x = dom64.itv_widen((struct vfm_interval){1, 2}, (struct vfm_interval){0, 3}, NULL, 0);
		assert_int_equal(x.lo, 0);
		assert_int_equal(x.hi, UINT64_MAX);
	}
}

/* ---- 64 bits: random soundness --------------------------------------- */

static uint64_t rnd_tnum_member(struct vfm_tnum t)
{
	return t.value | (rnd() & t.mask);
}

static uint64_t rnd_itv_member(struct vfm_interval a)
{
	uint64_t span = a.hi - a.lo;
	switch (rnd() % 4) {
	case 0: return a.lo;
	case 1: return a.hi;
	default: return span == UINT64_MAX ? rnd() : a.lo + rnd() % (span + 1);
	}
}

static void test_random_64bit(void **state)
{
	const struct vfm_dom_ops *D = &dom64;
	(void)state;
	for (size_t k = 0; k < N_ELEMS(alu2_ops); k++) {
		uint8_t op = alu2_ops[k];
		for (unsigned it = 0; it < 40000 / SAMPLE_SCALE; it++) {
			struct vfm_tnum ta = rnd_tnum(D), tb = rnd_tnum(D);
			struct vfm_tnum tr = vfm_dom_op_tnum2(D, op)(ta, tb);
			struct vfm_interval ia = rnd_itv(D), ib = rnd_itv(D);
			struct vfm_interval ir = vfm_dom_op_itv2(D, op)(ia, ib);
			struct vfm_aval a = rnd_aval(D), b = rnd_aval(D);
			struct vfm_aval r = D->aval_alu2(op, a, b);
			assert_int_equal(tr.value & tr.mask, 0);
			assert_true(ir.lo <= ir.hi);
			for (int m = 0; m < 4; m++) {
				uint64_t x = rnd_tnum_member(ta), y = rnd_tnum_member(tb);
				if (!D->tnum_contains(tr, vfm_exh_sem2(64, op, x, y)))
					fail_msg("tnum %s 64-bit: %#llx, %#llx", op_name(op),
						 (unsigned long long)x, (unsigned long long)y);
				x = rnd_itv_member(ia);
				y = rnd_itv_member(ib);
				if (!D->itv_contains(ir, vfm_exh_sem2(64, op, x, y)))
					fail_msg("interval %s 64-bit: [%llu,%llu] [%llu,%llu] %llu %llu",
						 op_name(op), (unsigned long long)ia.lo,
						 (unsigned long long)ia.hi, (unsigned long long)ib.lo,
						 (unsigned long long)ib.hi, (unsigned long long)x,
						 (unsigned long long)y);
				x = rnd_member(D, a);
				y = rnd_member(D, b);
				if (!D->aval_contains(r, vfm_exh_sem2(64, op, x, y)))
					fail_msg("aval %s 64-bit: %#llx, %#llx", op_name(op),
						 (unsigned long long)x, (unsigned long long)y);
			}
			/* Constants fold exactly. */
			{
				uint64_t x = rnd_word(D), y = rnd_word(D);
				struct vfm_aval c = D->aval_alu2(op, D->aval_const(x), D->aval_const(y));
				uint64_t z = vfm_exh_sem2(64, op, x, y);
				assert_true(c.itv.lo == z && c.itv.hi == z && c.tn.value == z &&
					    c.tn.mask == 0);
			}
		}
	}
	for (size_t k = 0; k < N_ELEMS(alu1_ops); k++)
		for (unsigned it = 0; it < 40000 / SAMPLE_SCALE; it++) {
			struct vfm_aval a = rnd_aval(D), r = D->aval_alu1(alu1_ops[k], a);
			uint64_t x = rnd_member(D, a);
			assert_true(D->aval_contains(r, vfm_exh_sem1(64, alu1_ops[k], x)));
		}
	/* Reduction and join keep members; refinement keeps pairs. */
	for (unsigned it = 0; it < 100000 / SAMPLE_SCALE; it++) {
		struct vfm_aval a = {rnd_itv(D), rnd_tnum(D)}, r, b;
		bool empty;
		uint64_t x = rnd_tnum_member(a.tn), y;
		r = D->aval_reduce(a, &empty);
		if (D->itv_contains(a.itv, x)) {
			assert_false(empty);
			assert_true(D->aval_contains(r, x));
		}
		if (!empty) {
			assert_true(D->tnum_contains(r.tn, r.itv.lo));
			assert_true(D->tnum_contains(r.tn, r.itv.hi));
		}
		a = rnd_aval(D);
		b = rnd_aval(D);
		x = rnd_member(D, a);
		y = rnd_member(D, b);
		assert_true(D->aval_contains(D->aval_join(a, b), x));
		assert_true(D->aval_contains(D->aval_join(a, b), y));
		for (size_t k = 0; k < N_ELEMS(jcc_ops); k++) {
			bool taken = vfm_exh_cond(jcc_ops[k], x, y);
			struct vfm_aval ra = a, rb = b;
			if (!D->aval_refine(jcc_ops[k], taken, &ra, &rb) ||
			    !D->aval_contains(ra, x) || !D->aval_contains(rb, y))
				fail_msg("refine %s 64-bit %#llx %#llx", op_name(jcc_ops[k]),
					 (unsigned long long)x, (unsigned long long)y);
		}
	}
}

/* ---- precision examples ------------------------------------------------ */

/* LEN; PUSH 54; JLT drop: on the fall-through edge len >= 54. */
/* Every JCC row's fall-through relation is the negation of its taken one
 * (the refinement uses both columns; the Z3 check encodes the fall-through
 * edge as the negation, so it would refute a wrong column too). */
static void test_jcc_rows_complementary(void **state)
{
	(void)state;
	static const uint64_t vals[] = {0, 1, 2, 3, 5, 0x80, 0xFF, 0x100, UINT64_MAX - 1, UINT64_MAX};
	const size_t nv = sizeof vals / sizeof vals[0];
	for (size_t k = 0; k < N_ELEMS(jcc_ops); k++) {
		enum vfm_rel t = vfm_jcc_rel(jcc_ops[k], true), f = vfm_jcc_rel(jcc_ops[k], false);
		for (size_t i = 0; i < nv; i++)
			for (size_t j = 0; j < nv; j++)
				if (vfm_sem_rel(t, vals[i], vals[j]) == vfm_sem_rel(f, vals[i], vals[j]))
					fail_msg("%s: taken and fall-through relations agree on %#llx, %#llx",
						 op_name(jcc_ops[k]), (unsigned long long)vals[i],
						 (unsigned long long)vals[j]);
	}
}

static void test_refine_examples(void **state)
{
	const struct vfm_dom_ops *D = &dom64;
	struct vfm_aval len = {{0, 0xFFFFFFFF}, D->tnum_range(0, 0xFFFFFFFF)};
	struct vfm_aval a, b;
	(void)state;

	a = len, b = D->aval_const(54);
	assert_true(D->aval_refine(VFM_OPC_JLT, false, &a, &b));
	assert_int_equal(a.itv.lo, 54);
	assert_int_equal(a.itv.hi, 0xFFFFFFFF);
	a = len, b = D->aval_const(54);
	assert_true(D->aval_refine(VFM_OPC_JLT, true, &a, &b));
	assert_int_equal(a.itv.hi, 53);
	assert_int_equal(a.tn.mask, 63); /* [0, 53]: the bits above 5 are 0 */
	/* PUSH 54; LEN; JGT: 54 > len taken means len <= 53. */
	a = D->aval_const(54), b = len;
	assert_true(D->aval_refine(VFM_OPC_JGT, true, &a, &b));
	assert_int_equal(b.itv.hi, 53);

	/* Two unknowns: a < b moves a's top and b's bottom. */
	a = (struct vfm_aval){{10, 100}, D->tnum_range(10, 100)};
	b = (struct vfm_aval){{20, 50}, D->tnum_range(20, 50)};
	assert_true(D->aval_refine(VFM_OPC_JLT, true, &a, &b));
	assert_int_equal(a.itv.hi, 49);
	assert_int_equal(b.itv.lo, 20);
	a = (struct vfm_aval){{10, 100}, D->tnum_range(10, 100)};
	b = (struct vfm_aval){{20, 50}, D->tnum_range(20, 50)};
	assert_true(D->aval_refine(VFM_OPC_JGE, true, &a, &b)); /* a >= b */
	assert_int_equal(a.itv.lo, 20);
	assert_int_equal(b.itv.hi, 50);
	/* Infeasible edges. */
	a = D->aval_const(5), b = D->aval_const(5);
	assert_false(D->aval_refine(VFM_OPC_JNE, true, &a, &b));
	a = D->aval_const(5), b = D->aval_const(5);
	assert_false(D->aval_refine(VFM_OPC_JLT, true, &a, &b));
	a = D->aval_unknown(), b = D->aval_const(0);
	assert_false(D->aval_refine(VFM_OPC_JLT, true, &a, &b));
	assert_false(D->aval_refine(VFM_OPC_JSET, true, &a, &b));

	/* JEQ taken: both become the meet. */
	a = (struct vfm_aval){{0, 1000}, D->tnum_range(0, 1000)};
	b = (struct vfm_aval){{500, 5000}, {0, 0xFFFC}}; /* multiples of 4 */
	assert_true(D->aval_refine(VFM_OPC_JEQ, true, &a, &b));
	assert_int_equal(a.itv.lo, 500);
	assert_int_equal(a.itv.hi, 1000);
	assert_int_equal(a.tn.value & 3, 0);
	assert_int_equal(a.tn.mask & 3, 0);
	assert_memory_equal(&a, &b, sizeof a);

	/* JNE taken against a constant at an end of the interval. */
	a = (struct vfm_aval){{0, 10}, D->tnum_range(0, 10)}, b = D->aval_const(0);
	assert_true(D->aval_refine(VFM_OPC_JNE, true, &a, &b));
	assert_int_equal(a.itv.lo, 1);
	a = (struct vfm_aval){{0, 10}, D->tnum_range(0, 10)}, b = D->aval_const(10);
	assert_true(D->aval_refine(VFM_OPC_JNE, true, &a, &b));
	assert_int_equal(a.itv.hi, 9);
	a = (struct vfm_aval){{0, 10}, D->tnum_range(0, 10)}, b = D->aval_const(10);
	assert_true(D->aval_refine(VFM_OPC_JNE, false, &a, &b)); /* JNE not taken: == */
	assert_int_equal(a.itv.lo, 10);
	assert_int_equal(a.tn.mask, 0);

	/* JSET with a one-bit constant: taken sets the bit, not taken clears
	 * it; a multi-bit constant not taken clears all of them. */
	a = D->aval_unknown(), b = D->aval_const(0x40);
	assert_true(D->aval_refine(VFM_OPC_JSET, true, &a, &b));
	assert_int_equal(a.tn.value, 0x40);
	assert_int_equal(a.tn.mask, ~(uint64_t)0x40);
	assert_int_equal(a.itv.lo, 0x40);
	a = D->aval_unknown(), b = D->aval_const(0x40);
	assert_true(D->aval_refine(VFM_OPC_JSET, false, &a, &b));
	assert_int_equal(a.tn.mask, ~(uint64_t)0x40);
	assert_int_equal(a.tn.value, 0);
	a = (struct vfm_aval){{0, 0xFFFF}, D->tnum_range(0, 0xFFFF)}, b = D->aval_const(0x1FFF);
	assert_true(D->aval_refine(VFM_OPC_JSET, false, &a, &b)); /* fragment offset 0 */
	assert_int_equal(a.tn.mask, 0xE000);
	assert_int_equal(a.itv.hi, 0xE000);
	a = (struct vfm_aval){{0, 0xFF}, D->tnum_range(0, 0xFF)}, b = D->aval_const(0x300);
	assert_false(D->aval_refine(VFM_OPC_JSET, true, &a, &b)); /* no common bit */
	/* Unknown opcode: feasible, values only reduced. */
	a = D->aval_unknown(), b = D->aval_unknown();
	assert_true(D->aval_refine(VFM_OPC_ADD, true, &a, &b));
	assert_int_equal(a.tn.mask, UINT64_MAX);
}

/* Known bits and ranges working together. */
static void test_product_examples(void **state)
{
	const struct vfm_dom_ops *D = &dom64;
	struct vfm_aval x = {{0, 0xFFFF}, D->tnum_range(0, 0xFFFF)}, r;
	(void)state;
	/* (x & 0xF0) is a multiple of 16 in [0, 0xF0]. */
	r = D->aval_alu2(VFM_OPC_AND, x, D->aval_const(0xF0));
	assert_int_equal(r.itv.lo, 0);
	assert_int_equal(r.itv.hi, 0xF0);
	assert_int_equal(r.tn.mask, 0xF0);
	/* IHL: (b & 0xF) << 2 is in [0, 60], a multiple of 4. */
	r = D->aval_alu2(VFM_OPC_SHL,
			 D->aval_alu2(VFM_OPC_AND, x, D->aval_const(0xF)), D->aval_const(2));
	assert_int_equal(r.itv.hi, 60);
	assert_int_equal(r.tn.mask, 0x3C);
	/* ... plus 14 lies in [14, 74]. */
	r = D->aval_alu2(VFM_OPC_ADD, r, D->aval_const(14));
	assert_int_equal(r.itv.lo, 14);
	assert_int_equal(r.itv.hi, 74);
	/* x | 1 is odd: the interval's ends move to odd values. */
	r = D->aval_alu2(VFM_OPC_OR, x, D->aval_const(1));
	assert_int_equal(r.itv.lo, 1);
	assert_int_equal(r.itv.hi, 0xFFFF);
	assert_int_equal(r.tn.value, 1);
	/* Division and remainder by constants. */
	r = D->aval_alu2(VFM_OPC_DIV, x, D->aval_const(256));
	assert_int_equal(r.itv.hi, 0xFF);
	r = D->aval_alu2(VFM_OPC_MOD, x, D->aval_const(8));
	assert_int_equal(r.itv.hi, 7);
	assert_int_equal(r.tn.mask, 7);
	r = D->aval_alu2(VFM_OPC_DIV, x, D->aval_unknown()); /* may divide by 0 */
	assert_int_equal(r.itv.lo, 0);
	assert_int_equal(r.itv.hi, 0xFFFF);
	r = D->aval_alu2(VFM_OPC_MOD, x, D->aval_const(0)); /* x % 0 = x */
	assert_int_equal(r.itv.hi, 0xFFFF);
	/* Wrapping: a sum that wraps at one end only is unknown; at both ends
	 * it is exact. */
	r = D->aval_alu2(VFM_OPC_ADD, (struct vfm_aval){{UINT64_MAX - 1, UINT64_MAX},
							 D->tnum_range(UINT64_MAX - 1, UINT64_MAX)},
			 D->aval_const(2));
	assert_int_equal(r.itv.lo, 0);
	assert_int_equal(r.itv.hi, 1);
	r = D->aval_alu2(VFM_OPC_SUB, x, D->aval_const(1));
	assert_int_equal(r.itv.lo, 0);
	assert_int_equal(r.itv.hi, UINT64_MAX);
	/* Shift by an unknown count in [0, 3]: a join of four shifts. */
	r = D->aval_alu2(VFM_OPC_SHL, D->aval_const(1),
			 (struct vfm_aval){{0, 3}, D->tnum_range(0, 3)});
	assert_int_equal(r.itv.lo, 1);
	assert_int_equal(r.itv.hi, 8);
	assert_int_equal(r.tn.mask, 0xF);
	/* tnum multiplication keeps trailing zeros. */
	r = D->aval_alu2(VFM_OPC_MUL, (struct vfm_aval){{0, 0xFFFC}, {0, 0xFFFC}},
			 D->aval_const(8));
	assert_int_equal(r.tn.mask & 0x1F, 0);
	assert_int_equal(r.itv.hi, 0xFFFC * 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tnum_exhaustive_8bit),
		cmocka_unit_test(test_interval_exhaustive_8bit),
		cmocka_unit_test(test_tnum_lattice_8bit),
		cmocka_unit_test(test_interval_lattice_8bit),
		cmocka_unit_test(test_reduce_8bit),
		cmocka_unit_test(test_aval_const_fold_8bit),
		cmocka_unit_test(test_aval_ops_random_8bit),
		cmocka_unit_test(test_aval_join_8bit),
		cmocka_unit_test(test_refine_const_8bit),
		cmocka_unit_test(test_refine_random_8bit),
		cmocka_unit_test(test_widen),
		cmocka_unit_test(test_random_64bit),
		cmocka_unit_test(test_jcc_rows_complementary),
		cmocka_unit_test(test_refine_examples),
		cmocka_unit_test(test_product_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
