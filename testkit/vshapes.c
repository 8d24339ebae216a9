/*
 * testkit/vshapes.c — adversarial program shapes for the verifier's cost
 * (testkit/vshapes.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "vshapes.h"
#include "../verifier/verifier.h"

struct sb {
	char *p;
	size_t n, cap;
	uint32_t insns;
	uint64_t bytes; /* code size, upper bound (docs/ISA.md encodings) */
	bool oom;
};

/* Encoded size of one instruction line, an upper bound: opcode byte plus
 * a 64-bit immediate (PUSH), a 32-bit operand (loads, jumps, RET k) or a
 * scratch index. */
static unsigned line_bytes(const char *l)
{
	if (!strncmp(l, "PUSH", 4))
		return 9;
	if (!strncmp(l, "LDM", 3) || !strncmp(l, "STM", 3))
		return 2;
	if (l[0] == 'J' || (!strncmp(l, "LD", 2) && strchr(l, ' ')) || !strncmp(l, "RET ", 4))
		return 5;
	return 1;
}

__attribute__((format(printf, 2, 3))) static void emit(struct sb *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0) {
		b->oom = true;
		return;
	}
	while (b->cap - b->n <= (size_t)k + 1) {
		size_t ncap = b->cap ? b->cap * 2 : 1 << 16;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	/* Lines not ending with ':' are instructions (labels do). */
	for (char *l = b->p + b->n, *e; (e = strchr(l, '\n')); l = e + 1)
		if (e > l && e[-1] != ':') {
			b->insns++;
			b->bytes += line_bytes(l);
		}
	b->n += (size_t)k;
}

/* Room left under the limit for a shape's repeated unit of u instructions,
 * keeping `tail` for the end. */
static bool room(const struct sb *b, uint32_t target, uint32_t u, uint32_t tail)
{
	return !b->oom && b->insns + u + tail <= target &&
	       b->bytes + 9u * (u + tail) <= VFM_MAX_CODE_SIZE;
}

/* 16 scratch counters in a loop, then constants: `reach` selects whether
 * they are reachable (PUSH k; POP after the loop) or dead code after RET. */
static void shape_constants(struct sb *b, uint32_t target, bool reach)
{
	emit(b, "top:\n");
	for (int i = 0; i < 16; i++)
		emit(b, "LDM %d\nPUSH 1\nADD\nSTM %d\n", i, i);
	emit(b, "LDM 0\nPUSH 1000000\nJLT top\n");
	if (!reach)
		emit(b, "RET 1\n");
	for (uint64_t k = 3; room(b, target, 2, 2); k += 7)
		emit(b, reach ? "PUSH %llu\nPOP\n" : "PUSH %llu\nPUSH 0\n", (unsigned long long)k);
	emit(b, "RET 0\n");
}

/* Many loops in sequence, each counting its own scratch word. */
static void shape_loops(struct sb *b, uint32_t target)
{
	for (uint32_t l = 0; room(b, target, 8, 1); l++)
		emit(b, "PUSH 0\nSTM %u\nL%u:\nLDM %u\nPUSH 1\nADD\nDUP\nSTM %u\nPUSH %u\nJLT L%u\n",
		     l % 16, l, l % 16, l % 16, 3 + l % 1000, l);
	emit(b, "RET 1\n");
}

/* A deep stack (250 words) carried through straight-line code. */
static void shape_deep(struct sb *b, uint32_t target)
{
	for (int i = 0; i < 250; i++)
		emit(b, "PUSH %d\n", i);
	for (uint32_t i = 0; room(b, target, 2, 1); i++)
		emit(b, i % 2 ? "PUSH 5\nADD\n" : "DUP\nPOP\n");
	emit(b, "RET\n");
}

/* Diamonds (a join every 7 instructions) at stack depth `depth`. */
static void shape_joins(struct sb *b, uint32_t target, int depth)
{
	for (int i = 0; i < depth; i++)
		emit(b, "LEN\n");
	for (uint32_t j = 0; room(b, target, 7, 1); j++)
		emit(b, "LD8 %u\nPUSH 7\nJGT A%u\nPUSH 1\nPOP\nA%u:\nDUP\nPOP\n", j % 60, j, j);
	emit(b, "RET\n");
}

/* Loops nested 4 deep, repeated: every level counts in its own word. */
static void shape_nested(struct sb *b, uint32_t target)
{
	for (uint32_t r = 0; room(b, target, 48, 1); r++) {
		for (int l = 0; l < 4; l++)
			emit(b, "PUSH 0\nSTM %d\nN%u_%d:\n", l, r, l);
		emit(b, "LD8 0\nPOP\n");
		for (int l = 3; l >= 0; l--)
			emit(b, "LDM %d\nPUSH 1\nADD\nDUP\nSTM %d\nPUSH %d\nJLT N%u_%d\n", l, l,
			     5 + l, r, l);
	}
	emit(b, "RET 1\n");
}

/* Long identity chains: DUP to depth 200, then OVER/SWAP/POP chains and
 * comparisons that refine every copy, with joins between. */
static void shape_chains(struct sb *b, uint32_t target)
{
	emit(b, "LEN\nLEN\n");
	for (int i = 0; i < 198; i++)
		emit(b, i % 3 ? "DUP\n" : "OVER\n");
	for (uint32_t j = 0; room(b, target, 8, 1); j++)
		emit(b, "OVER\nSWAP\nPOP\nDUP\nPUSH %u\nJLT C%u\nDUP\nPOP\nC%u:\n", 60 + j % 40, j, j);
	emit(b, "RET\n");
}

static const char *const names[VSHAPE_COUNT] = {
	"constants-dead", "constants-live", "loops", "deep-stack", "joins", "joins-deep",
	"nested-loops", "dup-over-chains",
};

const char *vshape_name(enum vshape s)
{
	return (unsigned)s < VSHAPE_COUNT ? names[s] : NULL;
}

char *vshape_source(enum vshape s, uint32_t target, uint32_t *insns)
{
	struct sb b = {0};
	if ((unsigned)s >= VSHAPE_COUNT)
		return NULL;
	switch (s) {
	case VSHAPE_CONST_DEAD: shape_constants(&b, target, false); break;
	case VSHAPE_CONST_LIVE: shape_constants(&b, target, true); break;
	case VSHAPE_LOOPS: shape_loops(&b, target); break;
	case VSHAPE_DEEP: shape_deep(&b, target); break;
	case VSHAPE_JOINS: shape_joins(&b, target, 2); break;
	case VSHAPE_JOINS_DEEP: shape_joins(&b, target, 200); break;
	case VSHAPE_NESTED: shape_nested(&b, target); break;
	case VSHAPE_CHAINS: shape_chains(&b, target); break;
	case VSHAPE_COUNT: return NULL;
	}
	emit(&b, "%s", ""); /* keep the buffer terminated */
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	if (insns)
		*insns = b.insns;
	return b.p;
}

uint64_t vshape_work(const vfm_program_t *prog)
{
	return vfm_facts_work(prog);
}
