#!/bin/sh
# tests/check_exports.sh BUILD [CC] — the library exports exactly the API.
#
# Two checks against the functions include/vfm.h marks VFM_API (the list
# tools/api-symbols.sh derives from the header):
#   1. the archive's objects, linked into a throw-away shared object with
#      no version script: every internal symbol must be hidden
#      (-fvisibility=hidden), every API function exported — so the archive
#      and the single header keep the user's namespace clean too;
#   2. BUILD/libvfm.so (the shared library, linked with the version script
#      generated from the same list), if it was built: its dynamic symbols.
set -eu
build=${1:-build}
cc=${2:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh tools/api-symbols.sh include/vfm.h > "$tmp/api"

# dynsyms SO: the defined global symbols of SO's dynamic table, without
# symbol versions (name@@VER) and the toolchain's own (_init, _end, ...).
dynsyms() {
	nm -D --defined-only "$1" | awk '$2 ~ /[TDRBVWiu]/ { print $3 }' |
		sed 's/@.*//' | grep -v '^_' | LC_ALL=C sort -u
}

# compare WHAT LIST: LIST must equal the API list.
compare() {
	if ! cmp -s "$2" "$tmp/api"; then
		echo "check_exports: $1: exported symbols differ from the VFM_API list of include/vfm.h" >&2
		LC_ALL=C comm -23 "$2" "$tmp/api" | sed 's/^/  exported but not VFM_API: /' >&2
		LC_ALL=C comm -13 "$2" "$tmp/api" | sed 's/^/  VFM_API but not exported: /' >&2
		exit 1
	fi
}

if ! $cc -shared -o "$tmp/libvfm.so" -Wl,--whole-archive "$build/libvfm.a" \
	-Wl,--no-whole-archive -lpthread 2>"$tmp/err"; then
	echo "check_exports: cannot link $build/libvfm.a as a shared object:" >&2
	cat "$tmp/err" >&2
	exit 1
fi
dynsyms "$tmp/libvfm.so" > "$tmp/archive"
compare "$build/libvfm.a" "$tmp/archive"
n=$(wc -l < "$tmp/api")
if [ -e "$build/libvfm.so" ]; then
	dynsyms "$build/libvfm.so" > "$tmp/shared"
	compare "$build/libvfm.so" "$tmp/shared"
	echo "check_exports: $n API functions exported by libvfm.a's objects and by libvfm.so, nothing else"
else
	echo "check_exports: $n API functions exported by libvfm.a's objects, nothing else"
fi
