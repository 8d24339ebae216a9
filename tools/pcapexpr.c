/*
 * tools/pcapexpr.c — see pcapexpr.h.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h> /* types and prototypes only: the code is dlopen'ed */

#include "pcapexpr.h"

/* libpcap's entry points this file uses, resolved once. */
static struct {
	int loaded; /* 0 not tried, 1 ok, -1 failed */
	char why[256];
	__typeof__(&pcap_open_dead) open_dead;
	__typeof__(&pcap_compile) compile;
	__typeof__(&pcap_geterr) geterr;
	__typeof__(&pcap_freecode) freecode;
	__typeof__(&pcap_close) close;
	__typeof__(&pcap_datalink_name_to_val) name_to_val;
	__typeof__(&pcap_datalink_val_to_name) val_to_name;
} lib;

static int load_libpcap(char *err)
{
	if (lib.loaded == 0) {
		/* Debian's soname first; other systems' names after. */
		static const char *const names[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so",
						    "libpcap.dylib"};
		void *h = NULL;
		for (size_t i = 0; !h && i < sizeof names / sizeof names[0]; i++)
			h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			snprintf(lib.why, sizeof lib.why,
				 "cannot load libpcap to compile the expression (%s); install it "
				 "(Debian: libpcap0.8)", dlerror());
			lib.loaded = -1;
		} else {
#define RESOLVE(field, sym)                                                      \
	do {                                                                     \
		*(void **)&lib.field = dlsym(h, #sym);                           \
		if (!lib.field && lib.loaded == 0) {                             \
			snprintf(lib.why, sizeof lib.why, "libpcap lacks %s", #sym); \
			lib.loaded = -1;                                         \
		}                                                                \
	} while (0)
			RESOLVE(open_dead, pcap_open_dead);
			RESOLVE(compile, pcap_compile);
			RESOLVE(geterr, pcap_geterr);
			RESOLVE(freecode, pcap_freecode);
			RESOLVE(close, pcap_close);
			RESOLVE(name_to_val, pcap_datalink_name_to_val);
			RESOLVE(val_to_name, pcap_datalink_val_to_name);
#undef RESOLVE
			if (lib.loaded == 0)
				lib.loaded = 1;
		}
	}
	if (lib.loaded < 0 && err)
		snprintf(err, PCAPEXPR_ERRBUF, "%s", lib.why);
	return lib.loaded > 0 ? 0 : -1;
}

void pcapexpr_options_init(struct pcapexpr_options *o)
{
	o->linktype = 1; /* DLT_EN10MB */
	o->snaplen = PCAPEXPR_DEFAULT_SNAPLEN;
	o->optimize = 1;
	o->netmask = PCAPEXPR_NETMASK_UNKNOWN;
}

int pcapexpr_compile(const char *expr, const struct pcapexpr_options *o,
		     vfm_cbpf_insn_t **insns, size_t *n, char *err)
{
	*insns = NULL;
	*n = 0;
	if (load_libpcap(err) != 0)
		return -1;
	pcap_t *p = lib.open_dead(o->linktype, o->snaplen ? o->snaplen : PCAPEXPR_DEFAULT_SNAPLEN);
	if (!p) {
		snprintf(err, PCAPEXPR_ERRBUF, "pcap_open_dead failed for link type %d", o->linktype);
		return -1;
	}
	struct bpf_program fp;
	if (lib.compile(p, &fp, expr, o->optimize, o->netmask) != 0) {
		snprintf(err, PCAPEXPR_ERRBUF, "%s", lib.geterr(p));
		lib.close(p);
		return -1;
	}
	int rc = 0;
	*insns = malloc((fp.bf_len ? fp.bf_len : 1) * sizeof **insns);
	if (!*insns) {
		snprintf(err, PCAPEXPR_ERRBUF, "out of memory");
		rc = -1;
	} else {
		for (unsigned i = 0; i < fp.bf_len; i++)
			(*insns)[i] = (vfm_cbpf_insn_t){fp.bf_insns[i].code, fp.bf_insns[i].jt,
							fp.bf_insns[i].jf, fp.bf_insns[i].k};
		*n = fp.bf_len;
	}
	lib.freecode(&fp);
	lib.close(p);
	return rc;
}

int pcapexpr_linktype(const char *name, char *err)
{
	char *end;
	errno = 0;
	long v = strtol(name, &end, 10);
	if (*name && !*end && !errno && v >= 0 && v <= 0xFFFF)
		return (int)v;
	if (load_libpcap(err) != 0)
		return -1;
	int dlt = lib.name_to_val(name);
	if (dlt < 0)
		snprintf(err, PCAPEXPR_ERRBUF,
			 "unknown link type '%s' (libpcap's names: EN10MB, LINUX_SLL, RAW, ...)", name);
	return dlt;
}

const char *pcapexpr_linktype_name(int linktype)
{
	if (load_libpcap(NULL) != 0)
		return linktype == 1 ? "EN10MB" : NULL;
	return lib.val_to_name(linktype);
}

/* One decimal field; advances *p.  -1 if none or out of range. */
static int ddd_field(const char **p, const char *end, uint64_t max, uint64_t *out)
{
	const char *q = *p;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q == end || !isdigit((unsigned char)*q))
		return -1;
	uint64_t v = 0;
	while (q < end && isdigit((unsigned char)*q)) {
		v = v * 10 + (uint64_t)(*q - '0');
		if (v > max)
			return -1;
		q++;
	}
	*p = q;
	*out = v;
	return 0;
}

int pcapexpr_parse_ddd(const char *text, size_t len, vfm_cbpf_insn_t **insns, size_t *n,
		       char *err)
{
	*insns = NULL;
	*n = 0;
	const char *p = text, *end = text + len;
	uint64_t count = 0;
	size_t line = 0, have = 0;
	vfm_cbpf_insn_t *out = NULL;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		line++;
		const char *q = p;
		while (q < eol && isspace((unsigned char)*q))
			q++;
		if (q == eol) { /* blank line */
			p = eol + (eol < end);
			continue;
		}
		uint64_t f[4];
		if (!out) {
			if (ddd_field(&q, eol, VFM_CBPF_MAX_INSNS, &count) != 0 || count == 0)
				goto bad_count;
			out = calloc(count, sizeof *out);
			if (!out) {
				snprintf(err, PCAPEXPR_ERRBUF, "out of memory");
				return -1;
			}
		} else {
			if (have == count) {
				snprintf(err, PCAPEXPR_ERRBUF,
					 "line %zu: more instructions than the count (%llu) says", line,
					 (unsigned long long)count);
				goto fail;
			}
			if (ddd_field(&q, eol, 0xFFFF, &f[0]) || ddd_field(&q, eol, 0xFF, &f[1]) ||
			    ddd_field(&q, eol, 0xFF, &f[2]) || ddd_field(&q, eol, 0xFFFFFFFFu, &f[3])) {
				snprintf(err, PCAPEXPR_ERRBUF,
					 "line %zu: expected \"code jt jf k\" (decimal, as tcpdump -ddd prints)",
					 line);
				goto fail;
			}
			out[have++] = (vfm_cbpf_insn_t){(uint16_t)f[0], (uint8_t)f[1], (uint8_t)f[2],
							(uint32_t)f[3]};
		}
		while (q < eol && isspace((unsigned char)*q))
			q++;
		if (q != eol) {
			snprintf(err, PCAPEXPR_ERRBUF, "line %zu: unexpected text after the numbers", line);
			goto fail;
		}
		p = eol + (eol < end);
	}
	if (!out) {
	bad_count:
		snprintf(err, PCAPEXPR_ERRBUF,
			 "line %zu: expected the instruction count (1 to %u) that tcpdump -ddd prints first",
			 line ? line : 1, VFM_CBPF_MAX_INSNS);
		goto fail;
	}
	if (have != count) {
		snprintf(err, PCAPEXPR_ERRBUF, "the count says %llu instructions, the text has %zu",
			 (unsigned long long)count, have);
		goto fail;
	}
	*insns = out;
	*n = have;
	return 0;
fail:
	free(out);
	return -1;
}
