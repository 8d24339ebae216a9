#!/bin/sh
# tools/api-symbols.sh [HEADER] — the documented API: the name of every
# function include/vfm.h declares VFM_API, one per line, sorted.
#
# The one list from which the shared library's version script is generated
# (Makefile) and against which tests/check_exports.sh, tests/check_install.sh
# (nm -D of the installed libvfm.so) and tests/check_man.sh (vfm(3)) check.
# A VFM_API declaration keeps its function name and "(" on the line that
# starts with VFM_API (the header's style); a declaration that does not
# would be missed here and then fail those checks as an unexpected export.
set -eu
header=${1:-include/vfm.h}
sed -n 's/^VFM_API .*[ *]\(vfm_[a-z0-9_]*\)(.*/\1/p' "$header" | LC_ALL=C sort -u
