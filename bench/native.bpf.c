/*
 * bench/native.bpf.c — the stateless benchmark filters (F1-F4) written in
 * C for the kernel, compiled with `clang -target bpf -O2`: the yardstick
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

/* The floor vfm-kbench subtracts: the cost of a run that does nothing. */
SEC("tc")
int empty(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
