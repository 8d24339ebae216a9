/*
 * vm/flow.c — the per-VM flow table behind FLOW_LOAD and FLOW_STORE.
 * Layout and replacement rule: vm/state.h and docs/ISA.md.
 */
#include <stdlib.h>
#include <string.h>

#include "semantics.h"
#include "state.h"

vfm_error_t vfm_flow_init(struct vfm_flow_table *ft, uint32_t capacity)
{
	memset(ft, 0, sizeof *ft);
	if (capacity < VFM_FLOW_WAYS || capacity > VFM_MAX_FLOW_CAPACITY ||
	    (capacity & (capacity - 1)) != 0)
		return VFM_EINVAL;
	uint32_t n_sets = capacity / VFM_FLOW_WAYS;
	ft->sets = calloc(n_sets, sizeof *ft->sets);
	if (!ft->sets)
		return VFM_ENOMEM;
	ft->set_mask = n_sets - 1;
	ft->capacity = capacity;
	ft->stats.capacity = capacity;
	return VFM_OK;
}

void vfm_flow_free(struct vfm_flow_table *ft)
{
	free(ft->sets);
	ft->sets = NULL;
}

void vfm_flow_reset(struct vfm_flow_table *ft)
{
	memset(ft->sets, 0, (size_t)(ft->set_mask + 1) * sizeof *ft->sets);
	memset(&ft->stats, 0, sizeof ft->stats);
	ft->stats.capacity = ft->capacity;
}

static inline struct vfm_flow_set *set_of(struct vfm_flow_table *ft, uint64_t key)
{
	return &ft->sets[vfm_mix64(key) & ft->set_mask];
}

uint64_t vfm_flow_load(struct vfm_flow_table *ft, uint64_t key)
{
	struct vfm_flow_set *set = set_of(ft, key);
	for (unsigned w = 0; w < VFM_FLOW_WAYS; w++) {
		if ((set->used >> w & 1u) && set->key[w] == key) {
			ft->stats.hits++;
			return set->value[w];
		}
	}
	ft->stats.misses++;
	return 0;
}

void vfm_flow_store(struct vfm_flow_table *ft, uint64_t key, uint64_t value)
{
	struct vfm_flow_set *set = set_of(ft, key);
	unsigned free_way = VFM_FLOW_WAYS;
	for (unsigned w = 0; w < VFM_FLOW_WAYS; w++) {
		if (!(set->used >> w & 1u)) {
			if (free_way == VFM_FLOW_WAYS)
				free_way = w;
		} else if (set->key[w] == key) {
			set->value[w] = value;
			ft->stats.updates++;
			return;
		}
	}
	ft->stats.inserts++;
	if (free_way == VFM_FLOW_WAYS) {
		free_way = set->victim;
		set->victim = (uint8_t)((set->victim + 1) % VFM_FLOW_WAYS);
		ft->stats.evictions++;
	} else {
		set->used |= (uint8_t)(1u << free_way);
		ft->stats.entries++;
	}
	set->key[free_way] = key;
	set->value[free_way] = value;
}
