/*
 * testkit/kengine.h — the kernel as a VFM engine, for tests, fuzzers and
 * benchmarks: a program compiled by the eBPF back end (ebpf/), loaded
 * with bpf() and run per packet with BPF_PROG_TEST_RUN.
 *
 * BPF_PROG_TEST_RUN wants at least an Ethernet header (14 bytes), so each
 * program is loaded three times: as is (raw verdict, packet offset 0) for
 * packets of 14 bytes or more; with packet offset 14 for shorter ones
 * and for those TEST_RUN refuses (an IPv4/IPv6 EtherType with a header
 * cut short), which run behind 14 zero bytes; and in tc mode (offset 14), whose
 * TC_ACT_OK / TC_ACT_SHOT must agree with the raw verdict on every packet;
 * likewise the XDP program's XDP_PASS / XDP_DROP (offset 14), unless the
 * program reads TS or WLEN, which XDP defines differently (docs/EBPF.md).
 * and the socket filter's return value (run on the same padded frame:
 * TEST_RUN of a SOCKET_FILTER program starts the packet after the
 * Ethernet header, docs/EBPF.md) must equal the raw verdict, under the
 * same condition.
 *
 * Flow table: each program that uses it gets its own BPF map, except the
 * raw and padded programs, which share one (a packet runs on one of
 * them): after the same packets each map must hold the interpreter's
 * entries and counters (kengine_flow_check).
 * The kernel does not count instructions: results have insns = 0.
 */
#ifndef VFM_TESTKIT_KENGINE_H
#define VFM_TESTKIT_KENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "vfm.h"

struct kengine_config {
	uint32_t budget;   /* backward jumps per packet */
	bool helper_loads; /* every packet read through bpf_skb_load_bytes */
	uint32_t flow_capacity; /* as vfm_config_t.flow_capacity (0 = default) */
	/* Load only the raw-verdict programs (offset 0 and 14), not the tc,
	 * XDP and socket ones: a quarter of the kernel verifier's time, for
	 * long campaigns. */
	bool raw_only;
};

enum kengine_stage {
	KENGINE_COMPILE, /* vfm_compile_ebpf refused the program */
	KENGINE_KERNEL,  /* bpf(BPF_PROG_LOAD) refused it (or bpf() itself) */
};

struct kengine {
	int fd_raw;    /* packet offset 0, raw verdict */
	int fd_padded; /* packet offset 14, raw verdict */
	int fd_tc;     /* packet offset 14, tc actions */
	int fd_xdp;    /* packet offset 14, XDP actions */
	int fd_sock;   /* socket filter, offset 0 after the kernel's Ethernet pull */
	bool xdp_comparable; /* no TS or WLEN: XDP and the socket filter must agree */
	uint32_t n_insns; /* eBPF instructions of the raw program */
	/* Flow maps (-1: the program has no flow ops): raw+padded, tc, XDP,
	 * socket filter; and their description. */
	int map_fd[4];
	bool has_flow;
	struct vfm_ebpf_map_desc {
		uint32_t kind, type, key_size, value_size, max_entries;
		char name[16];
	} map;
};

/* How many bytes of a frame BPF_PROG_TEST_RUN hides from a SOCKET_FILTER
 * program (14: it starts at the IP header, as on 6.18; 0: the whole
 * frame), probed once; -1 if the probe failed (diag says why). */
int kengine_socket_skips(vfm_diag_t *diag);

/* Can this process load and run eBPF?  If not, why (for skip messages). */
bool kengine_available(char *why, size_t n);

/* Compile and load prog.  On failure *stage says who refused and diag
 * why; the kernel verifier's whole log is kengine_log(). */
vfm_error_t kengine_load(struct kengine *k, const vfm_program_t *prog,
			 const struct kengine_config *cfg, enum kengine_stage *stage,
			 vfm_diag_t *diag);

/* One packet: verdict and status (insns 0).  VFM_EINVAL with a message if
 * the tc or XDP program's action disagrees with the raw verdict;
 * VFM_EUNSUPPORTED for a packet TEST_RUN cannot take (wire_len below len or
 * over 65522, len over KENGINE_MAX_LEN): callers skip it. */
#define KENGINE_MAX_LEN 3000
vfm_error_t kengine_run(const struct kengine *k, const vfm_packet_t *pkt, vfm_result_t *r,
			vfm_diag_t *diag);

/* Every flow map of k (those whose program ran) against vm's table:
 * the same entries in vfm_flow_foreach order and the same counters.
 * VFM_EINVAL with the first difference; VFM_OK if k has no flow map. */
vfm_error_t kengine_flow_check(const struct kengine *k, const vfm_state_t *vm, vfm_diag_t *diag);
/* The raw program's flow map (the table the raw verdicts came from) read
 * back as vfm_flow_stats gives it; all zero but the capacity if the
 * program has no flow ops. */
vfm_error_t kengine_flow_stats(const struct kengine *k, vfm_flow_stats_t *stats,
			       vfm_diag_t *diag);
/* Empty every flow map (between independent packet sequences). */
vfm_error_t kengine_flow_clear(const struct kengine *k, vfm_diag_t *diag);

void kengine_close(struct kengine *k);

/* One program on the kernel and the interpreter (same budget and flow
 * capacity): every packet's verdict and status, then the flow tables. */
enum kengine_outcome {
	KENGINE_SAME,           /* loaded, and equal on every packet and table */
	KENGINE_COMPILE_REFUSED, /* vfm_compile_ebpf refused it (diag) */
	KENGINE_KERNEL_REFUSED, /* the kernel verifier refused it (kengine_log) */
	KENGINE_MISMATCH,       /* a difference (diag says where) */
	KENGINE_FAILED,         /* bpf() or the harness failed (diag) */
};
struct kengine_diff {
	enum kengine_outcome outcome;
	vfm_error_t err;      /* the refusal's code */
	uint32_t packets;     /* packets compared */
	uint32_t skipped;     /* packets TEST_RUN cannot take */
	uint32_t statuses[VFM_STATUS_COUNT];
	uint32_t flow_entries; /* interpreter's entries at the end */
	vfm_diag_t diag;
};
void kengine_diff(const vfm_program_t *prog, const struct kengine_config *cfg,
		  const vfm_packet_t *pkts, size_t n, struct kengine_diff *out);

/* The kernel verifier's log of the last refused load ("" if none). */
const char *kengine_log(void);

#endif
