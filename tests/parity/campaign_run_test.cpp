// Parity campaigns on the device: the planted mismatch is caught, logged, written out and
// replayed; strict against hardened; the allowlist; the log schema; determinism; the
// statistical parity of the tolerance-only split-K family.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "clgauge/campaign.hpp"
#include "clgauge/parity.hpp"
#include "device_fixture.hpp"
#include "parity/parity_test_util.hpp"

namespace clgauge {
namespace {

using json = nlohmann::json;

// Two shapes: 1x1x1 has no element (3, 2), so its 24 scenarios pass; 13x7x31 has it, so
// its 24 fail. Declared order runs every 1x1x1 scenario first.
CampaignRequest planted_request() {
  CampaignRequest r;
  r.suite = CampaignSuite::gemm;
  r.families = {"gemm.planted"};
  r.configs = {"default"};
  r.shapes = {"1x1x1", "13x7x31"};
  r.seeds = 2;
  return r;
}

CampaignResult run(const CampaignRequest& r) {
  return run_campaign(*test::shared_device(), r, test::shared_cache());
}

class ParityPlanted : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::shared_device() == nullptr) GTEST_SKIP() << "no OpenCL device on this machine";
  }
  test::PlantedFamily family_{"gemm.planted", test::kPlantedSource};
  test::RegisteredFamily registered_{family_};
};

TEST_F(ParityPlanted, MismatchIsCaughtLoggedWithArtifactsAndReplays) {
  test::TempDir dir("planted");
  auto req = planted_request();
  req.artifacts_dir = dir.path();
  const auto result = run(req);
  ASSERT_EQ(result.records.size(), 48u);
  EXPECT_EQ(result.summary.pass, 24u);
  EXPECT_EQ(result.summary.fail, 24u);
  EXPECT_TRUE(result.summary.failed());
  EXPECT_TRUE(result.summary.carried_on);
  const CampaignRecord* failing = nullptr;
  for (const auto& r : result.records) {
    const bool big = r.scenario_id.find("/13x7x31/") != std::string::npos;
    EXPECT_EQ(r.outcome, big ? "fail" : "pass") << r.scenario_id;
    if (!big) continue;
    EXPECT_EQ(r.reason, ReasonCode::parity_mismatch);
    const auto j = json::parse(r.line);
    EXPECT_EQ(j["reason_code"], "parity_mismatch");
    EXPECT_EQ(j["metrics"]["mismatches"], 2) << "one planted element per seed";
    EXPECT_EQ(j["metrics"]["first_mismatch"]["row"], 3);
    EXPECT_EQ(j["metrics"]["first_mismatch"]["col"], 2);
    EXPECT_EQ(j["artifact_refs"].size(), 6u);
    if (!failing) failing = &r;
  }
  ASSERT_NE(failing, nullptr);

  // Artifacts: the descriptor and five raw float32 files of the sizes it states.
  const auto j = json::parse(failing->line);
  const auto descriptor_path = j["artifact_refs"][0].get<std::string>();
  ASSERT_TRUE(std::filesystem::exists(descriptor_path));
  const auto d = json::parse(test::read_text(descriptor_path));
  EXPECT_EQ(d["scenario_id"], failing->scenario_id);
  EXPECT_EQ(d["byte_order"], "little");
  ASSERT_EQ(d["files"].size(), 5u);
  const auto folder = std::filesystem::path(descriptor_path).parent_path();
  std::vector<float> device_c, reference_c;
  for (const auto& f : d["files"]) {
    const auto path = folder / f["file"].get<std::string>();
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_EQ(std::filesystem::file_size(path), 4 * f["elements"].get<std::uint64_t>());
    if (f["file"] == "C_device.f32" || f["file"] == "C_reference.f32") {
      const auto bytes = test::read_text(path);
      std::vector<float> v(bytes.size() / 4);
      std::memcpy(v.data(), bytes.data(), bytes.size());
      (f["file"] == "C_device.f32" ? device_c : reference_c) = v;
    }
  }
  ASSERT_EQ(device_c.size(), reference_c.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < device_c.size(); ++i) {
    differ +=
        std::bit_cast<std::uint32_t>(device_c[i]) != std::bit_cast<std::uint32_t>(reference_c[i]);
  }
  EXPECT_EQ(differ, 1u) << "the outputs differ at the planted element only";

  // Replay through the library with the same case id: the same outcome and output bits.
  auto replay = planted_request();
  replay.case_id = j["case_id"].get<std::string>();
  const auto again = run(replay);
  ASSERT_EQ(again.records.size(), 1u);
  EXPECT_EQ(again.records[0].outcome, "fail");
  EXPECT_EQ(again.records[0].reason, ReasonCode::parity_mismatch);
  EXPECT_EQ(again.records[0].output_xxh3, failing->output_xxh3);
  EXPECT_EQ(again.records[0].scenario_id, failing->scenario_id);
  EXPECT_EQ(json::parse(again.records[0].line)["env_fingerprint"], j["env_fingerprint"]);
  EXPECT_NE(failing->replay_command.find("--case " + replay.case_id), std::string::npos);
}

TEST_F(ParityPlanted, StrictFailsClosedAtTheFirstFailureHardenedCarriesOn) {
  auto req = planted_request();
  req.mode = CampaignMode::strict;
  const auto strict = run(req);
  ASSERT_EQ(strict.records.size(), 25u) << "24 passes, then the first failure";
  EXPECT_EQ(strict.records.back().outcome, "fail");
  EXPECT_EQ(strict.summary.stopped_at, strict.records.back().scenario_id);
  EXPECT_EQ(strict.summary.stopped_replay, strict.records.back().replay_command);
  EXPECT_FALSE(strict.summary.carried_on);
  EXPECT_TRUE(strict.summary.failed());

  req.mode = CampaignMode::hardened;
  const auto hardened = run(req);
  EXPECT_EQ(hardened.records.size(), 48u);
  EXPECT_TRUE(hardened.summary.carried_on);
  EXPECT_TRUE(hardened.summary.stopped_at.empty());
  const auto s = json::parse(hardened.summary.line);
  EXPECT_EQ(s["carried_on"], true);
  EXPECT_EQ(s["by_reason"]["parity_mismatch"], 24);

  req.mode = CampaignMode::both;
  const auto both = run(req);
  ASSERT_EQ(both.records.size(), 48u + 25u);
  EXPECT_EQ(both.records.front().mode, "hardened");
  EXPECT_EQ(both.records.back().mode, "strict");
  EXPECT_EQ(both.summary.stopped_at, both.records.back().scenario_id);
}

TEST_F(ParityPlanted, AllowlistTurnsMatchingFailuresIntoAllowlistedDrifts) {
  auto req = planted_request();
  req.mode = CampaignMode::strict;
  req.allowlist = parse_allowlist(
      R"({"allow": [{"pattern": "gemm/*:gemm.planted@*/row-*/13x7x31/*", "reason": "planted"}]})",
      "allow.json");
  const auto result = run(req);
  // Strict carries on past allowlisted drifts and stops at the first column-major failure.
  EXPECT_EQ(result.summary.allowlisted, 12u);
  EXPECT_EQ(result.records.back().outcome, "fail");
  EXPECT_NE(result.records.back().scenario_id.find("/col-"), std::string::npos);
  for (const auto& r : result.records) {
    if (r.outcome != "allowlisted") continue;
    const auto j = json::parse(r.line);
    EXPECT_EQ(j["allowlist_reason"], "planted");
    EXPECT_EQ(j["reason_code"], "parity_mismatch");
  }
  req.allowlist.push_back({"gemm/strict:*/col-*", "planted too"});
  const auto all = run(req);
  EXPECT_EQ(all.records.size(), 48u);
  EXPECT_EQ(all.summary.allowlisted, 24u);
  EXPECT_EQ(all.summary.fail, 0u);
  EXPECT_FALSE(all.summary.failed());
}

TEST_F(ParityPlanted, BuildFailureSkipsDependantsInHardenedMode) {
  test::PlantedFamily broken("gemm.broken", "this is not OpenCL C");
  test::RegisteredFamily guard(broken);
  auto req = planted_request();
  req.families = {"gemm.broken", "gemm.planted"};
  req.shapes = {"1x1x1"};
  const auto result = run(req);
  EXPECT_EQ(result.summary.failed_jobs, 1u);
  EXPECT_EQ(result.summary.skip, 24u);
  EXPECT_EQ(result.summary.pass, 24u);
  EXPECT_TRUE(result.summary.carried_on);
  for (const auto& r : result.records) {
    if (r.scenario_id.find("gemm.broken") == std::string::npos) continue;
    EXPECT_EQ(r.outcome, "skip");
    EXPECT_EQ(r.reason, ReasonCode::build_failed);
    EXPECT_EQ(test::check_log_line(r.line), "") << r.line;
  }
  req.mode = CampaignMode::strict;
  const auto strict = run(req);
  EXPECT_TRUE(strict.records.empty()) << "builds run first; strict stops at the failed one";
  EXPECT_NE(strict.summary.stopped_at.find("build/"), std::string::npos);
  EXPECT_TRUE(strict.summary.failed());
}

// A small mixed campaign: every GEMM family (split-K included) and propagation.
CampaignRequest mixed_request() {
  CampaignRequest r;
  r.suite = CampaignSuite::all;
  r.configs = {"default"};
  r.shapes = {"13x7x31"};
  r.graphs = "rmat:40x160,uniform:30x90";
  r.seeds = 2;
  r.mode = CampaignMode::both;
  return r;
}

TEST(ParityCampaign, EveryLogLineValidatesAgainstTheSchemaAndReplaysAreStable) {
  CLGAUGE_REQUIRE_DEVICE();
  const auto result = run(mixed_request());
  EXPECT_EQ(result.summary.fail, 0u) << result.summary.line;
  EXPECT_EQ(result.summary.scenarios, 2 * result.plan.scenarios.size());
  for (const auto& r : result.records) {
    EXPECT_EQ(test::check_log_line(r.line), "") << r.line;
    EXPECT_EQ(r.outcome, "pass") << r.line;
  }
  EXPECT_EQ(test::check_log_line(result.summary.line), "") << result.summary.line;
  // A planted fault in the line is caught by the checker.
  auto j = json::parse(result.records[0].line);
  j["outcome"] = "passed";
  EXPECT_NE(test::check_log_line(j.dump()), "");
  j = json::parse(result.records[0].line);
  j.erase("replay_command");
  EXPECT_NE(test::check_log_line(j.dump()), "");
  // Hardened and strict saw the same inputs: the same bits.
  const std::size_t n = result.plan.scenarios.size();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(result.records[i].output_xxh3, result.records[n + i].output_xxh3);
  }
}

TEST(ParityCampaign, SameCampaignTwiceGivesIdenticalLogsApartFromTime) {
  CLGAUGE_REQUIRE_DEVICE();
  auto req = mixed_request();
  req.mode = CampaignMode::hardened;
  const auto a = run(req);
  const auto b = run(req);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(test::without_time(a.records[i].line), test::without_time(b.records[i].line));
  }
  EXPECT_EQ(test::without_time(a.summary.line), test::without_time(b.summary.line));
  req.seed = 43;
  const auto c = run(req);
  EXPECT_NE(a.records[0].output_xxh3, c.records[0].output_xxh3) << "another master seed";
}

TEST(ParitySplitK, StatisticalParityWithinTheStatedBounds) {
  CLGAUGE_REQUIRE_DEVICE();
  CampaignRequest req;
  req.suite = CampaignSuite::gemm;
  req.families = {"gemm.splitk"};
  req.configs = {"default", "family=gemm.splitk;SPLITS=16;WGX=8;WGY=4"};
  req.shapes = {"33x29x517"};
  req.seeds = 4;
  const auto result = run(req);
  ASSERT_EQ(result.records.size(), 2u * 24);
  bool differs_from_canonical = false;
  for (const auto& r : result.records) {
    EXPECT_EQ(r.outcome, "pass") << r.line;
    const auto j = json::parse(r.line);
    EXPECT_EQ(j["bitwise"], false);
    const auto& t = j["metrics"]["tolerance"];
    ASSERT_TRUE(t.is_object()) << r.line;
    EXPECT_EQ(t["elements"], 4 * 33 * 29);
    EXPECT_LE(t["p50_ulp"].get<double>(), t["p99_ulp"].get<double>());
    EXPECT_LE(t["p99_ulp"].get<double>(), t["max_ulp"].get<double>());
    EXPECT_LE(t["p99_bound_ratio"].get<double>(), 1.0);
    EXPECT_LE(t["max_bound_ratio"].get<double>(), 2.0);
    differs_from_canonical = differs_from_canonical || j["metrics"]["max_ulp"].get<double>() > 0;
  }
  EXPECT_TRUE(differs_from_canonical) << "split-K reorders the sum: some bits differ";
  const auto s = json::parse(result.summary.line);
  EXPECT_EQ(s["tolerance"]["scenarios"], 48);
  EXPECT_TRUE(s["tolerance"]["worst"]["max_bound_ratio"].is_number());

  // Bounds are real: a p99 bound of almost nothing fails with tolerance_exceeded.
  req.tolerance_p99 = 1e-12;
  req.configs = {"default"};
  req.shapes = {"33x29x517"};
  const auto tight = run(req);
  EXPECT_GT(tight.summary.fail, 0u);
  for (const auto& r : tight.records) {
    if (r.outcome == "fail") {
      EXPECT_EQ(r.reason, ReasonCode::tolerance_exceeded);
    }
  }
}

TEST(ParitySplitK, KernelIsDeterministicAndWithinGammaKOnOddShapes) {
  CLGAUGE_REQUIRE_DEVICE();
  auto& dev = *test::shared_device();
  GemmKernel kernel(dev, test::shared_cache(),
                    GemmConfig::make("gemm.splitk", {{"SPLITS", 8}, {"WGX", 8}, {"WGY", 4}}));
  for (const auto& [m, n, k] : std::vector<std::array<std::int64_t, 3>>{
           {1, 1, 1}, {7, 5, 3}, {31, 17, 1001}, {5, 64, 16}}) {
    GemmProblem p;
    p.m = m;
    p.n = n;
    p.k = k;
    p.alpha = 1.25f;
    p.beta = -0.5f;
    p.layout = Layout::col;
    p.trans_a = Op::t;
    const auto r = p.resolved();
    const auto in = make_gemm_inputs(r, 99 + static_cast<std::uint64_t>(k), Distribution::normal);
    std::vector<float> first;
    for (int rep = 0; rep < 2; ++rep) {
      auto buf = upload_gemm_inputs(dev, in);
      kernel.run(r, buf.a, buf.b, buf.c);
      std::vector<float> got(in.c.size());
      dev.queue().enqueue_read_buffer(buf.c, 0, got.size() * 4, got.data());
      EXPECT_TRUE(compare_tolerance(r, in.a, in.b, in.c, got).passed())
          << m << "x" << n << "x" << k;
      if (rep == 0) {
        first = got;
      } else {
        EXPECT_EQ(std::memcmp(first.data(), got.data(), got.size() * 4), 0) << "deterministic";
      }
    }
  }
}

}  // namespace
}  // namespace clgauge
