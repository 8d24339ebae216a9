/*
 * tools/cli.h — small helpers shared by the command-line tools: consistent
 * error messages ("vfm-asm: message"), exit codes, and whole-file I/O.
 */
#ifndef VFM_CLI_H
#define VFM_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes shared by every tool (documented in README.md). */
enum {
	CLI_EXIT_OK = 0,       /* success (vfm-verify: program accepted) */
	CLI_EXIT_REJECT = 1,   /* input rejected: assembly error, verifier rejection, bad file */
	CLI_EXIT_USAGE = 2,    /* bad command line */
	CLI_EXIT_IO = 3,       /* cannot read or write a file */
};

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
