/*
 * fuzz/fuzz_vcost.c — libFuzzer target for the verifier's cost (issue 15,
 * docs/VERIFIER.md "Cost").
 *
 * Input: one mode byte, then
 *   mode even  a progen choice string (testkit/progen.h) decoded with a
 *              config that favours what makes verification expensive:
 *              loops nested up to 8 deep, deep stacks, branches, scratch
 *              counters, dead code; size from the second byte (64..4,096
 *              instructions);
 *   mode odd   a bytecode file image as is (vfm_program_create).
 *
 * Each input is loaded (which always verifies).  Findings (abort, so that
 * libFuzzer keeps the input):
 *   - a load refused because the work budget ran out: a program of at most
 *     a few thousand instructions that costs over 2^22 units is a cost the
 *     linear bound does not cover;
 *   - a load that succeeded with more work than the documented budget
 *     (128 units per abstract word + 1 per instruction + 2^22): the counter
 *     or the budget check is broken;
 *   - a load refused with VFM_ETOOBIG whose message does not name the
 *     budget and the pc.
 * Inputs above half the budget's slope without its constant part (work
 * > 64 units per word + 1 per instruction + 2^16) are not crashes but are
 * worth keeping, since a larger program of the same shape would come near
 * the budget: with VFM_VCOST_SAVE=DIR each is written there
 * (vcost-<units>-<hash>); VFM_FUZZ_STATS=1 prints the worst ratio seen at
 * exit.  Run with -max_total_time (make fuzz does).  Triage:
 * replay_vcost --describe FILE prints the generated program.
 */
#define FUZZ_NAME "fuzz_vcost"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "progen.h"
#include "../verifier/verifier.h"

#define WORK_PER_SLOT 128u
#define WORK_BASE (UINT64_C(1) << 22)
#define WORK_MAX (UINT64_C(1) << 30)
#define WATCH_PER_SLOT 64u
#define WATCH_BASE (UINT64_C(1) << 16)

static double worst_ratio;
static uint64_t worst_work;

static void report_stats(void)
{
	fprintf(stderr, FUZZ_NAME ": worst %.2f work units per abstract word (%llu units)\n",
		worst_ratio, (unsigned long long)worst_work);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *stats = getenv("VFM_FUZZ_STATS");
	if (stats && *stats == '1')
		atexit(report_stats);
	return 0;
}

static uint64_t width_of(const vfm_program_t *p)
{
	uint64_t w = 0;
	for (uint32_t i = 0; i < p->n_insns; i++)
		if (vfm_facts_depth(p, i) >= 0)
			w += 1u + vfm_facts_n_scratch(p) + (uint32_t)vfm_facts_depth(p, i);
	return w;
}

static void save(const uint8_t *data, size_t size, uint64_t work)
{
	const char *dir = getenv("VFM_VCOST_SAVE");
	if (!dir || !*dir)
		return;
	uint32_t h = 2166136261u;
	for (size_t k = 0; k < size; k++)
		h = (h ^ data[k]) * 16777619u;
	char path[4096];
	snprintf(path, sizeof path, "%s/vcost-%llu-%08x", dir, (unsigned long long)work, h);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, size, f);
		fclose(f);
	}
}

/* The generated program's text (mode even). */
static char *text_of(const uint8_t *data, size_t size)
{
	struct progen_config cfg;
	progen_config_init(&cfg);
	cfg.target_insns = 64 + (size > 1 ? data[1] : 0) * 16u;
	cfg.max_nesting = 8;
	cfg.max_loop_iters = 64;
	cfg.no_comments = 1;
	cfg.weight[PROGEN_F_OPS] = 4;
	cfg.weight[PROGEN_F_SCRATCH] = 6;
	cfg.weight[PROGEN_F_BRANCH] = 6;
	cfg.weight[PROGEN_F_LOOP] = 8;
	cfg.weight[PROGEN_F_BUDGET_LOOP] = 2;
	cfg.weight[PROGEN_F_GUARD] = 2;
	cfg.weight[PROGEN_F_INDEXED] = 2;
	cfg.weight[PROGEN_F_DEEP] = 4;
	cfg.weight[PROGEN_F_BREAK] = 3;
	cfg.weight[PROGEN_F_DEAD] = 2;
	char *text = NULL;
	size_t skip = size > 2 ? 2 : size;
	int rc = progen_from_bytes_ex(&cfg, data + skip, size - skip, &text, NULL, NULL);
	CHECK(rc == PROGEN_OK && text, "progen_from_bytes_ex: %s", progen_strerror(rc));
	return text;
}

/* Triage (replay --describe): the program an input stands for. */
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out);
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out)
{
	if (size == 0 || (data[0] & 1)) {
		fprintf(out, "a bytecode file image of %zu bytes\n", size ? size - 1 : 0);
		return;
	}
	char *text = text_of(data, size);
	fputs(text, out);
	free(text);
}

/* The image to load: a generated program or the bytes themselves. */
static uint8_t *image_of(const uint8_t *data, size_t size, size_t *len)
{
	if (data[0] & 1) {
		uint8_t *img = malloc(size - 1 ? size - 1 : 1);
		CHECK(img != NULL, "out of memory");
		memcpy(img, data + 1, size - 1);
		*len = size - 1;
		return img;
	}
	char *text = text_of(data, size);
	uint8_t *img = NULL;
	vfm_diag_t d;
	vfm_error_t err = progen_assemble(text, &img, len, &d);
	/* Generated programs stay within the limits: a failure here is the
	 * generator's (fuzz_diff checks that), not a cost finding. */
	free(text);
	if (err != VFM_OK) {
		free(img);
		return NULL;
	}
	return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t len = 0;
	uint8_t *img = image_of(data, size, &len);
	if (!img)
		return 0;
	vfm_program_t *p = NULL;
	vfm_diag_t d;
	vfm_error_t err = vfm_program_create(img, len, &p, &d);
	free(img);
	if (err == VFM_ETOOBIG) {
		CHECK(strstr(d.message, "budget") == NULL || strstr(d.message, "pc ") != NULL,
		      "refusal without a pc: %s", d.message);
		CHECK(strstr(d.message, "work budget") == NULL,
		      "a small program exhausted the work budget: %s", d.message);
		return 0;
	}
	if (err != VFM_OK)
		return 0;
	uint64_t work = vfm_facts_work(p), width = width_of(p);
	uint64_t budget = WORK_PER_SLOT * width + p->n_insns + WORK_BASE;
	if (budget > WORK_MAX)
		budget = WORK_MAX;
	CHECK(work <= budget, "work %llu over the budget %llu (width %llu, %u insns)",
	      (unsigned long long)work, (unsigned long long)budget, (unsigned long long)width,
	      p->n_insns);
	double ratio = width ? (double)work / (double)width : 0;
	if (ratio > worst_ratio) {
		worst_ratio = ratio;
		worst_work = work;
	}
	if (work > WATCH_PER_SLOT * width + p->n_insns + WATCH_BASE)
		save(data, size, work);
	vfm_program_release(p);
	return 0;
}
