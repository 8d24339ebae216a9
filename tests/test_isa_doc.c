/*
 * tests/test_isa_doc.c — docs/ISA.md's opcode table is derived from
 * vm/opcodes.def.
 *
 * The block between the opcode-table markers in docs/ISA.md must be exactly
 * the text rendered here from vfm_opinfo[] (which opcodes.def generates).
 * On a mismatch the expected block is printed so that whoever changed the
 * table can paste it into the document.  Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program.h"
#include "test_support.h"

#define DOC_PATH "docs/ISA.md"
#define BEGIN_MARK "<!-- opcode-table:begin -->\n"
#define END_MARK "<!-- opcode-table:end -->"

/* Spellings used in the document.  The switches have no default so that
 * -Wswitch flags a new operand kind or class that the doc cannot show. */
static const char *operand_name(enum vfm_operand_kind k)
{
	switch (k) {
	case VFM_OPND_NONE: return "none";
	case VFM_OPND_U8: return "u8";
	case VFM_OPND_U32: return "u32";
	case VFM_OPND_U64: return "u64";
	case VFM_OPND_REL32: return "rel32";
	}
	return "?";
}

static const char *class_name(enum vfm_op_class c)
{
	switch (c) {
	case VFM_CLASS_STACK: return "stack";
	case VFM_CLASS_LOAD: return "load";
	case VFM_CLASS_LOADX: return "loadx";
	case VFM_CLASS_ALU2: return "alu2";
	case VFM_CLASS_ALU1: return "alu1";
	case VFM_CLASS_JMP: return "jmp";
	case VFM_CLASS_JCC: return "jcc";
	case VFM_CLASS_RET: return "ret";
	case VFM_CLASS_SPECIAL: return "special";
	}
	return "?";
}

/* Opcode bytes in opcodes.def order (the document lists rows in that
 * order, which groups them by class, rather than numerically). */
static const uint8_t table_order[] = {
#define VFM_OP(name, code, ...) code,
#include "opcodes.def"
};

/* Render the expected block (malloc'ed). */
static char *render_table(void)
{
	size_t cap = 8192, n = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	n += (size_t)snprintf(out + n, cap - n, "%s\n%s\n",
			      "| Code | Mnemonic | Operand | Pops | Pushes | Class |",
			      "| ---- | -------- | ------- | ---- | ------ | ----- |");
	for (size_t i = 0; i < sizeof table_order; i++) {
		const struct vfm_opinfo *op = &vfm_opinfo[table_order[i]];
		n += (size_t)snprintf(out + n, cap - n, "| 0x%02X | %s | %s | %u | %u | %s |\n",
				      table_order[i], op->mnemonic,
				      operand_name((enum vfm_operand_kind)op->operand),
				      op->pops, op->pushes,
				      class_name((enum vfm_op_class)op->cls));
		assert_true(n < cap);
	}
	return out;
}

static char *read_doc(void)
{
	return ts_read_file(DOC_PATH, NULL);
}

/* The text between the markers (malloc'ed); fails if they are missing. */
static char *doc_block(const char *doc)
{
	const char *b = strstr(doc, BEGIN_MARK);
	if (!b)
		fail_msg("%s: missing line '<!-- opcode-table:begin -->'", DOC_PATH);
	b += strlen(BEGIN_MARK);
	const char *e = strstr(b, END_MARK);
	if (!e)
		fail_msg("%s: missing line '" END_MARK "' after the begin marker", DOC_PATH);
	assert_null(strstr(e + 1, BEGIN_MARK)); /* exactly one table */
	size_t n = (size_t)(e - b);
	char *out = malloc(n + 1);
	assert_non_null(out);
	memcpy(out, b, n);
	out[n] = '\0';
	return out;
}

static void test_table_matches_opcodes_def(void **state)
{
	(void)state;
	char *doc = read_doc();
	char *have = doc_block(doc);
	char *want = render_table();
	if (strcmp(have, want) != 0) {
		/* stderr directly: cmocka's print_error truncates long text. */
		fprintf(stderr,
			"%s: the opcode table is out of date with vm/opcodes.def.\n"
			"Replace the lines between the markers with:\n%s%s%s\n",
			DOC_PATH, BEGIN_MARK, want, END_MARK);
		fail_msg("%s: opcode table differs (expected block printed above)",
			 DOC_PATH);
	}
	free(want);
	free(have);
	free(doc);
}

/* Independently of the exact text: the documented rows name exactly the
 * assigned opcode bytes, each once, with the table's mnemonic. */
static void test_rows_cover_exactly_the_valid_opcodes(void **state)
{
	(void)state;
	char *doc = read_doc();
	char *block = doc_block(doc);
	int seen[256] = {0};
	for (char *line = strtok(block, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned code;
		char mnem[32];
		if (sscanf(line, "| 0x%2x | %31s |", &code, mnem) != 2)
			continue;
		if (!vfm_opinfo[code].valid)
			fail_msg("%s documents unassigned opcode 0x%02X", DOC_PATH, code);
		if (strcmp(mnem, vfm_opinfo[code].mnemonic) != 0)
			fail_msg("%s: opcode 0x%02X is %s, documented as %s", DOC_PATH, code,
				 vfm_opinfo[code].mnemonic, mnem);
		if (seen[code]++)
			fail_msg("%s documents opcode 0x%02X twice", DOC_PATH, code);
	}
	for (unsigned c = 0; c < 256; c++)
		if (vfm_opinfo[c].valid && !seen[c])
			fail_msg("%s does not document opcode 0x%02X (%s)", DOC_PATH, c,
				 vfm_opinfo[c].name);
	free(block);
	free(doc);
}

/* Every mnemonic also has prose outside the table (as `MNEMONIC...`). */
static void test_every_mnemonic_has_prose(void **state)
{
	(void)state;
	char *doc = read_doc();
	char *b = strstr(doc, BEGIN_MARK);
	char *e = strstr(doc, END_MARK);
	assert_non_null(b);
	assert_non_null(e);
	memset(b, ' ', (size_t)(e - b)); /* blank the table out */
	for (unsigned c = 0; c < 256; c++) {
		if (!vfm_opinfo[c].valid)
			continue;
		char needle[40];
		int n = snprintf(needle, sizeof needle, "`%s", vfm_opinfo[c].mnemonic);
		const char *hit = doc;
		/* The mnemonic must end there: `LD8X` does not count for LD8. */
		while ((hit = strstr(hit, needle)) != NULL &&
		       (hit[n] == '_' || (hit[n] >= 'A' && hit[n] <= 'Z') ||
			(hit[n] >= '0' && hit[n] <= '9')))
			hit++;
		if (!hit)
			fail_msg("%s: no prose mentions %s as %s...`", DOC_PATH,
				 vfm_opinfo[c].name, needle);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_opcodes_def),
		cmocka_unit_test(test_rows_cover_exactly_the_valid_opcodes),
		cmocka_unit_test(test_every_mnemonic_has_prose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
