#!/bin/sh
# tests/check_man.sh BUILD — the manual pages in man/ are well-formed and
# say what the tools and the library do.
#
#   1. every page passes `mandoc -T lint` (style level: nothing but
#      "referenced manual not found", for pages such as tcpdump(8) that
#      need not be installed here) and renders with `man --warnings -l`
#      without a warning;
#   2. every tool (tools/vfm-*.c) has man/TOOL.1, and no page lacks a tool;
#   3. each tool's option list, as its --help prints it (the usage lines
#      and the option table), is the list of options its page documents
#      (the `.It Fl ...` items): a mismatch names the option, the tool and
#      the page, so a page is easy to bring up to date;
#   4. vfm(3) has a synopsis entry (.Fo NAME) for exactly the VFM_API
#      functions of include/vfm.h, and the header's version.
# ci/install-deps.sh installs mandoc.
set -eu
build=${1:-build}
bin=$build/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "check_man: $*" >&2; fail=1; }

if ! command -v mandoc >/dev/null 2>&1; then
	echo "check_man: mandoc is not installed (sh ci/install-deps.sh installs it)" >&2
	exit 1
fi

# ---- 1. lint and render ------------------------------------------------------
pages=$(ls man/*.[1-9])
for page in $pages; do
	mandoc -T lint -W style "$page" > "$tmp/lint" 2>&1 || true
	grep -v -e 'referenced manual not found' -e 'mandoc\.db' "$tmp/lint" > "$tmp/lint.bad" || true
	if [ -s "$tmp/lint.bad" ]; then
		bad "$page: mandoc -T lint:"
		cat "$tmp/lint.bad" >&2
	fi
	if command -v man >/dev/null 2>&1; then
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" > /dev/null 2> "$tmp/man.err" || {
			bad "$page: man -l failed"; }
		if [ -s "$tmp/man.err" ]; then
			bad "$page: man --warnings -l:"
			cat "$tmp/man.err" >&2
		fi
	fi
done

# ---- 2. a page per tool ------------------------------------------------------
tools=$(for f in tools/vfm-*.c; do basename "$f" .c; done)
for t in $tools; do
	[ -f "man/$t.1" ] || bad "$t has no manual page: write man/$t.1 (and add it to MAN1_PAGES via TOOL_NAMES)"
done
for page in man/*.1; do
	t=$(basename "$page" .1)
	[ -f "tools/$t.c" ] || bad "$page documents a tool that does not exist (tools/$t.c)"
done

# ---- 3. --help against the page ---------------------------------------------
# help_options: the options in a --help text on stdin, one per line.
#   usage block (from "usage:" to the first blank line): the words of the
#     lines that start (after "or:") with the tool's name, "[" or "-";
#     "-dOq" counts as -d -O -q;
#   option table: lines indented by 1 to 8 spaces that start with "-": the
#     option words at the start of the line, with their argument names
#     (NAME, <file>, NAME=W,...) skipped, up to the first word of prose.
help_options() {
	awk '
	function emit(t) {
		sub(/[,;:.]+$/, "", t); sub(/=.*/, "", t)
		if (t ~ /^--?[A-Za-z0-9][A-Za-z0-9-]*$/) print t
	}
	/^[Uu]sage:/ { inusage = 1 }
	inusage && /^[ \t]*$/ { inusage = 0 }
	inusage {
		line = $0
		sub(/^[Uu]sage:[ \t]*/, "", line); sub(/^[ \t]+/, "", line); sub(/^or:[ \t]+/, "", line)
		if (line !~ /^(vfm-|\[|-)/) next
		gsub(/[][()|]/, " ", line)
		n = split(line, w, /[ \t]+/)
		for (i = 1; i <= n; i++) {
			t = w[i]
			if (t ~ /^-[A-Za-z0-9][A-Za-z0-9]+$/)
				for (j = 2; j <= length(t); j++) print "-" substr(t, j, 1)
			else if (t ~ /^-/)
				emit(t)
		}
		next
	}
	/^ +-/ && match($0, /^ +/) && RLENGTH <= 8 {
		n = split($0, w, /[ \t]+/)
		for (i = 2; i <= n; i++) {
			t = w[i]
			if (t ~ /^-/) emit(t)
			else if (t ~ /^(<[^>]*>|[A-Z][A-Z0-9_]*([=,.][A-Za-z0-9_,.=]*)?),?$/) continue
			else break
		}
	}' | LC_ALL=C sort -u
}

# page_options PAGE: the options PAGE documents, one per line: every
# `Fl WORD` of its `.It` lines ("Fl \-dlt" is --dlt).
page_options() {
	awk '
	/^\.It / {
		n = split($0, w, /[ \t]+/)
		for (i = 2; i < n; i++)
			if (w[i] == "Fl") {
				t = w[i + 1]; gsub(/\\/, "", t); sub(/[=,].*/, "", t)
				if (t != "") print "-" t
			}
	}' "$1" | LC_ALL=C sort -u
}

for t in $tools; do
	[ -f "man/$t.1" ] || continue
	if [ ! -x "$bin/$t" ]; then
		bad "$bin/$t is not built"
		continue
	fi
	# vfm-filtertest keeps libpcap filtertest's command line and adds --help.
	helpcmd="$t --help"
	if ! "$bin/$t" --help > "$tmp/help" 2>/dev/null; then
		helpcmd="$t -h"
		"$bin/$t" -h > "$tmp/help" 2>/dev/null || { bad "$t: neither --help nor -h works"; continue; }
	fi
	help_options < "$tmp/help" > "$tmp/help.opts"
	page_options "man/$t.1" > "$tmp/page.opts"
	if [ ! -s "$tmp/help.opts" ]; then
		bad "$t: no options found in \`$helpcmd\` (has its format changed? see help_options in $0)"
		continue
	fi
	LC_ALL=C comm -23 "$tmp/help.opts" "$tmp/page.opts" | while read -r o; do
		echo "check_man: $t: option $o is in \`$helpcmd\` but not in man/$t.1 (add an .It Fl item to OPTIONS)" >&2
	done
	LC_ALL=C comm -13 "$tmp/help.opts" "$tmp/page.opts" | while read -r o; do
		echo "check_man: $t: option $o is in man/$t.1 but not in \`$helpcmd\` (remove it from the page, or document it in --help)" >&2
	done
	cmp -s "$tmp/help.opts" "$tmp/page.opts" || fail=1
done

# ---- 4. vfm(3) ----------------------------------------------------------------
sh tools/api-symbols.sh include/vfm.h > "$tmp/api"
sed -n 's/^\.Fo \(vfm_[a-z0-9_]*\).*/\1/p' man/vfm.3 | LC_ALL=C sort -u > "$tmp/page.api"
LC_ALL=C comm -23 "$tmp/api" "$tmp/page.api" | while read -r f; do
	echo "check_man: man/vfm.3: VFM_API function $f has no synopsis entry (.Fo $f)" >&2
done
LC_ALL=C comm -13 "$tmp/api" "$tmp/page.api" | while read -r f; do
	echo "check_man: man/vfm.3: $f is in the synopsis but not VFM_API in include/vfm.h" >&2
done
cmp -s "$tmp/api" "$tmp/page.api" || fail=1
for part in MAJOR MINOR PATCH; do
	h=$(sed -n "s/^#define VFM_VERSION_$part \([0-9]*\).*/\1/p" include/vfm.h)
	grep -q "^\.Fd #define VFM_VERSION_$part $h\$" man/vfm.3 ||
		bad "man/vfm.3: the synopsis does not say VFM_VERSION_$part $h (include/vfm.h)"
done

if [ "$fail" -ne 0 ]; then
	echo "check_man: FAILED" >&2
	exit 1
fi
echo "check_man: $(echo "$pages" | wc -w) pages lint clean; $(echo "$tools" | wc -w) tools' --help match their pages; vfm(3) lists $(wc -l < "$tmp/api") API functions"
