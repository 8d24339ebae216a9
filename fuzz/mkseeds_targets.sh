#!/bin/sh
# fuzz/mkseeds_targets.sh — regenerate the seed corpora of fuzz_diff,
# fuzz_asm and fuzz_pcap (corpus/diff, corpus/asm, corpus/pcap; input
# formats: fuzz/README.md).  Needs the tools (make): vfm-progen writes the
# choice strings, vfm-gen the captures.  Run from anywhere; rewrites
# corpus/{diff,asm,pcap}/seed-*.  (fuzz/mkseeds.sh does corpus/load.)
set -eu

cd "$(dirname "$0")/.."
BIN=${VFM_BIN:-build/bin}
for t in vfm-progen vfm-gen; do
	[ -x "$BIN/$t" ] || { echo "mkseeds_targets: $BIN/$t missing (run make)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

byte() { printf "\\$(printf %03o "$1")"; }
hex() {
	h=$1
	while [ -n "$h" ]; do
		rest=${h#??}
		byte $((0x${h%"$rest"}))
		h=$rest
	done
}
packet() {
	n=$((${#1} / 2))
	byte "$n"
	hex "$1"
}
P_TCP80=ffffffffffff02000000000108004500002800000000400600000a000001c0a8010204d2005000000000000000005002000000000000
P_UDP53=ffffffffffff0200000000010800450000240000000040110000c0a801640a00000113880035001000000102030405060708
P_V6TCP=ffffffffffff02000000000186dd600000000014064020010db800000000000000000000000120010db800000000000000000000000204d2005000000000000000005002000000000000
P_ARP=ffffffffffff02000000000108060001080006040001020000000001c0a80101000000000000c0a80102
P_RUNT=ffffffffffff0200000000010800

# ---- corpus/diff: [flags][u16 P][choice string][packets] ------------------
DST=corpus/diff
mkdir -p "$DST"
rm -f "$DST"/seed-*
i=0
for s in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	"$BIN/vfm-progen" -s "$s" --choices -o "$tmp/p$s.vfm" >/dev/null
	pg="$tmp/p$s.pg"
	len=$(wc -c < "$pg")
	# budget index cycles 0..7, capacity 0..3, canned every other seed
	flags=$(( (i % 8) | ((i / 2 % 4) << 3) | ((i % 2) << 5) ))
	{
		byte "$flags"
		byte $((len % 256))
		byte $((len / 256))
		cat "$pg"
		packet "$P_TCP80"; packet "$P_UDP53"; packet "$P_V6TCP"
		packet "$P_TCP80"; packet "$P_ARP"; packet "$P_RUNT"; packet "$P_TCP80"
	} > "$DST/seed-prog$s"
	i=$((i + 1))
done
# The empty choice string (the simplest program) with the canned packets.
{ byte 32; byte 0; byte 0; } > "$DST/seed-empty"

# ---- corpus/asm: [flags: bit 0 with_debug][assembly text] ----------------
DST=corpus/asm
mkdir -p "$DST"
rm -f "$DST"/seed-*
for ex in examples/*.vfm; do
	b=$(basename "$ex" .vfm)
	{ byte 0; cat "$ex"; } > "$DST/seed-$b"
	{ byte 1; cat "$ex"; } > "$DST/seed-$b-debug"
done
for s in 1 2 3; do
	"$BIN/vfm-progen" -s "$s" -n 40 -o "$tmp/a$s.vfm" >/dev/null
	{ byte 1; cat "$tmp/a$s.vfm"; } > "$DST/seed-progen$s"
done
{ byte 0; printf '.byte 2, 0x38\n.byte 255\nRET 0\n'; } > "$DST/seed-raw-bytes"
{ byte 1; printf 'start: PUSH 10.0.0.1 ; dotted\n\tLD32 26\n\tJEQ start\n\tRET 0\n'; } > "$DST/seed-backjump"
{ byte 0; printf 'PUSH 0x10000000000000000\nRET\n'; } > "$DST/seed-err-range"
{ byte 0; printf 'JMP nowhere\n'; } > "$DST/seed-err-label"
{ byte 1; printf 'L: L: RET 1\n'; } > "$DST/seed-err-duplicate"
{ byte 0; printf 'STM 16\nRET 0\n'; } > "$DST/seed-reject-scratch"

# ---- corpus/pcap: capture files -------------------------------------------
DST=corpus/pcap
mkdir -p "$DST"
rm -f "$DST"/seed-*
"$BIN/vfm-gen" -n 24 -s 1 -o "$DST/seed-gen24-ns.pcap" >/dev/null
"$BIN/vfm-gen" -n 6 -s 7 -o "$tmp/g6.pcap" >/dev/null
head -c 200 "$tmp/g6.pcap" > "$DST/seed-truncated.pcap"
head -c 24 "$tmp/g6.pcap" > "$DST/seed-header-only.pcap"
# Classic pcap, big-endian, microseconds, one TCP frame.
{ hex a1b2c3d4000200040000000000000000000000400000000100000001000000020000003600000036
  hex "$P_TCP80"; } > "$DST/seed-be-us.pcap"
# pcapng: SHB (LE), IDB (Ethernet, snaplen 0), EPB with the TCP frame, SPB.
{ hex 0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000
  hex 0100000014000000010000000000000014000000
  hex 06000000580000000000000000000000000000003600000036000000
  hex "$P_TCP80"; hex 000058000000
  hex 030000003c0000002a000000
  hex "$P_ARP"; hex 00003c000000; } > "$DST/seed-ng.pcapng"

for t in diff asm pcap; do
	echo "wrote $(ls corpus/$t | wc -l) seeds to corpus/$t ($(cat corpus/$t/* | wc -c) bytes)"
done
