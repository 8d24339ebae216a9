/*
 * bench/bench_timing.c — vfm-bench's measurements: calibrated samples,
 * engines interleaved, in order and shuffled, by packet count, threads.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread.  Timing samples use it, so time spent
 * preempted by other processes on a shared machine does not count as the
 * engine's; on an idle machine it equals wall time.  (The threads test
 * measures throughput and uses wall time.) */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns for `passes` passes over p[0..n).  Stateful engines start each pass
 * from an empty flow table; the clearing is not timed.  One untimed pass
 * first: the engine before this one in the rotation touched other memory
 * (results, flow tables), and a sample should measure this engine with the
 * mix as warm in the caches as it gets when it runs alone. */
static double time_passes(struct bench *b, struct inst *in, const vfm_packet_t *p, size_t n,
			  unsigned passes)
{
	uint64_t total = 0, acc = 0;
	if (in->stateful)
		bench_clear_state(in);
	acc += bench_run_pass(b, in, p, n, NULL);
	if (!in->stateful) {
		uint64_t t0 = cpu_ns();
		for (unsigned k = 0; k < passes; k++)
			acc += bench_run_pass(b, in, p, n, NULL);
		total = cpu_ns() - t0;
	} else {
		for (unsigned k = 0; k < passes; k++) {
			bench_clear_state(in);
			uint64_t t0 = cpu_ns();
			acc += bench_run_pass(b, in, p, n, NULL);
			total += cpu_ns() - t0;
		}
	}
	b->sink += acc;
	return (double)total;
}

/* Passes per sample so that one sample lasts about opt.sample_ms. */
static unsigned calibrate(struct bench *b, struct inst *in, const vfm_packet_t *p, size_t n)
{
	double t = time_passes(b, in, p, n, 1);
	double want = b->opt.sample_ms * 1e6;
	double passes = t > 0 ? want / t : 1000;
	if (passes < 1)
		passes = 1;
	if (passes > 100000)
		passes = 100000;
	return (unsigned)(passes + 0.5);
}


/* ---- Statistics --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void summarise(const double *s, unsigned n, double *med, double *min, double *max)
{
	double t[MAX_RUNS];
	memcpy(t, s, n * sizeof *t);
	qsort(t, n, sizeof *t, cmp_double);
	*min = t[0];
	*max = t[n - 1];
	*med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* ---- Main timing -------------------------------------------------------- */

/* Is name in the comma-separated list (NULL list: everything)? */
static int listed(const char *list, const char *name)
{
	if (!list)
		return 1;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, name, n))
			return 1;
		p += len + (end != NULL);
	}
	return 0;
}

/* --filters / --engines narrow what is timed (for profiling one engine);
 * the verdict check always runs every engine. */
void bench_apply_selection(struct bench *b)
{
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &b->filters[fi].in[k];
			in->timed = in->present && listed(b->opt.only_filters, b->filters[fi].def->id) &&
				    listed(b->opt.only_engines, kind_name[k]);
		}
}

void bench_time_main(struct bench *b)
{
	size_t n = b->opt.packets;
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		for (int k = 0; k < K_COUNT; k++)
			if (b->filters[fi].in[k].timed)
				b->filters[fi].in[k].passes = calibrate(b, &b->filters[fi].in[k], b->pk, n);
	/* Engines interleaved: every run times every (filter, engine) once,
	 * starting at a different engine each run, so slow drifts of the
	 * machine (frequency, other load) spread over all engines. */
	for (unsigned r = 0; r < b->opt.runs; r++) {
		for (size_t fi = 0; fi < N_FILTERS; fi++) {
			struct filter *f = &b->filters[fi];
			for (int j = 0; j < K_COUNT; j++) {
				struct inst *in = &f->in[(j + r) % K_COUNT];
				if (!in->timed)
					continue;
				in->samples[r] = time_passes(b, in, b->pk, n, in->passes) /
						 ((double)in->passes * (double)n);
			}
		}
	}
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &b->filters[fi].in[k];
			if (in->timed)
				summarise(in->samples, b->opt.runs, &in->med, &in->min, &in->max);
		}
}

/*
 * The same packets in an order that never repeats.  Timing the same
 * 10,000 packets again and again lets the CPU's branch predictors learn
 * each packet's outcome: on this class of machine hand-written C runs F1
 * about 4x faster over a repeated 10,000-packet sequence than over random
 * draws from the very same packets (same data, same caches).  Real traffic
 * does not repeat, so these rows are the fairer comparison; the in-order
 * rows stay because the brief's anchors were measured that way.
 *
 * shuf holds shuf_len draws (with replacement) from the first opt.packets
 * packets.  Each sample runs one window of sh_window consecutive draws
 * starting at a fresh random offset, after an untimed pass over a
 * different window (warms code and data, trains nothing useful).  Windows
 * are tens of thousands of packets: far more outcomes than a predictor
 * can memorise.  Stateless filters only: stateful ones depend on order.
 */
/* shuf[0..shuf_len) = random draws (with replacement) from pk[0..pool). */
static void fill_draws(struct bench *b, size_t pool, uint64_t salt)
{
	b->mut_state = b->opt.seed ^ salt;
	for (size_t i = 0; i < b->shuf_len; i++)
		b->shuf[i] = b->pk[bench_mut_next(b) % pool];
}

void bench_build_shuffled(struct bench *b)
{
	b->shuf_len = b->opt.quick ? 65536 : 262144;
	b->shuf = bench_xcalloc(b->shuf_len, sizeof *b->shuf);
}

/* Window length for one shuffled sample of about opt.sample_ms. */
static size_t shuffled_window(struct bench *b, struct inst *in)
{
	size_t max_w = b->shuf_len / 2;
	bench_run_pass(b, in, b->shuf, 16384, NULL);
	double t = time_passes(b, in, b->shuf + 16384, 16384, 1) / 16384;
	double w = t > 0 ? b->opt.sample_ms * 1e6 / t : (double)max_w;
	return w < 16384 ? 16384 : w > (double)max_w ? max_w : (size_t)w;
}

/* ns/packet over w draws at a random offset, after an untimed pass over a
 * different window. */
static double time_window(struct bench *b, struct inst *in, size_t w)
{
	size_t span = b->shuf_len - w;
	size_t off = (size_t)(bench_mut_next(b) % span);
	size_t warm = (off + span / 2) % span;
	b->sink += bench_run_pass(b, in, b->shuf + warm, w < 16384 ? w : 16384, NULL);
	uint64_t t0 = cpu_ns();
	b->sink += bench_run_pass(b, in, b->shuf + off, w, NULL);
	return (double)(cpu_ns() - t0) / (double)w;
}

void bench_time_shuffled(struct bench *b)
{
	fill_draws(b, b->opt.packets, 0x73687566ull);
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &b->filters[fi].in[k];
			if (in->timed && !in->stateful)
				in->sh_window = shuffled_window(b, in);
		}
	for (unsigned r = 0; r < b->opt.runs; r++)
		for (size_t fi = 0; fi < N_FILTERS; fi++)
			for (int j = 0; j < K_COUNT; j++) {
				struct inst *in = &b->filters[fi].in[(j + r) % K_COUNT];
				if (in->timed && !in->stateful)
					in->sh_samples[r] = time_window(b, in, in->sh_window);
			}
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &b->filters[fi].in[k];
			if (in->timed && !in->stateful)
				summarise(in->sh_samples, b->opt.runs, &in->sh_med, &in->sh_min,
					  &in->sh_max);
		}
}

/* ns/packet of the per-packet engines on the stateless filters as the
 * number of packets grows (prefixes of the same generated stream). */
const enum kind count_kinds[N_COUNT_KINDS] = {K_NATIVE, K_PCAP, K_JIT, K_GOTO, K_SWITCH};

/* For each count c: the first c packets in order (repeated, as the main
 * table), and random draws from those c packets (as the shuffled table).
 * The draws separate the two effects that grow with c: the data leaving
 * the caches (both rows) and the branch predictor no longer learning a
 * repeated sequence (in-order rows only, from about 10,000 packets on). */
void bench_time_counts(struct bench *b)
{
	unsigned runs = b->opt.quick ? 3 : 5;
	double s[K_COUNT][MAX_RUNS], sh[K_COUNT][MAX_RUNS];
	for (unsigned c = 0; c < b->opt.n_counts; c++) {
		size_t cnt = b->opt.counts[c];
		fill_draws(b, cnt, 0x636F756E74ull + c);
		for (size_t fi = 0; fi < N_FILTERS; fi++) {
			struct filter *f = &b->filters[fi];
			unsigned passes[K_COUNT] = {0};
			size_t window[K_COUNT] = {0};
			for (size_t j = 0; j < N_COUNT_KINDS; j++) {
				struct inst *in = &f->in[count_kinds[j]];
				if (in->timed && !in->stateful) {
					passes[count_kinds[j]] = calibrate(b, in, b->pk, cnt);
					window[count_kinds[j]] = shuffled_window(b, in);
				}
			}
			for (unsigned r = 0; r < runs; r++)
				for (size_t j = 0; j < N_COUNT_KINDS; j++) {
					enum kind k = count_kinds[(j + r) % N_COUNT_KINDS];
					struct inst *in = &f->in[k];
					if (!passes[k])
						continue;
					s[k][r] = time_passes(b, in, b->pk, cnt, passes[k]) /
						  ((double)passes[k] * (double)cnt);
					sh[k][r] = time_window(b, in, window[k]);
				}
			for (int k = 0; k < K_COUNT; k++) {
				double lo, hi;
				f->count_ns[k][c] = f->count_sh_ns[k][c] = 0;
				if (!passes[k])
					continue;
				summarise(s[k], runs, &f->count_ns[k][c], &lo, &hi);
				summarise(sh[k], runs, &f->count_sh_ns[k][c], &lo, &hi);
			}
		}
	}
}

/* ---- Threads ------------------------------------------------------------ */

struct thread_arg {
	struct bench *b;
	struct filter *f;
	enum kind kind;
	int cpu;
	pthread_barrier_t *start;
	uint64_t packets;
	double seconds;
	int failed;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	struct bench *b = a->b;
	struct filter *f = a->f;
	struct inst in;
	memset(&in, 0, sizeof in);
	in.kind = a->kind;
	in.stateful = f->def->stateful;
	in.fn = f->def->native;
	if (a->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(a->cpu, &set);
		sched_setaffinity(0, sizeof set, &set);
	}
	if (a->kind == K_NATIVE) {
		if (in.stateful)
			in.nflow = native_flow_create(VFM_DEFAULT_FLOW_CAPACITY);
	} else {
		/* One VM per thread, all sharing the filter's one program. */
		in.vm = vfm_create();
		if (!in.vm || vfm_attach_program(in.vm, f->prog) != VFM_OK ||
		    (a->kind == K_JIT && vfm_enable_jit(in.vm) != VFM_OK))
			a->failed = 1;
	}
	pthread_barrier_wait(a->start);
	uint64_t t0 = bench_now_ns(), t, acc = 0, deadline = (uint64_t)(a->seconds * 1e9);
	a->packets = 0;
	do {
		/* Stateful filters keep their table across passes here:
		 * clearing it would be timed too. */
		if (!a->failed)
			acc += bench_run_pass(b, &in, b->pk, b->opt.packets, NULL);
		a->packets += b->opt.packets;
		t = bench_now_ns() - t0;
	} while (t < deadline);
	a->seconds = (double)t / 1e9;
	b->sink += acc;
	vfm_destroy(in.vm);
	native_flow_destroy(in.nflow);
	return NULL;
}

const enum kind thread_kinds[N_THREAD_KINDS] = {K_NATIVE, K_JIT, K_GOTO};

void bench_time_threads(struct bench *b)
{
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		if (!strcmp(f->def->id, "rate"))
			continue; /* same shape as ddos; keeps the run short */
		for (size_t j = 0; j < N_THREAD_KINDS; j++) {
			enum kind k = thread_kinds[j];
			if (!f->in[k].timed)
				continue;
			for (int nt = 1; nt <= 2; nt++) {
				pthread_t th[2];
				struct thread_arg a[2];
				pthread_barrier_t bar;
				pthread_barrier_init(&bar, NULL, (unsigned)nt);
				for (int t = 0; t < nt; t++) {
					a[t] = (struct thread_arg){
						.b = b, .f = f, .kind = k, .start = &bar,
						.seconds = b->opt.thread_sec,
						.cpu = b->opt.pin >= 0 ? (int)((b->opt.pin + t) %
							sysconf(_SC_NPROCESSORS_ONLN)) : -1};
					if (pthread_create(&th[t], NULL, thread_main, &a[t]))
						bench_die("pthread_create failed");
				}
				double pkts = 0, secs = 0;
				for (int t = 0; t < nt; t++) {
					pthread_join(th[t], NULL);
					if (a[t].failed)
						bench_die("%s: thread setup failed for %s", f->def->id,
						    kind_name[k]);
					pkts += (double)a[t].packets;
					if (a[t].seconds > secs)
						secs = a[t].seconds;
				}
				pthread_barrier_destroy(&bar);
				f->thr_mpps[k][nt - 1] = pkts / secs / 1e6;
			}
		}
	}
}


/* ---- Clock and instruction counts ------------------------------------------ */

/* The core clock in GHz, measured: a chain of dependent register adds runs
 * at one add per cycle on every x86-64 and AArch64 core of the last
 * decade, so adds per ns is the clock (turbo and frequency scaling
 * included, as the engines see them).  No performance counters are
 * needed, which is also why cycles derived from it are an estimate.
 * Best of 5 (least disturbed by other processes); 0 on other CPUs. */
double bench_measure_clock(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
	const uint64_t iters = 5000000;
	double best = 0;
	for (int t = 0; t < 5; t++) {
		uint64_t x = 0, t0 = cpu_ns();
		for (uint64_t i = 0; i < iters; i++) {
#if defined(__x86_64__)
			__asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
					 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
					 : "+r"(x));
#else
			__asm__ volatile("add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
					 "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
					 "add %0, %0, #1\n\tadd %0, %0, #1"
					 : "+r"(x));
#endif
		}
		uint64_t dt = cpu_ns() - t0;
		double ghz = dt ? (double)(iters * 8) / (double)dt : 0;
		if (ghz > best)
			best = ghz;
		if (x != iters * 8)
			return 0;
	}
	return best;
#else
	return 0;
#endif
}

/* VFM instructions executed per packet of the timed mix (the computed-goto
 * interpreter counting, as vfm_execute_ex reports them), for cycles per
 * VFM instruction. */
void bench_count_insns(struct bench *b)
{
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		vfm_state_t *vm = vfm_create();
		if (!vm || vfm_attach_program(vm, f->prog) != VFM_OK)
			bench_die("%s: cannot create a VM", f->def->id);
		uint64_t total = 0;
		for (size_t i = 0; i < b->opt.packets; i++) {
			vfm_result_t r;
			vfm_execute_ex(vm, &b->pk[i], &r);
			total += r.insns;
		}
		f->insns_per_pkt = (double)total / (double)b->opt.packets;
		vfm_destroy(vm);
	}
}
