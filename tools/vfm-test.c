/*
 * vfm-test — run a filter over a capture: verdict and status counts,
 * flow-table statistics and throughput.
 *
 * The counts come from one pass over the capture, in order, with one VM,
 * each packet carrying its capture timestamp (so TS-based filters see real
 * time).  The pass stores the results and prints nothing while it runs, so
 * its timing is not disturbed by -v or -w, which are done afterwards.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfm.h"
#include "cli.h"
#include "pcapio.h"

static const char *const prog = "vfm-test";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfm-test [options] FILTER.bin CAPTURE.pcap\n"
		"\n"
		"Load FILTER.bin (bytecode from vfm-asm; it is verified on load), run\n"
		"every packet of CAPTURE (pcap or pcapng) through it in order, and print\n"
		"the packet, accepted and dropped counts, the count of each per-packet\n"
		"status, flow-table statistics and throughput.  Each packet is run with\n"
		"its capture timestamp in ns (the TS instruction) and its captured bytes.\n"
		"\n"
		"  -v, --verbose          one line per packet: number (from 1), captured\n"
		"                         length, verdict, status\n"
		"  -w, --write OUT.pcap   write the accepted packets to OUT.pcap (same\n"
		"                         link type and timestamps, as tcpdump -w would;\n"
		"                         \"-\" = stdout, the report then goes to stderr)\n"
		"      --budget N         backward jumps allowed per packet (default %u)\n"
		"      --flow-capacity N  flow-table entries, a power of two (default %u)\n"
		"      --repeat N         time N passes over the capture (default 1).  The\n"
		"                         counts always come from pass 1; passes 2..N each\n"
		"                         start on a fresh VM, so every pass does the same\n"
		"                         work.  Throughput is reported over all passes,\n"
		"                         together with the fastest pass.\n"
		"      --jit              compile the filter to native code; if this build\n"
		"                         has no JIT, say so and use the interpreter\n"
		"      --jit-dump FILE    with --jit: also write the native code to FILE\n"
		"                         (objdump -b binary -m %s -D FILE; the\n"
		"                         machine of this build's JIT)\n"
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0 success, 1 the filter file is invalid or rejected by the\n"
		"verifier, 2 bad command line, 3 a file cannot be read or written (or the\n"
		"capture is corrupt).\n",
		VFM_DEFAULT_BUDGET, VFM_DEFAULT_FLOW_CAPACITY,
		vfm_jit_objdump_arch() ? vfm_jit_objdump_arch() : "<none: no JIT in this build>");
}


static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct options {
	int verbose;
	int jit;
	const char *jit_dump;
	const char *write_path;
	FILE *out; /* the report: stderr when -w - puts the capture on stdout */
	vfm_config_t config;
	uint64_t repeat;
	const char *filter_path;
	const char *capture_path;
};

/* A VM for one pass; JIT failure other than "unsupported" is fatal. */
static vfm_state_t *make_vm(const struct options *o, vfm_program_t *program,
			    int *jit_on, int *exit_code)
{
	vfm_diag_t diag;
	vfm_state_t *vm = vfm_create_with(&o->config, &diag);
	if (!vm) {
		cli_error(prog, "%s", diag.message);
		*exit_code = diag.code == VFM_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_REJECT;
		return NULL;
	}
	if (vfm_attach_program(vm, program) != VFM_OK) {
		cli_error(prog, "%s", vfm_last_error(vm));
		vfm_destroy(vm);
		*exit_code = CLI_EXIT_REJECT;
		return NULL;
	}
	*jit_on = 0;
	if (o->jit) {
		vfm_error_t err = vfm_enable_jit(vm);
		if (err == VFM_OK) {
			*jit_on = 1;
			const void *code;
			size_t size;
			if (o->jit_dump && vfm_jit_code(vm, &code, &size) == VFM_OK &&
			    cli_write_file(prog, o->jit_dump, code, size) != 0) {
				vfm_destroy(vm);
				*exit_code = CLI_EXIT_IO;
				return NULL;
			}
		} else if (err != VFM_EUNSUPPORTED) {
			cli_error(prog, "%s: JIT compilation failed: %s", o->filter_path,
				  vfm_last_error(vm));
			vfm_destroy(vm);
			*exit_code = CLI_EXIT_REJECT;
			return NULL;
		}
	}
	return vm;
}

/* Run every packet in order; returns elapsed ns. */
static uint64_t run_pass(vfm_state_t *vm, const vfm_packet_t *pkts, size_t n,
			 vfm_result_t *results)
{
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		vfm_execute_ex(vm, &pkts[i], &results[i]);
	return now_ns() - t0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_BUDGET = 256, OPT_FLOWCAP, OPT_REPEAT, OPT_JIT, OPT_JIT_DUMP };
	static const struct option longopts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"write", required_argument, NULL, 'w'},
		{"budget", required_argument, NULL, OPT_BUDGET},
		{"flow-capacity", required_argument, NULL, OPT_FLOWCAP},
		{"repeat", required_argument, NULL, OPT_REPEAT},
		{"jit", no_argument, NULL, OPT_JIT},
		{"jit-dump", required_argument, NULL, OPT_JIT_DUMP},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;
	memset(o, 0, sizeof *o);
	o->repeat = 1;
	while ((c = getopt_long(argc, argv, "vw:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->verbose = 1;
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case OPT_BUDGET:
			if (cli_parse_u64(optarg, UINT32_MAX, &v) != 0) {
				cli_error(prog, "bad --budget '%s' (0 to %u)", optarg, UINT32_MAX);
				return CLI_EXIT_USAGE;
			}
			o->config.budget = (uint32_t)v;
			o->config.budget_set = 1;
			break;
		case OPT_FLOWCAP:
			if (cli_parse_u64(optarg, VFM_MAX_FLOW_CAPACITY, &v) != 0 || !v) {
				cli_error(prog, "bad --flow-capacity '%s' (a power of two up to %u)",
					  optarg, VFM_MAX_FLOW_CAPACITY);
				return CLI_EXIT_USAGE;
			}
			o->config.flow_capacity = (uint32_t)v;
			break;
		case OPT_REPEAT:
			if (cli_parse_u64(optarg, 1000000, &v) != 0 || !v) {
				cli_error(prog, "bad --repeat '%s' (1 to 1000000)", optarg);
				return CLI_EXIT_USAGE;
			}
			o->repeat = v;
			break;
		case OPT_JIT:
			o->jit = 1;
			break;
		case OPT_JIT_DUMP:
			o->jit_dump = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(CLI_EXIT_OK);
		default:
			fprintf(stderr, "Try 'vfm-test --help'.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_error(prog, "expected FILTER.bin and CAPTURE.pcap (--help for usage)");
		return CLI_EXIT_USAGE;
	}
	o->out = o->write_path && strcmp(o->write_path, "-") == 0 ? stderr : stdout;
	o->filter_path = argv[optind];
	o->capture_path = argv[optind + 1];
	return CLI_EXIT_OK;
}

/* Write the accepted packets; returns an exit code. */
static int write_accepted(const struct options *o, const struct pcapio_capture *cap,
			  const vfm_result_t *results)
{
	char err[PCAPIO_ERRBUF];
	struct pcapio_writer *w = pcapio_writer_open(o->write_path, cap->linktype,
						     cap->snaplen, err);
	if (!w) {
		cli_error(prog, "%s", err);
		return CLI_EXIT_IO;
	}
	for (size_t i = 0; i < cap->count; i++) {
		const struct pcapio_packet *p = &cap->pkts[i];
		if (results[i].verdict &&
		    pcapio_write(w, p->data, p->caplen, p->len, p->ts_ns) != 0)
			break; /* the reason comes from close */
	}
	if (pcapio_writer_close(w, err) != 0) {
		cli_error(prog, "%s", err);
		return CLI_EXIT_IO;
	}
	return CLI_EXIT_OK;
}

static void print_summary(const struct options *o, const vfm_program_t *program,
			  const struct pcapio_capture *cap, const vfm_result_t *results,
			  const vfm_flow_stats_t *fs, int jit_on, uint64_t total_ns,
			  uint64_t best_ns)
{
	size_t n = cap->count, accepted = 0;
	size_t status[VFM_STATUS_COUNT + 1] = {0}; /* last slot: out-of-range */
	for (size_t i = 0; i < n; i++) {
		accepted += results[i].verdict != 0;
		unsigned s = (unsigned)results[i].status;
		status[s < VFM_STATUS_COUNT ? s : VFM_STATUS_COUNT]++;
	}
	double pct = n ? 100.0 / (double)n : 0.0;
	fprintf(o->out, "filter:      %s (%u instructions, max stack %u)\n", o->filter_path,
		vfm_program_insn_count(program), vfm_program_max_depth(program));
	fprintf(o->out, "capture:     %s (link type %s)\n", o->capture_path,
		pcapio_linktype_name(cap->linktype));
	fprintf(o->out, "packets:     %zu\n", n);
	fprintf(o->out, "accepted:    %zu (%.2f%%)\n", accepted, (double)accepted * pct);
	fprintf(o->out, "dropped:     %zu (%.2f%%)\n", n - accepted, (double)(n - accepted) * pct);
	for (unsigned s = 0; s < VFM_STATUS_COUNT; s++)
		fprintf(o->out, "status %-10s %zu\n", vfm_status_name((vfm_status_t)s), status[s]);
	if (status[VFM_STATUS_COUNT])
		fprintf(o->out, "status %-10s %zu\n", "unknown", status[VFM_STATUS_COUNT]);
	fprintf(o->out, "flow table:  capacity %llu, entries %llu, hits %llu, misses %llu, "
		"inserts %llu, updates %llu, evictions %llu\n",
		(unsigned long long)fs->capacity, (unsigned long long)fs->entries,
		(unsigned long long)fs->hits, (unsigned long long)fs->misses,
		(unsigned long long)fs->inserts, (unsigned long long)fs->updates,
		(unsigned long long)fs->evictions);
	fprintf(o->out, "engine:      %s\n", jit_on ? "jit" : "interpreter");
	double total_pkts = (double)n * (double)o->repeat;
	fprintf(o->out, "time:        %.3f ms for %llu pass%s\n", (double)total_ns / 1e6,
		(unsigned long long)o->repeat, o->repeat == 1 ? "" : "es");
	if (n && total_ns) {
		fprintf(o->out, "throughput:  %.2f Mpps, %.2f ns/packet",
			total_pkts * 1e3 / (double)total_ns, (double)total_ns / total_pkts);
		if (o->repeat > 1)
			fprintf(o->out, " (fastest pass %.2f ns/packet)", (double)best_ns / (double)n);
		fprintf(o->out, "\n");
	} else {
		fprintf(o->out, "throughput:  n/a\n");
	}
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);
	if (rc != CLI_EXIT_OK)
		return rc;

	vfm_program_t *program = NULL;
	vfm_diag_t diag;
	vfm_error_t err = vfm_program_create_file(o.filter_path, &program, &diag);
	if (err != VFM_OK) {
		/* The library's message already names the file. */
		cli_error(prog, "%s", diag.message);
		return err == VFM_EIO ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}

	struct pcapio_capture cap;
	char perr[PCAPIO_ERRBUF];
	if (pcapio_read(o.capture_path, &cap, perr) != 0) {
		cli_error(prog, "%s", perr);
		vfm_program_release(program);
		return CLI_EXIT_IO;
	}
	if (cap.linktype != PCAPIO_LINKTYPE_ETHERNET)
		fprintf(stderr, "%s: warning: %s: link type %s (%d) is not Ethernet; the filter "
			"sees each packet's bytes as captured\n", prog, o.capture_path,
			pcapio_linktype_name(cap.linktype), cap.linktype);

	vfm_packet_t *pkts = calloc(cap.count ? cap.count : 1, sizeof *pkts);
	vfm_result_t *results = calloc(cap.count ? cap.count : 1, sizeof *results);
	vfm_result_t *scratch = o.repeat > 1 ? calloc(cap.count ? cap.count : 1, sizeof *scratch)
					     : NULL;
	vfm_state_t *vm = NULL;
	if (!pkts || !results || (o.repeat > 1 && !scratch)) {
		cli_error(prog, "out of memory");
		rc = CLI_EXIT_IO;
		goto out;
	}
	for (size_t i = 0; i < cap.count; i++)
		pkts[i] = (vfm_packet_t){.data = cap.pkts[i].data, .len = cap.pkts[i].caplen,
					 .ts_ns = cap.pkts[i].ts_ns, .wire_len = cap.pkts[i].len};

	int jit_on = 0, first_jit = 0;
	vm = make_vm(&o, program, &first_jit, &rc);
	if (!vm)
		goto out;
	if (o.jit && !first_jit)
		fprintf(stderr, "%s: JIT unsupported: %s\n", prog, vfm_last_error(vm));

	/* Pass 1 gives the counts and the flow table. */
	uint64_t total_ns = run_pass(vm, pkts, cap.count, results);
	uint64_t best_ns = total_ns;
	vfm_flow_stats_t fs;
	vfm_flow_stats(vm, &fs);
	for (uint64_t r = 1; r < o.repeat; r++) {
		vfm_state_t *fresh = make_vm(&o, program, &jit_on, &rc);
		if (!fresh)
			goto out;
		uint64_t t = run_pass(fresh, pkts, cap.count, scratch);
		vfm_destroy(fresh);
		total_ns += t;
		if (t < best_ns)
			best_ns = t;
	}

	if (o.verbose) {
		for (size_t i = 0; i < cap.count; i++)
			fprintf(o.out, "packet %zu: len %u verdict %u %s status %s\n", i + 1,
				pkts[i].len, results[i].verdict,
				results[i].verdict ? "accept" : "drop",
				vfm_status_name(results[i].status));
	}
	if (o.write_path) {
		rc = write_accepted(&o, &cap, results);
		if (rc != CLI_EXIT_OK)
			goto out;
	}
	print_summary(&o, program, &cap, results, &fs, first_jit, total_ns, best_ns);
	if (fflush(o.out) != 0) {
		cli_error(prog, "write error on standard output: %s", strerror(errno));
		rc = CLI_EXIT_IO;
	}
out:
	vfm_destroy(vm);
	free(scratch);
	free(results);
	free(pkts);
	pcapio_free(&cap);
	vfm_program_release(program);
	return rc;
}
