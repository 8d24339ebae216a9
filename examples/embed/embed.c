/*
 * examples/embed/embed.c — libvfm embedded in a program: load a filter,
 * run a capture through it on the interpreter and, where this build has
 * one, on the JIT, and print what vfm-test prints as its summary.
 *
 *   embed FILTER CAPTURE.pcap
 *
 * FILTER is a bytecode file (vfm-asm's output) or VFM assembly (*.vfm,
 * assembled here with vfm_assemble).  CAPTURE is a classic pcap file of
 * this host's byte order (vfm-gen writes one), read without libpcap.
 * Output, one line, the numbers `vfm-test --json` reports:
 *
 *   packets=N accepted=A dropped=D ok=.. bounds=.. budget=.. flow_entries=..
 *
 * Built by tests/check_install.sh against an installed libvfm only:
 *   cc embed.c $(pkg-config --cflags --libs vfm)
 * Exit status: 0 success, 1 the filter or capture is refused, 2 usage,
 * 3 the JIT disagreed with the interpreter (a bug: report it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfm.h>

/* The whole of a file, malloc'ed; NULL (and a message) if unreadable. */
static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return NULL;
	}
	size_t cap = 1 << 16, n = 0, got;
	unsigned char *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		fprintf(stderr, "%s: out of memory\n", path);
	*len = n;
	return buf;
}

/* The program in FILTER: assembly is assembled, bytecode loaded as is;
 * both are verified by vfm_program_create. */
static vfm_program_t *load_filter(const char *path)
{
	size_t len, img_len;
	unsigned char *text = read_file(path, &len), *img;
	vfm_program_t *prog = NULL;
	vfm_diag_t diag;
	if (!text)
		return NULL;
	size_t plen = strlen(path);
	if (plen > 4 && strcmp(path + plen - 4, ".vfm") == 0) {
		if (vfm_assemble((const char *)text, len, path, 1, &img, &img_len, &diag) != VFM_OK) {
			fprintf(stderr, "%s\n", diag.message);
			free(text);
			return NULL;
		}
		free(text);
	} else {
		img = text;
		img_len = len;
	}
	if (vfm_program_create(img, img_len, &prog, &diag) != VFM_OK)
		fprintf(stderr, "%s: %s\n", path, diag.message);
	free(img);
	return prog;
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4); /* pcap is in the writer's byte order: this host's */
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: embed FILTER CAPTURE.pcap\n");
		return 2;
	}
	/* The library running must be the major version this was built for. */
	if (vfm_version() >> 16 != VFM_VERSION_MAJOR) {
		fprintf(stderr, "embed: built for libvfm %s, running with major version %u\n",
			VFM_VERSION_STRING, (unsigned)(vfm_version() >> 16));
		return 1;
	}

	vfm_program_t *prog = load_filter(argv[1]);
	size_t cap_len;
	unsigned char *cap = prog ? read_file(argv[2], &cap_len) : NULL;
	if (!cap)
		return 1;
	uint32_t magic = cap_len >= 24 ? get32(cap) : 0;
	if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) {
		fprintf(stderr, "%s: not a pcap file of this byte order\n", argv[2]);
		return 1;
	}
	uint64_t ts_scale = magic == 0xa1b23c4du ? 1 : 1000; /* ns or us */

	/* The packets, pointing into the capture. */
	size_t n = 0, max = cap_len / 16;
	vfm_packet_t *pkts = calloc(max ? max : 1, sizeof *pkts);
	for (size_t off = 24; pkts && off + 16 <= cap_len; n++) {
		uint32_t incl = get32(cap + off + 8);
		if (incl > cap_len - off - 16)
			break; /* the last record is cut off: stop there */
		pkts[n].ts_ns = get32(cap + off) * 1000000000ull + get32(cap + off + 4) * ts_scale;
		pkts[n].len = incl;
		pkts[n].wire_len = get32(cap + off + 12);
		pkts[n].data = cap + off + 16;
		off += 16 + incl;
	}

	/* Two VMs share the one compiled program; each has its flow table. */
	vfm_state_t *interp = vfm_create(), *jit = vfm_create();
	vfm_result_t *r1 = calloc(n ? n : 1, sizeof *r1), *r2 = calloc(n ? n : 1, sizeof *r2);
	if (!pkts || !interp || !jit || !r1 || !r2 || vfm_attach_program(interp, prog) != VFM_OK ||
	    vfm_attach_program(jit, prog) != VFM_OK) {
		fprintf(stderr, "embed: out of memory\n");
		return 1;
	}
	vfm_program_release(prog); /* the VMs hold it now */
	vfm_error_t jit_err = vfm_enable_jit(jit);
	if (vfm_execute_batch(interp, pkts, n, r1) != VFM_OK ||
	    vfm_execute_batch(jit, pkts, n, r2) != VFM_OK) {
		fprintf(stderr, "embed: %s\n", vfm_last_error(interp));
		return 1;
	}

	uint64_t accepted = 0, status[VFM_STATUS_COUNT] = {0};
	for (size_t i = 0; i < n; i++) {
		accepted += r1[i].verdict != 0;
		status[r1[i].status]++;
		if (r1[i].verdict != r2[i].verdict || r1[i].status != r2[i].status ||
		    r1[i].insns != r2[i].insns) {
			fprintf(stderr, "embed: packet %zu: interpreter and %s disagree\n", i + 1,
				jit_err == VFM_OK ? "JIT" : "second VM");
			return 3;
		}
	}
	vfm_flow_stats_t fs;
	vfm_flow_stats(interp, &fs);
	printf("packets=%zu accepted=%llu dropped=%llu ok=%llu bounds=%llu budget=%llu "
	       "flow_entries=%llu\n",
	       n, (unsigned long long)accepted, (unsigned long long)(n - accepted),
	       (unsigned long long)status[VFM_STATUS_OK],
	       (unsigned long long)status[VFM_STATUS_BOUNDS],
	       (unsigned long long)status[VFM_STATUS_BUDGET], (unsigned long long)fs.entries);
	fprintf(stderr, "embed: libvfm %u.%u.%u, JIT %s\n", (unsigned)(vfm_version() >> 16),
		(unsigned)(vfm_version() >> 8 & 0xff), (unsigned)(vfm_version() & 0xff),
		jit_err == VFM_OK ? vfm_jit_arch() : "not used (interpreter twice)");
	vfm_destroy(jit);
	vfm_destroy(interp);
	free(r1);
	free(r2);
	free(pkts);
	free(cap);
	return 0;
}
