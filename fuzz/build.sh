#!/bin/sh
# fuzz/build.sh — build the fuzz harnesses (run from anywhere).
#
# For each target T in $TARGETS (load diff asm pcap cbpf vcost):
#   build/fuzz/fuzz_T        libFuzzer, clang, ASan + UBSan (aborts on UB)
#   build/fuzz/replay_T      plain main() replayer, gcc, ASan + UBSan
# and
#   build/fuzz/gen_dict      dictionary generator (vm/opcodes.def)
#   build/fuzz/vfm.dict      the dictionary (binary targets: load, diff)
#   build/fuzz/asm.dict      mnemonics and directives (asm)
#   build/fuzz/pcap.dict     capture-format magics and block types (pcap)
#   build/fuzz/cbpf.dict     cBPF opcodes from vm/cbpf.c's table (cbpf)
#   build/fuzz/afl_T         with `fuzz/build.sh afl`: afl-clang-fast,
#                            AFL++'s libFuzzer driver (-fsanitize=fuzzer)
#   build/fuzz/afl_mutator_diff.so   with `fuzz/build.sh afl`: fuzz_diff's
#                            structural mutator for AFL++ (fuzz/afl_mutator.c)
#
# Environment: CLANG (default clang), GCC (default gcc), AFL_CC (default
# afl-clang-fast), OUT (default build/fuzz), TARGETS.  Only the replayers
# and dictionaries need no clang:
#   fuzz/build.sh replay
set -eu

cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
GCC=${GCC:-gcc}
OUT=${OUT:-build/fuzz}
what=${1:-all}
TARGETS=${TARGETS:-load diff asm pcap cbpf vcost}

# The library is compiled into each binary from source, so that it gets the
# harness's instrumentation (coverage, sanitizers).
# In a git checkout only tracked files count, so that a half-written new
# file in a shared tree does not break the fuzz build.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# ':(glob)' so that '*' stops at '/': verifier/z3/ (needs -lz3) is
	# not part of the library.
	LIB_SRCS=$(git ls-files ':(glob)vm/*.c' ':(glob)verifier/*.c')
else
	LIB_SRCS=$(ls vm/*.c verifier/*.c)
fi
# The JIT: the driver and the back end for this CPU (as the Makefile picks).
JIT_ARCH=$(${GCC:-gcc} -dumpmachine | cut -d- -f1 | sed 's/^aarch64$/arm64/')
if [ -f "jit/$JIT_ARCH.c" ]; then JIT_BACKEND="jit/$JIT_ARCH.c"; else JIT_BACKEND=jit/none.c; fi
LIB_SRCS="$LIB_SRCS jit/common.c $JIT_BACKEND $(ls api/*.c)"
INC="-Iinclude -Ivm -Itestkit"
WARN="-Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wpointer-arith -Wundef"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

mkdir -p "$OUT"

build_dict() {
	"$GCC" -std=gnu11 -O1 $WARN $INC fuzz/gen_dict.c -o "$OUT/gen_dict"
	"$OUT/gen_dict" > "$OUT/vfm.dict.tmp"
	mv "$OUT/vfm.dict.tmp" "$OUT/vfm.dict"
	"$OUT/gen_dict" --asm > "$OUT/asm.dict.tmp"
	mv "$OUT/asm.dict.tmp" "$OUT/asm.dict"
	"$OUT/gen_dict" --pcap > "$OUT/pcap.dict.tmp"
	mv "$OUT/pcap.dict.tmp" "$OUT/pcap.dict"
	# fuzz_cbpf's raw programs: the cBPF opcodes bpf_filter implements,
	# from the table in vm/cbpf.c, as little-endian u16 codes.
	sed -n 's/^\tX(0x\([0-9a-f][0-9a-f]\), "\([a-z]*\)".*/cbpf_\2_\1="\\x\1\\x00"/p' \
		vm/cbpf.c > "$OUT/cbpf.dict.tmp"
	mv "$OUT/cbpf.dict.tmp" "$OUT/cbpf.dict"
	for d in vfm asm pcap cbpf; do
		echo "built $OUT/$d.dict ($(grep -c '=' "$OUT/$d.dict") entries)"
	done
}

# Extra sources and libraries of target $1.
target_srcs() {
	case $1 in
	diff) echo testkit/progen*.c testkit/kengine.c ebpf/*.c ;;
	vcost) echo testkit/progen*.c ;;
	pcap) echo testkit/pcapio.c ;;
	*) ;;
	esac
}
target_libs() {
	case $1 in
	pcap) echo -lpcap ;;
	cbpf) echo -lpcap ;; # bpf_filter, the oracle; libvfm does not need it
	*) ;;
	esac
}

build_replay() {
	for t in $TARGETS; do
		# shellcheck disable=SC2086
		"$GCC" -std=gnu11 -g -O1 $WARN $SAN $INC \
			fuzz/fuzz_$t.c $(target_srcs $t) fuzz/replay_main.c testkit/fileio.c $LIB_SRCS \
			$(target_libs $t) -o "$OUT/replay_$t"
		echo "built $OUT/replay_$t"
	done
}

build_fuzzer() {
	# -fsanitize=fuzzer adds coverage to every file and links libFuzzer's
	# main; -fno-sanitize-recover makes UBSan findings crashes.
	for t in $TARGETS; do
		# shellcheck disable=SC2086
		"$CLANG" -std=gnu11 -g -O1 $WARN -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=undefined -fno-omit-frame-pointer $INC \
			fuzz/fuzz_$t.c $(target_srcs $t) $LIB_SRCS $(target_libs $t) \
			-o "$OUT/fuzz_$t"
		echo "built $OUT/fuzz_$t"
	done
}

# AFL++: the same harnesses through afl-clang-fast's libFuzzer-compatible
# driver (-fsanitize=fuzzer links AFL++'s libAFLDriver), ASan + UBSan.
build_afl() {
	AFL_CC=${AFL_CC:-afl-clang-fast}
	for t in $TARGETS; do
		# shellcheck disable=SC2086
		AFL_QUIET=1 "$AFL_CC" -std=gnu11 -g -O1 $WARN -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=undefined -fno-omit-frame-pointer $INC \
			fuzz/fuzz_$t.c $(target_srcs $t) $LIB_SRCS $(target_libs $t) \
			-o "$OUT/afl_$t"
		echo "built $OUT/afl_$t"
	done
	# fuzz_diff's structural mutator as an AFL++ custom mutator library
	# (fuzz/afl_mutator.c), loaded by afl-fuzz itself: no sanitizers.
	case " $TARGETS " in *" diff "*)
		# shellcheck disable=SC2086
		"$GCC" -std=gnu11 -O2 -fPIC -shared $WARN $INC fuzz/afl_mutator.c \
			fuzz/fuzz_diff.c $(target_srcs diff) $LIB_SRCS \
			-o "$OUT/afl_mutator_diff.so"
		echo "built $OUT/afl_mutator_diff.so" ;;
	esac
}

case "$what" in
all) build_dict; build_replay; build_fuzzer ;;
replay) build_dict; build_replay ;;
fuzzer) build_dict; build_fuzzer ;;
afl) build_dict; build_afl ;;
*) echo "usage: fuzz/build.sh [all|replay|fuzzer|afl]" >&2; exit 2 ;;
esac
