/*
 * testkit/fileio.h — the one whole-file reader of the tools, tests, fuzz
 * replayers and benchmarks.
 *
 * Each of them used to carry its own loop (fseek/ftell or a doubling
 * buffer); this one reads streams too (pipes, stdin: no seeking), and
 * always leaves a NUL after the data, so text can be used as a C string
 * while binary readers use the length.  It prints nothing: the callers
 * word their own messages (a tool's "vfm-asm: x: ...", a test's failure).
 */
#ifndef VFM_TESTKIT_FILEIO_H
#define VFM_TESTKIT_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Read f to its end into a malloc'ed buffer (*out, NUL-terminated; *len
 * bytes before the NUL).  Returns 0, or -1 with errno set (ENOMEM, or EIO
 * when the stream reports an error); *out is then untouched. */
int fileio_read_stream(FILE *f, uint8_t **out, size_t *len);

/* The same for the file at path (opened "rb", closed again).  Returns 0,
 * or -1 with errno set (from fopen, or as above). */
int fileio_read(const char *path, uint8_t **out, size_t *len);

#endif
