// Simulation: readers (Kernel Tuner cache plain and gzip, results store), bad input, the
// --simulate JSON shape and the repeat summary, and the CLI glue.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "clgauge/error.hpp"
#include "clgauge/search.hpp"
#include "cli/simulate.hpp"

namespace {

using namespace clgauge;
namespace fs = std::filesystem;

fs::path data(const std::string& name) {
  return fs::path(CLGAUGE_TEST_DATA_DIR) / "search" / name;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

fs::path temp_file(const std::string& name, const std::string& bytes) {
  const fs::path dir = fs::temp_directory_path() / "clgauge-search-test";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

// The Error a load raises: its code must be bad_input and its message must name the file and
// contain `field`.
void expect_bad(const fs::path& file, const std::string& field) {
  try {
    load_recorded_space(file);
    ADD_FAILURE() << file << " was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(field), std::string::npos) << msg << "  (wanted: " << field << ")";
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(SearchReaders, KernelTunerCachePlainAndGzipAgree) {
  const auto plain = load_recorded_space(data("toy_cache.json"));
  const auto gz = load_recorded_space(data("toy_cache.json.gz"));
  EXPECT_EQ(plain.format, "kernel-tuner-cache");
  EXPECT_EQ(plain.label, "toy on Test GPU");
  EXPECT_EQ(plain.space.names, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(plain.space.values[0], (std::vector<double>{1, 2, 4, 8}));
  ASSERT_EQ(plain.space.configs.size(), 22u);  // 24 combinations, 2 outside the constraints
  EXPECT_EQ(plain.valid(), 19u);               // 3 recorded failures
  EXPECT_EQ(plain.space.configs, gz.space.configs);
  EXPECT_EQ(plain.space.ids, gz.space.ids);
  EXPECT_EQ(plain.objective, gz.objective);
  EXPECT_EQ(plain.outcome, gz.outcome);
  EXPECT_EQ(plain.cost_s, gz.cost_s);
  // Enumeration order: lexicographic in value positions.
  for (std::size_t i = 1; i < plain.space.configs.size(); ++i) {
    EXPECT_LT(plain.space.configs[i - 1], plain.space.configs[i]);
  }
  // Config 0 is A=1, B=16, C=0: time 1.0 + 0.3*2 + 0.2*1 + 0.01 = 1.81; cost (100 + 0 + 3t) ms.
  EXPECT_EQ(plain.space.configs[0], (std::vector<std::uint32_t>{0, 0, 0}));
  EXPECT_DOUBLE_EQ(*plain.objective[0], 1.81);
  EXPECT_DOUBLE_EQ(*plain.cost_s[0], (100 + 3 * 1.81) / 1000);
  std::size_t compile = 0, runtime = 0;
  for (const auto& o : plain.outcome) {
    compile += o == "CompilationFailedConfig";
    runtime += o == "RuntimeFailedConfig";
  }
  EXPECT_EQ(compile, 2u);
  EXPECT_EQ(runtime, 1u);
  EXPECT_EQ(plain.space.ids[0].size(), 16u);
}

TEST(SearchReaders, ShippedRecordingsLoad) {
  const auto p = load_recorded_space(data("kt/kt-cache-pnpoly-rtx3090.json.gz"));
  EXPECT_EQ(p.space.configs.size(), 4092u);
  EXPECT_EQ(p.valid(), 3774u);
  EXPECT_NEAR(*p.optimum(), 8.71424, 1e-5);
}

TEST(SearchReaders, ResultsStore) {
  const auto rs = load_recorded_space(data("toy_store.sqlite"));
  EXPECT_EQ(rs.format, "clgauge-results-store");
  EXPECT_EQ(rs.label, "gemm.regtile 64x64x64");  // the shape with the most search rows
  EXPECT_EQ(rs.space.names, (std::vector<std::string>{"MR", "NR"}));
  EXPECT_EQ(rs.space.values[0], (std::vector<double>{2, 4, 8}));
  EXPECT_EQ(rs.space.values[1], (std::vector<double>{8, 16}));
  ASSERT_EQ(rs.space.configs.size(), 4u);
  // Enumeration order: (2,16) (4,8) (4,16) (8,8).
  EXPECT_EQ(rs.space.ids, (std::vector<std::string>{"00000000000000a4", "00000000000000a1",
                                                    "00000000000000a3", "00000000000000a2"}));
  EXPECT_EQ(rs.objective[0], 4.0);
  EXPECT_EQ(rs.objective[1], 1.0);  // the latest search row (session 1) wins; replay ignored
  EXPECT_FALSE(rs.objective[2]);    // build_failed
  EXPECT_EQ(rs.outcome[2], "build_failed");
  EXPECT_EQ(rs.objective[3], 1.0);  // median of [1.5, 0.5]
  EXPECT_DOUBLE_EQ(*rs.cost_s[3], (100 + 10 + 2 + 1) / 1000.0);
  const auto other = load_recorded_space(data("toy_store.sqlite"), "32x32x32");
  EXPECT_EQ(other.space.configs.size(), 1u);
  EXPECT_THROW(load_recorded_space(data("toy_store.sqlite"), "1x1x1"), Error);
  const auto r = simulate(rs, "bo", 1, 10);
  EXPECT_EQ(r.evaluations.size(), 4u);
  ASSERT_TRUE(r.best);
  EXPECT_EQ(*r.evaluations[*r.best].objective, 1.0);
}

TEST(SearchReaders, BadInputNamesTheFileAndTheField) {
  expect_bad(data("bad/not_json.txt"), "neither a Kernel Tuner cache nor a clgauge results store");
  expect_bad(data("bad/not_a_cache.json"),
             "neither a Kernel Tuner cache nor a clgauge results store");
  expect_bad(data("bad/key_disagrees.json"), "cache[\"1,16,0\"]");
  expect_bad(data("bad/missing_param.json"), "cache[\"1,16,0\"]: parameter \"B\" is missing");
  expect_bad(data("bad/key_too_long.json"),
             "cache[\"1,16,0,5\"]: the key has 4 values, tune_params_keys has 3");
  expect_bad(data("bad/value_not_declared.json"), "cache[\"2,16,7\"].C: 7 is not in tune_params.C");
  expect_bad(data("bad/unknown_failure.json"),
             "cache[\"1,16,0\"].time: \"SomethingElse\" is neither a number nor a known failure");
  expect_bad(data("bad/objective_not_number.json"), "cache[\"1,16,0\"].time: [1,2] is neither");
  // Truncated and corrupt gzip.
  const std::string gz = read_bytes(data("toy_cache.json.gz"));
  expect_bad(temp_file("truncated.json.gz", gz.substr(0, gz.size() / 2)), "gzip: truncated");
  std::string corrupt = gz;
  for (std::size_t i = 20; i < 60 && i < corrupt.size(); ++i)
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  expect_bad(temp_file("corrupt.json.gz", corrupt), "gzip: corrupt");
  // A SQLite file that is not a store of ours.
  expect_bad(data("bad/not_a_store.sqlite"), "not a clgauge results store");
  expect_bad(temp_file("empty.json", ""), "neither a Kernel Tuner cache");
  // An unreadable path is io_error.
  try {
    load_recorded_space(data("does-not-exist.json"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::io_error);
  }
}

TEST(SearchSimulate, BudgetsAndTheJsonShape) {
  const auto rs = load_recorded_space(data("toy_cache.json"));
  try {
    simulate(rs, "bo", 1, 0);
    ADD_FAILURE() << "budget 0 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("--budget-configs"), std::string::npos);
  }
  const auto r = simulate(rs, "random", 3, 8);
  EXPECT_EQ(r.evaluations.size(), 8u);
  const auto j = nlohmann::json::parse(to_json(r, rs));
  for (const char* k : {"strategy", "seed", "budget_configs", "space_size", "valid", "optimum",
                        "evaluations", "best", "evals_to_within"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["strategy"], "random");
  EXPECT_EQ(j["space_size"], 22);
  EXPECT_EQ(j["valid"], 19);
  EXPECT_EQ(j["evaluations"].size(), 8u);
  const auto& e0 = j["evaluations"][0];
  EXPECT_EQ(e0["index"], 0);
  EXPECT_EQ(e0["params"].size(), 3u);
  EXPECT_TRUE(e0["params"]["A"].is_number());
  EXPECT_TRUE(e0["objective"].is_number() || e0["objective"].is_null());
  for (const auto& e : j["evaluations"]) {
    EXPECT_EQ(e["objective"].is_null(), e["outcome"] != "ok");
  }
  for (const char* m : {"1%", "5%", "10%"}) EXPECT_TRUE(j["evals_to_within"].contains(m));
  // evals_to_within is the first evaluation whose best-so-far is within the margin.
  const auto bsf = r.best_so_far();
  for (std::size_t m = 0; m < 3; ++m) {
    const double limit = *rs.optimum() * (1 + kWithinMargins[m]);
    std::optional<std::size_t> want;
    for (std::size_t i = 0; i < bsf.size() && !want; ++i) {
      if (bsf[i] && *bsf[i] <= limit) want = i + 1;
    }
    EXPECT_EQ(r.evals_to_within[m], want);
  }
  // Exhaustive over the whole toy space reaches the optimum exactly where it sits.
  const auto ex = simulate(rs, "exhaustive", 1, 100);
  EXPECT_EQ(ex.evaluations.size(), 22u);
  ASSERT_TRUE(ex.best);
  EXPECT_EQ(ex.evaluations[*ex.best].objective, rs.optimum());
  EXPECT_EQ(ex.evals_to_within[0], *ex.best + 1);
}

TEST(SearchSimulate, TimeBudgetSpendsRecordedTimes) {
  const auto rs = load_recorded_space(data("toy_cache.json"));
  // Each toy evaluation costs 0.1 s plus 3 objective-ms: 0.3 s buys 3 evaluations (the
  // budget is checked before each evaluation, as in a live run).
  const auto r = simulate(rs, "exhaustive", 1, 100, 0.3);
  EXPECT_TRUE(r.ran_out_of_time);
  EXPECT_EQ(r.evaluations.size(), 3u);
  EXPECT_GE(r.spent_s, 0.3);
  // A store's rows all carry times; a space without them refuses a time budget.
  auto no_times = rs;
  no_times.cost_s[5].reset();
  EXPECT_THROW(simulate(no_times, "bo", 1, 10, 1.0), Error);
}

TEST(SearchSimulate, RepeatSummary) {
  const auto rs = load_recorded_space(data("toy_cache.json"));
  const auto s = simulate_repeat(rs, "random", 10, 5, 22);
  ASSERT_EQ(s.results.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(s.results[i].seed, 10 + i);
  for (std::size_t m = 0; m < 3; ++m) {
    EXPECT_EQ(s.within[m].reached, 5u);  // the whole space: every run reaches every margin
    std::vector<double> v;
    for (const auto& r : s.results) v.push_back(static_cast<double>(*r.evals_to_within[m]));
    std::sort(v.begin(), v.end());
    EXPECT_EQ(*s.within[m].median, v[2]);
    EXPECT_EQ(*s.within[m].p90, v[4]);  // nearest rank: ceil(0.9 * 5) = 5th
  }
  const auto j = nlohmann::json::parse(to_json(s, rs));
  EXPECT_EQ(j["runs"], 5);
  EXPECT_EQ(j["evals_to_within"]["5%"]["per_seed"].size(), 5u);
  // Never reaching a margin: budget 1 on a space whose first random pick is not the best.
  const auto one = simulate_repeat(rs, "exhaustive", 1, 3, 1);
  EXPECT_EQ(one.within[0].reached, 0u);
  EXPECT_FALSE(one.within[0].median);
  EXPECT_FALSE(one.within[0].p90);
}

TEST(SearchSimulate, CliGlue) {
  std::ostringstream out, err;
  cli::SimulateFlags f;
  f.file = data("toy_cache.json.gz").string();
  f.strategy = "local";
  f.budget_configs = 10;
  f.seed = 4;
  f.json = true;
  EXPECT_EQ(cli::run_simulate(f, cli::Streams{out, err}), 0);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["strategy"], "local");
  EXPECT_EQ(j["seed"], 4);
  EXPECT_EQ(j["evaluations"].size(), 10u);
  std::ostringstream text;
  f.json = false;
  f.repeat = 3;
  EXPECT_EQ(cli::run_simulate(f, cli::Streams{text, err}), 0);
  EXPECT_NE(text.str().find("seeds 4..6"), std::string::npos) << text.str();
  f.budget_configs = 0;
  EXPECT_THROW(cli::run_simulate(f, cli::Streams{text, err}), Error);
  f.budget_configs = 5;
  f.repeat = 0;
  EXPECT_THROW(cli::run_simulate(f, cli::Streams{text, err}), Error);
}

}  // namespace
