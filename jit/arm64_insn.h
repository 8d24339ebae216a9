/*
 * jit/arm64_insn.h — A64 instruction encoders for the ARM64 back end
 * (jit/arm64.c), as pure functions from operands to one 32-bit word.
 *
 * Each encoder names its instruction and the page of the Arm Architecture
 * Reference Manual for A-profile (DDI 0487), chapter C6.2 "Alphabetical
 * list of A64 base instructions", where its encoding diagram is; the
 * encoding group is from chapter C4.1.  All forms are 64-bit (sf = 1)
 * unless the name ends in _w.
 *
 * An encoder that cannot encode its operands (an immediate out of its
 * field, a displacement out of range) returns A64_INVALID instead of a
 * wrong instruction.  That word is unallocated in A64 (op0 = 0b1111 with
 * every bit set decodes to no instruction), the back end never emits it
 * on purpose, and its validate hook rejects any code that contains it, so
 * a missed range check becomes a refused compilation, not wrong code (the
 * kernel's arm64 BPF JIT does the same with a BRK word in validate_code).
 *
 * The header has no dependencies beyond <stdint.h> and <stdbool.h> so that
 * tests/test_jit_arm64.c can check every encoder on any host.
 */
#ifndef VFM_JIT_ARM64_INSN_H
#define VFM_JIT_ARM64_INSN_H

#include <stdbool.h>
#include <stdint.h>

#define A64_INVALID UINT32_C(0xFFFFFFFF)

/* Register numbers.  31 is XZR or SP depending on the operand (each
 * encoder says which); x18 is the platform register and never used. */
enum a64_reg {
	A64_X0 = 0, A64_X1, A64_X2, A64_X3, A64_X4, A64_X5, A64_X6, A64_X7,
	A64_X8, A64_X9, A64_X10, A64_X11, A64_X12, A64_X13, A64_X14, A64_X15,
	A64_X16, A64_X17, A64_X18, A64_X19, A64_X20, A64_X21, A64_X22, A64_X23,
	A64_X24, A64_X25, A64_X26, A64_X27, A64_X28, A64_X29, A64_X30,
	A64_ZR = 31, A64_SP = 31,
	A64_FP = A64_X29, A64_LR = A64_X30,
};

/* Condition codes (C1.2.4 "Condition code"); the inverse of c is c ^ 1. */
enum a64_cond {
	A64_EQ = 0x0, A64_NE = 0x1, A64_HS = 0x2, A64_LO = 0x3,
	A64_HI = 0x8, A64_LS = 0x9, A64_AL = 0xE,
};

static inline uint32_t a64_rd(unsigned r) { return r & 31u; }
static inline uint32_t a64_rn(unsigned r) { return (r & 31u) << 5; }
static inline uint32_t a64_rm(unsigned r) { return (r & 31u) << 16; }

/* ---- data processing, immediate (C4.1.86) ------------------------------- */

/* ADD/SUB/ADDS/SUBS (immediate): imm12, optionally LSL #12.  For ADD and
 * SUB, register 31 is SP (Rd and Rn); for ADDS/SUBS, Rd 31 is XZR. */
enum a64_addsub { A64_ADD = 0x91000000u, A64_ADDS = 0xB1000000u,
		  A64_SUB = 0xD1000000u, A64_SUBS = 0xF1000000u };

/* Can imm be an ADD/SUB immediate (imm12, or imm12 << 12)? */
static inline bool a64_addsub_imm_ok(uint64_t imm)
{
	return imm < 4096 || ((imm & 0xFFFu) == 0 && imm < (UINT64_C(4096) << 12));
}

/* ADD/SUB (immediate) (C6.2: ADD (immediate), SUB (immediate), ADDS, SUBS,
 * CMP (immediate) = SUBS XZR, CMN (immediate) = ADDS XZR). */
static inline uint32_t a64_addsub_imm(enum a64_addsub op, unsigned rd, unsigned rn, uint64_t imm)
{
	if (imm < 4096)
		return (uint32_t)op | (uint32_t)imm << 10 | a64_rn(rn) | a64_rd(rd);
	if ((imm & 0xFFFu) == 0 && imm < (UINT64_C(4096) << 12))
		return (uint32_t)op | 1u << 22 | (uint32_t)(imm >> 12) << 10 | a64_rn(rn) | a64_rd(rd);
	return A64_INVALID;
}

/* ---- logical immediates (C4.1.86, "Logical (immediate)") -------------------- */

/*
 * The bitmask immediate of AND/ORR/EOR/ANDS (immediate): a 64-bit value is
 * encodable iff it is a pattern of e bits (e = 2, 4, ..., 64) repeated
 * 64/e times, where the pattern is a rotated run of 1 to e-1 ones.  The
 * fields (N:imms:immr, 13 bits) say e and the run length in N:imms and the
 * rotation in immr; see DecodeBitMasks() in the Arm ARM's shared
 * pseudocode (J1.1.3, aarch64/instrs/integer/bitmasks).  Returns the 13
 * bits as N << 12 | immr << 6 | imms, or -1 if imm is not encodable
 * (0 and all-ones never are).
 */
static inline int32_t a64_bitmask_imm(uint64_t imm)
{
	if (imm == 0 || imm == UINT64_MAX)
		return -1;
	/* The smallest period e with imm equal to its rotation by e. */
	unsigned e = 64;
	while (e > 2) {
		unsigned half = e / 2;
		uint64_t mask = (UINT64_C(1) << half) - 1;
		if ((imm & mask) != ((imm >> half) & mask))
			break;
		e = half;
	}
	uint64_t emask = e == 64 ? UINT64_MAX : (UINT64_C(1) << e) - 1;
	uint64_t elt = imm & emask;
	unsigned ones = (unsigned)__builtin_popcountll(elt);
	uint64_t run = (UINT64_C(1) << ones) - 1; /* ones < e <= 64 */
	/* Find r with elt = ROR_e(run, r): try each rotation. */
	for (unsigned r = 0; r < e; r++) {
		uint64_t rot = r == 0 ? run : ((run >> r) | (run << (e - r))) & emask;
		if (rot == elt) {
			unsigned n = e == 64;
			unsigned imms = ((~(2u * e - 1)) & 0x3Fu) | (ones - 1);
			return (int32_t)(n << 12 | r << 6 | imms);
		}
	}
	return -1; /* the ones are not one (rotated) run */
}

enum a64_logic_imm { A64_AND_IMM = 0x92000000u, A64_ORR_IMM = 0xB2000000u,
		     A64_EOR_IMM = 0xD2000000u, A64_ANDS_IMM = 0xF2000000u };

/* AND/ORR/EOR/ANDS (immediate) (C6.2: AND (immediate), ORR (immediate),
 * EOR (immediate), ANDS (immediate); TST (immediate) = ANDS XZR).  Rd 31
 * is SP for AND/ORR/EOR, XZR for ANDS; Rn 31 is XZR. */
static inline uint32_t a64_logic_imm(enum a64_logic_imm op, unsigned rd, unsigned rn, uint64_t imm)
{
	int32_t f = a64_bitmask_imm(imm);
	if (f < 0)
		return A64_INVALID;
	return (uint32_t)op | ((uint32_t)f >> 12) << 22 | ((uint32_t)f >> 6 & 0x3Fu) << 16 |
	       ((uint32_t)f & 0x3Fu) << 10 | a64_rn(rn) | a64_rd(rd);
}

/* ---- move wide (C4.1.86, "Move wide (immediate)") --------------------------- */

enum a64_movw { A64_MOVN = 0x92800000u, A64_MOVZ = 0xD2800000u, A64_MOVK = 0xF2800000u };

/* MOVZ/MOVN/MOVK Xd, #imm16, LSL #(16 * hw) (C6.2: MOVZ, MOVN, MOVK). */
static inline uint32_t a64_movw(enum a64_movw op, unsigned rd, uint32_t imm16, unsigned hw)
{
	if (imm16 > 0xFFFFu || hw > 3)
		return A64_INVALID;
	return (uint32_t)op | hw << 21 | imm16 << 5 | a64_rd(rd);
}

/* MOVN Wd, #imm16, LSL #(16 * hw): Wd = ~(imm16 << 16hw) in 32 bits,
 * bits 32..63 of Xd cleared (C6.2: MOVN, sf = 0). */
static inline uint32_t a64_movn_w(unsigned rd, uint32_t imm16, unsigned hw)
{
	if (imm16 > 0xFFFFu || hw > 1)
		return A64_INVALID;
	return 0x12800000u | hw << 21 | imm16 << 5 | a64_rd(rd);
}

/* ---- data processing, register (C4.1.87) ------------------------------------ */

enum a64_shift { A64_LSL = 0, A64_LSR = 1, A64_ASR = 2 };

enum a64_addsub_reg { A64_ADD_REG = 0x8B000000u, A64_ADDS_REG = 0xAB000000u,
		      A64_SUB_REG = 0xCB000000u, A64_SUBS_REG = 0xEB000000u };

/* ADD/ADDS/SUB/SUBS (shifted register) Xd, Xn, Xm, shift #amount
 * (C6.2: ADD (shifted register) ...; CMP = SUBS XZR, NEG = SUB Xd, XZR).
 * Register 31 is XZR everywhere. */
static inline uint32_t a64_addsub_reg(enum a64_addsub_reg op, unsigned rd, unsigned rn,
				      unsigned rm, enum a64_shift sh, unsigned amount)
{
	if (amount > 63 || sh > A64_ASR)
		return A64_INVALID;
	return (uint32_t)op | (uint32_t)sh << 22 | a64_rm(rm) | amount << 10 | a64_rn(rn) |
	       a64_rd(rd);
}

enum a64_logic_reg { A64_AND_REG = 0x8A000000u, A64_ORR_REG = 0xAA000000u,
		     A64_EOR_REG = 0xCA000000u, A64_ANDS_REG = 0xEA000000u,
		     A64_ORN_REG = 0xAA200000u, A64_ORR_REG_W = 0x2A000000u };

/* AND/ORR/EOR/ANDS/ORN (shifted register, LSL #0) (C6.2: AND (shifted
 * register) ...; MOV (register) = ORR Xd, XZR, Xm; MVN = ORN Xd, XZR, Xm;
 * ORR_REG_W is the 32-bit form: MOV Wd, Wm zero-extends into Xd;
 * TST = ANDS XZR).  Register 31 is XZR. */
static inline uint32_t a64_logic_reg(enum a64_logic_reg op, unsigned rd, unsigned rn, unsigned rm)
{
	return (uint32_t)op | a64_rm(rm) | a64_rn(rn) | a64_rd(rd);
}

enum a64_dp2 { A64_UDIV = 0x9AC00800u, A64_LSLV = 0x9AC02000u, A64_LSRV = 0x9AC02400u };

/* UDIV, LSLV, LSRV Xd, Xn, Xm (C6.2: UDIV, LSLV, LSRV).  UDIV by zero
 * gives 0 (no trap); LSLV/LSRV shift by Xm mod 64. */
static inline uint32_t a64_dp2(enum a64_dp2 op, unsigned rd, unsigned rn, unsigned rm)
{
	return (uint32_t)op | a64_rm(rm) | a64_rn(rn) | a64_rd(rd);
}

enum a64_dp3 { A64_MADD = 0x9B000000u, A64_MSUB = 0x9B008000u, A64_UMULH = 0x9BC00000u };

/* MADD Xd = Xa + Xn * Xm, MSUB Xd = Xa - Xn * Xm (C6.2: MADD, MSUB;
 * MUL = MADD with Xa = XZR); UMULH Xd = high 64 bits of Xn * Xm, unsigned
 * (C6.2: UMULH; Ra must be XZR). */
static inline uint32_t a64_dp3(enum a64_dp3 op, unsigned rd, unsigned rn, unsigned rm, unsigned ra)
{
	return (uint32_t)op | a64_rm(rm) | (ra & 31u) << 10 | a64_rn(rn) | a64_rd(rd);
}

/* UBFM Xd, Xn, #immr, #imms (C6.2: UBFM; LSL (immediate) and LSR
 * (immediate) are aliases). */
static inline uint32_t a64_ubfm(unsigned rd, unsigned rn, unsigned immr, unsigned imms)
{
	if (immr > 63 || imms > 63)
		return A64_INVALID;
	return 0xD3400000u | immr << 16 | imms << 10 | a64_rn(rn) | a64_rd(rd);
}

/* LSL Xd, Xn, #s = UBFM Xd, Xn, #(-s mod 64), #(63 - s), 0 <= s <= 63. */
static inline uint32_t a64_lsl_imm(unsigned rd, unsigned rn, unsigned s)
{
	if (s > 63)
		return A64_INVALID;
	return a64_ubfm(rd, rn, (64 - s) & 63, 63 - s);
}

/* LSR Xd, Xn, #s = UBFM Xd, Xn, #s, #63. */
static inline uint32_t a64_lsr_imm(unsigned rd, unsigned rn, unsigned s)
{
	return a64_ubfm(rd, rn, s, 63);
}

/* CSEL Xd, Xn, Xm, cond: Xd = cond ? Xn : Xm (C6.2: CSEL, sf = 1). */
static inline uint32_t a64_csel_x(unsigned rd, unsigned rn, unsigned rm, enum a64_cond c)
{
	return 0x9A800000u | a64_rm(rm) | (uint32_t)c << 12 | a64_rn(rn) | a64_rd(rd);
}

/* CSINV Wd, Wn, Wm, cond: Wd = cond ? Wn : ~Wm, bits 32..63 cleared
 * (C6.2: CSINV, sf = 0). */
static inline uint32_t a64_csinv_w(unsigned rd, unsigned rn, unsigned rm, enum a64_cond c)
{
	return 0x5A800000u | a64_rm(rm) | (uint32_t)c << 12 | a64_rn(rn) | a64_rd(rd);
}

/* REV16 Wd, Wn (bytes swapped in each halfword), REV Wd, Wn (32-bit byte
 * reverse, bits 32..63 cleared), REV Xd, Xn (C6.2: REV16, REV). */
enum a64_rev { A64_REV16_W = 0x5AC00400u, A64_REV_W = 0x5AC00800u, A64_REV_X = 0xDAC00C00u };

static inline uint32_t a64_rev(enum a64_rev op, unsigned rd, unsigned rn)
{
	return (uint32_t)op | a64_rn(rn) | a64_rd(rd);
}

/* ---- loads and stores (C4.1.88) ------------------------------------------------- */

/* Size and direction of a load or store: LDRB Wt, LDRH Wt, LDR Wt (zero-
 * extending into Xt), LDR Xt, STR Xt. */
enum a64_ldst { A64_LDRB = 0, A64_LDRH = 1, A64_LDRW = 2, A64_LDRX = 3, A64_STRX = 4 };

static inline unsigned a64_ldst_scale(enum a64_ldst op)
{
	return op == A64_STRX ? 3u : (unsigned)op;
}

static inline uint32_t a64_ldst_base(enum a64_ldst op)
{
	static const uint32_t base[] = {0x39400000u, 0x79400000u, 0xB9400000u, 0xF9400000u,
					0xF9000000u};
	return base[op];
}

/* Can `off` be the unsigned offset of LDR/STR (immediate) for op? */
static inline bool a64_ldst_imm_ok(enum a64_ldst op, uint64_t off)
{
	unsigned s = a64_ldst_scale(op);
	return (off & ((1u << s) - 1)) == 0 && (off >> s) < 4096;
}

/* LDRB/LDRH/LDR/STR (immediate, unsigned offset) Rt, [Xn|SP, #off]
 * (C6.2: LDRB (immediate), LDRH (immediate), LDR (immediate), STR
 * (immediate)); the offset is scaled by the access size. */
static inline uint32_t a64_ldst_imm(enum a64_ldst op, unsigned rt, unsigned rn, uint64_t off)
{
	if (!a64_ldst_imm_ok(op, off))
		return A64_INVALID;
	return a64_ldst_base(op) | (uint32_t)(off >> a64_ldst_scale(op)) << 10 | a64_rn(rn) |
	       a64_rd(rt);
}

/* LDURB/LDURH/LDUR/STUR Rt, [Xn|SP, #off], off in [-256, 255] unscaled
 * (C6.2: LDURB, LDURH, LDUR, STUR): offsets that are not a multiple of
 * the access size, such as the IPv4 addresses at packet offsets 26 and
 * 30. */
static inline uint32_t a64_ldst_unscaled(enum a64_ldst op, unsigned rt, unsigned rn, int64_t off)
{
	if (off < -256 || off > 255)
		return A64_INVALID;
	/* From the unsigned-offset form: clear bit 24, bits 11:10 = 00. */
	return (a64_ldst_base(op) & ~(1u << 24)) | ((uint32_t)off & 0x1FFu) << 12 | a64_rn(rn) |
	       a64_rd(rt);
}

/* LDRB/LDRH/LDR/STR (register) Rt, [Xn|SP, Xm] — option LSL, no scaling
 * (C6.2: LDRB (register), LDRH (register), LDR (register), STR
 * (register)). */
static inline uint32_t a64_ldst_reg(enum a64_ldst op, unsigned rt, unsigned rn, unsigned rm)
{
	/* From the unsigned-offset form: clear bit 24, set bit 21 and
	 * option = 011 (LSL), S = 0, bits 11:10 = 10. */
	return (a64_ldst_base(op) & ~(1u << 24)) | 1u << 21 | 0x6800u | a64_rm(rm) | a64_rn(rn) |
	       a64_rd(rt);
}

/* STP/LDP Xt1, Xt2 with pre-index, post-index or signed offset
 * (C6.2: STP, LDP); the offset is a multiple of 8 in [-512, 504]. */
enum a64_pair { A64_STP_PRE = 0xA9800000u, A64_LDP_POST = 0xA8C00000u,
		A64_STP_OFF = 0xA9000000u, A64_LDP_OFF = 0xA9400000u };

static inline uint32_t a64_pair(enum a64_pair op, unsigned rt1, unsigned rt2, unsigned rn, int32_t off)
{
	if (off % 8 != 0 || off < -512 || off > 504)
		return A64_INVALID;
	return (uint32_t)op | ((uint32_t)(off / 8) & 0x7Fu) << 15 | (rt2 & 31u) << 10 | a64_rn(rn) |
	       a64_rd(rt1);
}

/* ---- branches (C4.1.85) ------------------------------------------------------------ */

/* Reach of the branch forms, in instructions (4 bytes) either way:
 * B.cond/CBZ/CBNZ imm19 (+-1 MiB), B/BL imm26 (+-128 MiB). */
#define A64_IMM19_BITS 19
#define A64_IMM26_BITS 26

/* The width b_to() in jit/arm64.c checks B against; A64_IMM26_BITS except
 * in the test that lowers it to reach the "beyond the reach of B" refusal. */
extern unsigned vfm_jit_a64_b_bits;

static inline bool a64_fits(int64_t words, unsigned bits)
{
	return words >= -(INT64_C(1) << (bits - 1)) && words < (INT64_C(1) << (bits - 1));
}

/* B label (C6.2: B); `words` is the displacement in instructions. */
static inline uint32_t a64_b(int64_t words)
{
	if (!a64_fits(words, A64_IMM26_BITS))
		return A64_INVALID;
	return 0x14000000u | ((uint32_t)words & 0x03FFFFFFu);
}

/* B.cond label (C6.2: B.cond). */
static inline uint32_t a64_bcond(enum a64_cond c, int64_t words)
{
	if (!a64_fits(words, A64_IMM19_BITS))
		return A64_INVALID;
	return 0x54000000u | ((uint32_t)words & 0x7FFFFu) << 5 | (uint32_t)c;
}

/* CBZ/CBNZ Xt, label (C6.2: CBZ, CBNZ). */
static inline uint32_t a64_cbz(bool nonzero, unsigned rt, int64_t words)
{
	if (!a64_fits(words, A64_IMM19_BITS))
		return A64_INVALID;
	return (nonzero ? 0xB5000000u : 0xB4000000u) | ((uint32_t)words & 0x7FFFFu) << 5 |
	       a64_rd(rt);
}

/* BLR Xn, RET (X30) (C6.2: BLR, RET). */
static inline uint32_t a64_blr(unsigned rn)
{
	return 0xD63F0000u | a64_rn(rn);
}

#define A64_RET UINT32_C(0xD65F03C0)

/* BRK #imm16 (C6.2: BRK): the fill of unused code bytes. */
static inline uint32_t a64_brk(uint32_t imm16)
{
	return 0xD4200000u | (imm16 & 0xFFFFu) << 5;
}

#endif
