/*
 * tests/test_proofs_encoding.c — the Z3 terms that proofs/prove.c proves
 * sound (proofs/enc.c) compute exactly what the C code that runs computes
 * (verifier/tnum.c, interval.c, aval.c), so the proofs are about that code.
 *
 * For every operator, at 8 and 16 bits (the instances of proofs/dom8.c and
 * dom16.c, the widths of the mul/div/mod proofs) and at 64 bits (the
 * library), random inputs from proofs/randval.h — well formed, plus some
 * malformed ones, since the C functions are total — are fed to both: the
 * C function directly, and the Z3 term built over numerals and simplified
 * to a numeral.  Every output must be equal, including the ones the
 * interface leaves unspecified (the mirror copies them too), except the
 * values after an infeasible refinement, which the C code does not write.
 * The concrete semantics used as the proofs' specification (pz_sem2) is
 * checked against vm/semantics.h the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../proofs/dom_ops.h"
#include "../proofs/enc.h"
#include "../proofs/exhaust.h"
#include "../proofs/randval.h"
#include "program.h"

static const struct vfm_dom_ops dom64 = {
#include "../proofs/dom_init.h"
};

/* The operators of the VFM_ALU2 / VFM_ALU1 / VFM_JCC rows (dom_ops.h). */
#define alu2_ops vfm_dom_alu2_ops
#define alu1_ops vfm_dom_alu1_ops
#define jcc_ops vfm_dom_jcc_ops
/* NAME column of the opcode table. */
#define op_name(op) (vfm_opinfo[(uint8_t)(op)].name)
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Samples per operator and width.  Under ASan, Z3's many allocations go
 * through the sanitizer's allocator, about 5x slower: fewer samples. */
#if defined(__SANITIZE_ADDRESS__)
#define SAMPLES 40
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAMPLES 40
#endif
#endif
#ifndef SAMPLES
#define SAMPLES 150
#endif

static uint64_t seed = 0xE11C0DE;

/* ---- a Z3 context per check ------------------------------------------ */

static void z3_error(Z3_context c, Z3_error_code e)
{
	fail_msg("Z3 error %d: %s", (int)e, Z3_get_error_msg(c, e));
}

struct ctx {
	Z3_context c;
	struct pz z;
	const struct vfm_dom_ops *D;
	const char *what; /* operator under test, for messages */
};

static void ctx_open(struct ctx *x, const struct vfm_dom_ops *D, const char *what)
{
	Z3_config cfg = Z3_mk_config();
	x->c = Z3_mk_context(cfg);
	Z3_del_config(cfg);
	Z3_set_error_handler(x->c, z3_error);
	pz_init(&x->z, x->c, D->bits);
	x->D = D;
	x->what = what;
}

static void ctx_close(struct ctx *x)
{
	Z3_del_context(x->c);
}

static uint64_t ev(struct ctx *x, Z3_ast t)
{
	uint64_t v = 0;
	Z3_ast s = Z3_simplify(x->c, t);
	if (!Z3_get_numeral_uint64(x->c, s, &v))
		fail_msg("%s/%u: term did not simplify to a numeral: %s", x->what, x->D->bits,
			 Z3_ast_to_string(x->c, s));
	return v;
}

static bool evb(struct ctx *x, Z3_ast t)
{
	Z3_lbool b = Z3_get_bool_value(x->c, Z3_simplify(x->c, t));
	if (b == Z3_L_UNDEF)
		fail_msg("%s/%u: Bool term did not simplify", x->what, x->D->bits);
	return b == Z3_L_TRUE;
}

static Z3_ast N(struct ctx *x, uint64_t v) { return pz_num(&x->z, v); }

static struct pz_tnum ZT(struct ctx *x, struct vfm_tnum t)
{
	return (struct pz_tnum){N(x, t.value), N(x, t.mask)};
}

static struct pz_itv ZI(struct ctx *x, struct vfm_interval a)
{
	return (struct pz_itv){N(x, a.lo), N(x, a.hi)};
}

static struct pz_aval ZA(struct ctx *x, struct vfm_aval a)
{
	return (struct pz_aval){ZI(x, a.itv), ZT(x, a.tn)};
}

static void same_tnum(struct ctx *x, struct vfm_tnum c, struct pz_tnum t, int k)
{
	uint64_t v = ev(x, t.v), m = ev(x, t.m);
	if (v != c.value || m != c.mask)
		fail_msg("%s/%u sample %d: C (%#llx,%#llx), Z3 (%#llx,%#llx)", x->what,
			 x->D->bits, k, (unsigned long long)c.value, (unsigned long long)c.mask,
			 (unsigned long long)v, (unsigned long long)m);
}

static void same_itv(struct ctx *x, struct vfm_interval c, struct pz_itv t, int k)
{
	uint64_t lo = ev(x, t.lo), hi = ev(x, t.hi);
	if (lo != c.lo || hi != c.hi)
		fail_msg("%s/%u sample %d: C [%llu,%llu], Z3 [%llu,%llu]", x->what, x->D->bits,
			 k, (unsigned long long)c.lo, (unsigned long long)c.hi,
			 (unsigned long long)lo, (unsigned long long)hi);
}

static void same_aval(struct ctx *x, struct vfm_aval c, struct pz_aval t, int k)
{
	same_itv(x, c.itv, t.itv, k);
	same_tnum(x, c.tn, t.tn, k);
}

static void same_bool(struct ctx *x, bool c, Z3_ast t, int k)
{
	if (evb(x, t) != c)
		fail_msg("%s/%u sample %d: C %d, Z3 %d", x->what, x->D->bits, k, c, !c);
}

/* ---- inputs ---------------------------------------------------------- */

/* Mostly well formed; one in eight has overlapping value and mask bits or
 * lo > hi (the functions are total, and the mirror must agree there too). */
static struct vfm_tnum in_tnum(const struct vfm_dom_ops *D)
{
	struct vfm_tnum t = vfm_rv_tnum(&seed, D);
	if (vfm_rv_next(&seed) % 8 == 0)
		t.value = vfm_rv_word(&seed, D);
	return t;
}

static struct vfm_interval in_itv(const struct vfm_dom_ops *D)
{
	struct vfm_interval a = vfm_rv_itv(&seed, D);
	if (vfm_rv_next(&seed) % 8 == 0)
		a.lo = vfm_rv_word(&seed, D);
	return a;
}

static struct vfm_aval in_aval(const struct vfm_dom_ops *D)
{
	struct vfm_aval a;
	switch (vfm_rv_next(&seed) % 4) {
	case 0: a.itv = in_itv(D); a.tn = in_tnum(D); return a; /* unreduced */
	case 1: return D->aval_const(vfm_rv_word(&seed, D));
	default: return vfm_rv_aval(&seed, D);
	}
}

/* ---- the checks -------------------------------------------------------- */

/* Fewer samples for the terms with unrolled 64-step loops at 64 bits. */
static int samples(const struct vfm_dom_ops *D, uint8_t op)
{
	if (D->bits == 64 && (op == VFM_OPC_MUL || op == VFM_OPC_SHL || op == VFM_OPC_SHR))
		return SAMPLES / 3;
	return SAMPLES;
}

static void check_width(const struct vfm_dom_ops *D)
{
	struct ctx x;
	char what[64];

	/* The specification: concrete semantics. */
	ctx_open(&x, D, "semantics");
	for (int k = 0; k < 4 * SAMPLES; k++) {
		uint64_t a = vfm_rv_word(&seed, D), b = vfm_rv_word(&seed, D);
		for (size_t i = 0; i < N_ELEMS(alu2_ops); i++)
			assert_int_equal(ev(&x, pz_sem2(&x.z, alu2_ops[i], N(&x, a), N(&x, b))),
					 vfm_exh_sem2(D->bits, alu2_ops[i], a, b));
		for (size_t i = 0; i < N_ELEMS(alu1_ops); i++)
			assert_int_equal(ev(&x, pz_sem1(&x.z, alu1_ops[i], N(&x, a))),
					 vfm_exh_sem1(D->bits, alu1_ops[i], a));
		for (size_t i = 0; i < N_ELEMS(jcc_ops); i++)
			same_bool(&x, vfm_exh_cond(jcc_ops[i], a, b),
				  pz_cond(&x.z, jcc_ops[i], N(&x, a), N(&x, b)), k);
	}
	ctx_close(&x);

	/* Lattice operations. */
	ctx_open(&x, D, "tnum range/join/meet, itv join/meet/widen, contains");
	for (int k = 0; k < SAMPLES; k++) {
		struct vfm_tnum a = in_tnum(D), b = in_tnum(D);
		struct vfm_interval i = in_itv(D), j = in_itv(D);
		uint64_t lo = vfm_rv_word(&seed, D), hi = vfm_rv_word(&seed, D);
		uint64_t thr[4], v = vfm_rv_word(&seed, D);
		unsigned n = (unsigned)(vfm_rv_next(&seed) % 5);
		Z3_ast zthr[4], e;
		bool ce;
		struct vfm_tnum cm;
		struct vfm_interval ci;
		same_tnum(&x, D->tnum_range(lo, hi), pz_tnum_range(&x.z, N(&x, lo), N(&x, hi)), k);
		same_tnum(&x, D->tnum_join(a, b), pz_tnum_join(&x.z, ZT(&x, a), ZT(&x, b)), k);
		cm = D->tnum_meet(a, b, &ce);
		same_tnum(&x, cm, pz_tnum_meet(&x.z, ZT(&x, a), ZT(&x, b), &e), k);
		same_bool(&x, ce, e, k);
		same_itv(&x, D->itv_join(i, j), pz_itv_join(&x.z, ZI(&x, i), ZI(&x, j)), k);
		ci = D->itv_meet(i, j, &ce);
		same_itv(&x, ci, pz_itv_meet(&x.z, ZI(&x, i), ZI(&x, j), &e), k);
		same_bool(&x, ce, e, k);
		for (unsigned t = 0; t < n; t++) {
			thr[t] = vfm_rv_word(&seed, D);
			zthr[t] = N(&x, thr[t]);
		}
		same_itv(&x, D->itv_widen(i, j, thr, n),
			 pz_itv_widen(&x.z, ZI(&x, i), ZI(&x, j), zthr, n), k);
		same_bool(&x, D->tnum_contains(a, v), pz_tnum_contains(&x.z, ZT(&x, a), N(&x, v)), k);
		same_bool(&x, D->itv_contains(i, v), pz_itv_contains(&x.z, ZI(&x, i), N(&x, v)), k);
		same_tnum(&x, D->tnum_const(v), pz_tnum_const(&x.z, N(&x, v)), k);
		same_tnum(&x, D->tnum_unknown(), pz_tnum_unknown(&x.z), k);
		same_itv(&x, D->itv_const(v), pz_itv_const(&x.z, N(&x, v)), k);
		same_itv(&x, D->itv_full(), pz_itv_full(&x.z), k);
	}
	ctx_close(&x);

	/* Operators of each domain and of the product. */
	for (size_t i = 0; i < N_ELEMS(alu2_ops); i++) {
		uint8_t op = alu2_ops[i];
		snprintf(what, sizeof what, "%s (tnum, interval, aval)", op_name(op));
		ctx_open(&x, D, what);
		for (int k = 0; k < samples(D, op); k++) {
			struct vfm_tnum a = in_tnum(D), b = in_tnum(D);
			struct vfm_interval p = in_itv(D), q = in_itv(D);
			struct vfm_aval u = in_aval(D), v = in_aval(D);
			same_tnum(&x, vfm_dom_op_tnum2(D, op)(a, b), pz_tnum_alu2(&x.z, op, ZT(&x, a), ZT(&x, b)), k);
			same_itv(&x, vfm_dom_op_itv2(D, op)(p, q), pz_itv_alu2(&x.z, op, ZI(&x, p), ZI(&x, q)), k);
			same_aval(&x, D->aval_alu2(op, u, v), pz_aval_alu2(&x.z, op, ZA(&x, u), ZA(&x, v)), k);
		}
		ctx_close(&x);
	}
	ctx_open(&x, D, "unary operators (tnum, interval, aval), unknown opcodes");
	for (int k = 0; k < SAMPLES; k++) {
		struct vfm_tnum a = in_tnum(D);
		struct vfm_interval p = in_itv(D);
		struct vfm_aval u = in_aval(D), v = in_aval(D);
		for (size_t i = 0; i < N_ELEMS(alu1_ops); i++) {
			uint8_t op = alu1_ops[i];
			same_tnum(&x, vfm_dom_op_tnum1(D, op)(a), pz_tnum_alu1(&x.z, op, ZT(&x, a)), k);
			same_itv(&x, vfm_dom_op_itv1(D, op)(p), pz_itv_alu1(&x.z, op, ZI(&x, p)), k);
			same_aval(&x, D->aval_alu1(op, u), pz_aval_alu1(&x.z, op, ZA(&x, u)), k);
		}
		same_aval(&x, D->aval_alu1(VFM_OPC_ADD, u), pz_aval_alu1(&x.z, VFM_OPC_ADD, ZA(&x, u)), k);
		same_aval(&x, D->aval_alu2(VFM_OPC_RET, u, v),
			  pz_aval_alu2(&x.z, VFM_OPC_RET, ZA(&x, u), ZA(&x, v)), k);
	}
	ctx_close(&x);

	ctx_open(&x, D, "aval reduce/join/const/contains");
	for (int k = 0; k < SAMPLES; k++) {
		struct vfm_aval u = in_aval(D), v = in_aval(D);
		uint64_t w = vfm_rv_word(&seed, D);
		bool ce;
		Z3_ast e;
		struct vfm_aval r = D->aval_reduce(u, &ce);
		same_aval(&x, r, pz_aval_reduce(&x.z, ZA(&x, u), &e), k);
		same_bool(&x, ce, e, k);
		same_aval(&x, D->aval_join(u, v), pz_aval_join(&x.z, ZA(&x, u), ZA(&x, v)), k);
		same_aval(&x, D->aval_const(w), pz_aval_const(&x.z, N(&x, w)), k);
		same_bool(&x, D->aval_contains(u, w), pz_aval_contains(&x.z, ZA(&x, u), N(&x, w)), k);
		/* A member, when there is one, to exercise the true side. */
		if (!ce) {
			uint64_t m = vfm_rv_member(&seed, D, r);
			same_bool(&x, D->aval_contains(u, m), pz_aval_contains(&x.z, ZA(&x, u), N(&x, m)), k);
		}
	}
	ctx_close(&x);

	for (size_t i = 0; i < N_ELEMS(jcc_ops); i++)
		for (int taken = 0; taken < 2; taken++) {
			snprintf(what, sizeof what, "refine %s %s", op_name(jcc_ops[i]),
				 taken ? "taken" : "not taken");
			ctx_open(&x, D, what);
			for (int k = 0; k < SAMPLES; k++) {
				struct vfm_aval a = in_aval(D), b = in_aval(D), ca = a, cb = b;
				struct pz_aval za = ZA(&x, a), zb = ZA(&x, b);
				bool ok;
				/* Constants on either side take the special paths. */
				if (k % 4 == 1)
					cb = b = D->aval_const(vfm_rv_word(&seed, D)), zb = ZA(&x, b);
				if (k % 4 == 2)
					ca = a = D->aval_const(vfm_rv_word(&seed, D)), za = ZA(&x, a);
				ok = D->aval_refine(jcc_ops[i], taken, &ca, &cb);
				same_bool(&x, ok, pz_aval_refine(&x.z, jcc_ops[i], taken, &za, &zb), k);
				if (ok) {
					same_aval(&x, ca, za, k);
					same_aval(&x, cb, zb, k);
				}
			}
			ctx_close(&x);
		}
	/* An opcode that is no jump: values reduced, edge feasible. */
	ctx_open(&x, D, "refine of a non-jump");
	for (int k = 0; k < SAMPLES / 4; k++) {
		struct vfm_aval a = in_aval(D), b = in_aval(D), ca = a, cb = b;
		struct pz_aval za = ZA(&x, a), zb = ZA(&x, b);
		bool ok = D->aval_refine(VFM_OPC_ADD, true, &ca, &cb);
		same_bool(&x, ok, pz_aval_refine(&x.z, VFM_OPC_ADD, true, &za, &zb), k);
		if (ok) {
			same_aval(&x, ca, za, k);
			same_aval(&x, cb, zb, k);
		}
	}
	ctx_close(&x);
}

static void test_encoding_8bit(void **state)
{
	(void)state;
	check_width(&vfm_dom8);
}

static void test_encoding_16bit(void **state)
{
	(void)state;
	check_width(&vfm_dom16);
}

static void test_encoding_64bit(void **state)
{
	(void)state;
	check_width(&dom64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding_8bit),
		cmocka_unit_test(test_encoding_16bit),
		cmocka_unit_test(test_encoding_64bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
