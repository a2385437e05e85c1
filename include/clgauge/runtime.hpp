#pragma once
// OpenCL devices, program builds and the on-disk program-binary cache.
// Host-side OpenCL goes through Boost.Compute; raw handles are `.get()`.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
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
// "platform / device". A spec that matches nothing (index out of range, no matching
// name, from --device or CLGAUGE_DEVICE) is the user's mistake: Error(bad_input)
// naming the spec and where it came from. No device at all is
// Error(device_unavailable).
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

// Where compiled program binaries are kept. Keys are the string
// "source\0options\0device name\0driver version"; an entry's file is
// <dir>/<hex16 of XXH3-64(key)>.clbin, written atomically (temporary file, then
// rename), so concurrent runs never see half a binary.
//
// Entry layout (little-endian), docs/formats.md "Program-binary cache":
//   0  "CLGBIN\0\1" magic (8 bytes)     8  u32 format version (kCacheFormatVersion)
//   12 u32 reserved (0)                  16 u64 XXH3-64 of the key
//   24 u64 binary size in bytes           32 u64 XXH3-64 of key bytes then binary bytes
//   40 the binary
// An entry that does not verify (wrong magic, version, key, size or checksum; not a
// regular file) is never handed to the driver: it is removed and rebuilt, with one
// line on stderr. A directory that cannot be used (a file in its place, not writable)
// degrades to no cache with one warning per process. Temporary files of writers that
// died are removed the first time a process uses the directory.
class ProgramCache {
 public:
  static constexpr std::uint32_t kCacheFormatVersion = 1;
  static constexpr std::size_t kHeaderBytes = 40;

  static ProgramCache at(std::filesystem::path dir);
  static ProgramCache disabled();
  // CLGAUGE_CACHE_DIR, else $XDG_CACHE_HOME/clgauge, else $HOME/.cache/clgauge,
  // else disabled.
  static ProgramCache from_environment();

  bool enabled() const { return !dir_.empty(); }
  const std::filesystem::path& dir() const { return dir_; }

  // The entry file of a key.
  std::filesystem::path entry_path(std::string_view key) const;
  // The verified binary of a key, or nullopt when there is none or it does not verify
  // (`why` then says why, empty for a plain miss; a bad entry is removed).
  std::optional<std::vector<unsigned char>> load(std::string_view key,
                                                 std::string* why = nullptr) const;
  // Writes an entry (best effort: false when it could not be written).
  bool store(std::string_view key, const std::vector<unsigned char>& binary) const;
  // Whether the directory can be used (created if missing). The first call per
  // process and directory that finds it unusable prints one warning on stderr, and
  // the first usable call removes orphaned temporary files.
  bool usable() const;
  // Removes "<entry>.tmp.<pid>.<n>" files whose writer process is gone or that are
  // more than a day old; returns how many were removed.
  std::size_t remove_orphans() const;

  // The bytes of an entry file, and their verification (nullopt + why on failure).
  static std::vector<unsigned char> encode_entry(std::string_view key,
                                                 const std::vector<unsigned char>& binary);
  static std::optional<std::vector<unsigned char>> decode_entry(
      std::string_view key, const std::vector<unsigned char>& bytes, std::string* why);

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
