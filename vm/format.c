/*
 * vm/format.c — reading and writing the bytecode file (layout in
 * vm/encoding.h and docs/ISA.md).  The parser checks every length against
 * the bytes actually present before reading, and names the offending field
 * in its message.
 */
#include <stdlib.h>
#include <string.h>

#include "program.h"

uint32_t vfm_crc32(const uint8_t *p, size_t n)
{
	/* Bitwise CRC-32 (reflected, poly 0xEDB88320): files are small and
	 * a table would be one more thing to keep in step. */
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

vfm_error_t vfm_file_parse(const uint8_t *bytes, size_t len,
			   struct vfm_file *out, vfm_diag_t *diag)
{
	memset(out, 0, sizeof *out);
	if (!bytes)
		return vfm_diag_set(diag, VFM_EINVAL, -1, 0, "no bytes given");
	if (len < 4)
		return vfm_diag_set(diag, VFM_ETRUNCATED, -1, 0,
				    "file is %zu bytes, shorter than the magic", len);
	if (memcmp(bytes, vfm_magic, 4) != 0)
		return vfm_diag_set(diag, VFM_EMAGIC, -1, 0,
				    "bad magic: not a VFM bytecode file");
	/* The version comes first: a file of another version may have
	 * another header size, so it must not be reported as truncated. */
	if (len >= 6 && vfm_get_le16(bytes + 4) != VFM_FORMAT_VERSION)
		return vfm_diag_set(diag, VFM_EVERSION, -1, 0,
				    "format version %u, this library reads version %u",
				    vfm_get_le16(bytes + 4), VFM_FORMAT_VERSION);
	if (len < VFM_HEADER_SIZE)
		return vfm_diag_set(diag, VFM_ETRUNCATED, -1, 0,
				    "header truncated: %zu of %u bytes", len,
				    VFM_HEADER_SIZE);
	uint16_t header_size = vfm_get_le16(bytes + 6);
	if (header_size != VFM_HEADER_SIZE)
		return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
				    "header size field is %u, expected %u",
				    header_size, VFM_HEADER_SIZE);
	uint32_t code_size = vfm_get_le32(bytes + 8);
	uint32_t n_sections = vfm_get_le32(bytes + 12);
	uint32_t crc = vfm_get_le32(bytes + 16);
	if (vfm_get_le32(bytes + 20) != 0)
		return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
				    "reserved header field is not 0");
	if (code_size == 0)
		return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
				    "code size is 0: a program needs at least RET");
	if (code_size > VFM_MAX_CODE_SIZE)
		return vfm_diag_set(diag, VFM_ETOOBIG, -1, 0,
				    "code size %u exceeds the limit of %u bytes",
				    code_size, VFM_MAX_CODE_SIZE);
	size_t avail = len - VFM_HEADER_SIZE;
	if (code_size > avail)
		return vfm_diag_set(diag, VFM_ETRUNCATED, -1, 0,
				    "code section truncated: header says %u bytes, file has %zu",
				    code_size, avail);
	/* The CRC covers everything after the header (each header field is
	 * validated on its own).  It is compared after the section walk, so
	 * that a file cut short is reported as truncated, not as corrupt. */
	uint32_t actual = vfm_crc32(bytes + VFM_HEADER_SIZE, avail);
	out->code = bytes + VFM_HEADER_SIZE;
	out->code_size = code_size;

	size_t pos = VFM_HEADER_SIZE + (size_t)code_size;
	/* The layout first: every section header and payload lies within the
	 * file.  docs/ISA.md section 10 orders truncation before any
	 * section's contents, so a corrupt section followed by a truncated
	 * one is VFM_ETRUNCATED (issue 15). */
	size_t at = pos;
	for (uint32_t s = 0; s < n_sections; s++) {
		if (len - at < VFM_SECTION_HEADER_SIZE)
			return vfm_diag_set(diag, VFM_ETRUNCATED, -1, 0,
					    "section %u of %u: header truncated", s + 1,
					    n_sections);
		uint16_t type = vfm_get_le16(bytes + at);
		uint32_t size = vfm_get_le32(bytes + at + 4);
		at += VFM_SECTION_HEADER_SIZE;
		if (size > len - at)
			return vfm_diag_set(diag, VFM_ETRUNCATED, -1, 0,
					    "section %u (type %u): size %u but only %zu bytes remain",
					    s + 1, type, size, len - at);
		at += size;
	}
	/* Then the contents; the walk above proved every header and payload
	 * lies within the file. */
	for (uint32_t s = 0; s < n_sections; s++) {
		uint16_t type = vfm_get_le16(bytes + pos);
		uint16_t reserved = vfm_get_le16(bytes + pos + 2);
		uint32_t size = vfm_get_le32(bytes + pos + 4);
		pos += VFM_SECTION_HEADER_SIZE;
		if (reserved != 0)
			return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
					    "section %u (type %u): reserved field is not 0",
					    s + 1, type);
		const uint8_t *payload = bytes + pos;
		if (type == VFM_SECTION_LINES) {
			if (out->lines || size % 8 != 0)
				return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
						    out->lines ? "duplicate line-table section"
							       : "line-table size %u is not a multiple of 8",
						    size);
			out->lines = payload;
			out->n_lines = size / 8;
			for (uint32_t i = 0; i < out->n_lines; i++) {
				uint32_t pc = vfm_get_le32(payload + 8 * i);
				if (pc >= code_size ||
				    (i > 0 && pc <= vfm_get_le32(payload + 8 * (i - 1))))
					return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
							    "line table entry %u: pc %u is out of order or outside the code",
							    i, pc);
			}
		} else if (type == VFM_SECTION_SOURCE) {
			if (out->source_name || memchr(payload, 0, size) || size > 4096)
				return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
						    "source-name section is duplicated, too long or contains NUL");
			out->source_name = payload;
			out->source_name_len = size;
		} else if (type == VFM_SECTION_LINKTYPE) {
			if (out->linktype || !vfm_linktype_name_ok(payload, size))
				return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
						    "link-type section is duplicated or not a name of 1 to %u letters, digits and '_'",
						    VFM_MAX_LINKTYPE_NAME);
			out->linktype = payload;
			out->linktype_len = size;
		}
		/* Other types: optional sections of newer writers, skipped. */
		pos += size;
	}
	if (pos != len)
		return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
				    "%zu unexpected bytes after the last section", len - pos);
	if (crc != actual)
		return vfm_diag_set(diag, VFM_ECORRUPT, -1, 0,
				    "checksum mismatch: header says 0x%08x, contents give 0x%08x",
				    crc, actual);
	return VFM_OK;
}

bool vfm_linktype_name_ok(const uint8_t *name, size_t len)
{
	if (len == 0 || len > VFM_MAX_LINKTYPE_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

vfm_error_t vfm_file_write(const uint8_t *code, uint32_t code_size,
			   const struct vfm_line *lines, uint32_t n_lines,
			   const char *source_name, const char *linktype, uint8_t **out,
			   size_t *out_len)
{
	size_t name_len = source_name ? strlen(source_name) : 0;
	if (name_len > 4096)
		name_len = 0; /* too long to be useful in messages; omit */
	size_t lt_len = linktype ? strlen(linktype) : 0;
	if (lt_len && !vfm_linktype_name_ok((const uint8_t *)linktype, lt_len))
		return VFM_EINVAL;
	uint32_t n_sections = (lines && n_lines ? 1u : 0u) + (name_len ? 1u : 0u) +
			      (lt_len ? 1u : 0u);
	size_t total = VFM_HEADER_SIZE + (size_t)code_size;
	if (lines && n_lines)
		total += VFM_SECTION_HEADER_SIZE + 8u * (size_t)n_lines;
	if (name_len)
		total += VFM_SECTION_HEADER_SIZE + name_len;
	if (lt_len)
		total += VFM_SECTION_HEADER_SIZE + lt_len;
	uint8_t *buf = calloc(1, total);
	if (!buf)
		return VFM_ENOMEM;
	memcpy(buf, vfm_magic, 4);
	vfm_put_le16(buf + 4, VFM_FORMAT_VERSION);
	vfm_put_le16(buf + 6, VFM_HEADER_SIZE);
	vfm_put_le32(buf + 8, code_size);
	vfm_put_le32(buf + 12, n_sections);
	memcpy(buf + VFM_HEADER_SIZE, code, code_size);
	size_t pos = VFM_HEADER_SIZE + (size_t)code_size;
	if (lines && n_lines) {
		vfm_put_le16(buf + pos, VFM_SECTION_LINES);
		vfm_put_le32(buf + pos + 4, 8u * n_lines);
		pos += VFM_SECTION_HEADER_SIZE;
		for (uint32_t i = 0; i < n_lines; i++, pos += 8) {
			vfm_put_le32(buf + pos, lines[i].pc);
			vfm_put_le32(buf + pos + 4, lines[i].line);
		}
	}
	if (name_len) {
		vfm_put_le16(buf + pos, VFM_SECTION_SOURCE);
		vfm_put_le32(buf + pos + 4, (uint32_t)name_len);
		pos += VFM_SECTION_HEADER_SIZE;
		memcpy(buf + pos, source_name, name_len);
		pos += name_len;
	}
	if (lt_len) {
		vfm_put_le16(buf + pos, VFM_SECTION_LINKTYPE);
		vfm_put_le32(buf + pos + 4, (uint32_t)lt_len);
		pos += VFM_SECTION_HEADER_SIZE;
		memcpy(buf + pos, linktype, lt_len);
		pos += lt_len;
	}
	vfm_put_le32(buf + 16, vfm_crc32(buf + VFM_HEADER_SIZE, total - VFM_HEADER_SIZE));
	*out = buf;
	*out_len = total;
	return VFM_OK;
}
