#pragma once
// The job scheduler: tuning and parity work as a graph of jobs (build -> verify -> time
// -> replay, per config and shape), run in an order that is a pure function of the graph.
//
// - Each job counts its unfinished dependencies with multiplicity (a job that depends
//   twice on another waits for two completions' worth: the edge is counted twice and
//   released twice). Counts are snapshotted before anything runs.
// - The ready queue is ordered by JobKey: (phase, rank, config id, shape).
// - Telemetry is a value: execution order and its hash, pushes, pops, max queue length,
//   the dependency snapshot.
// - strict: the first failed job ends the run with JobGraphError(job_failed).
//   hardened: a failed job is recorded with its reason code, everything that depends on
//   it (transitively) is skipped, the rest runs, and the report says degraded = true.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clgauge/error.hpp"

namespace clgauge {

enum class JobPhase : std::uint8_t { build, verify, time, replay };
std::string_view to_string(JobPhase phase);

struct JobKey {
  JobPhase phase = JobPhase::build;
  std::uint64_t rank = 0;  // the config's rank in the plan
  std::string config_id;
  std::string shape;  // "<m>x<n>x<k>"; "" for a job that serves every shape (a build)

  // "<phase>/<rank>/<config id>/<shape>", e.g. "verify/0/0123456789abcdef/64x64x64".
  std::string name() const;
  // The ready-queue order: phase, then rank, then config id, then shape.
  auto operator<=>(const JobKey&) const = default;
  bool operator==(const JobKey&) const = default;
};

using JobId = std::size_t;  // insertion index into a JobGraph

// Errors of the job graph: a clgauge::Error whose kind() says which, and whose message
// names the job.
class JobGraphError : public Error {
 public:
  enum class Kind { duplicate_job, unknown_job, cycle, dependency_underflow, job_failed };
  JobGraphError(Kind kind, ReasonCode code, const std::string& message)
      : Error(code, message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};
std::string_view to_string(JobGraphError::Kind kind);

class JobGraph {
 public:
  // Throws JobGraphError(duplicate_job) when the key is already present.
  JobId add_job(JobKey key);
  // `job` waits for `prerequisite`; adding the same edge twice counts it twice.
  // Throws JobGraphError(unknown_job) naming a key that is not in the graph, and
  // JobGraphError(cycle) for a job that depends on itself.
  void add_dependency(const JobKey& job, const JobKey& prerequisite);
  void add_dependency(JobId job, JobId prerequisite);

  std::size_t size() const { return keys_.size(); }
  const JobKey& key(JobId id) const { return keys_.at(id); }
  std::optional<JobId> find(const JobKey& key) const;
  // Unfinished-dependency count before anything runs (with multiplicity).
  std::uint32_t dependency_count(JobId id) const { return dependency_counts_.at(id); }
  // Jobs waiting on `id`, one entry per edge, in the order the edges were added.
  std::span<const JobId> dependants(JobId id) const { return dependants_.at(id); }

  // The tuning graph for configs in rank order and shapes in declared order:
  //   build/<r>/<id>/ (one per config) -> verify/<r>/<id>/<shape> -> time/<r>/<id>/<shape>
  //   -> replay/<r>/<id>/<shape> (when with_replay).
  static JobGraph tuning(std::span<const std::string> ranked_config_ids,
                         std::span<const std::string> shapes, bool with_replay);

 private:
  std::vector<JobKey> keys_;
  std::vector<std::uint32_t> dependency_counts_;
  std::vector<std::vector<JobId>> dependants_;
  std::map<JobKey, JobId> index_;
};

struct SchedulerTelemetry {
  std::vector<std::string> execution_order;  // names of executed jobs, in order
  // XXH3-64 of the execution order: each name followed by '\n', concatenated.
  std::uint64_t order_hash = 0;
  std::uint64_t pushes = 0;
  std::uint64_t pops = 0;
  std::uint64_t max_queue_length = 0;
  // (job name, dependency count) before the run, in job insertion order.
  std::vector<std::pair<std::string, std::uint32_t>> dependency_snapshot;

  // Canonical JSON (ordered keys, no whitespace; hashes as 16 hex digits).
  std::string to_json() const;
  bool operator==(const SchedulerTelemetry&) const = default;
};

// One execution of a graph, a job at a time: pop() the next ready job, then complete()
// it. run_jobs() drives this; tests and custom drivers may step it by hand. The graph
// must outlive the schedule.
class JobSchedule {
 public:
  // Snapshots the dependency counts and queues the jobs that have none. Throws
  // JobGraphError(cycle) naming the jobs on a cycle (so nothing would ever run them).
  explicit JobSchedule(const JobGraph& graph);

  // The smallest ready job by JobKey, or nullopt when none is ready.
  std::optional<JobId> pop();
  // Releases one count per edge from `job` to its dependants, queueing each that
  // reaches zero. Throws JobGraphError(dependency_underflow) naming the dependant whose
  // count would go below zero (e.g. a job completed twice).
  void complete(JobId job);
  // Records `job` as executed (its name joins the execution order).
  void record_executed(JobId job);

  // Telemetry so far; order_hash is computed on each call.
  SchedulerTelemetry telemetry() const;

 private:
  const JobGraph* graph_;
  std::vector<std::uint32_t> remaining_;
  std::map<JobKey, JobId> ready_;
  SchedulerTelemetry telemetry_;
  void push(JobId job);
};

enum class FailurePolicy { strict, hardened };
std::string_view to_string(FailurePolicy policy);

enum class JobStatus { ok, failed, skipped };
std::string_view to_string(JobStatus status);

struct JobOutcome {
  std::string job;  // name
  JobStatus status = JobStatus::ok;
  ReasonCode reason = ReasonCode::ok;  // failed: the job's code; skipped: its cause's code
  std::string cause;                   // skipped: the failed job that caused the skip
  bool operator==(const JobOutcome&) const = default;
};

struct JobRunReport {
  FailurePolicy policy = FailurePolicy::strict;
  SchedulerTelemetry telemetry;
  std::vector<JobOutcome> outcomes;  // every job, in pop order
  bool degraded = false;             // hardened mode failed or skipped some job

  std::string to_json() const;  // canonical JSON, ordered keys, no whitespace
  bool operator==(const JobRunReport&) const = default;
};

// Runs one job: returns ReasonCode::ok, or the code it failed with. In hardened mode a
// clgauge::Error thrown by the executor counts as a failure with that error's code.
using JobExecutor = std::function<ReasonCode(const JobKey& job)>;

// Runs every job of `graph` in ready-queue order. Strict mode throws
// JobGraphError(job_failed, <the job's code>) naming the first failed job.
JobRunReport run_jobs(const JobGraph& graph, FailurePolicy policy, const JobExecutor& execute);

}  // namespace clgauge
