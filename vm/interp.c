/*
 * vm/interp.c — the interpreter.
 *
 * Runs the verified, pre-decoded instruction array (vm/program.h).  Because
 * the verifier proved the stack depth at every instruction, there are no
 * stack checks here: the top of stack lives in a local (`tos`) and the
 * rest in `stack`, with sp == stack + depth (slot 0 holds the initial tos,
 * so reads at sp[-depth] stay inside the array).
 *
 * Each opcode body is written once, behind OP()/NEXT(), which expand to
 * computed goto (default with GCC/Clang) or to a switch (build with
 * -DVFM_SWITCH_DISPATCH); both builds run the whole test suite.  Bodies for
 * whole classes (binary ALU, conditional jumps, loads) and their fused
 * PUSH-k forms are generated from vm/opcodes.def.
 */
#include <string.h>

#include "semantics.h"
#include "state.h"

#if !defined(VFM_SWITCH_DISPATCH) && defined(__GNUC__)
#define VFM_COMPUTED_GOTO 1
#endif

#if defined(__GNUC__)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define UNLIKELY(x) (x)
#endif

#ifdef VFM_ORACLE
#include <stdio.h>
#include <stdlib.h>

/*
 * Runtime oracle (a build mode for tests and fuzzing, -DVFM_ORACLE): before
 * every instruction, the concrete state must lie inside the verifier's
 * abstract state for that pc.  A violation means the verifier claimed
 * something false: stop loudly with the pc.  Fusion is off in this build
 * (api/load.c), so every instruction is checked.
 */
static void oracle_check(const struct vfm_program *prog, const struct vfm_insn *ip,
			 const uint64_t *stack, const uint64_t *sp, uint64_t tos,
			 const uint64_t *scratch, uint32_t len)
{
	uint64_t elems[VFM_MAX_STACK];
	uint32_t depth = (uint32_t)(sp - stack);
	/* Element k (from the bottom) is stack[k + 1]; the top is tos. */
	for (uint32_t k = 0; k + 1 < depth; k++)
		elems[k] = stack[k + 1];
	if (depth)
		elems[depth - 1] = tos;
	uint32_t insn = (uint32_t)(ip - prog->insns);
	if (prog->oracle && !prog->oracle(prog, insn, elems, depth, scratch, len)) {
		fprintf(stderr, "vfm oracle: concrete state outside the verifier's "
				"abstract state before pc %u (insn %u)\n",
			prog->pc_of[insn], insn);
		abort();
	}
}
#define ORACLE_CHECK() oracle_check(prog, ip, stack, sp, tos, scratch, len)
#else
#define ORACLE_CHECK() ((void)0)
#endif

void vfm_interp_run(const struct vfm_program *prog, struct vfm_state *vm,
		    const vfm_packet_t *pkt, vfm_result_t *out)
{
	const struct vfm_insn *const base = prog->insns;
	const struct vfm_insn *ip = base;
	const uint8_t *const data = pkt->data;
	const uint32_t len = pkt->len;
	uint64_t stack[VFM_MAX_STACK + 1];
	uint64_t *sp = stack;
	uint64_t tos = 0;
	uint64_t scratch[VFM_SCRATCH_WORDS];
	uint32_t budget = vm->budget;
	uint64_t executed = 0;
	uint32_t verdict;
	vfm_status_t status;

#ifdef VFM_ORACLE
	/* The oracle reads every scratch word (and GCC cannot see that it
	 * reads only the stack words below the verified depth). */
	memset(scratch, 0, sizeof scratch);
	memset(stack, 0, sizeof stack);
#else
	if (prog->facts.reads_scratch)
		memset(scratch, 0, sizeof scratch);
#endif

#ifdef VFM_COMPUTED_GOTO
	static const void *const labels[VFM_XOP_COUNT] = {
#define VFM_OP(name, ...) [VFM_XOP_##name] = &&op_##name,
#include "opcodes.def"
#define VFM_ALU2(name, ...) [VFM_XOP_##name##_K] = &&op_##name##_K,
#define VFM_JCC(name, ...) [VFM_XOP_##name##_K] = &&op_##name##_K,
#define VFM_OP(...)
#include "opcodes.def"
		[VFM_XOP_TRAP] = &&op_TRAP,
	};
#define OP(name) op_##name:
#define NEXT()                                                                \
	do {                                                                  \
		ORACLE_CHECK();                                               \
		goto *labels[ip->xop];                                        \
	} while (0)
	NEXT();
#else
#define OP(name) case VFM_XOP_##name:
#define NEXT() goto dispatch
dispatch:
	ORACLE_CHECK();
	switch ((enum vfm_xop)ip->xop) {
#endif

/* Take the jump of the instruction at ip.  A backward jump spends one unit
 * of the per-packet budget first and ends the packet when none is left. */
#define TAKE_JUMP()                                                           \
	do {                                                                  \
		if (ip->aux) {                                                \
			if (UNLIKELY(budget == 0))                            \
				goto out_budget;                              \
			budget--;                                             \
		}                                                             \
		ip = base + ip->arg;                                          \
	} while (0)

/* Binary ALU: pop b, pop a, push a OP b.  Fused: PUSH k; OP. */
#define VFM_ALU2(name, ...)                                            \
	OP(name)                                                              \
	{                                                                     \
		uint64_t a = *--sp;                                           \
		tos = vfm_sem_##name(a, tos);                                 \
		executed++;                                                   \
		ip++;                                                         \
		NEXT();                                                       \
	}                                                                     \
	OP(name##_K)                                                          \
	{                                                                     \
		tos = vfm_sem_##name(tos, ip->imm);                           \
		executed += 2;                                                \
		ip += 2;                                                      \
		NEXT();                                                       \
	}
/* Conditional jump: pop b, pop a, branch if a OP b.  Fused: PUSH k; Jcc. */
#define VFM_JCC(name, ...)                                             \
	OP(name)                                                              \
	{                                                                     \
		uint64_t b = tos, a = sp[-1];                                 \
		tos = sp[-2];                                                 \
		sp -= 2;                                                      \
		executed++;                                                   \
		if (vfm_sem_##name(a, b))                                     \
			TAKE_JUMP();                                          \
		else                                                          \
			ip++;                                                 \
		NEXT();                                                       \
	}                                                                     \
	OP(name##_K)                                                          \
	{                                                                     \
		uint64_t a = tos;                                             \
		tos = *--sp;                                                  \
		executed += 2;                                                \
		if (vfm_sem_##name(a, ip->imm))                               \
			TAKE_JUMP();                                          \
		else                                                          \
			ip += 2;                                              \
		NEXT();                                                       \
	}
/* Absolute load: push the `size` bytes at offset k, big-endian. */
#define VFM_LOAD(name, code, mnem, size)                                      \
	OP(name)                                                              \
	{                                                                     \
		executed++;                                                   \
		if (UNLIKELY(!vfm_sem_in_bounds(ip->arg, size, len)))         \
			goto out_bounds;                                      \
		*sp++ = tos;                                                  \
		tos = vfm_load_be(data + ip->arg, size);                      \
		ip++;                                                         \
		NEXT();                                                       \
	}
/* Indexed load: replace the top (an index) with the bytes at index + k. */
#define VFM_LOADX(name, code, mnem, size)                                     \
	OP(name)                                                              \
	{                                                                     \
		uint64_t off;                                                 \
		executed++;                                                   \
		if (UNLIKELY(!vfm_sem_index(tos, ip->arg, &off) ||            \
			     !vfm_sem_in_bounds(off, size, len)))             \
			goto out_bounds;                                      \
		tos = vfm_load_be(data + off, size);                          \
		ip++;                                                         \
		NEXT();                                                       \
	}
#define VFM_ALU1(name, ...)                                            \
	OP(name)                                                              \
	{                                                                     \
		tos = vfm_sem_##name(tos);                                    \
		executed++;                                                   \
		ip++;                                                         \
		NEXT();                                                       \
	}
/* Every other opcode has its body written out below. */
#define VFM_OP(...)
#include "opcodes.def"

	OP(PUSH)
	{
		*sp++ = tos;
		tos = ip->imm;
		executed++;
		ip++;
		NEXT();
	}
	OP(POP)
	{
		tos = *--sp;
		executed++;
		ip++;
		NEXT();
	}
	OP(DUP)
	{
		*sp++ = tos;
		executed++;
		ip++;
		NEXT();
	}
	OP(SWAP)
	{
		uint64_t t = sp[-1];
		sp[-1] = tos;
		tos = t;
		executed++;
		ip++;
		NEXT();
	}
	OP(OVER)
	{
		*sp++ = tos;
		tos = sp[-2];
		executed++;
		ip++;
		NEXT();
	}
	OP(LDM)
	{
		*sp++ = tos;
		tos = scratch[ip->aux];
		executed++;
		ip++;
		NEXT();
	}
	OP(STM)
	{
		scratch[ip->aux] = tos;
		tos = *--sp;
		executed++;
		ip++;
		NEXT();
	}
	OP(LEN)
	{
		*sp++ = tos;
		tos = len;
		executed++;
		ip++;
		NEXT();
	}
	OP(WLEN)
	{
		*sp++ = tos;
		tos = vfm_sem_wire_len(len, pkt->wire_len);
		executed++;
		ip++;
		NEXT();
	}
	OP(JMP)
	{
		executed++;
		TAKE_JUMP();
		NEXT();
	}
	OP(RET)
	{
		executed++;
		verdict = vfm_sem_verdict(tos);
		status = VFM_STATUS_OK;
		goto done;
	}
	OP(RETK)
	{
		executed++;
		verdict = ip->arg;
		status = VFM_STATUS_OK;
		goto done;
	}
	OP(HASH5)
	{
		*sp++ = tos;
		tos = vfm_hash5(data, len);
		executed++;
		ip++;
		NEXT();
	}
	OP(FLOW_LOAD)
	{
		tos = vfm_flow_load(&vm->flow, tos);
		executed++;
		ip++;
		NEXT();
	}
	OP(FLOW_STORE)
	{
		vfm_flow_store(&vm->flow, sp[-1], tos);
		tos = sp[-2];
		sp -= 2;
		executed++;
		ip++;
		NEXT();
	}
	OP(TS)
	{
		*sp++ = tos;
		tos = pkt->ts_ns;
		executed++;
		ip++;
		NEXT();
	}
	OP(TRAP)
	{
		/* Unreachable for verified programs: a loud stop, never a
		 * silent wrong verdict. */
		__builtin_trap();
	}
#ifndef VFM_COMPUTED_GOTO
	case VFM_XOP_COUNT:
		break;
	}
	__builtin_trap(); /* an xop outside the table: same loud stop */
#endif

out_bounds:
	verdict = 0;
	status = VFM_STATUS_BOUNDS;
	goto done;
out_budget:
	verdict = 0;
	status = VFM_STATUS_BUDGET;
done:
	out->verdict = verdict;
	out->status = status;
	out->insns = executed;
}
