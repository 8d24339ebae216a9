/*
 * fuzz/fuzz_asm.c — libFuzzer target: assembler text round trip.
 *
 * Input: byte 0 flags (bit 0: assemble with debug sections), the rest is
 * assembly text (any bytes; NULs included, the length is explicit).
 *
 * Checked on every input (a failure abort()s):
 *   - vfm_assemble fails cleanly (VFM_EASM or another error with a
 *     non-empty, terminated message, *out NULL) or succeeds;
 *   - on success: vfm_disassemble succeeds; its text re-assembles
 *     (with_debug=0) to a file with the identical code section and no
 *     debug sections; both files load with the same result (same error
 *     code, same verifier pc); the second disassembly equals the first
 *     (minus its "; disassembled from" line).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfm.h"
#include "program.h"

#define FUZZ_NAME "fuzz_asm"
#include "fuzz_common.h"

static const char *skip_source_comment(const char *text)
{
	if (strncmp(text, "; disassembled from ", 20) != 0)
		return text;
	const char *nl = strchr(text, '\n');
	return nl ? nl + 1 : text + strlen(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int debug = size > 0 ? data[0] & 1 : 0;
	const char *src = size > 0 ? (const char *)data + 1 : "";
	size_t src_len = size > 0 ? size - 1 : 0;
	uint8_t *bin = (uint8_t *)0x1;
	size_t bin_len = 0;
	vfm_diag_t diag;
	memset(&diag, 0x5A, sizeof diag);
	vfm_error_t err = vfm_assemble(src, src_len, "fuzz.vfm", debug, &bin, &bin_len, &diag);
	if (err != VFM_OK) {
		CHECK(err == VFM_EASM || err == VFM_ETOOBIG || err == VFM_ENOMEM,
		      "vfm_assemble fails with %s: %s", vfm_error_name(err), diag.message);
		size_t mlen = strnlen(diag.message, sizeof diag.message);
		CHECK(mlen > 0 && mlen < sizeof diag.message, "empty or unterminated message");
		CHECK(diag.code == err, "diag code %d, returned %d", diag.code, err);
		return 0;
	}
	CHECK(bin != NULL && bin != (uint8_t *)0x1 && bin_len >= VFM_HEADER_SIZE,
	      "VFM_OK without an image");
	struct vfm_file f1;
	CHECK(vfm_file_parse(bin, bin_len, &f1, &diag) == VFM_OK,
	      "assembler output does not parse: %s", diag.message);
	CHECK(debug || (f1.n_lines == 0 && f1.source_name == NULL),
	      "with_debug=0 wrote debug sections");

	char *text = NULL;
	err = vfm_disassemble(bin, bin_len, &text, &diag);
	CHECK(err == VFM_OK && text, "assembler output does not disassemble: %s", diag.message);

	uint8_t *bin2 = NULL;
	size_t bin2_len = 0;
	err = vfm_assemble(text, strlen(text), "roundtrip", 0, &bin2, &bin2_len, &diag);
	CHECK(err == VFM_OK, "disassembly does not re-assemble: %s\n--- text ---\n%s",
	      diag.message, text);
	struct vfm_file f2;
	CHECK(vfm_file_parse(bin2, bin2_len, &f2, &diag) == VFM_OK,
	      "re-assembled output does not parse: %s", diag.message);
	CHECK(f2.code_size == f1.code_size && memcmp(f2.code, f1.code, f1.code_size) == 0,
	      "re-assembled code differs (%u vs %u bytes)\n--- text ---\n%s", f2.code_size,
	      f1.code_size, text);
	CHECK(f2.n_lines == 0 && f2.source_name == NULL, "with_debug=0 wrote debug sections");

	/* Same code, same verdict of the loader. */
	vfm_program_t *p1 = NULL, *p2 = NULL;
	vfm_diag_t d1, d2;
	vfm_error_t e1 = vfm_program_create(bin, bin_len, &p1, &d1);
	vfm_error_t e2 = vfm_program_create(bin2, bin2_len, &p2, &d2);
	CHECK(e1 == e2, "original loads with %s (%s), re-assembled with %s (%s)",
	      vfm_error_name(e1), e1 ? d1.message : "", vfm_error_name(e2),
	      e2 ? d2.message : "");
	if (e1 == VFM_EVERIFY)
		CHECK(d1.pc == d2.pc, "verifier rejects at pc %lld, re-assembled at pc %lld",
		      (long long)d1.pc, (long long)d2.pc);
	if (e1 == VFM_OK)
		CHECK(vfm_program_insn_count(p1) == vfm_program_insn_count(p2) &&
			      vfm_program_max_depth(p1) == vfm_program_max_depth(p2),
		      "same code, different programs");
	vfm_program_release(p1);
	vfm_program_release(p2);

	char *text2 = NULL;
	CHECK(vfm_disassemble(bin2, bin2_len, &text2, &diag) == VFM_OK,
	      "re-assembled file does not disassemble: %s", diag.message);
	CHECK(strcmp(skip_source_comment(text), skip_source_comment(text2)) == 0,
	      "disassembly is not stable\n--- first ---\n%s\n--- second ---\n%s", text, text2);
	free(text2);
	free(bin2);
	free(text);
	free(bin);
	return 0;
}

/* Triage: the source text, what the assembler says, the disassembly. */
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out);
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out)
{
	int debug = size > 0 ? data[0] & 1 : 0;
	const char *src = size > 0 ? (const char *)data + 1 : "";
	size_t src_len = size > 0 ? size - 1 : 0;
	fprintf(out, "input: %zu bytes, with_debug=%d\n--- source ---\n", size, debug);
	fwrite(src, 1, src_len, out);
	fprintf(out, "\n--- end ---\n");
	uint8_t *bin = NULL;
	size_t bin_len = 0;
	vfm_diag_t diag;
	vfm_error_t err = vfm_assemble(src, src_len, "fuzz.vfm", debug, &bin, &bin_len, &diag);
	fprintf(out, "assemble: %s%s%s\n", vfm_error_name(err), err ? ": " : "",
		err ? diag.message : "");
	if (err != VFM_OK)
		return;
	vfm_program_t *p = NULL;
	err = vfm_program_create(bin, bin_len, &p, &diag);
	fprintf(out, "load: %s%s%s\n", vfm_error_name(err), err ? ": " : "",
		err ? diag.message : "");
	vfm_program_release(p);
	char *text = NULL;
	if (vfm_disassemble(bin, bin_len, &text, &diag) == VFM_OK)
		fprintf(out, "--- disassembly ---\n%s--- end ---\n", text);
	else
		fprintf(out, "disassembly: %s\n", diag.message);
	free(text);
	free(bin);
}
