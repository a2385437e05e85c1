#pragma once
// OpenCL devices, program builds and the on-disk program-binary cache.
// Host-side OpenCL goes through Boost.Compute; raw handles are `.get()`.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <boost/compute/command_queue.hpp>
#include <boost/compute/context.hpp>
#include <boost/compute/device.hpp>
#include <boost/compute/program.hpp>

namespace clgauge {

// clgauge's version string, e.g. "0.1.0".
std::string_view version();

struct DeviceInfo {
  int index = 0;  // flat index over all platforms, in platform then device order
  std::string platform;
  std::string platform_version;
  std::string name;
  std::string type;  // "gpu", "cpu", "accelerator" or "other"
  std::string driver_version;
  std::string opencl_c_version;
  std::uint32_t compute_units = 0;
  std::uint64_t global_mem_bytes = 0;
  std::uint64_t local_mem_bytes = 0;
  std::uint64_t max_alloc_bytes = 0;
  std::uint64_t max_wg_size = 0;
  std::array<std::uint64_t, 3> max_wi_sizes{};
  bool fp64 = false;
  std::uint64_t fingerprint = 0;  // environment fingerprint, see environment_fingerprint()

  std::string label() const { return platform + " / " + name; }
  bool is_gpu() const { return type == "gpu"; }
  bool is_cpu() const { return type == "cpu"; }
  bool operator==(const DeviceInfo&) const = default;
};

// XXH3-64 over the canonical string
//   "platform=<p>;platform_version=<v>;device=<d>;driver=<v>;opencl_c=<v>;clgauge=<v>;kernels=<hex16>"
// where kernels is kernel_sources_hash(). With no device every field but clgauge
// and kernels is "none".
std::uint64_t environment_fingerprint(const DeviceInfo* device);

// Every device of every platform; empty when there is no ICD or no platform.
std::vector<DeviceInfo> list_devices();

// Picks a device from a spec: "" (then CLGAUGE_DEVICE, then the default: the first
// GPU, else the first device), a flat index "N", or a case-insensitive substring of
// "platform / device". Throws Error(device_unavailable) naming the spec when nothing
// matches, and Error(bad_input) for an index out of range.
DeviceInfo select_device(std::string_view spec, const std::vector<DeviceInfo>& devices);

// An opened device: its context and one in-order queue with profiling enabled.
class Device {
 public:
  static Device open(std::string_view spec = {});
  static Device open(const DeviceInfo& info);

  const DeviceInfo& info() const { return info_; }
  boost::compute::device& device() { return device_; }
  boost::compute::context& context() { return context_; }
  boost::compute::command_queue& queue() { return queue_; }

 private:
  DeviceInfo info_;
  boost::compute::device device_;
  boost::compute::context context_;
  boost::compute::command_queue queue_;
};

// Where compiled program binaries are kept. Keys are XXH3-64 of
// "source\0options\0device name\0driver version"; files are written atomically
// (temporary file, then rename), so concurrent runs never see half a binary.
class ProgramCache {
 public:
  static ProgramCache at(std::filesystem::path dir);
  static ProgramCache disabled();
  // CLGAUGE_CACHE_DIR, else $XDG_CACHE_HOME/clgauge, else $HOME/.cache/clgauge,
  // else disabled.
  static ProgramCache from_environment();

  bool enabled() const { return !dir_.empty(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit ProgramCache(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

struct BuiltProgram {
  boost::compute::program program;
  bool from_cache = false;
  double build_ms = 0;  // wall time to obtain the program, cache hit or compile
};

// Builds `source` with `options` for the device. A failed build throws
// Error(build_failed) whose message names `what`, the options and the full build log.
BuiltProgram build_program(Device& device, const ProgramCache& cache, std::string_view what,
                           std::string_view source, std::string_view options);

// Milliseconds between an event's CL_PROFILING_COMMAND_START and _END.
double event_ms(const boost::compute::event& e);
// Milliseconds from the start of `first` to the end of `last`.
double span_ms(const boost::compute::event& first, const boost::compute::event& last);

}  // namespace clgauge
