/*
 * vm/encoding.h — the bytecode encoding: instruction layout, file layout,
 * and the byte-order accessors every reader and writer uses.
 *
 * Instruction (variable length, no alignment):
 *
 *   byte 0      1 .. n
 *   +--------+--------------------------------+
 *   | opcode | operand, little-endian          |
 *   +--------+--------------------------------+
 *
 *   operand kind   bytes  meaning
 *   NONE           0
 *   U8             1      scratch index (LDM, STM)
 *   U32            4      packet offset k (loads), verdict (RET k)
 *   U64            8      immediate (PUSH)
 *   REL32          4      signed jump displacement in bytes, relative to
 *                         the first byte of the next instruction
 *
 * A pc is the byte offset of an instruction inside the code section.
 *
 * File (all integers little-endian):
 *
 *   offset  size  field
 *   0       4     magic 0x7F 'V' 'F' 'M'
 *   4       2     format version (VFM_FORMAT_VERSION)
 *   6       2     header size in bytes (24)
 *   8       4     code size in bytes
 *   12      4     number of sections after the code
 *   16      4     CRC-32 (IEEE 802.3) of every byte after the header
 *   20      4     reserved, must be 0
 *   24      ...   code
 *   then    each section: u16 type, u16 reserved (0), u32 size, payload
 *
 * Section types: 1 = line table (pairs of u32 pc, u32 source line, sorted by
 * pc, one per instruction at most); 2 = source file name (UTF-8, no NUL);
 * 3 = link type name; 4 = the classic BPF program a file was translated
 * from (VFM_SECTION_CBPF in include/vfm.h, docs/CBPF.md).
 * Unknown section types are skipped so that older readers accept files
 * with new optional sections.  Nothing may follow the last section.
 */
#ifndef VFM_ENCODING_H
#define VFM_ENCODING_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define VFM_FORMAT_VERSION 1u
#define VFM_HEADER_SIZE 24u
#define VFM_SECTION_HEADER_SIZE 8u
#define VFM_SECTION_LINES 1u
#define VFM_SECTION_SOURCE 2u
#define VFM_SECTION_LINKTYPE 3u
#define VFM_MAX_LINKTYPE_NAME 64u

/* Largest accepted code section and instruction count: keeps every
 * per-instruction table well inside 32-bit indices and a few MiB. */
#define VFM_MAX_CODE_SIZE (8u << 20)
#define VFM_MAX_INSNS (1u << 20)
/* Files are read whole; code plus debug sections stay far below this. */
#define VFM_MAX_FILE_SIZE (4u * VFM_MAX_CODE_SIZE)

static const uint8_t vfm_magic[4] = {0x7F, 'V', 'F', 'M'};

enum vfm_operand_kind {
	VFM_OPND_NONE,
	VFM_OPND_U8,
	VFM_OPND_U32,
	VFM_OPND_U64,
	VFM_OPND_REL32,
};

/* Operand size in bytes per kind; the instruction size is 1 + this. */
static inline unsigned vfm_operand_size(enum vfm_operand_kind kind)
{
	switch (kind) {
	case VFM_OPND_NONE: return 0;
	case VFM_OPND_U8: return 1;
	case VFM_OPND_U32: return 4;
	case VFM_OPND_U64: return 8;
	case VFM_OPND_REL32: return 4;
	}
	return 0;
}

/* Byte-wise little-endian access: no unaligned type punning, independent of
 * host byte order (compilers turn these into single moves). */
static inline uint16_t vfm_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}
static inline uint32_t vfm_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t vfm_get_le64(const uint8_t *p)
{
	return (uint64_t)vfm_get_le32(p) | (uint64_t)vfm_get_le32(p + 4) << 32;
}
static inline void vfm_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void vfm_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void vfm_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Jump target pc of the REL32 jump at pc: the displacement counts from the
 * first byte of the next instruction (opcode + 4 bytes).  The result may
 * lie outside the code; the verifier checks it. */
static inline int64_t vfm_jump_target(const uint8_t *code, uint32_t pc)
{
	int32_t rel = (int32_t)vfm_get_le32(code + pc + 1);
	return (int64_t)pc + 5 + rel;
}

/* Packet loads are big-endian (network order), zero-extended.  memcpy plus
 * a byte swap on little-endian hosts compiles to one load (and bswap). */
static inline uint64_t vfm_load_be(const uint8_t *p, unsigned size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	switch (size) {
	case 1: return p[0];
	case 2: { uint16_t v; memcpy(&v, p, 2); return __builtin_bswap16(v); }
	case 4: { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
	default: { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }
	}
#else
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
#endif
}

#endif
