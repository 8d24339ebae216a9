/*
 * testkit/vshapes.h — adversarial program shapes for the verifier's cost
 * (issue 15, docs/VERIFIER.md "Cost"), shared by tests/test_vcost.c (work
 * units and memory, asserted) and bench/micro.cc (verify/<shape>/<n>, the
 * verify-time curve).
 *
 * Each shape is VFM assembly of at most `target` instructions and at most
 * VFM_MAX_CODE_SIZE bytes of code, so it is generated at any size up to the
 * instruction limit:
 *   constants-dead   a loop over 16 scratch counters, then constants in
 *                    dead code after RET (they only feed the widening
 *                    thresholds: issue 15's quadratic reproducer)
 *   constants-live   the same with the constants reachable (PUSH k; POP)
 *   loops            many loops in sequence, each counting its own word
 *   deep-stack       250 words carried through straight-line code
 *   joins            a diamond every 7 instructions at depth 2
 *   joins-deep       the same at depth 200
 *   nested-loops     loops nested 4 deep, repeated
 *   dup-over-chains  DUP/OVER to depth 200, then OVER/SWAP/POP chains and
 *                    comparisons that refine every copy, with joins
 */
#ifndef VFM_TESTKIT_VSHAPES_H
#define VFM_TESTKIT_VSHAPES_H

#include <stdint.h>

#include "vfm.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vshape {
	VSHAPE_CONST_DEAD,
	VSHAPE_CONST_LIVE,
	VSHAPE_LOOPS,
	VSHAPE_DEEP,
	VSHAPE_JOINS,
	VSHAPE_JOINS_DEEP,
	VSHAPE_NESTED,
	VSHAPE_CHAINS,
	VSHAPE_COUNT
};

/* "constants-dead", ... (the list above); NULL for an unknown shape. */
const char *vshape_name(enum vshape s);

/* The assembly source of shape s with at most target instructions, NUL-
 * terminated, malloc'd (the caller frees it); *insns (if not NULL) gets
 * its instruction count.  NULL when out of memory or s is unknown. */
char *vshape_source(enum vshape s, uint32_t target, uint32_t *insns);

/* The verifier's work units spent loading prog (vfm_facts_work of
 * verifier/verifier.h, for callers that cannot include the library's
 * internal headers, such as the C++ benchmark). */
uint64_t vshape_work(const vfm_program_t *prog);

#ifdef __cplusplus
}
#endif

#endif
