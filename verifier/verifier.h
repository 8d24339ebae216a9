/*
 * verifier/verifier.h — what the verifier provides to the layers above it
 * (api/ loads through it; tools print its findings).  It reads and fills
 * the program representation of vm/program.h; vm/ never calls it.
 */
#ifndef VFM_VERIFIER_H
#define VFM_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm/program.h"

/*
 * Structural verification (verifier/verify.c).  Decodes prog->code into
 * prog->insns and prog->pc_of and fills prog->facts; on rejection returns
 * VFM_EVERIFY with a message naming the pc, source line and reason.
 * prog->lines and prog->source_name must already be set (for messages).
 */
vfm_error_t vfm_verify(struct vfm_program *prog, vfm_diag_t *diag);

/* Abstract interpretation (verifier/absint.c) after vfm_verify: fills the
 * flags and warnings of prog->facts.  Rejects only a program over its
 * work or memory budget (VFM_ETOOBIG, the message names the budget and
 * the pc; docs/VERIFIER.md "Cost"), or VFM_ENOMEM. */
vfm_error_t vfm_absint(struct vfm_program *prog, vfm_diag_t *diag);

/* Bytes the facts hold beyond depth[] and flags[]: the warnings and the
 * per-pc states if vfm_facts_state() computed them (vfm_program_memory). */
size_t vfm_facts_extra_bytes(const struct vfm_facts *f);
/* Free the per-pc states vfm_facts_state() computed (program teardown). */
void vfm_facts_states_free(struct vfm_facts *f);

/* Runtime oracle: does the concrete state (stack bottom to top, scratch,
 * packet length) lie inside the abstract state before instruction insn?
 * Returns true if so, or if no abstract state is known. */
bool vfm_oracle_holds(const struct vfm_program *prog, uint32_t insn,
		      const uint64_t *stack, uint32_t depth,
		      const uint64_t *scratch, uint32_t len);

/* Words for people (verifier/report.c): an abstract value ("[0,60] #7"),
 * a warning's kind ("may-out-of-bounds") and message (with the facts). */
int vfm_format_aval(const struct vfm_aslot *s, char *buf, size_t n);
const char *vfm_warning_kind_name(uint8_t kind);
int vfm_warning_message(const struct vfm_program *prog, const struct vfm_warning *w,
			char *buf, size_t n);

/*
 * Reading the facts (tools, fuzz harnesses, tests).  Code outside vm/,
 * verifier/ and jit/ reads what the verifier established through these,
 * never through struct vfm_facts' fields, so the verifier may change how it
 * stores them.  Instruction indices i are < prog->n_insns.
 */
static inline bool vfm_facts_analysed(const struct vfm_program *prog)
{
	return prog->facts.flags != NULL; /* false: resource limits, no claims */
}
/* Stack depth before instruction i; -1 if i is unreachable. */
static inline int vfm_facts_depth(const struct vfm_program *prog, uint32_t i)
{
	return prog->facts.depth[i];
}
/* VFM_FACT_* bits of instruction i; 0 if the analysis did not run. */
static inline uint8_t vfm_facts_flags(const struct vfm_program *prog, uint32_t i)
{
	return prog->facts.flags ? prog->facts.flags[i] : 0;
}
static inline unsigned vfm_facts_max_depth(const struct vfm_program *prog)
{
	return prog->facts.max_depth;
}
static inline uint32_t vfm_facts_reachable(const struct vfm_program *prog)
{
	return prog->facts.reachable;
}
static inline bool vfm_facts_has_backward(const struct vfm_program *prog)
{
	return prog->facts.has_backward;
}
static inline bool vfm_facts_reads_scratch(const struct vfm_program *prog)
{
	return prog->facts.reads_scratch;
}
/* Packet loads the analysis reached, and those proven in bounds. */
static inline uint32_t vfm_facts_loads(const struct vfm_program *prog)
{
	return prog->facts.loads;
}
static inline uint32_t vfm_facts_loads_in_bounds(const struct vfm_program *prog)
{
	return prog->facts.loads_in_bounds;
}
static inline uint32_t vfm_facts_n_warnings(const struct vfm_program *prog)
{
	return prog->facts.n_warnings;
}
static inline const struct vfm_warning *vfm_facts_warning(const struct vfm_program *prog,
							   uint32_t w)
{
	return &prog->facts.warnings[w];
}
/* Scratch words the abstract states track (the others are always 0). */
static inline uint32_t vfm_facts_n_scratch(const struct vfm_program *prog)
{
	return prog->facts.n_scratch;
}
/* Work units the abstract interpreter spent (docs/VERIFIER.md, "Cost"):
 * at most 128 per abstract word of the program + 1 per instruction + 2^22, and 2^30. */
static inline uint64_t vfm_facts_work(const struct vfm_program *prog)
{
	return prog->facts.work;
}
/* The abstract state before instruction i: the packet length, then the
 * vfm_facts_n_scratch() tracked scratch words, then the stack from bottom
 * to top (vfm_facts_depth() slots).  NULL if i was not reached, the
 * analysis did not run, or the states of all pcs together would exceed
 * 4 Mi abstract words.  The first call re-runs the analysis to record
 * them (they are not kept after load); thread-safe. */
const struct vfm_aslot *vfm_facts_state(const struct vfm_program *prog, uint32_t i);

#endif
