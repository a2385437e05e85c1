// Seeds files.
#include "clgauge/propagate.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  const auto seeds = clgauge::seeds_from_json(input);
  seeds.validate(1000);
  (void)clgauge::seeds_to_json(seeds);
}
