#!/bin/sh
# tests/check_layers.sh BUILD — the library's layers have no cycle.
#
# From the bottom: include/ ← vm/ ← verifier/ ← {jit/, ebpf/} ← api/.  A
# layer may use the ones below it, never one above nor a peer on its own
# level (the native JIT and the eBPF back end are independent): checked on
# the compiled objects (every undefined symbol of a layer's objects must
# not be defined by a higher or peer layer) and on the sources (no
# #include of one).  The leaves (tools/, tests/, fuzz/, bench/, testkit/) may use anything; no
# library source includes one.
set -eu
build=${1:-build}
levels="vm verifier jit,ebpf api"
layers="vm verifier jit ebpf api"
status=0

objects() { # the objects of layer $1 that the library holds (stale ones
	    # of removed sources and other CPUs' JIT back ends are skipped)
	ar t "$build/libvfm.a" | while read -r o; do
		for c in "$1"/*.c; do
			[ "$(basename "$c" .c).o" = "$o" ] && [ -f "$build/obj/${c%.c}.o" ] &&
				echo "$build/obj/${c%.c}.o"
		done
	done | sort -u
}

defined() { # symbols defined by the objects of layer $1
	nm --defined-only $(objects "$1") 2>/dev/null |
		awk 'NF == 3 && $2 ~ /[TDRBC]/ { print $3 }' | sort -u
}

# Each layer against every layer it must not use: the higher levels, and
# its peers on its own level (jit/ and ebpf/ never use each other).
not_below() { # the layers that layer $1 must not use
	seen=0
	for lvl in $levels; do
		case ",$lvl," in *",$1,"*) seen=1; for p in $(echo "$lvl" | tr , ' '); do
			[ "$p" = "$1" ] || echo "$p"; done; continue ;; esac
		if [ $seen -eq 1 ]; then echo "$lvl" | tr , '\n'; fi
	done
}
for l in $layers; do
	for h in $(not_below "$l"); do
		defined "$h" > "$build/.layers-$h"
		for o in $(objects "$l"); do
			nm -u "$o" | awk '{ print $2 }' | sort -u |
				comm -12 - "$build/.layers-$h" | while read -r sym; do
				echo "check_layers: $o ($l/) uses $sym from $h/, a higher or peer layer" >&2
				echo x
			done
		done | grep -q x && status=1
		if grep -n "#include \"\.\./$h/" "$l"/*.c "$l"/*.h 2>/dev/null; then
			echo "check_layers: $l/ includes a header of $h/, a higher or peer layer" >&2
			status=1
		fi
	done
done
for leaf in tools tests fuzz bench testkit; do
	if grep -ln "#include \"\.\./$leaf/" vm/* verifier/*.[ch] jit/* ebpf/* api/* include/* 2>/dev/null; then
		echo "check_layers: a library source includes $leaf/ (a leaf)" >&2
		status=1
	fi
done
rm -f "$build"/.layers-*
[ $status -eq 0 ] && echo "check_layers: vm <- verifier <- {jit, ebpf} <- api: no upward or peer use"
exit $status
