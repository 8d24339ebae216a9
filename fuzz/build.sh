#!/bin/sh
# fuzz/build.sh — build the fuzz harnesses (run from anywhere).
#
# For each target T in $TARGETS (load diff asm pcap cbpf vcost ebpf):
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
# The replayers alone, cross-compiled (the JIT back end follows $GCC's
# target), e.g. fuzz_diff with the ARM64 JIT under ASan + UBSan for qemu:
#   GCC=aarch64-linux-gnu-gcc OUT=build/aarch64/fuzz-san TARGETS=diff \
#     fuzz/build.sh replay-cross
# For OSS-Fuzz and ClusterFuzzLite (`fuzz/build.sh oss`, chosen by itself
# when $LIB_FUZZING_ENGINE is set): the services' CC, CXX, CFLAGS,
# CXXFLAGS, LIB_FUZZING_ENGINE, OUT and SANITIZER, and nothing else; see
# build_oss below, .clusterfuzzlite/ and `make fuzz-oss` (ci/fuzz-oss.sh),
# which reproduces that build in a clean directory.
set -eu

cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
GCC=${GCC:-gcc}
OUT=${OUT:-build/fuzz}
what=${1:-all}

# Targets, sources, libraries and dictionaries: fuzz/targets.sh.
. fuzz/targets.sh
TARGETS=${TARGETS:-$FUZZ_TARGETS_ALL}
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


# OSS-Fuzz / ClusterFuzzLite: `fuzz/build.sh oss`, or any run with
# $LIB_FUZZING_ENGINE set (those services run this script unmodified via
# .clusterfuzzlite/build.sh).  Their variables decide everything: $CC and
# $CFLAGS (sanitizer and coverage flags) compile, $CXX $CXXFLAGS
# $LIB_FUZZING_ENGINE link, $OUT receives per target fuzz_T, fuzz_T.dict,
# fuzz_T.options and fuzz_T_seed_corpus.zip (corpus/T and
# corpus/T-regressions).  $SANITIZER=memory leaves out the targets that
# link libpcap (pcap, cbpf): a system libpcap is not MSan-instrumented, so
# every read of its output would be reported.
build_oss() {
	: "${CC:?}" "${CXX:?}" "${LIB_FUZZING_ENGINE:?}"
	oss_targets=$TARGETS
	if [ "${SANITIZER:-}" = memory ]; then
		oss_targets=$(echo " $TARGETS " | sed 's/ pcap / /; s/ cbpf / /')
		echo "fuzz/build.sh: SANITIZER=memory: without pcap and cbpf (system libpcap is not MSan-instrumented)"
	fi
	work=$(mktemp -d)
	# Every source once; each target links its own subset.
	for src in $LIB_SRCS testkit/*.c ebpf/*.c $(for t in $oss_targets; do echo fuzz/fuzz_$t.c; done); do
		obj="$work/$(echo "$src" | tr / _).o"
		# shellcheck disable=SC2086 # $CFLAGS is a list of flags
		$CC $CFLAGS -std=gnu11 $INC -c "$src" -o "$obj"
	done
	o() { for src in "$@"; do echo "$work/$(echo "$src" | tr / _).o"; done; }
	for t in $oss_targets; do
		# shellcheck disable=SC2086
		$CXX $CXXFLAGS $(o fuzz/fuzz_$t.c $(target_srcs $t) $LIB_SRCS) $LIB_FUZZING_ENGINE \
			$(target_libs $t) -lpthread -o "$OUT/fuzz_$t"
		d=$(target_dict "$t")
		cp "$OUT/$d" "$OUT/fuzz_$t.dict"
		printf '[libfuzzer]\ndict = fuzz_%s.dict\nmax_len = 4096\ntimeout = 25\nrss_limit_mb = 2048\n' \
			"$t" > "$OUT/fuzz_$t.options"
		rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
		dirs=corpus/$t
		[ ! -d "corpus/$t-regressions" ] || dirs="$dirs corpus/$t-regressions"
		# shellcheck disable=SC2086
		find $dirs -type f | zip -q -j "$OUT/fuzz_${t}_seed_corpus.zip" -@
		echo "built $OUT/fuzz_$t (+ .dict, .options, _seed_corpus.zip: $(find $dirs -type f | wc -l) inputs)"
	done
	rm -rf "$work"
}

if [ -n "${LIB_FUZZING_ENGINE:-}" ] && [ "$what" = all ]; then
	what=oss
fi
case "$what" in
oss) build_dict; build_oss ;;
all) build_dict; build_replay; build_fuzzer ;;
replay) build_dict; build_replay ;;
# Replayers alone, for a cross compiler whose binaries this host cannot run
# directly (GCC=aarch64-linux-gnu-gcc, run under qemu: ci/arm64.sh).
replay-cross) build_replay ;;
fuzzer) build_dict; build_fuzzer ;;
afl) build_dict; build_afl ;;
*) echo "usage: fuzz/build.sh [all|replay|replay-cross|fuzzer|afl|oss]" >&2; exit 2 ;;
esac
