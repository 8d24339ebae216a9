#!/bin/sh
# ci/arm64.sh — cross-build VFM for AArch64 and run its tests under
# qemu-aarch64: the semantic table on the interpreter and the ARM64 JIT,
# test_jit's generated programs (JIT against interpreter: verdict, status,
# instruction count, flow table), the ARM64 back end's own tests (encoders,
# bitmask immediates, a program with more than 1 MiB of code, cache flush,
# validation), the rest of the cmocka suite and the fuzz replayers; then a
# --jit-dump disassembled with the target's objdump machine, and generated
# programs on the host's interpreter against the ARM64 JIT (output files
# compared).
#
# Installs what it needs (as root, or with sudo; apt-get update first) and
# is safe to run again: packages already present are not touched and make
# rebuilds only what changed.  About 2-3 minutes on 2 cores once the
# packages are installed.
#
#   sh ci/arm64.sh                       the CI run
#   AARCH64_SKIP= sh ci/arm64.sh         also the slow verifier-only tests
#                                        (test_domain, test_z3check,
#                                        test_proofs_encoding: ~8 min more
#                                        under qemu)
#   VFM_JIT_PROGRAMS=100000 sh ci/arm64.sh   a longer JIT-vs-interpreter run
#   ARM64_DIFF_PROGRAMS=1000 sh ci/arm64.sh  more programs across architectures
set -eu
cd "$(dirname "$0")/.."

# Skipped by default: they test the verifier's arithmetic (abstract domains,
# Z3 encodings), run no engine, and take minutes under qemu; `make test`
# runs them natively.
: "${AARCH64_SKIP=test_domain test_z3check test_proofs_encoding}"
export AARCH64_SKIP

if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi

# arm64 packages come from Debian's multiarch archive.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "arm64.sh: adding the arm64 architecture to dpkg"
	$SUDO dpkg --add-architecture arm64
fi
packages="make gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
qemu-user libcmocka-dev:arm64 libpcap-dev:arm64 libz3-dev:arm64
libasan8-arm64-cross libubsan1-arm64-cross"
missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "arm64.sh: installing:$missing"
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086 # word splitting of the list is intended
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

jobs=$(nproc 2>/dev/null || echo 2)
QEMU=${QEMU_AARCH64:-qemu-aarch64}
make -j"$jobs" aarch64 WERROR=-Werror
make test-aarch64 WERROR=-Werror

# --jit-dump: the native code of a shipped example, disassembled with the
# machine name the library reports (vfm_jit_objdump_arch, "aarch64").
out=build/aarch64/ci
mkdir -p "$out"
bin=build/aarch64/qemu-bin
"$bin/vfm-asm" examples/ddos_detect.vfm -o "$out/ddos.bin"
"$bin/vfm-gen" -n 2000 -s 3 -o "$out/mix.pcap" >/dev/null
"$bin/vfm-test" --jit --jit-dump "$out/ddos.jit" "$out/ddos.bin" "$out/mix.pcap" > "$out/run.txt"
grep -q "engine:      jit" "$out/run.txt"
machine=$("$bin/vfm-test" --help | sed -n 's/.*objdump -b binary -m \([^ ]*\) -D.*/\1/p')
[ "$machine" = aarch64 ] || { echo "arm64.sh: vfm-test names objdump machine '$machine'" >&2; exit 1; }
aarch64-linux-gnu-objdump -b binary -m "$machine" -D "$out/ddos.jit" > "$out/ddos.dis"
tail -n 1 "$out/ddos.dis" | grep -q 'ret$' ||
	{ echo "arm64.sh: the dumped code does not end in ret" >&2; exit 1; }
echo "arm64.sh: --jit-dump: $(grep -c '^ *[0-9a-f]*:' "$out/ddos.dis") instructions, ends in ret"

# Across architectures: the same generated programs over the same capture
# on the host's interpreter (x86-64 here) and on the ARM64 JIT under qemu;
# per-packet verdict and status, accepted/dropped/status counts and the
# flow-table statistics must be identical.  (Instruction counts and flow
# contents are compared inside one process by test_jit.)
make -j"$jobs" tools WERROR=-Werror
n=${ARM64_DIFF_PROGRAMS:-200}
rm -rf "$out/progs"
# Half small programs, half large ones (loops, helper calls, deep stacks).
build/bin/vfm-progen -s 1 -c $((n / 2)) -n 32 --bin -o "$out/progs" >/dev/null
build/bin/vfm-progen -s 1000001 -c $((n - n / 2)) -n 200 --bin -o "$out/progs" >/dev/null
build/bin/vfm-gen -n 500 -s 5 -o "$out/diff.pcap" >/dev/null
# A small budget and flow table, so that BUDGET and evictions happen.
opts="--budget 2 --flow-capacity 64"
strip_engine() { grep -v -E '^(engine|time|throughput|filter):' "$1"; }
for b in "$out"/progs/*.bin; do
	build/bin/vfm-test -v $opts "$b" "$out/diff.pcap" > "$out/host.txt"
	"$bin/vfm-test" -v --jit $opts "$b" "$out/diff.pcap" > "$out/arm64.txt"
	grep -q "engine:      jit" "$out/arm64.txt" ||
		{ echo "arm64.sh: $b did not run on the ARM64 JIT" >&2; exit 1; }
	strip_engine "$out/host.txt" > "$out/host.stripped"
	strip_engine "$out/arm64.txt" > "$out/arm64.stripped"
	if ! diff "$out/host.stripped" "$out/arm64.stripped" > "$out/diff.txt"; then
		echo "arm64.sh: $b: host interpreter and ARM64 JIT differ:" >&2
		head -20 "$out/diff.txt" >&2
		exit 1
	fi
done
echo "arm64.sh: $n generated programs x 500 packets: host interpreter = ARM64 JIT"

# fuzz_diff with the ARM64 JIT: the replayer cross-built with ASan + UBSan
# (fuzz/build.sh replay-cross) over corpus/diff (plain and blinded JIT,
# flags bit 7) and ARM64_FUZZ_MUTANTS mutants of each input made by the
# harness's own structural mutator; interpreter, JIT and reference
# interpreter must agree after every packet.  A failing mutant is left in
# $out/mutant-failed.  The sanitizer runtimes are the cross toolchain's
# (/usr/aarch64-linux-gnu, qemu -L); LeakSanitizer does not run under qemu.
GCC=aarch64-linux-gnu-gcc OUT=build/aarch64/fuzz-san TARGETS=diff sh fuzz/build.sh replay-cross
m=${ARM64_FUZZ_MUTANTS:-20}
(cd "$out" && ASAN_OPTIONS=detect_leaks=0 $QEMU -L /usr/aarch64-linux-gnu \
	../fuzz-san/replay_diff --mutate "$m" ../../../corpus/diff)
echo "arm64.sh: fuzz_diff (ASan + UBSan) on the ARM64 JIT: corpus/diff and $m mutants of each input"
echo "arm64.sh: OK"
