// Class 1: size arithmetic never wraps, and buffers are checked against the device
// before anything is allocated.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/parity.hpp"
#include "clgauge/random.hpp"
#include "hardening/hardening_util.hpp"

namespace clgauge {
namespace {

std::string validate_error(const GemmProblem& p) {
  try {
    p.validate();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    return e.what();
  }
  return "";
}

GemmProblem small(std::int64_t s = 32) {
  GemmProblem p;
  p.m = p.n = p.k = s;
  return p;
}

TEST(HardeningSizes, LeadingDimensionsAndOffsetsThatWrapAreRefused) {
  // 31 rows of ld >= 2^57 floats span >= 2^64 bytes: past any buffer.
  for (int shift = 57; shift <= 62; ++shift) {
    const std::int64_t huge = std::int64_t{1} << shift;
    GemmProblem a = small();
    a.lda = huge;
    EXPECT_NE(validate_error(a).find("--lda"), std::string::npos) << shift;
    GemmProblem b = small();
    b.ldb = huge;
    EXPECT_NE(validate_error(b).find("--ldb"), std::string::npos) << shift;
  }
  for (int shift = 61; shift <= 62; ++shift) {
    GemmProblem c = small();
    c.offset_c = std::int64_t{1} << shift;
    EXPECT_NE(validate_error(c).find("--offset-c"), std::string::npos) << shift;
  }
  GemmProblem max = small();
  max.offset_a = INT64_MAX;
  EXPECT_NE(validate_error(max).find("A ("), std::string::npos);
}

// Law: for every problem validate() accepts, a_elements() is one past the largest
// index a_index() produces (so no element lies outside the buffer).
TEST(HardeningSizes, ExtentsCoverEveryIndexOverManySeeds) {
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    const auto pick = [&](std::uint64_t i, std::int64_t lo, std::int64_t span) {
      return lo + static_cast<std::int64_t>(derive_seed(seed, "sizes", "", "", i, 0) %
                                            static_cast<std::uint64_t>(span));
    };
    GemmProblem p;
    p.m = pick(0, 1, 40);
    p.n = pick(1, 1, 40);
    p.k = pick(2, 1, 40);
    p.layout = pick(3, 0, 2) ? Layout::row : Layout::col;
    p.trans_a = pick(4, 0, 2) ? Op::n : Op::t;
    p.trans_b = pick(5, 0, 2) ? Op::n : Op::t;
    p.lda = pick(6, 0, 2) ? 0 : p.min_lda() + pick(7, 0, 1'000'000'000'000);
    p.offset_a = pick(8, 0, 1'000'000'000'000);
    ASSERT_EQ(validate_error(p), "");
    const auto r = p.resolved();
    std::size_t top = 0;
    for (std::int64_t i : {std::int64_t{0}, p.m - 1}) {
      for (std::int64_t q : {std::int64_t{0}, p.k - 1}) top = std::max(top, r.a_index(i, q));
    }
    EXPECT_EQ(r.a_elements(), top + 1) << seed;
    EXPECT_EQ(p.a_bytes(), (top + 1) * sizeof(float));
  }
}

TEST(HardeningSizes, CheckFitsNamesTheMatrixFlagsAndDeviceLimit) {
  DeviceInfo d;
  d.name = "tiny";
  d.max_alloc_bytes = 1 << 20;
  d.global_mem_bytes = 3 << 20;
  GemmProblem p = small(256);  // 256 KiB per matrix: fits
  EXPECT_NO_THROW(p.check_fits(d));
  p.lda = 4096;  // A: 256 rows of 4096 floats = 4 MiB > 1 MiB
  try {
    p.check_fits(d);
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    const std::string m = e.what();
    EXPECT_NE(m.find("A (--m, --k, --lda, --offset-a)"), std::string::npos) << m;
    EXPECT_NE(m.find("CL_DEVICE_MAX_MEM_ALLOC_SIZE"), std::string::npos) << m;
    EXPECT_NE(m.find("4178944"), std::string::npos) << m;
  }
  d.max_alloc_bytes = 8 << 20;  // each fits, but not all three in 3 MiB of global memory
  EXPECT_THROW(p.check_fits(d), Error);
  GemmProblem host = small();
  host.ldc = std::int64_t{1} << 50;  // 2^50 floats per row of C: no machine has that
  EXPECT_THROW(host.check_fits_host(), Error);
}

TEST(HardeningSizes, HostInputsRefuseInsteadOfAllocatingGigabytes) {
  GemmProblem p = small();
  p.offset_b = std::int64_t{1} << 52;  // 16 PiB of B for a 32^3 problem
  try {
    (void)make_gemm_inputs(p, 42, Distribution::uniform);
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("physical memory"), std::string::npos) << e.what();
  }
}

TEST(HardeningSizes, GemmCliRefusesWrappingSizesWithExitTwo) {
  using test::is_user_error;
  using test::run_cli;
  EXPECT_TRUE(is_user_error(
      run_cli({"gemm", "--m", "32", "--n", "32", "--k", "32", "--lda", "2305843009213693952"}),
      "gemm", "--lda"));
  EXPECT_TRUE(is_user_error(
      run_cli({"gemm", "--m", "32", "--n", "32", "--k", "32", "--offset-c", "9223372036854775000"}),
      "gemm", "--offset-c"));
}

}  // namespace
}  // namespace clgauge
