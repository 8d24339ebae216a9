#!/bin/sh
# bench/callgrind.sh CGRUN N — instructions per packet (callgrind Ir / N)
# of each bench filter on hand-written C, the JIT and the interpreter,
# over vfm-bench's mix.  Exact and repeatable, unlike wall time on a shared
# machine; it counts instructions, not cycles (no cache, branch or
# dependency costs), so it is a guide to code changes, not a speed.
#
# Two figures per engine:
#   call  everything per packet inside the loop: the public call a user
#         makes (vfm_execute; vfm_execute_ex for ddos and rate), or the
#         C function through a pointer, plus the loop itself;
#   code  the filter alone: without the loop (bench/cgrun.c) and without
#         api/vfm.c's own instructions (argument checks, engine choice):
#         JIT code plus the helpers it calls, the interpreter loop, or the
#         C function.
set -eu
cgrun=$1
n=${2:-10000}
tmp=${TMPDIR:-/tmp}/vfm-cg.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "instructions per packet (callgrind, $n packets of the bench mix); call = per API call incl. loop, code = filter code only"
printf '%-6s %9s %9s %9s %9s %9s %9s %11s %11s\n' filter native/call native/code \
	jit/call jit/code interp/call interp/code "jit/native" "(code)"
for f in F1:bench/filters/f1.vfm F2:bench/filters/f2.vfm F3:bench/filters/f3.vfm \
	 F4:bench/filters/f4.vfm ddos:examples/ddos_detect.vfm rate:examples/rate_limit.vfm; do
	id=${f%%:*}
	path=${f#*:}
	ex=
	case $id in ddos|rate) ex=--ex ;; esac
	line="$id"
	for eng in native jit interp; do
		valgrind --tool=callgrind --toggle-collect=cg_loop --toggle-collect=cg_native \
			--callgrind-out-file="$tmp/cg.out" "$cgrun" $ex "$path" $eng "$n" \
			> /dev/null 2> "$tmp/cg.err" || { cat "$tmp/cg.err" >&2; exit 1; }
		callgrind_annotate --auto=no --threshold=100 "$tmp/cg.out" > "$tmp/cg.txt" 2>/dev/null
		line="$line $(awk -v n="$n" '
			/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
			/^ *[0-9,]+ \(.*%\) +[^ ]+:/ && !/PROGRAM TOTALS/ {
				ir = $1; gsub(",", "", ir)
				fn = $0; sub(/^ *[0-9,]+ \([^)]*\) +/, "", fn)
				if (fn ~ /^bench\/cgrun\.c:/ || fn ~ /^api\/vfm\.c:/) outside += ir
			}
			END { printf "%.1f %.1f", total / n, (total - outside) / n }' "$tmp/cg.txt")"
	done
	echo "$line" | awk '{ printf "%-6s %9s %9s %9s %9s %9s %9s %10.2fx %10.2fx\n",
		$1, $2, $3, $4, $5, $6, $7, $4 / $2, $5 / $3 }'
done
