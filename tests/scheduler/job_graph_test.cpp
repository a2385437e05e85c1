#include <gtest/gtest.h>

#include <filesystem>

#include "clgauge/hash.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/scheduler.hpp"
#include "clgauge/space.hpp"
#include "scheduler/golden.hpp"

namespace clgauge {
namespace {

using test::expect_golden;

const std::vector<std::string> kIds = {"00000000000000bb", "00000000000000aa"};  // rank order
const std::vector<std::string> kShapes = {"64x64x64", "7x13x31"};

template <class F>
JobGraphError graph_error_of(F&& f) {
  try {
    f();
  } catch (const JobGraphError& e) {
    return e;
  }
  ADD_FAILURE() << "no JobGraphError thrown";
  return JobGraphError(JobGraphError::Kind::job_failed, ReasonCode::internal, "none");
}

TEST(SchedulerJobGraph, TuningGraphShape) {
  const auto g = JobGraph::tuning(kIds, kShapes, true);
  EXPECT_EQ(g.size(), 2u * (1 + 3 * 2));
  const auto verify = g.find({JobPhase::verify, 1, kIds[1], "7x13x31"});
  ASSERT_TRUE(verify);
  EXPECT_EQ(g.dependency_count(*verify), 1u);
  const auto build = g.find({JobPhase::build, 1, kIds[1], ""});
  ASSERT_TRUE(build);
  EXPECT_EQ(g.dependants(*build).size(), 2u);
  EXPECT_EQ(g.key(*verify).name(), "verify/1/00000000000000aa/7x13x31");
}

TEST(SchedulerJobGraph, StrictRunOrderAndTelemetryMatchGolden) {
  const auto g = JobGraph::tuning(kIds, kShapes, true);
  std::vector<std::string> executed;
  const auto report = run_jobs(g, FailurePolicy::strict, [&](const JobKey& k) {
    executed.push_back(k.name());
    return ReasonCode::ok;
  });
  EXPECT_FALSE(report.degraded);
  EXPECT_EQ(report.telemetry.execution_order, executed);
  EXPECT_EQ(report.telemetry.pops, g.size());
  EXPECT_EQ(report.telemetry.pushes, g.size());
  std::string joined;
  for (const auto& n : executed) joined += n + "\n";
  EXPECT_EQ(report.telemetry.order_hash, xxh3_64(joined));
  expect_golden("job_graph_strict.json", report.to_json() + "\n");
  // Same graph, same order, every time.
  EXPECT_EQ(run_jobs(g, FailurePolicy::strict, [](const JobKey&) { return ReasonCode::ok; }),
            report);
}

TEST(SchedulerJobGraph, OrderIsIndependentOfInsertionOrder) {
  const auto g = JobGraph::tuning(kIds, kShapes, true);
  JobGraph reversed;
  for (JobId id = g.size(); id-- > 0;) reversed.add_job(g.key(id));
  for (JobId id = 0; id < g.size(); ++id) {
    for (const JobId d : g.dependants(id)) reversed.add_dependency(g.key(d), g.key(id));
  }
  const auto ok = [](const JobKey&) { return ReasonCode::ok; };
  EXPECT_EQ(run_jobs(reversed, FailurePolicy::strict, ok).telemetry.execution_order,
            run_jobs(g, FailurePolicy::strict, ok).telemetry.execution_order);
}

TEST(SchedulerJobGraph, HardenedSkipsDependantsAndSaysSo) {
  const auto g = JobGraph::tuning(kIds, kShapes, true);
  const auto report = run_jobs(g, FailurePolicy::hardened, [](const JobKey& k) {
    if (k.phase == JobPhase::verify && k.rank == 0 && k.shape == "7x13x31") {
      return ReasonCode::parity_mismatch;
    }
    if (k.phase == JobPhase::build && k.rank == 1) throw Error(ReasonCode::build_failed, "log");
    return ReasonCode::ok;
  });
  EXPECT_TRUE(report.degraded);
  expect_golden("job_graph_hardened.json", report.to_json() + "\n");
  int failed = 0, skipped = 0;
  for (const auto& o : report.outcomes) {
    failed += o.status == JobStatus::failed;
    skipped += o.status == JobStatus::skipped;
    if (o.job == "replay/0/00000000000000bb/7x13x31") {
      EXPECT_EQ(o.status, JobStatus::skipped);
      EXPECT_EQ(o.reason, ReasonCode::parity_mismatch);
      EXPECT_EQ(o.cause, "verify/0/00000000000000bb/7x13x31");
    }
  }
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(skipped, 2 + 6);  // time+replay of one shape; everything after build of rank 1
  EXPECT_EQ(report.outcomes.size(), g.size());
  EXPECT_EQ(report.telemetry.execution_order.size(), g.size() - 8);
}

TEST(SchedulerJobGraph, StrictFailsClosedOnTheFirstFailure) {
  const auto g = JobGraph::tuning(kIds, kShapes, false);
  int ran = 0;
  const auto e = graph_error_of([&] {
    run_jobs(g, FailurePolicy::strict, [&](const JobKey& k) {
      ++ran;
      return k.phase == JobPhase::verify ? ReasonCode::timeout : ReasonCode::ok;
    });
  });
  EXPECT_EQ(e.kind(), JobGraphError::Kind::job_failed);
  EXPECT_EQ(e.code(), ReasonCode::timeout);
  EXPECT_STREQ(e.what(), "job failed: verify/0/00000000000000bb/64x64x64: timeout");
  EXPECT_EQ(ran, 3);  // both builds, then the first verify
  const auto thrown = graph_error_of([&] {
    run_jobs(g, FailurePolicy::strict,
             [](const JobKey&) -> ReasonCode { throw Error(ReasonCode::build_failed, "no"); });
  });
  EXPECT_EQ(thrown.code(), ReasonCode::build_failed);
  EXPECT_STREQ(thrown.what(), "job failed: build/0/00000000000000bb/: build_failed (no)");
}

TEST(SchedulerJobGraph, MultiplicityIsCounted) {
  JobGraph g;
  const JobId a = g.add_job({JobPhase::build, 0, "a", ""});
  const JobId b = g.add_job({JobPhase::verify, 0, "a", "1x1x1"});
  g.add_dependency(b, a);
  g.add_dependency(b, a);
  EXPECT_EQ(g.dependency_count(b), 2u);
  const auto r = run_jobs(g, FailurePolicy::strict, [](const JobKey&) { return ReasonCode::ok; });
  EXPECT_EQ(r.telemetry.dependency_snapshot[1].second, 2u);
  EXPECT_EQ(r.telemetry.execution_order.size(), 2u);
  EXPECT_EQ(r.telemetry.max_queue_length, 1u);
}

TEST(SchedulerJobGraphErrors, DuplicateAndUnknownJobs) {
  JobGraph g;
  g.add_job({JobPhase::build, 0, "a", ""});
  auto e = graph_error_of([&] { g.add_job({JobPhase::build, 0, "a", ""}); });
  EXPECT_EQ(e.kind(), JobGraphError::Kind::duplicate_job);
  EXPECT_STREQ(e.what(), "duplicate job: build/0/a/ is already in the graph");
  e = graph_error_of([&] {
    g.add_dependency(JobKey{JobPhase::time, 0, "a", "1x1x1"}, JobKey{JobPhase::build, 0, "a", ""});
  });
  EXPECT_EQ(e.kind(), JobGraphError::Kind::unknown_job);
  EXPECT_EQ(e.code(), ReasonCode::bad_input);
  EXPECT_STREQ(e.what(), "unknown job: time/0/a/1x1x1 (adding its dependency on build/0/a/)");
  e = graph_error_of([&] {
    g.add_dependency(JobKey{JobPhase::build, 0, "a", ""}, JobKey{JobPhase::build, 9, "z", ""});
  });
  EXPECT_STREQ(e.what(), "unknown job: build/9/z/ (named as a dependency of build/0/a/)");
}

TEST(SchedulerJobGraphErrors, Cycle) {
  JobGraph g;
  const JobId a = g.add_job({JobPhase::build, 0, "a", ""});
  const JobId b = g.add_job({JobPhase::verify, 0, "a", "1x1x1"});
  const JobId c = g.add_job({JobPhase::time, 0, "a", "1x1x1"});
  g.add_job({JobPhase::build, 1, "free", ""});
  g.add_dependency(b, a);
  g.add_dependency(c, b);
  g.add_dependency(a, c);
  auto e = graph_error_of([&] { JobSchedule s(g); });
  EXPECT_EQ(e.kind(), JobGraphError::Kind::cycle);
  EXPECT_STREQ(e.what(),
               "dependency cycle: build/0/a/ <- time/0/a/1x1x1 <- verify/0/a/1x1x1 <- build/0/a/ "
               "(3 jobs can never run)");
  e = graph_error_of([&] { g.add_dependency(a, a); });
  EXPECT_STREQ(e.what(), "dependency cycle: build/0/a/ depends on itself");
  e = graph_error_of(
      [&] { run_jobs(g, FailurePolicy::hardened, [](const JobKey&) { return ReasonCode::ok; }); });
  EXPECT_EQ(e.kind(), JobGraphError::Kind::cycle);
}

TEST(SchedulerJobGraphErrors, DependencyUnderflow) {
  JobGraph g;
  const JobId a = g.add_job({JobPhase::build, 0, "a", ""});
  const JobId b = g.add_job({JobPhase::verify, 0, "a", "1x1x1"});
  g.add_dependency(b, a);
  JobSchedule s(g);
  EXPECT_EQ(s.pop(), a);
  s.complete(a);
  const auto e = graph_error_of([&] { s.complete(a); });  // completed twice
  EXPECT_EQ(e.kind(), JobGraphError::Kind::dependency_underflow);
  EXPECT_EQ(e.code(), ReasonCode::internal);
  EXPECT_STREQ(e.what(),
               "dependency underflow: verify/0/a/1x1x1 has no unfinished dependency left to "
               "release (by build/0/a/)");
  EXPECT_EQ(s.pop(), b);
  EXPECT_EQ(s.pop(), std::nullopt);
}

}  // namespace
}  // namespace clgauge

namespace clgauge {
namespace {

// The job-graph example of docs/usage.md ("Job graph"), kept compiling and running.
TEST(SchedulerApi, DocumentedExample) {
  auto limits = DeviceLimits::load(std::filesystem::path(CLGAUGE_SOURCE_DIR) / "tuning" / "limits" /
                                   "example_gpu.json");
  CompiledSpace space = compile_space(find_space_file("regtile_basic"), limits);

  std::uint64_t n = space.count();
  auto mine = space.candidates(Shard::parse("1/4"));
  std::uint64_t visited = 0;
  space.for_each([&](std::uint64_t, std::span<const std::int64_t>) {
    ++visited;
    return true;
  });
  EXPECT_EQ(visited, n);
  EXPECT_EQ(mine.size(), (Shard{1, 4}.size_of(n)));

  std::vector<std::string> top = {mine[0].id, mine[1].id};
  ReplayPlan plan = ReplayPlan::make(top, {"1024x1024x1024"}, 3, 5, 42);
  EXPECT_EQ(hex16(plan.hash()).size(), 16u);
  EXPECT_EQ(plan.entries.size(), 2u * 3u * 5u);

  JobGraph graph = JobGraph::tuning(top, plan.shapes, true);
  JobRunReport report =
      run_jobs(graph, FailurePolicy::hardened, [](const JobKey&) { return ReasonCode::ok; });
  EXPECT_FALSE(report.degraded);
  EXPECT_EQ(report.outcomes.size(), graph.size());
}

}  // namespace
}  // namespace clgauge
