#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz entry point: the service sets CC, CXX, CFLAGS,
# CXXFLAGS, LIB_FUZZING_ENGINE, OUT, SRC and SANITIZER; fuzz/build.sh does
# the rest (fuzz_T, .dict, .options and _seed_corpus.zip per target in $OUT).
cd "$SRC/vfm"
sh fuzz/build.sh oss
