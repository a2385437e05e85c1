#pragma once
// Shared by the fuzz targets: each target defines fuzz_one(input); a clgauge::Error is an
// accepted answer to any input, anything else escaping (another exception, a crash, a
// sanitizer report, a leak) is a finding.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clgauge/error.hpp"

void fuzz_one(std::string_view input);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    fuzz_one(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const clgauge::Error&) {
  }
  return 0;
}
