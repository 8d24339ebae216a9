/*
 * vfm.h — public API of libvfm, the Velocity Filter Machine.
 *
 * A filter is VFM bytecode (see docs/ISA.md).  Loading always verifies it;
 * there is no way to run an unverified program.  Two objects:
 *
 *   vfm_program_t  an immutable, verified, compiled program.  Reference
 *                  counted; safe to share between threads once created.
 *   vfm_state_t    a VM: one program plus per-thread mutable state (the
 *                  flow table, configuration, last error).  Use one per
 *                  thread.
 *
 * Threads.  Safe on one program from any number of threads at once, each
 * with its own VM: vfm_program_retain/release (the last release frees
 * it; no thread may use it after its own release), vfm_attach_program,
 * vfm_enable_jit (the first compiles; the native code of each variant is
 * published once, code and size together, and shared), vfm_jit_code,
 * vfm_execute / _ex / _batch, and every vfm_program_* getter.  Not safe:
 * one vfm_state_t used by two threads at once (its flow table, error
 * text and JIT switch are unsynchronised).  tests/test_threads.c checks
 * this under ThreadSanitizer (make test).
 *
 * Conventions
 *   - Functions that can fail return vfm_error_t (VFM_OK == 0) and keep a
 *     human-readable message, retrievable with vfm_last_error(); messages
 *     name the pc and source line where they apply.
 *   - Per-packet outcomes (verdict, status) are never mixed with errors:
 *     a packet's status is a vfm_status_t in vfm_result_t.
 *   - The library never prints and never exits.
 *   - Pointers passed in are borrowed for the duration of the call unless
 *     stated otherwise; objects returned by *_create are owned by the caller
 *     and released with the matching *_destroy / *_release.
 *
 * Quick start:
 *
 *   vfm_state_t *vm = vfm_create();
 *   if (vfm_load_program_file(vm, "filter.bin") != VFM_OK)
 *       fprintf(stderr, "%s\n", vfm_last_error(vm));
 *   uint32_t verdict = vfm_execute(vm, packet, packet_len); // 0 = drop
 *   vfm_destroy(vm);
 */
#ifndef VFM_H
#define VFM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version and ABI promise --------------------------------------------
 *
 * VFM_VERSION_MAJOR.MINOR.PATCH is the library's version; the shared
 * library is libvfm.so.MAJOR (its soname), so a program linked against it
 * keeps working with every later MINOR and PATCH of the same MAJOR.
 *
 *   PATCH  fixes only: no change to any declaration in this header.
 *   MINOR  may add functions, types, macros, error codes, statuses and
 *          vfm_config_t fields appended at the end (a zeroed config keeps
 *          meaning the defaults); nothing is removed, renamed, reordered
 *          or changes meaning.  A program built against MINOR n runs with
 *          any library of MINOR >= n (check vfm_version() at run time if
 *          it needs an addition).
 *   MAJOR  anything else: removing or changing a function, the layout of a
 *          public struct, the value of an error code or status, the
 *          bytecode format version a program file needs.
 *
 * The exported symbols are exactly the VFM_API functions below (a version
 * script and hidden visibility enforce it; tests/check_install.sh checks
 * `nm -D`).  Structures the library allocates (vfm_state_t, vfm_program_t)
 * are opaque and may change in any release.  The static archive and the
 * single header (vfm_single.h) make the same promise at source level.
 */
#define VFM_VERSION_MAJOR 1
#define VFM_VERSION_MINOR 1
#define VFM_VERSION_PATCH 0
/* (MAJOR << 16) | (MINOR << 8) | PATCH: compare with >=. */
#define VFM_VERSION_NUMBER                                                    \
	((VFM_VERSION_MAJOR << 16) | (VFM_VERSION_MINOR << 8) | VFM_VERSION_PATCH)
#define VFM_VERSION_STR2_(x) #x
#define VFM_VERSION_STR_(a, b, c)                                             \
	VFM_VERSION_STR2_(a) "." VFM_VERSION_STR2_(b) "." VFM_VERSION_STR2_(c)
#define VFM_VERSION_STRING                                                    \
	VFM_VERSION_STR_(VFM_VERSION_MAJOR, VFM_VERSION_MINOR, VFM_VERSION_PATCH)

/* Marks the public API: the library is compiled with hidden visibility,
 * so only these functions are exported from a shared build; internal
 * symbols keep out of the user's namespace. */
#if defined(__GNUC__)
#define VFM_API __attribute__((visibility("default")))
#else
#define VFM_API
#endif

/* Error codes: X(NAME, value, description).  Stable numbers. */
#define VFM_ERROR_LIST(X)                                                     \
	X(OK, 0, "success")                                                   \
	X(EINVAL, 1, "invalid argument")                                      \
	X(ENOMEM, 2, "out of memory")                                         \
	X(EIO, 3, "cannot read or write file")                                \
	X(EMAGIC, 4, "not a VFM bytecode file (bad magic)")                   \
	X(EVERSION, 5, "unsupported bytecode format version")                 \
	X(ETRUNCATED, 6, "bytecode file is truncated")                        \
	X(ECORRUPT, 7, "bytecode file is corrupt")                            \
	X(EVERIFY, 8, "program rejected by the verifier")                     \
	X(ENOPROGRAM, 9, "no program loaded")                                 \
	X(EUNSUPPORTED, 10, "not supported on this build or platform")        \
	X(ETOOBIG, 11, "program exceeds a size limit")                        \
	X(EASM, 12, "assembly error")

typedef enum vfm_error {
#define VFM_ERROR_ENUM_(name, value, desc) VFM_##name = value,
	VFM_ERROR_LIST(VFM_ERROR_ENUM_)
#undef VFM_ERROR_ENUM_
} vfm_error_t;

/* Per-packet status: X(NAME, value, description).  Stable numbers. */
#define VFM_STATUS_LIST(X)                                                    \
	X(OK, 0, "program returned a verdict")                                \
	X(BOUNDS, 1, "packet load outside the packet")                        \
	X(BUDGET, 2, "backward-jump budget exhausted")                        \
	X(NOPROGRAM, 3, "no program loaded")

typedef enum vfm_status {
#define VFM_STATUS_ENUM_(name, value, desc) VFM_STATUS_##name = value,
	VFM_STATUS_LIST(VFM_STATUS_ENUM_)
#undef VFM_STATUS_ENUM_
} vfm_status_t;
enum {
#define VFM_STATUS_COUNT_(name, value, desc) +1
	VFM_STATUS_COUNT = 0 VFM_STATUS_LIST(VFM_STATUS_COUNT_)
#undef VFM_STATUS_COUNT_
};

/* Defaults (docs/ISA.md, "Limits and defaults"). */
#define VFM_DEFAULT_FLOW_CAPACITY 16384u /* entries; power of two >= 4 */
#define VFM_DEFAULT_BUDGET 65536u        /* backward jumps per packet */
#define VFM_MAX_FLOW_CAPACITY (1u << 24)

typedef struct vfm_config {
	uint32_t flow_capacity; /* flow-table entries; 0 = default */
	uint32_t budget;        /* backward jumps allowed per packet */
	int budget_set;         /* nonzero: use .budget even if 0 */
	/* Nonzero: vfm_result_t.insns is 0 on every engine, and the JIT runs
	 * code that does not count (one add per basic block less; see
	 * docs/ISA.md 7.3).  vfm_execute never counts: it returns no insns. */
	int no_insns;
} vfm_config_t;

typedef struct vfm_packet {
	const uint8_t *data;
	uint32_t len;
	uint64_t ts_ns; /* timestamp pushed by TS; 0 if unknown */
	/* Length of the packet on the wire, pushed by WLEN (a capture may
	 * hold fewer bytes: then len < wire_len).  0 = unknown: WLEN pushes
	 * len.  Packet loads are always checked against len. */
	uint32_t wire_len;
} vfm_packet_t;

typedef struct vfm_result {
	uint32_t verdict; /* 0 = drop, non-zero = accept */
	vfm_status_t status;
	uint64_t insns; /* instructions executed, including the last one */
} vfm_result_t;

typedef struct vfm_flow_stats {
	uint64_t capacity; /* entries */
	uint64_t entries;  /* entries in use */
	uint64_t hits;     /* FLOW_LOAD that found its key */
	uint64_t misses;   /* FLOW_LOAD that did not */
	uint64_t inserts;  /* FLOW_STORE of a new key */
	uint64_t updates;  /* FLOW_STORE of a present key */
	uint64_t evictions; /* inserts that replaced another key */
} vfm_flow_stats_t;

/* Diagnostic for calls that have no VM to keep a message in. */
typedef struct vfm_diag {
	vfm_error_t code;
	int64_t pc;    /* byte offset in the code section, or -1 */
	uint32_t line; /* source line from the line table, or 0 */
	char message[320];
} vfm_diag_t;

typedef struct vfm_program vfm_program_t;
typedef struct vfm_state vfm_state_t;

/* ---- Programs (immutable, shareable) ---------------------------------- */

/* Parse, verify and compile a bytecode file image.  On failure *out is NULL
 * and diag (may be NULL) says why. */
VFM_API vfm_error_t vfm_program_create(const uint8_t *bytes, size_t len,
			       vfm_program_t **out, vfm_diag_t *diag);
VFM_API vfm_error_t vfm_program_create_file(const char *path, vfm_program_t **out,
				    vfm_diag_t *diag);
/* Reference counting (atomic): retain returns its argument. */
VFM_API vfm_program_t *vfm_program_retain(vfm_program_t *prog);
VFM_API void vfm_program_release(vfm_program_t *prog);
/* Instruction count, code size in bytes, and maximum stack depth. */
VFM_API uint32_t vfm_program_insn_count(const vfm_program_t *prog);
VFM_API uint32_t vfm_program_code_size(const vfm_program_t *prog);
VFM_API uint32_t vfm_program_max_depth(const vfm_program_t *prog);
/* The capture link type the program was written for, as libpcap names it
 * ("EN10MB", "LINUX_SLL"): the file's link-type section (assembly
 * `.linktype NAME`; vfm-asm -e writes it), or NULL if it declares none. */
VFM_API const char *vfm_program_linktype(const vfm_program_t *prog);
/* Bytes of memory the program holds, allocation by allocation: code,
 * decoded instructions, the verifier's facts (about 3 bytes per
 * instruction after load; docs/VERIFIER.md "Cost"), line table, names and
 * the JIT's mapped pages of both variants once compiled. */
VFM_API size_t vfm_program_memory(const vfm_program_t *prog);

/* ---- VMs (per thread) -------------------------------------------------- */

VFM_API vfm_state_t *vfm_create(void); /* default configuration */
/* NULL on invalid configuration or out of memory; diag says which. */
VFM_API vfm_state_t *vfm_create_with(const vfm_config_t *cfg, vfm_diag_t *diag);
VFM_API void vfm_destroy(vfm_state_t *vm);

VFM_API vfm_error_t vfm_load_program(vfm_state_t *vm, const uint8_t *bytes,
			     size_t len);
VFM_API vfm_error_t vfm_load_program_file(vfm_state_t *vm, const char *path);
/* Use an already compiled program (retained by the VM). */
VFM_API vfm_error_t vfm_attach_program(vfm_state_t *vm, vfm_program_t *prog);

/* Compile the loaded program to native code for this CPU and run it from
 * now on, also for programs loaded later.  Returns VFM_EUNSUPPORTED where
 * this build has no JIT for the CPU, or the program cannot be compiled
 * (the message says why); execution then stays interpreted.  Native code
 * gives the same verdict, status, instruction count and flow-table
 * effects as the interpreter.  The compiled code belongs to the program
 * and is shared by every VM that uses it. */
VFM_API vfm_error_t vfm_enable_jit(vfm_state_t *vm);
/* vfm_enable_jit with options (since 1.1; vfm_enable_jit is flags 0).
 * VFM_JIT_HARDEN: constant blinding, as Linux's bpf_jit_harden: no
 * constant of the program (PUSH, RET k, load offsets) appears in the
 * native code; each is emitted XORed with a random key drawn per
 * compilation (getrandom) and decoded by an XOR at run time, so a program
 * cannot plant chosen bytes in executable memory (JIT spraying).  Costs a
 * few instructions per constant and the memory-compare fusions
 * (docs/JIT.md).  Unknown flags: VFM_EINVAL. */
#define VFM_JIT_HARDEN 1u
VFM_API vfm_error_t vfm_enable_jit_ex(vfm_state_t *vm, unsigned flags);
/* Go back to the interpreter. */
VFM_API void vfm_disable_jit(vfm_state_t *vm);
/* The native code vfm_execute_ex runs on this VM (for dumping it to a file
 * for `objdump -b binary -m <machine> -D`, machine from
 * vfm_jit_objdump_arch()): the counting variant unless the VM was created
 * with no_insns (vfm_execute runs the one without counting).
 * VFM_ENOPROGRAM if the VM is not running native code. */
VFM_API vfm_error_t vfm_jit_code(const vfm_state_t *vm, const void **code, size_t *size);
/* The JIT's target in this build ("x86-64" or "arm64"), and objdump's name
 * for it ("i386:x86-64", "aarch64"); NULL where the build has no JIT. */
VFM_API const char *vfm_jit_arch(void);
VFM_API const char *vfm_jit_objdump_arch(void);

/* Run the program on one packet and return its verdict (0 = drop).  A
 * packet that ends with BOUNDS or BUDGET, or a VM without a program, gives
 * 0; use vfm_execute_ex to see the status. */
VFM_API uint32_t vfm_execute(vfm_state_t *vm, const uint8_t *data, uint32_t len);
/* Detailed result; returns VFM_ENOPROGRAM or VFM_EINVAL on misuse. */
VFM_API vfm_error_t vfm_execute_ex(vfm_state_t *vm, const vfm_packet_t *pkt,
			   vfm_result_t *out);
/* Run packets in order (flow state carries over); results[i] for pkts[i]. */
VFM_API vfm_error_t vfm_execute_batch(vfm_state_t *vm, const vfm_packet_t *pkts,
			      size_t count, vfm_result_t *results);

/* Message of the last failed call on this VM ("" if none). */
VFM_API const char *vfm_last_error(const vfm_state_t *vm);
VFM_API vfm_error_t vfm_last_error_code(const vfm_state_t *vm);

VFM_API vfm_error_t vfm_flow_stats(const vfm_state_t *vm, vfm_flow_stats_t *out);
/* Remove every entry and zero the counters. */
VFM_API void vfm_flow_clear(vfm_state_t *vm);
/* Look up a key from the host (no counters change): 1 found, 0 not. */
VFM_API int vfm_flow_peek(const vfm_state_t *vm, uint64_t key, uint64_t *value);
/* Visit entries in table order; stops early if fn returns non-zero. */
VFM_API void vfm_flow_foreach(const vfm_state_t *vm,
		      int (*fn)(uint64_t key, uint64_t value, void *arg),
		      void *arg);
/* Bytes of memory held by one VM (excluding its shared program). */
VFM_API size_t vfm_memory(const vfm_state_t *vm);

/* ---- Assembly and disassembly ------------------------------------------ */

/* Assemble VFM assembly text into a bytecode file image (malloc'ed, freed
 * by the caller with free()).  name is used in messages.  with_debug: also
 * write the debug sections (pc→line table, source name) so that verifier
 * messages name source lines.  On error diag->message is
 * "name:line:col: message". */
VFM_API vfm_error_t vfm_assemble(const char *source, size_t len, const char *name,
			 int with_debug, uint8_t **out, size_t *out_len,
			 vfm_diag_t *diag);
/* Disassemble a bytecode file image to assembly text that re-assembles to
 * the same code (malloc'ed, freed by the caller).  The file is parsed, not
 * verified, so rejected programs can be inspected. */
VFM_API vfm_error_t vfm_disassemble(const uint8_t *bytes, size_t len, char **out,
			    vfm_diag_t *diag);

/* ---- Names --------------------------------------------------------------- */
VFM_API const char *vfm_error_name(vfm_error_t err);   /* "VFM_EVERIFY" */
VFM_API const char *vfm_error_string(vfm_error_t err); /* description */
VFM_API const char *vfm_status_name(vfm_status_t st);  /* "BOUNDS" */

/* The version of the library actually running, as VFM_VERSION_NUMBER
 * (which is the version of the header a program was compiled with):
 * vfm_version() >> 16 is the major version, (>> 8) & 0xff the minor,
 * & 0xff the patch level. */
VFM_API uint32_t vfm_version(void);

/* 64-bit hash of the packet's 5-tuple as HASH5 computes it (docs/ISA.md). */
VFM_API uint64_t vfm_hash5(const uint8_t *data, uint32_t len);


/* ---- Classic BPF (docs/CBPF.md) ------------------------------------------
 *
 * Translation of classic BPF (libpcap's struct bpf_insn, as produced by
 * pcap_compile or `tcpdump -ddd`) into a VFM program that gives exactly the
 * verdict libpcap's bpf_filter() gives, on every packet.  libvfm does not
 * depend on libpcap: the instruction struct is VFM's own, with the same
 * layout, so an array of struct bpf_insn (or Linux's struct sock_filter)
 * can be passed by casting.
 *
 *   uint8_t *img; size_t len; vfm_diag_t d;
 *   if (vfm_from_cbpf((const vfm_cbpf_insn_t *)fp.bf_insns, fp.bf_len,
 *                     NULL, &img, &len, &d) != VFM_OK)
 *           fprintf(stderr, "%s\n", d.message);
 *
 * Equality with bpf_filter(insns, data, wirelen, buflen) holds for the
 * verdict, whatever the status, when VFM runs the packet as
 * vfm_packet_t{.data = data, .len = buflen, .wire_len = wirelen}: an
 * out-of-bounds load ends the VFM program with verdict 0 and status BOUNDS
 * where bpf_filter returns 0; `ld #len` / `ldx #len` read .wire_len (VFM's
 * WLEN; 0 means unknown and reads .len, so vfm_execute() gives the captured
 * length); the backward-jump budget (vfm_config_t.budget) must not run out
 * (libpcap has no limit and loops forever on `ja -1`; `protochain` needs
 * at most buflen / 8 backward jumps, far below the default budget).
 *
 * Errors: validation failures (what libpcap's bpf_validate rejects,
 * opcodes bpf_filter does not implement, and constant shifts by 32 or
 * more, undefined behaviour in bpf_filter) are VFM_EVERIFY; Linux-only loads
 * (negative offsets: SKF_AD_OFF ancillary data, SKF_NET_OFF, SKF_LL_OFF)
 * are VFM_EUNSUPPORTED; more than VFM_CBPF_MAX_INSNS instructions is
 * VFM_ETOOBIG.  The diagnostic's message names the cBPF instruction
 * ("cBPF instruction 3 (jeq #0x800 jt 12 jf 5): jump target 12 is past the
 * end (8 instructions)"), diag->line is its index + 1 and diag->pc is -1.
 */
typedef struct vfm_cbpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
} vfm_cbpf_insn_t;

#define VFM_CBPF_MAX_INSNS 65536u /* instructions per cBPF program */
#define VFM_CBPF_MEMWORDS 16u     /* cBPF scratch words M[0..15] */
/* File section (docs/CBPF.md): the cBPF program a file was translated
 * from, 8 bytes per instruction (u16 code, u8 jt, u8 jf, u32 k, LE). */
#define VFM_SECTION_CBPF 4u

typedef struct vfm_cbpf_options {
	uint32_t flags;          /* VFM_CBPF_* below; 0 = defaults */
	const char *source_name; /* source-name section, e.g. the pcap
				  * expression; NULL = none */
	const char *linktype;    /* link-type section: the link type it was
				  * compiled for, libpcap's name ("EN10MB");
				  * NULL = none */
} vfm_cbpf_options_t;
/* Omit the line table (VFM pc -> cBPF instruction index + 1). */
#define VFM_CBPF_NO_LINES 0x1u
/* Omit the VFM_SECTION_CBPF section. */
#define VFM_CBPF_NO_ORIGIN 0x2u

/* Check a cBPF program as the translation does (bpf_validate's rules, see
 * above); VFM_OK if vfm_from_cbpf would accept it. */
VFM_API vfm_error_t vfm_cbpf_validate(const vfm_cbpf_insn_t *insns, size_t n,
				      vfm_diag_t *diag);
/* Translate to a bytecode file image (malloc'ed, freed by the caller with
 * free()).  opt may be NULL.  By default the image carries a line table
 * (so verifier messages name the cBPF instruction) and the cBPF program
 * itself (VFM_SECTION_CBPF).  The image loads with vfm_load_program and
 * passes the verifier. */
VFM_API vfm_error_t vfm_from_cbpf(const vfm_cbpf_insn_t *insns, size_t n,
			  const vfm_cbpf_options_t *opt, uint8_t **out,
			  size_t *out_len, vfm_diag_t *diag);
/* Translate and load as a program (vfm_program_create on the image). */
VFM_API vfm_error_t vfm_program_from_cbpf(const vfm_cbpf_insn_t *insns, size_t n,
				  const vfm_cbpf_options_t *opt,
				  vfm_program_t **out, vfm_diag_t *diag);
/* Translate and attach to a VM; on failure the VM keeps its previous
 * program and vfm_last_error() has the message. */
VFM_API vfm_error_t vfm_load_cbpf(vfm_state_t *vm, const vfm_cbpf_insn_t *insns,
			  size_t n, const vfm_cbpf_options_t *opt);
/* The cBPF program kept in a file image's VFM_SECTION_CBPF section
 * (malloc'ed array, freed by the caller).  VFM_EINVAL if the file has none;
 * file errors as vfm_program_create reports them. */
VFM_API vfm_error_t vfm_cbpf_from_file(const uint8_t *bytes, size_t len,
			       vfm_cbpf_insn_t **out, size_t *n,
			       vfm_diag_t *diag);
/* One instruction in the format of libpcap's bpf_image() / `tcpdump -d`:
 * "(002) jeq      #0x800           jt 3\tjf 5"; index is its position in
 * the program (jump targets are absolute).  Opcodes bpf_filter does not
 * implement print as "unimp 0xNN".  snprintf-style return value. */
VFM_API int vfm_cbpf_format(const vfm_cbpf_insn_t *insn, uint32_t index, char *buf,
		    size_t n);

#ifdef __cplusplus
}
#endif
#endif
