/*
 * api/vfm.c — the public VM API (include/vfm.h): creation, loading,
 * execution, errors and flow-table access.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/jit.h"
#include "../vm/semantics.h"
#include "../vm/state.h"

#if defined(__GNUC__)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define COLD __attribute__((cold, noinline))
#else
#define UNLIKELY(x) (x)
#define COLD
#endif

/* Remember an error on the VM and return its code. */
static vfm_error_t fail(vfm_state_t *vm, vfm_error_t code, const char *msg)
{
	if (vm) {
		vm->last_code = code;
		snprintf(vm->last_error, sizeof vm->last_error, "%s", msg);
	}
	return code;
}

static vfm_error_t fail_diag(vfm_state_t *vm, const vfm_diag_t *diag)
{
	return fail(vm, diag->code, diag->message);
}

/* Choose the engine entries for the VM's program and mode (vm/state.h),
 * so that the execute calls jump straight into the engine. */
static uint32_t run_without_program(struct vfm_jit_args *args, const uint8_t *data,
				    uint32_t len);
static vfm_error_t run_ex_without_program(vfm_state_t *vm, const vfm_packet_t *pkt,
					  vfm_result_t *out);
static vfm_error_t run_jit_ex(vfm_state_t *vm, const vfm_packet_t *pkt, vfm_result_t *out);

/* The JIT variant a VM runs: blinded or not (vm->jit_base), counting or
 * not.  One atomically published object: code and size are consistent. */
static const struct vfm_jit_code *vm_jit_code(const vfm_state_t *vm, bool counting)
{
	return __atomic_load_n(
		&vm->prog->jit[vm->jit_base + (counting ? VFM_JIT_COUNTING : VFM_JIT_VERDICT)],
		__ATOMIC_ACQUIRE);
}

static void select_engine(vfm_state_t *vm)
{
	struct vfm_program *prog = vm->prog;
	if (!prog) {
		vm->run = run_without_program;
		vm->run_ex = run_ex_without_program;
		vm->jit_ex = NULL;
		vm->icode = NULL;
		vm->scratch_zero = 0;
		return;
	}
	vm->icode = prog->icode;
	vm->scratch_zero = prog->scratch_zero;
	vfm_interp_entries(prog, vm->count_insns, &vm->run, &vm->run_ex);
	vm->jit_ex = NULL;
	if (vm->use_jit) {
		/* The JIT's code without counting, read as a u32 function:
		 * its low 32 bits are the verdict (vm/state.h). */
		vm->run = (vfm_verdict_entry)vm_jit_code(vm, false)->code;
		vm->jit_ex = (vfm_jit_fn)vm_jit_code(vm, vm->count_insns)->code;
		vm->run_ex = run_jit_ex;
	}
}

vfm_state_t *vfm_create_with(const vfm_config_t *cfg, vfm_diag_t *diag)
{
	uint32_t capacity = cfg && cfg->flow_capacity ? cfg->flow_capacity
						      : VFM_DEFAULT_FLOW_CAPACITY;
	vfm_state_t *vm = calloc(1, sizeof *vm);
	if (!vm) {
		vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
		return NULL;
	}
	vm->budget = cfg && (cfg->budget_set || cfg->budget) ? cfg->budget
							     : VFM_DEFAULT_BUDGET;
	vm->count_insns = !(cfg && cfg->no_insns);
	vfm_error_t err = vfm_flow_init(&vm->flow, capacity);
	if (err != VFM_OK) {
		if (err == VFM_EINVAL)
			vfm_diag_set(diag, err, -1, 0,
				     "flow capacity %u must be a power of two between %u and %u",
				     capacity, VFM_FLOW_WAYS, VFM_MAX_FLOW_CAPACITY);
		else
			vfm_diag_set(diag, err, -1, 0, "out of memory");
		free(vm);
		return NULL;
	}
	vm->plain_args = (struct vfm_jit_args){.flow = &vm->flow, .budget = vm->budget};
	vm->ex_args = vm->plain_args;
	select_engine(vm);
	return vm;
}

vfm_state_t *vfm_create(void)
{
	return vfm_create_with(NULL, NULL);
}

void vfm_destroy(vfm_state_t *vm)
{
	if (!vm)
		return;
	vfm_program_release(vm->prog);
	vfm_flow_free(&vm->flow);
	free(vm);
}

vfm_error_t vfm_attach_program(vfm_state_t *vm, vfm_program_t *prog)
{
	if (!vm || !prog)
		return fail(vm, VFM_EINVAL, "vfm_attach_program: NULL argument");
	vfm_program_retain(prog);
	vfm_program_release(vm->prog);
	vm->prog = prog;
	vm->last_code = VFM_OK;
	vm->last_error[0] = '\0';
	if (vm->use_jit) {
		/* Keep running native code with the new program if possible;
		 * otherwise interpret it and say why. */
		vfm_diag_t diag;
		if (vfm_jit_compile(prog, vm->jit_base != 0, &diag) != VFM_OK) {
			vm->use_jit = false;
			fail(vm, VFM_OK, diag.message);
		}
	}
	select_engine(vm);
	return VFM_OK;
}

/* Loading replaces the program only on success: a failed load leaves the
 * previous program running. */
static vfm_error_t adopt(vfm_state_t *vm, vfm_error_t err, vfm_program_t *prog,
			 const vfm_diag_t *diag)
{
	if (err != VFM_OK)
		return fail_diag(vm, diag);
	err = vfm_attach_program(vm, prog);
	vfm_program_release(prog);
	return err;
}

vfm_error_t vfm_load_program(vfm_state_t *vm, const uint8_t *bytes, size_t len)
{
	vfm_program_t *prog;
	vfm_diag_t diag;
	if (!vm)
		return VFM_EINVAL;
	vfm_error_t err = vfm_program_create(bytes, len, &prog, &diag);
	return adopt(vm, err, prog, &diag);
}

vfm_error_t vfm_load_program_file(vfm_state_t *vm, const char *path)
{
	vfm_program_t *prog;
	vfm_diag_t diag;
	if (!vm)
		return VFM_EINVAL;
	vfm_error_t err = vfm_program_create_file(path, &prog, &diag);
	return adopt(vm, err, prog, &diag);
}

vfm_error_t vfm_enable_jit_ex(vfm_state_t *vm, unsigned flags)
{
	if (!vm)
		return VFM_EINVAL;
	if (flags & ~VFM_JIT_HARDEN)
		return fail(vm, VFM_EINVAL, "vfm_enable_jit_ex: unknown flags");
	if (!vm->prog)
		return fail(vm, VFM_ENOPROGRAM, "vfm_enable_jit: no program loaded");
	bool blind = flags & VFM_JIT_HARDEN;
	vfm_diag_t diag;
	vfm_error_t err = vfm_jit_compile(vm->prog, blind, &diag);
	if (err != VFM_OK)
		return fail(vm, err, diag.message);
	vm->use_jit = true;
	vm->jit_base = blind ? VFM_JIT_BLINDED : 0;
	select_engine(vm);
	return VFM_OK;
}

vfm_error_t vfm_enable_jit(vfm_state_t *vm)
{
	return vfm_enable_jit_ex(vm, 0);
}

void vfm_disable_jit(vfm_state_t *vm)
{
	if (vm) {
		vm->use_jit = false;
		select_engine(vm);
	}
}

vfm_error_t vfm_jit_code(const vfm_state_t *vm, const void **code, size_t *size)
{
	if (!vm || !code || !size)
		return VFM_EINVAL;
	if (!vm->prog || !vm->use_jit)
		return VFM_ENOPROGRAM;
	/* The variant vfm_execute_ex runs on this VM. */
	const struct vfm_jit_code *jit = vm_jit_code(vm, vm->count_insns);
	if (!jit)
		return VFM_ENOPROGRAM;
	*code = jit->code;
	*size = jit->size;
	return VFM_OK;
}

/* One packet on the JIT: identical results to the interpreter by design,
 * the instruction count included on a counting VM (otherwise the code
 * leaves insns 0).  args holds the VM's flow table and budget; the
 * packet's fields are set here, so a batch fills it once. */
static inline void run_jit(vfm_jit_fn fn, struct vfm_jit_args *args, const vfm_packet_t *pkt,
			   vfm_result_t *out)
{
	args->ts_ns = pkt->ts_ns;
	args->wire_len = pkt->wire_len;
	args->insns = 0;
	uint64_t r = fn(args, pkt->data, pkt->len);
	*out = (vfm_result_t){(uint32_t)r, (vfm_status_t)(r >> 32), args->insns};
}

/* vm->run_ex with the JIT: the code is called from here, with the VM's
 * ex_args (no copy: the flow table and budget in it never change). */
static vfm_error_t run_jit_ex(vfm_state_t *vm, const vfm_packet_t *pkt, vfm_result_t *out)
{
	run_jit(vm->jit_ex, &vm->ex_args, pkt, out);
	return VFM_OK;
}

/* vm->run_ex while no program is attached. */
static COLD vfm_error_t run_ex_without_program(vfm_state_t *vm, const vfm_packet_t *pkt,
					       vfm_result_t *out)
{
	(void)pkt;
	*out = (vfm_result_t){0, VFM_STATUS_NOPROGRAM, 0};
	return fail(vm, VFM_ENOPROGRAM, "vfm_execute: no program loaded");
}

/* vfm_execute's refusals, out of the way of the per-packet path. */
static COLD uint32_t execute_refused(vfm_state_t *vm)
{
	fail(vm, VFM_EINVAL, "vfm_execute: NULL packet with non-zero length");
	return 0;
}

/* vm->run while no program is attached, so that vfm_execute tests nothing
 * for it: the VM is found from its plain_args. */
static COLD uint32_t run_without_program(struct vfm_jit_args *args, const uint8_t *data,
					 uint32_t len)
{
	(void)data;
	(void)len;
	vfm_state_t *vm = (vfm_state_t *)((char *)args - offsetof(vfm_state_t, plain_args));
	fail(vm, VFM_ENOPROGRAM, "vfm_execute: no program loaded");
	return 0;
}

/* The checks, then a jump to the engine's entry (never NULL): no call
 * level between the caller and the interpreter loop or the JIT's code, and
 * the verdict comes back in a register.  The entry takes (args, data, len)
 * and args is the VM itself, so the jump passes the three argument
 * registers on as they arrived.  (gcc lays the data test out as
 * "non-NULL: jump over the length test"; the form with the NULL test
 * first, all three branches untaken, measured ~0.3 ns per call slower.) */
_Static_assert(offsetof(vfm_state_t, plain_args) == 0,
	       "vfm_execute passes vm as &vm->plain_args");

uint32_t vfm_execute(vfm_state_t *vm, const uint8_t *data, uint32_t len)
{
	if (UNLIKELY(!vm))
		return execute_refused(vm);
	if (UNLIKELY(!data && len))
		return execute_refused(vm);
	return vm->run(&vm->plain_args, data, len);
}

/* vfm_execute_ex's refusals, out of the way of the per-packet path. */
static COLD vfm_error_t execute_ex_refused(vfm_state_t *vm, const vfm_packet_t *pkt,
					   const vfm_result_t *out)
{
	if (!vm)
		return VFM_EINVAL;
	if (!pkt || !out)
		return fail(vm, VFM_EINVAL, "vfm_execute: NULL packet or result pointer");
	return fail(vm, VFM_EINVAL, "vfm_execute: packet with NULL data and non-zero length");
}

/* The checks of vfm_execute_batch for one packet, then a jump to the
 * engine's entry (never NULL; the refusal while no program is attached is
 * one), so that the call reaches the interpreter loop with no call level
 * in between and the JIT's code with one (run_jit_ex). */
vfm_error_t vfm_execute_ex(vfm_state_t *vm, const vfm_packet_t *pkt,
			   vfm_result_t *out)
{
	if (UNLIKELY(!vm || !pkt || !out))
		return execute_ex_refused(vm, pkt, out);
	if (UNLIKELY(!pkt->data && pkt->len))
		return execute_ex_refused(vm, pkt, out);
	return vm->run_ex(vm, pkt, out);
}

vfm_error_t vfm_execute_batch(vfm_state_t *vm, const vfm_packet_t *pkts,
			      size_t count, vfm_result_t *results)
{
	if (!vm)
		return VFM_EINVAL;
	if (count == 0)
		return VFM_OK;
	if (!pkts || !results)
		return fail(vm, VFM_EINVAL, "vfm_execute: NULL packet or result pointer");
	for (size_t i = 0; i < count; i++) {
		if (!pkts[i].data && pkts[i].len)
			return fail(vm, VFM_EINVAL,
				    "vfm_execute: packet with NULL data and non-zero length");
	}
	if (!vm->prog) {
		for (size_t i = 0; i < count; i++)
			results[i] = (vfm_result_t){0, VFM_STATUS_NOPROGRAM, 0};
		return fail(vm, VFM_ENOPROGRAM, "vfm_execute: no program loaded");
	}
	vfm_jit_fn fn = vm->jit_ex;
	if (fn) {
		/* The JIT's code called straight from this loop, on a copy
		 * of ex_args the compiler may keep on the stack. */
		struct vfm_jit_args args = vm->ex_args;
		for (size_t i = 0; i < count; i++)
			run_jit(fn, &args, &pkts[i], &results[i]);
		return VFM_OK;
	}
	vfm_ex_entry run_ex = vm->run_ex;
	for (size_t i = 0; i < count; i++)
		run_ex(vm, &pkts[i], &results[i]);
	return VFM_OK;
}

const char *vfm_last_error(const vfm_state_t *vm)
{
	return vm ? vm->last_error : "vfm: NULL VM";
}

vfm_error_t vfm_last_error_code(const vfm_state_t *vm)
{
	return vm ? vm->last_code : VFM_EINVAL;
}

vfm_error_t vfm_flow_stats(const vfm_state_t *vm, vfm_flow_stats_t *out)
{
	if (!vm || !out)
		return VFM_EINVAL;
	*out = vm->flow.stats;
	return VFM_OK;
}

void vfm_flow_clear(vfm_state_t *vm)
{
	if (vm)
		vfm_flow_reset(&vm->flow);
}

int vfm_flow_peek(const vfm_state_t *vm, uint64_t key, uint64_t *value)
{
	if (!vm)
		return 0;
	/* Same lookup as FLOW_LOAD on a copy of the counters, which are
	 * then discarded: peeking is invisible to the program's stats. */
	struct vfm_flow_table probe = vm->flow;
	uint64_t hits = probe.stats.hits;
	uint64_t v = vfm_flow_load(&probe, key);
	if (probe.stats.hits == hits)
		return 0;
	if (value)
		*value = v;
	return 1;
}

void vfm_flow_foreach(const vfm_state_t *vm,
		      int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg)
{
	if (!vm || !fn)
		return;
	for (uint32_t s = 0; s <= vm->flow.set_mask; s++) {
		const struct vfm_flow_set *set = &vm->flow.sets[s];
		for (unsigned w = 0; w < VFM_FLOW_WAYS; w++)
			if ((set->used >> w & 1u) && fn(set->key[w], set->value[w], arg))
				return;
	}
}

size_t vfm_memory(const vfm_state_t *vm)
{
	if (!vm)
		return 0;
	return sizeof *vm + (size_t)(vm->flow.set_mask + 1) * sizeof(struct vfm_flow_set);
}
