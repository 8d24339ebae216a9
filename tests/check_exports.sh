#!/bin/sh
# tests/check_exports.sh BUILD [CC] — the library exports exactly the API.
#
# Links the library's objects into a throw-away shared object and compares
# its dynamic symbols with the functions include/vfm.h marks VFM_API: every
# internal symbol must be hidden (-fvisibility=hidden), every API function
# exported.
set -eu
build=${1:-build}
cc=${2:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# -fPIC is the default of the compilers CI uses (PIE); a build that is not
# PIC cannot be linked shared and this check says so.
if ! $cc -shared -o "$tmp/libvfm.so" -Wl,--whole-archive "$build/libvfm.a" \
	-Wl,--no-whole-archive -lpthread 2>"$tmp/err"; then
	echo "check_exports: cannot link $build/libvfm.a as a shared object:" >&2
	cat "$tmp/err" >&2
	exit 1
fi
nm -D --defined-only "$tmp/libvfm.so" | awk '$2 ~ /[TDRB]/ { print $3 }' |
	grep -v '^_' | sort -u > "$tmp/exported"
sed -n 's/^VFM_API .*[ *]\(vfm_[a-z0-9_]*\)(.*/\1/p' include/vfm.h | sort -u > "$tmp/api"
if ! cmp -s "$tmp/exported" "$tmp/api"; then
	echo "check_exports: exported symbols (<) differ from the VFM_API list in include/vfm.h (>):" >&2
	diff "$tmp/exported" "$tmp/api" >&2 || true
	exit 1
fi
echo "check_exports: $(wc -l < "$tmp/api") API functions exported, nothing else"
