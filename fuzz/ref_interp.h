/*
 * fuzz/ref_interp.h — the harnesses' reference interpreter and runtime
 * oracle (shared by fuzz_load.c and fuzz_diff.c; static functions, include
 * once per harness after defining CHECK(cond, fmt, ...) and including
 * vfm.h, program.h, verifier/verifier.h and state.h).
 */
#ifndef VFM_FUZZ_REF_INTERP_H
#define VFM_FUZZ_REF_INTERP_H

/* ---- Reference interpreter ---------------------------------------------- */

/*
 * A deliberately naive interpreter written from docs/ISA.md: it decodes the
 * code bytes as it goes (no fusion, no pre-decoding), keeps an explicit
 * stack with checks, and shares nothing with vm/interp.c but the flow-table
 * functions and vfm_hash5 (which have their own checks above and their own
 * tests).  It is the oracle for two things:
 *   - the interpreter's result (verdict, status, insns) and flow state;
 *   - the verifier's claims: the stack never under- or overflows, the
 *     depth before every executed instruction is the one the verifier
 *     recorded by vfm_facts_depth, the concrete state lies inside the abstract
 *     interpreter's state (vfm_oracle_holds), loads proven in bounds are,
 *     loads claimed always out of bounds are, and a division by zero only
 *     happens where MAY_DIV0 says it may.
 */
struct ref_ctx {
	const struct vfm_program *prog;
	int32_t *index_of; /* pc -> instruction index, -1 inside an insn */
	struct vfm_flow_table flow;
	uint32_t budget;
	uint32_t oracle_left; /* runtime-oracle checks still allowed */
};

static uint64_t ref_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void ref_run(struct ref_ctx *rc, const vfm_packet_t *pkt, vfm_result_t *out)
{
	const struct vfm_program *prog = rc->prog;
	const uint8_t *code = prog->code;
	uint64_t st[VFM_MAX_STACK], m[VFM_SCRATCH_WORDS] = {0};
	int d = 0;
	uint32_t pc = 0, budget = rc->budget, len = pkt->len;
	uint64_t insns = 0;
	vfm_result_t r = {0, VFM_STATUS_OK, 0};
	for (;;) {
		CHECK(pc < prog->code_size && rc->index_of[pc] >= 0,
		      "reference: pc %u is not an instruction (code size %u)", pc,
		      prog->code_size);
		int32_t idx = rc->index_of[pc];
		uint8_t op = code[pc];
		const struct vfm_opinfo *info = &vfm_opinfo[op];
		CHECK(info->valid, "reference: executes unknown opcode 0x%02x at pc %u", op, pc);
		CHECK(vfm_facts_depth(prog, idx) == d,
		      "verifier says depth %d before pc %u, execution has %d",
		      vfm_facts_depth(prog, idx), pc, d);
		CHECK(d >= info->pops && d - info->pops + info->pushes <= VFM_MAX_STACK,
		      "stack under/overflow at pc %u (%s, depth %d)", pc, info->mnemonic, d);
		/* The abstract interpreter's state at this pc must contain the
		 * concrete one (bounded per input: loops repeat states). */
		if (rc->oracle_left > 0) {
			rc->oracle_left--;
			CHECK(vfm_oracle_holds(prog, (uint32_t)idx, st, (uint32_t)d, m, len),
			      "runtime oracle: concrete state at pc %u (%s, depth %d, len %u) "
			      "is outside the verifier's abstract state", pc, info->mnemonic, d,
			      len);
		}
		uint8_t fl = vfm_facts_flags(prog, idx);
		insns++;
		const uint8_t *o = code + pc + 1;
		uint32_t next = pc + vfm_insn_size(op);
		uint64_t a, b, off;
		switch (info->cls) {
		case VFM_CLASS_LOAD:
		case VFM_CLASS_LOADX:
			off = vfm_get_le32(o);
			{
				/* Every fact is checked before any exit is taken:
				 * a wrapping index is out of bounds too, so an
				 * "in bounds" claim on it must fail here. */
				bool wraps = false;
				if (info->cls == VFM_CLASS_LOADX) {
					a = st[--d];
					wraps = a + off < a;
					off += a;
				}
				if (wraps || off > len || info->size > len - off) {
					CHECK(!(fl & VFM_FACT_IN_BOUNDS),
					      "load at pc %u proven in bounds, but offset %llu%s size "
					      "%u len %u",
					      pc, (unsigned long long)off, wraps ? " (wrapped)" : "",
					      info->size, len);
					goto bounds;
				}
			}
			CHECK(!(fl & VFM_FACT_ALWAYS_OOB),
			      "load at pc %u claimed always out of bounds, but offset %llu fits in len %u",
			      pc, (unsigned long long)off, len);
			st[d++] = ref_be(pkt->data + off, info->size);
			pc = next;
			continue;
		case VFM_CLASS_ALU2:
			b = st[--d];
			a = st[--d];
			CHECK(!vfm_facts_analysed(prog) || b != 0 ||
				      (op != VFM_OPC_DIV && op != VFM_OPC_MOD) ||
				      (fl & VFM_FACT_MAY_DIV0),
			      "%s at pc %u divides by 0 but is not flagged MAY_DIV0",
			      info->mnemonic, pc);
			switch (op) {
			case VFM_OPC_ADD: a += b; break;
			case VFM_OPC_SUB: a -= b; break;
			case VFM_OPC_MUL: a *= b; break;
			case VFM_OPC_DIV: a = b ? a / b : 0; break;
			case VFM_OPC_MOD: a = b ? a % b : a; break;
			case VFM_OPC_AND: a &= b; break;
			case VFM_OPC_OR: a |= b; break;
			case VFM_OPC_XOR: a ^= b; break;
			case VFM_OPC_SHL: a <<= (b & 63); break;
			case VFM_OPC_SHR: a >>= (b & 63); break;
			default: CHECK(0, "reference: no semantics for ALU op 0x%02x", op);
			}
			st[d++] = a;
			pc = next;
			continue;
		case VFM_CLASS_ALU1:
			st[d - 1] = op == VFM_OPC_NOT ? ~st[d - 1] : 0 - st[d - 1];
			pc = next;
			continue;
		case VFM_CLASS_JMP:
		case VFM_CLASS_JCC: {
			int taken = 1;
			if (info->cls == VFM_CLASS_JCC) {
				b = st[--d];
				a = st[--d];
				switch (op) {
				case VFM_OPC_JEQ: taken = a == b; break;
				case VFM_OPC_JNE: taken = a != b; break;
				case VFM_OPC_JGT: taken = a > b; break;
				case VFM_OPC_JGE: taken = a >= b; break;
				case VFM_OPC_JLT: taken = a < b; break;
				case VFM_OPC_JLE: taken = a <= b; break;
				case VFM_OPC_JSET: taken = (a & b) != 0; break;
				default: CHECK(0, "reference: no semantics for jump 0x%02x", op);
				}
			}
			if (!taken) {
				pc = next;
				continue;
			}
			int64_t t = (int64_t)next + (int32_t)vfm_get_le32(o);
			CHECK(t >= 0 && t < prog->code_size, "reference: jump to pc %lld",
			      (long long)t);
			if (t <= pc) {
				if (budget == 0) {
					r.status = VFM_STATUS_BUDGET;
					goto end;
				}
				budget--;
			}
			pc = (uint32_t)t;
			continue;
		}
		case VFM_CLASS_RET:
			a = op == VFM_OPC_RET ? st[--d] : vfm_get_le32(o);
			r.verdict = a > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)a;
			goto end;
		default:
			break;
		}
		switch (op) {
		case VFM_OPC_PUSH: st[d++] = vfm_get_le64(o); break;
		case VFM_OPC_POP: d--; break;
		case VFM_OPC_DUP: st[d] = st[d - 1]; d++; break;
		case VFM_OPC_SWAP: a = st[d - 1]; st[d - 1] = st[d - 2]; st[d - 2] = a; break;
		case VFM_OPC_OVER: st[d] = st[d - 2]; d++; break;
		case VFM_OPC_LDM:
			CHECK(o[0] < VFM_SCRATCH_WORDS, "LDM %u executed", o[0]);
			st[d++] = m[o[0]];
			break;
		case VFM_OPC_STM:
			CHECK(o[0] < VFM_SCRATCH_WORDS, "STM %u executed", o[0]);
			m[o[0]] = st[--d];
			break;
		case VFM_OPC_LEN: st[d++] = len; break;
		case VFM_OPC_WLEN: st[d++] = pkt->wire_len ? pkt->wire_len : len; break;
		case VFM_OPC_HASH5: st[d++] = vfm_hash5(pkt->data, len); break;
		case VFM_OPC_TS: st[d++] = pkt->ts_ns; break;
		case VFM_OPC_FLOW_LOAD: st[d - 1] = vfm_flow_load(&rc->flow, st[d - 1]); break;
		case VFM_OPC_FLOW_STORE:
			b = st[--d];
			a = st[--d];
			vfm_flow_store(&rc->flow, a, b);
			break;
		default:
			CHECK(0, "reference: no semantics for opcode 0x%02x", op);
		}
		pc = next;
	}
bounds:
	r.status = VFM_STATUS_BOUNDS;
end:
	r.insns = insns;
	if (r.status != VFM_STATUS_OK)
		r.verdict = 0;
	*out = r;
}

static int ref_init(struct ref_ctx *rc, const struct vfm_program *prog,
		    uint32_t capacity, uint32_t budget)
{
	memset(rc, 0, sizeof *rc);
	rc->prog = prog;
	rc->budget = budget;
	rc->oracle_left = 200000;
	rc->index_of = malloc(prog->code_size * sizeof *rc->index_of);
	if (!rc->index_of)
		return -1;
	for (uint32_t pc = 0; pc < prog->code_size; pc++)
		rc->index_of[pc] = -1;
	/* From the code bytes, not from prog->pc_of. */
	int32_t i = 0;
	for (uint32_t pc = 0; pc < prog->code_size; pc += vfm_insn_size(prog->code[pc])) {
		CHECK(vfm_opinfo[prog->code[pc]].valid &&
			      vfm_insn_size(prog->code[pc]) <= prog->code_size - pc,
		      "accepted code has no valid instruction at pc %u", pc);
		rc->index_of[pc] = i++;
	}
	CHECK((uint32_t)i == prog->n_insns, "%d instructions in the code, program says %u",
	      i, prog->n_insns);
	if (vfm_flow_init(&rc->flow, capacity) != VFM_OK) {
		free(rc->index_of);
		return -1;
	}
	return 0;
}

static void ref_free(struct ref_ctx *rc)
{
	free(rc->index_of);
	vfm_flow_free(&rc->flow);
}

/* The VM's flow table equals the reference's, byte for byte (same
 * operations in the same order leave the same sets and counters). */
/* Stats equal, and with `contents` the table's memory byte for byte. */
static void check_flow_ref(const vfm_state_t *vm, const struct ref_ctx *rc, int contents)
{
	const struct vfm_flow_table *ft = &vm->flow;
	CHECK(memcmp(&ft->stats, &rc->flow.stats, sizeof ft->stats) == 0,
	      "flow stats differ from the reference (entries %llu vs %llu, hits %llu vs %llu)",
	      (unsigned long long)ft->stats.entries, (unsigned long long)rc->flow.stats.entries,
	      (unsigned long long)ft->stats.hits, (unsigned long long)rc->flow.stats.hits);
	if (!contents)
		return;
	CHECK(ft->set_mask == rc->flow.set_mask &&
		      memcmp(ft->sets, rc->flow.sets,
			     (size_t)(ft->set_mask + 1) * sizeof *ft->sets) == 0,
	      "flow table contents differ from the reference");
}
#endif
