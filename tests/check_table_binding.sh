#!/bin/sh
# tests/check_table_binding.sh — the opcode table binds every consumer at
# compile time.
#
# In a temporary copy of the tree, a dummy row of each hand-written class
# is added to vm/opcodes.def; every consumer that must provide something
# for that class (vm/opcodes.def's header lists them) must then fail to
# compile, naming the dummy.  Rows of the derived classes (JCC with known
# relations, LOAD, LOADX) need nothing: with those the build must pass.
# Run by `make check`; exits non-zero naming each consumer that compiled
# although it lacks the new opcode.
set -eu
cc=${CC:-cc}
src=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && xargs -0 tar cf -) | (cd "$tmp" && tar xf -)
else
	(cd "$src" && tar cf - --exclude=./build .) | (cd "$tmp" && tar xf -)
fi

# Class, row.  Names are distinct so that each error names its row.
rows='STACK VFM_STACK(DUMMY_STACK, 0x08, "DUMMY_STACK", NONE, 0, 1)
SPECIAL VFM_SPECIAL(DUMMY_SPECIAL, 0x44, "DUMMY_SPECIAL", 0, 1)
ALU2 VFM_ALU2(DUMMY_ALU2, 0x2C, "DUMMY_ALU2")
ALU1 VFM_ALU1(DUMMY_ALU1, 0x2D, "DUMMY_ALU1")
RET VFM_RET(DUMMY_RET, 0x3A, "DUMMY_RET", NONE, 1)
JMP VFM_JMP(DUMMY_JMP, 0x3B, "DUMMY_JMP")'
derived='VFM_JCC(DUMMY_JCC, 0x3C, "DUMMY_JCC", GT, LE)
VFM_LOAD(DUMMY_LOAD, 0x1A, "DUMMY_LOAD", 2)
VFM_LOADX(DUMMY_LOADX, 0x1B, "DUMMY_LOADX", 2)'

# Consumer (an object of the library, the Z3 cross-check or the proofs) and the
# classes whose new rows it must refuse.
consumers='vm/interp.o STACK SPECIAL ALU2 ALU1 RET JMP
verifier/absint.o STACK SPECIAL
verifier/aval.o ALU2 ALU1
verifier/z3/z3encode.o STACK SPECIAL ALU2 ALU1 RET
proofs/exhaust.o ALU2 ALU1
proofs/enc.o ALU2 ALU1
jit/common.o STACK SPECIAL
jit/x86_64.o STACK SPECIAL ALU2 ALU1 RET JMP
jit/arm64.o STACK SPECIAL ALU2 ALU1 RET JMP
ebpf/compile.o STACK SPECIAL ALU2 ALU1 RET JMP'

# add_rows ROWS: insert the rows before the #undef block of the table.
add_rows() {
	printf '%s\n' "$1" > "$tmp/rows.txt"
	awk -v rows="$tmp/rows.txt" '
		/^#undef VFM_OP$/ && !done { while ((getline r < rows) > 0) print r; done = 1 }
		{ print }' "$tmp/vm/opcodes.def.orig" > "$tmp/vm/opcodes.def"
}

cp "$tmp/vm/opcodes.def" "$tmp/vm/opcodes.def.orig"
status=0
cd "$tmp"
add_rows "$(printf '%s\n' "$rows" | cut -d' ' -f2-)"
printf '%s\n' "$consumers" | while read -r obj classes; do
	log="$tmp/log.$(echo "$obj" | tr / _)"
	make -s -k BUILD=build CC="$cc" OPT_normal=-O0 "build/obj/${obj}" >"$log" 2>&1 || true
	for c in $classes; do
		if grep -qE "error: .*DUMMY_$c" "$log"; then
			echo "check_table_binding: ${obj%.o}.c refuses a new $c row"
		else
			echo "check_table_binding: ${obj%.o}.c compiled without a case for a new $c row" >&2
			echo fail >> "$tmp/failed"
		fi
	done
done
[ ! -f "$tmp/failed" ] || status=1

# Derived classes: the whole library and the Z3 cross-check still build.
add_rows "$derived"
rm -rf build
if make -s -k BUILD=build CC="$cc" OPT_normal=-O0 lib build/libvfm_z3.a >"$tmp/log.derived" 2>&1; then
	echo "check_table_binding: new JCC, LOAD and LOADX rows need no code (derived)"
else
	echo "check_table_binding: a new JCC/LOAD/LOADX row broke the build:" >&2
	grep -m 20 error "$tmp/log.derived" >&2 || true
	status=1
fi
exit $status
