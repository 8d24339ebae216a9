/*
 * testkit/pktgen.h — deterministic synthetic traffic for tests, benchmarks
 * and demos.
 *
 * The same (seed, count, start_ns, mean_gap_ns) gives the same bytes and
 * timestamps on every run and every host: the generator uses its own PRNG
 * (splitmix64 seeding xoshiro256**), integer arithmetic only, and writes
 * every multi-byte field byte by byte.  Never rand(), never libm.
 *
 * The mix (shares of all packets, measured over 100,000 packets with
 * seeds 1-3; tests/test_pktgen.c checks each category is present in 10,000
 * packets by parsing the bytes):
 *
 *   ~40%  IPv4 TCP (outside the flood and bursts ~15% of IPv4 headers
 *         carry options, IHL 6..15)
 *   ~11%  IPv4 UDP
 *    ~4%  IPv4 ICMP (echo request/reply, port unreachable)
 *    ~4%  IPv4 fragments: half first fragments (MF set, offset 0, L4
 *         header present), half later fragments (offset != 0, no L4 header)
 *    ~6%  IPv6 TCP, ~3% IPv6 UDP (fixed 40-byte header)
 *    ~5%  802.1Q-tagged IPv4 TCP/UDP
 *    ~3%  ARP request/reply
 *    ~2%  other frames: LLDP, MPLS (over IPv4), PPPoE discovery, IPX,
 *         802.3/LLC (STP)
 *    ~4%  truncated frames: one of the above cut short anywhere, a quarter
 *         of them inside the Ethernet header (down to 0 bytes); the
 *         original length is kept in wire_len (like a short snaplen)
 *    ~8%  SYN flood: 6 fixed sources (TEST-NET addresses) sending SYNs
 *         to 192.168.1.10 port 80 or 443
 *   ~10%  bursts: every ~1,300 packets one of 4 fixed sources sends 32..255
 *         UDP/TCP packets 0.2-1.8 us apart (about a million packets/s)
 *
 * TCP: 70% client to server (dst port = service), 30% the reverse; service
 * ports 80 (35%), 443 (25%), 22 (10%), 25, 8080, random.  Flags: SYN 22%,
 * SYN+ACK 8%, ACK 35%, PSH+ACK 22%, FIN+ACK 6%, RST 4%, RST+ACK 2%, odd
 * combinations (NULL, XMAS, SYN+FIN) 1%.  85% of SYNs carry MSS,
 * SACK-permitted, timestamp and window-scale options.  UDP ports: 53, 123,
 * 443, 5353, 514, random.  Sources: 10.0.0.0/8 30%, 172.16.0.0/12 15%, 192.168.0.0/16 15%,
 * public 40%; destinations: 192.168.0.0/16 35%, 10.0.0.0/8 15%, public 50%.
 *
 * Frames are 60..1514 bytes (Ethernet without FCS, short frames zero
 * padded to 60; the IPv4 total length / IPv6 payload length describe the
 * real datagram).  IPv4 header checksums and TCP/UDP/ICMP checksums are
 * correct (TCP/UDP not for fragments, whose checksum covers other frames).
 * Timestamps start at start_ns (default 1,700,000,000 s) and strictly
 * increase: gaps are uniform around ~11 us outside bursts, giving a mean
 * of ~10 us overall.
 */
#ifndef VFM_PKTGEN_H
#define VFM_PKTGEN_H

#include <stddef.h>
#include <stdint.h>

#define PKTGEN_MAX_FRAME 1514u
#define PKTGEN_MIN_FRAME 60u
#define PKTGEN_DEFAULT_START_NS (1700000000ull * 1000000000ull)
#define PKTGEN_DEFAULT_MEAN_GAP_NS 10000u

/* What the generator meant to build (the bytes are the truth; tests parse
 * them independently). */
enum pktgen_kind {
	PKTGEN_IPV4_TCP,
	PKTGEN_IPV4_UDP,
	PKTGEN_IPV4_ICMP,
	PKTGEN_IPV4_FRAG_FIRST,
	PKTGEN_IPV4_FRAG_LATER,
	PKTGEN_IPV6_TCP,
	PKTGEN_IPV6_UDP,
	PKTGEN_VLAN_IPV4,
	PKTGEN_ARP,
	PKTGEN_OTHER,
	PKTGEN_TRUNCATED,
	PKTGEN_SYN_FLOOD,
	PKTGEN_BURST,
	PKTGEN_KIND_COUNT
};

struct pktgen_config {
	uint64_t seed;
	uint64_t count;        /* packets (pktgen_generate only) */
	uint64_t start_ns;     /* first timestamp; 0 = PKTGEN_DEFAULT_START_NS */
	uint32_t mean_gap_ns;  /* 0 = PKTGEN_DEFAULT_MEAN_GAP_NS */
};

struct pktgen_packet {
	uint8_t *data;     /* points into pktgen_set.buf */
	uint32_t len;      /* captured bytes */
	uint32_t wire_len; /* original length; > len only for truncated frames */
	uint64_t ts_ns;
	enum pktgen_kind kind;
};

/* Generated packets: pkts[i].data all point into one allocation. */
struct pktgen_set {
	struct pktgen_packet *pkts;
	size_t count;
	uint8_t *buf;
	size_t buf_len;
};

/* Streaming generator state (plain data; copy it to fork the stream). */
struct pktgen {
	uint64_t s[4];          /* xoshiro256** state */
	uint64_t next_ts;
	uint32_t mean_gap_ns;
	uint32_t burst_left;    /* packets left in the current burst */
	uint32_t burst_src;     /* index of the bursting source */
	uint32_t flood_src[6];  /* SYN-flood sources (IPv4, host order) */
	uint32_t burst_srcs[4]; /* bursty sources */
	uint16_t ip_id;
	uint8_t started;        /* first packet emitted: later ones add a gap */
};

/* Start a stream; cfg->count is ignored. */
void pktgen_init(struct pktgen *g, const struct pktgen_config *cfg);
/* Write the next frame into buf (PKTGEN_MAX_FRAME bytes) and describe it
 * in *meta (meta->data = buf). */
void pktgen_next(struct pktgen *g, uint8_t *buf, struct pktgen_packet *meta);

/* Generate cfg->count packets.  Returns 0, or -1 if out of memory (or the
 * count does not fit in memory); *out is then empty. */
int pktgen_generate(const struct pktgen_config *cfg, struct pktgen_set *out);
void pktgen_free(struct pktgen_set *set);

/* "ipv4-tcp", "syn-flood", ... */
const char *pktgen_kind_name(enum pktgen_kind kind);

#endif
