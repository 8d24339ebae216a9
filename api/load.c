/*
 * api/load.c — turning a bytecode file image into an immutable program:
 * parse (vm/format.c) → verify and analyse (verifier/) → pre-decode for
 * the interpreter (vm/predecode.c); the JIT (jit/) compiles on demand (api/vfm.c).  This is
 * the layer above vm/, verifier/ and jit/ that orchestrates them: a
 * program exists only if it verified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/icode.h"
#include "../vm/jit.h"
#include "../vm/program.h"
#include "../verifier/verifier.h"

static void program_free(struct vfm_program *prog)
{
	if (!prog)
		return;
	vfm_jit_free(prog);
	free(prog->insns);
	free(prog->icode);
	free(prog->pc_of);
	free(prog->facts.depth);
	free(prog->facts.flags);
	vfm_facts_states_free(&prog->facts);
	free(prog->facts.warnings);
	free(prog->lines);
	free(prog->source_name);
	free(prog->linktype);
	free(prog->code);
	free(prog);
}

vfm_error_t vfm_program_create(const uint8_t *bytes, size_t len,
			       vfm_program_t **out, vfm_diag_t *diag)
{
	struct vfm_file file;
	if (diag)
		memset(diag, 0, sizeof *diag);
	if (!out)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "out pointer is NULL");
	*out = NULL;
	vfm_error_t err = vfm_file_parse(bytes, len, &file, diag);
	if (err != VFM_OK)
		return err;

	struct vfm_program *prog = calloc(1, sizeof *prog);
	if (!prog)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	prog->refcount = 1;
	prog->code_size = file.code_size;
	prog->code = malloc(file.code_size);
	if (!prog->code)
		goto nomem;
	memcpy(prog->code, file.code, file.code_size);
	if (file.n_lines) {
		prog->lines = malloc(file.n_lines * sizeof *prog->lines);
		if (!prog->lines)
			goto nomem;
		for (uint32_t i = 0; i < file.n_lines; i++) {
			prog->lines[i].pc = vfm_get_le32(file.lines + 8 * i);
			prog->lines[i].line = vfm_get_le32(file.lines + 8 * i + 4);
		}
		prog->n_lines = file.n_lines;
	}
	if (file.source_name) {
		prog->source_name = malloc(file.source_name_len + 1u);
		if (!prog->source_name)
			goto nomem;
		/* The name goes into messages that tools print: no control
		 * characters (terminal escapes, newlines) from a file. */
		for (uint32_t i = 0; i < file.source_name_len; i++) {
			uint8_t c = file.source_name[i];
			prog->source_name[i] = c < 0x20 || c == 0x7F ? '?' : (char)c;
		}
		prog->source_name[file.source_name_len] = '\0';
	}
	if (file.linktype) {
		prog->linktype = malloc(file.linktype_len + 1u);
		if (!prog->linktype)
			goto nomem;
		memcpy(prog->linktype, file.linktype, file.linktype_len);
		prog->linktype[file.linktype_len] = '\0';
	}
	err = vfm_verify(prog, diag);
	if (err != VFM_OK) {
		program_free(prog);
		return err;
	}
	/* Facts first: the abstract interpreter reads the unfused code.  Its
	 * budgets (docs/VERIFIER.md, "Cost") refuse a program too expensive
	 * to verify rather than stall. */
	err = vfm_absint(prog, diag);
	if (err != VFM_OK) {
		program_free(prog);
		return err;
	}
#ifdef VFM_ORACLE
	/* The oracle checks every instruction: no superinstructions. */
	prog->oracle = vfm_oracle_holds;
	bool fuse = false;
#else
	bool fuse = true;
#endif
	if (vfm_predecode(prog, fuse) != VFM_OK)
		goto nomem;
	*out = prog;
	return VFM_OK;
nomem:
	program_free(prog);
	return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
}

/* Read a whole file; the message names the path and the OS reason. */
vfm_error_t vfm_read_file(const char *path, uint8_t **out, size_t *out_len,
			  vfm_diag_t *diag)
{
	*out = NULL;
	*out_len = 0;
	if (!path)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "path is NULL");
	FILE *f = fopen(path, "rb");
	if (!f)
		return vfm_diag_set(diag, VFM_EIO, -1, 0, "%s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= VFM_MAX_FILE_SIZE) {
			free(buf);
			fclose(f);
			return vfm_diag_set(diag, VFM_ETOOBIG, -1, 0,
					    "%s: %u bytes or more; a bytecode file is smaller",
					    path, VFM_MAX_FILE_SIZE);
		}
		uint8_t *bigger = realloc(buf, cap * 2);
		if (!bigger) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = bigger;
		cap *= 2;
	}
	int read_error = ferror(f);
	fclose(f);
	if (!buf)
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "out of memory");
	if (read_error) {
		free(buf);
		return vfm_diag_set(diag, VFM_EIO, -1, 0, "%s: read error", path);
	}
	*out = buf;
	*out_len = n;
	return VFM_OK;
}

vfm_error_t vfm_program_create_file(const char *path, vfm_program_t **out,
				    vfm_diag_t *diag)
{
	uint8_t *bytes;
	size_t len;
	if (out)
		*out = NULL;
	vfm_error_t err = vfm_read_file(path, &bytes, &len, diag);
	if (err != VFM_OK)
		return err;
	err = vfm_program_create(bytes, len, out, diag);
	free(bytes);
	if (err != VFM_OK && diag) {
		/* Prefix the path so a tool can print the message as is. */
		char msg[2 * sizeof diag->message];
		snprintf(msg, sizeof msg, "%s: %s", path, diag->message);
		memcpy(diag->message, msg, sizeof diag->message - 1);
		diag->message[sizeof diag->message - 1] = '\0';
	}
	return err;
}

vfm_program_t *vfm_program_retain(vfm_program_t *prog)
{
	if (prog)
		__atomic_add_fetch(&prog->refcount, 1, __ATOMIC_RELAXED);
	return prog;
}

void vfm_program_release(vfm_program_t *prog)
{
	if (prog && __atomic_sub_fetch(&prog->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		program_free(prog);
}

uint32_t vfm_program_insn_count(const vfm_program_t *prog)
{
	return prog ? prog->n_insns : 0;
}

uint32_t vfm_program_code_size(const vfm_program_t *prog)
{
	return prog ? prog->code_size : 0;
}

uint32_t vfm_program_max_depth(const vfm_program_t *prog)
{
	return prog ? prog->facts.max_depth : 0;
}

const char *vfm_program_linktype(const vfm_program_t *prog)
{
	return prog ? prog->linktype : NULL;
}

/* What the program really holds, allocation by allocation: the struct,
 * the code copy, decoded instructions and pc map (n + 1 each), the facts
 * (depth and flags per instruction, the warnings array as allocated, the
 * per-pc states if a tool asked for them), the line table, the names, and
 * the JIT's pages of both variants as mapped.  malloc's own headers are
 * not counted. */
size_t vfm_program_memory(const vfm_program_t *prog)
{
	if (!prog)
		return 0;
	size_t n = (size_t)prog->n_insns + 1;
	size_t bytes = sizeof *prog + prog->code_size + n * sizeof *prog->insns +
		       (prog->icode ? (n + 1) * sizeof *prog->icode : 0) +
		       n * sizeof *prog->pc_of + n * sizeof *prog->facts.depth +
		       prog->n_lines * sizeof *prog->lines +
		       (prog->source_name ? strlen(prog->source_name) + 1 : 0) +
		       (prog->linktype ? strlen(prog->linktype) + 1 : 0);
	if (prog->facts.flags)
		bytes += prog->n_insns ? prog->n_insns : 1;
	bytes += vfm_facts_extra_bytes(&prog->facts);
	for (int v = 0; v < VFM_JIT_VARIANTS; v++) {
		const struct vfm_jit_code *jit = __atomic_load_n(&prog->jit[v], __ATOMIC_ACQUIRE);
		if (jit)
			bytes += sizeof *jit + jit->map;
	}
	return bytes;
}
