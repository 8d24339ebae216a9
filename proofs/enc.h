/*
 * proofs/enc.h — the abstract operators of verifier/{tnum,interval,aval}.c
 * as Z3 bit-vector terms (QF_BV), written to mirror the C code line by
 * line, at any word width.
 *
 * The C functions compute on VFM_DOMAIN_BITS-bit words stored in uint64_t
 * and mask with VFM_DOM_M; here every term has the width of the encoding
 * context, so those masks are implicit.  Where the C code branches, the
 * mirror builds an if-then-else; where it loops over the bits, the mirror
 * unrolls the loop.  Results the C code leaves unspecified (the content of
 * an empty meet, the values after an infeasible refinement) are mirrored
 * too, so tests/test_proofs_encoding.c can require the mirror and the C
 * code to agree on every output for random inputs; proofs/prove.c then
 * proves the mirror sound.
 */
#ifndef VFM_PROOFS_ENC_H
#define VFM_PROOFS_ENC_H

#include <stdbool.h>
#include <stdint.h>

#include <z3.h>

#include "../vm/opcode.h" /* enum vfm_rel */

struct pz_tnum {
	Z3_ast v, m; /* value, mask */
};

struct pz_itv {
	Z3_ast lo, hi;
};

struct pz_aval {
	struct pz_itv itv;
	struct pz_tnum tn;
};

/*
 * An encoding context: a Z3 context and the word width.  The hooks, if
 * set, are called with the operands every time a mirror builds a term of
 * that operation (not changing the term); proofs/prove.c uses them to
 * assert instances of lemmas it proves separately.
 */
struct pz {
	Z3_context c;
	unsigned w;
	Z3_sort s; /* bit-vector sort of width w */
	void (*on_reduce)(const struct pz *z, struct pz_aval a);
	void (*on_tnum_meet)(const struct pz *z, struct pz_tnum a, struct pz_tnum b);
	void (*on_itv_meet)(const struct pz *z, struct pz_itv a, struct pz_itv b);
	/* If set, pz_aval_refine takes the reductions of its operands from
	 * this hook instead of building pz_aval_reduce: proofs/prove.c
	 * returns fresh values constrained by the (separately proven)
	 * reduction lemma, a modular proof of the refinement. */
	struct pz_aval (*refine_reduce)(const struct pz *z, struct pz_aval a, Z3_ast *empty);
	void *hook_ctx;
};

/* Width `width`, no hooks. */
void pz_init(struct pz *z, Z3_context c, unsigned width);
Z3_ast pz_num(const struct pz *z, uint64_t v);
Z3_ast pz_var(const struct pz *z, const char *name);

/* Concrete semantics (vm/semantics.h at width w, counts masked with w-1). */
Z3_ast pz_sem2(const struct pz *z, uint8_t opcode, Z3_ast a, Z3_ast b);
Z3_ast pz_sem1(const struct pz *z, uint8_t opcode, Z3_ast a);
Z3_ast pz_cond(const struct pz *z, uint8_t opcode, Z3_ast a, Z3_ast b); /* Bool */
/* vfm_sem_rel: the Bool a REL b. */
Z3_ast pz_rel_holds(const struct pz *z, enum vfm_rel rel, Z3_ast a, Z3_ast b);

/* Well-formedness and membership (Bool terms). */
Z3_ast pz_tnum_wf(const struct pz *z, struct pz_tnum t);
Z3_ast pz_tnum_contains(const struct pz *z, struct pz_tnum t, Z3_ast x);
Z3_ast pz_itv_wf(const struct pz *z, struct pz_itv a);
Z3_ast pz_itv_contains(const struct pz *z, struct pz_itv a, Z3_ast x);
Z3_ast pz_aval_contains(const struct pz *z, struct pz_aval a, Z3_ast x);

/* ---- mirrors of verifier/tnum.c ---- */
struct pz_tnum pz_tnum_const(const struct pz *z, Z3_ast v);
struct pz_tnum pz_tnum_unknown(const struct pz *z);
struct pz_tnum pz_tnum_range(const struct pz *z, Z3_ast lo, Z3_ast hi);
struct pz_tnum pz_tnum_join(const struct pz *z, struct pz_tnum a, struct pz_tnum b);
/* *empty: Bool term (may be NULL). */
struct pz_tnum pz_tnum_meet(const struct pz *z, struct pz_tnum a, struct pz_tnum b,
			    Z3_ast *empty);
/* Binary ALU operator by opcode (a VFM_ALU2 row), unary (VFM_ALU1); the
 * mirrors are named after the rows (pz_tnum_ADD, ...) as in tnum.c. */
struct pz_tnum pz_tnum_alu2(const struct pz *z, uint8_t opcode, struct pz_tnum a,
			    struct pz_tnum b);
struct pz_tnum pz_tnum_alu1(const struct pz *z, uint8_t opcode, struct pz_tnum a);

/* ---- mirrors of verifier/interval.c ---- */
struct pz_itv pz_itv_const(const struct pz *z, Z3_ast v);
struct pz_itv pz_itv_full(const struct pz *z);
struct pz_itv pz_itv_join(const struct pz *z, struct pz_itv a, struct pz_itv b);
struct pz_itv pz_itv_meet(const struct pz *z, struct pz_itv a, struct pz_itv b,
			  Z3_ast *empty);
struct pz_itv pz_itv_alu2(const struct pz *z, uint8_t opcode, struct pz_itv a,
			  struct pz_itv b);
struct pz_itv pz_itv_alu1(const struct pz *z, uint8_t opcode, struct pz_itv a);
struct pz_itv pz_itv_widen(const struct pz *z, struct pz_itv prev, struct pz_itv next,
			   const Z3_ast *thresholds, unsigned n);

/* ---- mirrors of verifier/aval.c ---- */
/* dom_av_next_member / dom_av_prev_member: the least member of t >= x,
 * the greatest <= x; *ok: Bool "there is one". */
Z3_ast pz_next_member(const struct pz *z, struct pz_tnum t, Z3_ast x, Z3_ast *ok);
Z3_ast pz_prev_member(const struct pz *z, struct pz_tnum t, Z3_ast x, Z3_ast *ok);
struct pz_aval pz_aval_const(const struct pz *z, Z3_ast v);
struct pz_aval pz_aval_reduce(const struct pz *z, struct pz_aval a, Z3_ast *empty);
struct pz_aval pz_aval_join(const struct pz *z, struct pz_aval a, struct pz_aval b);
/* dom_av_result: the reduced pair, or the pair itself if it has no member. */
struct pz_aval pz_aval_result(const struct pz *z, struct pz_itv itv, struct pz_tnum t);
struct pz_aval pz_aval_alu2(const struct pz *z, uint8_t opcode, struct pz_aval a,
			    struct pz_aval b);
struct pz_aval pz_aval_alu1(const struct pz *z, uint8_t opcode, struct pz_aval a);
/* dom_av_narrow: narrow x and y to the pairs with x REL y (GT and GE as
 * LT and LE swapped); returns the Bool "pairs remain".  The relation of a
 * jump's edge comes from its JCC row (vfm_jcc_rel). */
Z3_ast pz_aval_narrow(const struct pz *z, enum vfm_rel rel, struct pz_aval *x,
		      struct pz_aval *y);
/* Returns the Bool "edge feasible"; *a and *b as the C function leaves them. */
Z3_ast pz_aval_refine(const struct pz *z, uint8_t opcode, bool taken, struct pz_aval *a,
		      struct pz_aval *b);

#endif
