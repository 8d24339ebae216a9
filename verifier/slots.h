/*
 * verifier/slots.h — the relational part of the abstract interpreter's
 * state (verifier/absint.c): identities (slots that hold the same concrete
 * value) and length rooms ("value + r <= len"), kept over an array of
 * struct vfm_aslot (vm/facts.h).  The rules that keep them sound are in
 * docs/VERIFIER.md ("The abstract state"); every function here takes a
 * state of m valid slots.
 */
#ifndef VFM_SLOTS_H
#define VFM_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../vm/facts.h"
#include "../vm/opcode.h"

/* Strip identity id from every slot (and the sums that refer to it). */
void vfm_slots_kill_id(struct vfm_aslot *s, uint32_t m, uint32_t id);

/* Meet every slot with identity id against v.  Returns false if some slot
 * becomes empty (the state is infeasible).  id 0 refines nothing. */
bool vfm_slots_refine_id(struct vfm_aslot *s, uint32_t m, uint32_t id, struct vfm_aval v);

/* Constrain the packet length (and its copies) to at least min. */
bool vfm_slots_len_at_least(struct vfm_aslot *s, uint32_t m, uint64_t min);

/* Put a new value v produced by instruction i into slot k (k may be m: a
 * push).  Its identity is 2 + i, first stripped from every older value. */
void vfm_slots_produce(struct vfm_aslot *s, uint32_t m, uint32_t k, uint32_t i,
		       struct vfm_aval v);

/* Slot k is about to be copied by instruction i: give it an identity first
 * (the instruction's own), so the copy and the original refine together. */
void vfm_slots_share_id(struct vfm_aslot *s, uint32_t m, uint32_t k, uint32_t i);

/* ADD at instruction i put a + b into slot r: if one operand is a constant
 * c < 2^32 and the other an identified x that cannot wrap, record that r
 * is "x + c" (for vfm_slots_learn_compare). */
void vfm_slots_note_sum(struct vfm_aslot *r, struct vfm_aslot a, struct vfm_aslot b,
			uint32_t i);

/*
 * After a comparison a REL b on one edge (the two operands already
 * popped): if one operand is the length and the other is x or x + c with
 * x + c <= len (or <), every remaining copy of x learns the room c (+1 for
 * a strict relation).  This proves `LD16X k` after
 * `DUP; PUSH c; ADD; LEN; JGT out`.
 */
void vfm_slots_learn_compare(struct vfm_aslot *s, uint32_t m, struct vfm_aslot a,
			     struct vfm_aslot b, enum vfm_rel rel);

#endif
