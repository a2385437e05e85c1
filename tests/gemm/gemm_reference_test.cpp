// The CPU references and the parity comparisons, held to their definitions.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "clgauge/error.hpp"
#include "clgauge/parity.hpp"

namespace clgauge {
namespace {

// The canonical accumulation of docs/semantics.md, written as plainly as possible.
std::vector<float> naive_canonical(const GemmProblem& p, const GemmHostData& h) {
  std::vector<float> c = h.c;
  for (std::int64_t i = 0; i < p.m; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) {
      float acc = 0.0f;
      for (std::int64_t q = 0; q < p.k; ++q)
        acc = std::fma(h.a[p.a_index(i, q)], h.b[p.b_index(q, j)], acc);
      const float t = p.alpha * acc;
      float& out = c[p.c_index(i, j)];
      out = p.beta == 0.0f ? t : std::fma(p.beta, out, t);
    }
  return c;
}

TEST(GemmReference, CanonicalEqualsTheDefinitionOverManySeeds) {
  std::uint64_t seed = 0;
  for (std::int64_t m : {1, 3, 5, 17}) {
    for (std::int64_t n : {1, 4, 9, 600}) {  // 600 crosses the 512-column block
      for (std::int64_t k : {1, 2, 7, 33}) {
        for (const Layout l : {Layout::row, Layout::col}) {
          GemmProblem p;
          p.m = m;
          p.n = n;
          p.k = k;
          p.layout = l;
          p.trans_a = seed % 2 ? Op::t : Op::n;
          p.trans_b = seed % 3 ? Op::n : Op::t;
          p.alpha = seed % 2 ? 1.0f : -0.75f;
          p.beta = seed % 4 == 0 ? 0.0f : 1.5f;
          p.ldc = p.min_ldc() + static_cast<std::int64_t>(seed % 3);
          p.offset_a = static_cast<std::int64_t>(seed % 5);
          p = p.resolved();
          const auto h = make_gemm_inputs(p, seed++, Distribution::normal, true);
          std::vector<float> got = h.c;
          gemm_reference_canonical(p, h.a, h.b, got);
          const auto r = compare_bitwise(p, got, naive_canonical(p, h));
          ASSERT_TRUE(r.passed()) << p.shape() << ": " << to_json(r);
        }
      }
    }
  }
}

TEST(GemmReference, BetaZeroNeverReadsC) {
  GemmProblem p;
  p.m = 5;
  p.n = 6;
  p.k = 7;
  p = p.resolved();
  auto h = make_gemm_inputs(p, 3, Distribution::uniform, true);
  ASSERT_TRUE(std::isnan(h.c[0]));
  gemm_reference_canonical(p, h.a, h.b, h.c);
  for (float x : h.c) EXPECT_FALSE(std::isnan(x));
}

TEST(GemmReference, F64ReferenceAgreesWithCanonicalWithinTolerance) {
  GemmProblem p;
  p.m = 40;
  p.n = 50;
  p.k = 300;
  p.beta = -1.0f;
  p = p.resolved();
  const auto h = make_gemm_inputs(p, 11, Distribution::normal);
  std::vector<float> got = h.c;
  gemm_reference_canonical(p, h.a, h.b, got);
  const auto r = compare_tolerance(p, h.a, h.b, h.c, got);
  EXPECT_TRUE(r.passed()) << to_json(r);
  EXPECT_EQ(r.mode, "tolerance");
  EXPECT_GT(r.max_abs, 0.0);   // float and double differ somewhere...
  EXPECT_LT(r.max_abs, 1e-3);  // ...but only in the last bits (|C| is about 17 here)
}

TEST(GemmParityReport, BitwiseFindsTheFirstMismatchWithRowAndColumn) {
  GemmProblem p;
  p.m = 3;
  p.n = 4;
  p.k = 1;
  p.layout = Layout::col;
  p.ldc = 5;
  p.offset_c = 2;
  p = p.resolved();
  std::vector<float> want(p.c_elements(), 1.0f), got = want;
  got[p.c_index(2, 1)] = std::nextafter(1.0f, 2.0f);
  got[p.c_index(0, 3)] = -0.0f;
  want[p.c_index(0, 3)] = 0.0f;  // signed zeros differ bitwise
  const auto r = compare_bitwise(p, got, want);
  EXPECT_EQ(r.mismatches, 2u);
  ASSERT_TRUE(r.first.has_value());
  EXPECT_EQ(r.first->index, p.c_index(2, 1));
  EXPECT_EQ(r.first->row, 2);
  EXPECT_EQ(r.first->col, 1);
  EXPECT_EQ(r.max_ulp, 1u);
  // Padding is compared too and located as (-1, -1).
  got = want;
  got[p.c_index(2, 0) + 1] = 9.0f;
  const auto pad = compare_bitwise(p, got, want);
  ASSERT_EQ(pad.mismatches, 1u);
  EXPECT_EQ(pad.first->row, -1);
}

TEST(GemmParityReport, ToleranceCatchesAWrongElementAndTouchedPadding) {
  GemmProblem p;
  p.m = 8;
  p.n = 8;
  p.k = 16;
  p.ldc = 10;
  p = p.resolved();
  const auto h = make_gemm_inputs(p, 5, Distribution::uniform);
  std::vector<float> got = h.c;
  gemm_reference_canonical(p, h.a, h.b, got);
  auto wrong = got;
  wrong[p.c_index(3, 4)] += 1e-2f;
  auto r = compare_tolerance(p, h.a, h.b, h.c, wrong);
  EXPECT_EQ(r.mismatches, 1u);
  EXPECT_EQ(r.first->row, 3);
  EXPECT_EQ(r.first->col, 4);
  wrong = got;
  wrong[p.c_index(0, 7) + 1] = 0.0f;  // padding between rows
  EXPECT_FALSE(compare_tolerance(p, h.a, h.b, h.c, wrong).passed());
  wrong = got;
  wrong[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(compare_tolerance(p, h.a, h.b, h.c, wrong).passed());
}

TEST(GemmParityReport, UlpDistance) {
  EXPECT_EQ(ulp_distance(1.0f, 1.0f), 0u);
  EXPECT_EQ(ulp_distance(0.0f, -0.0f), 0u);
  EXPECT_EQ(ulp_distance(std::numeric_limits<float>::denorm_min(),
                         -std::numeric_limits<float>::denorm_min()),
            2u);
  EXPECT_EQ(ulp_distance(1.0f, std::nextafter(1.0f, 0.0f)), 1u);
  EXPECT_EQ(ulp_distance(1.0f, std::numeric_limits<float>::quiet_NaN()),
            std::numeric_limits<std::uint64_t>::max());
}

TEST(GemmParityReport, JsonFormIsStable) {
  ParityReport r;
  r.mode = "bitwise";
  r.elements = 4;
  r.mismatches = 1;
  r.max_abs = 0.5;
  r.max_rel = 0.25;
  r.max_ulp = 7;
  r.first = ParityMismatch{3, 1, 1, 2.5f, 2.0f};
  EXPECT_EQ(to_json(r),
            R"({"mode":"bitwise","passed":false,"elements":4,"mismatches":1,"max_abs":0.5,)"
            R"("max_rel":0.25,"max_ulp":7,"safety":0.0,"first":{"index":3,"row":1,"col":1,)"
            R"("got":2.5,"want":2.0}})");
}

TEST(GemmReference, RejectsBuffersTooSmall) {
  GemmProblem p;
  p.m = p.n = p.k = 4;
  p = p.resolved();
  std::vector<float> a(3), b(16), c(16);
  EXPECT_THROW(gemm_reference_canonical(p, a, b, c), Error);
}

}  // namespace
}  // namespace clgauge
