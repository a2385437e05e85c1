#!/usr/bin/env bash
# Installs the built tree into a scratch prefix, then configures, builds and runs a
# tiny consumer project that uses find_package(clgauge) -> clgauge::clgauge.
set -euo pipefail
build=$1
work=$2
flags=${3:-}  # the sanitizer flags of an instrumented build, so the consumer links alike
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/clgauge"
"$work/prefix/bin/clgauge" --version
cmake -S "$here/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
