#include "clgauge/runtime.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <system_error>

#include <boost/compute/exception/opencl_error.hpp>
#include <boost/compute/system.hpp>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/kernels.hpp"

namespace bc = boost::compute;

namespace clgauge {
namespace {

std::string device_type_name(cl_device_type t) {
  if (t & CL_DEVICE_TYPE_GPU) return "gpu";
  if (t & CL_DEVICE_TYPE_CPU) return "cpu";
  if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
  return "other";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Drivers pad some strings with trailing NULs or spaces.
std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::pair<bc::platform, bc::device>> all_devices() {
  std::vector<std::pair<bc::platform, bc::device>> out;
  try {
    for (const auto& p : bc::system::platforms()) {
      for (const auto& d : p.devices(CL_DEVICE_TYPE_ALL)) out.emplace_back(p, d);
    }
  } catch (const bc::opencl_error& e) {
    // No ICD, or no platform: the loader reports CL_PLATFORM_NOT_FOUND_KHR.
    // That is "no devices", which every caller handles; other errors are too.
    if (e.error_code() != -1001 && e.error_code() != CL_DEVICE_NOT_FOUND) throw;
  }
  return out;
}

DeviceInfo describe(int index, const bc::platform& p, const bc::device& d) {
  DeviceInfo info;
  info.index = index;
  info.platform = trimmed(p.name());
  info.platform_version = trimmed(p.version());
  info.name = trimmed(d.name());
  info.type = device_type_name(d.type());
  info.driver_version = trimmed(d.driver_version());
  info.opencl_c_version = trimmed(d.get_info<std::string>(CL_DEVICE_OPENCL_C_VERSION));
  info.compute_units = d.compute_units();
  info.global_mem_bytes = d.global_memory_size();
  info.local_mem_bytes = d.local_memory_size();
  info.max_alloc_bytes = d.get_info<cl_ulong>(CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  info.max_wg_size = d.max_work_group_size();
  const auto wi = d.get_info<std::vector<size_t>>(CL_DEVICE_MAX_WORK_ITEM_SIZES);
  for (std::size_t i = 0; i < 3 && i < wi.size(); ++i) info.max_wi_sizes[i] = wi[i];
  info.fp64 = d.get_info<cl_device_fp_config>(CL_DEVICE_DOUBLE_FP_CONFIG) != 0;
  info.fingerprint = environment_fingerprint(&info);
  return info;
}

bool is_flat_index(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string_view version() {
  return CLGAUGE_VERSION;
}

std::uint64_t environment_fingerprint(const DeviceInfo* d) {
  const std::string none = "none";
  std::string s;
  s += "platform=" + (d ? d->platform : none);
  s += ";platform_version=" + (d ? d->platform_version : none);
  s += ";device=" + (d ? d->name : none);
  s += ";driver=" + (d ? d->driver_version : none);
  s += ";opencl_c=" + (d ? d->opencl_c_version : none);
  s += ";clgauge=" + std::string(version());
  s += ";kernels=" + hex16(kernel_sources_hash());
  return xxh3_64(s);
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  int index = 0;
  for (const auto& [p, d] : all_devices()) out.push_back(describe(index++, p, d));
  return out;
}

DeviceInfo select_device(std::string_view spec, const std::vector<DeviceInfo>& devices) {
  std::string from = "--device";
  std::string chosen(spec);
  if (chosen.empty()) {
    if (const char* env = std::getenv("CLGAUGE_DEVICE"); env && *env) {
      chosen = env;
      from = "CLGAUGE_DEVICE";
    }
  }
  if (devices.empty()) {
    throw Error(ReasonCode::device_unavailable,
                "no OpenCL device found (no ICD installed, or no platform reports a device)");
  }
  if (chosen.empty()) {
    for (const auto& d : devices) {
      if (d.is_gpu()) return d;
    }
    return devices.front();
  }
  if (is_flat_index(chosen)) {
    std::size_t i = 0;
    std::from_chars(chosen.data(), chosen.data() + chosen.size(), i);
    if (i >= devices.size()) {
      throw Error(ReasonCode::bad_input, from + " " + chosen + ": index out of range (" +
                                             std::to_string(devices.size()) + " device(s))");
    }
    return devices[i];
  }
  const std::string needle = lower(chosen);
  for (const auto& d : devices) {
    if (lower(d.label()).find(needle) != std::string::npos) return d;
  }
  throw Error(ReasonCode::device_unavailable,
              from + " '" + chosen + "' matches no device (see 'clgauge devices')");
}

Device Device::open(std::string_view spec) {
  return open(select_device(spec, list_devices()));
}

Device Device::open(const DeviceInfo& info) {
  auto devices = all_devices();
  if (info.index < 0 || static_cast<std::size_t>(info.index) >= devices.size() ||
      trimmed(devices[static_cast<std::size_t>(info.index)].second.name()) != info.name) {
    throw Error(ReasonCode::device_unavailable, "device '" + info.label() + "' is gone");
  }
  Device dev;
  dev.info_ = info;
  dev.device_ = devices[static_cast<std::size_t>(info.index)].second;
  dev.context_ = bc::context(dev.device_);
  dev.queue_ = bc::command_queue(dev.context_, dev.device_, bc::command_queue::enable_profiling);
  return dev;
}

ProgramCache ProgramCache::at(std::filesystem::path dir) {
  return ProgramCache(std::move(dir));
}
ProgramCache ProgramCache::disabled() {
  return ProgramCache({});
}

ProgramCache ProgramCache::from_environment() {
  if (const char* d = std::getenv("CLGAUGE_CACHE_DIR"); d && *d) return at(d);
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return at(std::filesystem::path(x) / "clgauge");
  }
  if (const char* h = std::getenv("HOME"); h && *h) {
    return at(std::filesystem::path(h) / ".cache" / "clgauge");
  }
  return disabled();
}

namespace {

std::vector<unsigned char> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Best effort: the cache only saves time, so a read-only or full disk is not an error.
void write_atomically(const std::filesystem::path& p, const std::vector<unsigned char>& bytes) {
  static std::atomic<unsigned> counter{0};
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return;
  auto tmp = p;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, p, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

BuiltProgram build_program(Device& device, const ProgramCache& cache, std::string_view what,
                           std::string_view source, std::string_view options) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string opts(options);
  std::filesystem::path file;
  if (cache.enabled()) {
    std::string key(source);
    key += '\0';
    key += opts;
    key += '\0';
    key += device.info().name;
    key += '\0';
    key += device.info().driver_version;
    file = cache.dir() / (hex16(xxh3_64(key)) + ".clbin");
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
      const auto bytes = read_file(file);
      try {
        auto p = bc::program::create_with_binary(bytes, device.context());
        p.build(opts);
        return {p, true, ms_since(t0)};
      } catch (const bc::opencl_error&) {
        // A stale or truncated binary: drop it and rebuild from source below.
        std::filesystem::remove(file, ec);
      }
    }
  }
  auto program = bc::program::create_with_source(std::string(source), device.context());
  try {
    program.build(opts);
  } catch (const bc::opencl_error& e) {
    throw Error(ReasonCode::build_failed, std::string(what) + ": OpenCL build failed (" +
                                              e.error_string() + ") with options '" + opts +
                                              "'; build log:\n" + program.build_log());
  }
  if (!file.empty()) write_atomically(file, program.binary());
  return {program, false, ms_since(t0)};
}

double event_ms(const bc::event& e) {
  const auto start = e.get_profiling_info<cl_ulong>(CL_PROFILING_COMMAND_START);
  const auto end = e.get_profiling_info<cl_ulong>(CL_PROFILING_COMMAND_END);
  return static_cast<double>(end - start) * 1e-6;
}

double span_ms(const bc::event& first, const bc::event& last) {
  const auto start = first.get_profiling_info<cl_ulong>(CL_PROFILING_COMMAND_START);
  const auto end = last.get_profiling_info<cl_ulong>(CL_PROFILING_COMMAND_END);
  return static_cast<double>(end - start) * 1e-6;
}

}  // namespace clgauge
