#pragma once
// Summary statistics of timing samples.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace clgauge {

struct SampleStats {
  std::size_t count = 0;
  double median = 0;  // mean of the two middle values for an even count
  double min = 0;
  double max = 0;
  double p10 = 0;  // linear interpolation between order statistics
  double p90 = 0;
  double mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1)
  double cv = 0;      // stddev / mean, 0 when mean is 0
  bool operator==(const SampleStats&) const = default;
};

// Throws Error(bad_input) for an empty sample.
SampleStats summarize(std::vector<double> samples);

// ---- comparing samples (clgauge bench; docs/bench.md) -------------------------------

// Distribution-free confidence interval of the median from order statistics: the
// sorted sample x(1) <= ... <= x(n) gives [x(l), x(n+1-l)] with l the largest rank such
// that P(Binomial(n, 1/2) <= l - 1) <= (1 - level) / 2, computed exactly. When even
// l = 1 is not enough (n < 6 at 95%), the interval is [min, max] and `exact` is false:
// its coverage (reported) is below the level asked for.
struct MedianCi {
  double median = 0;
  double lo = 0;
  double hi = 0;
  double coverage = 0;  // the interval's exact coverage, >= level when `exact`
  bool exact = false;
  // (hi - lo) / 2 / median * 100; 0 for a 0 median.
  double half_width_pct() const;
  bool operator==(const MedianCi&) const = default;
};
// Throws Error(bad_input) for an empty sample or a level outside (0, 1).
MedianCi median_ci(std::vector<double> samples, double level = 0.95);

// Modified Z-scores (Iglewicz and Hoaglin): M_i = 0.6745 (x_i - median) / MAD, MAD the
// median absolute deviation from the median. When MAD is 0, the mean absolute deviation
// times 1.253314 is the scale instead; when that is 0 too (all equal), every score is 0.
std::vector<double> modified_z_scores(std::span<const double> samples);
// |M_i| > threshold (3.5 by default): flagged as an outlier, never dropped.
std::vector<bool> modified_z_outliers(std::span<const double> samples, double threshold = 3.5);

// Mann-Whitney U test, two-sided. `u` counts pairs (a_i, b_j) with a_i > b_j, ties as 1/2.
// Exact p-value (the permutation distribution of U) when there are no ties and
// a.size() + b.size() <= 50; otherwise the normal approximation with tie correction
// and continuity correction. `rank_biserial` = 2 u / (n_a n_b) - 1 in [-1, 1]: the effect
// size, positive when a tends to be larger. Throws Error(bad_input) for an empty sample.
struct MannWhitney {
  double u = 0;
  double p_value = 1;
  bool exact = false;
  double rank_biserial = 0;
  bool operator==(const MannWhitney&) const = default;
};
MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b);

// Percentile bootstrap of median(a) / median(b). Resample r (0-based) draws a.size()
// indices into a, then b.size() indices into b, each from the Philox stream `seed`
// (clgauge/random.hpp, uniform): draw number c = r * (n_a + n_b) + i gives the index
// floor(u * n) with u = (random_element(seed, c) + 1) / 2 in [0, 1) (24-bit resolution).
// The interval is the (1 - level) / 2 and (1 + level) / 2 quantiles of the resampled
// ratios, linearly interpolated between order statistics. `ratio` is the ratio of the
// sample medians. Throws Error(bad_input) for an empty sample, a non-positive median of
// b in any resample (needs positive samples), resamples == 0 or a level outside (0, 1).
struct RatioCi {
  double ratio = 0;
  double lo = 0;
  double hi = 0;
  std::size_t resamples = 0;
  bool operator==(const RatioCi&) const = default;
};
RatioCi bootstrap_median_ratio_ci(std::span<const double> a, std::span<const double> b,
                                  std::uint64_t seed, std::size_t resamples = 2000,
                                  double level = 0.95);

// A vs B on a ratio A / B where larger is better (GFLOP/s):
//   faster: ci.lo > 1 + margin and p < alpha;
//   slower: ci.hi < 1 / (1 + margin) and p < alpha (so "A slower than B" is exactly
//           "B faster than A" with the interval inverted);
//   tie:    otherwise (the effect size goes with it).
enum class Verdict { faster, slower, tie };
std::string_view to_string(Verdict v);
Verdict decide_verdict(const RatioCi& ci, double p_value, double margin = 0.01,
                       double alpha = 0.05);

}  // namespace clgauge
