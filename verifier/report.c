/*
 * verifier/report.c — the words of the verifier's warnings and of its
 * abstract values, shared by vfm-verify (text and JSON), the tests and
 * fuzz triage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "verifier.h"

int vfm_format_aval(const struct vfm_aslot *s, char *buf, size_t n)
{
	const struct vfm_aval *v = &s->v;
	char id[48] = "";
	if (s->id == VFM_ID_LEN)
		snprintf(id, sizeof id, " =len");
	else if (s->id)
		snprintf(id, sizeof id, " #%u", s->id);
	if (s->len_room) /* value + room <= len */
		snprintf(id + strlen(id), sizeof id - strlen(id), " +%u<=len", s->len_room - 1);
	if (v->itv.lo == v->itv.hi)
		return snprintf(buf, n, "%" PRIu64 "%s", v->itv.lo, id);
	if (v->tn.mask == UINT64_MAX)
		return snprintf(buf, n, "[%" PRIu64 ",%" PRIu64 "]%s", v->itv.lo, v->itv.hi, id);
	return snprintf(buf, n, "[%" PRIu64 ",%" PRIu64 "] bits %#" PRIx64 "/%#" PRIx64 "%s",
			v->itv.lo, v->itv.hi, v->tn.value, v->tn.mask, id);
}

const char *vfm_warning_kind_name(uint8_t kind)
{
	switch ((enum vfm_warning_kind)kind) {
	case VFM_WARN_MAY_OOB: return "may-out-of-bounds";
	case VFM_WARN_ALWAYS_OOB: return "always-out-of-bounds";
	case VFM_WARN_UNREACHABLE: return "unreachable";
	case VFM_WARN_MAY_DIV0: return "divisor-may-be-zero";
	case VFM_WARN_BUDGET_LOOP: return "budget-loop";
	}
	return "?";
}

int vfm_warning_message(const struct vfm_program *prog, const struct vfm_warning *w,
			char *buf, size_t n)
{
	const struct vfm_facts *f = &prog->facts;
	const struct vfm_insn *insn = &prog->insns[w->insn];
	const struct vfm_opinfo *info = &vfm_opinfo[insn->opcode];
	char text[64];
	vfm_format_insn(prog->code, prog->code_size, prog->pc_of[w->insn], text, sizeof text);
	switch ((enum vfm_warning_kind)w->kind) {
	case VFM_WARN_MAY_OOB:
	case VFM_WARN_ALWAYS_OOB: {
		const struct vfm_aslot *s = vfm_facts_state(prog, w->insn);
		const char *what = w->kind == VFM_WARN_ALWAYS_OOB
					   ? "always reads past the end of the packet"
					   : "may read past the end of the packet";
		if (!s) /* per-pc states too big to keep */
			return snprintf(buf, n, "%s %s", text, what);
		const struct vfm_interval len = s[0].v.itv;
		if (info->cls == VFM_CLASS_LOADX) {
			/* The index is the top of the stack. */
			char idx[96];
			vfm_format_aval(&s[f->n_scratch + (uint32_t)f->depth[w->insn]], idx,
					sizeof idx);
			return snprintf(buf, n,
					"%s %s: index %s, packet length [%" PRIu64 ",%" PRIu64 "]",
					text, what, idx, len.lo, len.hi);
		}
		return snprintf(buf, n,
				"%s %s: needs length >= %" PRIu64 ", length here is [%" PRIu64
				",%" PRIu64 "]; check LEN first to prove it",
				text, what, (uint64_t)insn->arg + info->size, len.lo, len.hi);
	}
	case VFM_WARN_UNREACHABLE: {
		uint32_t end = w->insn;
		while (end < prog->n_insns && !(f->flags[end] & VFM_FACT_REACHED))
			end++;
		return snprintf(buf, n, "unreachable code: %u instruction%s from %s", end - w->insn,
				end - w->insn == 1 ? "" : "s", text);
	}
	case VFM_WARN_MAY_DIV0:
		return snprintf(buf, n, "%s: the divisor may be zero (x/0 = 0, x%%0 = x)", text);
	case VFM_WARN_BUDGET_LOOP:
		if (f->flags[w->insn] & VFM_FACT_BUDGET_ONLY)
			return snprintf(buf, n,
					"loop at %s never reaches RET: every packet that enters it "
					"ends with status BUDGET",
					text);
		return snprintf(buf, n,
				"loop at %s never reaches RET: every packet that enters it ends "
				"with status BUDGET, or BOUNDS at a load that may fail",
				text);
	}
	return snprintf(buf, n, "?");
}
