#!/usr/bin/env bash
# Sets up, builds and runs every check: the format check, the whole test suite once
# optimised and once under AddressSanitizer + UndefinedBehaviorSanitizer, then each
# libFuzzer target for a fixed short time (scripts/fuzz.sh). docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
echo "== clgauge format check =="
scripts/format-check.sh
# Both builds share one program-binary cache, so the sanitizer run reuses the
# kernels the first run compiled (same source, options and device).
export CLGAUGE_CACHE_DIR="${CLGAUGE_CACHE_DIR:-$PWD/build/kernel-cache}"
for preset in release asan; do
  echo "== clgauge tests: $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
echo "== clgauge fuzzing =="
CLGAUGE_FUZZ_SECONDS="${CLGAUGE_FUZZ_SECONDS:-30}" scripts/fuzz.sh
