#pragma once
// Replayable random inputs: Philox4x32-10 keyed by a 64-bit seed, counter =
// element index, so any element can be regenerated alone.

#include <cstdint>
#include <span>
#include <string_view>

namespace clgauge {

enum class Distribution { uniform, normal };

std::string_view to_string(Distribution d);
Distribution distribution_from_string(std::string_view name);  // throws Error(bad_input)

// Seed of one measurement: XXH3-64 of "<master>/<phase>/<config id>/<shape>/<session>/<run>"
// (master, session and run in decimal). Phase is search, verify, replay or parity.
std::uint64_t derive_seed(std::uint64_t master, std::string_view phase, std::string_view config_id,
                          std::string_view shape, std::uint64_t session, std::uint64_t run);

// Element `index` of the stream `seed`:
//   uniform: top 24 bits of Philox word 0, times 2^-24, mapped to [-1, 1) as 2u - 1 (exact).
//   normal:  Box-Muller on words 0 and 1 (see random.cpp for the fixed formula).
float random_element(std::uint64_t seed, std::uint64_t index, Distribution d);

// out[i] = random_element(seed, first_index + i, d).
void fill_random(std::span<float> out, std::uint64_t seed, Distribution d,
                 std::uint64_t first_index = 0);

}  // namespace clgauge
