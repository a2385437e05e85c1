#include "clgauge/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "clgauge/error.hpp"
#include "clgauge/random.hpp"

namespace clgauge {
namespace {

double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

double median_sorted(const std::vector<double>& sorted) {
  const std::size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return median_sorted(v);
}

void require_level(double level, const char* what) {
  if (!(level > 0 && level < 1)) {
    throw Error(ReasonCode::bad_input,
                std::string(what) + ": level " + std::to_string(level) + " is outside (0, 1)");
  }
}

// P(Binomial(n, 1/2) <= j) for j = 0..n, exactly enough in double: the terms are built
// from C(n, 0) = 1 by C(n, i + 1) = C(n, i) (n - i) / (i + 1), scaled by 2^-n in logs.
std::vector<double> binomial_half_cdf(std::size_t n) {
  std::vector<double> cdf(n + 1);
  const double log_scale = -static_cast<double>(n) * std::log(2.0);
  double log_c = 0;  // log C(n, i)
  double acc = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    acc += std::exp(log_c + log_scale);
    cdf[i] = std::min(acc, 1.0);
    log_c += std::log(static_cast<double>(n - i)) - std::log(static_cast<double>(i + 1));
  }
  return cdf;
}

// Midranks of the pooled sample (1-based), and the tie correction sum of (t^3 - t).
struct Ranks {
  std::vector<double> rank;  // by pooled index: a first, then b
  double tie_term = 0;
  bool ties = false;
};

Ranks pooled_ranks(std::span<const double> a, std::span<const double> b) {
  std::vector<double> pooled(a.begin(), a.end());
  pooled.insert(pooled.end(), b.begin(), b.end());
  std::vector<std::size_t> order(pooled.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return pooled[x] < pooled[y]; });
  Ranks r;
  r.rank.assign(pooled.size(), 0);
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && pooled[order[j + 1]] == pooled[order[i]]) ++j;
    const double mid = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t t = i; t <= j; ++t) r.rank[order[t]] = mid;
    const auto t = static_cast<double>(j - i + 1);
    if (j > i) {
      r.ties = true;
      r.tie_term += t * t * t - t;
    }
    i = j + 1;
  }
  return r;
}

// Number of arrangements of na a's and nb b's with U = u, for every u: f(i, j)(u) =
// f(i - 1, j)(u - j) + f(i, j - 1)(u) (the largest element is an a, beating all j b's, or
// a b). Exact in 64-bit integers up to na + nb = 50 (C(50, 25) < 2^47).
std::vector<std::uint64_t> u_counts(std::size_t na, std::size_t nb) {
  std::vector<std::vector<std::uint64_t>> prev(nb + 1, std::vector<std::uint64_t>{1});
  for (std::size_t i = 1; i <= na; ++i) {
    std::vector<std::vector<std::uint64_t>> cur(nb + 1);
    cur[0] = {1};
    for (std::size_t j = 1; j <= nb; ++j) {
      std::vector<std::uint64_t> f(i * j + 1, 0);
      for (std::size_t u = 0; u < prev[j].size(); ++u) f[u + j] += prev[j][u];
      for (std::size_t u = 0; u < cur[j - 1].size(); ++u) f[u] += cur[j - 1][u];
      cur[j] = std::move(f);
    }
    prev = std::move(cur);
  }
  return prev[nb];
}

}  // namespace

SampleStats summarize(std::vector<double> samples) {
  if (samples.empty()) throw Error(ReasonCode::bad_input, "summarize: no samples");
  std::sort(samples.begin(), samples.end());
  SampleStats s;
  s.count = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median = quantile(samples, 0.5);
  s.p10 = quantile(samples, 0.1);
  s.p90 = quantile(samples, 0.9);
  double sum = 0;
  for (double x : samples) sum += x;
  s.mean = sum / static_cast<double>(s.count);
  double ss = 0;
  for (double x : samples) ss += (x - s.mean) * (x - s.mean);
  s.stddev = s.count > 1 ? std::sqrt(ss / static_cast<double>(s.count - 1)) : 0.0;
  s.cv = s.mean != 0 ? s.stddev / s.mean : 0.0;
  return s;
}

}  // namespace clgauge

namespace clgauge {

double MedianCi::half_width_pct() const {
  return median != 0 ? (hi - lo) / 2.0 / std::fabs(median) * 100.0 : 0.0;
}

MedianCi median_ci(std::vector<double> samples, double level) {
  if (samples.empty()) throw Error(ReasonCode::bad_input, "median_ci: no samples");
  require_level(level, "median_ci");
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  const std::vector<double> cdf = binomial_half_cdf(n);
  const double tail = (1.0 - level) / 2.0;
  // Largest l >= 1 (1-based) with P(X <= l - 1) <= tail, and l <= (n + 1) / 2.
  std::size_t l = 0;
  for (std::size_t cand = 1; cand <= (n + 1) / 2; ++cand) {
    if (cdf[cand - 1] <= tail) l = cand;
  }
  MedianCi ci;
  ci.median = median_sorted(samples);
  ci.exact = l > 0;
  if (l == 0) l = 1;
  ci.lo = samples[l - 1];
  ci.hi = samples[n - l];
  ci.coverage = std::max(0.0, 1.0 - 2.0 * cdf[l - 1]);
  return ci;
}

std::vector<double> modified_z_scores(std::span<const double> samples) {
  std::vector<double> z(samples.size(), 0.0);
  if (samples.empty()) return z;
  const double med = median_of({samples.begin(), samples.end()});
  std::vector<double> dev;
  dev.reserve(samples.size());
  double mean_dev = 0;
  for (double x : samples) {
    dev.push_back(std::fabs(x - med));
    mean_dev += std::fabs(x - med);
  }
  mean_dev /= static_cast<double>(samples.size());
  const double mad = median_of(std::move(dev));
  // 0.6745 / MAD, or 1 / (1.253314 MeanAD) when MAD is 0 (both scale to a normal's sigma).
  double scale = 0;
  if (mad > 0) {
    scale = 0.6745 / mad;
  } else if (mean_dev > 0) {
    scale = 1.0 / (1.253314 * mean_dev);
  }
  for (std::size_t i = 0; i < samples.size(); ++i) z[i] = (samples[i] - med) * scale;
  return z;
}

std::vector<bool> modified_z_outliers(std::span<const double> samples, double threshold) {
  const auto z = modified_z_scores(samples);
  std::vector<bool> out(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) out[i] = std::fabs(z[i]) > threshold;
  return out;
}

MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty()) throw Error(ReasonCode::bad_input, "mann_whitney_u: empty sample");
  const auto na = static_cast<double>(a.size());
  const auto nb = static_cast<double>(b.size());
  const Ranks r = pooled_ranks(a, b);
  double rank_sum_a = 0;
  for (std::size_t i = 0; i < a.size(); ++i) rank_sum_a += r.rank[i];
  MannWhitney mw;
  mw.u = rank_sum_a - na * (na + 1) / 2;
  mw.rank_biserial = 2.0 * mw.u / (na * nb) - 1.0;
  if (!r.ties && a.size() + b.size() <= 50) {
    const auto counts = u_counts(a.size(), b.size());
    double total = 0;
    for (auto c : counts) total += static_cast<double>(c);
    // Two-sided: twice the smaller tail, P(U <= min(u, na nb - u)).
    const auto low = static_cast<std::size_t>(std::min(mw.u, na * nb - mw.u));
    double tail = 0;
    for (std::size_t u = 0; u <= low; ++u) tail += static_cast<double>(counts[u]);
    mw.p_value = std::min(1.0, 2.0 * tail / total);
    mw.exact = true;
    return mw;
  }
  const double n = na + nb;
  const double var = na * nb / 12.0 * ((n + 1) - r.tie_term / (n * (n - 1)));
  if (!(var > 0)) {
    mw.p_value = 1.0;  // every value equal: no evidence either way
    return mw;
  }
  const double z = std::max(0.0, std::fabs(mw.u - na * nb / 2.0) - 0.5) / std::sqrt(var);
  mw.p_value = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return mw;
}

RatioCi bootstrap_median_ratio_ci(std::span<const double> a, std::span<const double> b,
                                  std::uint64_t seed, std::size_t resamples, double level) {
  if (a.empty() || b.empty()) {
    throw Error(ReasonCode::bad_input, "bootstrap_median_ratio_ci: empty sample");
  }
  if (resamples == 0) {
    throw Error(ReasonCode::bad_input, "bootstrap_median_ratio_ci: resamples must be >= 1");
  }
  require_level(level, "bootstrap_median_ratio_ci");
  auto ratio_of = [](double ma, double mb) {
    if (!(mb > 0)) {
      throw Error(
          ReasonCode::bad_input,
          "bootstrap_median_ratio_ci: median of b is not positive (" + std::to_string(mb) + ")");
    }
    return ma / mb;
  };
  RatioCi ci;
  ci.resamples = resamples;
  ci.ratio = ratio_of(median_of({a.begin(), a.end()}), median_of({b.begin(), b.end()}));
  const std::uint64_t per = a.size() + b.size();
  std::vector<double> ratios;
  ratios.reserve(resamples);
  std::vector<double> ra(a.size()), rb(b.size());
  auto draw = [&](std::uint64_t counter, std::size_t n) {
    const double u =
        (static_cast<double>(random_element(seed, counter, Distribution::uniform)) + 1.0) / 2.0;
    return std::min(static_cast<std::size_t>(std::floor(u * static_cast<double>(n))), n - 1);
  };
  for (std::uint64_t r = 0; r < resamples; ++r) {
    const std::uint64_t base = r * per;
    for (std::size_t i = 0; i < a.size(); ++i) ra[i] = a[draw(base + i, a.size())];
    for (std::size_t j = 0; j < b.size(); ++j) rb[j] = b[draw(base + a.size() + j, b.size())];
    ratios.push_back(ratio_of(median_of(ra), median_of(rb)));
  }
  std::sort(ratios.begin(), ratios.end());
  ci.lo = quantile(ratios, (1.0 - level) / 2.0);
  ci.hi = quantile(ratios, (1.0 + level) / 2.0);
  return ci;
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::faster:
      return "faster";
    case Verdict::slower:
      return "slower";
    case Verdict::tie:
      return "tie";
  }
  return "tie";
}

Verdict decide_verdict(const RatioCi& ci, double p_value, double margin, double alpha) {
  if (p_value < alpha) {
    if (ci.lo > 1.0 + margin) return Verdict::faster;
    if (ci.hi < 1.0 / (1.0 + margin)) return Verdict::slower;
  }
  return Verdict::tie;
}

}  // namespace clgauge
