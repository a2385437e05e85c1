// clgauge bench without a device: the interleaving order and stopping rule of the loop,
// request validation, and the command line's bad input (one line, exit 2, nothing run).

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "clgauge/bench.hpp"
#include "cli/cli_test_util.hpp"

namespace clgauge {
namespace {

using test::run_cli;

// Launch functions that record the order they are called in, with constant timings.
std::vector<LaunchFn> recorders(std::vector<int>& calls, std::size_t n, double ms = 1.0) {
  std::vector<LaunchFn> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back([&calls, i, ms] {
      calls.push_back(static_cast<int>(i));
      return LaunchTiming{ms, ms, ms, 0};
    });
  }
  return out;
}

TEST(BenchLoop, InterleavesWarmupThenRounds) {
  std::vector<int> calls;
  const auto fns = recorders(calls, 3);
  BenchLoopOptions o;
  o.warmup = 1;
  o.min_runs = o.max_runs = 3;
  const BenchLoopResult r = run_interleaved(fns, o);
  // A B C (warm-up, not counted), then A B C three times.
  EXPECT_EQ(calls, (std::vector<int>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(r.rounds, 3u);
  for (const auto& t : r.timings) EXPECT_EQ(t.size(), 3u);
}

TEST(BenchLoop, StopsWhenEveryCiMeetsTheTarget) {
  // Constant timings: the CI has zero width, so the loop stops at min_runs (6, the fewest with
  // an exact 95% interval), long before max_runs.
  std::vector<int> calls;
  const auto fns = recorders(calls, 2);
  BenchLoopOptions o;
  o.warmup = 0;
  o.min_runs = 6;
  o.max_runs = 50;
  const BenchLoopResult r = run_interleaved(fns, o);
  EXPECT_EQ(r.rounds, 6u);
  EXPECT_TRUE(r.converged);
  // With min_runs below 6 the interval is not exact yet: the loop goes on to 6.
  o.min_runs = 2;
  calls.clear();
  EXPECT_EQ(run_interleaved(fns, o).rounds, 6u);
}

TEST(BenchLoop, NoisyTimingsRunToMaxRuns) {
  // Alternating 1 ms and 2 ms: the median's CI never narrows to 2%.
  int n = 0;
  std::vector<LaunchFn> fns = {[&n] {
    const double ms = (n++ % 2) ? 1.0 : 2.0;
    return LaunchTiming{ms, ms, ms, 0};
  }};
  BenchLoopOptions o;
  o.warmup = 0;
  o.max_runs = 12;
  const BenchLoopResult r = run_interleaved(fns, o);
  EXPECT_EQ(r.rounds, 12u);
  EXPECT_FALSE(r.converged);
}

TEST(BenchLoop, HonorsMinTime) {
  std::vector<LaunchFn> fns = {[] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return LaunchTiming{1, 1, 1, 0};
  }};
  BenchLoopOptions o;
  o.warmup = 0;
  o.min_runs = 1;
  o.max_runs = 1000;
  o.min_time_s = 0.03;
  const BenchLoopResult r = run_interleaved(fns, o);
  EXPECT_GE(r.seconds, 0.03);
  EXPECT_TRUE(r.converged);
  EXPECT_LT(r.rounds, 1000u);
}

TEST(BenchLoop, AFailingContestantDropsOutAndTheOthersGoOn) {
  std::vector<int> calls;
  int b_calls = 0;
  std::vector<LaunchFn> fns = recorders(calls, 3);
  fns[1] = [&] {
    calls.push_back(1);
    if (++b_calls == 3) throw Error(ReasonCode::launch_failed, "B broke");
    return LaunchTiming{1, 1, 1, 0};
  };
  BenchLoopOptions o;
  o.warmup = 1;
  o.min_runs = o.max_runs = 4;
  const BenchLoopResult r = run_interleaved(fns, o);
  EXPECT_EQ(calls, (std::vector<int>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 2, 0, 2}));
  ASSERT_TRUE(r.failures[1].has_value());
  EXPECT_EQ(r.failures[1]->code(), ReasonCode::launch_failed);
  EXPECT_EQ(r.timings[1].size(), 1u);
  EXPECT_EQ(r.timings[0].size(), 4u);
  EXPECT_FALSE(r.failures[0].has_value());
}

BenchRequest good_request() {
  BenchRequest r;
  r.configs = {"default", "family:gemm.direct"};
  r.shapes = {GemmProblem{}};
  r.baselines = {"clblast"};
  return r;
}

std::string validate_error(const BenchRequest& r) {
  try {
    validate(r);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    return e.what();
  }
  return "";
}

TEST(BenchLoop, ValidateNamesTheField) {
  EXPECT_EQ(validate_error(good_request()), "");
  auto r = good_request();
  r.configs = {"family:gemm.nope"};
  EXPECT_NE(validate_error(r).find("family:gemm.nope"), std::string::npos);
  r = good_request();
  r.configs = {"fastest"};
  EXPECT_NE(validate_error(r).find("'fastest'"), std::string::npos);
  r = good_request();
  r.configs = {"family=gemm.direct;MR=1"};
  EXPECT_NE(validate_error(r).find("family=gemm.direct;MR=1"), std::string::npos);
  r = good_request();
  r.configs = {"default", "tuned", "default"};
  EXPECT_NE(validate_error(r).find("'default': given twice"), std::string::npos);
  r = good_request();
  r.shapes.clear();
  EXPECT_NE(validate_error(r).find("--shapes"), std::string::npos);
  r = good_request();
  r.max_runs = 0;
  EXPECT_NE(validate_error(r).find("--max-runs 0"), std::string::npos);
  for (double ci : {0.0, 100.0, -1.0, 250.0}) {
    r = good_request();
    r.target_ci_pct = ci;
    EXPECT_NE(validate_error(r).find("--target-ci"), std::string::npos) << ci;
  }
  r = good_request();
  r.baselines = {"mkl"};
  EXPECT_NE(validate_error(r).find("--vs 'mkl'"), std::string::npos);
  r = good_request();
  r.baselines = {"clblast", "clblast"};
  EXPECT_NE(validate_error(r).find("given twice"), std::string::npos);
  r = good_request();
  r.baselines = {"openblas"};
  r.clblast_params.push_back(ClblastParams{});
  EXPECT_NE(validate_error(r).find("--clblast-params needs --vs clblast"), std::string::npos);
}

// One line on stderr naming `needle`, exit 2, nothing on stdout.
void expect_bad(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> full = {"bench"};
  full.insert(full.end(), args.begin(), args.end());
  const auto r = run_cli(full);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(BenchCli, BadInputIsOneLineAndExitTwo) {
  expect_bad({"--configs", "family:gemm.nope"}, "family:gemm.nope");
  expect_bad({"--configs", "bogus", "--shapes", "64"}, "bogus");
  expect_bad({"--configs", "default,,tuned"}, "--configs");
  expect_bad({"--shapes", ""}, "--shapes");
  expect_bad({"--shapes", ","}, "--shapes");
  expect_bad({"--shapes", "64x0x3"}, "--shapes");
  expect_bad({"--max-runs", "0"}, "--max-runs");
  expect_bad({"--max-runs", "-3"}, "--max-runs");
  expect_bad({"--target-ci", "0"}, "--target-ci");
  expect_bad({"--target-ci", "100"}, "--target-ci");
  expect_bad({"--target-ci", "-5"}, "--target-ci");
  expect_bad({"--min-time", "-1"}, "--min-time");
  expect_bad({"--vs", "mkl"}, "mkl");
  expect_bad({"--layout", "diagonal"}, "diagonal");
  expect_bad({"--json", "--csv"}, "--json and --csv");
  expect_bad({"--clblast-params", "/nonexistent.json", "--vs", "clblast"}, "--clblast-params");
  const auto tmp =
      std::filesystem::temp_directory_path() / ("clgauge-bench-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  std::ofstream(tmp / "bad.json") << "{\"kernel_family\": \"xgemm_1\"";
  expect_bad({"--clblast-params", (tmp / "bad.json").string(), "--vs", "clblast"}, "bad.json");
  const std::string good =
      std::string(CLGAUGE_TEST_DATA_DIR) + "/benchmark/clblast_xgemm_1_32.json";
  expect_bad({"--clblast-params", good, "--vs", "openblas"}, "--clblast-params needs --vs clblast");
  expect_bad({"--plot", (tmp / "no" / "such" / "dir.png").string()}, "--plot");
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace clgauge
