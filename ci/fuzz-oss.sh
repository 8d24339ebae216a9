#!/bin/sh
# ci/fuzz-oss.sh (make fuzz-oss) — the OSS-Fuzz / ClusterFuzzLite build,
# reproduced locally: the tracked files copied into a clean $SRC/vfm, then
# .clusterfuzzlite/build.sh run with only the variables those services set
# (CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, OUT, SRC, SANITIZER; the
# flags as OSS-Fuzz's base-builder sets them for clang), once per
# sanitizer; then every target it built runs for FUZZ_OSS_SECONDS (5) on
# its seed corpus with its .options (dict, max_len).  Fails if a build
# fails, a target is missing, or a run finds something.
#
#   sh ci/fuzz-oss.sh
#   FUZZ_OSS_SANITIZERS="address" FUZZ_OSS_SECONDS=60 sh ci/fuzz-oss.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_OSS_SECONDS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

src=$tmp/src
mkdir -p "$src/vfm"
(cd "$root" && git ls-files -z | xargs -0 tar cf -) | tar xf - -C "$src/vfm"

common="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks=array-bounds,bool,builtin,enum,float-divide-by-zero,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound
for san in ${FUZZ_OSS_SANITIZERS:-address undefined memory}; do
	case $san in
	address) flags="-fsanitize=address -fsanitize-address-use-after-scope" ;;
	undefined) flags="-fsanitize=$ubsan_checks -fno-sanitize-recover=$ubsan_checks" ;;
	memory) flags="-fsanitize=memory -fsanitize-memory-track-origins=2" ;;
	*) echo "fuzz-oss: unknown sanitizer $san" >&2; exit 2 ;;
	esac
	out=$tmp/out-$san
	mkdir -p "$out"
	echo "== fuzz-oss: SANITIZER=$san"
	env -i PATH="$PATH" HOME="${HOME:-/root}" \
		CC=clang CXX=clang++ CFLAGS="$common $flags -fsanitize=fuzzer-no-link" \
		CXXFLAGS="$common $flags -fsanitize=fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
		SRC="$src" OUT="$out" SANITIZER="$san" \
		bash "$src/vfm/.clusterfuzzlite/build.sh" > "$out/build.log" 2>&1 ||
		{ tail -30 "$out/build.log" >&2; echo "fuzz-oss: the $san build failed" >&2; exit 1; }
	grep '^built .*fuzz_' "$out/build.log" || true
	n=0
	for f in "$out"/fuzz_*; do
		case $f in *.dict | *.options | *.zip | *.log) continue ;; esac
		t=$(basename "$f")
		for ext in .dict .options _seed_corpus.zip; do
			[ -f "$out/$t$ext" ] || { echo "fuzz-oss: $t$ext missing" >&2; exit 1; }
		done
		mkdir -p "$out/corpus-$t" "$out/artifacts"
		(cd "$out/corpus-$t" && unzip -q -o "../${t}_seed_corpus.zip")
		max_len=$(sed -n 's/^max_len = //p' "$out/$t.options")
		(cd "$out" && "./$t" -dict="$t.dict" -max_len="$max_len" -timeout=25 \
			-rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1 \
			-artifact_prefix="artifacts/$t-" "corpus-$t" > "$t.run.log" 2>&1) ||
			{ tail -40 "$out/$t.run.log" >&2; echo "fuzz-oss: $t ($san) found something" >&2; exit 1; }
		echo "fuzz-oss: $san $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.run.log") runs in ${seconds} s"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "fuzz-oss: the $san build made no target" >&2; exit 1; }
done
echo "fuzz-oss: OK"
