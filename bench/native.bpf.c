/*
 * bench/native.bpf.c — the benchmark filters written in C for the kernel, compiled with `clang -target bpf -O2`: the yardstick
 * for VFM's eBPF back end in vfm-kbench (bench/kbench.c), as bench/native.c
 * is for the JIT.
 *
 * The decision sequence is bench/native.c's, read for read; only the
 * bounds checks differ in form, because the kernel verifier accepts a
 * packet read only behind a pointer compare against data_end that it can
 * see (a length compare does not count): fits(off, size) is that compare.
 * tc programs (SEC "tc", BPF_PROG_TYPE_SCHED_CLS) like VFM_EBPF_TC: a
 * non-zero verdict returns TC_ACT_OK, zero TC_ACT_SHOT.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define VERDICT(v) ((v) ? TC_ACT_OK : TC_ACT_SHOT)

/* size bytes at off are inside the packet. */
#define fits(off, size) (p + (off) + (size) <= end)

static __always_inline __u32 rd8(const __u8 *p, __u32 off) { return p[off]; }
static __always_inline __u32 rd16(const __u8 *p, __u32 off)
{
	return (__u32)p[off] << 8 | p[off + 1];
}
static __always_inline __u32 rd32(const __u8 *p, __u32 off)
{
	return (__u32)p[off] << 24 | (__u32)p[off + 1] << 16 | (__u32)p[off + 2] << 8 | p[off + 3];
}

SEC("tc")
int native_f1(struct __sk_buff *skb)
{
	const __u8 *p = (const __u8 *)(long)skb->data, *end = (const __u8 *)(long)skb->data_end;
	if (!fits(0, 14) || rd16(p, 12) != 0x0800)
		return VERDICT(0);
	if (!fits(0, 24) || rd8(p, 23) != 6)
		return VERDICT(0);
	return VERDICT(fits(0, 38) && rd16(p, 36) == 80);
}

SEC("tc")
int native_f2(struct __sk_buff *skb)
{
	const __u8 *p = (const __u8 *)(long)skb->data, *end = (const __u8 *)(long)skb->data_end;
	if (!fits(0, 14))
		return VERDICT(0);
	__u32 type = rd16(p, 12);
	if (type == 0x86DD) /* fixed header only, like libpcap */
		return VERDICT(fits(0, 21) && rd8(p, 20) == 6 && fits(0, 58) && rd16(p, 56) == 80);
	if (type != 0x0800 || !fits(0, 24) || rd8(p, 23) != 6)
		return VERDICT(0);
	if (rd16(p, 20) & 0x1FFF) /* later fragment: no TCP header */
		return VERDICT(0);
	/* Variable offsets through a pointer, so that clang keeps the
	 * checked pointer the verifier has seen for the read. */
	const __u8 *dport = p + (rd8(p, 14) & 0x0F) * 4 + 16; /* 14 + IHL*4 + 2 */
	return VERDICT(dport + 2 <= end && rd16(dport, 0) == 80);
}

SEC("tc")
int native_f3(struct __sk_buff *skb)
{
	const __u8 *p = (const __u8 *)(long)skb->data, *end = (const __u8 *)(long)skb->data_end;
	if (!fits(0, 24) || rd16(p, 12) != 0x0800)
		return VERDICT(0);
	__u32 proto = rd8(p, 23);
	if (proto != 6 && proto != 17)
		return VERDICT(0);
	if (!fits(0, 30))
		return VERDICT(0);
	if ((rd32(p, 26) & 0xFF000000u) != 0x0A000000u &&
	    (!fits(0, 34) || (rd32(p, 30) & 0xFFFF0000u) != 0xC0A80000u))
		return VERDICT(0);
	if (!(rd16(p, 20) & 0x1FFF)) { /* ports exist: neither may be 22 */
		const __u8 *l4 = p + (rd8(p, 14) & 0x0F) * 4 + 14;
		if (l4 + 2 > end || rd16(l4, 0) == 22)
			return VERDICT(0);
		if (l4 + 4 > end || rd16(l4, 2) == 22)
			return VERDICT(0);
	}
	return VERDICT(skb->len >= 100); /* greater 100 */
}

SEC("tc")
int native_f4(struct __sk_buff *skb)
{
	(void)skb;
	return VERDICT(1);
}

/* ---- Flow table model (docs/ISA.md section 6), as bench/native.c ------- */

#define WAYS 4
#define FLOW_CAPACITY 16384 /* VFM_DEFAULT_FLOW_CAPACITY */

struct native_set {
	__u64 key[WAYS];
	__u64 value[WAYS];
	__u32 used;   /* bit w: way w holds an entry */
	__u32 victim; /* next way a full set replaces (FIFO) */
};

/* One table per filter, as each filter has its own VM in the bench: one
 * element per set, the set is mix64(key) & (sets - 1). */
#define FLOW_MAP(name)                                     \
	struct {                                           \
		__uint(type, BPF_MAP_TYPE_ARRAY);          \
		__uint(max_entries, FLOW_CAPACITY / WAYS); \
		__type(key, __u32);                        \
		__type(value, struct native_set);          \
	} name SEC(".maps")
FLOW_MAP(ddos_flow);
FLOW_MAP(rate_flow);

/* SplitMix64 finaliser (docs/ISA.md 5.1). */
static __always_inline __u64 mix64(__u64 x)
{
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static __always_inline struct native_set *flow_set(void *map, __u64 key)
{
	__u32 set = (__u32)(mix64(key) & (FLOW_CAPACITY / WAYS - 1));
	return bpf_map_lookup_elem(map, &set);
}

static __always_inline __u64 flow_load(struct native_set *s, __u64 key)
{
	for (unsigned w = 0; w < WAYS; w++)
		if ((s->used >> w & 1u) && s->key[w] == key)
			return s->value[w];
	return 0;
}

static __always_inline void flow_store(struct native_set *s, __u64 key, __u64 value)
{
	unsigned slot = WAYS;
	for (unsigned w = 0; w < WAYS; w++) {
		if (!(s->used >> w & 1u)) {
			if (slot == WAYS)
				slot = w;
		} else if (s->key[w] == key) {
			s->value[w] = value;
			return;
		}
	}
	if (slot == WAYS) { /* full set: FIFO victim */
		slot = s->victim & (WAYS - 1);
		s->victim = (slot + 1) % WAYS;
	} else {
		s->used |= 1u << slot;
	}
	s->key[slot & (WAYS - 1)] = key;
	s->value[slot & (WAYS - 1)] = value;
}

/* examples/ddos_detect.vfm: from a source's 65th SYN on, drop its SYNs. */
SEC("tc")
int native_ddos(struct __sk_buff *skb)
{
	const __u8 *p = (const __u8 *)(long)skb->data, *end = (const __u8 *)(long)skb->data_end;
	if (!fits(0, 14) || rd16(p, 12) != 0x0800)
		return VERDICT(fits(0, 14)); /* short: BOUNDS (0); non-IPv4: accept */
	if (!fits(0, 24))
		return VERDICT(0);
	if (rd8(p, 23) != 6)
		return VERDICT(1);
	if (rd16(p, 20) & 0x1FFF)
		return VERDICT(1);
	const __u8 *flags = p + (rd8(p, 14) & 0x0F) * 4 + 27; /* 14 + IHL*4 + 13 */
	if (flags + 1 > end)
		return VERDICT(0);
	if ((flags[0] & 0x12) != 0x02)
		return VERDICT(1);
	if (!fits(0, 30))
		return VERDICT(0);
	__u64 key = 0x53594E0000000000ull | rd32(p, 26);
	struct native_set *s = flow_set(&ddos_flow, key);
	if (!s)
		return VERDICT(0); /* cannot happen: the index is below max_entries */
	__u64 count = flow_load(s, key) + 1;
	flow_store(s, key, count);
	return VERDICT(count <= 64);
}

/* examples/rate_limit.vfm: at most 100 packets per IPv4 source per 1 s
 * window of the packet timestamp (skb->tstamp, as VFM's tc target). */
SEC("tc")
int native_rate(struct __sk_buff *skb)
{
	const __u8 *p = (const __u8 *)(long)skb->data, *end = (const __u8 *)(long)skb->data_end;
	if (!fits(0, 14))
		return VERDICT(0);
	if (rd16(p, 12) != 0x0800)
		return VERDICT(1);
	if (!fits(0, 30))
		return VERDICT(0);
	__u64 key = 0x5241544500000000ull | rd32(p, 26);
	__u64 window = (skb->tstamp / 1000000000u) & 0xFFFFFFFFu;
	struct native_set *s = flow_set(&rate_flow, key);
	if (!s)
		return VERDICT(0);
	__u64 value = flow_load(s, key);
	__u64 count = (value >> 32) == window ? (value & 0xFFFFFFFFu) : 0;
	if (count >= 100)
		return VERDICT(0);
	flow_store(s, key, window << 32 | (count + 1));
	return VERDICT(1);
}

/* The floor vfm-kbench subtracts: the cost of a run that does nothing. */
SEC("tc")
int empty(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
