/*
 * verifier/slots.c — identities and length rooms over a state's slots
 * (verifier/slots.h).
 */
#include "slots.h"
#include "domain.h"

void vfm_slots_kill_id(struct vfm_aslot *s, uint32_t m, uint32_t id)
{
	for (uint32_t k = 0; k < m; k++) {
		if (s[k].id == id)
			s[k].id = 0;
		if (s[k].sum_of == id)
			s[k].sum_of = s[k].sum_k = 0;
	}
}

bool vfm_slots_refine_id(struct vfm_aslot *s, uint32_t m, uint32_t id, struct vfm_aval v)
{
	if (id == 0)
		return true;
	for (uint32_t k = 0; k < m; k++) {
		if (s[k].id != id)
			continue;
		bool e1 = false, e2 = false, e3 = false;
		struct vfm_aval r;
		r.itv = vfm_itv_meet(s[k].v.itv, v.itv, &e1);
		r.tn = vfm_tnum_meet(s[k].v.tn, v.tn, &e2);
		if (e1 || e2)
			return false;
		r = vfm_aval_reduce(r, &e3);
		if (e3)
			return false;
		s[k].v = r;
	}
	return true;
}

bool vfm_slots_len_at_least(struct vfm_aslot *s, uint32_t m, uint64_t min)
{
	struct vfm_aval v = vfm_aval_unknown();
	v.itv.lo = min;
	bool empty = false;
	v = vfm_aval_reduce(v, &empty);
	return !empty && vfm_slots_refine_id(s, m, VFM_ID_LEN, v);
}

void vfm_slots_produce(struct vfm_aslot *s, uint32_t m, uint32_t k, uint32_t i,
		       struct vfm_aval v)
{
	uint32_t id = 2 + i;
	vfm_slots_kill_id(s, m, id);
	s[k] = (struct vfm_aslot){.v = v, .id = id};
}

void vfm_slots_share_id(struct vfm_aslot *s, uint32_t m, uint32_t k, uint32_t i)
{
	if (s[k].id != 0)
		return;
	vfm_slots_kill_id(s, m, 2 + i);
	s[k].id = 2 + i;
}

void vfm_slots_note_sum(struct vfm_aslot *r, struct vfm_aslot a, struct vfm_aslot b,
			uint32_t i)
{
	if (a.v.itv.lo == a.v.itv.hi) {
		struct vfm_aslot t = a;
		a = b;
		b = t;
	}
	uint64_t k = b.v.itv.lo;
	/* a.id == 2 + i: a was this instruction's previous value (a loop),
	 * whose identity the new value has just taken. */
	if (b.v.itv.lo == b.v.itv.hi && k <= UINT32_MAX && a.id != 0 && a.id != 2 + i &&
	    a.v.itv.hi <= UINT64_MAX - k) {
		r->sum_of = a.id;
		r->sum_k = (uint32_t)k;
	}
}

/* Give every slot with identity id (a copy of one value) the fact
 * "value + room <= len". */
static void slots_learn_room(struct vfm_aslot *s, uint32_t m, uint32_t id, uint64_t room)
{
	if (id == 0 || id == VFM_ID_LEN)
		return;
	uint32_t stored = room >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)room + 1;
	for (uint32_t k = 0; k < m; k++)
		if (s[k].id == id && s[k].len_room < stored)
			s[k].len_room = stored;
}

/* t REL len for t REL' len with the operands swapped (len REL t). */
static enum vfm_rel slots_swap(enum vfm_rel rel)
{
	switch (rel) {
	case VFM_REL_EQ:
	case VFM_REL_NE:
	case VFM_REL_SET:
	case VFM_REL_CLEAR:
		return rel;
	case VFM_REL_LT: return VFM_REL_GT;
	case VFM_REL_LE: return VFM_REL_GE;
	case VFM_REL_GT: return VFM_REL_LT;
	case VFM_REL_GE: return VFM_REL_LE;
	}
	return rel;
}

/* What t REL len says about t + room <= len: the extra room (1 for a
 * strict relation), or -1 if nothing. */
static int slots_room_of(enum vfm_rel rel)
{
	switch (rel) {
	case VFM_REL_EQ:
	case VFM_REL_LE:
		return 0;
	case VFM_REL_LT:
		return 1;
	case VFM_REL_NE:
	case VFM_REL_GT:
	case VFM_REL_GE:
	case VFM_REL_SET:
	case VFM_REL_CLEAR:
		return -1;
	}
	return -1;
}

void vfm_slots_learn_compare(struct vfm_aslot *s, uint32_t m, struct vfm_aslot a,
			     struct vfm_aslot b, enum vfm_rel rel)
{
	struct vfm_aslot t;
	int strict;
	if (a.id != VFM_ID_LEN && b.id == VFM_ID_LEN) { /* t REL len */
		t = a;
		strict = slots_room_of(rel);
	} else if (a.id == VFM_ID_LEN && b.id != VFM_ID_LEN) { /* len REL t */
		t = b;
		strict = slots_room_of(slots_swap(rel));
	} else {
		return;
	}
	if (strict < 0)
		return;
	if (t.sum_of != 0)
		slots_learn_room(s, m, t.sum_of, (uint64_t)t.sum_k + (uint64_t)strict);
	slots_learn_room(s, m, t.id, (uint64_t)strict);
}
