/*
 * bench/bench.c — vfm-bench: packets/s and ns/packet of every engine on
 * the brief's filters F1-F4 and the stateful examples, side by side in one
 * process.  See bench/README.md for what each column means.
 *
 * Engines (a column appears only if the engine exists for the filter):
 *   native-c        the filter hand-written in C, -O2 (bench/native.c)
 *   libpcap         pcap_compile of the tcpdump expression, run by bpf_filter
 *   vfm-jit         VFM x86-64 JIT, when vfm_enable_jit() returns VFM_OK
 *   vfm-goto        VFM interpreter, computed-goto dispatch (libvfm.a)
 *   vfm-switch      VFM interpreter, switch dispatch (the sw_ copy)
 *   vfm-*-batch     the same through vfm_execute_batch (whole mix per call)
 * The per-packet engines make one public API call per packet, as a user
 * would: vfm_execute for the stateless filters, vfm_execute_ex for the
 * stateful ones (they need the timestamp).
 *
 * Order of work: generate the mix; check that every engine gives the same
 * verdict on every packet, and on mutated copies (a mismatch exits 1 before
 * any timing); time the engines interleaved, several runs, median/min/max,
 * over the mix in order and in shuffled order (see time_shuffled); memory;
 * ns/packet as the packet count grows; 1 and 2 threads sharing one
 * compiled program.
 *
 * This file is the command line and that order of work; the stages are
 * bench_engines.c (tables, one pass, setup), bench_agree.c (verdicts),
 * bench_timing.c and bench_report.c, all taking the run's one struct bench
 * (bench.h) instead of file-scope state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

static const char *const prog_name = "vfm-bench";

void bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

void *bench_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		bench_die("out of memory");
	return p;
}

/* ---- Command line ------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfm-bench [options]\n"
		"\n"
		"Benchmark the VFM engines (computed-goto and switch interpreters, the JIT\n"
		"when present) against libpcap's bpf_filter and hand-written C on the\n"
		"filters F1-F4 and the stateful examples, over a deterministic packet mix.\n"
		"Every engine's verdict is first compared on every packet; a mismatch\n"
		"exits with status 1 before anything is timed.\n"
		"\n"
		"  --quick            short smoke run (CI): few runs, short samples\n"
		"  --runs N           timing runs per engine (default 11, quick 3; max %d)\n"
		"  --packets N        packets in the timed mix (default 10000, >= 1000)\n"
		"  --seed S           generator seed (default %llu)\n"
		"  --pin CPU          run on this CPU (sched_setaffinity); threads use\n"
		"                     CPU, CPU+1\n"
		"  --json FILE        write results, machine info and git revision as JSON\n"
		"  --dat FILE         write ns/packet per filter and engine for gnuplot\n"
		"  --root DIR         repository root, for the filter sources (default .)\n"
		"  --counts LIST      packet counts for the scaling table, comma-separated\n"
		"                     (default 1000,10000,100000,1000000)\n"
		"  --no-scaling       skip the packet-count and thread measurements\n"
		"  --filters LIST     time only these filters (F1,F2,F3,F4,ddos,rate)\n"
		"  --engines LIST     time only these engines (native-c,libpcap,vfm-jit,\n"
		"                     vfm-goto,vfm-switch,vfm-goto-batch,vfm-jit-batch);\n"
		"                     the verdict check still runs every engine\n"
		"  --dump-bpf         print libpcap's compiled code for F1-F3, then exit\n"
		"  --code-size        print this build's JIT code size per filter, then exit\n"
		"                     (times nothing: usable under an emulator)\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"\n"
		"Exit status: 0 success, 1 engines disagree on a verdict, 2 usage or setup\n"
		"error.\n",
		MAX_RUNS, (unsigned long long)MIX_SEED);
}

/* The command line goes through the tools' layer (tools/cli.h): --help,
 * --version, messages and exit status 2 as every vfm tool. */
static struct cli cli = {.name = "vfm-bench", .usage = usage};

static void parse_counts(struct bench *b, const char *s)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	b->opt.n_counts = 0;
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		if (b->opt.n_counts == MAX_COUNTS)
			bench_die("--counts: at most %d counts", MAX_COUNTS);
		b->opt.counts[b->opt.n_counts++] = cli_number(&cli, "--counts", tok, 1, 50000000, NULL);
	}
	if (!b->opt.n_counts)
		bench_die("--counts: empty list");
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	enum { O_RUNS = 256, O_PACKETS, O_SEED, O_PIN, O_JSON, O_DAT, O_ROOT, O_COUNTS,
	       O_NOSCALE, O_DUMP, O_QUICK, O_FILTERS, O_ENGINES, O_CODE_SIZE };
	static const struct option longopts[] = {
		{"quick", no_argument, NULL, O_QUICK},
		{"runs", required_argument, NULL, O_RUNS},
		{"packets", required_argument, NULL, O_PACKETS},
		{"seed", required_argument, NULL, O_SEED},
		{"pin", required_argument, NULL, O_PIN},
		{"json", required_argument, NULL, O_JSON},
		{"dat", required_argument, NULL, O_DAT},
		{"root", required_argument, NULL, O_ROOT},
		{"counts", required_argument, NULL, O_COUNTS},
		{"no-scaling", no_argument, NULL, O_NOSCALE},
		{"dump-bpf", no_argument, NULL, O_DUMP},
		{"code-size", no_argument, NULL, O_CODE_SIZE},
		{"filters", required_argument, NULL, O_FILTERS},
		{"engines", required_argument, NULL, O_ENGINES},
		{NULL, 0, NULL, 0},
	};
	cli.longopts = longopts;
	unsigned runs = 0;
	const char *counts = NULL;
	b->opt.packets = 10000;
	b->opt.seed = MIX_SEED;
	b->opt.pin = -1;
	b->opt.root = ".";
	int c;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case O_QUICK: b->opt.quick = 1; break;
		case O_RUNS:
			runs = (unsigned)cli_number(&cli, "--runs", optarg, 1, MAX_RUNS, NULL);
			break;
		case O_PACKETS:
			b->opt.packets = cli_number(&cli, "--packets", optarg, 1000, 50000000, NULL);
			break;
		case O_SEED:
			b->opt.seed = cli_number(&cli, "--seed", optarg, 0, UINT64_MAX, NULL);
			break;
		case O_PIN:
			b->opt.pin = (int)cli_number(&cli, "--pin", optarg, 0, CPU_SETSIZE - 1, NULL);
			break;
		case O_JSON: b->opt.json = optarg; break;
		case O_DAT: b->opt.dat = optarg; break;
		case O_ROOT: b->opt.root = optarg; break;
		case O_COUNTS: counts = optarg; break;
		case O_NOSCALE: b->opt.no_scaling = 1; break;
		case O_DUMP: b->opt.dump_bpf = 1; break;
		case O_CODE_SIZE: b->opt.code_size = 1; break;
		case O_FILTERS: b->opt.only_filters = optarg; break;
		case O_ENGINES: b->opt.only_engines = optarg; break;
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	b->opt.runs = runs ? runs : b->opt.quick ? 3 : 11;
	b->opt.sample_ms = b->opt.quick ? 0.3 : 20;
	b->opt.thread_sec = b->opt.quick ? 0.03 : 0.5;
	parse_counts(b, counts ? counts
			       : b->opt.quick ? "1000,10000,100000" : "1000,10000,100000,1000000");
}

int main(int argc, char **argv)
{
	/* The one run: zeroed like the globals it replaces, and too large
	 * for the stack (per-run samples of every engine and filter). */
	static struct bench bench;
	struct bench *b = &bench;
	parse_args(b, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (b->opt.pin >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(b->opt.pin, &set);
		if (sched_setaffinity(0, sizeof set, &set) != 0)
			bench_die("--pin %d: sched_setaffinity: %s", b->opt.pin, strerror(errno));
	}
	bench_describe_machine(b);
	b->mach.load_start = bench_load1();

	for (size_t fi = 0; fi < N_FILTERS; fi++)
		bench_setup_filter(b, &b->filters[fi], &filter_defs[fi]);
	if (b->opt.dump_bpf) {
		bench_dump_bpf(b);
		return 0;
	}
	bench_measure_code(b);
	if (b->opt.code_size) {
		bench_print_code_size(b);
		return 0;
	}

	/* One stream; the timed mix is its first opt.packets packets and the
	 * scaling table uses longer prefixes. */
	b->total_pk = b->opt.packets;
	if (!b->opt.no_scaling)
		for (unsigned c = 0; c < b->opt.n_counts; c++)
			if (b->opt.counts[c] > b->total_pk)
				b->total_pk = b->opt.counts[c];
	struct pktgen_config cfg = {.seed = b->opt.seed, .count = b->total_pk,
				    .mean_gap_ns = MIX_GAP_NS};
	uint64_t t0 = bench_now_ns();
	if (pktgen_generate(&cfg, &b->mix) != 0)
		bench_die("cannot generate %zu packets: out of memory", b->total_pk);
	b->pk = bench_xcalloc(b->total_pk, sizeof *b->pk);
	b->n_results = b->total_pk > 262144 ? b->total_pk : 262144; /* >= any shuffled window */
	b->results = bench_xcalloc(b->n_results, sizeof *b->results);
	for (size_t i = 0; i < b->total_pk; i++)
		b->pk[i] = (vfm_packet_t){.data = b->mix.pkts[i].data, .len = b->mix.pkts[i].len, .ts_ns = b->mix.pkts[i].ts_ns};
	printf("vfm-bench: %zu packets generated in %.2f s (pktgen seed %" PRIu64
	       ", mean gap %u ns, %.0f MB)\n",
	       b->total_pk, (double)(bench_now_ns() - t0) / 1e9, b->opt.seed, MIX_GAP_NS,
	       (double)b->mix.buf_len / 1e6);
	/* The edge cases stay in the timed mix (truncated frames, IPv4
	 * options and fragments, VLAN, IPv6, ARP): per kind, timed part. */
	size_t kinds[PKTGEN_KIND_COUNT] = {0};
	for (size_t i = 0; i < b->opt.packets; i++)
		kinds[b->mix.pkts[i].kind]++;
	printf("mix (timed %zu):", b->opt.packets);
	for (int k = 0; k < PKTGEN_KIND_COUNT; k++)
		printf("%s %s %zu", k ? "," : "", pktgen_kind_name((enum pktgen_kind)k), kinds[k]);
	printf("\n");
	printf("machine: %s, %ld cores, %s, %s, %s\n", b->mach.cpu, b->mach.cores, b->mach.kernel,
	       b->mach.compiler, pcap_lib_version());
	printf("git: %s%s; load average %.2f; %s\n", b->mach.git[0] ? b->mach.git : "(unknown)",
	       b->mach.git_dirty == 1 ? " (modified)" : "", b->mach.load_start,
	       b->opt.pin >= 0 ? "pinned" : "not pinned");
	printf("JIT: %s\n", b->jit_available ? "available (vfm-jit columns)" : b->jit_reason);

	/* Verdicts first: nothing is timed unless every engine agrees. */
	size_t problems = 0;
	t0 = bench_now_ns();
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		problems += bench_check_filter(b, &b->filters[fi], b->pk, b->mix.pkts, b->total_pk, "mix");
	size_t n_mut = b->total_pk < MUTANTS ? b->total_pk : MUTANTS;
	uint8_t *mut_buf;
	vfm_packet_t *mut_pk;
	struct pktgen_packet *mut_meta;
	bench_make_mutants(b, n_mut, &mut_buf, &mut_pk, &mut_meta);
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		problems += bench_check_filter(b, &b->filters[fi], mut_pk, mut_meta, n_mut, "mutated");
	free(mut_buf);
	free(mut_pk);
	free(mut_meta);
	if (problems) {
		printf("vfm-bench: FAILED: %zu verdict disagreements between engines\n", problems);
		return 1;
	}
	printf("\nverdicts: every engine agrees on all %zu packets of the mix and %zu "
	       "mutated copies (%.2f s)\n", b->total_pk, n_mut, (double)(bench_now_ns() - t0) / 1e9);
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		printf("  %-5s %7zu accepted, %6zu BOUNDS  %s\n", f->def->id, f->accepted,
		       f->bounds, f->def->desc);
		if (f->wire_diff)
			printf("        (libpcap given the original wire length of truncated "
			       "frames would change %zu verdicts: `greater` reads it)\n",
			       f->wire_diff);
	}

	bench_apply_selection(b);
	bench_count_insns(b);
	b->clock_ghz = bench_measure_clock();
	t0 = bench_now_ns();
	bench_time_main(b);
	printf("\nTiming: %zu packets, %u runs interleaved, median [min .. max] "
	       "(%.1f s)", b->opt.packets, b->opt.runs, (double)(bench_now_ns() - t0) / 1e9);
	bench_print_table(b);
	bench_build_shuffled(b);
	t0 = bench_now_ns();
	bench_time_shuffled(b);
	bench_print_shuffled(b);
	printf("(%.1f s)\n", (double)(bench_now_ns() - t0) / 1e9);
	bench_print_ratios(b);
	bench_print_targets(b);
	bench_print_cycles(b);
	bench_print_memory(b);
	bench_print_code_size(b);
	if (!b->opt.no_scaling) {
		bench_time_counts(b);
		bench_print_counts(b);
		bench_time_threads(b);
		bench_print_threads(b);
	}
	b->mach.load_end = bench_load1();
	printf("\nload average: %.2f at start, %.2f at end\n", b->mach.load_start, b->mach.load_end);
	if (b->opt.json) {
		bench_write_json(b, b->opt.json);
		printf("wrote %s\n", b->opt.json);
	}
	if (b->opt.dat) {
		bench_write_dat(b, b->opt.dat);
		printf("wrote %s\n", b->opt.dat);
	}
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		bench_free_filter(&b->filters[fi]);
	free(b->pk);
	free(b->shuf);
	free(b->results);
	pktgen_free(&b->mix);
	return 0;
}
