#pragma once
// The GEMM autotuner: search -> verify -> time -> rank -> replay -> promote, per shape.
//
//   clgauge::TuneRequest req;
//   req.shapes = {clgauge::GemmProblem{.m = 1024, .n = 1024, .k = 1024}};
//   clgauge::TuneResult r = clgauge::tune(clgauge::select_device("", clgauge::list_devices()),
//   req); r.shapes[0].winner->config;   // the fastest verified, stable config for that shape
//
// Every candidate is built and run in a supervised worker process (clgauge-worker) with a
// build and a run timeout, so a crashing or hanging kernel costs one candidate. Each
// evaluation is committed to the results store as it completes; the same request on the
// same store resumes without repeating finished work. See docs/tuner.md.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/measure.hpp"
#include "clgauge/space.hpp"
#include "clgauge/stats.hpp"

namespace clgauge {

// Live progress: one call per finished evaluation (and phase change).
struct TuneProgress {
  std::string shape;
  std::size_t shape_index = 0;  // 0-based
  std::size_t shapes = 0;
  std::string phase;          // "search", "replay", "baselines", "done"
  std::uint64_t done = 0;     // evaluations finished for this shape (resumed included)
  std::uint64_t total = 0;    // evaluations planned for this shape (budget or space)
  double best_gflops = 0;     // best verified so far for this shape (0: none yet)
  double default_gflops = 0;  // the device default config on this shape (0: unknown)
  std::string current;        // canonical string of the config in flight
  double elapsed_s = 0;       // since the run started
  double eta_s = -1;          // estimate for this shape's search; -1 unknown
};

struct TuneRequest {
  // Shapes: m, n, k with the layout and ops below (alpha = 1, beta = 0).
  std::vector<GemmProblem> shapes;
  // Families to search ("gemm.regtile", ...; "all" = every bitwise family, so a
  // tolerance-only one such as gemm.splitk is searched only when named); each brings its shipped
  // basic spaces. `spaces` (files) replaces that choice when not empty.
  std::vector<std::string> families = {"all"};
  std::vector<std::filesystem::path> spaces;
  std::string strategy;                         // "" = default_search_strategy()
  std::optional<std::uint64_t> budget_configs;  // candidates per shape; nullopt = no bound
  std::optional<double> budget_time_s;          // the whole run, replay included
  std::uint64_t top_k = 3;
  std::uint64_t replay_sessions = 3;
  std::uint64_t replay_runs = 5;
  double abandon_factor = 2.0;  // abandon a candidate slower than this x the best so far
  double stability_cv_max = 0.03;
  double promotion_margin = 1.10;
  std::uint64_t seed = 42;
  unsigned jobs = 0;  // parallel builds; 0 = the number of cores
  std::optional<Shard> shard;
  MeasureOptions measure;  // screening protocol (defaults: 1 warm-up, 7..31 runs, 5% MAD)
  double build_timeout_s = 300;
  double run_timeout_s = 120;
  bool clblast_baseline = true;
  bool openblas_baseline = true;
  std::filesystem::path store;              // results store (SQLite); required
  std::filesystem::path db_dir;             // tuning database folder to record winners; "" = none
  std::filesystem::path worker_executable;  // "" = find it (CLGAUGE_WORKER, beside the exe)
  std::filesystem::path worker_log;         // workers' stderr; "" = <store>.workers.log
  std::string cache_dir;                    // program cache for the workers; "" = environment
  bool no_cache = false;
  std::string command_line;  // recorded in the report
  std::function<void(const TuneProgress&)> progress;
};

enum class TuneDecision { promote, iterate, refine };
std::string_view to_string(TuneDecision d);

struct CandidateResult {
  std::uint64_t eval_index = 0;  // evaluation order within the shape
  GemmConfig config;
  std::string config_id;
  ReasonCode reason = ReasonCode::ok;
  std::string detail;
  std::vector<double> samples_ms;  // device time of each counted run
  std::vector<double> host_ms;
  double build_ms = 0;
  double gflops_median = 0;  // 0 when failed
  double cv = 0;
  bool resumed = false;               // taken from the store, not measured in this run
  std::optional<std::uint64_t> rank;  // 1 = fastest verified
};

struct BaselineResult {
  std::string name;  // "default", "clblast", "openblas"
  std::string config_id;
  ReasonCode reason = ReasonCode::ok;
  std::string detail;
  double gflops = 0;  // 0 when it failed or was not run
};

struct ReplayResult {
  GemmConfig config;
  std::string config_id;
  std::vector<double> session_medians_gflops;
  std::vector<bool> sessions_correct;
  std::vector<std::string> session_details;  // failure detail per session ("" when ok)
  double median_gflops = 0;                  // median of the session medians
  double cv = 0;                             // CV of the session medians
  bool correct = false;
  bool stable = false;
  bool beats_baseline = false;
};

struct ReplayVerdict {
  TuneDecision decision = TuneDecision::refine;
  std::string reason;
  std::optional<std::size_t> winner;  // index into the replay results
};

// The gates and the decision, as a pure function of the replay: correct = every session
// passed parity; stable = CV of session medians <= cv_max; beats = median >= baseline x
// margin. promote if one passes all three; else refine if none is correct; else iterate if
// one is correct and stable; else refine. The winner is the fastest correct and stable
// candidate, whatever the decision. Fills the flags of `replay`.
ReplayVerdict decide(std::vector<ReplayResult>& replay, double baseline_gflops, double cv_max,
                     double margin);

struct ShapeResult {
  GemmProblem problem;
  std::string shape;
  std::uint64_t space_size = 0;
  std::vector<CandidateResult> candidates;  // evaluation order
  std::vector<BaselineResult> baselines;    // default, clblast, openblas
  std::vector<ReplayResult> replay;
  TuneDecision decision = TuneDecision::refine;
  std::string decision_reason;
  std::optional<std::size_t> winner;  // index into replay
  bool ran_out_of_time = false;
};

struct TuneResult {
  std::string device;
  std::string env_fingerprint;
  std::string plan_hash;
  std::string strategy;
  std::vector<std::string> families;
  std::vector<ShapeResult> shapes;
  std::uint64_t resumed_evaluations = 0;
  double wall_s = 0;
  bool ran_out_of_time = false;
  std::filesystem::path db_file;  // the database the winners were recorded in ("" = none)
  std::string report_json;        // report.json (schema clgauge-tune-report-v1)
};

// Checks the request (shapes, budgets, families, spaces, strategy) and throws
// Error(bad_input) naming the field before anything runs.
void validate(const TuneRequest& request);

// The hash of what a run is made for (device fingerprint, spaces, shapes, layout and ops,
// strategy, seed, shard, replay and screening settings; not the budgets): the same
// command gives the same hash, so it names the run's default store and report folder.
std::string tune_plan_hash(const DeviceInfo& device, const TuneRequest& request);

// Runs the whole protocol on `device` (which the workers open by its flat index).
TuneResult tune(const DeviceInfo& device, const TuneRequest& request);

// The shapes `clgauge tune` tunes when none are given (square and skinny).
std::vector<GemmProblem> default_tune_shapes();
// A --shapes list: comma-separated "MxNxK", or "N" for NxNxN, under parse_shape_list's
// rules (Error(bad_input) naming `field`, the item and why). Layout and ops keep their
// defaults.
std::vector<GemmProblem> parse_gemm_shapes(std::string_view list,
                                           std::string_view field = "--shapes");

}  // namespace clgauge
