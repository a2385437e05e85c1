#include "clgauge/hash.hpp"

#include <xxhash.h>

#include <cstdio>

#include "clgauge/error.hpp"

namespace clgauge {

std::uint64_t xxh3_64(std::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::string hex16(std::uint64_t value) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return std::string(buf, 16);
}

std::uint64_t parse_hex16(std::string_view text, std::string_view what) {
  if (text.size() != 16) {
    throw Error(ReasonCode::bad_input,
                std::string(what) + ": '" + std::string(text) + "' is not 16 hex digits");
  }
  std::uint64_t v = 0;
  for (char c : text) {
    int d = 0;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      throw Error(ReasonCode::bad_input,
                  std::string(what) + ": '" + std::string(text) + "' is not 16 hex digits");
    }
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace clgauge
