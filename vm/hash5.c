/*
 * vm/hash5.c — HASH5, the 5-tuple hash (definition: docs/ISA.md, "HASH5").
 *
 * Every read is preceded by a length check written as `len - off >= n`
 * after establishing off <= len, so nothing past the packet is touched and
 * nothing overflows.  Fields are read big-endian byte by byte, so the
 * result does not depend on the host's byte order.
 */
#include "encoding.h"
#include "semantics.h"
#include "vfm.h"

#define HASH5_SEED_IPV4 0x9E3779B97F4A7C15u
#define HASH5_SEED_IPV6 0xC2B2AE3D27D4EB4Fu
#define ETH_HLEN 14u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86DDu
#define ETHERTYPE_VLAN 0x8100u
#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u

static int has_ports(unsigned proto)
{
	return proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_;
}

/* Source and destination port as one word (sport << 16 | dport), 0 if the
 * transport header is not present in full. */
static uint64_t ports_at(const uint8_t *p, uint32_t len, uint32_t off)
{
	return off <= len && len - off >= 4 ? vfm_load_be(p + off, 4) : 0;
}

uint64_t vfm_hash5(const uint8_t *p, uint32_t len)
{
	if (!p || len < ETH_HLEN)
		return 0;
	uint32_t l3 = ETH_HLEN;
	uint64_t ethertype = vfm_load_be(p + 12, 2);
	if (ethertype == ETHERTYPE_VLAN) {
		if (len < ETH_HLEN + 4)
			return 0;
		ethertype = vfm_load_be(p + 16, 2);
		l3 = ETH_HLEN + 4;
	}
	const uint8_t *ip = p + l3;
	uint32_t ip_len = len - l3; /* bytes from the start of the IP header */

	if (ethertype == ETHERTYPE_IPV4) {
		if (ip_len < 20 || ip[0] >> 4 != 4)
			return 0;
		uint32_t ihl = (ip[0] & 0x0Fu) * 4u;
		if (ihl < 20)
			return 0;
		unsigned proto = ip[9];
		uint64_t fragment_offset = vfm_load_be(ip + 6, 2) & 0x1FFFu;
		uint64_t ports = has_ports(proto) && fragment_offset == 0
					 ? ports_at(ip, ip_len, ihl)
					 : 0;
		uint64_t addrs = vfm_load_be(ip + 12, 4) << 32 | vfm_load_be(ip + 16, 4);
		uint64_t rest = (uint64_t)proto << 32 | ports;
		return vfm_mix64(vfm_mix64(HASH5_SEED_IPV4 ^ addrs) ^ rest);
	}
	if (ethertype == ETHERTYPE_IPV6) {
		if (ip_len < 40 || ip[0] >> 4 != 6)
			return 0;
		unsigned next_header = ip[6];
		uint64_t ports = has_ports(next_header) ? ports_at(ip, ip_len, 40) : 0;
		uint64_t h = HASH5_SEED_IPV6;
		for (unsigned off = 8; off < 40; off += 8) /* src then dst */
			h = vfm_mix64(h ^ vfm_load_be(ip + off, 8));
		return vfm_mix64(h ^ ((uint64_t)next_header << 32 | ports));
	}
	return 0;
}
