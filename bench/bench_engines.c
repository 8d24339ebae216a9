/*
 * bench/bench_engines.c — vfm-bench's engines and filters: the tables, one
 * pass of an engine over packets, and setting a filter up on every engine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fileio.h"


const char *const kind_name[K_COUNT] = {
	[K_NATIVE] = "native-c",
	[K_PCAP] = "libpcap",
	[K_JIT] = "vfm-jit",
	[K_GOTO] = "vfm-goto",
	[K_SWITCH] = "vfm-switch",
	[K_GOTO_BATCH] = "vfm-goto-batch",
	[K_JIT_BATCH] = "vfm-jit-batch",
};


const struct filter_def filter_defs[N_FILTERS] = {
	{"F1", "ether[12:2]=0x800 and ether[23]=6 and ether[36:2]=80",
	 "bench/filters/f1.vfm", "ether[12:2]=0x800 and ether[23]=6 and ether[36:2]=80",
	 native_f1, 0},
	{"F2", "tcp dst port 80", "bench/filters/f2.vfm", "tcp dst port 80", native_f2, 0},
	/* libpcap 1.10 rejects `10/8` and `192.168/16`; the same networks
	 * written out compile to the code the brief means. */
	{"F3", "(tcp or udp) and (src net 10/8 or dst net 192.168/16) and not port 22 and greater 100",
	 "bench/filters/f3.vfm",
	 "(tcp or udp) and (src net 10.0.0.0/8 or dst net 192.168.0.0/16) and not port 22 and greater 100",
	 native_f3, 0},
	{"F4", "accept all", "bench/filters/f4.vfm", "", native_f4, 0},
	{"ddos", "examples/ddos_detect.vfm: SYN flood per source (flow table)",
	 "examples/ddos_detect.vfm", NULL, native_ddos, 1},
	{"rate", "examples/rate_limit.vfm: 100 pkt/s per source (TS, flow table)",
	 "examples/rate_limit.vfm", NULL, native_rate, 1},
};

/* ---- Running one pass --------------------------------------------------- */

static inline uint32_t ex_verdict(vfm_state_t *vm, const vfm_packet_t *p)
{
	vfm_result_t r;
	vfm_execute_ex(vm, p, &r);
	return r.verdict;
}

static inline uint32_t sw_ex_verdict(vfm_state_t *vm, const vfm_packet_t *p)
{
	vfm_result_t r;
	sw_vfm_execute_ex(vm, p, &r);
	return r.verdict;
}

/* The loop body is written once per engine so the call is direct, as in a
 * user's program; `out` (verdicts) only when checking, never when timing. */
#define PASS(EXPR)                                                            \
	do {                                                                  \
		if (out) {                                                    \
			for (size_t i = 0; i < n; i++)                        \
				acc += out[i] = (EXPR);                       \
		} else {                                                      \
			for (size_t i = 0; i < n; i++)                        \
				acc += (EXPR);                                \
		}                                                             \
	} while (0)

uint64_t bench_run_pass(struct bench *b, struct inst *in, const vfm_packet_t *p, size_t n,
			 uint32_t *out)
{
	uint64_t acc = 0;
	vfm_state_t *vm = in->vm;
	switch (in->kind) {
	case K_NATIVE: {
		native_fn fn = in->fn;
		void *ctx = in->nflow;
		PASS(fn(ctx, p[i].data, p[i].len, p[i].ts_ns));
		break;
	}
	case K_PCAP: {
		const struct bpf_insn *bpf = in->bpf;
		/* wire length = captured length: the same packet VFM sees */
		PASS(bpf_filter(bpf, p[i].data, p[i].len, p[i].len));
		break;
	}
	case K_GOTO:
	case K_JIT:
		if (in->stateful)
			PASS(ex_verdict(vm, &p[i]));
		else
			PASS(vfm_execute(vm, p[i].data, p[i].len));
		break;
	case K_SWITCH:
		if (in->stateful)
			PASS(sw_ex_verdict(vm, &p[i]));
		else
			PASS(sw_vfm_execute(vm, p[i].data, p[i].len));
		break;
	case K_GOTO_BATCH:
	case K_JIT_BATCH:
		vfm_execute_batch(vm, p, n, b->results);
		if (out)
			for (size_t i = 0; i < n; i++)
				out[i] = b->results[i].verdict;
		acc = b->results[n ? n - 1 : 0].verdict;
		break;
	case K_COUNT:
		break;
	}
	return acc;
}

/* Fresh flow state, so every pass of a stateful filter does the same work. */
void bench_clear_state(struct inst *in)
{
	if (in->nflow)
		native_flow_clear(in->nflow);
	if (in->vm) {
		if (bench_is_switch(in->kind))
			sw_vfm_flow_clear(in->vm);
		else
			vfm_flow_clear(in->vm);
	}
}

void bench_get_stats(struct inst *in, vfm_flow_stats_t *st)
{
	memset(st, 0, sizeof *st);
	if (in->nflow)
		native_flow_stats(in->nflow, st);
	else if (in->vm && bench_is_switch(in->kind))
		sw_vfm_flow_stats(in->vm, st);
	else if (in->vm)
		vfm_flow_stats(in->vm, st);
}


/* ---- Setup -------------------------------------------------------------- */

static uint8_t *read_text(const char *path, size_t *len)
{
	uint8_t *buf;
	if (fileio_read(path, &buf, len) != 0)
		bench_die("cannot read %s: %s (run from the repository root or use --root)",
			  path, strerror(errno));
	return buf;
}

/* A VM of kind k running f's program.  count_insns: results carry
 * instruction counts (the agreement check compares them); the timed VMs
 * count nothing, as neither the C functions nor libpcap do, so the
 * stateful rows (vfm_execute_ex) and the batch rows run the same JIT code
 * as vfm_execute. */
vfm_state_t *bench_new_vm(enum kind k, const struct filter *f, int count_insns)
{
	vfm_config_t cfg = {.no_insns = !count_insns};
	vfm_state_t *vm = bench_is_switch(k) ? sw_vfm_create_with(&cfg, NULL)
					     : vfm_create_with(&cfg, NULL);
	if (!vm)
		bench_die("vfm_create failed");
	vfm_error_t err = bench_is_switch(k) ? sw_vfm_attach_program(vm, f->sw_prog)
				       : vfm_attach_program(vm, f->prog);
	if (err != VFM_OK)
		bench_die("%s: vfm_attach_program: %s", f->def->id, vfm_error_name(err));
	return vm;
}

void bench_setup_filter(struct bench *b, struct filter *f, const struct filter_def *def)
{
	char path[4096];
	f->def = def;
	snprintf(path, sizeof path, "%s/%s", b->opt.root, def->path);
	size_t src_len;
	uint8_t *src = read_text(path, &src_len);
	uint8_t *bin;
	size_t bin_len;
	vfm_diag_t diag;
	if (vfm_assemble((const char *)src, src_len, path, 1, &bin, &bin_len, &diag) != VFM_OK)
		bench_die("%s", diag.message);
	if (vfm_program_create(bin, bin_len, &f->prog, &diag) != VFM_OK)
		bench_die("%s: %s", path, diag.message);
	if (sw_vfm_program_create(bin, bin_len, &f->sw_prog, &diag) != VFM_OK)
		bench_die("%s (switch build): %s", path, diag.message);
	free(bin);
	/* The engines run the program with its debug sections (line table,
	 * source name), as vfm-asm writes it by default; the memory table also
	 * shows the size without them. */
	vfm_program_t *bare;
	if (vfm_assemble((const char *)src, src_len, path, 0, &bin, &bin_len, &diag) != VFM_OK ||
	    vfm_program_create(bin, bin_len, &bare, &diag) != VFM_OK)
		bench_die("%s", diag.message);
	f->mem_nodebug = vfm_program_memory(bare);
	vfm_program_release(bare);
	free(bin);
	free(src);

	if (def->expr) {
		pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
		if (!pd)
			bench_die("pcap_open_dead failed");
		/* optimize = 1, as tcpdump does */
		if (pcap_compile(pd, &f->bpf, def->expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
			bench_die("%s: pcap_compile(\"%s\"): %s", def->id, def->expr, pcap_geterr(pd));
		pcap_close(pd);
		f->has_bpf = 1;
	}

	for (int k = 0; k < K_COUNT; k++) {
		struct inst *in = &f->in[k];
		in->kind = (enum kind)k;
		in->stateful = def->stateful;
	}
	f->in[K_NATIVE].present = 1;
	f->in[K_NATIVE].fn = def->native;
	if (def->stateful) {
		f->in[K_NATIVE].nflow = native_flow_create(VFM_DEFAULT_FLOW_CAPACITY);
		if (!f->in[K_NATIVE].nflow)
			bench_die("out of memory");
	}
	if (f->has_bpf) {
		f->in[K_PCAP].present = 1;
		f->in[K_PCAP].bpf = f->bpf.bf_insns;
	}
	const enum kind vfm_kinds[] = {K_GOTO, K_SWITCH, K_GOTO_BATCH, K_JIT, K_JIT_BATCH};
	for (size_t j = 0; j < sizeof vfm_kinds / sizeof vfm_kinds[0]; j++) {
		enum kind k = vfm_kinds[j];
		struct inst *in = &f->in[k];
		in->vm = bench_new_vm(k, f, 0);
		in->present = 1;
		if (k == K_JIT || k == K_JIT_BATCH) {
			/* The column appears by itself once a JIT exists. */
			vfm_error_t err = vfm_enable_jit(in->vm);
			if (err != VFM_OK) {
				if (!b->jit_reason[0])
					snprintf(b->jit_reason, sizeof b->jit_reason, "%s: %s",
						 vfm_error_name(err), vfm_last_error(in->vm));
				vfm_destroy(in->vm);
				in->vm = NULL;
				in->present = 0;
			} else {
				b->jit_available = 1;
			}
		}
	}
}

void bench_free_filter(struct filter *f)
{
	for (int k = 0; k < K_COUNT; k++) {
		struct inst *in = &f->in[k];
		if (in->vm) {
			if (bench_is_switch(in->kind))
				sw_vfm_destroy(in->vm);
			else
				vfm_destroy(in->vm);
		}
		native_flow_destroy(in->nflow);
	}
	vfm_program_release(f->prog);
	sw_vfm_program_release(f->sw_prog);
	if (f->has_bpf)
		pcap_freecode(&f->bpf);
}


/* ---- JIT code size ------------------------------------------------------- */

/* Native instructions in `size` bytes of code: 4 bytes each on AArch64;
 * on x86-64 counted by objdump (binutils), 0 if it is not there. */
static size_t native_insns(const void *code, size_t size)
{
#if defined(__aarch64__)
	(void)code;
	return size / 4;
#else
	char path[] = "/tmp/vfm-bench-jit-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	FILE *f = fdopen(fd, "wb");
	size_t n = 0;
	if (f && fwrite(code, 1, size, f) == size && fclose(f) == 0) {
		char cmd[256];
		snprintf(cmd, sizeof cmd, "objdump -b binary -m i386:x86-64 -D '%s' 2>/dev/null",
			 path);
		FILE *p = popen(cmd, "r");
		if (p) {
			char line[512];
			/* "   1f:\t48 83 c4 08 \tadd ..." : an address, then a tab
			 * and bytes; continuation lines of long encodings have
			 * bytes but no mnemonic (no second tab). */
			while (fgets(line, sizeof line, p)) {
				char *colon = strchr(line, ':');
				if (colon && colon[1] == '\t' && strchr(colon + 2, '\t') &&
				    !strstr(line, "(bad)"))
					n++;
			}
			pclose(p);
		}
	} else if (f) {
		fclose(f);
	}
	unlink(path);
	return n;
#endif
}

/* Code bytes of both compiled variants, read through the API: vfm_jit_code
 * on a counting VM and on one created with no_insns. */
void bench_measure_code(struct bench *b)
{
	for (size_t fi = 0; fi < N_FILTERS; fi++) {
		struct filter *f = &b->filters[fi];
		for (int v = 0; v < 2; v++) {
			vfm_config_t cfg = {.no_insns = v};
			vfm_state_t *vm = vfm_create_with(&cfg, NULL);
			const void *code;
			size_t size;
			if (vm && vfm_attach_program(vm, f->prog) == VFM_OK &&
			    vfm_enable_jit(vm) == VFM_OK && vfm_jit_code(vm, &code, &size) == VFM_OK) {
				f->jit_bytes[v] = size;
				f->jit_native_insns[v] = native_insns(code, size);
			}
			vfm_destroy(vm);
		}
	}
}
