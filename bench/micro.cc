// bench/micro.cc — vfm-micro: Google Benchmark microbenchmarks over libvfm.
//
//   dispatch/<family>/<engine>  CPU ns per executed instruction, straight-line
//                               programs of one opcode family (each block is
//                               balanced, so some families include DUP/POP:
//                               the block is in the benchmark's label)
//   verify/<n>                  vfm_program_create (parse + verify + decode)
//                               of an n-instruction program, 1..65,536
//   verify/<shape>/<n>          the same for the adversarial shapes of
//                               tests/test_vcost.c (testkit/vshapes.h),
//                               256..1,048,576 (the instruction limit): ns
//                               and verifier work units per instruction
//   jit/<n>                     vfm_enable_jit on an n-instruction program
//                               (skipped with a message while there is no JIT)
//   flow/<case>                 FLOW_LOAD / FLOW_STORE per packet, batch API
//   hash5/<packet>              vfm_hash5() on one packet kind, and over a mix
//
// Options: --quick (short minimum time per benchmark, for CI), then any
// --benchmark_* flag of Google Benchmark.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "vfm.h"
#include "switch_api.h"
extern "C" {
#include "pktgen.h"
#include "vshapes.h"
// Internal (vm/program.h), used to split load time into checksum and the rest.
uint32_t vfm_crc32(const uint8_t *p, size_t n);
}

namespace {

// Minimum time per benchmark, seconds (--quick lowers it).
double g_min_time = 0.2;
// Why the JIT benchmarks are skipped; empty when vfm_enable_jit works.
std::string g_no_jit;

// CPU time of this thread, ns: per-item counters use it (like the "CPU"
// column) so that time the thread spends preempted on a shared machine
// does not count.
struct Clock {
	using time_point = double;
	static double now()
	{
		timespec ts;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
	}
};

// CPU ns since t0 per item.  Own counters, because Google Benchmark prints
// inverted rate counters in seconds.
double NsPer(Clock::time_point t0, double items)
{
	return items > 0 ? (Clock::now() - t0) / items : 0;
}

// The two interpreter builds (and the JIT, when it exists) behind one
// table, so each benchmark body is written once.
struct Api {
	const char *name;
	bool jit;
	vfm_error_t (*program_create)(const uint8_t *, size_t, vfm_program_t **, vfm_diag_t *);
	void (*program_release)(vfm_program_t *);
	vfm_state_t *(*create_with)(const vfm_config_t *, vfm_diag_t *);
	void (*destroy)(vfm_state_t *);
	vfm_error_t (*attach)(vfm_state_t *, vfm_program_t *);
	vfm_error_t (*execute_ex)(vfm_state_t *, const vfm_packet_t *, vfm_result_t *);
	vfm_error_t (*execute_batch)(vfm_state_t *, const vfm_packet_t *, size_t, vfm_result_t *);
	void (*flow_clear)(vfm_state_t *);
	vfm_error_t (*flow_stats)(const vfm_state_t *, vfm_flow_stats_t *);
};

const Api kGoto = {"goto", false, vfm_program_create, vfm_program_release,
		   vfm_create_with, vfm_destroy, vfm_attach_program, vfm_execute_ex,
		   vfm_execute_batch, vfm_flow_clear, vfm_flow_stats};
const Api kSwitch = {"switch", false, sw_vfm_program_create, sw_vfm_program_release,
		     sw_vfm_create_with, sw_vfm_destroy, sw_vfm_attach_program,
		     sw_vfm_execute_ex, sw_vfm_execute_batch, sw_vfm_flow_clear,
		     sw_vfm_flow_stats};
const Api kJit = {"jit", true, vfm_program_create, vfm_program_release,
		  vfm_create_with, vfm_destroy, vfm_attach_program, vfm_execute_ex,
		  vfm_execute_batch, vfm_flow_clear, vfm_flow_stats};

// 10.0.0.1:12345 -> 192.168.1.2:80, TCP, IHL 5 (docs/ISA.md vector ipv4_tcp).
const uint8_t kIpv4Tcp[54] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
	0x00, 0x01, 0xc0, 0xa8, 0x01, 0x02, 0x30, 0x39, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
// [2001:db8::1]:40000 -> [2001:db8::2]:443, TCP (vector ipv6_tcp).
const uint8_t kIpv6Tcp[74] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x86, 0xdd,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x9c, 0x40,
	0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x00};
// VLAN 100, 192.0.2.1:50000 -> 198.51.100.7:443, TCP (vector vlan_ipv4_tcp).
const uint8_t kVlanTcp[58] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x81, 0x00,
	0x00, 0x64, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x07, 0xc3, 0x50, 0x01, 0xbb,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0x00, 0x00,
	0x00, 0x00};
// ARP request: not IP, HASH5 = 0 after the EtherType test (vector arp).
const uint8_t kArp[42] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02};

std::vector<uint8_t> Assemble(const std::string &src)
{
	uint8_t *bin = nullptr;
	size_t len = 0;
	vfm_diag_t diag;
	if (vfm_assemble(src.data(), src.size(), "micro", 0, &bin, &len, &diag) != VFM_OK) {
		std::fprintf(stderr, "vfm-micro: internal assembly error: %s\n", diag.message);
		std::exit(2);
	}
	std::vector<uint8_t> out(bin, bin + len);
	std::free(bin);
	return out;
}

// A program attached to a fresh VM of one engine; empty error = ready.
struct Loaded {
	const Api *api = nullptr;
	vfm_program_t *prog = nullptr;
	vfm_state_t *vm = nullptr;
	std::string error;

	Loaded(const Api &a, const std::string &src, uint32_t flow_capacity = 0) : api(&a)
	{
		std::vector<uint8_t> bin = Assemble(src);
		vfm_diag_t diag;
		if (a.program_create(bin.data(), bin.size(), &prog, &diag) != VFM_OK) {
			error = std::string("verifier: ") + diag.message;
			return;
		}
		vfm_config_t cfg = {};
		cfg.flow_capacity = flow_capacity;
		vm = a.create_with(&cfg, &diag);
		if (!vm || a.attach(vm, prog) != VFM_OK) {
			error = "cannot create the VM";
			return;
		}
		if (a.jit && vfm_enable_jit(vm) != VFM_OK)
			error = std::string("skipped: ") + vfm_last_error(vm);
	}
	~Loaded()
	{
		if (vm)
			api->destroy(vm);
		if (prog)
			api->program_release(prog);
	}
	Loaded(const Loaded &) = delete;
	Loaded &operator=(const Loaded &) = delete;
};

// ---- Dispatch cost per opcode family --------------------------------------

struct Family {
	const char *name;
	const char *prefix; // run once, before the blocks
	const char *block;  // repeated; "%d" is replaced by the block number
};

// Balanced blocks (same stack depth before and after), repeated 256 times.
const Family kFamilies[] = {
	{"stack", "", "PUSH 1\nDUP\nSWAP\nOVER\nPOP\nPOP\nPOP\n"},
	{"scratch", "", "PUSH 7\nSTM 3\nLDM 3\nPOP\n"},
	{"load", "", "LD8 14\nLD16 12\nLD32 26\nLD64 30\nPOP\nPOP\nPOP\nPOP\n"},
	{"loadx", "", "PUSH 4\nLD16X 12\nPOP\n"},
	{"alu", "LD32 26\n",
	 "DUP\nADD\nDUP\nSUB\nDUP\nAND\nDUP\nOR\nDUP\nXOR\nDUP\nMUL\nNOT\nNEG\n"},
	{"alu-div", "LD32 26\n", "DUP\nDIV\nDUP\nMOD\n"},
	{"alu-fused", "LD32 26\n",
	 "PUSH 3\nADD\nPUSH 5\nXOR\nPUSH 0xFFFF\nAND\nPUSH 1\nSHL\nPUSH 7\nDIV\n"},
	{"jump", "LD8 14\n",
	 "JMP a%d\na%d:\nDUP\nDUP\nJEQ b%d\nb%d:\nDUP\nPUSH 0\nJEQ c%d\nc%d:\n"},
	{"special", "", "LEN\nPOP\nTS\nPOP\n"},
	{"hash5", "", "HASH5\nPOP\n"},
	{"flow-load", "", "PUSH 42\nFLOW_LOAD\nPOP\n"},
};

std::string Repeat(const Family &f, int times)
{
	std::string src = f.prefix;
	for (int i = 0; i < times; i++) {
		std::string b = f.block;
		std::string id = std::to_string(i);
		for (size_t pos; (pos = b.find("%d")) != std::string::npos;)
			b.replace(pos, 2, id);
		src += b;
	}
	return src + "RET 1\n";
}

// Runs the program on one packet per iteration; reports ns per executed
// instruction (fused PUSH+op pairs count as the two instructions they are).
void BM_Dispatch(benchmark::State &state, const Api *api, std::string src)
{
	Loaded L(*api, src);
	if (!L.error.empty()) {
		state.SkipWithError(L.error.c_str());
		return;
	}
	vfm_packet_t pkt = {kIpv4Tcp, sizeof kIpv4Tcp, 1, 0};
	// Instructions per run from the interpreter: a JIT need not count
	// them (docs/ISA.md 7.3, "where defined") and the path is the same.
	vfm_result_t r = {};
	Loaded ref(kGoto, src);
	kGoto.execute_ex(ref.vm, &pkt, &r);
	const uint64_t per_run = r.insns;
	auto t0 = Clock::now();
	for (auto _ : state) {
		api->execute_ex(L.vm, &pkt, &r);
		benchmark::DoNotOptimize(r.verdict);
	}
	state.counters["ns/insn"] =
		NsPer(t0, static_cast<double>(state.iterations()) * static_cast<double>(per_run));
	if (r.status != VFM_STATUS_OK)
		state.SkipWithError("program did not end with RET");
	state.counters["insns/run"] = static_cast<double>(per_run);
}

// A loop that takes `n` backward jumps: the per-jump budget check.
const char kLoopSrc[] = "PUSH 256\nloop:\nPUSH 1\nSUB\nDUP\nPUSH 0\nJNE loop\nRET 1\n";

void BM_Backward(benchmark::State &state, const Api *api)
{
	Loaded L(*api, kLoopSrc);
	if (!L.error.empty()) {
		state.SkipWithError(L.error.c_str());
		return;
	}
	vfm_packet_t pkt = {kIpv4Tcp, sizeof kIpv4Tcp, 0, 0};
	vfm_result_t r = {};
	Loaded ref(kGoto, kLoopSrc);
	kGoto.execute_ex(ref.vm, &pkt, &r);
	const uint64_t per_run = r.insns; // from the interpreter, as BM_Dispatch
	auto t0 = Clock::now();
	for (auto _ : state) {
		api->execute_ex(L.vm, &pkt, &r);
		benchmark::DoNotOptimize(r.verdict);
	}
	state.counters["ns/insn"] =
		NsPer(t0, static_cast<double>(state.iterations()) * static_cast<double>(per_run));
	state.counters["insns/run"] = static_cast<double>(per_run);
}

// The fixed cost of one vfm_execute_ex call: RET 1.
void BM_Call(benchmark::State &state, const Api *api)
{
	Loaded L(*api, "RET 1\n");
	if (!L.error.empty()) {
		state.SkipWithError(L.error.c_str());
		return;
	}
	vfm_packet_t pkt = {kIpv4Tcp, sizeof kIpv4Tcp, 0, 0};
	vfm_result_t r = {};
	for (auto _ : state) {
		api->execute_ex(L.vm, &pkt, &r);
		benchmark::DoNotOptimize(r.verdict);
	}
}

// ---- Verification and JIT time against program size -----------------------

// A verifiable program of exactly n instructions shaped like real filters:
// loads, PUSH + compare-and-branch to a shared exit, some ALU.
std::vector<uint8_t> SizedProgram(int64_t n)
{
	static const char *const body[] = {
		"LD16 12", "PUSH 0x800", "JNE drop", "LD8 14", "PUSH 15", "AND",
		"PUSH 2", "SHL", "LD16X 16", "PUSH 80", "JNE drop", "LD8 23",
		"PUSH 6", "JNE drop",
	};
	const int64_t nb = sizeof body / sizeof body[0];
	std::string src;
	if (n <= 1)
		return Assemble("RET 1\n");
	for (int64_t i = 0; i < n - 2; i++) {
		// A cut inside a block may leave values on the stack at RET 1: fine.
		// Every JNE pops to depth 0, which is the depth at drop.
		src += body[i % nb];
		src += '\n';
	}
	src += "RET 1\ndrop:\nRET 0\n";
	return Assemble(src);
}

void BM_Verify(benchmark::State &state)
{
	std::vector<uint8_t> bin = SizedProgram(state.range(0));
	vfm_diag_t diag;
	auto t0 = Clock::now();
	for (auto _ : state) {
		vfm_program_t *prog = nullptr;
		if (vfm_program_create(bin.data(), bin.size(), &prog, &diag) != VFM_OK) {
			state.SkipWithError(diag.message);
			break;
		}
		vfm_program_release(prog);
	}
	state.counters["ns/insn"] = NsPer(t0, static_cast<double>(state.iterations()) *
						      static_cast<double>(state.range(0)));
	state.SetComplexityN(state.range(0));
}

// verify/<shape>/<n>: vfm_program_create of the adversarial shapes of
// tests/test_vcost.c (testkit/vshapes.h) at n instructions (or fewer: a
// shape stops at a whole unit), with ns and verifier work units per
// instruction.  A shape over the verifier's budget reports the refusal.
void BM_VerifyShape(benchmark::State &state, enum vshape shape)
{
	uint32_t insns = 0;
	char *src = vshape_source(shape, static_cast<uint32_t>(state.range(0)), &insns);
	if (!src) {
		state.SkipWithError("out of memory");
		return;
	}
	std::vector<uint8_t> bin = Assemble(src);
	std::free(src);
	vfm_diag_t diag;
	uint64_t work = 0;
	auto t0 = Clock::now();
	for (auto _ : state) {
		vfm_program_t *prog = nullptr;
		if (vfm_program_create(bin.data(), bin.size(), &prog, &diag) != VFM_OK) {
			state.SkipWithError(diag.message);
			return;
		}
		work = vshape_work(prog);
		vfm_program_release(prog);
	}
	double n = static_cast<double>(insns);
	state.counters["ns/insn"] = NsPer(t0, static_cast<double>(state.iterations()) * n);
	state.counters["work/insn"] = static_cast<double>(work) / n;
	state.counters["insns"] = n;
	state.SetComplexityN(insns);
}

// The file checksum alone, over the same n-instruction image: how much of
// verify/<n> is the CRC-32 (docs/ISA.md section 10) rather than verification.
void BM_Crc(benchmark::State &state)
{
	std::vector<uint8_t> bin = SizedProgram(state.range(0));
	auto t0 = Clock::now();
	for (auto _ : state)
		benchmark::DoNotOptimize(vfm_crc32(bin.data() + 24, bin.size() - 24));
	state.counters["ns/insn"] = NsPer(t0, static_cast<double>(state.iterations()) *
						      static_cast<double>(state.range(0)));
	state.counters["bytes"] = static_cast<double>(bin.size());
}

void BM_Jit(benchmark::State &state)
{
	std::vector<uint8_t> bin = SizedProgram(state.range(0));
	vfm_diag_t diag;
	vfm_config_t small = {};
	small.flow_capacity = 4; // VM creation is not what is measured
	for (auto _ : state) {
		// A fresh program and VM each time, so no compiled code is reused;
		// only vfm_enable_jit itself is timed (manual time).
		vfm_program_t *prog = nullptr;
		vfm_state_t *vm = vfm_create_with(&small, &diag);
		if (!vm || vfm_program_create(bin.data(), bin.size(), &prog, &diag) != VFM_OK ||
		    vfm_attach_program(vm, prog) != VFM_OK) {
			state.SkipWithError("cannot load the program");
			vfm_destroy(vm);
			vfm_program_release(prog);
			break;
		}
		auto t0 = std::chrono::steady_clock::now();
		vfm_error_t err = vfm_enable_jit(vm);
		auto t1 = std::chrono::steady_clock::now();
		if (err != VFM_OK) {
			std::string msg = std::string("skipped: ") + vfm_error_name(err) + ": " +
					  vfm_last_error(vm);
			state.SkipWithError(msg.c_str());
			vfm_destroy(vm);
			vfm_program_release(prog);
			break;
		}
		state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
		vfm_destroy(vm);
		vfm_program_release(prog);
	}
	state.SetComplexityN(state.range(0));
}

// ---- Flow table ------------------------------------------------------------

// n copies of the IPv4 packet whose source address (offset 26) is the key:
// key i for i in [0, n).
struct KeyedPackets {
	std::vector<uint8_t> buf;
	std::vector<vfm_packet_t> pkts;
	explicit KeyedPackets(size_t n) : buf(n * sizeof kIpv4Tcp), pkts(n)
	{
		for (size_t i = 0; i < n; i++) {
			uint8_t *p = &buf[i * sizeof kIpv4Tcp];
			std::memcpy(p, kIpv4Tcp, sizeof kIpv4Tcp);
			uint32_t k = static_cast<uint32_t>(i) * 2654435761u; // spread keys
			p[26] = static_cast<uint8_t>(k >> 24);
			p[27] = static_cast<uint8_t>(k >> 16);
			p[28] = static_cast<uint8_t>(k >> 8);
			p[29] = static_cast<uint8_t>(k);
			pkts[i] = vfm_packet_t{p, sizeof kIpv4Tcp, 0, 0};
		}
	}
};

const char kFlowBase[] = "LD32 26\nRET\n";
const char kFlowLoad[] = "LD32 26\nFLOW_LOAD\nRET\n";
const char kFlowStore[] = "LD32 26\nPUSH 1\nFLOW_STORE\nRET 1\n";
const char kFlowCount[] = "LD32 26\nDUP\nFLOW_LOAD\nPUSH 1\nADD\nFLOW_STORE\nRET 1\n";

// keys distinct keys, table of `capacity` entries; prefill: store every key
// first.  Reports ns per packet (one FLOW op or pair per packet) and the
// table's hit rate.
void BM_Flow(benchmark::State &state, std::string src, size_t keys, uint32_t capacity,
	     bool prefill)
{
	Loaded L(kGoto, src, capacity);
	if (!L.error.empty()) {
		state.SkipWithError(L.error.c_str());
		return;
	}
	KeyedPackets kp(keys);
	std::vector<vfm_result_t> res(keys);
	if (prefill) {
		// Fill L's own table: run the store program on L's VM, then put the
		// measured program back.
		std::vector<uint8_t> bin = Assemble(kFlowStore);
		vfm_program_t *store = nullptr;
		vfm_diag_t diag;
		if (vfm_program_create(bin.data(), bin.size(), &store, &diag) != VFM_OK) {
			state.SkipWithError(diag.message);
			return;
		}
		vfm_attach_program(L.vm, store);
		vfm_execute_batch(L.vm, kp.pkts.data(), keys, res.data());
		vfm_attach_program(L.vm, L.prog);
		vfm_program_release(store);
	}
	vfm_flow_stats_t before, after;
	vfm_flow_stats(L.vm, &before);
	auto t0 = Clock::now();
	for (auto _ : state)
		vfm_execute_batch(L.vm, kp.pkts.data(), keys, res.data());
	state.counters["ns/pkt"] = NsPer(t0, static_cast<double>(state.iterations() * keys));
	vfm_flow_stats(L.vm, &after);
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys));
	double loads = static_cast<double>((after.hits - before.hits) + (after.misses - before.misses));
	if (loads > 0)
		state.counters["hit%"] = 100.0 * static_cast<double>(after.hits - before.hits) / loads;
	double stores = static_cast<double>((after.inserts - before.inserts) +
					    (after.updates - before.updates));
	if (stores > 0)
		state.counters["evict%"] = 100.0 *
					   static_cast<double>(after.evictions - before.evictions) /
					   stores;
}

// ---- HASH5 -------------------------------------------------------------------

void BM_Hash5(benchmark::State &state, const uint8_t *p, uint32_t len)
{
	for (auto _ : state)
		benchmark::DoNotOptimize(vfm_hash5(p, len));
}

// Over a generated traffic mix (every packet kind, truncated frames too).
void BM_Hash5Mix(benchmark::State &state)
{
	pktgen_config cfg = {};
	cfg.seed = 7;
	cfg.count = 4096;
	pktgen_set set;
	if (pktgen_generate(&cfg, &set) != 0) {
		state.SkipWithError("out of memory");
		return;
	}
	auto t0 = Clock::now();
	for (auto _ : state)
		for (size_t i = 0; i < set.count; i++)
			benchmark::DoNotOptimize(vfm_hash5(set.pkts[i].data, set.pkts[i].len));
	state.counters["ns/pkt"] = NsPer(t0, static_cast<double>(state.iterations() * set.count));
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * set.count));
	pktgen_free(&set);
}

// Does vfm_enable_jit work here?  Sets g_no_jit to the reason if not.
void ProbeJit()
{
	Loaded L(kJit, "RET 1\n");
	g_no_jit = L.error;
}

void Register()
{
	std::vector<const Api *> apis = {&kGoto, &kSwitch};
	if (g_no_jit.empty())
		apis.push_back(&kJit); // the JIT columns appear by themselves
	for (const Family &f : kFamilies)
		for (const Api *a : apis) {
			std::string name = std::string("dispatch/") + f.name + "/" + a->name;
			benchmark::RegisterBenchmark(name.c_str(), BM_Dispatch, a, Repeat(f, 256))
				->MinTime(g_min_time);
		}
	for (const Api *a : apis) {
		benchmark::RegisterBenchmark((std::string("dispatch/backward-jump/") + a->name).c_str(),
					     BM_Backward, a)
			->MinTime(g_min_time);
		benchmark::RegisterBenchmark((std::string("call/ret1/") + a->name).c_str(), BM_Call, a)
			->MinTime(g_min_time);
	}
	benchmark::RegisterBenchmark("verify", BM_Verify)
		->RangeMultiplier(4)
		->Range(1, 65536)
		->Complexity(benchmark::oN)
		->MinTime(g_min_time);
	for (int sh = 0; sh < VSHAPE_COUNT; sh++)
		benchmark::RegisterBenchmark(
			(std::string("verify/") + vshape_name(static_cast<enum vshape>(sh))).c_str(),
			BM_VerifyShape, static_cast<enum vshape>(sh))
			->RangeMultiplier(16)
			->Range(256, 1 << 20)
			->Complexity(benchmark::oN)
			->Unit(benchmark::kMillisecond)
			->MinTime(g_min_time);
	benchmark::RegisterBenchmark("verify-crc32-part", BM_Crc)
		->RangeMultiplier(16)
		->Range(1, 65536)
		->MinTime(g_min_time);
	if (g_no_jit.empty())
		benchmark::RegisterBenchmark("jit", BM_Jit)
			->RangeMultiplier(4)
			->Range(1, 65536)
			->UseManualTime()
			->Complexity(benchmark::oN)
			->MinTime(g_min_time);
	else // one entry that says why, in the console and the JSON
		benchmark::RegisterBenchmark("jit/compile-time", BM_Jit)->Arg(1)->MinTime(g_min_time);
	struct FlowCase {
		const char *name;
		const char *src;
		size_t keys;
		uint32_t capacity;
		bool prefill;
	} flows[] = {
		{"flow/baseline-ld32", kFlowBase, 2048, 0, false},
		{"flow/load-miss", kFlowLoad, 2048, 0, false},
		{"flow/load-hit", kFlowLoad, 2048, 0, true},
		{"flow/store-update", kFlowStore, 2048, 0, true},
		{"flow/store-insert-evict", kFlowStore, 65536, 0, false},
		{"flow/load+store-count", kFlowCount, 2048, 0, true},
		{"flow/load-hit-1M-entry-table", kFlowLoad, 1u << 19, 1u << 20, true},
	};
	for (const FlowCase &c : flows)
		benchmark::RegisterBenchmark(c.name, BM_Flow, std::string(c.src), c.keys,
					     c.capacity, c.prefill)
			->MinTime(g_min_time);
	benchmark::RegisterBenchmark("hash5/ipv4-tcp", BM_Hash5, kIpv4Tcp,
				     static_cast<uint32_t>(sizeof kIpv4Tcp))->MinTime(g_min_time);
	benchmark::RegisterBenchmark("hash5/ipv6-tcp", BM_Hash5, kIpv6Tcp,
				     static_cast<uint32_t>(sizeof kIpv6Tcp))->MinTime(g_min_time);
	benchmark::RegisterBenchmark("hash5/vlan-ipv4-tcp", BM_Hash5, kVlanTcp,
				     static_cast<uint32_t>(sizeof kVlanTcp))->MinTime(g_min_time);
	benchmark::RegisterBenchmark("hash5/arp", BM_Hash5, kArp,
				     static_cast<uint32_t>(sizeof kArp))->MinTime(g_min_time);
	benchmark::RegisterBenchmark("hash5/pktgen-mix", BM_Hash5Mix)->MinTime(g_min_time);
}

} // namespace

int main(int argc, char **argv)
{
	// Our own flag first; Google Benchmark rejects flags it does not know.
	int out = 1;
	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--quick"))
			g_min_time = 0.005;
		else
			argv[out++] = argv[i];
	}
	argc = out;
	ProbeJit();
	if (!g_no_jit.empty())
		std::fprintf(stderr, "vfm-micro: JIT benchmarks skipped (%s)\n", g_no_jit.c_str());
	Register();
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
