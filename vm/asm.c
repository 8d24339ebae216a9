/*
 * vm/asm.c — the assembler: VFM assembly text → bytecode file image.
 *
 * Syntax (docs/ISA.md, "Assembly"):
 *   line      := [label ':'] [instruction | directive] [';' comment]
 *   label     := [A-Za-z_.][A-Za-z0-9_.]*
 *   operand   := number | label
 *   number    := decimal | 0x hex | dotted IPv4 (a.b.c.d, as a 32-bit value)
 *   directive := '.byte' number {',' number}   (raw code bytes, so that any
 *                code section, even one the verifier rejects, round-trips)
 *              | '.linktype' NAME               (the capture link type the
 *                program is written for, e.g. EN10MB; a file section)
 * Mnemonics are case-insensitive; labels are case-sensitive.  RET with an
 * operand is RET k.  Every error is "name:line:col: message".
 *
 * Two passes: the first parses every line and assigns pcs (instruction sizes
 * depend only on the opcode), the second resolves labels and emits bytes.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "program.h"

struct asm_item {
	uint32_t line, col;     /* of the mnemonic */
	uint32_t opnd_col;      /* of the operand, 0 if none */
	uint32_t pc;
	int16_t opcode;         /* -1 for .byte */
	uint64_t value;         /* numeric operand */
	const char *label;      /* label operand (points into the source) */
	uint32_t label_len;
	uint32_t n_bytes;       /* .byte: count; bytes at raw_off in raw[] */
	uint32_t raw_off;
};

struct asm_label {
	const char *name;
	uint32_t len;
	uint32_t pc;
	uint32_t line, col;
};

struct asm_ctx {
	const char *name;
	vfm_diag_t *diag;
	struct asm_item *items;
	uint32_t n_items, cap_items;
	struct asm_label *labels; /* open-addressing hash, cap_labels slots */
	uint32_t n_labels, cap_labels;
	uint8_t *raw;             /* .byte payloads */
	uint32_t n_raw, cap_raw;
	uint32_t pc;
	char linktype[VFM_MAX_LINKTYPE_NAME + 1]; /* .linktype, "" if none */
};

__attribute__((format(printf, 4, 5))) static vfm_error_t
asm_error(struct asm_ctx *ctx, uint32_t line, uint32_t col, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return vfm_diag_set(ctx->diag, VFM_EASM, -1, line, "%s:%u:%u: %s", ctx->name,
			    line, col, msg);
}

static int is_ident_start(int c) { return isalpha(c) || c == '_' || c == '.'; }
static int is_ident_char(int c) { return isalnum(c) || c == '_' || c == '.'; }

static uint32_t label_hash(const char *s, uint32_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static struct asm_label *label_slot(struct asm_ctx *ctx, const char *s, uint32_t len)
{
	uint32_t mask = ctx->cap_labels - 1;
	for (uint32_t i = label_hash(s, len) & mask;; i = (i + 1) & mask) {
		struct asm_label *l = &ctx->labels[i];
		if (!l->name || (l->len == len && memcmp(l->name, s, len) == 0))
			return l;
	}
}

static int labels_grow(struct asm_ctx *ctx)
{
	uint32_t old_cap = ctx->cap_labels;
	struct asm_label *old = ctx->labels;
	uint32_t cap = old_cap ? old_cap * 2 : 64;
	ctx->labels = calloc(cap, sizeof *ctx->labels);
	if (!ctx->labels) {
		ctx->labels = old;
		return -1;
	}
	ctx->cap_labels = cap;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i].name)
			*label_slot(ctx, old[i].name, old[i].len) = old[i];
	free(old);
	return 0;
}

static int grow(void **buf, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	uint32_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*buf, (size_t)n * elem);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* Parse a number at s (decimal, 0x hex, or dotted IPv4).  On success stores
 * the value and the end pointer and returns NULL; else returns the reason. */
static const char *parse_number(const char *s, const char *end, uint64_t *out,
				const char **stop)
{
	const char *p = s;
	uint64_t v = 0;
	if (p + 1 < end && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (p >= end || !isxdigit((unsigned char)*p))
			return "expected hex digits after 0x";
		for (; p < end && isxdigit((unsigned char)*p); p++) {
			if (v >> 60)
				return "number does not fit in 64 bits";
			int c = tolower((unsigned char)*p);
			v = v << 4 | (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
		}
	} else {
		if (p >= end || !isdigit((unsigned char)*p))
			return "expected a number";
		unsigned parts = 0;
		uint64_t part = 0, ip = 0;
		for (;;) {
			part = 0;
			const char *digits = p;
			for (; p < end && isdigit((unsigned char)*p); p++) {
				unsigned d = (unsigned)(*p - '0');
				if (part > (UINT64_MAX - d) / 10)
					return "number does not fit in 64 bits";
				part = part * 10 + d;
			}
			if (p == digits)
				return "expected digits in dotted IPv4 address";
			parts++;
			if (p < end && *p == '.' && parts < 4) {
				if (part > 255)
					return "IPv4 address part above 255";
				ip = ip << 8 | part;
				p++;
				continue;
			}
			break;
		}
		if (parts == 1) {
			v = part;
		} else if (parts == 4) {
			if (part > 255)
				return "IPv4 address part above 255";
			v = ip << 8 | part;
		} else {
			return "dotted IPv4 address needs four parts";
		}
	}
	if (p < end && (is_ident_char((unsigned char)*p)))
		return "unexpected character in number";
	*out = v;
	*stop = p;
	return NULL;
}

/* Opcode for a mnemonic; RET picks RETK when it has an operand. */
static int find_opcode(const char *s, uint32_t len, int has_operand)
{
	int found = -1;
	for (int op = 0; op < 256; op++) {
		const struct vfm_opinfo *info = &vfm_opinfo[op];
		if (!info->valid || strlen(info->mnemonic) != len ||
		    strncasecmp(info->mnemonic, s, len) != 0)
			continue;
		found = op;
		if ((info->operand != VFM_OPND_NONE) == (has_operand != 0))
			return op;
	}
	return found;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* Parse one line (without its newline) into ctx. */
static vfm_error_t parse_line(struct asm_ctx *ctx, const char *line, const char *end,
			      uint32_t lineno)
{
	const char *semi = memchr(line, ';', (size_t)(end - line));
	if (semi)
		end = semi;
#define COL(ptr) ((uint32_t)((ptr) - line) + 1u)
	const char *p = skip_space(line, end);
	if (p == end)
		return VFM_OK;
	if (!is_ident_start((unsigned char)*p))
		return asm_error(ctx, lineno, COL(p), "expected a label or an instruction");
	const char *word = p;
	while (p < end && is_ident_char((unsigned char)*p))
		p++;
	uint32_t word_len = (uint32_t)(p - word);
	const char *after = skip_space(p, end);
	if (after < end && *after == ':') {
		/* Label definition. */
		if (ctx->n_labels * 2 >= ctx->cap_labels && labels_grow(ctx) != 0)
			return vfm_diag_set(ctx->diag, VFM_ENOMEM, -1, 0, "out of memory");
		struct asm_label *l = label_slot(ctx, word, word_len);
		if (l->name)
			return asm_error(ctx, lineno, COL(word),
					 "label '%.*s' already defined at line %u",
					 (int)word_len, word, l->line);
		*l = (struct asm_label){word, word_len, ctx->pc, lineno, COL(word)};
		ctx->n_labels++;
		p = skip_space(after + 1, end);
		if (p == end)
			return VFM_OK;
		if (!is_ident_start((unsigned char)*p))
			return asm_error(ctx, lineno, COL(p), "expected an instruction after the label");
		word = p;
		while (p < end && is_ident_char((unsigned char)*p))
			p++;
		word_len = (uint32_t)(p - word);
	}
	const char *opnd = skip_space(p, end);
	if (opnd == p && opnd < end)
		return asm_error(ctx, lineno, COL(p), "unexpected character '%c' after '%.*s'",
				 *p, (int)word_len, word);
	if (word_len == 9 && strncasecmp(word, ".linktype", 9) == 0) {
		/* The link type the program is written for: a file section
		 * that vfm-test checks against the capture's. */
		const char *name = opnd, *q = opnd;
		while (q < end && !isspace((unsigned char)*q))
			q++;
		if (ctx->linktype[0])
			return asm_error(ctx, lineno, COL(word), ".linktype given twice");
		if (!vfm_linktype_name_ok((const uint8_t *)name, (size_t)(q - name)))
			return asm_error(ctx, lineno, COL(name),
					 ".linktype: expected a link-type name such as EN10MB "
					 "(1 to %u letters, digits and '_')",
					 VFM_MAX_LINKTYPE_NAME);
		if (skip_space(q, end) != end)
			return asm_error(ctx, lineno, COL(q), ".linktype: one name only");
		memcpy(ctx->linktype, name, (size_t)(q - name));
		ctx->linktype[q - name] = '\0';
		return VFM_OK;
	}
	if (grow((void **)&ctx->items, &ctx->cap_items, ctx->n_items + 1, sizeof *ctx->items))
		return vfm_diag_set(ctx->diag, VFM_ENOMEM, -1, 0, "out of memory");
	struct asm_item *item = &ctx->items[ctx->n_items];
	memset(item, 0, sizeof *item);
	item->line = lineno;
	item->col = COL(word);
	item->pc = ctx->pc;

	if (word_len == 5 && strncasecmp(word, ".byte", 5) == 0) {
		item->opcode = -1;
		item->raw_off = ctx->n_raw;
		p = opnd;
		for (;;) {
			uint64_t v;
			const char *stop;
			p = skip_space(p, end);
			const char *why = parse_number(p, end, &v, &stop);
			if (why)
				return asm_error(ctx, lineno, COL(p), ".byte: %s", why);
			if (v > 255)
				return asm_error(ctx, lineno, COL(p), ".byte value %llu above 255",
						 (unsigned long long)v);
			if (grow((void **)&ctx->raw, &ctx->cap_raw, ctx->n_raw + 1, 1))
				return vfm_diag_set(ctx->diag, VFM_ENOMEM, -1, 0, "out of memory");
			ctx->raw[ctx->n_raw++] = (uint8_t)v;
			item->n_bytes++;
			p = skip_space(stop, end);
			if (p >= end || *p != ',')
				break;
			p++;
		}
		if (p < end)
			return asm_error(ctx, lineno, COL(p), ".byte: expected ',' or end of line");
		if (item->n_bytes > VFM_MAX_CODE_SIZE - ctx->pc)
			return asm_error(ctx, lineno, item->col, "code exceeds %u bytes",
					 VFM_MAX_CODE_SIZE);
		ctx->pc += item->n_bytes;
		ctx->n_items++;
		return VFM_OK;
	}

	int has_operand = opnd < end;
	int op = find_opcode(word, word_len, has_operand);
	if (op < 0)
		return asm_error(ctx, lineno, COL(word), "unknown instruction '%.*s'",
				 (int)word_len, word);
	const struct vfm_opinfo *info = &vfm_opinfo[op];
	item->opcode = (int16_t)op;
	if (info->operand == VFM_OPND_NONE) {
		if (has_operand)
			return asm_error(ctx, lineno, COL(opnd), "%s takes no operand",
					 info->mnemonic);
	} else if (!has_operand) {
		return asm_error(ctx, lineno, COL(word) + word_len, "%s needs an operand",
				 info->mnemonic);
	} else if (info->operand == VFM_OPND_REL32) {
		item->opnd_col = COL(opnd);
		if (!is_ident_start((unsigned char)*opnd))
			return asm_error(ctx, lineno, COL(opnd), "%s needs a label operand",
					 info->mnemonic);
		p = opnd;
		while (p < end && is_ident_char((unsigned char)*p))
			p++;
		item->label = opnd;
		item->label_len = (uint32_t)(p - opnd);
	} else {
		item->opnd_col = COL(opnd);
		const char *stop;
		const char *why = parse_number(opnd, end, &item->value, &stop);
		if (why)
			return asm_error(ctx, lineno, COL(opnd), "%s", why);
		p = stop;
		uint64_t max = info->operand == VFM_OPND_U8    ? VFM_SCRATCH_WORDS - 1
			       : info->operand == VFM_OPND_U32 ? UINT32_MAX
							       : UINT64_MAX;
		if (item->value > max)
			return asm_error(ctx, lineno, COL(opnd),
					 "%s operand %llu out of range (0..%llu)%s",
					 info->mnemonic, (unsigned long long)item->value,
					 (unsigned long long)max,
					 op == VFM_OPC_RETK ? ": a verdict is 32 bits" : "");
	}
	p = skip_space(p, end);
	if (p < end)
		return asm_error(ctx, lineno, COL(p), "unexpected text after the operand");
	unsigned size = vfm_insn_size((uint8_t)op);
	if (size > VFM_MAX_CODE_SIZE - ctx->pc)
		return asm_error(ctx, lineno, item->col, "code exceeds %u bytes",
				 VFM_MAX_CODE_SIZE);
	ctx->pc += size;
	ctx->n_items++;
	return VFM_OK;
#undef COL
}

/* Second pass: resolve labels and write the code and line table. */
static vfm_error_t emit(struct asm_ctx *ctx, int with_debug, uint8_t **out,
			size_t *out_len)
{
	uint32_t code_size = ctx->pc;
	uint8_t *code = malloc(code_size ? code_size : 1);
	struct vfm_line *lines = malloc(((size_t)ctx->n_items + 1) * sizeof *lines);
	uint32_t n_lines = 0;
	vfm_error_t err = VFM_OK;
	if (!code || !lines) {
		err = vfm_diag_set(ctx->diag, VFM_ENOMEM, -1, 0, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < ctx->n_items; i++) {
		const struct asm_item *item = &ctx->items[i];
		uint8_t *at = code + item->pc;
		lines[n_lines++] = (struct vfm_line){item->pc, item->line};
		if (item->opcode < 0) {
			memcpy(at, ctx->raw + item->raw_off, item->n_bytes);
			continue;
		}
		const struct vfm_opinfo *info = &vfm_opinfo[item->opcode];
		at[0] = (uint8_t)item->opcode;
		switch ((enum vfm_operand_kind)info->operand) {
		case VFM_OPND_NONE:
			break;
		case VFM_OPND_U8:
			at[1] = (uint8_t)item->value;
			break;
		case VFM_OPND_U32:
			vfm_put_le32(at + 1, (uint32_t)item->value);
			break;
		case VFM_OPND_U64:
			vfm_put_le64(at + 1, item->value);
			break;
		case VFM_OPND_REL32: {
			const struct asm_label *l =
				ctx->cap_labels ? label_slot(ctx, item->label, item->label_len) : NULL;
			if (!l || !l->name) {
				err = asm_error(ctx, item->line, item->opnd_col,
						"undefined label '%.*s'", (int)item->label_len,
						item->label);
				goto out;
			}
			if (l->pc >= code_size) {
				err = asm_error(ctx, item->line, item->opnd_col,
						"label '%.*s' (line %u) marks the end of the program, not an instruction",
						(int)item->label_len, item->label, l->line);
				goto out;
			}
			int64_t rel = (int64_t)l->pc - ((int64_t)item->pc + 5);
			vfm_put_le32(at + 1, (uint32_t)(int32_t)rel);
			break;
		}
		}
	}
	/* The link type is not debug information: it is always written. */
	err = vfm_file_write(code, code_size, with_debug ? lines : NULL, n_lines,
			     with_debug ? ctx->name : NULL,
			     ctx->linktype[0] ? ctx->linktype : NULL, out, out_len);
	if (err != VFM_OK)
		vfm_diag_set(ctx->diag, err, -1, 0, "out of memory");
out:
	free(code);
	free(lines);
	return err;
}

vfm_error_t vfm_assemble(const char *source, size_t len, const char *name,
			 int with_debug, uint8_t **out, size_t *out_len,
			 vfm_diag_t *diag)
{
	vfm_diag_t local;
	if (!diag)
		diag = &local;
	memset(diag, 0, sizeof *diag);
	if (!source || !out || !out_len)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "vfm_assemble: NULL argument");
	*out = NULL;
	*out_len = 0;
	struct asm_ctx ctx = {.name = name ? name : "<input>", .diag = diag};
	vfm_error_t err = VFM_OK;
	const char *end = source + len;
	uint32_t lineno = 1;
	for (const char *line = source; line < end && err == VFM_OK; lineno++) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *line_end = nl ? nl : end;
		if (memchr(line, '\0', (size_t)(line_end - line)))
			err = asm_error(&ctx, lineno, 1, "NUL byte in source");
		else
			err = parse_line(&ctx, line, line_end, lineno);
		line = nl ? nl + 1 : end;
	}
	if (err == VFM_OK && ctx.pc == 0)
		err = asm_error(&ctx, lineno > 1 ? lineno - 1 : 1, 1,
				"no instructions: a program needs at least RET");
	if (err == VFM_OK)
		err = emit(&ctx, with_debug, out, out_len);
	free(ctx.items);
	free(ctx.labels);
	free(ctx.raw);
	return err;
}
