#include <gtest/gtest.h>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/hash.hpp"

namespace clgauge {
namespace {

DeviceInfo cpu_like() {
  DeviceInfo d;
  d.type = "cpu";
  d.max_wg_size = 4096;
  d.max_wi_sizes = {4096, 4096, 4096};
  d.local_mem_bytes = 512 * 1024;
  return d;
}

DeviceInfo gpu_like() {
  DeviceInfo d;
  d.type = "gpu";
  d.max_wg_size = 1024;
  d.max_wi_sizes = {1024, 1024, 64};
  d.local_mem_bytes = 48 * 1024;
  return d;
}

TEST(GemmConfig, CanonicalStringAndIdAreGolden) {
  // These bytes are a promise: ids name results in stores and logs.
  const auto r = GemmConfig::defaults_for("gemm.regtile");
  EXPECT_EQ(r.canonical(), "family=gemm.regtile;MR=6;NR=16;VW=8;WGM=1;WGN=16;PACK_A=1");
  EXPECT_EQ(r.id(), hex16(xxh3_64("family=gemm.regtile;MR=6;NR=16;VW=8;WGM=1;WGN=16;PACK_A=1")));
  EXPECT_EQ(r.id(), "ad126281051fe7b2");
  const auto l = GemmConfig::defaults_for("gemm.localtile");
  EXPECT_EQ(l.canonical(),
            "family=gemm.localtile;MWG=64;NWG=64;KWG=16;MDIMC=16;NDIMC=16;VWM=4;LPAD=1");
}

TEST(GemmConfig, MakeAppliesOverridesInDeclaredOrder) {
  const auto c = GemmConfig::make("gemm.regtile", {{"PACK_A", 0}, {"MR", 2}});
  EXPECT_EQ(c.canonical(), "family=gemm.regtile;MR=2;NR=16;VW=8;WGM=1;WGN=16;PACK_A=0");
  EXPECT_EQ(c.get("MR"), 2);
  EXPECT_THROW(c.get("KWG"), Error);
  EXPECT_THROW(GemmConfig::make("gemm.regtile", {{"BOGUS", 1}}), Error);
  EXPECT_THROW(GemmConfig::defaults_for("gemm.none"), Error);
}

TEST(GemmConfig, ValidityRulesNameTheRule) {
  const auto cpu = cpu_like();
  auto why =
      gemm_config_invalid_reason(GemmConfig::make("gemm.regtile", {{"NR", 12}, {"VW", 8}}), cpu);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("NR % VW"), std::string::npos);
  why = gemm_config_invalid_reason(GemmConfig::make("gemm.regtile", {{"VW", 3}, {"NR", 12}}), cpu);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("VW = 3"), std::string::npos);
  why = gemm_config_invalid_reason(GemmConfig::make("gemm.regtile", {{"MR", 16}, {"NR", 32}}), cpu);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("register budget"), std::string::npos);
  why = gemm_config_invalid_reason(GemmConfig::make("gemm.regtile", {{"WGM", 64}, {"WGN", 128}}),
                                   cpu);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("max_wg_size"), std::string::npos);

  const auto gpu = gpu_like();
  why = gemm_config_invalid_reason(
      GemmConfig::make("gemm.localtile", {{"MWG", 128}, {"NWG", 128}, {"KWG", 64}}), gpu);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("local memory"), std::string::npos);
  why = gemm_config_invalid_reason(GemmConfig::make("gemm.localtile", {{"MDIMC", 12}}), gpu);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("MWG % MDIMC"), std::string::npos);
  why = gemm_config_invalid_reason(GemmConfig::make("gemm.localtile", {{"VWM", 8}}), gpu);
  ASSERT_TRUE(why);
  EXPECT_FALSE(gemm_config_invalid_reason(GemmConfig::defaults_for("gemm.localtile"), gpu));

  GemmConfig shuffled = GemmConfig::defaults_for("gemm.regtile");
  std::swap(shuffled.params[0], shuffled.params[1]);
  EXPECT_TRUE(gemm_config_invalid_reason(shuffled, cpu));
}

TEST(GemmConfig, DefaultsPerDeviceTypeAreValid) {
  for (const auto& d : {cpu_like(), gpu_like()}) {
    const auto c = default_gemm_config(d);
    EXPECT_FALSE(gemm_config_invalid_reason(c, d)) << c.canonical();
  }
  EXPECT_EQ(default_gemm_config(cpu_like()).family, "gemm.regtile");
  EXPECT_EQ(default_gemm_config(gpu_like()).family, "gemm.localtile");
  DeviceInfo tiny = gpu_like();
  tiny.max_wg_size = 1;
  tiny.local_mem_bytes = 0;
  EXPECT_FALSE(gemm_config_invalid_reason(default_gemm_config(tiny), tiny));
}

TEST(GemmProblem, LeadingDimensionsIndicesAndValidation) {
  GemmProblem p;
  p.m = 3;
  p.n = 5;
  p.k = 7;
  EXPECT_EQ(p.min_lda(), 7);
  EXPECT_EQ(p.min_ldb(), 5);
  EXPECT_EQ(p.min_ldc(), 5);
  p.trans_a = Op::t;
  EXPECT_EQ(p.min_lda(), 3);
  p.layout = Layout::col;
  EXPECT_EQ(p.min_lda(), 7);  // A stored k x m column-major: columns of length k
  EXPECT_EQ(p.min_ldc(), 3);
  p = p.resolved();
  p.offset_c = 2;
  EXPECT_EQ(p.c_index(1, 2), 2u + 2u * 3u + 1u);
  EXPECT_EQ(p.c_elements(), 2u + 4u * 3u + 3u);
  EXPECT_EQ(p.a_index(2, 4), 4u + 2u * 7u);
  EXPECT_EQ(p.shape(), "3x5x7");
  GemmProblem bad = p;
  bad.ldc = 2;
  EXPECT_THROW(bad.validate(), Error);
  bad = p;
  bad.k = 0;
  try {
    bad.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_EQ(std::string(e.what()), "k = 0: must be >= 1");
  }
}

}  // namespace
}  // namespace clgauge
