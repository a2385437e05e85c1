#pragma once
// One device and program cache shared by every device test in the binary.

#include <gtest/gtest.h>

#include <memory>

#include "clgauge/runtime.hpp"

namespace clgauge::test {

// The default device, or nullptr when the machine has none (tests then skip).
inline Device* shared_device() {
  static std::unique_ptr<Device> dev = []() -> std::unique_ptr<Device> {
    if (list_devices().empty()) return nullptr;
    return std::make_unique<Device>(Device::open());
  }();
  return dev.get();
}

inline const ProgramCache& shared_cache() {
  static const ProgramCache cache = ProgramCache::from_environment();
  return cache;
}

#define CLGAUGE_REQUIRE_DEVICE()                        \
  if (::clgauge::test::shared_device() == nullptr) {    \
    GTEST_SKIP() << "no OpenCL device on this machine"; \
  }

}  // namespace clgauge::test
