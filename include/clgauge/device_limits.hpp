#pragma once
// The device limits that space constraints may name. They come from an OpenCL device
// or from a JSON file, so a space can be planned offline for a device that is absent.
//
// Limits file (every field required; "name" and "description" optional strings):
//   {"local_mem_bytes": 49152, "max_wg_size": 1024, "max_wi_size0": 1024,
//    "max_wi_size1": 1024, "max_wi_size2": 64, "compute_units": 80,
//    "global_mem_bytes": 8589934592, "is_gpu": true, "is_cpu": false}
// Sizes are non-negative integers; is_gpu and is_cpu are booleans (or 0/1).

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clgauge {

struct DeviceInfo;

struct DeviceLimits {
  std::uint64_t local_mem_bytes = 0;
  std::uint64_t max_wg_size = 0;
  std::array<std::uint64_t, 3> max_wi_sizes{};
  std::uint64_t compute_units = 0;
  std::uint64_t global_mem_bytes = 0;
  bool is_gpu = false;
  bool is_cpu = false;

  static DeviceLimits from_device(const DeviceInfo& device);
  // Parses a limits file's text; `source` names it in error messages. Throws
  // Error(bad_input) naming the source, the field and the position.
  static DeviceLimits parse(std::string_view json_text, std::string_view source);
  // Reads and parses a limits file; Error(io_error) when it cannot be read.
  static DeviceLimits load(const std::filesystem::path& file);

  // The names constraints use, with their values, in this fixed order:
  // local_mem_bytes, max_wg_size, max_wi_size0..2, compute_units, global_mem_bytes,
  // is_gpu, is_cpu (booleans as 0/1).
  std::vector<std::pair<std::string, double>> named_values() const;
  // {"local_mem_bytes":...,...} in the order above, booleans as true/false, no spaces.
  std::string to_json() const;

  bool operator==(const DeviceLimits&) const = default;
};

// The names above, in that order.
const std::vector<std::string>& device_limit_names();

}  // namespace clgauge
