/*
 * fuzz/fuzz_cbpf.c — libFuzzer target: classic BPF translated to VFM
 * (vm/cbpf.c, docs/CBPF.md) against libpcap's own bpf_filter, on the
 * interpreter and the JIT.
 *
 * Input format:
 *
 *   byte 0     flags
 *                bits 0-1  program source:
 *                          0  generated (fuzz/cbpf_gen.h) from the choice
 *                             bytes: a program bpf_validate accepts, 5% of
 *                             `ja` backward
 *                          1  the same with 40% of `ja` backward (loops)
 *                          2  raw: the program part is struct bpf_insn
 *                             words (8 bytes: u16 code, u8 jt, u8 jf, u32 k,
 *                             little-endian), at most 512 of them
 *                          3  a pcap-filter expression from the small
 *                             grammar of fuzz/cbpf_gen.h, compiled by
 *                             pcap_compile (snaplen 262144)
 *                bits 2-3  sources 0-2: budget 65536 (default), 0, 7, 1000;
 *                          source 3: link type EN10MB, RAW, LINUX_SLL,
 *                          EN10MB (budget 65536)
 *                bit  4    source 3: optimizer off
 *                bit  5    also run the canned packets (Ethernet/IP)
 *                bit  6    wire lengths: len + 7 * first byte (else 0,
 *                          "unknown", which VFM reads as len)
 *   bytes 1-2  little-endian u16: length P of the program part (clipped)
 *   P bytes    the program part
 *   rest       packets: repeated [u8 length][length bytes], at most 16
 *
 * Checks, for every program:
 *   - validation agrees with bpf_validate: what VFM accepts, bpf_validate
 *     accepts; what bpf_validate accepts and VFM refuses is refused for a
 *     documented reason (an opcode bpf_filter does not implement, a
 *     constant shift by 32 or more, a Linux negative offset);
 *   - an accepted program translates and passes VFM's verifier, and the
 *     JIT compiles it where the build has one;
 * and for every packet:
 *   - a reference model of bpf_filter (fuzz/cbpf_gen.h) runs first and
 *     counts backward jumps: beyond the budget VFM must end with BUDGET
 *     (verdict 0), and bpf_filter is not called (it would loop as long as
 *     the program does);
 *   - otherwise bpf_filter's exact return value equals the reference's and
 *     VFM's verdict on both engines; the status is BOUNDS exactly when a
 *     load was out of bounds; the two engines count the same instructions.
 *   A program that may read M[k] before writing it is compared with the
 *   reference only: libpcap 1.10's bpf_filter leaves M[] uninitialised.
 *
 * With VFM_FUZZ_STATS set, counts are printed at exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "vfm.h"

#define FUZZ_NAME "fuzz_cbpf"
#include "fuzz_common.h"

#include "cbpf_gen.h"

#define MAX_GEN_INSNS 64
#define MAX_RAW_INSNS 512

static const uint32_t budgets[4] = {VFM_DEFAULT_BUDGET, 0, 7, 1000};
static const int dlts[4] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_EN10MB};

struct cbpf_input {
	unsigned source;
	uint32_t budget;
	int dlt, optimize, canned, wire;
	struct fuzz_frame fr;
};

static void split_input(const uint8_t *data, size_t size, struct cbpf_input *in)
{
	memset(in, 0, sizeof *in);
	fuzz_frame_split(data, size, 0xFFFFu, &in->fr);
	uint8_t f = in->fr.flags;
	in->source = f & 3u;
	in->budget = in->source == 3 ? VFM_DEFAULT_BUDGET : budgets[(f >> 2) & 3u];
	in->dlt = dlts[(f >> 2) & 3u];
	in->optimize = !((f >> 4) & 1u);
	in->canned = (f >> 5) & 1u;
	in->wire = (f >> 6) & 1u;
}

static unsigned long n_inputs, n_programs, n_accepted, n_refused_documented, n_packets,
	n_bpf_calls, n_budget, n_jit, n_exprs, n_expr_fail;

static void print_stats(void)
{
	if (n_inputs == 0)
		return;
	fprintf(stderr,
		"fuzz_cbpf: %lu inputs, %lu programs (%lu expressions compiled, %lu did not), "
		"%lu accepted, %lu refused for a documented reason, %lu on the JIT; "
		"%lu packets, %lu bpf_filter calls, %lu ended by the budget\n",
		n_inputs, n_programs, n_exprs, n_expr_fail, n_accepted, n_refused_documented,
		n_jit, n_packets, n_bpf_calls, n_budget);
}

FUZZ_PRINT_STATS_AT_EXIT(print_stats)

/* ---- Programs ----------------------------------------------------------- */

/* The program of an input (malloc'ed, *n instructions), or NULL when there
 * is none (an expression that does not compile, an empty raw part). */
static struct cbpf_gen_insn *make_program(const struct cbpf_input *in, size_t *n)
{
	struct cbpf_src src = {in->fr.prog, in->fr.prog_len, 0x5eed};
	struct cbpf_gen_insn *p = NULL;
	*n = 0;
	switch (in->source) {
	case 0:
	case 1:
		p = malloc(MAX_GEN_INSNS * sizeof *p);
		if (p)
			*n = cbpf_gen_program(&src, p, MAX_GEN_INSNS, in->source ? 40 : 5);
		return p;
	case 2: {
		size_t count = in->fr.prog_len / 8;
		if (count > MAX_RAW_INSNS)
			count = MAX_RAW_INSNS;
		if (count == 0)
			return NULL;
		p = malloc(count * sizeof *p);
		if (!p)
			return NULL;
		for (size_t i = 0; i < count; i++) {
			const uint8_t *q = in->fr.prog + 8 * i;
			p[i].code = vfm_get_le16(q);
			p[i].jt = q[2];
			p[i].jf = q[3];
			p[i].k = vfm_get_le32(q + 4);
		}
		*n = count;
		return p;
	}
	default: {
		static pcap_t *dead[3];
		unsigned d = in->dlt == DLT_EN10MB ? 0 : in->dlt == DLT_RAW ? 1 : 2;
		if (!dead[d])
			dead[d] = pcap_open_dead(in->dlt, 262144);
		if (!dead[d])
			return NULL;
		char expr[512];
		cbpf_gen_expr(&src, expr, sizeof expr);
		struct bpf_program fp;
		if (pcap_compile(dead[d], &fp, expr, in->optimize, 0xffffff00u) != 0) {
			n_expr_fail++;
			return NULL;
		}
		n_exprs++;
		p = malloc((fp.bf_len ? fp.bf_len : 1) * sizeof *p);
		if (p) {
			memcpy(p, fp.bf_insns, fp.bf_len * sizeof *p);
			*n = fp.bf_len;
		}
		pcap_freecode(&fp);
		return p;
	}
	}
}

/* ---- Packets ------------------------------------------------------------ */

static int cut_packets(const struct cbpf_input *in, struct fuzz_packets *ps)
{
	if (fuzz_cut_packets(ps, in->fr.pkts, in->fr.pkts_len, 0, FUZZ_EMPTY_NULL) != 0)
		return -1;
	if ((in->canned || ps->n == 0) && fuzz_add_canned(ps, FUZZ_EMPTY_NULL) != 0)
		return -1;
	for (size_t i = 0; i < ps->n; i++) {
		vfm_packet_t *p = &ps->pkt[i];
		p->wire_len = in->wire && p->len ? p->len + 7u * p->data[0] : 0;
	}
	return 0;
}

/* ---- Execution ---------------------------------------------------------- */

static void run(const struct cbpf_gen_insn *prog, size_t n, const struct cbpf_input *in)
{
	const vfm_cbpf_insn_t *insns = (const vfm_cbpf_insn_t *)prog;
	vfm_diag_t diag;
	int theirs = bpf_validate((const struct bpf_insn *)prog, (int)n);
	vfm_error_t verr = vfm_cbpf_validate(insns, n, &diag);
	CHECK(verr == VFM_OK || !theirs || strstr(diag.message, "bpf_filter does not implement") ||
		      strstr(diag.message, "constant shift by") ||
		      strstr(diag.message, "is not supported"),
	      "bpf_validate accepts, VFM refuses without a documented reason: %s: %s",
	      vfm_error_name(verr), diag.message);
	CHECK(verr != VFM_OK || theirs, "VFM accepts what bpf_validate refuses (%zu insns)", n);
	if (verr != VFM_OK) {
		n_refused_documented += theirs;
		return;
	}
	n_accepted++;

	vfm_program_t *vp = NULL;
	vfm_error_t err = vfm_program_from_cbpf(insns, n, NULL, &vp, &diag);
	if (err == VFM_ENOMEM)
		return;
	CHECK(err == VFM_OK, "accepted program does not load: %s: %s", vfm_error_name(err),
	      diag.message);
	vfm_config_t cfg = {.budget = in->budget, .budget_set = 1, .flow_capacity = 4};
	vfm_state_t *a = vfm_create_with(&cfg, &diag);
	vfm_state_t *j = vfm_create_with(&cfg, &diag);
	CHECK(a && j, "vfm_create_with failed: %s", diag.message);
	CHECK(vfm_attach_program(a, vp) == VFM_OK && vfm_attach_program(j, vp) == VFM_OK,
	      "attach failed");
	int jit = 0;
	if (vfm_jit_arch()) {
		vfm_error_t jerr = vfm_enable_jit(j);
		CHECK(jerr == VFM_OK || jerr == VFM_ENOMEM, "the JIT refuses a translation: %s",
		      vfm_last_error(j));
		jit = jerr == VFM_OK;
	}
	n_jit += jit;
	uint32_t vfm_insns = vfm_program_insn_count(vp);
	vfm_program_release(vp);

	uint8_t *unsafe = malloc(n);
	int ref_only = !unsafe || cbpf_gen_unsafe_reads(prog, n, unsafe) != 0;
	free(unsafe);

	struct fuzz_packets ps;
	if (cut_packets(in, &ps) != 0)
		goto out;
	/* At most budget + 1 passes over the code per packet. */
	size_t count = fuzz_packets_within(((uint64_t)in->budget + 1) * vfm_insns, ps.n);
	for (size_t i = 0; i < count; i++) {
		const vfm_packet_t *p = &ps.pkt[i];
		static const uint8_t none[1];
		const uint8_t *data = p->data ? p->data : none;
		uint32_t wirelen = p->wire_len ? p->wire_len : p->len;
		uint32_t ref_v;
		uint64_t backs;
		enum cbpf_ref_end end = cbpf_ref_run(prog, n, data, wirelen, p->len, in->budget,
						     &ref_v, &backs);
		CHECK(end != CBPF_REF_BADOP, "reference: an accepted program has an opcode it "
					     "does not implement or falls off the end");
		uint32_t want = 0;
		vfm_status_t want_st = VFM_STATUS_OK;
		if (end == CBPF_REF_LOOP) {
			want_st = VFM_STATUS_BUDGET;
			n_budget++;
		} else {
			want = ref_v;
			if (end == CBPF_REF_OOB)
				want_st = VFM_STATUS_BOUNDS;
			if (!ref_only) {
				uint32_t b = bpf_filter((const struct bpf_insn *)prog, data, wirelen,
							p->len);
				n_bpf_calls++;
				CHECK(b == ref_v, "packet %zu: bpf_filter %u, reference %u", i, b,
				      ref_v);
			}
		}
		vfm_result_t ra, rj;
		vfm_packet_t pkt = *p;
		pkt.data = data;
		CHECK(vfm_execute_ex(a, &pkt, &ra) == VFM_OK, "execute_ex failed");
		n_packets++;
		CHECK(ra.verdict == want && ra.status == want_st,
		      "packet %zu (len %u, wire %u): interpreter %u/%s, bpf_filter %u/%s", i,
		      p->len, p->wire_len, ra.verdict, vfm_status_name(ra.status), want,
		      vfm_status_name(want_st));
		if (jit) {
			CHECK(vfm_execute_ex(j, &pkt, &rj) == VFM_OK, "JIT execute_ex failed");
			CHECK(rj.verdict == ra.verdict && rj.status == ra.status &&
				      rj.insns == ra.insns,
			      "packet %zu: interpreter %u/%s/%llu, JIT %u/%s/%llu", i, ra.verdict,
			      vfm_status_name(ra.status), (unsigned long long)ra.insns,
			      rj.verdict, vfm_status_name(rj.status),
			      (unsigned long long)rj.insns);
		}
	}
	fuzz_free_packets(&ps);
out:
	vfm_destroy(a);
	vfm_destroy(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbpf_input in;
	split_input(data, size, &in);
	n_inputs++;
	size_t n;
	struct cbpf_gen_insn *prog = make_program(&in, &n);
	if (!prog)
		return 0;
	n_programs++;
	run(prog, n, &in);
	free(prog);
	return 0;
}

/* Triage (replay --describe): the program as `tcpdump -d` prints it, the
 * settings and the packets. */
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out);
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out)
{
	struct cbpf_input in;
	split_input(data, size, &in);
	static const char *const sources[] = {"generated", "generated (loops)", "raw",
					      "expression"};
	fprintf(out, "source %s, budget %u, dlt %d, optimizer %s, canned %d, wire lengths %s\n",
		sources[in.source], in.budget, in.dlt, in.optimize ? "on" : "off", in.canned,
		in.wire ? "len + 7 * first byte" : "unknown");
	if (in.source == 3) {
		struct cbpf_src src = {in.fr.prog, in.fr.prog_len, 0x5eed};
		char expr[512];
		cbpf_gen_expr(&src, expr, sizeof expr);
		fprintf(out, "expression: %s\n", expr);
	}
	size_t n;
	struct cbpf_gen_insn *prog = make_program(&in, &n);
	for (size_t i = 0; prog && i < n; i++) {
		char line[160];
		vfm_cbpf_format((const vfm_cbpf_insn_t *)&prog[i], (uint32_t)i, line, sizeof line);
		fprintf(out, "%s\n", line);
	}
	vfm_diag_t diag;
	if (prog && vfm_cbpf_validate((const vfm_cbpf_insn_t *)prog, n, &diag) != VFM_OK)
		fprintf(out, "refused: %s\n", diag.message);
	free(prog);
	struct fuzz_packets ps;
	if (cut_packets(&in, &ps) == 0) {
		for (size_t i = 0; i < ps.n; i++)
			fuzz_describe_packet(out, i, &ps.pkt[i]);
		fuzz_free_packets(&ps);
	}
}
