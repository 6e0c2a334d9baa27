#!/usr/bin/env bash
# test_query_fuzz.sh — the query parser under libFuzzer for a fixed time
# (FUZZ_SECONDS, default 60) with ASan+UBSan: no crash, leak or hang.
# Runs in the plain pass only: the fuzzer carries its own sanitizers.
. "$(dirname "$0")/lib.sh"

t_fuzz_query_parser() {
  # The parser's target only (with the modules it needs): the other targets
  # run over their seeds in test_fuzz_seeds, and at length in `make fuzz`.
  make -s -C "$SRC" fuzz BUILD="${IMGDEX_BUILD:-build}" FUZZ=fuzz_query FUZZ_DIRS="base index query" \
    FUZZ_SECONDS="${FUZZ_SECONDS:-60}" 2>&1 | grep -v '^  CC'
}

if [ -n "${IMGDEX_SAN:-}" ]; then
  skip t_fuzz_query_parser "runs in the plain pass (the fuzzer has its own ASan+UBSan)"
elif ! command -v clang >/dev/null; then
  skip t_fuzz_query_parser "clang is not installed"
else
  run_all t_fuzz_query_parser
fi
