/*
 * testkit/pktgen.c — see pktgen.h for the traffic mix.
 *
 * Every random decision goes through rnd() in a fixed order, so the output
 * is a pure function of the configuration.  Changing the order of draws
 * changes every capture generated from a seed: the pinned digest in
 * tests/test_pktgen.c is there to make that a deliberate act.
 */
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"
#include "prng.h"

/* ---- PRNG: xoshiro256** seeded by splitmix64 (prng.h) ---- */

static uint64_t rnd(struct pktgen *g)
{
	return prng_xoshiro_next(g->s);
}

/* Uniform-enough value in [0, n) by multiply-shift (no division, no
 * rejection loop: the bias is below 2^-32 and the draw count is fixed). */
static uint32_t rnd_below(struct pktgen *g, uint32_t n)
{
	return (uint32_t)(((rnd(g) >> 32) * (uint64_t)n) >> 32);
}

/* Inclusive range. */
static uint32_t rnd_range(struct pktgen *g, uint32_t lo, uint32_t hi)
{
	return lo + rnd_below(g, hi - lo + 1);
}

static int chance(struct pktgen *g, uint32_t per_mille)
{
	return rnd_below(g, 1000) < per_mille;
}

struct pktgen_weight {
	uint32_t weight; /* per mille */
	uint32_t value;
};

static uint32_t pick(struct pktgen *g, const struct pktgen_weight *w, size_t n)
{
	uint32_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i].weight;
	uint32_t r = rnd_below(g, total);
	for (size_t i = 0; i < n; i++) {
		if (r < w[i].weight)
			return w[i].value;
		r -= w[i].weight;
	}
	return w[n - 1].value;
}
#define PICK(g, table) pick((g), (table), sizeof(table) / sizeof((table)[0]))

/* ---- Byte helpers: network order, written byte by byte ---------------- */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void fill_random(struct pktgen *g, uint8_t *p, uint32_t n)
{
	while (n) {
		uint64_t r = rnd(g);
		for (int i = 0; i < 8 && n; i++, n--) {
			*p++ = (uint8_t)r;
			r >>= 8;
		}
	}
}

/* Internet checksum (RFC 1071) accumulation; fold with csum_fold. */
static uint64_t csum_add(uint64_t acc, const uint8_t *p, uint32_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (n)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static uint16_t csum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xFFFF) + (acc >> 16);
	return (uint16_t)~acc;
}

/* ---- Addresses and ports ---------------------------------------------- */

#define IP4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static uint32_t public_ip4(struct pktgen *g)
{
	/* First octet 1..223 minus the private/loopback ones picked elsewhere. */
	uint32_t a = rnd_range(g, 1, 223);
	if (a == 10 || a == 127)
		a++;
	return a << 24 | rnd_below(g, 1u << 24);
}

enum { NET_10, NET_172, NET_192, NET_PUBLIC };

static uint32_t ip4_in(struct pktgen *g, uint32_t net)
{
	switch (net) {
	case NET_10: return IP4(10, 0, 0, 0) | rnd_below(g, 1u << 24);
	case NET_172: return IP4(172, 16, 0, 0) | rnd_below(g, 1u << 20);
	case NET_192: return IP4(192, 168, 0, 0) | rnd_below(g, 1u << 16);
	default: return public_ip4(g);
	}
}

static uint32_t src_ip4(struct pktgen *g)
{
	static const struct pktgen_weight w[] = {
		{300, NET_10}, {150, NET_172}, {150, NET_192}, {400, NET_PUBLIC}};
	return ip4_in(g, PICK(g, w));
}

static uint32_t dst_ip4(struct pktgen *g)
{
	static const struct pktgen_weight w[] = {
		{350, NET_192}, {150, NET_10}, {500, NET_PUBLIC}};
	return ip4_in(g, PICK(g, w));
}

static uint16_t ephemeral_port(struct pktgen *g)
{
	return (uint16_t)rnd_range(g, 32768, 60999);
}

/* Client to server 70%: the service port is the destination. */
static void tcp_ports(struct pktgen *g, uint16_t *sport, uint16_t *dport)
{
	static const struct pktgen_weight w[] = {
		{350, 80}, {250, 443}, {100, 22}, {40, 25}, {60, 8080}, {200, 0}};
	uint16_t service = (uint16_t)PICK(g, w);
	if (!service)
		service = (uint16_t)rnd_range(g, 1, 65535);
	uint16_t eph = ephemeral_port(g);
	if (chance(g, 700)) {
		*sport = eph;
		*dport = service;
	} else {
		*sport = service;
		*dport = eph;
	}
}

static void udp_ports(struct pktgen *g, uint16_t *sport, uint16_t *dport)
{
	static const struct pktgen_weight w[] = {
		{350, 53}, {120, 123}, {150, 443}, {80, 5353}, {50, 514}, {250, 0}};
	uint16_t service = (uint16_t)PICK(g, w);
	if (!service)
		service = (uint16_t)rnd_range(g, 1, 65535);
	uint16_t eph = ephemeral_port(g);
	if (chance(g, 600)) {
		*sport = eph;
		*dport = service;
	} else {
		*sport = service;
		*dport = eph;
	}
}

/* Frame length before the L3/L4 headers are known: mostly small, a
 * quarter large (bulk transfers fill 1514). */
static uint32_t frame_len(struct pktgen *g)
{
	static const struct pktgen_weight w[] = {
		{400, 0}, {300, 1}, {120, 2}, {90, 3}, {90, 4}};
	switch (PICK(g, w)) {
	case 0: return rnd_range(g, 60, 128);
	case 1: return rnd_range(g, 129, 600);
	case 2: return rnd_range(g, 601, 1199);
	case 3: return rnd_range(g, 1200, PKTGEN_MAX_FRAME);
	default: return PKTGEN_MAX_FRAME;
	}
}

static uint8_t pick_ttl(struct pktgen *g)
{
	static const uint8_t ttls[] = {64, 64, 128, 128, 255, 63, 127, 54, 116, 248};
	return ttls[rnd_below(g, sizeof ttls)];
}

/* ---- Layer 2 ----------------------------------------------------------- */

static void random_mac(struct pktgen *g, uint8_t *mac)
{
	fill_random(g, mac, 6);
	mac[0] = (uint8_t)((mac[0] & 0xFC) | 0x02); /* unicast, locally administered */
}

static uint32_t eth_header(struct pktgen *g, uint8_t *f, uint32_t ethertype)
{
	random_mac(g, f);
	random_mac(g, f + 6);
	put16(f + 12, ethertype);
	return 14;
}

/* Zero padding up to the Ethernet minimum. */
static uint32_t pad_frame(uint8_t *f, uint32_t len)
{
	if (len < PKTGEN_MIN_FRAME) {
		memset(f + len, 0, PKTGEN_MIN_FRAME - len);
		len = PKTGEN_MIN_FRAME;
	}
	return len;
}

/* ---- Layer 4 ----------------------------------------------------------- */

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08,
       TCP_ACK = 0x10, TCP_URG = 0x20 };

struct l4spec {
	uint8_t proto;      /* 6, 17 or 1 */
	uint8_t tcp_flags;
	uint16_t sport, dport;
	uint8_t icmp_type;  /* 8 echo request, 0 echo reply, 3 unreachable */
	uint32_t payload;   /* bytes after the L4 header */
	int syn_options;    /* TCP: MSS, SACK-permitted, timestamps, wscale */
};

static uint8_t tcp_flags(struct pktgen *g)
{
	static const struct pktgen_weight w[] = {
		{220, TCP_SYN},
		{80, TCP_SYN | TCP_ACK},
		{350, TCP_ACK},
		{220, TCP_PSH | TCP_ACK},
		{60, TCP_FIN | TCP_ACK},
		{40, TCP_RST},
		{20, TCP_RST | TCP_ACK},
		{4, 0},                                         /* NULL scan */
		{3, TCP_FIN | TCP_PSH | TCP_URG},               /* XMAS scan */
		{3, TCP_SYN | TCP_FIN},
	};
	return (uint8_t)PICK(g, w);
}

/* A TCP spec whose payload fills a frame of target bytes after hdrs bytes
 * of L2+L3 headers (segments without data stay empty). */
static struct l4spec tcp_spec(struct pktgen *g, uint32_t hdrs, uint32_t target)
{
	struct l4spec s = {.proto = 6};
	tcp_ports(g, &s.sport, &s.dport);
	s.tcp_flags = tcp_flags(g);
	s.syn_options = (s.tcp_flags & TCP_SYN) && !(s.tcp_flags & TCP_FIN) && chance(g, 850);
	int carries_data = (s.tcp_flags & TCP_PSH) ||
			   (s.tcp_flags == TCP_ACK && chance(g, 400));
	if (carries_data && target > hdrs + 20)
		s.payload = target - hdrs - 20;
	return s;
}

static struct l4spec udp_spec(struct pktgen *g, uint32_t hdrs, uint32_t target)
{
	struct l4spec s = {.proto = 17};
	udp_ports(g, &s.sport, &s.dport);
	if (s.sport == 123 || s.dport == 123)
		s.payload = 48; /* NTP */
	else if (s.sport == 53 || s.dport == 53)
		s.payload = rnd_range(g, 20, 480);
	else
		s.payload = target > hdrs + 8 ? target - hdrs - 8 : 0;
	return s;
}

static struct l4spec icmp_spec(struct pktgen *g, uint32_t hdrs, uint32_t target)
{
	struct l4spec s = {.proto = 1};
	(void)hdrs;
	(void)target;
	if (chance(g, 850)) {
		s.icmp_type = chance(g, 500) ? 8 : 0;
		s.payload = chance(g, 700) ? 56 : rnd_range(g, 0, 1000); /* ping's default is 56 */
	} else {
		s.icmp_type = 3;
		s.payload = 28; /* the offending IPv4 header and 8 bytes of UDP */
	}
	return s;
}

static uint32_t tcp_header_len(const struct l4spec *s)
{
	return s->syn_options ? 40 : 20;
}

static uint32_t l4_header_len(const struct l4spec *s)
{
	return s->proto == 6 ? tcp_header_len(s) : 8;
}

static void quoted_udp(struct pktgen *g, uint8_t *p);

/* Write the L4 header and payload at p; the checksum field stays zero and
 * is filled by the caller, which knows the pseudo-header.  Returns the
 * segment length. */
static uint32_t l4_write(struct pktgen *g, uint8_t *p, const struct l4spec *s)
{
	uint32_t hl = l4_header_len(s);
	if (s->proto == 6) {
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, (uint32_t)rnd(g));                           /* seq */
		put32(p + 8, s->tcp_flags & TCP_ACK ? (uint32_t)rnd(g) : 0); /* ack */
		p[12] = (uint8_t)(hl / 4 << 4);
		p[13] = s->tcp_flags;
		put16(p + 14, rnd_range(g, 512, 65535)); /* window */
		put16(p + 16, 0);
		put16(p + 18, 0);
		if (s->syn_options) {
			uint8_t *o = p + 20;
			o[0] = 2; o[1] = 4; put16(o + 2, chance(g, 800) ? 1460 : 1400); /* MSS */
			o[4] = 4; o[5] = 2;                                             /* SACK ok */
			o[6] = 8; o[7] = 10; put32(o + 8, (uint32_t)rnd(g)); put32(o + 12, 0); /* TS */
			o[16] = 1;                                                      /* NOP */
			o[17] = 3; o[18] = 3; o[19] = (uint8_t)rnd_range(g, 0, 14);     /* wscale */
		}
	} else if (s->proto == 17) {
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, hl + s->payload);
		put16(p + 6, 0);
	} else {
		p[0] = s->icmp_type;
		p[1] = s->icmp_type == 3 ? 3 : 0; /* port unreachable */
		put16(p + 2, 0);
		if (s->icmp_type == 3) {
			put32(p + 4, 0);
			quoted_udp(g, p + 8);
			return hl + s->payload;
		}
		put16(p + 4, rnd_below(g, 65536)); /* identifier */
		put16(p + 6, rnd_below(g, 65536)); /* sequence */
	}
	fill_random(g, p + hl, s->payload);
	return hl + s->payload;
}

static uint32_t l4_csum_offset(uint8_t proto)
{
	return proto == 6 ? 16 : proto == 17 ? 6 : 2;
}

/* Store a checksum; UDP transmits a computed 0 as 0xFFFF (RFC 768). */
static void store_csum(uint8_t *field, uint8_t proto, uint16_t c)
{
	if (proto == 17 && c == 0)
		c = 0xFFFF;
	put16(field, c);
}

/* ---- IPv4 -------------------------------------------------------------- */

/* IHL: 85% plain, 15% with options. */
static uint32_t pick_ihl(struct pktgen *g)
{
	return chance(g, 850) ? 5 : rnd_range(g, 6, 15);
}

static void ipv4_options(struct pktgen *g, uint8_t *o, uint32_t n)
{
	switch (rnd_below(g, 3)) {
	case 0: /* Record Route filling the space (length 3 + 4k), then EOL */
		o[0] = 7;
		o[1] = (uint8_t)(n - 1);
		o[2] = 4;
		memset(o + 3, 0, n - 3);
		break;
	case 1: /* Timestamp, timestamps only, all slots empty */
		o[0] = 68;
		o[1] = (uint8_t)n;
		o[2] = 5;
		memset(o + 3, 0, n - 3);
		break;
	default: /* Router Alert, NOPs, EOL */
		o[0] = 148;
		o[1] = 4;
		o[2] = 0;
		o[3] = 0;
		memset(o + 4, 1, n - 4);
		if (n > 4)
			o[n - 1] = 0;
		break;
	}
}

struct ip4spec {
	uint32_t src, dst;
	uint32_t ihl;
	uint32_t frag;  /* flags + fragment offset field; DF/MF bits included */
	uint8_t proto;
};

/* IPv4 header at ip for a datagram of total bytes, checksum included. */
static uint32_t ipv4_header(struct pktgen *g, uint8_t *ip, const struct ip4spec *s,
			    uint32_t total)
{
	uint32_t hl = s->ihl * 4;
	ip[0] = (uint8_t)(0x40 | s->ihl);
	ip[1] = chance(g, 900) ? 0 : (uint8_t)(rnd_below(g, 64) << 2); /* DSCP */
	put16(ip + 2, total);
	put16(ip + 4, g->ip_id++);
	put16(ip + 6, s->frag);
	ip[8] = pick_ttl(g);
	ip[9] = s->proto;
	put16(ip + 10, 0);
	put32(ip + 12, s->src);
	put32(ip + 16, s->dst);
	if (hl > 20)
		ipv4_options(g, ip + 20, hl - 20);
	put16(ip + 10, csum_fold(csum_add(0, ip, hl)));
	return hl;
}

/* What an ICMP error quotes: a UDP datagram's IPv4 header and the first
 * 8 bytes of its payload (28 bytes). */
static void quoted_udp(struct pktgen *g, uint8_t *p)
{
	struct ip4spec ip = {.proto = 17, .ihl = 5};
	ip.src = src_ip4(g);
	ip.dst = dst_ip4(g);
	uint32_t udp_len = rnd_range(g, 8, 512);
	ipv4_header(g, p, &ip, 20 + udp_len);
	put16(p + 20, ephemeral_port(g));
	put16(p + 22, rnd_range(g, 1, 65535));
	put16(p + 24, udp_len);
	put16(p + 26, rnd_below(g, 65536));
}

static uint64_t pseudo4(const struct ip4spec *s, uint32_t seg_len)
{
	uint8_t ph[12];
	put32(ph, s->src);
	put32(ph + 4, s->dst);
	ph[8] = 0;
	ph[9] = s->proto;
	put16(ph + 10, seg_len);
	return csum_add(0, ph, sizeof ph);
}

/* Largest L4 payload that keeps the frame at or under the maximum. */
static void clamp_payload(struct l4spec *l4, uint32_t hdrs)
{
	uint32_t room = PKTGEN_MAX_FRAME - hdrs - l4_header_len(l4);
	if (l4->payload > room)
		l4->payload = room;
}

/* A complete (unfragmented) IPv4 datagram at f + l2.  Returns frame length. */
static uint32_t ipv4_datagram(struct pktgen *g, uint8_t *f, uint32_t l2,
			      struct ip4spec *ip, struct l4spec *l4)
{
	uint32_t hl = ip->ihl * 4;
	clamp_payload(l4, l2 + hl);
	uint8_t *seg = f + l2 + hl;
	uint32_t seg_len = l4_write(g, seg, l4);
	uint64_t acc = ip->proto == 1 ? 0 : pseudo4(ip, seg_len);
	store_csum(seg + l4_csum_offset(ip->proto), ip->proto,
		   csum_fold(csum_add(acc, seg, seg_len)));
	ipv4_header(g, f + l2, ip, hl + seg_len);
	return pad_frame(f, l2 + hl + seg_len);
}

static struct ip4spec ip4_plain(struct pktgen *g, uint8_t proto)
{
	struct ip4spec ip = {.proto = proto};
	ip.src = src_ip4(g);
	ip.dst = dst_ip4(g);
	ip.ihl = pick_ihl(g);
	ip.frag = proto == 6 && chance(g, 800) ? 0x4000 : 0; /* DF */
	return ip;
}

static struct l4spec l4_for(struct pktgen *g, uint8_t proto, uint32_t hdrs)
{
	uint32_t target = frame_len(g);
	if (proto == 6)
		return tcp_spec(g, hdrs, target);
	if (proto == 17)
		return udp_spec(g, hdrs, target);
	return icmp_spec(g, hdrs, target);
}

static uint32_t gen_ipv4(struct pktgen *g, uint8_t *f, uint8_t proto)
{
	uint32_t l2 = eth_header(g, f, 0x0800);
	struct ip4spec ip = ip4_plain(g, proto);
	struct l4spec l4 = l4_for(g, proto, l2 + ip.ihl * 4);
	return ipv4_datagram(g, f, l2, &ip, &l4);
}

static uint32_t gen_vlan_ipv4(struct pktgen *g, uint8_t *f)
{
	eth_header(g, f, 0x8100);
	put16(f + 14, rnd_below(g, 8) << 13 | rnd_range(g, 1, 4094)); /* PCP, VID */
	put16(f + 16, 0x0800);
	uint8_t proto = chance(g, 700) ? 6 : 17;
	struct ip4spec ip = ip4_plain(g, proto);
	struct l4spec l4 = l4_for(g, proto, 18 + ip.ihl * 4);
	return ipv4_datagram(g, f, 18, &ip, &l4);
}

/* First fragment: L4 header present, MF set, payload a multiple of 8.
 * The L4 checksum would cover the whole datagram, so it is random. */
static uint32_t gen_frag_first(struct pktgen *g, uint8_t *f)
{
	uint32_t l2 = eth_header(g, f, 0x0800);
	uint8_t proto = chance(g, 700) ? 17 : 6;
	struct ip4spec ip = ip4_plain(g, proto);
	ip.frag = 0x2000; /* MF, offset 0 */
	uint32_t hl = ip.ihl * 4;
	uint32_t data = rnd_range(g, 8, (PKTGEN_MAX_FRAME - l2 - hl) / 8) * 8;
	struct l4spec l4 = proto == 6 ? tcp_spec(g, 0, 0) : udp_spec(g, 0, 0);
	l4.syn_options = 0;
	if (data < l4_header_len(&l4))
		data = 24;
	l4.payload = data - l4_header_len(&l4);
	uint8_t *seg = f + l2 + hl;
	l4_write(g, seg, &l4);
	if (proto == 17)
		put16(seg + 4, data + rnd_range(g, 8, 4000)); /* whole datagram */
	put16(seg + l4_csum_offset(proto), rnd_below(g, 65536));
	ipv4_header(g, f + l2, &ip, hl + data);
	return pad_frame(f, l2 + hl + data);
}

/* Later fragment: offset != 0, MF set except on the last one, payload is
 * the middle of some datagram (bytes where ports would be are random). */
static uint32_t gen_frag_later(struct pktgen *g, uint8_t *f)
{
	uint32_t l2 = eth_header(g, f, 0x0800);
	struct ip4spec ip = ip4_plain(g, chance(g, 700) ? 17 : 6);
	uint32_t more = chance(g, 500) ? 0x2000 : 0;
	ip.frag = more | rnd_range(g, 1, 1000); /* offset in 8-byte units */
	uint32_t hl = ip.ihl * 4;
	uint32_t data = more ? rnd_range(g, 1, (PKTGEN_MAX_FRAME - l2 - hl) / 8) * 8
			     : rnd_range(g, 1, PKTGEN_MAX_FRAME - l2 - hl);
	fill_random(g, f + l2 + hl, data);
	ipv4_header(g, f + l2, &ip, hl + data);
	return pad_frame(f, l2 + hl + data);
}

/* ---- IPv6 -------------------------------------------------------------- */

static void ip6_addr(struct pktgen *g, uint8_t *a)
{
	fill_random(g, a, 16);
	if (chance(g, 800)) { /* 2001:db8::/32, documentation */
		a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
	} else { /* fd00::/8, unique local */
		a[0] = 0xfd;
	}
}

static uint32_t gen_ipv6(struct pktgen *g, uint8_t *f, uint8_t proto)
{
	uint32_t l2 = eth_header(g, f, 0x86DD);
	uint8_t *ip = f + l2;
	struct l4spec l4 = l4_for(g, proto, l2 + 40);
	clamp_payload(&l4, l2 + 40);
	put32(ip, 6u << 28 | rnd_below(g, 1u << 20)); /* version, class 0, flow label */
	ip[6] = proto;
	ip[7] = chance(g, 700) ? 64 : 255;
	ip6_addr(g, ip + 8);
	ip6_addr(g, ip + 24);
	uint8_t *seg = ip + 40;
	uint32_t seg_len = l4_write(g, seg, &l4);
	put16(ip + 4, seg_len);
	/* Pseudo-header: addresses, upper-layer length, next header. */
	uint8_t ph[8] = {0};
	put32(ph, seg_len);
	ph[7] = proto;
	uint64_t acc = csum_add(csum_add(0, ip + 8, 32), ph, sizeof ph);
	store_csum(seg + l4_csum_offset(proto), proto, csum_fold(csum_add(acc, seg, seg_len)));
	return pad_frame(f, l2 + 40 + seg_len);
}

/* ---- ARP and other ethertypes ----------------------------------------- */

static uint32_t gen_arp(struct pktgen *g, uint8_t *f)
{
	int request = chance(g, 650);
	eth_header(g, f, 0x0806);
	if (request)
		memset(f, 0xFF, 6);
	uint8_t *a = f + 14;
	put16(a, 1);       /* Ethernet */
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, request ? 1 : 2);
	memcpy(a + 8, f + 6, 6); /* sender MAC = frame source */
	uint32_t net = chance(g, 600) ? NET_192 : NET_10;
	uint32_t spa = ip4_in(g, net);
	put32(a + 14, spa);
	if (request)
		memset(a + 18, 0, 6);
	else
		memcpy(a + 18, f, 6);
	put32(a + 24, (spa & 0xFFFFFF00u) | rnd_range(g, 1, 254));
	return pad_frame(f, 14 + 28);
}

static uint32_t gen_other(struct pktgen *g, uint8_t *f)
{
	static const uint8_t lldp_dst[6] = {0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E};
	static const uint8_t stp_dst[6] = {0x01, 0x80, 0xC2, 0x00, 0x00, 0x00};
	uint32_t len;
	switch (rnd_below(g, 5)) {
	case 0: { /* LLDP: chassis ID, port ID, TTL, end */
		eth_header(g, f, 0x88CC);
		memcpy(f, lldp_dst, 6);
		uint8_t *t = f + 14;
		put16(t, 1u << 9 | 7); t[2] = 4; memcpy(t + 3, f + 6, 6);
		put16(t + 9, 2u << 9 | 7); t[11] = 3; memcpy(t + 12, f + 6, 6);
		put16(t + 18, 3u << 9 | 2); put16(t + 20, 120);
		put16(t + 22, 0);
		len = 14 + 24;
		break;
	}
	case 1: { /* MPLS unicast: one label, bottom of stack, then IPv4 */
		eth_header(g, f, 0x8847);
		put32(f + 14, rnd_range(g, 16, 0xFFFFF) << 12 | 1u << 8 | 64);
		uint8_t proto = chance(g, 600) ? 6 : 17;
		struct ip4spec ip = ip4_plain(g, proto);
		struct l4spec l4 = l4_for(g, proto, 18 + ip.ihl * 4);
		len = ipv4_datagram(g, f, 18, &ip, &l4);
		break;
	}
	case 2: /* PPPoE discovery PADI with service-name and host-uniq tags */
		eth_header(g, f, 0x8863);
		memset(f, 0xFF, 6);
		f[14] = 0x11;
		f[15] = 0x09;
		put16(f + 16, 0);
		put16(f + 18, 12);
		put16(f + 20, 0x0101); put16(f + 22, 0);
		put16(f + 24, 0x0103); put16(f + 26, 4); put32(f + 28, (uint32_t)rnd(g));
		len = 32;
		break;
	case 3: /* Novell IPX */
		eth_header(g, f, 0x8137);
		len = rnd_range(g, 60, 576);
		fill_random(g, f + 14, len - 14);
		put16(f + 14, 0xFFFF);
		put16(f + 16, len - 14);
		break;
	default: /* IEEE 802.3 length field + LLC + STP configuration BPDU */
		eth_header(g, f, 38);
		memcpy(f, stp_dst, 6);
		f[14] = 0x42; f[15] = 0x42; f[16] = 0x03;
		memset(f + 17, 0, 35);
		fill_random(g, f + 22, 8); /* root ID */
		len = 14 + 38;
		break;
	}
	return pad_frame(f, len);
}

/* ---- Attacks and bursts ----------------------------------------------- */

/* A bare SYN from one of the flood sources to one victim. */
static uint32_t gen_syn_flood(struct pktgen *g, uint8_t *f)
{
	uint32_t l2 = eth_header(g, f, 0x0800);
	struct ip4spec ip = {.proto = 6, .ihl = 5};
	ip.src = g->flood_src[rnd_below(g, 6)];
	ip.dst = IP4(192, 168, 1, 10);
	struct l4spec l4 = {.proto = 6, .tcp_flags = TCP_SYN};
	l4.sport = (uint16_t)rnd_range(g, 1024, 65535);
	l4.dport = chance(g, 750) ? 80 : 443;
	return ipv4_datagram(g, f, l2, &ip, &l4);
}

static uint32_t gen_burst(struct pktgen *g, uint8_t *f)
{
	uint32_t l2 = eth_header(g, f, 0x0800);
	struct ip4spec ip = {.ihl = 5};
	ip.src = g->burst_srcs[g->burst_src];
	ip.dst = IP4(192, 168, 2, 0) | rnd_range(g, 1, 254);
	struct l4spec l4;
	if (chance(g, 700)) {
		ip.proto = 17;
		l4 = (struct l4spec){.proto = 17, .sport = 40000, .dport = 5001};
		l4.payload = frame_len(g);
		l4.payload = l4.payload > l2 + 28 ? l4.payload - l2 - 28 : 0;
	} else {
		ip.proto = 6;
		ip.frag = 0x4000;
		l4 = (struct l4spec){.proto = 6, .tcp_flags = TCP_PSH | TCP_ACK,
				     .sport = 50000, .dport = 80};
		l4.payload = rnd_range(g, 1, 1400);
	}
	return ipv4_datagram(g, f, l2, &ip, &l4);
}

/* ---- Stream ------------------------------------------------------------ */

static const char *const pktgen_kind_names[PKTGEN_KIND_COUNT] = {
	[PKTGEN_IPV4_TCP] = "ipv4-tcp",
	[PKTGEN_IPV4_UDP] = "ipv4-udp",
	[PKTGEN_IPV4_ICMP] = "ipv4-icmp",
	[PKTGEN_IPV4_FRAG_FIRST] = "ipv4-frag-first",
	[PKTGEN_IPV4_FRAG_LATER] = "ipv4-frag-later",
	[PKTGEN_IPV6_TCP] = "ipv6-tcp",
	[PKTGEN_IPV6_UDP] = "ipv6-udp",
	[PKTGEN_VLAN_IPV4] = "vlan-ipv4",
	[PKTGEN_ARP] = "arp",
	[PKTGEN_OTHER] = "other",
	[PKTGEN_TRUNCATED] = "truncated",
	[PKTGEN_SYN_FLOOD] = "syn-flood",
	[PKTGEN_BURST] = "burst",
};

const char *pktgen_kind_name(enum pktgen_kind kind)
{
	if ((unsigned)kind >= PKTGEN_KIND_COUNT)
		return "unknown";
	return pktgen_kind_names[kind];
}

void pktgen_init(struct pktgen *g, const struct pktgen_config *cfg)
{
	memset(g, 0, sizeof *g);
	prng_xoshiro_seed(g->s, cfg->seed);
	g->next_ts = cfg->start_ns ? cfg->start_ns : PKTGEN_DEFAULT_START_NS;
	g->mean_gap_ns = cfg->mean_gap_ns ? cfg->mean_gap_ns : PKTGEN_DEFAULT_MEAN_GAP_NS;
	/* Fixed per seed; distinct by construction (disjoint host ranges). */
	for (uint32_t i = 0; i < 6; i++)
		g->flood_src[i] = (i < 3 ? IP4(198, 51, 100, 0) : IP4(203, 0, 113, 0)) |
				  ((i % 3) * 80 + rnd_range(g, 1, 79));
	for (uint32_t i = 0; i < 4; i++)
		g->burst_srcs[i] = (i < 2 ? IP4(10, 200, 0, 0) : IP4(198, 18, 0, 0)) |
				   (i % 2) << 8 | rnd_range(g, 1, 254);
	g->ip_id = (uint16_t)rnd(g);
}

/* Categories outside bursts, in per mille (see pktgen.h for the shares of
 * the whole mix, which includes ~10% burst packets). */
static const struct pktgen_weight pktgen_mix[] = {
	{449, PKTGEN_IPV4_TCP},
	{120, PKTGEN_IPV4_UDP},
	{45, PKTGEN_IPV4_ICMP},
	{22, PKTGEN_IPV4_FRAG_FIRST},
	{22, PKTGEN_IPV4_FRAG_LATER},
	{65, PKTGEN_IPV6_TCP},
	{35, PKTGEN_IPV6_UDP},
	{55, PKTGEN_VLAN_IPV4},
	{30, PKTGEN_ARP},
	{22, PKTGEN_OTHER},
	{45, PKTGEN_TRUNCATED},
	{90, PKTGEN_SYN_FLOOD},
};

static uint32_t gen_kind(struct pktgen *g, uint8_t *f, enum pktgen_kind kind)
{
	switch (kind) {
	case PKTGEN_IPV4_TCP: return gen_ipv4(g, f, 6);
	case PKTGEN_IPV4_UDP: return gen_ipv4(g, f, 17);
	case PKTGEN_IPV4_ICMP: return gen_ipv4(g, f, 1);
	case PKTGEN_IPV4_FRAG_FIRST: return gen_frag_first(g, f);
	case PKTGEN_IPV4_FRAG_LATER: return gen_frag_later(g, f);
	case PKTGEN_IPV6_TCP: return gen_ipv6(g, f, 6);
	case PKTGEN_IPV6_UDP: return gen_ipv6(g, f, 17);
	case PKTGEN_VLAN_IPV4: return gen_vlan_ipv4(g, f);
	case PKTGEN_ARP: return gen_arp(g, f);
	case PKTGEN_SYN_FLOOD: return gen_syn_flood(g, f);
	case PKTGEN_BURST: return gen_burst(g, f);
	case PKTGEN_OTHER:
	case PKTGEN_TRUNCATED:
	case PKTGEN_KIND_COUNT:
		break;
	}
	return gen_other(g, f);
}

/* One of the ordinary categories, cut short: a quarter inside the
 * Ethernet header, a quarter in the next 40 bytes, the rest anywhere. */
static void gen_truncated(struct pktgen *g, uint8_t *f, struct pktgen_packet *m)
{
	enum pktgen_kind base = (enum pktgen_kind)rnd_below(g, PKTGEN_OTHER + 1);
	uint32_t full = gen_kind(g, f, base);
	uint32_t cut;
	switch (rnd_below(g, 4)) {
	case 0: cut = rnd_range(g, 0, 13); break;
	case 1: cut = rnd_range(g, 14, 54); break;
	default: cut = rnd_range(g, 0, full - 1); break;
	}
	m->len = cut;
	m->wire_len = full;
}

void pktgen_next(struct pktgen *g, uint8_t *buf, struct pktgen_packet *meta)
{
	enum pktgen_kind kind;
	uint64_t gap;
	if (!g->burst_left && rnd_below(g, 1300) == 0) {
		g->burst_left = rnd_range(g, 32, 255);
		g->burst_src = rnd_below(g, 4);
	}
	if (g->burst_left) {
		/* ~1 us apart at the default mean: about a million packets/s */
		g->burst_left--;
		kind = PKTGEN_BURST;
		uint64_t lo = g->mean_gap_ns / 50, hi = (uint64_t)g->mean_gap_ns * 9 / 50;
		gap = lo + rnd(g) % (hi - lo + 1);
	} else {
		kind = (enum pktgen_kind)PICK(g, pktgen_mix);
		/* Outside bursts the mean is 1.1x so the overall mean stays ~1x;
		 * uniform in [1, 2 * mean - 1]. */
		uint64_t mean = (uint64_t)g->mean_gap_ns + g->mean_gap_ns / 10;
		gap = 1 + rnd(g) % (2 * mean - 1);
	}
	/* The first packet sits at start_ns; gaps are at least 1 ns so
	 * timestamps strictly increase. */
	if (g->started)
		g->next_ts += gap ? gap : 1;
	g->started = 1;

	meta->data = buf;
	meta->kind = kind;
	meta->ts_ns = g->next_ts;
	if (kind == PKTGEN_TRUNCATED) {
		gen_truncated(g, buf, meta);
	} else {
		meta->len = gen_kind(g, buf, kind);
		meta->wire_len = meta->len;
	}
}

int pktgen_generate(const struct pktgen_config *cfg, struct pktgen_set *out)
{
	memset(out, 0, sizeof *out);
	if (cfg->count > SIZE_MAX / sizeof(struct pktgen_packet) ||
	    cfg->count > SIZE_MAX / PKTGEN_MAX_FRAME)
		return -1;
	size_t count = (size_t)cfg->count;
	struct pktgen_packet *pkts = malloc(count ? count * sizeof *pkts : 1);
	size_t cap = count * 512 + PKTGEN_MAX_FRAME, used = 0;
	uint8_t *buf = malloc(cap);
	if (!pkts || !buf)
		goto oom;
	struct pktgen g;
	pktgen_init(&g, cfg);
	for (size_t i = 0; i < count; i++) {
		if (cap - used < PKTGEN_MAX_FRAME) {
			size_t ncap = cap + cap / 2 + PKTGEN_MAX_FRAME;
			uint8_t *nbuf = realloc(buf, ncap);
			if (!nbuf)
				goto oom;
			buf = nbuf;
			cap = ncap;
		}
		pktgen_next(&g, buf + used, &pkts[i]);
		used += pkts[i].len;
	}
	/* The buffer moved while growing: point the packets into it now. */
	size_t off = 0;
	for (size_t i = 0; i < count; i++) {
		pkts[i].data = buf + off;
		off += pkts[i].len;
	}
	out->pkts = pkts;
	out->count = count;
	out->buf = buf;
	out->buf_len = used;
	return 0;
oom:
	free(pkts);
	free(buf);
	return -1;
}

void pktgen_free(struct pktgen_set *set)
{
	if (!set)
		return;
	free(set->pkts);
	free(set->buf);
	memset(set, 0, sizeof *set);
}
