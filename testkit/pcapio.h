/*
 * testkit/pcapio.h — capture files in and out.
 *
 * Reading goes through libpcap (pcap and pcapng, nanosecond timestamps),
 * one packet at a time: memory does not depend on the capture's size.
 * pcapio_read loads a whole capture for the tools and tests that want one.
 *
 * Writing produces classic pcap with nanosecond timestamps (magic
 * 0xa1b23c4d, through libpcap), which tcpdump, tshark and libpcap >= 1.5
 * read, or pcapng (written here: libpcap has no pcapng writer), which keeps
 * 64-bit timestamps that classic pcap's 32-bit seconds cannot hold.
 *
 * Timestamps are nanoseconds since 1970 as libpcap reads them, kept exactly
 * (modulo 2^64: a time before 1970 is a two's complement negative number).
 * Original lengths are kept as read, even when smaller than the captured
 * length (a corrupt but readable file).
 *
 * Errors are reported as text in a caller-supplied buffer, always naming
 * the file and, where libpcap knows it, libpcap's reason.  Corrupt or
 * truncated files are errors, never crashes.
 */
#ifndef VFM_PCAPIO_H
#define VFM_PCAPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPIO_ERRBUF 512
#define PCAPIO_LINKTYPE_ETHERNET 1 /* DLT_EN10MB */
#define PCAPIO_DEFAULT_SNAPLEN 262144u

struct pcapio_packet {
	const uint8_t *data;
	uint32_t caplen; /* bytes captured (what a filter sees) */
	uint32_t len;    /* length on the wire, as recorded */
	uint64_t ts_ns;  /* ns since 1970, two's complement (see above) */
};

/* ---- Streaming ------------------------------------------------------ */

struct pcapio_reader;

/* Open path ("-" = standard input).  NULL with the reason in err. */
struct pcapio_reader *pcapio_open(const char *path, char *err);
/* The next packet: 1 with *pkt (data valid until the next call), 0 at the
 * end of the capture, -1 with err set if the file goes wrong (every packet
 * returned before was complete; pcapio_truncated says whether the last
 * record was cut off, the usual way a capture ends early). */
int pcapio_next(struct pcapio_reader *r, struct pcapio_packet *pkt, char *err);
bool pcapio_truncated(const struct pcapio_reader *r);
int pcapio_linktype(const struct pcapio_reader *r); /* DLT_* as libpcap reports it */
uint32_t pcapio_snaplen(const struct pcapio_reader *r);
bool pcapio_is_pcapng(const struct pcapio_reader *r); /* false for stdin */
void pcapio_close(struct pcapio_reader *r);

/* ---- Whole captures ------------------------------------------------- */

struct pcapio_capture {
	struct pcapio_packet *pkts; /* data points into buf */
	size_t count;
	int linktype;
	uint32_t snaplen;
	bool pcapng;
	uint8_t *buf; /* every packet's bytes, one allocation */
	size_t buf_len;
};

/* Read every packet of path.  Returns 0, or -1 with a message in err
 * (PCAPIO_ERRBUF bytes) and *cap empty: a truncated file is an error. */
int pcapio_read(const char *path, struct pcapio_capture *cap, char *err);
void pcapio_free(struct pcapio_capture *cap);

/* Name of a link type ("EN10MB"), or "unknown". */
const char *pcapio_linktype_name(int linktype);

/* ---- Writing -------------------------------------------------------- */

enum pcapio_format { PCAPIO_PCAP, PCAPIO_PCAPNG };

struct pcapio_writer;

/* Create path ("-" = stdout) for packets of the given link type. NULL on
 * error, with the reason in err. */
struct pcapio_writer *pcapio_writer_open(const char *path, int linktype,
					 uint32_t snaplen, char *err);
struct pcapio_writer *pcapio_writer_open_format(const char *path, int linktype,
						uint32_t snaplen, enum pcapio_format format,
						char *err);
/* Append one packet; caplen bytes of data, original length len as given.
 * Classic pcap refuses a timestamp its signed 32-bit seconds cannot hold
 * (pcapng holds any). */
int pcapio_write(struct pcapio_writer *w, const uint8_t *data, uint32_t caplen,
		 uint32_t len, uint64_t ts_ns);
/* Flush and close; returns -1 with err set if any write failed.  Always
 * frees w. */
int pcapio_writer_close(struct pcapio_writer *w, char *err);

#endif
