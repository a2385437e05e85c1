#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "clgauge/parity.hpp"
#include "cli/cli_test_util.hpp"
#include "device_fixture.hpp"

namespace clgauge {
namespace {

using test::run_cli;

struct BadCase {
  std::vector<std::string> args;
  std::string message;  // a piece of the one-line error
};

class GemmCliBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(GemmCliBadInput, ExitsTwoNamingTheFlagAndRunsNothing) {
  const auto& c = GetParam();
  std::vector<std::string> args = {"gemm"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  const auto r = run_cli(args);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");  // nothing ran
}

INSTANTIATE_TEST_SUITE_P(
    Errors, GemmCliBadInput,
    ::testing::Values(
        BadCase{{"--m", "0"}, "--m = 0: must be >= 1"},
        BadCase{{"--n", "-3"}, "--n = -3: must be >= 1"}, BadCase{{"--k", "0"}, "--k = 0"},
        BadCase{{"--m", "4", "--k", "8", "--lda", "2"}, "--lda = 2"},
        BadCase{{"--layout", "col", "--m", "9", "--ldc", "3"}, "--ldc = 3"},
        BadCase{{"--offset-b", "-1"}, "--offset-b = -1"},
        BadCase{{"--layout", "diag"}, "layout 'diag'"},
        BadCase{{"--trans-a", "x"}, "transpose 'x'"},
        BadCase{{"--family", "gemm.nope"}, "unknown family 'gemm.nope'"},
        BadCase{{"--family", "gemm.regtile", "--param", "XX=1"}, "unknown parameter 'XX'"},
        BadCase{{"--family", "gemm.regtile", "--param", "MR"}, "--param 'MR': want NAME=VALUE"},
        BadCase{{"--family", "gemm.regtile", "--param", "MR=abc"}, "'abc' is not an integer"},
        BadCase{{"--param", "MR=4"}, "--param needs --family"},
        BadCase{{"--check", "loose"}, "--check 'loose'"},
        BadCase{{"--input-distribution", "cauchy"}, "unknown input distribution 'cauchy'"},
        BadCase{{"--runs", "0"}, "--runs 0"},
        BadCase{{"--config", "xyz"}, "--config: 'xyz' is not 16 hex digits"},
        BadCase{{"--config", "0123456789abcdef"}, "unknown config id"},
        BadCase{{"--config", "family=gemm.regtile;MR=4", "--family", "gemm.regtile"},
                "cannot be combined"},
        BadCase{{"--m", "many"}, "--m"}));

TEST(GemmCli, InvalidConfigIsRejectedBeforeAnyRun) {
  CLGAUGE_REQUIRE_DEVICE();
  const auto r =
      run_cli({"gemm", "--family", "gemm.regtile", "--param", "NR=17", "--param", "VW=4"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("NR % VW != 0"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(GemmCli, JsonReportHasTheContractKeysAndPasses) {
  CLGAUGE_REQUIRE_DEVICE();
  const auto r = run_cli({"gemm", "--m", "33", "--n", "17", "--k", "9", "--beta", "0.5", "--runs",
                          "3", "--warmup", "1", "--json"});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"problem", "config", "gflops", "timings", "parity", "env_fingerprint"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_TRUE(j["parity"]["passed"].get<bool>());
  EXPECT_EQ(j["parity"]["mode"], "bitwise");
  EXPECT_EQ(j["timings"]["runs_ms"].size(), 3u);
  EXPECT_EQ(j["problem"]["ldc"], 17);
  // No config given: the tuning database's choice (a shipped database may cover this device).
  const std::string source = j["config"]["source"];
  EXPECT_TRUE(source == "device-default" || source == "tuned-exact" || source == "tuned-nearest")
      << source;
  EXPECT_LE(j["gflops"]["min"].get<double>(), j["gflops"]["median"].get<double>());
  EXPECT_EQ(j["env_fingerprint"].get<std::string>().size(), 16u);
}

TEST(GemmCli, ToleranceCheckAndExplicitConfigs) {
  CLGAUGE_REQUIRE_DEVICE();
  auto r = run_cli({"gemm",
                    "--m",
                    "20",
                    "--n",
                    "30",
                    "--k",
                    "40",
                    "--check",
                    "tolerance",
                    "--family",
                    "gemm.localtile",
                    "--param",
                    "MWG=16",
                    "--param",
                    "NWG=16",
                    "--param",
                    "MDIMC=4",
                    "--param",
                    "NDIMC=4",
                    "--runs",
                    "1",
                    "--warmup",
                    "0"});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("parity       tolerance PASS"), std::string::npos) << r.out;

  const auto cfg = GemmConfig::make("gemm.regtile", {{"MR", 2}, {"NR", 8}, {"VW", 4}});
  r = run_cli({"gemm", "--m", "9", "--n", "9", "--k", "9", "--config", cfg.canonical(), "--runs",
               "1", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["config"]["id"], cfg.id());

  // An id that `clgauge plan` lists for a shipped space resolves too.
  const auto listed = GemmConfig::make(
      "gemm.regtile", {{"MR", 4}, {"NR", 32}, {"VW", 16}, {"WGM", 1}, {"WGN", 8}, {"PACK_A", 1}});
  r = run_cli({"gemm", "--m", "9", "--n", "9", "--k", "9", "--config", listed.id(), "--runs", "1",
               "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["config"]["params"]["NR"], 32);

  const auto def = GemmConfig::defaults_for("gemm.localtile");
  r = run_cli(
      {"gemm", "--m", "9", "--n", "9", "--k", "9", "--config", def.id(), "--runs", "1", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["config"]["family"], "gemm.localtile");
}

std::vector<float> read_f32(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<float> v;
  unsigned char b[4];
  while (in.read(reinterpret_cast<char*>(b), 4)) {
    v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(b[0] | (b[1] << 8) | (b[2] << 16)) |
                                     (static_cast<std::uint32_t>(b[3]) << 24)));
  }
  return v;
}

TEST(GemmCli, DumpLetsAnyoneRecheckTheResult) {
  CLGAUGE_REQUIRE_DEVICE();
  const auto dir =
      std::filesystem::temp_directory_path() / ("clgauge-dump-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto r =
      run_cli({"gemm", "--m",       "7",    "--n",    "13", "--k",    "31",        "--layout",
               "col",  "--trans-a", "t",    "--lda",  "40", "--ldc",  "9",         "--alpha",
               "-2",   "--beta",    "0.25", "--runs", "1",  "--dump", dir.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream pj(dir / "problem.json");
  const auto j = nlohmann::json::parse(pj);
  GemmProblem p;
  p.m = j["m"];
  p.n = j["n"];
  p.k = j["k"];
  p.layout = layout_from_string(j["layout"].get<std::string>());
  p.trans_a = op_from_string(j["trans_a"].get<std::string>());
  p.trans_b = op_from_string(j["trans_b"].get<std::string>());
  p.alpha = j["alpha"];
  p.beta = j["beta"];
  p.lda = j["lda"];
  p.ldb = j["ldb"];
  p.ldc = j["ldc"];
  EXPECT_EQ(p.lda, 40);
  EXPECT_EQ(j["seed"], 42);
  EXPECT_EQ(j["config_id"].get<std::string>().size(), 16u);
  const auto a = read_f32(dir / "A.f32"), b = read_f32(dir / "B.f32");
  const auto c_in = read_f32(dir / "C_in.f32"), c_out = read_f32(dir / "C_out.f32");
  EXPECT_EQ(a.size(), p.a_elements());
  EXPECT_EQ(c_in.size(), p.c_elements());
  std::vector<float> want = c_in;
  gemm_reference_canonical(p, a, b, want);
  EXPECT_TRUE(compare_bitwise(p, c_out, want).passed());
  std::filesystem::remove_all(dir);
}

TEST(GemmCli, WithoutAnyOpenClPlatformItRunsTheCpuPathAndSaysSo) {
  // Run the real executable with an ICD loader that finds no vendor.
  // stderr goes to a temporary file, never into the directory ctest runs in.
  const auto err_file = std::filesystem::temp_directory_path() /
                        ("clgauge_noicd_" + std::to_string(::getpid()) + ".err");
  const std::string cmd = std::string("OCL_ICD_VENDORS=/nonexistent-clgauge ") + CLGAUGE_EXE +
                          " gemm --m 16 --n 16 --k 16 --runs 1 --warmup 0 > /dev/null 2> " +
                          err_file.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream err(err_file);
  const std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("no OpenCL device found"), std::string::npos) << text;
  std::filesystem::remove(err_file);
  const std::string devs =
      std::string("OCL_ICD_VENDORS=/nonexistent-clgauge ") + CLGAUGE_EXE + " devices > /dev/null";
  EXPECT_EQ(std::system(devs.c_str()), 0);
}

TEST(DevicesCli, JsonListsEveryDevice) {
  const auto r = run_cli({"devices", "--json"});
  ASSERT_EQ(r.status, 0);
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j.size(), list_devices().size());
  for (const auto& d : j) {
    for (const char* key :
         {"index", "platform", "device", "type", "compute_units", "global_mem_bytes",
          "local_mem_bytes", "max_wg_size", "opencl_c_version", "driver_version", "fingerprint"}) {
      EXPECT_TRUE(d.contains(key)) << key;
    }
  }
}

}  // namespace
}  // namespace clgauge
