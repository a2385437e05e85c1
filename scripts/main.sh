#!/usr/bin/env bash
# Sets up, builds and runs clgauge's main job on the default device:
# a 1024^3 GEMM with its bitwise parity check against the CPU reference.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
exec build/release/clgauge gemm --m 1024 --n 1024 --k 1024 --check bitwise "$@"
