// "bo": Gaussian-process model-guided search (see docs/search.md, "bo").
//
//  features   each parameter with more than one value, as its position in the declared value
//             order scaled to [0, 1] (ordinal, not the raw value)
//  regression on log(objective) of successful evaluations only, standardised; zero-mean GP,
//             Matern 5/2 with one length scale; the length scale and the noise (nugget) are
//             chosen on a fixed grid by the marginal likelihood with the signal variance
//             profiled out. At most kMaxModel points: the best half and the latest half.
//  feasibility  a second GP of the same kind (own length scale and nugget) regresses the
//             success label (1 ok, 0 failed) of every evaluation; p(x) is the probability that
//             the label exceeds 1/2 under its predictive normal (mean, latent variance plus
//             nugget): a least-squares GP classifier; 1 when nothing failed.
//             Failures never enter the objective regression.
//  acquisition  expected improvement below the best log objective, times p(x); ties by id.
//  candidates all unevaluated configs when there are at most kScoreAll; else kSample drawn
//             uniformly (Philox, seeded by seed and history length) plus every unevaluated
//             one-step neighbour of the kNeighbourhoodOf best successful configs.
//  initial design  clamp(dimensions + 1, 4, 10) uniformly drawn configs (and random while
//             fewer than two evaluations succeeded).
//  polish     with a known budget, the last ceil(budget / 10) proposals take the unevaluated
//             neighbour of the best config with the lowest predicted objective (then the
//             second best's, ...), falling back to expected improvement.
//  batches    count > 1: each pick is added to the model at its predicted mean (kriging
//             believer) before the next; these pending points never train feasibility.

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>

#include "clgauge/error.hpp"
#include "clgauge/search.hpp"
#include "search/draws.hpp"
#include "search/internal.hpp"

namespace clgauge::search_detail {
namespace {

constexpr std::size_t kScoreAll = 8192;
constexpr std::size_t kSample = 4096;
constexpr std::size_t kNeighbourhoodOf = 5;
constexpr std::size_t kMaxModel = 256;
constexpr double kLengthScales[] = {0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 1.6};  // times sqrt(dims)
constexpr double kNuggets[] = {1e-6, 1e-3, 1e-2, 1e-1};

double matern52(double r) {
  const double s = std::sqrt(5.0) * r;
  return (1.0 + s + s * s / 3.0) * std::exp(-s);
}

struct Point {
  std::size_t config;
  double y;  // log objective
};

// The objective regression's training points: successful evaluations only.
std::vector<Point> regression_points(std::span<const Observation> history) {
  std::vector<Point> ok;
  for (const auto& h : history) {
    if (h.objective) ok.push_back({h.config, std::log(std::max(*h.objective, 1e-300))});
  }
  return ok;
}

struct Model {
  std::vector<std::size_t> dims;  // parameters with more than one value
  Eigen::MatrixXd x;              // n x d features
  Eigen::VectorXd y;              // standardised
  double y_mean = 0, y_scale = 1;
  double length = 1, nugget = 1e-6;
  Eigen::LLT<Eigen::MatrixXd> llt;
  Eigen::VectorXd alpha;
};

class Bo final : public SearchStrategy {
 public:
  explicit Bo(std::uint64_t seed) : seed_(seed) {}
  std::string_view name() const override { return "bo"; }
  void set_budget(std::optional<std::uint64_t> b) override { budget_ = b; }

  std::vector<std::size_t> propose(const SearchSpace& space, std::span<const Observation> history,
                                   std::size_t count) override {
    auto taken = evaluated_mask(space, history);
    std::vector<Point> pending;
    std::vector<std::size_t> out;
    while (out.size() < count) {
      auto pick = propose_one(space, history, pending, taken);
      if (!pick) break;
      out.push_back(pick->first);
      taken[pick->first] = 1;
      if (pick->second)
        pending.push_back({pick->first, *pick->second});
      else
        pending.push_back({pick->first, std::numeric_limits<double>::quiet_NaN()});
    }
    return out;
  }

 private:
  // The config and, when a model was fitted, its predicted log objective.
  std::optional<std::pair<std::size_t, std::optional<double>>> propose_one(
      const SearchSpace& space, std::span<const Observation> history,
      const std::vector<Point>& pending, const std::vector<char>& taken) {
    const std::size_t n_total = history.size() + pending.size();
    std::vector<std::size_t> dims;
    for (std::size_t p = 0; p < space.values.size(); ++p) {
      if (space.values[p].size() > 1) dims.push_back(p);
    }
    const std::size_t n_init = std::clamp<std::size_t>(dims.size() + 1, 4, 10);
    std::vector<Point> ok = regression_points(history);
    const std::size_t real_ok = ok.size();
    for (const auto& p : pending) {
      if (!std::isnan(p.y)) ok.push_back(p);
    }
    if (n_total < n_init || real_ok < 2 || dims.empty()) {
      auto r = random_unevaluated(taken, mix_seed(seed_, n_total), 5);
      if (!r) return std::nullopt;
      return std::make_pair(*r, std::optional<double>{});
    }
    const NeighbourIndex& nb = index_.get(space);
    Model m = fit(space, dims, ok);

    // Successful configs, best first (ties by id).
    std::vector<Point> ranked(ok.begin(), ok.begin() + static_cast<std::ptrdiff_t>(real_ok));
    std::sort(ranked.begin(), ranked.end(), [&](const Point& a, const Point& b) {
      return a.y < b.y || (a.y == b.y && space.ids[a.config] < space.ids[b.config]);
    });

    const bool polish = budget_ && n_total + (*budget_ + 9) / 10 >= *budget_;
    if (polish) {
      for (const auto& best : ranked) {
        std::vector<std::size_t> open;
        for (const auto n : nb.neighbours(best.config)) {
          if (!taken[n]) open.push_back(n);
        }
        if (open.empty()) continue;
        const auto pred = predict(space, m, open);
        std::size_t pick = 0;
        for (std::size_t i = 1; i < open.size(); ++i) {
          if (pred.mu[i] < pred.mu[pick] ||
              (pred.mu[i] == pred.mu[pick] && space.ids[open[i]] < space.ids[open[pick]])) {
            pick = i;
          }
        }
        return std::make_pair(open[pick], std::optional<double>{unscale(m, pred.mu[pick])});
      }
    }

    // Candidates.
    std::vector<std::size_t> cand;
    std::size_t left = 0;
    for (const char t : taken) left += t ? 0 : 1;
    if (left == 0) return std::nullopt;
    if (left <= kScoreAll) {
      for (std::size_t i = 0; i < taken.size(); ++i) {
        if (!taken[i]) cand.push_back(i);
      }
    } else {
      std::vector<char> in(taken.size(), 0);
      Draws d(mix_seed(seed_, n_total), 6);
      for (std::size_t draws = 0; cand.size() < kSample && draws < 4 * kSample; ++draws) {
        const auto c = static_cast<std::size_t>(d.below(taken.size()));
        if (taken[c] || in[c]) continue;
        in[c] = 1;
        cand.push_back(c);
      }
      for (std::size_t b = 0; b < ranked.size() && b < kNeighbourhoodOf; ++b) {
        for (const auto n : nb.neighbours(ranked[b].config)) {
          if (!taken[n] && !in[n]) {
            in[n] = 1;
            cand.push_back(n);
          }
        }
      }
      std::sort(cand.begin(), cand.end());
    }

    const auto pred = predict(space, m, cand);
    // Feasibility from every real evaluation.
    std::vector<double> pfeas(cand.size(), 1.0);
    std::size_t failures = history.size() - real_ok;
    if (failures > 0) {
      std::vector<Point> labels;
      for (const auto& h : history) labels.push_back({h.config, h.objective ? 1.0 : 0.0});
      const Model f = fit(space, dims, std::move(labels));
      const auto fp = predict(space, f, cand);
      for (std::size_t i = 0; i < cand.size(); ++i) {
        // P(label > 1/2) under the label GP's predictive normal (noise included).
        const double quad = std::max(f.y.dot(f.alpha) / static_cast<double>(f.y.size()), 1e-12);
        const double sd = std::sqrt(fp.sigma[i] * fp.sigma[i] + f.nugget * quad) * f.y_scale;
        const double mean = f.y_mean + f.y_scale * fp.mu[i];
        pfeas[i] = 0.5 * std::erfc(-(mean - 0.5) / (sd * std::sqrt(2.0)));
      }
    }
    const double best = (ranked.front().y - m.y_mean) / m.y_scale;
    std::size_t pick = 0;
    double pick_score = -1;
    for (std::size_t i = 0; i < cand.size(); ++i) {
      const double s = pred.sigma[i];
      const double imp = best - pred.mu[i];
      double ei;
      if (s < 1e-12) {
        ei = std::max(imp, 0.0);
      } else {
        const double z = imp / s;
        ei = imp * 0.5 * std::erfc(-z / std::sqrt(2.0)) +
             s * std::exp(-0.5 * z * z) / std::sqrt(2.0 * 3.14159265358979323846);
      }
      const double score = ei * pfeas[i];
      if (score > pick_score ||
          (score == pick_score && space.ids[cand[i]] < space.ids[cand[pick]])) {
        pick = i;
        pick_score = score;
      }
    }
    return std::make_pair(cand[pick], std::optional<double>{unscale(m, pred.mu[pick])});
  }

  static double unscale(const Model& m, double mu) { return std::exp(m.y_mean + m.y_scale * mu); }

  static Eigen::MatrixXd features(const SearchSpace& space, const std::vector<std::size_t>& dims,
                                  const std::vector<std::size_t>& configs) {
    Eigen::MatrixXd x(static_cast<Eigen::Index>(configs.size()),
                      static_cast<Eigen::Index>(dims.size()));
    for (std::size_t i = 0; i < configs.size(); ++i) {
      for (std::size_t k = 0; k < dims.size(); ++k) {
        const double top = static_cast<double>(space.values[dims[k]].size() - 1);
        x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) =
            static_cast<double>(space.configs[configs[i]][dims[k]]) / top;
      }
    }
    return x;
  }

  static Eigen::MatrixXd distances(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    Eigen::MatrixXd d(a.rows(), b.rows());
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      for (Eigen::Index j = 0; j < b.rows(); ++j) d(i, j) = (a.row(i) - b.row(j)).norm();
    }
    return d;
  }

  Model fit(const SearchSpace& space, const std::vector<std::size_t>& dims,
            std::vector<Point> ok) const {
    // Keep the model small: the best half and the latest half of kMaxModel.
    if (ok.size() > kMaxModel) {
      std::vector<std::size_t> order(ok.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return ok[a].y < ok[b].y; });
      std::vector<char> keep(ok.size(), 0);
      for (std::size_t i = 0; i < kMaxModel / 2; ++i) keep[order[i]] = 1;
      std::size_t kept = kMaxModel / 2;
      for (std::size_t i = ok.size(); i-- > 0 && kept < kMaxModel;) {
        if (!keep[i]) {
          keep[i] = 1;
          ++kept;
        }
      }
      std::vector<Point> small;
      for (std::size_t i = 0; i < ok.size(); ++i) {
        if (keep[i]) small.push_back(ok[i]);
      }
      ok = std::move(small);
    }
    Model m;
    m.dims = dims;
    std::vector<std::size_t> cfg;
    for (const auto& p : ok) cfg.push_back(p.config);
    m.x = features(space, dims, cfg);
    const auto n = static_cast<Eigen::Index>(ok.size());
    Eigen::VectorXd y(n);
    for (Eigen::Index i = 0; i < n; ++i) y(i) = ok[static_cast<std::size_t>(i)].y;
    m.y_mean = y.mean();
    const double var = (y.array() - m.y_mean).square().sum() / static_cast<double>(n);
    m.y_scale = var > 1e-24 ? std::sqrt(var) : 1.0;
    m.y = (y.array() - m.y_mean) / m.y_scale;
    const Eigen::MatrixXd dist = distances(m.x, m.x);
    const double root_d = std::sqrt(static_cast<double>(dims.size()));
    double best_nll = std::numeric_limits<double>::infinity();
    for (const double l : kLengthScales) {
      for (const double g : kNuggets) {
        Eigen::MatrixXd r = dist.unaryExpr([&](double v) { return matern52(v / (l * root_d)); });
        r.diagonal().array() += g;
        Eigen::LLT<Eigen::MatrixXd> llt(r);
        if (llt.info() != Eigen::Success) continue;
        const Eigen::VectorXd a = llt.solve(m.y);
        const double quad = std::max(m.y.dot(a), 1e-300);
        const double logdet = 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
        const double nll =
            0.5 * static_cast<double>(n) * std::log(quad / static_cast<double>(n)) + 0.5 * logdet;
        if (nll < best_nll) {
          best_nll = nll;
          m.length = l * root_d;
          m.nugget = g;
        }
      }
    }
    Eigen::MatrixXd r = dist.unaryExpr([&](double v) { return matern52(v / m.length); });
    r.diagonal().array() += m.nugget;
    m.llt.compute(r);
    if (m.llt.info() != Eigen::Success) {
      r.diagonal().array() += 1e-2;
      m.llt.compute(r);
    }
    m.alpha = m.llt.solve(m.y);
    return m;
  }

  struct Prediction {
    std::vector<double> mu, sigma;  // standardised log objective
  };

  static Prediction predict(const SearchSpace& space, const Model& m,
                            const std::vector<std::size_t>& cand) {
    const Eigen::MatrixXd cx = features(space, m.dims, cand);
    // n x c cross-correlation.
    Eigen::MatrixXd k =
        distances(m.x, cx).unaryExpr([&](double v) { return matern52(v / m.length); });
    Prediction p;
    p.mu.resize(cand.size());
    p.sigma.resize(cand.size());
    const Eigen::VectorXd mu = k.transpose() * m.alpha;
    m.llt.matrixL().solveInPlace(k);
    const double quad = m.y.dot(m.alpha) / static_cast<double>(m.y.size());  // profiled variance
    for (std::size_t i = 0; i < cand.size(); ++i) {
      const auto c = static_cast<Eigen::Index>(i);
      p.mu[i] = mu(c);
      const double v = std::max(1.0 - k.col(c).squaredNorm(), 1e-12);
      p.sigma[i] = std::sqrt(v * std::max(quad, 1e-12));
    }
    return p;
  }

  std::uint64_t seed_;
  std::optional<std::uint64_t> budget_;
  CachedNeighbourIndex index_;
};

}  // namespace

std::unique_ptr<SearchStrategy> make_bo(std::uint64_t seed) {
  return std::make_unique<Bo>(seed);
}

std::vector<std::size_t> bo_regression_configs(std::span<const Observation> history) {
  std::vector<std::size_t> out;
  for (const auto& p : regression_points(history)) out.push_back(p.config);
  return out;
}

}  // namespace clgauge::search_detail
