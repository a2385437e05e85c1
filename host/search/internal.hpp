#pragma once
// Shared internals of the search strategies.

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "clgauge/search.hpp"

namespace clgauge::search_detail {

// 1 for each config in the history; Error(bad_input) for an index outside the space.
std::vector<char> evaluated_mask(const SearchSpace& space, std::span<const Observation> history);
// A uniformly drawn config with taken[i] == 0, from Draws(seed, stream).
std::optional<std::size_t> random_unevaluated(const std::vector<char>& taken, std::uint64_t seed,
                                              std::uint32_t stream);

// A NeighbourIndex rebuilt when the space changes (same address, size and end configs are
// taken as the same space: the index is a cache, never part of an answer).
class CachedNeighbourIndex {
 public:
  const NeighbourIndex& get(const SearchSpace& space) {
    const bool same =
        index_ && space_ == &space && size_ == space.configs.size() &&
        (size_ == 0 || (front_ == space.configs.front() && back_ == space.configs.back()));
    if (!same) {
      ++generation_;
      index_ = std::make_unique<NeighbourIndex>(space);
      space_ = &space;
      size_ = space.configs.size();
      if (size_ > 0) {
        front_ = space.configs.front();
        back_ = space.configs.back();
      }
    }
    return *index_;
  }
  // Changes whenever get() rebuilt the index (another space).
  std::uint64_t generation() const { return generation_; }

 private:
  std::uint64_t generation_ = 0;
  std::unique_ptr<NeighbourIndex> index_;
  const SearchSpace* space_ = nullptr;
  std::size_t size_ = 0;
  std::vector<std::uint32_t> front_, back_;
};

std::unique_ptr<SearchStrategy> make_bo(std::uint64_t seed);
// The configs bo's objective regression is trained on for this history (tests: never a failure).
std::vector<std::size_t> bo_regression_configs(std::span<const Observation> history);

}  // namespace clgauge::search_detail
