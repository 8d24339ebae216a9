/*
 * fuzz/fuzz_load.c — libFuzzer target: raw bytes → loader and verifier,
 * executing whatever is accepted.
 *
 * Input format (fuzz/README.md):
 *
 *   byte 0     flags
 *                bits 0-1  mode  0 file image, CRC-32 patched
 *                                1 file image as is (reaches the CRC check)
 *                                2 bytes are the code section, wrapped in a
 *                                  valid header (the verifier's mode)
 *                                3 [u16 code size][code][raw sections]: the
 *                                  header is filled in (sizes, section
 *                                  count, CRC), the sections are raw
 *                bits 2-4  budget: 0 default, else 0,1,2,5,16,100,1000
 *                bits 5-6  flow capacity: 4, 8, 64, default
 *                bit  7    also run the canned packets (Ethernet/IP)
 *   bytes 1-2  little-endian u16: bits 0-12 program length P (clipped to
 *              what remains); bits 13-15 extras:
 *                mode 2: bit 13 add a line table (one entry per
 *                        instruction), bit 14 add a source name, bit 15
 *                        line numbers near 2^32
 *                mode 3: bit 13 claim one section more than present
 *   P bytes    program (see mode)
 *   rest       packets: repeated [u8 length][length bytes], at most
 *              FUZZ_MAX_PACKETS; the last one takes what remains
 *
 * Every input is also disassembled; whatever disassembles must re-assemble
 * to the same code section and verify the same way.  Each packet is copied
 * into its own exact-size heap block, so that ASan sees any read past it.
 *
 * Invariants are checked with CHECK(), which prints and abort()s: libFuzzer
 * then saves the input.  Known, reported library bugs can be skipped while
 * fuzzing for new ones with VFM_FUZZ_KNOWN=name,name (see known_enabled()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfm.h"
#include "program.h"
#include "../verifier/verifier.h"
#include "state.h"

#define FUZZ_NAME "fuzz_load"
#include "fuzz_common.h"

/* ---- Input decoding ---------------------------------------------------- */

struct fuzz_input {
	unsigned mode;
	unsigned extras;        /* bits 13-15 of the length field */
	uint32_t budget;
	int budget_default;
	uint32_t flow_capacity; /* 0 = default */
	int canned;
	uint8_t *prog;          /* malloc'ed file image to load */
	size_t prog_len;
	const uint8_t *pkt_data; /* aliases the input */
	size_t pkt_len;
};

static const uint32_t budgets[8] = {VFM_DEFAULT_BUDGET, 0, 1, 2, 5, 16, 100, 1000};
static const uint32_t capacities[4] = {4, 8, 64, 0};

/* Instruction starts up to the first byte that is not one (as the
 * disassembler walks): used to build a valid line table in mode 2. */
static uint32_t insn_starts(const uint8_t *code, uint32_t size, uint32_t *pcs,
			    uint32_t max)
{
	uint32_t n = 0;
	for (uint32_t pc = 0; pc < size && n < max;) {
		if (!vfm_opinfo[code[pc]].valid)
			break;
		unsigned isz = vfm_insn_size(code[pc]);
		if (isz > size - pc)
			break;
		pcs[n++] = pc;
		pc += isz;
	}
	return n;
}

/* Mode 2: the code in a valid file, with debug sections on request. */
static int wrap_code(const uint8_t *code, size_t p, unsigned extras,
		     struct fuzz_input *in)
{
	struct vfm_line *lines = NULL;
	uint32_t n_lines = 0;
	if ((extras & 1u) && p > 0) {
		uint32_t *pcs = malloc(p * sizeof *pcs);
		lines = malloc(p * sizeof *lines);
		if (!pcs || !lines) {
			free(pcs);
			free(lines);
			return -1;
		}
		n_lines = insn_starts(code, (uint32_t)p, pcs, (uint32_t)p);
		uint32_t base = (extras & 4u) ? UINT32_MAX - n_lines : 1;
		for (uint32_t i = 0; i < n_lines; i++)
			lines[i] = (struct vfm_line){pcs[i], base + i};
		free(pcs);
	}
	vfm_error_t err = vfm_file_write(code, (uint32_t)p, lines, n_lines,
					 (extras & 2u) ? "fuzz.vfm" : NULL,
					 (extras & 6u) == 6u ? "EN10MB" : NULL, &in->prog,
					 &in->prog_len);
	free(lines);
	return err == VFM_OK ? 0 : -1;
}

/* Mode 3: [u16 code size][code][sections], header filled in. */
static int frame_sections(const uint8_t *b, size_t p, unsigned extras,
			  struct fuzz_input *in)
{
	size_t code_size = p >= 2 ? (size_t)(b[0] | b[1] << 8) : 0;
	b += p >= 2 ? 2 : p;
	p -= p >= 2 ? 2 : p;
	if (code_size > p)
		code_size = p;
	/* Count the sections the way a reader walks them; a partial one at
	 * the end counts too, so the reader meets it. */
	uint32_t n_sections = 0;
	for (size_t pos = code_size; pos < p; n_sections++) {
		if (p - pos < VFM_SECTION_HEADER_SIZE)
			break;
		uint32_t sz = vfm_get_le32(b + pos + 4);
		pos += VFM_SECTION_HEADER_SIZE;
		pos += sz < p - pos ? sz : p - pos;
	}
	if (extras & 1u)
		n_sections++;
	in->prog_len = VFM_HEADER_SIZE + p;
	in->prog = calloc(1, in->prog_len);
	if (!in->prog)
		return -1;
	memcpy(in->prog, vfm_magic, 4);
	vfm_put_le16(in->prog + 4, VFM_FORMAT_VERSION);
	vfm_put_le16(in->prog + 6, VFM_HEADER_SIZE);
	vfm_put_le32(in->prog + 8, (uint32_t)code_size);
	vfm_put_le32(in->prog + 12, n_sections);
	memcpy(in->prog + VFM_HEADER_SIZE, b, p);
	vfm_put_le32(in->prog + 16, vfm_crc32(in->prog + VFM_HEADER_SIZE, p));
	return 0;
}

/* Build the file image the input describes.  Returns 0, or -1 on OOM. */
static int decode_input(const uint8_t *data, size_t size, struct fuzz_input *in)
{
	memset(in, 0, sizeof *in);
	struct fuzz_frame fr;
	fuzz_frame_split(data, size, 0x1FFFu, &fr);
	uint8_t flags = fr.flags;
	const uint8_t *body = fr.prog;
	size_t p = fr.prog_len;
	unsigned extras = fr.field >> 13;
	in->extras = extras;
	in->mode = flags & 3u;
	in->budget = budgets[(flags >> 2) & 7u];
	in->budget_default = ((flags >> 2) & 7u) == 0;
	in->flow_capacity = capacities[(flags >> 5) & 3u];
	in->canned = (flags >> 7) & 1u;
	in->pkt_data = fr.pkts;
	in->pkt_len = fr.pkts_len;

	switch (in->mode) {
	case 2:
		return wrap_code(body, p, extras, in);
	case 3:
		return frame_sections(body, p, extras, in);
	default:
		in->prog = malloc(p ? p : 1);
		if (!in->prog)
			return -1;
		memcpy(in->prog, body, p);
		in->prog_len = p;
		if (in->mode == 0 && p >= VFM_HEADER_SIZE)
			vfm_put_le32(in->prog + 16,
				     vfm_crc32(in->prog + VFM_HEADER_SIZE, p - VFM_HEADER_SIZE));
		return 0;
	}
}

/* The input's packets, then (on request, or when it has none) the canned
 * frames and one empty packet (fuzz_common.h). */
static int cut_packets(const struct fuzz_input *in, struct fuzz_packets *ps)
{
	if (fuzz_cut_packets(ps, in->pkt_data, in->pkt_len, 0, FUZZ_EMPTY_ALTERNATE) != 0)
		return -1;
	if (in->canned || ps->n == 0) {
		if (fuzz_add_canned(ps, FUZZ_EMPTY_ALTERNATE) != 0)
			return -1;
		if (fuzz_add_packet(ps, NULL, 0, 0, FUZZ_EMPTY_ALTERNATE) != 0) {
			fuzz_free_packets(ps);
			return -1;
		}
	}
	return 0;
}

/* ---- Known bugs -------------------------------------------------------- */

/*
 * While a reported bug is unfixed, fuzzing for new ones would stop at it
 * over and over.  VFM_FUZZ_KNOWN lists bugs (by name) whose exact trigger
 * is skipped; each predicate matches only that root cause, so other
 * failures of the same check still abort.
 */
static int known_enabled(const char *name)
{
	const char *list = getenv("VFM_FUZZ_KNOWN");
	if (!list)
		return 0;
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

/* Disassembly names a source containing a newline: the name leaks out of
 * its comment line into the assembly. */
static int known_source_newline(const struct vfm_file *f)
{
	return known_enabled("dis-source-newline") && f->source_name &&
	       memchr(f->source_name, '\n', f->source_name_len) != NULL;
}

/* ---- Checks ------------------------------------------------------------- */

static int valid_load_error(vfm_error_t e)
{
	switch (e) {
	case VFM_EMAGIC: case VFM_EVERSION: case VFM_ETRUNCATED:
	case VFM_ECORRUPT: case VFM_EVERIFY: case VFM_ETOOBIG:
		return 1;
	default:
		return 0;
	}
}

static void check_diag(vfm_error_t err, const vfm_diag_t *d, uint32_t code_size)
{
	CHECK(valid_load_error(err), "unexpected load error %d (%s): %s", err,
	      vfm_error_name(err), d->message);
	CHECK(d->code == err, "diag code %d, returned %d", d->code, err);
	size_t mlen = strnlen(d->message, sizeof d->message);
	CHECK(mlen > 0 && mlen < sizeof d->message, "empty or unterminated message");
	if (err == VFM_EVERIFY)
		CHECK(d->pc >= 0 && d->pc < (int64_t)code_size,
		      "verifier rejection names pc %lld outside the code (size %u): %s",
		      (long long)d->pc, code_size, d->message);
	else
		CHECK(d->pc == -1, "file error names pc %lld: %s", (long long)d->pc,
		      d->message);
}

static void check_result(const vfm_result_t *r, uint64_t bound, int has_backward)
{
	CHECK(r->status == VFM_STATUS_OK || r->status == VFM_STATUS_BOUNDS ||
		      r->status == VFM_STATUS_BUDGET,
	      "status %d", (int)r->status);
	CHECK(r->status == VFM_STATUS_OK || r->verdict == 0,
	      "verdict %u with status %s", r->verdict, vfm_status_name(r->status));
	CHECK(r->insns >= 1, "executed %llu instructions", (unsigned long long)r->insns);
	/* Between two backward jumps the pc only grows, so at most n_insns
	 * instructions run per budget unit (plus the first stretch). */
	CHECK(r->insns <= bound, "executed %llu instructions, bound %llu",
	      (unsigned long long)r->insns, (unsigned long long)bound);
	CHECK(r->status != VFM_STATUS_BUDGET || has_backward,
	      "BUDGET status without a backward jump");
}

static void check_flow(const vfm_state_t *a, const vfm_state_t *b)
{
	vfm_flow_stats_t sa, sb;
	CHECK(vfm_flow_stats(a, &sa) == VFM_OK && vfm_flow_stats(b, &sb) == VFM_OK,
	      "vfm_flow_stats failed");
	CHECK(memcmp(&sa, &sb, sizeof sa) == 0,
	      "flow stats differ between batch and one-by-one execution");
	CHECK(sa.entries <= sa.capacity, "%llu entries, capacity %llu",
	      (unsigned long long)sa.entries, (unsigned long long)sa.capacity);
	CHECK(sa.inserts == sa.entries + sa.evictions,
	      "inserts %llu != entries %llu + evictions %llu",
	      (unsigned long long)sa.inserts, (unsigned long long)sa.entries,
	      (unsigned long long)sa.evictions);
	static struct fuzz_flow_dump da, db;
	fuzz_flow_dump(a, &da, 256);
	fuzz_flow_dump(b, &db, 256);
	CHECK(da.total == sa.entries, "foreach visits %zu entries, stats say %llu",
	      da.total, (unsigned long long)sa.entries);
	CHECK(da.n == db.n && memcmp(da.key, db.key, da.n * sizeof da.key[0]) == 0 &&
		      memcmp(da.value, db.value, da.n * sizeof da.value[0]) == 0,
	      "flow tables differ between batch and one-by-one execution");
	for (size_t i = 0; i < da.n; i++) {
		uint64_t v = ~da.value[i];
		CHECK(vfm_flow_peek(a, da.key[i], &v) == 1 && v == da.value[i],
		      "peek of key 0x%llx disagrees with foreach",
		      (unsigned long long)da.key[i]);
		for (size_t j = 0; j < i; j++)
			CHECK(da.key[j] != da.key[i], "key 0x%llx stored twice",
			      (unsigned long long)da.key[i]);
	}
	vfm_flow_stats_t after;
	vfm_flow_stats(a, &after);
	CHECK(memcmp(&after, &sa, sizeof sa) == 0, "vfm_flow_peek changed the stats");
}

#include "ref_interp.h"

/* ---- Execution ---------------------------------------------------------- */

static void run_program(vfm_program_t *prog, const struct fuzz_input *in)
{
	uint32_t n = vfm_program_insn_count(prog);
	CHECK(n >= 1, "accepted program with %u instructions", n);
	CHECK(vfm_program_max_depth(prog) <= 256, "max depth %u",
	      vfm_program_max_depth(prog));
	CHECK(vfm_program_memory(prog) > 0, "program memory 0");

	vfm_config_t cfg = {.flow_capacity = in->flow_capacity, .budget = in->budget,
			    .budget_set = 1};
	/* The default budget only for small programs: a 4000-instruction
	 * loop body times 65536 would make one input take seconds. */
	if (in->budget_default && n > 32)
		cfg.budget = 1000;
	int has_backward = vfm_facts_has_backward(prog);
	uint64_t bound = has_backward ? ((uint64_t)cfg.budget + 1) * n : n;

	struct fuzz_packets ps;
	if (cut_packets(in, &ps) != 0)
		return;
	size_t count = fuzz_packets_within(bound, ps.n);

	vfm_diag_t diag;
	vfm_state_t *a = vfm_create_with(&cfg, &diag);
	vfm_state_t *b = vfm_create_with(&cfg, &diag);
	CHECK(a && b, "vfm_create_with failed: %s", diag.message);
	CHECK(vfm_attach_program(a, prog) == VFM_OK, "attach failed");
	/* VM b loads the same bytes through the VM API. */
	vfm_error_t err = vfm_load_program(b, in->prog, in->prog_len);
	CHECK(err == VFM_OK, "vfm_load_program refused what vfm_program_create accepted: %s",
	      vfm_last_error(b));

	static vfm_result_t ra[FUZZ_PACKET_SLOTS];
	memset(ra, 0xA5, sizeof ra);
	CHECK(vfm_execute_batch(a, ps.pkt, count, ra) == VFM_OK, "batch failed: %s",
	      vfm_last_error(a));
	for (size_t i = 0; i < count; i++) {
		check_result(&ra[i], bound, has_backward);
		vfm_result_t rb;
		memset(&rb, 0x5A, sizeof rb);
		CHECK(vfm_execute_ex(b, &ps.pkt[i], &rb) == VFM_OK, "execute_ex failed");
		CHECK(rb.verdict == ra[i].verdict && rb.status == ra[i].status &&
			      rb.insns == ra[i].insns,
		      "packet %zu: batch gives %u/%s/%llu, one by one %u/%s/%llu", i,
		      ra[i].verdict, vfm_status_name(ra[i].status),
		      (unsigned long long)ra[i].insns, rb.verdict,
		      vfm_status_name(rb.status), (unsigned long long)rb.insns);
	}
	check_flow(a, b);

	/* The JIT, where this build has one, on a third VM: same verdicts
	 * and statuses, same flow table as the interpreter.  (Its code is not
	 * instrumented by ASan; the oracle below checks the facts it relies
	 * on to drop bounds checks.) */
	vfm_state_t *c = vfm_create_with(&cfg, &diag);
	CHECK(c, "vfm_create_with failed: %s", diag.message);
	CHECK(vfm_attach_program(c, prog) == VFM_OK, "attach failed");
	vfm_error_t jerr = vfm_enable_jit(c);
	CHECK(jerr == VFM_OK || jerr == VFM_EUNSUPPORTED || jerr == VFM_ETOOBIG,
	      "vfm_enable_jit: %s: %s", vfm_error_name(jerr), vfm_last_error(c));
	if (jerr == VFM_OK) {
		static vfm_result_t rj[FUZZ_PACKET_SLOTS];
		memset(rj, 0x3C, sizeof rj);
		CHECK(vfm_execute_batch(c, ps.pkt, count, rj) == VFM_OK, "JIT batch failed: %s",
		      vfm_last_error(c));
		/* The JIT counts instructions exactly as the interpreter does. */
		for (size_t i = 0; i < count; i++)
			CHECK(rj[i].verdict == ra[i].verdict && rj[i].status == ra[i].status &&
				      rj[i].insns == ra[i].insns,
			      "packet %zu: interpreter gives %u/%s/%llu, JIT %u/%s/%llu", i,
			      ra[i].verdict, vfm_status_name(ra[i].status),
			      (unsigned long long)ra[i].insns, rj[i].verdict,
			      vfm_status_name(rj[i].status), (unsigned long long)rj[i].insns);
		check_flow(a, c);
	}
	vfm_destroy(c);

	/* The reference interpreter on the same packets, fresh flow table. */
	struct ref_ctx rc;
	uint32_t cap = in->flow_capacity ? in->flow_capacity : VFM_DEFAULT_FLOW_CAPACITY;
	if (ref_init(&rc, prog, cap, cfg.budget) == 0) {
		for (size_t i = 0; i < count; i++) {
			vfm_result_t rr;
			ref_run(&rc, &ps.pkt[i], &rr);
			CHECK(rr.verdict == ra[i].verdict && rr.status == ra[i].status &&
				      rr.insns == ra[i].insns,
			      "packet %zu: interpreter gives %u/%s/%llu, reference %u/%s/%llu", i,
			      ra[i].verdict, vfm_status_name(ra[i].status),
			      (unsigned long long)ra[i].insns, rr.verdict,
			      vfm_status_name(rr.status), (unsigned long long)rr.insns);
		}
		check_flow_ref(a, &rc, 1);
		ref_free(&rc);
	}

	/* vfm_execute is vfm_execute_ex with timestamp 0; compare the two on
	 * the first packet when neither run touched the flow table (else the
	 * second run may see what the first stored). */
	vfm_flow_stats_t before, st;
	vfm_flow_stats(a, &before);
	if (count > 0) {
		vfm_packet_t p0 = ps.pkt[0];
		p0.ts_ns = 0;
		vfm_result_t r0;
		CHECK(vfm_execute_ex(a, &p0, &r0) == VFM_OK, "execute_ex failed");
		check_result(&r0, bound, has_backward);
		uint32_t v = vfm_execute(a, p0.data, p0.len);
		vfm_flow_stats(a, &st);
		CHECK(v == r0.verdict || memcmp(&before, &st, sizeof st) != 0,
		      "vfm_execute gives %u, vfm_execute_ex %u", v, r0.verdict);
	}

	vfm_flow_clear(a);
	vfm_flow_stats(a, &st);
	CHECK(st.entries == 0 && st.inserts == 0 && st.capacity == (in->flow_capacity
			? in->flow_capacity : VFM_DEFAULT_FLOW_CAPACITY),
	      "vfm_flow_clear left state behind");
	vfm_destroy(a);
	vfm_destroy(b);
	fuzz_free_packets(&ps);
}

/* ---- Disassembly round trip --------------------------------------------- */

/* Text minus a leading "; disassembled from ..." comment line. */
static const char *skip_source_comment(const char *text)
{
	if (strncmp(text, "; disassembled from ", 20) != 0)
		return text;
	const char *nl = strchr(text, '\n');
	return nl ? nl + 1 : text + strlen(text);
}

static void round_trip(const struct fuzz_input *in, vfm_error_t load_err,
		       const vfm_diag_t *load_diag)
{
	char *text = NULL;
	vfm_diag_t diag;
	vfm_error_t err = vfm_disassemble(in->prog, in->prog_len, &text, &diag);
	/* Disassembly parses exactly as loading does, without verifying. */
	if (load_err == VFM_OK || load_err == VFM_EVERIFY) {
		CHECK(err == VFM_OK, "load gives %s but disassembly fails: %s",
		      vfm_error_name(load_err), diag.message);
	} else {
		CHECK(err == load_err, "load fails with %s, disassembly with %s",
		      vfm_error_name(load_err), vfm_error_name(err));
		CHECK(text == NULL, "failed disassembly returned text");
		return;
	}
	struct vfm_file orig;
	CHECK(vfm_file_parse(in->prog, in->prog_len, &orig, NULL) == VFM_OK,
	      "file parse differs from load");
	if (known_source_newline(&orig)) {
		free(text);
		return;
	}

	uint8_t *bin = NULL;
	size_t bin_len = 0;
	err = vfm_assemble(text, strlen(text), "roundtrip", 0, &bin, &bin_len, &diag);
	CHECK(err == VFM_OK, "disassembly does not re-assemble: %s\n--- text ---\n%s",
	      diag.message, text);
	struct vfm_file again;
	CHECK(vfm_file_parse(bin, bin_len, &again, &diag) == VFM_OK,
	      "assembler output does not parse: %s", diag.message);
	CHECK(again.code_size == orig.code_size &&
		      memcmp(again.code, orig.code, orig.code_size) == 0,
	      "re-assembled code differs (%u vs %u bytes)\n--- text ---\n%s",
	      again.code_size, orig.code_size, text);
	CHECK(again.n_lines == 0 && again.source_name == NULL,
	      "with_debug=0 wrote debug sections");

	/* Same code, same verdict of the verifier (sections only change the
	 * wording of messages). */
	vfm_program_t *prog2 = NULL;
	err = vfm_program_create(bin, bin_len, &prog2, &diag);
	CHECK(err == load_err, "original loads with %s, re-assembled with %s",
	      vfm_error_name(load_err), vfm_error_name(err));
	if (err == VFM_EVERIFY)
		CHECK(diag.pc == load_diag->pc,
		      "verifier rejects at pc %lld, re-assembled at pc %lld",
		      (long long)load_diag->pc, (long long)diag.pc);
	vfm_program_release(prog2);

	/* The disassembler is a function of the code alone. */
	char *text2 = NULL;
	CHECK(vfm_disassemble(bin, bin_len, &text2, &diag) == VFM_OK,
	      "re-assembled file does not disassemble: %s", diag.message);
	CHECK(strcmp(skip_source_comment(text), text2) == 0,
	      "disassembly is not stable\n--- first ---\n%s\n--- second ---\n%s", text,
	      text2);
	free(text2);
	free(bin);
	free(text);
}

/* ---- Entry points ------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (decode_input(data, size, &in) != 0) {
		free(in.prog);
		return 0;
	}
	vfm_program_t *prog = (vfm_program_t *)0x1;
	vfm_diag_t diag;
	memset(&diag, 0x5A, sizeof diag);
	vfm_error_t err = vfm_program_create(in.prog, in.prog_len, &prog, &diag);
	if (err == VFM_OK) {
		CHECK(prog != NULL, "VFM_OK without a program");
		run_program(prog, &in);
		vfm_program_release(prog);
	} else {
		CHECK(prog == NULL, "failed load left *out set");
		struct vfm_file f;
		uint32_t code_size = vfm_file_parse(in.prog, in.prog_len, &f, NULL) == VFM_OK
					     ? f.code_size : 0;
		check_diag(err, &diag, code_size);
		/* A failed load through the VM API keeps the same error. */
		vfm_state_t *vm = vfm_create_with(&(vfm_config_t){.flow_capacity = 4}, NULL);
		CHECK(vm, "vfm_create_with failed");
		CHECK(vfm_load_program(vm, in.prog, in.prog_len) == err &&
			      vfm_last_error_code(vm) == err &&
			      strcmp(vfm_last_error(vm), diag.message) == 0,
		      "vfm_load_program reports differently: %s", vfm_last_error(vm));
		vfm_result_t r;
		vfm_packet_t pkt = {0};
		CHECK(vfm_execute_ex(vm, &pkt, &r) == VFM_ENOPROGRAM &&
			      r.status == VFM_STATUS_NOPROGRAM && r.verdict == 0,
		      "execution without a program");
		vfm_destroy(vm);
	}
	round_trip(&in, err, &diag);
	free(in.prog);
	return 0;
}

/*
 * Triage helper for the replayer (fuzz/replay_main.c --describe): decode an
 * input and print its parts, the loader's verdict and the disassembly.
 */
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out);
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out)
{
	static const char *const modes[4] = {"file, CRC patched", "file as is",
					     "code in a valid header",
					     "code + raw sections, header filled in"};
	struct fuzz_input in;
	if (decode_input(data, size, &in) != 0) {
		fprintf(out, "out of memory decoding the input\n");
		free(in.prog);
		return;
	}
	fprintf(out, "input: %zu bytes\nmode: %u (%s), extras %u\nbudget: %u%s\nflow capacity: %u\n"
		     "canned packets: %s\nprogram image: %zu bytes\npacket bytes: %zu\n",
		size, in.mode, modes[in.mode], in.extras, in.budget,
		in.budget_default ? " (default; 1000 for programs over 32 insns)" : "",
		in.flow_capacity ? in.flow_capacity : VFM_DEFAULT_FLOW_CAPACITY,
		in.canned ? "yes" : "no", in.prog_len, in.pkt_len);
	vfm_program_t *prog = NULL;
	vfm_diag_t diag;
	vfm_error_t err = vfm_program_create(in.prog, in.prog_len, &prog, &diag);
	fprintf(out, "load: %s%s%s\n", vfm_error_name(err), err ? ": " : "",
		err ? diag.message : "");
	if (prog) {
		fprintf(out, "  %u instructions, max depth %u, backward jumps: %s\n",
			vfm_program_insn_count(prog), vfm_program_max_depth(prog),
			vfm_facts_has_backward(prog) ? "yes" : "no");
		if (vfm_facts_analysed(prog))
			fprintf(out, "  abstract interpretation: %u of %u reached loads proven in bounds, "
				     "%u warnings\n", vfm_facts_loads_in_bounds(prog), vfm_facts_loads(prog),
				vfm_facts_n_warnings(prog));
		else
			fprintf(out, "  abstract interpretation: no facts (resource limit)\n");
	}
	char *text = NULL;
	if (vfm_disassemble(in.prog, in.prog_len, &text, &diag) == VFM_OK)
		fprintf(out, "--- disassembly ---\n%s--- end ---\n", text);
	else
		fprintf(out, "disassembly: %s\n", diag.message);
	free(text);
	/* Packets and, for an accepted program, what one VM (as in
	 * run_program, VM a) makes of them. */
	struct fuzz_packets ps;
	vfm_state_t *vm = NULL;
	if (prog) {
		vfm_config_t cfg = {.flow_capacity = in.flow_capacity,
				    .budget = in.budget_default && vfm_program_insn_count(prog) > 32
						      ? 1000 : in.budget,
				    .budget_set = 1};
		vm = vfm_create_with(&cfg, NULL);
		if (vm)
			vfm_attach_program(vm, prog);
	}
	if (cut_packets(&in, &ps) == 0) {
		for (size_t i = 0; i < ps.n; i++) {
			fuzz_describe_packet(out, i, &ps.pkt[i]);
			vfm_result_t r;
			if (vm && vfm_execute_ex(vm, &ps.pkt[i], &r) == VFM_OK)
				fprintf(out, "  -> verdict %u, status %s, %llu insns\n", r.verdict,
					vfm_status_name(r.status), (unsigned long long)r.insns);
		}
	}
	if (vm) {
		vfm_flow_stats_t st;
		vfm_flow_stats(vm, &st);
		fprintf(out, "flow: %llu entries, %llu hits, %llu misses, %llu inserts, "
			     "%llu updates, %llu evictions\n",
			(unsigned long long)st.entries, (unsigned long long)st.hits,
			(unsigned long long)st.misses, (unsigned long long)st.inserts,
			(unsigned long long)st.updates, (unsigned long long)st.evictions);
	}
	vfm_destroy(vm);
	vfm_program_release(prog);
	fuzz_free_packets(&ps);
	free(in.prog);
}
