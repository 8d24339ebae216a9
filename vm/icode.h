/*
 * vm/icode.h — the interpreter's pre-decoded code.
 *
 * Built once per program at load time (vm/predecode.c), after the verifier
 * and its abstract interpretation, and immutable afterwards (shared by the
 * threads that share the program).  One entry per instruction, so entry i
 * is instruction i and a jump target is an instruction index as in
 * prog->insns.  An entry may stand for a group of n consecutive
 * instructions (a superinstruction, see below); its handler then does the
 * group's work and skips the other n - 1 entries.  Those entries keep their
 * own meaning (each is decoded on its own, possibly as the head of a
 * shorter group), so a jump into the middle of a group runs exactly the
 * instructions from its target on: fusion never depends on the absence of
 * edges into a group, only on the group being straight-line code whose
 * single exit (a jump or falling through) is its last instruction.
 *
 * Memory: 32 bytes per instruction plus one sentinel (TRAP) entry.
 *
 * Handlers (enum vfm_iop), all generated from the opcode table's classes
 * (vm/opcodes.def), never listed per opcode:
 *
 *   NAME                 every opcode, one instruction (loads: checked
 *                        with one compare, len < k + size)
 *   LOAD_SAFE            a LOAD/LOADX row the verifier proved in bounds on
 *                        every path (VFM_FACT_IN_BOUNDS): no check
 *   LOADX_NW             LOADX whose index interval (the verifier's state)
 *                        cannot make index + k + size wrap: one compare
 *   ALU2_K, JCC_K        PUSH c; <op>                             (2 insns)
 *   LJ_JCC[_SAFE]        LOAD k; PUSH c; JCC                      (3 insns)
 *   LXJ_JCC[_NW|_SAFE]   LOADX k; PUSH c; JCC                     (3 insns)
 *   LENJ_JCC             LEN; PUSH c; JCC                         (3 insns)
 *   IHL[_SAFE]           LOAD k; PUSH m; AND; PUSH s; SHL         (5 insns)
 *                        (the IPv4 header-length idiom, for any load size)
 *   BOUNDS               a load whose k + size exceeds any u32 length
 *   TRAP                 sentinel; unreachable for verified programs
 *
 * The fused loads fetch the 8 bytes that end at k + size and mask them to
 * the load's size (so one handler serves every size); they are used only
 * where k + size >= 8, so those 8 bytes lie inside a packet that holds the
 * load.  Elsewhere the single-instruction forms run.
 *
 * Instruction counting (docs/ISA.md 7.3) is static: each handler adds its
 * group's length, or only the instructions up to a faulting load.
 */
#ifndef VFM_ICODE_H
#define VFM_ICODE_H

#include <stdbool.h>
#include <stdint.h>

#include "program.h"

enum vfm_iop {
#define VFM_OP(name, ...) VFM_IOP_##name,
#include "opcodes.def"
#define VFM_LOAD(name, ...) VFM_IOP_##name##_SAFE,
#define VFM_LOADX(name, ...) VFM_IOP_##name##_SAFE, VFM_IOP_##name##_NW,
#define VFM_ALU2(name, ...) VFM_IOP_##name##_K,
#define VFM_JCC(name, ...)                                                    \
	VFM_IOP_##name##_K, VFM_IOP_LJ_##name, VFM_IOP_LJ_##name##_SAFE,      \
	VFM_IOP_LXJ_##name, VFM_IOP_LXJ_##name##_NW, VFM_IOP_LXJ_##name##_SAFE, \
	VFM_IOP_LENJ_##name,
#define VFM_OP(...)
#include "opcodes.def"
	VFM_IOP_IHL,
	VFM_IOP_IHL_SAFE,
	VFM_IOP_BOUNDS,
	VFM_IOP_TRAP,
	VFM_IOP_COUNT
};
_Static_assert(VFM_IOP_COUNT <= 256, "enum vfm_iop must fit in a byte");

struct vfm_icode {
	uint8_t op;    /* enum vfm_iop */
	uint8_t aux;   /* LDM/STM: scratch index; IHL: shift count & 63 */
	uint8_t back;  /* jumps: 1 if backward (spends budget when taken) */
	uint8_t n;     /* instructions this entry stands for (1..5) */
	uint32_t k;    /* loads, fused loads: k + size ("need"); RET k: verdict */
	int32_t rel;   /* jumps: (target entry - this entry) in bytes */
	uint32_t pad;
	uint64_t imm;  /* PUSH and fused: the immediate c */
	uint64_t mask; /* fused loads: the size's value mask (IHL: & m) */
};
_Static_assert(sizeof(struct vfm_icode) == 32, "one icode entry is 32 bytes");

/* Build prog->icode and prog->scratch_zero from the verified program and
 * its facts.  With fuse false (the oracle build), every entry stands for
 * one instruction.  Returns VFM_ENOMEM or VFM_OK. */
vfm_error_t vfm_predecode(struct vfm_program *prog, bool fuse);

/* The scratch words that some path may read (LDM) before writing (STM):
 * bit i set = M[i] must be zeroed at the start of each packet.  A
 * must-write forward analysis over the CFG of the reachable code. */
uint16_t vfm_scratch_read_before_write(const struct vfm_program *prog);

#endif
