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

static uint64_t pcapio_ts_ns(const struct timeval *tv)
{
	/* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds. */
	if (tv->tv_sec < 0 || tv->tv_usec < 0)
		return 0;
	uint64_t sec = (uint64_t)tv->tv_sec;
	if (sec > (UINT64_MAX - 999999999u) / 1000000000u)
		return UINT64_MAX; /* far future in a corrupt pcapng: saturate */
	return sec * 1000000000u + (uint64_t)tv->tv_usec;
}

int pcapio_read(const char *path, struct pcapio_capture *cap, char *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	memset(cap, 0, sizeof *cap);
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		pcapio_err(err, path, ebuf[0] ? ebuf : "cannot open capture");
		return -1;
	}
	size_t pcap_n = 0, pcap_cap = 1024;
	size_t buf_len = 0, buf_cap = 1 << 20;
	struct pcapio_packet *pkts = malloc(pcap_cap * sizeof *pkts);
	uint8_t *buf = malloc(buf_cap);
	const char *fail = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = 0;
	if (!pkts || !buf)
		fail = "out of memory";
	while (!fail && (rc = pcap_next_ex(p, &h, &data)) == 1) {
		if (pcap_n == pcap_cap) {
			struct pcapio_packet *np = realloc(pkts, 2 * pcap_cap * sizeof *pkts);
			if (!np) {
				fail = "out of memory";
				break;
			}
			pkts = np;
			pcap_cap *= 2;
		}
		if (buf_cap - buf_len < h->caplen) {
			size_t ncap = 2 * buf_cap + h->caplen;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb) {
				fail = "out of memory";
				break;
			}
			buf = nb;
			buf_cap = ncap;
		}
		if (h->caplen)
			memcpy(buf + buf_len, data, h->caplen);
		pkts[pcap_n].data = NULL; /* set below, once buf stops moving */
		pkts[pcap_n].caplen = h->caplen;
		pkts[pcap_n].len = h->len;
		pkts[pcap_n].ts_ns = pcapio_ts_ns(&h->ts);
		pcap_n++;
		buf_len += h->caplen;
	}
	if (!fail && rc == -1)
		fail = pcap_geterr(p); /* e.g. "truncated dump file; ..." */
	if (fail) {
		pcapio_err(err, path, fail);
		pcap_close(p);
		free(pkts);
		free(buf);
		return -1;
	}
	size_t off = 0;
	for (size_t i = 0; i < pcap_n; i++) {
		pkts[i].data = buf + off;
		off += pkts[i].caplen;
	}
	cap->pkts = pkts;
	cap->count = pcap_n;
	cap->buf = buf;
	cap->buf_len = buf_len;
	cap->linktype = pcap_datalink(p);
	int snap = pcap_snapshot(p);
	cap->snaplen = snap > 0 ? (uint32_t)snap : PCAPIO_DEFAULT_SNAPLEN;
	pcap_close(p);
	return 0;
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
	pcap_t *p;
	pcap_dumper_t *d;
	FILE *f;
	uint32_t snaplen;
	char *path;
	const char *failure; /* first write error, reported at close */
};

struct pcapio_writer *pcapio_writer_open(const char *path, int linktype,
					 uint32_t snaplen, char *err)
{
	struct pcapio_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->path = strdup(path))) {
		free(w);
		pcapio_err(err, path, "out of memory");
		return NULL;
	}
	w->snaplen = snaplen ? snaplen : PCAPIO_DEFAULT_SNAPLEN;
	if (strcmp(path, "-") == 0) {
		/* A duplicate, so closing the dumper leaves stdout open. */
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
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof h);
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u); /* ns: nano dumper */
	h.caplen = caplen;
	h.len = len < caplen ? caplen : len;
	pcap_dump((u_char *)w->d, &h, data);
	if (ferror(pcap_dump_file(w->d))) {
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
	/* pcap_dump ignores fwrite errors: the flush and ferror catch them. */
	if (pcap_dump_flush(w->d) != 0 || ferror(pcap_dump_file(w->d))) {
		saved_errno = errno;
		if (!failure)
			failure = "write error";
	}
	pcap_dump_close(w->d);
	pcap_close(w->p);
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
