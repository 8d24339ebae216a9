#!/bin/sh
# ci/quickstart.sh — the README's first command: install what is missing,
# build, and run the main job (the quick-start filter over a generated
# capture, printing verdict counts and throughput).
set -eu
cd "$(dirname "$0")/.."
sh ci/install-deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" all
make demo
