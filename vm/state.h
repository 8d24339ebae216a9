/*
 * vm/state.h — per-VM mutable state: the flow table and the VM object.
 */
#ifndef VFM_STATE_H
#define VFM_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "jit.h"
#include "program.h"

/*
 * Flow table: set-associative, VFM_FLOW_WAYS entries per set.  A key's set
 * is vfm_mix64(key) masked to the set count.  Occupancy is a bit mask, so
 * every key (0 included) is usable.  When a set is full, FLOW_STORE of a
 * new key replaces the way named by the set's victim counter, which then
 * advances by one: with no deletions this is exact FIFO per set, and it
 * depends only on the sequence of operations, so every engine agrees.
 */
#define VFM_FLOW_WAYS 4

struct vfm_flow_set {
	uint64_t key[VFM_FLOW_WAYS];
	uint64_t value[VFM_FLOW_WAYS];
	uint8_t used;   /* bit w: way w holds an entry */
	uint8_t victim; /* next way to replace when full */
};

struct vfm_flow_table {
	struct vfm_flow_set *sets;
	uint32_t set_mask; /* set count - 1 */
	uint32_t capacity; /* entries */
	vfm_flow_stats_t stats;
};

vfm_error_t vfm_flow_init(struct vfm_flow_table *ft, uint32_t capacity);
void vfm_flow_free(struct vfm_flow_table *ft);
void vfm_flow_reset(struct vfm_flow_table *ft);
/* FLOW_LOAD and FLOW_STORE (docs/ISA.md); shared by every engine. */
uint64_t vfm_flow_load(struct vfm_flow_table *ft, uint64_t key);
void vfm_flow_store(struct vfm_flow_table *ft, uint64_t key, uint64_t value);

struct vfm_state {
	struct vfm_program *prog; /* retained; NULL before a load */
	uint32_t budget;
	bool use_jit;             /* run prog->jit[] instead of interpreting */
	bool count_insns;         /* results carry insns (vfm_config_t.no_insns) */
	vfm_error_t last_code;
	char last_error[sizeof(((vfm_diag_t *)0)->message)];
	struct vfm_flow_table flow;
	/* What vfm_execute hands the JIT's code without counting: the same
	 * for every packet (no timestamp, no wire length), so it is filled
	 * once, not per call; that code only reads it. */
	struct vfm_jit_args plain_args;
};

#endif
