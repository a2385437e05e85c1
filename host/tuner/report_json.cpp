// report.json of a tuning run (schema clgauge-tune-report-v1, docs/report.md).

#include <algorithm>
#include <cmath>

#include "clgauge/error.hpp"
#include "tuner/protocol.hpp"
#include "tuner/tune_run.hpp"

namespace clgauge::tuner {
namespace {

// Non-finite or absent numbers are written as null: the document must parse strictly.
json number_or_null(double v, bool present = true) {
  return present && std::isfinite(v) ? json(v) : json(nullptr);
}

json params_json(const GemmConfig& c) {
  json p = json::object();
  for (const auto& [name, value] : c.params) p[name] = value;
  return p;
}

json candidate_json(const CandidateResult& c) {
  const bool ok = c.reason == ReasonCode::ok;
  return {{"eval_index", c.eval_index},
          {"config_id", c.config_id},
          {"family", c.config.family},
          {"params", params_json(c.config)},
          {"outcome", ok ? "ok" : "failed"},
          {"reason_code", std::string(to_string(c.reason))},
          {"detail", c.detail},
          {"gflops_median", number_or_null(c.gflops_median, !c.samples_ms.empty())},
          {"cv", number_or_null(c.cv, !c.samples_ms.empty())},
          {"build_ms", number_or_null(c.build_ms, c.build_ms > 0)},
          {"runs", c.samples_ms.size()},
          {"resumed", c.resumed},
          {"rank", c.rank ? json(*c.rank) : json(nullptr)}};
}

json shape_json(const ShapeResult& s, const TuneRequest& req) {
  json candidates = json::array();
  json best_so_far = json::array();
  double best = 0;
  for (const auto& c : s.candidates) {
    candidates.push_back(candidate_json(c));
    if (c.reason == ReasonCode::ok) best = std::max(best, c.gflops_median);
    if (best > 0) best_so_far.push_back({c.eval_index, best});
  }
  const ReplayResult* winner = s.winner ? &s.replay[*s.winner] : nullptr;
  json baselines = json::object();
  json ratios = json::object();
  for (const auto& b : s.baselines) {
    const bool have = b.gflops > 0;
    const bool ratio = have && winner;
    baselines[b.name] = {
        {"gflops", number_or_null(b.gflops, have)},
        {"ratio", number_or_null(ratio ? winner->median_gflops / b.gflops : 0, ratio)},
        {"status", std::string(to_string(b.reason))},
        {"detail", b.detail}};
    if (!b.config_id.empty()) baselines[b.name]["config_id"] = b.config_id;
    ratios[b.name] = baselines[b.name]["ratio"];
  }
  json replay = json::array();
  for (const auto& r : s.replay) {
    replay.push_back({{"config_id", r.config_id},
                      {"family", r.config.family},
                      {"params", params_json(r.config)},
                      {"session_medians", r.session_medians_gflops},
                      {"sessions_correct", r.sessions_correct},
                      {"session_details", r.session_details},
                      {"median_gflops", number_or_null(r.median_gflops)},
                      {"cv_of_medians", number_or_null(r.cv)},
                      {"correct", r.correct},
                      {"stable", r.stable},
                      {"beats_baseline", r.beats_baseline}});
  }
  json w = nullptr;
  if (winner) {
    w = {{"config_id", winner->config_id},
         {"family", winner->config.family},
         {"params", params_json(winner->config)},
         {"canonical", winner->config.canonical()},
         {"gflops_median", number_or_null(winner->median_gflops)},
         {"ratios", ratios}};
  }
  std::uint64_t evaluated = 0;
  for (const auto& c : s.candidates) evaluated += c.resumed ? 0 : 1;
  return {
      {"shape", s.shape},
      {"m", s.problem.m},
      {"n", s.problem.n},
      {"k", s.problem.k},
      {"space_size", s.space_size},
      {"evaluated", s.candidates.size()},
      {"measured_now", evaluated},
      {"candidates", candidates},
      {"best_so_far", best_so_far},
      {"baselines", baselines},
      {"replay", replay},
      {"gates",
       {{"stability_cv_max", req.stability_cv_max}, {"promotion_margin", req.promotion_margin}}},
      {"decision", std::string(to_string(s.decision))},
      {"decision_reason", s.decision_reason},
      {"ran_out_of_time", s.ran_out_of_time},
      {"winner", w}};
}

}  // namespace

std::string tune_report_json(const TuneRequest& req, const TuneResult& r) {
  const GemmProblem& first = req.shapes.front();
  json shapes = json::array();
  for (const auto& s : r.shapes) shapes.push_back(shape_json(s, req));
  const json doc = {{"schema", "clgauge-tune-report-v1"},
                    {"command", req.command_line},
                    {"clgauge_version", std::string(version())},
                    {"device", r.device},
                    {"env_fingerprint", r.env_fingerprint},
                    {"plan_hash", r.plan_hash},
                    {"seed", req.seed},
                    {"strategy", r.strategy},
                    {"families", r.families},
                    {"layout", std::string(to_string(first.layout))},
                    {"trans_a", std::string(to_string(first.trans_a))},
                    {"trans_b", std::string(to_string(first.trans_b))},
                    {"budget",
                     {{"configs", req.budget_configs ? json(*req.budget_configs) : json(nullptr)},
                      {"time_s", req.budget_time_s ? json(*req.budget_time_s) : json(nullptr)},
                      {"ran_out", r.ran_out_of_time}}},
                    {"store", req.store.string()},
                    {"database", r.db_file.string()},
                    {"resumed_evaluations", r.resumed_evaluations},
                    {"wall_s", r.wall_s},
                    {"shapes", shapes}};
  return doc.dump(2);
}

}  // namespace clgauge::tuner
