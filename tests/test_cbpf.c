/*
 * tests/test_cbpf.c — classic BPF → VFM (vm/cbpf.c, api/cbpf.c,
 * docs/CBPF.md) against libpcap's own bpf_filter(): the exact verdict on
 * every packet, on the interpreter and on the JIT.
 *
 *   - validation: every rule, with its message and error code; agreement
 *     with bpf_validate on random instruction words;
 *   - printing: vfm_cbpf_format against libpcap's bpf_image;
 *   - hand-written programs for every opcode and corner case (bounds, DIV
 *     and MOD by X = 0, shifts by X >= 32, 32-bit wrap, X + k indexed loads,
 *     ret #k, the wire length, backward ja under the budget, scratch);
 *   - generated programs (fuzz/cbpf_gen.h, the fuzzer's generator) with a
 *     reference interpreter that also predicts the status;
 *   - pcap-filter expressions of every primitive family compiled by
 *     pcap_compile on pcap_open_dead(DLT_EN10MB, 262144), optimizer on (and
 *     off), over the generated capture, synthetic packets of every family
 *     (VLAN, MPLS, PPPoE, ARP, LLC, IPv4 options and fragments, IPv6
 *     extension-header chains, SCTP, ICMPv6, broadcast and multicast),
 *     mutated and truncated copies, and the captures in corpus/pcap; then
 *     DLT_RAW and DLT_LINUX_SLL;
 *   - the file image: line table, the cBPF section, vfm_load_cbpf.
 *
 * The verdict compared is bpf_filter's exact return value (262144 for
 * `ret #262144`), with bpf_filter(prog, data, wirelen, caplen) against
 * VFM's vfm_packet_t{.len = caplen, .wire_len = wirelen}.  libpcap 1.10's
 * bpf_filter leaves M[] uninitialised, so programs that may read a scratch
 * word before writing it are compared with the reference interpreter only
 * (none of pcap_compile's programs does; the test checks that).
 *
 * Every packet lives in its own heap block of its exact size, so ASan
 * builds catch a read past it by either engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <pcap/pcap.h>

#include "vfm.h"
#include "pktgen.h"
#include "../fuzz/cbpf_gen.h"

_Static_assert(sizeof(vfm_cbpf_insn_t) == sizeof(struct bpf_insn),
	       "vfm_cbpf_insn_t has struct bpf_insn's layout");
_Static_assert(offsetof(vfm_cbpf_insn_t, k) == offsetof(struct bpf_insn, k),
	       "vfm_cbpf_insn_t.k");
_Static_assert(offsetof(vfm_cbpf_insn_t, jt) == offsetof(struct bpf_insn, jt),
	       "vfm_cbpf_insn_t.jt");
_Static_assert(offsetof(vfm_cbpf_insn_t, jf) == offsetof(struct bpf_insn, jf),
	       "vfm_cbpf_insn_t.jf");
_Static_assert(sizeof(struct cbpf_gen_insn) == sizeof(struct bpf_insn),
	       "the generator's instructions have struct bpf_insn's layout");

#define SNAPLEN 262144

/* The sanitizer builds of `make test` (ASan; the verifier's runtime oracle,
 * which checks the abstract state before every instruction) run a fraction
 * of the packets and random programs; the normal build (`make check`) runs
 * everything.  Every expression and hand-written program runs in all. */
#if defined(VFM_ORACLE)
#define SCALE 25
#elif defined(__SANITIZE_ADDRESS__)
#define SCALE 4
#else
#define SCALE 1
#endif

/* ---- packets ------------------------------------------------------------- */

struct tpkt {
	uint8_t *data; /* own block of exactly len bytes (NULL if 0) */
	uint32_t len;
	uint32_t wire; /* vfm_packet_t.wire_len: 0 = unknown (= len) */
};

struct tpkts {
	struct tpkt *p;
	size_t n, cap;
};

/* bpf_filter's wirelen for a packet. */
static uint32_t bpf_wirelen(const struct tpkt *t)
{
	return t->wire ? t->wire : t->len;
}

static void pkts_add(struct tpkts *s, const uint8_t *data, uint32_t len, uint32_t wire)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->p = realloc(s->p, s->cap * sizeof *s->p);
		assert_non_null(s->p);
	}
	struct tpkt *t = &s->p[s->n++];
	t->data = len ? malloc(len) : NULL;
	if (len)
		memcpy(t->data, data, len);
	t->len = len;
	t->wire = wire;
}

static void pkts_free(struct tpkts *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->p[i].data);
	free(s->p);
	memset(s, 0, sizeof *s);
}

/* A packet and mutated copies: cut short anywhere (the wire length stays:
 * a short snaplen), 1-3 bit flips in the first 64 bytes (headers), a random
 * byte anywhere, or the same bytes with the wire length unknown (0). */
static void pkts_add_mutated(struct tpkts *s, const uint8_t *data, uint32_t len,
			     uint32_t wire, uint64_t *rng)
{
	uint8_t tmp[2048];
	if (len > sizeof tmp)
		len = sizeof tmp;
	pkts_add(s, data, len, wire);
	uint64_t r = cbpf_splitmix(rng);
	memcpy(tmp, data, len);
	uint32_t w = wire ? wire : len;
	switch (r % 4) {
	case 0:
		pkts_add(s, tmp, len ? (uint32_t)((r >> 8) % len) : 0, w);
		break;
	case 1:
		for (unsigned f = 0; f < 1 + (r >> 8) % 3 && len; f++) {
			uint64_t q = cbpf_splitmix(rng);
			tmp[q % (len < 64 ? len : 64)] ^= (uint8_t)(1u << ((q >> 8) % 8));
		}
		pkts_add(s, tmp, len, wire);
		break;
	case 2:
		if (len)
			tmp[(r >> 8) % len] = (uint8_t)(r >> 40);
		pkts_add(s, tmp, len, wire);
		break;
	default:
		pkts_add(s, tmp, len, (r >> 8) % 2 ? 0 : w + (uint32_t)((r >> 16) % 3000));
		break;
	}
}

/* ---- synthetic packets of every family ------------------------------------ */

struct pb {
	uint8_t b[1600];
	uint32_t n;
};

static void pb8(struct pb *p, unsigned v)
{
	if (p->n < sizeof p->b)
		p->b[p->n++] = (uint8_t)v;
}
static void pb16(struct pb *p, unsigned v)
{
	pb8(p, v >> 8);
	pb8(p, v);
}
static void pb32(struct pb *p, uint32_t v)
{
	pb16(p, v >> 16);
	pb16(p, v & 0xffff);
}
static void pbmem(struct pb *p, const uint8_t *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pb8(p, m[i]);
}

static uint32_t pick(uint64_t *rng, uint32_t n)
{
	return (uint32_t)(cbpf_splitmix(rng) % n);
}

static const uint8_t macs[][6] = {
	{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}, {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb},
	{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
	{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}, {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00},
	{0x02, 0x00, 0x00, 0x00, 0x00, 0x07},
};
static const uint32_t ip4s[] = {
	0x0a000001, 0x0a000002, 0x0a000003, 0xc0a8010a, 0x0a010203, 0xac100504,
	0xc00002 << 8 | 1, 0xffffffff, 0xe0000001, 0xc0a801ff, 0x0affffff, 0x08080808,
	0xac1f0001, 0xc0a80001, 0x7f000001, 0,
};
static const uint16_t ports[] = {22, 23, 25, 53, 80, 123, 443, 1024, 5353, 8080,
				 8443, 0, 65535, 20, 5000, 6000, 1023, 9000};

static void pb_ip6addr(struct pb *p, uint64_t *rng)
{
	static const uint8_t a[][16] = {
		{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, {0x20, 0x01, 0x0d, 0xb8, [15] = 2},
		{0xfe, 0x80, [15] = 1}, {0xff, 0x02, [15] = 1}, {0xff, 0x05, [15] = 2},
		{[15] = 1},
	};
	uint32_t w = pick(rng, 8);
	if (w < 6) {
		pbmem(p, a[w], 16);
	} else {
		for (int i = 0; i < 16; i++)
			pb8(p, pick(rng, 256));
	}
}

/* Transport header for protocol proto, then a little payload. */
static void pb_l4(struct pb *p, unsigned proto, int v6, uint64_t *rng)
{
	unsigned sport = ports[pick(rng, sizeof ports / sizeof ports[0])];
	unsigned dport = pick(rng, 4) ? ports[pick(rng, sizeof ports / sizeof ports[0])]
				      : pick(rng, 65536);
	switch (proto) {
	case 6: {
		static const uint8_t flags[] = {0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x29, 0x00, 0x01};
		unsigned doff = 5 + pick(rng, 4);
		pb16(p, sport);
		pb16(p, dport);
		pb32(p, (uint32_t)cbpf_splitmix(rng));
		pb32(p, (uint32_t)cbpf_splitmix(rng));
		pb8(p, doff << 4);
		pb8(p, flags[pick(rng, sizeof flags)]);
		pb16(p, 65535);
		pb32(p, 0);
		for (unsigned i = 5; i < doff; i++)
			pb32(p, 0x01010101);
		if (pick(rng, 3) == 0)
			pbmem(p, (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
		break;
	}
	case 17:
		pb16(p, sport);
		pb16(p, dport);
		pb16(p, 8 + 20);
		pb16(p, 0);
		break;
	case 132: /* SCTP common header */
		pb16(p, sport);
		pb16(p, dport);
		pb32(p, (uint32_t)cbpf_splitmix(rng));
		pb32(p, 0);
		break;
	case 1: {
		static const uint8_t types[] = {0, 8, 3, 11, 5, 13, 17};
		pb8(p, types[pick(rng, sizeof types)]);
		pb8(p, pick(rng, 4));
		pb16(p, 0);
		pb32(p, (uint32_t)cbpf_splitmix(rng));
		break;
	}
	case 58: {
		static const uint8_t types[] = {128, 129, 133, 134, 135, 136, 1, 2};
		pb8(p, types[pick(rng, sizeof types)]);
		pb8(p, 0);
		pb16(p, 0);
		pb32(p, 0);
		break;
	}
	default:
		break;
	}
	(void)v6;
	unsigned pay = pick(rng, 40);
	for (unsigned i = 0; i < pay; i++)
		pb8(p, pick(rng, 256));
}

static const uint8_t l4_protos[] = {6, 6, 6, 17, 17, 1, 132, 47, 2, 58, 50, 255};

static void pb_ipv4(struct pb *p, uint64_t *rng)
{
	unsigned ihl = pick(rng, 4) ? 5 : 5 + pick(rng, 4);
	unsigned proto = l4_protos[pick(rng, sizeof l4_protos)];
	unsigned frag = 0;
	switch (pick(rng, 10)) {
	case 0: frag = 0x2000; break;                      /* MF, first */
	case 1: frag = 0x2000 | (1 + pick(rng, 100)); break; /* middle */
	case 2: frag = 1 + pick(rng, 0x1fff); break;       /* last */
	case 3: frag = 0x4000; break;                      /* DF */
	default: break;
	}
	uint32_t start = p->n;
	pb8(p, 0x40 | ihl);
	pb8(p, pick(rng, 4) ? 0 : pick(rng, 256));
	pb16(p, 0); /* total length, below */
	pb16(p, pick(rng, 65536));
	pb16(p, frag);
	pb8(p, 1 + pick(rng, 128));
	pb8(p, proto);
	pb16(p, 0);
	pb32(p, pick(rng, 5) ? ip4s[pick(rng, sizeof ip4s / sizeof ip4s[0])]
			     : (uint32_t)cbpf_splitmix(rng));
	pb32(p, pick(rng, 5) ? ip4s[pick(rng, sizeof ip4s / sizeof ip4s[0])]
			     : (uint32_t)cbpf_splitmix(rng));
	for (unsigned i = 5; i < ihl; i++)
		pb32(p, 0x01010100);
	if ((frag & 0x1fff) == 0 || pick(rng, 2))
		pb_l4(p, proto, 0, rng);
	uint32_t tot = p->n - start;
	p->b[start + 2] = (uint8_t)(tot >> 8);
	p->b[start + 3] = (uint8_t)tot;
}

static void pb_ipv6(struct pb *p, uint64_t *rng)
{
	static const uint8_t exts[] = {0, 43, 60, 44, 51};
	static const uint8_t finals[] = {6, 6, 17, 58, 132, 59, 1};
	unsigned n_ext = pick(rng, 3) ? 0 : 1 + pick(rng, 3);
	uint8_t chain[5];
	for (unsigned i = 0; i < n_ext; i++)
		chain[i] = exts[pick(rng, sizeof exts)];
	chain[n_ext] = finals[pick(rng, sizeof finals)];
	uint32_t start = p->n;
	pb32(p, 0x60000000u | pick(rng, 1 << 20));
	pb16(p, 0);
	pb8(p, chain[0]);
	pb8(p, pick(rng, 4) ? 64 : 255);
	pb_ip6addr(p, rng);
	pb_ip6addr(p, rng);
	for (unsigned i = 0; i < n_ext; i++) {
		unsigned next = chain[i + 1];
		switch (chain[i]) {
		case 44: /* fragment: 8 bytes */
			pb8(p, next);
			pb8(p, 0);
			pb16(p, pick(rng, 3) ? 0 : 0x0101);
			pb32(p, (uint32_t)cbpf_splitmix(rng));
			break;
		case 51: /* AH: (len + 2) * 4 bytes */
			pb8(p, next);
			pb8(p, 4);
			pb16(p, 0);
			pb32(p, 0x100);
			pb32(p, 1);
			pb32(p, 0);
			pb32(p, 0);
			pb32(p, 0);
			break;
		default: { /* hop-by-hop, routing, destination options */
			unsigned len8 = pick(rng, 3);
			pb8(p, next);
			pb8(p, len8);
			for (unsigned j = 2; j < 8 * (len8 + 1); j++)
				pb8(p, j == 2 ? 1 : 0);
			break;
		}
		}
	}
	pb_l4(p, chain[n_ext], 1, rng);
	uint32_t pay = p->n - start - 40;
	p->b[start + 4] = (uint8_t)(pay >> 8);
	p->b[start + 5] = (uint8_t)pay;
}

static void pb_arp(struct pb *p, uint64_t *rng)
{
	pb16(p, 1);
	pb16(p, 0x0800);
	pb8(p, 6);
	pb8(p, 4);
	pb16(p, 1 + pick(rng, 4)); /* request, reply, RARP request, reply */
	pbmem(p, macs[pick(rng, 2)], 6);
	pb32(p, ip4s[pick(rng, 6)]);
	pbmem(p, macs[pick(rng, 3)], 6);
	pb32(p, ip4s[pick(rng, 6)]);
}

/* One synthetic Ethernet frame. */
static void pb_frame(struct pb *p, uint64_t *rng)
{
	p->n = 0;
	pbmem(p, macs[pick(rng, sizeof macs / sizeof macs[0])], 6);
	pbmem(p, macs[pick(rng, 2)], 6);
	/* Encapsulation: VLAN tags, MPLS labels, PPPoE session, or none. */
	unsigned encap = pick(rng, 10), l3 = pick(rng, 100);
	unsigned type = l3 < 45 ? 0x0800 : l3 < 75 ? 0x86dd : l3 < 82 ? 0x0806
			: l3 < 85 ? 0x8035 : l3 < 92 ? 0 /* LLC */ : 0x88cc;
	if (encap < 3 && type) {
		static const uint16_t tpids[] = {0x8100, 0x8100, 0x88a8, 0x9100};
		static const uint16_t vids[] = {100, 200, 1, 0, 4095};
		unsigned tags = 1 + (encap == 2);
		for (unsigned t = 0; t < tags; t++) {
			pb16(p, t == 0 ? tpids[pick(rng, 4)] : 0x8100);
			pb16(p, pick(rng, 8) << 13 |
					(pick(rng, 4) ? vids[pick(rng, 5)] : pick(rng, 4096)));
		}
	} else if (encap == 3 && (type == 0x0800 || type == 0x86dd)) {
		static const uint32_t labels[] = {16, 17, 100, 3, 0xfffff};
		unsigned n = 1 + pick(rng, 3);
		pb16(p, 0x8847);
		for (unsigned i = 0; i < n; i++)
			pb32(p, (pick(rng, 4) ? labels[pick(rng, 5)] : pick(rng, 1 << 20)) << 12 |
					(i + 1 == n) << 8 | 64);
		type = 0; /* MPLS carries no EtherType */
		if (l3 < 45)
			pb_ipv4(p, rng);
		else
			pb_ipv6(p, rng);
		goto done;
	} else if (encap == 4 && (type == 0x0800 || type == 0x86dd)) {
		pb16(p, 0x8864);
		pb8(p, 0x11);
		pb8(p, 0);
		pb16(p, 0x0011);
		pb16(p, 0); /* length */
		pb16(p, type == 0x0800 ? 0x0021 : 0x0057);
		type = type == 0x0800 ? 4 : 6;
		goto l3;
	}
	if (type == 0) { /* 802.3 length field and LLC */
		static const uint8_t saps[] = {0x42, 0xe0, 0xf0, 0xfe, 0xaa, 0x06};
		uint8_t sap = saps[pick(rng, sizeof saps)];
		pb16(p, 3 + 8 + pick(rng, 40));
		pb8(p, sap);
		pb8(p, sap);
		pb8(p, 0x03);
		if (sap == 0xaa) { /* SNAP */
			pb8(p, 0);
			pb8(p, 0);
			pb8(p, 0);
			pb16(p, pick(rng, 2) ? 0x0800 : 0x809b);
		}
		for (unsigned i = 0; i < 8; i++)
			pb8(p, pick(rng, 256));
		goto done;
	}
	pb16(p, type);
l3:
	if (type == 0x0800 || type == 4)
		pb_ipv4(p, rng);
	else if (type == 0x86dd || type == 6)
		pb_ipv6(p, rng);
	else if (type == 0x0806 || type == 0x8035)
		pb_arp(p, rng);
	else
		for (unsigned i = 0; i < 20; i++)
			pb8(p, pick(rng, 256));
done:
	if (pick(rng, 2))
		while (p->n < 60)
			pb8(p, 0);
}

static void pkts_synthetic(struct tpkts *s, size_t count, uint64_t seed)
{
	uint64_t rng = seed;
	struct pb p;
	for (size_t i = 0; i < count; i++) {
		pb_frame(&p, &rng);
		pkts_add_mutated(s, p.b, p.n, p.n, &rng);
	}
}

/* The generated capture (testkit/pktgen) and mutated copies, synthetic
 * frames of every family, small random packets. */
static void pkts_ethernet(struct tpkts *s, size_t count, uint64_t seed)
{
	struct pktgen_config cfg = {.seed = seed, .count = count};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&cfg, &set), 0);
	uint64_t rng = seed * 7919u + 1;
	for (size_t i = 0; i < set.count; i++) {
		const struct pktgen_packet *g = &set.pkts[i];
		pkts_add_mutated(s, g->data, g->len, g->wire_len, &rng);
	}
	pktgen_free(&set);
	pkts_synthetic(s, count, seed + 1000);
	uint8_t tmp[80];
	for (uint32_t len = 0; len < 70; len++) {
		for (uint32_t i = 0; i < len; i++)
			tmp[i] = (uint8_t)cbpf_splitmix(&rng);
		pkts_add(s, tmp, len, len);
	}
}

/* Every packet of the Ethernet captures in corpus/pcap that libpcap reads
 * (a capture cut short yields the packets before the cut).  Returns the
 * number of captures read. */
static size_t pkts_corpus(struct tpkts *s)
{
	DIR *d = opendir("corpus/pcap");
	size_t files = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512], err[PCAP_ERRBUF_SIZE];
		snprintf(path, sizeof path, "corpus/pcap/%s", de->d_name);
		pcap_t *p = pcap_open_offline(path, err);
		if (!p)
			continue;
		if (pcap_datalink(p) == DLT_EN10MB) {
			struct pcap_pkthdr *h;
			const u_char *data;
			while (pcap_next_ex(p, &h, &data) == 1)
				pkts_add(s, data, h->caplen, h->len);
			files++;
		}
		pcap_close(p);
	}
	closedir(d);
	return files;
}

/* ---- engines and comparison --------------------------------------------- */

struct engines {
	vfm_state_t *vm[2];
	const char *name[2];
	int n;
};

static void engines_load(struct engines *e, const vfm_cbpf_insn_t *insns, size_t n,
			 const char *what)
{
	vfm_diag_t diag;
	vfm_program_t *prog;
	vfm_error_t err = vfm_program_from_cbpf(insns, n, NULL, &prog, &diag);
	if (err != VFM_OK)
		fail_msg("%s: translation failed: %s: %s", what, vfm_error_name(err),
			 diag.message);
	e->n = 0;
	e->vm[e->n] = vfm_create();
	e->name[e->n] = "interpreter";
	assert_int_equal(vfm_attach_program(e->vm[e->n], prog), VFM_OK);
	e->n++;
	/* Where the build has a JIT, every translated program must compile. */
	if (vfm_jit_arch()) {
		vfm_state_t *jit = vfm_create();
		assert_int_equal(vfm_attach_program(jit, prog), VFM_OK);
		if (vfm_enable_jit(jit) != VFM_OK)
			fail_msg("%s: the JIT refuses the translation: %s", what,
				 vfm_last_error(jit));
		e->vm[e->n] = jit;
		e->name[e->n] = "JIT";
		e->n++;
	}
	vfm_program_release(prog);
}

static void engines_free(struct engines *e)
{
	for (int i = 0; i < e->n; i++)
		vfm_destroy(e->vm[i]);
	e->n = 0;
}

static uint64_t g_runs, g_mismatches, g_bpf_calls, g_budget_ends;
/* Of the last compare(): packets accepted, packets ended by the budget. */
static uint64_t g_last_accepts, g_last_budget;
/* Compare with the reference only: set for programs that read a scratch
 * word before writing it (see the file comment). */
static int g_ref_only;

static void dump_prog(const vfm_cbpf_insn_t *insns, size_t n)
{
	char line[160];
	for (size_t i = 0; i < n && i < 200; i++) {
		vfm_cbpf_format(&insns[i], (uint32_t)i, line, sizeof line);
		print_message("    %s\n", line);
	}
}

/*
 * Run one program over packets on bpf_filter, the reference and every VFM
 * engine.  The reference runs first: a program whose backward jumps exceed
 * VFM's budget is not given to bpf_filter (which would loop as long as the
 * program does, possibly for ever) and must end with BUDGET in VFM.
 * Returns the mismatch count.
 */
static uint64_t compare(const vfm_cbpf_insn_t *insns, size_t n, const struct tpkts *pk,
			const char *what)
{
	struct engines e;
	engines_load(&e, insns, n, what);
	uint8_t *unsafe = malloc(n);
	assert_non_null(unsafe);
	int ref_only = g_ref_only ||
		       cbpf_gen_unsafe_reads((const struct cbpf_gen_insn *)insns, n, unsafe) != 0;
	free(unsafe);
	uint64_t bad = 0;
	g_last_accepts = g_last_budget = 0;
	for (size_t i = 0; i < pk->n; i++) {
		const struct tpkt *t = &pk->p[i];
		static const uint8_t none[1];
		const uint8_t *data = t->data ? t->data : none;
		uint32_t ref_v;
		uint64_t backs;
		enum cbpf_ref_end end = cbpf_ref_run((const struct cbpf_gen_insn *)insns, n,
						     data, bpf_wirelen(t), t->len,
						     VFM_DEFAULT_BUDGET, &ref_v, &backs);
		uint32_t want = 0;
		vfm_status_t want_st = VFM_STATUS_OK;
		if (end == CBPF_REF_LOOP) {
			want_st = VFM_STATUS_BUDGET;
			g_budget_ends++;
			g_last_budget++;
		} else {
			want = ref_v;
			if (!ref_only) {
				want = bpf_filter((const struct bpf_insn *)insns, data,
						  bpf_wirelen(t), t->len);
				g_bpf_calls++;
			}
			if (want != ref_v || end == CBPF_REF_BADOP) {
				bad++;
				if (bad <= 3)
					print_message("%s: packet %zu: reference %u (end %d), bpf_filter %u\n",
						      what, i, ref_v, end, want);
			}
			if (end == CBPF_REF_OOB)
				want_st = VFM_STATUS_BOUNDS;
			g_last_accepts += want != 0;
		}
		for (int k = 0; k < e.n; k++) {
			vfm_packet_t vp = {.data = data, .len = t->len, .wire_len = t->wire};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(e.vm[k], &vp, &r), VFM_OK);
			g_runs++;
			if (r.verdict != want || r.status != want_st) {
				bad++;
				if (bad <= 3) {
					print_message("%s: packet %zu (len %u, wire %u): %s gives %u/%s, bpf_filter %u/%s\n",
						      what, i, t->len, t->wire, e.name[k], r.verdict,
						      vfm_status_name(r.status), want,
						      vfm_status_name(want_st));
					dump_prog(insns, n);
				}
			}
		}
	}
	engines_free(&e);
	g_mismatches += bad;
	return bad;
}

/* ---- validation ------------------------------------------------------------ */

#define S(code, k) {(code), 0, 0, (k)}
#define J(code, k, jt, jf) {(code), (jt), (jf), (k)}

struct bad_case {
	const char *name;
	vfm_cbpf_insn_t insns[4];
	size_t n;
	vfm_error_t err;
	uint32_t line; /* index + 1 of the named instruction */
	const char *needle;
};

static void test_validate(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"empty", {S(0x06, 0)}, 0, VFM_EVERIFY, 0, "empty"},
		{"no final ret", {S(0x00, 1)}, 1, VFM_EVERIFY, 1, "last instruction is not a return"},
		{"unknown opcode", {S(0x38, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode 0x38"},
		{"ret x", {S(0x0e, 0)}, 1, VFM_EVERIFY, 1, "unknown opcode 0x0e"},
		{"ldx [k]", {S(0x21, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode 0x21"},
		{"ld|h #k", {S(0x08, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode 0x08"},
		{"misc 0x47", {S(0x47, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode"},
		{"neg x", {S(0x8c, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode"},
		{"ja x", {S(0x0d, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "unknown opcode 0x0d"},
		{"code above 0xff", {S(0x106, 0)}, 1, VFM_EVERIFY, 1, "unknown opcode 0x106"},
		{"ld M[16]", {S(0x60, 16), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index 16"},
		{"st M[99]", {S(0x02, 99), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index 99"},
		{"stx M[16]", {S(0x03, 16), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index"},
		{"ldx M[16]", {S(0x61, 16), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "scratch index"},
		{"div #0", {S(0x00, 1), S(0x34, 0), S(0x06, 0)}, 3, VFM_EVERIFY, 2, "division by the constant 0"},
		{"mod #0", {S(0x94, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "modulo by the constant 0"},
		{"lsh #32", {S(0x64, 32), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "constant shift by 32"},
		{"rsh #40", {S(0x74, 40), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "constant shift by 40"},
		{"jeq past end", {J(0x15, 0, 0, 1), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "jump target 2 is past the end"},
		{"jgt jt past end", {J(0x25, 0, 5, 0), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "past the end"},
		{"jset x past end", {J(0x4d, 0, 0, 255), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "jump target 256"},
		{"ja past end", {S(0x05, 1), S(0x06, 0)}, 2, VFM_EVERIFY, 1, "jump target 2 is outside"},
		{"ja before start", {S(0x06, 0), S(0x05, 0xfffffffdu), S(0x06, 0)}, 3, VFM_EVERIFY, 2, "jump target -1 is outside"},
		{"ancillary protocol", {S(0x28, 0xfffff000u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_AD_PROTOCOL"},
		{"ancillary vlan tag", {S(0x30, 0xfffff02cu), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_AD_VLAN_TAG"},
		{"ancillary other", {S(0x20, 0xfffff100u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "ancillary"},
		{"SKF_NET_OFF", {S(0x30, 0xfff00009u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_NET_OFF"},
		{"SKF_LL_OFF", {S(0x30, 0xffe00000u), S(0x06, 0)}, 2, VFM_EUNSUPPORTED, 1, "SKF_LL_OFF"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const struct bad_case *b = &cases[c];
		vfm_diag_t d;
		uint8_t *img = (uint8_t *)1;
		size_t len = 1;
		vfm_error_t err = vfm_from_cbpf(b->insns, b->n, NULL, &img, &len, &d);
		if (err != b->err || !strstr(d.message, b->needle) || d.line != b->line ||
		    d.code != err || d.pc != -1)
			fail_msg("%s: got %s line %u \"%s\"", b->name, vfm_error_name(err),
				 d.line, d.message);
		assert_null(img);
		assert_int_equal(len, 0);
		assert_int_equal(vfm_cbpf_validate(b->insns, b->n, &d), b->err);
		vfm_program_t *prog = (vfm_program_t *)1;
		assert_int_equal(vfm_program_from_cbpf(b->insns, b->n, NULL, &prog, &d), b->err);
		assert_null(prog);
		/* Where libpcap's bpf_validate accepts the program, say so:
		 * these are the documented refusals of accepted programs. */
		if (b->n && b->insns[0].code < 0x100 &&
		    bpf_validate((const struct bpf_insn *)b->insns, (int)b->n))
			print_message("  refused, bpf_validate accepts: %s (%s)\n", b->name,
				      d.message);
	}
	/* Too long. */
	size_t big = VFM_CBPF_MAX_INSNS + 1;
	vfm_cbpf_insn_t *p = calloc(big, sizeof *p);
	assert_non_null(p);
	p[big - 1].code = 0x06;
	vfm_diag_t d;
	assert_int_equal(vfm_cbpf_validate(p, big, &d), VFM_ETOOBIG);
	/* The largest accepted program translates and loads, also with the
	 * largest expansion everywhere (lsh x). */
	p[big - 2].code = 0x06;
	vfm_program_t *prog;
	assert_int_equal(vfm_program_from_cbpf(p, big - 1, NULL, &prog, &d), VFM_OK);
	vfm_program_release(prog);
	for (size_t i = 0; i + 2 < big; i++)
		p[i].code = 0x6c;
	assert_int_equal(vfm_program_from_cbpf(p, big - 1, NULL, &prog, &d), VFM_OK);
	vfm_program_release(prog);
	free(p);
	/* Misuse: error codes, no crash. */
	assert_int_equal(vfm_cbpf_validate(NULL, 1, &d), VFM_EINVAL);
	assert_int_equal(vfm_cbpf_validate(NULL, 1, NULL), VFM_EINVAL);
	vfm_cbpf_insn_t one = S(0x06, 1);
	size_t len;
	uint8_t *img;
	assert_int_equal(vfm_from_cbpf(&one, 1, NULL, NULL, &len, &d), VFM_EINVAL);
	assert_int_equal(vfm_from_cbpf(&one, 1, NULL, &img, NULL, NULL), VFM_EINVAL);
	assert_int_equal(vfm_program_from_cbpf(&one, 1, NULL, NULL, &d), VFM_EINVAL);
	assert_int_equal(vfm_load_cbpf(NULL, &one, 1, NULL), VFM_EINVAL);
	assert_int_equal(vfm_cbpf_from_file(NULL, 0, NULL, NULL, &d), VFM_EINVAL);
	char buf[8];
	assert_true(vfm_cbpf_format(NULL, 0, buf, sizeof buf) > 0);
}

/*
 * Agreement with bpf_validate.  Every generated program is one bpf_validate
 * accepts, and we accept it.  On random instruction words: whenever we
 * accept, bpf_validate does; whenever bpf_validate accepts and we refuse,
 * the reason is one of the documented ones (an opcode bpf_filter does not
 * implement, a constant shift by 32 or more, a Linux negative offset).
 */
static void test_validate_agrees(void **state)
{
	(void)state;
	struct cbpf_src s = {NULL, 0, 42};
	struct cbpf_gen_insn prog[64];
	for (int i = 0; i < 20000 / SCALE; i++) {
		size_t n = cbpf_gen_program(&s, prog, 64, 10);
		vfm_diag_t d;
		assert_true(bpf_validate((const struct bpf_insn *)prog, (int)n));
		if (vfm_cbpf_validate((const vfm_cbpf_insn_t *)prog, n, &d) != VFM_OK)
			fail_msg("program %d: %s", i, d.message);
	}
	unsigned long accepted = 0, refused_documented = 0;
	for (int i = 0; i < 300000 / SCALE; i++) {
		vfm_cbpf_insn_t q[3];
		for (int j = 0; j < 3; j++) {
			uint64_t r = cbpf_splitmix(&s.rng);
			q[j].code = (uint16_t)(r & 0xff);
			q[j].jt = (uint8_t)((r >> 8) & 3);
			q[j].jf = (uint8_t)((r >> 16) & 3);
			switch ((r >> 24) & 3) {
			case 0: q[j].k = (uint32_t)(r >> 32); break;
			case 1: q[j].k = (uint32_t)((r >> 32) & 63); break;
			case 2: q[j].k = 0xfffff000u + (uint32_t)((r >> 32) & 0x3f); break;
			default: q[j].k = (uint32_t)-(int32_t)((r >> 32) & 3); break;
			}
		}
		if (i % 2)
			q[2].code = (uint16_t)(0x06 | (q[2].code & 0x18));
		vfm_diag_t d;
		int ours = vfm_cbpf_validate(q, 3, &d) == VFM_OK;
		int theirs = bpf_validate((const struct bpf_insn *)q, 3);
		if (ours && !theirs)
			fail_msg("accepted what bpf_validate refuses: %04x %04x %04x", q[0].code,
				 q[1].code, q[2].code);
		if (theirs && !ours) {
			if (!strstr(d.message, "bpf_filter does not implement") &&
			    !strstr(d.message, "constant shift by") &&
			    !strstr(d.message, "is not supported"))
				fail_msg("refused what bpf_validate accepts: %s", d.message);
			refused_documented++;
		}
		accepted += ours;
	}
	print_message("  random words: %lu accepted, %lu refused for a documented reason "
		      "that bpf_validate accepts\n", accepted, refused_documented);
}

static void test_format(void **state)
{
	(void)state;
	static const uint32_t ks[] = {0, 12, 0xfffffff0u, 0x7fffffff, 0x80000000u, 3};
	for (unsigned code = 0; code < 256; code++) {
		if (code == 0x81) /* libpcap 1.10's bpf_image prints ldx #len as unimp */
			continue;
		for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
			struct bpf_insn b = {(u_short)code, 2, 3, ks[j]};
			char mine[160];
			vfm_cbpf_format((const vfm_cbpf_insn_t *)&b, 7, mine, sizeof mine);
			const char *theirs = bpf_image(&b, 7);
			if (strcmp(mine, theirs) != 0)
				fail_msg("code 0x%02x k %u: \"%s\" vs bpf_image \"%s\"", code,
					 ks[j], mine, theirs);
		}
	}
	vfm_cbpf_insn_t ldxlen = S(0x81, 0);
	char buf[64];
	vfm_cbpf_format(&ldxlen, 0, buf, sizeof buf);
	assert_string_equal(buf, "(000) ldx      #pktlen");
}

/* ---- hand-written programs ------------------------------------------------ */

struct hand_case {
	const char *name;
	vfm_cbpf_insn_t insns[16];
	size_t n;
	int uninit_m; /* reads M before writing it: reference only */
};

#define RET_A S(0x16, 0)

static const struct hand_case hand_cases[] = {
	/* every load and its bounds, ret a returns the loaded value */
	{"ld [k] word", {S(0x20, 10), RET_A}, 2, 0},
	{"ld [k] at the end", {S(0x20, 56), RET_A}, 2, 0},
	{"ldh [k]", {S(0x28, 12), RET_A}, 2, 0},
	{"ldh [k] last byte", {S(0x28, 59), RET_A}, 2, 0},
	{"ldb [k]", {S(0x30, 0), RET_A}, 2, 0},
	{"ldb [k] huge", {S(0x30, 0xffdfffffu), RET_A}, 2, 0},
	{"ld [k] 2^31", {S(0x20, 0x80000000u), RET_A}, 2, 0},
	{"ld [x+k]", {S(0x01, 4), S(0x40, 6), RET_A}, 3, 0},
	{"ldh [x+k]", {S(0x01, 1), S(0x48, 13), RET_A}, 3, 0},
	{"ldb [x+k]", {S(0x01, 40), S(0x50, 19), RET_A}, 3, 0},
	{"ldb [x+k] X+k wraps 32 bits", {S(0x01, 0xffffffffu), S(0x50, 2), RET_A}, 3, 0},
	{"ld [x+k] X+k wraps 32 bits", {S(0x01, 0xfffffffeu), S(0x40, 4), RET_A}, 3, 0},
	{"ldh [x+k] k huge", {S(0x01, 2), S(0x48, 0xfffffffeu), RET_A}, 3, 0},
	{"ld [x+k] k huge X 0", {S(0x40, 0xffffffffu), RET_A}, 2, 0},
	{"ldxb msh", {S(0xb1, 14), S(0x87, 0), RET_A}, 3, 0},
	{"ldxb msh then ldh [x+k]", {S(0xb1, 14), S(0x48, 16), RET_A}, 3, 0},
	{"ldxb msh oob", {S(0xb1, 1000), RET_A}, 2, 0},
	{"ld #len", {S(0x80, 0), RET_A}, 2, 0},
	{"ldx #len", {S(0x81, 0), S(0x87, 0), RET_A}, 3, 0},
	{"ld #k", {S(0x00, 0xdeadbeefu), RET_A}, 2, 0},
	{"ldx #k, txa", {S(0x01, 0xcafef00du), S(0x87, 0), RET_A}, 3, 0},
	{"tax", {S(0x00, 77), S(0x07, 0), S(0x00, 1), S(0x87, 0), RET_A}, 5, 0},
	/* scratch: zero at start, st/stx/ld/ldx */
	{"M zero at start", {S(0x60, 15), RET_A}, 2, 1},
	{"ldx M zero", {S(0x01, 5), S(0x61, 3), S(0x87, 0), RET_A}, 4, 1},
	{"st/ld M", {S(0x30, 3), S(0x02, 0), S(0x00, 0), S(0x60, 0), RET_A}, 5, 0},
	{"stx/ldx M", {S(0x01, 99), S(0x03, 15), S(0x01, 0), S(0x61, 15), S(0x87, 0), RET_A}, 6, 0},
	{"all 16 M", {S(0x00, 5), S(0x02, 0), S(0x02, 7), S(0x02, 15), S(0x60, 7), S(0x04, 1),
		      S(0x02, 8), S(0x61, 8), S(0x0c, 0), RET_A}, 10, 0},
	/* ALU with k: 32-bit wrap */
	{"add wraps", {S(0x00, 0xffffffffu), S(0x04, 2), RET_A}, 3, 0},
	{"sub wraps", {S(0x00, 1), S(0x14, 2), RET_A}, 3, 0},
	{"mul wraps", {S(0x00, 0x10001u), S(0x24, 0x10001u), RET_A}, 3, 0},
	{"mul big", {S(0x20, 0), S(0x24, 0xffffffffu), RET_A}, 3, 0},
	{"div k", {S(0x20, 0), S(0x34, 7), RET_A}, 3, 0},
	{"mod k", {S(0x20, 0), S(0x94, 1000), RET_A}, 3, 0},
	{"and or xor k", {S(0x20, 0), S(0x54, 0xf0f0f0f0u), S(0x44, 0x01), S(0xa4, 0xffffffffu), RET_A}, 5, 0},
	{"lsh #31", {S(0x20, 0), S(0x64, 31), RET_A}, 3, 0},
	{"lsh #0", {S(0x20, 0), S(0x64, 0), RET_A}, 3, 0},
	{"lsh #4 carries", {S(0x00, 0xf0000001u), S(0x64, 4), RET_A}, 3, 0},
	{"rsh #31", {S(0x20, 0), S(0x74, 31), RET_A}, 3, 0},
	{"neg", {S(0x30, 0), S(0x84, 0), RET_A}, 3, 0},
	{"neg 0", {S(0x00, 0), S(0x84, 0), RET_A}, 3, 0},
	{"neg 2^31", {S(0x00, 0x80000000u), S(0x84, 0), RET_A}, 3, 0},
	/* ALU with X */
	{"add x", {S(0x20, 0), S(0x01, 0xffffff00u), S(0x0c, 0), RET_A}, 4, 0},
	{"sub x", {S(0x30, 0), S(0x81, 0), S(0x1c, 0), RET_A}, 4, 0},
	{"mul x", {S(0x20, 4), S(0x07, 0), S(0x20, 8), S(0x2c, 0), RET_A}, 5, 0},
	{"div x", {S(0x20, 0), S(0xb1, 14), S(0x3c, 0), RET_A}, 4, 0},
	{"div x = 0 returns 0", {S(0x00, 5), S(0x3c, 0), S(0x06, 9)}, 3, 0},
	{"div x from packet", {S(0x20, 0), S(0x07, 0), S(0x28, 4), S(0x30, 3), S(0x07, 0),
			       S(0x87, 0), S(0x28, 4), S(0x3c, 0), S(0x04, 1), RET_A}, 10, 0},
	{"mod x = 0 returns 0", {S(0x00, 5), S(0x9c, 0), S(0x06, 9)}, 3, 0},
	{"mod x from packet", {S(0x30, 5), S(0x07, 0), S(0x20, 0), S(0x9c, 0), S(0x04, 1), RET_A}, 6, 0},
	{"and/or/xor x", {S(0x20, 0), S(0x07, 0), S(0x20, 4), S(0x5c, 0), S(0x4c, 0), S(0xac, 0), RET_A}, 7, 0},
	{"lsh x < 32", {S(0x00, 0x80000001u), S(0x01, 31), S(0x6c, 0), RET_A}, 4, 0},
	{"lsh x = 32", {S(0x00, 1), S(0x01, 32), S(0x6c, 0), S(0x04, 7), RET_A}, 5, 0},
	{"lsh x = 64", {S(0x00, 1), S(0x01, 64), S(0x6c, 0), S(0x04, 7), RET_A}, 5, 0},
	{"lsh x = 65", {S(0x00, 1), S(0x01, 65), S(0x6c, 0), S(0x04, 7), RET_A}, 5, 0},
	{"lsh x huge", {S(0x00, 1), S(0x01, 0xffffffffu), S(0x6c, 0), S(0x04, 7), RET_A}, 5, 0},
	{"lsh x from packet", {S(0x20, 0), S(0x07, 0), S(0x30, 3), S(0x6c, 0), RET_A}, 5, 0},
	{"rsh x = 31", {S(0x00, 0x80000000u), S(0x01, 31), S(0x7c, 0), RET_A}, 4, 0},
	{"rsh x = 32", {S(0x00, 0x80000000u), S(0x01, 32), S(0x7c, 0), S(0x04, 7), RET_A}, 5, 0},
	{"rsh x = 65", {S(0x00, 0x80000000u), S(0x01, 65), S(0x7c, 0), S(0x04, 7), RET_A}, 5, 0},
	{"rsh x from packet", {S(0x20, 0), S(0x07, 0), S(0x30, 7), S(0x87, 0), S(0x30, 7),
			       S(0x07, 0), S(0x20, 0), S(0x7c, 0), RET_A}, 9, 0},
	/* jumps: both operands, every direction, jt == jf, jt/jf 0 */
	{"jeq k", {S(0x28, 12), J(0x15, 0x800, 0, 1), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jeq k jt only", {S(0x28, 12), J(0x15, 0x800, 1, 0), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jeq k jt jf", {S(0x30, 0), J(0x15, 0, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 5, 0},
	{"jeq k jt == jf", {S(0x30, 0), J(0x15, 0, 1, 1), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jeq k jt == jf == 0", {S(0x30, 0), J(0x15, 0, 0, 0), S(0x06, 1)}, 3, 0},
	{"jgt k", {S(0x30, 0), J(0x25, 0x80, 0, 1), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jgt k jt", {S(0x30, 0), J(0x25, 0x80, 1, 0), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jgt k both", {S(0x30, 0), J(0x25, 0x80, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 5, 0},
	{"jge k", {S(0x30, 0), J(0x35, 0x80, 0, 1), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jge k jt", {S(0x30, 0), J(0x35, 0x80, 1, 0), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jge k 2^32-1", {S(0x20, 0), J(0x35, 0xffffffffu, 1, 0), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jset k", {S(0x30, 0), J(0x45, 0x81, 0, 1), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jset k jt", {S(0x30, 0), J(0x45, 0x81, 1, 0), S(0x06, 1), S(0x06, 2)}, 4, 0},
	{"jset k both", {S(0x30, 0), J(0x45, 0x81, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 5, 0},
	{"jeq x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x1d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"jeq x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x1d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"jgt x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x2d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"jgt x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x2d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"jgt x both", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x2d, 0, 1, 2), S(0x06, 1), S(0x06, 2), S(0x06, 3)}, 7, 0},
	{"jge x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x3d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"jge x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x3d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"jset x", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x4d, 0, 0, 1), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"jset x jt", {S(0x30, 0), S(0x07, 0), S(0x30, 1), J(0x4d, 0, 1, 0), S(0x06, 1), S(0x06, 2)}, 6, 0},
	{"ja forward", {S(0x05, 1), S(0x06, 1), S(0x06, 2)}, 3, 0},
	{"ja 0", {S(0x05, 0), S(0x06, 1)}, 2, 0},
	/* backward ja: a counting loop (5, then 1000 iterations), a loop
	 * over the packet like protochain's */
	{"backward ja 5", {S(0x00, 5), S(0x14, 1), J(0x15, 0, 1, 0), S(0x05, 0xfffffffdu),
			   S(0x06, 9)}, 5, 0},
	{"backward ja 1000", {S(0x00, 1000), S(0x14, 1), J(0x15, 0, 1, 0), S(0x05, 0xfffffffdu),
			      S(0x06, 9)}, 5, 0},
	{"backward ja over the packet",
	 {S(0x01, 0), S(0x50, 0), J(0x15, 0, 4, 0), S(0x87, 0), S(0x04, 3), S(0x07, 0),
	  S(0x05, 0xfffffff9u), RET_A}, 8, 0},
	/* ret */
	{"ret #k snaplen", {S(0x06, 262144)}, 1, 0},
	{"ret #0xffffffff", {S(0x06, 0xffffffffu)}, 1, 0},
	{"ret #0", {S(0x06, 0)}, 1, 0},
	{"ret a 0", {RET_A}, 1, 0},
	{"ret a max", {S(0x00, 0xffffffffu), RET_A}, 2, 0},
	{"ret in the middle", {S(0x30, 0), J(0x15, 1, 0, 1), S(0x06, 5), RET_A}, 4, 0},
	/* unreachable code after a ret */
	{"dead code", {S(0x06, 3), S(0x3c, 0), S(0x6c, 0), S(0x06, 4)}, 4, 0},
	/* 0 from a load past the end after a ret-able path */
	{"oob after compare", {S(0x28, 12), J(0x15, 0x800, 0, 1), S(0x20, 5000), S(0x06, 1)}, 4, 0},
};

static void test_hand(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 500 / SCALE, 3);
	uint64_t before = g_mismatches;
	for (size_t c = 0; c < sizeof hand_cases / sizeof hand_cases[0]; c++) {
		const struct hand_case *h = &hand_cases[c];
		assert_true(bpf_validate((const struct bpf_insn *)h->insns, (int)h->n));
		g_ref_only = h->uninit_m;
		compare(h->insns, h->n, &pk, h->name);
		g_ref_only = 0;
	}
	print_message("  %zu hand-written programs x %zu packets\n",
		      sizeof hand_cases / sizeof hand_cases[0], pk.n);
	pkts_free(&pk);
	assert_int_equal(g_mismatches - before, 0);
}

/* Every opcode bpf_filter implements appears in a hand-written case. */
static void test_hand_covers_every_opcode(void **state)
{
	(void)state;
	for (size_t o = 0; o < CBPF_GEN_N_OPCODES; o++) {
		int found = 0;
		for (size_t c = 0; c < sizeof hand_cases / sizeof hand_cases[0] && !found; c++)
			for (size_t i = 0; i < hand_cases[c].n; i++)
				found |= hand_cases[c].insns[i].code == cbpf_gen_opcodes[o];
		if (!found)
			fail_msg("opcode 0x%02x has no hand-written case", cbpf_gen_opcodes[o]);
	}
}

/* A backward loop ends with BUDGET (verdict 0) exactly when it needs more
 * backward jumps than the budget allows, on every engine. */
static void test_budget(void **state)
{
	(void)state;
	/* 100 iterations: 99 backward jumps, then ret #9 */
	vfm_cbpf_insn_t loop[] = {S(0x00, 100), S(0x14, 1), J(0x15, 0, 1, 0),
				  S(0x05, 0xfffffffdu), S(0x06, 9)};
	vfm_cbpf_insn_t self[] = {S(0x05, 0xffffffffu), S(0x06, 9)};
	static const struct {
		int which;
		uint32_t budget, verdict;
		vfm_status_t status;
	} cases[] = {
		{0, 50, 0, VFM_STATUS_BUDGET}, {0, 98, 0, VFM_STATUS_BUDGET},
		{0, 99, 9, VFM_STATUS_OK},     {0, 0, 0, VFM_STATUS_BUDGET},
		{1, 0, 0, VFM_STATUS_BUDGET},  {1, 1000, 0, VFM_STATUS_BUDGET},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		vfm_diag_t d;
		vfm_program_t *prog;
		int w = cases[c].which;
		assert_int_equal(vfm_program_from_cbpf(w ? self : loop, w ? 2 : 5, NULL, &prog, &d),
				 VFM_OK);
		vfm_config_t cfg = {.budget = cases[c].budget, .budget_set = 1};
		vfm_state_t *vm = vfm_create_with(&cfg, &d);
		assert_non_null(vm);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		for (int jit = 0; jit < 2; jit++) {
			if (jit && !vfm_jit_arch())
				break;
			if (jit)
				assert_int_equal(vfm_enable_jit(vm), VFM_OK);
			vfm_packet_t p = {.data = (const uint8_t *)"abcd", .len = 4};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_OK);
			if (r.status != cases[c].status || r.verdict != cases[c].verdict)
				fail_msg("case %zu (%s): %u/%s", c, jit ? "JIT" : "interpreter",
					 r.verdict, vfm_status_name(r.status));
		}
		vfm_destroy(vm);
		vfm_program_release(prog);
	}
}

/* Generated programs (the fuzzer's generator, fixed seeds). */
static void test_generated(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 40, 11);
	struct cbpf_src s = {NULL, 0, 7};
	struct cbpf_gen_insn prog[48];
	uint64_t before = g_mismatches, runs = g_runs;
	int n_progs = 3000 / SCALE;
	for (int i = 0; i < n_progs; i++) {
		size_t n = cbpf_gen_program(&s, prog, 48, i % 2 ? 5 : 30);
		char what[64];
		snprintf(what, sizeof what, "generated program %d", i);
		compare((const vfm_cbpf_insn_t *)prog, n, &pk, what);
	}
	print_message("  %d generated programs x %zu packets: %llu runs, %llu mismatches\n",
		      n_progs, pk.n, (unsigned long long)(g_runs - runs),
		      (unsigned long long)(g_mismatches - before));
	pkts_free(&pk);
	assert_int_equal(g_mismatches - before, 0);
}

/* ---- pcap-filter expressions ------------------------------------------------ */

static const char *const en10mb_exprs[] = {
	/* ether */
	"ether host 00:11:22:33:44:55", "ether src 66:77:88:99:aa:bb",
	"ether dst ff:ff:ff:ff:ff:ff", "ether broadcast", "ether multicast",
	"broadcast", "multicast", "ether proto 0x0800", "ether proto \\arp",
	"ether dst 01:00:5e:00:00:01", "ether src host 00:11:22:33:44:55 and ether dst host 66:77:88:99:aa:bb",
	"ether[0] & 1 != 0", "ether[12:2] = 0x800 and ether[23] = 6 and ether[36:2] = 80",
	"ether[12:2] > 0x5dc", "ether[6:4] = 0x66778899", "ether proto 0x88cc",
	"llc", "stp", "ipx", "decnet", "atalk", "aarp", "iso", "netbeui", "llc i", "llc u",
	"pppoed", "pppoes", "pppoes and ip", "pppoes 0x11 and udp",
	/* ip */
	"ip", "ip host 10.0.0.1", "host 192.168.1.10", "src host 10.1.2.3",
	"dst host 192.168.1.10", "net 10.0.0.0/8", "src net 172.16.0.0/12",
	"dst net 192.168.0.0 mask 255.255.0.0", "net 192.168", "ip proto 1",
	"ip proto \\tcp", "ip[0] & 0xf > 5", "ip[6:2] & 0x1fff != 0", "ip[2:2] > 576",
	"ip broadcast", "ip multicast", "ip dst 224.0.0.1", "ip[8] < 64", "ip and not tcp",
	"ip[9] = 17 and ip[6:2] & 0x3fff = 0", "ip src 10.0.0.1 or ip dst 10.0.0.2",
	"ip[1] & 0xfc = 0xb8", "ip and ip[6] & 0x20 != 0", "ip proto 47", "igmp",
	"(src net 10.0.0.0/8 or dst net 192.168.0.0/16)", "net 10.0.0.0 mask 255.0.0.0",
	"(tcp or udp) and (src net 10.0.0.0/8 or dst net 192.168.0.0/16) and not port 22 and greater 100",
	/* ip6 */
	"ip6", "ip6 host 2001:db8::1", "ip6 net 2001:db8::/32", "ip6 src net fe80::/10",
	"ip6 multicast", "ip6 dst ff02::1", "ip6 proto 6", "ip6[6] = 17", "ip6 and tcp",
	"ip6 and udp port 53", "icmp6", "icmp6[icmp6type] = icmp6-echo",
	"icmp6 and ip6[40] = 135", "ip6 host fe80::1 or ip6 host 2001:db8::2",
	"ip6 dst host 2001:db8::2 and tcp dst port 443",
	/* protochain (backward ja) */
	"ip6 protochain 6", "protochain 17", "ip protochain 1", "ip6 protochain 58",
	"ip6 protochain 44", "ip6 protochain 59", "protochain 6 and port 80",
	"ip6 protochain 132 or ip6 protochain 17",
	/* arp */
	"arp", "rarp", "arp host 10.0.0.1", "arp[6:2] = 1", "arp[6:2] = 2",
	"arp and ether src 66:77:88:99:aa:bb", "arp net 10.0.0.0/8",
	/* vlan, mpls */
	"vlan", "vlan 100", "vlan and ip", "vlan and tcp port 80",
	"vlan 100 and host 192.0.2.1", "vlan and vlan", "vlan and not ip",
	"vlan 100 and vlan 200", "vlan and ip6 and udp",
	"mpls", "mpls 100", "mpls and ip", "mpls and host 10.0.0.1", "mpls 16 and mpls",
	"mpls and mpls 17 and ip6", "mpls and tcp port 80",
	/* tcp */
	"tcp", "tcp port 80", "tcp dst port 80", "tcp src port 443",
	"tcp portrange 1-1023", "tcp src portrange 1000-2000", "tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "tcp[13] = 0x12",
	"tcp[tcpflags] & tcp-rst != 0", "tcp[0:2] > 1024",
	"tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", "tcp and (port 80 or port 443)",
	"tcp dst port 80 and (ip or ip6)", "tcp[tcpflags] & tcp-fin != 0 and ip",
	"tcp[12] >> 4 > 5",
	/* udp */
	"udp", "udp port 53", "udp dst port 123", "udp portrange 5000-6000",
	"udp dst portrange 53-53", "udp[4:2] > 100", "udp and src port 5353", "udp and ip6",
	/* icmp */
	"icmp", "icmp[icmptype] = icmp-echo", "icmp[icmptype] = icmp-echoreply",
	"icmp[0] = 3 and icmp[1] = 3", "icmp and host 10.0.0.1", "icmp[icmptype] != icmp-echo",
	/* sctp */
	"sctp", "sctp port 80", "ip proto 132", "ip6 and sctp", "sctp src port 5000",
	/* ports */
	"port 22", "portrange 20-25", "src port 53", "dst portrange 8000-9000",
	"not port 22", "host 10.0.0.1 and port 80", "port 22 or port 23",
	"src port 80 and dst portrange 1024-65535",
	/* lengths */
	"less 100", "greater 1000", "len < 64", "len >= 1500", "len = 60",
	"len - 14 > 100", "(len & 3) = 0", "len * len > 1000000", "len > ip[2:2] + 14",
	/* byte-offset expressions with arithmetic (X-indexed loads, ALU by X) */
	"ip[2:2] - ((ip[0] & 0xf) << 2) > 100", "ip[2:2] / 4 = 10", "ip[2:2] % 7 = 3",
	"(ip[2:2] * 3) & 0xff = 12", "ip[0] ^ 0x45 = 0", "ether[0] | ether[1] != 0",
	"ip[2:2] >> 2 > 10", "tcp[0:2] + tcp[2:2] > 50000", "ip[1] - ip[0] > 0",
	"ip[2:2] * 65536 * 65536 = 0", "ip[2:2] / ip[1] > 1", "ip[2:2] % ip[1] = 0",
	"ip[0] << ip[1] > 0", "ip[2:2] >> ip[8] = 0", "ether[len - 2 : 2] = 0",
	"ip[ip[0] & 0xf] = 0", "tcp[tcp[12] >> 4] != 0", "ether[ether[14] & 0x3f] > 7",
	"udp[udp[0] & 7 : 2] != 0", "ip[ip[9] : 4] & 0xffff = 0x50",
	"ether[12:2] - 0x800 = 0 and ip[0] >> 4 = 4", "- ip[8] & 0xff > 10",
	"ip[3] & (ip[2] | 1) = 1", "ether[len - 60 : 4] != 0", "ip6[ip6[6] : 2] > 0",
	"ether[12:2] << ether[14] = 0", "ether[14] >> (ether[15] & 0x3f) = 0",
	/* combinations */
	"not ip and not ip6 and not arp", "ip and tcp and not (port 80 or port 443)",
	"(ip or ip6) and (tcp or udp) and not port 53",
	"host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or net 172.16.0.0/12",
	"vlan and (arp or ip6 protochain 6)", "broadcast or multicast or ip6 multicast",
};

/* pcap_compile on pcap_open_dead(dlt, 262144), netmask 255.255.255.0 (for
 * `ip broadcast`; nothing else depends on it); 0 on success. */
static int compile_expr(int dlt, const char *expr, int optimize, struct bpf_program *fp,
			char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(dlt, SNAPLEN);
	assert_non_null(p);
	int rc = pcap_compile(p, fp, expr, optimize, 0xffffff00u);
	if (rc != 0)
		snprintf(err, errlen, "%s", pcap_geterr(p));
	pcap_close(p);
	return rc;
}

static size_t g_accepting_exprs;

/* Compile and compare; every compiled program must be free of unsafe
 * scratch reads (so bpf_filter judges it) and must accept some packet
 * unless it is meant to reject all (counted, printed). */
static size_t run_exprs(int dlt, const char *const *exprs, size_t n, const struct tpkts *pk,
			int both_optimizer_settings)
{
	size_t compiled = 0;
	for (size_t i = 0; i < n; i++) {
		for (int opt = 1; opt >= (both_optimizer_settings ? 0 : 1); opt--) {
			struct bpf_program fp;
			char err[PCAP_ERRBUF_SIZE + 64];
			if (compile_expr(dlt, exprs[i], opt, &fp, err, sizeof err) != 0)
				fail_msg("pcap_compile \"%s\": %s", exprs[i], err);
			uint8_t *unsafe = malloc(fp.bf_len);
			assert_non_null(unsafe);
			if (cbpf_gen_unsafe_reads((const struct cbpf_gen_insn *)fp.bf_insns,
						  fp.bf_len, unsafe) != 0)
				fail_msg("\"%s\": pcap_compile's program reads M[] before writing it",
					 exprs[i]);
			free(unsafe);
			char what[300];
			snprintf(what, sizeof what, "\"%s\" (dlt %d, optimizer %s)", exprs[i], dlt,
				 opt ? "on" : "off");
			compare((const vfm_cbpf_insn_t *)fp.bf_insns, fp.bf_len, pk, what);
			/* How many packets it accepts: a test over packets the
			 * filter never matches would prove little. */
			size_t acc = g_last_accepts;
			if (g_last_budget)
				print_message("  note: %s: %llu packets on which bpf_filter would not "
					      "terminate end with BUDGET\n", what,
					      (unsigned long long)g_last_budget);
			if (opt)
				g_accepting_exprs += acc > 0;
			if (opt && acc == 0)
				print_message("  note: \"%s\" (dlt %d) accepts none of %zu packets\n",
					      exprs[i], dlt, pk->n);
			pcap_freecode(&fp);
			compiled++;
		}
	}
	return compiled;
}

static void test_expressions_ethernet(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 2500 / SCALE, 1);
	size_t from_gen = pk.n;
	size_t files = pkts_corpus(&pk);
	uint64_t before = g_mismatches, runs = g_runs;
	size_t n = sizeof en10mb_exprs / sizeof en10mb_exprs[0];
	assert_true(n >= 100);
	g_accepting_exprs = 0;
	size_t progs = run_exprs(DLT_EN10MB, en10mb_exprs, n, &pk, 1);
	print_message("  %zu expressions (%zu programs, optimizer on and off; %zu accept some "
		      "packet) x %zu packets (%zu generated, %zu from %zu captures in corpus/pcap): "
		      "%llu VFM runs, %llu mismatches\n",
		      n, progs, g_accepting_exprs, pk.n, from_gen, pk.n - from_gen, files,
		      (unsigned long long)(g_runs - runs),
		      (unsigned long long)(g_mismatches - before));
	pkts_free(&pk);
	assert_int_equal(g_mismatches - before, 0);
}

/* Expressions from the fuzzer's grammar (fixed seed): whatever compiles. */
static void test_expressions_generated(void **state)
{
	(void)state;
	struct tpkts pk = {0};
	pkts_ethernet(&pk, 150 / SCALE, 5);
	struct cbpf_src s = {NULL, 0, 99};
	uint64_t before = g_mismatches;
	int compiled = 0;
	for (int i = 0; i < 600 / SCALE; i++) {
		char expr[512];
		cbpf_gen_expr(&s, expr, sizeof expr);
		struct bpf_program fp;
		char err[PCAP_ERRBUF_SIZE + 64];
		int opt = i % 3 != 0;
		if (compile_expr(DLT_EN10MB, expr, opt, &fp, err, sizeof err) != 0)
			continue;
		compare((const vfm_cbpf_insn_t *)fp.bf_insns, fp.bf_len, &pk, expr);
		pcap_freecode(&fp);
		compiled++;
	}
	print_message("  %d generated expressions compiled x %zu packets\n", compiled, pk.n);
	pkts_free(&pk);
	assert_true(compiled > 200 / SCALE);
	assert_int_equal(g_mismatches - before, 0);
}

/* Raw IP and Linux cooked captures, built from Ethernet frames. */
static void test_other_linktypes(void **state)
{
	(void)state;
	static const char *const l3_exprs[] = {
		"ip", "ip6", "tcp port 80", "host 10.0.0.1", "udp and port 53", "ip[9] = 6",
		"icmp", "net 10.0.0.0/8", "ip6 and tcp", "tcp[tcpflags] & tcp-syn != 0",
		"ip6 protochain 6", "greater 100", "len < 80", "ip[ip[0] & 0xf] = 0",
		"not ip", "ip6 net 2001:db8::/32 or ip src 192.168.1.10", "portrange 1-1024",
		"ip and ip[6:2] & 0x1fff = 0 and udp", "sctp", "icmp6",
	};
	static const char *const sll_exprs[] = {
		"inbound", "outbound", "arp", "ether proto 0x86dd", "ether proto 0x0806",
		"inbound and tcp", "not outbound and ip6",
	};
	struct tpkts eth = {0}, raw = {0}, sll = {0};
	pkts_ethernet(&eth, 1500 / SCALE, 21);
	uint8_t tmp[2100];
	uint64_t rng = 5;
	for (size_t i = 0; i < eth.n; i++) {
		const struct tpkt *g = &eth.p[i];
		if (g->len < 14 || g->len > 2000)
			continue;
		uint32_t l3 = 14, w = bpf_wirelen(g);
		uint16_t type = (uint16_t)(g->data[12] << 8 | g->data[13]);
		if (type == 0x0800 || type == 0x86dd)
			pkts_add(&raw, g->data + l3, g->len - l3, w > l3 ? w - l3 : 0);
		/* SLL: packet type, ARPHRD_ETHER, address length 6, address
		 * (8 bytes), protocol; then the frame after the Ethernet header. */
		uint64_t r = cbpf_splitmix(&rng);
		tmp[0] = 0;
		tmp[1] = (uint8_t)(r % 5);
		tmp[2] = 0;
		tmp[3] = 1;
		tmp[4] = 0;
		tmp[5] = 6;
		memcpy(tmp + 6, g->data + 6, 6);
		tmp[12] = tmp[13] = 0;
		tmp[14] = g->data[12];
		tmp[15] = g->data[13];
		memcpy(tmp + 16, g->data + 14, g->len - 14);
		pkts_add(&sll, tmp, 16 + g->len - 14, w + 2);
	}
	pkts_free(&eth);
	uint64_t before = g_mismatches;
	size_t n3 = sizeof l3_exprs / sizeof l3_exprs[0];
	size_t a = run_exprs(DLT_RAW, l3_exprs, n3, &raw, 1);
	size_t b = run_exprs(DLT_LINUX_SLL, l3_exprs, n3, &sll, 1);
	size_t c = run_exprs(DLT_LINUX_SLL, sll_exprs, sizeof sll_exprs / sizeof sll_exprs[0],
			     &sll, 1);
	print_message("  DLT_RAW: %zu programs x %zu packets; DLT_LINUX_SLL: %zu programs x %zu packets\n",
		      a, raw.n, b + c, sll.n);
	pkts_free(&raw);
	pkts_free(&sll);
	assert_int_equal(g_mismatches - before, 0);
}

/* ---- the file image ----------------------------------------------------------- */

static void test_file_image(void **state)
{
	(void)state;
	struct bpf_program fp;
	char err[PCAP_ERRBUF_SIZE + 64];
	assert_int_equal(compile_expr(DLT_EN10MB, "tcp dst port 80", 1, &fp, err, sizeof err), 0);
	const vfm_cbpf_insn_t *insns = (const vfm_cbpf_insn_t *)fp.bf_insns;
	vfm_cbpf_options_t opt = {.source_name = "tcp dst port 80", .linktype = "EN10MB"};
	uint8_t *img;
	size_t len;
	vfm_diag_t d;
	assert_int_equal(vfm_from_cbpf(insns, fp.bf_len, &opt, &img, &len, &d), VFM_OK);
	/* The cBPF program comes back out of the file. */
	vfm_cbpf_insn_t *back;
	size_t n;
	assert_int_equal(vfm_cbpf_from_file(img, len, &back, &n, &d), VFM_OK);
	assert_int_equal(n, fp.bf_len);
	assert_memory_equal(back, insns, n * sizeof *back);
	free(back);
	/* The file loads (verified like any other) and says its link type. */
	vfm_program_t *lp;
	assert_int_equal(vfm_program_create(img, len, &lp, &d), VFM_OK);
	assert_non_null(vfm_program_linktype(lp));
	assert_string_equal(vfm_program_linktype(lp), "EN10MB");
	vfm_program_release(lp);
	vfm_state_t *vm = vfm_create();
	assert_int_equal(vfm_load_program(vm, img, len), VFM_OK);
	/* A corrupt copy is refused with the file's own errors. */
	img[len - 1] ^= 1;
	assert_int_equal(vfm_cbpf_from_file(img, len, &back, &n, &d), VFM_ECORRUPT);
	assert_null(back);
	assert_int_equal(vfm_cbpf_from_file(img, len - 3, &back, &n, &d), VFM_ETRUNCATED);
	free(img);
	/* A bad link-type name is refused. */
	vfm_cbpf_options_t badlt = {.linktype = "EN10MB; rm"};
	uint8_t *img2 = (uint8_t *)1;
	size_t len3 = 1;
	assert_int_equal(vfm_from_cbpf(insns, fp.bf_len, &badlt, &img2, &len3, &d), VFM_EINVAL);
	assert_null(img2);
	/* Without the optional sections: smaller, no cBPF section. */
	opt.flags = VFM_CBPF_NO_LINES | VFM_CBPF_NO_ORIGIN;
	opt.source_name = NULL;
	size_t len2;
	assert_int_equal(vfm_from_cbpf(insns, fp.bf_len, &opt, &img, &len2, &d), VFM_OK);
	assert_true(len2 < len);
	assert_int_equal(vfm_cbpf_from_file(img, len2, &back, &n, &d), VFM_EINVAL);
	assert_null(back);
	free(img);
	/* vfm_load_cbpf: a refused program keeps the previous one. */
	assert_int_equal(vfm_load_cbpf(vm, insns, fp.bf_len, NULL), VFM_OK);
	vfm_cbpf_insn_t bad[] = {S(0x28, 0xfffff000u), S(0x06, 0)};
	assert_int_equal(vfm_load_cbpf(vm, bad, 2, NULL), VFM_EUNSUPPORTED);
	assert_int_equal(vfm_last_error_code(vm), VFM_EUNSUPPORTED);
	assert_non_null(strstr(vfm_last_error(vm), "SKF_AD_PROTOCOL"));
	uint8_t pkt[60] = {0};
	pkt[12] = 0x08;
	pkt[14] = 0x45;
	pkt[23] = 6;
	pkt[37] = 80;
	assert_int_equal(vfm_execute(vm, pkt, sizeof pkt),
			 bpf_filter(fp.bf_insns, pkt, sizeof pkt, sizeof pkt));
	assert_int_equal(vfm_execute(vm, pkt, sizeof pkt), SNAPLEN);
	vfm_destroy(vm);
	pcap_freecode(&fp);
	/* Foreign bytes. */
	assert_int_equal(vfm_cbpf_from_file((const uint8_t *)"xx", 2, &back, &n, &d),
			 VFM_ETRUNCATED);
	assert_int_equal(vfm_cbpf_from_file((const uint8_t *)"not a VFM file", 14, &back, &n, &d),
			 VFM_EMAGIC);
}

/* Every VFM instruction is mapped to its cBPF instruction by the line
 * table; verifier messages and the disassembly name them. */
static void test_lines(void **state)
{
	(void)state;
	vfm_cbpf_insn_t p[] = {S(0x28, 12), J(0x15, 0x800, 0, 1), S(0x06, 1), S(0x06, 0)};
	uint8_t *img;
	size_t len;
	vfm_diag_t d;
	assert_int_equal(vfm_from_cbpf(p, 4, NULL, &img, &len, &d), VFM_OK);
	char *text;
	assert_int_equal(vfm_disassemble(img, len, &text, &d), VFM_OK);
	assert_non_null(strstr(text, "LD16 12"));
	assert_non_null(strstr(text, "RET 1"));
	free(text);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_validate_agrees),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_hand),
		cmocka_unit_test(test_hand_covers_every_opcode),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_expressions_ethernet),
		cmocka_unit_test(test_expressions_generated),
		cmocka_unit_test(test_other_linktypes),
		cmocka_unit_test(test_file_image),
		cmocka_unit_test(test_lines),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	printf("test_cbpf: %llu VFM runs (%s) compared, %llu bpf_filter calls, %llu ended by "
	       "the budget, %llu mismatches\n",
	       (unsigned long long)g_runs, vfm_jit_arch() ? "interpreter and JIT" : "interpreter",
	       (unsigned long long)g_bpf_calls, (unsigned long long)g_budget_ends,
	       (unsigned long long)g_mismatches);
	return rc;
}
