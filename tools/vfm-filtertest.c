/*
 * vfm-filtertest — libpcap's testprogs/filtertest with VFM doing the
 * filtering: the same command line, output and exit codes, so that
 * libpcap's test driver (testprogs/TESTrun, FILTERTEST_BIN=vfm-filtertest)
 * runs its savefile tests against VFM.
 *
 * The expression is compiled by libpcap (pcap_compile, validated with
 * bpf_validate) exactly as filtertest does.  Without -r the program is
 * printed with libpcap's bpf_dump, after checking that VFM translates and
 * verifies it.  With -r every packet of the savefile is run by VFM (the
 * translation of the cBPF program, docs/CBPF.md) and its verdict printed,
 * where filtertest prints pcap_offline_filter's: the same number for the
 * same packet, or the test fails.
 *
 * Not supported, because they set fields inside libpcap's pcap_t that its
 * API does not reach: -l (Linux BPF extensions; VFM refuses SKF_AD loads
 * anyway), -S (savefile code generation), -g (optimizer debugging).  They
 * exit with EX_USAGE and say so.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "vfm.h"

#define MAX_STDIN (64 * 1024)

static const char *program_name = "vfm-filtertest";

static void __attribute__((noreturn, format(printf, 2, 3))) error(int status, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void __attribute__((noreturn)) usage(FILE *f)
{
	fprintf(f, "%s, VFM %s with %s\n", program_name, VFM_VERSION_STRING, pcap_lib_version());
	fprintf(f,
		"Usage: %s [-dOq] [-F <file>] [-m <netmask>] [-s <snaplen>] <DLT> [<expression>]\n"
		"       (compile a filter expression, validate, translate to VFM and print the\n"
		"       cBPF program)\n"
		"  or:  %s [-O] [-F <file>] [-m <netmask>] -r <file> [<expression>]\n"
		"       (compile a filter expression for the savefile and print VFM's verdict\n"
		"       for each packet, as libpcap's filtertest prints bpf_filter's)\n"
		"  or:  %s -h | --help | --version\n",
		program_name, program_name, program_name);
	if (f != stdout)
		exit(EX_USAGE);
	fprintf(f,
		"\n"
		"  <DLT>           a valid DLT name, e.g. 'EN10MB'\n"
		"  <expression>    a valid filter expression, e.g. 'tcp port 80'\n"
		"  -d              change output format (accumulates, one -d is implicit)\n"
		"  -F <file>       read the filter expression from the file (\"-\": stdin,\n"
		"                  at most %u characters); '#' starts a comment\n"
		"  -m <netmask>    use this IPv4 netmask for pcap_compile, e.g. 255.255.255.0\n"
		"  -O              do not optimize the filter program\n"
		"  -q              do not print the filter program\n"
		"  -r <file>       read the packets from this savefile\n"
		"  -s <snaplen>    set the snapshot length (<= %d)\n"
		"  -l, -S, -g      not supported (they need libpcap internals)\n"
		"\n"
		"Exit status codes:\n"
		"  %3d: All input has been successfully processed.\n"
		"  %3d: libpcap has orderly rejected the filter.\n"
		"  %3d: libpcap has orderly rejected the savefile.\n"
		"  %3d: Unexpected libpcap error, or VFM cannot translate the program.\n"
		"  %3d: Unexpected OS error.\n"
		"  %3d: Unexpected I/O or file format error.\n"
		"  %3d: This executable has been invoked incorrectly.\n",
		MAX_STDIN, 262144, EX_OK, EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, EX_OSERR, EX_IOERR,
		EX_USAGE);
	exit(EX_OK);
}

/* '#' comments become spaces, as filtertest does. */
static void blank_comments(char *cp, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (cp[i] == '#')
			while (i < size && cp[i] != '\n')
				cp[i++] = ' ';
}

static char *read_expression_file(const char *name)
{
	FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
	if (!f)
		error(EX_IOERR, "can't open %s: %s", name, strerror(errno));
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		error(EX_OSERR, "malloc: %s", strerror(errno));
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (f == stdin && n > MAX_STDIN)
			error(EX_IOERR, "received more than %u bytes on stdin", MAX_STDIN);
		if (cap - n - 1 == 0) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				error(EX_OSERR, "realloc: %s", strerror(errno));
			buf = nb;
		}
	}
	if (ferror(f))
		error(EX_IOERR, "read %s: %s", name, strerror(errno));
	if (f != stdin)
		fclose(f);
	blank_comments(buf, n);
	buf[n] = '\0';
	return buf;
}

/* The operands after the options, joined with spaces; NULL if none. */
static char *copy_argv(char **argv)
{
	size_t len = 0;
	for (char **p = argv; *p; p++)
		len += strlen(*p) + 1;
	if (!len)
		return NULL;
	char *buf = malloc(len), *dst = buf;
	if (!buf)
		error(EX_OSERR, "malloc: %s", strerror(errno));
	for (char **p = argv; *p; p++) {
		size_t l = strlen(*p);
		memcpy(dst, *p, l);
		dst += l;
		*dst++ = ' ';
	}
	dst[-1] = '\0';
	return buf;
}

/* The VFM program for fcode; EX_SOFTWARE with the reason if VFM cannot. */
static vfm_program_t *translate(const struct bpf_program *fcode, const char *expr)
{
	vfm_cbpf_options_t opt = {.flags = 0, .source_name = expr};
	vfm_program_t *prog;
	vfm_diag_t diag;
	static vfm_cbpf_insn_t empty; /* pcap_compile never returns 0 insns */
	if (vfm_program_from_cbpf(fcode->bf_len ? (const vfm_cbpf_insn_t *)fcode->bf_insns : &empty,
				  fcode->bf_len, &opt, &prog, &diag) != VFM_OK)
		error(EX_SOFTWARE, "VFM cannot translate the program: %s", diag.message);
	return prog;
}

int main(int argc, char **argv)
{
	int op, dflag = 1, Oflag = 1, qflag = 0;
	const char *infile = NULL, *insavefile = NULL;
	int snaplen = 262144;
	bpf_u_int32 netmask = PCAP_NETMASK_UNKNOWN;
	_Static_assert(sizeof(vfm_cbpf_insn_t) == sizeof(struct bpf_insn),
		       "vfm_cbpf_insn_t has struct bpf_insn's layout");

	/* libpcap filtertest's short options, plus the --help and --version
	 * every VFM tool has (filtertest itself knows neither). */
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		usage(stdout);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s, VFM %s with %s\n", program_name, VFM_VERSION_STRING, pcap_lib_version());
		return 0;
	}
	opterr = 0;
	while ((op = getopt(argc, argv, "hdF:gm:Os:S:lqr:")) != -1) {
		switch (op) {
		case 'h':
			usage(stdout);
		case 'd':
			++dflag;
			break;
		case 'F':
			infile = optarg;
			break;
		case 'r':
			insavefile = optarg;
			break;
		case 'O':
			Oflag = 0;
			break;
		case 'q':
			qflag = 1;
			break;
		case 'm': {
			bpf_u_int32 addr;
			if (inet_pton(AF_INET, optarg, &addr) != 1)
				error(EX_USAGE, "invalid netmask %s", optarg);
			netmask = ntohl(addr);
			break;
		}
		case 's': {
			char *end;
			long v = strtol(optarg, &end, 0);
			if (optarg == end || *end != '\0' || v < 0 || v > 262144)
				error(EX_USAGE, "invalid snaplen %s", optarg);
			snaplen = v == 0 ? 262144 : (int)v;
			break;
		}
		case 'g':
		case 'l':
		case 'S':
			error(EX_USAGE, "-%c is not supported by vfm-filtertest: it needs libpcap internals",
			      op);
		default:
			usage(stderr);
		}
	}

	pcap_t *pd;
	char errbuf[PCAP_ERRBUF_SIZE];
	if (insavefile) {
		if (dflag > 1)
			error(EX_USAGE, "-r is not compatible with -d");
		if (qflag)
			error(EX_USAGE, "-r is not compatible with -q");
		if (snaplen != 262144)
			error(EX_USAGE, "-r is not compatible with -s");
		pd = pcap_open_offline_with_tstamp_precision(insavefile, PCAP_TSTAMP_PRECISION_NANO,
							     errbuf);
		if (!pd)
			error(EX_NOINPUT, "Failed opening: %s", errbuf);
	} else {
		if (optind >= argc)
			usage(stderr);
		if (dflag > 1 && qflag)
			error(EX_USAGE, "-d is not compatible with -q");
		int dlt = pcap_datalink_name_to_val(argv[optind]);
		if (dlt < 0) {
			char *p;
			dlt = (int)strtol(argv[optind], &p, 10);
			if (p == argv[optind] || *p != '\0')
				error(EX_USAGE, "invalid data link type %s", argv[optind]);
		}
		optind++;
		pd = pcap_open_dead(dlt, snaplen);
		if (!pd)
			error(EX_SOFTWARE, "Can't open fake pcap_t");
	}
	char *cmdbuf = infile ? read_expression_file(infile) : copy_argv(&argv[optind]);

	struct bpf_program fcode;
	if (pcap_compile(pd, &fcode, cmdbuf, Oflag, netmask) < 0)
		error(EX_DATAERR, "%s", pcap_geterr(pd));
	if (!bpf_validate(fcode.bf_insns, (int)fcode.bf_len))
		error(EX_SOFTWARE, "Filter doesn't pass validation");
	vfm_program_t *prog = translate(&fcode, cmdbuf);

	if (!insavefile) {
		if (!qflag)
			bpf_dump(&fcode, dflag);
	} else {
		vfm_state_t *vm = vfm_create();
		if (!vm || vfm_attach_program(vm, prog) != VFM_OK)
			error(EX_OSERR, "cannot create a VFM VM");
		struct pcap_pkthdr *h;
		const u_char *d;
		int ret;
		while ((ret = pcap_next_ex(pd, &h, &d)) != PCAP_ERROR_BREAK) {
			if (ret != 1)
				error(EX_IOERR, "pcap_next_ex() failed: %s", pcap_geterr(pd));
			/* bpf_filter(insns, data, wirelen = h->len, buflen = h->caplen). */
			vfm_packet_t pkt = {.data = d, .len = h->caplen, .wire_len = h->len};
			vfm_result_t r;
			if (vfm_execute_ex(vm, &pkt, &r) != VFM_OK)
				error(EX_SOFTWARE, "vfm_execute_ex: %s", vfm_last_error(vm));
			if (r.status == VFM_STATUS_BUDGET)
				error(EX_SOFTWARE, "the program ran out of backward-jump budget");
			printf("%d\n", (int)r.verdict);
		}
		vfm_destroy(vm);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		error(EX_IOERR, "write error on standard output");
	vfm_program_release(prog);
	pcap_freecode(&fcode);
	pcap_close(pd);
	free(cmdbuf);
	return EX_OK;
}
