/*
 * tools/pcapexpr.h — classic BPF for the tools: pcap-filter expressions
 * compiled by libpcap's pcap_compile, and `tcpdump -ddd` listings.
 *
 * libpcap is loaded on first use (dlopen), so tools that link only libvfm
 * (vfm-asm) start on machines without it and need it only for -e.  The
 * compiler runs on pcap_open_dead, never on a device; the defaults are
 * tcpdump's (link type EN10MB, snaplen 262144, optimizer on, netmask
 * unknown).
 */
#ifndef VFM_TOOLS_PCAPEXPR_H
#define VFM_TOOLS_PCAPEXPR_H

#include <stddef.h>
#include <stdint.h>

#include "vfm.h"

#define PCAPEXPR_ERRBUF 512
#define PCAPEXPR_DEFAULT_SNAPLEN 262144
#define PCAPEXPR_NETMASK_UNKNOWN 0xffffffffu

struct pcapexpr_options {
	int linktype;     /* DLT_* (1 = EN10MB) */
	int snaplen;      /* 0: PCAPEXPR_DEFAULT_SNAPLEN */
	int optimize;     /* pcap_compile's optimize argument */
	uint32_t netmask; /* host byte order; PCAPEXPR_NETMASK_UNKNOWN */
};

void pcapexpr_options_init(struct pcapexpr_options *o);

/* Compile expr to classic BPF (malloc'ed array in *insns, *n entries).
 * Returns 0, or -1 with libpcap's reason (or why libpcap could not be
 * loaded) in err. */
int pcapexpr_compile(const char *expr, const struct pcapexpr_options *o,
		     vfm_cbpf_insn_t **insns, size_t *n, char *err);

/* A link type by libpcap's name ("EN10MB", case-insensitive) or number;
 * -1 if neither (err says why). */
int pcapexpr_linktype(const char *name, char *err);
/* libpcap's name of a link type ("EN10MB"), or NULL. */
const char *pcapexpr_linktype_name(int linktype);

/* Parse `tcpdump -ddd` output: a count line, then "code jt jf k" per
 * instruction, decimal.  Returns 0, or -1 with "line N: reason" in err. */
int pcapexpr_parse_ddd(const char *text, size_t len, vfm_cbpf_insn_t **insns, size_t *n,
		       char *err);

#endif
