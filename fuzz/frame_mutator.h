/*
 * fuzz/frame_mutator.h — libFuzzer's custom mutator and crossover for the
 * harnesses whose input is the frame [u8 flags][u16 LE P][P bytes: a
 * progen choice string][packets] (fuzz_diff, fuzz_ebpf; fuzz_common.h
 * fuzz_frame_split with the full 16-bit length): progen_mutate and
 * progen_crossover edit the program a statement at a time, so that a
 * mutant is still a program the verifier accepts and keeps its meaning,
 * libFuzzer's byte mutator the packets, and the flags byte is redrawn.
 *
 * Included once by such a harness (it defines the two libFuzzer entry
 * points); fuzz/afl_mutator.c calls them for AFL++, and the plain
 * replayer's --mutate runs them without libFuzzer (LLVMFuzzerMutate is
 * then NULL and the packets are left alone).
 */
#ifndef VFM_FUZZ_FRAME_MUTATOR_H
#define VFM_FUZZ_FRAME_MUTATOR_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"
#include "progen.h"

/* libFuzzer's own byte mutator; absent (NULL) in the plain replayer. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));

static uint32_t frame_rng_next(uint64_t *s)
{
	return (uint32_t)(prng_lcg64(s) >> 33);
}

/* Rebuild [flags][u16 P][prog][packets] into out (capacity max). */
static size_t frame_join(uint8_t *out, size_t max, uint8_t flags, const uint8_t *prog,
			 size_t plen, const uint8_t *pkts, size_t pktlen)
{
	if (max < 3)
		return 0;
	if (plen > 0xFFFF)
		plen = 0xFFFF;
	if (plen > max - 3)
		plen = max - 3;
	if (pktlen > max - 3 - plen)
		pktlen = max - 3 - plen;
	memmove(out + 3 + plen, pkts, pktlen); /* pkts may alias out */
	memmove(out + 3, prog, plen);
	out[0] = flags;
	out[1] = (uint8_t)plen;
	out[2] = (uint8_t)(plen >> 8);
	return 3 + plen + pktlen;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	uint64_t s = seed;
	uint32_t r = frame_rng_next(&s) % 8;
	struct fuzz_frame in;
	fuzz_frame_split(data, size, 0xFFFFu, &in);
	uint8_t flags = size ? data[0] : 0;
	size_t pmax = max_size > 3 ? max_size - 3 : 0;
	uint8_t *prog = malloc(pmax + 1), *pkts = malloc(in.pkts_len + 1);
	if (!prog || !pkts) {
		free(prog);
		free(pkts);
		return size;
	}
	memcpy(prog, in.prog, in.prog_len);
	memcpy(pkts, in.pkts, in.pkts_len);
	size_t plen = in.prog_len, pktlen = in.pkts_len;
	if (r < 5 || !LLVMFuzzerMutate) {
		/* 5 in 8: a structural edit of the program. */
		plen = progen_mutate(NULL, prog, plen, pmax, s);
	} else if (r < 7) {
		/* 2 in 8: the packets (byte-level). */
		size_t room = pmax - plen;
		uint8_t *np = realloc(pkts, room + 1);
		if (np) {
			pkts = np;
			pktlen = LLVMFuzzerMutate(pkts, pktlen, room);
		}
	} else {
		/* 1 in 8: the flags. */
		flags = (uint8_t)frame_rng_next(&s);
	}
	size_t n = frame_join(data, max_size, flags, prog, plen, pkts, pktlen);
	free(prog);
	free(pkts);
	return n;
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t a_len, const uint8_t *b,
				 size_t b_len, uint8_t *out, size_t max_out, unsigned seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t a_len, const uint8_t *b,
				 size_t b_len, uint8_t *out, size_t max_out, unsigned seed)
{
	struct fuzz_frame ia, ib;
	fuzz_frame_split(a, a_len, 0xFFFFu, &ia);
	fuzz_frame_split(b, b_len, 0xFFFFu, &ib);
	if (max_out < 3)
		return 0;
	uint8_t *prog = malloc(max_out);
	if (!prog)
		return 0;
	size_t plen = progen_crossover(NULL, ia.prog, ia.prog_len, ib.prog, ib.prog_len, prog,
				       max_out - 3, seed);
	/* Program of the splice, flags and packets of a or b. */
	const struct fuzz_frame *pk = seed & 1 ? &ib : &ia;
	uint8_t flags = seed & 2 ? (b_len ? b[0] : 0) : (a_len ? a[0] : 0);
	size_t n = frame_join(out, max_out, flags, prog, plen, pk->pkts, pk->pkts_len);
	free(prog);
	return n;
}

#endif
