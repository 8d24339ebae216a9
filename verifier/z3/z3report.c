/*
 * verifier/z3/z3report.c — what a refuted claim looks like: the slots, the
 * offending values and the counterexample packet (vfm_z3_failure.text),
 * and the human-readable report (vfm_z3_print_report).  Abstract values
 * are printed by the verifier's one formatter, vfm_format_aval.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../domain.h"
#include "../verifier.h"
#include "z3_internal.h"

/* A growing string. */
struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->n;
		int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (w < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)w < room) {
			b->n += (size_t)w;
			return;
		}
		size_t ncap = b->cap ? b->cap * 2 : 256;
		while (ncap < b->n + (size_t)w + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static const char *const kind_names[VFM_Z3_KIND_COUNT] = {
	"value", "identity", "in-bounds", "always-out-of-bounds", "nonzero-divisor",
	"unreachable", "depth", "length-room", "index-no-wrap", "loop-head", "budget-loop",
};

const char *vfm_z3_kind_name(enum vfm_z3_claim_kind kind)
{
	return (unsigned)kind < VFM_Z3_KIND_COUNT ? kind_names[kind] : "?";
}

enum vfm_z3_scope vfm_z3_scope(const struct vfm_z3_report *r)
{
	if (!r->loops)
		return VFM_Z3_EXACT;
	if (r->complete)
		return VFM_Z3_COMPLETE;
	if (r->inductive == VFM_Z3_IND_PROVEN && r->ind_unknown == 0 && r->ind_failed == 0)
		return VFM_Z3_INDUCTIVE;
	return VFM_Z3_BOUNDED;
}

const char *vfm_z3_scope_name(enum vfm_z3_scope scope)
{
	switch (scope) {
	case VFM_Z3_EXACT: return "exact";
	case VFM_Z3_COMPLETE: return "complete";
	case VFM_Z3_INDUCTIVE: return "inductive";
	case VFM_Z3_BOUNDED: return "bounded";
	}
	return "?";
}

const char *vfm_z3_inductive_name(enum vfm_z3_inductive ind)
{
	switch (ind) {
	case VFM_Z3_IND_NONE: return "none";
	case VFM_Z3_IND_PROVEN: return "proven";
	case VFM_Z3_IND_FAILED: return "refuted";
	case VFM_Z3_IND_UNKNOWN: return "unknown";
	}
	return "?";
}

static void slot_name(const struct zc *z, uint32_t i, uint32_t j, char *buf, size_t n)
{
	uint32_t ns = z->f->n_scratch;
	if (j == 0)
		snprintf(buf, n, "packet length");
	else if (j <= ns)
		snprintf(buf, n, "M[%u]", j - 1);
	else {
		uint32_t sp = j - 1 - ns, d = (uint32_t)z->f->depth[i];
		snprintf(buf, n, "stack[%u]%s", sp, sp + 1 == d ? " (top)" : "");
	}
}

/* Describe what the model m refutes about claim cl into f->text etc. */
void vfm_z3i_describe_failure(struct zc *z, const struct claim *cl, Z3_model m,
			     struct vfm_z3_failure *fail)
{
	const struct vfm_facts *f = z->f;
	uint32_t i = cl->insn;
	struct sbuf b = {0};
	char where[200], insn_text[64], sname[48], aval[160];
	vfm_describe_pc(z->prog, z->prog->pc_of[i], where, sizeof where);
	vfm_format_insn(z->prog->code, z->prog->code_size, z->prog->pc_of[i], insn_text,
			sizeof insn_text);
	fail->insn = i;
	fail->pc = z->prog->pc_of[i];
	fail->kind = cl->kind;
	fail->slot = -1;
	sb_printf(&b, "%s: %s: unsound %s claim", where, insn_text, vfm_z3_kind_name(cl->kind));

	/* The node of i where the counterexample breaks the claim (a loop
	 * may reach several nodes of i on one path). */
	uint32_t k = 0;
	for (; k < z->levels[i]; k++) {
		struct znode *nd = node_at(z, i, k);
		Z3_ast v = NULL;
		if (!nd->reach)
			continue;
		switch ((enum vfm_z3_claim_kind)cl->kind) {
		case VFM_Z3_VALUE:
			v = nd->vviol;
			break;
		case VFM_Z3_IDENTITY:
			v = nd->iviol;
			break;
		case VFM_Z3_LEN_ROOM:
			v = nd->rviol;
			break;
		case VFM_Z3_IN_BOUNDS:
			v = nd->cond ? mk_and2(z, nd->reach, mk_not(z, nd->cond)) : NULL;
			break;
		case VFM_Z3_ALWAYS_OOB:
		case VFM_Z3_NONZERO_DIVISOR:
			v = nd->cond ? mk_and2(z, nd->reach, nd->cond) : NULL;
			break;
		case VFM_Z3_UNREACHABLE:
		case VFM_Z3_DEPTH:
		case VFM_Z3_INDEX_NO_WRAP:
		case VFM_Z3_LOOP_HEAD:
		case VFM_Z3_BUDGET_LOOP:
		case VFM_Z3_KIND_COUNT:
			v = nd->reach;
			break;
		}
		if (v && vfm_z3i_eval_true(z, m, v))
			break;
	}
	fail->unroll = k;
	struct znode *nd = k < z->levels[i] ? node_at(z, i, k) : NULL;
	if (k > 0 && nd)
		sb_printf(&b, " (after %u backward jumps in its loop)", k);
	if (z->inductive) {
		/* Which cut point the model's segment starts at. */
		uint64_t start = vfm_z3i_eval_u64(z, m, z->sel);
		fail->inductive = true;
		fail->start_pc = 0;
		uint32_t from = NO_NODE;
		for (uint32_t h = 0; h < z->n && start; h++)
			if (z->head[h] == start) {
				fail->start_pc = z->prog->pc_of[h];
				from = h;
			}
		if (start)
			sb_printf(&b, " (inductive: from a state the verifier claims at loop head pc %u,"
				      " not necessarily reachable)", fail->start_pc);
		else
			sb_printf(&b, " (inductive: from the entry)");
		sb_printf(&b, "\n");
		const struct znode *hn = from != NO_NODE ? node_at(z, from, 0) : NULL;
		if (hn && hn->slot) {
			uint32_t ms = 1 + f->n_scratch + (uint32_t)f->depth[from];
			sb_printf(&b, "  at pc %u:", fail->start_pc);
			for (uint32_t j = 1; j < ms; j++) {
				slot_name(z, from, j, sname, sizeof sname);
				sb_printf(&b, " %s = %#" PRIx64 "%s", sname,
					  vfm_z3i_eval_u64(z, m, vfm_z3i_slot_term(z, hn, j)),
					  j + 1 < ms ? "," : "");
			}
			sb_printf(&b, "\n");
		}
	} else {
		sb_printf(&b, "\n");
	}
	if (cl->kind == VFM_Z3_LOOP_HEAD)
		sb_printf(&b, "  an edge into this loop head carries a state outside the verifier's "
			      "state there: %s\n", fail->start_pc || !z->inductive ? "not inductive"
			      : "not established by the entry");

	switch ((enum vfm_z3_claim_kind)cl->kind) {
	case VFM_Z3_VALUE:
	case VFM_Z3_IDENTITY:
	case VFM_Z3_LEN_ROOM: {
		if (!nd)
			break;
		const struct vfm_aslot *s = vfm_facts_state(z->prog, i);
		uint32_t ns = f->n_scratch, ms = 1 + ns + (uint32_t)f->depth[i];
		for (uint32_t j = 0; j < ms; j++) {
			uint64_t v = vfm_z3i_eval_u64(z, m, vfm_z3i_slot_term(z, nd, j));
			slot_name(z, i, j, sname, sizeof sname);
			vfm_format_aval(&s[j], aval, sizeof aval);
			if (cl->kind == VFM_Z3_VALUE && !vfm_aval_contains(s[j].v, v)) {
				sb_printf(&b, "  %s = %#" PRIx64 ", claimed %s\n", sname, v, aval);
				if (fail->slot < 0) {
					fail->slot = (int32_t)j;
					fail->value = v;
				}
			}
			if (cl->kind == VFM_Z3_LEN_ROOM && j > 0 && s[j].len_room) {
				uint64_t len = vfm_z3i_eval_u64(z, m, z->len64);
				if (v > len || len - v < s[j].len_room - 1u) {
					sb_printf(&b, "  %s = %#" PRIx64 ", packet length %" PRIu64
						  ", claimed %s\n", sname, v, len, aval);
					if (fail->slot < 0) {
						fail->slot = (int32_t)j;
						fail->value = v;
					}
				}
			}
			if (cl->kind == VFM_Z3_IDENTITY && s[j].id) {
				uint64_t other = 0;
				const char *what = NULL;
				char oname[48];
				if (s[j].id == VFM_ID_LEN) {
					other = vfm_z3i_eval_u64(z, m, z->len64);
					what = "the packet length";
				} else {
					for (uint32_t q = 0; q < j && !what; q++)
						if (s[q].id == s[j].id) {
							other = vfm_z3i_eval_u64(z, m, vfm_z3i_slot_term(z, nd, q));
							slot_name(z, i, q, oname, sizeof oname);
							what = oname;
						}
				}
				if (what && other != v) {
					sb_printf(&b, "  %s = %#" PRIx64 " but %s = %#" PRIx64
						  ", claimed equal (id %u)\n",
						  sname, v, what, other, s[j].id);
					if (fail->slot < 0) {
						fail->slot = (int32_t)j;
						fail->value = v;
					}
				}
			}
		}
		if (cl->kind == VFM_Z3_VALUE)
			for (uint32_t w = ns; w < N_SCRATCH; w++) {
				uint64_t v = vfm_z3i_eval_u64(z, m, nd->slot[w]);
				if (v != 0) {
					sb_printf(&b, "  M[%u] = %#" PRIx64 ", untracked (claimed 0)\n",
						  w, v);
					if (fail->slot < 0) {
						fail->slot = (int32_t)(1 + w);
						fail->value = v;
					}
				}
			}
		break;
	}
	case VFM_Z3_IN_BOUNDS:
	case VFM_Z3_ALWAYS_OOB: {
		const struct vfm_insn *in = &z->prog->insns[i];
		uint64_t off = in->arg;
		unsigned size = vfm_opinfo[in->opcode].size;
		if (nd && nd->index) {
			uint64_t x = vfm_z3i_eval_u64(z, m, nd->index);
			sb_printf(&b, "  index %#" PRIx64 " + %u", x, in->arg);
			off = x + in->arg;
			if (off < x)
				sb_printf(&b, " overflows 64 bits\n");
			else
				sb_printf(&b, " = offset %" PRIu64 "\n", off);
		}
		fail->value = off;
		uint64_t len = vfm_z3i_eval_u64(z, m, z->len64);
		sb_printf(&b, "  %u-byte load at offset %" PRIu64 " with len %" PRIu64 " is %s\n",
			  size, off, len,
			  cl->kind == VFM_Z3_IN_BOUNDS ? "out of bounds" : "in bounds");
		break;
	}
	case VFM_Z3_NONZERO_DIVISOR:
		sb_printf(&b, "  the divisor is 0 (the verifier claimed it never is)\n");
		break;
	case VFM_Z3_UNREACHABLE:
		sb_printf(&b, "  the instruction is reached (the verifier claimed it is not)\n");
		break;
	case VFM_Z3_DEPTH:
		sb_printf(&b, "  reached with a stack depth other than the verifier's %d\n",
			  f->depth[i]);
		break;
	case VFM_Z3_INDEX_NO_WRAP:
		sb_printf(&b, "  index + %u + %u can wrap 64 bits (the verifier claimed it cannot)\n",
			  z->prog->insns[i].arg, vfm_opinfo[z->prog->insns[i].opcode].size);
		break;
	case VFM_Z3_LOOP_HEAD:
		break;
	case VFM_Z3_BUDGET_LOOP:
		sb_printf(&b, "  from this loop head a RET%s is reachable (the budget-loop warning "
			      "claims it is not)\n",
			  f->flags[i] & VFM_FACT_BUDGET_ONLY ? " or a failing load" : "");
		break;
	case VFM_Z3_KIND_COUNT:
		break;
	}

	/* The counterexample packet. */
	fail->has_cex = true;
	fail->len = (uint32_t)vfm_z3i_eval_u64(z, m, z->len32);
	fail->ts = z->uses_ts ? vfm_z3i_eval_u64(z, m, z->ts) : 0;
	fail->wire_len = z->uses_wlen ? (uint32_t)vfm_z3i_eval_u64(z, m, z->wire_in) : 0;
	fail->exact = !z->uses_hash5 && !z->uses_flow;
	fail->n_bytes = fail->len < VFM_Z3_CEX_BYTES ? fail->len : VFM_Z3_CEX_BYTES;
	fail->bytes = malloc(fail->n_bytes ? fail->n_bytes : 1);
	if (!fail->bytes)
		fail->n_bytes = 0;
	for (uint32_t j = 0; j < fail->n_bytes; j++)
	{
		Z3_ast a = num_w(z, j, 32);
		fail->bytes[j] = (uint8_t)vfm_z3i_eval_u64(z, m, Z3_mk_app(z->c, z->pkt, 1, &a));
	}
	sb_printf(&b, "  counterexample: len = %u", fail->len);
	if (z->uses_ts)
		sb_printf(&b, ", ts = %" PRIu64, fail->ts);
	if (z->uses_wlen)
		sb_printf(&b, ", wire length = %" PRIu32, fail->wire_len);
	if (z->uses_hash5)
		sb_printf(&b, ", HASH5 = %#" PRIx64, vfm_z3i_eval_u64(z, m, z->h5));
	for (uint32_t q = 0; q < z->n && z->uses_flow; q++)
		for (uint32_t kk = 0; kk < z->levels[q]; kk++) {
			struct znode *x = node_at(z, q, kk);
			if (!x->fresh || !x->reach || !vfm_z3i_eval_true(z, m, x->reach))
				continue;
			sb_printf(&b, ", FLOW_LOAD at pc %u", z->prog->pc_of[q]);
			if (kk)
				sb_printf(&b, " (after %u backward jumps)", kk);
			sb_printf(&b, " = %#" PRIx64, vfm_z3i_eval_u64(z, m, x->fresh));
		}
	sb_printf(&b, "\n");
	uint32_t show = fail->n_bytes < 256 ? fail->n_bytes : 256;
	for (uint32_t j = 0; j < show; j += 16) {
		sb_printf(&b, "    %04x ", j);
		for (uint32_t q = j; q < j + 16 && q < show; q++)
			sb_printf(&b, " %02x", fail->bytes[q]);
		sb_printf(&b, "\n");
	}
	if (show < fail->len)
		sb_printf(&b, "    ... (%u more bytes)\n", fail->len - show);
	fail->text = b.oom ? NULL : b.p;
	if (b.oom)
		free(b.p);
}

void vfm_z3_print_report(FILE *out, const vfm_program_t *prog,
			 const struct vfm_z3_report *r)
{
	if (!r->facts) {
		fprintf(out, "z3: %s\n", r->error[0] ? r->error : "nothing checked");
		return;
	}
	if (r->error[0])
		fprintf(out, "z3: error: %s\n", r->error);
	if (!r->loops)
		fprintf(out, "z3: exact: loop-free, every path checked\n");
	else if (r->complete)
		fprintf(out, "z3: bounded: %u unrollings (each loop takes at most %u backward jumps "
			     "per entry); complete: no path takes more\n", r->unroll, r->unroll);
	else
		fprintf(out, "z3: bounded: %u unrollings (each loop takes at most %u backward jumps "
			     "per entry); paths beyond the bound %s\n", r->unroll, r->unroll,
			r->complete_unknown ? "may exist (query timed out)"
					    : "exist, not covered by the unrolling");
	if (r->loops) {
		static const char *const ind[] = {
			[VFM_Z3_IND_PROVEN] = "proven: the entry establishes every loop head's state "
					      "and every path back preserves it",
			[VFM_Z3_IND_FAILED] = "REFUTED: some loop head's state is not established or "
					      "not preserved (a soundness finding)",
			[VFM_Z3_IND_UNKNOWN] = "unknown (a query timed out)",
		};
		fprintf(out, "z3: inductive check at %u loop heads: %s\n", r->heads,
			r->inductive < sizeof ind / sizeof ind[0] && ind[r->inductive]
				? ind[r->inductive] : "not run");
		if (r->inductive == VFM_Z3_IND_PROVEN)
			fprintf(out, "z3: %u claims checked in the inductive pass: %u hold for all "
				     "paths (unbounded), %u refuted, %u unknown\n", r->ind_claims,
				r->ind_claims - r->ind_failed - r->ind_unknown, r->ind_failed,
				r->ind_unknown);
	}
	enum vfm_z3_scope scope = vfm_z3_scope(r);
	fprintf(out, "z3: %u claims checked at %u nodes%s: %u unsound, %u unknown (timeout)\n",
		r->claims, r->nodes,
		scope == VFM_Z3_BOUNDED ? " (bounded: within the unrollings only)"
		: scope == VFM_Z3_INDUCTIVE ? " (for all paths: inductive)" : "",
		r->failures, r->unknowns);
	fprintf(out, "z3:  ");
	for (unsigned k = 0; k < VFM_Z3_KIND_COUNT; k++)
		fprintf(out, " %s %u%s", vfm_z3_kind_name((enum vfm_z3_claim_kind)k), r->checked[k],
			k + 1 < VFM_Z3_KIND_COUNT ? "," : "\n");
	fprintf(out, "z3: loads proven/provable in bounds: %u/%u of %u reached loads",
		r->proven, r->provable, r->loads);
	if (r->provable_bounded)
		fprintf(out, "; %u more in bounds within the bound only (bounded, not counted)",
			r->provable_bounded);
	if (r->precision_unknown)
		fprintf(out, " (%u unknown)", r->precision_unknown);
	fputc('\n', out);
	const char *gap = r->gap_bounded ? "in bounds within the bound only (bounded), not proven"
					 : "provable, not proven";
	uint32_t n_gap_all = r->gap_bounded ? r->provable_bounded : r->provable - r->proven;
	for (uint32_t j = 0; j < r->n_gap; j++) {
		char where[200];
		vfm_describe_pc(prog, r->gap_pc[j], where, sizeof where);
		fprintf(out, "z3: %s: %s\n", gap, where);
	}
	if (n_gap_all > r->n_gap)
		fprintf(out, "z3: ... %u more such loads\n", n_gap_all - r->n_gap);
	fprintf(out, "z3: %u queries, %u timeouts, %.3f s\n", r->queries, r->timeouts, r->seconds);
	for (uint32_t j = 0; j < r->n_fail; j++)
		fprintf(out, "UNSOUND %s%s", r->fail[j].inductive ? "(inductive pass) " : "",
			r->fail[j].text ? r->fail[j].text : "(out of memory)\n");
	if (r->failures > r->n_fail)
		fprintf(out, "... %u more unsound claims not shown\n", r->failures - r->n_fail);
}
