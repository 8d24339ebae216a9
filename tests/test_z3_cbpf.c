/*
 * tests/test_z3_cbpf.c — the Z3 translation validation for classic BPF
 * (verifier/z3/z3cbpf.c) on hand-written pairs: a VFM program that does
 * what the cBPF program does must be proven equal; one with a typical
 * translation mistake (a lost constant, 64-bit instead of 32-bit
 * arithmetic, LEN for the wire length, an off-by-one bound) must be
 * refuted with a packet on which libpcap's bpf_filter and the VFM
 * interpreter really return what the report says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "../verifier/z3/z3check.h"
#include "test_support.h"

#define MAX_LEN 64u

struct pair {
	const char *what;
	struct vfm_z3_cbpf_insn cbpf[8];
	size_t n;
	const char *vfm; /* assembly */
	int want;        /* VFM_Z3_EQUIV_EQUAL or _DIFFERENT */
};

/* Opcodes as pcap/bpf.h spells them. */
#define LDH_ABS (BPF_LD | BPF_H | BPF_ABS)
#define LDW_ABS (BPF_LD | BPF_W | BPF_ABS)
#define LDB_IND (BPF_LD | BPF_B | BPF_IND)
#define JEQ_K (BPF_JMP | BPF_JEQ | BPF_K)
#define RET_K (BPF_RET | BPF_K)
#define RET_A (BPF_RET | BPF_A)

static const struct pair pairs[] = {
	{"ether type IPv4",
	 {{LDH_ABS, 0, 0, 12}, {JEQ_K, 0, 1, 0x800}, {RET_K, 0, 0, 262144}, {RET_K, 0, 0, 0}},
	 4, "LD16 12\nPUSH 0x800\nJNE drop\nRET 262144\ndrop:\nRET 0\n", VFM_Z3_EQUIV_EQUAL},
	{"lost snaplen (returns 1, not k)",
	 {{LDH_ABS, 0, 0, 12}, {JEQ_K, 0, 1, 0x800}, {RET_K, 0, 0, 262144}, {RET_K, 0, 0, 0}},
	 4, "LD16 12\nPUSH 0x800\nJNE drop\nRET 1\ndrop:\nRET 0\n", VFM_Z3_EQUIV_DIFFERENT},
	{"32-bit wrap kept",
	 {{BPF_LD | BPF_W | BPF_ABS, 0, 0, 0}, {BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1}, {RET_A, 0, 0, 0}},
	 3, "LD32 0\nPUSH 1\nADD\nPUSH 0xffffffff\nAND\nRET\n", VFM_Z3_EQUIV_EQUAL},
	{"32-bit wrap lost",
	 {{BPF_LD | BPF_W | BPF_ABS, 0, 0, 0}, {BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1}, {RET_A, 0, 0, 0}},
	 3, "LD32 0\nPUSH 1\nADD\nRET\n", VFM_Z3_EQUIV_DIFFERENT},
	{"ld #len is the wire length",
	 {{BPF_LD | BPF_W | BPF_LEN, 0, 0, 0}, {RET_A, 0, 0, 0}},
	 2, "WLEN\nRET\n", VFM_Z3_EQUIV_EQUAL},
	{"ld #len read as the captured length",
	 {{BPF_LD | BPF_W | BPF_LEN, 0, 0, 0}, {RET_A, 0, 0, 0}},
	 2, "LEN\nRET\n", VFM_Z3_EQUIV_DIFFERENT},
	{"division by X = 0 returns 0",
	 {{BPF_LD | BPF_B | BPF_ABS, 0, 0, 14}, {BPF_MISC | BPF_TAX, 0, 0, 0},
	  {BPF_LD | BPF_IMM, 0, 0, 100}, {BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0}, {RET_A, 0, 0, 0}},
	 5, "PUSH 100\nLD8 14\nDIV\nRET\n", VFM_Z3_EQUIV_EQUAL},
	{"indexed load, exact bound",
	 {{BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0}, {LDB_IND, 0, 0, 2}, {RET_A, 0, 0, 0}},
	 3, "LD8 0\nPUSH 15\nAND\nPUSH 2\nSHL\nLD8X 2\nRET\n", VFM_Z3_EQUIV_EQUAL},
	{"indexed load read one byte further",
	 {{BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0}, {LDB_IND, 0, 0, 2}, {RET_A, 0, 0, 0}},
	 3, "LD8 0\nPUSH 15\nAND\nPUSH 2\nSHL\nLD8X 3\nRET\n", VFM_Z3_EQUIV_DIFFERENT},
};

/* The counterexample, run for real on both sides. */
static void replay(const struct pair *p, vfm_program_t *prog, const struct vfm_z3_equiv *q)
{
	struct bpf_insn code[8];
	for (size_t i = 0; i < p->n; i++)
		code[i] = (struct bpf_insn){p->cbpf[i].code, p->cbpf[i].jt, p->cbpf[i].jf, p->cbpf[i].k};
	assert_true(bpf_validate(code, (int)p->n));
	uint8_t buf[MAX_LEN + 1] = {0};
	assert_true(q->len <= MAX_LEN);
	memcpy(buf, q->bytes, q->n_bytes);
	u_int want = bpf_filter(code, buf, q->wire_len, q->len);
	vfm_state_t *vm = vfm_create();
	assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
	vfm_packet_t pkt = {.data = buf, .len = q->len, .wire_len = q->wire_len};
	vfm_result_t r;
	assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
	vfm_destroy(vm);
	if (want != q->cbpf_verdict || r.verdict != q->vfm_verdict || want == r.verdict)
		fail_msg("%s: counterexample (len %u, wire %u) says cBPF %u / VFM %u, running "
			 "gives bpf_filter %u / VFM %u", p->what, q->len, q->wire_len,
			 q->cbpf_verdict, q->vfm_verdict, want, r.verdict);
}

static void test_pairs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		const struct pair *p = &pairs[i];
		vfm_program_t *prog = ts_program_from_asm(p->vfm);
		struct vfm_z3_equiv q;
		vfm_error_t err = vfm_z3_equiv_cbpf(prog, p->cbpf, p->n, MAX_LEN, 20000, &q);
		if (err != VFM_OK)
			fail_msg("%s: %s: %s", p->what, vfm_error_name(err), q.error);
		if (q.result != p->want)
			fail_msg("%s: result %d, expected %d", p->what, q.result, p->want);
		if (q.result == VFM_Z3_EQUIV_DIFFERENT)
			replay(p, prog, &q);
		print_message("%-40s %s (%.2f s)\n", p->what,
			      q.result == VFM_Z3_EQUIV_EQUAL ? "equal" : "differs, replayed", q.seconds);
		vfm_program_release(prog);
	}
}

/* What is not encoded says so instead of answering. */
static void test_not_encoded(void **state)
{
	(void)state;
	vfm_program_t *prog = ts_program_from_asm("RET 0\n");
	const struct vfm_z3_cbpf_insn back[] = {{BPF_LD | BPF_IMM, 0, 0, 1},
						{BPF_JMP | BPF_JA, 0, 0, 0xFFFFFFFEu},
						{RET_K, 0, 0, 0}};
	struct vfm_z3_equiv q;
	assert_int_equal(vfm_z3_equiv_cbpf(prog, back, 3, MAX_LEN, 0, &q), VFM_EUNSUPPORTED);
	assert_non_null(strstr(q.error, "cBPF instruction 1"));
	const struct vfm_z3_cbpf_insn retx[] = {{BPF_RET | BPF_X, 0, 0, 0}};
	assert_int_equal(vfm_z3_equiv_cbpf(prog, retx, 1, MAX_LEN, 0, &q), VFM_EUNSUPPORTED);
	assert_non_null(strstr(q.error, "ret x"));
	assert_int_equal(vfm_z3_equiv_cbpf(prog, retx, 0, MAX_LEN, 0, &q), VFM_EINVAL);
	vfm_program_release(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_not_encoded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
