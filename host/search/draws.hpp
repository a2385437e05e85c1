#pragma once
// Philox draws for the search strategies (internal).
//
//   draw(t) = Philox4x32-10, key {seed low, seed high}, counter {t low, t high, 2, stream}.
// Counter word 2 = 2 keeps these apart from random.hpp's input streams (0) and random_order
// (1); word 3 names the purpose, so two uses of one seed never share draws.

#include <Random123/philox.h>

#include <cstdint>

namespace clgauge::search_detail {

class Draws {
 public:
  Draws(std::uint64_t seed, std::uint32_t stream)
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
        stream_(stream) {}

  std::uint64_t next() {
    using Philox = r123::Philox4x32_R<10>;
    const Philox::ctr_type ctr = {
        {static_cast<std::uint32_t>(t_), static_cast<std::uint32_t>(t_ >> 32), 2u, stream_}};
    ++t_;
    const auto w = Philox{}(ctr, key_);
    return (static_cast<std::uint64_t>(w[1]) << 32) | w[0];
  }
  // Uniform in [0, bound), bound >= 1, unbiased by rejection.
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  r123::Philox4x32_R<10>::key_type key_;
  std::uint32_t stream_;
  std::uint64_t t_ = 0;
};

// Mixes a seed with a number (history length, config index) into a new 64-bit seed.
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t x) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (x + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace clgauge::search_detail
