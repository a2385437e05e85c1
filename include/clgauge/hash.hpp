#pragma once
// XXH3-64, the hash that names things in clgauge (config ids, seeds,
// fingerprints). Never std::hash: its values are not stable across builds.

#include <cstdint>
#include <string>
#include <string_view>

namespace clgauge {

std::uint64_t xxh3_64(std::string_view bytes);
// 16 lowercase hex digits, zero-padded.
std::string hex16(std::uint64_t value);
// Parses exactly 16 hex digits; throws Error(bad_input) naming `what` otherwise.
std::uint64_t parse_hex16(std::string_view text, std::string_view what);

}  // namespace clgauge
