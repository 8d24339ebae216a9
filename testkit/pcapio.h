/*
 * testkit/pcapio.h — capture files in and out, through libpcap.
 *
 * Reading loads a whole pcap or pcapng file into memory with nanosecond
 * timestamps.  Writing produces classic pcap with nanosecond timestamps
 * (magic 0xa1b23c4d), which tcpdump, tshark and libpcap >= 1.5 read.
 *
 * Errors are reported as text in a caller-supplied buffer, always naming
 * the file and, where libpcap knows it, libpcap's reason.  Corrupt or
 * truncated files are errors, never crashes.
 */
#ifndef VFM_PCAPIO_H
#define VFM_PCAPIO_H

#include <stddef.h>
#include <stdint.h>

#define PCAPIO_ERRBUF 512
#define PCAPIO_LINKTYPE_ETHERNET 1 /* DLT_EN10MB */
#define PCAPIO_DEFAULT_SNAPLEN 262144u

struct pcapio_packet {
	const uint8_t *data; /* points into pcapio_capture.buf */
	uint32_t caplen;     /* bytes captured (what a filter sees) */
	uint32_t len;        /* length on the wire */
	uint64_t ts_ns;
};

struct pcapio_capture {
	struct pcapio_packet *pkts;
	size_t count;
	int linktype; /* DLT_* as libpcap reports it */
	uint32_t snaplen;
	uint8_t *buf; /* every packet's bytes, one allocation */
	size_t buf_len;
};

/* Read every packet of path.  Returns 0, or -1 with a message in err
 * (PCAPIO_ERRBUF bytes) and *cap empty. */
int pcapio_read(const char *path, struct pcapio_capture *cap, char *err);
void pcapio_free(struct pcapio_capture *cap);

/* Name of a link type ("EN10MB"), or "unknown". */
const char *pcapio_linktype_name(int linktype);

struct pcapio_writer;

/* Create path ("-" = stdout) for packets of the given link type. NULL on
 * error, with the reason in err. */
struct pcapio_writer *pcapio_writer_open(const char *path, int linktype,
					 uint32_t snaplen, char *err);
/* Append one packet; caplen bytes of data, wire length len (>= caplen). */
int pcapio_write(struct pcapio_writer *w, const uint8_t *data, uint32_t caplen,
		 uint32_t len, uint64_t ts_ns);
/* Flush and close; returns -1 with err set if any write failed.  Always
 * frees w. */
int pcapio_writer_close(struct pcapio_writer *w, char *err);

#endif
