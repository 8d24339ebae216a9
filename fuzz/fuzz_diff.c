/*
 * fuzz/fuzz_diff.c — libFuzzer target: structure-aware differential test
 * of the interpreter, the JIT and the reference interpreter (with the
 * verifier's runtime oracle, fuzz/ref_interp.h).
 *
 * Input format (fuzz/README.md):
 *
 *   byte 0     flags
 *                bits 0-2  budget: 0, 1, 2, 5, 16, 100, 1000, 4096
 *                bits 3-4  flow capacity: 4, 8, 64, default
 *                bit  5    also run the canned packets (Ethernet/IP)
 *                bit  6    timestamps from the packet bytes (else 1 s apart)
 *                bit  7    the JIT with constant blinding (VFM_JIT_HARDEN)
 *   bytes 1-2  little-endian u16: length P of the program part (clipped)
 *   P bytes    a progen choice string: progen_from_bytes (default config)
 *              decodes ANY bytes into a program that must pass the verifier
 *   rest       packets: repeated [u8 length][length bytes], at most 16; the
 *              last takes what remains
 *
 * After EVERY packet the three engines must agree on verdict and status
 * (and the two interpreters on the instruction count), and the flow tables
 * must be equal: stats after every packet; every entry as vfm_flow_foreach
 * lists it, and the reference's table byte for byte, after every packet
 * that wrote to the table (the stats count each write) and after the
 * last.  A generated program the verifier
 * rejects is a finding too (generator or verifier bug).
 *
 * LLVMFuzzerCustomMutator / LLVMFuzzerCustomCrossOver apply progen_mutate /
 * progen_crossover to the program part (statement-level edits, so inputs
 * stay meaningful) and libFuzzer's byte mutator to the flags and packets.
 * With VFM_FUZZ_STATS set, the share of inputs whose program verifies is
 * printed at exit.
 *
 * With VFM_FUZZ_KERNEL set (and bpf() allowed), the kernel joins as a
 * fourth engine (testkit/kengine.h): each program compiled to eBPF and run
 * through BPF_PROG_TEST_RUN must give the interpreter's verdict and status,
 * and its flow maps the interpreter's table (entries and counters: after
 * every packet for tables of up to 64 entries, else after the last).
 * Programs the back end refuses within documented kernel limits
 * (docs/EBPF.md) are left out, and the kernel stops at the first packet
 * TEST_RUN cannot take (a wire length below the length or over 65522,
 * over 3000 bytes: its flow table would miss that packet); any other
 * refusal by the kernel's verifier is a finding.  Off by default: a load
 * costs the kernel milliseconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfm.h"
#include "program.h"
#include "../verifier/verifier.h"
#include "state.h"
#include "prng.h"
#include "progen.h"
#include "kengine.h"


#define FUZZ_NAME "fuzz_diff"
#include "fuzz_common.h"

#include "ref_interp.h"
#include "fuzz_kernel.h"

static const uint32_t budgets[8] = {0, 1, 2, 5, 16, 100, 1000, 4096};
static const uint32_t capacities[4] = {4, 8, 64, 0};

struct diff_input {
	uint32_t budget;
	uint32_t flow_capacity; /* 0 = default */
	int canned, ts_bytes;
	unsigned jit_flags; /* vfm_enable_jit_ex */
	const uint8_t *prog; /* choice string */
	size_t prog_len;
	const uint8_t *pkt_data;
	size_t pkt_len;
};

static void split_input(const uint8_t *data, size_t size, struct diff_input *in)
{
	memset(in, 0, sizeof *in);
	struct fuzz_frame fr;
	fuzz_frame_split(data, size, 0xFFFFu, &fr);
	uint8_t flags = fr.flags;
	in->budget = budgets[flags & 7u];
	in->flow_capacity = capacities[(flags >> 3) & 3u];
	in->canned = (flags >> 5) & 1u;
	in->ts_bytes = (flags >> 6) & 1u;
	in->jit_flags = (flags >> 7) & 1u ? VFM_JIT_HARDEN : 0;
	in->prog = fr.prog;
	in->prog_len = fr.prog_len;
	in->pkt_data = fr.pkts;
	in->pkt_len = fr.pkts_len;
}

/* ---- Packets ------------------------------------------------------------ */

/* The input's packets (timestamps from their bytes on request), then the
 * canned frames on request or when there are none (fuzz_common.h). */
static int cut_packets(const struct diff_input *in, struct fuzz_packets *ps)
{
	if (fuzz_cut_packets(ps, in->pkt_data, in->pkt_len, in->ts_bytes, FUZZ_EMPTY_NULL) != 0)
		return -1;
	if (in->canned || ps->n == 0)
		return fuzz_add_canned(ps, FUZZ_EMPTY_NULL);
	return 0;
}

/* ---- Flow tables -------------------------------------------------------- */

/* A flow table changes only by a store or an eviction, and the stats
 * count each: the writes (inserts + updates + evictions) of a table as of
 * its last entry-by-entry comparison. */
struct flow_watch {
	uint64_t writes;
};

static uint64_t flow_writes(const vfm_flow_stats_t *s)
{
	return s->inserts + s->updates + s->evictions;
}

/* Stats equal after every packet, and every entry (in table order) after
 * a packet that wrote to a's table and after the last one: walking a
 * 16384-entry table after every packet was most of this harness's time,
 * and a table whose stats say nothing was written is the one compared
 * last time (a write that escaped the stats is still caught at the end). */
static void check_flow_eq(const vfm_state_t *a, const vfm_state_t *b, const char *what,
			  size_t pkt, struct flow_watch *w, int last)
{
	vfm_flow_stats_t sa, sb;
	CHECK(vfm_flow_stats(a, &sa) == VFM_OK && vfm_flow_stats(b, &sb) == VFM_OK,
	      "vfm_flow_stats failed");
	CHECK(memcmp(&sa, &sb, sizeof sa) == 0,
	      "after packet %zu: flow stats differ, interpreter vs %s (entries %llu/%llu "
	      "hits %llu/%llu misses %llu/%llu inserts %llu/%llu updates %llu/%llu "
	      "evictions %llu/%llu)", pkt, what,
	      (unsigned long long)sa.entries, (unsigned long long)sb.entries,
	      (unsigned long long)sa.hits, (unsigned long long)sb.hits,
	      (unsigned long long)sa.misses, (unsigned long long)sb.misses,
	      (unsigned long long)sa.inserts, (unsigned long long)sb.inserts,
	      (unsigned long long)sa.updates, (unsigned long long)sb.updates,
	      (unsigned long long)sa.evictions, (unsigned long long)sb.evictions);
	if (!last && flow_writes(&sa) == w->writes)
		return;
	w->writes = flow_writes(&sa);
	static struct fuzz_flow_dump da, db;
	fuzz_flow_dump(a, &da, FUZZ_FLOW_DUMP_MAX);
	fuzz_flow_dump(b, &db, FUZZ_FLOW_DUMP_MAX);
	CHECK(da.total == sa.entries && db.total == sb.entries,
	      "after packet %zu: foreach visits %zu/%zu entries, stats say %llu", pkt,
	      da.total, db.total, (unsigned long long)sa.entries);
	CHECK(da.n == db.n && memcmp(da.key, db.key, da.n * sizeof da.key[0]) == 0 &&
		      memcmp(da.value, db.value, da.n * sizeof da.value[0]) == 0,
	      "after packet %zu: flow entries differ, interpreter vs %s", pkt, what);
}

/* ---- Statistics --------------------------------------------------------- */

static unsigned long n_inputs, n_decoded, n_verified, n_jit, n_kernel;

static void print_stats(void)
{
	if (n_inputs == 0) /* libFuzzer's -jobs parent runs no input */
		return;
	fprintf(stderr,
		"fuzz_diff: %lu inputs, %lu programs decoded, %lu verified (%.2f%%), "
		"%lu run on the JIT, %lu on the kernel\n",
		n_inputs, n_decoded, n_verified,
		n_inputs ? 100.0 * (double)n_verified / (double)n_inputs : 0.0, n_jit, n_kernel);
}

FUZZ_PRINT_STATS_AT_EXIT(print_stats)


/* ---- Execution ---------------------------------------------------------- */

static void run_diff(vfm_program_t *prog, const struct diff_input *in)
{
	uint32_t n = vfm_program_insn_count(prog);
	vfm_config_t cfg = {.flow_capacity = in->flow_capacity, .budget = in->budget,
			    .budget_set = 1};
	uint64_t bound = vfm_facts_has_backward(prog) ? ((uint64_t)cfg.budget + 1) * n : n;
	struct fuzz_packets ps;
	if (cut_packets(in, &ps) != 0)
		return;
	size_t count = fuzz_packets_within(bound, ps.n);

	vfm_diag_t diag;
	vfm_state_t *a = vfm_create_with(&cfg, &diag);
	CHECK(a, "vfm_create_with failed: %s", diag.message);
	vfm_state_t *c = vfm_create_with(&cfg, &diag);
	CHECK(c, "vfm_create_with failed: %s", diag.message);
	/* The JIT's code without instruction counting (vfm_execute's). */
	vfm_config_t nocount = cfg;
	nocount.no_insns = 1;
	vfm_state_t *v = vfm_create_with(&nocount, &diag);
	CHECK(v, "vfm_create_with failed: %s", diag.message);
	/* The interpreter's other entries (vm/interp.c): without counting
	 * (vfm_execute_ex on a no_insns VM), and vfm_execute's verdict-only
	 * loop, compared with vfm_execute_ex on the same packet with the
	 * timestamp and wire length vfm_execute implies (0). */
	vfm_state_t *inc = vfm_create_with(&nocount, &diag);
	CHECK(inc, "vfm_create_with failed: %s", diag.message);
	vfm_state_t *pp = vfm_create_with(&cfg, &diag);
	CHECK(pp, "vfm_create_with failed: %s", diag.message);
	vfm_state_t *pq = vfm_create_with(&cfg, &diag);
	CHECK(pq, "vfm_create_with failed: %s", diag.message);
	CHECK(vfm_attach_program(a, prog) == VFM_OK, "attach failed");
	CHECK(vfm_attach_program(c, prog) == VFM_OK, "attach failed");
	CHECK(vfm_attach_program(v, prog) == VFM_OK, "attach failed");
	CHECK(vfm_attach_program(inc, prog) == VFM_OK, "attach failed");
	CHECK(vfm_attach_program(pp, prog) == VFM_OK, "attach failed");
	CHECK(vfm_attach_program(pq, prog) == VFM_OK, "attach failed");
	vfm_error_t jerr = vfm_enable_jit_ex(c, in->jit_flags);
	if (jerr == VFM_OK)
		CHECK(vfm_enable_jit_ex(v, in->jit_flags) == VFM_OK,
		      "vfm_enable_jit on a second VM failed");
	CHECK(jerr == VFM_OK || jerr == VFM_EUNSUPPORTED || jerr == VFM_ETOOBIG,
	      "vfm_enable_jit: %s: %s", vfm_error_name(jerr), vfm_last_error(c));
	int jit = jerr == VFM_OK;
	n_jit += jit;
	struct ref_ctx rc;
	uint32_t cap = in->flow_capacity ? in->flow_capacity : VFM_DEFAULT_FLOW_CAPACITY;
	int ref = ref_init(&rc, prog, cap, cfg.budget) == 0;
	struct kengine kern;
	int kernel = kernel_wanted() &&
		     kernel_load(prog, &(struct kengine_config){.budget = cfg.budget,
							 .flow_capacity = cfg.flow_capacity},
				 &kern);
	int kernel_ran = kernel;
	n_kernel += kernel;

	struct flow_watch w_inc = {0}, w_pq = {0}, w_jit = {0}, w_jitv = {0}, w_ref = {0};
	for (size_t i = 0; i < count; i++) {
		int last = i + 1 == count;
		vfm_result_t ra, rj, rr;
		memset(&ra, 0xA5, sizeof ra);
		memset(&rj, 0x3C, sizeof rj);
		CHECK(vfm_execute_ex(a, &ps.pkt[i], &ra) == VFM_OK, "execute_ex failed");
		CHECK(ra.status == VFM_STATUS_OK || ra.status == VFM_STATUS_BOUNDS ||
			      ra.status == VFM_STATUS_BUDGET,
		      "packet %zu: status %d", i, (int)ra.status);
		CHECK(ra.status == VFM_STATUS_OK || ra.verdict == 0,
		      "packet %zu: verdict %u with status %s", i, ra.verdict,
		      vfm_status_name(ra.status));
		CHECK(ra.insns >= 1 && ra.insns <= bound, "packet %zu: %llu insns, bound %llu", i,
		      (unsigned long long)ra.insns, (unsigned long long)bound);
		{
			vfm_result_t rn;
			memset(&rn, 0x5A, sizeof rn);
			CHECK(vfm_execute_ex(inc, &ps.pkt[i], &rn) == VFM_OK, "execute_ex failed");
			CHECK(rn.verdict == ra.verdict && rn.status == ra.status && rn.insns == 0,
			      "packet %zu: interpreter gives %u/%s, without counting %u/%s "
			      "(insns %llu)", i, ra.verdict, vfm_status_name(ra.status), rn.verdict,
			      vfm_status_name(rn.status), (unsigned long long)rn.insns);
			check_flow_eq(a, inc, "interpreter without counting", i, &w_inc, last);
			vfm_packet_t p0 = ps.pkt[i];
			p0.ts_ns = 0;
			p0.wire_len = 0;
			CHECK(vfm_execute_ex(pq, &p0, &rn) == VFM_OK, "execute_ex failed");
			uint32_t vp = vfm_execute(pp, p0.data, p0.len);
			CHECK(vp == rn.verdict, "packet %zu: vfm_execute gives %u, vfm_execute_ex %u",
			      i, vp, rn.verdict);
			check_flow_eq(pq, pp, "interpreter vfm_execute", i, &w_pq, last);
		}
		if (jit) {
			CHECK(vfm_execute_ex(c, &ps.pkt[i], &rj) == VFM_OK, "JIT execute_ex failed");
			CHECK(rj.verdict == ra.verdict && rj.status == ra.status && rj.insns == ra.insns,
			      "packet %zu: interpreter gives %u/%s, JIT %u/%s (insns %llu)", i,
			      ra.verdict, vfm_status_name(ra.status), rj.verdict,
			      vfm_status_name(rj.status), (unsigned long long)rj.insns);
			check_flow_eq(a, c, "JIT", i, &w_jit, last);
			memset(&rj, 0x3C, sizeof rj);
			CHECK(vfm_execute_ex(v, &ps.pkt[i], &rj) == VFM_OK, "JIT execute_ex failed");
			CHECK(rj.verdict == ra.verdict && rj.status == ra.status && rj.insns == 0,
			      "packet %zu: interpreter gives %u/%s, JIT without counting %u/%s "
			      "(insns %llu)", i, ra.verdict, vfm_status_name(ra.status), rj.verdict,
			      vfm_status_name(rj.status), (unsigned long long)rj.insns);
			check_flow_eq(a, v, "JIT without counting", i, &w_jitv, last);
		}
		vfm_result_t rk;
		vfm_diag_t kd;
		vfm_error_t kerr = kernel ? kengine_run(&kern, &ps.pkt[i], &rk, &kd) : VFM_EUNSUPPORTED;
		CHECK(kerr == VFM_OK || kerr == VFM_EUNSUPPORTED, "packet %zu: kernel: %s", i,
		      kd.message);
		if (kerr == VFM_OK) {
			CHECK(rk.verdict == ra.verdict && rk.status == ra.status,
			      "packet %zu: interpreter gives %u/%s, kernel %u/%s", i, ra.verdict,
			      vfm_status_name(ra.status), rk.verdict, vfm_status_name(rk.status));
			if (cap <= 64)
				CHECK(kengine_flow_check(&kern, a, &kd) == VFM_OK,
				      "packet %zu: kernel: %s", i, kd.message);
		} else if (kernel) {
			/* A packet the kernel cannot take: its table would
			 * lack this packet's effect; stop comparing here. */
			kernel = 0;
		}
		if (ref) {
			ref_run(&rc, &ps.pkt[i], &rr);
			CHECK(rr.verdict == ra.verdict && rr.status == ra.status &&
				      rr.insns == ra.insns,
			      "packet %zu: interpreter gives %u/%s/%llu, reference %u/%s/%llu", i,
			      ra.verdict, vfm_status_name(ra.status),
			      (unsigned long long)ra.insns, rr.verdict,
			      vfm_status_name(rr.status), (unsigned long long)rr.insns);
			vfm_flow_stats_t sa;
			vfm_flow_stats(a, &sa);
			int wrote = last || flow_writes(&sa) != w_ref.writes;
			w_ref.writes = flow_writes(&sa);
			check_flow_ref(a, &rc, wrote);
		}
	}
	if (ref)
		ref_free(&rc);
	vfm_diag_t kd0;
	if (kernel && cap > 64)
		CHECK(kengine_flow_check(&kern, a, &kd0) == VFM_OK, "kernel: %s", kd0.message);
	if (kernel_ran)
		kengine_close(&kern);
	vfm_destroy(a);
	vfm_destroy(c);
	vfm_destroy(v);
	vfm_destroy(inc);
	vfm_destroy(pp);
	vfm_destroy(pq);
	fuzz_free_packets(&ps);
}

/* Decode the program part and load it.  Returns the program or NULL (only
 * for out of memory: anything else is a finding). */
static vfm_program_t *make_program(const struct diff_input *in, char **text_out)
{
	char *text = NULL;
	int rc = progen_from_bytes(in->prog, in->prog_len, &text);
	if (rc == PROGEN_ENOMEM)
		return NULL;
	CHECK(rc == PROGEN_OK && text, "progen_from_bytes: %s", progen_strerror(rc));
	n_decoded++;
	uint8_t *image = NULL;
	size_t len = 0;
	vfm_diag_t diag;
	vfm_error_t err = progen_assemble(text, &image, &len, &diag);
	if (err == VFM_ENOMEM) {
		free(text);
		return NULL;
	}
	CHECK(err == VFM_OK, "generated program does not assemble: %s\n--- program ---\n%s",
	      diag.message, text);
	vfm_program_t *prog = NULL;
	err = vfm_program_create(image, len, &prog, &diag);
	free(image);
	if (err == VFM_ENOMEM) {
		free(text);
		return NULL;
	}
	CHECK(err == VFM_OK, "generated program rejected: %s: %s\n--- program ---\n%s",
	      vfm_error_name(err), diag.message, text);
	n_verified++;
	if (text_out)
		*text_out = text;
	else
		free(text);
	return prog;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff_input in;
	split_input(data, size, &in);
	n_inputs++;
	vfm_program_t *prog = make_program(&in, NULL);
	if (!prog)
		return 0;
	run_diff(prog, &in);
	vfm_program_release(prog);
	return 0;
}

/* ---- Custom mutator ----------------------------------------------------- */

/* Structural edits of the program part (fuzz/frame_mutator.h). */
#include "frame_mutator.h"

/* ---- Triage ------------------------------------------------------------- */

void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out);
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out)
{
	struct diff_input in;
	split_input(data, size, &in);
	fprintf(out, "input: %zu bytes\nbudget: %u\nflow capacity: %u\ncanned packets: %s\n"
		     "timestamps: %s\nchoice string: %zu bytes\npacket bytes: %zu\n",
		size, in.budget, in.flow_capacity ? in.flow_capacity : VFM_DEFAULT_FLOW_CAPACITY,
		in.canned ? "yes" : "no", in.ts_bytes ? "from packet bytes" : "1 s apart",
		in.prog_len, in.pkt_len);
	char *text = NULL;
	int rc = progen_from_bytes(in.prog, in.prog_len, &text);
	if (rc != PROGEN_OK) {
		fprintf(out, "progen_from_bytes: %s\n", progen_strerror(rc));
		return;
	}
	fprintf(out, "--- generated program ---\n%s--- end ---\n", text);
	uint8_t *image = NULL;
	size_t len = 0;
	vfm_diag_t diag;
	vfm_program_t *prog = NULL;
	vfm_error_t err = progen_assemble(text, &image, &len, &diag);
	if (err == VFM_OK)
		err = vfm_program_create(image, len, &prog, &diag);
	fprintf(out, "load: %s%s%s\n", vfm_error_name(err), err ? ": " : "",
		err ? diag.message : "");
	free(image);
	free(text);
	struct fuzz_packets ps;
	vfm_state_t *vm = NULL, *jvm = NULL;
	if (prog) {
		vfm_config_t cfg = {.flow_capacity = in.flow_capacity, .budget = in.budget,
				    .budget_set = 1};
		vm = vfm_create_with(&cfg, NULL);
		jvm = vfm_create_with(&cfg, NULL);
		if (vm)
			vfm_attach_program(vm, prog);
		if (jvm && (vfm_attach_program(jvm, prog) != VFM_OK ||
			    vfm_enable_jit_ex(jvm, in.jit_flags) != VFM_OK)) {
			vfm_destroy(jvm);
			jvm = NULL;
		}
	}
	if (cut_packets(&in, &ps) == 0) {
		for (size_t i = 0; i < ps.n; i++) {
			fuzz_describe_packet(out, i, &ps.pkt[i]);
			vfm_result_t r;
			if (vm && vfm_execute_ex(vm, &ps.pkt[i], &r) == VFM_OK)
				fprintf(out, "  interpreter: verdict %u, status %s, %llu insns\n",
					r.verdict, vfm_status_name(r.status),
					(unsigned long long)r.insns);
			if (jvm && vfm_execute_ex(jvm, &ps.pkt[i], &r) == VFM_OK)
				fprintf(out, "  JIT%s verdict %u, status %s\n",
					in.jit_flags ? " (blinded):" : ":        ", r.verdict,
					vfm_status_name(r.status));
		}
	}
	vfm_destroy(vm);
	vfm_destroy(jvm);
	vfm_program_release(prog);
	fuzz_free_packets(&ps);
}
