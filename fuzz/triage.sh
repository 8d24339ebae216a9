#!/bin/sh
# fuzz/triage.sh — explain a fuzz input (a crash, a regression file):
#
#   fuzz/triage.sh [-t TARGET] INPUT [INPUT...]
#
# TARGET is one of fuzz/targets.sh's; without -t it is guessed from the
# input's directory (corpus/<target>[-regressions]/, corpus-<target>/) or
# name (<target>-crash-... as `make fuzz` names artifacts), else load.  For each input the target's --describe hook
# decodes it: load — mode, budget, flow capacity, what the loader makes of
# the program, its disassembly (vm/disasm.c) and each packet's result;
# diff — the generated program's text, the load result, each packet on the
# interpreter and the JIT; asm — the source, the assembler's verdict, the
# disassembly; pcap — what the capture reader returns and the filter's
# verdicts.  Then the input is replayed under gcc + ASan/UBSan, showing the
# failure and its stack.  Builds build/fuzz/replay_* first if missing or
# older than the sources.  Exit status: 0 if every input replays cleanly,
# 1 otherwise.
set -u

cd "$(dirname "$0")/.." || exit 2
. fuzz/targets.sh
target=
if [ "${1:-}" = -t ]; then
	target=${2:-}
	shift 2 || true
fi
if [ $# -eq 0 ]; then
	echo "usage: fuzz/triage.sh [-t TARGET] INPUT [INPUT...] (targets: $FUZZ_TARGETS_ALL)" >&2
	exit 2
fi

stale=0
for t in $FUZZ_TARGETS_ALL; do
	REPLAY=${OUT:-build/fuzz}/replay_$t
	if [ ! -x "$REPLAY" ]; then
		stale=1
	else
		for f in fuzz/*.c fuzz/*.h testkit/*.c vm/*.c vm/*.h vm/*.def verifier/*.c jit/*.c include/vfm.h; do
			[ "$f" -nt "$REPLAY" ] && stale=1
		done
	fi
done
if [ $stale -eq 1 ]; then
	fuzz/build.sh replay >/dev/null || exit 2
fi

rc=0
for input in "$@"; do
	case $input in /*) ;; *) input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input") ;; esac
	t=$target
	if [ -z "$t" ]; then
		# parent directory and file name: corpus/<t>[-regressions]/,
		# build/fuzz/corpus-<t>/, artifacts/<t>-crash-... (make fuzz)
		where=$(basename "$(dirname "$input")")/$(basename "$input")
		t=load
		for c in $FUZZ_TARGETS_ALL; do
			case $where in "$c"/* | "$c"-regressions/* | corpus-"$c"/* | */"$c"-*) t=$c ;; esac
		done
	fi
	REPLAY=${OUT:-build/fuzz}/replay_$t
	echo "target: $t ($REPLAY)"
	echo "=================================================================="
	"$REPLAY" --describe "$input"
	echo "------------------------------------------------------------------"
	echo "replay under ASan/UBSan:"
	# symbolize, and a non-zero exit on any report
	if ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:symbolize=1} \
	   UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	   "$REPLAY" "$input" 2>&1; then
		echo "=> replays cleanly"
	else
		echo "=> FAILS (exit status $?)"
		rc=1
	fi
done
exit $rc
