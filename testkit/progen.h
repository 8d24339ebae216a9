/*
 * testkit/progen.h — random VFM programs that pass the verifier, for tests,
 * fuzzing and the Z3 cross-check.
 *
 * Every program is built from statements whose stack effect is known by
 * construction (net zero, or one value for an expression), so it passes
 * the structural verifier of docs/ISA.md section 9: every path ends in RET,
 * one stack depth per instruction, no underflow, depth <= 256 (or
 * cfg.max_stack), scratch index < 16, jump targets are labels.  The
 * generator checks its own bookkeeping as it emits (a label reached with two
 * depths is an internal error, PROGEN_EINTERNAL), and it knows which code is
 * reachable, so its statistics can be compared with the verifier's facts.
 *
 * Opcodes come from the table (vfm_opinfo[], vm/opcodes.def): every valid
 * non-control opcode is generated from its pops/pushes/operand kind (a new
 * opcode is picked up without changes here), conditional jumps from the
 * JCC class, returns from the RET class.  Hand-written patterns add what a
 * table cannot say: loops with counters, length guards before loads,
 * IHL-style computed offsets, flow counters.
 *
 * Statements: generic operations, scratch stores, if/else diamonds, bounded
 * loops (counter in scratch or on the stack; do-while and while forms),
 * loops that may only end by the budget, length-guarded regions with loads
 * below the guard, guarded indexed loads with computed offsets, flow-table
 * stores and counters keyed by HASH5/packet fields/constants, deep stacks
 * (sometimes exactly max_stack), early returns, break/continue, and
 * unreachable code.  Terminators: RET k and RET of computed values.
 *
 * The structured representation is a *choice string*: the generator makes
 * every decision through one primitive that either draws from a seeded
 * PRNG (xoshiro256**, so the same seed gives the same program on every
 * host) or reads bytes.  Each decision maps any value to a valid option in
 * the current context, so ANY byte string decodes to a verifiable program
 * (progen_from_bytes), and a missing byte reads as 0, which always means
 * "stop / simplest".  A seeded generation can record its decisions
 * (progen_generate_ex, choices): decoding them gives back the same program
 * text.  Statements occupy contiguous byte ranges of the choice string, so
 * progen_mutate / progen_crossover can delete, duplicate, swap, copy or
 * regenerate whole statements (libFuzzer custom mutator signature) and the
 * result still decodes to a verifiable program.
 *
 * The same configuration must be used to decode a choice string as to
 * produce it (weights and limits change how bytes map to options).
 *
 * In a libFuzzer target (the input is a choice string):
 *
 *   size_t LLVMFuzzerCustomMutator(uint8_t *d, size_t n, size_t max, unsigned s)
 *   { return progen_mutate(NULL, d, n, max, s); }
 *   size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t an, const uint8_t *b,
 *                                    size_t bn, uint8_t *out, size_t max, unsigned s)
 *   { return progen_crossover(NULL, a, an, b, bn, out, max, s); }
 *   int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
 *   { char *text; progen_from_bytes(d, n, &text); ... progen_assemble ... }
 *
 * `vfm-progen --choices` writes choice strings of seeded programs (corpus
 * seeds).  Build with -DPROGEN_DEBUG to have an internal error print where
 * it was detected (and the text so far, with PROGEN_DEBUG_TEXT=1).
 */
#ifndef VFM_PROGEN_H
#define VFM_PROGEN_H

#include <stddef.h>
#include <stdint.h>

#include "vfm.h"

/* Statement kinds: X(ENUM, name, default weight).  Order matters for
 * decoding (the first is what a 0 byte picks). */
#define PROGEN_FEATURES(X)                                                     \
	X(OPS, "ops", 10)                 /* any non-control opcode on exprs */ \
	X(SCRATCH, "scratch", 3)          /* E; STM i (also via DUP) */         \
	X(BRANCH, "branch", 4)            /* if / if-else diamonds */           \
	X(LOOP, "loop", 2)                /* bounded loops */                   \
	X(BUDGET_LOOP, "budget-loop", 1)  /* loops that may run out of budget */ \
	X(GUARD, "guard", 3)              /* LEN check, then loads below it */  \
	X(INDEXED, "indexed", 2)          /* guarded computed-offset loads */   \
	X(FLOW, "flow", 2)                /* FLOW_STORE, counters */            \
	X(DEEP, "deep", 1)                /* push many, work deep, reduce */    \
	X(EARLY_RET, "early-ret", 1)      /* conditional RET in the middle */   \
	X(BREAK, "break", 2)              /* break / continue inside loops */   \
	X(DEAD, "dead", 1)                /* unreachable code after JMP */

enum progen_feature {
#define PROGEN_FEATURE_ENUM_(e, name, w) PROGEN_F_##e,
	PROGEN_FEATURES(PROGEN_FEATURE_ENUM_)
#undef PROGEN_FEATURE_ENUM_
	PROGEN_F_COUNT
};

/* Every field's zero value means "default", so {0} is a usable config. */
struct progen_config {
	uint32_t target_insns;   /* approximate instruction count; 0 = 64 */
	uint32_t max_insns;      /* hard cap; 0 = 2 * target + 1024 */
	uint32_t max_stack;      /* deepest stack used, 1..256; 0 = 256 */
	uint32_t max_loop_iters; /* bounded loops run 1..this; 0 = 8 */
	uint8_t max_nesting;     /* nested structures, 1..8; 0 = 5 */
	uint8_t expr_depth;      /* expression nesting, 0..5; 0 = 3 */
	uint8_t no_comments;     /* 1: no "; loop ..." comments in the text */
	/* Relative statement weights (0..255).  All zero = the defaults
	 * above; otherwise a zero weight disables that kind (LOOP and
	 * BUDGET_LOOP both zero = loop-free programs, e.g. for Z3). */
	uint8_t weight[PROGEN_F_COUNT];
};

/* What a generated program contains.  Counts are of *reachable*
 * instructions/constructs unless stated otherwise. */
struct progen_stats {
	uint32_t insns;           /* instructions emitted, reachable or not */
	uint32_t reachable;       /* reachable instructions */
	uint32_t max_depth;       /* deepest stack on a reachable path */
	uint32_t loops;           /* loops (bounded + budget) */
	uint32_t budget_loops;    /* loops whose end may need the budget */
	uint32_t backward_jumps;  /* reachable backward JMP/Jcc */
	uint32_t guarded_loads;   /* absolute loads below a covering LEN check */
	uint32_t unguarded_loads; /* other absolute loads */
	uint32_t indexed_loads;   /* LDxX, guarded or not */
	uint32_t guarded_indexed; /* LDxX behind an offset+size <= LEN check */
	uint32_t dead_insns;      /* unreachable instructions */
	uint32_t stmts[PROGEN_F_COUNT]; /* statements of each kind */
	uint32_t op_count[256];   /* emitted instructions per opcode */
};

enum {
	PROGEN_OK = 0,
	PROGEN_ENOMEM = -1,
	PROGEN_EINVAL = -2,
	PROGEN_EINTERNAL = -3, /* the generator broke its own invariants (a bug) */
};

/* Defaults, explicitly (same as a zeroed struct). */
void progen_config_init(struct progen_config *cfg);

/* Per-instruction tags (progen_run with PROGEN_WANT_TAGS), one byte per
 * instruction in code order (the verifier's instruction index). */
enum {
	PROGEN_TAG_DEAD = 1,    /* structurally unreachable */
	PROGEN_TAG_LOAD = 2,    /* a packet load (absolute or indexed) */
	PROGEN_TAG_GUARDED = 4, /* a load that a dominating LEN comparison makes
				 * in bounds on every path (by construction) */
};

/* progen_run flags */
#define PROGEN_FROM_BYTES 1u   /* decode data/len instead of using seed */
#define PROGEN_WANT_CHOICES 2u /* fill choices (the choice string) */
#define PROGEN_WANT_TAGS 4u    /* fill tags */

struct progen_result {
	char *asm_text;            /* assembly, NUL-terminated */
	struct progen_stats stats;
	uint8_t *choices;          /* PROGEN_WANT_CHOICES */
	size_t n_choices;
	uint8_t *tags;             /* PROGEN_WANT_TAGS: stats.insns entries */
	size_t consumed;           /* PROGEN_FROM_BYTES: input bytes looked at
				    * (may exceed len: missing bytes read 0) */
};

/* The general entry point; the functions below are shorthands.  On error
 * the pointers in *out are NULL (stats still say how far it got).
 * Release with progen_result_free. */
int progen_run(const struct progen_config *cfg, uint64_t seed, const uint8_t *data, size_t len,
	       unsigned flags, struct progen_result *out);
void progen_result_free(struct progen_result *r);

/* One program from a seed.  *asm_text is malloc'ed, NUL-terminated
 * assembly for vfm_assemble.  cfg may be NULL (defaults).  Returns
 * PROGEN_OK or a negative PROGEN_E* code. */
int progen_generate(const struct progen_config *cfg, uint64_t seed, char **asm_text);

/* As progen_generate, plus statistics and the choice string that
 * progen_from_bytes_ex (same cfg) decodes back to the same text.  stats,
 * choices and n_choices may be NULL; *choices is malloc'ed. */
int progen_generate_ex(const struct progen_config *cfg, uint64_t seed, char **asm_text,
		       struct progen_stats *stats, uint8_t **choices, size_t *n_choices);

/* Decode any byte string into a verifiable program (default config). */
int progen_from_bytes(const uint8_t *data, size_t len, char **asm_text);
/* With a config and statistics; *consumed (may be NULL) is how many input
 * bytes the decoder looked at (it may want more than len: missing bytes
 * read as 0). */
int progen_from_bytes_ex(const struct progen_config *cfg, const uint8_t *data, size_t len,
			 char **asm_text, struct progen_stats *stats, size_t *consumed);

/* Structural mutation of a choice string in place (libFuzzer
 * LLVMFuzzerCustomMutator contract): data holds len bytes, capacity
 * max_len; returns the new length (<= max_len).  Deletes, duplicates,
 * swaps, copies or regenerates one statement, or changes one decision. */
size_t progen_mutate(const struct progen_config *cfg, uint8_t *data, size_t len,
		     size_t max_len, uint64_t seed);
/* Splice a statement of b into a (libFuzzer LLVMFuzzerCustomCrossOver):
 * writes at most max_out bytes to out and returns the count. */
size_t progen_crossover(const struct progen_config *cfg, const uint8_t *a, size_t a_len,
			const uint8_t *b, size_t b_len, uint8_t *out, size_t max_out,
			uint64_t seed);

/* Assemble generated text into a bytecode file image (malloc'ed) with a
 * line table, so verifier messages name source lines. */
vfm_error_t progen_assemble(const char *asm_text, uint8_t **image, size_t *len,
			    vfm_diag_t *diag);

const char *progen_feature_name(enum progen_feature f);
/* Feature by name ("loop"), or -1. */
int progen_feature_from_name(const char *name);
/* "out of memory", ... for a PROGEN_E* code. */
const char *progen_strerror(int code);

#endif
