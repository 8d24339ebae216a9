/*
 * ebpf/insn.h — eBPF instruction encoding (RFC 9669) for the eBPF back end.
 *
 * One instruction is 8 bytes, in host byte order, as the kernel takes it:
 *
 *   bits  0..7   opcode  (class | size/op | mode/source)
 *         8..11  dst_reg
 *        12..15  src_reg
 *        16..31  off     signed 16-bit: memory offset or branch distance
 *        32..63  imm     signed 32-bit immediate (sign-extended by ALU64)
 *
 * struct bpf_insn and the opcode constants come from <linux/bpf.h>; the
 * encoders below are ours: one small function per instruction form, named
 * after what it does.  Branch distances count instructions from the one
 * after the branch (RFC 9669 section 4.3).  LD_IMM64 takes two slots.
 */
#ifndef VFM_EBPF_INSN_H
#define VFM_EBPF_INSN_H

#include <stdint.h>

#include <linux/bpf.h>

/* Registers (RFC 9669 section 2.4): R0 return value, R1-R5 arguments
 * (clobbered by calls), R6-R9 callee-saved, R10 read-only frame pointer. */
enum ebpf_reg { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

static inline struct bpf_insn ebpf_insn(uint8_t code, unsigned dst, unsigned src,
					int16_t off, int32_t imm)
{
	struct bpf_insn in = {.code = code, .dst_reg = dst & 0xF, .src_reg = src & 0xF,
			      .off = off, .imm = imm};
	return in;
}

/* dst = dst OP src, 64-bit (op: BPF_ADD, BPF_SUB, ... BPF_MOV). */
static inline struct bpf_insn ebpf_alu64_reg(uint8_t op, unsigned dst, unsigned src)
{
	return ebpf_insn(BPF_ALU64 | op | BPF_X, dst, src, 0, 0);
}
/* dst = dst OP imm, 64-bit; imm is sign-extended to 64 bits. */
static inline struct bpf_insn ebpf_alu64_imm(uint8_t op, unsigned dst, int32_t imm)
{
	return ebpf_insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
/* dst = src (64-bit copy). */
static inline struct bpf_insn ebpf_mov64_reg(unsigned dst, unsigned src)
{
	return ebpf_alu64_reg(BPF_MOV, dst, src);
}
/* dst = (uint32_t)imm: a 32-bit move zero-extends into the upper half. */
static inline struct bpf_insn ebpf_mov32_imm(unsigned dst, uint32_t imm)
{
	return ebpf_insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)imm);
}
/* dst = -dst, 64-bit. */
static inline struct bpf_insn ebpf_neg64(unsigned dst)
{
	return ebpf_insn(BPF_ALU64 | BPF_NEG | BPF_K, dst, 0, 0, 0);
}
/* dst = big-endian conversion of the low `bits` (16, 32, 64) bits,
 * zero-extended: a byte swap on little-endian hosts. */
static inline struct bpf_insn ebpf_to_be(unsigned dst, int32_t bits)
{
	return ebpf_insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits);
}
/* First and second slot of dst = imm64 (BPF_LD | BPF_IMM | BPF_DW). */
static inline struct bpf_insn ebpf_ld_imm64_lo(unsigned dst, uint64_t imm)
{
	return ebpf_insn(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, (int32_t)(uint32_t)imm);
}
static inline struct bpf_insn ebpf_ld_imm64_hi(uint64_t imm)
{
	return ebpf_insn(0, 0, 0, 0, (int32_t)(uint32_t)(imm >> 32));
}
/* First slot of dst = &map (BPF_LD_IMM64 with src_reg BPF_PSEUDO_MAP_FD:
 * the kernel replaces the map's fd in imm by its address); the second
 * slot is ebpf_ld_imm64_hi(0). */
static inline struct bpf_insn ebpf_ld_map_fd(unsigned dst, int32_t fd)
{
	return ebpf_insn(BPF_LD | BPF_IMM | BPF_DW, dst, BPF_PSEUDO_MAP_FD, 0, fd);
}
/* dst = *(size *)(src + off); size: BPF_B, BPF_H, BPF_W, BPF_DW;
 * zero-extends. */
static inline struct bpf_insn ebpf_ldx_mem(uint8_t size, unsigned dst, unsigned src, int16_t off)
{
	return ebpf_insn(BPF_LDX | size | BPF_MEM, dst, src, off, 0);
}
/* *(size *)(dst + off) = src. */
static inline struct bpf_insn ebpf_stx_mem(uint8_t size, unsigned dst, unsigned src, int16_t off)
{
	return ebpf_insn(BPF_STX | size | BPF_MEM, dst, src, off, 0);
}
/* *(size *)(dst + off) = imm (sign-extended for BPF_DW). */
static inline struct bpf_insn ebpf_st_mem(uint8_t size, unsigned dst, int16_t off, int32_t imm)
{
	return ebpf_insn(BPF_ST | size | BPF_MEM, dst, 0, off, imm);
}
/* if dst OP src goto +off (op: BPF_JEQ, BPF_JGT, ... unsigned ones). */
static inline struct bpf_insn ebpf_jmp_reg(uint8_t op, unsigned dst, unsigned src, int16_t off)
{
	return ebpf_insn(BPF_JMP | op | BPF_X, dst, src, off, 0);
}
/* if dst OP imm goto +off; imm is sign-extended to 64 bits. */
static inline struct bpf_insn ebpf_jmp_imm(uint8_t op, unsigned dst, int32_t imm, int16_t off)
{
	return ebpf_insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
/* goto +off. */
static inline struct bpf_insn ebpf_ja(int16_t off)
{
	return ebpf_insn(BPF_JMP | BPF_JA, 0, 0, off, 0);
}
/* Call helper `id` (enum bpf_func_id): arguments in R1-R5, result in R0. */
static inline struct bpf_insn ebpf_call(int32_t id)
{
	return ebpf_insn(BPF_JMP | BPF_CALL, 0, 0, 0, id);
}
/* Call the BPF-to-BPF subprogram starting imm + 1 slots after this one
 * (src_reg BPF_PSEUDO_CALL); R1-R5 arguments, R0 result, R6-R9 kept. */
static inline struct bpf_insn ebpf_call_local(int32_t imm)
{
	return ebpf_insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, imm);
}
/* lock *(u64 *)(dst + off) += src (BPF_ATOMIC BPF_ADD, no fetch). */
static inline struct bpf_insn ebpf_atomic_add64(unsigned dst, unsigned src, int16_t off)
{
	return ebpf_insn(BPF_STX | BPF_DW | BPF_ATOMIC, dst, src, off, BPF_ADD);
}
/* Return R0. */
static inline struct bpf_insn ebpf_exit(void)
{
	return ebpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

#endif
