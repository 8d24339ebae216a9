/*
 * tests/test_hash5.c — HASH5 pinned by fixed vectors (docs/ISA.md, section 5).
 *
 * Three things must agree: the vectors written here, the vectors printed in
 * docs/ISA.md, and vfm_hash5().  A second, independent implementation
 * written from the document's pseudo-code (not from vm/hash5.c) is compared
 * with the library on the vectors, on every truncation of them and on
 * random packets, so the document really describes what the code does.
 *
 * "Never reads past the packet" is checked with a guard page: each packet is
 * copied so that it ends exactly where an inaccessible page begins, so any
 * over-read faults in every build, not only under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfm.h"
#include "prng.h"

#define DOC_PATH "docs/ISA.md"

struct vector {
	const char *name;
	const char *hex;
	uint64_t hash;
};

/* The vectors of docs/ISA.md, section 5.3. */
static const struct vector vectors[] = {
	{"ipv4_tcp",
	 "00112233445566778899aabb08004500002812340000400600000a000001c0a80102"
	 "3039005000000001000000005002ffff00000000",
	 0xC3F0B02185D1603Cu},
	{"ipv4_udp_options",
	 "00112233445566778899aabb0800460000221234000040110000ac10000508080808"
	 "0101010014e90035000a0000abcd",
	 0x03BD62EBDAB072DFu},
	{"ipv4_fragment",
	 "00112233445566778899aabb08004500001c123400b9401100000a0000010a000002"
	 "045708ae00080000",
	 0x3F2760B63023FC0Cu},
	{"vlan_ipv4_tcp",
	 "00112233445566778899aabb810000640800450000281234000040060000c0000201"
	 "c6336407c35001bb00000001000000005002ffff00000000",
	 0x2FBA8E7AB51D559Du},
	{"ipv6_tcp",
	 "00112233445566778899aabb86dd600000000014064020010db80000000000000000"
	 "0000000120010db80000000000000000000000029c4001bb0000000100000000"
	 "5002ffff00000000",
	 0xB05C490DA3B0E973u},
	{"ipv4_icmp",
	 "00112233445566778899aabb08004500001c12340000400100000a0000010a000002"
	 "0800f7ff00000000",
	 0x8C54170344A128DDu},
	{"arp",
	 "00112233445566778899aabb0806000108000604000166778899aabb0a000001"
	 "0000000000000a000002",
	 0},
	{"ipv4_tcp_truncated",
	 "00112233445566778899aabb08004500002812340000400600000a000001c0a80102"
	 "3039",
	 0xD59423ABD04F86E1u},
	{"ipv4_short",
	 "00112233445566778899aabb08004500002812340000400600000a000001c0a801",
	 0},
};
#define N_VECTORS (sizeof vectors / sizeof vectors[0])

#define MAX_PKT 256

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	assert_true(strlen(hex) % 2 == 0 && n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ---- Reference implementation, from docs/ISA.md section 5.2 ------------- */

/* Byte accessor that fails the test on any index outside the packet, so
 * the reference itself also proves the definition never needs such bytes. */
struct pkt {
	const uint8_t *p;
	uint32_t len;
};

static unsigned byte_at(struct pkt k, uint64_t i)
{
	if (i >= k.len)
		fail_msg("reference HASH5 read byte %llu of a %u-byte packet",
			 (unsigned long long)i, k.len);
	return k.p[i];
}

static uint64_t be(struct pkt k, uint64_t i, unsigned n)
{
	uint64_t v = 0;
	for (unsigned j = 0; j < n; j++)
		v = v << 8 | byte_at(k, i + j);
	return v;
}

static uint64_t ref_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xBF58476D1CE4E5B9);
	x ^= x >> 27;
	x *= UINT64_C(0x94D049BB133111EB);
	x ^= x >> 31;
	return x;
}

#define SEED4 UINT64_C(0x9E3779B97F4A7C15)
#define SEED6 UINT64_C(0xC2B2AE3D27D4EB4F)

static uint64_t ref_hash5(const uint8_t *p, uint32_t len)
{
	struct pkt k = {p, len};
	if (len < 14)
		return 0;
	uint64_t type = be(k, 12, 2), l3 = 14;
	if (type == 0x8100) {
		if (len < 18)
			return 0;
		type = be(k, 16, 2);
		l3 = 18;
	}
	uint64_t n = len - l3;
	if (type == 0x0800) {
		if (n < 20 || byte_at(k, l3) >> 4 != 4)
			return 0;
		uint64_t ihl = (byte_at(k, l3) & 0x0F) * 4u;
		if (ihl < 20)
			return 0;
		uint64_t proto = byte_at(k, l3 + 9);
		uint64_t fragoff = be(k, l3 + 6, 2) & 0x1FFF;
		uint64_t ports = 0;
		if ((proto == 6 || proto == 17) && fragoff == 0 && n >= ihl + 4)
			ports = be(k, l3 + ihl, 4);
		uint64_t addrs = be(k, l3 + 12, 4) << 32 | be(k, l3 + 16, 4);
		return ref_mix(ref_mix(SEED4 ^ addrs) ^ (proto << 32 | ports));
	}
	if (type == 0x86DD) {
		if (n < 40 || byte_at(k, l3) >> 4 != 6)
			return 0;
		uint64_t nh = byte_at(k, l3 + 6), ports = 0;
		if ((nh == 6 || nh == 17) && n >= 44)
			ports = be(k, l3 + 40, 4);
		uint64_t h = SEED6;
		for (unsigned off = 8; off <= 32; off += 8)
			h = ref_mix(h ^ be(k, l3 + off, 8));
		return ref_mix(h ^ (nh << 32 | ports));
	}
	return 0;
}

/* ---- Guarded calls ------------------------------------------------------ */

static uint8_t *guard_base; /* two pages: readable, then PROT_NONE */
static size_t page;

static int setup(void **state)
{
	(void)state;
	page = (size_t)sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	guard_base = m;
	return mprotect(guard_base + page, page, PROT_NONE);
}

static int teardown(void **state)
{
	(void)state;
	return munmap(guard_base, 2 * page);
}

/* vfm_hash5 on a copy of p that ends at the guard page: an over-read
 * faults.  Also checks that the result does not depend on the address. */
static uint64_t guarded_hash5(const uint8_t *p, uint32_t len)
{
	assert_true(len <= MAX_PKT);
	uint8_t *end = guard_base + page;
	memcpy(end - len, p, len);
	uint64_t h = vfm_hash5(end - len, len);
	uint8_t *odd = end - len - 1; /* another alignment */
	memmove(odd, end - len, len);
	assert_true(vfm_hash5(odd, len) == h);
	return h;
}

/* Both implementations, which must agree; returns the common value. */
static uint64_t hash_both(const uint8_t *p, uint32_t len)
{
	uint64_t lib = guarded_hash5(p, len);
	uint64_t ref = ref_hash5(p, len);
	if (lib != ref)
		fail_msg("vfm_hash5 = 0x%016llX, reference = 0x%016llX (len %u)",
			 (unsigned long long)lib, (unsigned long long)ref, len);
	return lib;
}

/* ---- Tests ---------------------------------------------------------------- */

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++) {
		uint8_t p[MAX_PKT];
		uint32_t len = (uint32_t)unhex(vectors[i].hex, p, sizeof p);
		uint64_t h = hash_both(p, len);
		if (h != vectors[i].hash)
			fail_msg("vector %s: HASH5 = 0x%016llX, expected 0x%016llX",
				 vectors[i].name, (unsigned long long)h,
				 (unsigned long long)vectors[i].hash);
	}
}

/* The vectors printed in docs/ISA.md are the ones above. */
static void test_doc_vectors_match(void **state)
{
	(void)state;
	FILE *f = fopen(DOC_PATH, "r");
	if (!f)
		fail_msg("cannot open %s (tests run from the repository root)", DOC_PATH);
	char line[512];
	int in_block = 0;
	size_t found = 0;
	const struct vector *cur = NULL;
	uint8_t p[MAX_PKT];
	size_t len = 0;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, "<!-- hash5-vectors:begin -->")) {
			in_block = 1;
			continue;
		}
		if (strstr(line, "<!-- hash5-vectors:end -->"))
			break;
		if (!in_block)
			continue;
		char name[64];
		unsigned off, declared;
		unsigned long long h;
		if (sscanf(line, "vector %63s (%u bytes)", name, &declared) == 2) {
			cur = NULL;
			for (size_t i = 0; i < N_VECTORS; i++)
				if (strcmp(vectors[i].name, name) == 0)
					cur = &vectors[i];
			if (!cur)
				fail_msg("%s documents vector %s, which the test lacks",
					 DOC_PATH, name);
			len = 0;
		} else if (sscanf(line, "HASH5 = 0x%llx", &h) == 1) {
			assert_non_null(cur);
			uint8_t want[MAX_PKT];
			size_t want_len = unhex(cur->hex, want, sizeof want);
			if (len != want_len || memcmp(p, want, len) != 0 ||
			    (uint64_t)h != cur->hash)
				fail_msg("%s: vector %s differs from the test's copy",
					 DOC_PATH, cur->name);
			assert_int_equal(declared, len);
			found++;
			cur = NULL;
		} else if (sscanf(line, "%4x ", &off) == 1 && cur) {
			assert_int_equal(off, len);
			const char *s = line + 4;
			unsigned b;
			int used;
			while (sscanf(s, " %2x%n", &b, &used) == 1) {
				assert_true(len < sizeof p);
				p[len++] = (uint8_t)b;
				s += used;
			}
		}
	}
	fclose(f);
	assert_true(in_block);
	assert_int_equal(found, N_VECTORS);
}

/* Every prefix of every vector: no over-read, same value as the reference,
 * and the expected kind of answer (0 exactly when the IP header is cut). */
static void test_truncations(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_VECTORS; i++) {
		uint8_t p[MAX_PKT];
		uint32_t len = (uint32_t)unhex(vectors[i].hex, p, sizeof p);
		for (uint32_t n = 0; n <= len; n++)
			hash_both(p, n);
	}
	/* Spot checks on ipv4_tcp: 0 below 34 bytes, ports from 38 on. */
	uint8_t p[MAX_PKT];
	uint32_t len = (uint32_t)unhex(vectors[0].hex, p, sizeof p);
	assert_true(hash_both(p, 33) == 0);
	uint64_t no_ports = hash_both(p, 34);
	assert_true(no_ports != 0);
	assert_true(hash_both(p, 37) == no_ports);
	assert_true(hash_both(p, 38) == vectors[0].hash);
	assert_true(hash_both(p, len) == vectors[0].hash);
	assert_true(vfm_hash5(NULL, 0) == 0);
}

static void test_fragment_ignores_ports(void **state)
{
	(void)state;
	uint8_t p[MAX_PKT];
	uint32_t len = (uint32_t)unhex(vectors[2].hex, p, sizeof p); /* ipv4_fragment */
	uint64_t h = hash_both(p, len);
	/* Any port bytes, or none at all: same hash. */
	for (unsigned b = 34; b < 38; b++) {
		p[b] ^= 0xFF;
		assert_true(hash_both(p, len) == h);
	}
	assert_true(hash_both(p, 34) == h);
	/* Same as an unfragmented packet whose ports are 0. */
	uint8_t q[MAX_PKT];
	memcpy(q, p, len);
	q[20] = 0;
	q[21] = 0;
	memset(q + 34, 0, 4);
	assert_true(hash_both(q, len) == h);
	/* The 13-bit offset decides, not the flags: offset 0 with MF set is a
	 * first fragment and keeps its ports; DF/MF with offset ≠ 0 do not. */
	q[34] = 0x12;
	q[20] = 0x20; /* MF, offset 0 */
	uint64_t first = hash_both(q, len);
	assert_true(first != h);
	q[20] = 0x00;
	assert_true(hash_both(q, len) == first);
	q[21] = 0x01; /* offset 1 */
	assert_true(hash_both(q, len) == h);
	q[20] = 0x40; /* DF, offset 1 */
	assert_true(hash_both(q, len) == h);
	q[20] = 0x5F; /* DF + top offset bits */
	q[21] = 0xFF;
	assert_true(hash_both(q, len) == h);
}

/* Changing any byte of a tuple field changes the hash; changing a byte that
 * is not part of the tuple does not. */
static void check_fields(size_t v, const unsigned *tuple, size_t n_tuple)
{
	uint8_t p[MAX_PKT];
	uint32_t len = (uint32_t)unhex(vectors[v].hex, p, sizeof p);
	uint64_t h = hash_both(p, len);
	for (uint32_t off = 0; off < len; off++) {
		int in_tuple = 0;
		for (size_t t = 0; t < n_tuple; t++)
			in_tuple |= tuple[t] == off;
		for (unsigned bit = 0; bit < 8; bit++) {
			p[off] ^= (uint8_t)(1u << bit);
			uint64_t g = hash_both(p, len);
			p[off] ^= (uint8_t)(1u << bit);
			if (in_tuple && g == h)
				fail_msg("%s: flipping bit %u of byte %u (tuple) kept the hash",
					 vectors[v].name, bit, off);
			/* Outside the tuple the hash may change only through the
			 * fields that select what the tuple is (EtherType, version,
			 * IHL, fragment offset): those are checked elsewhere. */
			(void)g;
		}
	}
}

static void test_tuple_fields_change_hash(void **state)
{
	(void)state;
	/* ipv4_tcp: src 26..29, dst 30..33, proto 23, ports 34..37. */
	static const unsigned v4[] = {23, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37};
	check_fields(0, v4, sizeof v4 / sizeof v4[0]);
	/* ipv4_udp_options: IHL 6 puts the ports at 38..41. */
	static const unsigned v4o[] = {23, 26, 27, 28, 29, 30, 31, 32, 33, 38, 39, 40, 41};
	check_fields(1, v4o, sizeof v4o / sizeof v4o[0]);
	/* vlan_ipv4_tcp: everything 4 bytes later. */
	static const unsigned vl[] = {27, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41};
	check_fields(3, vl, sizeof vl / sizeof vl[0]);
	/* ipv6_tcp: next header 20, src 22..37, dst 38..53, ports 54..57. */
	unsigned v6[1 + 32 + 4];
	size_t n = 0;
	v6[n++] = 20;
	for (unsigned o = 22; o < 58; o++)
		v6[n++] = o;
	check_fields(4, v6, n);

	/* Bytes that are not part of the tuple and do not steer the parse
	 * (MACs, TOS, length, ID, TTL, checksum, TCP payload, flow label)
	 * leave the hash alone. */
	uint8_t p[MAX_PKT];
	uint32_t len = (uint32_t)unhex(vectors[0].hex, p, sizeof p);
	static const unsigned ignored4[] = {0, 5, 6, 11, 15, 16, 17, 18, 19, 22, 24, 25,
					    38, 41, 46, 53};
	for (size_t i = 0; i < sizeof ignored4 / sizeof ignored4[0]; i++) {
		p[ignored4[i]] ^= 0x5A;
		assert_true(hash_both(p, len) == vectors[0].hash);
		p[ignored4[i]] ^= 0x5A;
	}
	len = (uint32_t)unhex(vectors[4].hex, p, sizeof p);
	static const unsigned ignored6[] = {0, 11, 15, 16, 17, 18, 19, 21, 60, 73};
	for (size_t i = 0; i < sizeof ignored6 / sizeof ignored6[0]; i++) {
		p[ignored6[i]] ^= 0x5A;
		assert_true(hash_both(p, len) == vectors[4].hash);
		p[ignored6[i]] ^= 0x5A;
	}
	/* Not symmetric: swapping source and destination changes the hash. */
	len = (uint32_t)unhex(vectors[0].hex, p, sizeof p);
	uint8_t tmp[4];
	memcpy(tmp, p + 26, 4);
	memcpy(p + 26, p + 30, 4);
	memcpy(p + 30, tmp, 4);
	assert_true(hash_both(p, len) != vectors[0].hash);
}

static void test_non_ip_is_zero(void **state)
{
	(void)state;
	uint8_t p[MAX_PKT], q[MAX_PKT];
	uint32_t len = (uint32_t)unhex(vectors[0].hex, p, sizeof p);

	memcpy(q, p, len);
	q[12] = 0x88; /* IPv6 EtherType over an IPv4 header: version 4 ≠ 6 */
	q[13] = 0xDD;
	assert_true(hash_both(q, len) == 0);
	memcpy(q, p, len);
	q[14] = 0x65; /* version 6 under EtherType 0x0800 */
	assert_true(hash_both(q, len) == 0);
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		q[14] = (uint8_t)(0x40 | ihl);
		assert_true(hash_both(q, len) == 0);
	}
	q[14] = 0x4F; /* IHL 15: ports past the packet count as 0; still hashed */
	assert_true(hash_both(q, len) != 0);
	/* Other EtherTypes, QinQ and a second 802.1Q tag are not IP. */
	static const uint16_t types[] = {0x0806, 0x88A8, 0x86DE, 0x0801, 0x0000, 0xFFFF,
					 0x8847};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		memcpy(q, p, len);
		q[12] = (uint8_t)(types[i] >> 8);
		q[13] = (uint8_t)types[i];
		assert_true(hash_both(q, len) == 0);
	}
	uint8_t vl[MAX_PKT];
	uint32_t vlen = (uint32_t)unhex(vectors[3].hex, vl, sizeof vl);
	vl[16] = 0x81; /* inner EtherType 0x8100: a second tag */
	vl[17] = 0x00;
	assert_true(hash_both(vl, vlen) == 0);
	/* Shorter than an Ethernet header. */
	for (uint32_t n = 0; n < 14; n++)
		assert_true(hash_both(p, n) == 0);
	/* ARP vector. */
	len = (uint32_t)unhex(vectors[6].hex, p, sizeof p);
	assert_true(hash_both(p, len) == 0);
}

/* Other protocols hash with ports 0; IPv6 UDP reads its ports; IPv6
 * extension headers are not followed. */
static void test_protocols(void **state)
{
	(void)state;
	uint8_t p[MAX_PKT];
	uint32_t len = (uint32_t)unhex(vectors[0].hex, p, sizeof p);
	p[23] = 1; /* ICMP: port bytes are not read */
	uint64_t icmp = hash_both(p, len);
	memset(p + 34, 0xEE, 4);
	assert_true(hash_both(p, len) == icmp);
	p[23] = 17; /* UDP: ports read */
	uint64_t udp = hash_both(p, len);
	memset(p + 34, 0x11, 4);
	assert_true(hash_both(p, len) != udp);

	len = (uint32_t)unhex(vectors[4].hex, p, sizeof p);
	p[20] = 17; /* IPv6 UDP */
	uint64_t u6 = hash_both(p, len);
	p[55] ^= 1;
	assert_true(hash_both(p, len) != u6);
	p[20] = 0; /* hop-by-hop: not followed, ports 0 */
	uint64_t hbh = hash_both(p, len);
	p[55] ^= 1;
	assert_true(hash_both(p, len) == hbh);
	assert_true(hbh != 0);
}

/* Random packets, biased towards the parsed shapes, on both implementations. */
static uint64_t rng_state = 0x123456789ABCDEFu;
static uint64_t rng(void)
{
	return prng_splitmix64(&rng_state);
}

static void test_random_packets(void **state)
{
	(void)state;
	static const uint16_t types[] = {0x0800, 0x86DD, 0x8100, 0x0806};
	for (int iter = 0; iter < 200000; iter++) {
		uint8_t p[MAX_PKT];
		uint32_t len = (uint32_t)(rng() % 96);
		for (uint32_t i = 0; i < len; i++)
			p[i] = (uint8_t)rng();
		uint64_t r = rng();
		if (len >= 14) {
			uint16_t t = types[r % 4];
			p[12] = (uint8_t)(t >> 8);
			p[13] = (uint8_t)t;
		}
		if (len >= 18 && (r >> 8) % 2 == 0 && p[12] == 0x81) {
			uint16_t t = types[(r >> 16) % 2];
			p[16] = (uint8_t)(t >> 8);
			p[17] = (uint8_t)t;
		}
		uint32_t l3 = len >= 14 && p[12] == 0x81 ? 18 : 14;
		if (len > l3) {
			int v6 = p[l3 - 2] == 0x86;
			p[l3] = (uint8_t)((v6 ? 0x60 : 0x40) | (p[l3] & 0x0F));
			if (!v6 && (r >> 24) % 4 != 0)
				p[l3] = (uint8_t)(0x40 | (5 + (r >> 32) % 4));
			if (len > l3 + 9 && (r >> 40) % 2)
				p[l3 + (v6 ? 6 : 9)] = (r >> 41) % 2 ? 6 : 17;
			if (!v6 && len > l3 + 7 && (r >> 42) % 2) {
				p[l3 + 6] &= 0xE0; /* fragment offset 0 */
				p[l3 + 7] = 0;
			}
		}
		hash_both(p, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_doc_vectors_match),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_fragment_ignores_ports),
		cmocka_unit_test(test_tuple_fields_change_hash),
		cmocka_unit_test(test_non_ip_is_zero),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_random_packets),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
