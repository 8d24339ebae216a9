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

struct vfm_state;
struct vfm_icode;

/*
 * Engine entries, chosen when a program is attached and when the JIT is
 * enabled or disabled (api/vfm.c), so that vfm_execute and vfm_execute_ex
 * reach the engine's code with no call level in between.
 *
 * vfm_execute's entry: the JIT's code without counting, or the
 * interpreter's verdict-only loop (vm/interp.c), both called with
 * &vm->plain_args.  The JIT's code returns verdict | status << 32 in one
 * 64-bit register (vfm_jit_fn, vm/jit.h); taken as a u32 return value
 * under the C calling convention of both targets (x86-64: eax, ARM64: w0)
 * that is exactly the verdict, so vfm_execute can jump to it.
 */
typedef uint32_t (*vfm_verdict_entry)(struct vfm_jit_args *args, const uint8_t *data,
				      uint32_t len);
/* vfm_execute_ex's entry, after its argument checks: the interpreter's
 * (counting or not), the JIT's, or the refusal while no program is
 * attached. */
typedef vfm_error_t (*vfm_ex_entry)(struct vfm_state *vm, const vfm_packet_t *pkt,
				    vfm_result_t *out);

struct vfm_state {
	/* What the execute path reads on every packet comes first.
	 * plain_args is what vfm_execute hands the engine: the same for
	 * every packet (no timestamp, no wire length), so it is filled once,
	 * not per call; the engines only read it, and the interpreter finds
	 * the VM from it.  At offset 0, so that &vm->plain_args is vm and
	 * vfm_execute jumps to vm->run with its arguments where they came. */
	struct vfm_jit_args plain_args;
	vfm_verdict_entry run;          /* a refusal while no program is attached */
	vfm_ex_entry run_ex;            /* never NULL: the interpreter's, the
					 * JIT's (run_jit_ex in api/vfm.c) or a
					 * refusal while no program is attached */
	vfm_jit_fn jit_ex;              /* JIT code for vfm_execute_ex and batch,
					 * counting or not as count_insns; NULL
					 * without the JIT */
	/* What the JIT's code gets from vfm_execute_ex and batch: flow table
	 * and budget filled once, like plain_args, the packet's timestamp
	 * and wire length per call (a VM serves one thread at a time). */
	struct vfm_jit_args ex_args;
	const struct vfm_icode *icode;  /* prog->icode */
	uint16_t scratch_zero;          /* prog->scratch_zero */
	bool use_jit;             /* run prog->jit[] instead of interpreting */
	uint8_t jit_base;         /* 0, or VFM_JIT_BLINDED (VFM_JIT_HARDEN) */
	bool count_insns;         /* results carry insns (vfm_config_t.no_insns) */
	uint32_t budget;
	struct vfm_program *prog; /* retained; NULL before a load */
	vfm_error_t last_code;
	char last_error[sizeof(((vfm_diag_t *)0)->message)];
	struct vfm_flow_table flow;
};

/* The interpreter's entries for prog (vm/interp.c): verdict-only for
 * vfm_execute, and for vfm_execute_ex counting instructions or not.  Each
 * exists in a lean form, for programs without backward jumps, scratch to
 * zero and opcodes that call out (HASH5, FLOW_*), whose loop saves no
 * registers, and a full form for every other program. */
void vfm_interp_entries(const struct vfm_program *prog, bool count,
			vfm_verdict_entry *run, vfm_ex_entry *run_ex);

#endif
