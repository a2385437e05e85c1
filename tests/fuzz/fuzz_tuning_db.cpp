// Tuning databases: parse, then the canonical form must parse back to the same value.
#include <cstdlib>

#include "clgauge/tuning_db.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  const auto db = clgauge::TuningDatabase::parse(input, "fuzz.json");
  const auto again = clgauge::TuningDatabase::parse(db.to_json(), "round trip");
  if (again.to_json() != db.to_json()) std::abort();
}
