/*
 * proofs/enc.c — Z3 mirrors of the abstract operators (proofs/enc.h).
 *
 * Read each function next to its C original in verifier/: same names,
 * same order of steps.  `if` becomes ite(), loops over bits are unrolled,
 * and the VFM_DOM_M masks disappear because every term already has the
 * word's width.  tests/test_proofs_encoding.c checks that each mirror
 * computes exactly what the C code computes.
 */
#include <stddef.h>
#include <stdio.h>

#include "enc.h"
#include "program.h"

/* ---- term helpers ----------------------------------------------------- */

void pz_init(struct pz *z, Z3_context c, unsigned width)
{
	z->c = c;
	z->w = width;
	z->s = Z3_mk_bv_sort(c, width);
	z->on_reduce = NULL;
	z->on_tnum_meet = NULL;
	z->on_itv_meet = NULL;
	z->refine_reduce = NULL;
	z->hook_ctx = NULL;
}

Z3_ast pz_num(const struct pz *z, uint64_t v)
{
	if (z->w < 64)
		v &= (UINT64_C(1) << z->w) - 1;
	return Z3_mk_unsigned_int64(z->c, v, z->s);
}

Z3_ast pz_var(const struct pz *z, const char *name)
{
	return Z3_mk_const(z->c, Z3_mk_string_symbol(z->c, name), z->s);
}

static Z3_ast N(const struct pz *z, uint64_t v) { return pz_num(z, v); }
static Z3_ast ONES(const struct pz *z) { return pz_num(z, UINT64_MAX); }
static Z3_ast add(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvadd(z->c, a, b); }
static Z3_ast sub(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvsub(z->c, a, b); }
static Z3_ast mul(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvmul(z->c, a, b); }
static Z3_ast udiv(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvudiv(z->c, a, b); }
static Z3_ast urem(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvurem(z->c, a, b); }
static Z3_ast and(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvand(z->c, a, b); }
static Z3_ast or(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvor(z->c, a, b); }
static Z3_ast xor(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvxor(z->c, a, b); }
static Z3_ast not(const struct pz *z, Z3_ast a) { return Z3_mk_bvnot(z->c, a); }
static Z3_ast shl(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvshl(z->c, a, b); }
static Z3_ast shr(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvlshr(z->c, a, b); }
static Z3_ast ite(const struct pz *z, Z3_ast c, Z3_ast a, Z3_ast b) { return Z3_mk_ite(z->c, c, a, b); }
static Z3_ast eq(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_eq(z->c, a, b); }
static Z3_ast ult(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvult(z->c, a, b); }
static Z3_ast ule(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvule(z->c, a, b); }
static Z3_ast ugt(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvugt(z->c, a, b); }
static Z3_ast uge(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_bvuge(z->c, a, b); }
static Z3_ast lnot(const struct pz *z, Z3_ast a) { return Z3_mk_not(z->c, a); }
static Z3_ast lxor(const struct pz *z, Z3_ast a, Z3_ast b) { return Z3_mk_xor(z->c, a, b); }
static Z3_ast land(const struct pz *z, Z3_ast a, Z3_ast b)
{
	Z3_ast args[2] = {a, b};
	return Z3_mk_and(z->c, 2, args);
}
static Z3_ast lor(const struct pz *z, Z3_ast a, Z3_ast b)
{
	Z3_ast args[2] = {a, b};
	return Z3_mk_or(z->c, 2, args);
}
static Z3_ast FALSE(const struct pz *z) { return Z3_mk_false(z->c); }
static Z3_ast is0(const struct pz *z, Z3_ast a) { return eq(z, a, N(z, 0)); }
static Z3_ast nz(const struct pz *z, Z3_ast a) { return lnot(z, is0(z, a)); }

static Z3_ast min_(const struct pz *z, Z3_ast x, Z3_ast y) { return ite(z, ult(z, x, y), x, y); }
static Z3_ast max_(const struct pz *z, Z3_ast x, Z3_ast y) { return ite(z, ugt(z, x, y), x, y); }

static struct pz_tnum tn(Z3_ast v, Z3_ast m)
{
	return (struct pz_tnum){v, m};
}

static struct pz_itv iv(Z3_ast lo, Z3_ast hi)
{
	return (struct pz_itv){lo, hi};
}

static struct pz_tnum tn_ite(const struct pz *z, Z3_ast c, struct pz_tnum a, struct pz_tnum b)
{
	return tn(ite(z, c, a.v, b.v), ite(z, c, a.m, b.m));
}

static struct pz_itv iv_ite(const struct pz *z, Z3_ast c, struct pz_itv a, struct pz_itv b)
{
	return iv(ite(z, c, a.lo, b.lo), ite(z, c, a.hi, b.hi));
}

static struct pz_aval av_ite(const struct pz *z, Z3_ast c, struct pz_aval a, struct pz_aval b)
{
	return (struct pz_aval){iv_ite(z, c, a.itv, b.itv), tn_ite(z, c, a.tn, b.tn)};
}

/* ---- concrete semantics ----------------------------------------------- */

/* One mirror per ALU row of vm/opcodes.def, named after it: vfm_sem_NAME
 * at width w (shift counts masked with w - 1). */
static Z3_ast pz_sem_ADD(const struct pz *z, Z3_ast a, Z3_ast b) { return add(z, a, b); }
static Z3_ast pz_sem_SUB(const struct pz *z, Z3_ast a, Z3_ast b) { return sub(z, a, b); }
static Z3_ast pz_sem_MUL(const struct pz *z, Z3_ast a, Z3_ast b) { return mul(z, a, b); }
static Z3_ast pz_sem_DIV(const struct pz *z, Z3_ast a, Z3_ast b)
{
	return ite(z, is0(z, b), N(z, 0), udiv(z, a, b));
}
static Z3_ast pz_sem_MOD(const struct pz *z, Z3_ast a, Z3_ast b)
{
	return ite(z, is0(z, b), a, urem(z, a, b));
}
static Z3_ast pz_sem_AND(const struct pz *z, Z3_ast a, Z3_ast b) { return and(z, a, b); }
static Z3_ast pz_sem_OR(const struct pz *z, Z3_ast a, Z3_ast b) { return or(z, a, b); }
static Z3_ast pz_sem_XOR(const struct pz *z, Z3_ast a, Z3_ast b) { return xor(z, a, b); }
static Z3_ast pz_sem_SHL(const struct pz *z, Z3_ast a, Z3_ast b)
{
	return shl(z, a, and(z, b, N(z, z->w - 1)));
}
static Z3_ast pz_sem_SHR(const struct pz *z, Z3_ast a, Z3_ast b)
{
	return shr(z, a, and(z, b, N(z, z->w - 1)));
}
static Z3_ast pz_sem_NOT(const struct pz *z, Z3_ast a) { return not(z, a); }
static Z3_ast pz_sem_NEG(const struct pz *z, Z3_ast a) { return Z3_mk_bvneg(z->c, a); }

Z3_ast pz_sem2(const struct pz *z, uint8_t opcode, Z3_ast a, Z3_ast b)
{
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(NAME, ...) case VFM_ALU2_##NAME: return pz_sem_##NAME(z, a, b);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return N(z, 0);
}

Z3_ast pz_sem1(const struct pz *z, uint8_t opcode, Z3_ast a)
{
	switch ((enum vfm_alu1_op)opcode) {
#define VFM_ALU1(NAME, ...) case VFM_ALU1_##NAME: return pz_sem_##NAME(z, a);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return N(z, 0);
}

/* vfm_sem_rel: a REL b. */
Z3_ast pz_rel_holds(const struct pz *z, enum vfm_rel rel, Z3_ast a, Z3_ast b)
{
	switch (rel) {
	case VFM_REL_EQ: return eq(z, a, b);
	case VFM_REL_NE: return lnot(z, eq(z, a, b));
	case VFM_REL_LT: return ult(z, a, b);
	case VFM_REL_LE: return ule(z, a, b);
	case VFM_REL_GT: return ugt(z, a, b);
	case VFM_REL_GE: return uge(z, a, b);
	case VFM_REL_SET: return nz(z, and(z, a, b));
	case VFM_REL_CLEAR: return is0(z, and(z, a, b));
	}
	return FALSE(z);
}

Z3_ast pz_cond(const struct pz *z, uint8_t opcode, Z3_ast a, Z3_ast b)
{
	if (vfm_opinfo[opcode].cls != VFM_CLASS_JCC)
		return FALSE(z);
	return pz_rel_holds(z, vfm_jcc_rel(opcode, true), a, b);
}

Z3_ast pz_tnum_wf(const struct pz *z, struct pz_tnum t)
{
	return is0(z, and(z, t.v, t.m));
}

Z3_ast pz_tnum_contains(const struct pz *z, struct pz_tnum t, Z3_ast x)
{
	return eq(z, and(z, x, not(z, t.m)), t.v);
}

Z3_ast pz_itv_wf(const struct pz *z, struct pz_itv a)
{
	return ule(z, a.lo, a.hi);
}

Z3_ast pz_itv_contains(const struct pz *z, struct pz_itv a, Z3_ast x)
{
	return land(z, ule(z, a.lo, x), ule(z, x, a.hi));
}

Z3_ast pz_aval_contains(const struct pz *z, struct pz_aval a, Z3_ast x)
{
	return land(z, pz_itv_contains(z, a.itv, x), pz_tnum_contains(z, a.tn, x));
}

/* ---- tnum.c ----------------------------------------------------------- */

/* dom_tn_fill: shifts by the width or more are no-ops in C (the value has
 * no bits there) and are left out. */
static Z3_ast tn_fill(const struct pz *z, Z3_ast x)
{
	for (unsigned s = 1; s <= 32 && s < z->w; s *= 2)
		x = or(z, x, shr(z, x, N(z, s)));
	return x;
}

struct pz_tnum pz_tnum_const(const struct pz *z, Z3_ast v)
{
	return tn(v, N(z, 0));
}

struct pz_tnum pz_tnum_unknown(const struct pz *z)
{
	return tn(N(z, 0), ONES(z));
}

struct pz_tnum pz_tnum_range(const struct pz *z, Z3_ast lo, Z3_ast hi)
{
	Z3_ast delta = tn_fill(z, xor(z, lo, hi));
	return tn(and(z, lo, not(z, delta)), delta);
}

struct pz_tnum pz_tnum_join(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast mu = or(z, or(z, a.m, b.m), xor(z, a.v, b.v));
	return tn(and(z, a.v, not(z, mu)), mu);
}

struct pz_tnum pz_tnum_meet(const struct pz *z, struct pz_tnum a, struct pz_tnum b,
			    Z3_ast *empty)
{
	Z3_ast clash = and(z, and(z, xor(z, a.v, b.v), not(z, a.m)), not(z, b.m));
	if (z->on_tnum_meet)
		z->on_tnum_meet(z, a, b);
	if (empty)
		*empty = nz(z, clash);
	return tn_ite(z, nz(z, clash), a, tn(or(z, a.v, b.v), and(z, a.m, b.m)));
}

static struct pz_tnum pz_tnum_ADD(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast sm = add(z, a.m, b.m);
	Z3_ast sv = add(z, a.v, b.v);
	Z3_ast sigma = add(z, sv, sm);
	Z3_ast mu = or(z, or(z, xor(z, sigma, sv), a.m), b.m);
	return tn(and(z, sv, not(z, mu)), mu);
}

static struct pz_tnum pz_tnum_SUB(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast dv = sub(z, a.v, b.v);
	Z3_ast alpha = add(z, dv, a.m);
	Z3_ast beta = sub(z, dv, b.m);
	Z3_ast mu = or(z, or(z, xor(z, alpha, beta), a.m), b.m);
	return tn(and(z, dv, not(z, mu)), mu);
}

static struct pz_tnum pz_tnum_MUL(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast acc_v = mul(z, a.v, b.v);
	struct pz_tnum acc_m = tn(N(z, 0), N(z, 0));
	for (unsigned i = 0; i < z->w; i++) {
		Z3_ast bit = N(z, UINT64_C(1) << i);
		Z3_ast part = ite(z, nz(z, and(z, a.v, bit)), b.m,
				  ite(z, nz(z, and(z, a.m, bit)), or(z, b.v, b.m), N(z, 0)));
		acc_m = pz_tnum_ADD(z, acc_m, tn(N(z, 0), shl(z, part, N(z, i))));
	}
	return pz_tnum_ADD(z, tn(acc_v, N(z, 0)), acc_m);
}

static struct pz_tnum pz_tnum_AND(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast alpha = or(z, a.v, a.m), beta = or(z, b.v, b.m);
	Z3_ast v = and(z, a.v, b.v);
	return tn(v, and(z, and(z, alpha, beta), not(z, v)));
}

static struct pz_tnum pz_tnum_DIV(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast amax = or(z, a.v, a.m), bmin = b.v;
	Z3_ast both_const = land(z, is0(z, a.m), is0(z, b.m));
	return tn_ite(z, both_const, pz_tnum_const(z, pz_sem_DIV(z, a.v, b.v)),
		      pz_tnum_range(z, N(z, 0),
				    ite(z, nz(z, bmin), udiv(z, amax, bmin), amax)));
}

static struct pz_tnum pz_tnum_MOD(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast amax = or(z, a.v, a.m), bmax = or(z, b.v, b.m);
	Z3_ast bmax_1 = sub(z, bmax, N(z, 1));
	Z3_ast lim = ite(z, ult(z, amax, bmax_1), amax, bmax_1);
	Z3_ast both_const = land(z, is0(z, a.m), is0(z, b.m));
	Z3_ast pow2 = land(z, land(z, is0(z, b.m), nz(z, b.v)),
			   is0(z, and(z, b.v, sub(z, b.v, N(z, 1)))));
	struct pz_tnum r = pz_tnum_join(z, a, pz_tnum_range(z, N(z, 0), lim));
	r = tn_ite(z, nz(z, b.v), pz_tnum_range(z, N(z, 0), lim), r);
	r = tn_ite(z, is0(z, bmax), a, r);
	r = tn_ite(z, pow2, pz_tnum_AND(z, a, tn(sub(z, b.v, N(z, 1)), N(z, 0))), r);
	return tn_ite(z, both_const, pz_tnum_const(z, pz_sem_MOD(z, a.v, b.v)), r);
}

static struct pz_tnum pz_tnum_OR(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast v = or(z, a.v, b.v);
	return tn(v, and(z, or(z, a.m, b.m), not(z, v)));
}

static struct pz_tnum pz_tnum_XOR(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	Z3_ast mu = or(z, a.m, b.m);
	return tn(and(z, xor(z, a.v, b.v), not(z, mu)), mu);
}

static struct pz_tnum pz_tnum_NOT(const struct pz *z, struct pz_tnum a)
{
	return tn(and(z, not(z, a.v), not(z, a.m)), a.m);
}

/* The barrel shifter over tnums; shl when left, else shr. */
static struct pz_tnum tn_shift(const struct pz *z, struct pz_tnum a, struct pz_tnum b, bool left)
{
	Z3_ast (*sh)(const struct pz *, Z3_ast, Z3_ast) = left ? shl : shr;
	struct pz_tnum r = a;
	for (unsigned s = 1; s < z->w; s <<= 1) {
		struct pz_tnum t = tn(sh(z, r.v, N(z, s)), sh(z, r.m, N(z, s)));
		r = tn_ite(z, nz(z, and(z, b.v, N(z, s))), t,
			   tn_ite(z, nz(z, and(z, b.m, N(z, s))), pz_tnum_join(z, r, t), r));
	}
	return r;
}

static struct pz_tnum pz_tnum_SHL(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	return tn_shift(z, a, b, true);
}

static struct pz_tnum pz_tnum_SHR(const struct pz *z, struct pz_tnum a, struct pz_tnum b)
{
	return tn_shift(z, a, b, false);
}

static struct pz_tnum pz_tnum_NEG(const struct pz *z, struct pz_tnum a)
{
	return pz_tnum_SUB(z, tn(N(z, 0), N(z, 0)), a);
}

/* Dispatch generated from the rows, as vfm_aval_alu2 in aval.c. */
struct pz_tnum pz_tnum_alu2(const struct pz *z, uint8_t opcode, struct pz_tnum a,
			    struct pz_tnum b)
{
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(NAME, ...) case VFM_ALU2_##NAME: return pz_tnum_##NAME(z, a, b);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return pz_tnum_unknown(z);
}

struct pz_tnum pz_tnum_alu1(const struct pz *z, uint8_t opcode, struct pz_tnum a)
{
	switch ((enum vfm_alu1_op)opcode) {
#define VFM_ALU1(NAME, ...) case VFM_ALU1_##NAME: return pz_tnum_##NAME(z, a);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return pz_tnum_unknown(z);
}

/* ---- interval.c ------------------------------------------------------- */

static Z3_ast iv_is_const(const struct pz *z, struct pz_itv a)
{
	return eq(z, a.lo, a.hi);
}

/* dom_itv_mul_overflows: the true product does not fit the width. */
static Z3_ast iv_mul_overflows(const struct pz *z, Z3_ast x, Z3_ast y)
{
	return lnot(z, Z3_mk_bvmul_no_overflow(z->c, x, y, false));
}

struct pz_itv pz_itv_const(const struct pz *z, Z3_ast v)
{
	(void)z;
	return iv(v, v);
}

struct pz_itv pz_itv_full(const struct pz *z)
{
	return iv(N(z, 0), ONES(z));
}

struct pz_itv pz_itv_join(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	return iv(min_(z, a.lo, b.lo), max_(z, a.hi, b.hi));
}

struct pz_itv pz_itv_meet(const struct pz *z, struct pz_itv a, struct pz_itv b, Z3_ast *empty)
{
	Z3_ast lo = max_(z, a.lo, b.lo), hi = min_(z, a.hi, b.hi);
	if (z->on_itv_meet)
		z->on_itv_meet(z, a, b);
	if (empty)
		*empty = ugt(z, lo, hi);
	return iv_ite(z, ugt(z, lo, hi), a, iv(lo, hi));
}

static struct pz_itv pz_itv_ADD(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	Z3_ast lo = add(z, a.lo, b.lo), hi = add(z, a.hi, b.hi);
	Z3_ast carry_lo = ult(z, lo, a.lo), carry_hi = ult(z, hi, a.hi);
	return iv_ite(z, lxor(z, carry_lo, carry_hi), pz_itv_full(z), iv(lo, hi));
}

static struct pz_itv pz_itv_SUB(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	Z3_ast lo = sub(z, a.lo, b.hi), hi = sub(z, a.hi, b.lo);
	Z3_ast borrow_lo = ult(z, a.lo, b.hi), borrow_hi = ult(z, a.hi, b.lo);
	return iv_ite(z, lxor(z, borrow_lo, borrow_hi), pz_itv_full(z), iv(lo, hi));
}

static struct pz_itv pz_itv_MUL(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	struct pz_itv r = iv_ite(z, iv_mul_overflows(z, a.hi, b.hi), pz_itv_full(z),
				 iv(mul(z, a.lo, b.lo), mul(z, a.hi, b.hi)));
	return iv_ite(z, land(z, iv_is_const(z, a), iv_is_const(z, b)),
		      pz_itv_const(z, pz_sem_MUL(z, a.lo, b.lo)), r);
}

static struct pz_itv pz_itv_DIV(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	struct pz_itv r = iv(udiv(z, a.lo, b.hi), udiv(z, a.hi, b.lo));
	r = iv_ite(z, is0(z, b.lo), iv(N(z, 0), a.hi), r);
	return iv_ite(z, is0(z, b.hi), pz_itv_const(z, N(z, 0)), r);
}

static struct pz_itv pz_itv_MOD(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	struct pz_itv r = iv(N(z, 0), min_(z, a.hi, sub(z, b.hi, N(z, 1))));
	Z3_ast one_q = land(z, iv_is_const(z, b),
			    eq(z, udiv(z, a.lo, b.lo), udiv(z, a.hi, b.lo)));
	r = iv_ite(z, one_q, iv(urem(z, a.lo, b.lo), urem(z, a.hi, b.lo)), r);
	r = iv_ite(z, ult(z, a.hi, b.lo), a, r);
	r = iv_ite(z, is0(z, b.lo), iv(N(z, 0), a.hi), r);
	return iv_ite(z, is0(z, b.hi), a, r);
}

static struct pz_itv pz_itv_AND(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	return iv_ite(z, land(z, iv_is_const(z, a), iv_is_const(z, b)),
		      pz_itv_const(z, and(z, a.lo, b.lo)), iv(N(z, 0), min_(z, a.hi, b.hi)));
}

static struct pz_itv pz_itv_OR(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	return iv_ite(z, land(z, iv_is_const(z, a), iv_is_const(z, b)),
		      pz_itv_const(z, or(z, a.lo, b.lo)),
		      iv(max_(z, a.lo, b.lo), pz_tnum_range(z, N(z, 0), or(z, a.hi, b.hi)).m));
}

static struct pz_itv pz_itv_XOR(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	return iv_ite(z, land(z, iv_is_const(z, a), iv_is_const(z, b)),
		      pz_itv_const(z, xor(z, a.lo, b.lo)),
		      iv(N(z, 0), pz_tnum_range(z, N(z, 0), or(z, a.hi, b.hi)).m));
}

static struct pz_itv iv_counts(const struct pz *z, struct pz_itv b)
{
	Z3_ast wm = N(z, z->w - 1);
	return iv_ite(z, nz(z, and(z, xor(z, b.lo, b.hi), not(z, wm))), iv(N(z, 0), wm),
		      iv(and(z, b.lo, wm), and(z, b.hi, wm)));
}

static struct pz_itv pz_itv_SHL(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	struct pz_itv c = iv_counts(z, b);
	struct pz_itv r = iv_ite(z, ugt(z, a.hi, shr(z, ONES(z), c.hi)), pz_itv_full(z),
				 iv(shl(z, a.lo, c.lo), shl(z, a.hi, c.hi)));
	return iv_ite(z, land(z, iv_is_const(z, a), iv_is_const(z, c)),
		      pz_itv_const(z, shl(z, a.lo, c.lo)), r);
}

static struct pz_itv pz_itv_SHR(const struct pz *z, struct pz_itv a, struct pz_itv b)
{
	struct pz_itv c = iv_counts(z, b);
	return iv(shr(z, a.lo, c.hi), shr(z, a.hi, c.lo));
}

static struct pz_itv pz_itv_NOT(const struct pz *z, struct pz_itv a)
{
	return iv(not(z, a.hi), not(z, a.lo));
}

static struct pz_itv pz_itv_NEG(const struct pz *z, struct pz_itv a)
{
	return pz_itv_SUB(z, pz_itv_const(z, N(z, 0)), a);
}

struct pz_itv pz_itv_alu2(const struct pz *z, uint8_t opcode, struct pz_itv a, struct pz_itv b)
{
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(NAME, ...) case VFM_ALU2_##NAME: return pz_itv_##NAME(z, a, b);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return pz_itv_full(z);
}

struct pz_itv pz_itv_alu1(const struct pz *z, uint8_t opcode, struct pz_itv a)
{
	switch ((enum vfm_alu1_op)opcode) {
#define VFM_ALU1(NAME, ...) case VFM_ALU1_##NAME: return pz_itv_##NAME(z, a);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return pz_itv_full(z);
}

struct pz_itv pz_itv_widen(const struct pz *z, struct pz_itv prev, struct pz_itv next,
			   const Z3_ast *thresholds, unsigned n)
{
	Z3_ast lo = N(z, 0), hi = ONES(z);
	for (unsigned i = 0; i < n; i++) {
		Z3_ast t = thresholds[i];
		lo = ite(z, land(z, ule(z, t, next.lo), ugt(z, t, lo)), t, lo);
	}
	for (unsigned i = 0; i < n; i++) {
		Z3_ast t = thresholds[i];
		hi = ite(z, land(z, uge(z, t, next.hi), ult(z, t, hi)), t, hi);
	}
	return iv(ite(z, ult(z, next.lo, prev.lo), lo, prev.lo),
		  ite(z, ugt(z, next.hi, prev.hi), hi, prev.hi));
}

/* ---- aval.c ----------------------------------------------------------- */

struct pz_aval pz_aval_const(const struct pz *z, Z3_ast v)
{
	return (struct pz_aval){pz_itv_const(z, v), pz_tnum_const(z, v)};
}

static struct pz_aval av_unknown(const struct pz *z)
{
	return (struct pz_aval){pz_itv_full(z), pz_tnum_unknown(z)};
}

Z3_ast pz_next_member(const struct pz *z, struct pz_tnum t, Z3_ast x, Z3_ast *ok)
{
	Z3_ast y = or(z, t.v, and(z, x, t.m));
	Z3_ast d = xor(z, x, y);
	Z3_ast below = pz_tnum_range(z, N(z, 0), d).m;
	Z3_ast top = xor(z, below, shr(z, below, N(z, 1)));
	Z3_ast free = and(z, and(z, not(z, x), t.m), not(z, below));
	Z3_ast q = and(z, free, sub(z, N(z, 0), free));
	Z3_ast q_1 = sub(z, q, N(z, 1));
	Z3_ast y_up = nz(z, and(z, y, top));
	*ok = lor(z, lor(z, is0(z, d), y_up), nz(z, q));
	return ite(z, is0(z, d), x,
		   ite(z, y_up, or(z, and(z, y, not(z, below)), and(z, t.v, below)),
		       ite(z, is0(z, q), N(z, 0),
			   or(z, or(z, and(z, y, not(z, or(z, q, q_1))), q),
			      and(z, t.v, q_1)))));
}

Z3_ast pz_prev_member(const struct pz *z, struct pz_tnum t, Z3_ast x, Z3_ast *ok)
{
	return not(z, pz_next_member(z, pz_tnum_NOT(z, t), not(z, x), ok));
}

struct pz_aval pz_aval_reduce(const struct pz *z, struct pz_aval a, Z3_ast *empty)
{
	Z3_ast ok_lo, ok_hi;
	Z3_ast lo = pz_next_member(z, a.tn, a.itv.lo, &ok_lo);
	if (z->on_reduce)
		z->on_reduce(z, a);
	Z3_ast hi = pz_prev_member(z, a.tn, a.itv.hi, &ok_hi);
	Z3_ast none = lor(z, lor(z, nz(z, and(z, a.tn.v, a.tn.m)), lnot(z, ok_lo)),
			  lor(z, lnot(z, ok_hi), ugt(z, lo, hi)));
	struct pz_aval r = {iv(lo, hi), pz_tnum_meet(z, a.tn, pz_tnum_range(z, lo, hi), NULL)};
	if (empty)
		*empty = none;
	return av_ite(z, none, a, r);
}

struct pz_aval pz_aval_join(const struct pz *z, struct pz_aval a, struct pz_aval b)
{
	struct pz_aval r = {pz_itv_join(z, a.itv, b.itv), pz_tnum_join(z, a.tn, b.tn)};
	Z3_ast empty;
	struct pz_aval red = pz_aval_reduce(z, r, &empty);
	return av_ite(z, empty, r, red);
}

static struct pz_aval av_meet(const struct pz *z, struct pz_aval a, struct pz_aval b,
			      Z3_ast *empty)
{
	Z3_ast e_itv, e_tn, e;
	struct pz_aval r = {pz_itv_meet(z, a.itv, b.itv, &e_itv),
			    pz_tnum_meet(z, a.tn, b.tn, &e_tn)};
	r = pz_aval_reduce(z, r, &e);
	*empty = lor(z, lor(z, e, e_itv), e_tn);
	return r;
}

struct pz_aval pz_aval_result(const struct pz *z, struct pz_itv itv, struct pz_tnum t)
{
	struct pz_aval r = {itv, t};
	Z3_ast empty;
	struct pz_aval red = pz_aval_reduce(z, r, &empty);
	return av_ite(z, empty, r, red);
}

struct pz_aval pz_aval_alu2(const struct pz *z, uint8_t opcode, struct pz_aval a,
			    struct pz_aval b)
{
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(NAME, ...)                                                    \
	case VFM_ALU2_##NAME:                                                  \
		return pz_aval_result(z, pz_itv_##NAME(z, a.itv, b.itv),       \
				      pz_tnum_##NAME(z, a.tn, b.tn));
#define VFM_OP(...)
#include "opcodes.def"
	}
	return av_unknown(z);
}

struct pz_aval pz_aval_alu1(const struct pz *z, uint8_t opcode, struct pz_aval a)
{
	switch ((enum vfm_alu1_op)opcode) {
#define VFM_ALU1(NAME, ...)                                                    \
	case VFM_ALU1_##NAME:                                                  \
		return pz_aval_result(z, pz_itv_##NAME(z, a.itv), pz_tnum_##NAME(z, a.tn));
#define VFM_OP(...)
#include "opcodes.def"
	}
	return av_unknown(z);
}

static struct pz_itv av_exclude(const struct pz *z, struct pz_itv x, Z3_ast c)
{
	Z3_ast wide = ult(z, x.lo, x.hi);
	Z3_ast at_lo = land(z, eq(z, x.lo, c), wide);
	Z3_ast at_hi = land(z, eq(z, x.hi, c), wide);
	return iv_ite(z, at_lo, iv(add(z, x.lo, N(z, 1)), x.hi),
		      iv_ite(z, at_hi, iv(x.lo, sub(z, x.hi, N(z, 1))), x));
}

Z3_ast pz_aval_narrow(const struct pz *z, enum vfm_rel rel, struct pz_aval *x,
		      struct pz_aval *y)
{
	Z3_ast empty = FALSE(z), e2 = FALSE(z), early = FALSE(z), e, r2;
	switch (rel) {
	case VFM_REL_GT:
		return pz_aval_narrow(z, VFM_REL_LT, y, x);
	case VFM_REL_GE:
		return pz_aval_narrow(z, VFM_REL_LE, y, x);
	case VFM_REL_EQ:
		*x = av_meet(z, *x, *y, &empty);
		*y = *x;
		return lnot(z, empty);
	case VFM_REL_NE: {
		Z3_ast xc = iv_is_const(z, x->itv), yc = iv_is_const(z, y->itv);
		early = land(z, land(z, xc, yc), eq(z, x->itv.lo, y->itv.lo));
		x->itv = iv_ite(z, yc, av_exclude(z, x->itv, y->itv.lo), x->itv);
		xc = iv_is_const(z, x->itv);
		y->itv = iv_ite(z, xc, av_exclude(z, y->itv, x->itv.lo), y->itv);
		break;
	}
	case VFM_REL_LT: {
		Z3_ast yhi_1 = sub(z, y->itv.hi, N(z, 1)), xlo_1 = add(z, x->itv.lo, N(z, 1));
		early = lor(z, is0(z, y->itv.hi), eq(z, x->itv.lo, ONES(z)));
		x->itv.hi = ite(z, ugt(z, x->itv.hi, yhi_1), yhi_1, x->itv.hi);
		y->itv.lo = ite(z, ult(z, y->itv.lo, xlo_1), xlo_1, y->itv.lo);
		break;
	}
	case VFM_REL_LE:
		x->itv.hi = ite(z, ugt(z, x->itv.hi, y->itv.hi), y->itv.hi, x->itv.hi);
		y->itv.lo = ite(z, ult(z, y->itv.lo, x->itv.lo), x->itv.lo, y->itv.lo);
		break;
	case VFM_REL_SET: {
		Z3_ast common = and(z, or(z, x->tn.v, x->tn.m), or(z, y->tn.v, y->tn.m));
		struct pz_tnum one = tn(common, not(z, common));
		Z3_ast single = is0(z, and(z, common, sub(z, common, N(z, 1))));
		struct pz_tnum mx, my;
		early = is0(z, common);
		x->itv = av_exclude(z, x->itv, N(z, 0));
		y->itv = av_exclude(z, y->itv, N(z, 0));
		mx = pz_tnum_meet(z, x->tn, one, &e);
		my = pz_tnum_meet(z, y->tn, one, &r2);
		x->tn = tn_ite(z, single, mx, x->tn);
		y->tn = tn_ite(z, single, my, y->tn);
		empty = land(z, single, e);
		e2 = land(z, single, r2);
		break;
	}
	case VFM_REL_CLEAR: {
		struct pz_tnum not_x = tn(N(z, 0), not(z, x->tn.v));
		struct pz_tnum not_y = tn(N(z, 0), not(z, y->tn.v));
		x->tn = pz_tnum_meet(z, x->tn, not_y, &empty);
		y->tn = pz_tnum_meet(z, y->tn, not_x, &e2);
		break;
	}
	}
	{
		Z3_ast bad = lor(z, empty, e2), ex, ey;
		*x = pz_aval_reduce(z, *x, &ex);
		*y = pz_aval_reduce(z, *y, &ey);
		return lnot(z, lor(z, lor(z, early, bad), lor(z, ex, ey)));
	}
}

Z3_ast pz_aval_refine(const struct pz *z, uint8_t opcode, bool taken, struct pz_aval *a,
		      struct pz_aval *b)
{
	Z3_ast empty_a, empty_b, ok;
	struct pz_aval (*reduce)(const struct pz *, struct pz_aval, Z3_ast *) =
		z->refine_reduce ? z->refine_reduce : pz_aval_reduce;
	struct pz_aval x = reduce(z, *a, &empty_a);
	struct pz_aval y = reduce(z, *b, &empty_b);
	Z3_ast feasible = lnot(z, lor(z, empty_a, empty_b));
	if (vfm_opinfo[opcode].cls != VFM_CLASS_JCC) {
		/* Not a comparison: no relation to narrow by. */
		*a = x;
		*b = y;
		return feasible;
	}
	/* The relation of this edge, from the JCC row of vm/opcodes.def. */
	ok = pz_aval_narrow(z, vfm_jcc_rel(opcode, taken), &x, &y);
	*a = x;
	*b = y;
	return land(z, feasible, ok);
}
