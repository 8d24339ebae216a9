#!/bin/sh
# fuzz/campaign.sh — one long fuzzing run of one target, with a summary.
#
#   fuzz/campaign.sh [-e libfuzzer|afl] [-t SECONDS] TARGET
#
# TARGET is load, diff, asm or pcap; the harnesses must be built
# (fuzz/build.sh, or fuzz/build.sh afl for -e afl).  One process, so that
# two campaigns can share a 2-core machine.  Everything goes under
# build/fuzz/campaign-ENGINE-TARGET/: the log, new corpus units (corpus/T is
# only read), crashes.  At the end one summary line is printed and appended
# to build/fuzz/campaigns.txt:
#
#   engine target seconds execs execs/s coverage corpus findings
#
# coverage is libFuzzer's "cov" (edges) and "ft" (features), or AFL++'s
# bitmap_cvg.  Exit status: 0 no finding, 1 a finding (its inputs are in
# the crashes directory: fuzz/triage.sh explains one), 2 usage error.
set -eu

engine=libfuzzer
seconds=1800
while getopts e:t:h opt; do
	case $opt in
	e) engine=$OPTARG ;;
	t) seconds=$OPTARG ;;
	*) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "campaign.sh: one target expected (load, diff, asm, pcap)" >&2; exit 2; }
target=$1
case $target in load | diff) dict=vfm.dict ;; asm) dict=asm.dict ;; pcap) dict=pcap.dict ;;
*) echo "campaign.sh: unknown target '$target'" >&2; exit 2 ;; esac
case $seconds in '' | *[!0-9]*) echo "campaign.sh: bad -t '$seconds'" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
root=$(pwd)
fz=$root/build/fuzz
dir=$fz/campaign-$engine-$target
mkdir -p "$dir/corpus" "$dir/crashes"
log=$dir/log

case $engine in
libfuzzer)
	bin=$fz/fuzz_$target
	[ -x "$bin" ] || { echo "campaign.sh: $bin missing: run fuzz/build.sh" >&2; exit 2; }
	# Units of earlier `make fuzz` runs are read as seeds too.
	extra=
	[ -d "$fz/corpus-$target" ] && extra=$fz/corpus-$target
	status=0
	VFM_FUZZ_STATS=1 "$bin" -dict="$fz/$dict" -max_len=4096 \
		-timeout=25 -rss_limit_mb=2048 -max_total_time="$seconds" \
		-print_final_stats=1 -artifact_prefix="$dir/crashes/" \
		"$dir/corpus" "$root/corpus/$target" $extra >"$log" 2>&1 || status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov="cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p') ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')"
	units=$(ls "$dir/corpus" | wc -l)
	;;
afl)
	bin=$fz/afl_$target
	[ -x "$bin" ] || { echo "campaign.sh: $bin missing: run fuzz/build.sh afl" >&2; exit 2; }
	mkdir -p "$dir/in"
	cp "$root/corpus/$target/"* "$dir/in/"
	# fuzz_diff: AFL++ also applies the structural mutator (afl_mutator.c).
	mut=
	[ "$target" = diff ] && [ -f "$fz/afl_mutator_diff.so" ] && mut=$fz/afl_mutator_diff.so
	status=0
	AFL_CUSTOM_MUTATOR_LIBRARY=$mut AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
		afl-fuzz -i "$dir/in" -o "$dir/out" -x "$fz/$dict" -m none -t 2000 \
		-V "$seconds" -- "$bin" >"$log" 2>&1 || status=$?
	stats=$dir/out/default/fuzzer_stats
	[ -f "$stats" ] || { tail -20 "$log"; exit 2; }
	stat() { sed -n "s/^$1 *: *//p" "$stats"; }
	execs=$(stat execs_done)
	cov="bitmap=$(stat bitmap_cvg)"
	units=$(stat corpus_count)
	if ls "$dir/out/default/crashes/"id* >/dev/null 2>&1; then
		cp "$dir/out/default/crashes/"id* "$dir/crashes/"
	fi
	;;
*) echo "campaign.sh: unknown engine '$engine'" >&2; exit 2 ;;
esac

findings=$(ls "$dir/crashes" | wc -l)
rate=$(awk -v e="${execs:-0}" -v s="$seconds" 'BEGIN { printf "%.0f", e / s }')
line="$engine $target ${seconds}s execs=${execs:-0} execs/s=$rate $cov corpus=$units findings=$findings"
echo "$line" | tee -a "$fz/campaigns.txt"
if [ "$findings" -gt 0 ] || [ "$status" -ne 0 ]; then
	echo "campaign.sh: finding(s) in $dir/crashes (exit $status); log: $log" >&2
	exit 1
fi
