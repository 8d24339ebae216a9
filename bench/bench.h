/*
 * bench/bench.h — private to vfm-bench (bench/bench*.c): the engines, the
 * filters, the options and the one `struct bench` that holds a run's state
 * (options, filters, packets, machine description) and is passed to every
 * stage: setup and engines (bench_engines.c), verdict agreement
 * (bench_agree.c), timing (bench_timing.c), report (bench_report.c) and the
 * command line (bench.c).
 */
#ifndef VFM_BENCH_H
#define VFM_BENCH_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "vfm.h"
#include "pktgen.h"
#include "native.h"
#include "switch_api.h"

#define MIX_SEED 0xBE4C5EEDull
/* 1 ms mean gap: 10,000 packets span ~10 s, so rate_limit.vfm crosses
 * several of its 1 s windows (as in tests/test_examples.c). */
#define MIX_GAP_NS 1000000u
#define MAX_RUNS 99
#define MAX_COUNTS 8
#define MUTANTS 100000 /* packets in the mutated verdict-check set */
#define N_FILTERS 6    /* filter_defs[] in bench_engines.c */

enum kind {
	K_NATIVE,
	K_PCAP,
	K_JIT,
	K_GOTO,
	K_SWITCH,
	K_GOTO_BATCH,
	K_JIT_BATCH,
	K_COUNT
};
extern const char *const kind_name[K_COUNT];

/* One engine ready to run one filter. */
struct inst {
	int present;
	enum kind kind;
	int stateful;
	native_fn fn;
	struct native_flow *nflow;  /* K_NATIVE, stateful filters */
	const struct bpf_insn *bpf; /* K_PCAP */
	vfm_state_t *vm;            /* VFM kinds */
	int timed;                  /* selected for timing (--filters, --engines) */
	unsigned passes;            /* per timing sample, from calibration */
	double samples[MAX_RUNS];   /* ns/packet per run */
	double med, min, max;
	/* the same in shuffled order (stateless filters, time_shuffled) */
	size_t sh_window;           /* packets per sample */
	double sh_samples[MAX_RUNS];
	double sh_med, sh_min, sh_max;
};

struct filter_def {
	const char *id;
	const char *desc; /* as the brief writes it */
	const char *path; /* VFM assembly, relative to --root */
	const char *expr; /* libpcap expression; NULL: no libpcap engine */
	native_fn native;
	int stateful;     /* flow table, timestamps: per-packet API is _ex */
};
extern const struct filter_def filter_defs[N_FILTERS];

struct filter {
	const struct filter_def *def;
	vfm_program_t *prog;    /* computed-goto copy of libvfm */
	vfm_program_t *sw_prog; /* switch copy */
	struct bpf_program bpf;
	int has_bpf;
	struct inst in[K_COUNT];
	size_t mem_nodebug;      /* vfm_program_memory without debug sections */
	size_t accepted, bounds; /* over the checked packets */
	size_t wire_diff;        /* libpcap verdicts that change with wire_len */
	/* ns/packet by packet count: median over the scaling runs */
	double count_ns[K_COUNT][MAX_COUNTS];
	double count_sh_ns[K_COUNT][MAX_COUNTS]; /* random draws from c packets */
	double insns_per_pkt;    /* VFM instructions executed per packet, timed mix */
	/* JIT code bytes (vfm_jit_code) of the counting and verdict variants,
	 * and native instructions in them (0: not known) */
	size_t jit_bytes[2], jit_native_insns[2];
	/* threads: Mpps with 1 and 2 threads */
	double thr_mpps[K_COUNT][2];
};

struct options {
	int quick;
	unsigned runs;
	size_t packets;
	uint64_t seed;
	int pin; /* -1: not pinned */
	const char *json, *dat, *root;
	int dump_bpf;
	int code_size; /* --code-size: print the JIT code-size table only */
	int no_scaling;
	size_t counts[MAX_COUNTS];
	unsigned n_counts;
	const char *only_filters, *only_engines; /* timing only; NULL = all */
	double sample_ms;  /* target time of one timing sample */
	double thread_sec; /* duration of one thread-scaling measurement */
};

/* Where the numbers come from (bench_describe_machine). */
struct machine {
	char cpu[256];
	long cores;
	char kernel[300];
	char compiler[128];
	char git[64];
	int git_dirty; /* -1 unknown */
	double load_start, load_end;
};

/* Everything one run works on. */
struct bench {
	struct options opt;
	struct filter filters[N_FILTERS];
	vfm_packet_t *pk;      /* every generated packet */
	size_t total_pk;       /* generated (>= opt.packets) */
	vfm_result_t *results; /* batch results, n_results entries */
	size_t n_results;
	vfm_packet_t *shuf;    /* random draws from the timed mix */
	size_t shuf_len;
	struct pktgen_set mix;
	int jit_available;
	char jit_reason[200];
	uint64_t mut_state;    /* splitmix64: mutants and shuffled draws */
	struct machine mach;
	double clock_ghz;      /* measured (bench_measure_clock), 0 if unknown */
	volatile uint64_t sink; /* keeps timed verdicts live */
};

/* The engines timed by the packet-count and thread tables. */
#define N_COUNT_KINDS 5
extern const enum kind count_kinds[N_COUNT_KINDS];
#define N_THREAD_KINDS 3
extern const enum kind thread_kinds[N_THREAD_KINDS];

/* bench_engines.c */
uint64_t bench_run_pass(struct bench *b, struct inst *in, const vfm_packet_t *p, size_t n,
			 uint32_t *out);
void bench_clear_state(struct inst *in);
void bench_get_stats(struct inst *in, vfm_flow_stats_t *st);
void bench_setup_filter(struct bench *b, struct filter *f, const struct filter_def *def);
vfm_state_t *bench_new_vm(enum kind k, const struct filter *f, int count_insns);
void bench_free_filter(struct filter *f);

/* bench_agree.c */
size_t bench_check_filter(struct bench *b, struct filter *f, const vfm_packet_t *pkts,
			   const struct pktgen_packet *meta, size_t n, const char *set);
uint64_t bench_mut_next(struct bench *b);
void bench_make_mutants(struct bench *b, size_t n, uint8_t **buf_out, vfm_packet_t **pkts_out,
			 struct pktgen_packet **meta_out);

/* bench_timing.c */
uint64_t bench_now_ns(void);
void bench_apply_selection(struct bench *b);
void bench_time_main(struct bench *b);
void bench_build_shuffled(struct bench *b);
void bench_time_shuffled(struct bench *b);
void bench_time_counts(struct bench *b);
void bench_time_threads(struct bench *b);
double bench_measure_clock(void);
void bench_count_insns(struct bench *b);
void bench_measure_code(struct bench *b);

/* bench_report.c */
double bench_load1(void);
void bench_describe_machine(struct bench *b);
void bench_print_table(struct bench *b);
void bench_print_shuffled(struct bench *b);
void bench_print_ratios(struct bench *b);
void bench_print_targets(struct bench *b);
void bench_print_cycles(struct bench *b);
void bench_print_code_size(struct bench *b);
void bench_print_memory(struct bench *b);
void bench_print_counts(struct bench *b);
void bench_print_threads(struct bench *b);
void bench_write_json(struct bench *b, const char *path);
void bench_write_dat(struct bench *b, const char *path);
void bench_dump_bpf(struct bench *b);

/* bench.c */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *bench_xcalloc(size_t n, size_t size);

static inline int bench_is_switch(enum kind k) { return k == K_SWITCH; }

#endif
