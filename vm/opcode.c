/*
 * vm/opcode.c — tables derived from vm/opcodes.def, and the error/status
 * names derived from the lists in vfm.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "program.h"

const struct vfm_opinfo vfm_opinfo[256] = {
#define VFM_OP(name_, code, mnem, opnd, pops_, pushes_, cls_, size_)          \
	[code] = {.name = #name_, .mnemonic = mnem, .valid = 1,               \
		  .operand = VFM_OPND_##opnd, .pops = pops_, .pushes = pushes_, \
		  .cls = VFM_CLASS_##cls_, .size = size_, .xop = VFM_XOP_##name_},
#include "opcodes.def"
};

const uint8_t vfm_jcc_rels[256][2] = {
#define VFM_JCC(name, code, mnem, taken, fall) \
	[code] = {VFM_REL_##taken, VFM_REL_##fall},
#define VFM_OP(...)
#include "opcodes.def"
};

/* A duplicated opcode number in opcodes.def becomes a duplicate case label
 * here, which is a compile error; designated initializers alone would let
 * the later row silently win. */
int vfm_opcode_numbers_are_unique(int code);
int vfm_opcode_numbers_are_unique(int code)
{
	switch (code) {
#define VFM_OP(name, code, ...) case code:
#include "opcodes.def"
		return 1;
	default:
		return 0;
	}
}

/* Fused forms must fit in the decoded instruction's 8-bit xop field. */
_Static_assert(VFM_XOP_COUNT <= 256, "xop must fit in uint8_t");

const char *vfm_error_name(vfm_error_t err)
{
	switch (err) {
#define VFM_ERROR_NAME_(name, value, desc) case VFM_##name: return "VFM_" #name;
		VFM_ERROR_LIST(VFM_ERROR_NAME_)
#undef VFM_ERROR_NAME_
	}
	return "VFM_E?";
}

const char *vfm_error_string(vfm_error_t err)
{
	switch (err) {
#define VFM_ERROR_DESC_(name, value, desc) case VFM_##name: return desc;
		VFM_ERROR_LIST(VFM_ERROR_DESC_)
#undef VFM_ERROR_DESC_
	}
	return "unknown error";
}

const char *vfm_status_name(vfm_status_t st)
{
	switch (st) {
#define VFM_STATUS_NAME_(name, value, desc) case VFM_STATUS_##name: return #name;
		VFM_STATUS_LIST(VFM_STATUS_NAME_)
#undef VFM_STATUS_NAME_
	}
	return "?";
}

vfm_error_t vfm_diag_set(vfm_diag_t *diag, vfm_error_t code, int64_t pc,
			 uint32_t line, const char *fmt, ...)
{
	if (diag) {
		va_list ap;
		diag->code = code;
		diag->pc = pc;
		diag->line = line;
		va_start(ap, fmt);
		vsnprintf(diag->message, sizeof diag->message, fmt, ap);
		va_end(ap);
	}
	return code;
}
