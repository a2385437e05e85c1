// Class 4: counts are exact or refused with the limit named; enumeration work and
// plan sizes are bounded before anything is allocated.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "clgauge/error.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/space.hpp"
#include "hardening/hardening_util.hpp"

namespace clgauge {
namespace {

// `params` parameters of `values` values each, one constraint on the last one.
std::string space_json(int params, int values, const std::string& constraint = "") {
  std::string s = "{\"family\":\"f\",\"parameters\":[";
  for (int p = 0; p < params; ++p) {
    s += (p ? ",{\"name\":\"P" : "{\"name\":\"P") + std::to_string(p) + "\",\"values\":[";
    for (int v = 0; v < values; ++v) s += (v ? "," : "") + std::to_string(v);
    s += "]}";
  }
  s += "]";
  if (!constraint.empty()) s += ",\"constraints\":[\"" + constraint + "\"]";
  return s + "}";
}

DeviceLimits limits() {
  DeviceLimits l;
  l.max_wg_size = 256;
  return l;
}

TEST(HardeningCounts, RawSizeIsExactOrRefused) {
  // 2^63 and 2^64 - 1 ... 2^64 boundaries: 63 parameters of 2 values is exact.
  EXPECT_EQ(ParameterSpace::parse(space_json(63, 2), "s").raw_size(), std::uint64_t{1} << 63);
  for (const auto& [params, values] : {std::pair{70, 2}, std::pair{64, 2}, std::pair{21, 10}}) {
    try {
      (void)ParameterSpace::parse(space_json(params, values), "s.json");
      FAIL() << params << "x" << values;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ReasonCode::bad_input);
      EXPECT_NE(std::string(e.what()).find("18446744073709551615"), std::string::npos);
    }
  }
}

TEST(HardeningCounts, EnumerationStopsAtTheWorkLimit) {
  // 10^12 raw combinations; the constraint names the last parameter, so nothing is
  // multiplied out and the walk would take days.
  CompiledSpace space(ParameterSpace::parse(space_json(12, 10, "P11 >= 0"), "big.json"), limits());
  space.set_work_limit(2'000'000);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    (void)space.count();
    FAIL() << "expected the work limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("work limit"), std::string::npos) << e.what();
  }
  EXPECT_THROW(space.candidates(), Error);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  // Below the limit the count is unchanged (and exact).
  CompiledSpace ok(ParameterSpace::parse(space_json(3, 10, "P2 % 2 == 0"), "ok.json"), limits());
  ok.set_work_limit(2'000'000);
  EXPECT_EQ(ok.count(), 500u);
  EXPECT_EQ(ok.count(), 500u);  // the budget is per walk
}

TEST(HardeningCounts, ReplayPlanSizeIsCheckedBeforeAllocation) {
  try {
    (void)ReplayPlan::make({"a", "b"}, {"8x8x8"}, 3, 99'999'999'999ULL, 42);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("--replay-runs"), std::string::npos) << e.what();
  }
  // A product that wraps 64 bits is refused too, not reduced modulo 2^64.
  EXPECT_THROW(ReplayPlan::make({"a"}, {"8x8x8"}, 1ULL << 32, 1ULL << 32, 42), Error);
  EXPECT_EQ(ReplayPlan::make({"a"}, {"8x8x8"}, 2, 3, 42).entries.size(), 6u);
}

TEST(HardeningCounts, PlanCliRefusesHugeRawSpacesAndPlans) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto huge = dir / ("clgauge-huge-" + std::to_string(::getpid()) + ".json");
  std::ofstream(huge) << space_json(70, 2);
  const std::string limits_file =
      std::string(CLGAUGE_SOURCE_DIR) + "/tuning/limits/example_gpu.json";
  EXPECT_TRUE(test::is_user_error(
      test::run_cli({"plan", "--space", huge.string(), "--device-limits", limits_file, "--count"}),
      "plan", "18446744073709551615"));
  std::ofstream(huge, std::ios::trunc) << space_json(12, 10, "P11 >= 0");
  EXPECT_TRUE(
      test::is_user_error(test::run_cli({"plan", "--space", huge.string(), "--device-limits",
                                         limits_file, "--count", "--max-work", "100000"}),
                          "plan", "work limit"));
  EXPECT_TRUE(test::is_user_error(
      test::run_cli({"plan", "--space", "regtile_basic", "--device-limits", limits_file, "--top-k",
                     "2", "--replay-runs", "99999999999"}),
      "plan", "limit of 1000000 entries"));
  std::filesystem::remove(huge);
}

}  // namespace
}  // namespace clgauge
