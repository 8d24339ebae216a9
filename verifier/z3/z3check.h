/*
 * verifier/z3/z3check.h — cross-check of the verifier's claims with Z3 on
 * the program's exact semantics.
 *
 * Not part of libvfm.a: this lives in build/libvfm_z3.a (see the end of
 * the Makefile) and needs -lz3.  vfm-verify --z3 and tests/test_z3check
 * link it.
 *
 * What is encoded (docs/ISA.md is the reference), in QF_UFBV, which Z3's
 * qfufbv tactic reduces to QF_BV (Ackermann) and bit-blasts:
 *   - the packet as an uninterpreted function from 32-bit addresses to
 *     bytes (a read-only array) with a symbolic length len (any 32-bit
 *     value); loads read big-endian, zero-extended; a load out of bounds
 *     (off > len || size > len - off, with the indexed offset x + k
 *     computed without wrap-around, in 65 bits) ends the path;
 *   - the stack and the 16 scratch words as 64-bit bit-vector terms
 *     (scratch starts at 0), every ALU and compare op exactly as
 *     vm/semantics.h (x/0 = 0, x%0 = x, shift counts & 63, wrapping);
 *   - HASH5 is one unconstrained 64-bit value per packet (it is a function
 *     of the packet, so two HASH5 on one path agree), TS one unconstrained
 *     value per packet (the caller's timestamp), WLEN the caller's wire
 *     length (an unconstrained 32-bit value, or len when it is 0, as
 *     vfm_sem_wire_len), FLOW_LOAD a fresh unconstrained value at every
 *     execution;
 *   - the per-opcode semantics are written once in z3encode.c from the
 *     opcode table (switches over the classes and per-class enums without
 *     default, ALU terms named after the rows) and vm/semantics.h, never
 *     from the verifier's transfer functions (tests/test_z3_corrupt shows
 *     that a wrong transfer function is refuted);
 *   - path conditions for every branch: each instruction gets a reach
 *     condition, and states of paths that meet are merged with if-then-else
 *     on the (mutually exclusive) edge conditions.
 *
 * Loops: the strongly connected regions of the CFG (a loop, together with
 * the loops nested in it) are unrolled.  For an instruction inside a
 * region, node (insn, k) is insn after exactly k backward jumps taken since
 * the region was last entered, 0 <= k <= K (options.unroll); a backward
 * jump taken at k = K is cut.  Instructions outside loops have one node.
 * So the claims are checked on every execution in which each loop region,
 * each time it is entered, takes at most K backward jumps (the bounded
 * pass).  The VM's
 * backward-jump budget only ends executions early, so the check covers
 * every budget.  The report says "bounded: K unrollings" when the program
 * has a reachable loop, and "complete" when Z3 shows that no path reaches
 * a cut: then every execution stays within the bound and the check is
 * exhaustive.
 *
 * The inductive pass (programs with loops): a second encoding with one
 * node per instruction cuts the graph at every loop head (every target of
 * a backward jump).  A head starts with fresh slots assumed inside the
 * verifier's state there; a free selector makes each model start at the
 * entry or at one head; every edge into a head is checked against the
 * head's state (LOOP_HEAD: established by the entry, preserved by every
 * path back) instead of being merged.  When every LOOP_HEAD claim holds,
 * the head states are inductive invariants, and every claim shown in this
 * pass holds on every execution, however long (vfm_z3_scope: INDUCTIVE).
 * A refuted LOOP_HEAD claim is a soundness finding about the verifier's
 * fixpoint.  The budget-loop warning is checked in this pass only.
 *
 * Claims checked at every instruction the verifier marks reached, on every
 * node (insn, k) of it:
 *   - VALUE: each slot of the abstract state (packet length, tracked scratch
 *     words, stack) contains every possible concrete value (interval and
 *     tnum); untracked scratch words are 0;
 *   - IDENTITY: slots with one non-zero id hold equal values, VFM_ID_LEN
 *     slots hold len;
 *   - IN_BOUNDS: loads marked VFM_FACT_IN_BOUNDS are in bounds on every path;
 *   - ALWAYS_OOB: loads marked VFM_FACT_ALWAYS_OOB are out of bounds on
 *     every path;
 *   - NONZERO_DIVISOR: DIV/MOD not marked VFM_FACT_MAY_DIV0 never divide
 *     by zero;
 *   - UNREACHABLE: instructions not marked VFM_FACT_REACHED are never
 *     reached;
 *   - DEPTH: the stack depth the encoding computes equals facts.depth;
 *   - LEN_ROOM: every slot with a length room r (docs/VERIFIER.md) holds a
 *     value v with v + (r - 1) <= len, without wrap-around;
 *   - INDEX_NO_WRAP: a LOADX marked VFM_FACT_INDEX_NO_WRAP has index
 *     <= 2^64 - 1 - (k + size) (the engines drop the carry check on it);
 *   - BUDGET_LOOP (inductive pass): from a head marked VFM_FACT_BUDGET_LOOP
 *     no RET is reachable (with VFM_FACT_BUDGET_ONLY, no load that can go
 *     out of bounds either): the segment from the head reaches none and
 *     arrives only at heads with the same flags.
 * A refuted claim comes with a counterexample: packet length and bytes
 * (and the timestamp and HASH5 / FLOW_LOAD values the path needs).
 *
 * Precision: for every reached load the verifier did not prove in bounds,
 * Z3 is asked (in both passes) whether it is in fact in bounds.  proven =
 * the verifier's, provable = proven + those for which the answer covers
 * every path: the bounded pass's when the program is loop-free or complete
 * (no path exceeds the bound), the inductive pass's when the head states
 * are proven inductive.  Otherwise the answer holds only within the bound
 * and such loads are counted in provable_bounded, never in provable
 * (a load at index 20 of a loop that runs 30 times, after a check that
 * the packet has 20 bytes, is in bounds for the 8 unrolled iterations and
 * not beyond: issue 15).  The soundness claims of such a program are
 * likewise checked only within the bound; the report says "bounded" on
 * every line where that applies.
 *
 * Queries are grouped (one query for many claims; a satisfying model is
 * searched for every refuted claim; a group that times out is split), each
 * with a timeout.  A claim whose query times out is "unknown": counted,
 * not a failure.
 */
#ifndef VFM_Z3CHECK_H
#define VFM_Z3CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vfm.h"

#define VFM_Z3_DEFAULT_UNROLL 8u      /* backward jumps per loop entry */
#define VFM_Z3_DEFAULT_TIMEOUT_MS 3000u
#define VFM_Z3_DEFAULT_MAX_FAILURES 16u
#define VFM_Z3_MAX_NODES (1u << 18)   /* unrolled nodes; K is lowered to fit */
#define VFM_Z3_CEX_BYTES 4096u        /* packet bytes kept per counterexample */
#define VFM_Z3_MAX_GAP 32u            /* provable-not-proven loads listed */

struct vfm_z3_options {
	uint32_t unroll;       /* bound K: backward jumps per loop entry */
	uint32_t timeout_ms;   /* per Z3 query; 0 = none */
	uint32_t max_failures; /* refuted claims kept with counterexamples */
	bool precision;        /* ask about loads the verifier did not prove */
	bool minimize;         /* look for a short counterexample packet */
	FILE *trace;           /* non-NULL: one line per Z3 query (debugging) */
};

/* Defaults: unroll 8, timeout 3 s, 16 failures, precision and minimize on.
 * vfm_z3_check(prog, NULL, ...) uses them. */
void vfm_z3_options_init(struct vfm_z3_options *opt);

enum vfm_z3_claim_kind {
	VFM_Z3_VALUE,           /* slot value outside interval / tnum */
	VFM_Z3_IDENTITY,        /* equal ids, unequal values */
	VFM_Z3_IN_BOUNDS,       /* load marked in bounds can go out */
	VFM_Z3_ALWAYS_OOB,      /* load marked always-OOB can be in bounds */
	VFM_Z3_NONZERO_DIVISOR, /* DIV/MOD not marked may-div0 divides by 0 */
	VFM_Z3_UNREACHABLE,     /* insn marked unreachable is reached */
	VFM_Z3_DEPTH,           /* stack depth differs from facts.depth */
	VFM_Z3_LEN_ROOM,        /* slot with length room r: value + r - 1 > len */
	VFM_Z3_INDEX_NO_WRAP,   /* LOADX marked no-wrap: index + k + size >= 2^64 */
	VFM_Z3_LOOP_HEAD,       /* inductive pass: an edge into a loop head
				   carries a state outside the head's */
	VFM_Z3_BUDGET_LOOP,     /* inductive pass: a budget-loop head reaches a
				   RET (or, BUDGET_ONLY, a failing load) */
	VFM_Z3_KIND_COUNT
};

const char *vfm_z3_kind_name(enum vfm_z3_claim_kind kind);

/* One refuted claim and its counterexample. */
struct vfm_z3_failure {
	uint32_t insn, pc;
	uint8_t kind;     /* enum vfm_z3_claim_kind */
	int32_t slot;     /* state slot (0 = len, 1.. scratch, then stack); -1 */
	uint64_t value;   /* the slot's (or offset's) concrete value, if any */
	uint32_t unroll;  /* backward jumps taken in insn's loop before it */
	bool has_cex;     /* false: Z3 gave no model (should not happen) */
	uint32_t len;     /* counterexample packet length */
	uint64_t ts;      /* its timestamp (TS) */
	uint32_t wire_len; /* its wire length (WLEN) */
	bool exact;       /* the path uses no HASH5 or FLOW_LOAD value, so
			     running the packet (ts_ns = ts) follows it */
	bool inductive;   /* refuted in the inductive pass: the path starts
			     at loop head start_pc from a state the verifier
			     claims there (not necessarily a reachable one) */
	uint32_t start_pc;
	uint8_t *bytes;   /* the first n_bytes bytes of the packet */
	uint32_t n_bytes; /* min(len, VFM_Z3_CEX_BYTES) */
	char *text;       /* human-readable: claim, values, counterexample */
};

enum vfm_z3_inductive {
	VFM_Z3_IND_NONE,    /* loop-free: no inductive pass needed */
	VFM_Z3_IND_PROVEN,  /* head states established and inductive */
	VFM_Z3_IND_FAILED,  /* some head state refuted: a soundness finding */
	VFM_Z3_IND_UNKNOWN, /* some arrival query timed out */
};

struct vfm_z3_report {
	uint32_t insns;          /* instructions in the program */
	bool facts;              /* the verifier claimed something */
	bool loops;              /* some reachable backward jump */
	uint32_t unroll;         /* K used */
	bool complete;           /* no path exceeds K (meaningful with loops) */
	bool complete_unknown;   /* that query timed out */
	uint32_t nodes;          /* (insn, k) nodes reached in the encoding */
	/* claims by kind */
	uint32_t checked[VFM_Z3_KIND_COUNT];  /* claims (VALUE: one per slot) */
	uint32_t failed[VFM_Z3_KIND_COUNT];
	uint32_t unknown[VFM_Z3_KIND_COUNT];
	uint32_t claims, failures, unknowns;  /* totals */
	/* precision over reached packet loads */
	uint32_t loads, proven, provable, precision_unknown;
	/* loads in bounds on every path within the bound only (loops, not
	 * complete): not counted in provable */
	uint32_t provable_bounded;
	/* pcs of the loads Z3 shows always in bounds that the verifier did
	 * not prove (the first VFM_Z3_MAX_GAP): where precision is lost;
	 * gap_bounded: within the bound only (as provable_bounded) */
	uint32_t gap_pc[VFM_Z3_MAX_GAP];
	uint32_t n_gap;
	bool gap_bounded;
	/* The inductive pass (programs with loops): inductive is
	 * VFM_Z3_IND_PROVEN when every edge into every loop head was shown
	 * to carry a state inside the head's (the entry establishes the head
	 * states and every path back preserves them); then the ind_claims
	 * claims shown to hold in that pass hold on every path, unbounded.
	 * ind_failed of them were refuted (counted in failed/failures too,
	 * their failures marked inductive), ind_unknown timed out. */
	uint8_t inductive;       /* enum vfm_z3_inductive */
	uint32_t heads;          /* loop heads (cut points) */
	uint32_t ind_claims, ind_failed, ind_unknown;
	uint32_t queries, timeouts;
	double seconds;
	struct vfm_z3_failure *fail; /* the first max_failures refuted claims */
	uint32_t n_fail;
	char error[160];             /* set when the check could not run */
};

/*
 * Check every claim the verifier made about prog (prog->facts).
 * Returns VFM_OK when no claim is refuted (unknowns allowed), VFM_EVERIFY
 * when some claim is refuted (report->fail has counterexamples),
 * VFM_EINVAL for NULL arguments, VFM_ETOOBIG when the program is too big to
 * encode, VFM_ENOMEM, or VFM_EUNSUPPORTED when Z3 reports an error
 * (report->error says what).  The report is always initialised and must be
 * released with vfm_z3_report_free.
 */
vfm_error_t vfm_z3_check(const vfm_program_t *prog, const struct vfm_z3_options *opt,
			 struct vfm_z3_report *report);

void vfm_z3_report_free(struct vfm_z3_report *report);

/*
 * For tests of the encoding itself: evaluate it on concrete packets
 * (HASH5 = vfm_hash5 of the packet, TS = ts_ns, every FLOW_LOAD = 0 as on a
 * fresh VM, so exact for programs without FLOW_STORE) and say what the
 * encoded semantics does: instructions executed (nodes reached), status
 * OK (a RET reached) or BOUNDS, and the verdict.  beyond_bound: the
 * execution leaves the unrolled graph (a loop takes more than unroll
 * backward jumps); the other fields are then meaningless.  Comparing with
 * vfm_execute_ex ties the encoding to the interpreter.
 */
struct vfm_z3_eval {
	bool beyond_bound;
	uint64_t insns;
	uint32_t verdict;
	uint8_t status; /* vfm_status_t: OK or BOUNDS */
};
vfm_error_t vfm_z3_eval_packets(const vfm_program_t *prog, uint32_t unroll,
				const vfm_packet_t *pkts, size_t n, struct vfm_z3_eval *out);

/*
 * Translation validation for classic BPF (verifier/z3/z3cbpf.c): can prog
 * and the cBPF program insns return different verdicts on a packet of at
 * most max_len bytes (any bytes, any wire length but 0)?  The cBPF side is
 * encoded on its own from bpf_filter's semantics, so it checks the
 * translation (docs/CBPF.md), not the other way round.  Loops on the VFM
 * side are unrolled as vfm_z3_check does (bounded says so); a cBPF
 * backward jump is not encoded (VFM_EUNSUPPORTED, error says where).
 */
struct vfm_z3_cbpf_insn { /* struct bpf_insn's layout */
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
enum { VFM_Z3_EQUIV_UNKNOWN = -1, VFM_Z3_EQUIV_DIFFERENT = 0, VFM_Z3_EQUIV_EQUAL = 1 };
struct vfm_z3_equiv {
	int result;        /* VFM_Z3_EQUIV_*: unknown when the query timed out */
	bool bounded;      /* VFM loops unrolled: equal within the bound */
	uint32_t max_len;
	/* a packet on which they differ (result DIFFERENT) */
	uint32_t len, wire_len;
	uint32_t vfm_verdict, cbpf_verdict;
	uint32_t n_bytes;  /* min(len, VFM_Z3_CEX_BYTES) */
	uint8_t bytes[VFM_Z3_CEX_BYTES];
	double seconds;
	char error[200];   /* set when the check could not run */
};
vfm_error_t vfm_z3_equiv_cbpf(const vfm_program_t *prog, const struct vfm_z3_cbpf_insn *insns,
			      size_t n, uint32_t max_len, uint32_t timeout_ms,
			      struct vfm_z3_equiv *out);

/* What the soundness claims of a report cover (the one place this is
 * decided; the text, JSON and campaign summaries print it):
 *   EXACT      loop-free: every path;
 *   COMPLETE   loops, but no path exceeds the unrollings: every path;
 *   INDUCTIVE  paths beyond the unrollings, but the inductive check proved
 *              the loop-head states and decided every claim: every path;
 *   BOUNDED    some claims hold within the unrollings only. */
enum vfm_z3_scope { VFM_Z3_EXACT, VFM_Z3_COMPLETE, VFM_Z3_INDUCTIVE, VFM_Z3_BOUNDED };
enum vfm_z3_scope vfm_z3_scope(const struct vfm_z3_report *report);
const char *vfm_z3_scope_name(enum vfm_z3_scope scope);
const char *vfm_z3_inductive_name(enum vfm_z3_inductive ind);

/* Human-readable report: the mode (exact / bounded), claims checked,
 * refuted and unknown, proven/provable, time, then every failure with its
 * counterexample. */
void vfm_z3_print_report(FILE *out, const vfm_program_t *prog,
			 const struct vfm_z3_report *report);

#endif
