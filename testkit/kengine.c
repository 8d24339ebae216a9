/*
 * testkit/kengine.c — the kernel as a VFM engine (testkit/kengine.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "../ebpf/ebpf.h"
#include "kengine.h"

#define ETH_HEADER 14

/* The kernel verifier's log of the last refused load. */
static char kernel_log[1u << 20];

const char *kengine_log(void)
{
	return kernel_log;
}

static vfm_error_t load_one(const vfm_program_t *prog, enum vfm_ebpf_target target,
			    uint32_t offset, const struct kengine_config *cfg, int *fd,
			    uint32_t *n_insns, enum kengine_stage *stage, vfm_diag_t *diag)
{
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, target);
	opt.budget = cfg->budget;
	opt.packet_offset = offset;
	opt.helper_loads = cfg->helper_loads;
	struct vfm_ebpf_prog ep;
	*stage = KENGINE_COMPILE;
	vfm_error_t err = vfm_compile_ebpf(prog, &opt, &ep, diag);
	if (err != VFM_OK)
		return err;
	*stage = KENGINE_KERNEL;
	if (n_insns)
		*n_insns = ep.n_insns;
	err = vfm_ebpf_kernel_load(&ep, fd, kernel_log, sizeof kernel_log, diag);
	vfm_ebpf_prog_free(&ep);
	return err;
}

bool kengine_available(char *why, size_t n)
{
	vfm_diag_t diag;
	uint8_t *file;
	size_t len;
	static const char probe[] = "RET 1\n";
	if (vfm_assemble(probe, sizeof probe - 1, "probe", 0, &file, &len, &diag) != VFM_OK) {
		snprintf(why, n, "cannot assemble the probe: %s", diag.message);
		return false;
	}
	vfm_program_t *prog;
	vfm_error_t err = vfm_program_create(file, len, &prog, &diag);
	free(file);
	if (err != VFM_OK) {
		snprintf(why, n, "probe: %s", diag.message);
		return false;
	}
	struct kengine_config cfg = {.budget = 0};
	enum kengine_stage stage;
	int fd = -1;
	err = load_one(prog, VFM_EBPF_RAW, 0, &cfg, &fd, NULL, &stage, &diag);
	vfm_program_release(prog);
	if (err != VFM_OK) {
		snprintf(why, n, "%s", diag.message);
		return false;
	}
	uint8_t pkt[ETH_HEADER] = {0};
	uint32_t ret, cb0;
	err = vfm_ebpf_kernel_run(fd, pkt, sizeof pkt, 0, 0, &ret, &cb0, &diag);
	vfm_ebpf_kernel_close(fd);
	if (err != VFM_OK) {
		snprintf(why, n, "%s", diag.message);
		return false;
	}
	if (ret != 1) {
		snprintf(why, n, "probe returned %u, not 1", ret);
		return false;
	}
	return true;
}

vfm_error_t kengine_load(struct kengine *k, const vfm_program_t *prog,
			 const struct kengine_config *cfg, enum kengine_stage *stage,
			 vfm_diag_t *diag)
{
	k->fd_raw = k->fd_padded = k->fd_tc = k->fd_xdp = -1;
	k->xdp_comparable = true;
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].opcode == VFM_OPC_TS || prog->insns[i].opcode == VFM_OPC_WLEN)
			k->xdp_comparable = false;
	vfm_error_t err = load_one(prog, VFM_EBPF_RAW, 0, cfg, &k->fd_raw, &k->n_insns, stage, diag);
	if (err == VFM_OK)
		err = load_one(prog, VFM_EBPF_RAW, ETH_HEADER, cfg, &k->fd_padded, NULL, stage, diag);
	if (err == VFM_OK)
		err = load_one(prog, VFM_EBPF_TC, ETH_HEADER, cfg, &k->fd_tc, NULL, stage, diag);
	if (err == VFM_OK)
		err = load_one(prog, VFM_EBPF_XDP, ETH_HEADER, cfg, &k->fd_xdp, NULL, stage, diag);
	if (err != VFM_OK)
		kengine_close(k);
	return err;
}

vfm_error_t kengine_run(const struct kengine *k, const vfm_packet_t *pkt, vfm_result_t *r,
			vfm_diag_t *diag)
{
	/* What BPF_PROG_TEST_RUN refuses: a wire length below the length or
	 * over GSO_LEGACY_MAX_SIZE (65536), a packet over about a page. */
	if (pkt->len > KENGINE_MAX_LEN ||
	    (pkt->wire_len && (pkt->wire_len < pkt->len || pkt->wire_len > 65536 - ETH_HEADER)))
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "BPF_PROG_TEST_RUN cannot run a %u-byte packet with wire length %u",
				    pkt->len, pkt->wire_len);
	uint8_t *padded = malloc((size_t)pkt->len + ETH_HEADER);
	if (!padded)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	memset(padded, 0, ETH_HEADER);
	if (pkt->len)
		memcpy(padded + ETH_HEADER, pkt->data, pkt->len);
	uint32_t wire_padded = pkt->wire_len ? pkt->wire_len + ETH_HEADER : 0;
	uint32_t ret, status, action, unused;
	vfm_error_t err;
	err = VFM_EINVAL;
	if (pkt->len >= ETH_HEADER)
		err = vfm_ebpf_kernel_run(k->fd_raw, pkt->data, pkt->len, pkt->ts_ns, pkt->wire_len,
					  &ret, &status, diag);
	/* Shorter packets, and those TEST_RUN refuses (EINVAL: an IPv4 or
	 * IPv6 EtherType with a header cut short), run behind 14 zero
	 * bytes: EtherType 0, which the kernel does not parse. */
	if (err == VFM_EINVAL)
		err = vfm_ebpf_kernel_run(k->fd_padded, padded, pkt->len + ETH_HEADER, pkt->ts_ns,
					  wire_padded, &ret, &status, diag);
	if (err == VFM_OK)
		err = vfm_ebpf_kernel_run(k->fd_tc, padded, pkt->len + ETH_HEADER, pkt->ts_ns,
					  wire_padded, &action, &unused, diag);
	uint32_t xdp_action = 0;
	if (err == VFM_OK && k->xdp_comparable)
		err = vfm_ebpf_kernel_run_xdp(k->fd_xdp, padded, pkt->len + ETH_HEADER, &xdp_action,
					      diag);
	free(padded);
	if (err != VFM_OK)
		return err;
	r->verdict = ret;
	r->status = (vfm_status_t)status;
	r->insns = 0;
	uint32_t want = ret ? TC_ACT_OK : TC_ACT_SHOT;
	if (action != want)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "tc program returned %u, expected %u for verdict %u", action, want, ret);
	want = ret ? XDP_PASS : XDP_DROP;
	if (k->xdp_comparable && xdp_action != want)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "XDP program returned %u, expected %u for verdict %u", xdp_action, want,
				    ret);
	return VFM_OK;
}

void kengine_close(struct kengine *k)
{
	vfm_ebpf_kernel_close(k->fd_raw);
	vfm_ebpf_kernel_close(k->fd_padded);
	vfm_ebpf_kernel_close(k->fd_tc);
	vfm_ebpf_kernel_close(k->fd_xdp);
	k->fd_raw = k->fd_padded = k->fd_tc = k->fd_xdp = -1;
}
