#pragma once
// clgauge bench: GEMM configs timed against each other, CLBlast (optionally with parameters
// from CLBlast's own tuner) and OpenBLAS, with verdicts that replay (docs/bench.md).
//
// Part of the clgauge::baselines library, since it calls CLBlast and OpenBLAS; the
// statistics are the pure functions of stats.hpp (median CI, modified Z-scores,
// Mann-Whitney U, bootstrap ratio CI, verdict) in the core library.
//
// Per shape: every contestant's output is checked once (bitwise against the canonical CPU
// reference for bitwise families, by tolerance for the others and for CLBlast and OpenBLAS),
// then all are launched interleaved, warm-up round first: A B C, A B C, ... until every
// median's 95% CI half-width is within target_ci_pct (after min_runs runs and min_time_s
// seconds) or max_runs runs.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clgauge/baselines.hpp"
#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/measure.hpp"
#include "clgauge/parity.hpp"
#include "clgauge/runtime.hpp"
#include "clgauge/stats.hpp"
#include "clgauge/tuning_db.hpp"

namespace clgauge {

inline constexpr const char* kBenchSchema = "clgauge-bench-v1";

using TuningDbList = std::vector<std::pair<std::filesystem::path, TuningDatabase>>;

struct BenchRequest {
  // --configs items, in order: "default", "tuned", "family:NAME", a canonical string
  // "family=...;P=v;..." or a config id (16 hex, see resolve_bench_config).
  std::vector<std::string> configs = {"tuned", "default"};
  std::vector<GemmProblem> shapes;     // at least one
  std::vector<std::string> baselines;  // "clblast", "openblas", in the order given
  // CLBlast's own tuner output (--clblast-params); needs "clblast" among the baselines.
  // Several files for one kernel: the lowest best_time wins.
  std::vector<ClblastParams> clblast_params;
  double min_time_s = 1.0;     // per shape: timed rounds last at least this long
  std::size_t min_runs = 6;    // per contestant: 6 is the fewest with an exact 95% median CI
  std::size_t max_runs = 20;   // per contestant
  double target_ci_pct = 2.0;  // stop when every median's 95% CI half-width is within this
  int warmup = 1;              // uncounted interleaved rounds before the timed ones
  std::uint64_t seed = 42;     // inputs and bootstrap resampling
  std::size_t resamples = 2000;
  // The tuning databases `tuned` and config ids are looked up in; nullopt: the device's
  // databases on the search path (load_tuning_databases).
  std::optional<TuningDbList> databases;
  bool no_cache = false;  // bypass the program-binary cache
  // Called with one line of progress at a time (optional).
  std::function<void(const std::string&)> progress;
};

// Throws Error(bad_input) naming the field: no contestants or no shapes, an empty or
// malformed --configs item (syntax and family names; ids are looked up later), an item or
// baseline given twice, an unknown baseline, max_runs 0, min_runs 0, target_ci_pct outside
// (0, 100), a negative or non-finite min_time_s, warmup < 0, resamples 0, CLBlast
// parameters without the clblast baseline.
void validate(const BenchRequest& request);

// One --configs item resolved for a shape on a device.
struct ResolvedConfig {
  std::string item;  // as given
  GemmConfig config;
  // "explicit" (canonical string or id), "family-default", "device-default",
  // "tuned-exact", "tuned-nearest"
  std::string source;
  std::string explanation;  // `tuned`: which database entry and why
};
// `default`: default_gemm_config(device, shape); `tuned`: select_gemm_config over `dbs`;
// `family:NAME`: the family's defaults; a canonical string: that config (it must be
// canonical); an id: looked up among the family defaults, the device defaults, the configs
// of the databases and every candidate of the shipped spaces (tuning/spaces/*_basic and
// *_extended), which is what `clgauge plan` lists. Throws Error(bad_input) for an unknown
// family or id, Error(invalid_config) naming the rule for a config the device cannot run.
ResolvedConfig resolve_bench_config(std::string_view item, const DeviceInfo& device,
                                    const GemmProblem& shape, const TuningDbList& dbs);

// ---- the interleaved loop ------------------------------------------------------------

struct BenchLoopOptions {
  std::size_t min_runs = 6;
  std::size_t max_runs = 20;
  int warmup = 1;
  double min_time_s = 0;
  double target_ci_pct = 2.0;
  double flops = 1;  // per launch, to turn device_ms into GFLOP/s for the CI rule
};

struct BenchLoopResult {
  std::vector<std::vector<LaunchTiming>> timings;  // per contestant, per counted round
  // Per contestant: the error that stopped it (its later rounds are skipped), if any.
  std::vector<std::optional<Error>> failures;
  std::size_t rounds = 0;  // counted rounds
  double seconds = 0;      // wall time of the counted rounds
  bool converged = false;  // every live contestant met the CI target
};

// Warm-up rounds then counted rounds, each round launching every live contestant once in
// the given order. After each counted round: stop at max_runs; else stop when the round
// count is at least min_runs, min_time_s has passed and every live contestant's 95% median
// CI of GFLOP/s has a half-width within target_ci_pct. A launch that throws Error drops its
// contestant (recorded in failures); the others go on.
BenchLoopResult run_interleaved(std::span<const LaunchFn> launches,
                                const BenchLoopOptions& options);

// ---- results -------------------------------------------------------------------------

struct BenchSample {
  std::size_t round = 0;  // 0-based counted round
  double device_ms = 0;   // events; call to finish for CLBlast and OpenBLAS
  double host_ms = 0;     // enqueue (or call) to finish
  double kernel_ms = 0;   // the GEMM kernel alone, when known
  bool outlier = false;   // modified Z-score of its device GFLOP/s > 3.5 (kept, not dropped)
};

struct BenchStats {
  std::size_t runs = 0;
  double median_gflops = 0;       // device time
  double host_median_gflops = 0;  // host wall time: what a caller pays
  MedianCi ci;                    // of device GFLOP/s
  double cv = 0;                  // of device GFLOP/s
  std::size_t outliers = 0;
};

// One row against another: ratio = median GFLOP/s of this row / of `against`.
struct BenchComparison {
  std::string against;  // the other row's name
  std::string role;     // "first" (the first contestant) or "baseline"
  // "device" between our configs; "host" when either side is a baseline (whose time is
  // call to finish), so both sides are timed by the same clock.
  std::string metric;
  RatioCi ratio;
  MannWhitney test;
  Verdict verdict = Verdict::tie;
  double effect_pct = 0;  // (ratio - 1) * 100
};

struct BenchRow {
  std::string name;  // the --configs item, "clblast" or "openblas"
  std::string kind;  // "config", "clblast" or "openblas"
  std::optional<ResolvedConfig> config;
  std::string check;                   // "bitwise" or "tolerance"
  std::optional<ParityReport> parity;  // the check before timing
  ReasonCode status = ReasonCode::ok;
  std::string detail;  // why it was not timed (or stopped)
  // CLBlast: the kernel its Gemm runs for this shape, its parameters, and where they came
  // from ("CLBlast defaults" or the --clblast-params file).
  std::string clblast_kernel;
  std::string clblast_params;
  std::string clblast_origin;
  std::vector<BenchSample> samples;
  BenchStats stats;
  std::vector<BenchComparison> comparisons;
};

struct BenchShape {
  GemmProblem problem;
  std::uint64_t input_seed = 0;  // derive_seed(seed, "bench", "inputs", shape, 0, 0)
  std::vector<BenchRow> rows;    // configs in --configs order, then baselines
  std::size_t rounds = 0;
  double seconds = 0;
  bool converged = false;
};

struct BenchResult {
  std::string device;  // "[index] platform / name (type)"
  std::string device_name;
  std::uint64_t fingerprint = 0;
  std::string clgauge_version;
  // The settings the run used.
  double min_time_s = 0;
  std::size_t min_runs = 0, max_runs = 0;
  double target_ci_pct = 0;
  int warmup = 0;
  std::uint64_t seed = 0;
  std::size_t resamples = 0;
  std::vector<ClblastParams> clblast_overrides;  // applied, one per kernel
  std::vector<BenchShape> shapes;
  std::vector<std::string> warnings;
  // Every contestant of every shape was checked and timed.
  bool all_ok() const;
};

// Runs the benchmark. Everything is resolved and validated before anything is launched:
// validate(request), every --configs item for every shape (resolve_bench_config), the CLBlast
// parameter overrides. CLBlast overrides are undone when it returns.
BenchResult run_bench(Device& device, const BenchRequest& request);

// Statistics, comparisons and verdicts of one shape's rows from their samples (used by
// run_bench; public so that a verdict can be recomputed from saved samples).
void compute_bench_statistics(BenchShape& shape, std::uint64_t seed, std::size_t resamples);

// ---- output --------------------------------------------------------------------------

// Per shape: contestant, median GFLOP/s (device), host GFLOP/s, 95% CI, CV, runs, outliers,
// ratio to the first contestant and to each baseline with CI and verdict; CLBlast's kernel
// and parameters under the table.
std::string bench_table(const BenchResult& result);
// {"schema": "clgauge-bench-v1", ...} with every sample (docs/bench.md).
std::string bench_json(const BenchResult& result);
// One line per sample: shape,m,n,k,contestant,kind,config_id,round,device_ms,host_ms,
// kernel_ms,device_gflops,host_gflops,outlier
std::string bench_csv(const BenchResult& result);
// GFLOP/s by shape per contestant with 95% CI bars, a PNG drawn by gnuplot. Returns
// warnings (gnuplot missing or failing); Error(io_error) when the folder cannot be written.
std::vector<std::string> write_bench_plot(const BenchResult& result,
                                          const std::filesystem::path& png);

}  // namespace clgauge
