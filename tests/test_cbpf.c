/*
 * tests/test_cbpf.c — classic BPF → VFM (vm/cbpf.c, docs/CBPF.md) against
 * libpcap's own bpf_filter(): the exact verdict on every packet, on the
 * interpreter and on the JIT.
 *
 *   - validation: every rule, with its message and error code;
 *   - printing: vfm_cbpf_format against libpcap's bpf_image;
 *   - hand-written programs for every opcode and corner case (bounds, DIV
 *     and MOD by X = 0, shifts by X >= 32, 32-bit wrap, X + k indexed loads,
 *     ret #k, backward ja under the budget, scratch);
 *   - generated programs (fuzz/cbpf_gen.h, the fuzzer's generator) with a
 *     reference interpreter that also predicts the status;
 *   - pcap-filter expressions compiled by pcap_compile for Ethernet (with
 *     and without the optimizer) over the generated capture and mutated
 *     copies, and for DLT_RAW and DLT_LINUX_SLL on synthetic packets;
 *   - the file image: line table, the cBPF section, vfm_load_cbpf.
 *
 * Every packet lives in its own heap block of its exact size, so ASan
 * builds catch a read past it by either engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "vfm.h"
#include "../fuzz/cbpf_gen.h"
#if __has_include("../testkit/pktgen.h")
#include "../testkit/pktgen.h"
#else
#include "../tools/pktgen.h"
#endif

/* bpf_filter's wirelen: the packet length until VFM has a wire length. */
#define PKT_WIRE(p) ((p)->len)

_Static_assert(sizeof(vfm_cbpf_insn_t) == sizeof(struct bpf_insn),
	       "vfm_cbpf_insn_t has struct bpf_insn's layout");
_Static_assert(offsetof(vfm_cbpf_insn_t, k) == offsetof(struct bpf_insn, k),
	       "vfm_cbpf_insn_t.k");
_Static_assert(offsetof(vfm_cbpf_insn_t, jf) == offsetof(struct bpf_insn, jf),
	       "vfm_cbpf_insn_t.jf");

/* ---- packets ------------------------------------------------------------- */

struct tpkt {
	uint8_t *data; /* own block of exactly len bytes (NULL if 0) */
	uint32_t len, wire;
};

struct tpkts {
	struct tpkt *p;
	size_t n, cap;
};

static void pkts_add(struct tpkts *s, const uint8_t *data, uint32_t len, uint32_t wire)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->p = realloc(s->p, s->cap * sizeof *s->p);
		assert_non_null(s->p);
	}
	struct tpkt *t = &s->p[s->n++];
	t->data = len ? malloc(len) : NULL;
	if (len)
		memcpy(t->data, data, len);
	t->len = len;
	t->wire = wire < len ? len : wire;
}

static void pkts_free(struct tpkts *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->p[i].data);
	free(s->p);
	memset(s, 0, sizeof *s);
}

/* The generated capture plus mutated copies: truncations anywhere, byte
 * flips in the first 64 bytes (headers), and small synthetic packets. */
static void pkts_ethernet(struct tpkts *s, size_t count, uint64_t seed)
{
	struct pktgen_config cfg = {.seed = seed, .count = count};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&cfg, &set), 0);
	uint64_t rng = seed * 7919u + 1;
	uint8_t tmp[PKTGEN_MAX_FRAME];
	for (size_t i = 0; i < set.count; i++) {
		const struct pktgen_packet *g = &set.pkts[i];
		pkts_add(s, g->data, g->len, g->wire_len);
		uint64_t r = cbpf_splitmix(&rng);
		memcpy(tmp, g->data, g->len);
		switch (r % 3) {
		case 0: /* truncated */
			pkts_add(s, tmp, g->len ? (uint32_t)((r >> 8) % g->len) : 0, g->wire_len);
			break;
		case 1: /* 1-3 byte flips in the headers */
			for (unsigned f = 0; f < 1 + (r >> 8) % 3 && g->len; f++) {
				uint64_t q = cbpf_splitmix(&rng);
				tmp[q % (g->len < 64 ? g->len : 64)] ^= (uint8_t)(1u << ((q >> 8) % 8));
			}
			pkts_add(s, tmp, g->len, g->wire_len);
			break;
		default: /* a random byte anywhere */
			if (g->len)
				tmp[(r >> 8) % g->len] = (uint8_t)(r >> 40);
			pkts_add(s, tmp, g->len, g->wire_len);
			break;
		}
	}
	pktgen_free(&set);
	for (uint32_t len = 0; len < 70; len++) {
		for (uint32_t i = 0; i < len; i++)
			tmp[i] = (uint8_t)cbpf_splitmix(&rng);
		pkts_add(s, tmp, len, len);
	}
}

/* ---- engines and comparison --------------------------------------------- */

struct engines {
	vfm_state_t *vm[2];
	const char *name[2];
	int n;
};

static void engines_load(struct engines *e, const vfm_cbpf_insn_t *insns, size_t n,
			 const char *what)
{
	vfm_diag_t diag;
	vfm_program_t *prog;
	vfm_error_t err = vfm_program_from_cbpf(insns, n, NULL, &prog, &diag);
	if (err != VFM_OK)
		fail_msg("%s: translation failed: %s", what, diag.message);
	e->n = 0;
	e->vm[e->n] = vfm_create();
	e->name[e->n] = "interpreter";
	assert_int_equal(vfm_attach_program(e->vm[e->n], prog), VFM_OK);
	e->n++;
	vfm_state_t *jit = vfm_create();
	assert_int_equal(vfm_attach_program(jit, prog), VFM_OK);
	if (vfm_enable_jit(jit) == VFM_OK) {
		e->vm[e->n] = jit;
		e->name[e->n] = "JIT";
		e->n++;
	} else {
		vfm_destroy(jit);
	}
	vfm_program_release(prog);
}

static void engines_free(struct engines *e)
{
	for (int i = 0; i < e->n; i++)
		vfm_destroy(e->vm[i]);
	e->n = 0;
}

static uint64_t g_runs, g_mismatches;
/* Compare with the reference only: for programs that read a scratch word
 * before writing it, which libpcap 1.10's bpf_filter leaves uninitialised
 * (stack garbage); VFM, like later libpcap, reads 0. */
static int g_ref_only;

static void dump_prog(const vfm_cbpf_insn_t *insns, size_t n)
{
	char line[160];
	for (size_t i = 0; i < n; i++) {
		vfm_cbpf_format(&insns[i], (uint32_t)i, line, sizeof line);
		print_message("    %s\n", line);
	}
}

/*
 * Run one program over packets on bpf_filter, the reference and every VFM
 * engine.  The reference runs first: programs whose backward jumps exceed
 * the VM budget are not given to bpf_filter (libpcap 1.10 has no loop
 * limit) and must end with BUDGET in VFM.  Returns the mismatch count.
 */
static uint64_t compare(const vfm_cbpf_insn_t *insns, size_t n, const struct tpkts *pk,
			const char *what)
{
	struct engines e;
	engines_load(&e, insns, n, what);
	uint64_t bad = 0;
	for (size_t i = 0; i < pk->n; i++) {
		const struct tpkt *t = &pk->p[i];
		static const uint8_t none[1];
		const uint8_t *data = t->data ? t->data : none;
		uint32_t ref_v;
		uint64_t backs;
		enum cbpf_ref_end end = cbpf_ref_run((const struct cbpf_gen_insn *)insns, n,
						     data, PKT_WIRE(t), t->len,
						     VFM_DEFAULT_BUDGET, &ref_v, &backs);
		uint32_t want = 0;
		vfm_status_t want_st = VFM_STATUS_OK;
		if (end == CBPF_REF_LOOP) {
			want_st = VFM_STATUS_BUDGET;
		} else {
			want = g_ref_only ? ref_v
					  : bpf_filter((const struct bpf_insn *)insns, data,
						       PKT_WIRE(t), t->len);
			if (want != ref_v || end == CBPF_REF_BADOP) {
				bad++;
				if (bad <= 3)
					print_message("%s: packet %zu: reference %u (end %d), bpf_filter %u\n",
						      what, i, ref_v, end, want);
			}
			if (end == CBPF_REF_OOB)
				want_st = VFM_STATUS_BOUNDS;
		}
		for (int k = 0; k < e.n; k++) {
			vfm_packet_t vp = {data, t->len, 0};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(e.vm[k], &vp, &r), VFM_OK);
			g_runs++;
			if (r.verdict != want || r.status != want_st) {
				bad++;
				if (bad <= 3) {
					print_message("%s: packet %zu (len %u): %s gives %u/%s, bpf_filter %u/%s\n",
						      what, i, t->len, e.name[k], r.verdict,
						      vfm_status_name(r.status), want,
						      vfm_status_name(want_st));
					dump_prog(insns, n);
				}
			}
		}
	}
	engines_free(&e);
	g_mismatches += bad;
	return bad;
}

/* ---- validation ------------------------------------------------------------ */

#define S(code, k) {(code), 0, 0, (k)}
#define J(code, k, jt, jf) {(code), (jt), (jf), (k)}

struct bad_case {
	const char *name;
	vfm_cbpf_insn_t insns[4];
	size_t n;
	vfm_error_t err;
	uint32_t line; /* index + 1 of the named instruction */
	const char *needle;
};

static void test_validate(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"empty", {S(0x06, 0)}, 0, VFM_EVERIFY, 0, "empty"},
		{"no final ret", {S(0x00, 1)}, 1, VFM_EVERIFY, 1, "last instruction is not a return"},
		{"unknown opcode", {S(0x38, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode 0x38"},
		{"ret x", {S(0x0e, 0)}, 1, VFM_EVERIFY, 1, "unknown opcode 0x0e"},
		{"ldx [k]", {S(0x21, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode 0x21"},
		{"misc 0x47", {S(0x47, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode"},
		{"neg x", {S(0x8c, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode"},
		{"ld M[16]", {S(0x60, 16), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index 16"},
		{"st M[99]", {S(0x02, 99), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index 99"},
		{"stx M[16]", {S(0x03, 16), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index"},
		{"ldx M[16]", {S(0x61, 16), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index"},
		{"div #0", {S(0x00, 1), S(0x34, 0), S(0x06, 0)}, 3, VFM_EVERIFY, 2, "division by the constant 0"},
		{"mod #0", {S(0x94, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "modulo by the constant 0"},
		{"lsh #32", {S(0x64, 32), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "constant shift by 32"},
		{"rsh #40", {S(0x74, 40), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "constant shift by 40"},
		{"jeq past end", {J(0x15, 0, 0, 1), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "jump target 2 is past the end"},
		{"jgt jt past end", {J(0x25, 0, 5, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "past the end"},
		{"ja past end", {S(0x05, 1), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "jump target 2 is outside"},
		{"ja before start", {S(0x06, 0), S(0x05, 0xfffffffdu), S(0x06, 0)}, 3, VFM_EVERIFY, 2, "jump target -1 is outside"},
		{"ancillary protocol", {S(0x28, 0xfffff000u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_AD_PROTOCOL"},
		{"ancillary vlan tag", {S(0x30, 0xfffff02cu), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_AD_VLAN_TAG"},
		{"ancillary other", {S(0x20, 0xfffff100u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "ancillary"},
		{"SKF_NET_OFF", {S(0x30, 0xfff00009u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_NET_OFF"},
		{"SKF_LL_OFF", {S(0x30, 0xffe00000u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_LL_OFF"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const struct bad_case *b = &cases[c];
		vfm_diag_t d;
		uint8_t *img = (uint8_t *)1;
		size_t len = 1;
		vfm_error_t err = vfm_from_cbpf(b->insns, b->n, NULL, &img, &len, &d);
		if (err != b->err || !strstr(d.message, b->needle) || d.line != b->line ||
		    d.code != err)
			fail_msg("%s: got %s line %u \"%s\"", b->name, vfm_error_name(err),
				 d.line, d.message);
		assert_null(img);
		assert_int_equal(len, 0);
		assert_int_equal(vfm_cbpf_validate(b->insns, b->n, &d), b->err);
		/* Where libpcap's bpf_validate accepts the program, say so:
		 * these are the documented refusals of accepted programs. */
		if (b->n && bpf_validate((const struct bpf_insn *)b->insns, (int)b->n))
			print_message("  refused, bpf_validate accepts: %s (%s)\n", b->name,
				      d.message);
	}
	/* Too long. */
	size_t big = VFM_CBPF_MAX_INSNS + 1;
	vfm_cbpf_insn_t *p = calloc(big, sizeof *p);
	p[big - 1].code = 0x06;
	vfm_diag_t d;
	assert_int_equal(vfm_cbpf_validate(p, big, &d), VFM_ETOOBIG);
	/* The largest accepted program translates and loads. */
	p[big - 2].code = 0x06;
	vfm_program_t *prog;
	assert_int_equal(vfm_program_from_cbpf(p, big - 1, NULL, &prog, &d), VFM_OK);
	vfm_program_release(prog);
	free(p);
	assert_int_equal(vfm_cbpf_validate(NULL, 1, &d), VFM_EINVAL);
}

/* Every generated program is one bpf_validate accepts, and we accept it. */
static void test_validate_agrees(void **state)
{
	(void)state;
	struct cbpf_src s = {NULL, 0, 42};
	struct cbpf_gen_insn prog[64];
	for (int i = 0; i < 20000; i++) {
		size_t n = cbpf_gen_program(&s, prog, 64, 10);
		vfm_diag_t d;
		assert_true(bpf_validate((const struct bpf_insn *)prog, (int)n));
		if (vfm_cbpf_validate((const vfm_cbpf_insn_t *)prog, n, &d) != VFM_OK)
			fail_msg("program %d: %s", i, d.message);
	}
	/* Random instruction words: whenever we accept, bpf_validate does. */
	for (int i = 0; i < 200000; i++) {
		vfm_cbpf_insn_t q[3];
		for (int j = 0; j < 3; j++) {
			uint64_t r = cbpf_splitmix(&s.rng);
			q[j].code = (uint16_t)(r & 0xff);
			q[j].jt = (uint8_t)((r >> 8) & 3);
			q[j].jf = (uint8_t)((r >> 16) & 3);
			q[j].k = (r >> 24) & 1 ? (uint32_t)(r >> 32) : (uint32_t)((r >> 32) & 63);
		}
		q[2].code = 0x06;
		vfm_diag_t d;
		if (vfm_cbpf_validate(q, 3, &d) == VFM_OK)
			assert_true(bpf_validate((const struct bpf_insn *)q, 3));
	}
}

static void test_format(void **state)
{
	(void)state;
	static const uint32_t ks[] = {0, 12, 0xfffffff0u, 0x7fffffff, 0x80000000u, 3};
	for (unsigned code = 0; code < 256; code++) {
		if (code == 0x81) /* bpf_image prints ldx #len as "unimp" */
			continue;
		for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
			struct bpf_insn b = {(u_short)code, 2, 3, ks[j]};
			char mine[160];
			vfm_cbpf_format((const vfm_cbpf_insn_t *)&b, 7, mine, sizeof mine);
			const char *theirs = bpf_image(&b, 7);
			if (strcmp(mine, theirs) != 0)
				fail_msg("code 0x%02x k %u: \"%s\" vs bpf_image \"%s\"", code,
					 ks[j], mine, theirs);
		}
	}
	vfm_cbpf_insn_t ldxlen = S(0x81, 0);
	char buf[64];
	vfm_cbpf_format(&ldxlen, 0, buf, sizeof buf);
	assert_string_equal(buf, "(000) ldx      #pktlen");
}

/* ---- hand-written programs ------------------------------------------------ */

struct hand_case {
	const char *name;
	vfm_cbpf_insn_t insns[16];
	size_t n;
	int uninit_m; /* reads M before writing it: reference only */
};

#define RET_A S(0x16, 0)

static const struct hand_case hand_cases[] = {
	/* every load and its bounds, ret a returns the loaded value */
	{"ld [k] word", {S(0x20, 10), RET_A}, 2},
	{"ld [k] at the end", {S(0x20, 56), RET_A}, 2},
	{"ldh [k]", {S(0x28, 12), RET_A}, 2},
	{"ldh [k] last byte", {S(0x28, 59), RET_A}, 2},
	{"ldb [k]", {S(0x30, 0), RET_A}, 2},
	{"ldb [k] huge", {S(0x30, 0xffdfffffu), RET_A}, 2},
	{"ld [k] 2^31", {S(0x20, 0x80000000u), RET_A}, 2},
	{"ld [x+k]", {S(0x01, 4), S(0x40, 6), RET_A}, 3},
	{"ldh [x+k]", {S(0x01, 1), S(0x48, 13), RET_A}, 3},
	{"ldb [x+k]", {S(0x01, 40), S(0x50, 19), RET_A}, 3},
	{"ldb [x+k] X+k wraps 32 bits", {S(0x01, 0xffffffffu), S(0x50, 2), RET_A}, 3},
	{"ld [x+k] X+k wraps 32 bits", {S(0x01, 0xfffffffeu), S(0x40, 4), RET_A}, 3},
	{"ldh [x+k] k huge", {S(0x01, 2), S(0x48, 0xfffffffeu), RET_A}, 3},
	{"ld [x+k] k huge X 0", {S(0x40, 0xffffffffu), RET_A}, 2},
	{"ldxb msh", {S(0xb1, 14), S(0x87, 0), RET_A}, 3},
	{"ldxb msh then ldh [x+k]", {S(0xb1, 14), S(0x48, 16), RET_A}, 3},
	{"ldxb msh oob", {S(0xb1, 1000), RET_A}, 2},
	{"ld #len", {S(0x80, 0), RET_A}, 2},
	{"ldx #len", {S(0x81, 0), S(0x87, 0), RET_A}, 3},
	{"ld #k", {S(0x00, 0xdeadbeefu), RET_A}, 2},
	{"ldx #k, txa", {S(0x01, 0xcafef00du), S(0x87, 0), RET_A}, 3},
	{"tax", {S(0x00, 77), S(0x07, 0), S(0x00, 1), S(0x87, 0), RET_A}, 5},
	/* scratch: zero at start, st/stx/ld/ldx */
	{"M zero at start", {S(0x60, 15), RET_A}, 2, 1},
	{"ldx M zero", {S(0x01, 5), S(0x61, 3), S(0x87, 0), RET_A}, 4, 1},
	{"st/ld M", {S(0x30, 3), S(0x02, 0), S(0x00, 0), S(0x60, 0), RET_A}, 5},
	{"stx/ldx M", {S(0x01, 99), S(0x03, 15), S(0x01, 0), S(0x61, 15), S(0x87, 0), RET_A}, 6},
	{"all 16 M", {S(0x00, 5), S(0x02, 0), S(0x02, 7), S(0x02, 15), S(0x60, 7), S(0x04, 1),
		      S(0x02, 8), S(0x61, 8), S(0x0c, 0), RET_A}, 10},
	/* ALU with k: 32-bit wrap */
	{"add wraps", {S(0x00, 0xffffffffu), S(0x04, 2), RET_A}, 3},
	{"sub wraps", {S(0x00, 1), S(0x14, 2), RET_A}, 3},
	{"mul wraps", {S(0x00, 0x10001u), S(0x24, 0x10001u), RET_A}, 3},
	{"mul big", {S(0x20, 0), S(0x24, 0xffffffffu), RET_A}, 3},
	{"div k", {S(0x20, 0), S(0x34, 7), RET_A}, 3},
	{"mod k", {S(0x20, 0), S(0x94, 1000), RET_A}, 3},
	{"and or xor k", {S(0x20, 0), S(0x54, 0xf0f0f0f0u), S(0x44, 0x01), S(0xa4, 0xffffffffu), RET_A}, 5},
	{"lsh #31", {S(0x20, 0), S(0x64, 31), RET_A}, 3},
	{"lsh #0", {S(0x20, 0), S(0x64, 0), RET_A}, 3},
	{"lsh #4 carries", {S(0x00, 0xf0000001u), S(0x64, 4), RET_A}, 3},
	{"rsh #31", {S(0x20, 0), S(0x74, 31), RET_A}, 3},
	{"neg", {S(0x30, 0), S(0x84, 0), RET_A}, 3},
	{"neg 0", {S(0x00, 0), S(0x84, 0), RET_A}, 3},
	{"neg 2^31", {S(0x00, 0x80000000u), S(0x84, 0), RET_A}, 3},
	/* ALU with X */
	{"add x", {S(0x20, 0), S(0x01, 0xffffff00u), S(0x0c, 0), RET_A}, 4},
	{"sub x", {S(0x30, 0), S(0x81, 0), S(0x1c, 0), RET_A}, 4},
	{"mul x", {S(0x20, 4), S(0x07, 0), S(0x20, 8), S(0x2c, 0), RET_A}, 5},
	{"div x", {S(0x20, 0), S(0xb1, 14), S(0x3c, 0), RET_A}, 4},
	{"div x = 0 returns 0", {S(0x00, 5), S(0x3c, 0), S(0x06, 9)}, 3},
	{"div x from packet", {S(0x20, 0), S(0x07, 0), S(0x28, 4), S(0x30, 3), S(0x07, 0),
			       S(0x87, 0), S(0x28, 4), S(0x3c, 0), S(0x04, 1), RET_A}, 10},
	{"mod x = 0 returns 0", {S(0x00, 5), S(0x9c, 0), S(0x06, 9)}, 3},
	{"mod x from packet", {S(0x30, 5), S(0x07, 0), S(0x20, 0), S(0x9c, 0), S(0x04, 1), RET_A}, 6},
	{"and/or/xor x", {S(0x20, 0), S(0x07, 0), S(0x20, 4), S(0x5c, 0), S(0x4c, 0), S(0xac, 0), RET_A}, 7},
	{"lsh x < 32", {S(0x00, 0x80000001u), S(0x01, 31), S(0x6c, 0), RET_A}, 4},
	{"lsh x = 32", {S(0x00, 1), S(0x01, 32), S(0x6c, 0), S(0x04, 7), RET_A}, 5},
	{"lsh x = 64", {S(0x00, 1), S(0x01, 64), S(0x6c, 0), S(0x04, 7), RET_A}, 5},
	{"lsh x = 65", {S(0x00, 1), S(0x01, 65), S(0x6c, 0), S(0x04, 7), RET_A}, 5},
	{"lsh x huge", {S(0x00, 1), S(0x01, 0xffffffffu), S(0x6c, 0), S(0x04, 7), RET_A}, 5},
	{"lsh x from packet", {S(0x20, 0), S(0x07, 0), S(0x30, 3), S(0x6c, 0), RET_A}, 5},
	{"rsh x = 31", {S(0x00, 0x80000000u), S(0x01, 31), S(0x7c, 0), RET_A}, 4},
	{"rsh x = 32", {S(0x00, 0x80000000u), S(0x01, 32), S(0x7c, 0), S(0x04, 7), RET_A}, 5},
	{"rsh x = 65", {S(0x00, 0x80000000u), S(0x01, 65), S(0x7c, 0), S(0x04, 7), RET_A}, 5},
	{"rsh x from packet", {S(0x20, 0), S(0x07, 0), S(0x30, 7), S(0x87, 0), S(0x30, 7),
			       S(0x07, 0), S(0x20, 0), S(0x7c, 0), RET_A}, 9},
	/* jumps: both operands, every direction, jt == jf, jt/jf 0 */
	{"jeq k", {S(0x28, 12), J(0x15, 0x800, 0, 1), S(0x06, 1), S(0x06, 2)}, 4},
	{"jeq k jt only", {S(0x28, 12), J(0x15, 0x800, 1, 0), S(0x06, 1), S(0x06, 2)}, 4},
	{"jeq k jt jf", {S(0x30, 0), J(0x15, 0, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 5},
	{"jeq k jt == jf", {S(0x30, 0), J(0x15, 0, 1, 1), S(0x06, 1), S(0x06, 2)}, 4},
	{"jeq k jt == jf == 0", {S(0x30, 0), J(0x15, 0, 0, 0), S(0x06, 1)}, 3},
	{"jgt k", {S(0x30, 0), J(0x25, 0x80, 0, 1), S(0x06, 1), S(0x06, 2)}, 4},
	{"jgt k jt", {S(0x30, 0), J(0x25, 0x80, 1, 0), S(0x06, 1), S(0x06, 2)}, 4},
	{"jgt k both", {S(0x30, 0), J(0x25, 0x80, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 5},
	{"jge k", {S(0x30, 0), J(0x35, 0x80, 0, 1), S(0x06, 1), S(0x06, 2)}, 4},
	{"jge k jt", {S(0x30, 0), J(0x35, 0x80, 1, 0), S(0x06, 1), S(0x06, 2)}, 4},
	{"jge k 2^32-1", {S(0x20, 0), J(0x35, 0xffffffffu, 1, 0), S(0x06, 1), S(0x06, 2)}, 4},
	{"jset k", {S(0x30, 0), J(0x45, 0x81, 0, 1), S(0x06, 1), S(0x06, 2)}, 4},
	{"jset k jt", {S(0x30, 0), J(0x45, 0x81, 1, 0), S(0x06, 1), S(0x06, 2)}, 4},
	{"jset k both", {S(0x30, 0), J(0x45, 0x81, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 5},
	{"jeq x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x1d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6},
	{"jeq x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x1d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6},
	{"jgt x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x2d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6},
	{"jgt x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x2d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6},
	{"jgt x both", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x2d, 0, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 7},
	{"jge x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x3d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6},
	{"jge x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x3d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6},
	{"jset x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x4d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6},
	{"jset x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x4d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6},
	{"ja forward", {S(0x05, 1), S(0x06, 1), S(0x06, 2)}, 3},
	{"ja 0", {S(0x05, 0), S(0x06, 1)}, 2},
	/* backward ja: a counting loop (5, then 1000 iterations), a loop
	 * over the packet like protochain's */
	{"backward ja 5", {S(0x00, 5), S(0x14, 1), J(0x15, 0, 1, 0), S(0x05, 0xfffffffdu),
			   S(0x06, 9)}, 5},
	{"backward ja 1000", {S(0x00, 1000), S(0x14, 1), J(0x15, 0, 1, 0), S(0x05, 0xfffffffdu),
			      S(0x06, 9)}, 5},
	{"backward ja over the packet",
	 {S(0x01, 0), S(0x50, 0), J(0x15, 0, 4, 0), S(0x87, 0), S(0x04, 3), S(0x07, 0),
	  S(0x05, 0xfffffff9u), RET_A}, 8},
	/* ret */
	{"ret #k snaplen", {S(0x06, 262144)}, 1},
	{"ret #0xffffffff", {S(0x06, 0xffffffffu)}, 1},
	{"ret #0", {S(0x06, 0)}, 1},
	{"ret a 0", {RET_A}, 1},
	{"ret a max", {S(0x00, 0xffffffffu), RET_A}, 2},
	{"ret in the middle", {S(0x30, 0), J(0x15, 1, 0, 1), S(0x06, 5), RET_A}, 4},
	/* unreachable code after a ret */
	{"dead code", {S(0x06, 3), S(0x3c, 0), S(0x6c, 0), S(0x06, 4)}, 4},
	/* 0 from a load past the end after a ret-able path */
	{"oob after compare", {S(0x28, 12), J(0x15, 0x800, 0, 1), S(0x20, 5000), S(0x06, 1)}, 4},
};

static void test_hand(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 500, 3);
	uint64_t before = g_mismatches;
	for (size_t c = 0; c < sizeof hand_cases / sizeof hand_cases[0]; c++) {
		const struct hand_case *h = &hand_cases[c];
		assert_true(bpf_validate((const struct bpf_insn *)h->insns, (int)h->n));
		g_ref_only = h->uninit_m;
		compare(h->insns, h->n, &pk, h->name);
		g_ref_only = 0;
	}
	print_message("  %zu hand-written programs x %zu packets\n",
		      sizeof hand_cases / sizeof hand_cases[0], pk.n);
	pkts_free(&pk);
	assert_int_equal(g_mismatches - before, 0);
}

/* Every opcode bpf_filter implements appears in a hand-written case. */
static void test_hand_covers_every_opcode(void **state)
{
	(void)state;
	for (size_t o = 0; o < CBPF_GEN_N_OPCODES; o++) {
		int found = 0;
		for (size_t c = 0; c < sizeof hand_cases / sizeof hand_cases[0] && !found; c++)
			for (size_t i = 0; i < hand_cases[c].n; i++)
				found |= hand_cases[c].insns[i].code == cbpf_gen_opcodes[o];
		if (!found)
			fail_msg("opcode 0x%02x has no hand-written case", cbpf_gen_opcodes[o]);
	}
}

/* A backward loop longer than the budget ends with BUDGET (verdict 0). */
static void test_budget(void **state)
{
	(void)state;
	vfm_cbpf_insn_t loop[] = {S(0x00, 100), S(0x14, 1), J(0x15, 0, 1, 0),
				  S(0x05, 0xfffffffdu), S(0x06, 9)};
	vfm_cbpf_insn_t self[] = {S(0x05, 0xffffffffu), S(0x06, 9)};
	vfm_diag_t d;
	vfm_program_t *prog;
	for (int which = 0; which < 2; which++) {
		assert_int_equal(vfm_program_from_cbpf(which ? self : loop, which ? 2 : 5, NULL,
						       &prog, &d), VFM_OK);
		vfm_config_t cfg = {.budget = 50, .budget_set = 1};
		vfm_state_t *vm = vfm_create_with(&cfg, &d);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		for (int jit = 0; jit < 2; jit++) {
			if (jit && vfm_enable_jit(vm) != VFM_OK)
				break;
			vfm_packet_t p = {(const uint8_t *)"abcd", 4, 0};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_OK);
			assert_int_equal(r.status, VFM_STATUS_BUDGET);
			assert_int_equal(r.verdict, 0);
		}
		vfm_destroy(vm);
		/* With budget 99 (the loop takes 99 backward jumps) it returns 9. */
		cfg.budget = 99;
		vm = vfm_create_with(&cfg, &d);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		vfm_packet_t p = {(const uint8_t *)"abcd", 4, 0};
		vfm_result_t r;
		assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_OK);
		assert_int_equal(r.verdict, which ? 0 : 9);
		assert_int_equal(r.status, which ? VFM_STATUS_BUDGET : VFM_STATUS_OK);
		vfm_destroy(vm);
		vfm_program_release(prog);
	}
}

/* Generated programs (the fuzzer's generator, fixed seeds). */
static void test_generated(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 40, 11);
	struct cbpf_src s = {NULL, 0, 7};
	struct cbpf_gen_insn prog[48];
	uint64_t before = g_mismatches;
	int n_progs = 2500;
	for (int i = 0; i < n_progs; i++) {
		size_t n = cbpf_gen_program(&s, prog, 48, 5);
		char what[64];
		snprintf(what, sizeof what, "generated program %d", i);
		compare((const vfm_cbpf_insn_t *)prog, n, &pk, what);
	}
	print_message("  %d generated programs x %zu packets\n", n_progs, pk.n);
	pkts_free(&pk);
	assert_int_equal(g_mismatches - before, 0);
}

/* ---- pcap-filter expressions ------------------------------------------------ */

static const char *const en10mb_exprs[] = {
	/* ether */
	"ether host 00:11:22:33:44:55", "ether src 66:77:88:99:aa:bb",
	"ether dst ff:ff:ff:ff:ff:ff", "ether broadcast", "ether multicast",
	"broadcast", "multicast", "ether proto 0x0800", "ether proto \\arp",
	"ether[0] & 1 != 0", "ether[12:2] = 0x800 and ether[23] = 6 and ether[36:2] = 80",
	"ether[12:2] > 0x5dc", "ether[6:4] = 0x66778899", "ether proto 0x88cc",
	"llc", "stp", "ipx", "decnet", "atalk", "aarp", "iso", "netbeui",
	"pppoed", "pppoes", "pppoes and ip", "pppoes 0x11 and udp",
	/* ip */
	"ip", "ip host 10.0.0.1", "host 192.168.1.10", "src host 10.1.2.3",
	"dst host 192.168.1.10", "net 10.0.0.0/8", "src net 172.16.0.0/12",
	"dst net 192.168.0.0 mask 255.255.0.0", "net 192.168", "ip proto 1",
	"ip proto \\tcp", "ip[0] & 0xf > 5", "ip[6:2] & 0x1fff != 0", "ip[2:2] > 576",
	"ip broadcast", "ip multicast", "ip[8] < 64", "ip and not tcp",
	"ip[9] = 17 and ip[6:2] & 0x3fff = 0", "ip src 10.0.0.1 or ip dst 10.0.0.2",
	"ip[1] & 0xfc = 0xb8", "ip and ip[6] & 0x20 != 0", "ip proto 47",
	"(src net 10.0.0.0/8 or dst net 192.168.0.0/16)",
	"(tcp or udp) and (src net 10/8 or dst net 192.168/16) and not port 22 and greater 100",
	/* ip6 */
	"ip6", "ip6 host 2001:db8::1", "ip6 net 2001:db8::/32", "ip6 src net fe80::/10",
	"ip6 multicast", "ip6 proto 6", "ip6[6] = 17", "ip6 and tcp",
	"ip6 and udp port 53", "icmp6", "icmp6[icmp6type] = icmp6-echo",
	"ip6 dst host 2001:db8::2 and tcp dst port 443",
	/* protochain (backward ja) */
	"ip6 protochain 6", "protochain 17", "ip protochain 1", "ip6 protochain 58",
	"protochain 6 and port 80",
	/* arp */
	"arp", "rarp", "arp host 10.0.0.1", "arp[6:2] = 1", "arp[6:2] = 2",
	"arp and ether src 66:77:88:99:aa:bb",
	/* vlan, mpls */
	"vlan", "vlan 100", "vlan and ip", "vlan and tcp port 80",
	"vlan 100 and host 192.0.2.1", "vlan and vlan", "vlan and not ip",
	"mpls", "mpls 100", "mpls and ip", "mpls and host 10.0.0.1", "mpls 16 and mpls",
	/* tcp */
	"tcp", "tcp port 80", "tcp dst port 80", "tcp src port 443",
	"tcp portrange 1-1023", "tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "tcp[13] = 0x12",
	"tcp[tcpflags] & tcp-rst != 0", "tcp[0:2] > 1024",
	"tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", "tcp and (port 80 or port 443)",
	"tcp dst port 80 and (ip or ip6)", "tcp[tcpflags] & tcp-fin != 0 and ip",
	"tcp[12] >> 4 > 5",
	/* udp */
	"udp", "udp port 53", "udp dst port 123", "udp portrange 5000-6000",
	"udp[4:2] > 100", "udp and src port 5353", "udp and ip6",
	/* icmp */
	"icmp", "icmp[icmptype] = icmp-echo", "icmp[icmptype] = icmp-echoreply",
	"icmp[0] = 3 and icmp[1] = 3", "icmp and host 10.0.0.1",
	/* sctp */
	"sctp", "sctp port 80", "ip proto 132", "ip6 and sctp",
	/* ports */
	"port 22", "portrange 20-25", "src port 53", "dst portrange 8000-9000",
	"not port 22", "host 10.0.0.1 and port 80", "port 22 or port 23",
	"src port 80 and dst portrange 1024-65535",
	/* lengths */
	"less 100", "greater 1000", "len < 64", "len >= 1500", "len = 60",
	"len - 14 > 100", "(len & 3) = 0", "len * len > 1000000",
	/* byte-offset expressions with arithmetic (X-indexed loads, ALU by X) */
	"ip[2:2] - ((ip[0] & 0xf) << 2) > 100", "ip[2:2] / 4 = 10", "ip[2:2] % 7 = 3",
	"(ip[2:2] * 3) & 0xff = 12", "ip[0] ^ 0x45 = 0", "ether[0] | ether[1] != 0",
	"ip[2:2] >> 2 > 10", "tcp[0:2] + tcp[2:2] > 50000", "ip[1] - ip[0] > 0",
	"ip[2:2] * 65536 * 65536 = 0", "ip[2:2] / ip[1] > 1", "ip[2:2] % ip[1] = 0",
	"ip[0] << ip[1] > 0", "ip[2:2] >> ip[8] = 0", "ether[len - 2 : 2] = 0",
	"ip[ip[0] & 0xf] = 0", "tcp[tcp[12] >> 4] != 0", "ether[ether[14] & 0x3f] > 7",
	"udp[udp[0] & 7 : 2] != 0", "ip[ip[9] : 4] & 0xffff = 0x50",
	"ether[12:2] - 0x800 = 0 and ip[0] >> 4 = 4", "- ip[8] & 0xff > 10",
	"ip[3] & (ip[2] | 1) = 1", "ether[len - 60 : 4] != 0",
	/* combinations */
	"not ip and not ip6 and not arp", "ip and tcp and not (port 80 or port 443)",
	"(ip or ip6) and (tcp or udp) and not port 53",
	"host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or net 172.16/12",
};

/* pcap_compile on pcap_open_dead(dlt, 262144); 0 on success. */
static int compile_expr(int dlt, const char *expr, int optimize, struct bpf_program *fp,
			char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(dlt, 262144);
	assert_non_null(p);
	int rc = pcap_compile(p, fp, expr, optimize, PCAP_NETMASK_UNKNOWN);
	if (rc != 0)
		snprintf(err, errlen, "%s", pcap_geterr(p));
	pcap_close(p);
	return rc;
}

static size_t run_exprs(int dlt, const char *const *exprs, size_t n, const struct tpkts *pk,
			int both_optimizer_settings)
{
	size_t compiled = 0;
	for (size_t i = 0; i < n; i++) {
		for (int opt = 1; opt >= (both_optimizer_settings ? 0 : 1); opt--) {
			struct bpf_program fp;
			char err[PCAP_ERRBUF_SIZE + 64];
			if (compile_expr(dlt, exprs[i], opt, &fp, err, sizeof err) != 0)
				fail_msg("pcap_compile \"%s\": %s", exprs[i], err);
			char what[300];
			snprintf(what, sizeof what, "\"%s\" (dlt %d, optimizer %s)", exprs[i], dlt,
				 opt ? "on" : "off");
			compare((const vfm_cbpf_insn_t *)fp.bf_insns, fp.bf_len, pk, what);
			pcap_freecode(&fp);
			compiled++;
		}
	}
	return compiled;
}

static void test_expressions_ethernet(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 2500, 1);
	uint64_t before = g_mismatches, runs = g_runs;
	size_t n = sizeof en10mb_exprs / sizeof en10mb_exprs[0];
	assert_true(n >= 100);
	size_t progs = run_exprs(DLT_EN10MB, en10mb_exprs, n, &pk, 1);
	print_message("  %zu expressions (%zu programs, optimizer on and off) x %zu packets: "
		      "%llu runs, %llu mismatches\n",
		      n, progs, pk.n, (unsigned long long)(g_runs - runs),
		      (unsigned long long)(g_mismatches - before));
	pkts_free(&pk);
	assert_int_equal(g_mismatches - before, 0);
}

/* Expressions from the fuzzer's grammar (fixed seed): whatever compiles. */
static void test_expressions_generated(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 150, 5);
	struct cbpf_src s = {NULL, 0, 99};
	uint64_t before = g_mismatches;
	int compiled = 0;
	for (int i = 0; i < 400; i++) {
		char expr[512];
		cbpf_gen_expr(&s, expr, sizeof expr);
		struct bpf_program fp;
		char err[PCAP_ERRBUF_SIZE + 64];
		int opt = i % 3 != 0;
		if (compile_expr(DLT_EN10MB, expr, opt, &fp, err, sizeof err) != 0)
			continue;
		compare((const vfm_cbpf_insn_t *)fp.bf_insns, fp.bf_len, &pk, expr);
		pcap_freecode(&fp);
		compiled++;
	}
	print_message("  %d generated expressions compiled x %zu packets\n", compiled, pk.n);
	pkts_free(&pk);
	assert_true(compiled > 200);
	assert_int_equal(g_mismatches - before, 0);
}

/* Raw IP and Linux cooked captures, built from the generated frames. */
static void test_other_linktypes(void **state)
{
	(void)state;
	static const char *const l3_exprs[] = {
		"ip", "ip6", "tcp port 80", "host 10.0.0.1", "udp and port 53", "ip[9] = 6",
		"icmp", "net 10/8", "ip6 and tcp", "tcp[tcpflags] & tcp-syn != 0",
		"ip6 protochain 6", "greater 100", "len < 80", "ip[ip[0] & 0xf] = 0",
		"not ip", "ip6 net 2001:db8::/32 or ip src 192.168.1.10", "portrange 1-1024",
		"ip and ip[6:2] & 0x1fff = 0 and udp",
	};
	static const char *const sll_exprs[] = {
		"inbound", "outbound", "arp", "vlan", "ether proto 0x86dd", "mpls",
		"inbound and tcp", "not outbound and ip6",
	};
	struct pktgen_config cfg = {.seed = 21, .count = 2500};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&cfg, &set), 0);
	struct tpkts raw = {0}, sll = {0};
	uint8_t tmp[PKTGEN_MAX_FRAME + 16];
	uint64_t rng = 5;
	for (size_t i = 0; i < set.count; i++) {
		const struct pktgen_packet *g = &set.pkts[i];
		if (g->len < 14)
			continue;
		uint32_t l3 = 14;
		uint16_t type = (uint16_t)(g->data[12] << 8 | g->data[13]);
		if (type == 0x8100 && g->len >= 18) {
			l3 = 18;
			type = (uint16_t)(g->data[16] << 8 | g->data[17]);
		}
		if (type == 0x0800 || type == 0x86dd)
			pkts_add(&raw, g->data + l3, g->len - l3, g->wire_len - l3);
		/* SLL: packet type, ARPHRD_ETHER, address length 6, address
		 * (8 bytes), protocol; then the frame after the Ethernet header. */
		uint64_t r = cbpf_splitmix(&rng);
		tmp[0] = 0;
		tmp[1] = (uint8_t)(r % 5);
		tmp[2] = 0;
		tmp[3] = 1;
		tmp[4] = 0;
		tmp[5] = 6;
		memcpy(tmp + 6, g->data + 6, 6);
		tmp[12] = tmp[13] = 0;
		tmp[14] = g->data[12];
		tmp[15] = g->data[13];
		memcpy(tmp + 16, g->data + 14, g->len - 14);
		uint32_t len = 16 + g->len - 14;
		pkts_add(&sll, tmp, (r >> 8) % 8 == 0 ? (uint32_t)((r >> 16) % len) : len,
			 g->wire_len + 2);
	}
	pktgen_free(&set);
	uint64_t before = g_mismatches;
	size_t n3 = sizeof l3_exprs / sizeof l3_exprs[0];
	size_t a = run_exprs(DLT_RAW, l3_exprs, n3, &raw, 1);
	size_t b = run_exprs(DLT_LINUX_SLL, l3_exprs, n3, &sll, 1);
	size_t c = run_exprs(DLT_LINUX_SLL, sll_exprs, sizeof sll_exprs / sizeof sll_exprs[0],
			     &sll, 1);
	print_message("  DLT_RAW: %zu programs x %zu packets; DLT_LINUX_SLL: %zu programs x %zu packets\n",
		      a, raw.n, b + c, sll.n);
	pkts_free(&raw);
	pkts_free(&sll);
	assert_int_equal(g_mismatches - before, 0);
}

/* ---- the file image ----------------------------------------------------------- */

static void test_file_image(void **state)
{
	(void)state;
	struct bpf_program fp;
	char err[PCAP_ERRBUF_SIZE + 64];
	assert_int_equal(compile_expr(DLT_EN10MB, "tcp dst port 80", 1, &fp, err, sizeof err), 0);
	const vfm_cbpf_insn_t *insns = (const vfm_cbpf_insn_t *)fp.bf_insns;
	vfm_cbpf_options_t opt = {0, "tcp dst port 80"};
	uint8_t *img;
	size_t len;
	vfm_diag_t d;
	assert_int_equal(vfm_from_cbpf(insns, fp.bf_len, &opt, &img, &len, &d), VFM_OK);
	/* The cBPF program comes back out of the file. */
	vfm_cbpf_insn_t *back;
	size_t n;
	assert_int_equal(vfm_cbpf_from_file(img, len, &back, &n, &d), VFM_OK);
	assert_int_equal(n, fp.bf_len);
	assert_memory_equal(back, insns, n * sizeof *back);
	free(back);
	/* The disassembly names the source; the file loads. */
	vfm_state_t *vm = vfm_create();
	assert_int_equal(vfm_load_program(vm, img, len), VFM_OK);
	free(img);
	/* Without the optional sections: smaller, no cBPF section. */
	opt.flags = VFM_CBPF_NO_LINES | VFM_CBPF_NO_ORIGIN;
	opt.source_name = NULL;
	size_t len2;
	assert_int_equal(vfm_from_cbpf(insns, fp.bf_len, &opt, &img, &len2, &d), VFM_OK);
	assert_true(len2 < len);
	assert_int_equal(vfm_cbpf_from_file(img, len2, &back, &n, &d), VFM_EINVAL);
	assert_null(back);
	free(img);
	/* vfm_load_cbpf: a refused program keeps the previous one. */
	assert_int_equal(vfm_load_cbpf(vm, insns, fp.bf_len, NULL), VFM_OK);
	vfm_cbpf_insn_t bad[] = {S(0x28, 0xfffff000u), S(0x06, 0)};
	assert_int_equal(vfm_load_cbpf(vm, bad, 2, NULL), VFM_EUNSUPPORTED);
	assert_non_null(strstr(vfm_last_error(vm), "SKF_AD_PROTOCOL"));
	uint8_t pkt[60] = {0};
	pkt[12] = 0x08;
	pkt[14] = 0x45;
	pkt[23] = 6;
	pkt[37] = 80;
	assert_int_equal(vfm_execute(vm, pkt, sizeof pkt),
			 bpf_filter(fp.bf_insns, pkt, sizeof pkt, sizeof pkt));
	assert_int_equal(vfm_execute(vm, pkt, sizeof pkt), 262144);
	vfm_destroy(vm);
	pcap_freecode(&fp);
	/* Corrupt and foreign files. */
	assert_int_equal(vfm_cbpf_from_file((const uint8_t *)"xx", 2, &back, &n, &d),
			 VFM_ETRUNCATED);
}

/* Every cBPF instruction is named by the line table. */
static void test_lines(void **state)
{
	(void)state;
	vfm_cbpf_insn_t p[] = {S(0x28, 12), J(0x15, 0x800, 0, 1), S(0x06, 1), S(0x06, 0)};
	uint8_t *img;
	size_t len;
	vfm_diag_t d;
	assert_int_equal(vfm_from_cbpf(p, 4, NULL, &img, &len, &d), VFM_OK);
	char *text;
	assert_int_equal(vfm_disassemble(img, len, &text, &d), VFM_OK);
	assert_non_null(strstr(text, "LD16 12"));
	assert_non_null(strstr(text, "RET 1"));
	free(text);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_validate_agrees),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_hand),
		cmocka_unit_test(test_hand_covers_every_opcode),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_expressions_ethernet),
		cmocka_unit_test(test_expressions_generated),
		cmocka_unit_test(test_other_linktypes),
		cmocka_unit_test(test_file_image),
		cmocka_unit_test(test_lines),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	printf("test_cbpf: %llu VFM runs compared with bpf_filter, %llu mismatches\n",
	       (unsigned long long)g_runs, (unsigned long long)g_mismatches);
	return rc;
}
