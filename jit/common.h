/*
 * jit/common.h — the target-independent half of the JIT, and the interface
 * a back end implements.
 *
 * The driver (jit/common.c) owns everything a back end would otherwise
 * copy: the feature scan of the program, which instructions get code of
 * their own and which pairs fuse, the basic blocks for instruction
 * counting, the emission buffer, the sizing passes and the final emitting
 * pass with a per-instruction offset check, labels, exit stubs, code
 * memory (W^X, filled with the target's trap pattern), the instruction-
 * cache flush and publication on a shared program.
 *
 * A back end (jit/x86_64.c, ...) is registers, encoders and emitters: it
 * fills a struct vfm_jit_target with one emitter per opcode class, a
 * prologue, an epilogue, exit stubs, a block counter, its fill pattern and
 * its cache flush.  The Makefile links exactly one back end, or
 * jit/none.c where the CPU has none.
 *
 * Emission is deterministic given the offsets of the previous pass: each
 * pass emits the same code, except that a branch's encoding may depend on
 * the distance to its target, which is known from the previous pass (in
 * the first pass every distance reads as 0).  The driver repeats sizing
 * passes until no offset moves, then emits once more into the buffer and
 * checks that every instruction starts where the last sizing pass said.
 */
#ifndef VFM_JIT_COMMON_H
#define VFM_JIT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm/jit.h"
#include "../verifier/hoist.h"

/* What the program needs from the generated code (the feature scan). */
struct vfm_jit_plan {
	bool packet;        /* reads packet bytes (loads, HASH5) */
	bool len;           /* needs the packet length */
	bool args;          /* reads struct vfm_jit_args */
	bool budget;        /* has backward jumps: the budget counter is live */
	bool calls;         /* calls C helpers (HASH5, flow table) */
	bool scratch;       /* uses scratch words */
	bool reads_scratch; /* some LDM: scratch is zeroed at entry */
	/* The scratch words some LDM may read before any STM on its path has
	 * written them (bit i = M[i]): only these need zeroing at entry.
	 * reads_scratch && !zero_mask: every read follows a write. */
	uint16_t zero_mask;
	bool count;         /* counts executed instructions per block */
	unsigned max_depth; /* deepest stack slot + 1 */
};

/* The right operand of a binary ALU op or a compare: the top stack slot,
 * or, for a fused PUSH k, the constant k. */
struct vfm_jit_operand {
	bool is_imm;
	uint64_t imm;
};

struct vfm_jit_ctx;
struct vfm_jit_mem_cmp;

/* A back end.  Emitters write through the vfm_jit_emit* helpers below; for
 * instruction i the stack depth before it is vfm_jit_depth(ctx, i). */
struct vfm_jit_target {
	const char *name;          /* "x86-64" */
	const char *objdump_arch;  /* objdump -m argument for the code */
	uint8_t fill[4];           /* trap instruction that pads code pages */
	unsigned fill_len;
	/* Size of the back end's private state (ctx->arch), zeroed per pass. */
	size_t arch_size;

	/* Decide register use and frame from the plan (once per pass, before
	 * the prologue). */
	void (*setup)(struct vfm_jit_ctx *ctx);
	void (*prologue)(struct vfm_jit_ctx *ctx);
	/* Restore and return; the result (verdict | status << 32) is in the
	 * back end's return register. */
	void (*epilogue)(struct vfm_jit_ctx *ctx);
	/* Exit stub: verdict 0 with `status`; take back `uncount` instructions
	 * that the block counter added but that did not run; then jump to the
	 * epilogue label. */
	void (*exit)(struct vfm_jit_ctx *ctx, vfm_status_t status, uint32_t uncount);
	/* Add n to the executed-instruction counter (at a block's start). */
	void (*count)(struct vfm_jit_ctx *ctx, uint32_t n);

	/* One emitter per opcode class of vm/opcodes.def; each switches over
	 * its class's enum (vm/opcode.h) without default. */
	void (*stack)(struct vfm_jit_ctx *ctx, uint32_t i);
	void (*load)(struct vfm_jit_ctx *ctx, uint32_t i);
	void (*loadx)(struct vfm_jit_ctx *ctx, uint32_t i);
	void (*alu2)(struct vfm_jit_ctx *ctx, uint32_t i, struct vfm_jit_operand b);
	void (*alu1)(struct vfm_jit_ctx *ctx, uint32_t i);
	void (*jmp)(struct vfm_jit_ctx *ctx, uint32_t i);
	void (*jcc)(struct vfm_jit_ctx *ctx, uint32_t i, struct vfm_jit_operand b);
	void (*ret)(struct vfm_jit_ctx *ctx, uint32_t i);
	void (*special)(struct vfm_jit_ctx *ctx, uint32_t i);

	/* Optional (NULL: the driver does without).
	 *
	 * load_jcc: `LDn[X] k; PUSH c; Jcc`, or `LDn[X] k; PUSH m; AND;
	 * PUSH c; Jcc` with m whole bytes, as one compare of packet memory
	 * (struct vfm_jit_mem_cmp) with the constant byte-swapped at compile
	 * time; the instructions between the load and the jump have no code.
	 *
	 * guard + jump: guard hoisting (jit/common.c, hoist_regions): at the
	 * start of a straight-line region, `guard` branches to `label` if
	 * len < need (need <= INT32_MAX), where an exact, fully checked copy
	 * of the region runs; `jump` is an unconditional branch to a code
	 * offset (the checked copy's fall-through back into the body). */
	void (*load_jcc)(struct vfm_jit_ctx *ctx, const struct vfm_jit_mem_cmp *m);
	void (*guard)(struct vfm_jit_ctx *ctx, uint32_t need, uint32_t label);
	void (*jump)(struct vfm_jit_ctx *ctx, size_t target);

	/* Make written code visible to instruction fetch (NULL: coherent). */
	void (*flush)(uint8_t *code, size_t size);
	/* Final check of the emitted code (NULL: none); false rejects it, e.g.
	 * an encoder that met operands it cannot encode left a sentinel. */
	bool (*validate)(const uint8_t *code, size_t size);
};

/* The back end linked into this build, or NULL (jit/none.c). */
const struct vfm_jit_target *vfm_jit_native_target(void);

/* Named labels every program has. */
enum vfm_jit_label {
	VFM_JIT_EPILOGUE,
	VFM_JIT_N_NAMED,
};

struct vfm_jit_labels {
	size_t *pos; /* pos[id]: offset, SIZE_MAX while unbound */
	uint32_t n, cap;
};

struct vfm_jit_exit {
	uint8_t status;   /* vfm_status_t */
	uint32_t uncount; /* instructions to take back */
	uint32_t label;
};

/*
 * A packet field compared with a constant in place (load_jcc): what the
 * driver offers only where one compare of `size` bytes at the load's
 * address + `delta` decides the jump exactly (can_load_jcc): sizes 1, 2
 * and 4, c < 2^(8 size), equality or bit tests (which commute with the
 * byte swap), or any relation on one byte.  The load's own bounds check
 * (or guard) stays at its full width, so a short packet ends as the
 * interpreter ends it.
 */
struct vfm_jit_mem_cmp {
	uint32_t load, jcc; /* the LDn[X] and the Jcc */
	uint32_t delta;     /* bytes from the load's address to the field */
	unsigned size;      /* the field's width: 1, 2 or 4 */
	uint64_t c;         /* the field's value to compare with (big-endian) */
};

#define VFM_JIT_FUSED 2
/* own[i] of a load emitted with the PUSH k and Jcc after it (load_jcc). */
#define VFM_JIT_LOAD_JCC 3

struct vfm_jit_ctx {
	const struct vfm_program *prog;
	const struct vfm_jit_target *target;
	struct vfm_jit_plan plan;
	void *arch;           /* back end's state (target->arch_size bytes) */

	uint8_t *buf;         /* NULL while sizing */
	size_t pos;           /* offset of the next byte */
	unsigned pass;        /* 0, 1, ... */

	uint32_t *insn_off;   /* offset of each instruction (n_insns + 1) */
	uint32_t *prev_off;   /* the same from the previous pass */
	uint8_t *own;         /* own[i]: 0 no code (unreachable, or the second
				 of a fused pair), 1 code, VFM_JIT_FUSED: a
				 PUSH k emitted with the instruction after it */
	uint32_t *block_len;  /* at a block's first instruction: its length */
	uint32_t *rest;       /* instructions after i in its block */
	uint32_t cur;         /* instruction being emitted */

	struct vfm_jit_labels labels, prev_labels;
	uint32_t next_label;  /* labels are numbered in creation order */
	struct vfm_jit_exit *exits;
	uint32_t n_exits, cap_exits;

	/* Branch relaxation (vfm_jit_far): far[s] is set once branch site s
	 * (numbered in emission order, like labels) needed its long form. */
	uint8_t *far;
	uint32_t next_site, cap_far;

	/* Guard hoisting (verifier/hoist.h): the regions and their hoisted
	 * loads; region_label[k] is region k's checked copy (this pass);
	 * slow is true while a checked copy is emitted. */
	struct vfm_hoist hoist;
	uint32_t *region_label;
	bool slow;

	/* Constant blinding (vfm_jit_blind): on for the VFM_JIT_BLINDED
	 * variants; the keys are a function of the compilation's random seed
	 * and the constant's number in the pass, so every pass emits the same
	 * code. */
	bool blind;
	uint64_t blind_seed;
	uint64_t blind_count;

	const char *error;    /* first failure (static text), or NULL */
	uint32_t error_insn;
};

/* ---- emission -------------------------------------------------------------- */

static inline void vfm_jit_emit8(struct vfm_jit_ctx *ctx, uint8_t b)
{
	if (ctx->buf)
		ctx->buf[ctx->pos] = b;
	ctx->pos++;
}
void vfm_jit_emit32(struct vfm_jit_ctx *ctx, uint32_t v); /* little-endian */
void vfm_jit_emit64(struct vfm_jit_ctx *ctx, uint64_t v);

/* Give up on this program with a reason (kept: the first one). */
void vfm_jit_fail(struct vfm_jit_ctx *ctx, const char *why);

/* ---- labels and targets ------------------------------------------------------ */

/* A new label (numbered in creation order, the same in every pass). */
uint32_t vfm_jit_label_new(struct vfm_jit_ctx *ctx);
/* Bind a label (or a named one, enum vfm_jit_label) to the current offset. */
void vfm_jit_label_bind(struct vfm_jit_ctx *ctx, uint32_t label);
/* Offset of a label: this pass's if bound already, else the previous
 * pass's, else the current offset (first pass: distance 0). */
size_t vfm_jit_label_pos(const struct vfm_jit_ctx *ctx, uint32_t label);
/* Offset of instruction i's code, by the same rule. */
size_t vfm_jit_insn_pos(const struct vfm_jit_ctx *ctx, uint32_t i);

/* Label of the exit stub for `status` from instruction i (which began
 * executing): shared by every site with the same status and count
 * correction, emitted after the body. */
uint32_t vfm_jit_exit_label(struct vfm_jit_ctx *ctx, uint32_t i, vfm_status_t status);

/* Signed displacement `to - from` in units of `scale` bytes, checked to
 * fit `bits` bits (two's complement); on failure the compilation fails
 * with `why` and 0 is returned. */
int64_t vfm_jit_disp(struct vfm_jit_ctx *ctx, size_t from, size_t to, unsigned scale,
		     unsigned bits, const char *why);
/* Branch relaxation, for targets whose short branches have a limited
 * reach (AArch64 B.cond/CBZ: +-1 MiB).  Call once per branch site, in the
 * same order in every pass, with whether the short form reaches the
 * target by this pass's estimate; true means: emit the long form.  A site
 * that was long once stays long, so code only grows from pass to pass and
 * the sizing passes settle; the emitting pass makes the same choices as
 * the last sizing pass. */
bool vfm_jit_far(struct vfm_jit_ctx *ctx, bool near_reaches);

/* Does v fit a signed `bits`-bit field? */
static inline bool vfm_jit_fits_signed(int64_t v, unsigned bits)
{
	return v >= -(INT64_C(1) << (bits - 1)) && v < (INT64_C(1) << (bits - 1));
}

/* ---- what the verifier proved, for the emitters ----------------------------- */

/* Stack depth before instruction i (>= 0: the driver emits only reached
 * instructions). */
static inline int vfm_jit_depth(const struct vfm_jit_ctx *ctx, uint32_t i)
{
	return ctx->prog->facts.depth[i];
}
/* Packet load i needs no check where it is being emitted: the verifier
 * proved it in bounds, or (in a region's fast copy) the region's guard
 * covers it. */
bool vfm_jit_load_proven(const struct vfm_jit_ctx *ctx, uint32_t i);
/* Indexed load i: the verifier's interval for its index keeps index + k +
 * size below 2^64 (VFM_FACT_INDEX_NO_WRAP), so no carry check is needed. */
bool vfm_jit_index_no_wrap(const struct vfm_jit_ctx *ctx, uint32_t i);
/* Conditional jump i whose two successors both return a constant (RET k
 * at i + 1 and at the target): the back end may return the select of the
 * two in place, with no branch, as gcc compiles `return a == b` (a
 * data-dependent branch at a filter's end mispredicts on a mixed stream).
 * Not in the counting variant (each RET is a block of its own, counted),
 * nor under blinding (the constants would appear in the code), nor for a
 * backward jump (budget). */
bool vfm_jit_select_ret(const struct vfm_jit_ctx *ctx, uint32_t i, uint32_t *taken,
			uint32_t *fall);
/*
 * Unsigned division by a constant k (DIV and MOD with a fused PUSH k):
 * how both back ends divide without a divide instruction, exact for every
 * 64-bit dividend x (Granlund and Montgomery, "Division by invariant
 * integers using multiplication", 1994: section 4).  mulhi(x, m) is the
 * high 64 bits of the 128-bit product.  x % k is x - q * k in the last two
 * forms, x & (k - 1) in the shift form.
 */
enum vfm_jit_udiv_kind {
	VFM_JIT_UDIV_ZERO,   /* k = 0: x / 0 = 0, x % 0 = x (docs/ISA.md) */
	VFM_JIT_UDIV_SHIFT,  /* k = 2^shift: q = x >> shift */
	VFM_JIT_UDIV_MULHI,  /* q = mulhi(x >> pre_shift, magic) >> shift */
	VFM_JIT_UDIV_MULADD, /* t = mulhi(x, magic); q = (t + ((x - t) >> 1)) >> shift */
};
struct vfm_jit_udiv {
	enum vfm_jit_udiv_kind kind;
	unsigned shift;
	unsigned pre_shift; /* MULHI of an even k: its factor 2^pre_shift first */
	uint64_t magic;
};
struct vfm_jit_udiv vfm_jit_udiv_plan(uint64_t k);
/* The plan evaluated in C: what the emitted code computes (tests). */
uint64_t vfm_jit_udiv_eval(const struct vfm_jit_udiv *plan, uint64_t x);

/* Jump i goes backward (spends budget). */
static inline bool vfm_jit_backward(const struct vfm_jit_ctx *ctx, uint32_t i)
{
	return ctx->prog->insns[i].aux != 0;
}

/* ---- constant blinding (VFM_JIT_HARDEN) --------------------------------------- */

/*
 * The one place that decides how a constant of the program reaches the
 * code.  Without blinding, a back end embeds it as it likes (immediate
 * fields, displacements, fused compares).  With blinding, the driver fuses
 * nothing that would carry a constant (no `PUSH k; op` pairs, no memory
 * compares), and a back end materialises every program constant (PUSH,
 * RET k, a load's offset and end, a hoisting guard's length) through its
 * one constant helper, which asks vfm_jit_blind for the encoding: emit
 * `coded`, then XOR it with `key` at run time.  key is 0 without
 * blinding (emit the value as it is); otherwise it has no zero 16-bit
 * halfword in the constant's width, and is below 2^32 for a constant below
 * 2^32, so 32-bit forms stay usable and no halfword of the value appears
 * unchanged.  Each call draws the next key.
 */
struct vfm_jit_const {
	uint64_t coded;
	uint64_t key;
};
struct vfm_jit_const vfm_jit_blind(struct vfm_jit_ctx *ctx, uint64_t v);
/* May a program constant be an immediate field of an instruction (a
 * displacement, a compare's operand)?  Not under blinding: it goes through
 * the back end's constant helper into a register instead. */
static inline bool vfm_jit_may_embed(const struct vfm_jit_ctx *ctx)
{
	return !ctx->blind;
}

/* ---- code memory -------------------------------------------------------------- */

/* Counts instruction-cache flushes done before publication (tests). */
extern unsigned long vfm_jit_flush_count;
/* Regions whose checks were hoisted, over all compilations (tests). */
extern unsigned long vfm_jit_hoisted_regions;

#endif
