/*
 * vm/disasm.c — the one disassembler, used by vfm-dis, vfm-verify -v, the
 * golden tests and fuzz triage.
 *
 * Output re-assembles to the same code section: jump targets get labels
 * "L<pc>", and anything that is not a well-formed instruction (unknown
 * opcode, truncated operand, jump to a non-boundary) is written as a
 * `.byte` line, so even a program the verifier rejects round-trips.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"

/* Immediates: small values in decimal, the rest in hex (ethertypes,
 * masks and addresses read better that way). */
static int format_value(char *buf, size_t n, uint64_t v)
{
	return v < 1024 ? snprintf(buf, n, "%" PRIu64, v)
			: snprintf(buf, n, "0x%" PRIx64, v);
}

int vfm_format_insn(const uint8_t *code, uint32_t code_size, uint32_t pc,
		    char *buf, size_t n)
{
	(void)code_size;
	const struct vfm_opinfo *info = &vfm_opinfo[code[pc]];
	const uint8_t *opnd = code + pc + 1;
	char val[32];
	switch ((enum vfm_operand_kind)info->operand) {
	case VFM_OPND_NONE:
		return snprintf(buf, n, "%s", info->mnemonic);
	case VFM_OPND_U8:
		return snprintf(buf, n, "%s %u", info->mnemonic, opnd[0]);
	case VFM_OPND_U32:
		format_value(val, sizeof val, vfm_get_le32(opnd));
		return snprintf(buf, n, "%s %s", info->mnemonic, val);
	case VFM_OPND_U64:
		format_value(val, sizeof val, vfm_get_le64(opnd));
		return snprintf(buf, n, "%s %s", info->mnemonic, val);
	case VFM_OPND_REL32:
		return snprintf(buf, n, "%s L%" PRId64, info->mnemonic,
				vfm_jump_target(code, pc));
	}
	return snprintf(buf, n, "?");
}

/* Growable output text. */
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *t,
							      const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = t->cap - t->len;
		va_start(ap, fmt);
		int need = t->buf ? vsnprintf(t->buf + t->len, room, fmt, ap) : -1;
		va_end(ap);
		if (need >= 0 && (size_t)need < room) {
			t->len += (size_t)need;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		while (need >= 0 && cap - t->len <= (size_t)need)
			cap *= 2;
		char *p = realloc(t->buf, cap);
		if (!p) {
			t->failed = 1;
			return;
		}
		t->buf = p;
		t->cap = cap;
	}
}

/* Size of the well-formed instruction at pc, or 0 if it is not one. */
static unsigned well_formed_size(const uint8_t *code, uint32_t size, uint32_t pc)
{
	if (!vfm_opinfo[code[pc]].valid)
		return 0;
	unsigned n = vfm_insn_size(code[pc]);
	return n <= size - pc ? n : 0;
}

vfm_error_t vfm_disassemble(const uint8_t *bytes, size_t len, char **out,
			    vfm_diag_t *diag)
{
	struct vfm_file file;
	if (!out)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "vfm_disassemble: NULL argument");
	*out = NULL;
	vfm_error_t err = vfm_file_parse(bytes, len, &file, diag);
	if (err != VFM_OK)
		return err;
	const uint8_t *code = file.code;
	uint32_t size = file.code_size;

	/* Pass 1: instruction starts, then which of them are jump targets. */
	uint8_t *mark = calloc(size, 1); /* bit 0: insn start, bit 1: label */
	if (!mark)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	for (uint32_t pc = 0; pc < size;) {
		unsigned n = well_formed_size(code, size, pc);
		if (n == 0)
			break; /* the rest is raw bytes */
		mark[pc] |= 1;
		pc += n;
	}
	for (uint32_t pc = 0; pc < size; pc++) {
		if (!(mark[pc] & 1) || vfm_opinfo[code[pc]].operand != VFM_OPND_REL32)
			continue;
		int64_t t = vfm_jump_target(code, pc);
		if (t >= 0 && t < size && (mark[t] & 1))
			mark[t] |= 2;
	}

	struct text t = {0};
	if (file.source_name) {
		/* The name comes from the file: control characters (a newline
		 * would end the comment and inject code) are printed as '?'. */
		text_printf(&t, "; disassembled from ");
		for (uint32_t i = 0; i < file.source_name_len; i++) {
			uint8_t c = file.source_name[i];
			text_printf(&t, "%c", c < 0x20 || c == 0x7F ? '?' : (char)c);
		}
		text_printf(&t, "\n");
	}
	if (file.linktype) /* validated by the parser: letters, digits, '_' */
		text_printf(&t, ".linktype %.*s\n", (int)file.linktype_len,
			    (const char *)file.linktype);
	char insn[64];
	for (uint32_t pc = 0; pc < size;) {
		if (mark[pc] & 2)
			text_printf(&t, "L%u:\n", pc);
		unsigned n = (mark[pc] & 1) ? vfm_insn_size(code[pc]) : 0;
		/* Well-formed but not expressible in assembly: a jump to a
		 * non-instruction, or a scratch index the assembler refuses. */
		const char *why = n ? NULL : "not an instruction";
		if (n && vfm_opinfo[code[pc]].operand == VFM_OPND_REL32) {
			int64_t target = vfm_jump_target(code, pc);
			if (target < 0 || target >= size || !(mark[target] & 2))
				why = "jump to a non-instruction";
		}
		if (n && vfm_opinfo[code[pc]].operand == VFM_OPND_U8 &&
		    code[pc + 1] >= VFM_SCRATCH_WORDS)
			why = "scratch index out of range";
		if (!why) {
			vfm_format_insn(code, size, pc, insn, sizeof insn);
			text_printf(&t, "    %-24s ; pc %u\n", insn, pc);
			pc += n;
			continue;
		}
		/* Not expressible as an instruction: raw bytes, up to the next
		 * instruction start (or 8 bytes a line). */
		uint32_t end = pc + (n ? n : 1);
		while (end < size && !(mark[end] & 1) && end - pc < 8)
			end++;
		text_printf(&t, "    .byte ");
		for (uint32_t i = pc; i < end; i++)
			text_printf(&t, "0x%02x%s", code[i], i + 1 < end ? ", " : "");
		text_printf(&t, " ; pc %u: %s\n", pc, why);
		pc = end;
	}
	free(mark);
	if (t.failed) {
		free(t.buf);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	*out = t.buf ? t.buf : calloc(1, 1);
	return *out ? VFM_OK : vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
}
