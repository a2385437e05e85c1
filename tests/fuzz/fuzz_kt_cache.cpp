// Kernel Tuner cache files (the simulation reader), as bytes after decompression.
#include "clgauge/search.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  (void)clgauge::parse_kernel_tuner_cache(input, "fuzz.json");
}
