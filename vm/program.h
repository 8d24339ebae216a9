/*
 * vm/program.h — internal representation shared by the loader, the
 * verifier and the engines: opcode metadata derived from opcodes.def, the
 * decoded instruction array, and the facts struct in which the verifier
 * hands what it proved to the engines.
 */
#ifndef VFM_PROGRAM_H
#define VFM_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>

#include "vfm.h"
#include "encoding.h"
#include "facts.h"
#include "opcode.h"

/* A decoded instruction.  Indices ("insn index") count instructions; a pc is
 * a byte offset (pc_of[] maps one to the other). */
struct vfm_insn {
	uint8_t xop;    /* enum vfm_xop (fused form if the decoder fused) */
	uint8_t opcode; /* enum vfm_opcode, as in the file */
	uint8_t aux;    /* LDM/STM: scratch index; jumps: 1 if backward */
	uint8_t pad;
	uint32_t arg;   /* loads: offset k; RET k: verdict; jumps: target index */
	uint64_t imm;   /* PUSH and fused forms: the immediate */
};

/* Per-instruction facts from the abstract interpreter (facts.flags). */
#define VFM_FACT_REACHED 0x01     /* some abstract path reaches it */
#define VFM_FACT_IN_BOUNDS 0x02   /* packet load in bounds on every path */
#define VFM_FACT_ALWAYS_OOB 0x04  /* packet load out of bounds on every path */
#define VFM_FACT_MAY_DIV0 0x08    /* DIV/MOD whose divisor may be zero */
#define VFM_FACT_LOOP_HEAD 0x10   /* target of a backward edge */
#define VFM_FACT_BUDGET_LOOP 0x20 /* loop head from which no RET is reachable */
#define VFM_FACT_BUDGET_ONLY 0x40 /* ... nor a load that may fail: only BUDGET ends it */
#define VFM_FACT_INDEX_NO_WRAP 0x80 /* LOADX: index + k + size cannot wrap 64 bits */

/* Diagnostics that do not reject the program. */
enum vfm_warning_kind {
	VFM_WARN_MAY_OOB,      /* a load that may go out of bounds */
	VFM_WARN_ALWAYS_OOB,   /* a load that always does */
	VFM_WARN_UNREACHABLE,  /* first instruction of unreachable code */
	VFM_WARN_MAY_DIV0,     /* a divisor that may be zero */
	VFM_WARN_BUDGET_LOOP,  /* a loop that only the budget ends */
};

struct vfm_warning {
	uint32_t insn;
	uint8_t kind;
};

/* The abstract state before every reached instruction, kept only when
 * asked for (verifier/verifier.h, vfm_facts_state): at slots + off[i] lie
 * the packet length, the n_scratch tracked scratch words, then the stack
 * from bottom to top (depth[i] words).  Untracked scratch words are 0. */
struct vfm_fact_states {
	uint64_t *off;
	struct vfm_aslot *slots;
	size_t bytes; /* allocated for this object */
};

/*
 * What the verifier proved, for the engines.  Owned by the program.
 * depth[i] is the stack depth before instruction i, or -1 if i is
 * unreachable (the engines never execute it).
 *
 * The abstract interpreter adds flags[] (one byte per instruction) and
 * the warnings.  Its abstract states do not outlive verification: after
 * load the facts cost 3 bytes per instruction (depth, flags) plus 8 per
 * warning (docs/VERIFIER.md, "Cost").  Tools that want the state at a pc
 * ask vfm_facts_state(), which recomputes all of them once and publishes
 * them in `states` (NULL until then).  If the analysis did not run,
 * flags is NULL and nothing is claimed.
 */
struct vfm_facts {
	int16_t *depth;
	uint16_t max_depth;
	bool reads_scratch;   /* some LDM: scratch must be zeroed per packet */
	bool has_backward;    /* some backward jump: budget is live */
	uint32_t reachable;   /* reachable instruction count */

	uint8_t *flags;
	struct vfm_fact_states *states; /* atomic; on demand, see above */
	uint8_t n_scratch;
	struct vfm_warning *warnings;
	uint32_t n_warnings;
	uint32_t loads, loads_in_bounds; /* reached packet loads; proven ones */
	uint64_t work;        /* abstract-interpretation work units spent */
};

/* Does the concrete state (stack bottom to top, scratch, packet length)
 * lie inside the verifier's abstract state before instruction insn? */
struct vfm_program;
typedef bool (*vfm_oracle_fn)(const struct vfm_program *prog, uint32_t insn,
			      const uint64_t *stack, uint32_t depth,
			      const uint64_t *scratch, uint32_t len);

struct vfm_line {
	uint32_t pc, line;
};

/* The JIT compiles each program twice (jit/common.c).  Counting the
 * executed instructions (docs/ISA.md 7.3) costs an add per basic block, so
 * it runs only where a result's insns can be seen: vfm_execute_ex and
 * vfm_execute_batch on a VM that counts.  vfm_execute, which returns only
 * the verdict, and VMs created with no_insns run the code without it. */
enum vfm_jit_variant {
	VFM_JIT_VERDICT,  /* no instruction counting */
	VFM_JIT_COUNTING, /* adds each basic block's length to args->insns */
	/* The same two with constant blinding (VFM_JIT_HARDEN, docs/JIT.md):
	 * VFM_JIT_BLINDED + VFM_JIT_VERDICT or + VFM_JIT_COUNTING. */
	VFM_JIT_BLINDED,
	VFM_JIT_VARIANTS = 2 * VFM_JIT_BLINDED
};

/* One variant's native code.  Immutable once published: the JIT fills it
 * completely, then publishes the pointer with one compare-and-swap
 * (release), so a thread that sees the pointer (acquire) sees code, size
 * and map; nothing writes it again until the program is freed. */
struct vfm_jit_code {
	void *code;  /* read + execute */
	size_t size; /* bytes of code */
	size_t map;  /* bytes mapped */
};

struct vfm_program {
	uint32_t refcount; /* atomic */
	uint32_t n_insns;
	uint32_t code_size;
	struct vfm_insn *insns; /* n_insns + 1: a final TRAP sentinel */
	/* The interpreter's pre-decoded code (vm/icode.h, n_insns + 1
	 * entries) and the scratch words it zeroes per packet (bit i: M[i]
	 * may be read before it is written), built at load time. */
	struct vfm_icode *icode;
	uint16_t scratch_zero;
	uint32_t *pc_of;        /* n_insns + 1: byte offset of each insn */
	struct vfm_facts facts;
	struct vfm_line *lines; /* may be NULL */
	uint32_t n_lines;
	char *source_name;      /* may be NULL */
	char *linktype;         /* link type it was written for, or NULL */
	uint8_t *code;          /* copy of the code section */
	/* The JIT's native code per variant (vm/jit.h): NULL, or an immutable
	 * object published atomically (above).  Read with __atomic_load_n. */
	struct vfm_jit_code *jit[VFM_JIT_VARIANTS];
	/* Runtime oracle (builds with -DVFM_ORACLE): the interpreter asks it
	 * before every instruction; set by the loader, NULL otherwise. */
	vfm_oracle_fn oracle;
};

/* Source line of a pc from the line table, 0 if unknown. */
uint32_t vfm_program_line_of(const struct vfm_program *prog, uint32_t pc);

/* Parsed, unverified file (vm/format.c).  Pointers alias the input. */
struct vfm_file {
	const uint8_t *code;
	uint32_t code_size;
	const uint8_t *lines; /* raw line table, n_lines pairs */
	uint32_t n_lines;
	const uint8_t *source_name;
	uint32_t source_name_len;
	const uint8_t *linktype; /* link-type name ("EN10MB"), or NULL */
	uint32_t linktype_len;
};
/* A valid link-type name: 1..VFM_MAX_LINKTYPE_NAME of [A-Za-z0-9_]. */
bool vfm_linktype_name_ok(const uint8_t *name, size_t len);
vfm_error_t vfm_file_parse(const uint8_t *bytes, size_t len,
			   struct vfm_file *out, vfm_diag_t *diag);
/* Serialise a file image (malloc'ed).  lines, source_name and linktype
 * may be NULL. */
vfm_error_t vfm_file_write(const uint8_t *code, uint32_t code_size,
			   const struct vfm_line *lines, uint32_t n_lines,
			   const char *source_name, const char *linktype, uint8_t **out,
			   size_t *out_len);
uint32_t vfm_crc32(const uint8_t *p, size_t n);
/* Read a whole file into a malloc'ed buffer. */
vfm_error_t vfm_read_file(const char *path, uint8_t **out, size_t *out_len,
			  vfm_diag_t *diag);

/* Fill a diagnostic (printf-style message). */
vfm_error_t vfm_diag_set(vfm_diag_t *diag, vfm_error_t code, int64_t pc,
			 uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define VFM_MAX_STACK 256
#define VFM_SCRATCH_WORDS 16

/* Format the instruction at pc as assembly ("JEQ L12", "PUSH 0x800").  The
 * caller guarantees an instruction of valid opcode fits at pc.  Returns the
 * snprintf-style length. */
int vfm_format_insn(const uint8_t *code, uint32_t code_size, uint32_t pc,
		    char *buf, size_t n);

/* "pc 12 (filter.vfm:5)" / "pc 12 (line 5)" / "pc 12" for messages. */
void vfm_describe_pc(const struct vfm_program *prog, uint32_t pc, char *buf,
		     size_t n);

#define VFM_CFG_NONE UINT32_MAX

/*
 * Successors of instruction i: succ[0] the next instruction (fall-through,
 * or the not-taken edge of a conditional jump), succ[1] the jump target;
 * VFM_CFG_NONE where there is none.  succ[0] may be n (past the end): the
 * structural verifier rejects such programs, the analyses never see one.
 * Derived from the opcode class, switched over without default: a new
 * class names itself here.
 */
void vfm_cfg_succ(const struct vfm_insn *insns, uint32_t i, uint32_t succ[2]);

#endif
