# VFM — Velocity Filter Machine.  See README.md.
#
#   make            library, tools, single header (build/)
#   make test       every test in four builds: normal, ASan+UBSan, switch
#                   dispatch, and the verifier's runtime oracle (ASan too);
#                   then the threads test under ThreadSanitizer
#   make check      tests of one build (BUILD=..., VARIANT=normal|asan|switch|oracle)
#   make check-threads  tests/test_threads under ThreadSanitizer (VARIANT=tsan)
#   make valgrind   the normal build's tests under valgrind memcheck
#   make install    PREFIX=/usr/local DESTDIR= (also LIBDIR, INCLUDEDIR, MANDIR)
#   make uninstall  the same variables
#   make clean
#
# WERROR=-Werror turns warnings into errors (CI sets it).

CC      ?= cc
AR      ?= ar
PREFIX  ?= /usr/local
BUILD   ?= build
VARIANT ?= normal
WERROR  ?=

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wpointer-arith -Wundef \
        -Werror=switch -Werror=implicit-function-declaration
OPT_normal := -O2
OPT_switch := -O2 -DVFM_SWITCH_DISPATCH
SAN        := -fsanitize=address,undefined
OPT_asan   := -O1 -fno-omit-frame-pointer $(SAN) -fno-sanitize-recover=all
# The runtime oracle checks the verifier's abstract state at every
# executed instruction (sanitizers on too).
OPT_oracle := $(OPT_asan) -DVFM_ORACLE
# ThreadSanitizer: only tests/test_threads is built and run (check-threads).
OPT_tsan   := -O1 -fno-omit-frame-pointer -fsanitize=thread
OPT := $(OPT_$(VARIANT))
CFLAGS  ?= -g
# Hidden visibility: only what include/vfm.h marks VFM_API is exported.
ALL_CFLAGS := -std=gnu11 $(OPT) $(CFLAGS) $(WARN) $(WERROR) -fvisibility=hidden \
              -Iinclude -Ivm -MMD -MP
LDFLAGS_VARIANT := $(if $(filter asan oracle,$(VARIANT)),$(SAN)) \
                   $(if $(filter tsan,$(VARIANT)),-fsanitize=thread) -lpthread
PCAP_LIBS := -lpcap

# The JIT back end for the target CPU (jit/<arch>.c), or jit/none.c.
JIT_ARCH  ?= $(patsubst aarch64,arm64,$(shell $(CC) -dumpmachine | cut -d- -f1))
JIT_BACKEND := $(if $(wildcard jit/$(JIT_ARCH).c),jit/$(JIT_ARCH).c,jit/none.c)
LIB_SRCS  := $(wildcard vm/*.c) $(wildcard verifier/*.c) jit/common.c $(JIT_BACKEND) \
             $(wildcard api/*.c)
# The eBPF back end (ebpf/, docs/EBPF.md) needs <linux/bpf.h>: in the
# library, not in the single header.
EBPF_SRCS := $(wildcard ebpf/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(EBPF_SRCS:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libvfm.a
SINGLE    := $(BUILD)/vfm_single.h

# The leaves (tools, tests, fuzz replayers, bench) share testkit/: program
# and packet generators, capture I/O, the PRNG.  It is an archive, so a
# binary takes only the members it uses; tools/cli.c is the tools' own
# archive.  Only the binaries in PCAP_USERS link libpcap (testkit/pcapio.c
# is its one user): vfm-asm and friends start without it.
TESTKIT_SRCS := $(wildcard testkit/*.c)
TESTKIT_OBJS := $(TESTKIT_SRCS:%.c=$(BUILD)/obj/%.o)
TESTKIT_LIB  := $(BUILD)/libvfm_testkit.a
TOOL_SUPPORT_SRCS := tools/cli.c tools/pcapexpr.c
TOOL_SUPPORT_OBJS := $(TOOL_SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
TOOL_SUPPORT_LIB  := $(BUILD)/libvfm_tools.a
LEAF_CFLAGS = $(ALL_CFLAGS) -Itestkit
PCAP_USERS := vfm-test vfm-gen vfm-filtertest test_pktgen test_vfm_test_tool replay_pcap \
              test_z3_cbpf
pcap_libs = $(if $(filter $(PCAP_USERS),$(notdir $@)),$(PCAP_LIBS))

TOOL_NAMES := vfm-asm vfm-dis vfm-verify vfm-test vfm-gen vfm-progen vfm-filtertest vfm-compile
TOOLS      := $(TOOL_NAMES:%=$(BUILD)/bin/%)
TOOL_OBJS  := $(TOOL_NAMES:%=$(BUILD)/obj/tools/%.o)

TEST_SRCS := $(filter-out tests/test_support.c tests/test_single_header.c,$(wildcard tests/test_*.c))
TESTS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/test_support.o
TEST_SUPPORT_OBJS := $(BUILD)/obj/tests/test_support.o $(TESTKIT_LIB)

.PHONY: all lib tools single test check install clean demo
all: lib tools single

lib: $(LIB)
tools: $(TOOLS)
single: $(SINGLE)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(TOOL_SUPPORT_LIB) $(TESTKIT_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) $(pcap_libs)

# The single-header distribution is generated from the real sources.
$(SINGLE): tools/amalgamate.sh include/vfm.h $(wildcard vm/*.h vm/*.def) $(LIB_SRCS)
	@mkdir -p $(dir $@)
	sh tools/amalgamate.sh $(LIB_SRCS) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lcmocka $(pcap_libs)

# A program built against the single header alone (no libvfm.a).
$(BUILD)/tests/test_single_header: tests/test_single_header.c $(SINGLE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(BUILD) $< -o $@ $(LDFLAGS_VARIANT) -lcmocka

# The fuzz harnesses' plain-main replayers (fuzz/replay_main.c), built like
# the tests, replay every seed and regression input under corpus/<target>/
# and corpus/<target>-regressions/ in every build.
FUZZ_TARGETS := load diff asm pcap
# cBPF translation against libpcap's bpf_filter (docs/CBPF.md): the test
# and the replayer link libpcap; libvfm itself does not.
FUZZ_TARGETS += cbpf
PCAP_USERS += test_cbpf replay_cbpf
# cBPF output (ebpf/cbpf_emit.c) checked on bpf_filter.
PCAP_USERS += test_cbpf_emit
# The verifier's cost (docs/VERIFIER.md "Cost"): generated hard programs.
FUZZ_TARGETS += vcost
# The eBPF back end on generated programs, every attach point (the kernel
# too with VFM_FUZZ_KERNEL=1 as root).
FUZZ_TARGETS += ebpf
REPLAY := $(BUILD)/fuzz/replay_load
REPLAYS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
FUZZ_OBJS := $(FUZZ_TARGETS:%=$(BUILD)/obj/fuzz/fuzz_%.o) $(BUILD)/obj/fuzz/replay_main.o
$(REPLAYS): $(BUILD)/fuzz/replay_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/replay_main.o \
		$(TESTKIT_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) $(pcap_libs)

# The leaves' objects, named in a static pattern rule: explicit targets, so
# make never treats them as intermediate files to delete after a link (a
# second `make` has nothing to do).
LEAF_OBJS := $(TOOL_OBJS) $(TOOL_SUPPORT_OBJS) $(TESTKIT_OBJS) $(TEST_OBJS) $(FUZZ_OBJS)
$(LEAF_OBJS): $(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(LEAF_CFLAGS) -c $< -o $@

$(TESTKIT_LIB): $(TESTKIT_OBJS)
$(TOOL_SUPPORT_LIB): $(TOOL_SUPPORT_OBJS)
$(TESTKIT_LIB) $(TOOL_SUPPORT_LIB):
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Tests run from the repository root (they read examples/ and corpus/).
check: all $(TESTS) $(BUILD)/tests/test_single_header $(REPLAYS)
	sh tests/check_layers.sh $(BUILD)
	$(if $(filter normal,$(VARIANT)),sh tests/check_exports.sh $(BUILD) $(CC))
	$(if $(filter normal,$(VARIANT)),CC=$(CC) sh tests/check_table_binding.sh)
	@set -e; for t in $(TESTS) $(BUILD)/tests/test_single_header; do \
		echo "== $$t"; VFM_BIN=$(BUILD)/bin $$t; done
	@set -e; for t in $(FUZZ_TARGETS); do \
		dirs=corpus/$$t; [ ! -d corpus/$$t-regressions ] || dirs="$$dirs corpus/$$t-regressions"; \
		echo "== $(BUILD)/fuzz/replay_$$t $$dirs"; $(BUILD)/fuzz/replay_$$t $$dirs; done

# libFuzzer (clang, ASan + UBSan): every target for FUZZ_SECONDS each, one
# after the other; fails on the first finding (the -jobs parent prints the
# job's log).  Long campaigns and triage: fuzz/README.md.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	OUT=$(BUILD)/fuzz sh fuzz/build.sh
	mkdir -p $(BUILD)/fuzz/artifacts $(FUZZ_TARGETS:%=$(BUILD)/fuzz/corpus-%)
	@set -e; cd $(BUILD)/fuzz; for t in $(FUZZ_TARGETS); do \
		d=$$(cd $(CURDIR) && . fuzz/targets.sh && target_dict $$t); \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		VFM_FUZZ_STATS=1 ./fuzz_$$t -workers=1 -jobs=1 -dict=$$d -max_len=4096 \
			-timeout=25 -rss_limit_mb=2048 -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -artifact_prefix=artifacts/$$t- corpus-$$t $(CURDIR)/corpus/$$t; \
	done

# The OSS-Fuzz / ClusterFuzzLite build (.clusterfuzzlite/, fuzz/build.sh
# oss) from a clean copy of the tracked files with only the services'
# variables set, under ASan, UBSan and MSan, each target run briefly
# (ci/fuzz-oss.sh; FUZZ_OSS_SECONDS, FUZZ_OSS_SANITIZERS).
.PHONY: fuzz-oss
fuzz-oss:
	sh ci/fuzz-oss.sh

# Valgrind memcheck over the normal build's tests: uninitialised reads that
# ASan cannot see, leaks of JIT code pages.  Skipped: the Z3 tests (slow
# under valgrind, and Z3 is not VFM), test_domain (exhaustive 8-bit loops,
# minutes under valgrind) and test_progen (20,000 programs;
# test_jit covers generated programs).
VALGRIND_SKIP := test_z3check test_z3_corrupt test_z3_cbpf test_proofs_encoding test_progen test_domain \
	test_vcost
VALGRIND := valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=9
.PHONY: valgrind
valgrind: all $(TESTS) $(BUILD)/tests/test_single_header
	@set -e; for t in $(filter-out $(VALGRIND_SKIP:%=$(BUILD)/tests/%),$(TESTS)) \
			$(BUILD)/tests/test_single_header; do \
		echo "== valgrind $$t"; VFM_BIN=$(BUILD)/bin $(VALGRIND) $$t; done

test:
	$(MAKE) check BUILD=build VARIANT=normal
	$(MAKE) check BUILD=build/asan VARIANT=asan
	$(MAKE) check BUILD=build/switch VARIANT=switch
	$(MAKE) check BUILD=build/oracle VARIANT=oracle
	$(MAKE) check-threads BUILD=build/tsan VARIANT=tsan

# One program shared by threads (tests/test_threads.c) under ThreadSanitizer:
# any data race fails it (halt_on_error).
.PHONY: check-threads
check-threads: $(BUILD)/tests/test_threads
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(BUILD)/tests/test_threads

# The main job: the seed's quick-start filter over a generated capture.
DEMO_PACKETS ?= 200000
# Passes over the capture: pass 1 is reported as the cold pass, the
# throughput is the median (and range) of the other, warm ones.
DEMO_PASSES  ?= 6
demo: all
	$(BUILD)/bin/vfm-gen -n $(DEMO_PACKETS) -s 1 -o $(BUILD)/demo.pcap
	$(BUILD)/bin/vfm-asm examples/quickstart.vfm -o $(BUILD)/quickstart.bin
	$(BUILD)/bin/vfm-test --repeat $(DEMO_PASSES) $(BUILD)/quickstart.bin $(BUILD)/demo.pcap

# install, uninstall: see "Packaging" at the end.

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- Benchmarks (bench/README.md) -------------------------------------------
#   make bench        the whole suite, ~1.5 minutes: table on stdout; results in
#                     build/bench/ (results.json, micro.json, nspp.png)
#   make bench-quick  CI smoke run: everything briefly, verdicts checked,
#                     nothing asserted about time
#   BENCH_ARGS="--pin 1" passes options to vfm-bench (vfm-bench --help).
# The bench links libvfm twice: the normal (computed-goto) build and a copy
# compiled with -DVFM_SWITCH_DISPATCH whose global symbols objcopy renames
# vfm_* -> sw_vfm_*, so both interpreters run in one process.
BENCH_OUT      := $(BUILD)/bench
BENCH_ARGS     ?=
BENCH_CFLAGS   := -std=gnu11 -O2 $(CFLAGS) $(WARN) $(WERROR) -Iinclude -Ivm -Itestkit -Itools -MMD -MP
BENCH_CXXFLAGS := -std=c++17 -O2 $(CFLAGS) -Wall -Wextra $(WERROR) -Iinclude -Itestkit -Ibench -MMD -MP
# Bench code stays in plain .text (no .text.startup/.unlikely sections that
# the linker would place before libvfm); see BENCH_LINK_LIB.
BENCH_NOREORDER := -fno-reorder-functions -fno-reorder-blocks-and-partition
BENCH_SW_OBJS  := $(LIB_SRCS:%.c=$(BENCH_OUT)/swobj/%.o)
BENCH_SW       := $(BENCH_OUT)/libvfm_switch.o
BENCH_BIN      := $(BENCH_OUT)/vfm-bench
BENCH_MICRO    := $(BENCH_OUT)/vfm-micro
# The kernel column's binary and clang's object (rules below, with bench-kernel);
# defined here because the bench rules name them as prerequisites.
KBENCH_BIN     := $(BENCH_OUT)/vfm-kbench
KBENCH_BPF_OBJ := $(BENCH_OUT)/native.bpf.o
KBENCH_ARGS    ?=
BPF_CLANG      ?= clang
BENCH_LIBS     := $(LDFLAGS_VARIANT) $(PCAP_LIBS) -lpthread

.PHONY: bench benchmark bench-quick bench-build bench-callgrind
bench-build: $(BENCH_BIN) $(BENCH_MICRO)

$(BENCH_OUT)/swobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DVFM_SWITCH_DISPATCH -c $< -o $@

BENCH_NM      ?= nm
BENCH_OBJCOPY ?= objcopy
$(BENCH_SW): $(BENCH_SW_OBJS)
	$(LD) -r -o $@.tmp.o $^
	$(BENCH_NM) -g --defined-only $@.tmp.o | awk 'NF == 3 { print $$3, "sw_" $$3 }' > $@.syms
	$(BENCH_OBJCOPY) --redefine-syms=$@.syms $@.tmp.o $@
	rm -f $@.tmp.o

$(BENCH_OUT)/obj/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(BENCH_NOREORDER) -c $< -o $@

# The testkit pieces the bench uses (pktgen, fileio, vshapes), compiled like the
# bench's own code.
$(BENCH_OUT)/obj/%.o: testkit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(BENCH_NOREORDER) -c $< -o $@

$(BENCH_OUT)/obj/%.o: bench/%.cc
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_CXXFLAGS) $(BENCH_NOREORDER) -c $< -o $@

# libvfm goes first in .text (whole archive), so its code lands at the same
# addresses whatever the bench's own code does: interpreter speed on this
# class of CPU moves by 20-30% with 16-byte shifts of the dispatch loop, and
# a change to bench.c must not look like a change of the interpreter.
BENCH_LINK_LIB := -Wl,--whole-archive $(LIB) -Wl,--no-whole-archive $(BENCH_SW)

# vfm-bench: bench.c (command line, main) and bench_*.c (engines, agreement,
# timing, report) around one struct bench (bench/bench.h).
BENCH_MAIN_OBJS := $(patsubst bench/%.c,$(BENCH_OUT)/obj/%.o,$(wildcard bench/bench*.c))
$(BENCH_BIN): $(BENCH_MAIN_OBJS) $(BENCH_OUT)/obj/native.o $(BENCH_OUT)/obj/pktgen.o \
		$(BENCH_OUT)/obj/fileio.o $(BENCH_SW) \
		$(TOOL_SUPPORT_LIB) $(LIB)
	$(CC) $(BENCH_CFLAGS) $(BENCH_LINK_LIB) $(filter %.o,$(filter-out $(BENCH_SW),$^)) \
		$(TOOL_SUPPORT_LIB) -o $@ $(BENCH_LIBS)

# vfm-cgrun: one filter, one engine, over the bench's mix, for exact
# instruction counts under callgrind (make bench-callgrind).
BENCH_CGRUN := $(BENCH_OUT)/vfm-cgrun
$(BENCH_CGRUN): $(BENCH_OUT)/obj/cgrun.o $(BENCH_OUT)/obj/native.o $(BENCH_OUT)/obj/pktgen.o $(BENCH_OUT)/obj/fileio.o $(LIB)
	$(CC) $(BENCH_CFLAGS) $(filter %.o,$^) $(LIB) -o $@ -lpthread

$(BENCH_MICRO): $(BENCH_OUT)/obj/micro.o $(BENCH_OUT)/obj/pktgen.o $(BENCH_OUT)/obj/vshapes.o $(BENCH_SW) $(LIB)
	$(CXX) $(BENCH_CXXFLAGS) $(BENCH_LINK_LIB) $(filter %.o,$(filter-out $(BENCH_SW),$^)) -o $@ -lbenchmark $(BENCH_LIBS)

# Verdict agreement is checked by vfm-bench before it times anything; a
# mismatch exits non-zero and stops make.
bench: $(BENCH_BIN) $(BENCH_MICRO) $(KBENCH_BIN) $(KBENCH_BPF_OBJ)
	$(BENCH_BIN) --json $(BENCH_OUT)/results.json --dat $(BENCH_OUT)/nspp.dat $(BENCH_ARGS)
	@if [ -x $(AARCH64_BUILD)/bench/vfm-bench ] && command -v $(QEMU_AARCH64) >/dev/null; then \
		echo "ARM64 side by side ($(AARCH64_BUILD)/bench/vfm-bench as last built by make bench-codesize-aarch64, under qemu: code size only, no timing):"; \
		$(QEMU_AARCH64) $(AARCH64_BUILD)/bench/vfm-bench --code-size; \
	else echo "(ARM64 JIT code size: make bench-codesize-aarch64)"; fi
	$(BENCH_MICRO) --benchmark_out=$(BENCH_OUT)/micro.json --benchmark_out_format=json
	@sh bench/plot.sh $(BENCH_OUT)/nspp.dat $(BENCH_OUT)/nspp.png
	$(KBENCH_BIN) --obj $(KBENCH_BPF_OBJ) $(KBENCH_ARGS)

# `make benchmark` is the seed's name for `make bench`.
benchmark: bench

# Instructions per packet (callgrind, exact; wall time on a shared machine
# is not) for F1-F4, ddos and rate on the JIT and the interpreter.
CG_PACKETS ?= 10000
bench-callgrind: $(BENCH_CGRUN)
	@sh bench/callgrind.sh $(BENCH_CGRUN) $(CG_PACKETS)

bench-quick: $(BENCH_BIN) $(BENCH_MICRO) $(KBENCH_BIN) $(KBENCH_BPF_OBJ)
	$(BENCH_BIN) --quick --json $(BENCH_OUT)/quick.json --dat $(BENCH_OUT)/quick.dat $(BENCH_ARGS)
	$(BENCH_MICRO) --quick --benchmark_out=$(BENCH_OUT)/micro-quick.json --benchmark_out_format=json
	@sh bench/plot.sh $(BENCH_OUT)/quick.dat $(BENCH_OUT)/quick.png
	$(KBENCH_BIN) --obj $(KBENCH_BPF_OBJ) --quick

# The kernel column (bench/kbench.c, docs/EBPF.md): F1-F4 compiled by VFM's
# eBPF back end against the same filters in C compiled by clang -target bpf
# (bench/native.bpf.c), both under BPF_PROG_TEST_RUN in one process; needs
# root (bpf()), says "skipped" and succeeds without it.
#   make bench-kernel        KBENCH_ARGS="--rounds 11" passes options
.PHONY: bench-kernel
$(KBENCH_BPF_OBJ): bench/native.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -target bpf -O2 -g -Wall -Wextra $(WERROR) \
		-I/usr/include/$(shell $(CC) -dumpmachine) -c $< -o $@
$(KBENCH_BIN): $(BENCH_OUT)/obj/kbench.o $(BENCH_OUT)/obj/pktgen.o $(BENCH_OUT)/obj/fileio.o $(LIB)
	$(CC) $(BENCH_CFLAGS) $^ -o $@ -lbpf $(BENCH_LIBS)
bench-kernel: $(KBENCH_BIN) $(KBENCH_BPF_OBJ)
	$(KBENCH_BIN) --obj $(KBENCH_BPF_OBJ) $(KBENCH_ARGS)

-include $(shell find $(BENCH_OUT) -name '*.d' 2>/dev/null)

# ---- Abstract-domain proofs (proofs/README.md) -------------------------------
#   make proofs   a Z3 soundness query (QF_BV, negated, expected unsat) per
#                 abstract operator, plus the full 8-bit brute force of the C
#                 code; prints a table (operator, width, result, seconds) and
#                 fails on any sat, unknown or timeout.  PROOF_ARGS="--help".
# proofs/dom8.c and proofs/dom16.c compile verifier/{tnum,interval,aval}.c
# again at 8 and 16 bits; proofs/exhaust.c is the brute force; proofs/enc.c
# mirrors the C operators as Z3 terms.  tests/test_domain and
# tests/test_proofs_encoding (built by the rules above) link these objects
# too; the latter also links libz3.  Only prerequisites and a link flag are
# added to those targets here, the rules above are unchanged.
PROOF_DOM_OBJS := $(BUILD)/obj/proofs/dom8.o $(BUILD)/obj/proofs/dom16.o \
                  $(BUILD)/obj/proofs/exhaust.o
PROOF_ENC_OBJS := $(BUILD)/obj/proofs/enc.o
PROVE          := $(BUILD)/proofs/prove
PROOF_ARGS     ?=

$(BUILD)/tests/test_domain: $(PROOF_DOM_OBJS)
$(BUILD)/tests/test_proofs_encoding: $(PROOF_DOM_OBJS) $(PROOF_ENC_OBJS)
$(BUILD)/tests/test_proofs_encoding: LDFLAGS_VARIANT += -lz3

$(PROVE): $(BUILD)/obj/proofs/prove.o $(PROOF_ENC_OBJS) $(PROOF_DOM_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lz3

.PHONY: proofs
proofs: $(PROVE)
	$(PROVE) $(PROOF_ARGS)

# ---- Z3 cross-check (verifier/z3/) -----------------------------------------
# vfm_z3_check() encodes a program's exact semantics in Z3 and checks every
# claim of the verifier (verifier/z3/z3check.h).  It is NOT part of
# libvfm.a (LIB_SRCS only globs verifier/*.c), so the library and the single
# header never need Z3: it is built into its own archive, linked (with
# -lz3) only into vfm-verify (for --z3) and tests/test_z3check.  These two
# explicit rules replace the pattern rules above for those two targets
# only; Z3_LIB comes before LIB because it uses libvfm's symbols.
#   VFM_Z3_PROGRAMS=10000 build/tests/test_z3check   the generated-program
#   campaign (see tests/test_z3check.c).
Z3_SRCS := $(wildcard verifier/z3/*.c)
Z3_OBJS := $(Z3_SRCS:%.c=$(BUILD)/obj/%.o)
Z3_LIB  := $(BUILD)/libvfm_z3.a

$(Z3_LIB): $(Z3_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/vfm-verify: $(BUILD)/obj/tools/vfm-verify.o $(TOOL_SUPPORT_LIB) $(TESTKIT_LIB) $(Z3_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lz3

$(BUILD)/tests/test_z3check: $(BUILD)/obj/tests/test_z3check.o $(TEST_SUPPORT_OBJS) $(Z3_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lcmocka $(pcap_libs) -lz3

# tests/test_z3_cbpf: the cBPF translation validation on hand-written pairs,
# counterexamples replayed with libpcap's bpf_filter.
$(BUILD)/tests/test_z3_cbpf: $(BUILD)/obj/tests/test_z3_cbpf.o $(TEST_SUPPORT_OBJS) $(Z3_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lcmocka $(pcap_libs) -lz3

# tests/test_z3_corrupt: the Z3 check against deliberately wrong transfer
# functions.  verifier/absint.c compiled with -DVFM_TEST_CORRUPT is linked
# ahead of libvfm, so it replaces absint.o in this binary only; Z3 must
# refute the unsound claims (the test says which).
$(BUILD)/obj/corrupt/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DVFM_TEST_CORRUPT -c $< -o $@

$(BUILD)/tests/test_z3_corrupt: $(BUILD)/obj/tests/test_z3_corrupt.o \
		$(BUILD)/obj/corrupt/verifier/absint.o $(TEST_SUPPORT_OBJS) $(Z3_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lcmocka $(pcap_libs) -lz3

# tests/test_vbudget: the verifier's refusal of a program over its work
# budget, with verifier/absint.c built with a tiny budget
# (-DVFM_TEST_TINY_BUDGET) ahead of libvfm, as for test_z3_corrupt.
$(BUILD)/obj/tinybudget/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DVFM_TEST_TINY_BUDGET -c $< -o $@

$(BUILD)/tests/test_vbudget: $(BUILD)/obj/tests/test_vbudget.o \
		$(BUILD)/obj/tinybudget/verifier/absint.o $(TEST_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDFLAGS_VARIANT) -lcmocka

# ---- AArch64: cross build, tests under qemu-aarch64 (docs/JIT.md) ------------
#   make aarch64        library, tools, tests and fuzz replayers for AArch64
#                       in build/aarch64/ (jit/arm64.c is the JIT there)
#   make test-aarch64   the whole cmocka suite and the replayers there, under
#                       qemu-aarch64 (alias: check-arm64).  AARCH64_SKIP="test_x
#                       ..." leaves tests out.  ci/arm64.sh installs what it
#                       needs and runs this.
# Debian's cross gcc links against the multiarch arm64 packages
# (libcmocka-dev:arm64, libpcap-dev:arm64, libz3-dev:arm64).  Binaries are
# linked dynamically (Debian ships no static libcmocka) and qemu-aarch64 runs
# them with the arm64 loader and libraries those packages put in /lib.  Tests
# that run the tools get them through wrappers in qemu-bin/ (no binfmt_misc).
AARCH64_CC    ?= aarch64-linux-gnu-gcc
AARCH64_AR    ?= aarch64-linux-gnu-ar
AARCH64_BUILD ?= build/aarch64
QEMU_AARCH64  ?= qemu-aarch64
AARCH64_SKIP  ?=
AARCH64_MAKE   = $(MAKE) CC=$(AARCH64_CC) AR=$(AARCH64_AR) BUILD=$(AARCH64_BUILD) VARIANT=normal
AARCH64_TESTS := $(TEST_SRCS:tests/%.c=$(AARCH64_BUILD)/tests/%) $(AARCH64_BUILD)/tests/test_single_header
AARCH64_RUN    = VFM_BIN=$(AARCH64_BUILD)/qemu-bin $(QEMU_AARCH64)
.PHONY: aarch64 test-aarch64 check-arm64
aarch64:
	+$(AARCH64_MAKE) all $(AARCH64_TESTS) $(FUZZ_TARGETS:%=$(AARCH64_BUILD)/fuzz/replay_%)
	@mkdir -p $(AARCH64_BUILD)/qemu-bin
	@for t in $(TOOL_NAMES); do \
		printf '#!/bin/sh\nexec %s "$$(dirname "$$0")/../bin/%s" "$$@"\n' \
			'$(QEMU_AARCH64)' $$t > $(AARCH64_BUILD)/qemu-bin/$$t; \
		chmod +x $(AARCH64_BUILD)/qemu-bin/$$t; done
test-aarch64: aarch64
	sh tests/check_layers.sh $(AARCH64_BUILD)
	@set -e; for t in $(filter-out $(AARCH64_SKIP:%=$(AARCH64_BUILD)/tests/%),$(AARCH64_TESTS)); do \
		echo "== $(QEMU_AARCH64) $$t"; $(AARCH64_RUN) $$t; done
	@set -e; for t in $(FUZZ_TARGETS); do \
		dirs=corpus/$$t; [ ! -d corpus/$$t-regressions ] || dirs="$$dirs corpus/$$t-regressions"; \
		echo "== $(QEMU_AARCH64) $(AARCH64_BUILD)/fuzz/replay_$$t $$dirs"; \
		$(AARCH64_RUN) $(AARCH64_BUILD)/fuzz/replay_$$t $$dirs; done
check-arm64: test-aarch64

# ---- Packaging: shared library, pkg-config, man pages, install ---------------
#   make shared      build/libvfm.so.MAJOR.MINOR.PATCH (soname libvfm.so.MAJOR)
#                    with the symlinks libvfm.so.MAJOR and libvfm.so
#   make man-check   mandoc -T lint and man --warnings on man/*, and each
#                    tool's --help against its page (tests/check_man.sh)
#   make install     PREFIX=/usr/local DESTDIR= BINDIR LIBDIR INCLUDEDIR
#                    MANDIR PKGCONFIGDIR (defaults below)
#   make uninstall   the same variables: removes exactly what install puts
#   make install-check   tests/check_install.sh: install into a temporary
#                    DESTDIR, build and run examples/embed against it alone
# The version is the one in include/vfm.h (VFM_VERSION_MAJOR/MINOR/PATCH).
# The shared library is linked from its own -fPIC objects (build/pic/); the
# archive keeps the compiler's default code model (PIE on Debian), so
# libvfm.a, the tests and the benchmarks are exactly what they were.  Only
# the VFM_API functions are exported: hidden visibility, plus a version
# script generated from the same list (tools/api-symbols.sh).  libvfm_z3
# (the Z3 cross-check) is a static archive only: it uses libvfm's internals,
# so it links with libvfm.a (vfm-z3.pc says so); libvfm never needs Z3.
vfm_version_part = $(shell sed -n 's/^\#define VFM_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' include/vfm.h)
VFM_MAJOR   := $(call vfm_version_part,MAJOR)
VFM_VERSION := $(VFM_MAJOR).$(call vfm_version_part,MINOR).$(call vfm_version_part,PATCH)
SONAME      := libvfm.so.$(VFM_MAJOR)
SHLIB       := $(BUILD)/libvfm.so.$(VFM_VERSION)
SHLIB_MAP   := $(BUILD)/libvfm.map
PIC_OBJS    := $(LIB_OBJS:$(BUILD)/obj/%=$(BUILD)/pic/%)
PIC_CFLAGS  := -fPIC -fno-semantic-interposition

BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install

MAN1_PAGES := $(TOOL_NAMES:%=man/%.1)
MAN3_PAGES := man/vfm.3
MAN_PAGES  := $(MAN1_PAGES) $(MAN3_PAGES)

.PHONY: shared man-check install-check uninstall
shared: $(SHLIB)
# The shared library is part of the default build of the normal variant
# (the sanitizer and switch builds are for tests only).
ifeq ($(VARIANT),normal)
all: shared
endif

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PIC_CFLAGS) -c $< -o $@

# The version script: the API list of include/vfm.h, everything else local.
$(SHLIB_MAP): include/vfm.h tools/api-symbols.sh
	@mkdir -p $(dir $@)
	{ echo '/* generated from include/vfm.h by the Makefile: exactly the VFM_API functions */'; \
	  echo '{'; echo '  global:'; sh tools/api-symbols.sh include/vfm.h | sed 's/.*/    &;/'; \
	  echo '  local:'; echo '    *;'; echo '};'; } > $@.tmp && mv $@.tmp $@

# -z defs: no undefined symbol may be left for the program to provide.
$(SHLIB): $(PIC_OBJS) $(SHLIB_MAP)
	$(CC) $(ALL_CFLAGS) $(PIC_CFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=$(SHLIB_MAP) -Wl,-z,defs -Wl,-z,relro -Wl,-z,now \
		$(PIC_OBJS) -o $@ $(if $(filter asan oracle,$(VARIANT)),$(SAN))
	ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libvfm.so

# pkg-config files for the install paths (regenerated by every install:
# they depend on variables, not on files).  Paths under PREFIX are written
# relative to ${prefix}.
pc_path = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
define make_pc
	@mkdir -p $(BUILD)/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(call pc_path,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(call pc_path,$(INCLUDEDIR))|g' -e 's|@VERSION@|$(VFM_VERSION)|g' \
	    $(1).in > $(BUILD)/pkgconfig/$(notdir $(1))
endef

install: all $(SHLIB) $(Z3_LIB)
	$(call make_pc,pkgconfig/vfm.pc)
	$(call make_pc,pkgconfig/vfm-z3.pc)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	$(INSTALL) -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(LIB) $(Z3_LIB) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 644 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libvfm.so
	$(INSTALL) -m 644 include/vfm.h $(DESTDIR)$(INCLUDEDIR)/vfm.h
	$(INSTALL) -m 644 $(SINGLE) $(DESTDIR)$(INCLUDEDIR)/vfm_single.h
	$(INSTALL) -m 644 verifier/z3/z3check.h $(DESTDIR)$(INCLUDEDIR)/vfm_z3.h
	$(INSTALL) -m 644 $(BUILD)/pkgconfig/vfm.pc $(BUILD)/pkgconfig/vfm-z3.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(INSTALL) -m 644 $(MAN1_PAGES) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(MAN3_PAGES) $(DESTDIR)$(MANDIR)/man3/

# Removes exactly the files install puts there, and the pkgconfig and
# man1/man3 directories if that leaves them empty (never bin/, lib/,
# include/ or anything above: they may be the system's).
uninstall:
	rm -f $(TOOL_NAMES:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(DESTDIR)$(LIBDIR)/libvfm.a $(DESTDIR)$(LIBDIR)/libvfm_z3.a \
		$(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libvfm.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/vfm.h $(DESTDIR)$(INCLUDEDIR)/vfm_single.h \
		$(DESTDIR)$(INCLUDEDIR)/vfm_z3.h
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/vfm.pc $(DESTDIR)$(PKGCONFIGDIR)/vfm-z3.pc
	rm -f $(MAN1_PAGES:man/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN3_PAGES:man/%=$(DESTDIR)$(MANDIR)/man3/%)
	for d in $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3; do \
		[ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || true; done

man-check: tools
	sh tests/check_man.sh $(BUILD)

install-check: all $(Z3_LIB)
	CC="$(CC)" MAKE="$(MAKE)" sh tests/check_install.sh $(BUILD)

# make check (normal variant) runs both.
ifeq ($(VARIANT),normal)
check: man-check install-check
endif

-include $(shell find $(BUILD)/pic -name '*.d' 2>/dev/null)
# The kernel verifier campaign (tests/ebpf_campaign.c, docs/EBPF.md):
# `make ebpf-campaign [COUNT=N]` (needs root for bpf()); `make check`
# builds it and runs the few hundred programs of tests/test_ebpf.c.
.PHONY: ebpf-campaign
check: $(BUILD)/tests/ebpf_campaign
$(BUILD)/obj/tests/ebpf_campaign.o: tests/ebpf_campaign.c
	@mkdir -p $(dir $@)
	$(CC) $(LEAF_CFLAGS) -c $< -o $@
ebpf-campaign: $(BUILD)/tests/ebpf_campaign
	$(BUILD)/tests/ebpf_campaign --count $(or $(COUNT),10000)

# The ARM64 JIT's code size per bench filter: vfm-bench built for AArch64,
# run under qemu with --code-size, which prints the table and times
# nothing (timing under qemu means nothing; docs/JIT.md).
.PHONY: bench-codesize-aarch64
bench-codesize-aarch64:
	+$(AARCH64_MAKE) LD=aarch64-linux-gnu-ld BENCH_NM=aarch64-linux-gnu-nm \
		BENCH_OBJCOPY=aarch64-linux-gnu-objcopy $(AARCH64_BUILD)/bench/vfm-bench
	$(QEMU_AARCH64) $(AARCH64_BUILD)/bench/vfm-bench --code-size
