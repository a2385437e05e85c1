#!/usr/bin/env bash
# gemm-targets.sh: clgauge GEMM against OpenBLAS on the twelve target shapes.
#
#   scripts/gemm-targets.sh [--tune] [--budget-time T] [--rounds R] [--runs N]
#                           [--clgauge PATH] [--device D] [--db DIR] [--json FILE]
#                           [--openblas-threads T]
#
# For every shape, `clgauge gemm --vs-openblas --json` runs the config the tuning database
# selects (exactly what clgauge::gemm() would run) and OpenBLAS sgemm on the host
# alternately, N times each, in one process, and checks the result bitwise against the
# canonical CPU reference. The ratio is OpenBLAS time / clgauge time by device event time
# (first kernel start to last kernel end); the host wall ratio (enqueue to finish) is
# printed beside it. With --rounds R the twelve shapes are measured R times round-robin and
# each shape's figures are the median over the rounds.
#
# --tune first runs `clgauge tune --shapes <the twelve> --family all` into the user's
# tuning database (or --db DIR, which is then also the first folder searched), so the
# measurement uses what the tuner found on this machine.
#
# Targets (issue 12): geometric mean of the device-time ratios >= 0.9 and no shape below
# 0.7. Exit status: 0 when met, 1 when missed or a result was not bitwise equal, 2 on bad
# arguments or a failed command.
#
# --openblas-threads T sets OPENBLAS_NUM_THREADS (default: OpenBLAS's own choice, all
# cores). On a machine loaded by other work, OpenBLAS's threads wait on each other and one
# thread can be many times faster than two; say which you used.
#
# Needs jq (Debian package `jq`).
set -euo pipefail

SHAPES=(128x128x128 256x256x256 512x512x512 1023x1025x1027 4096x256x64 64x4096x4096
        4096x64x4096 8192x128x128 32x32x8192 3000x20x3000 1024x1024x1024 2048x2048x2048)
GEOMEAN_TARGET=0.9
MIN_TARGET=0.7

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clgauge="${CLGAUGE:-$here/build/release/clgauge}"
tune=0
budget_time=""
rounds=1
runs=15
device=()
db=""
json_out=""

usage() { sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "gemm-targets.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --tune) tune=1; shift ;;
    --budget-time) budget_time="${2:?--budget-time needs a value}"; shift 2 ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a value}"; shift 2 ;;
    --clgauge) clgauge="${2:?--clgauge needs a path}"; shift 2 ;;
    --device) device=(--device "${2:?--device needs a value}"); shift 2 ;;
    --db) db="${2:?--db needs a folder}"; shift 2 ;;
    --json) json_out="${2:?--json needs a file}"; shift 2 ;;
    --openblas-threads) export OPENBLAS_NUM_THREADS="${2:?--openblas-threads needs a value}"
                        shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds '$rounds': want a positive integer"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs '$runs': want a positive integer"
[[ -x "$clgauge" ]] || die "no clgauge executable at $clgauge (build it, or give --clgauge)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"

if [[ -n "$db" ]]; then
  mkdir -p "$db"
  # The tuner writes there, and selection searches it first.
  export CLGAUGE_DB_DIR="$db"
fi

if [[ $tune -eq 1 ]]; then
  shapes_csv="$(IFS=,; echo "${SHAPES[*]}")"
  tune_args=(tune --shapes "$shapes_csv" --family all --no-progress "${device[@]}")
  [[ -n "$budget_time" ]] && tune_args+=(--budget-time "$budget_time")
  [[ -n "$db" ]] && tune_args+=(--db "$db")
  echo "+ clgauge ${tune_args[*]}" >&2
  "$clgauge" "${tune_args[@]}" >&2 || die "clgauge tune failed"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Round-robin: every shape once per round, so a load spike on the machine is spread over
# the shapes rather than landing on one.
for ((r = 0; r < rounds; ++r)); do
  for s in "${SHAPES[@]}"; do
    IFS=x read -r m n k <<<"$s"
    out="$tmp/$s.$r.json"
    if ! "$clgauge" gemm --m "$m" --n "$n" --k "$k" --vs-openblas --json --check bitwise \
        --runs "$runs" --warmup 2 "${device[@]}" >"$out" 2>"$tmp/$s.$r.err"; then
      # Exit 1 with a JSON document: it ran, but parity failed; keep it, judged below.
      if ! jq -e '.parity' "$out" >/dev/null 2>&1; then
        cat "$tmp/$s.$r.err" >&2
        die "clgauge gemm $s failed"
      fi
    fi
  done
done

# Per shape, in the table's order: the median over the rounds of each figure.
row_filter='
  def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  . as $rs | $rs[0] as $f
  | ($f.problem.m * $f.problem.n * $f.problem.k * 2 / 1e6) as $mflop
  | {shape: "\($f.problem.m)x\($f.problem.n)x\($f.problem.k)",
     family: $f.config.family,
     config: ($f.config.params | to_entries | map("\(.key)=\(.value)") | join(" ")),
     config_id: $f.config.id,
     source: $f.config.source,
     rounds: ($rs | length),
     clgauge_gflops: ($rs | map($mflop / .vs_openblas.clgauge_median_ms) | median),
     clgauge_host_gflops: ($rs | map($mflop / .vs_openblas.clgauge_host_median_ms) | median),
     openblas_gflops: ($rs | map($mflop / .vs_openblas.openblas_median_ms) | median),
     ratio_device: ($rs | map(.vs_openblas.ratio_device) | median),
     ratio_host: ($rs | map(.vs_openblas.ratio_host) | median),
     ratio_device_min: ($rs | map(.vs_openblas.ratio_device) | min),
     ratio_device_max: ($rs | map(.vs_openblas.ratio_device) | max),
     bitwise: ($rs | all(.parity.mode == "bitwise" and .parity.mismatches == 0))}'
for s in "${SHAPES[@]}"; do
  jq -s "$row_filter" "$tmp/$s".*.json >"$tmp/row.$s" || die "could not read the results of $s"
done
rows=()
for s in "${SHAPES[@]}"; do rows+=("$tmp/row.$s"); done
device_name="$(jq -r '.device' "$tmp/${SHAPES[0]}.0.json")"
summary="$(jq -s --argjson gt "$GEOMEAN_TARGET" --argjson mt "$MIN_TARGET" \
    --arg device "$device_name" --argjson runs "$runs" --argjson rounds "$rounds" \
    --arg blas_threads "${OPENBLAS_NUM_THREADS:-default}" '
  . as $rows
  | ($rows | map(.ratio_device | log) | add / length | exp) as $geo
  | ($rows | map(.ratio_host | log) | add / length | exp) as $geo_host
  | ($rows | map(.ratio_device) | min) as $min
  | {schema: "clgauge-gemm-targets-v1", device: $device, runs: $runs, rounds: $rounds,
     openblas_threads: $blas_threads,
     shapes: $rows,
     geomean_device: $geo, geomean_host: $geo_host, min_device: $min,
     min_shape: ($rows | min_by(.ratio_device) | .shape),
     targets: {geomean: $gt, min: $mt},
     all_bitwise: ($rows | all(.bitwise)),
     met: ($geo >= $gt and $min >= $mt and ($rows | all(.bitwise)))}' "${rows[@]}")" ||
  die "could not summarize the results"
[[ -n "$json_out" ]] && printf '%s\n' "$summary" >"$json_out"

jq -r '
  def fx($d): (. * pow(10; $d) | round) as $i
              | "\(($i / pow(10; $d)) | floor).\(("000" + ($i % pow(10; $d) | tostring))[-$d:])";
  def f2: fx(2);
  def f3: fx(3);
  def f0: round | tostring;
  "device: \(.device)",
  "clgauge gemm --vs-openblas: \(.runs) alternating runs per shape, \(.rounds) round(s), median; OpenBLAS threads: \(.openblas_threads)",
  "",
  "| shape | family | config (source) | clgauge GFLOP/s | OpenBLAS GFLOP/s | ratio (device) | ratio (host wall) | bitwise |",
  "|---|---|---|---|---|---|---|---|",
  (.shapes[] | "| \(.shape) | \(.family) | \(.config) (\(.source)) | \(.clgauge_gflops | f0) | \(.openblas_gflops | f0) | \(.ratio_device | f2)\(if .rounds > 1 then " (\(.ratio_device_min | f2)-\(.ratio_device_max | f2))" else "" end) | \(.ratio_host | f2) | \(if .bitwise then "yes" else "NO" end) |"),
  "",
  "geometric mean \(.geomean_device | f3) (host wall \(.geomean_host | f3)), minimum \(.min_device | f3) at \(.min_shape); targets: geomean >= \(.targets.geomean), none < \(.targets.min): \(if .met then "met" else "MISSED" end)"
  ' <<<"$summary"

[[ "$(jq -r '.met' <<<"$summary")" == "true" ]] || exit 1
