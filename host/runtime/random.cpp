#include "clgauge/random.hpp"

#include <Random123/philox.h>

#include <cmath>
#include <string>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"

namespace clgauge {
namespace {

using Philox = r123::Philox4x32_R<10>;

// Philox4x32-10 with key {seed low, seed high} and counter {index low, index high, 0, 0}.
Philox::ctr_type philox_words(std::uint64_t seed, std::uint64_t index) {
  Philox gen;
  const Philox::key_type key = {
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  const Philox::ctr_type ctr = {
      {static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), 0u, 0u}};
  return gen(ctr, key);
}

constexpr double kTwoPow24 = 16777216.0;

}  // namespace

std::string_view to_string(Distribution d) {
  return d == Distribution::uniform ? "uniform" : "normal";
}

Distribution distribution_from_string(std::string_view name) {
  if (name == "uniform") return Distribution::uniform;
  if (name == "normal") return Distribution::normal;
  throw Error(ReasonCode::bad_input,
              "unknown input distribution '" + std::string(name) + "' (want uniform|normal)");
}

std::uint64_t derive_seed(std::uint64_t master, std::string_view phase, std::string_view config_id,
                          std::string_view shape, std::uint64_t session, std::uint64_t run) {
  std::string s = std::to_string(master);
  s += '/';
  s += phase;
  s += '/';
  s += config_id;
  s += '/';
  s += shape;
  s += '/';
  s += std::to_string(session);
  s += '/';
  s += std::to_string(run);
  return xxh3_64(s);
}

float random_element(std::uint64_t seed, std::uint64_t index, Distribution d) {
  const auto w = philox_words(seed, index);
  if (d == Distribution::uniform) {
    // u = (w0 >> 8) * 2^-24 in [0, 1); x = 2u - 1 in [-1, 1). Both steps are exact
    // in double and the result has at most 24 significant bits, so the float is exact.
    const double u = static_cast<double>(w[0] >> 8) / kTwoPow24;
    return static_cast<float>(2.0 * u - 1.0);
  }
  // Box-Muller, fixed formula (all in double, rounded to float once):
  //   u1 = ((w0 >> 8) + 1) * 2^-24   in (0, 1]   (never 0, so log is finite)
  //   u2 = (w1 >> 8) * 2^-24         in [0, 1)
  //   z  = sqrt(-2 ln u1) * cos(2 pi u2)
  const double u1 = (static_cast<double>(w[0] >> 8) + 1.0) / kTwoPow24;
  const double u2 = static_cast<double>(w[1] >> 8) / kTwoPow24;
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
}

void fill_random(std::span<float> out, std::uint64_t seed, Distribution d,
                 std::uint64_t first_index) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = random_element(seed, first_index + i, d);
  }
}

}  // namespace clgauge
