/*
 * fuzz/replay_main.c — a plain main() for any libFuzzer harness: runs
 * LLVMFuzzerTestOneInput once per file, so that crashes replay without
 * libFuzzer (gcc, valgrind, a debugger) and corpus/ doubles as a
 * regression suite.
 *
 *   replay [-v] [--describe] [--mutate N] PATH...
 *
 * PATH is a file or a directory (walked recursively, in sorted order,
 * skipping dot files).  Exit status 0 when every input ran; a failing
 * input aborts the process (the harness's own checks, or a sanitizer), so
 * the last "replay: FILE" line printed with -v names it.  --describe
 * prints what the harness makes of each input instead of running it
 * (vfm_fuzz_describe, when the harness provides one).  --mutate N also
 * runs N mutants of each input, each made from the last by the harness's
 * own LLVMFuzzerCustomMutator (fuzz_diff's program edits) with seeds
 * derived from the input's number: a fuzzing run without libFuzzer, for
 * builds that have none (the ARM64 cross build under qemu, ci/arm64.sh),
 * and the same mutants on every run.  A failing mutant is written to
 * ./mutant-failed before it runs, so it can be kept as a regression input.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional hooks: weak, so the replayer links with any harness. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void vfm_fuzz_describe(const uint8_t *data, size_t size, FILE *out)
	__attribute__((weak));
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
	__attribute__((weak));

/* Room a mutant may grow to (libFuzzer's default -max_len is 4096). */
#define MUTANT_MAX 4096

static int verbose, describe;
static unsigned long n_run, n_mutants, mutate;

/* The mutants of one input (--mutate), each run on an exact-size copy. */
static int run_mutants(const uint8_t *data, size_t n)
{
	uint8_t *buf = malloc(MUTANT_MAX);
	if (!buf)
		return -1;
	size_t len = n < MUTANT_MAX ? n : MUTANT_MAX;
	memcpy(buf, data, len);
	for (unsigned long k = 0; k < mutate; k++) {
		len = LLVMFuzzerCustomMutator(buf, len, MUTANT_MAX,
					      (unsigned)(n_run * 1000003u + k * 7919u + 1u));
		uint8_t *exact = malloc(len ? len : 1);
		if (!exact)
			break;
		memcpy(exact, buf, len);
		FILE *f = fopen("mutant-failed", "wb");
		if (f) {
			fwrite(exact, 1, len, f);
			fclose(f);
		}
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
		n_mutants++;
	}
	remove("mutant-failed"); /* every mutant ran */
	free(buf);
	return 0;
}

static int run_file(const char *path)
{
	uint8_t *buf;
	size_t n;
	if (fileio_read(path, &buf, &n) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (verbose || describe) {
		printf("replay: %s (%zu bytes)\n", path, n);
		fflush(stdout);
	}
	/* An exact-size copy, so that the harness reading past the input is
	 * caught by ASan as it would be under libFuzzer. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	if (describe) {
		if (vfm_fuzz_describe)
			vfm_fuzz_describe(exact, n, stdout);
		else
			printf("(this harness has no describe hook)\n");
	} else {
		LLVMFuzzerTestOneInput(exact, n);
		if (mutate && run_mutants(exact, n) != 0) {
			free(exact);
			return -1;
		}
	}
	free(exact);
	n_run++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	DIR *d = opendir(path);
	if (!d) {
		perror(path);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **p = realloc(names, cap * sizeof *names);
			if (!p)
				break;
			names = p;
		}
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n])
			break;
		snprintf(names[n], len, "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (run_path(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int rc = 0, paths = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: %s [-v] [--describe] FILE|DIR...\n"
			       "Run the fuzz harness once per input (directories recursively).\n"
			       "  -v          print each input's name before running it\n"
			       "  --describe  decode and disassemble each input instead of running it\n"
			       "  --mutate N  also run N mutants of each input (the harness's custom\n"
			       "              mutator; a failing one is left in ./mutant-failed)\n",
			       argv[0]);
			return 0;
		} else if (!strcmp(a, "-v")) {
			verbose = 1;
		} else if (!strcmp(a, "--describe")) {
			describe = 1;
		} else if (!strcmp(a, "--mutate") && i + 1 < argc) {
			char *end;
			mutate = strtoul(argv[++i], &end, 10);
			if (*end || !LLVMFuzzerCustomMutator) {
				fprintf(stderr, "%s: --mutate N needs a number and a harness with "
						"a custom mutator\n", argv[0]);
				return 2;
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			/* libFuzzer-style flags (-runs=...) are ignored, so the
			 * same command line works for both binaries. */
			continue;
		} else {
			paths++;
			if (run_path(a) != 0)
				rc = 1;
		}
	}
	if (!paths) {
		fprintf(stderr, "usage: %s [-v] [--describe] FILE|DIR... (see --help)\n", argv[0]);
		return 2;
	}
	if (mutate)
		fprintf(stderr, "replay: %lu input%s and %lu mutants ran without failure\n", n_run,
			n_run == 1 ? "" : "s", n_mutants);
	else
		fprintf(stderr, "replay: %lu input%s %s\n", n_run, n_run == 1 ? "" : "s",
			describe ? "described" : "ran without failure");
	return rc;
}
