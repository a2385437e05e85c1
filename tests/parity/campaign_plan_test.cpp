// The pure part of parity campaigns: the scenario matrix, derived seeds, case ids, the
// allowlist and replay commands. No device needed.

#include <gtest/gtest.h>

#include <set>

#include "clgauge/campaign.hpp"
#include "clgauge/random.hpp"

namespace clgauge {
namespace {

DeviceInfo fake_cpu() {
  DeviceInfo d;
  d.type = "cpu";
  d.name = "pthread-fake";
  d.compute_units = 2;
  d.local_mem_bytes = 64 * 1024;
  d.max_wg_size = 4096;
  d.max_wi_sizes = {4096, 4096, 4096};
  d.global_mem_bytes = std::uint64_t{1} << 33;
  d.max_alloc_bytes = std::uint64_t{1} << 31;
  return d;
}

CampaignRequest gemm_request() {
  CampaignRequest r;
  r.suite = CampaignSuite::gemm;
  r.configs = {"default"};
  return r;
}

TEST(ParityPlan, DefaultGemmMatrixCoversLayoutsOpsVariantsAndEveryFamily) {
  const auto plan = plan_campaign(gemm_request(), fake_cpu(), {});
  const auto families = gemm_families();
  ASSERT_EQ(plan.configs.size(), families.size());
  // configs x 4 shapes x 2 layouts x 4 op pairs x 3 variants
  EXPECT_EQ(plan.scenarios.size(), families.size() * 4 * 2 * 4 * 3);
  std::set<std::string> cases, layouts_ops, variants, shapes, config_families;
  bool padded_seen = false, nan_seen = false;
  for (const auto& s : plan.scenarios) {
    ASSERT_TRUE(s.gemm);
    EXPECT_TRUE(cases.insert(s.case_id).second) << "case ids are unique: " << s.case_id;
    const auto& p = s.gemm->problem;
    layouts_ops.insert(std::string(to_string(p.layout)) + std::string(to_string(p.trans_a)) +
                       std::string(to_string(p.trans_b)));
    variants.insert(s.gemm->variant);
    shapes.insert(s.shape);
    config_families.insert(s.gemm->config.family);
    EXPECT_EQ(s.bitwise, gemm_family(s.gemm->config.family).bitwise);
    if (s.gemm->variant == "padded") {
      padded_seen = true;
      EXPECT_GT(p.lda, p.min_lda());
      EXPECT_GT(p.ldc, p.min_ldc());
      EXPECT_GT(p.offset_c, 0);
    }
    if (s.gemm->variant == "beta0nan") {
      nan_seen = true;
      EXPECT_EQ(p.beta, 0.0f);
    }
  }
  EXPECT_EQ(layouts_ops.size(), 8u);
  EXPECT_EQ(variants, (std::set<std::string>{"tight", "padded", "beta0nan"}));
  EXPECT_TRUE(padded_seen && nan_seen);
  EXPECT_TRUE(shapes.count("1x1x1") && shapes.count("131x127x257"));  // odd and prime sizes
  EXPECT_TRUE(config_families.count("gemm.splitk"));
}

TEST(ParityPlan, PlanIsAPureFunctionAndSeedsAreDerived) {
  auto req = gemm_request();
  req.seeds = 4;
  req.seed = 7;
  const auto a = plan_campaign(req, fake_cpu(), {});
  const auto b = plan_campaign(req, fake_cpu(), {});
  ASSERT_EQ(a.scenarios.size(), b.scenarios.size());
  for (std::size_t i = 0; i < a.scenarios.size(); ++i) {
    const auto& s = a.scenarios[i];
    EXPECT_EQ(s.case_id, b.scenarios[i].case_id);
    ASSERT_EQ(s.seeds.size(), 4u);
    for (std::uint64_t k = 0; k < 4; ++k) {
      EXPECT_EQ(s.seeds[k], derive_seed(7, "parity", s.config_id, s.case_id, 0, k));
    }
    EXPECT_EQ(s.seeds, b.scenarios[i].seeds);
  }
  // Another master seed changes every seed; the matrix stays.
  req.seed = 8;
  const auto c = plan_campaign(req, fake_cpu(), {});
  EXPECT_EQ(c.scenarios.front().case_id, a.scenarios.front().case_id);
  EXPECT_NE(c.scenarios.front().seeds, a.scenarios.front().seeds);
}

TEST(ParityPlan, CaseSelectsExactlyOneScenarioByCaseOrScenarioId) {
  auto req = gemm_request();
  const auto all = plan_campaign(req, fake_cpu(), {});
  const auto& target = all.scenarios[37];
  req.case_id = target.case_id;
  auto one = plan_campaign(req, fake_cpu(), {});
  ASSERT_EQ(one.scenarios.size(), 1u);
  EXPECT_EQ(one.scenarios[0].case_id, target.case_id);
  EXPECT_EQ(one.scenarios[0].seeds, target.seeds);
  EXPECT_EQ(one.configs.size(), 1u);
  req.case_id = "gemm/strict:" + target.case_id;
  one = plan_campaign(req, fake_cpu(), {});
  ASSERT_EQ(one.scenarios.size(), 1u);
  EXPECT_EQ(one.scenarios[0].case_id, target.case_id);
  req.case_id = "gemm.direct@0000000000000000/row-nn/1x1x1/tight";
  EXPECT_THROW(plan_campaign(req, fake_cpu(), {}), Error);
}

TEST(ParityPlan, PropagateMatrixHasGeneratorsParamSetsAndBatches) {
  CampaignRequest req;
  req.suite = CampaignSuite::propagate;
  const auto plan = plan_campaign(req, fake_cpu(), {});
  EXPECT_EQ(plan.scenarios.size(), 4u * 2 * 2);  // graphs x param sets x batch sizes
  std::set<std::string> gens, params;
  std::set<std::int32_t> batches;
  for (const auto& s : plan.scenarios) {
    ASSERT_TRUE(s.propagate);
    gens.insert(s.propagate->generator);
    params.insert(s.propagate->params_name);
    batches.insert(s.propagate->batch);
  }
  EXPECT_EQ(gens, (std::set<std::string>{"rmat", "uniform"}));
  EXPECT_EQ(params.size(), 2u);
  EXPECT_EQ(batches, (std::set<std::int32_t>{1, 3}));
  req.graphs = "uniform:10x20";
  EXPECT_EQ(plan_campaign(req, fake_cpu(), {}).scenarios.size(), 4u);
}

TEST(ParityPlan, BadInputIsRefusedNamingTheFlag) {
  auto expect_bad = [](CampaignRequest req, const std::string& needle) {
    try {
      plan_campaign(req, fake_cpu(), {});
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ReasonCode::bad_input) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto r = gemm_request();
  r.seeds = 0;
  expect_bad(r, "--seeds");
  r = gemm_request();
  r.families = {"gemm.none"};
  expect_bad(r, "gemm.none");
  r = gemm_request();
  r.shapes = {"0x1x1"};
  expect_bad(r, "--shapes");
  r = gemm_request();
  r.configs = {"family=gemm.direct;MR=x"};
  expect_bad(r, "MR");
  r = gemm_request();
  r.configs = {"ffffffffffffffff"};
  expect_bad(r, "unknown config id");
  CampaignRequest p;
  p.suite = CampaignSuite::propagate;
  p.graphs = "star:10x10";
  expect_bad(p, "--graphs[0]");
  p.graphs = "rmat:10x10,";
  expect_bad(p, "--graphs[1]");
  EXPECT_THROW(campaign_suite_from_string("gemms"), Error);
  EXPECT_THROW(campaign_mode_from_string("lenient"), Error);
  EXPECT_EQ(campaign_mode_from_string("both"), CampaignMode::both);
}

TEST(ParityPlan, SplitKIsNeverADeviceDefault) {
  EXPECT_FALSE(gemm_family("gemm.splitk").bitwise);
  auto gpu = fake_cpu();
  gpu.type = "gpu";
  for (const auto& d : {fake_cpu(), gpu}) {
    EXPECT_NE(default_gemm_config(d).family, "gemm.splitk");
    for (std::int64_t m : {1, 7, 64, 1000, 4096}) {
      for (std::int64_t k : {1, 100, 8192}) {
        GemmProblem p;
        p.m = m;
        p.n = 33;
        p.k = k;
        EXPECT_NE(default_gemm_config(d, p).family, "gemm.splitk");
      }
    }
  }
}

TEST(ParityAllowlist, ParsesAndMatchesGlobsOverWholeIds) {
  const auto a = parse_allowlist(
      R"({"allow": [{"pattern": "gemm/*:gemm.splitk@*", "reason": "under study"},
                    {"pattern": "propagate/strict:rmat-64x256/capped/batch?", "reason": "r2"}]})",
      "a.json");
  ASSERT_EQ(a.size(), 2u);
  const auto* m =
      match_allowlist(a, "gemm/hardened:gemm.splitk@0123456789abcdef/row-nn/1x1x1/tight");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->reason, "under study");
  EXPECT_EQ(match_allowlist(a, "gemm/hardened:gemm.direct@0123456789abcdef/row-nn/1x1x1/tight"),
            nullptr);
  EXPECT_NE(match_allowlist(a, "propagate/strict:rmat-64x256/capped/batch3"), nullptr);
  EXPECT_EQ(match_allowlist(a, "propagate/strict:rmat-64x256/capped/batch13"), nullptr);
  EXPECT_EQ(match_allowlist(a, "xpropagate/strict:rmat-64x256/capped/batch3"), nullptr);
  EXPECT_TRUE(parse_allowlist(R"({"allow": []})", "e.json").empty());
}

TEST(ParityAllowlist, MalformedFilesAreBadInputNamingTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "want an object"},
      {"{", "malformed JSON"},
      {R"({})", "allow: missing"},
      {R"({"allow": {}})", "want an array"},
      {R"({"allow": [], "x": 1})", "x: unknown key"},
      {R"({"allow": [3]})", "allow[0]"},
      {R"({"allow": [{"pattern": "a"}]})", "allow[0].reason: missing"},
      {R"({"allow": [{"pattern": "a", "reason": ""}]})", "allow[0].reason: empty"},
      {R"({"allow": [{"pattern": 1, "reason": "r"}]})", "allow[0].pattern"},
      {R"({"allow": [{"pattern": "a", "reason": "r", "extra": 1}]})", "allow[0].extra"},
  };
  for (const auto& [text, needle] : cases) {
    try {
      parse_allowlist(text, "bad.json");
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ReasonCode::bad_input);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    }
  }
}

TEST(ParityReplay, CommandNamesTheCaseAndTheMatrixFlags) {
  auto req = gemm_request();
  req.shapes = {"13x7x31"};
  req.configs = {"family=gemm.direct;MR=4;NR=16;VW=8;WGM=1;WGN=1"};
  req.seed = 9;
  req.seeds = 2;
  req.device_spec = "pthread";
  const auto plan = plan_campaign(req, fake_cpu(), {});
  const auto cmd = campaign_replay_command(req, plan.scenarios[5], CampaignMode::strict);
  EXPECT_EQ(cmd,
            "clgauge parity --suite gemm --seed 9 --seeds 2 --mode strict --shapes 13x7x31 "
            "--configs 'family=gemm.direct;MR=4;NR=16;VW=8;WGM=1;WGN=1' --device pthread "
            "--case " +
                plan.scenarios[5].case_id);
}

}  // namespace
}  // namespace clgauge
