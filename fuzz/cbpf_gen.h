/*
 * fuzz/cbpf_gen.h — shared by fuzz/fuzz_cbpf.c and tests/test_cbpf.c:
 *
 *   - a choice source (bytes from the fuzzer, then a PRNG);
 *   - a generator of classic BPF programs that libpcap's bpf_validate
 *     accepts and bpf_filter implements (backward `ja` included, rarely);
 *   - a generator of pcap-filter expressions from a small grammar;
 *   - a reference interpreter of libpcap 1.10's bpf_filter, written from
 *     its source, that also says *why* it returned (RET, out-of-bounds
 *     load, division by 0) and counts backward jumps, so that the harness
 *     calls the real bpf_filter only on programs that terminate (libpcap
 *     1.10 has no loop limit: `ja -1` spins forever).
 *
 * Header-only (static functions), no VFM or libpcap dependency.
 */
#ifndef VFM_CBPF_GEN_H
#define VFM_CBPF_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cbpf_gen_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

/* ---- choice source ------------------------------------------------------- */

struct cbpf_src {
	const uint8_t *p;
	size_t n;
	uint64_t rng;
};

static inline uint64_t cbpf_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static inline uint32_t cbpf_src_u8(struct cbpf_src *s)
{
	if (s->n) {
		s->n--;
		return *s->p++;
	}
	return (uint32_t)(cbpf_splitmix(&s->rng) & 0xff);
}

/* Uniform-ish choice in [0, n). */
static inline uint32_t cbpf_src_below(struct cbpf_src *s, uint32_t n)
{
	if (n <= 1)
		return 0;
	uint32_t v = cbpf_src_u8(s);
	if (n > 256)
		v = v << 8 | cbpf_src_u8(s);
	if (n > 65536)
		v = v << 16 | (cbpf_src_u8(s) << 8 | cbpf_src_u8(s));
	return v % n;
}

static inline uint32_t cbpf_src_u32(struct cbpf_src *s)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | cbpf_src_u8(s);
	return v;
}

/* ---- programs -------------------------------------------------------------- */

/* Every opcode bpf_filter (libpcap 1.10) implements. */
static const uint16_t cbpf_gen_opcodes[] = {
	0x06, 0x16,                         /* ret #k, ret a */
	0x20, 0x28, 0x30,                   /* ld/ldh/ldb [k] */
	0x80, 0x81,                         /* ld #len, ldx #len */
	0x40, 0x48, 0x50,                   /* ld/ldh/ldb [x+k] */
	0xb1,                               /* ldxb 4*([k]&0xf) */
	0x00, 0x01, 0x60, 0x61, 0x02, 0x03, /* ld #k, ldx #k, ld M, ldx M, st, stx */
	0x05,                               /* ja */
	0x15, 0x25, 0x35, 0x45,             /* jeq/jgt/jge/jset #k */
	0x1d, 0x2d, 0x3d, 0x4d,             /* ... x */
	0x04, 0x14, 0x24, 0x34, 0x94, 0x54, 0x44, 0xa4, 0x64, 0x74, /* alu #k */
	0x0c, 0x1c, 0x2c, 0x3c, 0x9c, 0x5c, 0x4c, 0xac, 0x6c, 0x7c, /* alu x */
	0x84, 0x07, 0x87,                   /* neg, tax, txa */
};
#define CBPF_GEN_N_OPCODES (sizeof cbpf_gen_opcodes / sizeof cbpf_gen_opcodes[0])

static const uint32_t cbpf_gen_values[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17, 20, 23, 31, 32, 33,
	40, 54, 60, 63, 64, 80, 0x800, 0x86dd, 0x8100, 0xff, 0x100, 0xffff,
	0x10000, 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu, 0xfffffff0u,
	0x1fff, 0x45, 0xffe00000u, 0xfff00000u,
};

static uint32_t cbpf_gen_value(struct cbpf_src *s)
{
	switch (cbpf_src_below(s, 4)) {
	case 0:
		return cbpf_src_u32(s);
	case 1:
		return cbpf_src_u8(s);
	default:
		return cbpf_gen_values[cbpf_src_below(
			s, sizeof cbpf_gen_values / sizeof cbpf_gen_values[0])];
	}
}

/* Packet offsets: mostly inside typical headers, sometimes anything (but
 * never Linux's negative offsets, which the translation refuses). */
static uint32_t cbpf_gen_offset(struct cbpf_src *s)
{
	uint32_t r = cbpf_src_below(s, 16);
	if (r < 12)
		return cbpf_src_below(s, 80);
	if (r < 14)
		return cbpf_src_below(s, 1600);
	uint32_t v = cbpf_gen_value(s);
	return v >= 0xffe00000u ? v - 0x00200000u : v;
}

/*
 * libpcap 1.10's bpf_filter does not zero M[] (libpcap's master branch
 * does; VFM does): a read of a scratch word no path has written returns
 * stack garbage.  cbpf_gen_unsafe_reads finds such reads with a forward
 * must-be-written analysis (to a fixed point, because of backward `ja`):
 * it sets unsafe[i] = 1 for every reachable `ld M[k]` / `ldx M[k]` that may
 * see an unwritten word and returns how many there are (-1: out of
 * memory).  A program without one gives the same result whether M[] starts
 * as garbage or as zeros, so bpf_filter can judge it.
 */
static int cbpf_gen_unsafe_reads(const struct cbpf_gen_insn *prog, size_t n,
				 uint8_t *unsafe)
{
	/* in[i]: words written on every path to i (bit k = M[k]). */
	uint16_t *in = malloc((n ? n : 1) * sizeof *in);
	uint8_t *reached = calloc(n ? n : 1, 1);
	if (!in || !reached) {
		free(in);
		free(reached);
		return -1;
	}
	in[0] = 0;
	reached[0] = n > 0;
	for (int stable = 0; !stable;) {
		stable = 1;
		for (size_t i = 0; i < n; i++) {
			if (!reached[i])
				continue;
			const struct cbpf_gen_insn *p = &prog[i];
			uint16_t out = in[i];
			if (p->code == 0x02 || p->code == 0x03)
				out |= (uint16_t)(1u << (p->k & 15));
			int64_t succ[2];
			int ns = 0;
			if ((p->code & 0x07) == 0x06) {
				/* return: no successor */
			} else if (p->code == 0x05) {
				succ[ns++] = (int64_t)i + 1 + (int32_t)p->k;
			} else if ((p->code & 0x07) == 0x05) {
				succ[ns++] = (int64_t)i + 1 + p->jt;
				succ[ns++] = (int64_t)i + 1 + p->jf;
			} else {
				succ[ns++] = (int64_t)i + 1;
			}
			for (int j = 0; j < ns; j++) {
				if (succ[j] < 0 || succ[j] >= (int64_t)n)
					continue;
				size_t t = (size_t)succ[j];
				uint16_t v = reached[t] ? (uint16_t)(in[t] & out) : out;
				if (!reached[t] || v != in[t]) {
					in[t] = v;
					reached[t] = 1;
					stable = 0;
				}
			}
		}
	}
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cbpf_gen_insn *p = &prog[i];
		unsafe[i] = reached[i] && (p->code == 0x60 || p->code == 0x61) &&
			    !(in[i] & (1u << (p->k & 15)));
		count += unsafe[i];
	}
	free(in);
	free(reached);
	return count;
}

/* Turn every unsafe read into a write of the same word (ld M[k] -> st
 * M[k], ldx M[k] -> stx M[k]) until none is left.  Returns the number of
 * instructions changed. */
static unsigned cbpf_gen_fix_scratch(struct cbpf_gen_insn *prog, size_t n)
{
	uint8_t unsafe[256];
	unsigned changed = 0;
	if (n > sizeof unsafe)
		return 0;
	while (cbpf_gen_unsafe_reads(prog, n, unsafe) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (unsafe[i]) {
				prog[i].code = prog[i].code == 0x60 ? 0x02 : 0x03;
				changed++;
			}
		}
	}
	return changed;
}

/* Generate a program of at most max_len instructions into out; returns the
 * length.  Every program passes bpf_validate and uses only opcodes that
 * bpf_filter implements, with constant shifts below 32 and no constant
 * division by 0, and no read of a scratch word before a write of it
 * (cbpf_gen_fix_scratch).  back_pct: the percentage of `ja` that go
 * backward. */
static size_t cbpf_gen_program(struct cbpf_src *s, struct cbpf_gen_insn *out,
			       size_t max_len, unsigned back_pct)
{
	size_t len = 1 + cbpf_src_below(s, (uint32_t)max_len);
	for (size_t i = 0; i + 1 < len; i++) {
		struct cbpf_gen_insn *p = &out[i];
		uint16_t c = cbpf_gen_opcodes[cbpf_src_below(s, CBPF_GEN_N_OPCODES)];
		p->code = c;
		p->jt = p->jf = 0;
		p->k = 0;
		uint32_t room = (uint32_t)(len - 2 - i); /* forward offsets allowed */
		switch (c) {
		case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50:
		case 0xb1:
			p->k = cbpf_gen_offset(s);
			break;
		case 0x60: case 0x61: case 0x02: case 0x03:
			p->k = cbpf_src_below(s, 16);
			break;
		case 0x05:
			if (cbpf_src_below(s, 100) < back_pct) {
				/* target i + 1 - m, m in [1, i + 1] (m = 1: itself) */
				uint32_t m = 1 + cbpf_src_below(s, (uint32_t)i + 1);
				p->k = (uint32_t)-(int32_t)m;
			} else {
				p->k = cbpf_src_below(s, room + 1);
			}
			break;
		case 0x15: case 0x25: case 0x35: case 0x45:
		case 0x1d: case 0x2d: case 0x3d: case 0x4d:
			p->jt = (uint8_t)cbpf_src_below(s, room + 1 > 256 ? 256 : room + 1);
			p->jf = (uint8_t)cbpf_src_below(s, room + 1 > 256 ? 256 : room + 1);
			p->k = cbpf_gen_value(s);
			break;
		case 0x64: case 0x74:
			p->k = cbpf_src_below(s, 32);
			break;
		case 0x34: case 0x94:
			p->k = cbpf_gen_value(s);
			if (p->k == 0)
				p->k = 1 + cbpf_src_below(s, 255);
			break;
		default:
			p->k = cbpf_gen_value(s);
			break;
		}
	}
	struct cbpf_gen_insn *last = &out[len - 1];
	last->code = cbpf_src_below(s, 2) ? 0x16 : 0x06;
	last->jt = last->jf = 0;
	last->k = cbpf_src_below(s, 2) ? cbpf_gen_value(s) : 0;
	cbpf_gen_fix_scratch(out, len);
	return len;
}

/* ---- reference bpf_filter (libpcap 1.10) ---------------------------------- */

enum cbpf_ref_end {
	CBPF_REF_RET,    /* a return instruction */
	CBPF_REF_OOB,    /* an out-of-bounds packet load: 0 */
	CBPF_REF_DIV0,   /* division or modulo by X == 0: 0 */
	CBPF_REF_LOOP,   /* more than max_back backward jumps (stopped) */
	CBPF_REF_BADOP,  /* an opcode bpf_filter does not implement */
};

static inline uint32_t cbpf_ref_be(const uint8_t *p, uint32_t k, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | p[k + i];
	return v;
}

/* Run a validated program; *verdict is bpf_filter's return value unless
 * the result is CBPF_REF_LOOP or CBPF_REF_BADOP. */
static enum cbpf_ref_end cbpf_ref_run(const struct cbpf_gen_insn *prog, size_t n,
				      const uint8_t *pkt, uint32_t wirelen,
				      uint32_t buflen, uint64_t max_back,
				      uint32_t *verdict, uint64_t *backs)
{
	uint32_t A = 0, X = 0, mem[16] = {0};
	uint64_t back = 0;
	*verdict = 0;
	for (size_t pc = 0; pc < n; pc++) {
		const struct cbpf_gen_insn *p = &prog[pc];
		uint32_t k = p->k;
		switch (p->code) {
		case 0x06: *verdict = k; *backs = back; return CBPF_REF_RET;
		case 0x16: *verdict = A; *backs = back; return CBPF_REF_RET;
		case 0x20: case 0x28: case 0x30: {
			unsigned sz = p->code == 0x20 ? 4 : p->code == 0x28 ? 2 : 1;
			if (k > buflen || sz > buflen - k)
				goto oob;
			A = cbpf_ref_be(pkt, k, sz);
			break;
		}
		case 0x80: A = wirelen; break;
		case 0x81: X = wirelen; break;
		case 0x40: case 0x48: case 0x50: {
			unsigned sz = p->code == 0x40 ? 4 : p->code == 0x48 ? 2 : 1;
			uint64_t off = (uint64_t)X + k;
			if (off > buflen || sz > buflen - off)
				goto oob;
			A = cbpf_ref_be(pkt, (uint32_t)off, sz);
			break;
		}
		case 0xb1:
			if (k >= buflen)
				goto oob;
			X = (uint32_t)(pkt[k] & 0xf) << 2;
			break;
		case 0x00: A = k; break;
		case 0x01: X = k; break;
		case 0x60: A = mem[k & 15]; break;
		case 0x61: X = mem[k & 15]; break;
		case 0x02: mem[k & 15] = A; break;
		case 0x03: mem[k & 15] = X; break;
		case 0x05:
			if ((int32_t)k < 0 && ++back > max_back) {
				*backs = back;
				return CBPF_REF_LOOP;
			}
			pc += (size_t)(int64_t)(int32_t)k;
			break;
		case 0x15: pc += A == k ? p->jt : p->jf; break;
		case 0x25: pc += A > k ? p->jt : p->jf; break;
		case 0x35: pc += A >= k ? p->jt : p->jf; break;
		case 0x45: pc += (A & k) ? p->jt : p->jf; break;
		case 0x1d: pc += A == X ? p->jt : p->jf; break;
		case 0x2d: pc += A > X ? p->jt : p->jf; break;
		case 0x3d: pc += A >= X ? p->jt : p->jf; break;
		case 0x4d: pc += (A & X) ? p->jt : p->jf; break;
		case 0x04: A += k; break;
		case 0x14: A -= k; break;
		case 0x24: A *= k; break;
		case 0x34: A /= k; break; /* k != 0 by validation */
		case 0x94: A %= k; break;
		case 0x54: A &= k; break;
		case 0x44: A |= k; break;
		case 0xa4: A ^= k; break;
		case 0x64: A = k < 32 ? A << k : 0; break;
		case 0x74: A = k < 32 ? A >> k : 0; break;
		case 0x0c: A += X; break;
		case 0x1c: A -= X; break;
		case 0x2c: A *= X; break;
		case 0x3c: if (X == 0) goto div0; A /= X; break;
		case 0x9c: if (X == 0) goto div0; A %= X; break;
		case 0x5c: A &= X; break;
		case 0x4c: A |= X; break;
		case 0xac: A ^= X; break;
		case 0x6c: A = X < 32 ? A << X : 0; break;
		case 0x7c: A = X < 32 ? A >> X : 0; break;
		case 0x84: A = 0u - A; break;
		case 0x07: X = A; break;
		case 0x87: A = X; break;
		default: *backs = back; return CBPF_REF_BADOP;
		}
	}
	*backs = back;
	return CBPF_REF_BADOP; /* fell off the end: bpf_validate rules it out */
oob:
	*backs = back;
	return CBPF_REF_OOB;
div0:
	*backs = back;
	return CBPF_REF_DIV0;
}

/* ---- expressions ------------------------------------------------------------ */

/* Append to a bounded string. */
static void cbpf_cat(char *buf, size_t cap, const char *s)
{
	size_t l = strlen(buf);
	if (l + 1 < cap)
		snprintf(buf + l, cap - l, "%s", s);
}

static const char *const cbpf_gen_prims[] = {
	"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp",
	"vlan", "mpls", "broadcast", "multicast", "ip multicast", "ip6 multicast",
	"ether broadcast", "ether multicast", "ip broadcast", "llc", "stp", "ipx",
	"pppoed", "pppoes", "ether proto 0x88cc", "ip proto 47", "ip6 proto 58",
	"tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
	"icmp[icmptype] = icmp-echo", "icmp6[icmp6type] = icmp6-echo",
	"ip[6:2] & 0x1fff != 0", "ip[0] & 0xf > 5", "len - 14 > 100",
	"ip6 protochain 6", "protochain 17", "ip protochain 1",
};

static void cbpf_gen_number_prim(struct cbpf_src *s, char *buf, size_t cap)
{
	char t[160];
	static const char *const dirs[] = {"", "src ", "dst ", "src or dst ", "src and dst "};
	static const char *const protos[] = {"", "tcp ", "udp ", "sctp "};
	static const char *const ops[] = {"=", "!=", ">", "<", ">=", "<="};
	static const char *const arith[] = {"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"};
	static const char *const bases[] = {"ether", "ip", "ip6", "tcp", "udp", "icmp", "arp", "vlan"};
	const char *dir = dirs[cbpf_src_below(s, 5)];
	switch (cbpf_src_below(s, 12)) {
	case 0:
		snprintf(t, sizeof t, "%shost 10.%u.%u.%u", dir, cbpf_src_below(s, 3),
			 cbpf_src_below(s, 3), cbpf_src_below(s, 4));
		break;
	case 1:
		snprintf(t, sizeof t, "%snet %u.%u.0.0/%u", dir,
			 (unsigned[]){10, 172, 192, 8}[cbpf_src_below(s, 4)],
			 cbpf_src_below(s, 256), 8 + cbpf_src_below(s, 17));
		break;
	case 2:
		snprintf(t, sizeof t, "%s%sport %u", protos[cbpf_src_below(s, 4)], dir,
			 (unsigned[]){22, 53, 80, 443, 123, 8080, 0, 65535}[cbpf_src_below(s, 8)]);
		break;
	case 3: {
		unsigned lo = cbpf_src_below(s, 2000);
		snprintf(t, sizeof t, "%s%sportrange %u-%u", protos[cbpf_src_below(s, 4)], dir,
			 lo, lo + cbpf_src_below(s, 3000));
		break;
	}
	case 4:
		snprintf(t, sizeof t, "%s %u", cbpf_src_below(s, 2) ? "less" : "greater",
			 cbpf_src_below(s, 1600));
		break;
	case 5:
		snprintf(t, sizeof t, "vlan %u", cbpf_src_below(s, 4096));
		break;
	case 6:
		snprintf(t, sizeof t, "mpls %u", cbpf_src_below(s, 1 << 20));
		break;
	case 7:
		snprintf(t, sizeof t, "ip6 %shost 2001:db8::%x", dir, cbpf_src_below(s, 4));
		break;
	case 8:
		snprintf(t, sizeof t, "ether %shost 00:11:22:33:44:%02x", dir,
			 cbpf_src_below(s, 256));
		break;
	default: {
		/* byte-offset arithmetic: base[off:size] OP value ARITH ... */
		const char *b = bases[cbpf_src_below(s, 8)];
		unsigned sz = (unsigned[]){1, 2, 4}[cbpf_src_below(s, 3)];
		char idx[48];
		if (cbpf_src_below(s, 4) == 0)
			snprintf(idx, sizeof idx, "%s[%u] & 0xf", b, cbpf_src_below(s, 40));
		else
			snprintf(idx, sizeof idx, "%u", cbpf_src_below(s, 64));
		char rhs[48];
		if (cbpf_src_below(s, 3) == 0)
			snprintf(rhs, sizeof rhs, "%s[%u]", b, cbpf_src_below(s, 40));
		else
			snprintf(rhs, sizeof rhs, "%u", cbpf_gen_value(s) & 0xffff);
		snprintf(t, sizeof t, "%s[%s:%u] %s %s %s %u", b, idx, sz,
			 arith[cbpf_src_below(s, 10)], rhs, ops[cbpf_src_below(s, 6)],
			 cbpf_gen_value(s) & 0xfff);
		break;
	}
	}
	cbpf_cat(buf, cap, t);
}

static void cbpf_gen_expr_rec(struct cbpf_src *s, char *buf, size_t cap, int depth)
{
	uint32_t r = cbpf_src_below(s, depth > 3 ? 4 : 8);
	if (r < 2) {
		cbpf_cat(buf, cap, cbpf_gen_prims[cbpf_src_below(
			s, sizeof cbpf_gen_prims / sizeof cbpf_gen_prims[0])]);
	} else if (r < 4) {
		cbpf_gen_number_prim(s, buf, cap);
	} else if (r == 4) {
		cbpf_cat(buf, cap, "not ");
		cbpf_gen_expr_rec(s, buf, cap, depth + 1);
	} else {
		cbpf_cat(buf, cap, "(");
		cbpf_gen_expr_rec(s, buf, cap, depth + 1);
		cbpf_cat(buf, cap, r == 5 ? " or " : " and ");
		cbpf_gen_expr_rec(s, buf, cap, depth + 1);
		cbpf_cat(buf, cap, ")");
	}
}

/* A pcap-filter expression (may not compile: callers skip those). */
static void cbpf_gen_expr(struct cbpf_src *s, char *buf, size_t cap)
{
	buf[0] = '\0';
	cbpf_gen_expr_rec(s, buf, cap, 0);
}

#endif
