#pragma once
// Shared by the fuzz targets: a clgauge::Error is an accepted answer to any input;
// anything else escaping (another exception, a crash, a sanitizer report) is a bug.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clgauge/error.hpp"

#define CLGAUGE_FUZZ_ENTRY(body)                                                      \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    const std::string_view input(reinterpret_cast<const char*>(data), size);          \
    try {                                                                             \
      body                                                                            \
    } catch (const clgauge::Error&) {                                                 \
    }                                                                                 \
    return 0;                                                                         \
  }
