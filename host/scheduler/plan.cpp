#include "clgauge/plan.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/random.hpp"

namespace clgauge {
namespace {

[[noreturn]] void bad(std::string_view field, std::string_view text, const std::string& why) {
  throw Error(ReasonCode::bad_input, std::string(field) + ": '" + std::string(text) + "': " + why);
}

}  // namespace

std::string parse_shape(std::string_view text, std::string_view field) {
  std::string out;
  std::size_t start = 0;
  for (int dim = 0; dim < 3; ++dim) {
    const std::size_t end = dim < 2 ? text.find('x', start) : text.size();
    if (end == std::string_view::npos) bad(field, text, "expected <m>x<n>x<k>");
    const auto part = text.substr(start, end - start);
    const char* name = dim == 0 ? "m" : dim == 1 ? "n" : "k";
    if (part.empty() || part.size() > 12 ||
        part.find_first_not_of("0123456789") != std::string_view::npos) {
      bad(field, text,
          std::string(name) + " '" + std::string(part) + "' is not a positive integer");
    }
    if (part[0] == '0') {
      bad(field, text,
          std::string(name) + " '" + std::string(part) +
              "' must be positive, without leading zeros");
    }
    if (dim > 0) out += 'x';
    out += part;
    start = end + 1;
  }
  return out;
}

std::vector<std::string> parse_shape_list(std::string_view list, std::string_view field) {
  std::vector<std::string> shapes;
  std::size_t start = 0;
  for (std::size_t item = 0;; ++item) {
    const std::size_t comma = list.find(',', start);
    const auto text =
        list.substr(start, comma == std::string_view::npos ? list.size() - start : comma - start);
    const std::string at = std::string(field) + "[" + std::to_string(item) + "]";
    if (text.empty()) bad(at, text, "empty shape");
    auto shape = parse_shape(text, at);
    for (const auto& s : shapes) {
      if (s == shape) bad(at, text, "shape listed twice");
    }
    shapes.push_back(std::move(shape));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return shapes;
}

ReplayPlan ReplayPlan::make(std::vector<std::string> ranked_config_ids,
                            std::vector<std::string> shapes, std::uint64_t sessions,
                            std::uint64_t runs, std::uint64_t master_seed) {
  if (sessions == 0) throw Error(ReasonCode::bad_input, "replay plan: sessions must be at least 1");
  if (runs == 0) throw Error(ReasonCode::bad_input, "replay plan: runs must be at least 1");
  if (shapes.empty()) throw Error(ReasonCode::bad_input, "replay plan: no shapes");
  for (std::size_t i = 0; i < ranked_config_ids.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (ranked_config_ids[i] == ranked_config_ids[j]) {
        throw Error(ReasonCode::bad_input, "replay plan: config id " + ranked_config_ids[i] +
                                               " at rank " + std::to_string(i) + " repeats rank " +
                                               std::to_string(j));
      }
    }
  }
  // The size is checked before anything is allocated: a product that overflows or
  // exceeds kMaxEntries is refused with the factors named.
  {
    __extension__ typedef unsigned __int128 U128;
    const U128 entries = static_cast<U128>(std::max<std::size_t>(ranked_config_ids.size(), 1)) *
                         shapes.size() * sessions * runs;
    if (entries > kMaxEntries) {
      throw Error(ReasonCode::bad_input,
                  "replay plan: " + std::to_string(ranked_config_ids.size()) + " configs x " +
                      std::to_string(shapes.size()) + " shapes x " + std::to_string(sessions) +
                      " sessions (--replay-sessions) x " + std::to_string(runs) +
                      " runs (--replay-runs) is more than the limit of " +
                      std::to_string(kMaxEntries) + " entries");
    }
  }
  ReplayPlan p;
  p.master_seed = master_seed;
  p.sessions = sessions;
  p.runs = runs;
  p.shapes = std::move(shapes);
  p.config_ids = std::move(ranked_config_ids);
  for (std::uint64_t rank = 0; rank < p.config_ids.size(); ++rank) {
    const auto& id = p.config_ids[rank];
    for (const auto& shape : p.shapes) {
      for (std::uint64_t s = 0; s < sessions; ++s) {
        for (std::uint64_t r = 0; r < runs; ++r) {
          p.entries.push_back(ReplayEntry{
              rank, id, shape, s, r, derive_seed(master_seed, "replay", id, shape, s, r),
              id + "_s" + std::to_string(s) + "_r" + std::to_string(r)});
        }
      }
    }
  }
  return p;
}

std::string ReplayPlan::canonical_json() const {
  nlohmann::ordered_json j;
  j["schema"] = "clgauge-replay-plan-v1";
  j["master_seed"] = master_seed;
  j["sessions"] = sessions;
  j["runs"] = runs;
  j["shapes"] = shapes;
  j["config_ids"] = config_ids;
  auto entries_json = nlohmann::ordered_json::array();
  for (const auto& e : entries) {
    nlohmann::ordered_json x;
    x["rank"] = e.rank;
    x["config_id"] = e.config_id;
    x["shape"] = e.shape;
    x["session"] = e.session;
    x["run"] = e.run;
    x["seed"] = hex16(e.seed);
    x["tag"] = e.tag;
    entries_json.push_back(std::move(x));
  }
  j["entries"] = std::move(entries_json);
  return j.dump();
}

std::uint64_t ReplayPlan::hash() const {
  return xxh3_64(canonical_json());
}

}  // namespace clgauge
