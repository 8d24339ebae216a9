/*
 * vm/interp.c — the interpreter.
 *
 * Runs the pre-decoded code of a verified program (vm/icode.h, built at
 * load time by vm/predecode.c): loads the verifier proved in bounds run
 * without a check, the others with one compare against k + size; the
 * idioms that dominate real filters (LOAD/LOADX/LEN; PUSH c; JCC, PUSH c;
 * ALU2/JCC, the IPv4 header-length idiom) run as one handler each.
 *
 * Each opcode body is written once (vm/interp_body.def), behind OP()/NEXT(),
 * which expand to computed goto (default with GCC/Clang) or to a switch
 * (build with -DVFM_SWITCH_DISPATCH); both builds run the whole test suite.
 * Bodies for whole classes (loads, binary ALU, conditional jumps) and their
 * fused forms are generated from vm/opcodes.def.
 *
 * The body is expanded into six entries: vfm_execute's (verdict only, no
 * count) and vfm_execute_ex's (with and without counting), each with and
 * without the opcodes that call out of the loop.  api/vfm.c picks one when
 * a program is attached, so the per-packet path makes no choice.
 */
#include <stddef.h>
#include <string.h>

#include "icode.h"
#include "jit.h"
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

/* The 8 bytes that end at `end`, as a big-endian number (its low bytes are
 * the last bytes read).  The fused loads use it only where k + size >= 8
 * and the load is in bounds, so all 8 bytes lie inside the packet. */
static inline uint64_t ib_fetch_end(const uint8_t *end)
{
	return vfm_load_be(end - 8, 8);
}

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
static void oracle_check(const struct vfm_program *prog, uint32_t insn,
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
	if (prog->oracle && !prog->oracle(prog, insn, elems, depth, scratch, len)) {
		fprintf(stderr, "vfm oracle: concrete state outside the verifier's "
				"abstract state before pc %u (insn %u)\n",
			prog->pc_of[insn], insn);
		abort();
	}
}
#endif

/* The entries are reached only through pointers (api/vfm.c). */
uint32_t vfm_interp_plain_lean(struct vfm_jit_args *args, const uint8_t *data, uint32_t len32);
uint32_t vfm_interp_plain_full(struct vfm_jit_args *args, const uint8_t *data, uint32_t len32);
vfm_error_t vfm_interp_ex_lean(struct vfm_state *vm, const vfm_packet_t *pkt, vfm_result_t *out);
vfm_error_t vfm_interp_ex_full(struct vfm_state *vm, const vfm_packet_t *pkt,
				vfm_result_t *out);
vfm_error_t vfm_interp_ex_count_lean(struct vfm_state *vm, const vfm_packet_t *pkt,
				vfm_result_t *out);
vfm_error_t vfm_interp_ex_count_full(struct vfm_state *vm, const vfm_packet_t *pkt,
				      vfm_result_t *out);

#define IB_FN vfm_interp_plain_lean
#define IB_PLAIN 1
#define IB_COUNT 0
#define IB_LEAN 1
#include "interp_body.def"

#define IB_FN vfm_interp_plain_full
#define IB_PLAIN 1
#define IB_COUNT 0
#define IB_LEAN 0
#include "interp_body.def"

#define IB_FN vfm_interp_ex_lean
#define IB_PLAIN 0
#define IB_COUNT 0
#define IB_LEAN 1
#include "interp_body.def"

#define IB_FN vfm_interp_ex_full
#define IB_PLAIN 0
#define IB_COUNT 0
#define IB_LEAN 0
#include "interp_body.def"

#define IB_FN vfm_interp_ex_count_lean
#define IB_PLAIN 0
#define IB_COUNT 1
#define IB_LEAN 1
#include "interp_body.def"

#define IB_FN vfm_interp_ex_count_full
#define IB_PLAIN 0
#define IB_COUNT 1
#define IB_LEAN 0
#include "interp_body.def"

/* Can prog run on the lean entries (IB_LEAN in vm/interp_body.def)?  Not
 * if it has backward jumps, scratch words to zero, or a reachable
 * instruction whose body calls out of the loop.  The SPECIAL rows are
 * hand-written in every consumer (vm/opcodes.def); a new one must say here
 * whether its body calls. */
static bool lean(const struct vfm_program *prog)
{
	if (prog->facts.has_backward || prog->scratch_zero)
		return false;
	for (uint32_t i = 0; i < prog->n_insns; i++) {
		if (prog->facts.depth[i] < 0 ||
		    vfm_opinfo[prog->insns[i].opcode].cls != VFM_CLASS_SPECIAL)
			continue;
		switch ((enum vfm_special_op)prog->insns[i].opcode) {
		case VFM_SPECIAL_HASH5:
		case VFM_SPECIAL_FLOW_LOAD:
		case VFM_SPECIAL_FLOW_STORE:
			return false;
		case VFM_SPECIAL_LEN:
		case VFM_SPECIAL_WLEN:
		case VFM_SPECIAL_TS:
			break;
		}
	}
	return true;
}

void vfm_interp_entries(const struct vfm_program *prog, bool count,
			vfm_verdict_entry *run, vfm_ex_entry *run_ex)
{
	if (lean(prog)) {
		*run = vfm_interp_plain_lean;
		*run_ex = count ? vfm_interp_ex_count_lean : vfm_interp_ex_lean;
	} else {
		*run = vfm_interp_plain_full;
		*run_ex = count ? vfm_interp_ex_count_full : vfm_interp_ex_full;
	}
}
