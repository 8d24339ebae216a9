/*
 * tests/test_semantics.c — the shared semantic test table.
 *
 * Every case is (program, packets, expected verdict / status / executed
 * instruction count per packet, expected flow-table contents and counters)
 * and runs on every engine in `engines[]`, so a new engine (a JIT, the eBPF
 * back end) is covered by adding one line there.  The cases cover every
 * opcode and every corner case of docs/ISA.md.  Generated cases at the end
 * run each binary ALU op and conditional jump in both the fused
 * (PUSH k; OP) and the unfused form on edge values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kengine.h"
#include "program.h"
#include "semantics.h"
#include "test_support.h"

/* ---- engines ---------------------------------------------------------- */

struct engine {
	const char *name;
	/* Prepare a loaded VM to run on this engine; NULL: nothing to do. */
	vfm_error_t (*prepare)(vfm_state_t *vm);
	int counts_insns; /* result.insns is defined on this engine */
	/* The kernel (testkit/kengine.h): the program compiled to eBPF runs
	 * through BPF_PROG_TEST_RUN instead of a VM; skipped (with the
	 * reason, in test_kernel_engine_available) where bpf() is refused. */
	int kernel;
	int helper_loads; /* kernel: every packet read by bpf_skb_load_bytes */
};

/* The JIT with constant blinding (VFM_JIT_HARDEN). */
static vfm_error_t enable_jit_blinded(vfm_state_t *vm)
{
	return vfm_enable_jit_ex(vm, VFM_JIT_HARDEN);
}

static const struct engine engines[] = {
	{"interpreter", NULL, 1, 0, 0},
#if defined(__x86_64__)
	{"x86-64 JIT", vfm_enable_jit, 1, 0, 0},
	{"x86-64 JIT (blinded)", enable_jit_blinded, 1, 0, 0},
#elif defined(__aarch64__)
	{"arm64 JIT", vfm_enable_jit, 1, 0, 0},
	{"arm64 JIT (blinded)", enable_jit_blinded, 1, 0, 0},
#endif
	{"kernel eBPF", NULL, 0, 1, 0},
	{"kernel eBPF (helper loads)", NULL, 0, 1, 1},
};

/* Probed once: can this process load and run eBPF? */
static int kernel_state; /* 0 unknown, 1 yes, -1 no */
static char kernel_why[320];
static int kernel_ok(void)
{
	if (!kernel_state)
		kernel_state = kengine_available(kernel_why, sizeof kernel_why) ? 1 : -1;
	return kernel_state > 0;
}

/* What the kernel engines ran (printed by test_table). */
static unsigned kernel_ran, kernel_refused, kernel_not_run;

/* ---- the table -------------------------------------------------------- */

#define MAX_PKTS 4
#define MAX_FLOWS 4
#define NO_INSNS 0 /* do not check the instruction count */

struct pkt_case {
	const char *hex; /* packet bytes; "" = empty packet */
	uint64_t ts_ns;
	uint32_t verdict;
	vfm_status_t status;
	uint64_t insns;
};

struct flow_entry {
	uint64_t key, value;
};

struct sem_case {
	const char *name;
	const char *src;
	uint32_t budget; /* used when budget_set */
	int budget_set;
	uint32_t flow_capacity; /* 0 = default */
	uint32_t wire_len;      /* vfm_packet_t.wire_len of every packet */
	struct pkt_case pkts[MAX_PKTS];
	struct flow_entry flows[MAX_FLOWS]; /* expected entries after the run */
	int n_flows;
	int check_stats;
	vfm_flow_stats_t stats; /* hits, misses, inserts, updates, evictions */
	/* Not on the kernel engines: the eBPF compiler must refuse the
	 * program with this error (a 256-deep stack is over the 512-byte
	 * BPF stack)... */
	vfm_error_t kernel_refuses;
	/* ...or the test harness cannot express the case (the reason). */
	const char *kernel_cannot_run;
};

#define P9 "010203040506070809" /* a 9-byte packet: bytes 1..9 */
#define OK VFM_STATUS_OK
#define BOUNDS VFM_STATUS_BOUNDS
#define BUDGET VFM_STATUS_BUDGET

/* Counting loop: 5 iterations, 4 backward jumps taken, 28 instructions. */
#define LOOP5 "PUSH 5\nloop:\nPUSH 1\nSUB\nDUP\nPUSH 0\nJNE loop\nPOP\nRET 7\n"

/* Flow counter: per packet, M[key 42] += 1 and return the new count. */
#define COUNTER(key)                                                          \
	"PUSH " key "\nFLOW_LOAD\nPUSH 1\nADD\nDUP\nPUSH " key                \
	"\nSWAP\nFLOW_STORE\nPUSH " key "\nFLOW_LOAD\nRET\n"

static const struct sem_case cases[] = {
	/* Returning */
	{"ret_k_zero", "RET 0", .pkts = {{"", 0, 0, OK, 1}}},
	{"ret_k_max", "RET 4294967295", .pkts = {{"", 0, 0xFFFFFFFFu, OK, 1}}},
	{"ret_value", "PUSH 7\nRET", .pkts = {{"", 0, 7, OK, 2}}},
	{"ret_saturates_2pow32", "PUSH 0x100000000\nRET", .pkts = {{"", 0, 0xFFFFFFFFu, OK, 2}}},
	{"ret_saturates_max", "PUSH 0xFFFFFFFFFFFFFFFF\nRET", .pkts = {{"", 0, 0xFFFFFFFFu, OK, 2}}},
	{"ret_exact_u32_max", "PUSH 0xFFFFFFFF\nRET", .pkts = {{"", 0, 0xFFFFFFFFu, OK, 2}}},
	{"ret_leaves_stack", "PUSH 1\nPUSH 2\nPUSH 3\nRET", .pkts = {{"", 0, 3, OK, 4}}},

	/* Stack */
	{"pop", "PUSH 1\nPUSH 2\nPOP\nRET", .pkts = {{"", 0, 1, OK, 4}}},
	{"dup", "PUSH 3\nDUP\nADD\nRET", .pkts = {{"", 0, 6, OK, 4}}},
	{"swap", "PUSH 2\nPUSH 10\nSWAP\nDIV\nRET", .pkts = {{"", 0, 5, OK, 5}}},
	{"over", "PUSH 5\nPUSH 9\nOVER\nRET", .pkts = {{"", 0, 5, OK, 4}}},
	{"over_keeps_both", "PUSH 5\nPUSH 9\nOVER\nPOP\nRET", .pkts = {{"", 0, 9, OK, 5}}},
	{"deep_stack_256",
	 /* 256 pushes: the maximum depth, then fold them with ADD. */
	 NULL, .pkts = {{"", 0, 256, OK, 512}}, .kernel_refuses = VFM_ETOOBIG},

	/* Scratch: zero at the start of every packet */
	{"scratch_zero_initially", "LDM 15\nRET", .pkts = {{"", 0, 0, OK, 2}}},
	{"scratch_store_load", "PUSH 77\nSTM 3\nLDM 3\nRET", .pkts = {{"", 0, 77, OK, 4}}},
	{"scratch_reset_per_packet", "LDM 0\nPUSH 1\nADD\nDUP\nSTM 0\nRET",
	 .pkts = {{"", 0, 1, OK, 6}, {"", 0, 1, OK, 6}, {"", 0, 1, OK, 6}}},

	/* Packet loads: big-endian, zero-extended */
	{"ld8", "LD8 0\nRET", .pkts = {{P9, 0, 1, OK, 2}}},
	{"ld8_last_byte", "LD8 8\nRET", .pkts = {{P9, 0, 9, OK, 2}}},
	{"ld16", "LD16 1\nRET", .pkts = {{P9, 0, 0x0203, OK, 2}}},
	{"ld32", "LD32 0\nRET", .pkts = {{P9, 0, 0x01020304, OK, 2}}},
	{"ld32_high_bit", "LD32 0\nRET", .pkts = {{"ff000001", 0, 0xFF000001u, OK, 2}}},
	{"ld64", "LD64 1\nPUSH 0x0203040506070809\nJEQ ok\nRET 0\nok:\nRET 1",
	 .pkts = {{P9, 0, 1, OK, 4}}},
	{"ld64_exact_fit", "LD64 0\nPUSH 0x0102030405060708\nJEQ ok\nRET 0\nok:\nRET 1",
	 .pkts = {{"0102030405060708", 0, 1, OK, 4}}},

	/* Out-of-bounds loads end the packet: verdict 0, status BOUNDS */
	{"ld8_at_len", "LD8 9\nRET 1", .pkts = {{P9, 0, 0, BOUNDS, 1}}},
	{"ld16_straddles_end", "LD16 8\nRET 1", .pkts = {{P9, 0, 0, BOUNDS, 1}}},
	{"ld32_short_packet", "LD32 0\nRET 1", .pkts = {{"010203", 0, 0, BOUNDS, 1}}},
	{"ld64_short_packet", "LD64 2\nRET 1", .pkts = {{P9, 0, 0, BOUNDS, 1}}},
	{"ld8_empty_packet", "LD8 0\nRET 1", .pkts = {{"", 0, 0, BOUNDS, 1}}},
	{"ld_max_offset", "LD8 0xFFFFFFFF\nRET 1", .pkts = {{P9, 0, 0, BOUNDS, 1}}},
	{"ld64_max_offset", "LD64 0xFFFFFFFF\nRET 1", .pkts = {{P9, 0, 0, BOUNDS, 1}}},
	{"bounds_after_work", "PUSH 1\nPOP\nLD16 0\nLD16 100\nRET 1",
	 .pkts = {{P9, 0, 0, BOUNDS, 4}}},
	{"bounds_then_next_packet_ok", "LD8 4\nRET",
	 .pkts = {{"00", 0, 0, BOUNDS, 1}, {"0000000005", 0, 5, OK, 2}}},

	/* Indexed loads: offset = pop + k, no wrap-around */
	{"ldx_basic", "PUSH 2\nLD16X 1\nRET", .pkts = {{P9, 0, 0x0405, OK, 3}}},
	{"ldx_zero_index", "PUSH 0\nLD8X 0\nRET", .pkts = {{P9, 0, 1, OK, 3}}},
	{"ldx_last", "PUSH 5\nLD32X 0\nRET", .pkts = {{P9, 0, 0x06070809, OK, 3}}},
	{"ldx64", "PUSH 1\nLD64X 0\nPUSH 0x0203040506070809\nJEQ ok\nRET 0\nok:\nRET 1",
	 .pkts = {{P9, 0, 1, OK, 5}}},
	{"ldx_past_end", "PUSH 6\nLD32X 0\nRET 1", .pkts = {{P9, 0, 0, BOUNDS, 2}}},
	{"ldx_wrap_is_bounds", "PUSH 0xFFFFFFFFFFFFFFFF\nLD8X 1\nRET 1",
	 .pkts = {{P9, 0, 0, BOUNDS, 2}}},
	{"ldx_wrap_large_k", "PUSH 0xFFFFFFFFFFFFFFF0\nLD8X 0x20\nRET 1",
	 .pkts = {{P9, 0, 0, BOUNDS, 2}}},
	{"ldx_huge_index", "PUSH 0xFFFFFFFFFFFFFFFF\nLD8X 0\nRET 1",
	 .pkts = {{P9, 0, 0, BOUNDS, 2}}},
	{"ldx_index_2pow32", "PUSH 0x100000000\nLD8X 0\nRET 1",
	 .pkts = {{P9, 0, 0, BOUNDS, 2}}},
	{"ldx_index_plus_k_at_len", "PUSH 4\nLD8X 5\nRET 1", .pkts = {{P9, 0, 0, BOUNDS, 2}}},

	/* LEN and TS */
	{"len", "LEN\nRET", .pkts = {{P9, 0, 9, OK, 2}, {"", 0, 0, OK, 2}}},
	{"wlen_unknown_is_len", "WLEN\nRET", .pkts = {{P9, 0, 9, OK, 2}, {"", 0, 0, OK, 2}}},
	{"wlen_snapped", "WLEN\nRET", .wire_len = 1514,
	 .pkts = {{P9, 0, 1514, OK, 2}, {"", 0, 1514, OK, 2}}},
	/* As given, even below len; loads are still checked against len. */
	{"wlen_below_len", "WLEN\nLD8 8\nADD\nRET", .wire_len = 3,
	 .pkts = {{P9, 0, 3 + 0x09, OK, 4}},
	 .kernel_cannot_run = "BPF_PROG_TEST_RUN refuses a wire_len below the packet length"},
	{"wlen_no_bounds_effect", "WLEN\nPOP\nLD8 9\nRET", .wire_len = 100,
	 .pkts = {{P9, 0, 0, BOUNDS, 3}}},
	{"ts", "TS\nRET", .pkts = {{"", 12345, 12345, OK, 2}, {"", 0, 0, OK, 2}}},
	{"ts_64bit",
	 "TS\nPUSH 1700000000123456789\nJEQ ok\nRET 0\nok:\nRET 1",
	 .pkts = {{"", 1700000000123456789u, 1, OK, 4}}},

	/* Unary ALU */
	{"not", "PUSH 0\nNOT\nPUSH 0xFFFFFFFFFFFFFFFF\nJEQ ok\nRET 0\nok:\nRET 1",
	 .pkts = {{"", 0, 1, OK, 5}}},
	{"neg_one", "PUSH 1\nNEG\nPUSH 0xFFFFFFFFFFFFFFFF\nJEQ ok\nRET 0\nok:\nRET 1",
	 .pkts = {{"", 0, 1, OK, 5}}},
	{"neg_zero", "PUSH 0\nNEG\nRET", .pkts = {{"", 0, 0, OK, 3}}},
	{"neg_min", "PUSH 0x8000000000000000\nNEG\nPUSH 0x8000000000000000\nJEQ ok\nRET 0\nok:\nRET 1",
	 .pkts = {{"", 0, 1, OK, 5}}},

	/* Control flow */
	{"jmp_forward", "JMP over\nRET 1\nover:\nRET 2", .pkts = {{"", 0, 2, OK, 2}}},
	{"jcc_join_depth", "LD8 0\nPUSH 1\nJEQ one\nPUSH 10\nJMP out\none:\nPUSH 20\nout:\nRET",
	 .pkts = {{"01", 0, 20, OK, 5}, {"02", 0, 10, OK, 6}}},
	{"loop_budget_enough", LOOP5, .budget = 4, .budget_set = 1,
	 .pkts = {{"", 0, 7, OK, 28}}},
	{"loop_budget_short", LOOP5, .budget = 3, .budget_set = 1,
	 .pkts = {{"", 0, 0, BUDGET, 21}}},
	{"loop_budget_zero", LOOP5, .budget = 0, .budget_set = 1,
	 .pkts = {{"", 0, 0, BUDGET, 6}}},
	{"loop_default_budget", LOOP5, .pkts = {{"", 0, 7, OK, 28}}},
	{"budget_is_per_packet", LOOP5, .budget = 4, .budget_set = 1,
	 .pkts = {{"", 0, 7, OK, 28}, {"", 0, 7, OK, 28}}},
	{"self_loop_default_budget", "spin:\nJMP spin",
	 .pkts = {{"", 0, 0, BUDGET, VFM_DEFAULT_BUDGET + 1u}}},
	{"backward_unconditional", "JMP start\nback:\nRET 3\nstart:\nJMP back",
	 .budget = 1, .budget_set = 1, .pkts = {{"", 0, 3, OK, 3}}},
	{"backward_unconditional_no_budget", "JMP start\nback:\nRET 3\nstart:\nJMP back",
	 .budget = 0, .budget_set = 1, .pkts = {{"", 0, 0, BUDGET, 2}}},
	{"forward_jumps_cost_nothing", "JMP a\na:\nJMP b\nb:\nPUSH 1\nPUSH 1\nJEQ c\nc:\nRET 4",
	 .budget = 0, .budget_set = 1, .pkts = {{"", 0, 4, OK, 6}}},
	{"backward_not_taken_is_free", "back:\nPUSH 0\nPUSH 1\nJEQ back\nRET 9",
	 .budget = 0, .budget_set = 1, .pkts = {{"", 0, 9, OK, 4}}},

	/* HASH5 on the opcode equals vfm_hash5 (vectors pinned in test_hash5) */
	{"hash5_non_ip", "HASH5\nRET", .pkts = {{"ffffffffffff00000000000108060001", 0, 0, OK, 2}}},
	{"hash5_empty", "HASH5\nRET", .pkts = {{"", 0, 0, OK, 2}}},

	/* Flow table */
	{"flow_miss_is_zero", .src = "PUSH 5\nFLOW_LOAD\nRET", .pkts = {{"", 0, 0, OK, 3}},
	 .check_stats = 1, .stats = {.misses = 1}},
	{"flow_counter", .src = COUNTER("42"),
	 .pkts = {{"", 0, 1, OK, 11}, {"", 0, 2, OK, 11}, {"", 0, 3, OK, 11}},
	 .flows = {{42, 3}}, .n_flows = 1, .check_stats = 1,
	 .stats = {.entries = 1, .hits = 5, .misses = 1, .inserts = 1, .updates = 2}},
	/* Every kind of home live across the helper calls: the packet, its
	 * length, the arguments (DIV moves them off RDX on x86-64), the loop
	 * budget, caller- and callee-saved slot registers and a frame slot
	 * (depth 9). */
	{"values_survive_flow_calls", .src =
	 "PUSH 1\nPUSH 2\nPUSH 3\nPUSH 4\nPUSH 5\nPUSH 6\nPUSH 3\n"
	 "loop:\nPUSH 42\nFLOW_LOAD\nPOP\nPUSH 42\nPUSH 7\nFLOW_STORE\n"
	 "PUSH 1\nSUB\nDUP\nPUSH 0\nJNE loop\nPOP\n"
	 "ADD\nADD\nADD\nADD\nADD\nPUSH 3\nDIV\nLD8 0\nADD\nLEN\nADD\nRET",
	 .pkts = {{"090203", 0, 19, OK, 53}}, .flows = {{42, 7}}, .n_flows = 1, .check_stats = 1,
	 .stats = {.entries = 1, .hits = 2, .misses = 1, .inserts = 1, .updates = 2}},
	/* DIV and MOD by a constant with the dividend deeper than every
	 * register slot (x86-64 10, ARM64 19): it is in the frame, and the
	 * multiply-high sequence must not lose it while it computes. */
	{"divk_in_frame", .src = "PUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\nPUSH 1\n"
	 "LD32 0\nPUSH 7\nDIV\nLD32 0\nPUSH 1000000000\nMOD\nADD\nLD32 0\nPUSH 10\nDIV\nADD\n"
	 "ADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\n"
	 "ADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nADD\nRET",
	 .pkts = {{"ffffffff", 0, 1338030804, OK, 60}, {"3b9aca07", 0, 242857174, OK, 60}}},
	{"flow_key_zero", .src = COUNTER("0"), .pkts = {{"", 0, 1, OK, 11}, {"", 0, 2, OK, 11}},
	 .flows = {{0, 2}}, .n_flows = 1},
	{"flow_key_max", .src = COUNTER("0xFFFFFFFFFFFFFFFF"), .pkts = {{"", 0, 1, OK, 11}},
	 .flows = {{UINT64_MAX, 1}}, .n_flows = 1},
	{"flow_value_zero_is_present", .src =
	 "PUSH 9\nPUSH 0\nFLOW_STORE\nPUSH 9\nFLOW_LOAD\nRET", .pkts = {{"", 0, 0, OK, 6}},
	 .flows = {{9, 0}}, .n_flows = 1, .check_stats = 1,
	 .stats = {.entries = 1, .hits = 1, .inserts = 1}},
	{"flow_tiny_table_evicts", .src =
	 /* Capacity 4 = one set: the fifth key evicts the first (FIFO). */
	 "PUSH 1\nPUSH 10\nFLOW_STORE\nPUSH 2\nPUSH 20\nFLOW_STORE\n"
	 "PUSH 3\nPUSH 30\nFLOW_STORE\nPUSH 4\nPUSH 40\nFLOW_STORE\n"
	 "PUSH 5\nPUSH 50\nFLOW_STORE\nPUSH 1\nFLOW_LOAD\nRET",
	 .flow_capacity = 4, .pkts = {{"", 0, 0, OK, 18}},
	 .flows = {{2, 20}, {3, 30}, {4, 40}, {5, 50}}, .n_flows = 4, .check_stats = 1,
	 .stats = {.entries = 4, .misses = 1, .inserts = 5, .evictions = 1}},
};

/* ---- generated ALU and jump cases ---------------------------------------- */

struct binop_case {
	const char *op;
	uint64_t a, b, result; /* for jumps: result = 1 if taken */
};

static const struct binop_case alu_cases[] = {
	{"ADD", 2, 3, 5},
	{"ADD", UINT64_MAX, 2, 1},
	{"SUB", 10, 3, 7},
	{"SUB", 1, 2, UINT64_MAX},
	{"MUL", 6, 7, 42},
	{"MUL", 0x100000000u, 0x100000000u, 0},
	{"MUL", UINT64_MAX, UINT64_MAX, 1},
	{"DIV", 42, 5, 8},
	{"DIV", 42, 0, 0},
	{"DIV", UINT64_MAX, 1, UINT64_MAX},
	{"DIV", 0x8000000000000000u, UINT64_MAX, 0},
	{"MOD", 42, 5, 2},
	{"MOD", 42, 0, 42},
	{"MOD", UINT64_MAX, 0, UINT64_MAX},
	{"MOD", 0x8000000000000000u, UINT64_MAX, 0x8000000000000000u},
	/* Division by a constant (the fused form): every form of
	 * vfm_jit_udiv_plan — a shift, a multiply-high with or without the
	 * add step, divisors above 2^63 — at the dividends where an inexact
	 * multiplier would show (2^64 - 1, just below a multiple). */
	{"DIV", 0xffffffffffffffffu, 0x3u, 0x5555555555555555u},
	{"DIV", 0xffffffffffffffffu, 0x7u, 0x2492492492492492u},
	{"DIV", 0xfffffffffffffffeu, 0x7u, 0x2492492492492492u},
	{"DIV", 0x17979cfe3d85cd15u, 0x3b9aca00u, 0x6553f100u},
	{"DIV", 0xffffffffffffffffu, 0x3b9aca00u, 0x44b82fa09u},
	{"DIV", 0x2bdc545d6b4b87u, 0xau, 0x462d53c8abac0u},
	{"DIV", 0xffffffffffffffffu, 0xffffffffffffffffu, 0x1u},
	{"DIV", 0xfffffffffffffffeu, 0xffffffffffffffffu, 0x0u},
	{"DIV", 0xffffffffffffffffu, 0x8000000000000001u, 0x1u},
	{"DIV", 0x8000000000000000u, 0x8000000000000001u, 0x0u},
	{"DIV", 0xdeadbeefcafef00du, 0x100000000u, 0xdeadbeefu},
	{"DIV", 0xdeadbeefcafef00du, 0x281u, 0x58eeb9af3e4d0du},
	{"DIV", 0xdeadbeefcafef00du, 0x100000001u, 0xdeadbeeeu},
	{"DIV", 0x6u, 0x7u, 0x0u},
	{"DIV", 0x7u, 0x7u, 0x1u},
	{"MOD", 0xffffffffffffffffu, 0x3u, 0x0u},
	{"MOD", 0xffffffffffffffffu, 0x7u, 0x1u},
	{"MOD", 0xfffffffffffffffeu, 0x7u, 0x0u},
	{"MOD", 0x17979cfe3d85cd15u, 0x3b9aca00u, 0x75bcd15u},
	{"MOD", 0xffffffffffffffffu, 0x3b9aca00u, 0x2a4ae5ffu},
	{"MOD", 0x2bdc545d6b4b87u, 0xau, 0x7u},
	{"MOD", 0xffffffffffffffffu, 0xffffffffffffffffu, 0x0u},
	{"MOD", 0xfffffffffffffffeu, 0xffffffffffffffffu, 0xfffffffffffffffeu},
	{"MOD", 0xffffffffffffffffu, 0x8000000000000001u, 0x7ffffffffffffffeu},
	{"MOD", 0x8000000000000000u, 0x8000000000000001u, 0x8000000000000000u},
	{"MOD", 0xdeadbeefcafef00du, 0x100000000u, 0xcafef00du},
	{"MOD", 0xdeadbeefcafef00du, 0x281u, 0x280u},
	{"MOD", 0xdeadbeefcafef00du, 0x100000001u, 0xec51311fu},
	{"MOD", 0x6u, 0x7u, 0x6u},
	{"MOD", 0x7u, 0x7u, 0x0u},
	{"AND", 0xF0F0, 0xFF00, 0xF000},
	{"OR", 0xF0F0, 0xFF00, 0xFFF0},
	{"XOR", 0xF0F0, 0xFF00, 0x0FF0},
	{"SHL", 1, 63, 0x8000000000000000u},
	{"SHL", 1, 64, 1},
	{"SHL", 1, 65, 2},
	{"SHL", 3, UINT64_MAX, 0x8000000000000000u},
	{"SHR", 0x8000000000000000u, 63, 1},
	{"SHR", 0x8000000000000000u, 64, 0x8000000000000000u},
	{"SHR", 256, 0x104, 16},
};

static const struct binop_case jump_cases[] = {
	{"JEQ", 5, 5, 1}, {"JEQ", 5, 6, 0},
	{"JNE", 5, 5, 0}, {"JNE", 5, 6, 1},
	{"JGT", 6, 5, 1}, {"JGT", 5, 5, 0}, {"JGT", 0x8000000000000000u, 1, 1},
	{"JGE", 5, 5, 1}, {"JGE", 4, 5, 0}, {"JGE", UINT64_MAX, 0, 1},
	{"JLT", 4, 5, 1}, {"JLT", 5, 5, 0}, {"JLT", 1, 0x8000000000000000u, 1},
	{"JLE", 5, 5, 1}, {"JLE", 6, 5, 0}, {"JLE", 0, UINT64_MAX, 1},
	{"JSET", 0x10, 0x30, 1}, {"JSET", 0x10, 0x20, 0}, {"JSET", 0, 0, 0},
	{"JSET", 0x8000000000000000u, UINT64_MAX, 1},
};

/* ---- running ------------------------------------------------------------ */

static size_t parse_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned byte;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
	return n;
}

static vfm_state_t *make_vm(const struct sem_case *c, const char *src,
			    const struct engine *eng)
{
	vfm_config_t cfg = {.flow_capacity = c->flow_capacity, .budget = c->budget,
			    .budget_set = c->budget_set};
	vfm_diag_t diag;
	vfm_state_t *vm = vfm_create_with(&cfg, &diag);
	if (!vm)
		fail_msg("%s: vfm_create_with: %s", c->name, diag.message);
	size_t len;
	uint8_t *bin = ts_assemble(src, &len);
	if (vfm_load_program(vm, bin, len) != VFM_OK)
		fail_msg("%s: load: %s", c->name, vfm_last_error(vm));
	free(bin);
	if (eng->prepare && eng->prepare(vm) != VFM_OK)
		fail_msg("%s on %s: %s", c->name, eng->name, vfm_last_error(vm));
	return vm;
}

/* The case on the kernel: verdict and status per packet (the kernel
 * counts no instructions), and afterwards every flow map equal, entry by
 * entry and counter by counter, to the interpreter's table after the same
 * packets. */
static void run_case_kernel(const struct sem_case *c, const char *src, const struct engine *eng)
{
	if (!kernel_ok())
		return; /* test_kernel_engine_available says why (skipped) */
	if (c->kernel_cannot_run) {
		kernel_not_run++;
		return;
	}
	size_t len;
	uint8_t *bin = ts_assemble(src, &len);
	vfm_program_t *prog;
	vfm_diag_t diag;
	if (vfm_program_create(bin, len, &prog, &diag) != VFM_OK)
		fail_msg("%s: load: %s", c->name, diag.message);
	free(bin);
	struct kengine_config kcfg = {
		.budget = c->budget_set ? c->budget : VFM_DEFAULT_BUDGET,
		.helper_loads = eng->helper_loads != 0, .flow_capacity = c->flow_capacity};
	struct kengine k;
	enum kengine_stage stage;
	vfm_error_t err = kengine_load(&k, prog, &kcfg, &stage, &diag);
	vfm_program_release(prog);
	if (c->kernel_refuses) {
		/* Marked unsupported: the compiler must say so, by name. */
		if (err == VFM_OK)
			kengine_close(&k);
		if (err != c->kernel_refuses || stage != KENGINE_COMPILE)
			fail_msg("%s on %s: expected the eBPF compiler to refuse it with %s, got %s: %s",
				 c->name, eng->name, vfm_error_name(c->kernel_refuses),
				 vfm_error_name(err), err == VFM_OK ? "accepted" : diag.message);
		kernel_refused++;
		return;
	}
	if (err != VFM_OK)
		fail_msg("%s on %s: %s refused it: %s\n%s", c->name, eng->name,
			 stage == KENGINE_COMPILE ? "the eBPF compiler" : "the kernel", diag.message,
			 stage == KENGINE_KERNEL ? kengine_log() : "");
	vfm_state_t *vm = make_vm(c, src, &engines[0]); /* the interpreter */
	for (int i = 0; i < MAX_PKTS && c->pkts[i].hex; i++) {
		const struct pkt_case *p = &c->pkts[i];
		uint8_t buf[256];
		size_t n = parse_hex(p->hex, buf, sizeof buf);
		vfm_packet_t pkt = {.data = buf, .len = (uint32_t)n, .ts_ns = p->ts_ns,
				    .wire_len = c->wire_len};
		vfm_result_t r;
		assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
		if (kengine_run(&k, &pkt, &r, &diag) != VFM_OK)
			fail_msg("%s on %s, packet %d: %s", c->name, eng->name, i, diag.message);
		if (r.verdict != p->verdict || r.status != p->status)
			fail_msg("%s on %s, packet %d: got verdict %u status %s, expected verdict %u "
				 "status %s", c->name, eng->name, i, r.verdict,
				 vfm_status_name(r.status), p->verdict, vfm_status_name(p->status));
	}
	if (kengine_flow_check(&k, vm, &diag) != VFM_OK)
		fail_msg("%s on %s: %s", c->name, eng->name, diag.message);
	vfm_destroy(vm);
	kengine_close(&k);
	kernel_ran++;
}

static void run_case(const struct sem_case *c, const char *src, const struct engine *eng)
{
	if (eng->kernel) {
		run_case_kernel(c, src, eng);
		return;
	}
	vfm_state_t *vm = make_vm(c, src, eng);
	for (int i = 0; i < MAX_PKTS && c->pkts[i].hex; i++) {
		const struct pkt_case *p = &c->pkts[i];
		uint8_t buf[256];
		size_t n = parse_hex(p->hex, buf, sizeof buf);
		vfm_packet_t pkt = {.data = buf, .len = (uint32_t)n, .ts_ns = p->ts_ns,
				    .wire_len = c->wire_len};
		vfm_result_t r;
		assert_int_equal(vfm_execute_ex(vm, &pkt, &r), VFM_OK);
		uint64_t want_insns = eng->counts_insns ? p->insns : NO_INSNS;
		if (r.verdict != p->verdict || r.status != p->status ||
		    (want_insns != NO_INSNS && r.insns != want_insns))
			fail_msg("%s on %s, packet %d: got verdict %u status %s insns %llu, "
				 "expected verdict %u status %s insns %llu",
				 c->name, eng->name, i, r.verdict, vfm_status_name(r.status),
				 (unsigned long long)r.insns, p->verdict,
				 vfm_status_name(p->status), (unsigned long long)p->insns);
		/* The plain entry point agrees with the detailed one on a
		 * fresh VM (flow state differs on later packets). */
		if (i == 0 && c->n_flows == 0 && !c->check_stats && p->ts_ns == 0 &&
		    c->wire_len == 0) {
			vfm_state_t *vm2 = make_vm(c, src, eng);
			assert_int_equal(vfm_execute(vm2, buf, (uint32_t)n), p->verdict);
			vfm_destroy(vm2);
		}
	}
	for (int f = 0; f < c->n_flows; f++) {
		uint64_t v;
		if (!vfm_flow_peek(vm, c->flows[f].key, &v))
			fail_msg("%s on %s: flow key %llu missing", c->name, eng->name,
				 (unsigned long long)c->flows[f].key);
		assert_int_equal(v, c->flows[f].value);
	}
	vfm_flow_stats_t st;
	assert_int_equal(vfm_flow_stats(vm, &st), VFM_OK);
	if (c->n_flows)
		assert_int_equal(st.entries, (uint64_t)c->n_flows);
	if (c->check_stats) {
		assert_int_equal(st.entries, c->stats.entries);
		assert_int_equal(st.hits, c->stats.hits);
		assert_int_equal(st.misses, c->stats.misses);
		assert_int_equal(st.inserts, c->stats.inserts);
		assert_int_equal(st.updates, c->stats.updates);
		assert_int_equal(st.evictions, c->stats.evictions);
	}
	vfm_destroy(vm);
}

/* 256 pushes then 255 ADDs: the deepest legal stack. */
static char *deep_stack_source(void)
{
	size_t cap = 256 * 8 + 255 * 4 + 8;
	char *s = malloc(cap), *p = s;
	assert_non_null(s);
	for (int i = 0; i < 256; i++)
		p += sprintf(p, "PUSH 1\n");
	for (int i = 0; i < 255; i++)
		p += sprintf(p, "ADD\n");
	sprintf(p, "RET\n");
	return s;
}

static void test_table(void **state)
{
	(void)state;
	for (size_t e = 0; e < sizeof engines / sizeof engines[0]; e++) {
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			const struct sem_case *c = &cases[i];
			char *generated = c->src ? NULL : deep_stack_source();
			run_case(c, c->src ? c->src : generated, &engines[e]);
			free(generated);
		}
	}
	if (kernel_ok())
		print_message("kernel engines: %u case runs, %u refused by the eBPF compiler as "
			      "marked (stack over 512 bytes), %u the harness "
			      "cannot express\n", kernel_ran, kernel_refused, kernel_not_run);
}

/* The kernel engines need bpf(): where it is refused they skip, saying why. */
static void test_kernel_engine_available(void **state)
{
	(void)state;
	if (!kernel_ok()) {
		print_message("kernel engines skipped: %s\n", kernel_why);
		skip();
	}
}

/* Each binary ALU op, fused (PUSH a; PUSH b; OP) and unfused (b, a, SWAP,
 * OP), compared against the expected value with JEQ. */
static void test_alu_both_forms(void **state)
{
	(void)state;
	for (size_t e = 0; e < sizeof engines / sizeof engines[0]; e++) {
		for (size_t i = 0; i < sizeof alu_cases / sizeof alu_cases[0]; i++) {
			const struct binop_case *k = &alu_cases[i];
			char src[512], name[64];
			for (int fused = 0; fused < 2; fused++) {
				if (fused)
					snprintf(src, sizeof src,
						 "PUSH %llu\nPUSH %llu\n%s\nPUSH %llu\nJEQ ok\nRET 0\nok:\nRET 1\n",
						 (unsigned long long)k->a, (unsigned long long)k->b,
						 k->op, (unsigned long long)k->result);
				else
					snprintf(src, sizeof src,
						 "PUSH %llu\nPUSH %llu\nSWAP\n%s\nSTM 0\nLDM 0\nPUSH %llu\nJEQ ok\nRET 0\nok:\nRET 1\n",
						 (unsigned long long)k->b, (unsigned long long)k->a,
						 k->op, (unsigned long long)k->result);
				snprintf(name, sizeof name, "%s(%zu,%s)", k->op, i,
					 fused ? "fused" : "unfused");
				struct sem_case c = {.name = name, .src = src};
				c.pkts[0] = (struct pkt_case){"", 0, 1, OK, fused ? 6 : 9};
				run_case(&c, src, &engines[e]);
			}
		}
	}
}

/* Each conditional jump, fused and unfused, taken and not taken. */
static void test_jumps_both_forms(void **state)
{
	(void)state;
	for (size_t e = 0; e < sizeof engines / sizeof engines[0]; e++) {
		for (size_t i = 0; i < sizeof jump_cases / sizeof jump_cases[0]; i++) {
			const struct binop_case *k = &jump_cases[i];
			char src[512], name[64];
			for (int fused = 0; fused < 2; fused++) {
				snprintf(src, sizeof src,
					 fused ? "PUSH %llu\nPUSH %llu\n%s yes\nRET 2\nyes:\nRET 1\n"
					       : "PUSH %llu\nPUSH %llu\nDUP\nPOP\n%s yes\nRET 2\nyes:\nRET 1\n",
					 (unsigned long long)k->a, (unsigned long long)k->b, k->op);
				snprintf(name, sizeof name, "%s(%zu,%s)", k->op, i,
					 fused ? "fused" : "unfused");
				struct sem_case c = {.name = name, .src = src};
				c.pkts[0] = (struct pkt_case){"", 0, k->result ? 1u : 2u, OK,
							      fused ? 4u : 6u};
				run_case(&c, src, &engines[e]);
			}
		}
	}
}

/* Every opcode in the table must occur in some case above. */
static void test_every_opcode_covered(void **state)
{
	(void)state;
	int seen[256] = {0};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (!cases[i].src)
			continue;
		size_t len;
		uint8_t *bin = ts_assemble(cases[i].src, &len);
		vfm_program_t *prog;
		assert_int_equal(vfm_program_create(bin, len, &prog, NULL), VFM_OK);
		/* Walk the code section of the file: header is 24 bytes. */
		uint32_t code_size = (uint32_t)bin[8] | (uint32_t)bin[9] << 8 |
				     (uint32_t)bin[10] << 16 | (uint32_t)bin[11] << 24;
		for (uint32_t pc = 0; pc < code_size;) {
			uint8_t op = bin[24 + pc];
			seen[op] = 1;
			pc += vfm_insn_size(op);
		}
		vfm_program_release(prog);
		free(bin);
	}
	for (size_t i = 0; i < sizeof alu_cases / sizeof alu_cases[0]; i++)
		for (int op = 0; op < 256; op++)
			if (vfm_opinfo[op].valid && !strcmp(vfm_opinfo[op].mnemonic, alu_cases[i].op))
				seen[op] = 1;
	for (size_t i = 0; i < sizeof jump_cases / sizeof jump_cases[0]; i++)
		for (int op = 0; op < 256; op++)
			if (vfm_opinfo[op].valid && !strcmp(vfm_opinfo[op].mnemonic, jump_cases[i].op))
				seen[op] = 1;
	for (int op = 0; op < 256; op++)
		if (vfm_opinfo[op].valid && !seen[op])
			fail_msg("opcode %s (0x%02x) has no semantic test case", vfm_opinfo[op].name, op);
}

/* HASH5 through the VM equals the library's reference function. */
static void test_hash5_opcode_matches_function(void **state)
{
	(void)state;
	static const char *packets[] = {
		/* IPv4 TCP 10.0.0.1:1234 -> 192.168.1.2:80 */
		"00112233445500665544332208004500002800004000400600000a000001c0a8010204d200500000000000000000500220000000000000",
		/* 802.1Q IPv4 UDP */
		"0011223344550066554433228100000508004500001c00000000401100000a000001c0a80102003500350008",
	};
	for (size_t e = 0; e < sizeof engines / sizeof engines[0]; e++) {
		for (size_t i = 0; i < sizeof packets / sizeof packets[0]; i++) {
			uint8_t buf[256];
			size_t n = parse_hex(packets[i], buf, sizeof buf);
			uint64_t h = vfm_hash5(buf, (uint32_t)n);
			assert_true(h != 0);
			char src[256];
			snprintf(src, sizeof src,
				 "HASH5\nPUSH %llu\nJEQ ok\nRET 0\nok:\nRET 1\n",
				 (unsigned long long)h);
			struct sem_case c = {.name = "hash5", .src = src};
			c.pkts[0] = (struct pkt_case){packets[i], 0, 1, OK, 4};
			run_case(&c, src, &engines[e]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_engine_available),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_alu_both_forms),
		cmocka_unit_test(test_jumps_both_forms),
		cmocka_unit_test(test_every_opcode_covered),
		cmocka_unit_test(test_hash5_opcode_matches_function),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
