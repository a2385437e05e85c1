// The job graph, its deterministic schedule and the strict / hardened run policies.

#include <nlohmann/json.hpp>

#include <algorithm>

#include "clgauge/hash.hpp"
#include "clgauge/scheduler.hpp"

namespace clgauge {
namespace {

using Kind = JobGraphError::Kind;

[[noreturn]] void graph_error(Kind kind, const std::string& message) {
  const auto code =
      kind == Kind::dependency_underflow ? ReasonCode::internal : ReasonCode::bad_input;
  throw JobGraphError(kind, code, std::string(to_string(kind)) + ": " + message);
}

nlohmann::ordered_json telemetry_json(const SchedulerTelemetry& t) {
  nlohmann::ordered_json j;
  j["execution_order"] = t.execution_order;
  j["order_hash"] = hex16(t.order_hash);
  j["pushes"] = t.pushes;
  j["pops"] = t.pops;
  j["max_queue_length"] = t.max_queue_length;
  auto snap = nlohmann::ordered_json::array();
  for (const auto& [name, count] : t.dependency_snapshot) {
    snap.push_back({{"job", name}, {"dependencies", count}});
  }
  j["dependency_snapshot"] = std::move(snap);
  return j;
}

}  // namespace

std::string_view to_string(JobPhase phase) {
  switch (phase) {
    case JobPhase::build:
      return "build";
    case JobPhase::verify:
      return "verify";
    case JobPhase::time:
      return "time";
    case JobPhase::replay:
      return "replay";
  }
  return "build";
}

std::string_view to_string(JobGraphError::Kind kind) {
  switch (kind) {
    case Kind::duplicate_job:
      return "duplicate job";
    case Kind::unknown_job:
      return "unknown job";
    case Kind::cycle:
      return "dependency cycle";
    case Kind::dependency_underflow:
      return "dependency underflow";
    case Kind::job_failed:
      return "job failed";
  }
  return "job graph error";
}

std::string_view to_string(FailurePolicy policy) {
  return policy == FailurePolicy::strict ? "strict" : "hardened";
}

std::string_view to_string(JobStatus status) {
  switch (status) {
    case JobStatus::ok:
      return "ok";
    case JobStatus::failed:
      return "failed";
    case JobStatus::skipped:
      return "skipped";
  }
  return "ok";
}

std::string JobKey::name() const {
  std::string s(to_string(phase));
  s += '/';
  s += std::to_string(rank);
  s += '/';
  s += config_id;
  s += '/';
  s += shape;
  return s;
}

// --- JobGraph ------------------------------------------------------------------

JobId JobGraph::add_job(JobKey key) {
  if (index_.count(key) != 0)
    graph_error(Kind::duplicate_job, key.name() + " is already in the graph");
  const JobId id = keys_.size();
  index_.emplace(key, id);
  keys_.push_back(std::move(key));
  dependency_counts_.push_back(0);
  dependants_.emplace_back();
  return id;
}

std::optional<JobId> JobGraph::find(const JobKey& key) const {
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void JobGraph::add_dependency(const JobKey& job, const JobKey& prerequisite) {
  const auto j = find(job);
  if (!j)
    graph_error(Kind::unknown_job,
                job.name() + " (adding its dependency on " + prerequisite.name() + ")");
  const auto p = find(prerequisite);
  if (!p)
    graph_error(Kind::unknown_job,
                prerequisite.name() + " (named as a dependency of " + job.name() + ")");
  add_dependency(*j, *p);
}

void JobGraph::add_dependency(JobId job, JobId prerequisite) {
  if (job >= keys_.size()) graph_error(Kind::unknown_job, "job id " + std::to_string(job));
  if (prerequisite >= keys_.size()) {
    graph_error(Kind::unknown_job, "job id " + std::to_string(prerequisite) +
                                       " (named as a dependency of " + keys_[job].name() + ")");
  }
  if (job == prerequisite) graph_error(Kind::cycle, keys_[job].name() + " depends on itself");
  ++dependency_counts_[job];
  dependants_[prerequisite].push_back(job);
}

JobGraph JobGraph::tuning(std::span<const std::string> ranked_config_ids,
                          std::span<const std::string> shapes, bool with_replay) {
  JobGraph g;
  for (std::uint64_t rank = 0; rank < ranked_config_ids.size(); ++rank) {
    const auto& id = ranked_config_ids[rank];
    const JobId build = g.add_job({JobPhase::build, rank, id, ""});
    for (const auto& shape : shapes) {
      const JobId verify = g.add_job({JobPhase::verify, rank, id, shape});
      const JobId time = g.add_job({JobPhase::time, rank, id, shape});
      g.add_dependency(verify, build);
      g.add_dependency(time, verify);
      if (with_replay) g.add_dependency(g.add_job({JobPhase::replay, rank, id, shape}), time);
    }
  }
  return g;
}

// --- JobSchedule -----------------------------------------------------------------

JobSchedule::JobSchedule(const JobGraph& graph) : graph_(&graph) {
  const std::size_t n = graph.size();
  remaining_.resize(n);
  for (JobId id = 0; id < n; ++id) {
    remaining_[id] = graph.dependency_count(id);
    telemetry_.dependency_snapshot.emplace_back(graph.key(id).name(), remaining_[id]);
  }

  // Kahn's algorithm on a copy: jobs never released lie on or behind a cycle.
  std::vector<std::uint32_t> left = remaining_;
  std::vector<JobId> stack;
  for (JobId id = 0; id < n; ++id) {
    if (left[id] == 0) stack.push_back(id);
  }
  std::size_t released = 0;
  while (!stack.empty()) {
    const JobId id = stack.back();
    stack.pop_back();
    ++released;
    for (const JobId d : graph.dependants(id)) {
      if (--left[d] == 0) stack.push_back(d);
    }
  }
  if (released != n) {
    // Walk back from the smallest blocked job through blocked prerequisites (smallest
    // key first) until a job repeats: those jobs form a cycle.
    std::vector<std::vector<JobId>> prerequisites(n);
    for (JobId p = 0; p < n; ++p) {
      for (const JobId d : graph.dependants(p)) prerequisites[d].push_back(p);
    }
    const auto by_key = [&](JobId a, JobId b) { return graph.key(a) < graph.key(b); };
    std::optional<JobId> start;
    for (JobId id = 0; id < n; ++id) {
      if (left[id] != 0 && (!start || by_key(id, *start))) start = id;
    }
    std::vector<JobId> path{*start};
    for (;;) {
      std::optional<JobId> next;
      for (const JobId p : prerequisites[path.back()]) {
        if (left[p] != 0 && (!next || by_key(p, *next))) next = p;
      }
      const auto seen = std::find(path.begin(), path.end(), *next);
      if (seen != path.end()) {
        std::string names;
        for (auto it = seen; it != path.end(); ++it) names += graph.key(*it).name() + " <- ";
        graph_error(Kind::cycle, names + graph.key(*next).name() + " (" +
                                     std::to_string(n - released) + " jobs can never run)");
      }
      path.push_back(*next);
    }
  }

  for (JobId id = 0; id < n; ++id) {
    if (remaining_[id] == 0) push(id);
  }
}

void JobSchedule::push(JobId job) {
  ready_.emplace(graph_->key(job), job);
  ++telemetry_.pushes;
  telemetry_.max_queue_length = std::max<std::uint64_t>(telemetry_.max_queue_length, ready_.size());
}

std::optional<JobId> JobSchedule::pop() {
  if (ready_.empty()) return std::nullopt;
  const auto it = ready_.begin();
  const JobId id = it->second;
  ready_.erase(it);
  ++telemetry_.pops;
  return id;
}

void JobSchedule::complete(JobId job) {
  for (const JobId d : graph_->dependants(job)) {
    if (remaining_[d] == 0) {
      graph_error(Kind::dependency_underflow,
                  graph_->key(d).name() + " has no unfinished dependency left to release (by " +
                      graph_->key(job).name() + ")");
    }
    if (--remaining_[d] == 0) push(d);
  }
}

void JobSchedule::record_executed(JobId job) {
  telemetry_.execution_order.push_back(graph_->key(job).name());
}

SchedulerTelemetry JobSchedule::telemetry() const {
  SchedulerTelemetry t = telemetry_;
  std::string bytes;
  for (const auto& name : t.execution_order) {
    bytes += name;
    bytes += '\n';
  }
  t.order_hash = xxh3_64(bytes);
  return t;
}

std::string SchedulerTelemetry::to_json() const {
  return telemetry_json(*this).dump();
}

std::string JobRunReport::to_json() const {
  nlohmann::ordered_json j;
  j["policy"] = to_string(policy);
  j["degraded"] = degraded;
  auto outs = nlohmann::ordered_json::array();
  for (const auto& o : outcomes) {
    nlohmann::ordered_json x;
    x["job"] = o.job;
    x["status"] = to_string(o.status);
    x["reason"] = to_string(o.reason);
    if (!o.cause.empty()) x["cause"] = o.cause;
    outs.push_back(std::move(x));
  }
  j["outcomes"] = std::move(outs);
  j["telemetry"] = telemetry_json(telemetry);
  return j.dump();
}

// --- running -----------------------------------------------------------------------

JobRunReport run_jobs(const JobGraph& graph, FailurePolicy policy, const JobExecutor& execute) {
  JobSchedule schedule(graph);
  JobRunReport report;
  report.policy = policy;
  // For a job that must be skipped: the failed job that caused it.
  std::vector<std::optional<JobId>> blocked_by(graph.size());
  std::vector<ReasonCode> failed_with(graph.size(), ReasonCode::ok);

  while (const auto next = schedule.pop()) {
    const JobId id = *next;
    const JobKey& key = graph.key(id);
    JobOutcome outcome{key.name(), JobStatus::ok, ReasonCode::ok, {}};
    std::optional<JobId> cause = blocked_by[id];
    if (cause) {
      outcome.status = JobStatus::skipped;
      outcome.reason = failed_with[*cause];
      outcome.cause = graph.key(*cause).name();
    } else {
      ReasonCode code = ReasonCode::ok;
      std::string detail;
      try {
        code = execute(key);
      } catch (const Error& e) {
        if (policy == FailurePolicy::strict) {
          throw JobGraphError(Kind::job_failed, e.code(),
                              "job failed: " + key.name() + ": " +
                                  std::string(to_string(e.code())) + " (" + e.what() + ")");
        }
        code = e.code();
      }
      schedule.record_executed(id);
      if (code != ReasonCode::ok) {
        if (policy == FailurePolicy::strict) {
          throw JobGraphError(Kind::job_failed, code,
                              "job failed: " + key.name() + ": " + std::string(to_string(code)));
        }
        outcome.status = JobStatus::failed;
        outcome.reason = code;
        failed_with[id] = code;
        cause = id;
      }
    }
    if (cause) {
      report.degraded = true;
      for (const JobId d : graph.dependants(id)) {
        if (!blocked_by[d]) blocked_by[d] = cause;
      }
    }
    report.outcomes.push_back(std::move(outcome));
    schedule.complete(id);
  }
  report.telemetry = schedule.telemetry();
  return report;
}

}  // namespace clgauge
