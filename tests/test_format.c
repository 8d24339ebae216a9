/*
 * tests/test_format.c — malformed, truncated, corrupt and other-version
 * bytecode files are refused with the right code and a message naming the
 * offending field; never a crash.
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

static const char *quick =
	"LD16 12\nPUSH 0x800\nJNE r\nLD8 23\nPUSH 6\nJNE r\nLD16 36\nPUSH 80\nJEQ a\n"
	"r:\nRET 0\na:\nRET 1\n";

/* Rewrite the header CRC after a deliberate edit. */
static void fix_crc(uint8_t *file, size_t len)
{
	vfm_put_le32(file + 16, vfm_crc32(file + VFM_HEADER_SIZE, len - VFM_HEADER_SIZE));
}

static void expect_refused(const uint8_t *file, size_t len, vfm_error_t code,
			   const char *needle)
{
	vfm_program_t *prog = (vfm_program_t *)1;
	vfm_diag_t diag;
	vfm_error_t err = vfm_program_create(file, len, &prog, &diag);
	if (err != code)
		fail_msg("expected %s, got %s (%s)", vfm_error_name(code), vfm_error_name(err),
			 err ? diag.message : "");
	assert_null(prog);
	if (needle && !strstr(diag.message, needle))
		fail_msg("message '%s' lacks '%s'", diag.message, needle);
}

static void test_valid_file_loads(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = ts_assemble(quick, &len);
	vfm_program_t *prog;
	assert_int_equal(vfm_program_create(file, len, &prog, NULL), VFM_OK);
	assert_int_equal(vfm_program_insn_count(prog), 11);
	assert_int_equal(vfm_program_code_size(prog), 67);
	assert_true(vfm_program_memory(prog) > 67);
	vfm_program_release(prog);
	free(file);
}

/* Every proper prefix of a valid file is refused (mostly as truncated),
 * and no prefix crashes or is accepted. */
static void test_every_truncation(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = ts_assemble(quick, &len);
	for (size_t n = 0; n < len; n++) {
		/* Copy to an exact-size buffer so ASan sees any over-read. */
		uint8_t *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, file, n);
		vfm_program_t *prog;
		vfm_diag_t diag;
		vfm_error_t err = vfm_program_create(cut, n, &prog, &diag);
		if (err == VFM_OK)
			fail_msg("prefix of %zu/%zu bytes accepted", n, len);
		assert_true(err == VFM_ETRUNCATED || err == VFM_ECORRUPT);
		assert_true(strlen(diag.message) > 0);
		free(cut);
	}
	free(file);
}

static void test_header_fields(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = ts_assemble(quick, &len);
	uint8_t *f = malloc(len + 16);
	assert_non_null(f);

	expect_refused(file, 0, VFM_ETRUNCATED, "shorter than the magic");
	expect_refused(file, 10, VFM_ETRUNCATED, "header truncated: 10 of 24 bytes");

	memcpy(f, file, len);
	f[1] = 'X';
	expect_refused(f, len, VFM_EMAGIC, "bad magic");

	memcpy(f, file, len);
	vfm_put_le16(f + 4, 2);
	expect_refused(f, len, VFM_EVERSION, "format version 2, this library reads version 1");
	vfm_put_le16(f + 4, 0);
	expect_refused(f, len, VFM_EVERSION, "format version 0");
	/* A short file of another version is "other version", not truncated:
	 * its header may well be shorter than ours. */
	vfm_put_le16(f + 4, 2);
	expect_refused(f, 8, VFM_EVERSION, "format version 2");

	memcpy(f, file, len);
	vfm_put_le16(f + 6, 32);
	expect_refused(f, len, VFM_ECORRUPT, "header size field is 32");

	memcpy(f, file, len);
	vfm_put_le32(f + 20, 1);
	expect_refused(f, len, VFM_ECORRUPT, "reserved header field");

	memcpy(f, file, len);
	vfm_put_le32(f + 8, 0);
	fix_crc(f, len);
	expect_refused(f, len, VFM_ECORRUPT, "code size is 0");

	memcpy(f, file, len);
	vfm_put_le32(f + 8, 0xFFFFFFFFu);
	expect_refused(f, len, VFM_ETOOBIG, "exceeds the limit");

	memcpy(f, file, len);
	vfm_put_le32(f + 8, (uint32_t)len);
	expect_refused(f, len, VFM_ETRUNCATED, "code section truncated");

	memcpy(f, file, len);
	vfm_put_le32(f + 12, 7);
	fix_crc(f, len);
	expect_refused(f, len, VFM_ETRUNCATED, "section 3 of 7: header truncated");

	free(f);
	free(file);
}

static void test_checksum(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = ts_assemble(quick, &len);
	/* Flip each bit after the header: always refused, never a crash.
	 * (A flip inside the code alone is caught by the CRC.) */
	for (size_t i = VFM_HEADER_SIZE; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			file[i] ^= (uint8_t)(1u << b);
			vfm_program_t *prog;
			vfm_diag_t diag;
			vfm_error_t err = vfm_program_create(file, len, &prog, &diag);
			if (err == VFM_OK)
				fail_msg("bit %d of byte %zu flipped: accepted", b, i);
			file[i] ^= (uint8_t)(1u << b);
		}
	}
	file[VFM_HEADER_SIZE + 1] ^= 1;
	expect_refused(file, len, VFM_ECORRUPT, "checksum mismatch");
	free(file);
}

static void test_sections(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = ts_assemble(quick, &len);
	uint32_t code_size = vfm_get_le32(file + 8);
	size_t sec = VFM_HEADER_SIZE + code_size; /* first section: line table */
	uint8_t *f = malloc(len + 64);
	assert_non_null(f);

	/* Trailing garbage. */
	memcpy(f, file, len);
	f[len] = 0;
	fix_crc(f, len + 1);
	expect_refused(f, len + 1, VFM_ECORRUPT, "1 unexpected bytes after the last section");

	/* Section size past the end. */
	memcpy(f, file, len);
	vfm_put_le32(f + sec + 4, 100000);
	fix_crc(f, len);
	expect_refused(f, len, VFM_ETRUNCATED, "section 1 (type 1): size 100000");

	/* Line table not a multiple of 8. */
	memcpy(f, file, len);
	uint32_t lsize = vfm_get_le32(f + sec + 4);
	vfm_put_le32(f + sec + 4, lsize - 4);
	vfm_put_le32(f + 12, 1); /* drop the source-name section */
	fix_crc(f, sec + 8 + lsize - 4);
	expect_refused(f, sec + 8 + lsize - 4, VFM_ECORRUPT, "not a multiple of 8");

	/* Line table out of order. */
	memcpy(f, file, len);
	vfm_put_le32(f + sec + 8 + 8, 0); /* second entry's pc = 0 */
	fix_crc(f, len);
	expect_refused(f, len, VFM_ECORRUPT, "line table entry 1");

	/* Reserved section field. */
	memcpy(f, file, len);
	vfm_put_le16(f + sec + 2, 1);
	fix_crc(f, len);
	expect_refused(f, len, VFM_ECORRUPT, "reserved field");

	/* An unknown section type is skipped: the file still loads. */
	memcpy(f, file, len);
	vfm_put_le16(f + len, 0x7777);
	vfm_put_le16(f + len + 2, 0);
	vfm_put_le32(f + len + 4, 3);
	memcpy(f + len + 8, "abc", 3);
	vfm_put_le32(f + 12, vfm_get_le32(f + 12) + 1);
	fix_crc(f, len + 11);
	vfm_program_t *prog;
	vfm_diag_t diag;
	assert_int_equal(vfm_program_create(f, len + 11, &prog, &diag), VFM_OK);
	vfm_program_release(prog);

	free(f);
	free(file);
}

/* vfm_file_write and vfm_file_parse agree, including the debug sections. */
static void test_write_parse(void **state)
{
	(void)state;
	const uint8_t code[] = {VFM_OPC_RETK, 1, 0, 0, 0};
	const struct vfm_line lines[] = {{0, 42}};
	uint8_t *file;
	size_t len;
	assert_int_equal(vfm_file_write(code, sizeof code, lines, 1, "x.vfm", NULL, &file, &len), VFM_OK);
	struct vfm_file parsed;
	assert_int_equal(vfm_file_parse(file, len, &parsed, NULL), VFM_OK);
	assert_int_equal(parsed.code_size, sizeof code);
	assert_memory_equal(parsed.code, code, sizeof code);
	assert_int_equal(parsed.n_lines, 1);
	assert_int_equal(parsed.source_name_len, 5);
	assert_memory_equal(parsed.source_name, "x.vfm", 5);
	assert_null(parsed.linktype);
	free(file);

	/* The link-type section, and what a loaded program says of it. */
	assert_int_equal(vfm_file_write(code, sizeof code, NULL, 0, NULL, "LINUX_SLL", &file, &len),
			 VFM_OK);
	assert_int_equal(vfm_file_parse(file, len, &parsed, NULL), VFM_OK);
	assert_int_equal(parsed.linktype_len, 9);
	assert_memory_equal(parsed.linktype, "LINUX_SLL", 9);
	vfm_program_t *prog;
	assert_int_equal(vfm_program_create(file, len, &prog, NULL), VFM_OK);
	assert_string_equal(vfm_program_linktype(prog), "LINUX_SLL");
	vfm_program_release(prog);
	free(file);
	assert_int_equal(vfm_file_write(code, sizeof code, NULL, 0, NULL, "EN10MB", &file, &len),
			 VFM_OK);
	/* A second link-type section, or one that is not a name: corrupt. */
	uint8_t *f = malloc(len + 16);
	assert_non_null(f);
	memcpy(f, file, len);
	memcpy(f + len, file + len - 14, 14); /* the section again */
	vfm_put_le32(f + 12, 2);
	fix_crc(f, len + 14);
	expect_refused(f, len + 14, VFM_ECORRUPT, "link-type section");
	memcpy(f, file, len);
	f[len - 1] = '-'; /* "EN10M-" */
	fix_crc(f, len);
	expect_refused(f, len, VFM_ECORRUPT, "link-type section");
	free(f);
	free(file);
	assert_int_equal(vfm_file_write(code, sizeof code, NULL, 0, NULL, "bad name", &file, &len),
			 VFM_EINVAL);
}

static void test_file_errors(void **state)
{
	(void)state;
	vfm_program_t *prog;
	vfm_diag_t diag;
	assert_int_equal(vfm_program_create_file("/nonexistent/dir/f.bin", &prog, &diag), VFM_EIO);
	assert_non_null(strstr(diag.message, "/nonexistent/dir/f.bin"));
	assert_int_equal(vfm_program_create_file("examples/quickstart.vfm", &prog, &diag),
			 VFM_EMAGIC);
	assert_non_null(strstr(diag.message, "examples/quickstart.vfm: bad magic"));
	assert_int_equal(vfm_program_create(NULL, 0, &prog, &diag), VFM_EINVAL);
	assert_int_equal(vfm_program_create((const uint8_t *)"", 0, NULL, &diag), VFM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_file_loads),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_write_parse),
		cmocka_unit_test(test_file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
