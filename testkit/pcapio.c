/*
 * testkit/pcapio.c — see pcapio.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pcapio.h"

/* "path: reason", without doubling the path when libpcap already put it
 * at the front of its message. */
static void pcapio_err(char *err, const char *path, const char *reason)
{
	size_t n = strlen(path);
	if (strncmp(reason, path, n) == 0 && reason[n] == ':')
		snprintf(err, PCAPIO_ERRBUF, "%s", reason);
	else
		snprintf(err, PCAPIO_ERRBUF, "%s: %s", path, reason);
}

/* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds.  Computed
 * modulo 2^64, so negative and far-future times survive exactly. */
static uint64_t pcapio_ts_ns(const struct timeval *tv)
{
	return (uint64_t)(int64_t)tv->tv_sec * 1000000000u + (uint64_t)(int64_t)tv->tv_usec;
}

struct pcapio_reader {
	pcap_t *p;
	char *path;
	bool truncated;
	bool pcapng;
};

/* pcapng's section header block starts with 0x0A0D0D0A in either byte
 * order; libpcap does not say which format it opened. */
static bool file_is_pcapng(const char *path)
{
	if (strcmp(path, "-") == 0)
		return false; /* cannot peek at a pipe without consuming it */
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	uint8_t m[4];
	bool ng = fread(m, 1, 4, f) == 4 && m[0] == 0x0A && m[1] == 0x0D && m[2] == 0x0D &&
		  m[3] == 0x0A;
	fclose(f);
	return ng;
}

struct pcapio_reader *pcapio_open(const char *path, char *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcapio_reader *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(path))) {
		free(r);
		pcapio_err(err, path, "out of memory");
		return NULL;
	}
	r->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!r->p) {
		pcapio_err(err, path, ebuf[0] ? ebuf : "cannot open capture");
		free(r->path);
		free(r);
		return NULL;
	}
	r->pcapng = file_is_pcapng(path);
	return r;
}

int pcapio_next(struct pcapio_reader *r, struct pcapio_packet *pkt, char *err)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(r->p, &h, &data);
	if (rc == 1) {
		pkt->data = data;
		pkt->caplen = h->caplen;
		pkt->len = h->len;
		pkt->ts_ns = pcapio_ts_ns(&h->ts);
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0; /* end of the capture */
	const char *why = pcap_geterr(r->p);
	/* libpcap's words for a record cut off at the end of the file:
	 * "truncated dump file; ..." (pcap), "truncated pcapng dump file"... */
	r->truncated = strstr(why, "truncated") != NULL;
	pcapio_err(err, r->path, why);
	return -1;
}

bool pcapio_truncated(const struct pcapio_reader *r) { return r->truncated; }
int pcapio_linktype(const struct pcapio_reader *r) { return pcap_datalink(r->p); }
bool pcapio_is_pcapng(const struct pcapio_reader *r) { return r->pcapng; }

uint32_t pcapio_snaplen(const struct pcapio_reader *r)
{
	int snap = pcap_snapshot(r->p);
	return snap > 0 ? (uint32_t)snap : PCAPIO_DEFAULT_SNAPLEN;
}

void pcapio_close(struct pcapio_reader *r)
{
	if (!r)
		return;
	pcap_close(r->p);
	free(r->path);
	free(r);
}

int pcapio_read(const char *path, struct pcapio_capture *cap, char *err)
{
	memset(cap, 0, sizeof *cap);
	struct pcapio_reader *r = pcapio_open(path, err);
	if (!r)
		return -1;
	size_t n = 0, pkts_cap = 1024;
	size_t buf_len = 0, buf_cap = 1 << 20;
	struct pcapio_packet *pkts = malloc(pkts_cap * sizeof *pkts);
	uint8_t *buf = malloc(buf_cap);
	struct pcapio_packet p;
	int rc = 0;
	if (!pkts || !buf)
		goto oom;
	while ((rc = pcapio_next(r, &p, err)) == 1) {
		if (n == pkts_cap) {
			struct pcapio_packet *np = realloc(pkts, 2 * pkts_cap * sizeof *pkts);
			if (!np)
				goto oom;
			pkts = np;
			pkts_cap *= 2;
		}
		if (buf_cap - buf_len < p.caplen) {
			size_t ncap = 2 * buf_cap + p.caplen;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb)
				goto oom;
			buf = nb;
			buf_cap = ncap;
		}
		if (p.caplen)
			memcpy(buf + buf_len, p.data, p.caplen);
		pkts[n] = p;
		pkts[n].data = NULL; /* set below, once buf stops moving */
		n++;
		buf_len += p.caplen;
	}
	if (rc < 0)
		goto fail;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		pkts[i].data = buf + off;
		off += pkts[i].caplen;
	}
	cap->pkts = pkts;
	cap->count = n;
	cap->buf = buf;
	cap->buf_len = buf_len;
	cap->linktype = pcapio_linktype(r);
	cap->snaplen = pcapio_snaplen(r);
	cap->pcapng = pcapio_is_pcapng(r);
	pcapio_close(r);
	return 0;
oom:
	pcapio_err(err, path, "out of memory");
fail:
	pcapio_close(r);
	free(pkts);
	free(buf);
	return -1;
}

void pcapio_free(struct pcapio_capture *cap)
{
	if (!cap)
		return;
	free(cap->pkts);
	free(cap->buf);
	memset(cap, 0, sizeof *cap);
}

const char *pcapio_linktype_name(int linktype)
{
	const char *name = pcap_datalink_val_to_name(linktype);
	return name ? name : "unknown";
}

struct pcapio_writer {
	enum pcapio_format format;
	pcap_t *p;          /* classic pcap: libpcap's dumper */
	pcap_dumper_t *d;
	FILE *f;
	uint32_t snaplen;
	char *path;
	const char *failure; /* first write error, reported at close */
};

/* ---- pcapng (IETF draft-ietf-opsawg-pcapng): one section, one interface
 * with nanosecond resolution, one enhanced packet block per packet, all in
 * this host's byte order (readers detect it from the byte-order magic). */

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void put16(FILE *f, uint16_t v) { fwrite(&v, 2, 1, f); }

/* pcapng stores LINKTYPE_* values; libpcap reports DLT_*, which differ for
 * a few historical types. */
static uint32_t dlt_to_linktype(int dlt)
{
	switch (dlt) {
#ifdef DLT_RAW
	case DLT_RAW: return 101;
#endif
#ifdef DLT_ATM_RFC1483
	case DLT_ATM_RFC1483: return 100;
#endif
#ifdef DLT_ATM_CLIP
	case DLT_ATM_CLIP: return 106;
#endif
	default: return (uint32_t)dlt;
	}
}

static void pcapng_header(FILE *f, int linktype, uint32_t snaplen)
{
	/* Section header block: no options, section length unknown. */
	put32(f, 0x0A0D0D0A);
	put32(f, 28);
	put32(f, 0x1A2B3C4D);
	put16(f, 1);
	put16(f, 0);
	put32(f, 0xFFFFFFFFu);
	put32(f, 0xFFFFFFFFu);
	put32(f, 28);
	/* Interface description block: if_tsresol (code 9) = 9, i.e. 10^-9 s. */
	put32(f, 1);
	put32(f, 32);
	put16(f, (uint16_t)dlt_to_linktype(linktype));
	put16(f, 0);
	put32(f, snaplen);
	put16(f, 9);
	put16(f, 1);
	static const uint8_t tsresol[4] = {9, 0, 0, 0}; /* value byte, padding */
	fwrite(tsresol, 1, 4, f);
	put32(f, 0); /* opt_endofopt */
	put32(f, 32);
}

static void pcapng_packet(FILE *f, const uint8_t *data, uint32_t caplen, uint32_t len,
			  uint64_t ts_ns)
{
	uint32_t pad = (4 - caplen % 4) % 4, total = 32 + caplen + pad;
	static const uint8_t zeros[4];
	put32(f, 6);
	put32(f, total);
	put32(f, 0); /* interface 0 */
	put32(f, (uint32_t)(ts_ns >> 32));
	put32(f, (uint32_t)ts_ns);
	put32(f, caplen);
	put32(f, len);
	if (caplen)
		fwrite(data, 1, caplen, f);
	fwrite(zeros, 1, pad, f);
	put32(f, total);
}

struct pcapio_writer *pcapio_writer_open(const char *path, int linktype,
					 uint32_t snaplen, char *err)
{
	return pcapio_writer_open_format(path, linktype, snaplen, PCAPIO_PCAP, err);
}

struct pcapio_writer *pcapio_writer_open_format(const char *path, int linktype,
						uint32_t snaplen, enum pcapio_format format,
						char *err)
{
	struct pcapio_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->path = strdup(path))) {
		free(w);
		pcapio_err(err, path, "out of memory");
		return NULL;
	}
	w->format = format;
	w->snaplen = snaplen ? snaplen : PCAPIO_DEFAULT_SNAPLEN;
	if (strcmp(path, "-") == 0) {
		/* A duplicate, so closing the file leaves stdout open. */
		int fd = dup(STDOUT_FILENO);
		w->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
		if (!w->f && fd >= 0)
			close(fd);
	} else {
		w->f = fopen(path, "wb");
	}
	if (!w->f) {
		pcapio_err(err, path, strerror(errno));
		goto fail;
	}
	if (format == PCAPIO_PCAPNG) {
		pcapng_header(w->f, linktype, w->snaplen);
		return w;
	}
	w->p = pcap_open_dead_with_tstamp_precision(linktype, (int)w->snaplen,
						    PCAP_TSTAMP_PRECISION_NANO);
	if (!w->p) {
		pcapio_err(err, path, "pcap_open_dead failed");
		goto fail;
	}
	w->d = pcap_dump_fopen(w->p, w->f);
	if (!w->d) {
		pcapio_err(err, path, pcap_geterr(w->p));
		goto fail;
	}
	return w;
fail:
	if (w->f)
		fclose(w->f);
	if (w->p)
		pcap_close(w->p);
	free(w->path);
	free(w);
	return NULL;
}

static FILE *writer_file(const struct pcapio_writer *w)
{
	return w->d ? pcap_dump_file(w->d) : w->f;
}

int pcapio_write(struct pcapio_writer *w, const uint8_t *data, uint32_t caplen,
		 uint32_t len, uint64_t ts_ns)
{
	if (w->failure)
		return -1;
	if (caplen > w->snaplen) {
		/* Readers would cut the packet at the snaplen: refuse instead. */
		w->failure = "packet longer than the snapshot length";
		return -1;
	}
	if (w->format == PCAPIO_PCAPNG) {
		pcapng_packet(w->f, data, caplen, len, ts_ns);
	} else {
		/* Seconds rounded down, so a time before 1970 keeps its
		 * nanoseconds in 0..999999999 as libpcap reads them back. */
		int64_t t = (int64_t)ts_ns;
		int64_t sec = t / 1000000000 - (t % 1000000000 < 0);
		int64_t nsec = t - sec * 1000000000;
		if (sec < INT32_MIN || sec > INT32_MAX) {
			w->failure = "timestamp outside classic pcap's 32-bit seconds (write pcapng)";
			return -1;
		}
		struct pcap_pkthdr h;
		memset(&h, 0, sizeof h);
		h.ts.tv_sec = (time_t)sec;
		h.ts.tv_usec = (suseconds_t)nsec; /* ns: nano dumper */
		h.caplen = caplen;
		h.len = len;
		pcap_dump((u_char *)w->d, &h, data);
	}
	if (ferror(writer_file(w))) {
		w->failure = "write error";
		return -1;
	}
	return 0;
}

int pcapio_writer_close(struct pcapio_writer *w, char *err)
{
	if (!w)
		return 0;
	const char *failure = w->failure;
	int saved_errno = 0;
	FILE *f = writer_file(w);
	/* fwrite errors show in the flush and ferror. */
	if (fflush(f) != 0 || ferror(f)) {
		saved_errno = errno;
		if (!failure)
			failure = "write error";
	}
	if (w->d) {
		pcap_dump_close(w->d); /* closes f */
		pcap_close(w->p);
	} else if (fclose(f) != 0 && !failure) {
		saved_errno = errno;
		failure = "write error";
	}
	int rc = 0;
	if (failure) {
		char reason[256];
		if (saved_errno && strcmp(failure, "write error") == 0)
			snprintf(reason, sizeof reason, "write error: %s", strerror(saved_errno));
		else
			snprintf(reason, sizeof reason, "%s", failure);
		pcapio_err(err, w->path, reason);
		rc = -1;
	}
	free(w->path);
	free(w);
	return rc;
}
