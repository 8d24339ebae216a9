/*
 * ebpf/elf.h — eBPF programs as an ELF64 relocatable object (EM_BPF,
 * little-endian) that libbpf, `bpftool prog load[all]` and `ip link set
 * dev D xdp obj F.o sec xdp` accept.  Our own small writer: the library
 * does not depend on libbpf.  docs/EBPF.md ("The ELF object") describes
 * the layout.
 *
 * The input is plain data, so any producer of eBPF code can use it: per
 * program its instructions and the maps it uses, each map with the
 * instruction slots (BPF_LD_IMM64, src_reg BPF_PSEUDO_MAP_FD) that refer to
 * it.  Maps of the same name in several programs are one map of the
 * object (their definitions must be equal).  A map becomes a BTF-defined
 * map in `.maps`, with the `.BTF` that libbpf requires for those, and each
 * reference an R_BPF_64_64 relocation in `.rel<section>`.
 */
#ifndef VFM_EBPF_ELF_H
#define VFM_EBPF_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "../vm/program.h"

struct bpf_insn;

/* A map as one compiled program uses it. */
struct vfm_elf_map {
	const char *name;     /* C identifier: the map's (and BTF variable's) name */
	uint32_t type;        /* enum bpf_map_type (BPF_MAP_TYPE_ARRAY, ...) */
	uint32_t key_size;    /* bytes */
	uint32_t value_size;  /* bytes */
	uint32_t max_entries;
	uint32_t flags;       /* map_flags (BPF_F_*); 0 = none, then not in the BTF */
	const uint32_t *refs; /* instruction slots of the LD_IMM64s that load it */
	uint32_t n_refs;
};

struct vfm_elf_prog {
	const char *section;  /* "xdp", "tc", "socket", ...: libbpf's program type */
	const char *name;     /* C identifier: the global function symbol */
	const struct bpf_insn *insns;
	uint32_t n_insns;     /* slots (LD_IMM64 takes two) */
	const struct vfm_elf_map *maps;
	uint32_t n_maps;
	/* A BPF-to-BPF subprogram the program calls (HASH5), or none
	 * (n_sub_insns 0): placed in `.text` as the static function sub_name
	 * (libbpf takes subprograms from `.text` and appends each to the
	 * programs that call it).  Every BPF_PSEUDO_CALL in insns calls it:
	 * it is written with imm -1 and an R_BPF_64_32 relocation against
	 * that symbol, as clang writes a call. */
	const char *sub_name;
	const struct bpf_insn *sub_insns;
	uint32_t n_sub_insns;
};

/* Limits of this writer (an object holds a handful of programs and maps). */
#define VFM_ELF_MAX_PROGS 8u
#define VFM_ELF_MAX_MAPS 32u
#define VFM_ELF_MAX_NAME 64u

/*
 * Write an object holding progs (each in its own executable section, a
 * global STT_FUNC symbol at offset 0; their subprograms in `.text`, each
 * a local STT_FUNC symbol), a `license` section with license
 * (NUL included), and the maps.  On success *out is a malloc'ed image of
 * *out_len bytes.  VFM_EINVAL names the bad field (duplicate section, name
 * not an identifier, a reference that is not a map LD_IMM64, two
 * different definitions under one map name, a map without key or value).
 */
vfm_error_t vfm_elf_write(const struct vfm_elf_prog *progs, uint32_t n_progs,
			  const char *license, uint8_t **out, size_t *out_len, vfm_diag_t *diag);

#endif
