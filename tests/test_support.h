/*
 * tests/test_support.h — helpers shared by the cmocka tests.
 */
#ifndef VFM_TEST_SUPPORT_H
#define VFM_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "vfm.h"

/* Assemble VFM assembly text; fails the current test on error. Returns a
 * malloc'ed file image. */
uint8_t *ts_assemble(const char *source, size_t *len);

/* Assemble and load into a new VM (default config); fails the test on any
 * error. */
vfm_state_t *ts_vm_from_asm(const char *source);

/* Assemble and create a shared program (vfm_program_create); fails the
 * test on any error, naming the source. */
vfm_program_t *ts_program_from_asm(const char *source);
/* Path of a built tool ($VFM_BIN/name, default build/bin/name). */
const char *ts_tool(const char *name);

/* A whole file (malloc'ed, NUL-terminated; its length in *len unless len
 * is NULL); fails the current test if it cannot be read.  Tests run from
 * the repository root, so paths like "examples/x.vfm" work. */
char *ts_read_file(const char *path, size_t *len);

/* Run a shell command, capture stdout+stderr (malloc'ed) and exit status. */
int ts_run(const char *cmd, char **output);

/* Flow-table entries as vfm_flow_foreach (or vfm_ebpf_flow_read) lists
 * them: ts_collect_flow appends (key, value) pairs, keeps the first
 * TS_FLOW_LIST_MAX and counts them all in n. */
#define TS_FLOW_LIST_MAX 4096
struct ts_flow_list {
	uint64_t kv[2 * TS_FLOW_LIST_MAX];
	uint32_t n;
};
int ts_collect_flow(uint64_t key, uint64_t value, void *list);
/* The flow tables of a and b hold the same entries in the same table
 * order (vfm_flow_foreach; the first TS_FLOW_LIST_MAX compared, all
 * counted).  Not reentrant: the lists are static. */
int ts_same_flow_entries(const vfm_state_t *a, const vfm_state_t *b);

#endif
