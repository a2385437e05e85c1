#!/usr/bin/env bash
# Installs clgauge's build and test dependencies from Debian packages.
# Idempotent: does nothing when every package is already installed.
# As root it runs apt-get; otherwise it prints the exact command and stops.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  pocl-opencl-icd ocl-icd-opencl-dev opencl-headers opencl-clhpp-headers clinfo
  libclblast-dev clblast-utils libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libxxhash-dev librandom123-dev libmuparser-dev
  libsqlite3-dev libopenblas-dev
  libeigen3-dev zlib1g-dev gnuplot-nox jq
  clang libclang-rt-14-dev clang-format clang-tidy
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "clgauge: missing Debian packages; run as root:" >&2
  echo "  apt-get update && $cmd" >&2
  exit 1
fi

echo "clgauge: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
