/*
 * bench/native.c — hand-written C versions of the benchmark filters; see
 * native.h.  Each follows the same decision sequence as its VFM program
 * (which follows libpcap's compiled code for F1-F3), so "ratio to native C"
 * measures the engine, not a cleverer algorithm.  Bounds checks are folded
 * where one check provably covers several reads, as a careful C
 * programmer would write them.
 */
#include <stdlib.h>
#include <string.h>

#include "native.h"

/* Big-endian reads; callers have checked the bounds. */
static inline uint32_t rd8(const uint8_t *p, uint32_t off) { return p[off]; }
static inline uint32_t rd16(const uint8_t *p, uint32_t off)
{
	return (uint32_t)p[off] << 8 | p[off + 1];
}
static inline uint32_t rd32(const uint8_t *p, uint32_t off)
{
	return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
	       (uint32_t)p[off + 2] << 8 | p[off + 3];
}
/* Overflow-safe: size bytes at off fit in len. */
static inline int fits(uint32_t off, uint32_t size, uint32_t len)
{
	return off <= len && size <= len - off;
}

uint32_t native_f1(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	(void)ctx, (void)ts_ns;
	if (len < 14 || rd16(p, 12) != 0x0800)
		return 0;
	if (len < 24 || rd8(p, 23) != 6)
		return 0;
	return len >= 38 && rd16(p, 36) == 80;
}

uint32_t native_f2(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	(void)ctx, (void)ts_ns;
	if (len < 14)
		return 0;
	uint32_t type = rd16(p, 12);
	if (type == 0x86DD) /* fixed header only, like libpcap */
		return len >= 21 && rd8(p, 20) == 6 && len >= 58 && rd16(p, 56) == 80;
	if (type != 0x0800 || len < 24 || rd8(p, 23) != 6)
		return 0;
	if (rd16(p, 20) & 0x1FFF) /* later fragment: no TCP header */
		return 0;
	uint32_t dport = (rd8(p, 14) & 0x0F) * 4 + 16; /* 14 + IHL*4 + 2 */
	return fits(dport, 2, len) && rd16(p, dport) == 80;
}

uint32_t native_f3(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	(void)ctx, (void)ts_ns;
	if (len < 24 || rd16(p, 12) != 0x0800)
		return 0;
	uint32_t proto = rd8(p, 23);
	if (proto != 6 && proto != 17)
		return 0;
	if (len < 30)
		return 0;
	if ((rd32(p, 26) & 0xFF000000u) != 0x0A000000u &&
	    (len < 34 || (rd32(p, 30) & 0xFFFF0000u) != 0xC0A80000u))
		return 0;
	if (!(rd16(p, 20) & 0x1FFF)) { /* ports exist: neither may be 22 */
		uint32_t l4 = (rd8(p, 14) & 0x0F) * 4 + 14;
		if (!fits(l4, 2, len) || rd16(p, l4) == 22)
			return 0;
		if (!fits(l4 + 2, 2, len) || rd16(p, l4 + 2) == 22)
			return 0;
	}
	return len >= 100; /* greater 100 */
}

uint32_t native_f4(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	(void)ctx, (void)p, (void)len, (void)ts_ns;
	return 1;
}

/* ---- Flow table model (docs/ISA.md section 6) -------------------------- */

#define WAYS 4

struct native_set {
	uint64_t key[WAYS];
	uint64_t value[WAYS];
	uint8_t used;
	uint8_t victim;
};

struct native_flow {
	struct native_set *sets;
	uint32_t mask;
	vfm_flow_stats_t st;
};

/* SplitMix64 finaliser (docs/ISA.md 5.1), written out again here. */
static inline uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
	return x ^ (x >> 31);
}

struct native_flow *native_flow_create(uint32_t capacity)
{
	if (capacity < WAYS || (capacity & (capacity - 1)))
		return NULL;
	struct native_flow *ft = calloc(1, sizeof *ft);
	if (!ft)
		return NULL;
	ft->sets = calloc(capacity / WAYS, sizeof *ft->sets);
	if (!ft->sets) {
		free(ft);
		return NULL;
	}
	ft->mask = capacity / WAYS - 1;
	ft->st.capacity = capacity;
	return ft;
}

void native_flow_destroy(struct native_flow *ft)
{
	if (ft)
		free(ft->sets);
	free(ft);
}

void native_flow_clear(struct native_flow *ft)
{
	memset(ft->sets, 0, ((size_t)ft->mask + 1) * sizeof *ft->sets);
	uint64_t cap = ft->st.capacity;
	memset(&ft->st, 0, sizeof ft->st);
	ft->st.capacity = cap;
}

void native_flow_stats(const struct native_flow *ft, vfm_flow_stats_t *out)
{
	*out = ft->st;
}

static uint64_t flow_load(struct native_flow *ft, uint64_t key)
{
	struct native_set *s = &ft->sets[mix64(key) & ft->mask];
	for (unsigned w = 0; w < WAYS; w++)
		if ((s->used >> w & 1u) && s->key[w] == key) {
			ft->st.hits++;
			return s->value[w];
		}
	ft->st.misses++;
	return 0;
}

static void flow_store(struct native_flow *ft, uint64_t key, uint64_t value)
{
	struct native_set *s = &ft->sets[mix64(key) & ft->mask];
	unsigned slot = WAYS;
	for (unsigned w = 0; w < WAYS; w++) {
		if (!(s->used >> w & 1u)) {
			if (slot == WAYS)
				slot = w;
		} else if (s->key[w] == key) {
			s->value[w] = value;
			ft->st.updates++;
			return;
		}
	}
	ft->st.inserts++;
	if (slot == WAYS) { /* full set: FIFO victim */
		slot = s->victim;
		s->victim = (uint8_t)((s->victim + 1) % WAYS);
		ft->st.evictions++;
	} else {
		s->used |= (uint8_t)(1u << slot);
		ft->st.entries++;
	}
	s->key[slot] = key;
	s->value[slot] = value;
}

/* ---- Stateful examples ------------------------------------------------- */

/* examples/ddos_detect.vfm: from a source's 65th SYN (SYN set, ACK clear)
 * on, drop its SYNs.  Reads in the program's order, because the first read
 * past the end decides the outcome. */
uint32_t native_ddos(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	(void)ts_ns;
	if (len < 14 || rd16(p, 12) != 0x0800)
		return len >= 14; /* short: BOUNDS (0); non-IPv4: accept */
	if (len < 24)
		return 0;
	if (rd8(p, 23) != 6)
		return 1;
	if (rd16(p, 20) & 0x1FFF)
		return 1;
	uint32_t flags = (rd8(p, 14) & 0x0F) * 4 + 27; /* 14 + IHL*4 + 13 */
	if (!fits(flags, 1, len))
		return 0;
	if ((rd8(p, flags) & 0x12) != 0x02)
		return 1;
	if (len < 30)
		return 0;
	uint64_t key = 0x53594E0000000000ull | rd32(p, 26);
	uint64_t count = flow_load(ctx, key) + 1;
	flow_store(ctx, key, count);
	return count <= 64;
}

/* examples/rate_limit.vfm: at most 100 packets per IPv4 source per 1 s
 * window of the packet timestamp. */
uint32_t native_rate(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns)
{
	if (len < 14)
		return 0;
	if (rd16(p, 12) != 0x0800)
		return 1;
	if (len < 30)
		return 0;
	uint64_t key = 0x5241544500000000ull | rd32(p, 26);
	uint64_t window = (ts_ns / 1000000000u) & 0xFFFFFFFFu;
	uint64_t value = flow_load(ctx, key);
	uint64_t count = (value >> 32) == window ? (value & 0xFFFFFFFFu) : 0;
	if (count >= 100)
		return 0;
	flow_store(ctx, key, window << 32 | (count + 1));
	return 1;
}
