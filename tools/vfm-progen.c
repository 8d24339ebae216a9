/*
 * vfm-progen — write random VFM programs that pass the verifier
 * (testkit/progen.h), as assembly text and optionally bytecode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "progen.h"
#include "program.h"

static const char *const prog = "vfm-progen";

static const char usage_text[] =
	"usage: vfm-progen [-s SEED] [-n INSNS] [-c COUNT] [-o DIR|FILE] [options]\n"
	"       vfm-progen --from-bytes FILE [-o FILE] [options]\n"
	"\n"
	"Write random programs that pass the verifier, as VFM assembly.  The same\n"
	"seed and options give the same program on every host.\n"
	"\n"
	"  -s, --seed SEED       first seed, decimal or 0x hex (default 1); program i\n"
	"                        of COUNT uses SEED + i\n"
	"  -n, --insns N         approximate instruction count (default 64)\n"
	"  -c, --count COUNT     programs to write (default 1)\n"
	"  -o, --output PATH     a file (default \"-\", stdout), or a directory that\n"
	"                        receives prog-SEED.vfm files (an existing directory,\n"
	"                        or any PATH when COUNT > 1: then it is created)\n"
	"      --bin             also write the assembled bytecode: FILE.bin (a .vfm\n"
	"                        suffix is replaced), prog-SEED.bin in a directory\n"
	"      --choices         also write the choice string (.pg): the bytes that\n"
	"                        --from-bytes (with the same options) decodes back to\n"
	"                        the same program; usable as fuzz corpus seeds\n"
	"      --from-bytes FILE decode FILE (any bytes at all) into a program\n"
	"      --max-insns N     hard cap on instructions (default 2*INSNS+1024)\n"
	"      --max-stack N     deepest stack to use, 1..256 (default 256)\n"
	"      --max-iters N     bounded loops run 1..N times (default 8)\n"
	"      --nesting N       nested structures, 1..8 (default 5)\n"
	"      --expr-depth N    expression nesting, 1..5 (default 3)\n"
	"      --mix NAME=W,...  statement weights 0..255; unnamed kinds keep their\n"
	"                        default.  Kinds: ops scratch branch loop budget-loop\n"
	"                        guard indexed flow deep early-ret break dead\n"
	"      --no-loops        loop-free programs (loop=0,budget-loop=0)\n"
	"      --no-comments     no \"; loop ...\" comments in the text\n"
	"      --verify          assemble and verify every program; exit 1 if one is\n"
	"                        rejected (that is a bug in the generator or verifier)\n"
	"      --stats           one line of statistics per program and a summary\n"
	"                        (per-opcode counts, generation speed) on stderr\n"
	"  -h, --help            this text\n"
	"      --version         print the version\n"
	"\n"
	"Exit status: 0 success, 1 a program was rejected or the generator failed,\n"
	"2 bad command line, 3 cannot read or write a file.\n";

static int parse_mix(const char *arg, struct progen_config *cfg)
{
	char *copy = strdup(arg);
	if (!copy)
		return -1;
	int rc = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t w;
		if (!eq) {
			rc = -1;
			break;
		}
		*eq = '\0';
		int f = progen_feature_from_name(tok);
		if (f < 0 || cli_parse_u64(eq + 1, 255, &w) != 0) {
			rc = -1;
			break;
		}
		cfg->weight[f] = (uint8_t)w;
	}
	free(copy);
	return rc;
}

/* path with a .vfm suffix replaced by ext (or ext appended). */
static char *with_ext(const char *path, const char *ext)
{
	size_t n = strlen(path);
	if (n > 4 && strcmp(path + n - 4, ".vfm") == 0)
		n -= 4;
	char *out = malloc(n + strlen(ext) + 1);
	if (out) {
		memcpy(out, path, n);
		strcpy(out + n, ext);
	}
	return out;
}

struct totals {
	uint64_t programs, insns, with_loops, with_backward, with_guarded, with_unguarded,
		with_indexed, with_deep256;
	uint64_t op_count[256];
	double seconds;
};

static void print_stats(FILE *f, const char *what, const struct progen_stats *st)
{
	fprintf(f,
		"%s: %u insns (%u reachable), depth %u, loops %u (budget %u), backward "
		"jumps %u, loads guarded %u unguarded %u, indexed %u (guarded %u)\n",
		what, st->insns, st->reachable, st->max_depth, st->loops, st->budget_loops,
		st->backward_jumps, st->guarded_loads, st->unguarded_loads, st->indexed_loads,
		st->guarded_indexed);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Write one program (text, and bytecode / choices if asked).  Returns an
 * exit code. */
static int write_one(const char *asm_path, const char *text, const uint8_t *choices,
		     size_t n_choices, int bin, int verify, const char *what)
{
	if (cli_write_file(prog, asm_path, text, strlen(text)) != 0)
		return CLI_EXIT_IO;
	if (!bin && !verify && !choices)
		return CLI_EXIT_OK;
	int rc = CLI_EXIT_OK;
	if (bin || verify) {
		uint8_t *img = NULL;
		size_t len = 0;
		vfm_diag_t diag;
		if (progen_assemble(text, &img, &len, &diag) != VFM_OK) {
			cli_error(prog, "%s: generated text does not assemble: %s", what,
				  diag.message);
			return CLI_EXIT_REJECT;
		}
		if (verify) {
			vfm_program_t *p = NULL;
			if (vfm_program_create(img, len, &p, &diag) != VFM_OK) {
				cli_error(prog, "%s: rejected by the verifier: %s", what,
					  diag.message);
				rc = CLI_EXIT_REJECT;
			}
			vfm_program_release(p);
		}
		if (bin && rc == CLI_EXIT_OK) {
			char *bp = with_ext(asm_path, ".bin");
			if (!bp || cli_write_file(prog, bp, img, len) != 0)
				rc = CLI_EXIT_IO;
			free(bp);
		}
		free(img);
	}
	if (choices && rc == CLI_EXIT_OK) {
		char *cp = with_ext(asm_path, ".pg");
		if (!cp || cli_write_file(prog, cp, choices, n_choices) != 0)
			rc = CLI_EXIT_IO;
		free(cp);
	}
	return rc;
}

int main(int argc, char **argv)
{
	enum {
		OPT_BIN = 256, OPT_CHOICES, OPT_FROM, OPT_MAXI, OPT_MAXS, OPT_ITERS, OPT_NEST,
		OPT_EXPR, OPT_MIX, OPT_NOLOOPS, OPT_NOCOMMENTS, OPT_VERIFY, OPT_STATS
	};
	static const struct option longopts[] = {
		{"seed", required_argument, NULL, 's'},
		{"insns", required_argument, NULL, 'n'},
		{"count", required_argument, NULL, 'c'},
		{"output", required_argument, NULL, 'o'},
		{"bin", no_argument, NULL, OPT_BIN},
		{"choices", no_argument, NULL, OPT_CHOICES},
		{"from-bytes", required_argument, NULL, OPT_FROM},
		{"max-insns", required_argument, NULL, OPT_MAXI},
		{"max-stack", required_argument, NULL, OPT_MAXS},
		{"max-iters", required_argument, NULL, OPT_ITERS},
		{"nesting", required_argument, NULL, OPT_NEST},
		{"expr-depth", required_argument, NULL, OPT_EXPR},
		{"mix", required_argument, NULL, OPT_MIX},
		{"no-loops", no_argument, NULL, OPT_NOLOOPS},
		{"no-comments", no_argument, NULL, OPT_NOCOMMENTS},
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"stats", no_argument, NULL, OPT_STATS},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {.name = prog, .usage_text = usage_text, .shortopts = "s:n:c:o:",
			  .longopts = longopts};
	struct progen_config cfg;
	progen_config_init(&cfg);
	uint64_t seed = 1, count = 1;
	const char *out = "-", *from = NULL;
	int bin = 0, choices = 0, verify = 0, stats = 0, c;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 's':
			seed = cli_number(&cli, "seed", optarg, 0, UINT64_MAX, "an unsigned 64-bit number");
			break;
		case 'n':
			cfg.target_insns =
				(uint32_t)cli_number(&cli, "instruction count", optarg, 1, 900000, NULL);
			break;
		case 'c':
			count = cli_number(&cli, "count", optarg, 1, UINT32_MAX, NULL);
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_BIN:
			bin = 1;
			break;
		case OPT_CHOICES:
			choices = 1;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_MAXI:
			cfg.max_insns = (uint32_t)cli_number(&cli, "--max-insns", optarg, 1, 900000, NULL);
			break;
		case OPT_MAXS:
			cfg.max_stack = (uint32_t)cli_number(&cli, "--max-stack", optarg, 1, 256, NULL);
			break;
		case OPT_ITERS:
			cfg.max_loop_iters =
				(uint32_t)cli_number(&cli, "--max-iters", optarg, 1, UINT32_MAX, NULL);
			break;
		case OPT_NEST:
			cfg.max_nesting = (uint8_t)cli_number(&cli, "--nesting", optarg, 1, 8, NULL);
			break;
		case OPT_EXPR:
			cfg.expr_depth = (uint8_t)cli_number(&cli, "--expr-depth", optarg, 1, 5, NULL);
			break;
		case OPT_MIX:
			if (parse_mix(optarg, &cfg) != 0) {
				cli_error(prog, "bad --mix '%s' (NAME=WEIGHT,... with weights 0..255; "
					  "--help lists the names)", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_NOLOOPS:
			cfg.weight[PROGEN_F_LOOP] = 0;
			cfg.weight[PROGEN_F_BUDGET_LOOP] = 0;
			break;
		case OPT_NOCOMMENTS:
			cfg.no_comments = 1;
			break;
		case OPT_VERIFY:
			verify = 1;
			break;
		case OPT_STATS:
			stats = 1;
			break;
		}
	}
	cli_no_operands(&cli, argc, argv);
	int any_w = 0;
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++)
		any_w |= cfg.weight[f] != 0;
	if (!any_w) {
		cli_error(prog, "every statement weight is 0 (--mix): nothing to generate");
		return CLI_EXIT_USAGE;
	}
	int to_stdout = strcmp(out, "-") == 0;
	struct stat sb;
	int to_dir = count > 1 || (!to_stdout && stat(out, &sb) == 0 && S_ISDIR(sb.st_mode));
	if (count > 1 && (to_stdout || from)) {
		cli_error(prog, "%s", from ? "--from-bytes decodes one program (no -c)"
					   : "several programs need a directory (-o DIR)");
		return CLI_EXIT_USAGE;
	}
	if ((bin || choices) && to_stdout) {
		cli_error(prog, "--bin and --choices need an output file or directory (-o)");
		return CLI_EXIT_USAGE;
	}
	if (to_dir && mkdir(out, 0777) != 0 && errno != EEXIST) {
		cli_error(prog, "%s: %s", out, strerror(errno));
		return CLI_EXIT_IO;
	}

	struct totals tot = {0};
	int rc = CLI_EXIT_OK;
	uint8_t *input = NULL;
	size_t input_len = 0;
	if (from && cli_read_file(prog, from, &input, &input_len) != 0)
		return CLI_EXIT_IO;
	FILE *info = stderr;
	for (uint64_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		uint64_t s = seed + i;
		char *text = NULL, what[64];
		uint8_t *ch = NULL;
		size_t n_ch = 0;
		struct progen_stats st;
		double t0 = now();
		int err;
		if (from) {
			snprintf(what, sizeof what, "%s", "decoded program");
			err = progen_from_bytes_ex(&cfg, input, input_len, &text, &st, NULL);
		} else {
			snprintf(what, sizeof what, "seed %llu", (unsigned long long)s);
			err = progen_generate_ex(&cfg, s, &text, &st, choices ? &ch : NULL,
						 &n_ch);
		}
		tot.seconds += now() - t0;
		if (err) {
			cli_error(prog, "%s: %s", what, progen_strerror(err));
			rc = err == PROGEN_ENOMEM ? CLI_EXIT_IO : CLI_EXIT_REJECT;
			break;
		}
		if (from && choices) { /* the input is its own choice string */
			ch = malloc(input_len ? input_len : 1);
			if (ch && input_len)
				memcpy(ch, input, input_len);
			n_ch = input_len;
		}
		char path[4096];
		if (to_dir && from)
			snprintf(path, sizeof path, "%s/decoded.vfm", out);
		else if (to_dir)
			snprintf(path, sizeof path, "%s/prog-%llu.vfm", out, (unsigned long long)s);
		else
			snprintf(path, sizeof path, "%s", out);
		rc = write_one(path, text, ch, n_ch, bin, verify, what);
		if (stats)
			print_stats(info, what, &st);
		tot.programs++;
		tot.insns += st.insns;
		tot.with_loops += st.loops > 0;
		tot.with_backward += st.backward_jumps > 0;
		tot.with_guarded += st.guarded_loads > 0;
		tot.with_unguarded += st.unguarded_loads > 0;
		tot.with_indexed += st.indexed_loads > 0;
		tot.with_deep256 += st.max_depth == 256;
		for (unsigned k = 0; k < 256; k++)
			tot.op_count[k] += st.op_count[k];
		free(text);
		free(ch);
	}
	free(input);
	if (stats && tot.programs) {
		double n = (double)tot.programs;
		fprintf(info,
			"%llu programs, %llu instructions (%.1f per program) in %.3f s: "
			"%.0f programs/s, %.2f M instructions/s\n",
			(unsigned long long)tot.programs, (unsigned long long)tot.insns,
			(double)tot.insns / n, tot.seconds,
			tot.seconds > 0 ? n / tot.seconds : 0.0,
			tot.seconds > 0 ? (double)tot.insns / tot.seconds / 1e6 : 0.0);
		fprintf(info,
			"with loops %.1f%%, backward jumps %.1f%%, guarded loads %.1f%%, "
			"unguarded loads %.1f%%, indexed loads %.1f%%, depth 256 %.1f%%\n",
			100.0 * (double)tot.with_loops / n, 100.0 * (double)tot.with_backward / n,
			100.0 * (double)tot.with_guarded / n,
			100.0 * (double)tot.with_unguarded / n,
			100.0 * (double)tot.with_indexed / n, 100.0 * (double)tot.with_deep256 / n);
		fprintf(info, "per opcode:");
		for (unsigned k = 0, col = 0; k < 256; k++) {
			if (!vfm_opinfo[k].valid)
				continue;
			fprintf(info, "%s%s %llu", col++ % 6 ? ", " : "\n  ", vfm_opinfo[k].name,
				(unsigned long long)tot.op_count[k]);
		}
		fprintf(info, "\n");
	}
	return rc;
}
