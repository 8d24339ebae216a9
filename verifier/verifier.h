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
 * flags, states and warnings of prog->facts.  Never rejects; on resource
 * limits it leaves them empty (claims nothing). */
void vfm_absint(struct vfm_program *prog);

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

#endif
