/*
 * ebpf/cbpf_emit.h — a verified VFM program as classic BPF (cBPF), for
 * programs that fit it: the kernel's SO_ATTACH_FILTER, `iptables -m bpf`,
 * libpcap's bpf_filter.  The reverse of vm/cbpf.c; docs/EBPF.md ("The cBPF
 * target") gives the mapping and what fits.
 *
 * It sits beside the eBPF back end (same layer as jit/): it reads the
 * program and the verifier's facts, including the abstract value of every
 * stack word before every instruction, which is what decides "32-bit".
 */
#ifndef VFM_EBPF_CBPF_EMIT_H
#define VFM_EBPF_CBPF_EMIT_H

#include <stddef.h>

#include "../vm/program.h"

/* The kernel's limit (BPF_MAXINSNS), which the output must respect to
 * load with SO_ATTACH_FILTER. */
#define VFM_CBPF_EMIT_MAX_INSNS 4096u

/*
 * Translate prog.  On success *out is a malloc'ed array of *n
 * instructions.  A program that does not fit is VFM_EUNSUPPORTED, with a
 * message naming the first instruction that does not ("cBPF: pc 12
 * (HASH5): ..."), diag->pc its byte offset and diag->line its source line;
 * more than VFM_CBPF_EMIT_MAX_INSNS instructions is VFM_ETOOBIG.
 */
vfm_error_t vfm_compile_cbpf(const struct vfm_program *prog, vfm_cbpf_insn_t **out, size_t *n,
			     vfm_diag_t *diag);

/* The program in `tcpdump -ddd` form: the count, then "code jt jf k" per
 * line.  Returns a malloc'ed NUL-terminated string, or NULL (no memory). */
char *vfm_cbpf_format_ddd(const vfm_cbpf_insn_t *insns, size_t n);

#endif
