/*
 * tests/test_elf.c — the ELF object of `vfm-compile --target=ebpf`
 * (ebpf/elf.c) as the kernel's tools take it.
 *
 * - Structure: readelf sees an EM_BPF little-endian relocatable object with
 *   the sections, symbols and relocations docs/EBPF.md describes.
 * - Every example and bench filter: the object loads with `bpftool prog
 *   loadall` (libbpf), and each pinned program (XDP, tc, socket filter),
 *   run with BPF_PROG_TEST_RUN, agrees with the interpreter on generated
 *   packets.  Filters the compiler refuses (flow table, not yet in eBPF)
 *   are counted and must be refused with the opcode named.
 * - The map path, on a hand-built program that reads an ARRAY map with
 *   bpf_map_lookup_elem: bpftool creates the map from the BTF, and a value
 *   written into the map is what both programs referring to it return.
 * - vfm_elf_write refuses bad input with the field named.
 *
 * Without bpftool, bpf() or a bpffs at /sys/fs/bpf the kernel parts skip
 * with the reason.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "../ebpf/ebpf.h"
#include "../ebpf/elf.h"
#include "../ebpf/insn.h"
#include "kengine.h"
#include "pktgen.h"
#include "test_support.h"

#define N_PACKETS 600
#define BPF_FS "/sys/fs/bpf"
#define BPF_FS_MAGIC_ 0xCAFE4A11

static char tmpdir[256], pindir[256];
static char compiler[1024];
static char no_kernel[400]; /* why the kernel parts skip, or "" */

static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof cmd);
	return ts_run(cmd, out);
}

/* Pin directories of earlier runs that were killed before their teardown
 * (vfm-elftest-PID for a PID that no longer exists): removed, so that the
 * pinned programs and maps they hold do not stay in the kernel. */
static void remove_stale_pins(void)
{
	DIR *d = opendir(BPF_FS);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int pid;
		char rest;
		if (sscanf(de->d_name, "vfm-elftest-%d%c", &pid, &rest) != 1 || pid <= 0 ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		char *out;
		char cmd[512];
		snprintf(cmd, sizeof cmd, "rm -rf '%s/%s'", BPF_FS, de->d_name);
		ts_run(cmd, &out);
		free(out);
	}
	closedir(d);
}

static int group_setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/vfm-elftest-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(pindir, sizeof pindir, "%s/vfm-elftest-%d", BPF_FS, (int)getpid());
	snprintf(compiler, sizeof compiler, "%s", ts_tool("vfm-compile"));
	char *out;
	struct statfs fs;
	if (!kengine_available(no_kernel, sizeof no_kernel))
		return 0;
	remove_stale_pins();
	if (ts_run("bpftool version", &out) != 0)
		snprintf(no_kernel, sizeof no_kernel, "bpftool is not installed (ci/install-deps.sh)");
	else if (statfs(BPF_FS, &fs) != 0 || (unsigned long)fs.f_type != BPF_FS_MAGIC_)
		snprintf(no_kernel, sizeof no_kernel, "no bpffs mounted at " BPF_FS);
	else if (mkdir(pindir, 0700) != 0)
		snprintf(no_kernel, sizeof no_kernel, "cannot create %s: %s", pindir, strerror(errno));
	else
		no_kernel[0] = 0;
	free(out);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char *out;
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", tmpdir, pindir);
	ts_run(cmd, &out);
	free(out);
	return 0;
}

#define SKIP_WITHOUT_KERNEL()                                                   \
	do {                                                                    \
		if (no_kernel[0]) {                                             \
			print_message("skipped: %s\n", no_kernel);              \
			skip();                                                 \
		}                                                               \
	} while (0)

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* The fd of a pinned program or map. */
static int obj_get(const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.pathname = (uint64_t)(uintptr_t)path;
	int fd = (int)sys_bpf(BPF_OBJ_GET, &a);
	if (fd < 0)
		fail_msg("BPF_OBJ_GET %s: %s", path, strerror(errno));
	return fd;
}

/* Assemble a .vfm file to tmpdir/name.bin; returns the program (NULL if
 * the file does not assemble or verify: that fails). */
static vfm_program_t *assemble(const char *src_path, const char *name, char *bin, size_t n)
{
	size_t len;
	char *text = ts_read_file(src_path, &len);
	uint8_t *img = ts_assemble(text, &len);
	free(text);
	snprintf(bin, n, "%s/%s.bin", tmpdir, name);
	FILE *f = fopen(bin, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	vfm_program_t *prog;
	vfm_diag_t d;
	if (vfm_program_create(img, len, &prog, &d) != VFM_OK)
		fail_msg("%s: %s", src_path, d.message);
	free(img);
	return prog;
}

static void test_structure(void **state)
{
	(void)state;
	char bin[512], obj[600], *out;
	vfm_program_t *prog = assemble("examples/quickstart.vfm", "structure", bin, sizeof bin);
	vfm_program_release(prog);
	snprintf(obj, sizeof obj, "%s/structure.o", tmpdir);
	int rc = run(&out, "%s --target=ebpf %s -o %s", compiler, bin, obj);
	if (rc != 0)
		fail_msg("vfm-compile: %s", out);
	free(out);
	if (run(&out, "readelf -h -S -s %s", obj) != 0) {
		print_message("skipped: readelf is missing: %s\n", out);
		free(out);
		skip();
	}
	static const char *const want[] = {
		"ELF64", "little endian", "REL (Relocatable file)", "Linux BPF",
		" xdp ", " tc ", " socket ", " license ", " .symtab ", " .strtab ",
		"FUNC    GLOBAL DEFAULT    1 vfm_xdp", "FUNC    GLOBAL DEFAULT    2 vfm_tc",
		"FUNC    GLOBAL DEFAULT    3 vfm_socket",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(out, want[i]))
			fail_msg("readelf output lacks '%s':\n%s", want[i], out);
	assert_null(strstr(out, ".text"));
	free(out);
	/* --attach picks the programs; the object then holds only those. */
	rc = run(&out, "%s --target=ebpf --attach=tc %s -o %s && readelf -S %s", compiler, bin,
		 obj, obj);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, " tc "));
	assert_null(strstr(out, " xdp "));
	free(out);
	/* Bad use: no -o (standard output is not offered: exit 1), unknown
	 * attach point. */
	assert_int_equal(run(&out, "%s --target=ebpf %s", compiler, bin), 1);
	assert_non_null(strstr(out, "give -o FILE.o"));
	free(out);
	assert_int_equal(run(&out, "%s --target=ebpf --attach=xdp,lwt %s -o %s", compiler, bin,
			     obj), 2);
	assert_non_null(strstr(out, "bad --attach"));
	free(out);
}

/* A filter reading TS: the default leaves the socket program out with a
 * note; asking for it is refused with the reason. */
static void test_socket_needs_no_time(void **state)
{
	(void)state;
	static const char src[] = "\tTS\n\tPUSH 1\n\tAND\n\tRET\n";
	size_t len;
	uint8_t *img = ts_assemble(src, &len);
	char bin[512], obj[600], *out;
	snprintf(bin, sizeof bin, "%s/ts.bin", tmpdir);
	snprintf(obj, sizeof obj, "%s/ts.o", tmpdir);
	FILE *f = fopen(bin, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(img);
	assert_int_equal(run(&out, "{ %s --target=ebpf %s -o %s && readelf -S %s; }", compiler,
			     bin, obj, obj), 0);
	assert_non_null(strstr(out, "note: no socket program: the filter reads TS"));
	assert_non_null(strstr(out, " tc "));
	assert_null(strstr(out, "] socket "));
	free(out);
	assert_int_equal(run(&out, "%s --target=ebpf --attach=socket %s -o %s", compiler, bin,
			     obj), 1);
	assert_non_null(strstr(out, "a socket filter cannot read TS"));
	free(out);
}

struct counts {
	unsigned compared, skipped;
};

/* One packet on the pinned programs vs the interpreter. */
static void check_packet(vfm_state_t *vm, const char *name, const int fd[3],
			 const struct pktgen_packet *p, struct counts *c)
{
	vfm_packet_t pkt = {.data = p->data, .len = p->len};
	vfm_result_t r;
	assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
	uint32_t ret, cb0;
	vfm_diag_t d;
	/* tc: TC_ACT_OK (0) on a non-zero verdict, else TC_ACT_SHOT (2) */
	vfm_error_t err = vfm_ebpf_kernel_run(fd[1], p->data, p->len, 0, 0, &ret, &cb0, &d);
	if (err != VFM_OK) { /* under 14 bytes, a cut IP header: TEST_RUN refuses */
		c->skipped++;
		return;
	}
	if (ret != (r.verdict ? 0u : 2u))
		fail_msg("%s: %u-byte %s packet: tc returned %u, interpreter verdict %u", name,
			 p->len, pktgen_kind_name(p->kind), ret, r.verdict);
	if (fd[2] < 0) { /* reads TS or WLEN: tc only (see one_filter) */
		c->compared++;
		return;
	}
	err = vfm_ebpf_kernel_run_xdp(fd[0], p->data, p->len, &ret, &d);
	if (err != VFM_OK)
		fail_msg("%s: XDP run: %s", name, d.message);
	if (ret != (r.verdict ? (uint32_t)XDP_PASS : (uint32_t)XDP_DROP))
		fail_msg("%s: %u-byte packet: XDP returned %u, interpreter verdict %u", name, p->len,
			 ret, r.verdict);
	/* The socket filter under TEST_RUN sees the frame from byte 14 (the
	 * kernel pulls the Ethernet header for non-L2 program types), so
	 * the interpreter runs the same bytes; it returns the verdict. */
	vfm_packet_t tail = {.data = p->data + 14, .len = p->len - 14};
	vfm_result_t rt;
	assert_int_equal(vfm_execute_ex(vm, &tail, &rt), VFM_OK);
	err = vfm_ebpf_kernel_run(fd[2], p->data, p->len, 0, 0, &ret, &cb0, &d);
	if (err != VFM_OK)
		fail_msg("%s: socket run: %s", name, d.message);
	/* (The socket target returns the verdict only: no status.) */
	if (ret != rt.verdict)
		fail_msg("%s: %u-byte packet: socket filter returned %u, interpreter %u (status "
			 "%s) on bytes 14..", name, p->len, ret, rt.verdict,
			 vfm_status_name(rt.status));
	c->compared++;
}

/* Compile, load with bpftool, run: one filter file. */
/* Does the program read TS or WLEN anywhere? */
static bool reads_time(const vfm_program_t *vp)
{
	const struct vfm_program *p = vp;
	for (uint32_t i = 0; i < p->n_insns; i++)
		if (p->insns[i].opcode == VFM_OPC_TS || p->insns[i].opcode == VFM_OPC_WLEN)
			return true;
	return false;
}

static void one_filter(const char *path, struct counts *total, unsigned *loaded,
		       unsigned *refused)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char name[64], bin[512], obj[600], dir[700], *out;
	snprintf(name, sizeof name, "%.*s", (int)(strcspn(base, ".")), base);
	vfm_program_t *prog = assemble(path, name, bin, sizeof bin);
	snprintf(obj, sizeof obj, "%s/%s.o", tmpdir, name);
	int rc = run(&out, "%s --target=ebpf %s -o %s", compiler, bin, obj);
	if (rc != 0) {
		/* Only the flow table is still refused, and it must say so. */
		if (rc != 1 || !strstr(out, "not supported by the eBPF back end yet at pc"))
			fail_msg("%s: vfm-compile exit %d: %s", path, rc, out);
		print_message("  %s: refused by the compiler: %s", name, out);
		(*refused)++;
		free(out);
		vfm_program_release(prog);
		return;
	}
	free(out);
	snprintf(dir, sizeof dir, "%s/%s", pindir, name);
	rc = run(&out, "bpftool prog loadall %s %s", obj, dir);
	if (rc != 0)
		fail_msg("%s: bpftool prog loadall %s: %s", path, obj, out);
	free(out);
	(*loaded)++;
	static const char *const fn[3] = {"vfm_xdp", "vfm_tc", "vfm_socket"};
	/* A filter reading TS or WLEN has no socket program (vfm-compile's
	 * default leaves it out), and its XDP program defines TS as the
	 * time of the run: only tc is compared for it. */
	bool times = reads_time(prog);
	int fd[3] = {-1, -1, -1};
	for (int i = 0; i < (times ? 2 : 3); i++) {
		char pin[800];
		snprintf(pin, sizeof pin, "%s/%s", dir, fn[i]);
		fd[i] = obj_get(pin);
	}
	/* bpftool's view of the types libbpf gave the sections */
	rc = run(&out, "bpftool prog show pinned %s/vfm_xdp; bpftool prog show pinned %s/vfm_tc; "
		       "bpftool prog show pinned %s/vfm_socket", dir, dir, dir);
	assert_int_equal(rc == 0, !times);
	assert_non_null(strstr(out, ": xdp  name vfm_xdp"));
	assert_non_null(strstr(out, ": sched_cls  name vfm_tc"));
	assert_int_equal(strstr(out, ": socket_filter  name vfm_socket") != NULL, !times);
	free(out);

	vfm_diag_t d;
	vfm_state_t *vm = vfm_create_with(NULL, &d);
	assert_non_null(vm);
	assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
	struct pktgen_config cfg = {.seed = 12, .count = N_PACKETS};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&cfg, &set), 0);
	struct counts c = {0};
	for (size_t i = 0; i < set.count; i++)
		check_packet(vm, name, fd, &set.pkts[i], &c);
	print_message("  %s: loaded by bpftool (%s); %u packets agree on %s, %u refused by "
		      "TEST_RUN\n", name, times ? "xdp, tc" : "xdp, tc, socket", c.compared,
		      times ? "tc (the filter reads TS or WLEN)" : "all three", c.skipped);
	assert_true(c.compared > N_PACKETS / 2);
	total->compared += c.compared;
	total->skipped += c.skipped;
	pktgen_free(&set);
	vfm_destroy(vm);
	vfm_program_release(prog);
	for (int i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	run(&out, "rm -rf %s", dir);
	free(out);
}

static void test_filters_on_kernel(void **state)
{
	(void)state;
	SKIP_WITHOUT_KERNEL();
	static const char *const files[] = {
		"examples/quickstart.vfm", "examples/block_ssh_telnet.vfm",
		"examples/tcp_dst_port_80.vfm", "examples/ddos_detect.vfm",
		"examples/rate_limit.vfm", "bench/filters/f1.vfm", "bench/filters/f2.vfm",
		"bench/filters/f3.vfm", "bench/filters/f4.vfm",
	};
	struct counts total = {0};
	unsigned loaded = 0, refused = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		one_filter(files[i], &total, &loaded, &refused);
	print_message("  %u objects loaded, %u filters refused (flow table), %u packets x 3 "
		      "programs agree, 0 mismatches\n", loaded, refused, total.compared);
	assert_true(loaded >= 7);
}

/* HASH5 in an object: its subprogram in .text (a local function per
 * program, each call an R_BPF_64_32 relocation), with the flow table.
 * bpftool (libbpf) loads all three programs; tc, then XDP (the map cleared
 * between), run the generated packets: verdicts and the flow map equal the
 * interpreter's table entry for entry, counters too. */
static const char hash5_flow_src[] =
	"; count packets per 5-tuple hash, pass all but TCP\n"
	"	HASH5\n	DUP\n	FLOW_LOAD\n	PUSH 1\n	ADD\n	FLOW_STORE\n"
	"	LD8 23\n	PUSH 6\n	JEQ tcp\n	RET 1\ntcp:\n	RET 0\n";

static void test_hash5_object(void **state)
{
	(void)state;
	SKIP_WITHOUT_KERNEL();
	char src[512], bin[512], obj[600], dir[600], maps[620], pin[700], *out;
	snprintf(src, sizeof src, "%s/hash5_flow.vfm", tmpdir);
	FILE *f = fopen(src, "w");
	assert_non_null(f);
	fputs(hash5_flow_src, f);
	assert_int_equal(fclose(f), 0);
	vfm_program_t *prog = assemble(src, "hash5_flow", bin, sizeof bin);
	snprintf(obj, sizeof obj, "%s/hash5_flow.o", tmpdir);
	int rc = run(&out, "%s --target=ebpf %s -o %s", compiler, bin, obj);
	if (rc != 0)
		fail_msg("vfm-compile: %s", out);
	free(out);
	rc = run(&out, "readelf -S -s -r %s", obj);
	assert_int_equal(rc, 0);
	static const char *const want[] = {
		" .text ", "FUNC    LOCAL  DEFAULT    4 vfm_hash5_xdp",
		"FUNC    LOCAL  DEFAULT    4 vfm_hash5_tc", "FUNC    LOCAL  DEFAULT    4 vfm_hash5_socket",
		"R_BPF_INSN_DISP32"};
	for (size_t w = 0; w < sizeof want / sizeof *want; w++)
		if (!strstr(out, want[w]))
			fail_msg("readelf: no '%s' in\n%s", want[w], out);
	free(out);
	snprintf(dir, sizeof dir, "%s/hash5_flow", pindir);
	snprintf(maps, sizeof maps, "%s/hash5_flow-maps", pindir);
	rc = run(&out, "bpftool prog loadall %s %s pinmaps %s", obj, dir, maps);
	if (rc != 0)
		fail_msg("bpftool prog loadall: %s", out);
	free(out);
	snprintf(pin, sizeof pin, "%s/vfm_flow", maps);
	int map_fd = obj_get(pin);
	int fd[2];
	static const char *const fn[2] = {"vfm_tc", "vfm_xdp"};
	for (int i = 0; i < 2; i++) {
		snprintf(pin, sizeof pin, "%s/%s", dir, fn[i]);
		fd[i] = obj_get(pin);
	}
	/* The map as the compiler describes it (default capacity). */
	struct vfm_ebpf_options opt;
	vfm_ebpf_options_init(&opt, VFM_EBPF_TC);
	struct vfm_ebpf_prog ep;
	vfm_diag_t d;
	assert_int_equal(vfm_compile_ebpf(prog, &opt, &ep, &d), VFM_OK);
	assert_int_equal(ep.n_maps, 1);
	assert_int_equal(ep.n_subprogs, 1);
	struct pktgen_config cfg = {.seed = 21, .count = N_PACKETS};
	struct pktgen_set set;
	assert_int_equal(pktgen_generate(&cfg, &set), 0);
	static struct ts_flow_list mine, theirs;
	for (int i = 0; i < 2; i++) {
		vfm_state_t *vm = vfm_create_with(NULL, &d);
		assert_non_null(vm);
		assert_int_equal(vfm_attach_program(vm, prog), VFM_OK);
		assert_int_equal(vfm_ebpf_flow_clear(map_fd, &ep.maps[0], &d), VFM_OK);
		unsigned compared = 0;
		for (size_t p = 0; p < set.count; p++) {
			const struct pktgen_packet *pk = &set.pkts[p];
			uint32_t ret, cb0;
			vfm_error_t err = i == 0 ? vfm_ebpf_kernel_run(fd[0], pk->data, pk->len, 0, 0,
								      &ret, &cb0, &d)
						 : vfm_ebpf_kernel_run_xdp(fd[1], pk->data, pk->len,
									  &ret, &d);
			if (err != VFM_OK)
				continue; /* under 14 bytes, a cut IP header: TEST_RUN refuses */
			vfm_packet_t pkt = {.data = pk->data, .len = pk->len};
			vfm_result_t r;
			assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
			uint32_t expect = i == 0 ? (r.verdict ? 0u : 2u)
						 : (r.verdict ? (uint32_t)XDP_PASS : (uint32_t)XDP_DROP);
			if (ret != expect)
				fail_msg("%s: %u-byte packet %zu: returned %u, interpreter verdict %u",
					 fn[i], pk->len, p, ret, r.verdict);
			compared++;
		}
		mine.n = theirs.n = 0;
		vfm_flow_foreach(vm, ts_collect_flow, &mine);
		vfm_flow_stats_t ks, vs;
		assert_int_equal(vfm_ebpf_flow_read(map_fd, &ep.maps[0], ts_collect_flow, &theirs, &ks, &d),
				 VFM_OK);
		assert_int_equal(vfm_flow_stats(vm, &vs), VFM_OK);
		assert_true(mine.n > 10 && mine.n <= 4096);
		assert_int_equal(theirs.n, mine.n);
		assert_memory_equal(theirs.kv, mine.kv, 2 * sizeof(uint64_t) * mine.n);
		assert_memory_equal(&ks, &vs, sizeof ks);
		print_message("  HASH5 + flow table object, %s: %u packets agree, %u flow entries and "
			      "the counters equal the interpreter's\n", fn[i], compared, mine.n);
		vfm_destroy(vm);
	}
	pktgen_free(&set);
	vfm_ebpf_prog_free(&ep);
	vfm_program_release(prog);
	close(map_fd);
	close(fd[0]);
	close(fd[1]);
	run(&out, "rm -rf %s %s", dir, maps);
	free(out);
}

/* The hand-built map program: value = map[0]; return value, or 7 if the
 * lookup fails.  Slot 3 is the LD_IMM64 of the map. */
static const uint32_t map_ref[] = {3};
static void map_program(struct bpf_insn *p, uint32_t *n)
{
	uint32_t k = 0;
	p[k++] = ebpf_insn(BPF_ST | BPF_MEM | BPF_W, R10, 0, -4, 0); /* key 0 at fp-4 */
	p[k++] = ebpf_alu64_reg(BPF_MOV, R2, R10);
	p[k++] = ebpf_insn(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, -4);
	p[k++] = ebpf_insn(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_FD, 0, 0);
	p[k++] = ebpf_insn(0, 0, 0, 0, 0);
	p[k++] = ebpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	p[k++] = ebpf_insn(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 2, 0);
	p[k++] = ebpf_insn(BPF_LDX | BPF_MEM | BPF_W, R0, R0, 0, 0);
	p[k++] = ebpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	p[k++] = ebpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 7);
	p[k++] = ebpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	*n = k;
}

static const struct vfm_elf_map test_map = {
	.name = "vfm_flows", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4,
	.max_entries = 1, .refs = map_ref, .n_refs = 1,
};
/* A second map, with map_flags, that only the socket program uses. */
static const struct vfm_elf_map flag_map = {
	.name = "vfm_other", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4,
	.max_entries = 3, .flags = BPF_F_MMAPABLE, .refs = map_ref, .n_refs = 1,
};

static void write_map_object(const char *obj)
{
	struct bpf_insn code[16];
	uint32_t n;
	map_program(code, &n);
	/* Two programs sharing the map: one map in the object; a third
	 * with a map of its own. */
	struct vfm_elf_prog progs[3] = {
		{.section = "tc", .name = "map_tc", .insns = code, .n_insns = n, .maps = &test_map,
		 .n_maps = 1},
		{.section = "xdp", .name = "map_xdp", .insns = code, .n_insns = n, .maps = &test_map,
		 .n_maps = 1},
		{.section = "socket", .name = "map_socket", .insns = code, .n_insns = n,
		 .maps = &flag_map, .n_maps = 1},
	};
	uint8_t *img;
	size_t len;
	vfm_diag_t d;
	if (vfm_elf_write(progs, 3, "GPL", &img, &len, &d) != VFM_OK)
		fail_msg("vfm_elf_write: %s", d.message);
	FILE *f = fopen(obj, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(img);
}

static void test_map_structure(void **state)
{
	(void)state;
	char obj[600], *out;
	snprintf(obj, sizeof obj, "%s/map.o", tmpdir);
	write_map_object(obj);
	if (run(&out, "readelf -S -r -s %s", obj) != 0) {
		print_message("skipped: readelf is missing: %s\n", out);
		free(out);
		skip();
	}
	static const char *const want[] = {
		" .maps ", " .BTF ", " .reltc ", " .relxdp ", " .relsocket ", "OBJECT  GLOBAL DEFAULT",
		"vfm_flows", "vfm_other", "000000000018  000600000001",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(out, want[i]))
			fail_msg("readelf output lacks '%s':\n%s", want[i], out);
	/* relocation type 1 at slot 3 (byte 0x18) against the map symbol:
	 * binutils calls it R_BPF_INSN_64, LLVM R_BPF_64_64; symbol 5 is
	 * vfm_flows after the three functions and _license */
	if (!strstr(out, "000000000018  000500000001 R_BPF_INSN_64") &&
	    !strstr(out, "000000000018  000500000001 R_BPF_64_64"))
		fail_msg("no R_BPF_64_64 relocation of slot 3 against symbol 5:\n%s", out);
	free(out);
	/* bpftool reads the BTF back: the map's struct and the .maps DATASEC */
	if (run(&out, "bpftool btf dump file %s", obj) == 0) {
		assert_non_null(strstr(out, "VAR 'vfm_flows'"));
		assert_non_null(strstr(out, "DATASEC '.maps'"));
		assert_non_null(strstr(out, "'max_entries'"));
		assert_non_null(strstr(out, "'map_flags'")); /* vfm_other's only */
	}
	free(out);
}

static void test_map_on_kernel(void **state)
{
	(void)state;
	SKIP_WITHOUT_KERNEL();
	char obj[600], dir[600], maps[620], pin[700], *out;
	snprintf(obj, sizeof obj, "%s/map.o", tmpdir);
	write_map_object(obj);
	snprintf(dir, sizeof dir, "%s/map", pindir);
	snprintf(maps, sizeof maps, "%s/map-maps", pindir);
	int rc = run(&out, "bpftool prog loadall %s %s pinmaps %s", obj, dir, maps);
	if (rc != 0)
		fail_msg("bpftool prog loadall: %s", out);
	free(out);
	snprintf(pin, sizeof pin, "%s/vfm_flows", maps);
	rc = run(&out, "bpftool map show pinned %s", pin);
	assert_int_equal(rc, 0);
	if (!strstr(out, "array  name vfm_flows") || !strstr(out, "key 4B  value 4B  max_entries 1"))
		fail_msg("bpftool map show: %s", out);
	free(out);
	char other[700];
	snprintf(other, sizeof other, "%s/vfm_other", maps);
	rc = run(&out, "bpftool map show pinned %s", other);
	assert_int_equal(rc, 0);
	if (!strstr(out, "array  name vfm_other") || !strstr(out, "max_entries 3  memlock") ||
	    !strstr(out, "flags 0x400"))
		fail_msg("bpftool map show (map with flags): %s", out);
	free(out);
	int map_fd = obj_get(pin);
	snprintf(pin, sizeof pin, "%s/map_tc", dir);
	int tc_fd = obj_get(pin);
	snprintf(pin, sizeof pin, "%s/map_xdp", dir);
	int xdp_fd = obj_get(pin);
	uint8_t frame[64] = {0};
	uint32_t ret, cb0;
	vfm_diag_t d;
	for (uint32_t value = 0; value < 3000; value += 1234) {
		uint32_t key = 0;
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.map_fd = (uint32_t)map_fd;
		a.key = (uint64_t)(uintptr_t)&key;
		a.value = (uint64_t)(uintptr_t)&value;
		if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) != 0)
			fail_msg("BPF_MAP_UPDATE_ELEM: %s", strerror(errno));
		assert_int_equal(vfm_ebpf_kernel_run(tc_fd, frame, sizeof frame, 0, 0, &ret, &cb0, &d),
				 VFM_OK);
		assert_int_equal(ret, value);
		assert_int_equal(vfm_ebpf_kernel_run_xdp(xdp_fd, frame, sizeof frame, &ret, &d),
				 VFM_OK);
		assert_int_equal(ret, value);
	}
	close(map_fd);
	close(tc_fd);
	close(xdp_fd);
	print_message("  map object: bpftool created ARRAY maps vfm_flows and vfm_other (map_flags "
		      "0x400) from the BTF; both programs sharing vfm_flows read the values written "
		      "into it\n");
}

static void expect_refusal(const struct vfm_elf_prog *progs, uint32_t n, const char *want)
{
	uint8_t *img = (uint8_t *)1;
	size_t len = 1;
	vfm_diag_t d;
	assert_int_equal(vfm_elf_write(progs, n, "GPL", &img, &len, &d), VFM_EINVAL);
	assert_null(img);
	assert_int_equal(len, 0);
	if (!strstr(d.message, want))
		fail_msg("message '%s' lacks '%s'", d.message, want);
}

static void test_writer_refusals(void **state)
{
	(void)state;
	struct bpf_insn code[16];
	uint32_t n;
	map_program(code, &n);
	struct vfm_elf_prog p[2] = {
		{.section = "tc", .name = "a", .insns = code, .n_insns = n},
		{.section = "tc", .name = "b", .insns = code, .n_insns = n},
	};
	expect_refusal(p, 2, "two programs in section 'tc'");
	p[1].section = "xdp";
	p[1].name = "a";
	expect_refusal(p, 2, "two programs named 'a'");
	p[1].name = "9b";
	expect_refusal(p, 2, "is not a C identifier");
	p[1].name = "b";
	p[1].section = ".text";
	expect_refusal(p, 2, "bad section name");
	p[1].section = "xdp";
	expect_refusal(p, 0, "0 programs");
	/* a reference to a slot that is not a map LD_IMM64 */
	static const uint32_t bad_ref[] = {5};
	struct vfm_elf_map m = test_map;
	m.refs = bad_ref;
	p[0].maps = &m;
	p[0].n_maps = 1;
	expect_refusal(p, 1, "slot 5, a reference to map 'vfm_flows', is not a BPF_LD_IMM64");
	/* the same name, two definitions */
	struct vfm_elf_map m2 = test_map;
	m2.max_entries = 2;
	p[0].maps = &test_map;
	p[1].maps = &m2;
	p[1].n_maps = 1;
	expect_refusal(p, 2, "map 'vfm_flows' defined twice, differently");
	m2 = test_map;
	m2.key_size = 0;
	expect_refusal(p, 2, "must be non-zero");
	/* a call with no subprogram to call; two subprograms of one name */
	struct bpf_insn call[2] = {ebpf_call_local(0), ebpf_exit()};
	struct vfm_elf_prog q[2] = {
		{.section = "tc", .name = "a", .insns = call, .n_insns = 2},
		{.section = "xdp", .name = "b", .insns = call, .n_insns = 2,
		 .sub_name = "h", .sub_insns = call + 1, .n_sub_insns = 1},
	};
	expect_refusal(q, 2, "program 'a': slot 0 calls a subprogram, and the program has none");
	q[0].sub_name = "h";
	q[0].sub_insns = call + 1;
	q[0].n_sub_insns = 1;
	expect_refusal(q, 2, "two subprograms named 'h'");
	q[0].sub_name = "h 1";
	expect_refusal(q, 2, "subprogram 'h 1' without instructions or not a C identifier");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_socket_needs_no_time),
		cmocka_unit_test(test_filters_on_kernel),
		cmocka_unit_test(test_hash5_object),
		cmocka_unit_test(test_map_structure),
		cmocka_unit_test(test_map_on_kernel),
		cmocka_unit_test(test_writer_refusals),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
