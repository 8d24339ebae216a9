/*
 * tests/ebpf_campaign.c — the kernel verifier cross-check (issue 12,
 * docs/EBPF.md "Kernel verifier campaign"): generated programs
 * (testkit/progen: every statement kind, loops, budget loops, deep stacks,
 * flow ops, HASH5) that VFM's verifier accepted, compiled to eBPF, loaded
 * by this kernel and run on generated packets against the interpreter
 * (verdict, status through the raw mode, the flow table after all
 * packets).  Every refusal is triaged:
 *
 *   limit      a kernel limit docs/EBPF.md documents: the compiler's
 *              refusals naming the limit and the pc (stack frame,
 *              instruction count, branch span), and the kernel verifier's
 *              complexity limits (1M processed instructions, 8192 jumps)
 *   other      any other kernel refusal: our translation or a VFM claim
 *              the kernel cannot see, to be read from the kept log
 *   mismatch   accepted but a different verdict, status or table
 *
 * The first log of each kind is kept in --logs DIR.  `make check` runs a
 * few hundred programs through tests/test_ebpf.c instead.
 *
 *   build/tests/ebpf_campaign [--count N] [--seed S] [--packets P]
 *                             [--logs DIR] [--full]
 *
 * --full also loads and compares the tc, XDP and socket filter programs
 * (four times the kernel verifier's time).  Exit status: 0 if no mismatch
 * and no unexplained refusal, 1 otherwise, 2 for bad arguments, 77 if
 * bpf() is not available (skip).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kengine.h"
#include "pktgen.h"
#include "progen.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ebpf_campaign [--count N] [--seed S] [--packets P] [--logs DIR] [--full]\n"
		   "Generated programs on the kernel (eBPF) vs the interpreter; triage of refusals.\n");
}

static void keep_log(const char *dir, const char *kind, unsigned n, const char *src,
		     const char *why, const char *log)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s-%u.txt", dir, kind, n);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "; %s\n; %s\n%s\n; ---- kernel verifier log ----\n%s", kind, why, src,
		log ? log : "");
	fclose(f);
}

static bool is_complexity(const char *log)
{
	return strstr(log, "BPF program is too large") || strstr(log, "jumps is too complex");
}

int main(int argc, char **argv)
{
	unsigned count = 10000, n_pkts = 16;
	uint64_t seed = 1;
	const char *logs = "build/ebpf-campaign";
	bool full = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--full")) {
			full = true;
		} else if (i + 1 < argc && !strcmp(a, "--count")) {
			count = (unsigned)strtoul(argv[++i], NULL, 0);
		} else if (i + 1 < argc && !strcmp(a, "--seed")) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (i + 1 < argc && !strcmp(a, "--packets")) {
			n_pkts = (unsigned)strtoul(argv[++i], NULL, 0);
		} else if (i + 1 < argc && !strcmp(a, "--logs")) {
			logs = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!count || !n_pkts || n_pkts > 256) {
		fprintf(stderr, "ebpf_campaign: --count must be > 0 and --packets 1..256\n");
		return 2;
	}
	char why[320];
	if (!kengine_available(why, sizeof why)) {
		printf("ebpf_campaign: skipped, the kernel engine is not available: %s\n", why);
		return 77;
	}
	if (mkdir(logs, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "ebpf_campaign: cannot create %s: %s\n", logs, strerror(errno));
		return 1;
	}
	struct pktgen_config pcfg = {.seed = seed, .count = 4096};
	struct pktgen_set set;
	if (pktgen_generate(&pcfg, &set) != 0) {
		fprintf(stderr, "ebpf_campaign: pktgen failed\n");
		return 1;
	}
	static const uint32_t budgets[] = {0, 4, 16, 64};
	static const uint32_t stacks[] = {8, 16, 32, 48, 64, 256};
	static const uint32_t caps[] = {4, 16, 256, 0};
	unsigned n_same = 0, n_limit_compile = 0, n_limit_kernel = 0, n_other = 0, n_mismatch = 0,
		 n_failed = 0, n_flow = 0, n_hash5 = 0, n_loops = 0;
	unsigned long packets = 0, statuses[VFM_STATUS_COUNT] = {0}, entries = 0;
	vfm_packet_t *pkts = calloc(n_pkts, sizeof *pkts);
	time_t t0 = time(NULL);
	for (unsigned p = 0; p < count; p++) {
		struct progen_config cfg;
		progen_config_init(&cfg);
		cfg.target_insns = 8u + (p % 9) * 16u;
		cfg.max_stack = stacks[p % 6];
		char *src;
		if (progen_generate(&cfg, seed * 1000003u + p, &src) != 0) {
			fprintf(stderr, "ebpf_campaign: progen failed at %u\n", p);
			return 1;
		}
		uint8_t *bin;
		size_t len;
		vfm_diag_t d;
		vfm_program_t *prog = NULL;
		if (progen_assemble(src, &bin, &len, &d) != VFM_OK ||
		    vfm_program_create(bin, len, &prog, &d) != VFM_OK) {
			/* progen's programs pass VFM's verifier by construction */
			fprintf(stderr, "ebpf_campaign: program %u not accepted by VFM: %s\n%s\n", p,
				d.message, src);
			return 1;
		}
		free(bin);
		n_flow += strstr(src, "FLOW_") != NULL;
		n_hash5 += strstr(src, "HASH5") != NULL;
		n_loops += strstr(src, "; loop") != NULL;
		for (unsigned i = 0; i < n_pkts; i++) {
			const struct pktgen_packet *pk = &set.pkts[(p * 131u + i * 17u) % set.count];
			pkts[i] = (vfm_packet_t){.data = pk->data, .len = pk->len, .ts_ns = pk->ts_ns,
						 .wire_len = i % 3 ? 0 : pk->len + 100};
		}
		struct kengine_config kcfg = {.budget = budgets[p % 4],
					      .helper_loads = p % 5 == 4,
					      .flow_capacity = caps[p % 4],
					      .raw_only = !full};
		struct kengine_diff r;
		kengine_diff(prog, &kcfg, pkts, n_pkts, &r);
		vfm_program_release(prog);
		switch (r.outcome) {
		case KENGINE_SAME:
			n_same++;
			packets += r.packets;
			for (int s = 0; s < VFM_STATUS_COUNT; s++)
				statuses[s] += r.statuses[s];
			entries += r.flow_entries;
			break;
		case KENGINE_COMPILE_REFUSED:
			if (r.err == VFM_ETOOBIG) {
				if (!n_limit_compile++)
					keep_log(logs, "limit-compiler", p, src, r.diag.message, NULL);
			} else {
				if (!n_other++)
					keep_log(logs, "other-compiler", p, src, r.diag.message, NULL);
				printf("program %u: compiler: %s\n", p, r.diag.message);
			}
			break;
		case KENGINE_KERNEL_REFUSED:
			if (is_complexity(kengine_log())) {
				if (!n_limit_kernel++)
					keep_log(logs, "limit-kernel", p, src, r.diag.message, kengine_log());
			} else {
				keep_log(logs, "other-kernel", p, src, r.diag.message, kengine_log());
				n_other++;
				printf("program %u: kernel: %s\n", p, r.diag.message);
			}
			break;
		case KENGINE_MISMATCH:
			keep_log(logs, "mismatch", p, src, r.diag.message, NULL);
			n_mismatch++;
			printf("program %u: MISMATCH %s\n", p, r.diag.message);
			break;
		case KENGINE_FAILED:
			keep_log(logs, "failed", p, src, r.diag.message, NULL);
			n_failed++;
			printf("program %u: failed: %s\n", p, r.diag.message);
			break;
		}
		free(src);
		if ((p + 1) % 100 == 0 || p + 1 == count) {
			unsigned done = p + 1;
			printf("%s: %u programs (seed %llu, %s): with flow ops %u, HASH5 %u, loops %u\n"
			       "  kernel accepted and equal: %u (%.2f%%)\n"
			       "  refused, documented limit, by the compiler (stack/insns/branch): %u\n"
			       "  refused, documented limit, kernel complexity (1M insns / 8192 jumps): %u\n"
			       "  refused otherwise (see %s): %u\n"
			       "  mismatches: %u, harness failures: %u\n"
			       "  %lu packets compared: OK %lu, BOUNDS %lu, BUDGET %lu; %lu flow entries "
			       "compared\n  %ld s\n",
			       done == count ? "ebpf_campaign" : "...", done,
			       (unsigned long long)seed, full ? "all program types" : "raw programs",
			       n_flow, n_hash5, n_loops, n_same, 100.0 * n_same / done, n_limit_compile,
			       n_limit_kernel, logs, n_other, n_mismatch, n_failed, packets,
			       statuses[VFM_STATUS_OK], statuses[VFM_STATUS_BOUNDS],
			       statuses[VFM_STATUS_BUDGET], entries, (long)(time(NULL) - t0));
			fflush(stdout);
		}
	}
	free(pkts);
	pktgen_free(&set);
	return n_other || n_mismatch || n_failed ? 1 : 0;
}
