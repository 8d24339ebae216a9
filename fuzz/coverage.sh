#!/bin/sh
# fuzz/coverage.sh — source coverage of the fuzz targets from a corpus.
#
# Builds each target's plain-main replayer (fuzz/replay_main.c) with
# clang's source-based coverage (-fprofile-instr-generate
# -fcoverage-mapping), runs it over corpus/T/ and corpus/T-regressions/
# (or the directories given with -c), merges the profiles and writes, per
# target and for all targets together:
#   $OUT/T/index.html        llvm-cov's HTML report (line and region)
#   $OUT/T/report.txt        per-file summary
#   $OUT/uncovered.txt       lines of verifier/ and jit/ that no input of
#                            any target reaches, per file (with all targets)
#
#   fuzz/coverage.sh                    every target, committed corpora
#   fuzz/coverage.sh -c build/fuzz/corpus-diff diff
#                                       a campaign's corpus (and the seeds)
# Environment: CLANG (clang), LLVM_PROFDATA, LLVM_COV, OUT (build/coverage).
set -eu
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
LLVM_PROFDATA=${LLVM_PROFDATA:-llvm-profdata}
LLVM_COV=${LLVM_COV:-llvm-cov}
OUT=${OUT:-build/coverage}
extra=
while getopts c: opt; do
	case $opt in
	c) extra="$extra $OPTARG" ;;
	*) echo "usage: fuzz/coverage.sh [-c DIR]... [TARGET...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

# Targets and sources as fuzz/build.sh builds them.
. fuzz/targets.sh
targets=${*:-$FUZZ_TARGETS_ALL}

mkdir -p "$OUT"
profiles=
bins=
for t in $targets; do
	mkdir -p "$OUT/$t"
	bin="$OUT/$t/replay_$t"
	# shellcheck disable=SC2046,SC2086
	"$CLANG" -std=gnu11 -O1 -g -fprofile-instr-generate -fcoverage-mapping \
		-Iinclude -Ivm -Itestkit fuzz/fuzz_$t.c $(target_srcs $t) fuzz/replay_main.c \
		testkit/fileio.c $LIB_SRCS $(target_libs $t) -lpthread -o "$bin"
	dirs="corpus/$t"
	[ ! -d "corpus/$t-regressions" ] || dirs="$dirs corpus/$t-regressions"
	for d in $extra; do
		case $d in *"$t"*) dirs="$dirs $d" ;; esac
	done
	rm -f "$OUT/$t"/*.profraw
	# shellcheck disable=SC2086
	LLVM_PROFILE_FILE="$OUT/$t/%p.profraw" "$bin" $dirs > "$OUT/$t/replay.log" 2>&1
	"$LLVM_PROFDATA" merge -sparse "$OUT/$t"/*.profraw -o "$OUT/$t/$t.profdata"
	"$LLVM_COV" show "$bin" -instr-profile="$OUT/$t/$t.profdata" -format=html \
		-output-dir="$OUT/$t" -ignore-filename-regex='fuzz/|testkit/' >/dev/null
	"$LLVM_COV" report "$bin" -instr-profile="$OUT/$t/$t.profdata" \
		-ignore-filename-regex='fuzz/|testkit/' > "$OUT/$t/report.txt"
	echo "coverage: $t ($dirs): $(tail -1 "$OUT/$t/report.txt" | awk '{print "regions " $4 ", lines " $10}')"
	profiles="$profiles $OUT/$t/$t.profdata"
	bins="$bins -object $bin"
done

# All targets together: which lines of verifier/ and jit/ nothing reaches.
# shellcheck disable=SC2086
"$LLVM_PROFDATA" merge -sparse $profiles -o "$OUT/all.profdata"
first=$(echo "$bins" | awk '{print $2}')
rest=$(echo "$bins" | cut -d' ' -f4-)
# shellcheck disable=SC2086
"$LLVM_COV" report "$first" $rest -instr-profile="$OUT/all.profdata" \
	-ignore-filename-regex='fuzz/|testkit/' > "$OUT/report.txt"
: > "$OUT/uncovered.txt"
for f in verifier/*.c jit/common.c "$JIT_BACKEND"; do
	# llvm-cov's text view: "  line|  count|source"; count 0 is unreached.
	# shellcheck disable=SC2086
	"$LLVM_COV" show "$first" $rest -instr-profile="$OUT/all.profdata" "$f" 2>/dev/null |
		awk -F'|' -v f="$f" '$2 ~ /^ *0$/ { n++; lines = lines " " $1+0 }
			END { if (n) printf "%s: %d lines:%s\n", f, n, lines }' >> "$OUT/uncovered.txt"
done
echo "coverage: all targets: $(tail -1 "$OUT/report.txt" | awk '{print "regions " $4 ", lines " $10}')"
echo "coverage: HTML in $OUT/<target>/index.html; unreached lines of verifier/ and jit/ in $OUT/uncovered.txt"
