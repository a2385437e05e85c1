// clgauge::tune: the protocol driver. Pure decisions (strategies, gates) live elsewhere;
// this file moves candidates through supervised workers and the results store.

#include "clgauge/tuner.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "clgauge/error.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/search.hpp"
#include "tuner/tune_run.hpp"

namespace clgauge {

// ---------------------------------------------------------------------------------------
namespace tuner {

std::vector<std::filesystem::path> request_space_files(const TuneRequest& req) {
  if (!req.spaces.empty()) return req.spaces;
  std::vector<std::string> families;
  for (const auto& f : req.families) {
    if (f == "all") {
      // Every bitwise family: a tolerance-only family (gemm.splitk) is searched only when
      // named, since its winner would not give gemm()'s canonical bits.
      for (const auto& fam : gemm_families()) {
        if (fam.bitwise) families.push_back(fam.name);
      }
    } else {
      families.push_back(gemm_family(f).name);
    }
  }
  std::vector<std::filesystem::path> files;
  std::set<std::string> seen;
  for (const auto& f : families) {
    if (!seen.insert(f).second) continue;
    for (const auto& name : gemm_family_spaces(f)) files.push_back(find_space_file(name));
  }
  return files;
}

}  // namespace tuner

std::vector<GemmProblem> default_tune_shapes() {
  std::vector<GemmProblem> shapes;
  for (auto [m, n, k] : std::vector<std::array<std::int64_t, 3>>{{256, 256, 256},
                                                                 {512, 512, 512},
                                                                 {1024, 1024, 1024},
                                                                 {4096, 256, 64},
                                                                 {8192, 128, 128}}) {
    GemmProblem p;
    p.m = m;
    p.n = n;
    p.k = k;
    shapes.push_back(p);
  }
  return shapes;
}

std::vector<GemmProblem> parse_gemm_shapes(std::string_view list, std::string_view field) {
  std::string expanded;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto end = std::min(list.find(',', pos), list.size());
    std::string item(list.substr(pos, end - pos));
    if (!item.empty() && item.find_first_not_of("0123456789") == std::string::npos) {
      item = item + "x" + item + "x" + item;
    }
    expanded += (pos == 0 ? "" : ",") + item;
    pos = end + 1;
  }
  std::vector<GemmProblem> out;
  for (const auto& shape : parse_shape_list(expanded, field)) {
    GemmProblem p;
    // parse_shape_list checked "<m>x<n>x<k>" with positive decimal integers.
    const auto x1 = shape.find('x'), x2 = shape.find('x', x1 + 1);
    p.m = std::stoll(shape.substr(0, x1));
    p.n = std::stoll(shape.substr(x1 + 1, x2 - x1 - 1));
    p.k = std::stoll(shape.substr(x2 + 1));
    out.push_back(p);
  }
  return out;
}

void validate(const TuneRequest& req) {
  auto bad = [](const std::string& m) { return Error(ReasonCode::bad_input, m); };
  if (req.shapes.empty()) throw bad("--shapes: no shapes to tune");
  for (const auto& p : req.shapes) p.validate();
  if (req.families.empty() && req.spaces.empty()) throw bad("--family: no family to tune");
  for (const auto& f : req.families) {
    if (f != "all") gemm_family(f);
  }
  if (req.budget_configs && *req.budget_configs == 0) throw bad("--budget-configs 0: must be >= 1");
  if (req.budget_time_s && !(*req.budget_time_s > 0)) throw bad("--budget-time: must be > 0");
  if (req.top_k == 0) throw bad("--top-k 0: must be >= 1");
  if (req.replay_sessions == 0) throw bad("--replay-sessions 0: must be >= 1");
  if (req.replay_runs == 0) throw bad("--replay-runs 0: must be >= 1");
  if (req.top_k > 1000 || req.replay_sessions > 1000 || req.replay_runs > 100000) {
    throw bad("--top-k/--replay-sessions/--replay-runs: at most 1000/1000/100000");
  }
  if (!(req.abandon_factor >= 1.0)) throw bad("--abandon-factor: must be >= 1");
  if (!req.strategy.empty()) make_search_strategy(req.strategy, req.seed);
  if (!(req.build_timeout_s > 0) || !(req.run_timeout_s > 0)) throw bad("timeouts must be > 0");
}

std::string tune_plan_hash(const DeviceInfo& device, const TuneRequest& request) {
  validate(request);
  return tuner::plan_hash_of(tuner::tune_identity(device, request));
}

TuneResult tune(const DeviceInfo& device, const TuneRequest& request) {
  validate(request);
  if (request.store.empty()) {
    throw Error(ReasonCode::bad_input, "--store: a results store file is required");
  }
  tuner::TuneRun run(device, request);
  return run.execute();
}

}  // namespace clgauge
