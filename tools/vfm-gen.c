/*
 * vfm-gen — write a deterministic synthetic capture (testkit/pktgen.h) as a
 * pcap file with nanosecond timestamps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pcapio.h"
#include "pktgen.h"

static const char *const prog = "vfm-gen";

static const char usage_text[] =
	"usage: vfm-gen [-n COUNT] [-s SEED] [--start-ns NS] [--mean-gap-ns NS]\n"
	"               [--stats] -o OUT.pcap\n"
	"\n"
	"Write COUNT synthetic Ethernet frames to OUT.pcap (\"-\" = stdout) as\n"
	"pcap with nanosecond timestamps.  The same options always give the\n"
	"same bytes, on every host.\n"
	"\n"
	"  -n, --count COUNT     packets to write (default 10000)\n"
	"  -s, --seed SEED       generator seed, decimal or 0x hex (default 1)\n"
	"      --start-ns NS     first timestamp in ns since the epoch\n"
	"                        (default 1700000000000000000)\n"
	"      --mean-gap-ns NS  mean gap between packets (default 10000)\n"
	"      --stats           print how many packets of each kind were written\n"
	"  -o, --output FILE     output capture (required)\n"
	"  -h, --help            this text\n"
	"      --version         print the version\n"
	"\n"
	"Mix: IPv4 TCP/UDP/ICMP with and without IP options, IPv4 fragments,\n"
	"IPv6 TCP/UDP, 802.1Q, ARP, other ethertypes, truncated frames, a SYN\n"
	"flood from 6 sources and bursts from 4 sources (see testkit/pktgen.h).\n"
	"\n"
	"Exit status: 0 success, 2 bad command line, 3 cannot write the file.\n";


int main(int argc, char **argv)
{
	enum { OPT_START = 256, OPT_GAP, OPT_STATS };
	static const struct option longopts[] = {
		{"count", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"output", required_argument, NULL, 'o'},
		{"start-ns", required_argument, NULL, OPT_START},
		{"mean-gap-ns", required_argument, NULL, OPT_GAP},
		{"stats", no_argument, NULL, OPT_STATS},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {.name = prog, .usage_text = usage_text, .shortopts = "n:s:o:",
			  .longopts = longopts};
	struct pktgen_config cfg = {.seed = 1, .count = 10000};
	const char *out_path = NULL;
	int stats = 0;
	int c;
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'n':
			cfg.count = cli_number(&cli, "packet count", optarg, 0, UINT32_MAX, NULL);
			break;
		case 's':
			cfg.seed = cli_number(&cli, "seed", optarg, 0, UINT64_MAX, "an unsigned 64-bit number");
			break;
		case 'o':
			out_path = optarg;
			break;
		case OPT_START:
			cfg.start_ns = cli_number(&cli, "start time", optarg, 1, UINT64_MAX / 2,
						  "ns, 1 to 2^63-1");
			break;
		case OPT_GAP:
			cfg.mean_gap_ns = (uint32_t)cli_number(&cli, "mean gap", optarg, 1, 1000000000u,
							       "ns, 1 to 1000000000");
			break;
		case OPT_STATS:
			stats = 1;
			break;
		}
	}
	cli_no_operands(&cli, argc, argv);
	if (!out_path)
		return cli_usage_error(&cli, "no output file (use -o OUT.pcap)");

	char err[PCAPIO_ERRBUF];
	struct pcapio_writer *w = pcapio_writer_open(out_path, PCAPIO_LINKTYPE_ETHERNET,
						     PCAPIO_DEFAULT_SNAPLEN, err);
	if (!w) {
		cli_error(prog, "%s", err);
		return CLI_EXIT_IO;
	}
	/* Streamed, so memory does not grow with the count. */
	struct pktgen g;
	uint8_t frame[PKTGEN_MAX_FRAME];
	uint64_t kinds[PKTGEN_KIND_COUNT] = {0}, bytes = 0;
	pktgen_init(&g, &cfg);
	for (uint64_t i = 0; i < cfg.count; i++) {
		struct pktgen_packet p;
		pktgen_next(&g, frame, &p);
		kinds[p.kind]++;
		bytes += p.len;
		if (pcapio_write(w, p.data, p.len, p.wire_len, p.ts_ns) != 0)
			break; /* the reason comes from close */
	}
	if (pcapio_writer_close(w, err) != 0) {
		cli_error(prog, "%s", err);
		return CLI_EXIT_IO;
	}
	/* Keep stdout clean when it carries the capture. */
	FILE *info = strcmp(out_path, "-") == 0 ? stderr : stdout;
	fprintf(info, "%s: wrote %llu packets (%llu bytes) to %s, seed %llu\n", prog,
		(unsigned long long)cfg.count, (unsigned long long)bytes, out_path,
		(unsigned long long)cfg.seed);
	if (stats) {
		for (int k = 0; k < PKTGEN_KIND_COUNT; k++)
			fprintf(info, "  %-16s %10llu  %5.1f%%\n", pktgen_kind_name((enum pktgen_kind)k),
				(unsigned long long)kinds[k],
				cfg.count ? 100.0 * (double)kinds[k] / (double)cfg.count : 0.0);
	}
	return CLI_EXIT_OK;
}
