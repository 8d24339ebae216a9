/*
 * verifier/z3/z3cbpf.c — translation validation for classic BPF: can a
 * VFM program and a cBPF program return different verdicts on some packet?
 *
 * The VFM side is the cross-check's encoding (z3encode.c).  The cBPF side
 * is encoded here, separately, from libpcap's bpf_filter semantics (the
 * rules docs/CBPF.md states), never from the translator in vm/cbpf.c, so
 * that a translation bug shows as a difference:
 *   - A, X and M[0..15] are 32-bit, zero at entry;
 *   - loads read the same packet (big-endian) and end the program with
 *     verdict 0 when out of bounds: ld [k] needs k + size <= buflen,
 *     ld [x + k] needs x + k + size <= buflen (no wrap-around), ldx
 *     4*([k]&0xf) needs k < buflen; `len` is the wire length;
 *   - DIV and MOD by X = 0 end the program with verdict 0; shifts by X of
 *     32 or more give 0; arithmetic wraps at 32 bits;
 *   - jumps are forward (jt/jf and ja offsets count from the next
 *     instruction); a backward ja is not encoded (the check says so);
 *   - `ret #k` returns k, `ret a` returns A.
 * Both sides see one packet: length len <= max_len, bytes, and a wire
 * length wire_len != 0 (what bpf_filter's wirelen is; VFM's WLEN reads it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "z3_internal.h"

/* cBPF opcode fields (pcap/bpf.h; fixed by the format, restated so the
 * encoding does not depend on a header). */
#define C_CLASS(c) ((c)&0x07)
#define C_SIZE(c) ((c)&0x18)
#define C_MODE(c) ((c)&0xe0)
#define C_OP(c) ((c)&0xf0)
#define C_SRC(c) ((c)&0x08)
#define C_RVAL(c) ((c)&0x18)
#define C_MISCOP(c) ((c)&0xf8)
enum { C_LD = 0, C_LDX = 1, C_ST = 2, C_STX = 3, C_ALU = 4, C_JMP = 5, C_RET = 6, C_MISC = 7 };
enum { C_W = 0x00, C_H = 0x08, C_B = 0x10 };
enum { C_IMM = 0x00, C_ABS = 0x20, C_IND = 0x40, C_MEM = 0x60, C_LEN = 0x80, C_MSH = 0xa0 };
enum {
	C_ADD = 0x00, C_SUB = 0x10, C_MUL = 0x20, C_DIV = 0x30, C_OR = 0x40, C_AND = 0x50,
	C_LSH = 0x60, C_RSH = 0x70, C_NEG = 0x80, C_MOD = 0x90, C_XOR = 0xa0,
};
enum { C_JA = 0x00, C_JEQ = 0x10, C_JGT = 0x20, C_JGE = 0x30, C_JSET = 0x40 };
enum { C_K = 0x00, C_X = 0x08, C_A = 0x10 };
enum { C_TAX = 0x00, C_TXA = 0x80 };
#define C_MEMWORDS 16

/* The cBPF machine state on entry to an instruction: reach condition and
 * registers; paths that meet are merged with if-then-else. */
struct cstate {
	Z3_ast reach; /* NULL: not reached */
	Z3_ast a, x, m[C_MEMWORDS];
};

struct cenc {
	struct zc *z;
	const struct vfm_z3_cbpf_insn *p;
	size_t n;
	struct cstate *st;
	Z3_ast verdict; /* 32-bit: what the paths seen so far return */
	Z3_ast wire32;
	const char *error;
	size_t error_pc;
};

static Z3_ast b32(struct cenc *e, uint32_t v)
{
	return num_w(e->z, v, 32);
}

/* Join state s into instruction t's entry under condition cond. */
static void flow_to(struct cenc *e, size_t t, Z3_ast cond, const struct cstate *s)
{
	struct zc *z = e->z;
	struct cstate *d = &e->st[t];
	Z3_ast r = mk_and2(z, s->reach, cond);
	if (r == z->fal)
		return;
	if (!d->reach) {
		d->reach = r;
		d->a = s->a;
		d->x = s->x;
		memcpy(d->m, s->m, sizeof d->m);
		return;
	}
	Z3_context c = z->c;
	d->a = Z3_mk_ite(c, r, s->a, d->a);
	d->x = Z3_mk_ite(c, r, s->x, d->x);
	for (int w = 0; w < C_MEMWORDS; w++)
		if (s->m[w] != d->m[w])
			d->m[w] = Z3_mk_ite(c, r, s->m[w], d->m[w]);
	d->reach = mk_or2(z, d->reach, r);
}

/* The path ends here with verdict v under condition cond. */
static void ret_with(struct cenc *e, Z3_ast cond, Z3_ast v)
{
	e->verdict = Z3_mk_ite(e->z->c, cond, v, e->verdict);
}

/* size bytes at 32-bit address addr (64-bit term), big-endian, as 32 bits. */
static Z3_ast load(struct cenc *e, Z3_ast addr64, unsigned size)
{
	struct zc *z = e->z;
	Z3_ast addr = Z3_mk_extract(z->c, 31, 0, addr64);
	Z3_ast v = NULL;
	for (unsigned j = 0; j < size; j++) {
		Z3_ast a = j ? Z3_mk_bvadd(z->c, addr, num_w(z, j, 32)) : addr;
		Z3_ast byte = Z3_mk_app(z->c, z->pkt, 1, &a);
		v = v ? Z3_mk_concat(z->c, v, byte) : byte;
	}
	return size < 4 ? Z3_mk_zero_ext(z->c, 32 - 8 * size, v) : v;
}

static Z3_ast ext64(struct cenc *e, Z3_ast v32)
{
	return Z3_mk_zero_ext(e->z->c, 32, v32);
}

static void fail_at(struct cenc *e, size_t pc, const char *why)
{
	if (!e->error) {
		e->error = why;
		e->error_pc = pc;
	}
}

#define FAIL(why)                   \
	do {                        \
		fail_at(e, pc, why); \
		return;             \
	} while (0)

/* One instruction: its effect on the state, its successors. */
static void cstep(struct cenc *e, size_t pc)
{
	struct zc *z = e->z;
	Z3_context c = z->c;
	const struct vfm_z3_cbpf_insn *in = &e->p[pc];
	struct cstate s = e->st[pc];
	uint16_t code = in->code;
	uint32_t k = in->k;
	Z3_ast len64 = z->len64;
	switch (C_CLASS(code)) {
	case C_LD:
	case C_LDX: {
		bool ldx = C_CLASS(code) == C_LDX;
		unsigned size = C_SIZE(code) == C_W ? 4 : C_SIZE(code) == C_H ? 2 : 1;
		Z3_ast v;
		switch (C_MODE(code)) {
		case C_IMM:
			v = b32(e, k);
			break;
		case C_LEN:
			v = e->wire32;
			break;
		case C_MEM:
			if (k >= C_MEMWORDS)
				FAIL("scratch index out of range");
			v = s.m[k];
			break;
		case C_ABS:
		case C_IND:
		case C_MSH: {
			if (ldx && C_MODE(code) != C_MSH && C_MODE(code) != C_IMM)
				FAIL("ldx with this addressing mode is not cBPF");
			if (!ldx && C_MODE(code) == C_MSH)
				FAIL("ld with msh addressing is not cBPF");
			Z3_ast off = num64(z, k);
			if (C_MODE(code) == C_IND)
				off = Z3_mk_bvadd(c, off, ext64(e, s.x));
			Z3_ast end = Z3_mk_bvadd(c, off, num64(z, C_MODE(code) == C_MSH ? 1 : size));
			Z3_ast ok = Z3_mk_bvule(c, end, len64);
			ret_with(e, mk_and2(z, s.reach, mk_not(z, ok)), b32(e, 0));
			s.reach = mk_and2(z, s.reach, ok);
			if (C_MODE(code) == C_MSH) {
				Z3_ast byte = load(e, off, 1);
				v = Z3_mk_bvshl(c, Z3_mk_bvand(c, byte, b32(e, 0xf)), b32(e, 2));
			} else {
				v = load(e, off, size);
			}
			break;
		}
		default:
			FAIL("unknown load mode");
		}
		if (ldx)
			s.x = v;
		else
			s.a = v;
		break;
	}
	case C_ST:
	case C_STX:
		if (k >= C_MEMWORDS)
			FAIL("scratch index out of range");
		s.m[k] = C_CLASS(code) == C_ST ? s.a : s.x;
		break;
	case C_ALU: {
		Z3_ast b = C_SRC(code) == C_X ? s.x : b32(e, k);
		Z3_ast zero = b32(e, 0);
		Z3_ast b_zero = Z3_mk_eq(c, b, zero);
		switch (C_OP(code)) {
		case C_ADD: s.a = Z3_mk_bvadd(c, s.a, b); break;
		case C_SUB: s.a = Z3_mk_bvsub(c, s.a, b); break;
		case C_MUL: s.a = Z3_mk_bvmul(c, s.a, b); break;
		case C_OR: s.a = Z3_mk_bvor(c, s.a, b); break;
		case C_AND: s.a = Z3_mk_bvand(c, s.a, b); break;
		case C_XOR: s.a = Z3_mk_bvxor(c, s.a, b); break;
		case C_NEG: s.a = Z3_mk_bvneg(c, s.a); break;
		case C_DIV:
		case C_MOD:
			/* bpf_filter: by X = 0 the program returns 0 (by a
			 * constant 0 bpf_validate refuses it). */
			ret_with(e, mk_and2(z, s.reach, b_zero), zero);
			s.reach = mk_and2(z, s.reach, mk_not(z, b_zero));
			s.a = C_OP(code) == C_DIV ? Z3_mk_bvudiv(c, s.a, b) : Z3_mk_bvurem(c, s.a, b);
			break;
		case C_LSH:
		case C_RSH: {
			Z3_ast big = Z3_mk_bvuge(c, b, b32(e, 32));
			Z3_ast r = C_OP(code) == C_LSH ? Z3_mk_bvshl(c, s.a, b) : Z3_mk_bvlshr(c, s.a, b);
			s.a = Z3_mk_ite(c, big, zero, r); /* Z3's shifts give 0 too; explicit */
			break;
		}
		default:
			FAIL("unknown ALU operation");
		}
		break;
	}
	case C_JMP: {
		if (C_OP(code) == C_JA) {
			size_t t = pc + 1 + (size_t)k;
			if ((uint64_t)pc + 1 + k >= e->n)
				FAIL("ja leaves the program or jumps backward (not encoded)");
			flow_to(e, t, z->tru, &s);
			return;
		}
		Z3_ast b = C_SRC(code) == C_X ? s.x : b32(e, k), cond;
		switch (C_OP(code)) {
		case C_JEQ: cond = Z3_mk_eq(c, s.a, b); break;
		case C_JGT: cond = Z3_mk_bvugt(c, s.a, b); break;
		case C_JGE: cond = Z3_mk_bvuge(c, s.a, b); break;
		case C_JSET: cond = mk_not(z, Z3_mk_eq(c, Z3_mk_bvand(c, s.a, b), b32(e, 0))); break;
		default:
			FAIL("unknown jump");
		}
		size_t tt = pc + 1 + in->jt, tf = pc + 1 + in->jf;
		if (tt >= e->n || tf >= e->n)
			FAIL("jump target past the end");
		flow_to(e, tt, cond, &s);
		flow_to(e, tf, mk_not(z, cond), &s);
		return;
	}
	case C_RET:
		switch (C_RVAL(code)) {
		case C_K: ret_with(e, s.reach, b32(e, k)); return;
		case C_A: ret_with(e, s.reach, s.a); return;
		default: FAIL("ret x is not implemented by bpf_filter");
		}
	case C_MISC:
		if (C_MISCOP(code) == C_TAX)
			s.x = s.a;
		else if (C_MISCOP(code) == C_TXA)
			s.a = s.x;
		else
			FAIL("unknown misc operation");
		break;
	}
	if (pc + 1 >= e->n)
		FAIL("falls off the end");
	flow_to(e, pc + 1, z->tru, &s);
}

/* The VFM program's verdict (32 bits, saturated as RET does); 0 on paths
 * that end out of bounds. */
static Z3_ast vfm_verdict(struct zc *z)
{
	Z3_context c = z->c;
	Z3_ast v = num_w(z, 0, 32), max = num64(z, 0xFFFFFFFFu);
	for (uint32_t p = 0; p < z->n_visited; p++) {
		const struct znode *nd = &z->nodes[z->visit[p]];
		if (!nd->ret)
			continue;
		Z3_ast sat = Z3_mk_ite(c, Z3_mk_bvugt(c, nd->ret, max), num_w(z, 0xFFFFFFFFu, 32),
				       Z3_mk_extract(c, 31, 0, nd->ret));
		v = Z3_mk_ite(c, nd->reach, sat, v);
	}
	return v;
}

static uint32_t eval32(struct zc *z, Z3_model m, Z3_ast t)
{
	return (uint32_t)vfm_z3i_eval_u64(z, m, t);
}

vfm_error_t vfm_z3_equiv_cbpf(const vfm_program_t *prog, const struct vfm_z3_cbpf_insn *insns,
			      size_t n, uint32_t max_len, uint32_t timeout_ms,
			      struct vfm_z3_equiv *out)
{
	if (!out)
		return VFM_EINVAL;
	memset(out, 0, sizeof *out);
	out->result = VFM_Z3_EQUIV_UNKNOWN;
	out->max_len = max_len;
	if (!prog || !insns || n == 0) {
		snprintf(out->error, sizeof out->error, "no program");
		return VFM_EINVAL;
	}
	double t0 = vfm_z3i_now();
	struct vfm_z3_report rep;
	memset(&rep, 0, sizeof rep);
	struct zc z = {.prog = prog, .f = &prog->facts, .rep = &rep, .n = prog->n_insns};
	vfm_z3_options_init(&z.opt);
	z.opt.timeout_ms = timeout_ms;
	struct cenc e = {.z = &z, .p = insns, .n = n};
	vfm_error_t err = vfm_z3i_setup(&z);
	if (err == VFM_OK)
		err = vfm_z3i_encode(&z);
	if (err != VFM_OK)
		goto done;
	Z3_context c = z.c;
	e.st = calloc(n, sizeof *e.st);
	if (!e.st) {
		err = VFM_ENOMEM;
		goto done;
	}
	e.wire32 = z.wire_in;
	e.verdict = num_w(&z, 0, 32);
	struct cstate *s0 = &e.st[0];
	s0->reach = z.tru;
	s0->a = s0->x = num_w(&z, 0, 32);
	for (int w = 0; w < C_MEMWORDS; w++)
		s0->m[w] = s0->a;
	for (size_t pc = 0; pc < n && !e.error; pc++)
		if (e.st[pc].reach)
			cstep(&e, pc);
	if (e.error) {
		snprintf(out->error, sizeof out->error, "cBPF instruction %zu: %s", e.error_pc,
			 e.error);
		err = VFM_EUNSUPPORTED;
		goto done;
	}
	Z3_ast vv = vfm_verdict(&z);
	Z3_ast pre[4] = {
		Z3_mk_bvule(c, z.len32, num_w(&z, max_len, 32)),
		mk_not(&z, Z3_mk_eq(c, z.wire_in, num_w(&z, 0, 32))),
		mk_not(&z, mk_orn(&z, z.cut, z.n_cut)),
		mk_not(&z, Z3_mk_eq(c, vv, e.verdict)),
	};
	out->bounded = z.n_cut > 0;
	Z3_model m = NULL;
	Z3_lbool r = vfm_z3i_solve(&z, Z3_mk_and(c, 4, pre), &m, timeout_ms, "cBPF equivalence");
	if (vfm_z3i_failed(&z)) {
		snprintf(out->error, sizeof out->error, "%s", rep.error);
		err = VFM_EUNSUPPORTED;
	} else if (r == Z3_L_FALSE) {
		out->result = VFM_Z3_EQUIV_EQUAL;
	} else if (r == Z3_L_TRUE) {
		out->result = VFM_Z3_EQUIV_DIFFERENT;
		out->len = eval32(&z, m, z.len32);
		out->wire_len = eval32(&z, m, z.wire_in);
		out->vfm_verdict = eval32(&z, m, vv);
		out->cbpf_verdict = eval32(&z, m, e.verdict);
		out->n_bytes = out->len < VFM_Z3_CEX_BYTES ? out->len : VFM_Z3_CEX_BYTES;
		for (uint32_t j = 0; j < out->n_bytes; j++) {
			Z3_ast a = num_w(&z, j, 32);
			out->bytes[j] = (uint8_t)vfm_z3i_eval_u64(&z, m, Z3_mk_app(c, z.pkt, 1, &a));
		}
		Z3_model_dec_ref(c, m);
	}
done:
	if (err == VFM_ENOMEM && !out->error[0])
		snprintf(out->error, sizeof out->error, "out of memory");
	if (err != VFM_OK && !out->error[0] && rep.error[0])
		snprintf(out->error, sizeof out->error, "%s", rep.error);
	free(e.st);
	vfm_z3i_teardown(&z);
	vfm_z3_report_free(&rep);
	out->seconds = vfm_z3i_now() - t0;
	return err;
}
