/*
 * vm/opcode.h — what the opcode table (vm/opcodes.def) generates for C:
 * the file opcode numbers, the classes, one enum per class, the branch
 * relations, the engines' internal operations and the per-opcode metadata.
 *
 * The per-class enums exist so that a consumer can switch over one class
 * without `default:`: with -Werror=switch (the default warnings) a new row
 * in opcodes.def fails the build of every consumer that lacks its case,
 * naming the file and line.  Their values are the file opcode numbers, so
 * `(enum vfm_stack_op)insn->opcode` is the opcode itself.
 */
#ifndef VFM_OPCODE_H
#define VFM_OPCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "encoding.h"

/* File opcode numbers, from the table. */
enum vfm_opcode {
#define VFM_OP(name, code, ...) VFM_OPC_##name = code,
#include "opcodes.def"
};

enum vfm_op_class {
	VFM_CLASS_STACK,
	VFM_CLASS_LOAD,
	VFM_CLASS_LOADX,
	VFM_CLASS_ALU2,
	VFM_CLASS_ALU1,
	VFM_CLASS_JMP,
	VFM_CLASS_JCC,
	VFM_CLASS_RET,
	VFM_CLASS_SPECIAL,
};

/* One enum per class (VFM_<CLASS>_<NAME> = the opcode number). */
#define VFM_CLASS_ENUM_(cls, name, code) VFM_##cls##_##name = code,
enum vfm_stack_op {
#define VFM_STACK(name, code, ...) VFM_CLASS_ENUM_(STACK, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_load_op {
#define VFM_LOAD(name, code, ...) VFM_CLASS_ENUM_(LOAD, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_loadx_op {
#define VFM_LOADX(name, code, ...) VFM_CLASS_ENUM_(LOADX, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_alu2_op {
#define VFM_ALU2(name, code, ...) VFM_CLASS_ENUM_(ALU2, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_alu1_op {
#define VFM_ALU1(name, code, ...) VFM_CLASS_ENUM_(ALU1, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_jmp_op {
#define VFM_JMP(name, code, ...) VFM_CLASS_ENUM_(JMP, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_jcc_op {
#define VFM_JCC(name, code, ...) VFM_CLASS_ENUM_(JCC, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_ret_op {
#define VFM_RET(name, code, ...) VFM_CLASS_ENUM_(RET, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
enum vfm_special_op {
#define VFM_SPECIAL(name, code, ...) VFM_CLASS_ENUM_(SPECIAL, name, code)
#define VFM_OP(...)
#include "opcodes.def"
};
#undef VFM_CLASS_ENUM_

/*
 * The relation a conditional jump's edge establishes between its operands,
 * a (below) REL b (top of stack), unsigned.  JCC rows name one for the
 * taken and one for the fall-through edge; vm/semantics.h gives their
 * meaning (vfm_sem_rel), and every consumer switches over this enum.
 */
enum vfm_rel {
	VFM_REL_EQ,
	VFM_REL_NE,
	VFM_REL_LT,
	VFM_REL_LE,
	VFM_REL_GT,
	VFM_REL_GE,
	VFM_REL_SET,   /* a & b != 0 */
	VFM_REL_CLEAR, /* a & b == 0 */
};
#define VFM_REL_COUNT (VFM_REL_CLEAR + 1)

/*
 * Internal operations executed by the engines: one per opcode, in table
 * order, followed by the fused forms the decoder creates (PUSH k + binary
 * ALU op, PUSH k + conditional jump), then TRAP.  These numbers are private
 * and may change; the file format uses enum vfm_opcode.
 */
enum vfm_xop {
#define VFM_OP(name, ...) VFM_XOP_##name,
#include "opcodes.def"
#define VFM_ALU2(name, ...) VFM_XOP_##name##_K,
#define VFM_JCC(name, ...) VFM_XOP_##name##_K,
#define VFM_OP(...)
#include "opcodes.def"
	VFM_XOP_TRAP,
	VFM_XOP_COUNT
};

struct vfm_opinfo {
	const char *name;     /* NAME column: "RETK" */
	const char *mnemonic; /* assembly: "RET" */
	uint8_t valid;
	uint8_t operand;      /* enum vfm_operand_kind */
	uint8_t pops, pushes;
	uint8_t cls;          /* enum vfm_op_class */
	uint8_t size;         /* packet bytes read by loads */
	uint8_t xop;          /* enum vfm_xop of the unfused form */
};

/* Indexed by opcode byte; .valid == 0 for unassigned bytes. */
extern const struct vfm_opinfo vfm_opinfo[256];

static inline unsigned vfm_insn_size(uint8_t opcode)
{
	return 1u + vfm_operand_size((enum vfm_operand_kind)vfm_opinfo[opcode].operand);
}

/* JCC rows' relations by opcode byte: [0] taken edge, [1] fall-through. */
extern const uint8_t vfm_jcc_rels[256][2];

/* The relation the taken (or fall-through) edge of JCC `opcode`
 * establishes: a REL b. */
static inline enum vfm_rel vfm_jcc_rel(uint8_t opcode, bool taken)
{
	return (enum vfm_rel)vfm_jcc_rels[opcode][taken ? 0 : 1];
}

#endif
