#!/bin/sh
# ci/install-deps.sh — install the Debian packages VFM needs, if missing.
# Safe to run repeatedly; uses sudo when not run as root.
set -eu

packages="make gcc clang libc6-dev libcmocka-dev libpcap-dev libz3-dev
libbenchmark-dev afl++ llvm libclang-rt-14-dev g++ gnuplot-nox valgrind libbpf-dev zip unzip
mandoc man-db pkgconf bpftool iproute2 binutils"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-deps: need root (or sudo) to install:$missing" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
