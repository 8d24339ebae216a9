/*
 * fuzz/fuzz_pcap.c — libFuzzer target: capture bytes → the capture reader
 * behind vfm-test (tools/pcapio.c, libpcap underneath) → a fixed filter.
 *
 * Input: the bytes of a pcap or pcapng file.  They are written to a memfd
 * (pcapio_read takes a path; /proc/self/fd/N names it), read back with
 * pcapio_read, and every packet is run, as vfm-test runs it (caplen bytes,
 * the record's timestamp), through a fixed filter that loads headers,
 * hashes the 5-tuple, counts flows and reads TS — on the interpreter and,
 * where the build has one, the JIT (same verdicts, statuses, flow tables).
 *
 * Checked (a failure abort()s): a failed read leaves the capture empty and
 * says why, naming the file; a successful one has every packet inside the
 * one buffer, caplen <= buffer, count packets; the filter runs on each.
 * Packets are copied into exact-size blocks so ASan catches a filter read
 * past caplen (a libpcap-sized buffer would hide it).
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfm.h"
#include "pcapio.h"

#define FUZZ_NAME "fuzz_pcap"
#include "fuzz_common.h"

/* The fixed filter: IPv4/IPv6 (with one VLAN tag) header loads, HASH5, a
 * per-flow packet counter, a TS-based rule and a length check. */
static const char filter_src[] =
	"	LEN\n"
	"	PUSH 14\n"
	"	JLT short\n"
	"	LD16 12\n"
	"	DUP\n"
	"	PUSH 0x8100\n"
	"	JNE untagged\n"
	"	POP\n"
	"	LD16 16\n"
	"untagged:\n"
	"	STM 0\n"
	"	HASH5\n"
	"	DUP\n"
	"	FLOW_LOAD\n"
	"	PUSH 1\n"
	"	ADD\n"
	"	DUP\n"
	"	STM 1\n"
	"	FLOW_STORE\n"
	"	LDM 0\n"
	"	PUSH 0x0800\n"
	"	JNE not_v4\n"
	"	LD8 14\n"
	"	PUSH 15\n"
	"	AND\n"
	"	PUSH 4\n"
	"	MUL\n"
	"	PUSH 14\n"
	"	ADD\n"
	"	LD16X 2\n"
	"	PUSH 80\n"
	"	JEQ accept\n"
	"	TS\n"
	"	PUSH 1000000000\n"
	"	DIV\n"
	"	PUSH 2\n"
	"	MOD\n"
	"	RET\n"
	"not_v4:\n"
	"	LDM 0\n"
	"	PUSH 0x86DD\n"
	"	JNE other\n"
	"	LD8 20\n"
	"	RET\n"
	"other:\n"
	"	LDM 1\n"
	"	PUSH 3\n"
	"	JGT short\n"
	"accept:\n"
	"	RET 1\n"
	"short:\n"
	"	RET 0\n";

static vfm_program_t *filter;
static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	uint8_t *bin = NULL;
	size_t len = 0;
	vfm_diag_t diag;
	CHECK(vfm_assemble(filter_src, sizeof filter_src - 1, "fuzz_pcap filter", 1, &bin, &len,
			   &diag) == VFM_OK,
	      "the fixed filter does not assemble: %s", diag.message);
	CHECK(vfm_program_create(bin, len, &filter, &diag) == VFM_OK,
	      "the fixed filter does not load: %s", diag.message);
	free(bin);
	memfd = memfd_create("fuzz_pcap", 0);
	CHECK(memfd >= 0, "memfd_create failed");
	snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!filter)
		LLVMFuzzerInitialize(NULL, NULL);
	CHECK(ftruncate(memfd, 0) == 0, "ftruncate failed");
	size_t off = 0;
	while (off < size) {
		ssize_t w = pwrite(memfd, data + off, size - off, (off_t)off);
		CHECK(w > 0, "pwrite failed");
		off += (size_t)w;
	}

	struct pcapio_capture cap;
	char err[PCAPIO_ERRBUF];
	memset(err, 0x5A, sizeof err);
	memset(&cap, 0x5A, sizeof cap);
	if (pcapio_read(memfd_path, &cap, err) != 0) {
		size_t elen = strnlen(err, sizeof err);
		CHECK(elen > 0 && elen < sizeof err, "empty or unterminated error");
		CHECK(strstr(err, memfd_path) != NULL, "error does not name the file: %s", err);
		CHECK(cap.count == 0 && cap.pkts == NULL && cap.buf == NULL,
		      "failed read left a capture behind");
		pcapio_free(&cap);
		return 0;
	}
	CHECK(cap.count == 0 || (cap.pkts && cap.buf), "packets without storage");
	(void)pcapio_linktype_name(cap.linktype);

	vfm_state_t *vm = vfm_create_with(&(vfm_config_t){.flow_capacity = 64}, NULL);
	vfm_state_t *jvm = vfm_create_with(&(vfm_config_t){.flow_capacity = 64}, NULL);
	CHECK(vm && jvm, "vfm_create_with failed");
	CHECK(vfm_attach_program(vm, filter) == VFM_OK && vfm_attach_program(jvm, filter) == VFM_OK,
	      "attach failed");
	int jit = vfm_enable_jit(jvm) == VFM_OK;
	for (size_t i = 0; i < cap.count; i++) {
		const struct pcapio_packet *p = &cap.pkts[i];
		CHECK(p->caplen == 0 ||
			      (p->data >= cap.buf && (size_t)(p->data - cap.buf) <= cap.buf_len &&
			       p->caplen <= cap.buf_len - (size_t)(p->data - cap.buf)),
		      "packet %zu (caplen %u) lies outside the capture buffer", i, p->caplen);
		uint8_t *copy = malloc(p->caplen ? p->caplen : 1);
		CHECK(copy, "out of memory");
		if (p->caplen)
			memcpy(copy, p->data, p->caplen);
		vfm_packet_t pkt = {.data = copy, .len = p->caplen, .ts_ns = p->ts_ns};
		vfm_result_t ri, rj;
		CHECK(vfm_execute_ex(vm, &pkt, &ri) == VFM_OK, "execute failed");
		CHECK(ri.status == VFM_STATUS_OK || ri.status == VFM_STATUS_BOUNDS,
		      "packet %zu: status %s", i, vfm_status_name(ri.status));
		if (jit) {
			CHECK(vfm_execute_ex(jvm, &pkt, &rj) == VFM_OK, "JIT execute failed");
			CHECK(ri.verdict == rj.verdict && ri.status == rj.status,
			      "packet %zu: interpreter %u/%s, JIT %u/%s", i, ri.verdict,
			      vfm_status_name(ri.status), rj.verdict, vfm_status_name(rj.status));
		}
		free(copy);
	}
	if (jit) {
		vfm_flow_stats_t a, b;
		vfm_flow_stats(vm, &a);
		vfm_flow_stats(jvm, &b);
		CHECK(memcmp(&a, &b, sizeof a) == 0, "flow stats differ, interpreter vs JIT");
	}
	vfm_destroy(vm);
	vfm_destroy(jvm);
	pcapio_free(&cap);
	return 0;
}

/* Triage: what the reader makes of the bytes. */
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out);
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out)
{
	if (!filter)
		LLVMFuzzerInitialize(NULL, NULL);
	if (ftruncate(memfd, 0) != 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
		fprintf(out, "cannot write the memfd\n");
		return;
	}
	struct pcapio_capture cap;
	char err[PCAPIO_ERRBUF];
	fprintf(out, "input: %zu bytes\n", size);
	if (pcapio_read(memfd_path, &cap, err) != 0) {
		fprintf(out, "pcapio_read: %s\n", err);
		return;
	}
	fprintf(out, "link type %d (%s), snaplen %u, %zu packets\n", cap.linktype,
		pcapio_linktype_name(cap.linktype), cap.snaplen, cap.count);
	vfm_state_t *vm = vfm_create_with(&(vfm_config_t){.flow_capacity = 64}, NULL);
	if (vm)
		vfm_attach_program(vm, filter);
	for (size_t i = 0; i < cap.count; i++) {
		vfm_result_t r = {0};
		vfm_packet_t pkt = {.data = cap.pkts[i].data, .len = cap.pkts[i].caplen, .ts_ns = cap.pkts[i].ts_ns};
		if (vm)
			vfm_execute_ex(vm, &pkt, &r);
		fprintf(out, "packet %zu: caplen %u len %u ts %llu -> verdict %u %s\n", i,
			cap.pkts[i].caplen, cap.pkts[i].len, (unsigned long long)cap.pkts[i].ts_ns,
			r.verdict, vfm_status_name(r.status));
	}
	vfm_destroy(vm);
	pcapio_free(&cap);
}
