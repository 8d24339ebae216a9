/*
 * bench/bench_report.c — vfm-bench's output: the machine description, the
 * tables on stdout, JSON and gnuplot data.  bench/README.md documents the
 * format; bench/compare and bench/plot.sh read it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- Machine description ------------------------------------------------ */



static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

double bench_load1(void)
{
	double l[1];
	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

void bench_describe_machine(struct bench *b)
{
	snprintf(b->mach.cpu, sizeof b->mach.cpu, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f)) {
			char *colon = strchr(line, ':');
			if (!strncmp(line, "model name", 10) && colon) {
				snprintf(b->mach.cpu, sizeof b->mach.cpu, "%s", colon + 2);
				trim(b->mach.cpu);
				break;
			}
		}
		fclose(f);
	}
	b->mach.cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(b->mach.kernel, sizeof b->mach.kernel, "%s %s %s", u.sysname, u.release,
			 u.machine);
#if defined(__clang__)
	snprintf(b->mach.compiler, sizeof b->mach.compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
	snprintf(b->mach.compiler, sizeof b->mach.compiler, "gcc %s", __VERSION__);
#else
	snprintf(b->mach.compiler, sizeof b->mach.compiler, "unknown");
#endif
	trim(b->mach.compiler);
	/* git is optional: a tarball build simply has no revision. */
	char cmd[4400];
	snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", b->opt.root);
	b->mach.git_dirty = -1;
	FILE *g = popen(cmd, "r");
	if (g) {
		if (!fgets(b->mach.git, sizeof b->mach.git, g))
			b->mach.git[0] = '\0';
		trim(b->mach.git);
		pclose(g);
	}
	if (b->mach.git[0]) {
		snprintf(cmd, sizeof cmd,
			 "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null",
			 b->opt.root);
		g = popen(cmd, "r");
		if (g) {
			char line[8];
			b->mach.git_dirty = fgets(line, sizeof line, g) != NULL;
			pclose(g);
		}
	}
}

/* ---- Output ------------------------------------------------------------- */

void bench_print_table(struct bench *b)
{
	printf("\n%-6s %-15s %9s  %-19s %8s %10s\n", "filter", "engine", "ns/pkt",
	       "[min .. max]", "Mpps", "vs native");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		int first = 1;
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &f->in[k];
			if (!in->timed)
				continue;
			char range[40], vs[16] = "-";
			snprintf(range, sizeof range, "[%.2f .. %.2f]", in->min, in->max);
			if (f->in[K_NATIVE].timed)
				snprintf(vs, sizeof vs, "%.2fx", in->med / f->in[K_NATIVE].med);
			printf("%-6s %-15s %9.2f  %-19s %8.1f %10s\n", first ? f->def->id : "",
			       kind_name[k], in->med, range, 1e3 / in->med, vs);
			first = 0;
		}
	}
}

void bench_print_shuffled(struct bench *b)
{
	printf("\nShuffled order: random draws from the same %zu packets, never the same "
	       "sequence twice\n(branch predictors cannot learn the outcomes; %u runs, "
	       "median [min .. max])\n", b->opt.packets, b->opt.runs);
	printf("%-6s %-15s %9s  %-19s %8s %10s %10s\n", "filter", "engine", "ns/pkt",
	       "[min .. max]", "Mpps", "vs native", "/in-order");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		int first = 1;
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &f->in[k];
			if (!in->timed || in->stateful)
				continue;
			char range[40], vs[16] = "-";
			snprintf(range, sizeof range, "[%.2f .. %.2f]", in->sh_min, in->sh_max);
			if (f->in[K_NATIVE].timed)
				snprintf(vs, sizeof vs, "%.2fx", in->sh_med / f->in[K_NATIVE].sh_med);
			printf("%-6s %-15s %9.2f  %-19s %8.1f %10s %9.2fx\n", first ? f->def->id : "",
			       kind_name[k], in->sh_med, range, 1e3 / in->sh_med, vs,
			       in->sh_med / in->med);
			first = 0;
		}
	}
}

/* "name a/b" if both engines were timed; returns whether it printed. */
static int ratio(const struct filter *f, const char *name, enum kind a, enum kind b)
{
	if (!f->in[a].timed || !f->in[b].timed)
		return 0;
	printf("  %s %.2fx", name, f->in[a].med / f->in[b].med);
	return 1;
}

void bench_print_ratios(struct bench *b)
{
	printf("\nRatios (medians; < 1 means the first is faster)\n");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		const struct filter *f = &b->filters[fi];
		int any = 0;
		printf("  %-5s", f->def->id);
		any |= ratio(f, "goto/libpcap", K_GOTO, K_PCAP);
		any |= ratio(f, "switch/libpcap", K_SWITCH, K_PCAP);
		any |= ratio(f, "goto/native", K_GOTO, K_NATIVE);
		any |= ratio(f, "switch/goto", K_SWITCH, K_GOTO);
		any |= ratio(f, "batch/goto", K_GOTO_BATCH, K_GOTO);
		any |= ratio(f, "jit/native", K_JIT, K_NATIVE);
		any |= ratio(f, "jit/libpcap", K_JIT, K_PCAP);
		printf("%s\n", any ? "" : "  (not timed)");
		if (f->def->stateful || !any)
			continue;
		printf("  %-5s", "  shuf");
		const enum kind pairs[][2] = {{K_GOTO, K_PCAP}, {K_SWITCH, K_PCAP},
					      {K_GOTO, K_NATIVE}, {K_SWITCH, K_GOTO},
					      {K_GOTO_BATCH, K_GOTO}, {K_JIT, K_NATIVE},
					      {K_JIT, K_PCAP}};
		const char *const names[] = {"goto/libpcap", "switch/libpcap", "goto/native",
					     "switch/goto", "batch/goto", "jit/native",
					     "jit/libpcap"};
		for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
			if (f->in[pairs[i][0]].timed && f->in[pairs[i][1]].timed)
				printf("  %s %.2fx", names[i],
				       f->in[pairs[i][0]].sh_med / f->in[pairs[i][1]].sh_med);
		printf("\n");
	}
	if (!b->jit_available)
		printf("  jit/native: no JIT in this build, the target (<= 1.3x) cannot be "
		       "measured yet\n");
}

/* Bytes of the pages mapped for `size` bytes of code (at least one page:
 * each variant has its own mapping, jit/common.c code_alloc). */
static size_t pages_of(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return size ? (size + page - 1) / page * page : 0;
}

void bench_print_memory(struct bench *b)
{
	vfm_state_t *vm = vfm_create();
	printf("\nMemory (as the API reports it, plus the JIT's mapped pages)\n"
	       "  one VM, default configuration (flow capacity %u): %zu bytes "
	       "(vfm_memory; bound 1 MiB = 1048576)\n",
	       VFM_DEFAULT_FLOW_CAPACITY, vfm_memory(vm));
	vfm_destroy(vm);
	printf("  per compiled program: vfm_program_memory with and without the debug "
	       "sections; JIT pages = the\n  pages mapped for the two compiled variants "
	       "(counting + verdict code bytes, each rounded up to a page);\n"
	       "  total = program + JIT pages, what one shared program costs with the JIT "
	       "on:\n");
	printf("  %-6s %6s %6s %6s %10s %10s %10s %10s   %s\n", "filter", "insns", "code",
	       "depth", "program", "no debug", "JIT pages", "total", "libpcap program");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		size_t jp = pages_of(f->jit_bytes[0]) + pages_of(f->jit_bytes[1]);
		char jps[24] = "-", tot[24] = "-";
		if (jp) {
			snprintf(jps, sizeof jps, "%zu", jp);
			snprintf(tot, sizeof tot, "%zu", jp + vfm_program_memory(f->prog));
		}
		printf("  %-6s %6u %6u %6u %10zu %10zu %10s %10s   ", f->def->id,
		       vfm_program_insn_count(f->prog), vfm_program_code_size(f->prog),
		       vfm_program_max_depth(f->prog), vfm_program_memory(f->prog),
		       f->mem_nodebug, jps, tot);
		if (f->has_bpf)
			printf("%u insns, %zu bytes\n", f->bpf.bf_len,
			       (size_t)f->bpf.bf_len * sizeof(struct bpf_insn));
		else
			printf("-\n");
	}
}

/* The spread of a result: (max - min) / median. */
static double spread(double med, double min, double max)
{
	return med > 0 ? (max - min) / med : 0;
}

/* One target ratio a/b with its range (the extremes of the runs:
 * a.min/b.max .. a.max/b.min), and whether the spread of either side
 * exceeds the difference from 1 the ratio reports. */
static int target_ratio(const char *name, double am, double amin, double amax, double bm,
			double bmin, double bmax, int layout)
{
	double r = am / bm, lo = amin / bmax, hi = amax / bmin;
	double sp = spread(am, amin, amax) > spread(bm, bmin, bmax) ? spread(am, amin, amax)
								     : spread(bm, bmin, bmax);
	double diff = r > 1 ? r - 1 : 1 - r;
	int warn = layout && sp > diff;
	printf("  %-13s %6.2fx [%.2f-%.2f]%s", name, r, lo, hi, warn ? " !" : "  ");
	return warn;
}

/*
 * The brief's targets per filter, with ranges: the JIT against C and the
 * interpreter against libpcap, in order and shuffled.  The interpreter
 * and libpcap move by 20-30 % with code layout on this class of machine
 * (bench/README.md, caveats), and the JIT's code placement and its
 * caller's matter too: a ratio whose engines' spread (max - min over the
 * median, the larger of the two) exceeds the difference from 1 it shows
 * is marked "!" and named in a warning.
 */
void bench_print_targets(struct bench *b)
{
	printf("\nTargets: ratio of medians [range over the runs: min/max .. max/min]; "
	       "\"!\" = the spread\nof an engine exceeds the difference the ratio reports "
	       "(not conclusive); jit/native <= 1.1x, goto/libpcap <= 0.75x\n");
	printf("  %-6s %-33s %-33s\n", "filter", "in order", "shuffled");
	int warnings = 0;
	char names[256] = "";
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		const enum kind pairs[2][2] = {{K_JIT, K_NATIVE}, {K_GOTO, K_PCAP}};
		const char *const pname[2] = {"jit/native", "goto/libpcap"};
		for (int p = 0; p < 2; p++) {
			struct inst *a = &f->in[pairs[p][0]], *c = &f->in[pairs[p][1]];
			if (!a->timed || !c->timed)
				continue;
			printf("  %-6s", f->def->id);
			int w = target_ratio(pname[p], a->med, a->min, a->max, c->med, c->min,
					     c->max, 1);
			if (!f->def->stateful)
				w |= target_ratio(pname[p], a->sh_med, a->sh_min, a->sh_max, c->sh_med,
						  c->sh_min, c->sh_max, 1);
			else
				printf("  %-33s", "(stateful: in order only)");
			printf("\n");
			if (w) {
				warnings++;
				size_t len = strlen(names);
				snprintf(names + len, sizeof names - len, "%s%s %s", len ? ", " : "",
					 f->def->id, pname[p]);
			}
		}
	}
	if (!b->jit_available)
		printf("  (no JIT in this build: jit/native not measured)\n");
	if (warnings)
		printf("warning: %d ratio(s) within their engines' run-to-run spread (%s): the "
		       "difference they show is smaller than the noise or layout effect; do not "
		       "read them as a result\n", warnings, names);
}

/* ns/packet x the measured clock / VFM instructions per packet. */
void bench_print_cycles(struct bench *b)
{
	if (b->clock_ghz <= 0) {
		printf("\nCycles per VFM instruction: clock not measurable on this CPU\n");
		return;
	}
	printf("\nCycles per VFM instruction (ESTIMATE: median ns/packet x %.2f GHz, the "
	       "clock measured with a\ndependent-add loop, no cycle counters; / VFM "
	       "instructions executed per packet of the mix)\n", b->clock_ghz);
	printf("  %-6s %11s %10s %10s %10s %10s\n", "filter", "insns/pkt", "vfm-jit",
	       "vfm-goto", "vfm-switch", "native-c");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		if (f->insns_per_pkt <= 0)
			continue;
		printf("  %-6s %11.2f", f->def->id, f->insns_per_pkt);
		const enum kind ks[] = {K_JIT, K_GOTO, K_SWITCH, K_NATIVE};
		for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
			if (f->in[ks[j]].timed)
				printf(" %10.2f", f->in[ks[j]].med * b->clock_ghz / f->insns_per_pkt);
			else
				printf(" %10s", "-");
		}
		printf("\n");
	}
	printf("  (native-c: the C function's cycles per packet over the same VFM "
	       "instruction count, for scale)\n");
}

/*
 * Native code per filter, this build's JIT (vfm_jit_code, both variants).
 * The same binary built for AArch64 prints the ARM64 figures (make
 * bench-codesize-aarch64 runs it under qemu with --code-size, which times
 * nothing); docs/JIT.md has both side by side.
 */
void bench_print_code_size(struct bench *b)
{
	const char *arch = vfm_jit_arch();
	if (!arch) {
		printf("\nJIT code size: no JIT in this build\n");
		return;
	}
	printf("\nJIT code size, %s (vfm_jit_code; counting variant = vfm_execute_ex, "
	       "verdict variant = vfm_execute;\nnative insns by %s)\n", arch,
	       strcmp(arch, "arm64") == 0 ? "4 bytes each" : "objdump");
	printf("  %-6s %6s %9s %10s %12s %9s %10s %12s\n", "filter", "insns", "count B",
	       "B/insn", "native/insn", "verdict B", "B/insn", "native/insn");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		unsigned n = vfm_program_insn_count(f->prog);
		printf("  %-6s %6u", f->def->id, n);
		for (int v = 0; v < 2; v++) {
			if (!f->jit_bytes[v]) {
				printf(" %9s %10s %12s", "-", "-", "-");
				continue;
			}
			char ni[16] = "-";
			if (f->jit_native_insns[v])
				snprintf(ni, sizeof ni, "%.2f", (double)f->jit_native_insns[v] / n);
			printf(" %9zu %10.1f %12s", f->jit_bytes[v], (double)f->jit_bytes[v] / n, ni);
		}
		printf("\n");
	}
}

void bench_print_counts(struct bench *b)
{
	printf("\nns/packet by packet count (median of %u runs; in order = the first N "
	       "packets repeated,\nshuffled = random draws from those N packets)\n",
	       b->opt.quick ? 3 : 5);
	printf("  %-6s %-11s %-9s", "filter", "engine", "order");
	for (unsigned c = 0; c < b->opt.n_counts; c++)
		printf(" %9zu", b->opt.counts[c]);
	printf("   last/first\n");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		if (f->def->stateful)
			continue;
		int first = 1;
		for (size_t j = 0; j < N_COUNT_KINDS; j++) {
			enum kind k = count_kinds[j];
			if (!f->in[k].timed)
				continue;
			for (int sh = 0; sh < 2; sh++) {
				const double *v = sh ? f->count_sh_ns[k] : f->count_ns[k];
				printf("  %-6s %-11s %-9s", first ? f->def->id : "",
				       sh ? "" : kind_name[k], sh ? "shuffled" : "in order");
				first = 0;
				for (unsigned c = 0; c < b->opt.n_counts; c++)
					printf(" %9.2f", v[c]);
				printf("   %.2fx\n", v[b->opt.n_counts - 1] / v[0]);
			}
		}
	}
}

void bench_print_threads(struct bench *b)
{
	printf("\nThreads: one VM per thread, one shared vfm_program_t (Mpps, all "
	       "threads together; %.2f s each)\n", b->opt.thread_sec);
	printf("  %-6s %-11s %9s %9s %8s\n", "filter", "engine", "1 thread", "2 threads",
	       "speedup");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		int first = 1;
		for (size_t j = 0; j < N_THREAD_KINDS; j++) {
			enum kind k = thread_kinds[j];
			if (!f->thr_mpps[k][0])
				continue;
			printf("  %-6s %-11s %9.1f %9.1f %7.2fx\n", first ? f->def->id : "",
			       kind_name[k], f->thr_mpps[k][0], f->thr_mpps[k][1],
			       f->thr_mpps[k][1] / f->thr_mpps[k][0]);
			first = 0;
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* One result object per line: bench/compare reads them with awk. */
void bench_write_json(struct bench *b, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		bench_die("cannot write %s: %s", path, strerror(errno));
	time_t now = time(NULL);
	char when[64];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f, "{\n\"schema\": \"vfm-bench/1\",\n\"date\": \"%s\",\n", when);
	fprintf(f, "\"machine\": {\"cpu\": ");
	json_str(f, b->mach.cpu);
	fprintf(f, ", \"cores\": %ld, \"kernel\": ", b->mach.cores);
	json_str(f, b->mach.kernel);
	fprintf(f, ", \"compiler\": ");
	json_str(f, b->mach.compiler);
	fprintf(f, ", \"libpcap\": ");
	json_str(f, pcap_lib_version());
	fprintf(f, ", \"load_start\": %.2f, \"load_end\": %.2f, \"clock_ghz_estimate\": %.3f},\n",
		b->mach.load_start, b->mach.load_end, b->clock_ghz);
	fprintf(f, "\"git\": {\"revision\": ");
	json_str(f, b->mach.git);
	fprintf(f, ", \"dirty\": %s},\n",
		b->mach.git_dirty < 0 ? "null" : b->mach.git_dirty ? "true" : "false");
	fprintf(f, "\"config\": {\"packets\": %zu, \"seed\": %" PRIu64
		   ", \"mean_gap_ns\": %u, \"runs\": %u, \"pin\": %d, \"quick\": %s, "
		   "\"jit\": %s, \"vfm_version\": \"%s\"},\n",
		b->opt.packets, b->opt.seed, MIX_GAP_NS, b->opt.runs, b->opt.pin,
		b->opt.quick ? "true" : "false", b->jit_available ? "true" : "false",
		VFM_VERSION_STRING);
	fprintf(f, "\"results\": [\n");
	int first = 1;
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *fl = &b->filters[fi];
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &fl->in[k];
			if (!in->timed)
				continue;
			fprintf(f, "%s{\"filter\": \"%s\", \"engine\": \"%s\", \"median_ns\": %.4f, "
				   "\"min_ns\": %.4f, \"max_ns\": %.4f, \"mpps\": %.3f, "
				   "\"ratio_native\": %.4f, \"passes\": %u}",
				first ? "" : ",\n", fl->def->id, kind_name[k], in->med, in->min,
				in->max, 1e3 / in->med,
				fl->in[K_NATIVE].timed ? in->med / fl->in[K_NATIVE].med : 0.0,
				in->passes);
			first = 0;
		}
	}
	/* Shuffled order as filters "<id>-shuf", so compare and plot treat
	 * them like any other row. */
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *fl = &b->filters[fi];
		for (int k = 0; k < K_COUNT; k++) {
			struct inst *in = &fl->in[k];
			if (!in->timed || in->stateful)
				continue;
			fprintf(f, "%s{\"filter\": \"%s-shuf\", \"engine\": \"%s\", \"median_ns\": %.4f, "
				   "\"min_ns\": %.4f, \"max_ns\": %.4f, \"mpps\": %.3f, "
				   "\"ratio_native\": %.4f, \"window\": %zu}",
				first ? "" : ",\n", fl->def->id, kind_name[k], in->sh_med, in->sh_min,
				in->sh_max, 1e3 / in->sh_med,
				fl->in[K_NATIVE].timed ? in->sh_med / fl->in[K_NATIVE].sh_med : 0.0,
				in->sh_window);
			first = 0;
		}
	}
	fprintf(f, "\n],\n\"verdicts\": [\n");
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		fprintf(f, "%s{\"filter\": \"%s\", \"packets\": %zu, \"accepted\": %zu, "
			   "\"bounds\": %zu, \"libpcap_wire_len_differs\": %zu}",
			fi ? ",\n" : "", b->filters[fi].def->id, b->total_pk, b->filters[fi].accepted,
			b->filters[fi].bounds, b->filters[fi].wire_diff);
	vfm_state_t *vm = vfm_create();
	fprintf(f, "\n],\n\"memory\": {\"vm_default_bytes\": %zu, \"programs\": [\n",
		vfm_memory(vm));
	vfm_destroy(vm);
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *fl = &b->filters[fi];
		fprintf(f, "%s{\"filter\": \"%s\", \"insns\": %u, \"code_bytes\": %u, "
			   "\"program_bytes\": %zu, \"program_bytes_no_debug\": %zu, "
			   "\"bpf_insns\": %u",
			fi ? ",\n" : "", fl->def->id, vfm_program_insn_count(fl->prog),
			vfm_program_code_size(fl->prog), vfm_program_memory(fl->prog),
			fl->mem_nodebug, fl->has_bpf ? fl->bpf.bf_len : 0);
		fprintf(f, ", \"jit_arch\": \"%s\", \"jit_bytes_counting\": %zu, "
			   "\"jit_bytes_verdict\": %zu, \"jit_native_insns_counting\": %zu, "
			   "\"jit_native_insns_verdict\": %zu, \"jit_pages_bytes\": %zu, "
			   "\"vfm_insns_per_packet\": %.3f}",
			vfm_jit_arch() ? vfm_jit_arch() : "", fl->jit_bytes[0], fl->jit_bytes[1],
			fl->jit_native_insns[0], fl->jit_native_insns[1],
			pages_of(fl->jit_bytes[0]) + pages_of(fl->jit_bytes[1]), fl->insns_per_pkt);
	}
	fprintf(f, "\n]},\n\"scaling_packets\": [\n");
	first = 1;
	if (!b->opt.no_scaling)
		for (size_t fi = 0; fi < N_FILTERS; fi++)
			for (size_t j = 0; j < N_COUNT_KINDS; j++) {
				enum kind k = count_kinds[j];
				if (!b->filters[fi].in[k].timed || b->filters[fi].def->stateful)
					continue;
				for (unsigned c = 0; c < b->opt.n_counts; c++) {
					fprintf(f, "%s{\"filter\": \"%s\", \"engine\": \"%s\", "
						   "\"packets\": %zu, \"median_ns\": %.4f, "
						   "\"shuffled_median_ns\": %.4f}",
						first ? "" : ",\n", b->filters[fi].def->id, kind_name[k],
						b->opt.counts[c], b->filters[fi].count_ns[k][c],
						b->filters[fi].count_sh_ns[k][c]);
					first = 0;
				}
			}
	fprintf(f, "\n],\n\"scaling_threads\": [\n");
	first = 1;
	if (!b->opt.no_scaling)
		for (size_t fi = 0; fi < N_FILTERS; fi++)
			for (size_t j = 0; j < N_THREAD_KINDS; j++) {
				enum kind k = thread_kinds[j];
				if (!b->filters[fi].thr_mpps[k][0])
					continue;
				for (int t = 0; t < 2; t++) {
					fprintf(f, "%s{\"filter\": \"%s\", \"engine\": \"%s\", "
						   "\"threads\": %d, \"mpps\": %.3f}",
						first ? "" : ",\n", b->filters[fi].def->id, kind_name[k],
						t + 1, b->filters[fi].thr_mpps[k][t]);
					first = 0;
				}
			}
	fprintf(f, "\n]\n}\n");
	if (fclose(f) != 0)
		bench_die("cannot write %s", path);
}

/* Whitespace-separated table for gnuplot: one row per filter, one column
 * per engine, "-" where an engine does not exist for a filter. */
void bench_write_dat(struct bench *b, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		bench_die("cannot write %s: %s", path, strerror(errno));
	int used[K_COUNT] = {0};
	for (size_t fi = 0; fi < N_FILTERS; fi++)
		for (int k = 0; k < K_COUNT; k++)
			used[k] |= b->filters[fi].in[k].timed;
	fprintf(f, "filter");
	for (int k = 0; k < K_COUNT; k++)
		if (used[k])
			fprintf(f, " %s", kind_name[k]);
	fprintf(f, "\n");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		fprintf(f, "%s", b->filters[fi].def->id);
		for (int k = 0; k < K_COUNT; k++) {
			if (!used[k])
				continue;
			if (b->filters[fi].in[k].timed)
				fprintf(f, " %.3f", b->filters[fi].in[k].med);
			else
				fprintf(f, " -");
		}
		fprintf(f, "\n");
	}
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		if (b->filters[fi].def->stateful)
			continue;
		fprintf(f, "%s-shuf", b->filters[fi].def->id);
		for (int k = 0; k < K_COUNT; k++) {
			if (!used[k])
				continue;
			if (b->filters[fi].in[k].timed)
				fprintf(f, " %.3f", b->filters[fi].in[k].sh_med);
			else
				fprintf(f, " -");
		}
		fprintf(f, "\n");
	}
	if (fclose(f) != 0)
		bench_die("cannot write %s", path);
}

void bench_dump_bpf(struct bench *b)
{
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		if (!f->has_bpf)
			continue;
		printf("%s: pcap_compile(\"%s\", optimize=1), DLT_EN10MB, snaplen 65535\n",
		       f->def->id, f->def->expr);
		for (unsigned i = 0; i < f->bpf.bf_len; i++)
			printf("  %s\n", bpf_image(&f->bpf.bf_insns[i], (int)i));
	}
}

