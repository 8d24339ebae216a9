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

void bench_print_memory(struct bench *b)
{
	vfm_state_t *vm = vfm_create();
	printf("\nMemory\n  one VM, default configuration (flow capacity %u): %zu bytes "
	       "(vfm_memory; bound 1 MiB = 1048576)\n",
	       VFM_DEFAULT_FLOW_CAPACITY, vfm_memory(vm));
	vfm_destroy(vm);
	printf("  per compiled program (vfm_program_memory), with and without the debug "
	       "sections:\n");
	printf("  %-6s %6s %6s %6s %10s %10s   %s\n", "filter", "insns", "code", "depth",
	       "program", "no debug", "libpcap program");
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		printf("  %-6s %6u %6u %6u %10zu %10zu   ", f->def->id,
		       vfm_program_insn_count(f->prog), vfm_program_code_size(f->prog),
		       vfm_program_max_depth(f->prog), vfm_program_memory(f->prog),
		       f->mem_nodebug);
		if (f->has_bpf)
			printf("%u insns, %zu bytes\n", f->bpf.bf_len,
			       (size_t)f->bpf.bf_len * sizeof(struct bpf_insn));
		else
			printf("-\n");
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
	fprintf(f, ", \"load_start\": %.2f, \"load_end\": %.2f},\n", b->mach.load_start,
		b->mach.load_end);
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
			   "\"bpf_insns\": %u}",
			fi ? ",\n" : "", fl->def->id, vfm_program_insn_count(fl->prog),
			vfm_program_code_size(fl->prog), vfm_program_memory(fl->prog),
			fl->mem_nodebug, fl->has_bpf ? fl->bpf.bf_len : 0);
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

