/*
 * testkit/fileio.c — see fileio.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "fileio.h"

int fileio_read_stream(FILE *f, uint8_t **out, size_t *len)
{
	/* Doubling, not fseek/ftell: pipes and stdin cannot seek. */
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
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	if (ferror(f)) {
		free(buf);
		errno = EIO;
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int fileio_read(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	int rc = fileio_read_stream(f, out, len);
	int saved = errno;
	fclose(f);
	errno = saved;
	return rc;
}
