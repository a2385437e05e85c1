// The strategies exhaustive, random and local, the neighbour index, and the factory.
// "bo" lives in bo.cpp. See docs/search.md for the algorithms.

#include <algorithm>
#include <map>

#include "clgauge/error.hpp"
#include "clgauge/search.hpp"
#include "search/draws.hpp"
#include "search/internal.hpp"

namespace clgauge {

using search_detail::Draws;
using search_detail::mix_seed;

SearchSpace search_space_from(CompiledSpace& compiled, const Shard& shard) {
  const ParameterSpace& ps = compiled.space();
  SearchSpace s;
  s.family = ps.family;
  for (const auto& p : ps.parameters) {
    s.names.push_back(p.name);
    std::vector<double> v;
    for (const auto x : p.values) v.push_back(static_cast<double>(x));
    s.values.push_back(std::move(v));
  }
  for (const auto& c : compiled.candidates(shard)) {
    std::vector<std::uint32_t> idx(c.values.size());
    for (std::size_t i = 0; i < c.values.size(); ++i) {
      const auto& vals = ps.parameters[i].values;
      idx[i] = static_cast<std::uint32_t>(std::find(vals.begin(), vals.end(), c.values[i]) -
                                          vals.begin());
    }
    s.configs.push_back(std::move(idx));
    s.ids.push_back(c.id);
  }
  return s;
}

NeighbourIndex::NeighbourIndex(const SearchSpace& space) : space_(&space) {
  sorted_.resize(space.configs.size());
  for (std::size_t i = 0; i < sorted_.size(); ++i) sorted_[i] = i;
  std::sort(sorted_.begin(), sorted_.end(), [&](std::size_t a, std::size_t b) {
    return space.configs[a] < space.configs[b] || (space.configs[a] == space.configs[b] && a < b);
  });
}

std::optional<std::size_t> NeighbourIndex::find(std::span<const std::uint32_t> v) const {
  const auto& cfg = space_->configs;
  auto less = [&](std::size_t a, std::span<const std::uint32_t> key) {
    return std::lexicographical_compare(cfg[a].begin(), cfg[a].end(), key.begin(), key.end());
  };
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), v, less);
  if (it == sorted_.end()) return std::nullopt;
  if (!std::equal(cfg[*it].begin(), cfg[*it].end(), v.begin(), v.end())) return std::nullopt;
  return *it;
}

std::vector<std::size_t> NeighbourIndex::neighbours(std::size_t config) const {
  std::vector<std::size_t> out;
  std::vector<std::uint32_t> v = space_->configs[config];
  for (std::size_t p = 0; p < v.size(); ++p) {
    const std::uint32_t orig = v[p];
    const auto count = static_cast<std::uint32_t>(space_->values[p].size());
    if (orig > 0) {
      v[p] = orig - 1;
      if (auto f = find(v)) out.push_back(*f);
    }
    if (orig + 1 < count) {
      v[p] = orig + 1;
      if (auto f = find(v)) out.push_back(*f);
    }
    v[p] = orig;
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace search_detail {

std::vector<char> evaluated_mask(const SearchSpace& space, std::span<const Observation> history) {
  std::vector<char> seen(space.configs.size(), 0);
  for (const auto& h : history) {
    if (h.config >= space.configs.size()) {
      throw Error(ReasonCode::bad_input, "search history: config " + std::to_string(h.config) +
                                             " is outside the space of " +
                                             std::to_string(space.configs.size()) + " configs");
    }
    seen[h.config] = 1;
  }
  return seen;
}

std::optional<std::size_t> random_unevaluated(const std::vector<char>& taken, std::uint64_t seed,
                                              std::uint32_t stream) {
  std::size_t left = 0;
  for (const char t : taken) left += t ? 0 : 1;
  if (left == 0) return std::nullopt;
  Draws d(seed, stream);
  std::uint64_t k = d.below(left);
  for (std::size_t i = 0; i < taken.size(); ++i) {
    if (taken[i]) continue;
    if (k == 0) return i;
    --k;
  }
  return std::nullopt;
}

}  // namespace search_detail

namespace {

using search_detail::evaluated_mask;
using search_detail::random_unevaluated;

class Exhaustive final : public SearchStrategy {
 public:
  std::string_view name() const override { return "exhaustive"; }
  std::vector<std::size_t> propose(const SearchSpace& space, std::span<const Observation> history,
                                   std::size_t count) override {
    const auto seen = evaluated_mask(space, history);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < seen.size() && out.size() < count; ++i) {
      if (!seen[i]) out.push_back(i);
    }
    return out;
  }
};

// Without replacement, in the order random_order(size, seed) gives (space.hpp).
class RandomSearch final : public SearchStrategy {
 public:
  explicit RandomSearch(std::uint64_t seed) : seed_(seed) {}
  std::string_view name() const override { return "random"; }
  std::vector<std::size_t> propose(const SearchSpace& space, std::span<const Observation> history,
                                   std::size_t count) override {
    const auto seen = evaluated_mask(space, history);
    if (perm_.size() != space.configs.size()) perm_ = random_order(space.configs.size(), seed_);
    std::vector<std::size_t> out;
    for (std::size_t r = 0; r < perm_.size() && out.size() < count; ++r) {
      if (!seen[perm_[r]]) out.push_back(static_cast<std::size_t>(perm_[r]));
    }
    return out;
  }

 private:
  std::uint64_t seed_;
  std::vector<std::uint64_t> perm_;  // a cache: a function of (size, seed) only
};

// Iterated local search, a pure function of the history:
//  - The history splits into runs: an observation that is a one-step neighbour of a config of
//    the current run joins it; any other starts a new run (a restart).
//  - The current point is the best successful config of the last run. Its unevaluated
//    neighbours are proposed, in an order drawn from (seed, current config); as soon as one
//    improves, it becomes the current point (first improvement).
//  - A current point with every neighbour evaluated is a local optimum (as is a run with no
//    success): restart at a uniformly drawn unevaluated config.
class LocalSearch final : public SearchStrategy {
 public:
  explicit LocalSearch(std::uint64_t seed) : seed_(seed) {}
  std::string_view name() const override { return "local"; }
  std::vector<std::size_t> propose(const SearchSpace& space, std::span<const Observation> history,
                                   std::size_t count) override {
    auto taken = evaluated_mask(space, history);
    const NeighbourIndex& nb = index_.get(space);
    // Replay the runs (kNone: no current point). The replay state of the last call is reused
    // when this history extends that one: the same state a full replay would reach.
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    Replay& st = replay_;
    bool extends = st.space == &space && st.generation == index_.generation() &&
                   st.in_run.size() == space.configs.size() && st.seen.size() <= history.size();
    for (std::size_t i = 0; extends && i < st.seen.size(); ++i) {
      extends =
          st.seen[i].config == history[i].config && st.seen[i].objective == history[i].objective;
    }
    if (!extends) {
      st = Replay{};
      st.space = &space;
      st.generation = index_.generation();
      st.in_run.assign(space.configs.size(), 0);
    }
    for (std::size_t i = st.seen.size(); i < history.size(); ++i) {
      const auto& h = history[i];
      bool joins = false;
      if (!st.run.empty()) {
        for (const auto n : nb.neighbours(h.config)) joins = joins || st.in_run[n];
      }
      if (!joins) {
        for (const auto r : st.run) st.in_run[r] = 0;
        st.run.clear();
        st.current = kNone;
      }
      st.run.push_back(h.config);
      st.in_run[h.config] = 1;
      if (h.objective &&
          (st.current == kNone || *h.objective < st.current_obj ||
           (*h.objective == st.current_obj && space.ids[h.config] < space.ids[st.current]))) {
        st.current = h.config;
        st.current_obj = *h.objective;
      }
      st.seen.push_back(h);
    }
    std::size_t current = st.current;
    std::vector<std::size_t> out;
    std::size_t restarts = 0;
    while (out.size() < count) {
      if (current != kNone) {
        std::vector<std::size_t> open;
        for (const auto n : nb.neighbours(current)) {
          if (!taken[n]) open.push_back(n);
        }
        // Seeded order of the neighbours of this point.
        Draws d(mix_seed(seed_, current), 3);
        for (std::size_t i = open.size(); i-- > 1;) {
          std::swap(open[i], open[static_cast<std::size_t>(d.below(i + 1))]);
        }
        for (const auto n : open) {
          if (out.size() == count) break;
          out.push_back(n);
          taken[n] = 1;
        }
        if (out.size() == count) break;
      }
      const auto r = random_unevaluated(taken, mix_seed(seed_, history.size() + restarts), 4);
      ++restarts;
      if (!r) break;
      out.push_back(*r);
      taken[*r] = 1;
      // Within one batch the restart point's neighbours follow (its result is unknown yet).
      current = *r;
    }
    return out;
  }

 private:
  struct Replay {
    const SearchSpace* space = nullptr;
    std::uint64_t generation = 0;
    std::vector<Observation> seen;
    std::vector<char> in_run;
    std::vector<std::size_t> run;
    std::size_t current = static_cast<std::size_t>(-1);
    double current_obj = 0;
  };
  std::uint64_t seed_;
  search_detail::CachedNeighbourIndex index_;
  Replay replay_;
};

}  // namespace

std::vector<std::string> search_strategy_names() {
  return {"exhaustive", "random", "local", "bo"};
}

std::unique_ptr<SearchStrategy> make_search_strategy(std::string_view name, std::uint64_t seed) {
  if (name == "exhaustive") return std::make_unique<Exhaustive>();
  if (name == "random") return std::make_unique<RandomSearch>(seed);
  if (name == "local") return std::make_unique<LocalSearch>(seed);
  if (name == "bo") return search_detail::make_bo(seed);
  throw Error(ReasonCode::bad_input, "--strategy: unknown strategy '" + std::string(name) +
                                         "' (known: exhaustive, random, local, bo)");
}

std::string default_search_strategy(std::uint64_t budget_configs, std::uint64_t space_size) {
  return budget_configs < space_size ? "bo" : "exhaustive";
}

}  // namespace clgauge
