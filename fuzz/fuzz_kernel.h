/*
 * fuzz/fuzz_kernel.h — the kernel as an engine of a harness (fuzz_diff,
 * fuzz_ebpf): whether it is wanted and works, and a load that tells the
 * back end's documented refusals (docs/EBPF.md "Limits") from findings.
 * Include after fuzz_common.h (CHECK, FUZZ_NAME) and kengine.h.
 */
#ifndef VFM_FUZZ_KERNEL_H
#define VFM_FUZZ_KERNEL_H

#include <stdlib.h>
#include <string.h>

/* The kernel engine: on if VFM_FUZZ_KERNEL is set and bpf() works. */
static int kernel_wanted(void)
{
	static int state; /* 0 unknown, 1 on, -1 off */
	if (!state) {
		char why[320];
		state = -1;
		if (getenv("VFM_FUZZ_KERNEL")) {
			if (kengine_available(why, sizeof why))
				state = 1;
			else
				fprintf(stderr, FUZZ_NAME ": kernel engine off: %s\n", why);
		}
	}
	return state > 0;
}

/* Load prog on the kernel; 0 if the back end refuses it within its
 * documented limits. */
static int kernel_load(vfm_program_t *prog, const struct kengine_config *kcfg, struct kengine *k)
{
	enum kengine_stage stage;
	vfm_diag_t diag;
	/* (A load that a pending signal, libFuzzer's timer, interrupts with
	 * EAGAIN is retried by ebpf/kernel.c: corpus/ebpf-regressions.) */
	vfm_error_t err = kengine_load(k, prog, kcfg, &stage, &diag);
	if (err == VFM_OK)
		return 1;
	if (stage == KENGINE_COMPILE && err == VFM_ETOOBIG)
		return 0;
	/* a loop the kernel's verifier walks past 1M insns or 8192 jumps */
	if (stage == KENGINE_KERNEL && (strstr(kengine_log(), "BPF program is too large") ||
					strstr(kengine_log(), "jumps is too complex")))
		return 0;
	CHECK(0, "eBPF: %s refused the program: %s\n%s",
	      stage == KENGINE_COMPILE ? "the compiler" : "the kernel", diag.message,
	      stage == KENGINE_KERNEL ? kengine_log() : "");
	return 0;
}

#endif
