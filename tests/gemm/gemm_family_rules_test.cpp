// The family objects' own rules against every shipped space, with no device: a space
// whose constraints admit a config its family rejects is a bug in the space file.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/space.hpp"
#include "clgauge/tuning_db.hpp"

namespace clgauge {
namespace {

namespace fs = std::filesystem;

const fs::path kSpaces = fs::path(CLGAUGE_SOURCE_DIR) / "tuning" / "spaces";

std::vector<fs::path> shipped_spaces() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kSpaces)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_gemm_family(const std::string& name) {
  for (const auto& f : gemm_families()) {
    if (f.name == name) return true;
  }
  return false;
}

// Limits to check every space under: the example GPU, a typical PoCL CPU device
// (committed fixture, so this runs with no device) and the live devices when present.
std::vector<std::pair<std::string, DeviceLimits>> limit_sets() {
  std::vector<std::pair<std::string, DeviceLimits>> out;
  out.emplace_back("example_gpu", DeviceLimits::load(fs::path(CLGAUGE_SOURCE_DIR) / "tuning" /
                                                     "limits" / "example_gpu.json"));
  out.emplace_back("pocl_cpu fixture", DeviceLimits::load(fs::path(CLGAUGE_SOURCE_DIR) / "tests" /
                                                          "gemm" / "pocl_cpu_limits.json"));
  for (const auto& d : list_devices()) out.emplace_back(d.label(), DeviceLimits::from_device(d));
  return out;
}

TEST(GemmFamilyRules, EveryCandidateOfEveryShippedSpaceIsValidForItsFamily) {
  std::size_t checked = 0;
  std::set<std::string> families_seen;
  for (const auto& file : shipped_spaces()) {
    const auto space = ParameterSpace::load(file);
    if (!is_gemm_family(space.family)) continue;  // e.g. the synthetic enumeration benchmark
    families_seen.insert(space.family);
    for (const auto& [label, limits] : limit_sets()) {
      CompiledSpace compiled(space, limits);
      const auto names = space.parameter_names();
      const auto candidates = compiled.candidates();
      EXPECT_FALSE(candidates.empty()) << file.filename() << " under " << label;
      for (const auto& cand : candidates) {
        GemmConfig cfg{space.family, {}};
        for (std::size_t i = 0; i < names.size(); ++i)
          cfg.params.emplace_back(names[i], cand.values[i]);
        const auto why = gemm_config_invalid_reason(cfg, limits);
        ASSERT_FALSE(why) << file.filename() << " under " << label << " admits " << cfg.canonical()
                          << ": " << *why;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100u);
  std::set<std::string> all;
  for (const auto& f : gemm_families()) all.insert(f.name);
  EXPECT_EQ(families_seen, all) << "every family ships at least one space";
}

TEST(GemmFamilyRules, BasicSpacesOfEachFamilyExistAndBelongToIt) {
  for (const auto& f : gemm_families()) {
    const auto spaces = gemm_family_spaces(f.name);
    ASSERT_FALSE(spaces.empty()) << f.name;
    for (const auto& name : spaces) {
      const auto space = ParameterSpace::load(kSpaces / (name + ".json"));
      EXPECT_EQ(space.family, f.name) << name;
      std::vector<std::string> declared;
      for (const auto& p : f.params) declared.push_back(p.name);
      EXPECT_EQ(space.parameter_names(), declared) << name << " lists the family's parameters "
                                                   << "in declared order";
    }
  }
  EXPECT_EQ(gemm_family_spaces("gemm.direct"), std::vector<std::string>{"direct_basic"});
  EXPECT_THROW(gemm_family_spaces("gemm.none"), Error);
}

TEST(GemmFamilyRules, LimitsFileAndDeviceInfoGiveTheSameAnswer) {
  DeviceInfo d;
  d.type = "gpu";
  d.max_wg_size = 256;
  d.max_wi_sizes = {256, 256, 64};
  d.local_mem_bytes = 32 * 1024;
  const auto limits = DeviceLimits::from_device(d);
  for (const auto& f : gemm_families()) {
    for (const auto& name : gemm_family_spaces(f.name)) {
      auto space = compile_space(kSpaces / (name + ".json"), limits);
      for (const auto& cand : space.candidates()) {
        GemmConfig cfg{f.name, {}};
        const auto names = space.space().parameter_names();
        for (std::size_t i = 0; i < names.size(); ++i)
          cfg.params.emplace_back(names[i], cand.values[i]);
        EXPECT_EQ(gemm_config_invalid_reason(cfg, d), gemm_config_invalid_reason(cfg, limits));
      }
    }
  }
  // A config over the work-group limit is refused the same way by both.
  const auto big = GemmConfig::make("gemm.direct", {{"WGM", 32}, {"WGN", 16}});
  ASSERT_TRUE(gemm_config_invalid_reason(big, limits));
  EXPECT_EQ(gemm_config_invalid_reason(big, d), gemm_config_invalid_reason(big, limits));
  EXPECT_NE(gemm_config_invalid_reason(big, limits)->find("max_wg_size 256"), std::string::npos);
}

TEST(GemmDirectRules, ValidityRulesNameTheRule) {
  DeviceLimits cpu;
  cpu.max_wg_size = 4096;
  cpu.max_wi_sizes = {4096, 4096, 4096};
  cpu.local_mem_bytes = 0;  // the direct family needs no local memory
  cpu.is_cpu = true;
  EXPECT_FALSE(gemm_config_invalid_reason(GemmConfig::defaults_for("gemm.direct"), cpu));
  auto why = [&](std::vector<std::pair<std::string, std::int64_t>> o) {
    return gemm_config_invalid_reason(GemmConfig::make("gemm.direct", o), cpu).value_or("");
  };
  EXPECT_NE(why({{"NR", 12}, {"VW", 8}}).find("NR % VW"), std::string::npos);
  EXPECT_NE(why({{"VW", 3}, {"NR", 12}}).find("VW = 3"), std::string::npos);
  EXPECT_NE(why({{"VW", 32}, {"NR", 32}}).find("VW = 32"), std::string::npos);
  EXPECT_NE(why({{"MR", 0}}).find("MR = 0"), std::string::npos);
  EXPECT_NE(why({{"MR", 17}}).find("MR = 17"), std::string::npos);
  EXPECT_NE(why({{"NR", 256}, {"MR", 1}}).find("NR = 256"), std::string::npos);
  EXPECT_NE(why({{"MR", 16}, {"NR", 32}}).find("register budget"), std::string::npos);
  EXPECT_NE(why({{"WGM", 0}}).find("work-group sizes"), std::string::npos);
  EXPECT_NE(why({{"WGM", 64}, {"WGN", 128}}).find("max_wg_size"), std::string::npos);
  cpu.max_wi_sizes = {4, 4096, 4096};
  EXPECT_NE(why({{"WGN", 8}}).find("max_wi_sizes"), std::string::npos);
  // The reason names the family and the config id.
  const auto cfg = GemmConfig::make("gemm.direct", {{"VW", 3}});
  EXPECT_EQ(why({{"VW", 3}}).rfind("gemm.direct config " + cfg.id() + ": ", 0), 0u);
}

TEST(GemmDirectRules, CanonicalStringIsGolden) {
  // These bytes are a promise: ids name results in stores, logs and databases.
  const auto d = GemmConfig::defaults_for("gemm.direct");
  EXPECT_EQ(d.canonical(), "family=gemm.direct;MR=4;NR=16;VW=8;WGM=1;WGN=1");
  EXPECT_EQ(gemm_family("gemm.direct").kernel, "gemm_direct");
  EXPECT_TRUE(gemm_family("gemm.direct").bitwise);
  std::vector<std::string> names;
  for (const auto& f : gemm_families()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"gemm.direct", "gemm.localtile", "gemm.regtile",
                                             "gemm.splitk"}));
}

}  // namespace
}  // namespace clgauge

namespace clgauge {
namespace {

DeviceInfo pocl_avx512() {
  DeviceInfo d;
  d.type = "cpu";
  d.name = "pthread-skylake-avx512-AMD EPYC";
  d.compute_units = 2;
  d.max_wg_size = 4096;
  d.max_wi_sizes = {4096, 4096, 4096};
  d.local_mem_bytes = 1 << 20;
  return d;
}

GemmProblem shape(std::int64_t m, std::int64_t n, std::int64_t k) {
  GemmProblem p;
  p.m = m;
  p.n = n;
  p.k = k;
  return p;
}

TEST(GemmDefaultSizeAware, SmallAndSkinnyProblemsGetADirectConfigOnCpus) {
  const auto cpu = pocl_avx512();
  for (const auto& p : {shape(128, 128, 128), shape(512, 512, 512), shape(4096, 256, 64),
                        shape(8192, 128, 128), shape(32, 32, 8192), shape(3000, 20, 3000),
                        shape(64, 4096, 4096), shape(4096, 64, 4096), shape(1, 1, 1)}) {
    const auto c = default_gemm_config(cpu, p);
    EXPECT_EQ(c.family, "gemm.direct") << p.shape();
    EXPECT_FALSE(gemm_config_invalid_reason(c, cpu)) << c.canonical();
    // The column tile never exceeds the kernel's N (here n: row-major, no transposes)
    // unless N is below the narrowest tile.
    EXPECT_TRUE(c.get("NR") <= std::max<std::int64_t>(p.n, 4)) << p.shape() << " " << c.canonical();
  }
  // Large problems keep the packed default.
  for (const auto& p :
       {shape(1024, 1024, 1024), shape(1023, 1025, 1027), shape(2048, 2048, 2048)}) {
    EXPECT_EQ(default_gemm_config(cpu, p), default_gemm_config(cpu)) << p.shape();
  }
  EXPECT_EQ(default_gemm_config(cpu, shape(128, 128, 128)).canonical(),
            "family=gemm.direct;MR=8;NR=32;VW=16;WGM=8;WGN=1");
  EXPECT_EQ(default_gemm_config(cpu, shape(3000, 20, 3000)).get("NR"), 16);
  // 32x32x8192: 4 row tiles and 1 column tile; work-groups shrink to keep two per unit.
  EXPECT_EQ(default_gemm_config(cpu, shape(32, 32, 8192)).get("WGM"), 1);
  EXPECT_EQ(default_gemm_config(cpu, shape(64, 4096, 4096)).get("WGM"), 8);
  // Two column tiles: they share a work-group (and their rows of A), one row strip each.
  EXPECT_EQ(default_gemm_config(cpu, shape(3000, 20, 3000)).canonical(),
            "family=gemm.direct;MR=8;NR=16;VW=16;WGM=1;WGN=2");
  EXPECT_EQ(default_gemm_config(cpu, shape(4096, 64, 4096)).canonical(),
            "family=gemm.direct;MR=8;NR=32;VW=16;WGM=1;WGN=2");
  EXPECT_EQ(default_gemm_config(cpu, shape(4096, 256, 64)).get("WGN"), 1);
}

TEST(GemmDefaultSizeAware, TheKernelsNFollowsTheOperandSwap) {
  const auto cpu = pocl_avx512();
  // Column-major, no transposes: op(A) columns are contiguous, op(B) rows are not, so the
  // direct kernel computes C^T and its column tiles run along m.
  auto p = shape(3000, 20, 3000);
  p.layout = Layout::col;
  EXPECT_EQ(default_gemm_config(cpu, p).get("NR"), 32);
  p = shape(20, 3000, 3000);
  p.layout = Layout::col;
  EXPECT_EQ(default_gemm_config(cpu, p).get("NR"), 16);
}

TEST(GemmDefaultSizeAware, LayoutsWhereDirectWouldGatherStayPacked) {
  const auto cpu = pocl_avx512();
  for (const Layout layout : {Layout::row, Layout::col}) {
    for (const Op ta : {Op::n, Op::t}) {
      for (const Op tb : {Op::n, Op::t}) {
        auto p = shape(128, 128, 128);
        p.layout = layout;
        p.trans_a = ta;
        p.trans_b = tb;
        const bool gathers = (layout == Layout::row && ta == Op::n && tb == Op::t) ||
                             (layout == Layout::col && ta == Op::t && tb == Op::n);
        EXPECT_EQ(default_gemm_config(cpu, p).family, gathers ? "gemm.regtile" : "gemm.direct")
            << to_string(layout) << " " << to_string(ta) << to_string(tb);
      }
    }
  }
}

TEST(GemmDefaultSizeAware, OtherDeviceTypesKeepTheirDefaultAndEveryDefaultIsValid) {
  DeviceInfo gpu;
  gpu.type = "gpu";
  gpu.max_wg_size = 1024;
  gpu.max_wi_sizes = {1024, 1024, 64};
  gpu.local_mem_bytes = 48 * 1024;
  for (const auto& p : {shape(32, 32, 8192), shape(128, 128, 128), shape(2048, 2048, 2048)}) {
    EXPECT_EQ(default_gemm_config(gpu, p), default_gemm_config(gpu)) << p.shape();
  }
  DeviceInfo avx2 = pocl_avx512();
  avx2.name = "pthread-haswell-Intel Xeon";
  const auto c = default_gemm_config(avx2, shape(128, 128, 128));
  EXPECT_EQ(c.canonical(), "family=gemm.direct;MR=6;NR=16;VW=8;WGM=8;WGN=1");
  // A device that allows only 1x1 work-groups still gets a valid config.
  DeviceInfo tiny = pocl_avx512();
  tiny.max_wg_size = 1;
  tiny.max_wi_sizes = {1, 1, 1};
  for (const auto& p : {shape(128, 128, 128), shape(2048, 2048, 2048)}) {
    const auto t = default_gemm_config(tiny, p);
    EXPECT_FALSE(gemm_config_invalid_reason(t, tiny)) << t.canonical();
  }
  // Shapes of every size and aspect give valid configs (property over a grid).
  for (std::int64_t m : {1, 3, 17, 64, 100, 1000}) {
    for (std::int64_t n : {1, 5, 16, 33, 640}) {
      for (std::int64_t k : {1, 129, 5000}) {
        for (const auto& dev : {pocl_avx512(), avx2, gpu}) {
          const auto d = default_gemm_config(dev, shape(m, n, k));
          EXPECT_FALSE(gemm_config_invalid_reason(d, dev)) << d.canonical();
        }
      }
    }
  }
}

// The shipped tuning databases (tuning/db): each file is named after its device and every
// entry's config is valid by its family's rules on a typical PoCL CPU device.
TEST(GemmShippedDb, FilesAreNamedForTheirDeviceAndHoldValidConfigs) {
  namespace fs = std::filesystem;
  const auto limits =
      DeviceLimits::load(fs::path(CLGAUGE_SOURCE_DIR) / "tests" / "gemm" / "pocl_cpu_limits.json");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(CLGAUGE_SOURCE_DIR) / "tuning" / "db")) {
    if (e.path().extension() != ".json") continue;
    ++files;
    const auto db = TuningDatabase::load(e.path());
    EXPECT_EQ(e.path().filename().string(), tuning_db_file_name(db.device));
    EXPECT_FALSE(db.entries.empty()) << e.path();
    for (const auto& entry : db.entries) {
      EXPECT_FALSE(gemm_config_invalid_reason(entry.config, limits))
          << e.path() << " " << entry.key.str() << ": " << entry.config.canonical();
      EXPECT_GT(entry.gflops_median, 0) << entry.key.str();
    }
  }
  EXPECT_GT(files, 0u);
}

}  // namespace
}  // namespace clgauge
