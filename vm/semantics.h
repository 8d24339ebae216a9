/*
 * vm/semantics.h — the value semantics of VFM's ALU and compare opcodes,
 * written once.  The interpreter, the verifier's constant folding, the
 * JITs' helpers and the tests' reference model all call these, so the
 * corner cases of docs/ISA.md (x/0 = 0, x%0 = x, shift counts masked with
 * 63, wrapping arithmetic, verdict saturation) live in exactly one place.
 *
 * Names follow the opcode table: vfm_sem_<NAME>; a new ALU row in
 * vm/opcodes.def needs its function here (the interpreter does not build
 * without it).
 */
#ifndef VFM_SEMANTICS_H
#define VFM_SEMANTICS_H

#include <stdbool.h>
#include <stdint.h>

#include "opcode.h"

/* Binary ALU: a is the deeper operand, b the top of stack. */
static inline uint64_t vfm_sem_ADD(uint64_t a, uint64_t b) { return a + b; }
static inline uint64_t vfm_sem_SUB(uint64_t a, uint64_t b) { return a - b; }
static inline uint64_t vfm_sem_MUL(uint64_t a, uint64_t b) { return a * b; }
/* Division by zero is defined, as in RFC 9669 (eBPF): x/0 = 0, x%0 = x. */
static inline uint64_t vfm_sem_DIV(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static inline uint64_t vfm_sem_MOD(uint64_t a, uint64_t b) { return b ? a % b : a; }
static inline uint64_t vfm_sem_AND(uint64_t a, uint64_t b) { return a & b; }
static inline uint64_t vfm_sem_OR(uint64_t a, uint64_t b) { return a | b; }
static inline uint64_t vfm_sem_XOR(uint64_t a, uint64_t b) { return a ^ b; }
static inline uint64_t vfm_sem_SHL(uint64_t a, uint64_t b) { return a << (b & 63); }
static inline uint64_t vfm_sem_SHR(uint64_t a, uint64_t b) { return a >> (b & 63); }

/* Unary ALU on the top of stack. */
static inline uint64_t vfm_sem_NOT(uint64_t a) { return ~a; }
static inline uint64_t vfm_sem_NEG(uint64_t a) { return 0 - a; }

/* The branch relations (enum vfm_rel), unsigned: a is the deeper operand. */
static inline bool vfm_sem_rel(enum vfm_rel rel, uint64_t a, uint64_t b)
{
	switch (rel) {
	case VFM_REL_EQ: return a == b;
	case VFM_REL_NE: return a != b;
	case VFM_REL_LT: return a < b;
	case VFM_REL_LE: return a <= b;
	case VFM_REL_GT: return a > b;
	case VFM_REL_GE: return a >= b;
	case VFM_REL_SET: return (a & b) != 0;
	case VFM_REL_CLEAR: return (a & b) == 0;
	}
	__builtin_unreachable();
}

/* Conditional jumps: branch if a TAKEN b, with TAKEN from the table. */
#define VFM_JCC(name, code, mnem, taken, fall)                                \
	static inline bool vfm_sem_##name(uint64_t a, uint64_t b)             \
	{                                                                     \
		return vfm_sem_rel(VFM_REL_##taken, a, b);                    \
	}
#define VFM_OP(...)
#include "opcodes.def"

/* RET's verdict: the popped word as u32, saturating above 0xFFFFFFFF so
 * that every non-zero word still accepts. */
static inline uint32_t vfm_sem_verdict(uint64_t v)
{
	return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)v;
}

/* WLEN: the wire length the caller supplied, or the packet length when it
 * supplied none (0). */
static inline uint32_t vfm_sem_wire_len(uint32_t len, uint32_t wire_len)
{
	return wire_len ? wire_len : len;
}

/*
 * Overflow-safe packet bounds check: may `size` bytes be read at `off` in a
 * packet of `len` bytes?  Never computes off + size.
 */
static inline bool vfm_sem_in_bounds(uint64_t off, uint32_t size, uint32_t len)
{
	return off <= len && size <= len - off;
}

/* Indexed load offset: index + k without wrap-around.  Returns false if the
 * sum does not fit in 64 bits (the load is then out of bounds). */
static inline bool vfm_sem_index(uint64_t index, uint32_t k, uint64_t *off)
{
	*off = index + k;
	return *off >= index;
}

/* 64-bit finaliser of SplitMix64: a bijection with full avalanche.  Used by
 * HASH5's mixing and to pick a key's flow-table set. */
static inline uint64_t vfm_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9u;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBu;
	x ^= x >> 31;
	return x;
}

#endif
