#include <gtest/gtest.h>

#include "bad_input.hpp"
#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/random.hpp"
#include "clgauge/space.hpp"
#include "scheduler/golden.hpp"

namespace clgauge {
namespace {

using test::bad_input_of;
using test::expect_golden;
using test::scheduler_data;

TEST(SchedulerPlan, ShapeParsing) {
  EXPECT_EQ(parse_shape("7x13x31"), "7x13x31");
  EXPECT_EQ(parse_shape_list("64x64x64,1x2x3"), (std::vector<std::string>{"64x64x64", "1x2x3"}));
  EXPECT_EQ(bad_input_of([] { parse_shape("7x13"); }), "--shapes: '7x13': expected <m>x<n>x<k>");
  EXPECT_EQ(bad_input_of([] { parse_shape("7x013x1"); }),
            "--shapes: '7x013x1': n '013' must be positive, without leading zeros");
  EXPECT_EQ(bad_input_of([] { parse_shape("7x-1x1"); }),
            "--shapes: '7x-1x1': n '-1' is not a positive integer");
  EXPECT_EQ(bad_input_of([] { parse_shape("7x1x1x1"); }),
            "--shapes: '7x1x1x1': k '1x1' is not a positive integer");
  EXPECT_EQ(bad_input_of([] { parse_shape_list("1x1x1,,2x2x2"); }), "--shapes[1]: '': empty shape");
  EXPECT_EQ(bad_input_of([] { parse_shape_list("1x1x1,2x2x2,1x1x1"); }),
            "--shapes[2]: '1x1x1': shape listed twice");
}

TEST(SchedulerPlan, EntriesAreRankThenShapeThenSessionThenRun) {
  const auto p =
      ReplayPlan::make({"00000000000000aa", "00000000000000bb"}, {"8x8x8", "4x4x4"}, 2, 3, 7);
  ASSERT_EQ(p.entries.size(), 2u * 2u * 2u * 3u);
  const auto& e = p.entries[1 * 12 + 1 * 6 + 1 * 3 + 2];  // rank 1, shape 4x4x4, s1, r2
  EXPECT_EQ(e.rank, 1u);
  EXPECT_EQ(e.config_id, "00000000000000bb");
  EXPECT_EQ(e.shape, "4x4x4");
  EXPECT_EQ(e.session, 1u);
  EXPECT_EQ(e.run, 2u);
  EXPECT_EQ(e.tag, "00000000000000bb_s1_r2");
  EXPECT_EQ(e.seed, xxh3_64("7/replay/00000000000000bb/4x4x4/1/2"));
  EXPECT_EQ(e.seed, derive_seed(7, "replay", "00000000000000bb", "4x4x4", 1, 2));
}

TEST(SchedulerPlan, SmallSpacePlanBytesAndHashMatchGolden) {
  CompiledSpace space(ParameterSpace::load(scheduler_data("small_space.json")),
                      DeviceLimits::load(scheduler_data("small_limits.json")));
  std::vector<std::string> top;
  for (const auto& c : space.candidates()) {
    if (top.size() < 3) top.push_back(c.id);
  }
  const auto plan = ReplayPlan::make(top, {"64x64x64", "7x13x31"}, 2, 2, 42);
  expect_golden("small_space_plan.json", plan.canonical_json() + "\n");
  expect_golden("small_space_plan_hash.txt", hex16(plan.hash()) + "\n");
  EXPECT_EQ(plan.hash(), xxh3_64(plan.canonical_json()));
  EXPECT_EQ(ReplayPlan::make(top, {"64x64x64", "7x13x31"}, 2, 2, 42), plan);
  EXPECT_NE(ReplayPlan::make(top, {"64x64x64", "7x13x31"}, 2, 2, 43).hash(), plan.hash());
}

TEST(SchedulerPlan, BadPlans) {
  EXPECT_EQ(bad_input_of([] { ReplayPlan::make({"a"}, {"1x1x1"}, 0, 1, 1); }),
            "replay plan: sessions must be at least 1");
  EXPECT_EQ(bad_input_of([] { ReplayPlan::make({"a"}, {"1x1x1"}, 1, 0, 1); }),
            "replay plan: runs must be at least 1");
  EXPECT_EQ(bad_input_of([] { ReplayPlan::make({"a"}, {}, 1, 1, 1); }), "replay plan: no shapes");
  EXPECT_EQ(bad_input_of([] {
              ReplayPlan::make({"a", "b", "a"}, {"1x1x1"}, 1, 1, 1);
            }),
            "replay plan: config id a at rank 2 repeats rank 0");
}

}  // namespace
}  // namespace clgauge
