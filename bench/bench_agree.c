/*
 * bench/bench_agree.c — vfm-bench's verdict agreement: every engine on every
 * packet of the mix and of mutated copies, before anything is timed.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "prng.h"

/* ---- Verdict agreement -------------------------------------------------- */

/* Every engine against the reference (libpcap where it exists, else the C
 * model) on every packet, which makes every pair agree.  The VFM engines
 * are also compared on status and instruction count, and the stateful
 * filters on the flow-table counters.  Returns the number of problems. */
size_t bench_check_filter(struct bench *b, struct filter *f, const vfm_packet_t *pkts,
			   const struct pktgen_packet *meta, size_t n, const char *set)
{
	enum kind ref = f->has_bpf ? K_PCAP : K_NATIVE;
	uint32_t *v[K_COUNT] = {0};
	vfm_flow_stats_t st[K_COUNT];
	size_t problems = 0;

	for (int k = 0; k < K_COUNT; k++) {
		struct inst *in = &f->in[k];
		if (!in->present)
			continue;
		v[k] = bench_xcalloc(n, sizeof *v[k]);
		bench_clear_state(in);
		bench_run_pass(b, in, pkts, n, v[k]);
		bench_get_stats(in, &st[k]);
	}

	size_t shown = 0, accepted = 0;
	for (size_t i = 0; i < n; i++) {
		int want = v[ref][i] != 0;
		accepted += (size_t)want;
		int bad = 0;
		for (int k = 0; k < K_COUNT; k++)
			if (v[k] && (v[k][i] != 0) != want)
				bad = 1;
		if (!bad)
			continue;
		problems++;
		if (shown++ < 10) {
			printf("MISMATCH %s %s packet %zu (%s, len %u, wire %u):", f->def->id,
			       set, i, pktgen_kind_name(meta[i].kind), pkts[i].len,
			       meta[i].wire_len);
			for (int k = 0; k < K_COUNT; k++)
				if (v[k])
					printf(" %s=%" PRIu32, kind_name[k], v[k][i]);
			printf("\n");
		}
	}

	if (f->def->stateful) {
		for (int k = 0; k < K_COUNT; k++) {
			if (!v[k] || k == K_NATIVE)
				continue;
			const vfm_flow_stats_t *nat = &st[K_NATIVE], *eng = &st[k];
			if (nat->entries != eng->entries || nat->hits != eng->hits ||
			    nat->misses != eng->misses || nat->inserts != eng->inserts ||
			    nat->updates != eng->updates || nat->evictions != eng->evictions) {
				problems++;
				printf("MISMATCH %s %s flow table: native-c entries %" PRIu64
				       " hits %" PRIu64 " misses %" PRIu64 " evictions %" PRIu64
				       "; %s entries %" PRIu64 " hits %" PRIu64 " misses %" PRIu64
				       " evictions %" PRIu64 "\n",
				       f->def->id, set, nat->entries, nat->hits, nat->misses,
				       nat->evictions, kind_name[k], eng->entries, eng->hits,
				       eng->misses, eng->evictions);
			}
		}
	}

	/* Detailed results: goto vs switch (and JIT): verdict, status, insns,
	 * on counting VMs (the timed ones count nothing). */
	vfm_result_t *rg = bench_xcalloc(n, sizeof *rg), *rs = bench_xcalloc(n, sizeof *rs);
	vfm_state_t *vg = bench_new_vm(K_GOTO, f, 1), *vs = bench_new_vm(K_SWITCH, f, 1);
	vfm_execute_batch(vg, pkts, n, rg);
	sw_vfm_execute_batch(vs, pkts, n, rs);
	vfm_destroy(vg);
	sw_vfm_destroy(vs);
	vfm_result_t *rj = NULL;
	if (f->in[K_JIT].present) {
		rj = bench_xcalloc(n, sizeof *rj);
		vfm_state_t *vj = bench_new_vm(K_JIT, f, 1);
		if (vfm_enable_jit(vj) != VFM_OK)
			bench_die("%s: vfm_enable_jit: %s", f->def->id, vfm_last_error(vj));
		vfm_execute_batch(vj, pkts, n, rj);
		vfm_destroy(vj);
	}
	size_t bounds = 0;
	shown = 0;
	for (size_t i = 0; i < n; i++) {
		bounds += rg[i].status == VFM_STATUS_BOUNDS;
		int bad = rg[i].verdict != rs[i].verdict || rg[i].status != rs[i].status ||
			  rg[i].insns != rs[i].insns;
		/* The JIT counts per basic block: its insns equal the
		 * interpreter's (docs/ISA.md 7.3). */
		if (rj)
			bad |= rg[i].verdict != rj[i].verdict || rg[i].status != rj[i].status ||
			       rg[i].insns != rj[i].insns;
		if (!bad)
			continue;
		problems++;
		if (shown++ < 10) {
			printf("MISMATCH %s %s packet %zu detailed result: goto %" PRIu32
			       "/%s/%" PRIu64 " switch %" PRIu32 "/%s/%" PRIu64,
			       f->def->id, set, i, rg[i].verdict, vfm_status_name(rg[i].status),
			       rg[i].insns, rs[i].verdict, vfm_status_name(rs[i].status),
			       rs[i].insns);
			if (rj)
				printf(" jit %" PRIu32 "/%s/%" PRIu64, rj[i].verdict,
				       vfm_status_name(rj[i].status), rj[i].insns);
			printf("\n");
		}
	}
	free(rg);
	free(rs);
	free(rj);

	/* Not a check: how many libpcap verdicts change if bpf_filter is told
	 * the original wire length of the truncated frames (only `greater`
	 * and `len` read it). */
	size_t wire_diff = 0;
	if (f->has_bpf)
		for (size_t i = 0; i < n; i++)
			wire_diff += (bpf_filter(f->bpf.bf_insns, pkts[i].data, meta[i].wire_len,
						 pkts[i].len) != 0) != (v[ref][i] != 0);
	if (pkts == b->pk) { /* the statistics printed are those of the real mix */
		f->accepted = accepted;
		f->bounds = bounds;
		f->wire_diff = wire_diff;
	}

	for (int k = 0; k < K_COUNT; k++)
		free(v[k]);
	return problems;
}

/* A harsher set for the verdict check only (never timed): copies of the
 * mix's packets with a few header bytes overwritten by values that steer
 * filters into their corner cases (IHL 0-15, IPv6/IPv4 EtherTypes, TCP/UDP/
 * SCTP protocols, ports 22/80, fragment bits, 10/8 and 192.168/16
 * addresses) and sometimes cut short.  Deterministic (splitmix64). */
uint64_t bench_mut_next(struct bench *b)
{
	return prng_splitmix64(&b->mut_state);
}

void bench_make_mutants(struct bench *b, size_t n, uint8_t **buf_out, vfm_packet_t **pkts_out,
			 struct pktgen_packet **meta_out)
{
	static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x05, 0x06, 0x0A, 0x11, 0x12,
					      0x16, 0x20, 0x3F, 0x40, 0x45, 0x4F, 0x50, 0x64,
					      0x80, 0x84, 0x86, 0xA8, 0xC0, 0xDD, 0xFF};
	/* field offsets the filters read (untagged Ethernet + IPv4/IPv6) */
	static const uint8_t hot[] = {12, 13, 14, 20, 21, 23, 26, 30, 31, 34, 35, 36,
				      37, 38, 39, 40, 41, 54, 55, 56, 57};
	uint8_t *buf = bench_xcalloc(n, PKTGEN_MAX_FRAME);
	vfm_packet_t *p = bench_xcalloc(n, sizeof *p);
	struct pktgen_packet *meta = bench_xcalloc(n, sizeof *meta);
	b->mut_state = b->opt.seed ^ 0x6D757461ull;
	for (size_t i = 0; i < n; i++) {
		uint8_t *d = buf + i * PKTGEN_MAX_FRAME;
		uint32_t len = b->mix.pkts[i].len;
		memcpy(d, b->mix.pkts[i].data, len);
		unsigned edits = 1 + (unsigned)(bench_mut_next(b) % 4);
		for (unsigned e = 0; e < edits; e++) {
			uint64_t r = bench_mut_next(b);
			uint32_t off = hot[r % sizeof hot];
			if (r >> 8 & 1) /* sometimes anywhere in the first 80 bytes */
				off = (uint32_t)(r >> 16) % 80;
			if (off >= len)
				continue;
			switch (r >> 40 & 3) {
			case 0: d[off] = (uint8_t)(r >> 48); break;
			case 1: d[off] = interesting[(r >> 48) % sizeof interesting]; break;
			case 2: /* IHL nibble */
				if (len > 14)
					d[14] = (uint8_t)((d[14] & 0xF0) | (r >> 48 & 0x0F));
				break;
			default: /* EtherType IPv4 or IPv6 */
				if (len >= 14) {
					d[12] = r >> 48 & 1 ? 0x86 : 0x08;
					d[13] = r >> 48 & 1 ? 0xDD : 0x00;
				}
				break;
			}
		}
		if (bench_mut_next(b) % 8 == 0 && len) /* cut short */
			len = (uint32_t)(bench_mut_next(b) % len);
		p[i] = (vfm_packet_t){.data = d, .len = len, .ts_ns = b->mix.pkts[i].ts_ns};
		meta[i] = b->mix.pkts[i];
		meta[i].data = d;
		meta[i].len = len;
		meta[i].wire_len = len;
	}
	*buf_out = buf;
	*pkts_out = p;
	*meta_out = meta;
}

