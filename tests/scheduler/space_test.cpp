#include <gtest/gtest.h>

#include <set>
#include <string>

#include "clgauge/config_id.hpp"
#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/space.hpp"
#include "scheduler/golden.hpp"

namespace clgauge {
namespace {

using test::expect_golden;
using test::scheduler_data;

DeviceLimits small_limits() {
  return DeviceLimits::load(scheduler_data("small_limits.json"));
}

// The message of the Error that `f` throws (and its code), or "" when it throws nothing.
template <class F>
std::string error_of(F&& f, ReasonCode expected = ReasonCode::bad_input) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return {};
}

std::string space_error(const std::string& json) {
  return error_of([&] { CompiledSpace(ParameterSpace::parse(json, "t.json"), DeviceLimits{}); });
}

TEST(SchedulerConfigId, CanonicalStringAndHash) {
  const ConfigParams p = {{"MR", 6}, {"NR", 16}, {"VW", -8}};
  EXPECT_EQ(config_canonical("gemm.regtile", p), "family=gemm.regtile;MR=6;NR=16;VW=-8");
  EXPECT_EQ(config_id("gemm.regtile", p), hex16(xxh3_64("family=gemm.regtile;MR=6;NR=16;VW=-8")));
  const std::vector<std::string> names = {"MR", "NR", "VW"};
  const std::vector<std::int64_t> values = {6, 16, -8};
  EXPECT_EQ(config_id("gemm.regtile", names, values), config_id("gemm.regtile", p));
  // Pinned: a change here renames every config in every tuning database.
  EXPECT_EQ(config_id("gemm.regtile",
                      {{"MR", 6}, {"NR", 16}, {"VW", 8}, {"WGM", 1}, {"WGN", 16}, {"PACK_A", 1}}),
            hex16(xxh3_64("family=gemm.regtile;MR=6;NR=16;VW=8;WGM=1;WGN=16;PACK_A=1")));
}

TEST(SchedulerSpace, ParsesTheSmallSpace) {
  const auto s = ParameterSpace::load(scheduler_data("small_space.json"));
  EXPECT_EQ(s.family, "gemm.regtile");
  ASSERT_EQ(s.parameters.size(), 6u);
  EXPECT_EQ(s.parameters[2].name, "VW");
  EXPECT_EQ(s.parameters[2].values, (std::vector<std::int64_t>{4, 8}));
  EXPECT_EQ(s.raw_size(), 144u);
  EXPECT_EQ(s.constraints.size(), 5u);
  EXPECT_EQ(ParameterSpace::parse(s.to_json(), s.source), s);
}

TEST(SchedulerSpace, SmallSpaceCandidatesMatchGolden) {
  CompiledSpace space(ParameterSpace::load(scheduler_data("small_space.json")), small_limits());
  std::string text;
  for (const auto& c : space.candidates()) {
    text += std::to_string(c.index) + " " + c.id;
    for (const auto v : c.values) text += " " + std::to_string(v);
    text += "\n";
  }
  expect_golden("small_space_candidates.txt", text);
  EXPECT_EQ(space.count(), space.candidates().size());
}

TEST(SchedulerSpace, CheckLevelsAndUsedLimits) {
  CompiledSpace space(ParameterSpace::load(scheduler_data("small_space.json")), small_limits());
  EXPECT_EQ(space.check_level(0), 2);  // NR % VW: VW is parameter 2
  EXPECT_EQ(space.check_level(1), 2);
  EXPECT_EQ(space.check_level(2), 4);
  EXPECT_EQ(space.check_level(3), 4);
  EXPECT_EQ(space.check_level(4), 5);
  const auto used = space.used_limits();
  ASSERT_EQ(used.size(), 2u);
  EXPECT_EQ(used[0].first, "max_wg_size");
  EXPECT_EQ(used[1].first, "max_wi_size0");
}

TEST(SchedulerSpace, RemainderIsIntegerRemainderWithTheSignOfTheDividend) {
  const auto count = [](const std::string& constraint) {
    CompiledSpace s(
        ParameterSpace::parse(
            R"({"family":"f","parameters":[{"name":"A","values":[-7,7]},{"name":"B","values":[0,3]}],"constraints":[")" +
                constraint + R"("]})",
            "t.json"),
        DeviceLimits{});
    return s.count();
  };
  EXPECT_EQ(count("A % B == 1"), 1u);      // 7 % 3
  EXPECT_EQ(count("A % B == -1"), 1u);     // -7 % 3
  EXPECT_EQ(count("A % B == A % B"), 2u);  // x % 0 is NaN: never holds, never aborts
  EXPECT_EQ(count("2 * A % B == 2"), 1u);  // % binds like * and /, left to right
}

TEST(SchedulerSpace, LimitOnlyConstraintIsCheckedOnce) {
  DeviceLimits gpu;
  gpu.is_gpu = true;
  const std::string json =
      R"({"family":"f","parameters":[{"name":"A","values":[1,2,3]}],"constraints":["is_gpu"]})";
  EXPECT_EQ(CompiledSpace(ParameterSpace::parse(json, "t"), gpu).count(), 3u);
  EXPECT_EQ(CompiledSpace(ParameterSpace::parse(json, "t"), DeviceLimits{}).count(), 0u);
  CompiledSpace none(ParameterSpace::parse(json, "t"), DeviceLimits{});
  EXPECT_TRUE(none.candidates().empty());
}

TEST(SchedulerSpace, ForEachStopsWhenAsked) {
  CompiledSpace space(ParameterSpace::load(scheduler_data("small_space.json")), small_limits());
  std::uint64_t seen = 0;
  space.for_each([&](std::uint64_t, std::span<const std::int64_t>) { return ++seen < 3; });
  EXPECT_EQ(seen, 3u);
}

TEST(SchedulerSpace, ShippedSpacesCompileAndAreNonEmpty) {
  const auto gpu = DeviceLimits::load(std::filesystem::path(CLGAUGE_SOURCE_DIR) / "tuning" /
                                      "limits" / "example_gpu.json");
  EXPECT_TRUE(gpu.is_gpu);
  EXPECT_EQ(gpu.local_mem_bytes, 49152u);
  for (const char* name :
       {"regtile_basic", "regtile_extended", "localtile_basic", "localtile_extended"}) {
    auto space = compile_space(find_space_file(name), gpu);
    const auto n = space.count();
    EXPECT_GT(n, 0u) << name;
    if (std::string(name).find("basic") != std::string::npos) {
      EXPECT_LE(n, 40u) << name;
    }
  }
  // Pinned counts on the example limits (the README quotes them).
  EXPECT_EQ(compile_space(find_space_file("regtile_basic"), gpu).count(), 28u);
  EXPECT_EQ(compile_space(find_space_file("localtile_basic"), gpu).count(), 32u);
}

TEST(SchedulerSpace, FindSpaceFile) {
  EXPECT_EQ(find_space_file("regtile_basic").filename(), "regtile_basic.json");
  EXPECT_NE(
      error_of([] { find_space_file("no_such_space"); }).find("no space named 'no_such_space'"),
      std::string::npos);
  EXPECT_NE(error_of([] { find_space_file("/no/such/file.json"); }).find("no such file"),
            std::string::npos);
}

TEST(SchedulerSpace, ShardParseAndSize) {
  EXPECT_EQ(Shard::parse("2/5"), (Shard{2, 5}));
  EXPECT_EQ(Shard::parse("0/1").str(), "0/1");
  EXPECT_EQ((Shard{2, 5}.size_of(13)), 3u);  // 2, 7, 12
  EXPECT_EQ((Shard{2, 5}.size_of(2)), 0u);
  EXPECT_EQ((Shard{2, 5}.size_of(3)), 1u);
  EXPECT_EQ(error_of([] { Shard::parse("3/3"); }),
            "--shard: '3/3': shard index 3 must be below the shard count 3");
  EXPECT_EQ(error_of([] { Shard::parse("1/0"); }),
            "--shard: '1/0': shard count must be at least 1");
  EXPECT_EQ(error_of([] { Shard::parse("12"); }), "--shard: '12': expected i/N");
  EXPECT_EQ(error_of([] { Shard::parse("a/2"); }),
            "--shard: 'a/2': shard index 'a' is not a non-negative integer");
  EXPECT_EQ(error_of([] { Shard::parse("1/-2"); }),
            "--shard: '1/-2': shard count '-2' is not a non-negative integer");
}

TEST(SchedulerSpace, RandomOrderIsAPinnedPermutation) {
  const auto p = random_order(10, 42);
  std::string text;
  for (const auto i : p) text += std::to_string(i) + " ";
  expect_golden("random_order_10_seed42.txt", text + "\n");
  EXPECT_EQ(std::set<std::uint64_t>(p.begin(), p.end()).size(), 10u);
  EXPECT_EQ(random_order(10, 42), p);
  EXPECT_NE(random_order(10, 43), p);
  EXPECT_TRUE(random_order(0, 1).empty());
  EXPECT_EQ(random_order(1, 1), std::vector<std::uint64_t>{0});
  const auto big = random_order(1000, 7);
  EXPECT_EQ(std::set<std::uint64_t>(big.begin(), big.end()).size(), 1000u);
}

TEST(SchedulerSpace, InRandomOrderKeepsIndices) {
  CompiledSpace space(ParameterSpace::load(scheduler_data("small_space.json")), small_limits());
  const auto declared = space.candidates();
  const auto shuffled = in_random_order(declared, 42);
  ASSERT_EQ(shuffled.size(), declared.size());
  const auto perm = random_order(declared.size(), 42);
  for (std::size_t r = 0; r < perm.size(); ++r) EXPECT_EQ(shuffled[r], declared[perm[r]]);
}

// --- bad input: each error names the file, the field and the position -----------

TEST(SchedulerSpaceErrors, MalformedJson) {
  EXPECT_EQ(space_error("{\"family\": \"f\",\n \"parameters\": [}"),
            "t.json: malformed JSON at line 2, column 17 (byte 32): syntax error while parsing "
            "value - unexpected '}'; expected '[', '{', or a literal");
  EXPECT_NE(space_error("").find("t.json: malformed JSON at line 1, column 1"), std::string::npos);
}

TEST(SchedulerSpaceErrors, Structure) {
  EXPECT_EQ(space_error("[1]"), "t.json: top level: expected a JSON object");
  EXPECT_EQ(space_error(R"({"parameters":[{"name":"A","values":[1]}]})"),
            "t.json: family: missing");
  EXPECT_EQ(space_error(R"({"family":"","parameters":[{"name":"A","values":[1]}]})"),
            "t.json: family: \"\" is not a non-empty string");
  EXPECT_EQ(space_error(R"({"family":"f"})"), "t.json: parameters: missing");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[]})"),
            "t.json: parameters: empty parameter list");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"A","values":[1]}],"extra":1})"),
            "t.json: extra: unknown field (a space has family, description, parameters, "
            "constraints)");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"A","values":[1],"x":2}]})"),
            "t.json: parameters[0].x: unknown field (a parameter has name and values)");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"values":[1]}]})"),
            "t.json: parameters[0].name: missing");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"1A","values":[1]}]})"),
            "t.json: parameters[0].name: '1A' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"max_wg_size","values":[1]}]})"),
            "t.json: parameters[0].name: 'max_wg_size' is a device limit name");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"A"}]})"),
            "t.json: parameters[0].values: missing");
}

TEST(SchedulerSpaceErrors, EmptyValueList) {
  EXPECT_EQ(
      space_error(
          R"({"family":"f","parameters":[{"name":"A","values":[1]},{"name":"B","values":[]}]})"),
      "t.json: parameters[1].values: empty value list");
}

TEST(SchedulerSpaceErrors, DuplicateParameter) {
  EXPECT_EQ(
      space_error(
          R"({"family":"f","parameters":[{"name":"A","values":[1]},{"name":"B","values":[1]},{"name":"A","values":[2]}]})"),
      "t.json: parameters[2].name: duplicate parameter 'A' (first declared at "
      "parameters[0])");
}

TEST(SchedulerSpaceErrors, NonIntegerAndDuplicateValues) {
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"A","values":[1,4.5]}]})"),
            "t.json: parameters[0].values[1]: 4.5 is not an integer");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"A","values":[1,"2"]}]})"),
            "t.json: parameters[0].values[1]: \"2\" is not an integer");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"A","values":[1,true]}]})"),
            "t.json: parameters[0].values[1]: true is not an integer");
  EXPECT_EQ(
      space_error(R"({"family":"f","parameters":[{"name":"A","values":[9007199254740993]}]})"),
      "t.json: parameters[0].values[0]: 9007199254740993 is out of range (|value| <= 2^53)");
  EXPECT_EQ(space_error(R"({"family":"f","parameters":[{"name":"A","values":[3,1,3]}]})"),
            "t.json: parameters[0].values[2]: duplicate value 3 of A");
}

TEST(SchedulerSpaceErrors, UnknownNameInConstraint) {
  EXPECT_EQ(
      space_error(
          R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":["A > 0","A * NR <= max_wg_sise"]})"),
      "t.json: constraints[1], position 4: unknown name 'NR' (not a parameter or a device "
      "limit) in \"A * NR <= max_wg_sise\"");
}

TEST(SchedulerSpaceErrors, UnparsableConstraint) {
  EXPECT_EQ(
      space_error(
          R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":["A +* 2"]})"),
      "t.json: constraints[0], position 3: cannot parse: Unexpected operator \"*\" found at "
      "position 3 in \"A +* 2\"");
  EXPECT_NE(
      space_error(
          R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":["(A > 0"]})")
          .find("t.json: constraints[0], position 6: cannot parse: Missing parenthesis in \"(A > "
                "0\""),
      std::string::npos);
  EXPECT_EQ(
      space_error(
          R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":["A = 2"]})"),
      "t.json: constraints[0], position 2: assignment '=' is not allowed (compare with "
      "'==') in \"A = 2\"");
  EXPECT_EQ(
      space_error(R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":[" "]})"),
      "t.json: constraints[0]: empty constraint");
  EXPECT_EQ(
      space_error(R"({"family":"f","parameters":[{"name":"A","values":[1]}],"constraints":[3]})"),
      "t.json: constraints[0]: 3 is not a string");
}

TEST(SchedulerLimitsErrors, NamedFieldAndValue) {
  const auto limits_error = [](const std::string& json) {
    return error_of([&] { DeviceLimits::parse(json, "l.json"); });
  };
  const std::string ok =
      R"("local_mem_bytes":1,"max_wg_size":1,"max_wi_size0":1,"max_wi_size1":1,"max_wi_size2":1,"compute_units":1,"global_mem_bytes":1)";
  EXPECT_EQ(DeviceLimits::parse("{" + ok + R"(,"is_gpu":1,"is_cpu":false})", "l").is_gpu, true);
  EXPECT_EQ(limits_error("{" + ok + R"(,"is_gpu":true})"), "l.json: is_cpu: missing");
  EXPECT_EQ(limits_error("{" + ok + R"(,"is_gpu":2,"is_cpu":false})"),
            "l.json: is_gpu: 2 is not a boolean (true, false, 0 or 1)");
  EXPECT_EQ(limits_error(R"({"max_wg_size":-4})"), "l.json: max_wg_size: -4 is negative");
  EXPECT_EQ(limits_error(R"({"max_wg_size":1.5})"),
            "l.json: max_wg_size: 1.5 is not a non-negative integer");
  EXPECT_EQ(limits_error(R"({"max_wg":1})"),
            "l.json: max_wg: unknown field (limits are: local_mem_bytes, max_wg_size, "
            "max_wi_size0..2, compute_units, global_mem_bytes, is_gpu, is_cpu)");
  EXPECT_EQ(limits_error("{}"), "l.json: local_mem_bytes: missing");
  EXPECT_NE(limits_error("{,}").find("l.json: malformed JSON at line 1, column 2"),
            std::string::npos);
  EXPECT_EQ(DeviceLimits::parse(small_limits().to_json(), "x"), small_limits());
  // A missing input file is the user's mistake (exit 2), like a malformed one.
  error_of([] { DeviceLimits::load("/no/such/limits.json"); }, ReasonCode::bad_input);
}

}  // namespace
}  // namespace clgauge
