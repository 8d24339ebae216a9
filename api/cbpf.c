/*
 * api/cbpf.c — loading a classic BPF program: translate (vm/cbpf.c), then
 * the ordinary load path (api/load.c: parse, verify, analyse), so that a
 * translated program is verified like any other and a program exists only
 * if it verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/state.h"

vfm_error_t vfm_program_from_cbpf(const vfm_cbpf_insn_t *prog, size_t n,
				  const vfm_cbpf_options_t *opt,
				  vfm_program_t **out, vfm_diag_t *diag)
{
	if (diag)
		memset(diag, 0, sizeof *diag);
	if (!out)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "out pointer is NULL");
	*out = NULL;
	uint8_t *img;
	size_t img_len;
	vfm_error_t err = vfm_from_cbpf(prog, n, opt, &img, &img_len, diag);
	if (err != VFM_OK)
		return err;
	err = vfm_program_create(img, img_len, out, diag);
	free(img);
	return err;
}

vfm_error_t vfm_load_cbpf(vfm_state_t *vm, const vfm_cbpf_insn_t *prog, size_t n,
			  const vfm_cbpf_options_t *opt)
{
	if (!vm)
		return VFM_EINVAL;
	vfm_diag_t diag;
	vfm_program_t *p;
	vfm_error_t err = vfm_program_from_cbpf(prog, n, opt, &p, &diag);
	if (err != VFM_OK) {
		/* A failed load keeps the previous program, as for bytecode. */
		vm->last_code = err;
		snprintf(vm->last_error, sizeof vm->last_error, "%s", diag.message);
		return err;
	}
	err = vfm_attach_program(vm, p);
	vfm_program_release(p);
	return err;
}
