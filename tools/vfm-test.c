/*
 * vfm-test — run a filter over a capture: verdict and status counts,
 * flow-table statistics and throughput.
 *
 * The counts come from one pass over the capture, in order, with one VM,
 * each packet carrying its capture timestamp (TS) and original length
 * (WLEN).  The capture is streamed in chunks: memory does not grow with its
 * size (--repeat keeps one copy in memory and says so).  Only the filter
 * runs are timed, chunk by chunk; listing, writing and counting happen
 * between the timed runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vfm.h"
#include "cli.h"
#include "kengine.h"
#include "pcapexpr.h"
#include "pcapio.h"

static const char *const prog = "vfm-test";

/* Exit status 4: the capture ends in a record cut off; every complete
 * packet before it was run and reported. */
enum { EXIT_TRUNCATED = 4 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfm-test [options] FILTER CAPTURE\n"
		"       vfm-test [options] -e EXPRESSION CAPTURE\n"
		"\n"
		"Load FILTER (bytecode from vfm-asm, or VFM assembly, assembled on the\n"
		"fly; verified on load either way), run every packet of CAPTURE (pcap or\n"
		"pcapng; \"-\" = standard input) through it in order, and print verdict\n"
		"and status counts, flow-table statistics and throughput.  Each packet\n"
		"is run with its captured bytes, its timestamp in ns (TS) and its\n"
		"original length (WLEN).\n"
		"\n"
		"The filter must be written for the capture's link type: the program's\n"
		".linktype (vfm-asm writes it), or EN10MB (Ethernet) if it declares none.\n"
		"With -e, a pcap-filter expression (as tcpdump takes it) is compiled by\n"
		"libpcap for the capture's own link type and snapshot length and\n"
		"translated to VFM (docs/CBPF.md).\n"
		"\n"
		"  -e, --expression EXPR  filter with a pcap-filter expression\n"
		"  -c, --count N          stop after N packets\n"
		"  -v, --verbose          one line per packet: number (from 1), captured\n"
		"                         length, verdict, status\n"
		"      --verdicts         one tab-separated line per packet (stable\n"
		"                         format): index (from 1), timestamp (s.ns),\n"
		"                         captured length, original length, verdict,\n"
		"                         status\n"
		"      --json             the summary as one JSON object\n"
		"  -w, --write OUT        write the accepted packets to OUT (same link\n"
		"                         type, timestamps and lengths, as tcpdump -w;\n"
		"                         pcapng if CAPTURE is pcapng, else pcap; \"-\" =\n"
		"                         stdout, the report then goes to stderr)\n"
		"      --linktype-ok      run the filter even if the capture's link type\n"
		"                         is not the one it is written for\n"
		"      --budget N         backward jumps allowed per packet (default %u)\n"
		"      --flow-capacity N  flow-table entries, a power of two (default %u)\n"
		"      --repeat N         time N passes over the capture (default 1); the\n"
		"                         capture is then held in memory.  The counts come\n"
		"                         from pass 1; passes 2..N each start on a fresh\n"
		"                         VM.  Throughput is the steady state: the median\n"
		"                         and range of passes 2..N; pass 1 (cold) apart.\n"
		"      --engine E         interpreter (default), jit (as --jit) or kernel:\n"
		"                         the filter compiled to eBPF (docs/EBPF.md), loaded\n"
		"                         with bpf() as a SCHED_CLS program that returns\n"
		"                         the verdict and status, and each packet run with\n"
		"                         BPF_PROG_TEST_RUN (needs root or CAP_BPF; the\n"
		"                         tc and XDP programs are run too and must agree).\n"
		"                         The kernel counts no instructions; time and\n"
		"                         throughput are those of the TEST_RUN syscalls.\n"
		"                         Packets TEST_RUN cannot take (over %u bytes,\n"
		"                         original length below the captured one) are\n"
		"                         counted as not run; the flow table is the\n"
		"                         program's BPF map, read back for the summary\n"
		"      --jit              compile the filter to native code; if this build\n"
		"                         has no JIT, say so and use the interpreter\n"
		"      --jit-harden       --jit with constant blinding (VFM_JIT_HARDEN):\n"
		"                         no constant of the filter in the native code\n"
		"      --jit-dump FILE    with --jit: also write the native code to FILE\n"
		"                         (objdump -b binary -m %s -D FILE; the\n"
		"                         machine of this build's JIT)\n"
		"  -h, --help             this text\n"
		"      --version          print the version\n"
		"\n"
		"Exit status: 0 success, 1 the filter file is invalid or rejected by the\n"
		"verifier, 2 bad command line, 3 a file cannot be read or written (or the\n"
		"capture is corrupt).\n",
		VFM_DEFAULT_BUDGET, VFM_DEFAULT_FLOW_CAPACITY, KENGINE_MAX_LEN,
		vfm_jit_objdump_arch() ? vfm_jit_objdump_arch() : "<none: no JIT in this build>");
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct options {
	int verbose, verdicts, json, jit, linktype_ok;
	unsigned jit_flags; /* vfm_enable_jit_ex: VFM_JIT_HARDEN with --jit-harden */
	int kernel; /* --engine=kernel */
	const char *jit_dump;
	const char *write_path;
	FILE *out; /* the report: stderr when -w - puts the capture on stdout */
	vfm_config_t config;
	uint64_t repeat;
	uint64_t count; /* 0: all */
	const char *filter_path; /* or the expression, with -e */
	const char *expression;
	const char *capture_path;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	enum {
		OPT_BUDGET = 256, OPT_FLOWCAP, OPT_REPEAT, OPT_JIT, OPT_JIT_HARDEN, OPT_JIT_DUMP, OPT_VERDICTS,
		OPT_JSON, OPT_LINKTYPE_OK, OPT_ENGINE
	};
	static const struct option longopts[] = {
		{"count", required_argument, NULL, 'c'},
		{"expression", required_argument, NULL, 'e'},
		{"verbose", no_argument, NULL, 'v'},
		{"verdicts", no_argument, NULL, OPT_VERDICTS},
		{"json", no_argument, NULL, OPT_JSON},
		{"write", required_argument, NULL, 'w'},
		{"linktype-ok", no_argument, NULL, OPT_LINKTYPE_OK},
		{"budget", required_argument, NULL, OPT_BUDGET},
		{"flow-capacity", required_argument, NULL, OPT_FLOWCAP},
		{"repeat", required_argument, NULL, OPT_REPEAT},
		{"jit", no_argument, NULL, OPT_JIT},
		{"jit-harden", no_argument, NULL, OPT_JIT_HARDEN},
		{"engine", required_argument, NULL, OPT_ENGINE},
		{"jit-dump", required_argument, NULL, OPT_JIT_DUMP},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {.name = prog, .usage = usage, .shortopts = "c:e:vw:", .longopts = longopts};
	int c;
	memset(o, 0, sizeof *o);
	o->repeat = 1;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'c':
			o->count = cli_number(&cli, "--count", optarg, 1, UINT64_MAX, NULL);
			break;
		case 'e':
			o->expression = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_VERDICTS:
			o->verdicts = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case OPT_LINKTYPE_OK:
			o->linktype_ok = 1;
			break;
		case OPT_BUDGET:
			o->config.budget = (uint32_t)cli_number(&cli, "--budget", optarg, 0, UINT32_MAX, NULL);
			o->config.budget_set = 1;
			break;
		case OPT_FLOWCAP:
			o->config.flow_capacity = (uint32_t)cli_number(&cli, "--flow-capacity", optarg, 1,
								       VFM_MAX_FLOW_CAPACITY, NULL);
			break;
		case OPT_REPEAT:
			o->repeat = cli_number(&cli, "--repeat", optarg, 1, 1000000, NULL);
			break;
		case OPT_JIT:
			o->jit = 1;
			break;
		case OPT_JIT_HARDEN:
			o->jit = 1;
			o->jit_flags = VFM_JIT_HARDEN;
			break;
		case OPT_JIT_DUMP:
			o->jit_dump = optarg;
			break;
		case OPT_ENGINE:
			if (strcmp(optarg, "kernel") == 0)
				o->kernel = 1;
			else if (strcmp(optarg, "jit") == 0)
				o->jit = 1;
			else if (strcmp(optarg, "interpreter") != 0)
				return cli_usage_error(&cli, "bad --engine '%s' (interpreter, jit or "
							     "kernel)", optarg);
			break;
		}
	}
	if (o->kernel && (o->jit || o->jit_dump))
		return cli_usage_error(&cli, "--engine=kernel and --jit exclude each other");
	if (argc - optind != (o->expression ? 1 : 2))
		return cli_usage_error(&cli, o->expression ? "expected CAPTURE after -e EXPRESSION"
							  : "expected FILTER and CAPTURE");
	o->out = o->write_path && strcmp(o->write_path, "-") == 0 ? stderr : stdout;
	o->filter_path = o->expression ? o->expression : argv[optind];
	o->capture_path = argv[argc - 1];
	if (strcmp(o->capture_path, "-") == 0 && o->write_path && strcmp(o->write_path, "-") == 0)
		return cli_usage_error(&cli, "-w - and CAPTURE - cannot both be standard streams");
	return CLI_EXIT_OK;
}

/* The filter: bytecode, or assembly source assembled here. */
static int load_filter(const char *path, vfm_program_t **program)
{
	uint8_t *bytes;
	size_t len;
	if (cli_read_file(prog, path, &bytes, &len) != 0)
		return CLI_EXIT_IO;
	vfm_diag_t diag;
	vfm_error_t err = vfm_program_create(bytes, len, program, &diag);
	bool assembled = false;
	if (err == VFM_EMAGIC || err == VFM_ETRUNCATED) {
		/* Not bytecode: maybe a .vfm source.  The assembler's message
		 * (file:line:col) is the useful one if that fails too. */
		uint8_t *bin;
		size_t bin_len;
		vfm_diag_t adiag;
		vfm_error_t aerr = vfm_assemble((const char *)bytes, len, path, 1, &bin, &bin_len,
						&adiag);
		if (aerr == VFM_OK) {
			err = vfm_program_create(bin, bin_len, program, &diag);
			assembled = true;
			free(bin);
		} else if (err == VFM_EMAGIC) {
			cli_error(prog, "%s: neither VFM bytecode (bad magic) nor assembly: %s", path,
				  adiag.message);
			free(bytes);
			return CLI_EXIT_REJECT;
		}
	}
	free(bytes);
	if (err != VFM_OK) {
		/* Verifier messages of assembled code name file:line already. */
		if (assembled && diag.line)
			cli_error(prog, "%s", diag.message);
		else
			cli_error(prog, "%s: %s", path, diag.message);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	return CLI_EXIT_OK;
}

/* -e: the expression compiled for the capture's link type and snaplen. */
static int compile_expression(const struct options *o, const struct pcapio_reader *r,
			      vfm_program_t **program)
{
	struct pcapexpr_options po;
	pcapexpr_options_init(&po);
	po.linktype = pcapio_linktype(r);
	po.snaplen = (int)pcapio_snaplen(r);
	char err[PCAPEXPR_ERRBUF];
	vfm_cbpf_insn_t *insns;
	size_t n;
	if (pcapexpr_compile(o->expression, &po, &insns, &n, err) != 0) {
		cli_error(prog, "cannot compile '%s' for link type %s: %s", o->expression,
			  pcapio_linktype_name(po.linktype), err);
		return CLI_EXIT_REJECT;
	}
	vfm_cbpf_options_t opt = {.source_name = o->expression,
				  .linktype = pcapio_linktype_name(po.linktype)};
	vfm_diag_t diag;
	vfm_error_t e = vfm_program_from_cbpf(insns, n, &opt, program, &diag);
	free(insns);
	if (e != VFM_OK) {
		cli_error(prog, "'%s': %s", o->expression, diag.message);
		return e == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	return CLI_EXIT_OK;
}

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
		vfm_error_t err = vfm_enable_jit_ex(vm, o->jit_flags);
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

/* Packets read from the capture, with their bytes copied out of libpcap's
 * buffer (valid only until the next read). */
struct chunk {
	vfm_packet_t *pkts;
	vfm_result_t *results;
	size_t n, cap;
	uint8_t *bytes;
	size_t used, bytes_cap;
};

/* Chunk limits when streaming: memory stays bounded by these. */
#define CHUNK_PACKETS 4096u
#define CHUNK_BYTES (8u << 20)

static int chunk_add(struct chunk *c, const struct pcapio_packet *p)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 1024;
		vfm_packet_t *np = realloc(c->pkts, ncap * sizeof *np);
		if (!np)
			return -1;
		c->pkts = np;
		vfm_result_t *nr = realloc(c->results, ncap * sizeof *nr);
		if (!nr)
			return -1;
		c->results = nr;
		c->cap = ncap;
	}
	if (c->bytes_cap - c->used < p->caplen) {
		size_t ncap = 2 * c->bytes_cap + p->caplen;
		uintptr_t old = (uintptr_t)c->bytes;
		uint8_t *nb = realloc(c->bytes, ncap);
		if (!nb)
			return -1;
		/* The buffer moved: the packets keep their offsets in it. */
		for (size_t i = 0; i < c->n; i++)
			c->pkts[i].data = nb + ((uintptr_t)c->pkts[i].data - old);
		c->bytes = nb;
		c->bytes_cap = ncap;
	}
	if (p->caplen)
		memcpy(c->bytes + c->used, p->data, p->caplen);
	c->pkts[c->n++] = (vfm_packet_t){.data = c->bytes + c->used, .len = p->caplen,
					 .ts_ns = p->ts_ns, .wire_len = p->len};
	c->used += p->caplen;
	return 0;
}

static void chunk_free(struct chunk *c)
{
	free(c->pkts);
	free(c->results);
	free(c->bytes);
}

struct summary {
	size_t packets, accepted;
	size_t status[VFM_STATUS_COUNT + 1]; /* last slot: out of range */
	size_t snapped;        /* captured shorter than the original length */
	size_t bounds_snapped; /* BOUNDS drops among them */
	uint64_t ns, best_ns;
	uint64_t cold_ns;      /* pass 1: streamed, cold caches and first touch */
	uint64_t *warm_ns;     /* passes 2..N (--repeat), n_warm of them */
	uint64_t n_warm;
	int jit_on;
	int kernel;
	size_t not_run;        /* --engine=kernel: packets TEST_RUN cannot take */
	vfm_flow_stats_t flow;
	const char *ended;     /* why the capture ended early, or NULL */
};

/* Timestamp as seconds.nanoseconds; before 1970 with a minus sign. */
static void print_ts(FILE *f, uint64_t ts_ns)
{
	int64_t t = (int64_t)ts_ns;
	uint64_t mag = t < 0 ? 0 - ts_ns : ts_ns;
	fprintf(f, "%s%" PRIu64 ".%09" PRIu64, t < 0 ? "-" : "", mag / 1000000000u,
		mag % 1000000000u);
}

/* --engine=kernel: the status of a packet BPF_PROG_TEST_RUN cannot take
 * (outside the status space, so it is never a VM status). */
#define KERNEL_NOT_RUN ((vfm_status_t)VFM_STATUS_COUNT)

/* Run every packet of the chunk on the kernel; returns elapsed ns, or
 * UINT64_MAX after printing why a packet failed (a refused TEST_RUN, or
 * the tc or XDP program disagreeing with the raw verdict). */
static uint64_t run_chunk_kernel(const struct kengine *k, struct chunk *c,
				 vfm_result_t *results, size_t first_index)
{
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < c->n; i++) {
		vfm_diag_t diag;
		vfm_error_t err = kengine_run(k, &c->pkts[i], &results[i], &diag);
		if (err == VFM_EUNSUPPORTED) {
			results[i] = (vfm_result_t){.verdict = 0, .status = KERNEL_NOT_RUN};
		} else if (err != VFM_OK) {
			cli_error(prog, "packet %zu (%u bytes): kernel engine: %s", first_index + i + 1,
				  c->pkts[i].len, diag.message);
			return UINT64_MAX;
		}
	}
	return now_ns() - t0;
}

/* Counting, listing and writing for the packets of one chunk (pass 1). */
static int report_chunk(const struct options *o, const struct chunk *c,
			struct pcapio_writer *w, struct summary *sum)
{
	for (size_t i = 0; i < c->n; i++) {
		const vfm_packet_t *p = &c->pkts[i];
		const vfm_result_t *r = &c->results[i];
		size_t index = ++sum->packets;
		if (sum->kernel && r->status == KERNEL_NOT_RUN) {
			sum->not_run++;
			if (o->verbose)
				fprintf(o->out, "packet %zu: len %u not run (BPF_PROG_TEST_RUN cannot "
						"take it)\n", index, p->len);
			if (o->verdicts) {
				fprintf(o->out, "%zu\t", index);
				print_ts(o->out, p->ts_ns);
				fprintf(o->out, "\t%u\t%u\t-\tNOT_RUN\n", p->len, p->wire_len);
			}
			continue;
		}
		sum->accepted += r->verdict != 0;
		unsigned s = (unsigned)r->status;
		sum->status[s < VFM_STATUS_COUNT ? s : VFM_STATUS_COUNT]++;
		bool snapped = p->len < p->wire_len;
		sum->snapped += snapped;
		sum->bounds_snapped += snapped && r->status == VFM_STATUS_BOUNDS;
		if (o->verbose)
			fprintf(o->out, "packet %zu: len %u verdict %u %s status %s\n", index, p->len,
				r->verdict, r->verdict ? "accept" : "drop", vfm_status_name(r->status));
		if (o->verdicts) {
			fprintf(o->out, "%zu\t", index);
			print_ts(o->out, p->ts_ns);
			fprintf(o->out, "\t%u\t%u\t%u\t%s\n", p->len, p->wire_len, r->verdict,
				vfm_status_name(r->status));
		}
		if (w && r->verdict && pcapio_write(w, p->data, p->len, p->wire_len, p->ts_ns) != 0)
			return -1; /* the reason comes from close */
	}
	return 0;
}

/* Run every packet of the chunk in order; returns elapsed ns. */
static uint64_t run_chunk(vfm_state_t *vm, struct chunk *c, vfm_result_t *results)
{
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < c->n; i++)
		vfm_execute_ex(vm, &c->pkts[i], &results[i]);
	return now_ns() - t0;
}

/* Read up to the chunk's limits (or everything: limit 0) without passing
 * o->count.  Returns 1 if packets may follow, 0 at the end, -1 on error
 * (sum->ended says why; the chunk holds the good packets before it). */
static int fill_chunk(const struct options *o, struct pcapio_reader *r, struct chunk *c,
		      size_t max_packets, size_t max_bytes, size_t already, char *err,
		      struct summary *sum)
{
	c->n = 0;
	c->used = 0;
	for (;;) {
		if (o->count && already + c->n >= o->count)
			return 0;
		if ((max_packets && c->n >= max_packets) || (max_bytes && c->used >= max_bytes))
			return 1;
		struct pcapio_packet p;
		int rc = pcapio_next(r, &p, err);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			sum->ended = err;
			return -1;
		}
		if (chunk_add(c, &p) != 0) {
			snprintf(err, PCAPIO_ERRBUF, "out of memory");
			sum->ended = err;
			return -1;
		}
	}
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Median ns of the warm passes (sorted in place). */
static double warm_median(const struct summary *sum)
{
	qsort(sum->warm_ns, sum->n_warm, sizeof *sum->warm_ns, cmp_u64);
	uint64_t k = sum->n_warm / 2;
	return sum->n_warm % 2 ? (double)sum->warm_ns[k]
			       : ((double)sum->warm_ns[k - 1] + (double)sum->warm_ns[k]) / 2;
}

static void print_summary(const struct options *o, const vfm_program_t *program,
			  const char *linktype, const struct summary *sum)
{
	FILE *f = o->out;
	size_t n = sum->packets;
	const vfm_flow_stats_t *fs = &sum->flow;
	double total_pkts = (double)n * (double)o->repeat;
	if (o->json) {
		fprintf(f, "{\"filter\":");
		json_string(f, o->filter_path);
		fprintf(f, ",\"capture\":");
		json_string(f, o->capture_path);
		fprintf(f, ",\"linktype\":");
		json_string(f, linktype);
		fprintf(f, ",\"instructions\":%u,\"packets\":%zu,\"accepted\":%zu,\"dropped\":%zu,"
			   "\"status\":{",
			vfm_program_insn_count(program), n, sum->accepted, n - sum->accepted - sum->not_run);
		for (unsigned s = 0; s < VFM_STATUS_COUNT; s++)
			fprintf(f, "%s\"%s\":%zu", s ? "," : "", vfm_status_name((vfm_status_t)s),
				sum->status[s]);
		if (sum->kernel)
			fprintf(f, "},\"not_run\":%zu", sum->not_run);
		else
			fprintf(f, "}");
		fprintf(f, ",\"snapped\":%zu,\"bounds_snapped\":%zu,\"truncated\":%s,",
			sum->snapped, sum->bounds_snapped, sum->ended ? "true" : "false");
		fprintf(f, "\"flow\":{\"capacity\":%" PRIu64 ",\"entries\":%" PRIu64
			   ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 ",\"inserts\":%" PRIu64
			   ",\"updates\":%" PRIu64 ",\"evictions\":%" PRIu64 "},",
			fs->capacity, fs->entries, fs->hits, fs->misses, fs->inserts, fs->updates,
			fs->evictions);
		fprintf(f, "\"engine\":\"%s\",\"passes\":%" PRIu64 ",\"time_ns\":%" PRIu64
			   ",\"ns_per_packet\":%.3f,\"cold_ns_per_packet\":%.3f",
			sum->kernel ? "kernel" : sum->jit_on ? "jit" : "interpreter", o->repeat, sum->ns,
			n && sum->ns ? (double)sum->ns / total_pkts : 0.0,
			n ? (double)sum->cold_ns / (double)n : 0.0);
		if (n && sum->n_warm) {
			double med = warm_median(sum);
			fprintf(f, ",\"warm_median_ns_per_packet\":%.3f,\"warm_min_ns_per_packet\":%.3f"
				   ",\"warm_max_ns_per_packet\":%.3f",
				med / (double)n, (double)sum->warm_ns[0] / (double)n,
				(double)sum->warm_ns[sum->n_warm - 1] / (double)n);
		}
		fprintf(f, "}\n");
		return;
	}
	double pct = n ? 100.0 / (double)n : 0.0;
	fprintf(f, "filter:      %s (%u instructions, max stack %u)\n", o->filter_path,
		vfm_program_insn_count(program), vfm_program_max_depth(program));
	fprintf(f, "capture:     %s (link type %s)\n", o->capture_path, linktype);
	fprintf(f, "packets:     %zu\n", n);
	fprintf(f, "accepted:    %zu (%.2f%%)\n", sum->accepted, (double)sum->accepted * pct);
	fprintf(f, "dropped:     %zu (%.2f%%)\n", n - sum->accepted - sum->not_run,
		(double)(n - sum->accepted - sum->not_run) * pct);
	for (unsigned s = 0; s < VFM_STATUS_COUNT; s++)
		fprintf(f, "status %-10s %zu\n", vfm_status_name((vfm_status_t)s), sum->status[s]);
	if (sum->status[VFM_STATUS_COUNT])
		fprintf(f, "status %-10s %zu\n", "unknown", sum->status[VFM_STATUS_COUNT]);
	fprintf(f, "snapped:     %zu captured shorter than sent, %zu of them BOUNDS\n",
		sum->snapped, sum->bounds_snapped);
	fprintf(f, "flow table:  capacity %" PRIu64 ", entries %" PRIu64 ", hits %" PRIu64
		   ", misses %" PRIu64 ", inserts %" PRIu64 ", updates %" PRIu64
		   ", evictions %" PRIu64 "\n",
		fs->capacity, fs->entries, fs->hits, fs->misses, fs->inserts, fs->updates,
		fs->evictions);
	if (sum->kernel)
		fprintf(f, "engine:      kernel (eBPF, BPF_PROG_TEST_RUN; %zu packets not run)\n",
			sum->not_run);
	else
		fprintf(f, "engine:      %s\n", sum->jit_on ? "jit" : "interpreter");
	fprintf(f, "time:        %.3f ms for %" PRIu64 " pass%s\n", (double)sum->ns / 1e6,
		o->repeat, o->repeat == 1 ? "" : "es");
	if (n && sum->ns && sum->n_warm) {
		/* Steady state: the warm passes' median and spread; pass 1 read
		 * the capture and touched everything for the first time. */
		double med = warm_median(sum) / (double)n;
		fprintf(f, "throughput:  %.2f Mpps, %.2f ns/packet steady state (median of %" PRIu64
			   " warm passes; fastest pass %.2f, slowest %.2f ns/packet)\n", 1e3 / med, med, sum->n_warm,
			(double)sum->warm_ns[0] / (double)n,
			(double)sum->warm_ns[sum->n_warm - 1] / (double)n);
		fprintf(f, "cold pass:   %.2f ns/packet (pass 1, streamed from the file: cold "
			   "caches, first touch)\n", (double)sum->cold_ns / (double)n);
	} else if (n && sum->ns) {
		fprintf(f, "throughput:  %.2f Mpps, %.2f ns/packet (one cold pass: caches cold, "
			   "first touch; --repeat N for the steady state)\n",
			total_pkts * 1e3 / (double)sum->ns, (double)sum->ns / total_pkts);
	} else {
		fprintf(f, "throughput:  n/a\n");
	}
}

/* The program's link type against the capture's; returns an exit code. */
static int check_linktype(const struct options *o, const vfm_program_t *program,
			  const char *have)
{
	const char *want = vfm_program_linktype(program);
	if (strcasecmp(want ? want : "EN10MB", have) == 0 || o->linktype_ok)
		return CLI_EXIT_OK;
	cli_error(prog,
		  "%s is written for link type %s%s, but %s has link type %s: its packet "
		  "offsets would be wrong (--linktype-ok runs it anyway; .linktype NAME in "
		  "the source declares what a program is for)",
		  o->filter_path, want ? want : "EN10MB",
		  want ? "" : " (declares none: Ethernet is assumed)", o->capture_path, have);
	return CLI_EXIT_REJECT;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);
	if (rc != CLI_EXIT_OK)
		return rc;
	vfm_program_t *program = NULL;
	if (!o.expression) {
		rc = load_filter(o.filter_path, &program);
		if (rc != CLI_EXIT_OK)
			return rc;
	}

	char perr[PCAPIO_ERRBUF], werr[PCAPIO_ERRBUF];
	struct pcapio_reader *reader = pcapio_open(o.capture_path, perr);
	if (!reader) {
		cli_error(prog, "%s", perr);
		vfm_program_release(program);
		return CLI_EXIT_IO;
	}
	if (o.expression) {
		rc = compile_expression(&o, reader, &program);
		if (rc != CLI_EXIT_OK) {
			pcapio_close(reader);
			return rc;
		}
	}
	const char *linktype = pcapio_linktype_name(pcapio_linktype(reader));
	struct chunk chunk = {0};
	struct pcapio_writer *w = NULL;
	vfm_state_t *vm = NULL;
	struct summary sum = {0};
	vfm_result_t *scratch = NULL;
	struct kengine kern;
	bool kern_loaded = false;
	rc = check_linktype(&o, program, linktype);
	if (rc != CLI_EXIT_OK)
		goto out;
	vm = make_vm(&o, program, &sum.jit_on, &rc);
	if (!vm)
		goto out;
	if (o.kernel) {
		char why[256];
		if (!kengine_available(why, sizeof why)) {
			cli_error(prog, "--engine=kernel: the kernel refuses to load or run eBPF "
					"(bpf() needs root or CAP_BPF): %s", why);
			rc = CLI_EXIT_REJECT;
			goto out;
		}
		struct kengine_config kcfg = {
			.budget = o.config.budget_set ? o.config.budget : VFM_DEFAULT_BUDGET,
			.flow_capacity = o.config.flow_capacity};
		enum kengine_stage stage;
		vfm_diag_t diag;
		if (kengine_load(&kern, program, &kcfg, &stage, &diag) != VFM_OK) {
			cli_error(prog, "%s: --engine=kernel: %s%s", o.filter_path,
				  stage == KENGINE_COMPILE ? "" : "the kernel refused the program: ",
				  diag.message);
			if (stage == KENGINE_KERNEL && kengine_log()[0])
				fprintf(stderr, "%s", kengine_log());
			rc = CLI_EXIT_REJECT;
			goto out;
		}
		kern_loaded = true;
		sum.kernel = 1;
	}
	if (o.jit && !sum.jit_on)
		fprintf(stderr, "%s: JIT unsupported: %s\n", prog, vfm_last_error(vm));
	if (o.write_path) {
		w = pcapio_writer_open_format(o.write_path, pcapio_linktype(reader),
					      pcapio_snaplen(reader),
					      pcapio_is_pcapng(reader) ? PCAPIO_PCAPNG : PCAPIO_PCAP,
					      werr);
		if (!w) {
			cli_error(prog, "%s", werr);
			rc = CLI_EXIT_IO;
			goto out;
		}
	}
	if (o.repeat > 1 && !o.json)
		fprintf(o.out, "note:        --repeat holds the capture in memory\n");

	/* Pass 1, streamed: a chunk is read, run (timed), then reported.  With
	 * --repeat the one chunk is the whole capture. */
	bool whole = o.repeat > 1;
	int more;
	do {
		more = fill_chunk(&o, reader, &chunk, whole ? 0 : CHUNK_PACKETS,
				  whole ? 0 : CHUNK_BYTES, sum.packets, perr, &sum);
		if (o.kernel) {
			uint64_t t = run_chunk_kernel(&kern, &chunk, chunk.results, sum.packets);
			if (t == UINT64_MAX) {
				rc = CLI_EXIT_REJECT;
				goto out;
			}
			sum.ns += t;
		} else {
			sum.ns += run_chunk(vm, &chunk, chunk.results);
		}
		if (report_chunk(&o, &chunk, w, &sum) != 0)
			break;
	} while (more == 1);
	sum.best_ns = sum.cold_ns = sum.ns;
	vfm_flow_stats(vm, &sum.flow);
	if (o.kernel) {
		/* The table the kernel's verdicts came from: its flow map. */
		vfm_diag_t fd;
		if (kengine_flow_stats(&kern, &sum.flow, &fd) != VFM_OK) {
			cli_error(prog, "%s: reading the kernel's flow map: %s", o.filter_path,
				  fd.message);
			rc = CLI_EXIT_REJECT;
			goto out;
		}
	}

	if (whole && chunk.n) {
		scratch = malloc(chunk.n * sizeof *scratch);
		sum.warm_ns = malloc(o.repeat * sizeof *sum.warm_ns);
		if (!scratch || !sum.warm_ns) {
			cli_error(prog, "out of memory");
			rc = CLI_EXIT_IO;
			goto out;
		}
		for (uint64_t pass = 1; pass < o.repeat && o.kernel; pass++) {
			uint64_t t = run_chunk_kernel(&kern, &chunk, scratch, 0);
			if (t == UINT64_MAX) {
				rc = CLI_EXIT_REJECT;
				goto out;
			}
			sum.ns += t;
			if (t < sum.best_ns)
				sum.best_ns = t;
		}
		for (uint64_t pass = 1; pass < o.repeat && !o.kernel; pass++) {
			int jit_on;
			vfm_state_t *fresh = make_vm(&o, program, &jit_on, &rc);
			if (!fresh)
				goto out;
			uint64_t t = run_chunk(fresh, &chunk, scratch);
			vfm_destroy(fresh);
			sum.ns += t;
			sum.warm_ns[sum.n_warm++] = t;
			if (t < sum.best_ns)
				sum.best_ns = t;
		}
	}
	if (w) {
		int failed = pcapio_writer_close(w, werr);
		w = NULL;
		if (failed) {
			cli_error(prog, "%s", werr);
			rc = CLI_EXIT_IO;
			goto out;
		}
	}
	print_summary(&o, program, linktype, &sum);
	if (fflush(o.out) != 0) {
		cli_error(prog, "write error on standard output: %s", strerror(errno));
		rc = CLI_EXIT_IO;
	} else if (sum.ended) {
		bool cut = pcapio_truncated(reader);
		fprintf(stderr, "%s: %s: %s; the %zu packets before it were run and reported\n",
			prog, cut ? "warning" : "error", sum.ended, sum.packets);
		rc = cut ? EXIT_TRUNCATED : CLI_EXIT_IO;
	}
out:
	if (kern_loaded)
		kengine_close(&kern);
	if (w)
		pcapio_writer_close(w, werr);
	vfm_destroy(vm);
	free(scratch);
	free(sum.warm_ns);
	chunk_free(&chunk);
	pcapio_close(reader);
	vfm_program_release(program);
	return rc;
}
