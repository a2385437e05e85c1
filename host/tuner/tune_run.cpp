// The tuning protocol per shape: evaluate the device default, search each space through
// its strategy (builds compiled ahead in parallel, evaluations in one supervised worker),
// replay the top-k interleaved with the default, measure the baselines, decide, record.

#include "tuner/tune_run.hpp"

#include <algorithm>
#include <ctime>
#include <set>
#include <thread>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/random.hpp"
#include "clgauge/tuning_db.hpp"
#include "tuner/protocol.hpp"

namespace clgauge::tuner {
namespace {

// Proposals are asked for in batches of this size whatever --jobs is, so the sequence of
// configs depends on the seed and the results only.
constexpr std::size_t kBatch = 4;
// Share of a shape's time slice kept for replay and baselines.
constexpr double kSearchShare = 0.7;

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_date_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double gflops_of(const GemmProblem& p, double ms) {
  return ms > 0 ? p.flops() / (ms * 1e6) : 0;
}

GemmConfig config_of(const SearchSpace& ss, std::size_t index) {
  GemmConfig c{ss.family, {}};
  for (std::size_t i = 0; i < ss.names.size(); ++i) {
    c.params.emplace_back(ss.names[i],
                          static_cast<std::int64_t>(ss.values[i][ss.configs[index][i]]));
  }
  return c;
}

std::string verify_mode(const GemmConfig& c) {
  return gemm_family(c.family).bitwise ? "bitwise" : "tolerance";
}

void set_samples(CandidateResult& c, const GemmProblem& p) {
  if (c.samples_ms.empty()) return;
  c.gflops_median = gflops_of(p, median_of(c.samples_ms));
  c.cv = summarize(c.samples_ms).cv;
}

Evaluation to_evaluation(const CandidateResult& c, const std::string& shape,
                         const std::string& phase, std::uint32_t session,
                         const std::string& fingerprint) {
  Evaluation e;
  e.key = {c.config_id, shape, phase, session, 0};
  e.family = c.config.family;
  e.params = c.config.params;
  e.reason = c.reason;
  e.detail = c.detail;
  e.samples_ms = c.samples_ms;
  e.host_ms = c.host_ms;
  e.build_ms = c.build_ms;
  e.gflops_median = c.gflops_median;
  e.env_fingerprint = fingerprint;
  e.ts_unix_ms = now_unix_ms();
  return e;
}

CandidateResult from_evaluation(const Evaluation& e, const GemmProblem& p) {
  CandidateResult c;
  c.config = GemmConfig{e.family, e.params};
  c.config_id = e.key.config_id;
  c.reason = e.reason;
  c.detail = e.detail;
  c.samples_ms = e.samples_ms;
  c.host_ms = e.host_ms;
  c.build_ms = e.build_ms;
  set_samples(c, p);
  return c;
}

// Fills a result from a worker's final reply, or from the worker's death.
void take_reply(CandidateResult& c, const WorkerProcess::Reply& r, const GemmProblem& p) {
  if (r.status != WorkerProcess::Status::ok) {
    c.reason =
        r.status == WorkerProcess::Status::timeout ? ReasonCode::timeout : ReasonCode::crashed;
    c.detail = r.detail;
    return;
  }
  const json& b = r.body;
  c.reason = reason_code_from_string(b.value("reason", "internal"));
  c.detail = b.value("detail", "");
  c.build_ms = b.value("build_ms", 0.0);
  if (b.contains("samples_ms")) {
    c.samples_ms = b.at("samples_ms").get<std::vector<double>>();
    c.host_ms = b.at("host_ms").get<std::vector<double>>();
  }
  set_samples(c, p);
}

std::string family_set(const TuneRequest& req, const std::vector<std::string>& space_families) {
  std::set<std::string> names;
  if (req.spaces.empty()) {
    for (const auto& f : req.families) names.insert(f);
    if (names.count("all")) return "all";
  } else {
    names.insert(space_families.begin(), space_families.end());
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "+") + n;
  return out;
}

}  // namespace

StoreIdentity tune_identity(const DeviceInfo& device, const TuneRequest& req) {
  std::string spaces_id;
  for (const auto& file : request_space_files(req)) {
    const auto space = ParameterSpace::load(file);
    spaces_id +=
        (spaces_id.empty() ? "" : ",") + space.family + ":" + hex16(xxh3_64(space.to_json()));
  }
  std::string shapes;
  for (const auto& p : req.shapes) shapes += (shapes.empty() ? "" : ",") + p.shape();
  const GemmProblem& first = req.shapes.front();
  // What a store is made for. Budgets may change between runs (to extend one); these not.
  return {
      {"env_fingerprint", hex16(device.fingerprint)},
      {"device", device.label()},
      {"spaces", spaces_id},
      {"shapes", shapes},
      {"layout", std::string(to_string(first.layout))},
      {"ops", std::string(to_string(first.trans_a)) + std::string(to_string(first.trans_b))},
      {"strategy", req.strategy.empty() ? "default" : req.strategy},
      {"seed", std::to_string(req.seed)},
      {"shard", req.shard ? req.shard->str() : "0/1"},
      {"replay", std::to_string(req.top_k) + "x" + std::to_string(req.replay_sessions) + "x" +
                     std::to_string(req.replay_runs)},
      {"screening", measure_to_json(req.measure).dump()},
  };
}

std::string plan_hash_of(const StoreIdentity& identity) {
  json j = json::array();
  for (const auto& [k, v] : identity) j.push_back({k, v});
  return hex16(xxh3_64(j.dump()));
}

TuneRun::TuneRun(const DeviceInfo& device, const TuneRequest& request)
    : device_(device), req_(request), start_(Clock::now()) {
  if (req_.budget_time_s) {
    deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(*req_.budget_time_s));
  }
  fingerprint_ = hex16(device_.fingerprint);
  const DeviceLimits limits = DeviceLimits::from_device(device_);
  std::vector<std::string> space_families;
  for (const auto& file : request_space_files(req_)) {
    auto compiled = compile_space(file, limits);
    space_families.push_back(compiled.space().family);
    spaces_.push_back({file, search_space_from(compiled, req_.shard.value_or(Shard{}))});
  }
  const StoreIdentity identity = tune_identity(device_, req_);
  plan_hash_ = plan_hash_of(identity);
  store_.emplace(ResultsStore::open(req_.store, identity));

  worker_cmd_.executable =
      req_.worker_executable.empty() ? find_worker_executable() : req_.worker_executable;
  worker_cmd_.args = {"--device", std::to_string(device_.index)};
  if (req_.no_cache) {
    worker_cmd_.args.push_back("--no-cache");
  } else if (!req_.cache_dir.empty()) {
    worker_cmd_.args.insert(worker_cmd_.args.end(), {"--cache-dir", req_.cache_dir});
  }
  worker_cmd_.log = req_.worker_log.empty()
                        ? std::filesystem::path(req_.store.string() + ".workers.log")
                        : req_.worker_log;

  result_.device = device_.label();
  result_.env_fingerprint = fingerprint_;
  result_.plan_hash = plan_hash_;
  result_.strategy = req_.strategy.empty() ? "default" : req_.strategy;
  result_.families = {family_set(req_, space_families)};
}

TuneResult TuneRun::execute() {
  for (std::size_t i = 0; i < req_.shapes.size(); ++i) {
    shape_index_ = i;
    tune_shape(req_.shapes[i].resolved());
  }
  eval_worker_.reset();
  build_workers_.clear();
  result_.wall_s = std::chrono::duration<double>(Clock::now() - start_).count();
  for (const auto& s : result_.shapes) result_.ran_out_of_time |= s.ran_out_of_time;
  result_.report_json = tune_report_json(req_, result_);
  return result_;
}

bool TuneRun::past(std::optional<Clock::time_point> t) const {
  return t && Clock::now() >= *t;
}

std::unique_ptr<WorkerProcess> TuneRun::spawn_worker() {
  return std::make_unique<WorkerProcess>(worker_cmd_, req_.build_timeout_s);
}

WorkerProcess::Reply TuneRun::ask(const json& request, double first_timeout_s,
                                  double stage_timeout_s) {
  if (!eval_worker_ || !eval_worker_->alive()) eval_worker_ = spawn_worker();
  return eval_worker_->request(request, first_timeout_s, stage_timeout_s);
}

void TuneRun::progress(const std::string& phase, const std::string& current) {
  if (!req_.progress) return;
  TuneProgress pr;
  pr.shape = shape_->shape;
  pr.shape_index = shape_index_;
  pr.shapes = req_.shapes.size();
  pr.phase = phase;
  pr.done = shape_done_;
  pr.total = shape_total_;
  pr.default_gflops = default_gflops_;
  pr.current = current;
  for (const auto& c : shape_->candidates) {
    if (c.reason == ReasonCode::ok) pr.best_gflops = std::max(pr.best_gflops, c.gflops_median);
  }
  const auto now = Clock::now();
  pr.elapsed_s = std::chrono::duration<double>(now - start_).count();
  if (shape_done_ > 0 && shape_total_ >= shape_done_) {
    const double per = std::chrono::duration<double>(now - shape_start_).count() /
                       static_cast<double>(shape_done_);
    pr.eta_s = per * static_cast<double>(shape_total_ - shape_done_);
  }
  req_.progress(pr);
}

void TuneRun::tune_shape(const GemmProblem& p) {
  result_.shapes.emplace_back();
  shape_ = &result_.shapes.back();
  shape_->problem = p;
  shape_->shape = p.shape();
  measured_.clear();
  best_ms_ = 0;
  default_gflops_ = 0;
  shape_done_ = 0;
  shape_start_ = Clock::now();

  std::vector<std::uint64_t> budgets;
  std::uint64_t space_total = 0;
  for (const auto& s : spaces_) space_total += s.search.configs.size();
  shape_->space_size = space_total;
  // The budget is shared among the spaces: smallest space first, each takes an equal part
  // of what is left, and what a small space does not use passes to the larger ones.
  std::vector<std::size_t> by_size(spaces_.size());
  for (std::size_t i = 0; i < by_size.size(); ++i) by_size[i] = i;
  std::stable_sort(by_size.begin(), by_size.end(), [&](std::size_t a, std::size_t b) {
    return spaces_[a].search.configs.size() < spaces_[b].search.configs.size();
  });
  budgets.assign(spaces_.size(), 0);
  std::uint64_t left = req_.budget_configs.value_or(space_total);
  for (std::size_t r = 0; r < by_size.size(); ++r) {
    const std::size_t i = by_size[r];
    const std::uint64_t share = (left + (spaces_.size() - r) - 1) / (spaces_.size() - r);
    budgets[i] = std::min<std::uint64_t>(share, spaces_[i].search.configs.size());
    left -= budgets[i];
  }
  shape_total_ = 0;
  for (auto b : budgets) shape_total_ += b;

  std::optional<Clock::time_point> search_deadline;
  if (deadline_) {
    const auto now = Clock::now();
    const auto shapes_left = static_cast<double>(req_.shapes.size() - shape_index_);
    const auto slice =
        std::chrono::duration<double>(*deadline_ - now) * (kSearchShare / shapes_left);
    search_deadline = now + std::chrono::duration_cast<Clock::duration>(slice);
  }

  // The device default first: the live ratio and the first abandonment threshold.
  p.check_fits(device_);
  const GemmConfig dflt = default_gemm_config(device_, p);
  progress("search", dflt.canonical());
  const CandidateResult d = search_evaluation(dflt, p, std::nullopt);
  default_gflops_ = d.reason == ReasonCode::ok ? d.gflops_median : 0;

  for (std::size_t i = 0; i < spaces_.size(); ++i) {
    search_space(spaces_[i], p, budgets[i], search_deadline.value_or(Clock::time_point::max()));
  }
  if (past(search_deadline)) shape_->ran_out_of_time = true;

  const auto default_replay = replay(p, dflt);
  const double baseline = default_replay ? default_replay->median_gflops : default_gflops_;
  BaselineResult base{"default", dflt.id(), ReasonCode::ok, "", baseline};
  if (baseline <= 0) {
    base.reason = default_replay ? ReasonCode::parity_mismatch : d.reason;
    base.detail = default_replay ? "the default config failed in replay" : d.detail;
  }
  shape_->baselines.push_back(base);
  const ReplayVerdict verdict =
      decide(shape_->replay, baseline, req_.stability_cv_max, req_.promotion_margin);
  shape_->decision = verdict.decision;
  shape_->decision_reason = verdict.reason;
  shape_->winner = verdict.winner;
  if (shape_->replay.empty() && shape_->ran_out_of_time) {
    shape_->decision_reason = "the time budget ran out before replay";
  }
  measure_baselines(p);
  record_winner(p);
  progress("done", "");
}

void TuneRun::search_space(const SpaceState& s, const GemmProblem& p, std::uint64_t budget,
                           Clock::time_point search_deadline) {
  if (budget == 0) return;
  const std::string name = req_.strategy.empty()
                               ? default_search_strategy(budget, s.search.configs.size())
                               : req_.strategy;
  auto strategy = make_search_strategy(
      name, derive_seed(req_.seed, "search", s.search.family, shape_->shape, 0, 0));
  strategy->set_budget(budget);
  std::vector<Observation> history;
  std::uint64_t used = 0;
  while (used < budget) {
    if (Clock::now() >= search_deadline) {
      shape_->ran_out_of_time = true;
      return;
    }
    const auto batch =
        strategy->propose(s.search, history, std::min<std::uint64_t>(kBatch, budget - used));
    if (batch.empty()) return;
    std::vector<GemmConfig> configs;
    for (auto idx : batch) configs.push_back(config_of(s.search, idx));
    const auto failures = build_ahead(configs, shape_->shape);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (Clock::now() >= search_deadline) {
        shape_->ran_out_of_time = true;
        return;
      }
      progress("search", configs[i].canonical());
      CandidateResult r = search_evaluation(configs[i], p, failures[i]);
      r.eval_index = shape_->candidates.size();
      shape_->candidates.push_back(r);
      // Failures (abandoned included) never enter the model as invented values.
      history.push_back({batch[i], r.reason == ReasonCode::ok
                                       ? std::optional<double>(median_of(r.samples_ms))
                                       : std::nullopt});
      ++used;
      ++shape_done_;
      progress("search", configs[i].canonical());
    }
  }
}

CandidateResult TuneRun::search_evaluation(const GemmConfig& c, const GemmProblem& p,
                                           const std::optional<CandidateResult>& build_failure) {
  const std::string id = c.id();
  if (auto it = measured_.find(id); it != measured_.end()) return it->second;
  CandidateResult r;
  if (auto stored = store_->find({id, shape_->shape, "search", 0, 0})) {
    r = from_evaluation(*stored, p);
    r.resumed = true;
    ++result_.resumed_evaluations;
  } else {
    if (build_failure) {
      r = *build_failure;
    } else {
      r.config = c;
      r.config_id = id;
      MeasureOptions m = req_.measure;
      m.abandon_ms = best_ms_ > 0 ? req_.abandon_factor * best_ms_ : 0;
      const json request = {
          {"op", "evaluate"},
          {"config", config_to_json(c)},
          {"problem", problem_to_json(p)},
          {"seed", seed_to_json(derive_seed(req_.seed, "verify", id, shape_->shape, 0, 0))},
          {"verify", verify_mode(c)},
          {"measure", measure_to_json(m)}};
      take_reply(r, ask(request, req_.build_timeout_s, req_.run_timeout_s), p);
      if (r.reason == ReasonCode::abandoned_slow) {
        r.detail = "median of the first " + std::to_string(r.samples_ms.size()) + " runs above " +
                   std::to_string(req_.abandon_factor) + " x the best so far (" +
                   std::to_string(m.abandon_ms) + " ms)";
      }
    }
    store_->record(to_evaluation(r, shape_->shape, "search", 0, fingerprint_));
  }
  r.config = c;
  r.config_id = id;
  if (r.reason == ReasonCode::ok) {
    const double ms = median_of(r.samples_ms);
    best_ms_ = best_ms_ > 0 ? std::min(best_ms_, ms) : ms;
  }
  measured_[id] = r;
  return r;
}

std::vector<std::optional<CandidateResult>> TuneRun::build_ahead(
    const std::vector<GemmConfig>& configs, const std::string& shape) {
  std::vector<std::optional<CandidateResult>> out(configs.size());
  if (req_.no_cache) return out;  // nothing to share: the evaluating worker builds
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const std::string id = configs[i].id();
    if (!measured_.count(id) && !store_->find({id, shape, "search", 0, 0})) todo.push_back(i);
  }
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t jobs = std::min<std::size_t>(req_.jobs ? req_.jobs : hw, todo.size());
  if (jobs == 0) return out;
  if (build_workers_.size() < jobs) build_workers_.resize(jobs);
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < jobs; ++w) {
    threads.emplace_back([&, w] {
      for (std::size_t t = w; t < todo.size(); t += jobs) {
        const std::size_t i = todo[t];
        auto& worker = build_workers_[w];
        if (!worker || !worker->alive()) {
          try {
            worker = spawn_worker();
          } catch (const Error&) {
            return;  // the evaluating worker builds these instead, and reports what fails
          }
        }
        const auto reply =
            worker->request({{"op", "build"}, {"config", config_to_json(configs[i])}},
                            req_.build_timeout_s, req_.build_timeout_s);
        const bool ok =
            reply.status == WorkerProcess::Status::ok && reply.body.value("reason", "") == "ok";
        if (ok) continue;
        CandidateResult r;
        r.config = configs[i];
        r.config_id = configs[i].id();
        take_reply(r, reply, GemmProblem{});
        out[i] = r;
      }
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

std::optional<ReplayResult> TuneRun::replay(const GemmProblem& p, const GemmConfig& dflt) {
  // Rank every verified candidate: fastest first, ties by config id.
  std::vector<CandidateResult*> ok;
  for (auto& c : shape_->candidates) {
    if (c.reason == ReasonCode::ok) ok.push_back(&c);
  }
  std::sort(ok.begin(), ok.end(), [](const CandidateResult* a, const CandidateResult* b) {
    return a->gflops_median != b->gflops_median ? a->gflops_median > b->gflops_median
                                                : a->config_id < b->config_id;
  });
  for (std::size_t i = 0; i < ok.size(); ++i) ok[i]->rank = i + 1;
  std::vector<GemmConfig> contestants;
  for (std::size_t i = 0; i < ok.size() && i < req_.top_k; ++i)
    contestants.push_back(ok[i]->config);
  const std::size_t n_candidates = contestants.size();
  const auto dflt_it = std::find(contestants.begin(), contestants.end(), dflt);
  const std::size_t dflt_index = static_cast<std::size_t>(dflt_it - contestants.begin());
  if (dflt_it == contestants.end()) contestants.push_back(dflt);

  std::vector<ReplayResult> rr(contestants.size());
  for (std::size_t i = 0; i < contestants.size(); ++i) {
    rr[i].config = contestants[i];
    rr[i].config_id = contestants[i].id();
  }
  shape_done_ = 0;
  shape_total_ = req_.replay_sessions;
  for (std::uint64_t s = 0; s < req_.replay_sessions; ++s) {
    if (past(deadline_)) {
      shape_->ran_out_of_time = true;
      return std::nullopt;
    }
    progress("replay", "session " + std::to_string(s + 1));
    std::vector<CandidateResult> sess(contestants.size());
    std::vector<std::optional<Evaluation>> stored;
    bool all_stored = true;
    for (const auto& r : rr) {
      stored.push_back(
          store_->find({r.config_id, shape_->shape, "replay", static_cast<std::uint32_t>(s), 0}));
      all_stored = all_stored && stored.back().has_value();
    }
    if (all_stored) {
      for (std::size_t i = 0; i < rr.size(); ++i) sess[i] = from_evaluation(*stored[i], p);
      result_.resumed_evaluations += rr.size();
    } else {
      json configs = json::array(), seeds = json::array(), verify = json::array();
      for (const auto& r : rr) {
        configs.push_back(config_to_json(r.config));
        seeds.push_back(
            seed_to_json(derive_seed(req_.seed, "replay", r.config_id, shape_->shape, s, 0)));
        verify.push_back(verify_mode(r.config));
      }
      const json request = {
          {"op", "replay"}, {"configs", configs},       {"problem", problem_to_json(p)},
          {"seeds", seeds}, {"runs", req_.replay_runs}, {"verify", verify}};
      const auto reply =
          ask(request, req_.build_timeout_s, req_.run_timeout_s * static_cast<double>(rr.size()));
      for (std::size_t i = 0; i < rr.size(); ++i) {
        sess[i].config = rr[i].config;
        sess[i].config_id = rr[i].config_id;
        WorkerProcess::Reply one = reply;
        if (reply.status == WorkerProcess::Status::ok) one.body = reply.body.at("results").at(i);
        take_reply(sess[i], one, p);
        store_->record(to_evaluation(sess[i], shape_->shape, "replay",
                                     static_cast<std::uint32_t>(s), fingerprint_));
      }
    }
    for (std::size_t i = 0; i < rr.size(); ++i) {
      const bool good = sess[i].reason == ReasonCode::ok;
      rr[i].sessions_correct.push_back(good);
      rr[i].session_details.push_back(
          good ? "" : std::string(to_string(sess[i].reason)) + ": " + sess[i].detail);
      if (good) rr[i].session_medians_gflops.push_back(sess[i].gflops_median);
    }
    ++shape_done_;
  }
  for (auto& r : rr) {
    r.median_gflops = median_of(r.session_medians_gflops);
    r.cv = r.session_medians_gflops.size() > 1 ? summarize(r.session_medians_gflops).cv : 0;
  }
  const ReplayResult dflt_result = rr[dflt_index < n_candidates ? dflt_index : rr.size() - 1];
  // The default stays among the replayed: when nothing found beats it, it is the winner, so
  // the database never records a config slower than what gemm() would run anyway.
  shape_->replay = rr;
  if (!std::all_of(dflt_result.sessions_correct.begin(), dflt_result.sessions_correct.end(),
                   [](bool b) { return b; })) {
    return std::nullopt;
  }
  return dflt_result;
}

void TuneRun::measure_baselines(const GemmProblem& p) {
  std::vector<std::string> names;
  if (req_.clblast_baseline) names.push_back("clblast");
  if (req_.openblas_baseline) names.push_back("openblas");
  for (const auto& name : names) {
    BaselineResult b{name, "", ReasonCode::ok, "", 0};
    CandidateResult r;
    r.config = GemmConfig{name, {}};
    r.config_id = name;
    if (auto stored = store_->find({name, shape_->shape, "baseline", 0, 0})) {
      r = from_evaluation(*stored, p);
      ++result_.resumed_evaluations;
    } else if (past(deadline_)) {
      b.reason = ReasonCode::out_of_budget;
      b.detail = "the time budget ran out";
      shape_->baselines.push_back(b);
      continue;
    } else {
      progress("baselines", name);
      const json request = {
          {"op", "baseline"},
          {"name", name},
          {"problem", problem_to_json(p)},
          {"seed", seed_to_json(derive_seed(req_.seed, "verify", name, shape_->shape, 0, 0))},
          {"measure", measure_to_json(req_.measure)}};
      take_reply(r, ask(request, req_.build_timeout_s, req_.run_timeout_s), p);
      store_->record(to_evaluation(r, shape_->shape, "baseline", 0, fingerprint_));
    }
    b.reason = r.reason;
    b.detail = r.detail;
    b.gflops = r.reason == ReasonCode::ok ? r.gflops_median : 0;
    shape_->baselines.push_back(b);
  }
}

void TuneRun::record_winner(const GemmProblem& p) {
  if (!shape_->winner || req_.db_dir.empty()) return;
  const ReplayResult& w = shape_->replay[*shape_->winner];
  TuningEntry e;
  e.key.families = result_.families.front();
  e.key.layout = p.layout;
  e.key.trans_a = p.trans_a;
  e.key.trans_b = p.trans_b;
  e.key.m = p.m;
  e.key.n = p.n;
  e.key.k = p.k;
  e.config = w.config;
  e.gflops_median = w.median_gflops;
  for (const auto& b : shape_->baselines) {
    if (b.gflops > 0) e.baseline_ratios.emplace_back(b.name, w.median_gflops / b.gflops);
  }
  e.decision = std::string(to_string(shape_->decision));
  e.plan_hash = plan_hash_;
  e.date = iso_date_utc();
  e.clgauge_version = std::string(version());
  e.env_fingerprint = fingerprint_;
  result_.db_file = record_tuning_entries(req_.db_dir, tuning_device_id(device_), {e});
}

}  // namespace clgauge::tuner
