/*
 * tools/cli.c — see cli.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"

/* getopt_long's code for --version: outside the range of short options. */
#define CLI_OPT_VERSION 0x10000

static void cli_setup(struct cli *c)
{
	if (c->short_all[0])
		return;
	/* Leading ':': a missing argument is reported as ':', not '?', so the
	 * two messages can differ. */
	snprintf(c->short_all, sizeof c->short_all, ":%sh", c->shortopts ? c->shortopts : "");
	size_t n = 0;
	for (const struct option *o = c->longopts; o && o->name && n < CLI_MAX_LONGOPTS; o++)
		c->long_all[n++] = *o;
	c->long_all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	c->long_all[n++] = (struct option){"version", no_argument, NULL, CLI_OPT_VERSION};
	c->long_all[n] = (struct option){NULL, 0, NULL, 0};
}

int cli_next(struct cli *c, int argc, char **argv)
{
	cli_setup(c);
	opterr = 0; /* our messages, prefixed with the tool's name */
	int opt = getopt_long(argc, argv, c->short_all, c->long_all, NULL);
	switch (opt) {
	case 'h':
		cli_usage(c, stdout);
		exit(CLI_EXIT_OK);
	case CLI_OPT_VERSION:
		printf("%s %s\n", c->name, CLI_VERSION);
		exit(CLI_EXIT_OK);
	case ':':
	case '?': {
		/* A long option is named as written; a short one by its letter
		 * (it may sit inside a cluster such as -vx). */
		const char *what = opt == ':' ? "needs an argument" : "is unknown";
		const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
		if (strncmp(arg, "--", 2) == 0)
			cli_error(c->name, "option '%s' %s (see --help)", arg, what);
		else
			cli_error(c->name, "option '-%c' %s (see --help)", optopt, what);
		exit(CLI_EXIT_USAGE);
	}
	default:
		return opt;
	}
}

void cli_usage(const struct cli *c, FILE *f)
{
	if (c->usage)
		c->usage(f);
	else
		fputs(c->usage_text, f);
}

const char *cli_one_operand(const struct cli *c, int argc, char **argv)
{
	if (optind == argc) {
		cli_usage(c, stderr);
		exit(CLI_EXIT_USAGE);
	}
	if (argc - optind > 1)
		exit(cli_usage_error(c, "more than one input file"));
	return argv[optind];
}

void cli_no_operands(const struct cli *c, int argc, char **argv)
{
	if (optind < argc)
		exit(cli_usage_error(c, "unexpected argument '%s'", argv[optind]));
}

uint64_t cli_number(const struct cli *c, const char *what, const char *arg, uint64_t min,
		    uint64_t max, const char *hint)
{
	uint64_t v;
	if (cli_parse_u64(arg, max, &v) == 0 && v >= min)
		return v;
	if (hint)
		cli_error(c->name, "bad %s '%s' (%s)", what, arg, hint);
	else
		cli_error(c->name, "bad %s '%s' (%llu to %llu)", what, arg,
			  (unsigned long long)min, (unsigned long long)max);
	exit(CLI_EXIT_USAGE);
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return CLI_EXIT_USAGE;
}

void cli_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_read_file(const char *prog, const char *path, uint8_t **out, size_t *len)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f) {
		cli_error(prog, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = fileio_read_stream(f, out, len);
	int saved = errno;
	if (!is_stdin)
		fclose(f);
	if (rc != 0) {
		cli_error(prog, "%s: %s", path, saved == ENOMEM ? "out of memory" : "read error");
		return -1;
	}
	return 0;
}

int cli_write_file(const char *prog, const char *path, const void *data, size_t len)
{
	int is_stdout = strcmp(path, "-") == 0;
	FILE *f = is_stdout ? stdout : fopen(path, "wb");
	if (!f) {
		cli_error(prog, "%s: %s", path, strerror(errno));
		return -1;
	}
	int failed = fwrite(data, 1, len, f) != len;
	failed |= is_stdout ? fflush(f) != 0 : fclose(f) != 0;
	if (failed) {
		cli_error(prog, "%s: write error: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Unsigned decimal, or hex with 0x; the whole string, no sign. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s || !(base == 16 ? strchr("0123456789abcdefABCDEF", *s) : strchr("0123456789", *s)))
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}
