#pragma once
// The replay plan: the top-k candidates re-measured in S sessions x R runs, each
// measurement with its own seed, so any single one can be regenerated alone.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clgauge {

// A GEMM shape "<m>x<n>x<k>": positive decimal integers, no sign, no leading zeros.
// Throws Error(bad_input) "<field>: '<text>': <why>".
std::string parse_shape(std::string_view text, std::string_view field = "--shapes");
// Comma-separated shapes, declared order kept; an empty item or a repeated shape is an
// error naming its position (0-based item index).
std::vector<std::string> parse_shape_list(std::string_view list,
                                          std::string_view field = "--shapes");

struct ReplayEntry {
  std::uint64_t rank = 0;  // the candidate's rank (0 = best)
  std::string config_id;
  std::string shape;
  std::uint64_t session = 0;  // 0-based
  std::uint64_t run = 0;      // 0-based
  std::uint64_t seed = 0;     // derive_seed(master, "replay", config_id, shape, session, run)
  std::string tag;            // "<config id>_s<session>_r<run>"
  bool operator==(const ReplayEntry&) const = default;
};

struct ReplayPlan {
  std::uint64_t master_seed = 42;
  std::uint64_t sessions = 0;
  std::uint64_t runs = 0;
  std::vector<std::string> shapes;      // declared order
  std::vector<std::string> config_ids;  // rank order
  // Rank order, then shape (declared order), then session, then run.
  std::vector<ReplayEntry> entries;

  // The most entries a plan may have (configs x shapes x sessions x runs).
  static constexpr std::uint64_t kMaxEntries = 1'000'000;

  // Throws Error(bad_input) for sessions or runs of 0, no shapes, a repeated config id,
  // or more than kMaxEntries entries (checked before anything is allocated).
  static ReplayPlan make(std::vector<std::string> ranked_config_ids,
                         std::vector<std::string> shapes, std::uint64_t sessions,
                         std::uint64_t runs, std::uint64_t master_seed);

  // Canonical form: nlohmann::ordered_json dump() with no whitespace, keys in this order:
  //   {"schema":"clgauge-replay-plan-v1","master_seed":42,"sessions":S,"runs":R,
  //    "shapes":[...],"config_ids":[...],"entries":[{"rank":0,"config_id":"...",
  //    "shape":"...","session":0,"run":0,"seed":"<16 hex>","tag":"..."},...]}
  // Seeds are hex strings so that no JSON reader rounds them.
  std::string canonical_json() const;
  // XXH3-64 of canonical_json(): the plan hash.
  std::uint64_t hash() const;

  bool operator==(const ReplayPlan&) const = default;
};

}  // namespace clgauge
