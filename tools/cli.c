/*
 * tools/cli.c — see cli.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap + 1);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *bigger = realloc(buf, cap * 2 + 1);
		if (!bigger) {
			free(buf);
			buf = NULL;
		} else {
			buf = bigger;
			cap *= 2;
		}
	}
	int failed = !buf || ferror(f);
	if (!is_stdin)
		fclose(f);
	if (failed) {
		cli_error(prog, "%s: %s", path, buf ? "read error" : "out of memory");
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
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
