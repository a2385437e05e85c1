// The statistics behind clgauge bench's verdicts: the median CI, modified Z-scores, the
// Mann-Whitney U test against textbook values, the bootstrap ratio CI against values
// computed independently, and the verdict rule on synthetic samples.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "clgauge/error.hpp"
#include "clgauge/random.hpp"
#include "clgauge/stats.hpp"

namespace clgauge {
namespace {

// value + spread * uniform[-1, 1), from a Philox stream (replayable).
std::vector<double> noisy(double value, double spread, std::size_t n, std::uint64_t seed) {
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back(value +
                spread * static_cast<double>(random_element(seed, i, Distribution::uniform)));
  }
  return v;
}

TEST(BenchStats, MedianCiUsesBinomialOrderStatistics) {
  // n = 20: P(Bin(20, 1/2) <= 5) = 21700 / 2^20 = 0.0206947 <= 0.025 < P(<= 6) = 0.0576591,
  // so the 95% interval is [x(6), x(15)] (Conover's table) with coverage 1 - 2 * 0.0206947.
  std::vector<double> x;
  for (int i = 20; i >= 1; --i) x.push_back(i);  // unsorted on purpose
  const MedianCi ci = median_ci(x);
  EXPECT_TRUE(ci.exact);
  EXPECT_EQ(ci.median, 10.5);
  EXPECT_EQ(ci.lo, 6);
  EXPECT_EQ(ci.hi, 15);
  EXPECT_NEAR(ci.coverage, 1 - 2 * 21700.0 / 1048576.0, 1e-12);
  EXPECT_NEAR(ci.half_width_pct(), 4.5 / 10.5 * 100, 1e-12);

  // n = 6 is the fewest with an exact 95% interval: [min, max], coverage 1 - 2/64.
  const MedianCi six = median_ci({1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(six.exact);
  EXPECT_EQ(six.lo, 1);
  EXPECT_EQ(six.hi, 6);
  EXPECT_DOUBLE_EQ(six.coverage, 1 - 2.0 / 64);
  // n = 5 cannot reach 95%: [min, max], flagged, with its real coverage 1 - 2/32.
  const MedianCi five = median_ci({1, 2, 3, 4, 5});
  EXPECT_FALSE(five.exact);
  EXPECT_DOUBLE_EQ(five.coverage, 1 - 2.0 / 32);
  EXPECT_THROW(median_ci({}), Error);
  EXPECT_THROW(median_ci({1.0}, 1.0), Error);
}

TEST(BenchStats, ModifiedZFlagsOutliersAndKeepsThem) {
  // median 3, MAD = median{2, 1, 0, 1, 97} = 1: M = 0.6745 (x - 3).
  const std::vector<double> x = {1, 2, 3, 4, 100};
  const auto z = modified_z_scores(x);
  EXPECT_DOUBLE_EQ(z[0], -2 * 0.6745);
  EXPECT_DOUBLE_EQ(z[4], 97 * 0.6745);
  EXPECT_EQ(modified_z_outliers(x), (std::vector<bool>{false, false, false, false, true}));
  // MAD 0: the mean absolute deviation (0.2) times 1.253314 is the scale; 6 scores 3.99.
  EXPECT_EQ(modified_z_outliers(std::vector<double>{5, 5, 5, 5, 6}),
            (std::vector<bool>{false, false, false, false, true}));
  EXPECT_EQ(modified_z_outliers(std::vector<double>{7, 7, 7}), (std::vector<bool>(3, false)));
}

TEST(BenchStats, MannWhitneyMatchesTextbookExactValues) {
  // No overlap, 3 against 4: only 1 of C(7, 3) = 35 arrangements is this extreme, two-sided
  // p = 2/35.
  const auto a = mann_whitney_u(std::vector<double>{1, 2, 3}, std::vector<double>{4, 5, 6, 7});
  EXPECT_TRUE(a.exact);
  EXPECT_EQ(a.u, 0);
  EXPECT_DOUBLE_EQ(a.p_value, 2.0 / 35);
  EXPECT_DOUBLE_EQ(a.rank_biserial, -1);
  // 1..10 against 11..20: p = 2 / C(20, 10) = 2 / 184756.
  std::vector<double> lo, hi;
  for (int i = 1; i <= 10; ++i) {
    lo.push_back(i);
    hi.push_back(i + 10);
  }
  EXPECT_DOUBLE_EQ(mann_whitney_u(hi, lo).p_value, 2.0 / 184756);
  EXPECT_EQ(mann_whitney_u(hi, lo).u, 100);
  // The SciPy documentation's example (males 19 22 16 29 24, females 20 11 17 12): U = 17,
  // exact p = 1/9 (7 of the C(9, 4) = 126 arrangements have U >= 17, doubled).
  const auto s =
      mann_whitney_u(std::vector<double>{19, 22, 16, 29, 24}, std::vector<double>{20, 11, 17, 12});
  EXPECT_EQ(s.u, 17);
  EXPECT_NEAR(s.p_value, 1.0 / 9, 1e-15);
}

TEST(BenchStats, MannWhitneyWithTiesUsesTheCorrectedNormalApproximation) {
  // Pooled: 1a 2a 2a 2b 3a 3b 3b 4a 5b; midranks 1, 3 3 3, 6 6 6, 8, 9. R_a = 1+3+3+6+8 = 21,
  // U = 21 - 15 = 6. Ties: two groups of 3, sum(t^3 - t) = 48. Var = 5*4/12 * (10 - 48/72)
  // = 15.5556, z = (|6 - 10| - 0.5) / sqrt(Var) = 0.887412, p = erfc(z / sqrt 2) = 0.374857
  // (computed by hand with math.erfc).
  const auto t =
      mann_whitney_u(std::vector<double>{1, 2, 2, 3, 4}, std::vector<double>{2, 3, 3, 5});
  EXPECT_FALSE(t.exact);
  EXPECT_EQ(t.u, 6);
  const double z = 3.5 / std::sqrt(20.0 / 12 * (10 - 48.0 / 72));
  EXPECT_NEAR(t.p_value, std::erfc(z / std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(t.p_value, 0.374857, 1e-6);
  // All equal: no evidence.
  EXPECT_EQ(mann_whitney_u(std::vector<double>{3, 3}, std::vector<double>{3, 3, 3}).p_value, 1);
}

TEST(BenchStats, BootstrapMatchesTheIndependentComputation) {
  // Golden values from tests/data/benchmark/bootstrap_golden.py: Philox4x32-10 written out in
  // plain Python (checked against Random123's known-answer vector) and the percentile
  // bootstrap as docs/bench.md defines it; seed 12345, 500 resamples.
  const std::vector<double> a = {101.0, 98.5, 103.2, 99.9, 100.4, 97.8, 102.6, 100.0, 99.1, 104.3};
  const std::vector<double> b = {90.2, 91.5, 89.9, 92.8, 90.0, 88.7, 91.1, 90.6, 93.4};
  const RatioCi ci = bootstrap_median_ratio_ci(a, b, 12345, 500);
  EXPECT_EQ(ci.resamples, 500u);
  EXPECT_DOUBLE_EQ(ci.ratio, 1.1059602649006623);
  EXPECT_DOUBLE_EQ(ci.lo, 1.0829741379310345);
  EXPECT_DOUBLE_EQ(ci.hi, 1.1351359455481973);
  // Same seed, same interval (the verdict replays); another seed, another draw.
  EXPECT_EQ(bootstrap_median_ratio_ci(a, b, 12345, 500), ci);
  EXPECT_NE(bootstrap_median_ratio_ci(a, b, 12346, 500), ci);
}

TEST(BenchStats, BootstrapWorkedExampleByHand) {
  // a = {1, 2}: a resample's median is 1 (p 1/4), 1.5 (p 1/2) or 2 (p 1/4); b = {1}. So the
  // 2.5% quantile of the ratios is 1 and the 97.5% one is 2, whatever the seed.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const RatioCi ci =
        bootstrap_median_ratio_ci(std::vector<double>{1, 2}, std::vector<double>{1}, seed, 400);
    EXPECT_EQ(ci.ratio, 1.5);
    EXPECT_EQ(ci.lo, 1.0) << seed;
    EXPECT_EQ(ci.hi, 2.0) << seed;
  }
  EXPECT_THROW(bootstrap_median_ratio_ci(std::vector<double>{1}, std::vector<double>{0}, 1, 10),
               Error);
  EXPECT_THROW(bootstrap_median_ratio_ci(std::vector<double>{}, std::vector<double>{1}, 1, 10),
               Error);
}

Verdict verdict_of(const std::vector<double>& a, const std::vector<double>& b) {
  return decide_verdict(bootstrap_median_ratio_ci(a, b, 7), mann_whitney_u(a, b).p_value);
}

TEST(BenchStats, VerdictOnClearWinsTiesAndOverlaps) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto fast = noisy(100, 2, 15, seed);
    const auto slow = noisy(80, 2, 15, seed + 100);
    EXPECT_EQ(verdict_of(fast, slow), Verdict::faster) << seed;
    EXPECT_EQ(verdict_of(slow, fast), Verdict::slower) << seed;
    // The same distribution: a tie.
    EXPECT_EQ(verdict_of(noisy(100, 3, 15, seed), noisy(100, 3, 15, seed + 200)), Verdict::tie)
        << seed;
    // Overlapping: 0.5% apart under 3% noise, the CI straddles the 1% margin.
    EXPECT_EQ(verdict_of(noisy(100.5, 3, 15, seed), noisy(100, 3, 15, seed + 300)), Verdict::tie)
        << seed;
  }
  // A certain but small difference (0.5%, no noise): significant, yet within 1%: a tie.
  const std::vector<double> a(12, 100.5), b(12, 100.0);
  EXPECT_LT(mann_whitney_u(a, b).p_value, 0.05);
  EXPECT_EQ(verdict_of(a, b), Verdict::tie);
}

TEST(BenchStats, VerdictNeedsBothTheIntervalAndTheTest) {
  EXPECT_EQ(decide_verdict({1.05, 1.02, 1.08, 100}, 0.01), Verdict::faster);
  EXPECT_EQ(decide_verdict({1.05, 1.02, 1.08, 100}, 0.2), Verdict::tie);     // p too large
  EXPECT_EQ(decide_verdict({1.02, 1.005, 1.04, 100}, 0.001), Verdict::tie);  // CI inside 1%
  EXPECT_EQ(decide_verdict({0.95, 0.92, 0.98, 100}, 0.01), Verdict::slower);
  EXPECT_EQ(decide_verdict({0.995, 0.9905, 0.999, 100}, 0.001), Verdict::tie);
  EXPECT_EQ(to_string(Verdict::faster), "faster");
  EXPECT_EQ(to_string(Verdict::tie), "tie");
  // Symmetry: A faster than B exactly when B (the interval inverted) is slower than A.
  for (std::uint64_t i = 0; i < 500; ++i) {
    const double lo =
        1 + 0.05 * static_cast<double>(random_element(99, 2 * i, Distribution::uniform));
    const double hi =
        lo + 0.03 * (1 + static_cast<double>(random_element(99, 2 * i + 1, Distribution::uniform)));
    const RatioCi ab{(lo + hi) / 2, lo, hi, 100};
    const RatioCi ba{2 / (lo + hi), 1 / hi, 1 / lo, 100};
    EXPECT_EQ(decide_verdict(ab, 0.01) == Verdict::faster,
              decide_verdict(ba, 0.01) == Verdict::slower)
        << lo << " " << hi;
  }
}

}  // namespace
}  // namespace clgauge
