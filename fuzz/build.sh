#!/bin/sh
# fuzz/build.sh — build the fuzz harnesses (run from anywhere).
#
#   build/fuzz/fuzz_load     libFuzzer, clang, ASan + UBSan (aborts on UB)
#   build/fuzz/replay_load   plain main() replayer, gcc, ASan + UBSan
#   build/fuzz/gen_dict      dictionary generator (vm/opcodes.def)
#   build/fuzz/vfm.dict      the dictionary
#
# Environment: CLANG (default clang), GCC (default gcc), OUT (default
# build/fuzz).  Only the replayer and dictionary need no clang:
#   fuzz/build.sh replay
set -eu

cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
GCC=${GCC:-gcc}
OUT=${OUT:-build/fuzz}
what=${1:-all}

# The library is compiled into each binary from source, so that it gets the
# harness's instrumentation (coverage, sanitizers).
# In a git checkout only tracked files count, so that a half-written new
# file in a shared tree does not break the fuzz build.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	LIB_SRCS=$(git ls-files 'vm/*.c' 'verifier/*.c' 'jit/*.c')
else
	LIB_SRCS=$(ls vm/*.c verifier/*.c jit/*.c)
fi
INC="-Iinclude -Ivm"
WARN="-Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wpointer-arith -Wundef"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

mkdir -p "$OUT"

build_dict() {
	"$GCC" -std=gnu11 -O1 $WARN $INC fuzz/gen_dict.c -o "$OUT/gen_dict"
	"$OUT/gen_dict" > "$OUT/vfm.dict.tmp"
	mv "$OUT/vfm.dict.tmp" "$OUT/vfm.dict"
	echo "built $OUT/vfm.dict ($(grep -c '=' "$OUT/vfm.dict") entries)"
}

build_replay() {
	# shellcheck disable=SC2086
	"$GCC" -std=gnu11 -g -O1 $WARN $SAN $INC \
		fuzz/fuzz_load.c fuzz/replay_main.c $LIB_SRCS -o "$OUT/replay_load"
	echo "built $OUT/replay_load"
}

build_fuzzer() {
	# -fsanitize=fuzzer adds coverage to every file and links libFuzzer's
	# main; -fno-sanitize-recover makes UBSan findings crashes.
	# shellcheck disable=SC2086
	"$CLANG" -std=gnu11 -g -O1 $WARN -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer $INC \
		fuzz/fuzz_load.c $LIB_SRCS -o "$OUT/fuzz_load"
	echo "built $OUT/fuzz_load"
}

case "$what" in
all) build_dict; build_replay; build_fuzzer ;;
replay) build_dict; build_replay ;;
fuzzer) build_dict; build_fuzzer ;;
*) echo "usage: fuzz/build.sh [all|replay|fuzzer]" >&2; exit 2 ;;
esac
