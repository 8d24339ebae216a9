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

/* The map description kept in k (plain copy without the refs). */
static struct vfm_ebpf_map map_of(const struct kengine *k)
{
	struct vfm_ebpf_map m;
	memset(&m, 0, sizeof m);
	m.kind = (enum vfm_ebpf_map_kind)k->map.kind;
	m.type = k->map.type;
	m.key_size = k->map.key_size;
	m.value_size = k->map.value_size;
	m.max_entries = k->map.max_entries;
	memcpy(m.name, k->map.name, sizeof m.name);
	return m;
}

/* Compile prog for one target and load it; a program with flow ops gets
 * the map *map_fd (created here if -1; k remembers its description). */
static vfm_error_t load_one(struct kengine *k, const vfm_program_t *prog,
			    enum vfm_ebpf_target target, uint32_t offset,
			    const struct kengine_config *cfg, int *fd, int *map_fd,
			    uint32_t *n_insns, enum kengine_stage *stage, vfm_diag_t *diag)
{
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, target);
	opt.budget = cfg->budget;
	opt.packet_offset = offset;
	opt.helper_loads = cfg->helper_loads;
	opt.flow_capacity = cfg->flow_capacity;
	struct vfm_ebpf_prog ep;
	*stage = KENGINE_COMPILE;
	vfm_error_t err = vfm_compile_ebpf(prog, &opt, &ep, diag);
	if (err != VFM_OK)
		return err;
	*stage = KENGINE_KERNEL;
	if (n_insns)
		*n_insns = ep.n_insns;
	if (ep.n_maps && k) {
		const struct vfm_ebpf_map *m = &ep.maps[0];
		k->has_flow = true;
		k->map = (struct vfm_ebpf_map_desc){m->kind, m->type, m->key_size, m->value_size,
						    m->max_entries, {0}};
		memcpy(k->map.name, m->name, sizeof k->map.name);
		if (*map_fd < 0)
			err = vfm_ebpf_map_create(m, map_fd, diag);
		if (err == VFM_OK)
			err = vfm_ebpf_prog_bind_map(&ep, 0, *map_fd, diag);
	}
	if (err == VFM_OK)
		err = vfm_ebpf_kernel_load(&ep, fd, kernel_log, sizeof kernel_log, diag);
	vfm_ebpf_prog_free(&ep);
	return err;
}

int kengine_socket_skips(vfm_diag_t *diag)
{
	static int cached = -1;
	if (cached >= 0)
		return cached;
	/* LEN; RET as a socket filter on a 20-byte frame: 20 or 6. */
	vfm_diag_t d;
	uint8_t *file;
	size_t len;
	static const char src[] = "LEN\nRET\n";
	if (!diag)
		diag = &d;
	if (vfm_assemble(src, sizeof src - 1, "probe", 0, &file, &len, diag) != VFM_OK)
		return -1;
	vfm_program_t *prog;
	vfm_error_t err = vfm_program_create(file, len, &prog, diag);
	free(file);
	if (err != VFM_OK)
		return -1;
	struct kengine_config cfg = {.budget = 0};
	enum kengine_stage stage;
	int fd = -1;
	err = load_one(NULL, prog, VFM_EBPF_SOCKET, 0, &cfg, &fd, NULL, NULL, &stage, diag);
	vfm_program_release(prog);
	if (err != VFM_OK)
		return -1;
	uint8_t pkt[20] = {0};
	uint32_t ret, cb0;
	err = vfm_ebpf_kernel_run(fd, pkt, sizeof pkt, 0, 0, &ret, &cb0, diag);
	vfm_ebpf_kernel_close(fd);
	if (err != VFM_OK)
		return -1;
	if (ret != sizeof pkt && ret != sizeof pkt - ETH_HEADER) {
		vfm_diag_set(diag, VFM_EINVAL, -1, 0, "socket filter saw %u of 20 bytes", ret);
		return -1;
	}
	cached = (int)(sizeof pkt - ret);
	return cached;
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
	err = load_one(NULL, prog, VFM_EBPF_RAW, 0, &cfg, &fd, NULL, NULL, &stage, &diag);
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
	k->fd_raw = k->fd_padded = k->fd_tc = k->fd_xdp = k->fd_sock = -1;
	for (int m = 0; m < 4; m++)
		k->map_fd[m] = -1;
	k->has_flow = false;
	k->xdp_comparable = true;
	for (uint32_t i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].opcode == VFM_OPC_TS || prog->insns[i].opcode == VFM_OPC_WLEN)
			k->xdp_comparable = false;
	vfm_error_t err = load_one(k, prog, VFM_EBPF_RAW, 0, cfg, &k->fd_raw, &k->map_fd[0],
				   &k->n_insns, stage, diag);
	if (err == VFM_OK)
		err = load_one(k, prog, VFM_EBPF_RAW, ETH_HEADER, cfg, &k->fd_padded, &k->map_fd[0],
			       NULL, stage, diag);
	if (cfg->raw_only) {
		k->xdp_comparable = false;
		if (err != VFM_OK)
			kengine_close(k);
		return err;
	}
	if (err == VFM_OK)
		err = load_one(k, prog, VFM_EBPF_TC, ETH_HEADER, cfg, &k->fd_tc, &k->map_fd[1], NULL,
			       stage, diag);
	if (err == VFM_OK)
		err = load_one(k, prog, VFM_EBPF_XDP, ETH_HEADER, cfg, &k->fd_xdp, &k->map_fd[2], NULL,
			       stage, diag);
	/* The socket filter sees the frame after its Ethernet header under
	 * TEST_RUN on this kernel (6.18): then offset 0 on the padded frame
	 * is the packet's byte 0; a kernel that shows the whole frame gets
	 * offset 14. */
	int skips = err == VFM_OK ? kengine_socket_skips(diag) : 0;
	if (err == VFM_OK && skips < 0)
		err = VFM_EUNSUPPORTED;
	if (err == VFM_OK)
		err = load_one(k, prog, VFM_EBPF_SOCKET, (uint32_t)(ETH_HEADER - skips), cfg,
			       &k->fd_sock, &k->map_fd[3], NULL, stage, diag);
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
	uint32_t ret = 0, status = 0, action = 0, unused;
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
	bool tc = k->fd_tc >= 0;
	if (err == VFM_OK && tc)
		err = vfm_ebpf_kernel_run(k->fd_tc, padded, pkt->len + ETH_HEADER, pkt->ts_ns,
					  wire_padded, &action, &unused, diag);
	uint32_t xdp_action = 0, sock_ret = 0;
	if (err == VFM_OK && k->xdp_comparable)
		err = vfm_ebpf_kernel_run_xdp(k->fd_xdp, padded, pkt->len + ETH_HEADER, &xdp_action,
					      diag);
	if (err == VFM_OK && k->xdp_comparable)
		err = vfm_ebpf_kernel_run(k->fd_sock, padded, pkt->len + ETH_HEADER, 0, 0, &sock_ret,
					  &unused, diag);
	free(padded);
	if (err != VFM_OK)
		return err;
	r->verdict = ret;
	r->status = (vfm_status_t)status;
	r->insns = 0;
	uint32_t want = ret ? TC_ACT_OK : TC_ACT_SHOT;
	if (tc && action != want)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "tc program returned %u, expected %u for verdict %u", action, want, ret);
	want = ret ? XDP_PASS : XDP_DROP;
	if (k->xdp_comparable && xdp_action != want)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "XDP program returned %u, expected %u for verdict %u", xdp_action, want,
				    ret);
	if (k->xdp_comparable && sock_ret != ret)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "socket filter returned %u, expected the verdict %u", sock_ret, ret);
	return VFM_OK;
}

/* A flow table as a list, in vfm_flow_foreach order. */
struct flow_list {
	uint64_t (*kv)[2];
	size_t n, cap;
};

static int flow_collect(uint64_t key, uint64_t value, void *arg)
{
	struct flow_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		uint64_t(*p)[2] = realloc(l->kv, cap * sizeof *p);
		if (!p)
			return 1;
		l->kv = p;
		l->cap = cap;
	}
	l->kv[l->n][0] = key;
	l->kv[l->n][1] = value;
	l->n++;
	return 0;
}

static const char *const map_user[4] = {"raw/padded", "tc", "XDP", "socket filter"};

vfm_error_t kengine_flow_stats(const struct kengine *k, vfm_flow_stats_t *stats,
			       vfm_diag_t *diag)
{
	if (!k->has_flow || k->map_fd[0] < 0) {
		uint64_t cap = stats->capacity;
		memset(stats, 0, sizeof *stats);
		stats->capacity = cap;
		return VFM_OK;
	}
	struct vfm_ebpf_map m = map_of(k);
	return vfm_ebpf_flow_read(k->map_fd[0], &m, NULL, NULL, stats, diag);
}

vfm_error_t kengine_flow_check(const struct kengine *k, const vfm_state_t *vm, vfm_diag_t *diag)
{
	if (!k->has_flow)
		return VFM_OK;
	struct flow_list want = {0};
	vfm_flow_foreach(vm, flow_collect, &want);
	vfm_flow_stats_t ws;
	vfm_error_t err = vfm_flow_stats(vm, &ws);
	struct vfm_ebpf_map m = map_of(k);
	for (int u = 0; u < 4 && err == VFM_OK; u++) {
		/* XDP and the socket filter run only programs they agree on. */
		if (k->map_fd[u] < 0 || (u >= 2 && !k->xdp_comparable))
			continue;
		struct flow_list got = {0};
		vfm_flow_stats_t gs;
		err = vfm_ebpf_flow_read(k->map_fd[u], &m, flow_collect, &got, &gs, diag);
		if (err == VFM_OK && got.n != want.n)
			err = vfm_diag_set(diag, VFM_EINVAL, -1, 0,
					   "%s flow map holds %zu entries, the interpreter %zu",
					   map_user[u], got.n, want.n);
		for (size_t i = 0; err == VFM_OK && i < got.n; i++)
			if (got.kv[i][0] != want.kv[i][0] || got.kv[i][1] != want.kv[i][1])
				err = vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						   "%s flow map entry %zu is %#llx=%#llx, the "
						   "interpreter's %#llx=%#llx", map_user[u], i,
						   (unsigned long long)got.kv[i][0],
						   (unsigned long long)got.kv[i][1],
						   (unsigned long long)want.kv[i][0],
						   (unsigned long long)want.kv[i][1]);
		if (err == VFM_OK && memcmp(&gs, &ws, sizeof gs) != 0)
			err = vfm_diag_set(diag, VFM_EINVAL, -1, 0,
					   "%s flow counters (entries %llu hits %llu misses %llu inserts "
					   "%llu updates %llu evictions %llu) differ from the "
					   "interpreter's (%llu %llu %llu %llu %llu %llu)", map_user[u],
					   (unsigned long long)gs.entries, (unsigned long long)gs.hits,
					   (unsigned long long)gs.misses, (unsigned long long)gs.inserts,
					   (unsigned long long)gs.updates, (unsigned long long)gs.evictions,
					   (unsigned long long)ws.entries, (unsigned long long)ws.hits,
					   (unsigned long long)ws.misses, (unsigned long long)ws.inserts,
					   (unsigned long long)ws.updates, (unsigned long long)ws.evictions);
		free(got.kv);
	}
	free(want.kv);
	return err;
}

vfm_error_t kengine_flow_clear(const struct kengine *k, vfm_diag_t *diag)
{
	struct vfm_ebpf_map m = map_of(k);
	vfm_error_t err = VFM_OK;
	for (int u = 0; u < 4 && err == VFM_OK; u++)
		if (k->has_flow && k->map_fd[u] >= 0)
			err = vfm_ebpf_flow_clear(k->map_fd[u], &m, diag);
	return err;
}

void kengine_close(struct kengine *k)
{
	vfm_ebpf_kernel_close(k->fd_raw);
	vfm_ebpf_kernel_close(k->fd_padded);
	vfm_ebpf_kernel_close(k->fd_tc);
	vfm_ebpf_kernel_close(k->fd_xdp);
	vfm_ebpf_kernel_close(k->fd_sock);
	for (int m = 0; m < 4; m++) {
		vfm_ebpf_kernel_close(k->map_fd[m]);
		k->map_fd[m] = -1;
	}
	k->fd_raw = k->fd_padded = k->fd_tc = k->fd_xdp = k->fd_sock = -1;
}

void kengine_diff(const vfm_program_t *prog, const struct kengine_config *cfg,
		  const vfm_packet_t *pkts, size_t n, struct kengine_diff *out)
{
	memset(out, 0, sizeof *out);
	struct kengine k;
	enum kengine_stage stage;
	out->err = kengine_load(&k, prog, cfg, &stage, &out->diag);
	if (out->err != VFM_OK) {
		out->outcome = stage == KENGINE_COMPILE   ? KENGINE_COMPILE_REFUSED
			       : out->err == VFM_EVERIFY || out->err == VFM_ETOOBIG
				       ? KENGINE_KERNEL_REFUSED
							 : KENGINE_FAILED;
		return;
	}
	vfm_config_t vcfg = {.budget = cfg->budget, .budget_set = 1, .no_insns = 1,
			     .flow_capacity = cfg->flow_capacity};
	vfm_state_t *vm = vfm_create_with(&vcfg, &out->diag);
	if (!vm || vfm_attach_program(vm, (vfm_program_t *)prog) != VFM_OK) {
		out->outcome = KENGINE_FAILED;
		if (vm)
			vfm_diag_set(&out->diag, VFM_EINVAL, -1, 0, "attach: %s", vfm_last_error(vm));
		vfm_destroy(vm);
		kengine_close(&k);
		return;
	}
	out->outcome = KENGINE_SAME;
	for (size_t i = 0; i < n && out->outcome == KENGINE_SAME; i++) {
		vfm_result_t ri, rk;
		vfm_diag_t d;
		vfm_error_t e = kengine_run(&k, &pkts[i], &rk, &d);
		if (e == VFM_EUNSUPPORTED && pkts[i].len > KENGINE_MAX_LEN) {
			out->skipped++; /* neither engine runs it: tables stay equal */
			continue;
		}
		if (vfm_execute_ex(vm, &pkts[i], &ri) != VFM_OK) {
			out->outcome = KENGINE_FAILED;
			vfm_diag_set(&out->diag, VFM_EINVAL, -1, 0, "interpreter: %s", vfm_last_error(vm));
			break;
		}
		if (e != VFM_OK) {
			out->outcome = e == VFM_EINVAL ? KENGINE_MISMATCH : KENGINE_FAILED;
			vfm_diag_set(&out->diag, e, -1, 0, "packet %zu (%u bytes): %s", i, pkts[i].len,
				     d.message);
			break;
		}
		out->packets++;
		out->statuses[ri.status]++;
		if (ri.verdict != rk.verdict || ri.status != rk.status) {
			out->outcome = KENGINE_MISMATCH;
			vfm_diag_set(&out->diag, VFM_EINVAL, -1, 0,
				     "packet %zu (%u bytes): interpreter %u/%s, kernel %u/%s", i,
				     pkts[i].len, ri.verdict, vfm_status_name(ri.status), rk.verdict,
				     vfm_status_name(rk.status));
		}
	}
	if (out->outcome == KENGINE_SAME) {
		vfm_flow_stats_t st;
		if (vfm_flow_stats(vm, &st) == VFM_OK)
			out->flow_entries = (uint32_t)st.entries;
		if (kengine_flow_check(&k, vm, &out->diag) != VFM_OK)
			out->outcome = KENGINE_MISMATCH;
	}
	vfm_destroy(vm);
	kengine_close(&k);
}
