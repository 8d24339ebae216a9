/*
 * ebpf/kernel.c — load and run compiled programs in the Linux kernel over
 * the raw bpf() syscall (no libbpf): BPF_PROG_LOAD with a verifier log,
 * BPF_PROG_TEST_RUN with a packet and a struct __sk_buff context.
 *
 * bpf() refused outright (EPERM without CAP_BPF, ENOSYS, a kernel without
 * BPF) is VFM_EUNSUPPORTED, so that tests and tools can skip with the
 * reason; a program the kernel's verifier refuses is VFM_EVERIFY with its
 * log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf.h"

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

/* bpf() itself refused, not the program: no privilege, no syscall. */
static bool refused_outright(int e)
{
	return e == EPERM || e == ENOSYS || e == EACCES;
}

/* Log buffer when the caller gives none: enough for the last lines. */
#define DEFAULT_LOG_SIZE (256u << 10)

/* The documented kernel limits a refusal can name (docs/EBPF.md). */
static const struct {
	const char *needle, *limit;
} kernel_limits[] = {
	{"BPF program is too large",
	 "the kernel verifier's complexity limit (1,000,000 processed instructions, "
	 "BPF_COMPLEXITY_LIMIT_INSNS)"},
	{"jumps is too complex",
	 "the kernel verifier's jump-sequence limit (8192 jumps on one path, "
	 "BPF_COMPLEXITY_LIMIT_JMP_SEQ)"},
	{"combined stack size", "the kernel's 512-byte stack over all call frames (MAX_BPF_STACK)"},
	{"stack depth", "the kernel's 512-byte stack (MAX_BPF_STACK)"},
};

/* The eBPF slot the verifier was at: the last "N: (" line of the log. */
static long last_slot(const char *log, size_t len)
{
	long slot = -1;
	for (size_t i = 0; i < len; i++) {
		if (i && log[i - 1] != '\n')
			continue;
		char *end;
		long v = strtol(log + i, &end, 10);
		if (end != log + i && end[0] == ':' && end[1] == ' ' && end[2] == '(')
			slot = v;
	}
	return slot;
}

/* A refusal as a message naming the limit (if a documented one) and the
 * VFM pc whose code the kernel verifier was at, then its last line. */
static vfm_error_t explain_refusal(const struct vfm_ebpf_prog *p, const char *log,
				   uint32_t log_size, int e, vfm_diag_t *diag)
{
	size_t len = strnlen(log, log_size);
	const char *limit = NULL;
	for (size_t k = 0; k < sizeof kernel_limits / sizeof kernel_limits[0] && !limit; k++)
		if (strstr(log, kernel_limits[k].needle))
			limit = kernel_limits[k].limit;
	/* The last non-empty line says why. */
	char last[200] = "(no log)";
	size_t end = len;
	while (end && (log[end - 1] == '\n' || log[end - 1] == ' '))
		end--;
	size_t start = end;
	while (start && log[start - 1] != '\n')
		start--;
	if (end > start)
		snprintf(last, sizeof last, "%.*s", (int)(end - start), log + start);
	/* processed-insns summary lines are less telling than the one before */
	if (end - start >= 10 && !memcmp(log + start, "processed ", 10) && start) {
		size_t e2 = start - 1, s2 = e2;
		while (s2 && log[s2 - 1] != '\n')
			s2--;
		if (e2 > s2)
			snprintf(last, sizeof last, "%.*s", (int)(e2 - s2), log + s2);
	}
	char where[96] = "";
	long slot = last_slot(log, len);
	if (slot >= 0 && p->vfm_of && p->vfm_pc) {
		if (p->n_subprogs && (uint32_t)slot >= p->subprog_start[0]) {
			snprintf(where, sizeof where, " in the HASH5 subprogram (eBPF insn %ld)", slot);
		} else {
			uint32_t best = p->vfm_of && (uint32_t)slot < p->n_insns
						? p->vfm_of[slot] : UINT32_MAX;
			if (best != UINT32_MAX)
				snprintf(where, sizeof where, " at pc %u (eBPF insn %ld)",
					 p->vfm_pc[best], slot);
		}
	}
	int64_t pc = -1;
	if (where[0] == ' ' && where[1] == 'a') {
		unsigned v;
		if (sscanf(where, " at pc %u", &v) == 1)
			pc = v;
	}
	if (limit)
		return vfm_diag_set(diag, VFM_ETOOBIG, pc, 0, "kernel verifier: over %s%s: %s", limit,
				    where, last);
	return vfm_diag_set(diag, VFM_EVERIFY, pc, 0, "kernel verifier refused the program (%s)%s: %s",
			    strerror(e), where, last);
}

static vfm_error_t load_with_log(const struct vfm_ebpf_prog *p, int *fd, char *log,
				 uint32_t log_size, vfm_diag_t *diag)
{
	static const char license[] = "GPL"; /* the helpers used are not GPL-only */
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.prog_type = p->prog_type;
	attr.prog_flags = p->prog_flags;
	attr.insns = (uint64_t)(uintptr_t)p->insns;
	attr.insn_cnt = p->n_insns;
	attr.license = (uint64_t)(uintptr_t)license;
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = log_size;
	attr.log_level = 1;
	/* All of it, not just log[0]: the kernel writes a string of a length
	 * only it knows, and memory checkers (valgrind) cannot see which
	 * bytes the syscall wrote; the cost is small next to a verification. */
	memset(log, 0, log_size);
	long r = sys_bpf(BPF_PROG_LOAD, &attr);
	/* The kernel's verifier gives up with EAGAIN when a signal is pending
	 * (a profiler's or fuzzer's timer); the program is not at fault, so
	 * load again, a few times, as libbpf does. */
	for (int again = 0; r < 0 && errno == EAGAIN && again < 5; again++)
		r = sys_bpf(BPF_PROG_LOAD, &attr);
	if (r < 0 && errno == ENOSPC) {
		/* The log did not fit: its head is kept; load again without a
		 * log for the verdict. */
		attr.log_buf = 0, attr.log_size = 0, attr.log_level = 0;
		r = sys_bpf(BPF_PROG_LOAD, &attr);
	}
	if (r >= 0) {
		log[0] = 0;
		*fd = (int)r;
		return VFM_OK;
	}
	int e = errno;
	if (refused_outright(e) && !log[0])
		return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0,
				    "bpf(BPF_PROG_LOAD) refused: %s (needs root or CAP_BPF + CAP_NET_ADMIN)",
				    strerror(e));
	return explain_refusal(p, log, log_size, e, diag);
}

vfm_error_t vfm_ebpf_kernel_load(const struct vfm_ebpf_prog *p, int *fd, char *log,
				 size_t log_size, vfm_diag_t *diag)
{
	if (!p || !fd)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "vfm_ebpf_kernel_load: NULL argument");
	for (uint32_t m = 0; m < p->n_maps; m++)
		for (uint32_t r = 0; r < p->maps[m].n_refs; r++)
			if (p->insns[p->maps[m].refs[r]].imm < 0)
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						    "map %s is not bound to a map fd (vfm_ebpf_map_create, "
						    "vfm_ebpf_prog_bind_map)", p->maps[m].name);
	char *own = NULL;
	if (!log || log_size < 2) {
		own = log = malloc(DEFAULT_LOG_SIZE);
		log_size = DEFAULT_LOG_SIZE;
		if (!own)
			return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	}
	vfm_error_t err = load_with_log(p, fd, log, log_size > UINT32_MAX ? UINT32_MAX : (uint32_t)log_size,
					diag);
	free(own);
	return err;
}

/* One BPF_PROG_TEST_RUN of a packet: attr holds the program and any
 * context; this adds the packet, runs it once and returns the program's
 * return value.  The run also gets a buffer for the packet as the program
 * leaves it (data_out), which nothing reads: valgrind checks data_out for
 * data_size_in bytes. */
static vfm_error_t test_run(union bpf_attr *attr, const uint8_t *data, uint32_t len,
			    const char *what, uint32_t *retval, vfm_diag_t *diag)
{
	uint8_t *out = malloc(len ? len : 1);
	if (!out)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	attr->test.data_in = (uint64_t)(uintptr_t)data;
	attr->test.data_size_in = len;
	attr->test.data_out = (uint64_t)(uintptr_t)out;
	attr->test.data_size_out = len ? len : 1;
	attr->test.repeat = 1;
	int rc = sys_bpf(BPF_PROG_TEST_RUN, attr);
	int e = errno;
	free(out);
	if (rc < 0)
		return vfm_diag_set(diag, refused_outright(e) ? VFM_EUNSUPPORTED : VFM_EINVAL, -1, 0,
				    "bpf(BPF_PROG_TEST_RUN) of a %u-byte %s failed: %s", len, what,
				    strerror(e));
	*retval = attr->test.retval;
	return VFM_OK;
}

vfm_error_t vfm_ebpf_kernel_run(int fd, const uint8_t *data, uint32_t len, uint64_t ts_ns,
				uint32_t wire_len, uint32_t *retval, uint32_t *cb0,
				vfm_diag_t *diag)
{
	struct __sk_buff ctx_in, ctx_out;
	memset(&ctx_in, 0, sizeof ctx_in);
	memset(&ctx_out, 0, sizeof ctx_out);
	ctx_in.tstamp = ts_ns;
	ctx_in.wire_len = wire_len;
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.test.prog_fd = (uint32_t)fd;
	attr.test.ctx_in = (uint64_t)(uintptr_t)&ctx_in;
	attr.test.ctx_size_in = sizeof ctx_in;
	attr.test.ctx_out = (uint64_t)(uintptr_t)&ctx_out;
	attr.test.ctx_size_out = sizeof ctx_out;
	vfm_error_t err = test_run(&attr, data, len, "packet", retval, diag);
	if (err == VFM_OK)
		*cb0 = ctx_out.cb[0];
	return err;
}

vfm_error_t vfm_ebpf_kernel_run_xdp(int fd, const uint8_t *data, uint32_t len, uint32_t *retval,
				    vfm_diag_t *diag)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.test.prog_fd = (uint32_t)fd;
	return test_run(&attr, data, len, "XDP frame", retval, diag);
}

void vfm_ebpf_kernel_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

vfm_error_t vfm_ebpf_map_create(const struct vfm_ebpf_map *m, int *fd, vfm_diag_t *diag)
{
	if (!m || !fd)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "vfm_ebpf_map_create: NULL argument");
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.map_type = m->type;
	attr.key_size = m->key_size;
	attr.value_size = m->value_size;
	attr.max_entries = m->max_entries;
	attr.map_flags = m->flags;
	memcpy(attr.map_name, m->name, strnlen(m->name, sizeof attr.map_name - 1));
	long r = sys_bpf(BPF_MAP_CREATE, &attr);
	if (r < 0) {
		int e = errno;
		return vfm_diag_set(diag, refused_outright(e) ? VFM_EUNSUPPORTED : VFM_EINVAL, -1, 0,
				    "bpf(BPF_MAP_CREATE) of map %s (%u entries of %u bytes) failed: %s",
				    m->name, m->max_entries, m->value_size, strerror(e));
	}
	*fd = (int)r;
	return VFM_OK;
}

unsigned vfm_ebpf_possible_cpus(void)
{
	/* "0-3", "0,2-5": the highest index + 1, as the kernel sizes
	 * per-CPU values (num_possible_cpus() ids). */
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	if (!f)
		return 0;
	char line[256];
	unsigned n = 0;
	if (fgets(line, sizeof line, f)) {
		for (char *p = line; *p;) {
			char *end;
			unsigned long v = strtoul(p, &end, 10);
			if (end == p)
				break;
			if (v + 1 > n && v < 65536)
				n = (unsigned)v + 1;
			p = *end ? end + 1 : end;
		}
	}
	fclose(f);
	return n;
}

static bool per_cpu(const struct vfm_ebpf_map *m)
{
	return m->type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* Entry `index` of the flow map, from (or, write, to) value: one table's
 * entry; a per-CPU map's lookup and update move every CPU's value at once
 * (values of 72 bytes, a multiple of 8, so no padding between them). */
static vfm_error_t flow_entry(int fd, const struct vfm_ebpf_map *m, uint32_t index, void *value,
			      bool write, vfm_diag_t *diag)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)&index;
	attr.value = (uint64_t)(uintptr_t)value;
	attr.flags = write ? BPF_ANY : 0;
	if (sys_bpf(write ? BPF_MAP_UPDATE_ELEM : BPF_MAP_LOOKUP_ELEM, &attr) < 0) {
		int e = errno;
		return vfm_diag_set(diag, refused_outright(e) ? VFM_EUNSUPPORTED : VFM_EINVAL, -1, 0,
				    "bpf(%s) of %s entry %u failed: %s",
				    write ? "BPF_MAP_UPDATE_ELEM" : "BPF_MAP_LOOKUP_ELEM", m->name, index,
				    strerror(e));
	}
	return VFM_OK;
}

static vfm_error_t check_flow_map(const struct vfm_ebpf_map *m, vfm_diag_t *diag)
{
	if (!m || m->kind != VFM_EBPF_MAP_FLOW || m->key_size != sizeof(uint32_t) ||
	    m->value_size != sizeof(struct vfm_ebpf_flow_set) || m->max_entries < 2 ||
	    (m->type != BPF_MAP_TYPE_ARRAY && m->type != BPF_MAP_TYPE_PERCPU_ARRAY))
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "not a VFM flow map description");
	return VFM_OK;
}

/* Values per lookup: 1, or the possible CPUs of a per-CPU map. */
static vfm_error_t values_per_entry(const struct vfm_ebpf_map *m, unsigned *n, vfm_diag_t *diag)
{
	*n = per_cpu(m) ? vfm_ebpf_possible_cpus() : 1;
	if (!*n)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "per-CPU map %s: cannot read /sys/devices/system/cpu/possible",
				    m->name);
	return VFM_OK;
}

static vfm_error_t flow_read(int fd, const struct vfm_ebpf_map *m, unsigned cpu,
			     int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg,
			     vfm_flow_stats_t *stats, vfm_diag_t *diag)
{
	unsigned n_values;
	vfm_error_t err = values_per_entry(m, &n_values, diag);
	if (err != VFM_OK)
		return err;
	if (cpu >= n_values)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "map %s: no CPU %u (%u possible)",
				    m->name, cpu, n_values);
	struct vfm_ebpf_flow_set *all = calloc(n_values, sizeof *all);
	if (!all)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	uint32_t n_sets = m->max_entries - 1;
	if (stats) {
		err = flow_entry(fd, m, n_sets, all, false, diag);
		struct vfm_ebpf_flow_counters k;
		memcpy(&k, &all[cpu], sizeof k);
		if (err == VFM_OK)
			*stats = (vfm_flow_stats_t){.capacity = (uint64_t)n_sets * VFM_EBPF_FLOW_WAYS,
						    .entries = k.entries, .hits = k.hits,
						    .misses = k.misses, .inserts = k.inserts,
						    .updates = k.updates, .evictions = k.evictions};
	}
	bool stop = false;
	for (uint32_t s = 0; fn && !stop && err == VFM_OK && s < n_sets; s++) {
		err = flow_entry(fd, m, s, all, false, diag);
		const struct vfm_ebpf_flow_set *set = &all[cpu];
		for (unsigned w = 0; err == VFM_OK && !stop && w < VFM_EBPF_FLOW_WAYS; w++)
			stop = (set->used >> w & 1u) && fn(set->key[w], set->value[w], arg);
	}
	free(all);
	return err;
}

vfm_error_t vfm_ebpf_flow_read(int fd, const struct vfm_ebpf_map *m,
			       int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg,
			       vfm_flow_stats_t *stats, vfm_diag_t *diag)
{
	vfm_error_t err = check_flow_map(m, diag);
	if (err == VFM_OK && per_cpu(m))
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "map %s is per CPU: read one CPU's table "
				    "(vfm_ebpf_flow_read_cpu)", m->name);
	return err == VFM_OK ? flow_read(fd, m, 0, fn, arg, stats, diag) : err;
}

vfm_error_t vfm_ebpf_flow_read_cpu(int fd, const struct vfm_ebpf_map *m, unsigned cpu,
				   int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg,
				   vfm_flow_stats_t *stats, vfm_diag_t *diag)
{
	vfm_error_t err = check_flow_map(m, diag);
	if (err == VFM_OK && !per_cpu(m))
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
				    "map %s is one table, not per CPU (vfm_ebpf_flow_read)", m->name);
	return err == VFM_OK ? flow_read(fd, m, cpu, fn, arg, stats, diag) : err;
}

vfm_error_t vfm_ebpf_flow_clear(int fd, const struct vfm_ebpf_map *m, vfm_diag_t *diag)
{
	vfm_error_t err = check_flow_map(m, diag);
	unsigned n_values = 0;
	if (err == VFM_OK)
		err = values_per_entry(m, &n_values, diag);
	if (err != VFM_OK)
		return err;
	struct vfm_ebpf_flow_set *zero = calloc(n_values, sizeof *zero);
	if (!zero)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	for (uint32_t s = 0; err == VFM_OK && s < m->max_entries; s++)
		err = flow_entry(fd, m, s, zero, true, diag);
	free(zero);
	return err;
}

#else /* not Linux */

vfm_error_t vfm_ebpf_kernel_load(const struct vfm_ebpf_prog *p, int *fd, char *log,
				 size_t log_size, vfm_diag_t *diag)
{
	(void)p, (void)fd, (void)log, (void)log_size;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0, "no bpf() syscall: not Linux");
}

vfm_error_t vfm_ebpf_kernel_run(int fd, const uint8_t *data, uint32_t len, uint64_t ts_ns,
				uint32_t wire_len, uint32_t *retval, uint32_t *cb0,
				vfm_diag_t *diag)
{
	(void)fd, (void)data, (void)len, (void)ts_ns, (void)wire_len, (void)retval, (void)cb0;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0, "no bpf() syscall: not Linux");
}

vfm_error_t vfm_ebpf_kernel_run_xdp(int fd, const uint8_t *data, uint32_t len, uint32_t *retval,
				    vfm_diag_t *diag)
{
	(void)fd, (void)data, (void)len, (void)retval;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0, "no bpf() syscall: not Linux");
}

void vfm_ebpf_kernel_close(int fd)
{
	(void)fd;
}

vfm_error_t vfm_ebpf_map_create(const struct vfm_ebpf_map *m, int *fd, vfm_diag_t *diag)
{
	(void)m, (void)fd;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0, "no bpf() syscall: not Linux");
}

vfm_error_t vfm_ebpf_flow_read(int fd, const struct vfm_ebpf_map *m,
			       int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg,
			       vfm_flow_stats_t *stats, vfm_diag_t *diag)
{
	(void)fd, (void)m, (void)fn, (void)arg, (void)stats;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0, "no bpf() syscall: not Linux");
}

vfm_error_t vfm_ebpf_flow_read_cpu(int fd, const struct vfm_ebpf_map *m, unsigned cpu,
				   int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg,
				   vfm_flow_stats_t *stats, vfm_diag_t *diag)
{
	(void)fd, (void)m, (void)cpu, (void)fn, (void)arg, (void)stats;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0, "no bpf() syscall: not Linux");
}

unsigned vfm_ebpf_possible_cpus(void)
{
	return 0;
}

vfm_error_t vfm_ebpf_flow_clear(int fd, const struct vfm_ebpf_map *m, vfm_diag_t *diag)
{
	(void)fd, (void)m;
	return vfm_diag_set(diag, VFM_EUNSUPPORTED, -1, 0, "no bpf() syscall: not Linux");
}
#endif
