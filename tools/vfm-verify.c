/*
 * vfm-verify — run the verifier on bytecode files: accept or reject with
 * reasons, warnings from the abstract interpreter, the stack depth or the
 * whole abstract state at every pc, text or JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "program.h"
#include "../verifier/verifier.h"
#include "../verifier/z3/z3check.h"

static const char usage_text[] =
	"usage: vfm-verify [options] FILTER.bin...\n"
	"\n"
	"Verify VFM bytecode files exactly as loading does.  For each file: OK with\n"
	"instruction count, maximum stack depth and how many packet loads are\n"
	"proven in bounds, or REJECTED with the pc, source line and reason.\n"
	"Accepted programs also get warnings (they do not reject): a load that may\n"
	"or always does read past the packet, unreachable code, a divisor that may\n"
	"be zero, a loop that never reaches RET.\n"
	"\n"
	"options:\n"
	"  -v           list every instruction with its pc and the stack depth\n"
	"               before it ('-' for unreachable instructions)\n"
	"  --states     list every instruction with the verifier's abstract state\n"
	"               before it: packet length, tracked scratch words, stack\n"
	"               (bottom first) as value, [lo,hi], known bits value/mask,\n"
	"               and #id for copies of one value (=len: the packet length)\n"
	"  --json       machine-readable output (one JSON object per file, one\n"
	"               per line)\n"
	"  --Werror     exit 1 if any file has warnings\n"
	"  --z3         cross-check every claim of the verifier with the Z3 SMT\n"
	"               solver on the program's exact semantics (loops unrolled\n"
	"               up to a bound, and an inductive check of the verifier's\n"
	"               state at every loop head; the report says whether the\n"
	"               claims hold on every path or within the bound only);\n"
	"               report proven / provable packet loads; exit 1 with a\n"
	"               counterexample packet if any claim is false\n"
	"  --z3-unroll K  backward jumps per loop entry that --z3 unrolls (default 8)\n"
	"  --equiv-cbpf   for a file translated from classic BPF (vfm-asm -e or\n"
	"               --cbpf keep the original): ask Z3 whether the VFM program\n"
	"               and the cBPF program, encoded separately from bpf_filter's\n"
	"               semantics, can return different verdicts on a packet of at\n"
	"               most --max-len bytes; exit 1 with the packet if they can\n"
	"  --max-len N  packet length bound for --equiv-cbpf (default 256)\n"
	"  -h, --help   this help\n"
	"  --version    print the version\n"
	"\n"
	"exit status: 0 all accepted, 1 some rejected (or warned, with --Werror),\n"
	"2 usage, 3 I/O\n";

struct options {
	int verbose, states, json, werror, z3, equiv;
	uint32_t z3_unroll, max_len;
};

/* --equiv-cbpf: the translation against its cBPF origin; an exit code. */
static int check_equiv(const char *path, const vfm_program_t *prog, const vfm_cbpf_insn_t *cbpf,
		       size_t n, const struct options *o)
{
	struct vfm_z3_equiv q;
	_Static_assert(sizeof(struct vfm_z3_cbpf_insn) == sizeof(vfm_cbpf_insn_t),
		       "one layout for cBPF instructions");
	vfm_error_t err = vfm_z3_equiv_cbpf(prog, (const struct vfm_z3_cbpf_insn *)cbpf, n,
					    o->max_len, 60000, &q);
	if (err != VFM_OK) {
		printf("%s: cBPF equivalence not checked: %s\n", path, q.error);
		return CLI_EXIT_REJECT;
	}
	const char *bound = q.bounded ? " (VFM loops unrolled: within the bound)" : "";
	switch (q.result) {
	case VFM_Z3_EQUIV_EQUAL:
		printf("%s: equal to its cBPF origin (%zu instructions) on every packet of at most "
		       "%u bytes%s (Z3, %.2f s)\n", path, n, q.max_len, bound, q.seconds);
		return CLI_EXIT_OK;
	case VFM_Z3_EQUIV_UNKNOWN:
		printf("%s: cBPF equivalence unknown (Z3 timed out after %.2f s)\n", path, q.seconds);
		return CLI_EXIT_REJECT;
	default:
		printf("%s: DIFFERS from its cBPF origin: on a %u-byte packet (wire length %u) "
		       "VFM returns %u, bpf_filter semantics %u%s; packet:", path, q.len,
		       q.wire_len, q.vfm_verdict, q.cbpf_verdict, bound);
		for (uint32_t j = 0; j < q.n_bytes; j++)
			printf("%s%02x", j % 16 ? " " : "\n  ", q.bytes[j]);
		printf("\n");
		return CLI_EXIT_REJECT;
	}
}

/* Where a pc is, for messages: "name:line: " or "". */
static void source_of(const struct vfm_program *prog, uint32_t pc, char *buf, size_t n)
{
	uint32_t line = vfm_program_line_of(prog, pc);
	if (line && prog->source_name)
		snprintf(buf, n, "%s:%u: ", prog->source_name, line);
	else if (line)
		snprintf(buf, n, "line %u: ", line);
	else
		buf[0] = '\0';
}

static void print_state(const struct vfm_program *prog, uint32_t i)
{
	char v[128];
	const struct vfm_aslot *s = vfm_facts_state(prog, i);
	if (!s) {
		fputs(" unreachable", stdout);
		return;
	}
	uint32_t n_scratch = vfm_facts_n_scratch(prog);
	vfm_format_aval(&s[0], v, sizeof v);
	printf(" len %s", v);
	for (uint32_t k = 0; k < n_scratch; k++) {
		vfm_format_aval(&s[1 + k], v, sizeof v);
		printf(" | M%u %s", k, v);
	}
	for (int k = 0; k < vfm_facts_depth(prog, i); k++) {
		vfm_format_aval(&s[1 + n_scratch + (uint32_t)k], v, sizeof v);
		printf(" | s%d %s", k, v);
	}
}

static void print_listing(const struct vfm_program *prog, int states)
{
	char insn[64];
	printf("%8s  %5s  %s\n", "pc", "depth", states ? "instruction ; state before it" : "instruction");
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		uint32_t pc = prog->pc_of[i];
		vfm_format_insn(prog->code, prog->code_size, pc, insn, sizeof insn);
		if (vfm_facts_depth(prog, i) < 0)
			printf("%8u  %5s  %-24s", pc, "-", insn);
		else
			printf("%8u  %5d  %-24s", pc, vfm_facts_depth(prog, i), insn);
		uint32_t line = vfm_program_line_of(prog, pc);
		if (states) {
			fputs(" ;", stdout);
			print_state(prog, i);
		} else if (line) {
			printf(" ; line %u", line);
		}
		putchar('\n');
	}
}

/* JSON string: escapes quotes, backslashes and control characters. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_pcs(const char *name, const uint32_t *pc, uint32_t n)
{
	printf(",\"%s\":[", name);
	for (uint32_t j = 0; j < n; j++)
		printf("%s%u", j ? "," : "", pc[j]);
	putchar(']');
}

/* The Z3 report as the "z3" member: scope says what the claims cover
 * (exact / complete / inductive / bounded, vfm_z3_scope). */
static void json_z3(const struct vfm_z3_report *r)
{
	printf(",\"z3\":{\"scope\":\"%s\",\"unroll\":%u,\"loop_heads\":%u,"
	       "\"inductive\":\"%s\",\"claims\":%u,\"unsound\":%u,\"unknown\":%u,"
	       "\"inductive_claims\":%u,\"inductive_unknown\":%u,\"by_kind\":{",
	       vfm_z3_scope_name(vfm_z3_scope(r)), r->unroll, r->heads,
	       vfm_z3_inductive_name((enum vfm_z3_inductive)r->inductive), r->claims, r->failures,
	       r->unknowns, r->ind_claims, r->ind_unknown);
	for (unsigned k = 0; k < VFM_Z3_KIND_COUNT; k++)
		printf("%s\"%s\":[%u,%u,%u]", k ? "," : "",
		       vfm_z3_kind_name((enum vfm_z3_claim_kind)k), r->checked[k], r->failed[k],
		       r->unknown[k]);
	printf("},\"loads\":%u,\"proven\":%u,\"provable\":%u,\"provable_bounded\":%u",
	       r->loads, r->proven, r->provable, r->provable_bounded);
	json_pcs(r->gap_bounded ? "bounded_only_pcs" : "provable_not_proven_pcs", r->gap_pc, r->n_gap);
	printf(",\"failures\":[");
	for (uint32_t j = 0; j < r->n_fail; j++) {
		const struct vfm_z3_failure *fl = &r->fail[j];
		printf("%s{\"kind\":\"%s\",\"pc\":%u,\"inductive\":%s,\"text\":", j ? "," : "",
		       vfm_z3_kind_name((enum vfm_z3_claim_kind)fl->kind), fl->pc,
		       fl->inductive ? "true" : "false");
		json_string(fl->text ? fl->text : "");
		putchar('}');
	}
	printf("],\"error\":");
	json_string(r->error);
	printf(",\"seconds\":%.3f}", r->seconds);
}

static void print_json(const char *path, const struct vfm_program *prog, const vfm_diag_t *diag,
		       const struct vfm_z3_report *z3)
{
	printf("{\"file\":");
	json_string(path);
	if (!prog) {
		printf(",\"accepted\":false,\"error\":");
		json_string(vfm_error_name(diag->code));
		printf(",\"pc\":%" PRId64 ",\"line\":%u,\"message\":", diag->pc, diag->line);
		json_string(diag->message);
		printf("}\n");
		return;
	}
	printf(",\"accepted\":true,\"instructions\":%u,\"code_bytes\":%u,\"max_depth\":%u,"
	       "\"analysed\":%s,\"loads\":%u,\"loads_in_bounds\":%u,\"warnings\":[",
	       prog->n_insns, prog->code_size, vfm_facts_max_depth(prog),
	       vfm_facts_analysed(prog) ? "true" : "false", vfm_facts_loads(prog),
	       vfm_facts_loads_in_bounds(prog));
	for (uint32_t w = 0; w < vfm_facts_n_warnings(prog); w++) {
		char msg[384];
		const struct vfm_warning *wn = vfm_facts_warning(prog, w);
		uint32_t pc = prog->pc_of[wn->insn];
		vfm_warning_message(prog, wn, msg, sizeof msg);
		printf("%s{\"kind\":\"%s\",\"pc\":%u,\"line\":%u,\"message\":", w ? "," : "",
		       vfm_warning_kind_name(wn->kind), pc, vfm_program_line_of(prog, pc));
		json_string(msg);
		putchar('}');
	}
	putchar(']');
	if (z3)
		json_z3(z3);
	printf("}\n");
}

static int verify_file(const char *path, const struct options *o)
{
	uint8_t *bin;
	size_t len;
	if (cli_read_file("vfm-verify", path, &bin, &len) != 0)
		return CLI_EXIT_IO;
	vfm_program_t *prog;
	vfm_diag_t diag;
	vfm_error_t err = vfm_program_create(bin, len, &prog, &diag);
	vfm_cbpf_insn_t *cbpf = NULL;
	size_t n_cbpf = 0;
	bool has_cbpf = err == VFM_OK && o->equiv &&
			vfm_cbpf_from_file(bin, len, &cbpf, &n_cbpf, NULL) == VFM_OK;
	free(bin);
	if (err != VFM_OK) {
		if (o->json)
			print_json(path, NULL, &diag, NULL);
		else
			printf("%s: REJECTED: %s\n", path, diag.message);
		return err == VFM_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
	}
	uint32_t n_warnings = vfm_facts_n_warnings(prog);
	int rc = o->werror && n_warnings ? CLI_EXIT_REJECT : CLI_EXIT_OK;
	struct vfm_z3_report zr;
	vfm_error_t zerr = VFM_OK;
	if (o->z3) {
		struct vfm_z3_options zo;
		vfm_z3_options_init(&zo);
		zo.precision = true;
		if (o->z3_unroll)
			zo.unroll = o->z3_unroll;
		zerr = vfm_z3_check(prog, &zo, &zr);
		if (zerr != VFM_OK) /* a false claim, or the check did not run */
			rc = CLI_EXIT_REJECT;
	}
	if (o->json) {
		print_json(path, prog, NULL, o->z3 ? &zr : NULL);
	} else {
		printf("%s: OK: %u instructions, %u bytes, max stack depth %u", path, prog->n_insns,
		       prog->code_size, vfm_facts_max_depth(prog));
		if (vfm_facts_analysed(prog))
			printf(", %u of %u packet loads proven in bounds, %u warning%s\n",
			       vfm_facts_loads_in_bounds(prog), vfm_facts_loads(prog), n_warnings,
			       n_warnings == 1 ? "" : "s");
		else
			printf(" (too large for the abstract interpreter: no facts)\n");
		for (uint32_t w = 0; w < n_warnings; w++) {
			char msg[384], where[320];
			const struct vfm_warning *wn = vfm_facts_warning(prog, w);
			uint32_t pc = prog->pc_of[wn->insn];
			source_of(prog, pc, where, sizeof where);
			vfm_warning_message(prog, wn, msg, sizeof msg);
			printf("%swarning: pc %u: %s [%s]\n", where, pc, msg,
			       vfm_warning_kind_name(wn->kind));
		}
		if (o->verbose || o->states)
			print_listing(prog, o->states);
	}
	if (o->z3) {
		if (!o->json) {
			vfm_z3_print_report(stdout, prog, &zr);
			if (zerr != VFM_OK && zerr != VFM_EVERIFY)
				printf("%s: Z3 check did not run: %s\n", path, zr.error);
		}
		vfm_z3_report_free(&zr);
	}
	if (o->equiv) {
		if (!has_cbpf) {
			printf("%s: --equiv-cbpf: the file keeps no cBPF origin (vfm-asm -e and "
			       "--cbpf write one)\n", path);
			rc = CLI_EXIT_REJECT;
		} else if (check_equiv(path, prog, cbpf, n_cbpf, o) != CLI_EXIT_OK) {
			rc = CLI_EXIT_REJECT;
		}
		free(cbpf);
	}
	vfm_program_release(prog);
	return rc;
}

int main(int argc, char **argv)
{
	enum { OPT_STATES = 256, OPT_JSON, OPT_WERROR, OPT_Z3, OPT_Z3_UNROLL, OPT_EQUIV, OPT_MAXLEN };
	static const struct option longopts[] = {
		{"states", no_argument, NULL, OPT_STATES},
		{"json", no_argument, NULL, OPT_JSON},
		{"Werror", no_argument, NULL, OPT_WERROR},
		{"z3", no_argument, NULL, OPT_Z3},
		{"z3-unroll", required_argument, NULL, OPT_Z3_UNROLL},
		{"equiv-cbpf", no_argument, NULL, OPT_EQUIV},
		{"max-len", required_argument, NULL, OPT_MAXLEN},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {.name = "vfm-verify", .usage_text = usage_text, .shortopts = "v",
			  .longopts = longopts};
	struct options o = {.max_len = 256};
	int worst = CLI_EXIT_OK, c;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'v':
			o.verbose = 1;
			break;
		case OPT_STATES:
			o.states = 1;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_WERROR:
			o.werror = 1;
			break;
		case OPT_Z3:
			o.z3 = 1;
			break;
		case OPT_Z3_UNROLL:
			o.z3 = 1;
			o.z3_unroll = (uint32_t)cli_number(&cli, "--z3-unroll", optarg, 1, 1000, NULL);
			break;
		case OPT_EQUIV:
			o.equiv = 1;
			break;
		case OPT_MAXLEN:
			o.max_len = (uint32_t)cli_number(&cli, "--max-len", optarg, 1, 65535, NULL);
			break;
		}
	}
	if (optind == argc) {
		cli_usage(&cli, stderr);
		return CLI_EXIT_USAGE;
	}
	/* The operands, in order: getopt_long has moved every option before
	 * them, so this is the one walk over the files. */
	for (int i = optind; i < argc; i++) {
		int rc = verify_file(argv[i], &o);
		/* Worst outcome wins: I/O > reject > ok. */
		if (rc == CLI_EXIT_IO || (rc == CLI_EXIT_REJECT && worst == CLI_EXIT_OK))
			worst = rc;
	}
	fflush(stdout);
	return worst;
}
