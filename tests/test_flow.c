/*
 * tests/test_flow.c — the flow table (docs/ISA.md, section 6), driven
 * through the public API: configuration, FLOW_LOAD/FLOW_STORE run by real
 * programs, counters, FIFO replacement, and the host-side calls
 * (vfm_flow_stats, _clear, _peek, _foreach).
 *
 * The only internal used is vfm_mix64 (vm/semantics.h), to find keys that
 * land in the same set: the set rule is part of the documented semantics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "semantics.h"
#include "test_support.h"
#include "vfm.h"

/*
 * One program serves every test; the packet says what to do:
 *   byte 0      operation: 0 load, 1 store, 2 load and compare
 *   bytes 1..8  key (big-endian)
 *   bytes 9..16 value (big-endian)
 * load returns the value as the verdict (saturated to 32 bits); compare
 * returns 1 if FLOW_LOAD gave exactly the 64-bit value, else 0.
 */
static const char *const flow_prog =
	"; flow-table driver for tests/test_flow.c\n"
	"        LD8 0\n"
	"        PUSH 1\n"
	"        JEQ store\n"
	"        LD8 0\n"
	"        PUSH 2\n"
	"        JEQ check\n"
	"        LD64 1\n"
	"        FLOW_LOAD\n"
	"        RET\n"
	"check:  LD64 1\n"
	"        FLOW_LOAD\n"
	"        LD64 9\n"
	"        JEQ same\n"
	"        RET 0\n"
	"same:   RET 1\n"
	"store:  LD64 1\n"
	"        LD64 9\n"
	"        FLOW_STORE\n"
	"        RET 1\n";

enum { OP_LOAD, OP_STORE, OP_CHECK };

static vfm_state_t *vm_with(uint32_t capacity)
{
	vfm_config_t cfg = {.flow_capacity = capacity};
	vfm_diag_t diag;
	vfm_state_t *vm = vfm_create_with(&cfg, &diag);
	if (!vm)
		fail_msg("vfm_create_with(%u): %s", capacity, diag.message);
	size_t len;
	uint8_t *bytes = ts_assemble(flow_prog, &len);
	if (vfm_load_program(vm, bytes, len) != VFM_OK)
		fail_msg("load: %s", vfm_last_error(vm));
	free(bytes);
	return vm;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t run(vfm_state_t *vm, int op, uint64_t key, uint64_t value)
{
	uint8_t pkt[17];
	pkt[0] = (uint8_t)op;
	put_be64(pkt + 1, key);
	put_be64(pkt + 9, value);
	vfm_packet_t p = {.data = pkt, .len = sizeof pkt};
	vfm_result_t r;
	assert_int_equal(vfm_execute_ex(vm, &p, &r), VFM_OK);
	assert_int_equal(r.status, VFM_STATUS_OK);
	return r.verdict;
}

static void store(vfm_state_t *vm, uint64_t key, uint64_t value)
{
	assert_int_equal(run(vm, OP_STORE, key, value), 1);
}

static uint32_t load(vfm_state_t *vm, uint64_t key)
{
	return run(vm, OP_LOAD, key, 0);
}

static vfm_flow_stats_t stats(const vfm_state_t *vm)
{
	vfm_flow_stats_t s;
	assert_int_equal(vfm_flow_stats(vm, &s), VFM_OK);
	return s;
}

static void expect_stats(const vfm_state_t *vm, uint64_t entries, uint64_t hits,
			 uint64_t misses, uint64_t inserts, uint64_t updates,
			 uint64_t evictions)
{
	vfm_flow_stats_t s = stats(vm);
	if (s.entries != entries || s.hits != hits || s.misses != misses ||
	    s.inserts != inserts || s.updates != updates || s.evictions != evictions)
		fail_msg("stats entries/hits/misses/inserts/updates/evictions = "
			 "%llu/%llu/%llu/%llu/%llu/%llu, expected %llu/%llu/%llu/%llu/%llu/%llu",
			 (unsigned long long)s.entries, (unsigned long long)s.hits,
			 (unsigned long long)s.misses, (unsigned long long)s.inserts,
			 (unsigned long long)s.updates, (unsigned long long)s.evictions,
			 (unsigned long long)entries, (unsigned long long)hits,
			 (unsigned long long)misses, (unsigned long long)inserts,
			 (unsigned long long)updates, (unsigned long long)evictions);
}

static int peek(const vfm_state_t *vm, uint64_t key, uint64_t *value)
{
	return vfm_flow_peek(vm, key, value);
}

/* n keys, in increasing order from `start`, whose set is `set` in a table
 * of `capacity` entries (set = vfm_mix64(key) & (capacity/4 - 1)). */
static void keys_in_set(uint32_t capacity, uint64_t set, uint64_t start,
			uint64_t *out, size_t n)
{
	uint64_t mask = capacity / 4 - 1;
	for (uint64_t k = start; n > 0; k++)
		if ((vfm_mix64(k) & mask) == set) {
			*out++ = k;
			n--;
		}
}

/* ---- Configuration and memory ------------------------------------------ */

static void test_capacity_validation(void **state)
{
	(void)state;
	static const uint32_t bad[] = {1, 2, 3, 5, 6, 12, 100, 16383, 16385,
				       (1u << 24) + 4, 1u << 25, 0x80000000u, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		vfm_config_t cfg = {.flow_capacity = bad[i]};
		vfm_diag_t diag;
		memset(&diag, 0, sizeof diag);
		vfm_state_t *vm = vfm_create_with(&cfg, &diag);
		if (vm)
			fail_msg("capacity %u accepted", bad[i]);
		assert_int_equal(diag.code, VFM_EINVAL);
		char want[64];
		snprintf(want, sizeof want, "flow capacity %u ", bad[i]);
		if (!strstr(diag.message, want) || !strstr(diag.message, "power of two"))
			fail_msg("capacity %u: unhelpful message '%s'", bad[i], diag.message);
		/* diag is optional. */
		assert_null(vfm_create_with(&cfg, NULL));
	}
	static const uint32_t good[] = {4, 8, 16, 1024, 16384, 1u << 24};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		vfm_config_t cfg = {.flow_capacity = good[i]};
		vfm_state_t *vm = vfm_create_with(&cfg, NULL);
		if (!vm)
			fail_msg("capacity %u refused", good[i]);
		assert_int_equal(stats(vm).capacity, good[i]);
		vfm_destroy(vm);
	}
	/* 0 and no configuration at all mean the default. */
	vfm_config_t zero = {0};
	vfm_state_t *a = vfm_create_with(&zero, NULL), *b = vfm_create_with(NULL, NULL),
		    *c = vfm_create();
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(stats(a).capacity, VFM_DEFAULT_FLOW_CAPACITY);
	assert_int_equal(stats(b).capacity, VFM_DEFAULT_FLOW_CAPACITY);
	assert_int_equal(stats(c).capacity, 16384);
	vfm_destroy(a);
	vfm_destroy(b);
	vfm_destroy(c);
}

static void test_default_memory(void **state)
{
	(void)state;
	vfm_state_t *vm = vfm_create();
	assert_non_null(vm);
	size_t mem = vfm_memory(vm);
	if (mem >= (1u << 20))
		fail_msg("a default VM takes %zu bytes, not under 1 MiB", mem);
	/* At least the entries themselves (16 bytes of key and value each). */
	assert_true(mem >= 16u * VFM_DEFAULT_FLOW_CAPACITY);
	/* With a program loaded the VM's own memory is unchanged. */
	vfm_destroy(vm);
	vm = vm_with(VFM_DEFAULT_FLOW_CAPACITY);
	assert_int_equal(vfm_memory(vm), mem);
	vfm_destroy(vm);
	/* Memory grows with the configured capacity. */
	vfm_config_t cfg = {.flow_capacity = 4};
	vm = vfm_create_with(&cfg, NULL);
	assert_true(vfm_memory(vm) < mem);
	vfm_destroy(vm);
}

/* ---- FLOW_LOAD / FLOW_STORE --------------------------------------------- */

static void test_miss_returns_zero(void **state)
{
	(void)state;
	vfm_state_t *vm = vm_with(64);
	assert_int_equal(load(vm, 12345), 0);
	assert_int_equal(load(vm, 0), 0);
	assert_int_equal(run(vm, OP_CHECK, 99, 0), 1); /* exactly 0, 64 bits */
	expect_stats(vm, 0, 0, 3, 0, 0, 0);
	uint64_t v = 777;
	assert_int_equal(peek(vm, 12345, &v), 0);
	assert_int_equal(v, 777); /* untouched on a miss */
	vfm_destroy(vm);
}

static void test_every_key_usable(void **state)
{
	(void)state;
	vfm_state_t *vm = vm_with(64);
	static const uint64_t keys[] = {0, 1, UINT64_MAX, 0x8000000000000000u};
	for (size_t i = 0; i < 4; i++)
		store(vm, keys[i], 100 + i);
	for (size_t i = 0; i < 4; i++) {
		uint64_t v = 0;
		assert_int_equal(load(vm, keys[i]), 100 + i);
		assert_int_equal(peek(vm, keys[i], &v), 1);
		assert_int_equal(v, 100 + i);
	}
	/* Full 64-bit values, including 0 (a hit, though it looks like a miss
	 * to the program). */
	store(vm, 0, 0xFEDCBA9876543210u);
	assert_int_equal(run(vm, OP_CHECK, 0, 0xFEDCBA9876543210u), 1);
	assert_int_equal(load(vm, 0), 0xFFFFFFFFu); /* verdict saturates */
	store(vm, 1, 0);
	uint64_t before = stats(vm).hits;
	assert_int_equal(load(vm, 1), 0);
	assert_int_equal(stats(vm).hits, before + 1);
	uint64_t v = 5;
	assert_int_equal(peek(vm, 1, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(peek(vm, 1, NULL), 1);
	vfm_destroy(vm);
}

static void test_counters(void **state)
{
	(void)state;
	vfm_state_t *vm = vm_with(1024);
	expect_stats(vm, 0, 0, 0, 0, 0, 0);
	store(vm, 10, 1);                   /* insert */
	store(vm, 20, 2);                   /* insert */
	store(vm, 10, 3);                   /* update */
	assert_int_equal(load(vm, 10), 3); /* hit */
	assert_int_equal(load(vm, 20), 2); /* hit */
	assert_int_equal(load(vm, 30), 0); /* miss */
	expect_stats(vm, 2, 2, 1, 2, 1, 0);
	assert_int_equal(stats(vm).capacity, 1024);
	vfm_destroy(vm);
}

/* Keys of one set: ways fill in order, then each new key replaces the one
 * inserted longest ago; updates do not refresh; other sets are untouched. */
static void test_fifo_replacement(void **state)
{
	(void)state;
	const uint32_t cap = 16; /* 4 sets */
	uint64_t k[10], other[4];
	keys_in_set(cap, 2, 0, k, 10);
	keys_in_set(cap, 1, 0, other, 4);
	vfm_state_t *vm = vm_with(cap);
	for (int i = 0; i < 4; i++)
		store(vm, other[i], 500 + (uint64_t)i);
	for (int i = 0; i < 4; i++)
		store(vm, k[i], 100 + (uint64_t)i);
	expect_stats(vm, 8, 0, 0, 8, 0, 0);

	store(vm, k[4], 104); /* evicts k0 */
	assert_int_equal(peek(vm, k[0], NULL), 0);
	expect_stats(vm, 8, 0, 0, 9, 0, 1);
	store(vm, k[1], 111); /* update: k1 stays next in line */
	store(vm, k[5], 105); /* evicts k1 despite the update */
	assert_int_equal(peek(vm, k[1], NULL), 0);
	store(vm, k[6], 106); /* evicts k2 */
	store(vm, k[7], 107); /* evicts k3 */
	store(vm, k[8], 108); /* evicts k4: the oldest now */
	assert_int_equal(peek(vm, k[2], NULL), 0);
	assert_int_equal(peek(vm, k[3], NULL), 0);
	assert_int_equal(peek(vm, k[4], NULL), 0);
	for (int i = 5; i <= 8; i++) {
		uint64_t v;
		assert_int_equal(peek(vm, k[i], &v), 1);
		assert_int_equal(v, 100 + (uint64_t)i);
	}
	/* The other set never lost anything. */
	for (int i = 0; i < 4; i++) {
		uint64_t v;
		assert_int_equal(peek(vm, other[i], &v), 1);
		assert_int_equal(v, 500 + (uint64_t)i);
	}
	expect_stats(vm, 8, 0, 0, 13, 1, 5);
	assert_int_equal(load(vm, k[0]), 0); /* evicted keys miss */
	assert_int_equal(load(vm, k[8]), 108);
	expect_stats(vm, 8, 1, 1, 13, 1, 5);
	vfm_destroy(vm);
}

/* The smallest table is a single set: every key competes. */
static void test_single_set(void **state)
{
	(void)state;
	vfm_state_t *vm = vm_with(4);
	for (uint64_t key = 0; key < 10; key++)
		store(vm, key, key + 1);
	expect_stats(vm, 4, 0, 0, 10, 0, 6);
	for (uint64_t key = 0; key < 10; key++)
		assert_int_equal(peek(vm, key, NULL), key >= 6);
	vfm_destroy(vm);
}

/* ---- Host-side calls --------------------------------------------------- */

static void test_clear(void **state)
{
	(void)state;
	const uint32_t cap = 16;
	uint64_t k[6];
	keys_in_set(cap, 0, 1000, k, 6);
	vfm_state_t *vm = vm_with(cap);
	for (int i = 0; i < 5; i++) /* one eviction: the victim moved on */
		store(vm, k[i], (uint64_t)i + 1);
	load(vm, k[4]);
	load(vm, 424242);
	vfm_flow_clear(vm);
	expect_stats(vm, 0, 0, 0, 0, 0, 0);
	assert_int_equal(stats(vm).capacity, cap);
	for (int i = 0; i < 5; i++)
		assert_int_equal(peek(vm, k[i], NULL), 0);
	assert_int_equal(load(vm, k[4]), 0);
	/* Clearing also resets replacement: after refilling, the first key
	 * stored after the clear is the first to go. */
	for (int i = 1; i <= 5; i++)
		store(vm, k[i], 10 + (uint64_t)i);
	assert_int_equal(peek(vm, k[1], NULL), 0);
	for (int i = 2; i <= 5; i++)
		assert_int_equal(peek(vm, k[i], NULL), 1);
	expect_stats(vm, 4, 0, 1, 5, 0, 1);
	vfm_flow_clear(NULL); /* harmless */
	vfm_destroy(vm);
}

static void test_peek_keeps_counters(void **state)
{
	(void)state;
	vfm_state_t *vm = vm_with(64);
	store(vm, 7, 70);
	load(vm, 7);
	load(vm, 8);
	vfm_flow_stats_t before = stats(vm);
	uint64_t v;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(peek(vm, 7, &v), 1);
		assert_int_equal(peek(vm, 8, &v), 0);
	}
	vfm_flow_stats_t after = stats(vm);
	assert_memory_equal(&before, &after, sizeof before);
	assert_int_equal(vfm_flow_peek(NULL, 7, &v), 0);
	vfm_destroy(vm);
}

struct visit {
	uint64_t key[64], value[64];
	size_t n, stop_after;
};

static int visit_fn(uint64_t key, uint64_t value, void *arg)
{
	struct visit *v = arg;
	assert_true(v->n < 64);
	v->key[v->n] = key;
	v->value[v->n] = value;
	v->n++;
	return v->stop_after && v->n >= v->stop_after;
}

static void test_foreach(void **state)
{
	(void)state;
	const uint32_t cap = 64;
	vfm_state_t *vm = vm_with(cap);
	struct visit seen = {.n = 0};
	vfm_flow_foreach(vm, visit_fn, &seen);
	assert_int_equal(seen.n, 0);

	for (uint64_t key = 0; key < 20; key++)
		store(vm, key * 977, key);
	uint64_t entries = stats(vm).entries;
	vfm_flow_foreach(vm, visit_fn, &seen);
	assert_int_equal(seen.n, entries);
	uint64_t prev_set = 0;
	for (size_t i = 0; i < seen.n; i++) {
		/* Each visited entry is what a lookup finds... */
		uint64_t v;
		assert_int_equal(peek(vm, seen.key[i], &v), 1);
		assert_int_equal(v, seen.value[i]);
		assert_int_equal(seen.key[i], seen.value[i] * 977);
		/* ...no key twice... */
		for (size_t j = 0; j < i; j++)
			assert_true(seen.key[j] != seen.key[i]);
		/* ...in table order (by set). */
		uint64_t set = vfm_mix64(seen.key[i]) & (cap / 4 - 1);
		assert_true(set >= prev_set);
		prev_set = set;
	}
	/* Non-zero from the callback stops the walk. */
	struct visit two = {.n = 0, .stop_after = 2};
	vfm_flow_foreach(vm, visit_fn, &two);
	assert_int_equal(two.n, 2);
	assert_int_equal(two.key[0], seen.key[0]);
	assert_int_equal(two.key[1], seen.key[1]);
	vfm_flow_foreach(vm, NULL, NULL); /* harmless */
	vfm_flow_foreach(NULL, visit_fn, &seen);
	vfm_destroy(vm);
}

/* ---- Interaction with execution ------------------------------------------ */

/* State carries over between the packets of a batch, and a FLOW_STORE made
 * before a packet faults is kept (docs/ISA.md, section 1). */
static void test_batch_and_faults(void **state)
{
	(void)state;
	vfm_state_t *vm = vm_with(64);
	uint8_t pkts[3][17] = {{OP_STORE}, {OP_LOAD}, {OP_CHECK}};
	for (int i = 0; i < 3; i++) {
		put_be64(pkts[i] + 1, 0xABCD);
		put_be64(pkts[i] + 9, 0x1234567890u);
	}
	vfm_packet_t p[3];
	for (int i = 0; i < 3; i++)
		p[i] = (vfm_packet_t){.data = pkts[i], .len = 17};
	vfm_result_t r[3];
	assert_int_equal(vfm_execute_batch(vm, p, 3, r), VFM_OK);
	assert_int_equal(r[0].verdict, 1);
	assert_int_equal(r[1].verdict, 0xFFFFFFFFu);
	assert_int_equal(r[2].verdict, 1);
	expect_stats(vm, 1, 2, 0, 1, 0, 0);
	vfm_destroy(vm);

	vm = ts_vm_from_asm("PUSH 5\nPUSH 6\nFLOW_STORE\nLD8 1000\nRET 1\n");
	vfm_packet_t one = {.data = pkts[0], .len = 17};
	vfm_result_t res;
	assert_int_equal(vfm_execute_ex(vm, &one, &res), VFM_OK);
	assert_int_equal(res.status, VFM_STATUS_BOUNDS);
	assert_int_equal(res.verdict, 0);
	uint64_t v;
	assert_int_equal(peek(vm, 5, &v), 1);
	assert_int_equal(v, 6);
	expect_stats(vm, 1, 0, 0, 1, 0, 0);
	vfm_destroy(vm);
}

/* The table belongs to the VM: loading another program keeps it. */
static void test_survives_program_load(void **state)
{
	(void)state;
	vfm_state_t *vm = vm_with(64);
	store(vm, 3, 33);
	size_t len;
	uint8_t *bytes = ts_assemble("PUSH 3\nFLOW_LOAD\nRET\n", &len);
	assert_int_equal(vfm_load_program(vm, bytes, len), VFM_OK);
	free(bytes);
	uint8_t pkt[1] = {0};
	assert_int_equal(vfm_execute(vm, pkt, 1), 33);
	expect_stats(vm, 1, 1, 0, 1, 0, 0);
	vfm_destroy(vm);
}

/* ---- Against a model ------------------------------------------------------ */

/* Independent model of section 6: per set, a FIFO queue of at most 4
 * entries in insertion order. */
struct model {
	uint32_t sets;
	uint64_t key[256][4], value[256][4];
	unsigned n[256];
	vfm_flow_stats_t st;
};

static void model_store(struct model *m, uint64_t key, uint64_t value)
{
	unsigned s = (unsigned)(vfm_mix64(key) & (m->sets - 1));
	for (unsigned i = 0; i < m->n[s]; i++)
		if (m->key[s][i] == key) {
			m->value[s][i] = value;
			m->st.updates++;
			return;
		}
	m->st.inserts++;
	if (m->n[s] == 4) {
		memmove(m->key[s], m->key[s] + 1, 3 * sizeof(uint64_t));
		memmove(m->value[s], m->value[s] + 1, 3 * sizeof(uint64_t));
		m->n[s] = 3;
		m->st.evictions++;
	} else {
		m->st.entries++;
	}
	m->key[s][m->n[s]] = key;
	m->value[s][m->n[s]] = value;
	m->n[s]++;
}

static uint64_t model_load(struct model *m, uint64_t key)
{
	unsigned s = (unsigned)(vfm_mix64(key) & (m->sets - 1));
	for (unsigned i = 0; i < m->n[s]; i++)
		if (m->key[s][i] == key) {
			m->st.hits++;
			return m->value[s][i];
		}
	m->st.misses++;
	return 0;
}

static int count_fn(uint64_t key, uint64_t value, void *arg)
{
	(void)key;
	(void)value;
	(*(uint64_t *)arg)++;
	return 0;
}

static void test_random_against_model(void **state)
{
	(void)state;
	static const uint32_t caps[] = {4, 16, 64, 1024};
	uint64_t x = 42;
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
		struct model *m = calloc(1, sizeof *m);
		assert_non_null(m);
		m->sets = caps[c] / 4;
		vfm_state_t *vm = vm_with(caps[c]);
		/* A key pool about twice the capacity: hits, updates and
		 * evictions all happen often. */
		uint64_t pool = 2u * caps[c];
		for (int i = 0; i < 20000; i++) {
			x = vfm_mix64(x + 0x9E3779B97F4A7C15u);
			uint64_t key = (x >> 8) % pool * 0x100000001u; /* spread bits */
			uint64_t value = x >> 32;
			if (x & 1) {
				store(vm, key, value);
				model_store(m, key, value);
			} else {
				assert_int_equal(load(vm, key), (uint32_t)model_load(m, key));
			}
		}
		vfm_flow_stats_t s = stats(vm);
		m->st.capacity = caps[c];
		assert_memory_equal(&s, &m->st, sizeof s);
		/* Same content: every model entry is found, and nothing else. */
		uint64_t visited = 0;
		vfm_flow_foreach(vm, count_fn, &visited);
		assert_int_equal(visited, m->st.entries);
		for (uint32_t set = 0; set < m->sets; set++)
			for (unsigned i = 0; i < m->n[set]; i++) {
				uint64_t v;
				assert_int_equal(peek(vm, m->key[set][i], &v), 1);
				assert_int_equal(v, m->value[set][i]);
			}
		vfm_destroy(vm);
		free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_validation),
		cmocka_unit_test(test_default_memory),
		cmocka_unit_test(test_miss_returns_zero),
		cmocka_unit_test(test_every_key_usable),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_fifo_replacement),
		cmocka_unit_test(test_single_set),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_peek_keeps_counters),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_batch_and_faults),
		cmocka_unit_test(test_survives_program_load),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
