/*
 * testkit/prng.h — the one set of pseudo-random generators that the tools,
 * tests, fuzz harnesses and benchmarks use.
 *
 * Everything generated from a seed (captures, programs, mutants, random
 * test packets) must be the same on every run and every host, so none of
 * this touches rand() or the clock.  Each generator below is a pure step
 * function over caller-owned state; callers that pinned a sequence in a
 * digest (tests/test_pktgen.c, tests/test_progen.c) depend on these exact
 * constants, so changing one is a deliberate act that moves those digests.
 *
 *   prng_splitmix64   SplitMix64 (Steele, Lea, Flood): one 64-bit word of
 *                     state, good for seeding and for short streams
 *   prng_xoshiro_*    xoshiro256** (Blackman, Vigna; public domain), seeded
 *                     by splitmix64: the long streams of the generators
 *   prng_xorshift64   Marsaglia's xorshift64 (13, 7, 17): a few tests' cheap
 *                     stream; state must be non-zero
 *   prng_lcg64        Knuth's MMIX LCG step; the fuzz mutators take its
 *                     high bits
 */
#ifndef VFM_TESTKIT_PRNG_H
#define VFM_TESTKIT_PRNG_H

#include <stdint.h>

/* Advances *x by the golden-ratio increment and returns the mixed value. */
static inline uint64_t prng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline uint64_t prng_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* The four state words from four splitmix64 draws of seed, as Vigna
 * recommends (never all zero). */
static inline void prng_xoshiro_seed(uint64_t s[4], uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		s[i] = prng_splitmix64(&x);
}

static inline uint64_t prng_xoshiro_next(uint64_t s[4])
{
	uint64_t r = prng_rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = prng_rotl64(s[3], 45);
	return r;
}

/* Returns the new state (which is also the output). */
static inline uint64_t prng_xorshift64(uint64_t *x)
{
	uint64_t v = *x;
	v ^= v << 13;
	v ^= v >> 7;
	v ^= v << 17;
	return *x = v;
}

/* Returns the new state; its low bits are weak, so callers shift. */
static inline uint64_t prng_lcg64(uint64_t *x)
{
	return *x = *x * 6364136223846793005ull + 1442695040888963407ull;
}

#endif
