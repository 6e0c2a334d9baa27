# lib.sh — helpers for script tests: each test is a shell function that
# returns 0 on success; run_all prints PASS/FAIL lines for scripts/run-tests.
BIN=${IMGDEX_BIN:-$PWD/build/imgdex}
SRC=${IMGDEX_SRCDIR:-$PWD}
DATA=${IMGDEX_DATA:-$SRC/../shared/data}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgdex-sh.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export IMGDEX_DB=$TMP/default.db

run_all() {
  local failed=0
  for t in "$@"; do
    local log=$TMP/$t.log
    if ( set -o pipefail; "$t" ) >"$log" 2>&1; then
      echo "PASS $t"
    else
      echo "FAIL $t: $(tail -n 3 "$log" | tr '\n' ' ')"
      failed=1
    fi
  done
  return $failed
}

skip() { echo "SKIP $1: $2"; }
