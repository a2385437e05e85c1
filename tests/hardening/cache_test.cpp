// Class 2: program-binary cache entries carry a verified header; anything that does not
// verify is rebuilt with one line on stderr; an unusable directory means no cache.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "clgauge/runtime.hpp"
#include "device_fixture.hpp"
#include "hardening/hardening_util.hpp"

namespace clgauge {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() /
             ("clgauge-hardening-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
};

std::vector<unsigned char> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

TEST(HardeningCache, EntryRoundTripsAndEveryCorruptionIsCaught) {
  const std::string key = std::string("src\0opts\0dev\0drv", 16);
  const auto binary = bytes_of("a program binary of some length");
  const auto entry = ProgramCache::encode_entry(key, binary);
  ASSERT_EQ(entry.size(), ProgramCache::kHeaderBytes + binary.size());
  std::string why;
  EXPECT_EQ(ProgramCache::decode_entry(key, entry, &why), binary);
  // Every truncation, and a flip of every byte, is refused.
  for (std::size_t n = 0; n < entry.size(); ++n) {
    const std::vector<unsigned char> cut(entry.begin(), entry.begin() + static_cast<long>(n));
    EXPECT_FALSE(ProgramCache::decode_entry(key, cut, &why)) << n;
    EXPECT_FALSE(why.empty());
    auto flipped = entry;
    flipped[n] ^= 0x40;
    EXPECT_FALSE(ProgramCache::decode_entry(key, flipped, &why)) << n;
  }
  // The entry of another program, and a raw binary with no header.
  EXPECT_FALSE(ProgramCache::decode_entry("another key", entry, &why));
  EXPECT_NE(why.find("another program"), std::string::npos) << why;
  EXPECT_FALSE(ProgramCache::decode_entry(key, binary, &why));
}

TEST(HardeningCache, LoadRemovesWhatDoesNotVerify) {
  TempDir dir("load");
  const auto cache = ProgramCache::at(dir.path);
  ASSERT_TRUE(cache.store("k", bytes_of("binary")));
  EXPECT_EQ(cache.load("k"), bytes_of("binary"));
  std::ofstream(cache.entry_path("k"), std::ios::binary | std::ios::trunc) << "CLGBI";
  std::string why;
  EXPECT_FALSE(cache.load("k", &why));
  EXPECT_NE(why.find("truncated"), std::string::npos) << why;
  EXPECT_FALSE(fs::exists(cache.entry_path("k")));
  // A directory in an entry's place is not a binary.
  fs::create_directories(cache.entry_path("d"));
  EXPECT_FALSE(cache.load("d", &why));
  EXPECT_NE(why.find("not a regular file"), std::string::npos) << why;
  EXPECT_TRUE(cache.store("d", bytes_of("x")));  // the empty directory was removed
  EXPECT_EQ(cache.load("d"), bytes_of("x"));
}

TEST(HardeningCache, FileInPlaceOfTheDirectoryMeansNoCacheWithOneWarning) {
  TempDir dir("file");
  fs::create_directories(dir.path);
  const auto file = dir.path / "cache";
  std::ofstream(file) << "not a directory";
  const auto cache = ProgramCache::at(file);
  testing::internal::CaptureStderr();
  EXPECT_FALSE(cache.usable());
  EXPECT_FALSE(cache.store("k", bytes_of("b")));
  EXPECT_FALSE(cache.load("k"));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("is not a directory; running without a cache"), std::string::npos) << err;
}

TEST(HardeningCache, UnwritableDirectoryMeansNoCache) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
  TempDir dir("ro");
  fs::create_directories(dir.path / "ro");
  fs::permissions(dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  testing::internal::CaptureStderr();
  EXPECT_FALSE(ProgramCache::at(dir.path / "ro").usable());
  EXPECT_NE(testing::internal::GetCapturedStderr().find("is not writable"), std::string::npos);
}

TEST(HardeningCache, OrphanedTemporaryFilesAreRemoved) {
  TempDir dir("orphans");
  fs::create_directories(dir.path);
  // A pid far above pid_max's default: no live process has it.
  const auto orphan = dir.path / "0123456789abcdef.clbin.tmp.4194000.0";
  const auto live = dir.path / ("0123456789abcdef.clbin.tmp." + std::to_string(::getpid()) + ".7");
  std::ofstream(orphan) << "half";
  std::ofstream(live) << "being written";
  const auto cache = ProgramCache::at(dir.path);
  EXPECT_TRUE(cache.usable());  // the first use cleans
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(live));
}

TEST(HardeningCache, CorruptEntryIsRebuiltWithOneLineOnStderr) {
  CLGAUGE_REQUIRE_DEVICE();
  TempDir dir("device");
  const auto cache = ProgramCache::at(dir.path);
  Device& dev = *test::shared_device();
  const char* src = "__kernel void k(__global float* x) { x[get_global_id(0)] += 1.0f; }";
  ASSERT_FALSE(build_program(dev, cache, "k", src, "-DH=1").from_cache);
  ASSERT_TRUE(build_program(dev, cache, "k", src, "-DH=1").from_cache);
  for (const auto& f : fs::directory_iterator(dir.path)) {
    // Keep a valid header but truncate the binary: the driver must never see it.
    const auto size = fs::file_size(f.path());
    fs::resize_file(f.path(), size / 2);
  }
  testing::internal::CaptureStderr();
  EXPECT_FALSE(build_program(dev, cache, "k", src, "-DH=1").from_cache);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("rebuilding"), std::string::npos) << err;
  EXPECT_TRUE(build_program(dev, cache, "k", src, "-DH=1").from_cache);
}

TEST(HardeningDeviceSpec, UnknownDeviceSpecsAreUserMistakes) {
  CLGAUGE_REQUIRE_DEVICE();
  using test::is_user_error;
  using test::run_cli;
  EXPECT_TRUE(is_user_error(
      run_cli({"gemm", "--m", "8", "--n", "8", "--k", "8", "--device", "no-such-device-anywhere"}),
      "gemm"));
  EXPECT_TRUE(is_user_error(run_cli({"gemm", "--m", "8", "--n", "8", "--k", "8", "--device", "99"}),
                            "gemm"));
  ::setenv("CLGAUGE_DEVICE", "bogus-device-name", 1);
  const auto r = run_cli({"plan", "--space", "regtile_basic", "--count"});
  ::unsetenv("CLGAUGE_DEVICE");
  EXPECT_TRUE(is_user_error(r, "plan"));
}

}  // namespace
}  // namespace clgauge
