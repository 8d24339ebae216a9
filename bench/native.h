/*
 * bench/native.h — the benchmark's filters hand-written in C.
 *
 * Each function has the semantics of the VFM program of the same name
 * (bench/filters/, examples/) and the same safety: every packet read is
 * bounds-checked (overflow-safe), a read past the end drops the packet.
 * They are compiled with -O2 in their own translation unit and called
 * through a function pointer, like every other engine, so no engine gets
 * inlined into the timing loop.
 *
 * The stateful filters (ddos_detect, rate_limit) keep their counts in a C
 * model of the VFM flow table (4-way set associative, set = mix64(key),
 * FIFO replacement; docs/ISA.md section 6), so their verdicts and the
 * table's counters match the VM exactly even when sets overflow.
 */
#ifndef VFM_BENCH_NATIVE_H
#define VFM_BENCH_NATIVE_H

#include <stdint.h>

#include "vfm.h"

/* ctx: a struct native_flow for the stateful filters, unused otherwise. */
typedef uint32_t (*native_fn)(void *ctx, const uint8_t *p, uint32_t len,
			      uint64_t ts_ns);

uint32_t native_f1(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns);
uint32_t native_f2(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns);
uint32_t native_f3(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns);
uint32_t native_f4(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns);
uint32_t native_ddos(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns);
uint32_t native_rate(void *ctx, const uint8_t *p, uint32_t len, uint64_t ts_ns);

struct native_flow;
/* capacity: a power of two >= 4 (as vfm_config_t.flow_capacity). */
struct native_flow *native_flow_create(uint32_t capacity);
void native_flow_destroy(struct native_flow *ft);
void native_flow_clear(struct native_flow *ft);
void native_flow_stats(const struct native_flow *ft, vfm_flow_stats_t *out);

#endif
