// clgauge bench on the device (PoCL in CI): a short end-to-end run with every kind of
// contestant, the JSON and CSV schemas, CLBlast parameters from CLBlast's own tuner applied
// and undone, config resolution, and the command line.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "clgauge/bench.hpp"
#include "cli/cli_test_util.hpp"
#include "device_fixture.hpp"

namespace clgauge {
namespace {

using json = nlohmann::json;
using test::run_cli;

std::string data(const std::string& name) {
  return std::string(CLGAUGE_TEST_DATA_DIR) + "/benchmark/" + name;
}

GemmProblem shape(std::int64_t m, std::int64_t n, std::int64_t k) {
  GemmProblem p;
  p.m = m;
  p.n = n;
  p.k = k;
  return p;
}

// A database with one entry for `p`, so that `tuned` resolves hermetically.
TuningDbList one_entry_db(const DeviceInfo& info, const GemmProblem& p, const GemmConfig& c) {
  TuningDatabase db;
  db.device = tuning_device_id(info);
  TuningEntry e;
  e.key.families = "all";
  e.key.m = p.m;
  e.key.n = p.n;
  e.key.k = p.k;
  e.config = c;
  e.gflops_median = 1;
  e.decision = "promote";
  e.plan_hash = "0123456789abcdef";
  e.date = "2026-01-02T03:04:05Z";
  e.clgauge_version = "0.1.0";
  e.env_fingerprint = "0123456789abcdef";
  db.entries.push_back(e);
  return {{"test-db.json", db}};
}

BenchRequest small_request(const DeviceInfo& info) {
  BenchRequest r;
  GemmProblem odd = shape(33, 17, 9);
  odd.alpha = 1.5f;
  odd.beta = 0.5f;  // C is read: rewritten before every launch
  r.shapes = {shape(48, 40, 24), odd};
  r.configs = {"tuned", "default", "family:gemm.localtile"};
  r.baselines = {"clblast", "openblas"};
  r.min_time_s = 0;
  r.max_runs = 6;
  r.databases = one_entry_db(info, r.shapes[0], GemmConfig::defaults_for("gemm.regtile"));
  return r;
}

TEST(BenchRun, EndToEndOnTinyShapes) {
  CLGAUGE_REQUIRE_DEVICE();
  Device& dev = *test::shared_device();
  const BenchRequest req = small_request(dev.info());
  std::vector<std::string> progress;
  BenchRequest with_progress = req;
  with_progress.progress = [&](const std::string& line) { progress.push_back(line); };
  const BenchResult r = run_bench(dev, with_progress);
  EXPECT_FALSE(progress.empty());
  ASSERT_EQ(r.shapes.size(), 2u);
  EXPECT_TRUE(r.all_ok());
  for (const auto& s : r.shapes) {
    ASSERT_EQ(s.rows.size(), 5u);
    EXPECT_EQ(s.rows[0].name, "tuned");
    EXPECT_EQ(s.rows[3].kind, "clblast");
    EXPECT_EQ(s.rows[4].kind, "openblas");
    EXPECT_GE(s.rounds, 6u);
    EXPECT_LE(s.rounds, 6u);
    for (const auto& row : s.rows) {
      EXPECT_EQ(row.status, ReasonCode::ok) << row.name << ": " << row.detail;
      ASSERT_TRUE(row.parity.has_value()) << row.name;
      EXPECT_TRUE(row.parity->passed());
      EXPECT_EQ(row.check, row.kind == "config" ? "bitwise" : "tolerance");
      EXPECT_EQ(row.samples.size(), s.rounds);
      EXPECT_EQ(row.stats.runs, s.rounds);
      EXPECT_GT(row.stats.median_gflops, 0);
      EXPECT_LE(row.stats.ci.lo, row.stats.median_gflops);
      EXPECT_GE(row.stats.ci.hi, row.stats.median_gflops);
      // Ratios: to the first contestant (not for itself) and to each baseline (not itself).
      std::set<std::string> against;
      for (const auto& c : row.comparisons) {
        against.insert(c.against);
        EXPECT_LE(c.ratio.lo, c.ratio.hi);
        EXPECT_EQ(c.metric, row.kind == "config" && c.role == "first" ? "device" : "host");
        EXPECT_EQ(c.effect_pct, (c.ratio.ratio - 1) * 100);
      }
      std::set<std::string> want = {"tuned", "clblast", "openblas"};
      want.erase(row.name);
      EXPECT_EQ(against, want) << row.name;
    }
  }
  // `tuned` took the database's entry for the first shape, the nearest one for the second.
  EXPECT_EQ(r.shapes[0].rows[0].config->source, "tuned-exact");
  EXPECT_EQ(r.shapes[0].rows[0].config->config.family, "gemm.regtile");
  EXPECT_EQ(r.shapes[1].rows[0].config->source, "tuned-nearest");
  EXPECT_EQ(r.shapes[0].rows[1].config->source, "device-default");
  EXPECT_EQ(r.shapes[0].rows[2].config->config, GemmConfig::defaults_for("gemm.localtile"));
  // CLBlast's row says which kernel and parameters it ran with.
  const BenchRow& cl = r.shapes[0].rows[3];
  EXPECT_FALSE(cl.clblast_kernel.empty());
  EXPECT_FALSE(cl.clblast_params.empty());
  EXPECT_EQ(cl.clblast_origin, "CLBlast defaults");

  // Recomputing the statistics from the samples gives the same verdicts (fixed seed).
  BenchShape again = r.shapes[0];
  compute_bench_statistics(again, req.seed, req.resamples);
  for (std::size_t i = 0; i < again.rows.size(); ++i) {
    ASSERT_EQ(again.rows[i].comparisons.size(), r.shapes[0].rows[i].comparisons.size());
    for (std::size_t j = 0; j < again.rows[i].comparisons.size(); ++j) {
      EXPECT_EQ(again.rows[i].comparisons[j].ratio, r.shapes[0].rows[i].comparisons[j].ratio);
      EXPECT_EQ(again.rows[i].comparisons[j].verdict, r.shapes[0].rows[i].comparisons[j].verdict);
    }
  }

  // The table names every contestant and the verdict rule.
  const std::string table = bench_table(r);
  for (const char* s : {"48x40x24", "33x17x9", "tuned", "default", "family:gemm.localtile",
                        "clblast ran", "openblas", "x tuned", "x clblast", "Mann-Whitney"}) {
    EXPECT_NE(table.find(s), std::string::npos) << s << "\n" << table;
  }

  // JSON: every sample, statistics and comparisons, under a stable schema.
  const json j = json::parse(bench_json(r));
  EXPECT_EQ(j["schema"], kBenchSchema);
  for (const char* k : {"clgauge_version", "device", "env_fingerprint", "settings",
                        "clblast_overrides", "warnings", "shapes"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["settings"]["max_runs"], 6);
  EXPECT_EQ(j["settings"]["seed"], 42);
  ASSERT_EQ(j["shapes"].size(), 2u);
  const json& s0 = j["shapes"][0];
  EXPECT_EQ(s0["problem"]["shape"], "48x40x24");
  EXPECT_EQ(s0["contestants"].size(), 5u);
  for (const json& c : s0["contestants"]) {
    for (const char* k : {"name", "kind", "config", "check", "parity", "status", "detail", "stats",
                          "samples", "comparisons"}) {
      EXPECT_TRUE(c.contains(k)) << k;
    }
    EXPECT_EQ(c["status"], "ok");
    EXPECT_EQ(c["samples"].size(), r.shapes[0].rounds);
    for (const char* k : {"round", "device_ms", "host_ms", "kernel_ms", "outlier"}) {
      EXPECT_TRUE(c["samples"][0].contains(k)) << k;
    }
    for (const char* k :
         {"runs", "median_gflops", "host_median_gflops", "ci_lo", "ci_hi", "cv", "outliers"}) {
      EXPECT_TRUE(c["stats"].contains(k)) << k;
    }
    for (const json& cmp : c["comparisons"]) {
      for (const char* k : {"against", "role", "metric", "ratio", "ci_lo", "ci_hi", "p_value",
                            "rank_biserial", "effect_pct", "verdict"}) {
        EXPECT_TRUE(cmp.contains(k)) << k;
      }
    }
  }
  EXPECT_EQ(s0["contestants"][0]["config"]["source"], "tuned-exact");
  EXPECT_EQ(s0["contestants"][3]["clblast"]["origin"], "CLBlast defaults");

  // CSV: a header and one line per sample, 14 fields each.
  const std::string csv = bench_csv(r);
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line,
            "shape,m,n,k,contestant,kind,config_id,round,device_ms,host_ms,kernel_ms,"
            "device_gflops,host_gflops,outlier");
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 13) << line;
  }
  EXPECT_EQ(lines, 5 * (r.shapes[0].rounds + r.shapes[1].rounds));
}

TEST(BenchRun, ClblastParamsFromItsTunerAreAppliedThenUndone) {
  CLGAUGE_REQUIRE_DEVICE();
  Device& dev = *test::shared_device();
  const ClblastParams direct = load_clblast_params(data("clblast_xgemm_direct_1_32.json"));
  const ClblastParams xgemm = load_clblast_params(data("clblast_xgemm_1_32.json"));
  const auto before = clblast_parameters(dev, "XgemmDirect");
  BenchRequest req;
  req.configs = {"default"};
  req.shapes = {shape(40, 32, 24)};  // small: CLBlast runs its direct kernel
  req.baselines = {"clblast"};
  req.clblast_params = {xgemm, direct};
  req.min_time_s = 0;
  req.max_runs = 6;
  req.databases = TuningDbList{};
  ASSERT_EQ(clblast_gemm_kernel(dev, req.shapes[0]), "XgemmDirect");
  const BenchResult r = run_bench(dev, req);
  ASSERT_TRUE(r.all_ok()) << bench_table(r);
  ASSERT_EQ(r.clblast_overrides.size(), 2u);
  const BenchRow& cl = r.shapes[0].rows[1];
  EXPECT_EQ(cl.clblast_kernel, "XgemmDirect");
  EXPECT_EQ(cl.clblast_origin, direct.source);
  // The parameters CLBlast reported while it ran are the file's (reported sorted by name).
  std::set<std::string> got, want;
  std::istringstream ss(cl.clblast_params);
  for (std::string item; ss >> item;) got.insert(item);
  for (const auto& [name, value] : direct.params) want.insert(name + "=" + std::to_string(value));
  EXPECT_EQ(got, want);
  EXPECT_NE(bench_table(r).find("parameters from " + direct.source), std::string::npos);
  // Undone afterwards.
  EXPECT_EQ(clblast_parameters(dev, "XgemmDirect"), before);
}

TEST(BenchRun, ClblastParamsMissingAParameterIsBadInput) {
  CLGAUGE_REQUIRE_DEVICE();
  Device& dev = *test::shared_device();
  ClblastParams p = load_clblast_params(data("clblast_xgemm_direct_1_32.json"));
  p.params.pop_back();  // WGD
  try {
    ClblastOverride o(dev, p);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("WGD"), std::string::npos) << e.what();
  }
}

TEST(BenchRun, ResolvesEveryKindOfConfigItem) {
  CLGAUGE_REQUIRE_DEVICE();
  const DeviceInfo& info = test::shared_device()->info();
  const GemmProblem p = shape(256, 256, 256);
  const TuningDbList none;
  const GemmConfig local = GemmConfig::defaults_for("gemm.localtile");
  EXPECT_EQ(resolve_bench_config("family:gemm.localtile", info, p, none).config, local);
  EXPECT_EQ(resolve_bench_config(local.canonical(), info, p, none).config, local);
  EXPECT_EQ(resolve_bench_config(local.id(), info, p, none).config, local);
  EXPECT_EQ(resolve_bench_config("default", info, p, none).config, default_gemm_config(info, p));
  EXPECT_EQ(resolve_bench_config("tuned", info, p, none).source, "device-default");
  // An id from the database, and an unknown one.
  GemmConfig odd =
      GemmConfig::make("gemm.regtile", {{"MR", 4}, {"NR", 4}, {"VW", 4}, {"WGM", 8}, {"WGN", 8}});
  const auto db = one_entry_db(info, p, odd);
  EXPECT_EQ(resolve_bench_config(odd.id(), info, p, db).config, odd);
  try {
    resolve_bench_config("00000000deadbeef", info, p, none);
    ADD_FAILURE() << "resolved";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("00000000deadbeef"), std::string::npos);
  }
}

TEST(BenchRunCli, PrintsJsonCsvAndTable) {
  CLGAUGE_REQUIRE_DEVICE();
  const std::vector<std::string> base = {"bench",    "--configs",  "family:gemm.direct",
                                         "--shapes", "32,16x24x8", "--max-runs",
                                         "6",        "--min-time", "0"};
  auto args = base;
  args.push_back("--json");
  const auto j = run_cli(args);
  ASSERT_EQ(j.status, 0) << j.err;
  const json doc = json::parse(j.out);
  EXPECT_EQ(doc["schema"], kBenchSchema);
  EXPECT_EQ(doc["shapes"].size(), 2u);
  EXPECT_EQ(doc["shapes"][1]["problem"]["shape"], "16x24x8");
  args = base;
  args.push_back("--csv");
  const auto c = run_cli(args);
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out.rfind("shape,m,n,k,", 0), 0u);
  const auto t = run_cli(base);
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.out.find("32x32x32 row op nn"), std::string::npos) << t.out;
}

TEST(BenchRunCli, UnknownConfigIdIsBadInputBeforeAnythingRuns) {
  CLGAUGE_REQUIRE_DEVICE();
  const auto r = run_cli({"bench", "--configs", "default,00000000deadbeef", "--shapes", "32"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("00000000deadbeef"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("timing"), std::string::npos) << r.err;
}

TEST(BenchRunCli, WritesThePlot) {
  CLGAUGE_REQUIRE_DEVICE();
  const auto png = std::filesystem::temp_directory_path() /
                   ("clgauge-bench-plot-" + std::to_string(::getpid()) + ".png");
  const auto r = run_cli({"bench", "--configs", "default", "--shapes", "32,48", "--max-runs", "6",
                          "--min-time", "0", "--plot", png.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  if (r.err.find("gnuplot not found") != std::string::npos) GTEST_SKIP() << "no gnuplot";
  EXPECT_TRUE(std::filesystem::is_regular_file(png)) << r.err;
  EXPECT_GT(std::filesystem::file_size(png), 1000u);
  std::filesystem::remove(png);
}

}  // namespace
}  // namespace clgauge
