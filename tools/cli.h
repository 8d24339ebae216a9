/*
 * tools/cli.h — the command-line layer every tool goes through: option
 * parsing (getopt_long with --help and --version added), consistent error
 * messages ("vfm-asm: message"), the exit codes, and whole-file I/O.
 *
 * One tool is one `struct cli` and a loop:
 *
 *	static struct cli cli = {"vfm-x", usage, "o:", longopts};
 *	while ((c = cli_next(&cli, argc, argv)) != -1)
 *		switch (c) { case 'o': ...; }
 *	// operands: argv[optind..argc)
 *
 * cli_next handles -h/--help (usage on stdout, exit 0), --version
 * ("vfm-x 1.0.0", exit 0) and every malformed option (a message naming
 * it, exit CLI_EXIT_USAGE), so no tool repeats those cases.
 */
#ifndef VFM_CLI_H
#define VFM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vfm.h"

/* The tools' version is the library's: a tool is its build of libvfm, and
 * one number in one place (VFM_VERSION_STRING in vfm.h) cannot drift. */
#define CLI_VERSION VFM_VERSION_STRING

/* Exit codes shared by every tool (documented in README.md). */
enum {
	CLI_EXIT_OK = 0,       /* success (vfm-verify: program accepted) */
	CLI_EXIT_REJECT = 1,   /* input rejected: assembly error, verifier rejection, bad file */
	CLI_EXIT_USAGE = 2,    /* bad command line */
	CLI_EXIT_IO = 3,       /* cannot read or write a file */
};

#define CLI_MAX_LONGOPTS 32

struct cli {
	const char *name;              /* "vfm-asm": messages, --version */
	const char *usage_text;        /* the whole --help text, or: */
	void (*usage)(FILE *f);        /* prints it (when it needs values) */
	const char *shortopts;         /* getopt's, without 'h' */
	const struct option *longopts; /* without help and version; may be NULL */
	/* Filled in by the first cli_next(). */
	char short_all[64];
	struct option long_all[CLI_MAX_LONGOPTS + 3];
};

/* The next option, as getopt_long returns it (optarg set), or -1 when only
 * operands remain: argv[optind..argc), GNU order (options and operands may
 * mix; "--" ends the options).  Never returns 'h', '?' or ':'. */
int cli_next(struct cli *c, int argc, char **argv);

/* Print the usage text to f. */
void cli_usage(const struct cli *c, FILE *f);

/* The operand of a tool that takes exactly one, argv[optind]: with none,
 * the usage on stderr; with more, "more than one input file"; both exit
 * CLI_EXIT_USAGE. */
const char *cli_one_operand(const struct cli *c, int argc, char **argv);

/* For tools without operands: any left is a usage error (exit). */
void cli_no_operands(const struct cli *c, int argc, char **argv);

/* arg (usually optarg) as a number from min to max (decimal, or hex with
 * 0x).  Anything else is a usage error: "name: bad WHAT 'ARG' (HINT)", with
 * "MIN to MAX" when hint is NULL, and exit(CLI_EXIT_USAGE). */
uint64_t cli_number(const struct cli *c, const char *what, const char *arg, uint64_t min,
		    uint64_t max, const char *hint);

/* "name: message (see --help)" on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "prog: message" to stderr. */
void cli_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Read a whole file ("-" = stdin) into a malloc'ed, NUL-terminated buffer.
 * Returns 0 on success; prints an error and returns -1 otherwise. */
int cli_read_file(const char *prog, const char *path, uint8_t **out, size_t *len);

/* Write a buffer to a file ("-" = stdout).  Returns 0 or -1 (error printed). */
int cli_write_file(const char *prog, const char *path, const void *data, size_t len);

/* Parse a whole string as an unsigned number (decimal, or hex with 0x), at
 * most max.  Returns 0, or -1 if it is not such a number. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
