/*
 * tests/test_progen.c — the program generator (tools/progen): every
 * generated program, seeded or decoded from arbitrary bytes or mutated,
 * assembles and passes the verifier; the generator's own idea of the
 * program (instruction count, reachable count, maximum depth) equals the
 * verifier's; every opcode, loops, backward jumps, guarded and unguarded
 * loads occur; generation is deterministic; and the programs run on
 * packets without a crash, with statuses OK, BOUNDS and BUDGET all seen.
 *
 * A program that fails is written to $TMPDIR/progen-fail-*.vfm so it can
 * be kept (corpus/progen-regressions/ holds such programs; every file
 * there is assembled, verified and run here too).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "program.h"
#include "../verifier/verifier.h"
#include "test_support.h"
#include "pktgen.h"
#include "prng.h"
#include "progen.h"

/* ASan/UBSan builds run about 10x slower: fewer programs there. */
#if defined(__SANITIZE_ADDRESS__)
#define PG_SCALE 2
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PG_SCALE 2
#endif
#endif
#ifndef PG_SCALE
#define PG_SCALE 1
#endif

#define N_PROGRAMS (10000 / PG_SCALE)
#define N_BYTE_STRINGS (10000 / PG_SCALE)
#define N_MUTATIONS (2000 / PG_SCALE)
#define RUN_BUDGET 100u
#define N_PACKETS 96
#define PINNED_SEED42 0xac4749e1795d88bfull /* test_determinism */
#define PINNED_BYTES 0xfd273612c12ba709ull

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_state = 0x1234567887654321ull;
static uint64_t rnd(void)
{
	return prng_xorshift64(&rng_state);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Keep a failing program where it can be found and stop the test. */
static void keep_failure(const char *what, const char *text, const char *why)
{
	const char *t = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/progen-fail-%s.vfm", t && *t ? t : "/tmp", what);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	fail_msg("%s: %s (program kept in %s)", what, why, path);
}

/* Packets: pktgen traffic (Ethernet, IPv4/6, VLAN, ARP, truncated), random
 * bytes of random lengths, and the edge lengths 0, 1, 13, 14.  Each in its
 * own exact-size block so that ASan sees any over-read. */
static vfm_packet_t packets[N_PACKETS];

static int group_setup(void **state)
{
	(void)state;
	struct pktgen_config pc = {.seed = 7, .count = N_PACKETS / 2};
	struct pktgen_set set;
	if (pktgen_generate(&pc, &set) != 0)
		return -1;
	for (size_t i = 0; i < N_PACKETS; i++) {
		uint32_t len;
		const uint8_t *src = NULL;
		if (i < set.count) {
			len = set.pkts[i].len;
			src = set.pkts[i].data;
		} else if (i < set.count + 4) {
			static const uint32_t edge[] = {0, 1, 13, 14};
			len = edge[i - set.count];
		} else {
			len = (uint32_t)(rnd() % 160);
		}
		uint8_t *p = malloc(len ? len : 1);
		if (!p)
			return -1;
		for (uint32_t j = 0; j < len; j++)
			p[j] = src ? src[j] : (uint8_t)rnd();
		packets[i] = (vfm_packet_t){.data = p, .len = len, .ts_ns = 1000000000ull * (i + 1)};
	}
	pktgen_free(&set);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_PACKETS; i++)
		free((void *)packets[i].data);
	return 0;
}

/* What a batch of programs contained. */
struct agg {
	uint64_t programs, insns;
	uint64_t op_count[256];
	uint64_t with_backward, with_loops, with_budget_loops, with_guarded, with_unguarded,
		with_indexed, with_guarded_indexed, with_dead, with_deep256, with_shallow;
	uint64_t status[VFM_STATUS_COUNT];
	uint64_t runs;
	uint64_t guarded_reached, guarded_proven; /* absolute, tagged GUARDED */
	uint64_t gidx_reached, gidx_proven;       /* indexed, tagged GUARDED */
	uint64_t loads_reached, loads_proven;     /* every load, as the verifier counts */
	double gen_seconds;
};

/* Opcode counts and backward jumps, read from the bytecode itself. */
static int scan_code(const uint8_t *img, size_t len, uint64_t *op_count, uint32_t *n_insns)
{
	assert_true(len >= VFM_HEADER_SIZE);
	uint32_t code_size = (uint32_t)img[8] | (uint32_t)img[9] << 8 | (uint32_t)img[10] << 16 |
			     (uint32_t)img[11] << 24;
	const uint8_t *code = img + VFM_HEADER_SIZE;
	int backward = 0;
	uint32_t n = 0;
	for (uint32_t pc = 0; pc < code_size; n++) {
		uint8_t op = code[pc];
		assert_true(vfm_opinfo[op].valid);
		op_count[op]++;
		if (vfm_opinfo[op].operand == VFM_OPND_REL32) {
			int32_t rel = (int32_t)((uint32_t)code[pc + 1] | (uint32_t)code[pc + 2] << 8 |
						(uint32_t)code[pc + 3] << 16 |
						(uint32_t)code[pc + 4] << 24);
			if ((int64_t)pc + 5 + rel <= (int64_t)pc)
				backward = 1;
		}
		pc += vfm_insn_size(op);
	}
	*n_insns = n;
	return backward;
}

/*
 * Assemble, verify, compare with the generator's statistics and tags, and
 * run on some packets.  Returns the verified program's backward-jump flag.
 */
static int check_program(const char *what, const struct progen_result *r, struct agg *a,
			 vfm_state_t *vm, unsigned n_packets)
{
	const struct progen_stats *st = &r->stats;
	uint8_t *img = NULL;
	size_t len = 0;
	vfm_diag_t diag;
	if (progen_assemble(r->asm_text, &img, &len, &diag) != VFM_OK)
		keep_failure(what, r->asm_text, diag.message);
	vfm_program_t *prog = NULL;
	if (vfm_program_create(img, len, &prog, &diag) != VFM_OK)
		keep_failure(what, r->asm_text, diag.message);

	uint64_t ops[256] = {0};
	uint32_t n_insns;
	int backward = scan_code(img, len, ops, &n_insns);
	char why[200];
	if (n_insns != st->insns || prog->n_insns != st->insns ||
	    vfm_facts_reachable(prog) != st->reachable ||
	    vfm_program_max_depth(prog) != st->max_depth ||
	    (st->backward_jumps > 0) != vfm_facts_has_backward(prog) ||
	    (st->backward_jumps > 0 && !backward)) {
		snprintf(why, sizeof why,
			 "generator and verifier disagree: insns %u/%u, reachable %u/%u, "
			 "max depth %u/%u, backward %u/%d",
			 st->insns, prog->n_insns, st->reachable, vfm_facts_reachable(prog),
			 st->max_depth, vfm_program_max_depth(prog), st->backward_jumps,
			 (int)vfm_facts_has_backward(prog));
		keep_failure(what, r->asm_text, why);
	}
	for (unsigned k = 0; k < 256; k++) {
		a->op_count[k] += ops[k];
		if (ops[k] != st->op_count[k]) {
			snprintf(why, sizeof why, "opcode %s: %llu in the code, %u counted",
				 vfm_opinfo[k].name, (unsigned long long)ops[k], st->op_count[k]);
			keep_failure(what, r->asm_text, why);
		}
	}
	/* Tags against the structural facts and, where the abstract
	 * interpreter ran, its per-load claims (counted, not asserted: a
	 * guarded load the analysis cannot prove is a precision question). */
	if (r->tags) {
		for (uint32_t i = 0; i < st->insns; i++) {
			uint8_t t = r->tags[i];
			if (((t & PROGEN_TAG_DEAD) != 0) != (vfm_facts_depth(prog, i) < 0)) {
				snprintf(why, sizeof why, "instruction %u: dead tag %d, depth %d", i,
					 t & PROGEN_TAG_DEAD, vfm_facts_depth(prog, i));
				keep_failure(what, r->asm_text, why);
			}
			uint8_t fl = vfm_facts_flags(prog, i);
			if (!(t & PROGEN_TAG_GUARDED) || !(fl & VFM_FACT_REACHED))
				continue;
			int indexed = vfm_opinfo[prog->insns[i].opcode].cls == VFM_CLASS_LOADX;
			int proven = (fl & VFM_FACT_IN_BOUNDS) != 0;
			if (fl & VFM_FACT_ALWAYS_OOB) {
				snprintf(why, sizeof why,
					 "instruction %u: a guarded load claimed always out of bounds", i);
				keep_failure(what, r->asm_text, why);
			}
			if (indexed) {
				a->gidx_reached++;
				a->gidx_proven += proven;
			} else {
				a->guarded_reached++;
				a->guarded_proven += proven;
			}
		}
		a->loads_reached += vfm_facts_loads(prog);
		a->loads_proven += vfm_facts_loads_in_bounds(prog);
	}

	a->programs++;
	a->insns += st->insns;
	a->with_backward += backward;
	a->with_loops += st->loops > 0;
	a->with_budget_loops += st->budget_loops > 0;
	a->with_guarded += st->guarded_loads > 0;
	a->with_unguarded += st->unguarded_loads > 0;
	a->with_indexed += st->indexed_loads > 0;
	a->with_guarded_indexed += st->guarded_indexed > 0;
	a->with_dead += st->dead_insns > 0;
	a->with_deep256 += st->max_depth == 256;
	a->with_shallow += st->max_depth <= 4;

	if (vm && n_packets) {
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		size_t first = (size_t)(rnd() % N_PACKETS);
		for (unsigned p = 0; p < n_packets; p++) {
			const vfm_packet_t *pkt = &packets[(first + p) % N_PACKETS];
			vfm_result_t res;
			assert_int_equal(vfm_execute_ex(vm, pkt, &res), VFM_OK);
			assert_true(res.status == VFM_STATUS_OK || res.status == VFM_STATUS_BOUNDS ||
				    res.status == VFM_STATUS_BUDGET);
			if (res.status != VFM_STATUS_OK)
				assert_int_equal(res.verdict, 0);
			if (res.status == VFM_STATUS_BUDGET && !vfm_facts_has_backward(prog))
				keep_failure(what, r->asm_text, "BUDGET without a backward jump");
			assert_true(res.insns >= 1);
			assert_true(res.insns <= (uint64_t)(RUN_BUDGET + 1) * st->insns);
			a->status[res.status]++;
			a->runs++;
		}
	}
	vfm_program_release(prog);
	free(img);
	return backward;
}

static vfm_state_t *run_vm(void)
{
	vfm_config_t vc = {.flow_capacity = 64, .budget = RUN_BUDGET, .budget_set = 1};
	vfm_diag_t diag;
	vfm_state_t *vm = vfm_create_with(&vc, &diag);
	assert_non_null(vm);
	return vm;
}

static void print_agg(const char *title, const struct agg *a)
{
	double n = a->programs ? (double)a->programs : 1.0;
	print_message("%s: %llu programs, %llu instructions (%.1f each)", title,
		      (unsigned long long)a->programs, (unsigned long long)a->insns,
		      (double)a->insns / n);
	if (a->gen_seconds > 0)
		print_message(", generated at %.0f programs/s, %.2f M instructions/s",
			      n / a->gen_seconds, (double)a->insns / a->gen_seconds / 1e6);
	print_message("\n  with loops %.1f%% (budget-ended %.1f%%), backward jumps %.1f%%, "
		      "guarded loads %.1f%%, unguarded %.1f%%, indexed %.1f%% (guarded %.1f%%), "
		      "dead code %.1f%%, depth 256 %.1f%%, depth <= 4 %.1f%%\n",
		      100.0 * (double)a->with_loops / n, 100.0 * (double)a->with_budget_loops / n,
		      100.0 * (double)a->with_backward / n, 100.0 * (double)a->with_guarded / n,
		      100.0 * (double)a->with_unguarded / n, 100.0 * (double)a->with_indexed / n,
		      100.0 * (double)a->with_guarded_indexed / n, 100.0 * (double)a->with_dead / n,
		      100.0 * (double)a->with_deep256 / n, 100.0 * (double)a->with_shallow / n);
	if (a->runs)
		print_message("  %llu runs: OK %llu, BOUNDS %llu, BUDGET %llu\n",
			      (unsigned long long)a->runs,
			      (unsigned long long)a->status[VFM_STATUS_OK],
			      (unsigned long long)a->status[VFM_STATUS_BOUNDS],
			      (unsigned long long)a->status[VFM_STATUS_BUDGET]);
	if (a->guarded_reached || a->gidx_reached)
		print_message("  verifier proved in bounds: guarded absolute loads %llu/%llu, "
			      "guarded indexed loads %llu/%llu, all loads %llu/%llu\n",
			      (unsigned long long)a->guarded_proven,
			      (unsigned long long)a->guarded_reached,
			      (unsigned long long)a->gidx_proven,
			      (unsigned long long)a->gidx_reached,
			      (unsigned long long)a->loads_proven,
			      (unsigned long long)a->loads_reached);
}

static void print_opcodes(const struct agg *a)
{
	print_message("  per opcode:");
	for (unsigned k = 0, col = 0; k < 256; k++)
		if (vfm_opinfo[k].valid)
			print_message("%s%s %llu", col++ % 7 ? ", " : "\n    ", vfm_opinfo[k].name,
				      (unsigned long long)a->op_count[k]);
	print_message("\n");
}

/* Sizes: mostly small, some medium, a few large (tens of thousands). */
static uint32_t pick_target(unsigned i)
{
	static const uint32_t sizes[] = {1, 2, 3, 5, 8, 12, 16, 24, 32, 48, 64, 64, 96, 128, 200, 300};
	if (i % 2500 == 2499)
		return 20000 + (uint32_t)(rnd() % 20000);
	if (i % 250 == 249)
		return 1000 + (uint32_t)(rnd() % 3000);
	return sizes[i % (sizeof sizes / sizeof sizes[0])];
}

/* A varied configuration for program i (1 in 4 is not the default). */
static void pick_config(unsigned i, struct progen_config *cfg)
{
	progen_config_init(cfg);
	cfg->target_insns = pick_target(i);
	switch (i % 16) {
	case 3: /* loop-free (for the Z3 check) */
		cfg->weight[PROGEN_F_LOOP] = cfg->weight[PROGEN_F_BUDGET_LOOP] = 0;
		break;
	case 7: /* shallow stack, deep nesting, deep expressions */
		cfg->max_stack = 1 + i % 6;
		cfg->max_nesting = 8;
		cfg->expr_depth = 5;
		break;
	case 11: /* loops and guards only, many iterations */
		memset(cfg->weight, 0, sizeof cfg->weight);
		cfg->weight[PROGEN_F_OPS] = 1;
		cfg->weight[PROGEN_F_LOOP] = 4;
		cfg->weight[PROGEN_F_GUARD] = 4;
		cfg->weight[PROGEN_F_INDEXED] = 4;
		cfg->weight[PROGEN_F_BREAK] = 3;
		cfg->max_loop_iters = 40;
		break;
	case 15: /* deep stacks, flat expressions */
		cfg->weight[PROGEN_F_DEEP] = 12;
		cfg->expr_depth = 1;
		break;
	default:
		break;
	}
}

/* ---- tests --------------------------------------------------------------- */

static void test_generated_programs_verify_and_run(void **state)
{
	(void)state;
	struct agg a = {0};
	vfm_state_t *vm = run_vm();
	uint64_t loopfree_backward = 0, over_cap = 0, small_over = 0;
	for (unsigned i = 0; i < N_PROGRAMS; i++) {
		struct progen_config cfg;
		pick_config(i, &cfg);
		struct progen_result r;
		double t0 = now();
		int err = progen_run(&cfg, i, NULL, 0, PROGEN_WANT_TAGS, &r);
		a.gen_seconds += now() - t0;
		assert_int_equal(err, PROGEN_OK);
		char what[64];
		snprintf(what, sizeof what, "seed-%u", i);
		unsigned n_packets = r.stats.insns > 5000 ? 2 : 4;
		int backward = check_program(what, &r, &a, vm, n_packets);
		if (i % 16 == 3)
			loopfree_backward += backward;
		if (i % 16 == 7 && r.stats.max_depth > cfg.max_stack)
			fail_msg("%s: depth %u above max_stack %u", what, r.stats.max_depth,
				 cfg.max_stack);
		uint64_t cap = 2ull * cfg.target_insns + 1024;
		over_cap += r.stats.insns > cap;
		small_over += cfg.target_insns >= 16 && i % 16 == 0 &&
			      r.stats.insns > 4 * cfg.target_insns + 64;
		progen_result_free(&r);
	}
	vfm_destroy(vm);
	print_agg("seeded", &a);
	print_opcodes(&a);

	assert_int_equal(loopfree_backward, 0);
	assert_int_equal(over_cap, 0);
	assert_true(small_over * 20 < a.programs / 16); /* sizes track the target */
	for (unsigned k = 0; k < 256; k++)
		if (vfm_opinfo[k].valid && a.op_count[k] == 0)
			fail_msg("opcode %s never generated", vfm_opinfo[k].name);
	/* Every feature shows up in a good share of the programs. */
	assert_true(a.with_loops * 5 > a.programs);
	assert_true(a.with_backward * 5 > a.programs);
	assert_true(a.with_budget_loops * 20 > a.programs);
	assert_true(a.with_guarded * 5 > a.programs);
	assert_true(a.with_unguarded * 2 > a.programs);
	assert_true(a.with_guarded_indexed * 10 > a.programs);
	assert_true(a.with_dead * 10 > a.programs);
	assert_true(a.with_deep256 > 0);
	assert_true(a.with_shallow * 5 > a.programs);
	for (int s = VFM_STATUS_OK; s <= VFM_STATUS_BUDGET; s++)
		if (a.status[s] == 0)
			fail_msg("status %s never seen", vfm_status_name((vfm_status_t)s));
}

/* Sizes from 1 to tens of thousands come out roughly as asked. */
static void test_sizes(void **state)
{
	(void)state;
	static const uint32_t targets[] = {1, 10, 100, 1000, 10000, 50000};
	for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
		struct progen_config cfg;
		progen_config_init(&cfg);
		cfg.target_insns = targets[t];
		uint64_t sum = 0;
		unsigned n = targets[t] >= 10000 ? 3 : 50;
		for (unsigned s = 0; s < n; s++) {
			struct progen_stats st;
			char *text;
			assert_int_equal(progen_generate_ex(&cfg, s, &text, &st, NULL, NULL), PROGEN_OK);
			sum += st.insns;
			assert_true(st.insns <= 2ull * targets[t] + 1024);
			free(text);
		}
		double avg = (double)sum / n;
		print_message("target %u: average %.1f instructions\n", targets[t], avg);
		assert_true(avg >= 0.9 * targets[t]);
		assert_true(avg <= 1.5 * targets[t] + 10);
	}
	/* A hard cap is a hard cap. */
	struct progen_config cfg;
	progen_config_init(&cfg);
	cfg.target_insns = 5000;
	cfg.max_insns = 300;
	for (unsigned s = 0; s < 50; s++) {
		struct progen_result r;
		assert_int_equal(progen_run(&cfg, s, NULL, 0, 0, &r), PROGEN_OK);
		assert_true(r.stats.insns <= 300);
		assert_true(r.stats.insns >= 200);
		progen_result_free(&r);
	}
}

static void test_determinism(void **state)
{
	(void)state;
	unsigned differ = 0;
	for (unsigned i = 0; i < 300; i++) {
		struct progen_config cfg;
		pick_config(i, &cfg);
		char *a, *b, *c;
		assert_int_equal(progen_generate(&cfg, 1000 + i, &a), PROGEN_OK);
		assert_int_equal(progen_generate(&cfg, 1000 + i, &b), PROGEN_OK);
		assert_int_equal(progen_generate(&cfg, 2000 + i, &c), PROGEN_OK);
		assert_string_equal(a, b);
		differ += strcmp(a, c) != 0;
		free(a);
		free(b);
		free(c);
	}
	assert_true(differ > 250);
	/* Pinned output: the same seed gives the same text on every host.  A
	 * deliberate change to the generator, or an opcode added to
	 * vm/opcodes.def (which progen picks up by itself), changes these
	 * digests: update them then. */
	char *t;
	assert_int_equal(progen_generate(NULL, 42, &t), PROGEN_OK);
	uint64_t h = fnv1a(t);
	if (h != PINNED_SEED42)
		fail_msg("seed 42 (default config): text digest 0x%016llx, expected 0x%016llx\n%s",
			 (unsigned long long)h, (unsigned long long)PINNED_SEED42, t);
	free(t);
	uint8_t bytes[256];
	for (unsigned i = 0; i < sizeof bytes; i++)
		bytes[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(progen_from_bytes(bytes, sizeof bytes, &t), PROGEN_OK);
	h = fnv1a(t);
	if (h != PINNED_BYTES)
		fail_msg("decoded bytes: text digest 0x%016llx, expected 0x%016llx\n%s",
			 (unsigned long long)h, (unsigned long long)PINNED_BYTES, t);
	free(t);
}

/* The recorded choice string decodes back to the same program. */
static void test_choice_string_round_trip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 1000 / PG_SCALE; i++) {
		struct progen_config cfg;
		pick_config(i, &cfg);
		if (cfg.target_insns > 2000)
			cfg.target_insns = 2000;
		struct progen_result r, d;
		assert_int_equal(progen_run(&cfg, 77 + i, NULL, 0, PROGEN_WANT_CHOICES, &r),
				 PROGEN_OK);
		assert_int_equal(progen_run(&cfg, 0, r.choices, r.n_choices, PROGEN_FROM_BYTES, &d),
				 PROGEN_OK);
		assert_string_equal(r.asm_text, d.asm_text);
		assert_true(d.consumed >= r.n_choices);
		/* extra zero bytes change nothing */
		uint8_t *z = calloc(r.n_choices + 16, 1);
		assert_non_null(z);
		memcpy(z, r.choices, r.n_choices);
		progen_result_free(&d);
		assert_int_equal(progen_run(&cfg, 0, z, r.n_choices + 16, PROGEN_FROM_BYTES, &d),
				 PROGEN_OK);
		assert_string_equal(r.asm_text, d.asm_text);
		free(z);
		progen_result_free(&d);
		progen_result_free(&r);
	}
}

static void fill_bytes(uint8_t *buf, size_t len, unsigned kind)
{
	for (size_t j = 0; j < len; j++) {
		switch (kind) {
		case 0: buf[j] = 0; break;
		case 1: buf[j] = 0xFF; break;
		case 2: buf[j] = (uint8_t)j; break;
		case 3: buf[j] = (uint8_t)(rnd() & 0x0F); break; /* small values */
		default: buf[j] = (uint8_t)rnd(); break;
		}
	}
}

/* Any byte string at all decodes to a verifiable program. */
static void test_from_bytes_always_verifies(void **state)
{
	(void)state;
	struct agg a = {0};
	vfm_state_t *vm = run_vm();
	uint8_t *buf = malloc(8192);
	assert_non_null(buf);
	for (unsigned i = 0; i < N_BYTE_STRINGS; i++) {
		size_t len = i < 64 ? i : (size_t)(rnd() % (i % 20 == 0 ? 8192 : 512));
		fill_bytes(buf, len, i < 64 ? i % 5 : (i % 17 == 0 ? (unsigned)(rnd() % 4) : 4));
		struct progen_config cfg;
		progen_config_init(&cfg);
		if (i % 3 == 1)
			pick_config(i, &cfg);
		struct progen_result r;
		double t0 = now();
		/* exact-size copy: ASan catches a read past the end */
		uint8_t *exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, buf, len);
		int err = progen_run(&cfg, 0, len ? exact : NULL, len,
				     PROGEN_FROM_BYTES | PROGEN_WANT_TAGS, &r);
		a.gen_seconds += now() - t0;
		free(exact);
		assert_int_equal(err, PROGEN_OK);
		char what[64];
		snprintf(what, sizeof what, "bytes-%u", i);
		check_program(what, &r, &a, vm, 2);
		progen_result_free(&r);
	}
	free(buf);
	vfm_destroy(vm);
	print_agg("from bytes", &a);
	assert_true(a.with_loops * 10 > a.programs);
	assert_true(a.with_guarded * 10 > a.programs);
	assert_true(a.with_deep256 > 0);
	for (int s = VFM_STATUS_OK; s <= VFM_STATUS_BUDGET; s++)
		assert_true(a.status[s] > 0);
}

/* Mutation and crossover keep programs verifiable, change them, and stay
 * within the size limit. */
static void test_mutate_and_crossover(void **state)
{
	(void)state;
	struct agg a = {0};
	vfm_state_t *vm = run_vm();
	enum { MAX = 4096 };
	uint8_t *cur = malloc(MAX), *other = malloc(MAX), *out = malloc(MAX);
	assert_non_null(cur);
	assert_non_null(other);
	assert_non_null(out);
	size_t cur_len = 0, changed = 0;
	char *prev = NULL;
	for (unsigned i = 0; i < N_MUTATIONS; i++) {
		if (i % 50 == 0) { /* restart from a generated program */
			struct progen_config cfg;
			progen_config_init(&cfg);
			cfg.target_insns = 16 + (uint32_t)(rnd() % 200);
			struct progen_result r;
			assert_int_equal(progen_run(&cfg, 5000 + i, NULL, 0, PROGEN_WANT_CHOICES, &r),
					 PROGEN_OK);
			/* decode with the default config from here on */
			cur_len = r.n_choices < MAX ? r.n_choices : MAX;
			memcpy(cur, r.choices, cur_len);
			progen_result_free(&r);
		}
		if (i % 5 == 4) {
			size_t ol = (size_t)(rnd() % 600);
			fill_bytes(other, ol, 4);
			cur_len = progen_crossover(NULL, cur, cur_len, other, ol, out, MAX, rnd());
			assert_true(cur_len <= MAX);
			memcpy(cur, out, cur_len);
		} else {
			size_t max = i % 7 == 0 ? cur_len / 2 + 1 : MAX;
			if (max > MAX)
				max = MAX;
			cur_len = progen_mutate(NULL, cur, cur_len < max ? cur_len : max, max, rnd());
			assert_true(cur_len <= max);
		}
		struct progen_result r;
		assert_int_equal(progen_run(NULL, 0, cur, cur_len, PROGEN_FROM_BYTES | PROGEN_WANT_TAGS,
					    &r),
				 PROGEN_OK);
		char what[64];
		snprintf(what, sizeof what, "mutant-%u", i);
		check_program(what, &r, &a, vm, 1);
		changed += prev && strcmp(prev, r.asm_text) != 0;
		free(prev);
		prev = r.asm_text;
		r.asm_text = NULL;
		progen_result_free(&r);
	}
	free(prev);
	free(cur);
	free(other);
	free(out);
	vfm_destroy(vm);
	print_agg("mutated", &a);
	print_message("  %zu of %u mutations changed the program\n", changed, N_MUTATIONS);
	assert_true(changed * 2 > N_MUTATIONS);
}

/* Tags agree with the verifier; report what the abstract interpreter
 * proves about loads the generator guarded by construction. */
static void test_guarded_loads_and_verifier_facts(void **state)
{
	(void)state;
	struct agg a = {0};
	for (unsigned i = 0; i < 1000 / PG_SCALE; i++) {
		struct progen_config cfg;
		progen_config_init(&cfg);
		cfg.target_insns = 16 + (uint32_t)(rnd() % 300);
		cfg.weight[PROGEN_F_GUARD] = 8;
		cfg.weight[PROGEN_F_INDEXED] = 6;
		struct progen_result r;
		assert_int_equal(progen_run(&cfg, 90000 + i, NULL, 0, PROGEN_WANT_TAGS, &r),
				 PROGEN_OK);
		char what[64];
		snprintf(what, sizeof what, "guarded-%u", i);
		check_program(what, &r, &a, NULL, 0);
		progen_result_free(&r);
	}
	print_agg("guard-heavy", &a);
	assert_true(a.with_guarded * 2 > a.programs);
}

static void test_config_and_api(void **state)
{
	(void)state;
	char *t = NULL;
	/* NULL config = defaults = zeroed config = progen_config_init */
	struct progen_config zero = {0}, init;
	progen_config_init(&init);
	char *a, *b, *c;
	assert_int_equal(progen_generate(NULL, 5, &a), PROGEN_OK);
	assert_int_equal(progen_generate(&zero, 5, &b), PROGEN_OK);
	assert_int_equal(progen_generate(&init, 5, &c), PROGEN_OK);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
	/* no comments: no ';' at all */
	init.no_comments = 1;
	init.target_insns = 500;
	assert_int_equal(progen_generate(&init, 9, &t), PROGEN_OK);
	assert_null(strchr(t, ';'));
	free(t);
	/* empty input: RET 0 */
	assert_int_equal(progen_from_bytes(NULL, 0, &t), PROGEN_OK);
	assert_non_null(strstr(t, "RET 0"));
	free(t);
	/* bad arguments */
	assert_int_equal(progen_generate(NULL, 1, NULL), PROGEN_EINVAL);
	assert_int_equal(progen_from_bytes(NULL, 5, &t), PROGEN_EINVAL);
	assert_int_equal(progen_run(NULL, 0, NULL, 0, 0, NULL), PROGEN_EINVAL);
	/* names */
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++)
		assert_int_equal(progen_feature_from_name(progen_feature_name((enum progen_feature)f)),
				 (int)f);
	assert_int_equal(progen_feature_from_name("nope"), -1);
	assert_string_equal(progen_strerror(PROGEN_ENOMEM), "out of memory");
	/* progen_assemble reports assembly errors */
	uint8_t *img = NULL;
	size_t len;
	vfm_diag_t diag;
	assert_int_equal(progen_assemble("FOO 1\n", &img, &len, &diag), VFM_EASM);
	assert_null(img);
	/* a single kind of statement still makes valid programs */
	for (unsigned f = 0; f < PROGEN_F_COUNT; f++) {
		struct progen_config one = {0};
		one.weight[f] = 1;
		one.target_insns = 200;
		for (unsigned s = 0; s < 20; s++) {
			struct progen_result r;
			struct agg ag = {0};
			assert_int_equal(progen_run(&one, s, NULL, 0, PROGEN_WANT_TAGS, &r), PROGEN_OK);
			char what[64];
			snprintf(what, sizeof what, "only-%s-%u",
				 progen_feature_name((enum progen_feature)f), s);
			check_program(what, &r, &ag, NULL, 0);
			progen_result_free(&r);
		}
	}
}

/* Programs kept from earlier failures still load and run. */
static void test_regressions(void **state)
{
	(void)state;
	const char *dir = "corpus/progen-regressions";
	DIR *d = opendir(dir);
	if (!d) {
		print_message("no %s directory\n", dir);
		return;
	}
	vfm_state_t *vm = run_vm();
	struct dirent *e;
	unsigned n = 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".vfm") != 0)
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		static char text[1 << 20];
		size_t got = fread(text, 1, sizeof text - 1, f);
		fclose(f);
		text[got] = '\0';
		size_t len;
		uint8_t *img = ts_assemble(text, &len);
		vfm_program_t *prog = NULL;
		vfm_diag_t diag;
		if (vfm_program_create(img, len, &prog, &diag) != VFM_OK)
			fail_msg("%s: %s", path, diag.message);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		for (unsigned p = 0; p < N_PACKETS; p++) {
			vfm_result_t res;
			assert_int_equal(vfm_execute_ex(vm, &packets[p], &res), VFM_OK);
			assert_true(res.status <= VFM_STATUS_BUDGET);
		}
		vfm_program_release(prog);
		free(img);
		n++;
	}
	closedir(d);
	vfm_destroy(vm);
	print_message("%u regression programs\n", n);
}

/* The command-line tool (skipped when it has not been built). */
static void test_cli(void **state)
{
	(void)state;
	const char *tool = ts_tool("vfm-progen");
	if (access(tool, X_OK) != 0) {
		print_message("%s not built; skipped\n", tool);
		return;
	}
	const char *t = getenv("TMPDIR");
	char dir[256], cmd[1024], *out = NULL;
	snprintf(dir, sizeof dir, "%s/vfm-progen-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(dir));

	snprintf(cmd, sizeof cmd, "%s -s 10 -n 80 -c 5 -o %s/p --bin --choices --verify", tool, dir);
	assert_int_equal(ts_run(cmd, &out), 0);
	free(out);
	/* the .pg choice string decodes to the same text */
	snprintf(cmd, sizeof cmd, "%s --from-bytes %s/p/prog-12.pg -n 80 | cmp - %s/p/prog-12.vfm",
		 tool, dir, dir);
	assert_int_equal(ts_run(cmd, &out), 0);
	free(out);
	/* the library generates the same text as the tool */
	struct progen_config cfg;
	progen_config_init(&cfg);
	cfg.target_insns = 80;
	char *text;
	assert_int_equal(progen_generate(&cfg, 13, &text), PROGEN_OK);
	char path[512];
	snprintf(path, sizeof path, "%s/p/prog-13.vfm", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t got = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[got] = '\0';
	assert_string_equal(buf, text);
	free(text);
	/* the .bin loads */
	snprintf(path, sizeof path, "%s/p/prog-14.bin", dir);
	vfm_program_t *prog = NULL;
	assert_int_equal(vfm_program_create_file(path, &prog, NULL), VFM_OK);
	vfm_program_release(prog);
	/* single program to stdout, loop-free with stats */
	snprintf(cmd, sizeof cmd, "%s -s 3 -n 40 --no-loops --stats --mix deep=5,flow=0", tool);
	assert_int_equal(ts_run(cmd, &out), 0);
	assert_non_null(strstr(out, "RET"));
	assert_non_null(strstr(out, "per opcode"));
	free(out);
	/* usage errors and I/O errors */
	static const char *const bad[] = {"-n 0", "-c 2", "--mix nope=1", "--max-stack 300",
					  "--bin", "-x", "extra"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(cmd, sizeof cmd, "%s %s", tool, bad[i]);
		assert_int_equal(ts_run(cmd, &out), 2);
		free(out);
	}
	snprintf(cmd, sizeof cmd, "%s -o %s/no/such/dir/x.vfm", tool, dir);
	assert_int_equal(ts_run(cmd, &out), 3);
	free(out);
	snprintf(cmd, sizeof cmd, "%s --help", tool);
	assert_int_equal(ts_run(cmd, &out), 0);
	assert_non_null(strstr(out, "usage: vfm-progen"));
	free(out);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_programs_verify_and_run),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_choice_string_round_trip),
		cmocka_unit_test(test_from_bytes_always_verifies),
		cmocka_unit_test(test_mutate_and_crossover),
		cmocka_unit_test(test_guarded_loads_and_verifier_facts),
		cmocka_unit_test(test_config_and_api),
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_cli),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
