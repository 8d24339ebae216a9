/*
 * tests/test_jit.c — this build's JIT (x86-64 or ARM64) against the interpreter on generated
 * programs (testkit/progen) and generated traffic (testkit/pktgen):
 * verdict, status, instruction count and the whole flow table after every
 * packet must be equal, with instruction counting on (the default) and off
 * (vfm_config_t.no_insns: insns 0 on both engines; the JIT then runs the
 * code vfm_execute runs).  Also code memory properties (W^X) and the JIT-specific
 * API.  (The semantic table in test_semantics.c runs on the JIT too.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pktgen.h"
#include "progen.h"
#include "test_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define N_PROGRAMS 300
#else
#define N_PROGRAMS 2000
#endif
#define PKTS_PER_PROGRAM 24

static void same_flows(vfm_state_t *a, vfm_state_t *b, const char *src, int prog, int pkt)
{
	vfm_flow_stats_t sa, sb;
	vfm_flow_stats(a, &sa);
	vfm_flow_stats(b, &sb);
	if (memcmp(&sa, &sb, sizeof sa) != 0)
		fail_msg("program %d: flow statistics differ after packet %d (hits %llu/%llu misses %llu/%llu inserts %llu/%llu updates %llu/%llu)\n%s", prog, pkt,
			 (unsigned long long)sa.hits, (unsigned long long)sb.hits, (unsigned long long)sa.misses, (unsigned long long)sb.misses,
			 (unsigned long long)sa.inserts, (unsigned long long)sb.inserts, (unsigned long long)sa.updates, (unsigned long long)sb.updates, src);
	if (!ts_same_flow_entries(a, b))
		fail_msg("program %d: flow tables differ after packet %d\n%s", prog, pkt, src);
}

/* The generated programs on the JIT compiled with vfm_enable_jit_ex's
 * `*state` flags (0, or VFM_JIT_HARDEN: constant blinding). */
static void test_differential_generated(void **state)
{
	unsigned flags = *(const unsigned *)*state;
	struct pktgen_config pcfg = {.seed = 7, .count = 4096};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&pcfg, &set), 0);
	const struct pktgen_packet *pkts = set.pkts;
	size_t n_pkts = set.count;
	struct progen_config cfg;
	progen_config_init(&cfg);
	vfm_config_t vcfg = {.flow_capacity = 16, .budget = 200, .budget_set = 1};
	vfm_config_t nocount = vcfg;
	nocount.no_insns = 1;
	unsigned statuses[VFM_STATUS_COUNT] = {0};
	/* VFM_JIT_PROGRAMS=N: a longer campaign (e.g. the ARM64 JIT under
	 * qemu, ci/arm64.sh); VFM_JIT_SEED=S: programs from seed S on instead
	 * of 1000, so that campaigns in chunks cover new programs. */
	int n_programs = getenv("VFM_JIT_PROGRAMS") ? atoi(getenv("VFM_JIT_PROGRAMS")) : N_PROGRAMS;
	uint64_t first_seed = getenv("VFM_JIT_SEED") ? strtoull(getenv("VFM_JIT_SEED"), NULL, 0)
						    : 1000u;
	for (int p = 0; p < n_programs; p++) {
		cfg.target_insns = 8u + (unsigned)(p % 7) * 24u;
		char *src;
		assert_int_equal(progen_generate(&cfg, first_seed + (uint64_t)p, &src), 0);
		size_t len;
		uint8_t *bin = ts_assemble(src, &len);
		vfm_state_t *interp = vfm_create_with(&vcfg, NULL), *jit = vfm_create_with(&vcfg, NULL);
		vfm_state_t *interp_nc = vfm_create_with(&nocount, NULL);
		vfm_state_t *jit_nc = vfm_create_with(&nocount, NULL);
		assert_int_equal(vfm_load_program(interp, bin, len), VFM_OK);
		assert_int_equal(vfm_load_program(jit, bin, len), VFM_OK);
		assert_int_equal(vfm_load_program(interp_nc, bin, len), VFM_OK);
		assert_int_equal(vfm_load_program(jit_nc, bin, len), VFM_OK);
		if (vfm_enable_jit_ex(jit, flags) != VFM_OK || vfm_enable_jit_ex(jit_nc, flags) != VFM_OK)
			fail_msg("JIT refused: %s\n%s", vfm_last_error(jit), src);
		for (int k = 0; k < PKTS_PER_PROGRAM; k++) {
			const struct pktgen_packet *pk = &pkts[((size_t)p * 31u + (size_t)k * 17u) % n_pkts];
			/* Every third packet claims a longer wire length (WLEN). */
			vfm_packet_t pkt = {.data = pk->data, .len = pk->len, .ts_ns = pk->ts_ns,
					    .wire_len = k % 3 ? 0 : pk->len + 100};
			vfm_result_t ri, rj;
			assert_int_equal(vfm_execute_ex(interp, &pkt, &ri), VFM_OK);
			assert_int_equal(vfm_execute_ex(jit, &pkt, &rj), VFM_OK);
			if (ri.verdict != rj.verdict || ri.status != rj.status || ri.insns != rj.insns)
				fail_msg("program %d packet %d: interpreter %u/%s/%llu insns, "
					 "JIT %u/%s/%llu insns\n%s", p, k, ri.verdict,
					 vfm_status_name(ri.status), (unsigned long long)ri.insns,
					 rj.verdict, vfm_status_name(rj.status),
					 (unsigned long long)rj.insns, src);
			/* Without counting (the code vfm_execute also runs): the
			 * same results, insns 0 on both engines. */
			vfm_result_t rin, rjn;
			assert_int_equal(vfm_execute_ex(interp_nc, &pkt, &rin), VFM_OK);
			assert_int_equal(vfm_execute_ex(jit_nc, &pkt, &rjn), VFM_OK);
			if (rin.verdict != ri.verdict || rin.status != ri.status || rin.insns != 0 ||
			    rjn.verdict != ri.verdict || rjn.status != ri.status || rjn.insns != 0)
				fail_msg("program %d packet %d, not counting: interpreter "
					 "%u/%s/%llu insns, JIT %u/%s/%llu insns; counting %u/%s\n%s",
					 p, k, rin.verdict, vfm_status_name(rin.status),
					 (unsigned long long)rin.insns, rjn.verdict,
					 vfm_status_name(rjn.status), (unsigned long long)rjn.insns,
					 ri.verdict, vfm_status_name(ri.status), src);
			statuses[ri.status]++;
			same_flows(interp, jit, src, p, k);
			same_flows(interp, jit_nc, src, p, k);
			same_flows(interp, interp_nc, src, p, k);
		}
		vfm_destroy(interp);
		vfm_destroy(jit);
		vfm_destroy(interp_nc);
		vfm_destroy(jit_nc);
		free(bin);
		free(src);
	}
	print_message("%s: %d programs x %d packets: OK %u, BOUNDS %u, BUDGET %u\n",
		      flags & VFM_JIT_HARDEN ? "blinded" : "plain", n_programs,
		      PKTS_PER_PROGRAM, statuses[VFM_STATUS_OK], statuses[VFM_STATUS_BOUNDS],
		      statuses[VFM_STATUS_BUDGET]);
	/* The generator must exercise every outcome. */
	assert_true(statuses[VFM_STATUS_OK] && statuses[VFM_STATUS_BOUNDS] &&
		    statuses[VFM_STATUS_BUDGET]);
	pktgen_free(&set);
}

static void test_jit_api(void **state)
{
	(void)state;
	vfm_state_t *vm = ts_vm_from_asm("LD8 0\nRET");
	const void *code;
	size_t size;
	assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_ENOPROGRAM);
	if (vfm_enable_jit(vm) != VFM_OK)
		skip(); /* a build without a JIT */
	assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_OK);
	assert_true(size > 0);
	/* W^X: the code pages are executable and not writable. */
	FILE *maps = fopen("/proc/self/maps", "r");
	if (maps) {
		char line[512];
		int found = 0;
		while (fgets(line, sizeof line, maps)) {
			unsigned long lo, hi;
			char perms[8];
			if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 &&
			    (uintptr_t)code >= lo && (uintptr_t)code < hi) {
				found = 1;
				assert_true(perms[0] == 'r' && perms[1] == '-' && perms[2] == 'x');
			}
		}
		fclose(maps);
		assert_true(found);
	}
	uint8_t pkt[1] = {42};
	assert_int_equal(vfm_execute(vm, pkt, 1), 42);
	vfm_disable_jit(vm);
	assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_ENOPROGRAM);
	assert_int_equal(vfm_execute(vm, pkt, 1), 42);
	/* JIT stays on across a program change. */
	assert_int_equal(vfm_enable_jit(vm), VFM_OK);
	size_t len;
	uint8_t *bin = ts_assemble("RET 9", &len);
	assert_int_equal(vfm_load_program(vm, bin, len), VFM_OK);
	assert_int_equal(vfm_jit_code(vm, &code, &size), VFM_OK);
	assert_int_equal(vfm_execute(vm, pkt, 1), 9);
	free(bin);
	vfm_destroy(vm);
}

int main(void)
{
	static const unsigned plain = 0, blinded = VFM_JIT_HARDEN;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jit_api),
		cmocka_unit_test_prestate(test_differential_generated, (void *)&plain),
		cmocka_unit_test_prestate(test_differential_generated, (void *)&blinded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
