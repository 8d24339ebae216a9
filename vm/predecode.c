/*
 * vm/predecode.c — building the interpreter's pre-decoded code (vm/icode.h)
 * from a verified program and what the verifier proved about it, and the
 * scratch words each packet must start with zeroed.
 *
 * Everything here runs once per program at load time; the interpreter only
 * reads the result.  The groups fused into superinstructions are
 * recognised by opcode class (vm/opcodes.def), so a new LOAD, LOADX, ALU2
 * or JCC row gets its fused forms without a change here.
 */
#include <stdlib.h>

#include "icode.h"

/* The interpreter's handlers for the plain opcodes are numbered like the
 * engines' internal operations (enum vfm_xop), so insn->xop names them. */
#define VFM_OP(name, ...)                                                     \
	_Static_assert((int)VFM_IOP_##name == (int)VFM_XOP_##name,            \
		       "enum vfm_iop starts with the opcodes, in table order");
#include "opcodes.def"

/* The seven fused forms of each JCC row are consecutive, in this order. */
enum jcc_form { F_K, F_LJ, F_LJ_SAFE, F_LXJ, F_LXJ_NW, F_LXJ_SAFE, F_LENJ };
#define VFM_JCC(name, ...)                                                    \
	_Static_assert(VFM_IOP_LENJ_##name - VFM_IOP_##name##_K == F_LENJ &&   \
			       VFM_IOP_LXJ_##name##_NW - VFM_IOP_##name##_K == F_LXJ_NW, \
		       "fused JCC forms out of order");
#define VFM_OP(...)
#include "opcodes.def"

static uint8_t jcc_iop(uint8_t opcode, enum jcc_form form)
{
	switch ((enum vfm_jcc_op)opcode) {
#define VFM_JCC(name, ...)                                                    \
	case VFM_JCC_##name:                                                  \
		return (uint8_t)(VFM_IOP_##name##_K + form);
#define VFM_OP(...)
#include "opcodes.def"
	}
	return VFM_IOP_TRAP;
}

static uint8_t alu2_k_iop(uint8_t opcode)
{
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(name, ...)                                                   \
	case VFM_ALU2_##name:                                                 \
		return VFM_IOP_##name##_K;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return VFM_IOP_TRAP;
}

/* Single-instruction load handlers: checked (the plain xop), proven in
 * bounds, and (LOADX) index that cannot wrap. */
static uint8_t load_safe_iop(uint8_t opcode)
{
	switch ((enum vfm_op_class)vfm_opinfo[opcode].cls) {
	case VFM_CLASS_LOAD:
		switch ((enum vfm_load_op)opcode) {
#define VFM_LOAD(name, ...)                                                   \
	case VFM_LOAD_##name:                                                 \
		return VFM_IOP_##name##_SAFE;
#define VFM_OP(...)
#include "opcodes.def"
		}
		break;
	case VFM_CLASS_LOADX:
		switch ((enum vfm_loadx_op)opcode) {
#define VFM_LOADX(name, ...)                                                  \
	case VFM_LOADX_##name:                                                \
		return VFM_IOP_##name##_SAFE;
#define VFM_OP(...)
#include "opcodes.def"
		}
		break;
	case VFM_CLASS_STACK:
	case VFM_CLASS_ALU2:
	case VFM_CLASS_ALU1:
	case VFM_CLASS_JMP:
	case VFM_CLASS_JCC:
	case VFM_CLASS_RET:
	case VFM_CLASS_SPECIAL:
		break;
	}
	return VFM_IOP_TRAP;
}

static uint8_t loadx_nw_iop(uint8_t opcode)
{
	switch ((enum vfm_loadx_op)opcode) {
#define VFM_LOADX(name, ...)                                                  \
	case VFM_LOADX_##name:                                                \
		return VFM_IOP_##name##_NW;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return VFM_IOP_TRAP;
}

/* Mask of a load's value: its size's low bytes. */
static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * size)) - 1;
}

static bool proven_in_bounds(const struct vfm_program *prog, uint32_t i)
{
	return prog->facts.flags && (prog->facts.flags[i] & VFM_FACT_IN_BOUNDS);
}

/* Can index + need wrap at the LOADX at i?  Unless the verifier's
 * interval for the index (the top of the stack) keeps it below
 * 2^64 - need (VFM_FACT_INDEX_NO_WRAP, for need = k + size). */
static bool index_may_wrap(const struct vfm_program *prog, uint32_t i, uint64_t need)
{
	(void)need; /* the fact is for this instruction's own k + size */
	const struct vfm_facts *f = &prog->facts;
	return !f->flags || !(f->flags[i] & VFM_FACT_REACHED) ||
	       !(f->flags[i] & VFM_FACT_INDEX_NO_WRAP);
}

static bool is_op(const struct vfm_program *prog, uint32_t i, uint8_t opcode)
{
	return i < prog->n_insns && prog->insns[i].opcode == opcode;
}

static bool is_class(const struct vfm_program *prog, uint32_t i, enum vfm_op_class cls)
{
	return i < prog->n_insns && vfm_opinfo[prog->insns[i].opcode].cls == cls;
}

/* Copy the jump of instruction j into entry e (relative to e). */
static void set_jump(struct vfm_icode *ic, uint32_t e, const struct vfm_insn *j)
{
	ic[e].rel = (int32_t)(((int64_t)j->arg - (int64_t)e) * (int64_t)sizeof *ic);
	ic[e].back = j->aux ? 1 : 0;
}

/* Entry i on its own (one instruction). */
static void decode_single(const struct vfm_program *prog, struct vfm_icode *ic, uint32_t i)
{
	const struct vfm_insn *in = &prog->insns[i];
	const struct vfm_opinfo *info = &vfm_opinfo[in->opcode];
	struct vfm_icode *e = &ic[i];
	e->op = in->xop;
	e->n = 1;
	e->aux = in->aux;
	e->imm = in->imm;
	switch ((enum vfm_op_class)info->cls) {
	case VFM_CLASS_LOAD:
	case VFM_CLASS_LOADX: {
		uint64_t need = (uint64_t)in->arg + info->size;
		if (need > UINT32_MAX) {
			/* Beyond any u32 length, whatever the index. */
			e->op = VFM_IOP_BOUNDS;
			break;
		}
		e->k = (uint32_t)need;
		if (proven_in_bounds(prog, i))
			e->op = load_safe_iop(in->opcode);
		else if (info->cls == VFM_CLASS_LOADX && !index_may_wrap(prog, i, need))
			e->op = loadx_nw_iop(in->opcode);
		break;
	}
	case VFM_CLASS_JMP:
	case VFM_CLASS_JCC:
		set_jump(ic, i, in);
		break;
	case VFM_CLASS_RET:
		e->k = in->arg;
		break;
	case VFM_CLASS_STACK:
	case VFM_CLASS_ALU2:
	case VFM_CLASS_ALU1:
	case VFM_CLASS_SPECIAL:
		break;
	}
}

/* Try to make entry i the head of a group; returns its length, or 0. */
static unsigned decode_group(const struct vfm_program *prog, struct vfm_icode *ic, uint32_t i)
{
	const struct vfm_insn *in = prog->insns + i;
	const struct vfm_opinfo *info = &vfm_opinfo[in->opcode];
	struct vfm_icode *e = &ic[i];
	uint64_t need = (uint64_t)in->arg + info->size;
	bool safe = proven_in_bounds(prog, i);

	/* LOAD k; PUSH m; AND; PUSH s; SHL: (load & m) << s. */
	if (info->cls == VFM_CLASS_LOAD && need >= 8 && need <= UINT32_MAX &&
	    is_op(prog, i + 1, VFM_OPC_PUSH) && is_op(prog, i + 2, VFM_OPC_AND) &&
	    is_op(prog, i + 3, VFM_OPC_PUSH) && is_op(prog, i + 4, VFM_OPC_SHL)) {
		e->op = safe ? VFM_IOP_IHL_SAFE : VFM_IOP_IHL;
		e->k = (uint32_t)need;
		e->mask = size_mask(info->size) & in[1].imm;
		e->aux = (uint8_t)(in[3].imm & 63);
		return 5;
	}
	/* LOAD k / LOADX k / LEN; PUSH c; JCC. */
	if (is_op(prog, i + 1, VFM_OPC_PUSH) && is_class(prog, i + 2, VFM_CLASS_JCC)) {
		enum jcc_form form;
		if (info->cls == VFM_CLASS_LOAD && need >= 8 && need <= UINT32_MAX)
			form = safe ? F_LJ_SAFE : F_LJ;
		else if (info->cls == VFM_CLASS_LOADX && need >= 8 && need <= UINT32_MAX)
			form = safe ? F_LXJ_SAFE
				    : index_may_wrap(prog, i, need) ? F_LXJ : F_LXJ_NW;
		else if (in->opcode == VFM_OPC_LEN)
			form = F_LENJ;
		else
			form = F_K; /* not a group; PUSH c; JCC may be one at i + 1 */
		if (form != F_K) {
			e->op = jcc_iop(in[2].opcode, form);
			e->k = (uint32_t)need;
			e->mask = size_mask(info->size);
			e->imm = in[1].imm;
			set_jump(ic, i, &in[2]);
			return 3;
		}
	}
	/* PUSH c; ALU2 / JCC. */
	if (in->opcode == VFM_OPC_PUSH && i + 1 < prog->n_insns) {
		uint8_t next = in[1].opcode;
		if (vfm_opinfo[next].cls == VFM_CLASS_ALU2) {
			e->op = alu2_k_iop(next);
			e->imm = in->imm;
			return 2;
		}
		if (vfm_opinfo[next].cls == VFM_CLASS_JCC) {
			e->op = jcc_iop(next, F_K);
			e->imm = in->imm;
			set_jump(ic, i, &in[1]);
			return 2;
		}
	}
	return 0;
}

vfm_error_t vfm_predecode(struct vfm_program *prog, bool fuse)
{
	uint32_t n = prog->n_insns;
	struct vfm_icode *ic = calloc((size_t)n + 1, sizeof *ic);
	if (!ic)
		return VFM_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		decode_single(prog, ic, i);
		/* A group's members stay decoded on their own (above): a jump
		 * into the middle of a group runs them one by one. */
		unsigned len = fuse && prog->facts.depth[i] >= 0 ? decode_group(prog, ic, i) : 0;
		if (len)
			ic[i].n = (uint8_t)len;
	}
	ic[n].op = VFM_IOP_TRAP;
	ic[n].n = 1;
	free(prog->icode);
	prog->icode = ic;
	prog->scratch_zero = vfm_scratch_read_before_write(prog);
	return VFM_OK;
}

uint16_t vfm_scratch_read_before_write(const struct vfm_program *prog)
{
	uint32_t n = prog->n_insns;
	bool any_ldm = false;
	for (uint32_t i = 0; i < n; i++)
		if (prog->facts.depth[i] >= 0 && prog->insns[i].opcode == VFM_OPC_LDM)
			any_ldm = true;
	if (!any_ldm)
		return 0;
	/* written[i]: the words written on every path from pc 0 to i (before
	 * it executes).  A must-analysis: a node's first visit takes its
	 * predecessor's value, later ones intersect; values only lose bits,
	 * so each node is queued at most 17 times.  The result is the
	 * greatest fixpoint, sound for must-facts. */
	uint16_t *written = malloc((size_t)n * sizeof *written);
	uint32_t *work = malloc((size_t)n * sizeof *work);
	uint8_t *state = calloc(n, 1); /* bit 0: visited, bit 1: queued */
	if (!written || !work || !state) {
		free(written);
		free(work);
		free(state);
		return 0xFFFF; /* out of memory: zero everything (always sound) */
	}
	uint32_t head = 0, count = 1;
	written[0] = 0;
	work[0] = 0;
	state[0] = 3;
	while (count) {
		uint32_t i = work[head];
		head = head + 1 == n ? 0 : head + 1;
		count--;
		state[i] &= (uint8_t)~2u;
		const struct vfm_insn *in = &prog->insns[i];
		uint16_t out = written[i];
		if (in->opcode == VFM_OPC_STM)
			out |= (uint16_t)(1u << in->aux);
		uint32_t succ[2];
		vfm_cfg_succ(prog->insns, i, succ);
		for (unsigned s = 0; s < 2; s++) {
			uint32_t j = succ[s];
			if (j >= n)
				continue; /* none (VFM_CFG_NONE), or past the end: rejected */
			if (state[j] & 1) {
				if ((written[j] & out) == written[j])
					continue;
				written[j] &= out;
			} else {
				written[j] = out;
				state[j] |= 1;
			}
			if (!(state[j] & 2)) {
				state[j] |= 2;
				uint32_t tail = head + count;
				work[tail >= n ? tail - n : tail] = j;
				count++;
			}
		}
	}
	uint16_t zero = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct vfm_insn *in = &prog->insns[i];
		if ((state[i] & 1) && in->opcode == VFM_OPC_LDM && !(written[i] >> in->aux & 1))
			zero |= (uint16_t)(1u << in->aux);
	}
	free(written);
	free(work);
	free(state);
	return zero;
}
