# fuzz/targets.sh — the fuzz targets and what each is built from, in one
# place for fuzz/build.sh, fuzz/coverage.sh, fuzz/campaign.sh and
# `make fuzz`.  Sourced from the top directory (`. fuzz/targets.sh`); it
# defines:
#   FUZZ_TARGETS_ALL   every target (fuzz/fuzz_T.c)
#   LIB_SRCS           the library's sources, compiled into each binary so
#                      that it gets the harness's instrumentation (the JIT
#                      back end for ${GCC:-gcc}'s CPU, as the Makefile picks)
#   JIT_BACKEND        that back end's source
#   target_srcs T      extra sources of target T
#   target_libs T      extra libraries
#   target_dict T      its dictionary (built by fuzz/build.sh into $OUT)
# shellcheck shell=sh

FUZZ_TARGETS_ALL="load diff asm pcap cbpf vcost ebpf"

# In a git checkout only tracked files count, so that a half-written new
# file in a shared tree does not break the fuzz build.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# ':(glob)' so that '*' stops at '/': verifier/z3/ (needs -lz3) is
	# not part of the library.
	LIB_SRCS=$(git ls-files ':(glob)vm/*.c' ':(glob)verifier/*.c')
else
	LIB_SRCS=$(ls vm/*.c verifier/*.c)
fi
JIT_ARCH=$(${GCC:-gcc} -dumpmachine | cut -d- -f1 | sed 's/^aarch64$/arm64/')
if [ -f "jit/$JIT_ARCH.c" ]; then JIT_BACKEND="jit/$JIT_ARCH.c"; else JIT_BACKEND=jit/none.c; fi
LIB_SRCS="$LIB_SRCS jit/common.c $JIT_BACKEND $(ls api/*.c)"

target_srcs() {
	case $1 in
	diff | ebpf) echo testkit/progen*.c testkit/kengine.c ebpf/*.c ;;
	vcost) echo testkit/progen*.c ;;
	pcap) echo testkit/pcapio.c ;;
	*) ;;
	esac
}

target_libs() {
	case $1 in
	pcap) echo -lpcap ;;
	cbpf) echo -lpcap ;; # bpf_filter, the oracle; libvfm does not need it
	*) ;;
	esac
}

target_dict() {
	case $1 in
	load | diff | ebpf | vcost) echo vfm.dict ;;
	asm) echo asm.dict ;;
	cbpf) echo cbpf.dict ;;
	pcap) echo pcap.dict ;;
	*) echo "fuzz/targets.sh: unknown target '$1'" >&2; return 1 ;;
	esac
}
