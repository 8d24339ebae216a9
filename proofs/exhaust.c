/*
 * proofs/exhaust.c — exhaustive soundness checks at small widths
 * (proofs/exhaust.h explains the method).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exhaust.h"
#include "program.h"
#include "semantics.h"

/* Largest width checked here: bitmaps and tables are sized for it. */
#define EXH_MAX_BITS 8
#define EXH_MAX_VALS (1u << EXH_MAX_BITS)

/* The concrete operators, from the rows of vm/opcodes.def
 * (vfm_sem_NAME); 0 for an opcode of another class. */
uint64_t vfm_exh_sem2(unsigned bits, uint8_t opcode, uint64_t a, uint64_t b)
{
	uint64_t m = UINT64_MAX >> (64 - bits);
	/* semantics.h masks a shift count with 63 = 64 - 1; a narrower word
	 * masks it with its own width - 1. */
	if (bits < 64 && (opcode == VFM_OPC_SHL || opcode == VFM_OPC_SHR))
		b &= bits - 1;
	switch ((enum vfm_alu2_op)opcode) {
#define VFM_ALU2(NAME, ...) case VFM_ALU2_##NAME: return vfm_sem_##NAME(a, b) & m;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return 0;
}

uint64_t vfm_exh_sem1(unsigned bits, uint8_t opcode, uint64_t a)
{
	uint64_t m = UINT64_MAX >> (64 - bits);
	switch ((enum vfm_alu1_op)opcode) {
#define VFM_ALU1(NAME, ...) case VFM_ALU1_##NAME: return vfm_sem_##NAME(a) & m;
#define VFM_OP(...)
#include "opcodes.def"
	}
	return 0;
}

/* The taken relation of the JCC row (false for another class). */
bool vfm_exh_cond(uint8_t opcode, uint64_t a, uint64_t b)
{
	if (vfm_opinfo[opcode].cls != VFM_CLASS_JCC)
		return false;
	return vfm_sem_rel(vfm_jcc_rel(opcode, true), a, b);
}

/* ---- enumeration ------------------------------------------------------ */

/* Tnum i: base-3 digits, digit k of 0/1 = bit k known 0/1, 2 = unknown. */
uint32_t vfm_exh_n_tnums(unsigned bits)
{
	uint32_t n = 1;
	for (unsigned k = 0; k < bits; k++)
		n *= 3;
	return n;
}

struct vfm_tnum vfm_exh_tnum_at(unsigned bits, uint32_t i)
{
	struct vfm_tnum t = {0, 0};
	for (unsigned k = 0; k < bits; k++, i /= 3) {
		if (i % 3 == 1)
			t.value |= (uint64_t)1 << k;
		else if (i % 3 == 2)
			t.mask |= (uint64_t)1 << k;
	}
	return t;
}

uint32_t vfm_exh_n_itvs(unsigned bits)
{
	uint64_t n = (uint64_t)1 << bits;
	return (uint32_t)(n * (n + 1) / 2);
}

/* Interval i in lo-major order: [0,0], [0,1], ..., [0,max], [1,1], ... */
struct vfm_interval vfm_exh_itv_at(unsigned bits, uint32_t i)
{
	uint64_t n = (uint64_t)1 << bits, lo = 0;
	while (i >= n - lo) {
		i -= (uint32_t)(n - lo);
		lo++;
	}
	return (struct vfm_interval){lo, lo + i};
}

/* ---- summaries -------------------------------------------------------- */

/* Min, max, AND and OR of a non-empty set of words (n = 0: empty). */
struct exh_sum {
	uint64_t min, max, and, or;
	uint64_t n;
};

static const struct exh_sum exh_empty = {UINT64_MAX, 0, UINT64_MAX, 0, 0};

static inline struct exh_sum exh_add(struct exh_sum s, uint64_t x)
{
	if (x < s.min)
		s.min = x;
	if (x > s.max)
		s.max = x;
	s.and &= x;
	s.or |= x;
	s.n++;
	return s;
}

static inline struct exh_sum exh_union(struct exh_sum s, struct exh_sum t)
{
	if (t.min < s.min)
		s.min = t.min;
	if (t.max > s.max)
		s.max = t.max;
	s.and &= t.and;
	s.or |= t.or;
	s.n += t.n;
	return s;
}

/* Does tnum r contain every element summarised by s (and is it well formed)? */
static bool exh_tnum_covers(struct vfm_tnum r, struct exh_sum s, uint64_t m)
{
	uint64_t known = ~r.mask & m;
	if ((r.value & r.mask) || (r.value | r.mask) > m)
		return false;
	return (s.or & known & ~r.value) == 0 && (r.value & ~s.and) == 0;
}

static bool exh_tnum_is_best(struct vfm_tnum r, struct exh_sum s)
{
	return r.value == s.and && r.mask == (s.or ^ s.and);
}

static bool exh_itv_covers(struct vfm_interval r, struct exh_sum s, uint64_t m)
{
	return r.lo <= r.hi && r.hi <= m && r.lo <= s.min && s.max <= r.hi;
}

__attribute__((format(printf, 2, 3))) static void
exh_fail(struct vfm_exh_result *r, const char *fmt, ...)
{
	if (r->failures++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->first, sizeof r->first, fmt, ap);
		va_end(ap);
	}
}

/* ---- tnums ------------------------------------------------------------ */

/* Per tnum index: its value and mask, and 3^k of its lowest unknown digit k
 * (0 if constant): index - 2*3^k and index - 3^k are its two halves. */
struct exh_tn_tab {
	uint32_t n;
	struct vfm_tnum *t;
	uint32_t *low;
};

static bool exh_tn_tab_init(struct exh_tn_tab *tab, unsigned bits)
{
	tab->n = vfm_exh_n_tnums(bits);
	tab->t = malloc(tab->n * sizeof *tab->t);
	tab->low = malloc(tab->n * sizeof *tab->low);
	if (!tab->t || !tab->low)
		return false;
	for (uint32_t i = 0; i < tab->n; i++) {
		uint32_t p = 1, j = i;
		tab->t[i] = vfm_exh_tnum_at(bits, i);
		tab->low[i] = 0;
		for (unsigned k = 0; k < bits; k++, j /= 3, p *= 3)
			if (j % 3 == 2) {
				tab->low[i] = p;
				break;
			}
	}
	return true;
}

static void exh_tn_tab_free(struct exh_tn_tab *tab)
{
	free(tab->t);
	free(tab->low);
}

void vfm_exh_tnum2(const struct vfm_dom_ops *D, uint8_t opcode, unsigned b_stride,
		   struct vfm_exh_result *r)
{
	unsigned bits = D->bits;
	uint64_t m = D->mask, nv = (uint64_t)1 << bits;
	vfm_dom_tn2 op = vfm_dom_op_tnum2(D, opcode);
	struct exh_tn_tab tab;
	struct exh_sum base[EXH_MAX_VALS], *sum;
	memset(r, 0, sizeof *r);
	if (!op || bits > EXH_MAX_BITS || !exh_tn_tab_init(&tab, bits)) {
		exh_fail(r, "bad arguments or out of memory");
		return;
	}
	sum = malloc(tab.n * sizeof *sum);
	if (!sum) {
		exh_tn_tab_free(&tab);
		exh_fail(r, "out of memory");
		return;
	}
	for (uint32_t j = 0; j < tab.n; j += b_stride ? b_stride : 1) {
		struct vfm_tnum B = tab.t[j];
		/* base[a]: the results of a op b over every b in B. */
		for (uint64_t a = 0; a < nv; a++) {
			uint64_t sub = 0; /* runs over the submasks of B.mask */
			base[a] = exh_empty;
			do {
				uint64_t b = B.value | sub;
				base[a] = exh_add(base[a], vfm_exh_sem2(bits, opcode, a, b));
				sub = (sub - B.mask) & B.mask;
			} while (sub);
		}
		for (uint32_t i = 0; i < tab.n; i++) {
			struct vfm_tnum A = tab.t[i], R;
			uint32_t p = tab.low[i];
			sum[i] = p ? exh_union(sum[i - 2 * p], sum[i - p]) : base[A.value];
			R = op(A, B);
			r->cases++;
			r->concrete += sum[i].n;
			if (!exh_tnum_covers(R, sum[i], m))
				exh_fail(r, "tnum op 0x%02x: (%#llx,%#llx) op (%#llx,%#llx) = "
					 "(%#llx,%#llx) misses a result in (and %#llx, or %#llx)",
					 opcode, (unsigned long long)A.value,
					 (unsigned long long)A.mask, (unsigned long long)B.value,
					 (unsigned long long)B.mask, (unsigned long long)R.value,
					 (unsigned long long)R.mask, (unsigned long long)sum[i].and,
					 (unsigned long long)sum[i].or);
			else if (exh_tnum_is_best(R, sum[i]))
				r->exact++;
			else if (A.mask == 0 && B.mask == 0)
				exh_fail(r, "tnum op 0x%02x: constants %#llx, %#llx not folded",
					 opcode, (unsigned long long)A.value,
					 (unsigned long long)B.value);
		}
	}
	free(sum);
	exh_tn_tab_free(&tab);
}

void vfm_exh_tnum1(const struct vfm_dom_ops *D, uint8_t opcode, struct vfm_exh_result *r)
{
	unsigned bits = D->bits;
	uint32_t n = vfm_exh_n_tnums(bits);
	vfm_dom_tn1 op = vfm_dom_op_tnum1(D, opcode);
	memset(r, 0, sizeof *r);
	if (!op || bits > EXH_MAX_BITS) {
		exh_fail(r, "bad arguments");
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct vfm_tnum A = vfm_exh_tnum_at(bits, i), R = op(A);
		struct exh_sum s = exh_empty;
		for (uint64_t a = 0; a <= D->mask; a++)
			if ((a & ~A.mask) == A.value)
				s = exh_add(s, vfm_exh_sem1(bits, opcode, a));
		r->cases++;
		r->concrete += s.n;
		if (!exh_tnum_covers(R, s, D->mask))
			exh_fail(r, "tnum op 0x%02x: op (%#llx,%#llx) = (%#llx,%#llx) unsound",
				 opcode, (unsigned long long)A.value, (unsigned long long)A.mask,
				 (unsigned long long)R.value, (unsigned long long)R.mask);
		else if (exh_tnum_is_best(R, s))
			r->exact++;
		else if (A.mask == 0)
			exh_fail(r, "tnum op 0x%02x: constant %#llx not folded", opcode,
				 (unsigned long long)A.value);
	}
}

/* ---- intervals -------------------------------------------------------- */

static bool exh_itv_pick(uint64_t lo, uint64_t hi, uint64_t m, unsigned stride,
			 uint64_t *counter)
{
	if (stride <= 1 || lo == hi || lo == 0 || hi == m)
		return true;
	return (*counter)++ % stride == 0;
}

void vfm_exh_itv2(const struct vfm_dom_ops *D, uint8_t opcode, unsigned b_stride,
		  struct vfm_exh_result *r)
{
	unsigned bits = D->bits;
	uint64_t m = D->mask, counter = 0;
	vfm_dom_itv2 op = vfm_dom_op_itv2(D, opcode);
	struct exh_sum base[EXH_MAX_VALS];
	memset(r, 0, sizeof *r);
	if (!op || bits > EXH_MAX_BITS) {
		exh_fail(r, "bad arguments");
		return;
	}
	for (uint64_t blo = 0; blo <= m; blo++) {
		for (uint64_t a = 0; a <= m; a++)
			base[a] = exh_empty;
		for (uint64_t bhi = blo; bhi <= m; bhi++) {
			struct vfm_interval B = {blo, bhi};
			/* base[a]: results of a op b over b in [blo, bhi]. */
			for (uint64_t a = 0; a <= m; a++)
				base[a] = exh_add(base[a], vfm_exh_sem2(bits, opcode, a, bhi));
			if (!exh_itv_pick(blo, bhi, m, b_stride, &counter))
				continue;
			for (uint64_t alo = 0; alo <= m; alo++) {
				struct exh_sum s = exh_empty;
				for (uint64_t ahi = alo; ahi <= m; ahi++) {
					struct vfm_interval A = {alo, ahi}, R;
					s = exh_union(s, base[ahi]);
					R = op(A, B);
					r->cases++;
					r->concrete += s.n;
					if (!exh_itv_covers(R, s, m))
						exh_fail(r, "interval op 0x%02x: [%llu,%llu] op "
							 "[%llu,%llu] = [%llu,%llu], results in "
							 "[%llu,%llu]", opcode,
							 (unsigned long long)alo, (unsigned long long)ahi,
							 (unsigned long long)blo, (unsigned long long)bhi,
							 (unsigned long long)R.lo, (unsigned long long)R.hi,
							 (unsigned long long)s.min, (unsigned long long)s.max);
					else if (R.lo == s.min && R.hi == s.max)
						r->exact++;
					else if (alo == ahi && blo == bhi)
						exh_fail(r, "interval op 0x%02x: constants %llu, %llu "
							 "not folded", opcode, (unsigned long long)alo,
							 (unsigned long long)blo);
				}
			}
		}
	}
}

void vfm_exh_itv1(const struct vfm_dom_ops *D, uint8_t opcode, struct vfm_exh_result *r)
{
	uint64_t m = D->mask;
	vfm_dom_itv1 op = vfm_dom_op_itv1(D, opcode);
	memset(r, 0, sizeof *r);
	if (!op || D->bits > EXH_MAX_BITS) {
		exh_fail(r, "bad arguments");
		return;
	}
	for (uint64_t lo = 0; lo <= m; lo++) {
		struct exh_sum s = exh_empty;
		for (uint64_t hi = lo; hi <= m; hi++) {
			struct vfm_interval A = {lo, hi}, R = op(A);
			s = exh_add(s, vfm_exh_sem1(D->bits, opcode, hi));
			r->cases++;
			r->concrete += s.n;
			if (!exh_itv_covers(R, s, m))
				exh_fail(r, "interval op 0x%02x: op [%llu,%llu] = [%llu,%llu] "
					 "unsound", opcode, (unsigned long long)lo,
					 (unsigned long long)hi, (unsigned long long)R.lo,
					 (unsigned long long)R.hi);
			else if (R.lo == s.min && R.hi == s.max)
				r->exact++;
			else if (lo == hi)
				exh_fail(r, "interval op 0x%02x: constant %llu not folded", opcode,
					 (unsigned long long)lo);
		}
	}
}
