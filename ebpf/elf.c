/*
 * ebpf/elf.c — the ELF64 relocatable object writer for eBPF (ebpf/elf.h).
 *
 * Layout of the object (section index: name, type):
 *
 *   0            (null)
 *   1..P         one section per program (PROGBITS, ALLOC|EXECINSTR): its
 *                name is the libbpf program type ("xdp", "tc", "socket")
 *   next         .text (PROGBITS, ALLOC|EXECINSTR): the programs'
 *                subprograms, only when one has any
 *   next         .rel<section> (REL) for each program that loads a map
 *                or calls a subprogram
 *   next         license (PROGBITS, ALLOC|WRITE)
 *   next         .maps (PROGBITS, ALLOC|WRITE; 32 zero bytes per map) and
 *                .BTF, only when a program uses a map
 *   last three   .symtab, .strtab, .shstrtab
 *
 * Every field is written byte by byte in little-endian order, so the
 * object is the same whatever the host's byte order (an eBPF instruction
 * is written as the little-endian kernel takes it: code, dst | src << 4,
 * off, imm).  No padding byte is left uninitialised.
 *
 * BTF-defined maps are what libbpf 1.x demands (the legacy "maps" section
 * of struct bpf_map_def is gone).  Each map is a global variable in .maps
 * of an anonymous struct of four members (five: map_flags, when not 0),
 * each a pointer to an int array whose element count is the value, as the
 * __uint() macro of bpf_helpers.h spells it:
 *
 *   struct { int (*type)[T]; int (*key_size)[K]; int (*value_size)[V];
 *            int (*max_entries)[N]; [int (*map_flags)[F];] } name SEC(".maps");
 *
 * The BTF holds exactly those types, the VAR and a DATASEC ".maps".
 */
#include "elf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

/* ELF constants (from the ELF-64 Object File Format and the psABI for
 * BPF); spelled here rather than taken from <elf.h> so older C libraries
 * without EM_BPF still build this file. */
enum {
	ET_REL_ = 1, EM_BPF_ = 247, EV_CURRENT_ = 1,
	SHT_PROGBITS_ = 1, SHT_SYMTAB_ = 2, SHT_STRTAB_ = 3, SHT_REL_ = 9,
	SHF_WRITE_ = 1, SHF_ALLOC_ = 2, SHF_EXECINSTR_ = 4, SHF_INFO_LINK_ = 0x40,
	STB_LOCAL_ = 0, STB_GLOBAL_ = 1, STT_OBJECT_ = 1, STT_FUNC_ = 2,
	R_BPF_64_64_ = 1, R_BPF_64_32_ = 10,
	EHDR_SIZE = 64, SHDR_SIZE = 64, SYM_SIZE = 24, REL_SIZE = 16,
};

/* BTF (include/uapi/linux/btf.h): kinds and the one variable linkage used. */
enum {
	BTF_MAGIC_ = 0xEB9F, BTF_KIND_INT_ = 1, BTF_KIND_PTR_ = 2, BTF_KIND_ARRAY_ = 3,
	BTF_KIND_STRUCT_ = 4, BTF_KIND_VAR_ = 14, BTF_KIND_DATASEC_ = 15,
	BTF_INT_SIGNED_ = 1, BTF_VAR_GLOBAL_ALLOCATED_ = 1,
	MAP_FIELD_SIZE = 8, /* one pointer per field */
};

/* A growable byte buffer; on allocation failure it only remembers that. */
struct buf {
	uint8_t *p;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (src)
		memcpy(b->p + b->n, src, n);
	else
		memset(b->p + b->n, 0, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) { put8(b, (uint8_t)v); put8(b, (uint8_t)(v >> 8)); }
static void put32(struct buf *b, uint32_t v) { put16(b, (uint16_t)v); put16(b, (uint16_t)(v >> 16)); }
static void put64(struct buf *b, uint64_t v) { put32(b, (uint32_t)v); put32(b, (uint32_t)(v >> 32)); }

static void align(struct buf *b, size_t a)
{
	while (!b->oom && b->n % a)
		put8(b, 0);
}

/* Add a NUL-terminated string to a string table; returns its offset. */
static uint32_t str_add(struct buf *t, const char *s)
{
	uint32_t off = (uint32_t)t->n;
	put(t, s, strlen(s) + 1);
	return off;
}

static bool is_ident(const char *s)
{
	if (!s || !*s || strlen(s) >= VFM_ELF_MAX_NAME)
		return false;
	for (const char *c = s; *c; c++) {
		bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_';
		if (!alpha && !(c > s && *c >= '0' && *c <= '9'))
			return false;
	}
	return true;
}

/* A section name: an identifier, with '/' and '.' allowed after the first
 * character ("xdp", "tc", "socket", "xdp.frags", "tc/ingress"). */
static bool is_section_name(const char *s)
{
	if (!s || !*s || strlen(s) >= VFM_ELF_MAX_NAME || *s == '.' || *s == '/')
		return false;
	for (const char *c = s; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
			  (*c >= '0' && *c <= '9') || *c == '.' || *c == '/';
		if (!ok)
			return false;
	}
	return true;
}

static bool is_local_call(const struct bpf_insn *in)
{
	return in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL;
}

/* Instructions as the little-endian kernel takes them: code, dst | src << 4,
 * off, imm (a local call's imm -1: the relocation names the callee). */
static void put_insns(struct buf *o, const struct bpf_insn *insns, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		const struct bpf_insn *in = &insns[k];
		put8(o, in->code);
		put8(o, (uint8_t)(in->dst_reg | in->src_reg << 4));
		put16(o, (uint16_t)in->off);
		put32(o, is_local_call(in) ? UINT32_MAX : (uint32_t)in->imm);
	}
}

static bool same_def(const struct vfm_elf_map *a, const struct vfm_elf_map *b)
{
	return a->type == b->type && a->key_size == b->key_size &&
	       a->value_size == b->value_size && a->max_entries == b->max_entries &&
	       a->flags == b->flags;
}

/* A map's bytes in .maps: 8 per field. */
static uint32_t def_size(const struct vfm_elf_map *m)
{
	return (m->flags ? 5u : 4u) * MAP_FIELD_SIZE;
}

/* Offset of map k in .maps (maps laid out in order). */
static uint32_t def_offset(const struct vfm_elf_map *const *maps, uint32_t k)
{
	uint32_t off = 0;
	for (uint32_t i = 0; i < k; i++)
		off += def_size(maps[i]);
	return off;
}

struct shdr {
	uint32_t name, type;
	uint64_t flags, offset, size;
	uint32_t link, info;
	uint64_t addralign, entsize;
};

/* Append the BTF of the maps (types, strings) to b: the .BTF section. */
static void write_btf(struct buf *b, const struct vfm_elf_map *const *maps, uint32_t n_maps)
{
	struct buf types = {0}, strs = {0};
	put8(&strs, 0); /* offset 0 is the empty name */
	static const char *const field[5] = {"type", "key_size", "value_size", "max_entries",
					     "map_flags"};
	uint32_t field_off[5];
	for (int f = 0; f < 5; f++)
		field_off[f] = str_add(&strs, field[f]);
	uint32_t int_off = str_add(&strs, "int");
	uint32_t next_id = 1;

	/* [1] int: signed, 32 bits */
	put32(&types, int_off);
	put32(&types, (uint32_t)BTF_KIND_INT_ << 24);
	put32(&types, 4);
	put32(&types, (uint32_t)BTF_INT_SIGNED_ << 24 | 32);
	uint32_t int_id = next_id++;

	uint32_t *var_id = calloc(n_maps ? n_maps : 1, sizeof *var_id);
	if (!var_id) {
		b->oom = true;
		return;
	}
	for (uint32_t m = 0; m < n_maps; m++) {
		const uint32_t value[5] = {maps[m]->type, maps[m]->key_size, maps[m]->value_size,
					   maps[m]->max_entries, maps[m]->flags};
		const int n_fields = maps[m]->flags ? 5 : 4;
		uint32_t ptr_id[5];
		for (int f = 0; f < n_fields; f++) {
			/* int[value]: an ARRAY with index type int */
			put32(&types, 0);
			put32(&types, (uint32_t)BTF_KIND_ARRAY_ << 24);
			put32(&types, 0);
			put32(&types, int_id);
			put32(&types, int_id);
			put32(&types, value[f]);
			uint32_t arr_id = next_id++;
			/* int (*)[value] */
			put32(&types, 0);
			put32(&types, (uint32_t)BTF_KIND_PTR_ << 24);
			put32(&types, arr_id);
			ptr_id[f] = next_id++;
		}
		/* the anonymous struct of the pointers (8 bytes each) */
		put32(&types, 0);
		put32(&types, (uint32_t)BTF_KIND_STRUCT_ << 24 | (uint32_t)n_fields);
		put32(&types, def_size(maps[m]));
		for (int f = 0; f < n_fields; f++) {
			put32(&types, field_off[f]);
			put32(&types, ptr_id[f]);
			put32(&types, (uint32_t)f * 64); /* bit offset */
		}
		uint32_t struct_id = next_id++;
		/* the variable */
		put32(&types, str_add(&strs, maps[m]->name));
		put32(&types, (uint32_t)BTF_KIND_VAR_ << 24);
		put32(&types, struct_id);
		put32(&types, BTF_VAR_GLOBAL_ALLOCATED_);
		var_id[m] = next_id++;
	}
	/* DATASEC .maps: the variables at their offsets */
	put32(&types, str_add(&strs, ".maps"));
	put32(&types, (uint32_t)BTF_KIND_DATASEC_ << 24 | n_maps);
	put32(&types, def_offset(maps, n_maps));
	for (uint32_t m = 0; m < n_maps; m++) {
		put32(&types, var_id[m]);
		put32(&types, def_offset(maps, m));
		put32(&types, def_size(maps[m]));
	}
	free(var_id);

	/* struct btf_header: magic, version, flags, hdr_len, then the type and
	 * string areas' offsets and lengths, relative to the header's end */
	put16(b, BTF_MAGIC_);
	put8(b, 1);
	put8(b, 0);
	put32(b, 24);
	put32(b, 0);
	put32(b, (uint32_t)types.n);
	put32(b, (uint32_t)types.n);
	put32(b, (uint32_t)strs.n);
	put(b, types.p, types.n);
	put(b, strs.p, strs.n);
	if (types.oom || strs.oom)
		b->oom = true;
	free(types.p);
	free(strs.p);
}

vfm_error_t vfm_elf_write(const struct vfm_elf_prog *progs, uint32_t n_progs,
			  const char *license, uint8_t **out, size_t *out_len, vfm_diag_t *diag)
{
	*out = NULL;
	*out_len = 0;
	if (n_progs == 0 || n_progs > VFM_ELF_MAX_PROGS)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "ELF: %u programs (1 to %u)", n_progs,
				    VFM_ELF_MAX_PROGS);
	if (!license || !*license)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "ELF: no license");

	/* Check the input, and gather the object's maps (merged by name). */
	const struct vfm_elf_map *maps[VFM_ELF_MAX_MAPS];
	uint32_t n_maps = 0;
	for (uint32_t i = 0; i < n_progs; i++) {
		const struct vfm_elf_prog *p = &progs[i];
		if (!is_section_name(p->section))
			return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
					    "ELF: program %u: bad section name '%s'", i,
					    p->section ? p->section : "(null)");
		if (!is_ident(p->name))
			return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
					    "ELF: program %u: function name '%s' is not a C identifier",
					    i, p->name ? p->name : "(null)");
		if (!p->insns || p->n_insns == 0 || p->n_insns > UINT32_MAX / 8)
			return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
					    "ELF: program '%s' has no instructions", p->name);
		if (p->n_sub_insns &&
		    (!p->sub_insns || p->n_sub_insns > UINT32_MAX / 8 || !is_ident(p->sub_name)))
			return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
					    "ELF: program '%s': subprogram '%s' without instructions or "
					    "not a C identifier", p->name,
					    p->sub_name ? p->sub_name : "(null)");
		for (uint32_t k = 0; k < p->n_insns; k++)
			if (is_local_call(&p->insns[k]) && !p->n_sub_insns)
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						    "ELF: program '%s': slot %u calls a subprogram, "
						    "and the program has none", p->name, k);
		for (uint32_t j = 0; j < i; j++) {
			if (p->n_sub_insns && progs[j].n_sub_insns &&
			    !strcmp(progs[j].sub_name, p->sub_name))
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						    "ELF: two subprograms named '%s'", p->sub_name);
			if (!strcmp(progs[j].section, p->section))
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						    "ELF: two programs in section '%s'", p->section);
			if (!strcmp(progs[j].name, p->name))
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						    "ELF: two programs named '%s'", p->name);
		}
		for (uint32_t m = 0; m < p->n_maps; m++) {
			const struct vfm_elf_map *mp = &p->maps[m];
			if (!is_ident(mp->name))
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						    "ELF: program '%s': map name '%s' is not a C identifier",
						    p->name, mp->name ? mp->name : "(null)");
			if (!mp->key_size || !mp->value_size || !mp->max_entries || !mp->type)
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
						    "ELF: map '%s': type, key_size, value_size and "
						    "max_entries must be non-zero", mp->name);
			for (uint32_t r = 0; r < mp->n_refs; r++) {
				uint32_t s = mp->refs[r];
				if (s + 1 >= p->n_insns ||
				    p->insns[s].code != (BPF_LD | BPF_DW | BPF_IMM) ||
				    p->insns[s].src_reg != BPF_PSEUDO_MAP_FD)
					return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
							    "ELF: program '%s': slot %u, a reference to map "
							    "'%s', is not a BPF_LD_IMM64 with src_reg "
							    "BPF_PSEUDO_MAP_FD", p->name, s, mp->name);
			}
			uint32_t k = 0;
			while (k < n_maps && strcmp(maps[k]->name, mp->name))
				k++;
			if (k < n_maps) {
				if (!same_def(maps[k], mp))
					return vfm_diag_set(diag, VFM_EINVAL, -1, 0,
							    "ELF: map '%s' defined twice, differently",
							    mp->name);
				continue;
			}
			if (n_maps == VFM_ELF_MAX_MAPS)
				return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "ELF: more than %u maps",
						    VFM_ELF_MAX_MAPS);
			maps[n_maps++] = mp;
		}
	}

	/* Section indices. */
	uint32_t n_rel = 0, n_subs = 0;
	for (uint32_t i = 0; i < n_progs; i++) {
		n_rel += progs[i].n_maps > 0 || progs[i].n_sub_insns > 0;
		n_subs += progs[i].n_sub_insns > 0;
	}
	const uint32_t first_prog = 1, sec_text = n_subs ? first_prog + n_progs : 0;
	const uint32_t first_rel = first_prog + n_progs + (n_subs ? 1 : 0);
	const uint32_t sec_license = first_rel + n_rel;
	const uint32_t sec_maps = n_maps ? sec_license + 1 : 0;
	const uint32_t sec_btf = n_maps ? sec_license + 2 : 0;
	const uint32_t sec_symtab = (n_maps ? sec_btf : sec_license) + 1;
	const uint32_t sec_strtab = sec_symtab + 1, sec_shstrtab = sec_strtab + 1;
	const uint32_t n_sec = sec_shstrtab + 1;
	/* Symbols: 0 null, the locals (subprograms, in program order), then
	 * the globals: programs, _license, maps. */
	const uint32_t sym_first_prog = 1 + n_subs;
	const uint32_t sym_license = sym_first_prog + n_progs, sym_first_map = sym_license + 1;
	uint32_t sub_sym[VFM_ELF_MAX_PROGS], sub_off[VFM_ELF_MAX_PROGS];

	struct shdr sh[VFM_ELF_MAX_PROGS * 2 + 8];
	memset(sh, 0, sizeof sh);
	struct buf o = {0}, shstr = {0}, str = {0}, sym = {0};
	put8(&shstr, 0);
	put8(&str, 0);
	put(&o, NULL, EHDR_SIZE); /* the header, filled in at the end */

	for (uint32_t i = 0; i < n_progs; i++) {
		const struct vfm_elf_prog *p = &progs[i];
		struct shdr *s = &sh[first_prog + i];
		align(&o, 8);
		s->name = str_add(&shstr, p->section);
		s->type = SHT_PROGBITS_;
		s->flags = SHF_ALLOC_ | SHF_EXECINSTR_;
		s->offset = o.n;
		s->size = (uint64_t)p->n_insns * 8;
		s->addralign = 8;
		put_insns(&o, p->insns, p->n_insns);
	}
	if (n_subs) {
		struct shdr *s = &sh[sec_text];
		align(&o, 8);
		s->name = str_add(&shstr, ".text");
		s->type = SHT_PROGBITS_;
		s->flags = SHF_ALLOC_ | SHF_EXECINSTR_;
		s->offset = o.n;
		s->addralign = 8;
		for (uint32_t i = 0, k = 0; i < n_progs; i++) {
			if (!progs[i].n_sub_insns)
				continue;
			sub_sym[i] = 1 + k++;
			sub_off[i] = (uint32_t)(o.n - s->offset);
			put_insns(&o, progs[i].sub_insns, progs[i].n_sub_insns);
		}
		s->size = o.n - s->offset;
	}
	uint32_t rel = first_rel;
	for (uint32_t i = 0; i < n_progs; i++) {
		const struct vfm_elf_prog *p = &progs[i];
		if (!p->n_maps && !p->n_sub_insns)
			continue;
		/* .rel<section>: one R_BPF_64_64 per map reference, one
		 * R_BPF_64_32 per call of the subprogram */
		struct shdr *r = &sh[rel++];
		char name[VFM_ELF_MAX_NAME + 8];
		snprintf(name, sizeof name, ".rel%s", p->section);
		align(&o, 8);
		r->name = str_add(&shstr, name);
		r->type = SHT_REL_;
		r->flags = SHF_INFO_LINK_;
		r->offset = o.n;
		r->link = sec_symtab;
		r->info = first_prog + i;
		r->addralign = 8;
		r->entsize = REL_SIZE;
		for (uint32_t m = 0; m < p->n_maps; m++) {
			uint32_t k = 0;
			while (strcmp(maps[k]->name, p->maps[m].name))
				k++;
			for (uint32_t j = 0; j < p->maps[m].n_refs; j++) {
				put64(&o, (uint64_t)p->maps[m].refs[j] * 8);
				put64(&o, (uint64_t)(sym_first_map + k) << 32 | R_BPF_64_64_);
			}
		}
		for (uint32_t k = 0; p->n_sub_insns && k < p->n_insns; k++) {
			if (!is_local_call(&p->insns[k]))
				continue;
			put64(&o, (uint64_t)k * 8);
			put64(&o, (uint64_t)sub_sym[i] << 32 | R_BPF_64_32_);
		}
		r->size = o.n - r->offset;
	}

	struct shdr *s = &sh[sec_license];
	s->name = str_add(&shstr, "license");
	s->type = SHT_PROGBITS_;
	s->flags = SHF_ALLOC_ | SHF_WRITE_;
	s->offset = o.n;
	s->size = strlen(license) + 1;
	s->addralign = 1;
	put(&o, license, s->size);

	if (n_maps) {
		s = &sh[sec_maps];
		align(&o, 8);
		s->name = str_add(&shstr, ".maps");
		s->type = SHT_PROGBITS_;
		s->flags = SHF_ALLOC_ | SHF_WRITE_;
		s->offset = o.n;
		s->size = def_offset(maps, n_maps);
		s->addralign = 8;
		put(&o, NULL, s->size);

		s = &sh[sec_btf];
		align(&o, 4);
		s->name = str_add(&shstr, ".BTF");
		s->type = SHT_PROGBITS_;
		s->offset = o.n;
		write_btf(&o, maps, n_maps);
		s->size = o.n - s->offset;
		s->addralign = 4;
	}

	/* .symtab: null, the local symbols, then the global ones */
	put(&sym, NULL, SYM_SIZE);
	for (uint32_t i = 0; i < n_progs; i++) {
		if (!progs[i].n_sub_insns)
			continue;
		put32(&sym, str_add(&str, progs[i].sub_name));
		put8(&sym, STB_LOCAL_ << 4 | STT_FUNC_);
		put8(&sym, 0); /* STV_DEFAULT */
		put16(&sym, (uint16_t)sec_text);
		put64(&sym, sub_off[i]);
		put64(&sym, (uint64_t)progs[i].n_sub_insns * 8);
	}
	for (uint32_t i = 0; i < n_progs; i++) {
		put32(&sym, str_add(&str, progs[i].name));
		put8(&sym, STB_GLOBAL_ << 4 | STT_FUNC_);
		put8(&sym, 0); /* STV_DEFAULT */
		put16(&sym, (uint16_t)(first_prog + i));
		put64(&sym, 0);
		put64(&sym, (uint64_t)progs[i].n_insns * 8);
	}
	put32(&sym, str_add(&str, "_license"));
	put8(&sym, STB_GLOBAL_ << 4 | STT_OBJECT_);
	put8(&sym, 0);
	put16(&sym, (uint16_t)sec_license);
	put64(&sym, 0);
	put64(&sym, strlen(license) + 1);
	for (uint32_t k = 0; k < n_maps; k++) {
		put32(&sym, str_add(&str, maps[k]->name));
		put8(&sym, STB_GLOBAL_ << 4 | STT_OBJECT_);
		put8(&sym, 0);
		put16(&sym, (uint16_t)sec_maps);
		put64(&sym, def_offset(maps, k));
		put64(&sym, def_size(maps[k]));
	}
	s = &sh[sec_symtab];
	align(&o, 8);
	s->name = str_add(&shstr, ".symtab");
	s->type = SHT_SYMTAB_;
	s->offset = o.n;
	s->size = sym.n;
	s->link = sec_strtab;
	s->info = sym_first_prog; /* index of the first global symbol */
	s->addralign = 8;
	s->entsize = SYM_SIZE;
	put(&o, sym.p, sym.n);

	s = &sh[sec_strtab];
	s->name = str_add(&shstr, ".strtab");
	s->type = SHT_STRTAB_;
	s->offset = o.n;
	s->size = str.n;
	s->addralign = 1;
	put(&o, str.p, str.n);

	s = &sh[sec_shstrtab];
	s->name = str_add(&shstr, ".shstrtab");
	s->type = SHT_STRTAB_;
	s->offset = o.n;
	s->size = shstr.n;
	s->addralign = 1;
	put(&o, shstr.p, shstr.n);

	/* The section header table. */
	align(&o, 8);
	uint64_t shoff = o.n;
	for (uint32_t i = 0; i < n_sec; i++) {
		put32(&o, sh[i].name);
		put32(&o, sh[i].type);
		put64(&o, sh[i].flags);
		put64(&o, 0); /* sh_addr */
		put64(&o, sh[i].offset);
		put64(&o, sh[i].size);
		put32(&o, sh[i].link);
		put32(&o, sh[i].info);
		put64(&o, sh[i].addralign);
		put64(&o, sh[i].entsize);
	}
	bool oom = o.oom || shstr.oom || str.oom || sym.oom;
	free(shstr.p);
	free(str.p);
	free(sym.p);
	if (oom) {
		free(o.p);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "ELF: out of memory");
	}

	/* The ELF header (ELF-64 Object File Format, 1.5). */
	struct buf h = {0};
	static const uint8_t ident[16] = {0x7F, 'E', 'L', 'F', 2 /* ELFCLASS64 */,
					  1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */, 0 /* SYSV */};
	put(&h, ident, sizeof ident);
	put16(&h, ET_REL_);
	put16(&h, EM_BPF_);
	put32(&h, EV_CURRENT_);
	put64(&h, 0); /* e_entry */
	put64(&h, 0); /* e_phoff */
	put64(&h, shoff);
	put32(&h, 0); /* e_flags */
	put16(&h, EHDR_SIZE);
	put16(&h, 0); /* e_phentsize */
	put16(&h, 0); /* e_phnum */
	put16(&h, SHDR_SIZE);
	put16(&h, (uint16_t)n_sec);
	put16(&h, (uint16_t)sec_shstrtab);
	if (h.oom) {
		free(o.p);
		return vfm_diag_set(diag, VFM_ENOMEM, -1, 0, "ELF: out of memory");
	}
	memcpy(o.p, h.p, EHDR_SIZE);
	free(h.p);
	*out = o.p;
	*out_len = o.n;
	return VFM_OK;
}
