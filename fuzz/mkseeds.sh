#!/bin/sh
# fuzz/mkseeds.sh — regenerate the seed corpus corpus/load/ for fuzz_load
# (input format: fuzz/fuzz_load.c, fuzz/README.md).  Programs are
# assembled with the library itself (vfm_assemble), so seeds follow the
# opcode table.  Run from anywhere; rewrites corpus/load/seed-*.
set -eu

cd "$(dirname "$0")/.."
OUT=${OUT:-build/fuzz}
DST=corpus/load
mkdir -p "$OUT" "$DST"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A 20-line assembler front end: asm2bin IN.vfm OUT.bin DEBUG(0|1).
cat > "$tmp/asm2bin.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "vfm.h"
int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	FILE *f = fopen(argv[1], "rb");
	static char src[1 << 16];
	size_t n = f ? fread(src, 1, sizeof src, f) : 0;
	if (f)
		fclose(f);
	uint8_t *bin;
	size_t len;
	vfm_diag_t d;
	if (vfm_assemble(src, n, argv[1], atoi(argv[3]), &bin, &len, &d) != VFM_OK) {
		fprintf(stderr, "%s\n", d.message);
		return 1;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(bin, 1, len, f) != len || fclose(f) != 0)
		return 3;
	free(bin);
	return 0;
}
EOF
# shellcheck disable=SC2046
${GCC:-gcc} -std=gnu11 -O1 -Iinclude -Ivm "$tmp/asm2bin.c" $(git ls-files ":(glob)vm/*.c" ":(glob)verifier/*.c" ":(glob)jit/*.c" 2>/dev/null || ls vm/*.c verifier/*.c jit/*.c) \
	-o "$OUT/asm2bin"

byte() { printf "\\$(printf %03o "$1")"; }
# hex HEX: the bytes themselves (POSIX sh: no printf \x, no xxd needed).
hex() {
	h=$1
	while [ -n "$h" ]; do
		rest=${h#??}
		byte $((0x${h%"$rest"}))
		h=$rest
	done
}

# Packets (hex): IPv4/TCP 10.0.0.1:1234 -> 192.168.1.2:80; IPv4/UDP to 53;
# IPv6/TCP to 80; ARP; a 14-byte runt.
P_TCP80=ffffffffffff02000000000108004500002800000000400600000a000001c0a8010204d2005000000000000000005002000000000000
P_UDP53=ffffffffffff0200000000010800450000240000000040110000c0a801640a00000113880035001000000102030405060708
P_V6TCP=ffffffffffff02000000000186dd600000000014064020010db800000000000000000000000120010db800000000000000000000000204d2005000000000000000005002000000000000
P_ARP=ffffffffffff02000000000108060001080006040001020000000001c0a80101000000000000c0a80102
P_RUNT=ffffffffffff0200000000010800

# packet HEX: one [u8 length][bytes] record.
packet() {
	n=$((${#1} / 2))
	byte "$n"
	hex "$1"
}

# seed NAME FLAGS[:EXTRAS] PROGRAM_FILE [PACKET_HEX...]
seed() {
	name=$1 flags=${2%:*} extras=0 prog=$3
	case $2 in *:*) extras=${2#*:} ;; esac
	shift 3
	len=$(( $(wc -c < "$prog") | extras << 13 ))
	{
		byte "$flags"
		byte $((len % 256))
		byte $((len / 256))
		cat "$prog"
		for p in "$@"; do packet "$p"; done
	} > "$DST/seed-$name"
}

# Code section only (mode 2/3): the file without its 24-byte header.
code_of() { tail -c +25 "$1" > "$2"; }

assemble() { # NAME DEBUG, source on stdin
	cat > "$tmp/$1.vfm"
	"$OUT/asm2bin" "$tmp/$1.vfm" "$tmp/$1.bin" "$2"
	code_of "$tmp/$1.bin" "$tmp/$1.code"
}

rm -f "$DST"/seed-*

# The shipped examples, as files (mode 0) and as bare code (mode 2).
for ex in examples/*.vfm; do
	b=$(basename "$ex" .vfm)
	"$OUT/asm2bin" "$ex" "$tmp/$b.bin" 0
	code_of "$tmp/$b.bin" "$tmp/$b.code"
	seed "$b-file" 0 "$tmp/$b.bin" "$P_TCP80" "$P_UDP53" "$P_V6TCP" "$P_ARP" "$P_RUNT" ""
	seed "$b-code" $((2 | 0x80)) "$tmp/$b.code" "$P_TCP80" ""
done
"$OUT/asm2bin" examples/quickstart.vfm "$tmp/qs-debug.bin" 1
seed quickstart-debug-file 0 "$tmp/qs-debug.bin" "$P_TCP80" "$P_UDP53"
seed quickstart-debug-asis 1 "$tmp/qs-debug.bin" "$P_TCP80"

# Loop with backward jumps: sum the packet's bytes (LD8X), budget 100.
assemble loop_sum 0 <<'EOF'
	PUSH 0          ; sum
	STM 0
	LEN
	STM 1           ; i = len
top:
	LDM 1
	PUSH 0
	JEQ done
	LDM 1
	PUSH 1
	SUB
	DUP
	STM 1
	LD8X 0
	LDM 0
	ADD
	STM 0
	JMP top
done:
	LDM 0
	RET
EOF
seed loop-sum $((2 | 6 << 2)) "$tmp/loop_sum.code" "$P_TCP80" "$P_ARP" "" "$P_RUNT"
seed loop-sum-budget1 $((2 | 2 << 2)) "$tmp/loop_sum.code" "$P_TCP80"

# Infinite loop: ends with BUDGET.
assemble spin 0 <<'EOF'
top:
	JMP top
EOF
seed spin $((2 | 1 << 2)) "$tmp/spin.code" "" "$P_RUNT"

# Flow counter per 5-tuple with HASH5, small table (4 entries): eviction.
assemble flow_count 0 <<'EOF'
	HASH5
	DUP
	FLOW_LOAD
	PUSH 1
	ADD
	DUP
	STM 2
	FLOW_STORE
	LDM 2
	PUSH 3
	JGT drop
	RET 1
drop:
	RET 0
EOF
seed flow-count $((2 | 0 << 5 | 0x80)) "$tmp/flow_count.code" "$P_TCP80" "$P_UDP53" "$P_V6TCP" "$P_TCP80" "$P_TCP80" "$P_TCP80" "$P_ARP"
seed flow-count-debug "$((2 | 1 << 5)):3" "$tmp/flow_count.code" "$P_TCP80" "$P_UDP53"

# Flow keys from packet bytes: many distinct keys, eviction in a set.
assemble flow_keys 0 <<'EOF'
	LD32 26
	PUSH 0
	FLOW_LOAD
	POP
	DUP
	TS
	FLOW_STORE
	FLOW_LOAD
	RET
EOF
seed flow-keys $((2 | 0 << 5)) "$tmp/flow_keys.code" "$P_TCP80" "$P_UDP53" "$P_TCP80" "$P_UDP53"

# Every ALU op, stack shuffles, 64-bit loads and JSET.
assemble alu 0 <<'EOF'
	LD64 0
	LD32 6
	OVER
	OVER
	ADD
	SWAP
	SUB
	OVER
	MUL
	PUSH 7
	DIV
	PUSH 0
	MOD
	PUSH 0xFF00FF00FF00FF00
	AND
	PUSH 3
	OR
	PUSH 0x55
	XOR
	PUSH 65
	SHL
	PUSH 3
	SHR
	NOT
	NEG
	PUSH 0
	DIV
	POP
	LD16X 12
	PUSH 0x100
	JSET odd
	RET 0x12345678
odd:
	PUSH 0x100000000
	RET
EOF
seed alu $((2 | 0x80)) "$tmp/alu.code" "$P_TCP80" "$P_RUNT" ""

# Indexed loads at the edge of the packet (BOUNDS), IHL-aware TCP port.
assemble ihl 0 <<'EOF'
	LD8 14
	PUSH 15
	AND
	PUSH 4
	MUL
	LD16X 16        ; dst port at 14 + IHL*4 + 2
	PUSH 80
	JEQ yes
	LEN
	LD64X 0xFFFFFFF8
	RET
yes:
	RET 1
EOF
seed ihl 2 "$tmp/ihl.code" "$P_TCP80" "$P_UDP53" "$P_RUNT"

# Timestamps: accept when TS is odd seconds.
assemble ts 0 <<'EOF'
	TS
	PUSH 1000000000
	DIV
	PUSH 1
	JSET odd
	RET 0
odd:
	TS
	RET
EOF
seed ts 2 "$tmp/ts.code" "" "" "" ""

# Files the loader must refuse: truncated header, version 2, bad CRC,
# trailing bytes, bad section.
head -c 20 "$tmp/quickstart.bin" > "$tmp/trunc.bin"
seed bad-truncated 0 "$tmp/trunc.bin"
{ head -c 4 "$tmp/quickstart.bin"; byte 2; byte 0; tail -c +7 "$tmp/quickstart.bin"; } > "$tmp/v2.bin"
seed bad-version 0 "$tmp/v2.bin"
seed bad-crc 1 "$tmp/trunc.bin"
{ cat "$tmp/quickstart.bin"; byte 0; } > "$tmp/trail.bin"
seed bad-trailing 0 "$tmp/trail.bin"
{ head -c 12 "$tmp/quickstart.bin"; byte 1; byte 0; byte 0; byte 0;
  tail -c +17 "$tmp/quickstart.bin"; byte 9; byte 0; byte 0; byte 0; byte 0; byte 0; byte 0; byte 0; } > "$tmp/sec.bin"
seed unknown-section 0 "$tmp/sec.bin" "$P_TCP80"
# Code the verifier rejects: stack underflow, jump into an operand.
printf '\002\070' > "$tmp/under.code"
seed reject-underflow 2 "$tmp/under.code"
printf '\060\001\000\000\000\071\001\000\000\000\070' > "$tmp/mid.code"
seed reject-midjump 2:3 "$tmp/mid.code"
printf '\003\003\070' > "$tmp/dup.code"
seed reject-underflow-lines 2:5 "$tmp/dup.code"

# Mode 3: [u16 code size][code][raw sections], header filled in by the
# harness.  A line table and a source name; an unknown section; a line
# table out of order; a section claimed but missing.
{ byte 5; byte 0; head -c 5 "$tmp/quickstart.code"
  byte 1; byte 0; byte 0; byte 0; byte 8; byte 0; byte 0; byte 0
  byte 0; byte 0; byte 0; byte 0; byte 7; byte 0; byte 0; byte 0
  byte 2; byte 0; byte 0; byte 0; byte 3; byte 0; byte 0; byte 0; printf 'a.v'
} > "$tmp/sections.prog"
seed sections 3 "$tmp/sections.prog" ""
{ byte 5; byte 0; head -c 5 "$tmp/quickstart.code"
  byte 9; byte 0; byte 0; byte 0; byte 0; byte 0; byte 0; byte 0
} > "$tmp/unknown.prog"
seed sections-unknown 3:1 "$tmp/unknown.prog"
{ byte 6; byte 0; printf '\070\071\001\000\000\000'
  byte 1; byte 0; byte 0; byte 0; byte 16; byte 0; byte 0; byte 0
  byte 1; byte 0; byte 0; byte 0; byte 1; byte 0; byte 0; byte 0
  byte 0; byte 0; byte 0; byte 0; byte 2; byte 0; byte 0; byte 0
} > "$tmp/order.prog"
seed sections-order 3 "$tmp/order.prog"

echo "wrote $(ls "$DST" | wc -l) seeds to $DST ($(cat "$DST"/* | wc -c) bytes)"
