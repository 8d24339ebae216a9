/*
 * bench/switch_api.h — the second copy of libvfm that the benchmark links
 * in: vm/ and verifier/ compiled with -DVFM_SWITCH_DISPATCH, combined with
 * `ld -r`, and every defined global symbol renamed vfm_* -> sw_vfm_* by
 * objcopy (Makefile, "Benchmarks" block).  Same types and ABI as vfm.h; a
 * program or VM from one copy must never be passed to the other.
 */
#ifndef VFM_BENCH_SWITCH_API_H
#define VFM_BENCH_SWITCH_API_H

#include "vfm.h"

#ifdef __cplusplus
extern "C" {
#endif

vfm_error_t sw_vfm_program_create(const uint8_t *bytes, size_t len,
				  vfm_program_t **out, vfm_diag_t *diag);
void sw_vfm_program_release(vfm_program_t *prog);
vfm_state_t *sw_vfm_create(void);
vfm_state_t *sw_vfm_create_with(const vfm_config_t *cfg, vfm_diag_t *diag);
void sw_vfm_destroy(vfm_state_t *vm);
vfm_error_t sw_vfm_attach_program(vfm_state_t *vm, vfm_program_t *prog);
uint32_t sw_vfm_execute(vfm_state_t *vm, const uint8_t *data, uint32_t len);
vfm_error_t sw_vfm_execute_ex(vfm_state_t *vm, const vfm_packet_t *pkt,
			      vfm_result_t *out);
vfm_error_t sw_vfm_execute_batch(vfm_state_t *vm, const vfm_packet_t *pkts,
				 size_t count, vfm_result_t *results);
void sw_vfm_flow_clear(vfm_state_t *vm);
vfm_error_t sw_vfm_flow_stats(const vfm_state_t *vm, vfm_flow_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
