// Class 3 (nesting depth and bounded messages) and class 6 (strict JSON output).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "clgauge/device_limits.hpp"
#include "clgauge/error.hpp"
#include "clgauge/propagate.hpp"
#include "clgauge/space.hpp"
#include "runtime/json_io.hpp"

namespace clgauge {
namespace {

std::string deep(std::size_t levels, const std::string& open = "[",
                 const std::string& close = "]") {
  std::string s;
  for (std::size_t i = 0; i < levels; ++i) s += open;
  for (std::size_t i = 0; i < levels; ++i) s += close;
  return s;
}

template <class F>
std::string bad_input_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(HardeningJson, EveryReaderRefusesDeepNestingWithABoundedMessage) {
  const std::string arrays = deep(100'000);
  const std::string in_field = "{\"family\":" + deep(100'000) + "}";
  const std::string objects = deep(100'000, "{\"a\":", "}");
  for (const std::string* text : {&arrays, &in_field, &objects}) {
    for (const auto& m : {bad_input_message([&] { (void)ParameterSpace::parse(*text, "s.json"); }),
                          bad_input_message([&] { (void)DeviceLimits::parse(*text, "l.json"); }),
                          bad_input_message([&] { (void)graph_from_json(*text); }),
                          bad_input_message([&] { (void)seeds_from_json(*text); })}) {
      EXPECT_NE(m.find("nested deeper than 64 levels"), std::string::npos) << m.substr(0, 200);
      EXPECT_LT(m.size(), 200u);
    }
  }
  // Brackets inside strings do not count, and 64 levels are fine.
  EXPECT_NO_THROW(io::parse_json("[\"" + std::string(1000, '[') + "\"]", "x"));
  EXPECT_NO_THROW(io::parse_json(deep(64), "x"));
  EXPECT_THROW(io::parse_json(deep(65), "x"), Error);
}

// Found by fuzzing (limits, graph_json): a number that overflows a double made nlohmann
// throw out_of_range, which escaped every reader as "unexpected error" (exit 1).
TEST(HardeningJson, NumbersThatOverflowAreBadInput) {
  for (const std::string text :
       {"{\"max_wg_size\": 6e1073}", "{\"indptr\": [1e400]}", "[-1e999]"}) {
    EXPECT_NE(bad_input_message([&] {
                (void)DeviceLimits::parse(text, "l.json");
              }).find("l.json: malformed JSON"),
              std::string::npos);
    EXPECT_NE(bad_input_message([&] { (void)graph_from_json(text); }).find("not valid JSON"),
              std::string::npos);
    EXPECT_NE(bad_input_message([&] { (void)seeds_from_json(text); }).find("not valid JSON"),
              std::string::npos);
    EXPECT_NE(bad_input_message([&] {
                (void)ParameterSpace::parse(text, "s.json");
              }).find("number overflow"),
              std::string::npos);
  }
}

TEST(HardeningJson, LargeValuesAreNeverDumpedIntoMessages) {
  std::string big = "[";
  for (int i = 0; i < 100'000; ++i) big += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  big += "]";
  const auto m =
      bad_input_message([&] { (void)ParameterSpace::parse("{\"family\":" + big + "}", "s.json"); });
  EXPECT_LT(m.size(), 200u) << m.substr(0, 300);
  const auto g = bad_input_message([&] { (void)graph_from_json("{\"indptr\":[" + big + "]}"); });
  EXPECT_LT(g.size(), 300u) << g.substr(0, 300);
}

TEST(HardeningJson, NonFiniteNumbersAreWrittenAsNull) {
  EXPECT_EQ(io::json_number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(io::json_number(-std::numeric_limits<float>::infinity()), "null");
  EXPECT_EQ(io::json_number(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(io::json_number(0.1), "0.10000000000000001");
  EXPECT_EQ(io::json_number(1.5f), "1.5");
  PropagateResult r;
  r.d_nodes = {0, 1, 2};
  r.d_vals = {1.0f, std::numeric_limits<float>::infinity(), std::nanf("")};
  r.metrics.max_delta_local = std::numeric_limits<float>::infinity();
  const auto j = nlohmann::json::parse(to_json(r));  // strict parser: throws on inf/nan
  EXPECT_TRUE(j["d_vals"][1].is_null());
  EXPECT_TRUE(j["d_vals"][2].is_null());
  EXPECT_TRUE(j["metrics"]["max_delta_local"].is_null());
  Seeds s;
  s.nodes = {0};
  s.weights = {std::numeric_limits<float>::infinity()};
  const auto seeds_json = nlohmann::json::parse(seeds_to_json(s));
  EXPECT_TRUE(seeds_json["seed_weights"][0].is_null());
}

}  // namespace
}  // namespace clgauge
