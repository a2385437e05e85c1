#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang, ASan+UBSan) and runs each one for
# a fixed time from its seed corpus tests/fuzz/corpus/<name>/. Prints the executions per
# target; exits non-zero when a target finds a crash (the reproducer is kept under
# build/fuzz/findings/<name>/).
#   CLGAUGE_FUZZ_SECONDS  seconds per target (default 30)
#   CLGAUGE_FUZZ_JOBS     targets run at once (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${CLGAUGE_FUZZ_SECONDS:-30}"
jobs="${CLGAUGE_FUZZ_JOBS:-$(nproc)}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
out=build/fuzz/findings
mkdir -p "$out"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:suppressions=$PWD/tests/asan.supp"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_one() {
  local name=$1 seconds=$2 out=$3
  local work="$out/$name"
  rm -rf "$work" && mkdir -p "$work/corpus"
  local status=0
  # The working corpus is scratch; the seed corpus in the tree is only read.
  "build/fuzz/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" "tests/fuzz/corpus/$name" >"$work/log" 2>&1 || status=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo '?')
  if [ "$status" -eq 0 ]; then
    echo "fuzz $name: $execs executions in ${seconds}s, no findings"
  else
    echo "fuzz $name: FAILED after $execs executions (exit $status); log and reproducer in $work"
    tail -n 40 "$work/log"
    return 1
  fi
}
export -f run_one
status=0
xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$out" \
  < build/fuzz/fuzzers.txt || status=1
exit "$status"
