// Seeded random order for random search, identical on every platform and compiler.
//
// Algorithm (fixed; changing it changes every recorded random search):
//   draw(t)  = Philox4x32-10 with key {seed low 32 bits, seed high 32 bits} and counter
//              {t low, t high, 1, 0}; the 64-bit value is (word1 << 32) | word0.
//              (Counter word 2 = 1 keeps these draws apart from the input streams of
//              random.hpp, which use word 2 = 0 with the same seeds.)
//   below(b) = the next draw r with r >= (2^64 mod b), reduced as r mod b: unbiased,
//              by rejection (fewer than one draw in two is rejected, for any b).
//   Fisher-Yates from the back: perm = [0, 1, ..., n-1];
//     for i = n-1 down to 1: j = below(i + 1); swap(perm[i], perm[j]).
// Draws are consumed in that order, t = 0, 1, 2, ... No std::shuffle, no
// std::*_distribution: their algorithms differ between standard libraries.

#include <Random123/philox.h>

#include <utility>

#include "clgauge/space.hpp"

namespace clgauge {
namespace {

class DrawStream {
 public:
  explicit DrawStream(std::uint64_t seed)
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}} {}

  std::uint64_t next() {
    using Philox = r123::Philox4x32_R<10>;
    const Philox::ctr_type ctr = {
        {static_cast<std::uint32_t>(t_), static_cast<std::uint32_t>(t_ >> 32), 1u, 0u}};
    ++t_;
    const auto w = Philox{}(ctr, key_);
    return (static_cast<std::uint64_t>(w[1]) << 32) | w[0];
  }

  // Uniform in [0, bound), bound >= 1.
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  r123::Philox4x32_R<10>::key_type key_;
  std::uint64_t t_ = 0;
};

}  // namespace

std::vector<std::uint64_t> random_order(std::uint64_t n, std::uint64_t seed) {
  std::vector<std::uint64_t> perm(n);
  for (std::uint64_t i = 0; i < n; ++i) perm[i] = i;
  DrawStream draws(seed);
  for (std::uint64_t i = n; i-- > 1;) {
    const std::uint64_t j = draws.below(i + 1);
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

std::vector<Candidate> in_random_order(std::vector<Candidate> candidates, std::uint64_t seed) {
  const auto perm = random_order(candidates.size(), seed);
  std::vector<Candidate> out;
  out.reserve(candidates.size());
  for (const auto p : perm) out.push_back(std::move(candidates[p]));
  return out;
}

}  // namespace clgauge
