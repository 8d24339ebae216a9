/*
 * bench/kbench.c — vfm-kbench: the kernel column of the benchmark.
 *
 * For each bench filter (F1-F4, ddos_detect, rate_limit; the last two also
 * with the flow table per CPU), the VFM program
 * compiled by the eBPF back end (vfm_compile_ebpf, tc target) and the same
 * filter in C compiled with `clang -target bpf -O2` (bench/native.bpf.c)
 * run in the kernel under BPF_PROG_TEST_RUN, over the same packets of the
 * bench's generated mix, in one process.  The stateful filters keep their
 * flow table in an ARRAY map of 4-way sets; repeating one packet makes
 * their timing that of a table hit (the key is the packet's), and a
 * filter the back end refuses is timed on clang's side only and named.  The figure per engine is ns per packet:
 * the mean over the packets of the kernel's per-run duration with a large
 * repeat, minus that of an empty program run on the same packet just
 * before (the test-run loop's own cost).  The engines' order alternates;
 * the report gives medians and [min-max] over the rounds and the ratio of
 * the medians VFM-eBPF / clang-eBPF.
 *
 * Before timing, every packet's return value must be equal on both
 * programs and equal to the interpreter's verdict mapped as the tc target
 * maps it (TC_ACT_OK if non-zero, else TC_ACT_SHOT): a mismatch exits 1.
 * Where bpf() is refused (not root, no BPF) it says so and exits 0, so
 * that `make bench` goes on.
 *
 * The kernel reports the duration as whole ns per run: the truncation
 * averages out over the packets and mostly cancels in the floor
 * subtraction, but differences below ~0.5 ns mean nothing.
 */
#define _GNU_SOURCE /* sched_setaffinity, sched_getcpu */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <linux/pkt_cls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfm.h"
#include "../ebpf/ebpf.h"
#include "fileio.h"
#include "pktgen.h"

#define MIX_SEED 0xBE4C5EEDull /* as vfm-bench (bench/bench.h) */
#define MAX_ROUNDS 31

struct kfilter {
	const char *id, *path, *native; /* bench filter, its .vfm, its function in native.bpf.c */
	const char *native_map;         /* its flow table in native.bpf.c, or NULL */
	int vfm_fd, clang_fd, clang_map_fd;
	int vfm_map_fd;                 /* the VFM program's flow map, or -1 */
	struct vfm_ebpf_map vfm_map;    /* its description (refs not kept) */
	char vfm_refused[sizeof ((vfm_diag_t *)0)->message]; /* why the back end refused it, or "" */
	uint32_t vfm_insns, clang_insns; /* eBPF instructions of each */
	double ns[2][MAX_ROUNDS];       /* [0] VFM, [1] clang; floor subtracted */
	bool per_cpu;                   /* VFM's flow map per CPU (vfm_ebpf_options.flow_per_cpu) */
};

/* The bench filters (bench/bench_engines.c's filter_defs). */
static struct kfilter filters[] = {
	{"F1", "bench/filters/f1.vfm", "native_f1", NULL, -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, false},
	{"F2", "bench/filters/f2.vfm", "native_f2", NULL, -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, false},
	{"F3", "bench/filters/f3.vfm", "native_f3", NULL, -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, false},
	{"F4", "bench/filters/f4.vfm", "native_f4", NULL, -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, false},
	{"ddos", "examples/ddos_detect.vfm", "native_ddos", "ddos_flow", -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, false},
	{"rate", "examples/rate_limit.vfm", "native_rate", "rate_flow", -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, false},
	/* The same with VFM's flow table per CPU: its cost against the
	 * shared ARRAY (clang's side is the same ARRAY program). */
	{"ddos-pcpu", "examples/ddos_detect.vfm", "native_ddos", "ddos_flow", -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, true},
	{"rate-pcpu", "examples/rate_limit.vfm", "native_rate", "rate_flow", -1, -1, -1, -1, {0}, "", 0, 0, {{0}}, true},
};
#define N_FILTERS ((int)(sizeof filters / sizeof filters[0]))

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("vfm-kbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* One BPF_PROG_TEST_RUN: 0 and the kernel's mean duration of one run
 * (ns) and the return value, or -1 with errno. */
static int try_run(int fd, const struct pktgen_packet *pk, int repeat, uint32_t *ns,
		   uint32_t *retval)
{
	static uint8_t out[PKTGEN_MAX_FRAME];
	/* The packet's time as skb->tstamp, where VFM's tc target reads TS. */
	struct __sk_buff ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.tstamp = pk->ts_ns;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pk->data, .data_size_in = pk->len,
		    .data_out = out, .data_size_out = sizeof out, .ctx_in = &ctx,
		    .ctx_size_in = sizeof ctx, .repeat = repeat);
	if (bpf_prog_test_run_opts(fd, &o) != 0)
		return -1;
	*ns = o.duration;
	if (retval)
		*retval = o.retval;
	return 0;
}

static uint32_t test_run(int fd, const struct pktgen_packet *pk, int repeat, uint32_t *retval)
{
	uint32_t ns;
	if (try_run(fd, pk, repeat, &ns, retval) != 0)
		die("BPF_PROG_TEST_RUN of a %u-byte %s packet: %s", pk->len,
		    pktgen_kind_name(pk->kind), strerror(errno));
	return ns;
}

/* Every element of an ARRAY map back to zeros. */
static void clear_map(int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof info;
	memset(&info, 0, sizeof info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
		die("bpf_obj_get_info_by_fd: %s", strerror(errno));
	void *zero = calloc(1, info.value_size);
	if (!zero)
		die("out of memory");
	for (uint32_t k = 0; k < info.max_entries; k++)
		if (bpf_map_update_elem(fd, &k, zero, BPF_ANY) != 0)
			die("bpf_map_update_elem: %s", strerror(errno));
	free(zero);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median, min and max of v[0..n). */
static void stats(const double *v, int n, double *med, double *min, double *max)
{
	double s[MAX_ROUNDS];
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	*med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	*min = s[0];
	*max = s[n - 1];
}

static void load_vfm(struct kfilter *f, const char *root)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, f->path);
	uint8_t *src, *bin;
	size_t src_len, bin_len;
	if (fileio_read(path, &src, &src_len) != 0)
		die("%s: %s", path, strerror(errno));
	vfm_diag_t diag;
	vfm_program_t *prog;
	if (vfm_assemble((const char *)src, src_len, path, 0, &bin, &bin_len, &diag) != VFM_OK ||
	    vfm_program_create(bin, bin_len, &prog, &diag) != VFM_OK)
		die("%s", diag.message);
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_TC);
	opt.flow_per_cpu = f->per_cpu;
	struct vfm_ebpf_prog ep;
	vfm_error_t cerr = vfm_compile_ebpf(prog, &opt, &ep, &diag);
	if (cerr == VFM_EUNSUPPORTED || cerr == VFM_ETOOBIG) {
		/* Reported in the table; the clang column still runs. */
		snprintf(f->vfm_refused, sizeof f->vfm_refused, "%s", diag.message);
		vfm_program_release(prog);
		free(bin);
		free(src);
		return;
	}
	if (cerr != VFM_OK)
		die("%s: %s", path, diag.message);
	f->vfm_insns = ep.n_insns;
	vfm_error_t err = VFM_OK;
	if (ep.n_maps) { /* the flow table: a map of its own, bound into the code */
		f->vfm_map = ep.maps[0];
		f->vfm_map.refs = NULL;
		f->vfm_map.n_refs = 0;
		err = vfm_ebpf_map_create(&ep.maps[0], &f->vfm_map_fd, &diag);
		if (err == VFM_OK)
			err = vfm_ebpf_prog_bind_map(&ep, 0, f->vfm_map_fd, &diag);
	}
	if (err == VFM_OK)
		err = vfm_ebpf_kernel_load(&ep, &f->vfm_fd, NULL, 0, &diag);
	if (err == VFM_EUNSUPPORTED) {
		printf("vfm-kbench: skipped: %s\n", diag.message);
		exit(0);
	}
	if (err != VFM_OK)
		die("%s: the kernel refused the compiled program: %s", path, diag.message);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
	free(bin);
	free(src);
}

static int usage(FILE *to, int rc)
{
	fputs("usage: vfm-kbench [--root DIR] [--obj FILE] [--packets N] [--repeat R]\n"
	      "                  [--rounds K] [--quick]\n"
	      "  --root DIR    source tree with bench/filters/ (default .)\n"
	      "  --obj FILE    bench/native.bpf.c compiled by clang -target bpf\n"
	      "                (default build/bench/native.bpf.o)\n"
	      "  --packets N   packets of the bench mix (>= 14 bytes) per round (256)\n"
	      "  --repeat R    BPF_PROG_TEST_RUN repeat per packet (20000)\n"
	      "  --rounds K    rounds, engines in alternating order (7, at most 31)\n"
	      "  --quick       64 packets, repeat 200, 3 rounds: checks, no figures\n",
	      to);
	return rc;
}

int main(int argc, char **argv)
{
	const char *root = ".", *obj_path = "build/bench/native.bpf.o";
	long n_pkts = 256, repeat = 20000, rounds = 7;
	int quick = 0;
	static const struct option longopts[] = {
		{"root", required_argument, NULL, 'r'},   {"obj", required_argument, NULL, 'o'},
		{"packets", required_argument, NULL, 'n'}, {"repeat", required_argument, NULL, 'R'},
		{"rounds", required_argument, NULL, 'k'},  {"quick", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	for (int c; (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
		char *end = NULL;
		switch (c) {
		case 'r': root = optarg; break;
		case 'o': obj_path = optarg; break;
		case 'n': n_pkts = strtol(optarg, &end, 10); break;
		case 'R': repeat = strtol(optarg, &end, 10); break;
		case 'k': rounds = strtol(optarg, &end, 10); break;
		case 'q': quick = 1; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
		if (end && *end)
			die("not a number: %s", optarg);
	}
	if (optind != argc)
		return usage(stderr, 2);
	if (quick)
		n_pkts = 64, repeat = 200, rounds = 3;
	if (n_pkts < 1 || n_pkts > 1000000 || repeat < 1 || repeat > 100000000 || rounds < 1 ||
	    rounds > MAX_ROUNDS)
		die("--packets 1..1000000, --repeat 1..100000000, --rounds 1..%d", MAX_ROUNDS);

	/* The bench mix's first packets that BPF_PROG_TEST_RUN takes (it
	 * wants at least an Ethernet header). */
	struct pktgen_config pcfg = {.seed = MIX_SEED, .count = (uint64_t)n_pkts * 4,
				     .mean_gap_ns = 1000000u};
	struct pktgen_set set;
	if (pktgen_generate(&pcfg, &set) != 0)
		die("out of memory");
	/* One CPU for the whole run: the per-CPU flow tables then hold every
	 * packet of the in-order verdict check, as the interpreter's does. */
	cpu_set_t cpu;
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &cpu);
	if (sched_setaffinity(0, sizeof cpu, &cpu) != 0)
		die("sched_setaffinity: %s", strerror(errno));
	for (int i = 0; i < N_FILTERS; i++)
		load_vfm(&filters[i], root);
	libbpf_set_print(NULL);
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		die("%s: %s", obj_path, strerror(errno));
	if (bpf_object__load(obj) != 0)
		die("%s: the kernel refused clang's programs: %s", obj_path, strerror(errno));
	struct bpf_program *empty = bpf_object__find_program_by_name(obj, "empty");
	if (!empty)
		die("%s: no program 'empty'", obj_path);
	int empty_fd = bpf_program__fd(empty);
	/* The mix's first packets that BPF_PROG_TEST_RUN takes: it refuses
	 * frames shorter than an Ethernet header and IPv4 frames too short
	 * for the IP header it parses (EINVAL); those are counted, not run. */
	struct pktgen_packet *pkts = calloc((size_t)n_pkts, sizeof *pkts);
	if (!pkts)
		die("out of memory");
	size_t n = 0, refused = 0;
	for (size_t i = 0; i < set.count && n < (size_t)n_pkts; i++) {
		uint32_t ns;
		if (set.pkts[i].len >= 14 && try_run(empty_fd, &set.pkts[i], 1, &ns, NULL) == 0)
			pkts[n++] = set.pkts[i];
		else
			refused++;
	}
	if (n < (size_t)n_pkts)
		die("only %zu usable packets in the mix", n);
	printf("vfm-kbench: %zu packets of the bench mix (seed 0x%llx); %zu earlier ones the "
	       "test run refuses (too short) left out\n", n, (unsigned long long)MIX_SEED, refused);
	for (int i = 0; i < N_FILTERS; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, filters[i].native);
		if (!p)
			die("%s: no program '%s'", obj_path, filters[i].native);
		filters[i].clang_fd = bpf_program__fd(p);
		filters[i].clang_insns = (uint32_t)bpf_program__insn_cnt(p);
		if (filters[i].native_map) {
			struct bpf_map *m = bpf_object__find_map_by_name(obj, filters[i].native_map);
			if (!m)
				die("%s: no map '%s'", obj_path, filters[i].native_map);
			filters[i].clang_map_fd = bpf_map__fd(m);
		}
	}

	/* Verdicts: VFM-eBPF = clang-eBPF = the interpreter, on every packet,
	 * in order, every flow table starting empty (the packets' times span
	 * several of rate_limit's 1 s windows). */
	size_t checked = 0;
	for (int i = 0; i < N_FILTERS; i++) {
		struct kfilter *f = &filters[i];
		if (f->clang_map_fd >= 0)
			clear_map(f->clang_map_fd);
		vfm_diag_t cd;
		if (f->vfm_map_fd >= 0 && vfm_ebpf_flow_clear(f->vfm_map_fd, &f->vfm_map, &cd) != VFM_OK)
			die("%s: %s", f->id, cd.message);
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", root, f->path);
		uint8_t *src, *bin;
		size_t src_len, bin_len;
		vfm_diag_t diag;
		vfm_state_t *vm = vfm_create();
		if (!vm || fileio_read(path, &src, &src_len) != 0 ||
		    vfm_assemble((const char *)src, src_len, path, 0, &bin, &bin_len, &diag) != VFM_OK ||
		    vfm_load_program(vm, bin, bin_len) != VFM_OK)
			die("%s: cannot load on the interpreter", path);
		for (size_t k = 0; k < n; k++) {
			vfm_packet_t pkt = {.data = pkts[k].data, .len = pkts[k].len,
					    .ts_ns = pkts[k].ts_ns};
			vfm_result_t r;
			if (vfm_execute_ex(vm, &pkt, &r) != VFM_OK)
				die("%s: vfm_execute_ex: %s", f->id, vfm_last_error(vm));
			uint32_t want = r.verdict ? TC_ACT_OK : TC_ACT_SHOT, rv = want, rc;
			if (f->vfm_fd >= 0)
				test_run(f->vfm_fd, &pkts[k], 1, &rv);
			test_run(f->clang_fd, &pkts[k], 1, &rc);
			if (rv != want || rc != want)
				die("%s packet %zu (%s, %u bytes): interpreter %u (tc %u), "
				    "VFM-eBPF %u, clang-eBPF %u", f->id, k, pktgen_kind_name(pkts[k].kind),
				    pkts[k].len, r.verdict, want, rv, rc);
			checked++;
		}
		vfm_destroy(vm);
		free(bin);
		free(src);
	}
	printf("vfm-kbench: %zu packets x %d filters: clang-eBPF = interpreter, and VFM-eBPF "
	       "where the back end compiles the filter (%zu verdicts)\n", n, N_FILTERS, checked);

	/* Per packet, back to back: the empty program, then the two engines
	 * (which one first alternates), so that the floor subtracted is the
	 * one of the same moment (the machine's speed drifts). */
	double floor_sum = 0;
	for (int k = 0; k < rounds; k++) {
		for (int i = 0; i < N_FILTERS; i++) {
			struct kfilter *f = &filters[i];
			double sum[2] = {0, 0};
			for (size_t p = 0; p < n; p++) {
				double floor = test_run(empty_fd, &pkts[p], (int)repeat, NULL);
				int first = (int)((k + i + p) % 2);
				for (int e = 0; e < 2; e++) {
					int which = e ^ first;
					if (!which && f->vfm_fd < 0)
						continue;
					sum[which] += test_run(which ? f->clang_fd : f->vfm_fd, &pkts[p],
							       (int)repeat, NULL) - floor;
				}
				floor_sum += floor;
			}
			f->ns[0][k] = sum[0] / (double)n;
			f->ns[1][k] = sum[1] / (double)n;
		}
	}
	if (quick) {
		printf("vfm-kbench: --quick: %d rounds run, no figures reported\n", (int)rounds);
		return 0;
	}
	printf("\nKernel (BPF_PROG_TEST_RUN, tc, %zu packets x %ld repeats, %ld rounds; ns/packet "
	       "above the empty program's floor of %.1f ns, median [min-max] over the rounds)\n", n,
	       repeat, rounds, floor_sum / (double)(rounds * N_FILTERS) / (double)n);
	printf("%-9s %22s %22s %10s %12s\n", "", "VFM-eBPF ns", "clang-eBPF ns", "VFM/clang",
	       "eBPF insns");
	for (int i = 0; i < N_FILTERS; i++) {
		struct kfilter *f = &filters[i];
		double m[2], lo[2], hi[2];
		stats(f->ns[0], (int)rounds, &m[0], &lo[0], &hi[0]);
		stats(f->ns[1], (int)rounds, &m[1], &lo[1], &hi[1]);
		char ratio[32];
		if (f->vfm_fd < 0) {
			printf("%-9s %22s %8.1f [%5.1f-%5.1f] %10s %5s / %-5u\n", f->id, "refused", m[1],
			       lo[1], hi[1], "-", "-", f->clang_insns);
			continue;
		}
		/* Below ~1 ns the kernel's whole-ns durations cannot tell. */
		if (m[1] >= 1.0)
			snprintf(ratio, sizeof ratio, "%.2f", m[0] / m[1]);
		else
			snprintf(ratio, sizeof ratio, "n/a");
		printf("%-9s %8.1f [%5.1f-%5.1f] %8.1f [%5.1f-%5.1f] %10s %5u / %-5u\n", f->id, m[0],
		       lo[0], hi[0], m[1], lo[1], hi[1], ratio, f->vfm_insns, f->clang_insns);
	}
	for (int i = 0; i < N_FILTERS; i++)
		if (filters[i].vfm_fd < 0)
			printf("%s: the eBPF back end refused it: %s\n", filters[i].id,
			       filters[i].vfm_refused);
	printf("(VFM/clang: ratio of the medians, n/a where clang's code costs less than 1 ns\n"
	       " above the floor; eBPF insns: VFM-compiled / clang-compiled)\n");
	for (int i = 0; i < N_FILTERS; i++) {
		if (filters[i].vfm_fd >= 0)
			close(filters[i].vfm_fd);
		if (filters[i].vfm_map_fd >= 0)
			close(filters[i].vfm_map_fd);
	}
	bpf_object__close(obj);
	free(pkts);
	pktgen_free(&set);
	return 0;
}
