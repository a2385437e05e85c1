#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: once optimised, once under
# AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
# Both builds share one program-binary cache, so the sanitizer run reuses the
# kernels the first run compiled (same source, options and device).
export CLGAUGE_CACHE_DIR="${CLGAUGE_CACHE_DIR:-$PWD/build/kernel-cache}"
for preset in release asan; do
  echo "== clgauge tests: $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
