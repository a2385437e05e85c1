// Space files: the parser, then the constraint compiler and a bounded enumeration.
#include "clgauge/space.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  auto space = clgauge::ParameterSpace::parse(input, "fuzz.json");
  clgauge::DeviceLimits limits;
  limits.max_wg_size = 256;
  limits.local_mem_bytes = 65536;
  limits.max_wi_sizes = {256, 256, 64};
  clgauge::CompiledSpace compiled(std::move(space), limits);
  compiled.set_work_limit(20000);
  (void)compiled.count();
  (void)compiled.candidates(clgauge::Shard{1, 2});
}
