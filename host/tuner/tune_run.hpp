#pragma once
// One tuning run: the state clgauge::tune() carries from shape to shape.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clgauge/results_store.hpp"
#include "clgauge/search.hpp"
#include "clgauge/tuner.hpp"
#include "tuner/supervisor.hpp"

namespace clgauge::tuner {

// The space files a request searches, in order.
std::vector<std::filesystem::path> request_space_files(const TuneRequest& req);

// What a store is made for (compared key by key when a run resumes), and its hash: the
// plan hash that names the run.
StoreIdentity tune_identity(const DeviceInfo& device, const TuneRequest& req);
std::string plan_hash_of(const StoreIdentity& identity);

// report.json (schema clgauge-tune-report-v1) of a finished run.
std::string tune_report_json(const TuneRequest& req, const TuneResult& result);

class TuneRun {
 public:
  TuneRun(const DeviceInfo& device, const TuneRequest& request);
  TuneResult execute();

 private:
  using Clock = std::chrono::steady_clock;
  struct SpaceState {
    std::filesystem::path file;
    SearchSpace search;
  };

  const DeviceInfo& device_;
  const TuneRequest& req_;
  std::vector<SpaceState> spaces_;
  std::string fingerprint_;
  std::string plan_hash_;
  std::optional<ResultsStore> store_;
  WorkerCommand worker_cmd_;
  std::unique_ptr<WorkerProcess> eval_worker_;
  std::vector<std::unique_ptr<WorkerProcess>> build_workers_;
  Clock::time_point start_;
  std::optional<Clock::time_point> deadline_;
  TuneResult result_;

  // The shape being tuned.
  ShapeResult* shape_ = nullptr;
  std::size_t shape_index_ = 0;
  std::map<std::string, CandidateResult> measured_;  // config id -> its search evaluation
  double best_ms_ = 0;
  double default_gflops_ = 0;
  std::uint64_t shape_done_ = 0;
  std::uint64_t shape_total_ = 0;
  Clock::time_point shape_start_;

  void tune_shape(const GemmProblem& p);
  void search_space(const SpaceState& s, const GemmProblem& p, std::uint64_t budget,
                    Clock::time_point search_deadline);
  CandidateResult search_evaluation(const GemmConfig& c, const GemmProblem& p,
                                    const std::optional<CandidateResult>& build_failure);
  std::vector<std::optional<CandidateResult>> build_ahead(const std::vector<GemmConfig>& configs,
                                                          const std::string& shape);
  std::optional<ReplayResult> replay(const GemmProblem& p, const GemmConfig& default_config);
  void measure_baselines(const GemmProblem& p);
  void record_winner(const GemmProblem& p);

  WorkerProcess::Reply ask(const json& request, double first_timeout_s, double stage_timeout_s);
  std::unique_ptr<WorkerProcess> spawn_worker();
  bool past(std::optional<Clock::time_point> t) const;
  void progress(const std::string& phase, const std::string& current);
};

}  // namespace clgauge::tuner
