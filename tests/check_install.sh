#!/bin/sh
# tests/check_install.sh BUILD — what `make install` puts on a system is
# complete and usable on its own.
#
#   1. make install into a temporary DESTDIR (PREFIX=/opt/vfm): the file
#      list is exactly the expected one (printed);
#   2. nm -D of the installed libvfm.so lists exactly the VFM_API
#      functions of include/vfm.h (tools/api-symbols.sh), its soname is
#      libvfm.so.MAJOR and it needs nothing but libc;
#   3. examples/embed is built from a copy outside the source tree with
#      the installed vfm.pc only (PKG_CONFIG_SYSROOT_DIR for the DESTDIR):
#      against libvfm.so (run with LD_LIBRARY_PATH), against libvfm.a
#      (pkg-config --static, no libvfm.so needed), against the installed
#      single header, and z3check against vfm-z3.pc; every examples/*.vfm,
#      assembled by the installed vfm-asm, runs over a capture from the
#      installed vfm-gen, and each build gives the counts the installed
#      vfm-test gives;
#   4. the installed man pages are found by man(1) through MANPATH and
#      render without warnings;
#   5. a second install without DESTDIR, with LIBDIR, INCLUDEDIR and MANDIR
#      moved, works through its vfm.pc as written; make uninstall then
#      leaves no file behind in either tree.
# Run by make check (normal variant); MAKE and CC from the environment.
set -eu
build=${1:-build}
make=${MAKE:-make}
cc=${CC:-cc}
src=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check_install: $*" >&2; exit 1; }

major=$(sed -n 's/^#define VFM_VERSION_MAJOR \([0-9]*\).*/\1/p' include/vfm.h)
minor=$(sed -n 's/^#define VFM_VERSION_MINOR \([0-9]*\).*/\1/p' include/vfm.h)
patch=$(sed -n 's/^#define VFM_VERSION_PATCH \([0-9]*\).*/\1/p' include/vfm.h)
version=$major.$minor.$patch
tools=$(for f in tools/vfm-*.c; do basename "$f" .c; done)
sh tools/api-symbols.sh include/vfm.h > "$tmp/api"

# ---- 1. install into a DESTDIR ------------------------------------------------
root=$tmp/root
prefix=/opt/vfm
$make -s --no-print-directory install BUILD="$build" CC="$cc" DESTDIR="$root" PREFIX=$prefix \
	> "$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "make install failed"; }
{
	for t in $tools; do echo "bin/$t"; done
	for f in vfm.h vfm_single.h vfm_z3.h; do echo "include/$f"; done
	for f in libvfm.a libvfm_z3.a libvfm.so libvfm.so.$major libvfm.so.$version \
		pkgconfig/vfm.pc pkgconfig/vfm-z3.pc; do echo "lib/$f"; done
	for t in $tools; do echo "share/man/man1/$t.1"; done
	echo share/man/man3/vfm.3
} | LC_ALL=C sort > "$tmp/expected"
(cd "$root$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort) > "$tmp/installed"
if ! cmp -s "$tmp/expected" "$tmp/installed"; then
	LC_ALL=C comm -23 "$tmp/expected" "$tmp/installed" | sed 's/^/  missing: /' >&2
	LC_ALL=C comm -13 "$tmp/expected" "$tmp/installed" | sed 's/^/  unexpected: /' >&2
	fail "make install DESTDIR=... PREFIX=$prefix installed a different file list"
fi
[ -z "$(find "$root" -mindepth 1 -maxdepth 1 ! -name opt)" ] || fail "make install wrote outside PREFIX"
echo "check_install: installed in DESTDIR under $prefix:"
sed 's/^/  /' "$tmp/installed"

# ---- 2. the shared library's exports ---------------------------------------------
lib=$root$prefix/lib
so=$lib/libvfm.so.$version
nm -D --defined-only "$so" | awk '$2 ~ /[TDRBVWiu]/ { print $3 }' | sed 's/@.*//' |
	grep -v '^_' | LC_ALL=C sort -u > "$tmp/exported"
if ! cmp -s "$tmp/exported" "$tmp/api"; then
	LC_ALL=C comm -23 "$tmp/exported" "$tmp/api" | sed 's/^/  exported but not VFM_API: /' >&2
	LC_ALL=C comm -13 "$tmp/exported" "$tmp/api" | sed 's/^/  VFM_API but not exported: /' >&2
	fail "nm -D $prefix/lib/libvfm.so.$version differs from the VFM_API list of include/vfm.h"
fi
readelf -d "$so" > "$tmp/dynamic"
grep -q "SONAME.*\[libvfm\.so\.$major\]" "$tmp/dynamic" || fail "libvfm.so's soname is not libvfm.so.$major"
needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' "$tmp/dynamic" | grep -v '^libc\.so' || true)
[ -z "$needed" ] || fail "libvfm.so needs more than libc: $needed"
[ "$(readlink "$lib/libvfm.so")" = "libvfm.so.$major" ] &&
	[ "$(readlink "$lib/libvfm.so.$major")" = "libvfm.so.$version" ] ||
	fail "the libvfm.so symlinks are not libvfm.so -> libvfm.so.$major -> libvfm.so.$version"
echo "check_install: libvfm.so.$version (soname libvfm.so.$major) exports the $(wc -l < "$tmp/api") VFM_API functions, nothing else"

# ---- 3. build and run against the installed tree only -------------------------------
export PKG_CONFIG_LIBDIR="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
unset PKG_CONFIG_PATH || true
[ "$(pkg-config --modversion vfm)" = "$version" ] || fail "pkg-config --modversion vfm is not $version"
grep -qx "prefix=$prefix" "$lib/pkgconfig/vfm.pc" || fail "vfm.pc's prefix is not $prefix"
echo "check_install: pkg-config --cflags --libs vfm: $(pkg-config --cflags --libs vfm)"
echo "check_install: pkg-config --cflags --libs vfm-z3: $(pkg-config --cflags --libs vfm-z3)"
mkdir "$tmp/embed"
cp examples/embed/embed.c examples/embed/z3check.c examples/embed/Makefile "$tmp/embed/"
printf '#define VFM_IMPLEMENTATION\n#include <vfm_single.h>\n#include "embed.c"\n' > "$tmp/embed/single.c"
(
	cd "$tmp/embed"
	$make -s --no-print-directory CC="$cc" CFLAGS="-O2 -Wall -Wextra -Werror" all
	# The single header: the implementation compiled into the program.
	$cc -std=gnu11 -O2 -Wall -Wextra -Werror $(pkg-config --cflags vfm) single.c -o embed-single
) > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "examples/embed does not build against the installed tree"; }
readelf -d "$tmp/embed/embed" | grep -q "NEEDED.*\[libvfm\.so\.$major\]" ||
	fail "embed is not linked against libvfm.so.$major"
if readelf -d "$tmp/embed/embed-static" "$tmp/embed/embed-single" | grep -q 'NEEDED.*libvfm'; then
	fail "embed-static or embed-single needs libvfm.so"
fi

bin=$root$prefix/bin
"$bin/vfm-gen" -n 3000 -s 7 -o "$tmp/mix.pcap" > /dev/null
n=0
for f in examples/*.vfm; do
	name=$(basename "$f" .vfm)
	"$bin/vfm-asm" "$f" -o "$tmp/$name.bin" > /dev/null || fail "installed vfm-asm rejects $f"
	"$bin/vfm-verify" "$tmp/$name.bin" > /dev/null || fail "installed vfm-verify rejects $name.bin"
	"$bin/vfm-test" --json "$tmp/$name.bin" "$tmp/mix.pcap" > "$tmp/$name.json"
	want=$(sed 's/.*"packets":\([0-9]*\),"accepted":\([0-9]*\),"dropped":\([0-9]*\),"status":{"OK":\([0-9]*\),"BOUNDS":\([0-9]*\),"BUDGET":\([0-9]*\).*"flow":{[^}]*"entries":\([0-9]*\).*/packets=\1 accepted=\2 dropped=\3 ok=\4 bounds=\5 budget=\6 flow_entries=\7/' "$tmp/$name.json")
	for variant in embed embed-static embed-single; do
		for filter in "$tmp/$name.bin" "$f"; do
			got=$(LD_LIBRARY_PATH="$lib" "$tmp/embed/$variant" "$filter" "$tmp/mix.pcap" 2>"$tmp/err") ||
				{ cat "$tmp/err" >&2; fail "$variant $filter failed"; }
			[ "$got" = "$want" ] || fail "$variant $filter: $got; vfm-test: $want"
			n=$((n + 1))
		done
	done
done
# Without LD_LIBRARY_PATH the shared build cannot find the library (so the
# runs above used the installed one, not a system copy).
# (Skipped where a libvfm.so.MAJOR is installed on the system.)
if ! { ldconfig -p 2>/dev/null | grep -q "libvfm\.so\.$major "; } &&
	[ ! -e "/usr/lib/libvfm.so.$major" ] && [ ! -e "/usr/local/lib/libvfm.so.$major" ] &&
	"$tmp/embed/embed" "$tmp/quickstart.bin" "$tmp/mix.pcap" > /dev/null 2>&1; then
	fail "embed ran without LD_LIBRARY_PATH: which libvfm.so did it use?"
fi
"$tmp/embed/z3check" "$tmp/quickstart.bin" > "$tmp/z3.log" 2>&1 ||
	{ cat "$tmp/z3.log" >&2; fail "z3check (vfm-z3.pc) failed on quickstart.bin"; }
echo "check_install: examples/embed built against the installed tree (libvfm.so, libvfm.a via pkg-config --static, vfm_single.h, vfm-z3); $n runs of examples/*.vfm agree with the installed vfm-test"

# ---- 4. man pages through MANPATH ------------------------------------------------------
for page in $tools vfm.3; do
	case $page in *.3) sec=3 name=vfm ;; *) sec=1 name=$page ;; esac
	LC_ALL=C.UTF-8 MANPATH="$root$prefix/share/man" MANWIDTH=80 \
		man --warnings -E UTF-8 "$sec" "$name" > "$tmp/page" 2> "$tmp/man.err" ||
		fail "man $sec $name: not found in the installed tree"
	[ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err" >&2; fail "man $sec $name: warnings"; }
	grep -q "$name" "$tmp/page" || fail "man $sec $name: empty page"
done
echo "check_install: man finds and renders every installed page without warnings"

# ---- 5. another layout, without DESTDIR; uninstall ------------------------------------
unset PKG_CONFIG_SYSROOT_DIR
p2=$tmp/prefix
vars="BUILD=$build PREFIX=$p2 LIBDIR=$p2/lib64 INCLUDEDIR=$p2/inc MANDIR=$p2/man"
# shellcheck disable=SC2086 # word splitting of $vars is intended
$make -s --no-print-directory install CC="$cc" $vars > "$tmp/install2.log" 2>&1 ||
	{ cat "$tmp/install2.log" >&2; fail "make install $vars failed"; }
for f in lib64/libvfm.so.$version inc/vfm.h man/man1/vfm-test.1 man/man3/vfm.3 \
	lib64/pkgconfig/vfm.pc bin/vfm-asm; do
	[ -e "$p2/$f" ] || fail "make install $vars: no $f"
done
export PKG_CONFIG_LIBDIR="$p2/lib64/pkgconfig"
$cc -O2 $(pkg-config --cflags vfm) "$tmp/embed/embed.c" -o "$tmp/embed2" $(pkg-config --libs vfm) ||
	fail "embed does not build with $p2's vfm.pc"
LD_LIBRARY_PATH="$p2/lib64" "$tmp/embed2" "$tmp/quickstart.bin" "$tmp/mix.pcap" > /dev/null 2>&1 ||
	fail "embed built with $p2's vfm.pc does not run"
# shellcheck disable=SC2086
$make -s --no-print-directory uninstall $vars > /dev/null
$make -s --no-print-directory uninstall BUILD="$build" DESTDIR="$root" PREFIX=$prefix > /dev/null
left=$(find "$p2" "$root" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "check_install: install with LIBDIR, INCLUDEDIR, MANDIR moved works; uninstall removes every file"
