#!/usr/bin/env bash
# Sets up, builds and runs clgauge's main job on the default device: the GEMM autotune
# of a default set of square and skinny shapes (5 minutes), whose winners clgauge gemm
# and clgauge::gemm() then use.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
exec build/release/clgauge tune "$@"
