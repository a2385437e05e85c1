// Parity campaigns, the running part: the job graph per mode (program builds, then the
// scenarios), one scenario over its seeds on the device and the CPU reference, the
// evidence-log lines, artifacts and the summary.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "clgauge/campaign.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/parity.hpp"
#include "clgauge/random.hpp"
#include "clgauge/scheduler.hpp"
#include "runtime/json_io.hpp"
#include "tuner/protocol.hpp"

namespace clgauge {
namespace {

using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

ojson number_or_null(double v) {
  return std::isfinite(v) ? ojson(v) : ojson(nullptr);
}

// Little-endian bytes of a float buffer, whatever the host's byte order.
std::string le_bytes(std::span<const float> v) {
  std::string out(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto u = std::bit_cast<std::uint32_t>(v[i]);
    for (int b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  return out;
}

std::string le_bytes(std::span<const std::int32_t> v) {
  std::string out(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto u = static_cast<std::uint32_t>(v[i]);
    for (int b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  return out;
}

// XXH3 over the per-seed hashes, each as 16 hex digits and '\n'.
std::string combined_hash(const std::vector<std::string>& per_seed) {
  std::string all;
  for (const auto& h : per_seed) all += h + "\n";
  return hex16(xxh3_64(all));
}

// Nearest-rank percentile of sorted values (q in (0, 1]).
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string safe_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == '@';
    out += ok ? c : '_';
  }
  return out;
}

class ArtifactWriter {
 public:
  ArtifactWriter(const std::filesystem::path& root, const std::string& scenario_id,
                 std::uint64_t seed_index)
      : dir_(root / safe_name(scenario_id) / ("seed" + std::to_string(seed_index))) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw Error(ReasonCode::io_error, "--artifacts " + dir_.string() + ": " + ec.message());
  }
  void write(const std::string& name, const std::string& bytes, const std::string& role,
             const std::string& dtype, std::size_t elements) {
    const auto path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw Error(ReasonCode::io_error, "--artifacts: cannot write " + path.string());
    refs_.push_back(path.string());
    files_.push_back(
        ojson{{"file", name}, {"role", role}, {"dtype", dtype}, {"elements", elements}});
  }
  void f32(const std::string& name, std::span<const float> v, const std::string& role) {
    write(name, le_bytes(v), role, "float32", v.size());
  }
  void i32(const std::string& name, std::span<const std::int32_t> v, const std::string& role) {
    write(name, le_bytes(v), role, "int32", v.size());
  }
  // descriptor.json: what was run, and every file (little-endian, no header).
  std::vector<std::string> finish(ojson descriptor) {
    descriptor["byte_order"] = "little";
    descriptor["files"] = files_;
    const std::string text = descriptor.dump(2) + "\n";
    const auto path = dir_ / "descriptor.json";
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw Error(ReasonCode::io_error, "--artifacts: cannot write " + path.string());
    refs_.insert(refs_.begin(), path.string());
    return refs_;
  }

 private:
  std::filesystem::path dir_;
  std::vector<std::string> refs_;
  ojson files_ = ojson::array();
};

// What one scenario produced over its seeds.
struct ScenarioRun {
  ReasonCode reason = ReasonCode::ok;
  std::string detail;
  ojson metrics = ojson::object();
  std::vector<std::string> outputs;  // per seed XXH3
  std::vector<std::string> artifacts;
};

// Tolerance statistics of one config over all seeds (elements of C pooled).
struct ToleranceStats {
  std::vector<double> ulp, rel, ratio;
  void add(const GemmProblem& p, std::span<const float> a, std::span<const float> b,
           std::span<const float> c_in, std::span<const float> got) {
    const auto mn = static_cast<std::size_t>(p.m * p.n);
    std::vector<double> ref(mn), bound(mn);
    gemm_reference_f64(p, a, b, c_in, ref, bound);
    const double u = std::ldexp(1.0, -24);
    // gamma(K + 2): the K-term sum plus the two rounded operations after it (alpha * acc
    // and the beta fma), so the ratio is scale-free for every K, K = 1 included.
    const double kd = static_cast<double>(p.k + 2);
    const double gamma = kd * u / (1.0 - kd * u);
    const double inf = std::numeric_limits<double>::infinity();
    for (std::int64_t i = 0; i < p.m; ++i) {
      for (std::int64_t j = 0; j < p.n; ++j) {
        const std::size_t at = static_cast<std::size_t>(i * p.n + j);
        const float g = got[p.c_index(i, j)];
        const double r = ref[at];
        const double err = std::isnan(g) ? inf : std::fabs(static_cast<double>(g) - r);
        ulp.push_back(static_cast<double>(std::min<std::uint64_t>(
            ulp_distance(g, static_cast<float>(r)), std::uint64_t{1} << 53)));
        rel.push_back(r != 0 ? err / std::fabs(r) : (err == 0 ? 0 : inf));
        const double scale = gamma * bound[at];
        ratio.push_back(scale > 0 ? err / scale : (err == 0 ? 0 : inf));
      }
    }
  }
  ojson summary() {
    std::sort(ulp.begin(), ulp.end());
    std::sort(rel.begin(), rel.end());
    std::sort(ratio.begin(), ratio.end());
    ojson j;
    j["elements"] = ulp.size();
    j["p50_ulp"] = number_or_null(percentile(ulp, 0.5));
    j["p99_ulp"] = number_or_null(percentile(ulp, 0.99));
    j["max_ulp"] = number_or_null(ulp.empty() ? 0 : ulp.back());
    j["p50_rel"] = number_or_null(percentile(rel, 0.5));
    j["p99_rel"] = number_or_null(percentile(rel, 0.99));
    j["max_rel"] = number_or_null(rel.empty() ? 0 : rel.back());
    j["p99_bound_ratio"] = number_or_null(percentile(ratio, 0.99));
    j["max_bound_ratio"] = number_or_null(ratio.empty() ? 0 : ratio.back());
    return j;
  }
};

class Campaign {
 public:
  Campaign(Device& device, const CampaignRequest& req, const CampaignPlan& plan,
           const ProgramCache& cache, const CampaignProgressFn& progress)
      : device_(device), req_(req), plan_(plan), cache_(cache), progress_(progress) {
    fingerprint_ = hex16(device.info().fingerprint);
  }

  CampaignResult run() {
    const auto t0 = Clock::now();
    CampaignResult result;
    result.plan = plan_;
    std::vector<CampaignMode> modes;
    if (req_.mode == CampaignMode::both) {
      modes = {CampaignMode::hardened, CampaignMode::strict};
    } else {
      modes = {req_.mode};
    }
    total_ = plan_.scenarios.size() * modes.size();
    ojson order_hashes = ojson::object();
    for (const auto mode : modes) run_mode(mode, result, order_hashes);
    summarize(result, t0, order_hashes);
    return result;
  }

 private:
  Device& device_;
  const CampaignRequest& req_;
  const CampaignPlan& plan_;
  const ProgramCache& cache_;
  const CampaignProgressFn& progress_;
  std::string fingerprint_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  // Built once, reused by every scenario, seed and mode.
  std::map<std::string, std::unique_ptr<GemmKernel>> kernels_;
  std::map<std::string, std::string> build_errors_;
  bool propagate_built_ = false;
  std::uint64_t failed_jobs_ = 0;
  bool carried_on_ = false;
  std::string stopped_at_, stopped_replay_;
  // The worst value of each tolerance statistic over the tolerance-only scenarios.
  ojson tolerance_worst_ = nullptr;
  std::uint64_t tolerance_scenarios_ = 0;

  void note_tolerance(const ojson& t) {
    ++tolerance_scenarios_;
    if (tolerance_worst_.is_null()) {
      tolerance_worst_ = t;
      tolerance_worst_.erase("elements");
      return;
    }
    for (auto& [key, worst] : tolerance_worst_.items()) {
      const ojson& v = t.at(key);
      if (worst.is_null()) continue;  // unbounded already
      if (v.is_null() || v.get<double>() > worst.get<double>()) worst = v;
    }
  }

  ReasonCode build(const JobKey& key) {
    if (key.config_id == "propagate") {
      if (propagate_built_) return ReasonCode::ok;
      try {
        // A one-node graph through the batch device path builds (or loads) the program.
        Graph g;
        g.indptr = {0, 0};
        g.key_rank = {0};
        const Seeds s{{0}, {1.0f}};
        propagate_batch_device(device_, cache_, std::span<const Graph>(&g, 1),
                               std::span<const Seeds>(&s, 1), PropagateParams{});
        propagate_built_ = true;
        return ReasonCode::ok;
      } catch (const Error& e) {
        build_errors_["propagate"] = e.what();
        return e.code();
      }
    }
    if (kernels_.count(key.config_id)) return ReasonCode::ok;
    if (build_errors_.count(key.config_id)) return ReasonCode::build_failed;
    const GemmConfig& config = plan_.configs.at(key.rank);
    try {
      kernels_[key.config_id] = std::make_unique<GemmKernel>(device_, cache_, config);
      return ReasonCode::ok;
    } catch (const Error& e) {
      build_errors_[key.config_id] = e.what();
      return e.code();
    }
  }

  ScenarioRun run_gemm(const CampaignScenario& s, const std::string& scenario_id) {
    ScenarioRun run;
    const GemmProblem& p = s.gemm->problem;
    GemmKernel& kernel = *kernels_.at(s.config_id);
    std::size_t elements = 0, mismatches = 0;
    double max_abs = 0, max_rel = 0;
    std::uint64_t max_ulp = 0;
    ojson first = nullptr;
    bool all_within = true;
    ToleranceStats stats;
    for (std::size_t i = 0; i < s.seeds.size(); ++i) {
      const GemmHostData in = make_gemm_inputs(p, s.seeds[i], Distribution::uniform, true);
      auto buf = upload_gemm_inputs(device_, in);
      kernel.run(p, buf.a, buf.b, buf.c);
      std::vector<float> got(in.c.size());
      device_.queue().enqueue_read_buffer(buf.c, 0, got.size() * sizeof(float), got.data());
      run.outputs.push_back(hex16(xxh3_64(le_bytes(got))));
      ParityReport report;
      std::vector<float> want;
      if (s.bitwise) {
        want = in.c;
        gemm_reference_canonical(p, in.a, in.b, want);
        report = compare_bitwise(p, got, want);
      } else {
        report = compare_tolerance(p, in.a, in.b, in.c, got, req_.tolerance_safety);
        stats.add(p, in.a, in.b, in.c, got);
      }
      elements += report.elements;
      mismatches += report.mismatches;
      max_abs = std::max(max_abs, report.max_abs);
      max_rel = std::max(max_rel, report.max_rel);
      max_ulp = std::max(max_ulp, report.max_ulp);
      if (!report.passed()) {
        all_within = false;
        if (first.is_null()) {
          const auto& f = *report.first;
          first = {{"seed_index", i},
                   {"index", f.index},
                   {"row", f.row},
                   {"col", f.col},
                   {"got", number_or_null(f.got)},
                   {"want", number_or_null(f.want)}};
          if (!req_.artifacts_dir.empty()) {
            if (want.empty()) {
              // The float64 reference rounded to float, in C's buffer layout.
              want = in.c;
              std::vector<double> ref(static_cast<std::size_t>(p.m * p.n));
              gemm_reference_f64(p, in.a, in.b, in.c, ref);
              for (std::int64_t r = 0; r < p.m; ++r) {
                for (std::int64_t c = 0; c < p.n; ++c) {
                  want[p.c_index(r, c)] =
                      static_cast<float>(ref[static_cast<std::size_t>(r * p.n + c)]);
                }
              }
            }
            ArtifactWriter w(req_.artifacts_dir, scenario_id, i);
            w.f32("A.f32", in.a, "input A (buffer as stored, offset and padding included)");
            w.f32("B.f32", in.b, "input B");
            w.f32("C_in.f32", in.c, "input C");
            w.f32("C_device.f32", got, "device output C");
            w.f32("C_reference.f32", want,
                  s.bitwise ? "CPU canonical reference C" : "CPU float64 reference C, rounded");
            ojson d;
            d["scenario_id"] = scenario_id;
            d["seed"] = hex16(s.seeds[i]);
            d["seed_index"] = i;
            d["config"] = s.gemm->config.canonical();
            d["problem"] = tuner::problem_to_json(p);
            d["input_distribution"] = "uniform";
            d["nan_c_when_beta_zero"] = true;
            run.artifacts = w.finish(d);
          }
        }
      }
    }
    ojson& m = run.metrics;
    m["check"] = s.bitwise ? "bitwise" : "tolerance";
    m["elements"] = elements;
    m["mismatches"] = mismatches;
    m["max_abs"] = number_or_null(max_abs);
    m["max_rel"] = number_or_null(max_rel);
    m["max_ulp"] = max_ulp;
    m["first_mismatch"] = first;
    if (s.bitwise) {
      m["tolerance"] = nullptr;
      if (mismatches > 0) {
        run.reason = ReasonCode::parity_mismatch;
        run.detail = std::to_string(mismatches) + " of " + std::to_string(elements) +
                     " elements differ from the canonical bits";
      }
      return run;
    }
    ojson t = stats.summary();
    note_tolerance(t);
    t["safety"] = req_.tolerance_safety;
    t["p99_bound"] = req_.tolerance_p99;
    const double p99 = t["p99_bound_ratio"].is_null() ? std::numeric_limits<double>::infinity()
                                                      : t["p99_bound_ratio"].get<double>();
    const bool p99_ok = p99 <= req_.tolerance_p99;
    m["tolerance"] = t;
    if (!all_within || !p99_ok) {
      run.reason = ReasonCode::tolerance_exceeded;
      run.detail = !all_within ? std::to_string(mismatches) + " elements outside gamma(K) x " +
                                     io::json_number(req_.tolerance_safety)
                               : "p99 error " + io::json_number(p99) + " x gamma(K+2) exceeds " +
                                     io::json_number(req_.tolerance_p99);
    }
    return run;
  }

  static Seeds make_seeds(std::uint64_t graph_seed, std::int32_t nodes) {
    Seeds s;
    const std::int32_t count = std::min<std::int32_t>(4, nodes);
    for (std::int32_t i = 0; i < count; ++i) {
      const float u =
          random_element(graph_seed, (std::uint64_t{1} << 42) + 2 * static_cast<std::uint64_t>(i),
                         Distribution::uniform);
      const float w = random_element(
          graph_seed, (std::uint64_t{1} << 42) + 2 * static_cast<std::uint64_t>(i) + 1,
          Distribution::uniform);
      // u in [-1, 1) -> a node in [0, nodes); weights in [0.5, 1.5).
      auto node = static_cast<std::int32_t>((static_cast<double>(u) + 1.0) * 0.5 * nodes);
      s.nodes.push_back(std::clamp<std::int32_t>(node, 0, nodes - 1));
      s.weights.push_back(1.0f + 0.5f * w);
    }
    return s;
  }

  ScenarioRun run_propagate(const CampaignScenario& s, const std::string& scenario_id) {
    ScenarioRun run;
    const PropagateScenario& ps = *s.propagate;
    std::int64_t graphs_total = 0, differing = 0;
    ojson first = nullptr;
    PropagateMetrics totals;
    for (std::size_t i = 0; i < s.seeds.size(); ++i) {
      std::vector<Graph> graphs;
      std::vector<Seeds> seeds;
      std::vector<std::uint64_t> graph_seeds;
      for (std::int32_t g = 0; g < ps.batch; ++g) {
        const std::uint64_t gs = derive_seed(req_.seed, "parity", s.config_id, s.case_id,
                                             static_cast<std::uint64_t>(g), i);
        graph_seeds.push_back(gs);
        graphs.push_back(ps.generator == "rmat" ? generate_rmat(ps.nodes, ps.edges, gs)
                                                : generate_uniform(ps.nodes, ps.edges, gs));
        seeds.push_back(make_seeds(gs, ps.nodes));
      }
      const auto want = propagate_batch_cpu(graphs, seeds, ps.params);
      const auto got = propagate_batch_device(device_, cache_, graphs, seeds, ps.params);
      std::string bytes;
      for (const auto& r : got.results) bytes += to_json(r) + "\n";
      run.outputs.push_back(hex16(xxh3_64(bytes)));
      graphs_total += ps.batch;
      totals.pops += got.totals.pops;
      totals.propagations += got.totals.propagations;
      totals.iters = std::max(totals.iters, got.totals.iters);
      const auto diff = first_difference(want, got);
      if (!diff) continue;
      ++differing;
      if (!first.is_null()) continue;
      first = {{"seed_index", i},      {"graph", diff->graph},       {"field", diff->field},
               {"index", diff->index}, {"expected", diff->expected}, {"actual", diff->actual}};
      run.detail = diff->describe();
      if (req_.artifacts_dir.empty()) continue;
      ArtifactWriter w(req_.artifacts_dir, scenario_id, i);
      for (std::size_t g = 0; g < graphs.size(); ++g) {
        const std::string n = std::to_string(g);
        w.write("graph" + n + ".clgprop", graph_to_binary(graphs[g]),
                "input graph (binary CSR file, `clgauge propagate --graph`)", "clgprop", 1);
        w.write("seeds" + n + ".json", seeds_to_json(seeds[g]), "input seeds", "json", 1);
        w.i32("device_nodes" + n + ".i32", got.results[g].d_nodes, "device d_nodes");
        w.f32("device_vals" + n + ".f32", got.results[g].d_vals, "device d_vals");
        w.i32("cpu_nodes" + n + ".i32", want.results[g].d_nodes, "CPU reference d_nodes");
        w.f32("cpu_vals" + n + ".f32", want.results[g].d_vals, "CPU reference d_vals");
      }
      ojson d;
      d["scenario_id"] = scenario_id;
      d["seed"] = hex16(s.seeds[i]);
      d["seed_index"] = i;
      d["graph_seeds"] = ojson::array();
      for (auto gs : graph_seeds) d["graph_seeds"].push_back(hex16(gs));
      d["params"] = ojson::parse(to_json(ps.params));
      d["difference"] = first;
      run.artifacts = w.finish(d);
    }
    ojson& m = run.metrics;
    m["check"] = "bitwise";
    m["graphs"] = graphs_total;
    m["graphs_differing"] = differing;
    m["pops"] = totals.pops;
    m["propagations"] = totals.propagations;
    m["max_iters"] = totals.iters;
    m["first_difference"] = first;
    if (differing > 0) run.reason = ReasonCode::parity_mismatch;
    return run;
  }

  ojson base_line(const CampaignScenario& s, const std::string& scenario_id, CampaignMode mode) {
    ojson j;
    j["schema"] = std::string(kCampaignLogSchema);
    j["record"] = "scenario";
    j["ts_unix_ms"] = now_unix_ms();
    j["scenario_id"] = scenario_id;
    j["mode"] = std::string(to_string(mode));
    j["suite"] = s.suite;
    j["case_id"] = s.case_id;
    j["seed"] = req_.seed;
    j["seeds"] = ojson::array();
    for (auto x : s.seeds) j["seeds"].push_back(hex16(x));
    j["env_fingerprint"] = fingerprint_;
    j["config_id"] = s.config_id;
    if (s.gemm) {
      j["config"] = s.gemm->config.canonical();
      j["config_source"] = s.gemm->config_source;
      j["shape"] = s.shape;
      j["problem"] = tuner::problem_to_json(s.gemm->problem);
      j["problem"]["variant"] = s.gemm->variant;
    } else {
      j["config"] = "propagate.layered " + s.propagate->params_name;
      j["config_source"] = "default";
      j["shape"] = s.shape;
      j["problem"] = {{"generator", s.propagate->generator},
                      {"nodes", s.propagate->nodes},
                      {"edges", s.propagate->edges},
                      {"batch", s.propagate->batch},
                      {"params", ojson::parse(to_json(s.propagate->params))}};
    }
    j["bitwise"] = s.bitwise;
    return j;
  }

  CampaignRecord finish_record(ojson j, const std::string& outcome, ReasonCode reason,
                               const std::string& detail, const std::string& allow_reason,
                               const ScenarioRun* run, const std::string& replay, double wall_ms) {
    CampaignRecord r;
    r.scenario_id = j["scenario_id"].get<std::string>();
    r.mode = j["mode"].get<std::string>();
    r.outcome = outcome;
    r.reason = reason;
    r.replay_command = replay;
    j["outcome"] = outcome;
    j["reason_code"] = std::string(to_string(reason));
    j["detail"] = detail;
    j["allowlist_reason"] = allow_reason.empty() ? ojson(nullptr) : ojson(allow_reason);
    j["metrics"] = run ? run->metrics : ojson(nullptr);
    if (run && !run->outputs.empty()) {
      r.output_xxh3 = combined_hash(run->outputs);
      j["output_xxh3"] = r.output_xxh3;
      j["outputs_xxh3"] = run->outputs;
      r.artifact_refs = run->artifacts;
    } else {
      j["output_xxh3"] = nullptr;
      j["outputs_xxh3"] = ojson::array();
    }
    j["artifact_refs"] = r.artifact_refs;
    j["replay_command"] = replay;
    j["wall_ms"] = wall_ms;
    r.line = j.dump();
    return r;
  }

  void report_progress(const CampaignRecord& r) {
    ++done_;
    if (progress_) progress_(CampaignProgress{done_, total_, &r});
  }

  CampaignRecord run_scenario(const CampaignScenario& s, CampaignMode mode) {
    const std::string scenario_id = s.suite + "/" + std::string(to_string(mode)) + ":" + s.case_id;
    const auto t0 = Clock::now();
    ojson j = base_line(s, scenario_id, mode);
    const std::string replay = campaign_replay_command(req_, s, mode);
    ScenarioRun run;
    try {
      run = s.gemm ? run_gemm(s, scenario_id) : run_propagate(s, scenario_id);
    } catch (const Error& e) {
      if (e.code() == ReasonCode::io_error) throw;  // artifacts: the campaign's own output
      run.reason = e.code();
      run.detail = e.what();
    }
    std::string outcome = "pass";
    std::string allow_reason;
    if (run.reason != ReasonCode::ok) {
      outcome = "fail";
      if (const auto* a = match_allowlist(req_.allowlist, scenario_id)) {
        outcome = "allowlisted";
        allow_reason = a->reason;
      }
    }
    return finish_record(std::move(j), outcome, run.reason, run.detail, allow_reason, &run, replay,
                         ms_since(t0));
  }

  void run_mode(CampaignMode mode, CampaignResult& result, ojson& order_hashes) {
    JobGraph graph;
    std::vector<JobId> build_of_config(plan_.configs.size());
    for (std::size_t c = 0; c < plan_.configs.size(); ++c) {
      build_of_config[c] = graph.add_job({JobPhase::build, c, plan_.configs[c].id(), ""});
    }
    std::optional<JobId> propagate_build;
    std::map<JobKey, std::size_t> scenario_of;
    for (std::size_t i = 0; i < plan_.scenarios.size(); ++i) {
      const auto& s = plan_.scenarios[i];
      const JobKey key{JobPhase::verify, i, s.config_id, s.case_id};
      const JobId id = graph.add_job(key);
      scenario_of[key] = i;
      if (s.gemm) {
        std::size_t c = 0;
        while (plan_.configs[c].id() != s.config_id) ++c;
        graph.add_dependency(id, build_of_config[c]);
      } else {
        if (!propagate_build) {
          propagate_build = graph.add_job({JobPhase::build, plan_.configs.size(), "propagate", ""});
        }
        graph.add_dependency(id, *propagate_build);
      }
    }
    const auto execute = [&](const JobKey& key) -> ReasonCode {
      if (key.phase == JobPhase::build) return build(key);
      const std::size_t i = scenario_of.at(key);
      CampaignRecord r = run_scenario(plan_.scenarios[i], mode);
      const ReasonCode code = r.outcome == "fail" ? r.reason : ReasonCode::ok;
      result.records.push_back(std::move(r));
      report_progress(result.records.back());
      return code;
    };
    const FailurePolicy policy =
        mode == CampaignMode::strict ? FailurePolicy::strict : FailurePolicy::hardened;
    try {
      const JobRunReport report = run_jobs(graph, policy, execute);
      order_hashes[std::string(to_string(mode))] = hex16(report.telemetry.order_hash);
      for (const auto& o : report.outcomes) {
        if (o.status == JobStatus::failed && o.job.rfind("build/", 0) == 0) ++failed_jobs_;
        if (o.status != JobStatus::skipped) continue;
        // A scenario whose build failed: logged as skipped, with the cause.
        const auto it = std::find_if(scenario_of.begin(), scenario_of.end(),
                                     [&](const auto& kv) { return kv.first.name() == o.job; });
        if (it == scenario_of.end()) continue;
        const auto& s = plan_.scenarios[it->second];
        const std::string scenario_id =
            s.suite + "/" + std::string(to_string(mode)) + ":" + s.case_id;
        std::string why = "skipped: " + o.cause + " failed";
        const std::string cause_id = s.gemm ? s.config_id : "propagate";
        if (build_errors_.count(cause_id)) why += ": " + build_errors_.at(cause_id);
        result.records.push_back(finish_record(base_line(s, scenario_id, mode), "skip", o.reason,
                                               why, "", nullptr,
                                               campaign_replay_command(req_, s, mode), 0));
        report_progress(result.records.back());
      }
      if (report.degraded) carried_on_ = true;
    } catch (const JobGraphError& e) {
      if (e.kind() != JobGraphError::Kind::job_failed) throw;
      // Strict: fail closed. Name the job; for a scenario, its replay command.
      stopped_at_ = e.what();
      for (const auto& [id, why] : build_errors_) {
        if (stopped_at_.find(id) != std::string::npos) stopped_at_ += ": " + why;
      }
      if (!result.records.empty() && result.records.back().outcome == "fail" &&
          result.records.back().mode == "strict") {
        stopped_at_ = result.records.back().scenario_id;
        stopped_replay_ = result.records.back().replay_command;
      } else {
        ++failed_jobs_;
      }
      order_hashes[std::string(to_string(mode))] = nullptr;
    }
  }

  void summarize(CampaignResult& result, Clock::time_point t0, const ojson& order_hashes) {
    CampaignSummary& s = result.summary;
    std::map<std::string, std::uint64_t> by_reason;
    for (const auto& r : result.records) {
      ++s.scenarios;
      if (r.outcome == "pass") ++s.pass;
      if (r.outcome == "fail") ++s.fail;
      if (r.outcome == "skip") ++s.skip;
      if (r.outcome == "allowlisted") ++s.allowlisted;
      if (r.outcome != "pass") ++by_reason[std::string(to_string(r.reason))];
    }
    s.by_reason.assign(by_reason.begin(), by_reason.end());
    s.failed_jobs = failed_jobs_;
    s.carried_on = carried_on_;
    s.stopped_at = stopped_at_;
    s.stopped_replay = stopped_replay_;
    s.wall_ms = ms_since(t0);
    ojson j;
    j["schema"] = std::string(kCampaignLogSchema);
    j["record"] = "summary";
    j["ts_unix_ms"] = now_unix_ms();
    j["suite"] = std::string(to_string(req_.suite));
    j["mode"] = std::string(to_string(req_.mode));
    j["seed"] = req_.seed;
    j["seeds"] = req_.seeds;
    j["env_fingerprint"] = fingerprint_;
    j["planned"] = {{"scenarios", plan_.scenarios.size()}, {"configs", plan_.configs.size()}};
    j["notes"] = plan_.notes;
    j["scenarios"] = s.scenarios;
    j["pass"] = s.pass;
    j["fail"] = s.fail;
    j["skip"] = s.skip;
    j["allowlisted"] = s.allowlisted;
    j["by_reason"] = ojson::object();
    for (const auto& [k, v] : s.by_reason) j["by_reason"][k] = v;
    j["failed_jobs"] = s.failed_jobs;
    j["carried_on"] = s.carried_on;
    j["stopped_at"] = s.stopped_at.empty() ? ojson(nullptr) : ojson(s.stopped_at);
    j["stopped_replay"] = s.stopped_replay.empty() ? ojson(nullptr) : ojson(s.stopped_replay);
    if (tolerance_scenarios_ > 0) {
      ojson t = {{"scenarios", tolerance_scenarios_}};
      t["worst"] = tolerance_worst_;
      j["tolerance"] = t;
    } else {
      j["tolerance"] = nullptr;
    }
    j["order_hashes"] = order_hashes;
    j["wall_ms"] = s.wall_ms;
    s.line = j.dump();
  }
};

}  // namespace

CampaignResult run_campaign(Device& device, const CampaignRequest& request,
                            const CampaignPlan& plan, const ProgramCache& cache,
                            const CampaignProgressFn& progress) {
  Campaign c(device, request, plan, cache, progress);
  return c.run();
}

CampaignResult run_campaign(Device& device, const CampaignRequest& request,
                            const ProgramCache& cache, const CampaignProgressFn& progress) {
  std::vector<GemmConfig> tuned;
  if (request.suite != CampaignSuite::propagate) tuned = tuned_gemm_configs(device.info());
  const CampaignPlan plan = plan_campaign(request, device.info(), tuned);
  return run_campaign(device, request, plan, cache, progress);
}

}  // namespace clgauge
