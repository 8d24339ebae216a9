/*
 * bench/cgrun.c — vfm-cgrun: run one filter over the bench's packet mix
 * with one engine, for exact instruction counts under callgrind (wall time
 * on a shared machine is noisy; instruction counts are not):
 *
 *   valgrind --tool=callgrind --toggle-collect=cg_loop \
 *       build/bench/vfm-cgrun FILTER.vfm jit|interp|native N
 *
 * Ir / N is the cost of one public API call per packet, as vfm-bench makes
 * it: vfm_execute, or vfm_execute_ex with --ex (the stateful filters need
 * the timestamp).  `make bench-callgrind` runs F1-F4, ddos and rate.
 * `native` runs bench/native.c's hand-written C for the filter (named by
 * its file: f1..f4, ddos_detect, rate_limit), through a function pointer
 * as vfm-bench calls it.
 * The mix is vfm-bench's (same seed and gap), so edge-rich packets are in.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfm.h"
#include "fileio.h"
#include "native.h"
#include "pktgen.h"

#define CG_SEED 0xBE4C5EEDull /* bench.h MIX_SEED */
#define CG_GAP_NS 1000000u    /* bench.h MIX_GAP_NS */

/* The measured loop: callgrind's --toggle-collect counts only inside. */
__attribute__((noinline)) uint64_t cg_loop(vfm_state_t *vm, const vfm_packet_t *p, size_t n,
					   int ex);
__attribute__((noinline)) uint64_t cg_loop(vfm_state_t *vm, const vfm_packet_t *p, size_t n,
					   int ex)
{
	uint64_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		if (ex) {
			vfm_result_t r;
			vfm_execute_ex(vm, &p[i], &r);
			acc += r.verdict;
		} else {
			acc += vfm_execute(vm, p[i].data, p[i].len);
		}
	}
	return acc;
}

__attribute__((noinline)) uint64_t cg_native(native_fn fn, void *ctx, const vfm_packet_t *p,
					     size_t n);
__attribute__((noinline)) uint64_t cg_native(native_fn fn, void *ctx, const vfm_packet_t *p,
					     size_t n)
{
	uint64_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc += fn(ctx, p[i].data, p[i].len, p[i].ts_ns);
	return acc;
}

static native_fn native_of(const char *path, int *stateful)
{
	static const struct { const char *name; native_fn fn; int stateful; } tab[] = {
		{"f1.vfm", native_f1, 0}, {"f2.vfm", native_f2, 0}, {"f3.vfm", native_f3, 0},
		{"f4.vfm", native_f4, 0}, {"ddos_detect.vfm", native_ddos, 1},
		{"rate_limit.vfm", native_rate, 1},
	};
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++)
		if (strcmp(base, tab[k].name) == 0) {
			*stateful = tab[k].stateful;
			return tab[k].fn;
		}
	return NULL;
}

int main(int argc, char **argv)
{
	int ex = 0;
	if (argc > 1 && strcmp(argv[1], "--ex") == 0) {
		ex = 1;
		argc--;
		argv++;
	}
	if (argc != 4 || (strcmp(argv[2], "jit") && strcmp(argv[2], "interp") &&
			  strcmp(argv[2], "native"))) {
		fprintf(stderr, "usage: vfm-cgrun [--ex] FILTER.vfm jit|interp|native PACKETS\n");
		return 2;
	}
	size_t n = strtoul(argv[3], NULL, 10);
	uint8_t *src, *bin;
	size_t src_len, bin_len;
	vfm_diag_t diag;
	if (fileio_read(argv[1], &src, &src_len) != 0) {
		perror(argv[1]);
		return 3;
	}
	if (vfm_assemble((const char *)src, src_len, argv[1], 1, &bin, &bin_len, &diag) != VFM_OK) {
		fprintf(stderr, "%s\n", diag.message);
		return 1;
	}
	vfm_state_t *vm = vfm_create();
	if (!vm || vfm_load_program(vm, bin, bin_len) != VFM_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], vm ? vfm_last_error(vm) : "vfm_create");
		return 1;
	}
	if (strcmp(argv[2], "jit") == 0 && vfm_enable_jit(vm) != VFM_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], vfm_last_error(vm));
		return 1;
	}
	struct pktgen_config cfg = {.seed = CG_SEED, .count = n, .mean_gap_ns = CG_GAP_NS};
	struct pktgen_set set;
	if (pktgen_generate(&cfg, &set) != 0)
		return 2;
	vfm_packet_t *p = calloc(n ? n : 1, sizeof *p);
	if (!p)
		return 2;
	for (size_t i = 0; i < n; i++)
		p[i] = (vfm_packet_t){.data = set.pkts[i].data, .len = set.pkts[i].len,
				      .ts_ns = set.pkts[i].ts_ns};
	uint64_t acc;
	if (strcmp(argv[2], "native") == 0) {
		int stateful = 0;
		native_fn fn = native_of(argv[1], &stateful);
		if (!fn) {
			fprintf(stderr, "%s: no hand-written C version\n", argv[1]);
			return 2;
		}
		struct native_flow *ft = stateful ? native_flow_create(VFM_DEFAULT_FLOW_CAPACITY) : NULL;
		acc = cg_native(fn, ft, p, n);
		native_flow_destroy(ft);
	} else {
		acc = cg_loop(vm, p, n, ex);
	}
	printf("%s %s: %zu packets, verdict sum %" PRIu64 "\n", argv[1], argv[2], n, acc);
	free(p);
	pktgen_free(&set);
	vfm_destroy(vm);
	free(bin);
	free(src);
	return 0;
}
