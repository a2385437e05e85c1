// Every config of a sweep of every GEMM family gives the canonical bits on every
// shape, layout, transpose, leading dimension, offset and alpha/beta below.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <boost/compute/buffer.hpp>

#include "clgauge/gemm.hpp"
#include "clgauge/parity.hpp"
#include "clgauge/space.hpp"
#include "clgauge/tuning_db.hpp"
#include "device_fixture.hpp"

namespace clgauge {

// Test names and failure messages show configs by their canonical string.
void PrintTo(const GemmConfig& c, std::ostream* os) {
  *os << c.canonical();
}

namespace {

namespace bc = boost::compute;

std::vector<GemmProblem> parity_problems() {
  std::vector<GemmProblem> out;
  const std::int64_t shapes[][3] = {{1, 1, 1},     {7, 13, 31},  {13, 7, 127},  {31, 127, 7},
                                    {127, 31, 13}, {17, 19, 23}, {65, 1, 9},    {1, 67, 5},
                                    {200, 3, 2},   {3, 200, 40}, {33, 65, 129}, {64, 64, 64}};
  std::uint64_t variant = 0;
  for (const auto& s : shapes) {
    for (const Layout layout : {Layout::row, Layout::col}) {
      for (const Op ta : {Op::n, Op::t}) {
        for (const Op tb : {Op::n, Op::t}) {
          GemmProblem p;
          p.m = s[0];
          p.n = s[1];
          p.k = s[2];
          p.layout = layout;
          p.trans_a = ta;
          p.trans_b = tb;
          // Rotate through alpha/beta cases, padded leading dimensions and offsets.
          switch (variant++ % 4) {
            case 0:
              break;
            case 1:
              p.alpha = -1.5f;
              p.beta = 0.75f;
              p.lda = p.min_lda() + 3;
              p.ldc = p.min_ldc() + 5;
              break;
            case 2:
              p.alpha = 0.5f;
              p.beta = 1.0f;
              p.ldb = p.min_ldb() + 1;
              p.offset_a = 7;
              p.offset_b = 2;
              p.offset_c = 11;
              break;
            default:
              p.alpha = 2.0f;
              p.beta = 0.0f;  // C holds NaN: must never be read
              p.lda = p.min_lda() + 1;
              p.ldb = p.min_ldb() + 2;
              p.ldc = p.min_ldc() + 3;
              p.offset_c = 4;
              break;
          }
          out.push_back(p);
        }
      }
    }
  }
  return out;
}

// A small sweep over each family: tile shapes that do and do not divide the problems,
// every vector width, packed and in-place A, several work-group shapes.
std::vector<GemmConfig> parity_configs() {
  using P = std::vector<std::pair<std::string, std::int64_t>>;
  const std::vector<P> regtile = {
      {{"MR", 1}, {"NR", 1}, {"VW", 1}, {"WGM", 1}, {"WGN", 1}, {"PACK_A", 0}},
      {{"MR", 3}, {"NR", 6}, {"VW", 2}, {"WGM", 2}, {"WGN", 3}, {"PACK_A", 1}},
      {{"MR", 4}, {"NR", 16}, {"VW", 4}, {"WGM", 4}, {"WGN", 4}, {"PACK_A", 0}},
      {{"MR", 6}, {"NR", 16}, {"VW", 8}, {"WGM", 1}, {"WGN", 16}, {"PACK_A", 1}},
      {{"MR", 8}, {"NR", 32}, {"VW", 16}, {"WGM", 1}, {"WGN", 8}, {"PACK_A", 1}},
      {{"MR", 4}, {"NR", 64}, {"VW", 16}, {"WGM", 2}, {"WGN", 2}, {"PACK_A", 0}},
  };
  const std::vector<P> localtile = {
      {{"MWG", 8}, {"NWG", 8}, {"KWG", 4}, {"MDIMC", 4}, {"NDIMC", 4}, {"VWM", 1}, {"LPAD", 0}},
      {{"MWG", 16}, {"NWG", 32}, {"KWG", 8}, {"MDIMC", 8}, {"NDIMC", 8}, {"VWM", 2}, {"LPAD", 1}},
      {{"MWG", 32}, {"NWG", 16}, {"KWG", 16}, {"MDIMC", 8}, {"NDIMC", 4}, {"VWM", 4}, {"LPAD", 1}},
      {{"MWG", 64},
       {"NWG", 64},
       {"KWG", 16},
       {"MDIMC", 16},
       {"NDIMC", 16},
       {"VWM", 4},
       {"LPAD", 1}},
  };
  // gemm.direct: every vector width, tiles that divide nothing, a tile wider than most
  // problems (the clamped gather path), and work-groups of several shapes.
  const std::vector<P> direct = {
      {{"MR", 1}, {"NR", 1}, {"VW", 1}, {"WGM", 1}, {"WGN", 1}},
      {{"MR", 3}, {"NR", 6}, {"VW", 2}, {"WGM", 2}, {"WGN", 3}},
      {{"MR", 5}, {"NR", 12}, {"VW", 4}, {"WGM", 1}, {"WGN", 1}},
      {{"MR", 4}, {"NR", 16}, {"VW", 8}, {"WGM", 1}, {"WGN", 1}},
      {{"MR", 8}, {"NR", 32}, {"VW", 16}, {"WGM", 2}, {"WGN", 1}},
      {{"MR", 2}, {"NR", 64}, {"VW", 16}, {"WGM", 1}, {"WGN", 2}},
  };
  std::vector<GemmConfig> out;
  for (const auto& p : direct) out.push_back(GemmConfig::make("gemm.direct", p));
  for (const auto& p : regtile) out.push_back(GemmConfig::make("gemm.regtile", p));
  for (const auto& p : localtile) out.push_back(GemmConfig::make("gemm.localtile", p));
  return out;
}

// Uploads the inputs, runs the kernel and requires the canonical reference's bits in the
// whole C buffer (padding included).
void expect_canonical_bits(Device& dev, GemmKernel& kernel, const GemmProblem& p,
                           const GemmHostData& host) {
  auto [a, b, c] = upload_gemm_inputs(dev, host);
  kernel.run(p, a, b, c);
  std::vector<float> got(host.c.size());
  dev.queue().enqueue_read_buffer(c, 0, got.size() * sizeof(float), got.data());
  std::vector<float> want = host.c;
  gemm_reference_canonical(p, host.a, host.b, want);
  const auto report = compare_bitwise(p, got, want);
  ASSERT_TRUE(report.passed()) << kernel.config().canonical() << " on " << p.shape() << " layout "
                               << to_string(p.layout) << " op " << to_string(p.trans_a)
                               << to_string(p.trans_b) << " alpha " << p.alpha << " beta " << p.beta
                               << ": " << to_json(report);
}

class GemmParity : public ::testing::TestWithParam<GemmConfig> {};

TEST_P(GemmParity, BitwiseEqualToCanonicalReferenceOnEveryProblem) {
  CLGAUGE_REQUIRE_DEVICE();
  auto& dev = *test::shared_device();
  const GemmConfig& cfg = GetParam();
  ASSERT_FALSE(gemm_config_invalid_reason(cfg, dev.info()).has_value());
  GemmKernel kernel(dev, test::shared_cache(), cfg);
  std::uint64_t seed = 1000;
  for (const auto& problem : parity_problems()) {
    const auto p = problem.resolved();
    expect_canonical_bits(dev, kernel, p, make_gemm_inputs(p, seed++, Distribution::uniform, true));
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Sweep, GemmParity, ::testing::ValuesIn(parity_configs()),
                         [](const auto& info) {
                           // "gemm.regtile" -> "regtile_<id>"
                           return info.param.family.substr(5) + "_" + info.param.id();
                         });

// Runs a config on every 4th parity problem (all layouts, transposes and alpha/beta
// cases still appear) and requires the canonical bits.
void expect_bitwise_on_problems(Device& dev, const GemmConfig& cfg, std::size_t stride) {
  GemmKernel kernel(dev, test::shared_cache(), cfg);
  const auto problems = parity_problems();
  for (std::size_t i = 0; i < problems.size(); i += stride) {
    const auto p = problems[i].resolved();
    expect_canonical_bits(dev, kernel, p,
                          make_gemm_inputs(p, 7000 + i, Distribution::normal, true));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Every valid config of the shipped basic spaces (what a first tuning run tries) is
// valid by the family's own rules and gives the canonical bits.
class GemmBasicSpace : public ::testing::TestWithParam<std::string> {};

TEST_P(GemmBasicSpace, EveryValidConfigIsBitwiseCanonical) {
  CLGAUGE_REQUIRE_DEVICE();
  auto& dev = *test::shared_device();
  auto space = compile_space(find_space_file(GetParam()), DeviceLimits::from_device(dev.info()));
  const auto candidates = space.candidates();
  ASSERT_FALSE(candidates.empty());
  const auto names = space.space().parameter_names();
  for (const auto& cand : candidates) {
    GemmConfig cfg{space.space().family, {}};
    for (std::size_t i = 0; i < names.size(); ++i)
      cfg.params.emplace_back(names[i], cand.values[i]);
    ASSERT_EQ(cfg.id(), cand.id);
    ASSERT_FALSE(gemm_config_invalid_reason(cfg, dev.info())) << cfg.canonical();
    expect_bitwise_on_problems(dev, cfg, 4);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, GemmBasicSpace,
                         ::testing::Values("direct_basic", "regtile_basic", "localtile_basic"));

// The configs the shipped tuning databases select (whatever device they were tuned on)
// are valid here and give the canonical bits: a shipped entry is a promise that
// clgauge::gemm() runs it.
TEST(GemmShippedDb, EveryShippedConfigIsBitwiseCanonical) {
  CLGAUGE_REQUIRE_DEVICE();
  auto& dev = *test::shared_device();
  std::set<std::string> seen;
  const std::filesystem::path dir = std::filesystem::path(CLGAUGE_SOURCE_DIR) / "tuning" / "db";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    for (const auto& entry : TuningDatabase::load(file).entries) {
      if (!seen.insert(entry.config.id()).second) continue;
      if (auto why = gemm_config_invalid_reason(entry.config, dev.info())) {
        ADD_FAILURE() << file << ": " << *why;
        continue;
      }
      expect_bitwise_on_problems(dev, entry.config, 3);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_FALSE(seen.empty());
}

TEST(GemmDefault, DefaultConfigIsValidOnTheDevice) {
  CLGAUGE_REQUIRE_DEVICE();
  const auto& info = test::shared_device()->info();
  const auto cfg = default_gemm_config(info);
  EXPECT_FALSE(gemm_config_invalid_reason(cfg, info).has_value()) << cfg.canonical();
}

TEST(GemmDefault, OneCallGemmMatchesReferenceAtSquare256) {
  CLGAUGE_REQUIRE_DEVICE();
  auto& dev = *test::shared_device();
  GemmProblem p;
  p.m = p.n = p.k = 256;
  p.alpha = 1.25f;
  p.beta = -0.5f;
  const auto host = make_gemm_inputs(p, 42, Distribution::normal);
  auto [a, b, c] = upload_gemm_inputs(dev, host);
  const auto t = gemm(dev, p, a, b, c, std::nullopt, test::shared_cache());
  EXPECT_GT(t.kernel_ms, 0.0);
  std::vector<float> got(host.c.size());
  dev.queue().enqueue_read_buffer(c, 0, got.size() * sizeof(float), got.data());
  std::vector<float> want = host.c;
  gemm_reference_canonical(p, host.a, host.b, want);
  EXPECT_TRUE(compare_bitwise(p, got, want).passed());
  EXPECT_TRUE(compare_tolerance(p, host.a, host.b, host.c, got).passed());
}

}  // namespace
}  // namespace clgauge
