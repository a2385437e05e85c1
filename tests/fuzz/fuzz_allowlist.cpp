// Parity allowlists: parse, then every accepted pattern must match (or not) any id
// without crashing, and an entry's own pattern text, when it has no glob characters,
// matches itself.
#include <cstdlib>

#include "clgauge/campaign.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  const auto allow = clgauge::parse_allowlist(input, "fuzz.json");
  (void)clgauge::match_allowlist(allow,
                                 "gemm/strict:gemm.direct@0123456789abcdef/row-nn/1x1x1/tight");
  for (const auto& e : allow) {
    if (e.pattern.empty() || e.reason.empty()) std::abort();
    if (e.pattern.find_first_of("*?[\\") == std::string::npos &&
        clgauge::match_allowlist(std::span(&e, 1), e.pattern) == nullptr) {
      std::abort();
    }
  }
}
