#pragma once
// Parity campaigns: CPU-vs-device checks over a matrix of scenarios (GEMM shapes x
// layouts x ops x variants x configs; propagation graphs x parameter sets x batch
// sizes), each run for N derived seeds and scheduled by the job graph, with one
// evidence-log line per scenario and mode, and a replay command per line that re-runs
// exactly that scenario. docs/parity.md describes the matrix, the log and the bounds.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/propagate.hpp"
#include "clgauge/runtime.hpp"

namespace clgauge {

// The "schema" of every evidence-log line.
inline constexpr std::string_view kCampaignLogSchema = "clgauge-log-v1";

enum class CampaignSuite { gemm, propagate, all };
enum class CampaignMode { strict, hardened, both };
std::string_view to_string(CampaignSuite s);
std::string_view to_string(CampaignMode m);
// Throw Error(bad_input) naming the flag (--suite, --mode) and the value.
CampaignSuite campaign_suite_from_string(std::string_view s);
CampaignMode campaign_mode_from_string(std::string_view s);

// --- allowlist ---------------------------------------------------------------------
// A file {"allow": [{"pattern": "<glob>", "reason": "<why>"}, ...]}: fnmatch patterns
// ('*', '?', '[...]'; '*' also crosses '/') matched against whole scenario ids. Every
// entry needs a non-empty pattern and reason; other keys are errors.
struct AllowlistEntry {
  std::string pattern;
  std::string reason;
  bool operator==(const AllowlistEntry&) const = default;
};
// Error(bad_input) "<source>: <field>: <what>", e.g. "a.json: allow[1].reason: missing".
std::vector<AllowlistEntry> parse_allowlist(std::string_view json_text, std::string_view source);
// Error(io_error) when the file cannot be read; parse errors name the file.
std::vector<AllowlistEntry> load_allowlist(const std::filesystem::path& file);
// The first entry whose pattern matches the whole id, or nullptr.
const AllowlistEntry* match_allowlist(std::span<const AllowlistEntry> allowlist,
                                      std::string_view scenario_id);

// --- request and plan ----------------------------------------------------------------
struct CampaignRequest {
  CampaignSuite suite = CampaignSuite::all;
  std::uint64_t seeds = 3;  // derived seeds per scenario, >= 1
  std::uint64_t seed = 42;  // master seed
  CampaignMode mode = CampaignMode::hardened;
  std::vector<std::string> shapes;    // GEMM "<m>x<n>x<k>"; empty: the default shapes
  std::vector<std::string> families;  // GEMM families; empty: every registered family
  // "default" (each family's default), "tuned" (the device's tuning-database winners),
  // canonical configs "family=<f>;P=v;..." or config ids of either kind. Empty: default
  // and tuned.
  std::vector<std::string> configs;
  // Propagation graphs "<rmat|uniform>:<nodes>x<edges>,..."; empty: the default graphs.
  std::string graphs;
  std::vector<AllowlistEntry> allowlist;
  std::string allowlist_file;           // named in replay commands (when not empty)
  std::filesystem::path artifacts_dir;  // empty: no artifacts
  std::string case_id;                  // non-empty: only this case (or scenario id)
  std::string device_spec;              // named in replay commands (--device)
  // Tolerance-only configs pass when every element is within gamma(K) x safety of the
  // float64 reference (compare_tolerance) and the p99 error is within gamma(K + 2) x p99.
  double tolerance_safety = 2.0;
  double tolerance_p99 = 1.0;
};

struct GemmScenario {
  GemmConfig config;
  std::string config_source;  // "default" | "tuned" | "explicit"
  GemmProblem problem;        // resolved
  std::string variant;        // "tight" | "padded" | "beta0nan"
};

struct PropagateScenario {
  std::string generator;  // "rmat" | "uniform"
  std::int32_t nodes = 0;
  std::int64_t edges = 0;
  std::string params_name;  // "default" | "capped"
  PropagateParams params;
  std::int32_t batch = 1;  // graphs per launch (the batch device path)
};

struct CampaignScenario {
  std::string suite;      // "gemm" | "propagate"
  std::string case_id;    // unique in the plan; --case selects it
  std::string config_id;  // GEMM: the config id; propagate: XXH3 of the params JSON
  std::string shape;      // GEMM "<m>x<n>x<k>"; propagate "<nodes>x<edges>"
  bool bitwise = true;    // false: judged by the tolerance statistics
  // derive_seed(master, "parity", config_id, case_id, 0, i) for i < seeds; propagate
  // graph g of a batch uses session g.
  std::vector<std::uint64_t> seeds;
  std::optional<GemmScenario> gemm;
  std::optional<PropagateScenario> propagate;
};

struct CampaignPlan {
  std::vector<GemmConfig> configs;          // GEMM configs in build order
  std::vector<CampaignScenario> scenarios;  // declared order
  std::vector<std::string> notes;           // e.g. a default config invalid on the device
};

// The scenario matrix: a pure function of the request, the device (its limits and type)
// and the tuned configs. Throws Error(bad_input) for an unknown family, a malformed shape,
// config or graph spec, seeds == 0, an empty matrix or a --case that names no scenario;
// Error(invalid_config) for an explicit config that cannot run on the device.
CampaignPlan plan_campaign(const CampaignRequest& request, const DeviceInfo& device,
                           std::span<const GemmConfig> tuned);
// The distinct configs of the device's tuning databases that are valid on it, ordered by
// (family, id); empty when there is no database.
std::vector<GemmConfig> tuned_gemm_configs(const DeviceInfo& device);

// The `clgauge parity` command line that re-runs exactly one scenario in one mode.
std::string campaign_replay_command(const CampaignRequest& request,
                                    const CampaignScenario& scenario, CampaignMode mode);

// --- running ---------------------------------------------------------------------
struct CampaignRecord {
  std::string scenario_id;  // "<suite>/<mode>:<case id>"
  std::string mode;         // "strict" | "hardened"
  std::string outcome;      // "pass" | "fail" | "skip" | "allowlisted"
  ReasonCode reason = ReasonCode::ok;
  std::string output_xxh3;  // 16 hex over every seed's output ("" when nothing ran)
  std::vector<std::string> artifact_refs;
  std::string replay_command;
  std::string line;  // the evidence-log line: canonical JSON, no newline
};

struct CampaignSummary {
  std::uint64_t scenarios = 0;  // log lines (scenario x mode)
  std::uint64_t pass = 0, fail = 0, skip = 0, allowlisted = 0;
  std::vector<std::pair<std::string, std::uint64_t>> by_reason;  // non-pass lines, by name
  std::uint64_t failed_jobs = 0;  // failed jobs that are not scenarios (program builds)
  bool carried_on = false;        // hardened mode met a failure and ran the rest
  std::string stopped_at;         // strict: the job it failed closed on ("" when none)
  std::string stopped_replay;     // strict: that scenario's replay command
  double wall_ms = 0;
  std::string line;  // the summary's log line (canonical JSON, no newline)
  // Anything failed that is not allowlisted (the CLI's exit status 1).
  bool failed() const { return fail > 0 || failed_jobs > 0; }
};

struct CampaignResult {
  CampaignPlan plan;
  std::vector<CampaignRecord> records;  // in execution order, hardened before strict
  CampaignSummary summary;
};

struct CampaignProgress {
  std::size_t done = 0;  // scenario runs finished, this one included
  std::size_t total = 0;
  const CampaignRecord* record = nullptr;
};
using CampaignProgressFn = std::function<void(const CampaignProgress&)>;

// Plans (tuned configs from the device's databases), then runs every scenario in each
// mode of the request through the job graph: builds first (each config once), then the
// scenarios. Throws what plan_campaign throws before any device work; Error(io_error)
// when an artifact cannot be written. A failed scenario is a record, not an exception.
CampaignResult run_campaign(Device& device, const CampaignRequest& request,
                            const ProgramCache& cache = ProgramCache::from_environment(),
                            const CampaignProgressFn& progress = {});
// The same over a plan made by plan_campaign.
CampaignResult run_campaign(Device& device, const CampaignRequest& request,
                            const CampaignPlan& plan, const ProgramCache& cache,
                            const CampaignProgressFn& progress = {});

}  // namespace clgauge
