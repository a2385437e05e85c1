// Device limits files.
#include "clgauge/device_limits.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  const auto limits = clgauge::DeviceLimits::parse(input, "fuzz.json");
  (void)clgauge::DeviceLimits::parse(limits.to_json(), "round trip");
}
