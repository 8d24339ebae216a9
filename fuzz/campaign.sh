#!/bin/sh
# fuzz/campaign.sh — one long fuzzing run of one target, with a summary.
#
#   fuzz/campaign.sh [-e libfuzzer|afl] [-t SECONDS] TARGET
#   fuzz/campaign.sh -s          the summary table of every campaign run
#
# TARGET is any of fuzz/targets.sh's (load diff asm pcap cbpf vcost ebpf);
# the harnesses must be built (fuzz/build.sh, or fuzz/build.sh afl for
# -e afl).  With VFM_FUZZ_KERNEL set (diff, ebpf: the kernel as an
# engine) the per-input -timeout is 120 s instead of 25.  One process,
# so that two campaigns can share a 2-core machine.
# Everything goes under build/fuzz/campaign-ENGINE-TARGET/: the log, new
# corpus units (corpus/T is only read), crashes.  At the end one summary
# line is printed and appended to build/fuzz/campaigns.txt:
#
#   engine target wall=S cpu=S execs=N execs/s=R cov=.. corpus=N findings=N
#
# cpu is the CPU seconds (user + system) the fuzzer used, wall its
# duration; execs/s is per CPU second.  coverage is libFuzzer's "cov"
# (edges) and "ft" (features), or AFL++'s bitmap_cvg.  -s prints
# campaigns.txt as the table of the campaign report (Markdown: CPU-hours,
# execs, coverage, corpus, findings per run).  Exit status: 0 no finding,
# 1 a finding (its inputs are in the crashes directory: fuzz/triage.sh
# explains one), 2 usage error.
set -eu

engine=libfuzzer
seconds=1800
summary=
while getopts e:t:sh opt; do
	case $opt in
	e) engine=$OPTARG ;;
	t) seconds=$OPTARG ;;
	s) summary=1 ;;
	*) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

cd "$(dirname "$0")/.."
root=$(pwd)
fz=$root/build/fuzz

if [ -n "$summary" ]; then
	[ -f "$fz/campaigns.txt" ] || { echo "campaign.sh: no $fz/campaigns.txt yet" >&2; exit 2; }
	echo "| engine | target | CPU-hours | wall (h) | execs | execs/CPU-s | coverage | corpus | findings |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk '{ delete v; cov = ""
	       for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2]
	               if (kv[1] == "cov" || kv[1] == "ft" || kv[1] == "bitmap") cov = cov " " $i }
	       printf "| %s | %s | %.2f | %.2f | %s | %s |%s | %s | %s |\n", $1, $2,
	               v["cpu"] / 3600, v["wall"] / 3600, v["execs"], v["execs/s"], cov,
	               v["corpus"], v["findings"] }' "$fz/campaigns.txt"
	exit 0
fi

. fuzz/targets.sh
[ $# -eq 1 ] || { echo "campaign.sh: one target expected ($FUZZ_TARGETS_ALL)" >&2; exit 2; }
target=$1
case " $FUZZ_TARGETS_ALL " in *" $target "*) ;;
*) echo "campaign.sh: unknown target '$target' ($FUZZ_TARGETS_ALL)" >&2; exit 2 ;; esac
dict=$(target_dict "$target")
case $seconds in '' | *[!0-9]*) echo "campaign.sh: bad -t '$seconds'" >&2; exit 2 ;; esac

# CPU seconds the children used: the shell's `times` (user and system of
# the waited-for children, its second line), written by this shell itself
# before and after the run (in a pipe or $(...) a subshell would answer,
# and a new process has no children's time); cpu_of reads such a file.
cpu_of() {
	sed -n 2p "$1" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, t, "m");
		s += t[1] * 60 + t[2] } printf "%.1f", s }'
}
dir=$fz/campaign-$engine-$target
mkdir -p "$dir/corpus" "$dir/crashes"
log=$dir/log
times > "$dir/times-before"
start=$(date +%s)

case $engine in
libfuzzer)
	bin=$fz/fuzz_$target
	[ -x "$bin" ] || { echo "campaign.sh: $bin missing: run fuzz/build.sh" >&2; exit 2; }
	# Units of earlier `make fuzz` runs are read as seeds too.
	extra=
	[ -d "$fz/corpus-$target" ] && extra=$fz/corpus-$target
	# The kernel's verifier, restarted by each signal of libFuzzer's
	# timer (fuzz/README.md, fuzz_ebpf), can take longer than 25 s to
	# load one program on a loaded machine.
	timeout=25
	[ -n "${VFM_FUZZ_KERNEL:-}" ] && timeout=120
	status=0
	VFM_FUZZ_STATS=1 "$bin" -dict="$fz/$dict" -max_len=4096 \
		-timeout="$timeout" -rss_limit_mb=2048 -max_total_time="$seconds" \
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
wall=$(($(date +%s) - start))
times > "$dir/times-after"
cpu=$(awk -v a="$(cpu_of "$dir/times-before")" -v b="$(cpu_of "$dir/times-after")" \
	'BEGIN { printf "%.0f", b - a }')
rate=$(awk -v e="${execs:-0}" -v s="$cpu" 'BEGIN { printf "%.0f", (s > 0 ? e / s : 0) }')
line="$engine $target wall=$wall cpu=$cpu execs=${execs:-0} execs/s=$rate $cov corpus=$units findings=$findings"
echo "$line" | tee -a "$fz/campaigns.txt"
if [ "$findings" -gt 0 ] || [ "$status" -ne 0 ]; then
	echo "campaign.sh: finding(s) in $dir/crashes (exit $status); log: $log" >&2
	exit 1
fi
