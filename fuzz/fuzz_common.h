/*
 * fuzz/fuzz_common.h — what the fuzz harnesses share: the CHECK macro, the
 * framing of an input into flags, program and packets, packets in
 * exact-size heap blocks, the canned frames, and flow-table dumps.
 *
 * Header-only (static inline), because each harness is compiled with the
 * library from source into its own binary (fuzz/build.sh) and the plain
 * replayers are built by the Makefile the same way: no extra object to
 * list in either.  A harness defines FUZZ_NAME ("fuzz_load", ...) before
 * including this file; CHECK's message starts with it, which is how
 * fuzz/triage.sh and a reader of a crash log tell the targets apart.
 *
 * Every helper keeps the exact behaviour each harness had when it carried
 * its own copy (the corpus and regression inputs replay the same way): the
 * differences between harnesses are parameters, not merged away.
 */
#ifndef VFM_FUZZ_COMMON_H
#define VFM_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfm.h"
#include "encoding.h"

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_common.h"
#endif

/* An invariant: print it with a message and abort(), so that libFuzzer
 * (or AFL++) saves the input and the replayer fails. */
#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, FUZZ_NAME ": check failed: %s\n  ", #cond); \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* ---- Input framing: [u8 flags][u16 LE field][program][packets] ---------- */

#define FUZZ_MAX_PACKETS 16
/* Upper bound on interpreted instructions per input (two VMs), so that a
 * loop under a large budget cannot make one input take seconds. */
#define FUZZ_INSN_LIMIT 20000000ull

struct fuzz_frame {
	uint8_t flags;
	unsigned field;      /* the whole u16; its low bits (mask) are the length */
	const uint8_t *prog; /* aliases the input */
	size_t prog_len;     /* field & mask, clipped to what remains */
	const uint8_t *pkts; /* the rest of the input */
	size_t pkts_len;
};

/* Inputs shorter than the three header bytes have flags from byte 0 (if
 * any), an empty program and no packets. */
static inline void fuzz_frame_split(const uint8_t *data, size_t size, unsigned mask,
				    struct fuzz_frame *f)
{
	f->flags = size > 0 ? data[0] : 0;
	f->field = size >= 3 ? (unsigned)(data[1] | data[2] << 8) : 0;
	const uint8_t *body = size >= 3 ? data + 3 : data + size;
	size_t rest = size >= 3 ? size - 3 : 0;
	size_t p = f->field & mask;
	if (p > rest)
		p = rest;
	f->prog = body;
	f->prog_len = p;
	f->pkts = body + p;
	f->pkts_len = rest - p;
}

/* ---- Packets ------------------------------------------------------------ */

/* Cut packets plus the canned frames and one empty packet. */
#define FUZZ_PACKET_SLOTS (FUZZ_MAX_PACKETS + 5)

struct fuzz_packets {
	vfm_packet_t pkt[FUZZ_PACKET_SLOTS];
	uint8_t *mem[FUZZ_PACKET_SLOTS];
	size_t n;
};

/* How an empty packet is passed.  Both are allowed by the API (length 0
 * with any pointer); each harness keeps the one its corpus was made with. */
enum fuzz_empty {
	FUZZ_EMPTY_NULL,      /* data NULL (a 1-byte block is still allocated) */
	FUZZ_EMPTY_ALTERNATE, /* malloc(0) at even slots, NULL at odd ones */
};

/* Each packet in its own exact-size heap block, so that ASan sees any read
 * past it.  Returns 0, or -1 when out of memory. */
static inline int fuzz_add_packet(struct fuzz_packets *ps, const uint8_t *src, size_t len,
				  uint64_t ts, enum fuzz_empty empty)
{
	uint8_t *m = NULL;
	if (empty == FUZZ_EMPTY_NULL) {
		m = malloc(len ? len : 1);
		if (!m)
			return -1;
	} else if (len > 0 || ps->n % 2 == 0) {
		m = malloc(len);
		if (!m && len)
			return -1;
	}
	if (m && len)
		memcpy(m, src, len);
	ps->mem[ps->n] = m;
	/* Half of the packets claim a longer original length (WLEN), taken
	 * from the timestamp so that existing corpus inputs keep their
	 * packets: every engine must read it the same way. */
	ps->pkt[ps->n] = (vfm_packet_t){
		.data = empty == FUZZ_EMPTY_NULL && !len ? NULL : m,
		.len = (uint32_t)len,
		.ts_ns = ts,
		.wire_len = ts & 1 ? (uint32_t)len + (uint32_t)(ts >> 1 & 0xFFFF) : 0,
	};
	ps->n++;
	return 0;
}

static inline void fuzz_free_packets(struct fuzz_packets *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->mem[i]);
	ps->n = 0;
}

/* The packet part of an input: repeated [u8 length][length bytes], at most
 * FUZZ_MAX_PACKETS; the last one (or one whose length runs past the end)
 * takes what remains.  Packets are one second apart, so that TS-based rate
 * limits see time pass; with ts_bytes a packet of 8 bytes or more takes its
 * timestamp from its first 8 bytes (LE) instead.  Returns 0, or -1 when
 * out of memory (with every packet freed). */
static inline int fuzz_cut_packets(struct fuzz_packets *ps, const uint8_t *d, size_t left,
				   int ts_bytes, enum fuzz_empty empty)
{
	memset(ps, 0, sizeof *ps);
	while (left > 0 && ps->n < FUZZ_MAX_PACKETS) {
		size_t len = d[0];
		d++;
		left--;
		if (len > left || ps->n == FUZZ_MAX_PACKETS - 1)
			len = left;
		uint64_t ts = (ps->n + 1) * 1000000000ull;
		if (ts_bytes && len >= 8)
			ts = vfm_get_le64(d);
		if (fuzz_add_packet(ps, d, len, ts, empty) != 0) {
			fuzz_free_packets(ps);
			return -1;
		}
		d += len;
		left -= len;
	}
	return 0;
}

/* How many of n packets to run on two VMs when each packet may execute up
 * to bound instructions: all of them, or as many as FUZZ_INSN_LIMIT allows
 * (at least one). */
static inline size_t fuzz_packets_within(uint64_t bound, size_t n)
{
	if (bound * n * 2 > FUZZ_INSN_LIMIT)
		n = FUZZ_INSN_LIMIT / (bound * 2) ? FUZZ_INSN_LIMIT / (bound * 2) : 1;
	return n;
}

/* Triage (the describe hooks): "packet I: LEN bytes, ts TS: xx xx ..." with
 * at most the first 64 bytes. */
static inline void fuzz_describe_packet(FILE *out, size_t i, const vfm_packet_t *p)
{
	fprintf(out, "packet %zu: %u bytes, ts %llu:", i, p->len, (unsigned long long)p->ts_ns);
	for (uint32_t j = 0; j < p->len && j < 64; j++)
		fprintf(out, " %02x", p->data[j]);
	fprintf(out, "%s\n", p->len > 64 ? " ..." : "");
}

#define FUZZ_CANNED_FRAMES 4

/* Canned Ethernet frames that reach every branch of HASH5; buf has room
 * for 96 bytes.  Returns the frame's length. */
static inline size_t fuzz_canned_packet(unsigned which, uint8_t *buf)
{
	memset(buf, 0, 96);
	switch (which) {
	case 0: /* IPv4 TCP 10.0.0.1:1234 → 192.168.1.2:80, IHL 5 */
		buf[12] = 0x08; buf[13] = 0x00;
		buf[14] = 0x45; buf[16] = 0; buf[17] = 40; buf[22] = 64; buf[23] = 6;
		buf[26] = 10; buf[29] = 1; buf[30] = 192; buf[31] = 168; buf[32] = 1; buf[33] = 2;
		buf[34] = 0x04; buf[35] = 0xD2; buf[36] = 0; buf[37] = 80;
		return 54;
	case 1: /* VLAN, IPv4 UDP, IHL 6, non-first fragment */
		buf[12] = 0x81; buf[13] = 0x00; buf[14] = 0x00; buf[15] = 0x07;
		buf[16] = 0x08; buf[17] = 0x00;
		buf[18] = 0x46; buf[24] = 0x00; buf[25] = 0x10; buf[27] = 17;
		buf[30] = 10; buf[33] = 9; buf[34] = 10; buf[37] = 8;
		buf[42] = 0x00; buf[43] = 53; buf[44] = 0x00; buf[45] = 53;
		return 50;
	case 2: /* IPv6 UDP 2001:db8::1 → 2001:db8::2, ports 53 → 5353 */
		buf[12] = 0x86; buf[13] = 0xDD; buf[14] = 0x60; buf[19] = 8; buf[20] = 17;
		buf[22] = 0x20; buf[23] = 0x01; buf[24] = 0x0d; buf[25] = 0xb8; buf[37] = 1;
		buf[38] = 0x20; buf[39] = 0x01; buf[40] = 0x0d; buf[41] = 0xb8; buf[53] = 2;
		buf[55] = 53; buf[56] = 0x14; buf[57] = 0xE9;
		return 62;
	default: /* truncated IPv4 header */
		buf[12] = 0x08; buf[13] = 0x00; buf[14] = 0x45;
		return 20;
	}
}

/* Append the FUZZ_CANNED_FRAMES canned frames, continuing the one-second
 * timestamps.  Returns 0, or -1 when out of memory (every packet freed). */
static inline int fuzz_add_canned(struct fuzz_packets *ps, enum fuzz_empty empty)
{
	uint8_t buf[96];
	for (unsigned c = 0; c < FUZZ_CANNED_FRAMES; c++) {
		size_t len = fuzz_canned_packet(c, buf);
		if (fuzz_add_packet(ps, buf, len, (ps->n + 1) * 1000000000ull, empty) != 0) {
			fuzz_free_packets(ps);
			return -1;
		}
	}
	return 0;
}

/* ---- Flow tables -------------------------------------------------------- */

#define FUZZ_FLOW_DUMP_MAX 512

/* The first `max` entries (key and value, in table order) and the count of
 * all of them. */
struct fuzz_flow_dump {
	uint64_t key[FUZZ_FLOW_DUMP_MAX], value[FUZZ_FLOW_DUMP_MAX];
	size_t n, total, max;
};

static inline int fuzz_flow_dump_entry(uint64_t key, uint64_t value, void *arg)
{
	struct fuzz_flow_dump *fd = arg;
	if (fd->n < fd->max) {
		fd->key[fd->n] = key;
		fd->value[fd->n] = value;
		fd->n++;
	}
	fd->total++;
	return 0;
}

/* Dump vm's flow table into fd, keeping at most max (<= FUZZ_FLOW_DUMP_MAX)
 * entries. */
static inline void fuzz_flow_dump(const vfm_state_t *vm, struct fuzz_flow_dump *fd, size_t max)
{
	fd->n = fd->total = 0;
	fd->max = max < FUZZ_FLOW_DUMP_MAX ? max : FUZZ_FLOW_DUMP_MAX;
	vfm_flow_foreach(vm, fuzz_flow_dump_entry, fd);
}

/* The LLVMFuzzerInitialize of a harness whose only set-up is to print its
 * statistics at exit when VFM_FUZZ_STATS is set. */
#define FUZZ_PRINT_STATS_AT_EXIT(print)                        \
	int LLVMFuzzerInitialize(int *argc, char ***argv);     \
	int LLVMFuzzerInitialize(int *argc, char ***argv)      \
	{                                                      \
		(void)argc;                                    \
		(void)argv;                                    \
		if (getenv("VFM_FUZZ_STATS"))                  \
			atexit(print);                         \
		return 0;                                      \
	}

#endif
