#!/bin/sh
# fuzz/triage.sh — explain a fuzz_load input (a crash, a regression file):
#
#   fuzz/triage.sh INPUT [INPUT...]
#
# For each input: decode it (mode, budget, flow capacity, program image,
# packets), say what the loader makes of the program, print the program's
# disassembly (vm/disasm.c, the one disassembler) and each packet's result,
# then replay it under gcc + ASan/UBSan and show the failure and its stack.
# Builds build/fuzz/replay_load first if it is missing or older than the
# sources.  Exit status: 0 if every input replays cleanly, 1 otherwise.
set -u

cd "$(dirname "$0")/.." || exit 2
REPLAY=${OUT:-build/fuzz}/replay_load
if [ $# -eq 0 ]; then
	echo "usage: fuzz/triage.sh INPUT [INPUT...]" >&2
	exit 2
fi

stale=0
if [ ! -x "$REPLAY" ]; then
	stale=1
else
	for f in fuzz/fuzz_load.c fuzz/replay_main.c vm/*.c vm/*.h vm/*.def verifier/*.c jit/*.c include/vfm.h; do
		[ "$f" -nt "$REPLAY" ] && stale=1
	done
fi
if [ $stale -eq 1 ]; then
	fuzz/build.sh replay >/dev/null || exit 2
fi

rc=0
for input in "$@"; do
	case $input in /*) ;; *) input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input") ;; esac
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
