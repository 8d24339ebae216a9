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
};

/* Options for a target with the default budget and no offset. */
void vfm_ebpf_options_init(struct vfm_ebpf_options *opt, enum vfm_ebpf_target target);

struct vfm_ebpf_prog {
	struct bpf_insn *insns;
	uint32_t n_insns;   /* eBPF instruction slots (LD_IMM64 takes two) */
	uint32_t *vfm_start; /* per VFM instruction: its first eBPF slot, or
				UINT32_MAX if it has no code (unreachable) */
	uint32_t n_vfm;
	uint32_t stack_bytes; /* BPF stack frame used */
	uint32_t prog_type;   /* enum bpf_prog_type to load it as */
};

/* Kernel limits the compiler checks (include/uapi and kernel/bpf). */
#define VFM_EBPF_MAX_INSNS 1000000u  /* BPF_COMPLEXITY_LIMIT_INSNS */
#define VFM_EBPF_MAX_STACK 512u      /* MAX_BPF_STACK */
#define VFM_EBPF_MAX_PACKET_OFF 0xFFFFu /* direct packet access reaches below */

/*
 * Compile a verified program.  VFM_EUNSUPPORTED names the pc of an opcode
 * not supported yet (HASH5, FLOW_LOAD, FLOW_STORE); VFM_ETOOBIG names the
 * kernel limit and the pc that exceeds it.  On success *out owns its
 * arrays (vfm_ebpf_prog_free).
 */
vfm_error_t vfm_compile_ebpf(const struct vfm_program *prog, const struct vfm_ebpf_options *opt,
			     struct vfm_ebpf_prog *out, vfm_diag_t *diag);
void vfm_ebpf_prog_free(struct vfm_ebpf_prog *p);

/* One instruction as text ("r7 = *(u16 *)(r4 - 2)"); slot is its index,
 * for branch targets.  Returns the snprintf-style length. */
int vfm_ebpf_format_insn(const struct bpf_insn *insns, uint32_t n_insns, uint32_t slot,
			 char *buf, size_t n);

/* ---- the kernel (ebpf/kernel.c, Linux) ---------------------------------- */

/* Load into the kernel (as p->prog_type).  On success *fd is the
 * program.  If the kernel's verifier refuses it, VFM_EVERIFY with the
 * log's last lines in diag and the whole log (as much as fits) in log,
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

#endif
