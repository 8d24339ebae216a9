/*
 * tests/test_asm.c — assembler and disassembler: literals, error messages
 * (file:line:col), the seed's quick-start filter, golden disassembly, and
 * the asm → dis → asm round trip over the examples and random programs.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program.h"
#include "prng.h"
#include "test_support.h"

/* Assemble without debug sections; returns the file image. */
static uint8_t *assemble_plain(const char *src, size_t *len)
{
	uint8_t *out = NULL;
	vfm_diag_t diag;
	if (vfm_assemble(src, strlen(src), "t.vfm", 0, &out, len, &diag) != VFM_OK)
		fail_msg("assembly failed: %s\n%s", diag.message, src);
	return out;
}

static const uint8_t *code_of(const uint8_t *file, uint32_t *size)
{
	*size = vfm_get_le32(file + 8);
	return file + VFM_HEADER_SIZE;
}

/* ---- literals ---------------------------------------------------------- */

static void expect_push(const char *literal, uint64_t value)
{
	char src[128];
	snprintf(src, sizeof src, "PUSH %s\nRET", literal);
	size_t len;
	uint8_t *bin = assemble_plain(src, &len);
	uint32_t size;
	const uint8_t *code = code_of(bin, &size);
	assert_int_equal(code[0], VFM_OPC_PUSH);
	if (vfm_get_le64(code + 1) != value)
		fail_msg("PUSH %s gave 0x%llx, expected 0x%llx", literal,
			 (unsigned long long)vfm_get_le64(code + 1), (unsigned long long)value);
	free(bin);
}

static void test_literals(void **state)
{
	(void)state;
	expect_push("0", 0);
	expect_push("80", 80);
	expect_push("18446744073709551615", UINT64_MAX);
	expect_push("0x0800", 0x800);
	expect_push("0XfFfF", 0xFFFF);
	expect_push("0xFFFFFFFFFFFFFFFF", UINT64_MAX);
	expect_push("10.0.0.0", 0x0A000000);
	expect_push("192.168.1.255", 0xC0A801FF);
	expect_push("255.255.255.255", 0xFFFFFFFF);
	expect_push("0.0.0.1", 1);
}

static void test_mnemonics_and_layout(void **state)
{
	(void)state;
	/* Case-insensitive mnemonics, labels on their own line or before an
	 * instruction, comments, tabs, CRLF line ends, blank lines. */
	const char *src = "; header comment\r\n\n"
			  "start: ld16 12 ; ethertype\r\n"
			  "\tpush 0x86dd\n"
			  "\tJeq v6\n"
			  "ret 0\n"
			  "v6:\n"
			  "  Ret 1\n";
	size_t len;
	uint8_t *bin = assemble_plain(src, &len);
	uint32_t size;
	const uint8_t *code = code_of(bin, &size);
	assert_int_equal(size, 5 + 9 + 5 + 5 + 5);
	assert_int_equal(code[0], VFM_OPC_LD16);
	assert_int_equal(code[5], VFM_OPC_PUSH);
	assert_int_equal(code[14], VFM_OPC_JEQ);
	assert_int_equal((int32_t)vfm_get_le32(code + 15), 5); /* skip RET 0 */
	assert_int_equal(code[19], VFM_OPC_RETK);
	assert_int_equal(code[24], VFM_OPC_RETK);
	assert_int_equal(vfm_get_le32(code + 25), 1);
	free(bin);
}

/* RET without operand is RET (pop), with operand RET k. */
static void test_ret_forms(void **state)
{
	(void)state;
	size_t len;
	uint8_t *bin = assemble_plain("PUSH 1\nRET\nRET 5", &len);
	uint32_t size;
	const uint8_t *code = code_of(bin, &size);
	assert_int_equal(code[9], VFM_OPC_RET);
	assert_int_equal(code[10], VFM_OPC_RETK);
	free(bin);
}

/* ---- errors ------------------------------------------------------------ */

struct asm_error_case {
	const char *src;
	const char *message; /* full expected message */
};

static const struct asm_error_case error_cases[] = {
	{"FOO 1\nRET", "t.vfm:1:1: unknown instruction 'FOO'"},
	{".linktype\nRET 0", "t.vfm:1:10: .linktype: expected a link-type name"},
	{".linktype EN-10\nRET 0", "t.vfm:1:11: .linktype: expected a link-type name"},
	{".linktype RAW EN10MB\nRET 0", "t.vfm:1:14: .linktype: one name only"},
	{".linktype RAW\n.linktype RAW\nRET 0", "t.vfm:2:1: .linktype given twice"},
	{"RET 1\n  PUSH\n", "t.vfm:2:7: PUSH needs an operand"},
	{"DUP 3\nRET", "t.vfm:1:5: DUP takes no operand"},
	{"JMP nowhere\nRET 0", "t.vfm:1:5: undefined label 'nowhere'"},
	{"a:\nRET 0\na:\nRET 1", "t.vfm:3:1: label 'a' already defined at line 1"},
	{"PUSH 18446744073709551616\nRET", "t.vfm:1:6: number does not fit in 64 bits"},
	{"PUSH 0x10000000000000000\nRET", "t.vfm:1:6: number does not fit in 64 bits"},
	{"PUSH 0x\nRET", "t.vfm:1:6: expected hex digits after 0x"},
	{"PUSH 12abc\nRET", "t.vfm:1:6: unexpected character in number"},
	{"PUSH 256.1.1.1\nRET", "t.vfm:1:6: IPv4 address part above 255"},
	{"PUSH 1.2.3\nRET", "t.vfm:1:6: dotted IPv4 address needs four parts"},
	{"PUSH 1.2.3.4.5\nRET", "t.vfm:1:6: unexpected character in number"},
	{"PUSH -1\nRET", "t.vfm:1:6: expected a number"},
	{"LD8 0x100000000\nRET", "t.vfm:1:5: LD8 operand 4294967296 out of range (0..4294967295)"},
	{"RET 4294967296", "t.vfm:1:5: RET operand 4294967296 out of range (0..4294967295): a verdict is 32 bits"},
	{"LDM 16\nRET", "t.vfm:1:5: LDM operand 16 out of range (0..15)"},
	{"JEQ 12\nRET 0", "t.vfm:1:5: JEQ needs a label operand"},
	{"PUSH 1 2\nRET", "t.vfm:1:8: unexpected text after the operand"},
	{"", "t.vfm:1:1: no instructions: a program needs at least RET"},
	{"; only a comment\n", "t.vfm:1:1: no instructions: a program needs at least RET"},
	{"JMP end\nRET 0\nend:\n", "t.vfm:1:5: label 'end' (line 3) marks the end of the program, not an instruction"},
	{"1abc: RET 0", "t.vfm:1:1: expected a label or an instruction"},
	{"x: 5", "t.vfm:1:4: expected an instruction after the label"},
	{"RET$ 0", "t.vfm:1:4: unexpected character '$' after 'RET'"},
	{".byte 300", "t.vfm:1:7: .byte value 300 above 255"},
	{".byte 1 2", "t.vfm:1:9: .byte: expected ',' or end of line"},
	{".byte", "t.vfm:1:6: .byte: expected a number"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct asm_error_case *c = &error_cases[i];
		uint8_t *out = (uint8_t *)1;
		size_t len = 99;
		vfm_diag_t diag;
		vfm_error_t err = vfm_assemble(c->src, strlen(c->src), "t.vfm", 1, &out, &len, &diag);
		if (err != VFM_EASM)
			fail_msg("case %zu (%s): expected an assembly error, got %s", i, c->src,
				 vfm_error_name(err));
		assert_null(out);
		if (strncmp(diag.message, c->message, strlen(c->message)) != 0)
			fail_msg("case %zu: got '%s', expected '%s'", i, diag.message, c->message);
	}
}

static void test_nul_and_null(void **state)
{
	(void)state;
	uint8_t *out;
	size_t len;
	vfm_diag_t diag;
	assert_int_equal(vfm_assemble("RET\0 0", 6, "t", 1, &out, &len, &diag), VFM_EASM);
	assert_non_null(strstr(diag.message, "NUL byte"));
	assert_int_equal(vfm_assemble(NULL, 0, "t", 1, &out, &len, &diag), VFM_EINVAL);
	assert_int_equal(vfm_assemble("RET 0", 5, "t", 1, NULL, &len, &diag), VFM_EINVAL);
	assert_int_equal(vfm_assemble("RET 0", 5, NULL, 1, &out, &len, NULL), VFM_OK);
	free(out);
}

/* ---- the seed's quick start and golden disassembly --------------------- */

static char *read_text(const char *path)
{
	return ts_read_file(path, NULL);
}

static void test_quickstart_exact(void **state)
{
	(void)state;
	/* The seed README's filter, exactly as printed there. */
	static const uint8_t want[] = {
		0x11, 12, 0, 0, 0,                       /* LD16 12 */
		0x01, 0x00, 0x08, 0, 0, 0, 0, 0, 0,      /* PUSH 0x0800 */
		0x32, 38, 0, 0, 0,                       /* JNE reject (+38) */
		0x10, 23, 0, 0, 0,                       /* LD8 23 */
		0x01, 6, 0, 0, 0, 0, 0, 0, 0,            /* PUSH 6 */
		0x32, 19, 0, 0, 0,                       /* JNE reject (+19) */
		0x11, 36, 0, 0, 0,                       /* LD16 36 */
		0x01, 80, 0, 0, 0, 0, 0, 0, 0,           /* PUSH 80 */
		0x31, 5, 0, 0, 0,                        /* JEQ accept (+5) */
		0x39, 0, 0, 0, 0,                        /* reject: RET 0 */
		0x39, 1, 0, 0, 0,                        /* accept: RET 1 */
	};
	char *src = read_text("examples/quickstart.vfm");
	size_t len;
	uint8_t *bin = assemble_plain(src, &len);
	uint32_t size;
	const uint8_t *code = code_of(bin, &size);
	assert_int_equal(size, sizeof want);
	assert_memory_equal(code, want, sizeof want);
	free(bin);
	free(src);
}

static void test_golden_disassembly(void **state)
{
	(void)state;
	char *src = read_text("examples/quickstart.vfm");
	size_t len;
	uint8_t *bin;
	assert_int_equal(vfm_assemble(src, strlen(src), "examples/quickstart.vfm", 1, &bin,
				      &len, NULL),
			 VFM_OK);
	char *text;
	assert_int_equal(vfm_disassemble(bin, len, &text, NULL), VFM_OK);
	char *golden = read_text("tests/golden/quickstart.dis");
	if (strcmp(text, golden) != 0)
		fail_msg("disassembly differs from tests/golden/quickstart.dis; got:\n%s", text);
	free(golden);
	free(text);
	free(bin);
	free(src);
}

/* ---- round trip ---------------------------------------------------------- */

/* asm(src) == asm(dis(asm(src))), byte for byte, without debug sections. */
static void round_trip(const char *name, const char *src)
{
	size_t len1, len2;
	uint8_t *bin1 = assemble_plain(src, &len1);
	char *text;
	vfm_diag_t diag;
	if (vfm_disassemble(bin1, len1, &text, &diag) != VFM_OK)
		fail_msg("%s: disassembly failed: %s", name, diag.message);
	uint8_t *bin2 = assemble_plain(text, &len2);
	if (len1 != len2 || memcmp(bin1, bin2, len1) != 0)
		fail_msg("%s: round trip differs\n--- source ---\n%s\n--- disassembly ---\n%s",
			 name, src, text);
	free(bin1);
	free(bin2);
	free(text);
}

/* .linktype: a section that survives --no-debug and the round trip. */
static void test_linktype_directive(void **state)
{
	(void)state;
	const char *src = "; for Linux cooked captures\n.linktype LINUX_SLL ; comment\nRET 1\n";
	size_t len;
	uint8_t *bin = assemble_plain(src, &len);
	vfm_program_t *prog;
	assert_int_equal(vfm_program_create(bin, len, &prog, NULL), VFM_OK);
	assert_string_equal(vfm_program_linktype(prog), "LINUX_SLL");
	vfm_program_release(prog);
	char *text;
	assert_int_equal(vfm_disassemble(bin, len, &text, NULL), VFM_OK);
	assert_non_null(strstr(text, ".linktype LINUX_SLL\n"));
	free(text);
	free(bin);
	round_trip("linktype", src);
	bin = assemble_plain("RET 1", &len);
	assert_int_equal(vfm_program_create(bin, len, &prog, NULL), VFM_OK);
	assert_null(vfm_program_linktype(prog));
	vfm_program_release(prog);
	free(bin);
}

static void test_round_trip_examples(void **state)
{
	(void)state;
	DIR *d = opendir("examples");
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".vfm") != 0)
			continue;
		char path[512];
		snprintf(path, sizeof path, "examples/%s", e->d_name);
		char *src = read_text(path);
		round_trip(path, src);
		free(src);
		n++;
	}
	closedir(d);
	assert_true(n >= 1);
}

static uint64_t rng_state = 0x853C49E6748FEA9Bu;
static uint64_t rnd(void)
{
	return prng_xorshift64(&rng_state);
}

/* Random programs over every opcode with random operands and labels, plus
 * raw bytes: the round trip must hold whether or not they verify. */
static void test_round_trip_random(void **state)
{
	(void)state;
	int opcodes[256], n_ops = 0;
	for (int op = 0; op < 256; op++)
		if (vfm_opinfo[op].valid)
			opcodes[n_ops++] = op;
	for (int prog = 0; prog < 500; prog++) {
		int n = 1 + (int)(rnd() % 40);
		size_t cap = (size_t)n * 64 + 64;
		char *src = malloc(cap), *p = src;
		assert_non_null(src);
		for (int i = 0; i < n; i++) {
			if (rnd() % 4 == 0)
				p += sprintf(p, "r%d:\n", i);
			if (rnd() % 16 == 0) {
				p += sprintf(p, ".byte %u, %u\n", (unsigned)(rnd() % 256),
					     (unsigned)(rnd() % 256));
				continue;
			}
			const struct vfm_opinfo *info = &vfm_opinfo[opcodes[rnd() % (uint64_t)n_ops]];
			uint64_t v = rnd();
			switch ((enum vfm_operand_kind)info->operand) {
			case VFM_OPND_NONE:
				p += sprintf(p, "%s\n", info->mnemonic);
				break;
			case VFM_OPND_U8:
				p += sprintf(p, "%s %u\n", info->mnemonic, (unsigned)(v % 16));
				break;
			case VFM_OPND_U32:
				p += sprintf(p, "%s %u\n", info->mnemonic, (unsigned)(v >> (rnd() % 33)));
				break;
			case VFM_OPND_U64:
				p += sprintf(p, "%s %llu\n", info->mnemonic,
					     (unsigned long long)(v >> (rnd() % 64)));
				break;
			case VFM_OPND_REL32:
				/* "end" is always defined below. */
				p += sprintf(p, "%s end\n", info->mnemonic);
				break;
			}
		}
		sprintf(p, "end:\nRET 0\n");
		char name[32];
		snprintf(name, sizeof name, "random #%d", prog);
		round_trip(name, src);
		free(src);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_mnemonics_and_layout),
		cmocka_unit_test(test_ret_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_and_null),
		cmocka_unit_test(test_quickstart_exact),
		cmocka_unit_test(test_golden_disassembly),
		cmocka_unit_test(test_linktype_directive),
		cmocka_unit_test(test_round_trip_examples),
		cmocka_unit_test(test_round_trip_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
