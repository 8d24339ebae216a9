/*
 * vm/facts.h — plain data types of the verifier's abstract values, owned by
 * vm/ so that the facts struct (vm/program.h) can carry the abstract state
 * at every pc to the engines without vm/ depending on verifier/.  The
 * operations on them live in verifier/domain.h.
 */
#ifndef VFM_FACTS_H
#define VFM_FACTS_H

#include <stdint.h>

/* A set of values by known bits: x is in t iff (x & ~t.mask) == t.value.
 * Invariant: value & mask == 0 (mask bit 1 = unknown bit). */
struct vfm_tnum {
	uint64_t value, mask;
};

/* The unsigned interval [lo, hi], lo <= hi: never empty. */
struct vfm_interval {
	uint64_t lo, hi;
};

/* Reduced product: a value lies in both. */
struct vfm_aval {
	struct vfm_interval itv;
	struct vfm_tnum tn;
};

/* An abstract word with its identity: two words with the same non-zero id
 * hold the same concrete value on every path (copies made by DUP, OVER,
 * STM/LDM), so refining one refines all.  Id 0 = no known identity. */
struct vfm_aslot {
	struct vfm_aval v;
	uint32_t id;
	/* Relation to the packet length: if len_room != 0, this value plus
	 * (len_room - 1) is at most the length (learned from a comparison of
	 * the value, or of value + c, with LEN).  0 = nothing known. */
	uint32_t len_room;
	/* If sum_of != 0, this value equals the value with identity sum_of
	 * plus sum_k, without wrap-around (an ADD of a constant).  Kept within
	 * straight-line code only: cleared at joins.  The fields have no
	 * padding, so states compare with memcmp. */
	uint32_t sum_of;
	uint32_t sum_k;
};

/* Identity of the packet length (the value LEN pushes). */
#define VFM_ID_LEN 1u

#endif
