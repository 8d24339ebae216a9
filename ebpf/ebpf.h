/*
 * ebpf/ebpf.h — the eBPF back end: VFM bytecode compiled to eBPF that the
 * Linux kernel's verifier accepts (ebpf/compile.c), a listing of it
 * (ebpf/disasm.c) and a loader and runner over the raw bpf() syscall
 * (ebpf/kernel.c).  Same layer as jit/: it reads the program and the
 * verifier's facts (vm/program.h) and never includes jit/.  docs/EBPF.md
 * describes the mapping, the choices and the limits.
 */
#ifndef VFM_EBPF_H
#define VFM_EBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm/program.h"

struct bpf_insn;

/* What the program is for: the attach point and how it reports. */
enum vfm_ebpf_target {
	/* tc (BPF_PROG_TYPE_SCHED_CLS): verdict != 0 returns TC_ACT_OK (0),
	 * verdict 0 (BOUNDS and BUDGET included) TC_ACT_SHOT (2). */
	VFM_EBPF_TC,
	/* Also SCHED_CLS, for tests: returns the VFM verdict itself (u32) and
	 * writes the status (vfm_status_t) to skb->cb[0]. */
	VFM_EBPF_RAW,
	/* XDP (BPF_PROG_TYPE_XDP): XDP_PASS if the verdict is non-zero, else
	 * XDP_DROP.  LEN and WLEN are the frame's length (data_end - data),
	 * TS is bpf_ktime_get_ns() (XDP has no packet timestamp). */
	VFM_EBPF_XDP,
	/* Socket filter (BPF_PROG_TYPE_SOCKET_FILTER): returns the verdict
	 * itself (bytes to keep, as cBPF; BOUNDS and BUDGET return 0).  No
	 * direct packet access for this type: every read is
	 * bpf_skb_load_bytes.  WLEN is LEN and TS bpf_ktime_get_ns() (the
	 * kernel hides skb->wire_len and skb->tstamp from socket filters). */
	VFM_EBPF_SOCKET,
};

struct vfm_ebpf_options {
	enum vfm_ebpf_target target;
	/* Backward jumps per packet (docs/ISA.md 4.4), fixed in the code. */
	uint32_t budget;
	/* VFM packet byte 0 is skb byte packet_offset, LEN is skb->len minus
	 * it, WLEN the wire length minus it (an skb shorter than the offset
	 * is dropped with status BOUNDS).  Lets a filter for raw IP run
	 * behind an Ethernet header, and lets tests run packets shorter than
	 * the 14 bytes BPF_PROG_TEST_RUN demands. */
	uint32_t packet_offset;
	/* Read every packet byte with bpf_skb_load_bytes instead of direct
	 * access: the path taken for non-linear skbs, forced for tests. */
	bool helper_loads;
	/* Flow-table entries (power of two, 4 .. VFM_MAX_FLOW_CAPACITY; 0 =
	 * VFM_DEFAULT_FLOW_CAPACITY), as vfm_config_t.flow_capacity: the
	 * set mask is a constant in the code, the map has capacity / 4 sets. */
	uint32_t flow_capacity;
	/* The flow map as BPF_MAP_TYPE_PERCPU_ARRAY: one table per CPU,
	 * each with VFM's exact semantics (a CPU is one VM), so packets that
	 * XDP/tc run on several CPUs at once never share a set.  Read one
	 * CPU's table with vfm_ebpf_flow_read_cpu.  Default false: one ARRAY
	 * table that all CPUs update without locking (docs/EBPF.md). */
	bool flow_per_cpu;
};

/* Options for a target with the default budget and no offset. */
void vfm_ebpf_options_init(struct vfm_ebpf_options *opt, enum vfm_ebpf_target target);

/*
 * A BPF map a compiled program uses, as plain data (for BPF_MAP_CREATE
 * and for an ELF writer's `.maps` section and relocations).  Each
 * instruction slot in refs[] is the first slot of a BPF_LD_IMM64 with
 * src_reg = BPF_PSEUDO_MAP_FD whose imm must hold the map's fd
 * (vfm_ebpf_prog_bind_map) or be relocated against the map's symbol.
 *
 * The flow table ("vfm_flow", docs/EBPF.md "Flow table"): an ARRAY with
 * a u32 key; entries 0 .. n_sets-1 are the sets of vm/flow.c, each a
 * struct vfm_ebpf_flow_set; entry n_sets holds the counters
 * (struct vfm_ebpf_flow_counters at offset 0).
 */
enum vfm_ebpf_map_kind { VFM_EBPF_MAP_FLOW };

struct vfm_ebpf_map {
	enum vfm_ebpf_map_kind kind;
	char name[16];        /* BPF_OBJ_NAME_LEN, NUL-terminated */
	uint32_t type;        /* enum bpf_map_type: BPF_MAP_TYPE_ARRAY */
	uint32_t key_size;    /* bytes: 4 */
	uint32_t value_size;  /* bytes: sizeof(struct vfm_ebpf_flow_set) */
	uint32_t max_entries; /* sets + 1 (the counters) */
	uint32_t flags;       /* map_flags: 0 */
	uint32_t *refs;       /* LD_IMM64 slots that load the map */
	uint32_t n_refs;
};

/* One set of the flow map: vm/state.h's struct vfm_flow_set, field for
 * field (same ways, occupancy mask and victim counter). */
#define VFM_EBPF_FLOW_WAYS 4
struct vfm_ebpf_flow_set {
	uint64_t key[VFM_EBPF_FLOW_WAYS];   /* offset 0 */
	uint64_t value[VFM_EBPF_FLOW_WAYS]; /* offset 32 */
	uint8_t used;   /* offset 64: bit w = way w holds an entry */
	uint8_t victim; /* offset 65: next way to replace when the set is full */
	uint8_t pad[6];
};
/* The counters entry (index n_sets), as vfm_flow_stats_t. */
struct vfm_ebpf_flow_counters {
	uint64_t entries, hits, misses, inserts, updates, evictions;
	uint8_t pad[sizeof(struct vfm_ebpf_flow_set) - 6 * sizeof(uint64_t)];
};

struct vfm_ebpf_prog {
	struct bpf_insn *insns;
	uint32_t n_insns;   /* eBPF instruction slots (LD_IMM64 takes two) */
	uint32_t *vfm_start; /* per VFM instruction: its first eBPF slot, or
				UINT32_MAX if it has no code (unreachable) */
	uint32_t n_vfm;
	uint32_t *vfm_pc;    /* per VFM instruction: its pc (code byte offset),
				for naming the pc of a kernel refusal */
	uint32_t *vfm_of;    /* per eBPF slot: the VFM instruction it is code
				of (a hoisted region's checked copy too), or
				UINT32_MAX (prologue, exits, subprogram) */
	uint32_t n_hoisted;  /* regions whose checks one guard replaces */
	uint32_t stack_bytes; /* BPF stack frame used */
	uint32_t prog_type;   /* enum bpf_prog_type to load it as */
	uint32_t prog_flags;  /* BPF_PROG_LOAD prog_flags (XDP: BPF_F_XDP_HAS_FRAGS) */
	struct vfm_ebpf_map *maps; /* maps the code loads (n_maps: 0 or 1) */
	uint32_t n_maps;
	/* BPF-to-BPF subprograms (HASH5): their first slots, for an ELF
	 * writer's function symbols and a BTF func_info; the main program
	 * is slots 0 .. subprog_start[0]-1. */
	uint32_t subprog_start[1];
	uint32_t n_subprogs;
};

/* Kernel limits the compiler checks (include/uapi and kernel/bpf). */
#define VFM_EBPF_MAX_INSNS 1000000u  /* BPF_COMPLEXITY_LIMIT_INSNS */
#define VFM_EBPF_MAX_STACK 512u      /* MAX_BPF_STACK */
#define VFM_EBPF_MAX_PACKET_OFF 0xFFFFu /* direct packet access reaches below */

/*
 * Compile a verified program.  VFM_ETOOBIG names the kernel limit and the
 * pc that exceeds it; VFM_EINVAL a bad option.  On success *out owns its
 * arrays (vfm_ebpf_prog_free).
 */
vfm_error_t vfm_compile_ebpf(const struct vfm_program *prog, const struct vfm_ebpf_options *opt,
			     struct vfm_ebpf_prog *out, vfm_diag_t *diag);
void vfm_ebpf_prog_free(struct vfm_ebpf_prog *p);

/* Put map fd `fd` into every instruction that loads map `map` of p. */
vfm_error_t vfm_ebpf_prog_bind_map(struct vfm_ebpf_prog *p, uint32_t map, int fd,
				   vfm_diag_t *diag);

/* One instruction as text ("r7 = *(u16 *)(r4 - 2)"); slot is its index,
 * for branch targets.  Returns the snprintf-style length. */
int vfm_ebpf_format_insn(const struct bpf_insn *insns, uint32_t n_insns, uint32_t slot,
			 char *buf, size_t n);

/* ---- the kernel (ebpf/kernel.c, Linux) ---------------------------------- */

/* Load into the kernel (as p->prog_type).  On success *fd is the
 * program.  If the kernel's verifier refuses it, VFM_EVERIFY (VFM_ETOOBIG
 * for a documented kernel limit: complexity, jump sequence, stack) with
 * a message naming the limit and the VFM pc whose code the kernel was at,
 * then the log's last line, in diag, and the whole log (as much as fits) in log,
 * if given (NULL: a temporary one); VFM_EUNSUPPORTED if bpf() itself is
 * refused (no privilege, no syscall): callers skip then. */
vfm_error_t vfm_ebpf_kernel_load(const struct vfm_ebpf_prog *p, int *fd, char *log,
				 size_t log_size, vfm_diag_t *diag);

/* One packet through BPF_PROG_TEST_RUN (at least 14 bytes: the kernel
 * wants an Ethernet header).  ts_ns becomes skb->tstamp, wire_len
 * skb->wire_len (0, or at least len).  *retval is the program's return
 * value, *cb0 skb->cb[0] after the run. */
vfm_error_t vfm_ebpf_kernel_run(int fd, const uint8_t *data, uint32_t len, uint64_t ts_ns,
				uint32_t wire_len, uint32_t *retval, uint32_t *cb0,
				vfm_diag_t *diag);
/* The same for an XDP program (no context: the kernel makes the xdp_md);
 * *retval is its XDP action. */
vfm_error_t vfm_ebpf_kernel_run_xdp(int fd, const uint8_t *data, uint32_t len, uint32_t *retval,
				    vfm_diag_t *diag);
void vfm_ebpf_kernel_close(int fd);

/* One multi-buffer XDP frame through BPF_PROG_TEST_RUN: the kernel puts
 * the first bytes (about 3.5 KiB with 4 KiB pages) in the linear part and
 * the rest in fragments; the program must have BPF_F_XDP_HAS_FRAGS (every
 * VFM_EBPF_XDP program has).  Frames up to VFM_EBPF_XDP_MAX_FRAME. */
#define VFM_EBPF_XDP_MAX_FRAME 16384u
/* (vfm_ebpf_kernel_run_xdp takes frames of any length up to that.) */

/* Create a map as described (BPF_MAP_CREATE); *fd on success.  Close it
 * with vfm_ebpf_kernel_close. */
vfm_error_t vfm_ebpf_map_create(const struct vfm_ebpf_map *m, int *fd, vfm_diag_t *diag);

/* Read a flow map (VFM_EBPF_MAP_FLOW) back, in the order of
 * vfm_flow_foreach: sets in index order, ways 0..3, occupied ways only;
 * stops early if fn returns non-zero.  stats (may be NULL) gets the
 * counters, capacity included.  fn may be NULL (counters only). */
vfm_error_t vfm_ebpf_flow_read(int fd, const struct vfm_ebpf_map *m,
			       int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg,
			       vfm_flow_stats_t *stats, vfm_diag_t *diag);
/* The same for one CPU's table of a per-CPU flow map
 * (BPF_MAP_TYPE_PERCPU_ARRAY, vfm_ebpf_options.flow_per_cpu), cpu below
 * vfm_ebpf_possible_cpus(); vfm_ebpf_flow_read refuses a per-CPU map. */
vfm_error_t vfm_ebpf_flow_read_cpu(int fd, const struct vfm_ebpf_map *m, unsigned cpu,
				   int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg,
				   vfm_flow_stats_t *stats, vfm_diag_t *diag);
/* CPUs a per-CPU map holds a value for (the highest possible CPU + 1,
 * /sys/devices/system/cpu/possible); 0 if unknown. */
unsigned vfm_ebpf_possible_cpus(void);
/* Empty a flow map (every CPU's table of a per-CPU one) and zero its
 * counters. */
vfm_error_t vfm_ebpf_flow_clear(int fd, const struct vfm_ebpf_map *m, vfm_diag_t *diag);

#endif
