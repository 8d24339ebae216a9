/*
 * fuzz/afl_mutator.c — AFL++ custom mutator for fuzz_diff: the structural
 * edits of fuzz_diff's libFuzzer mutator (progen_mutate on the program
 * part, progen_crossover with a second corpus entry, new flags), so that
 * AFL++ explores program structure as libFuzzer does.
 *
 * Built by `fuzz/build.sh afl` as build/fuzz/afl_mutator_diff.so together
 * with fuzz_diff.c (whose LLVMFuzzerCustomMutator / CustomCrossOver, from
 * fuzz/frame_mutator.h, it calls) and loaded with
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=build/fuzz/afl_mutator_diff.so afl-fuzz ...
 *
 * AFL++ keeps its own byte-level havoc stages as well (unless
 * AFL_CUSTOM_MUTATOR_ONLY is set); those are what mutate the packets, as
 * LLVMFuzzerMutate does under libFuzzer.  The API is AFL++'s
 * docs/custom_mutators.md: afl_custom_init / afl_custom_fuzz /
 * afl_custom_deinit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t a_len, const uint8_t *b,
				 size_t b_len, uint8_t *out, size_t max_out, unsigned seed);

struct afl_diff_mutator {
	uint64_t rng;
	uint8_t *buf; /* the mutated input returned to AFL++ */
	size_t cap;
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
	struct afl_diff_mutator *m = calloc(1, sizeof *m);
	(void)afl;
	if (m)
		m->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	return m;
}

static unsigned next_seed(struct afl_diff_mutator *m)
{
	return (unsigned)(prng_lcg64(&m->rng) >> 32);
}

/* One in four a crossover with add_buf (another corpus entry), else a
 * structural edit.  Returns the new size; *out_buf stays valid until the
 * next call. */
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	struct afl_diff_mutator *m = data;
	unsigned seed = next_seed(m);
	size_t n;
	if (max_size > m->cap) {
		uint8_t *nb = realloc(m->buf, max_size);
		if (!nb) {
			*out_buf = buf;
			return buf_size;
		}
		m->buf = nb;
		m->cap = max_size;
	}
	if (add_buf && add_buf_size && seed % 4 == 0) {
		n = LLVMFuzzerCustomCrossOver(buf, buf_size, add_buf, add_buf_size, m->buf,
					      max_size, seed >> 2);
	} else {
		n = buf_size < max_size ? buf_size : max_size;
		memcpy(m->buf, buf, n);
		n = LLVMFuzzerCustomMutator(m->buf, n, max_size, seed >> 2);
	}
	*out_buf = m->buf;
	return n;
}

void afl_custom_deinit(void *data)
{
	struct afl_diff_mutator *m = data;
	if (m)
		free(m->buf);
	free(m);
}
