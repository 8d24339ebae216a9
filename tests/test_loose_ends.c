/*
 * tests/test_loose_ends.c — regressions for the loose ends of issue 15:
 *   - file-format errors come in the order docs/ISA.md section 10 states:
 *     a corrupt section followed by a truncated one is VFM_ETRUNCATED
 *     (truncation comes before any section's contents);
 *   - a label after the last instruction is rejected by the assembler
 *     (docs/ISA.md section 12: a label must mark an instruction).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"
#include "../vm/program.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Header, code = RET 1, then `sections` raw bytes claimed as n sections. */
static size_t image(uint8_t *buf, uint32_t n_sections, const uint8_t *sections, size_t slen)
{
	size_t code = 5; /* RET k: opcode + u32 */
	memset(buf, 0, VFM_HEADER_SIZE);
	memcpy(buf, "\x7FVFM", 4);
	put16(buf + 4, 1);
	put16(buf + 6, VFM_HEADER_SIZE);
	put32(buf + 8, (uint32_t)code);
	put32(buf + 12, n_sections);
	size_t len;
	uint8_t *img = ts_assemble("RET 1\n", &len);
	/* The assembled file's code starts after its header. */
	memcpy(buf + VFM_HEADER_SIZE, img + VFM_HEADER_SIZE, code);
	free(img);
	memcpy(buf + VFM_HEADER_SIZE + code, sections, slen);
	size_t total = VFM_HEADER_SIZE + code + slen;
	put32(buf + 16, vfm_crc32(buf + VFM_HEADER_SIZE, total - VFM_HEADER_SIZE));
	return total;
}

static void test_corrupt_then_truncated(void **state)
{
	(void)state;
	uint8_t sec[16] = {0};
	/* Section 1: source name, reserved field 1 (corrupt), size 0. */
	put16(sec, 2);
	put16(sec + 2, 1);
	put32(sec + 4, 0);
	/* Section 2: unknown type, claims 100 bytes, none present. */
	put16(sec + 8, 99);
	put32(sec + 12, 100);
	uint8_t buf[128];
	size_t len = image(buf, 2, sec, sizeof sec);
	vfm_program_t *p = NULL;
	vfm_diag_t d;
	assert_int_equal(vfm_program_create(buf, len, &p, &d), VFM_ETRUNCATED);
	assert_non_null(strstr(d.message, "section 2"));
	/* Without the truncated section, the corrupt one is reported. */
	len = image(buf, 1, sec, 8);
	assert_int_equal(vfm_program_create(buf, len, &p, &d), VFM_ECORRUPT);
	assert_non_null(strstr(d.message, "section 1"));
	/* And both well-formed: the file loads. */
	put16(sec + 2, 0);
	len = image(buf, 1, sec, 8);
	assert_int_equal(vfm_program_create(buf, len, &p, &d), VFM_OK);
	vfm_program_release(p);
}

static void test_label_after_last_insn(void **state)
{
	(void)state;
	uint8_t *out = NULL;
	size_t len;
	vfm_diag_t d;
	const char *src = "PUSH 1\nJEQ end\nRET 1\nend:\n";
	vfm_error_t err = vfm_assemble(src, strlen(src), "t.vfm", 1, &out, &len, &d);
	assert_int_not_equal(err, VFM_OK);
	assert_null(out);
	print_message("  %s\n", d.message);
	assert_non_null(strstr(d.message, "end"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corrupt_then_truncated),
		cmocka_unit_test(test_label_after_last_insn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
