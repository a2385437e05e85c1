#include "clgauge/runtime.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
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
  throw Error(ReasonCode::bad_input,
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

constexpr unsigned char kCacheMagic[8] = {'C', 'L', 'G', 'B', 'I', 'N', 0, 1};
constexpr std::uintmax_t kMaxEntryBytes = std::uintmax_t{1} << 30;

template <class T>
void put(std::vector<unsigned char>& out, T v) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

template <class T>
T get(const std::vector<unsigned char>& in, std::size_t at) {
  T v{};
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}

std::uint64_t entry_checksum(std::string_view key, const unsigned char* binary, std::size_t n) {
  std::string all(key);
  all.append(reinterpret_cast<const char*>(binary), n);
  return xxh3_64(all);
}

// One warning per process and directory; the answer is remembered.
std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, bool>& usable_dirs() {
  static std::map<std::string, bool> dirs;
  return dirs;
}

void warn(const std::string& line) {
  std::cerr << "clgauge: " << line << "\n";
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<unsigned char> ProgramCache::encode_entry(std::string_view key,
                                                      const std::vector<unsigned char>& binary) {
  std::vector<unsigned char> out(kCacheMagic, kCacheMagic + sizeof kCacheMagic);
  put<std::uint32_t>(out, kCacheFormatVersion);
  put<std::uint32_t>(out, 0);
  put<std::uint64_t>(out, xxh3_64(key));
  put<std::uint64_t>(out, binary.size());
  put<std::uint64_t>(out, entry_checksum(key, binary.data(), binary.size()));
  out.insert(out.end(), binary.begin(), binary.end());
  return out;
}

std::optional<std::vector<unsigned char>> ProgramCache::decode_entry(
    std::string_view key, const std::vector<unsigned char>& bytes, std::string* why) {
  const auto fail = [&](const std::string& w) -> std::optional<std::vector<unsigned char>> {
    if (why) *why = w;
    return std::nullopt;
  };
  if (bytes.size() < kHeaderBytes) {
    return fail("truncated header (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kCacheMagic, sizeof kCacheMagic) != 0) {
    return fail("not a clgauge cache entry (bad magic)");
  }
  if (const auto v = get<std::uint32_t>(bytes, 8); v != kCacheFormatVersion) {
    return fail("format version " + std::to_string(v) + ", want " +
                std::to_string(kCacheFormatVersion));
  }
  if (get<std::uint32_t>(bytes, 12) != 0) return fail("reserved header field is not 0");
  if (get<std::uint64_t>(bytes, 16) != xxh3_64(key)) {
    return fail("entry of another program (key hash differs)");
  }
  const auto size = get<std::uint64_t>(bytes, 24);
  if (size != bytes.size() - kHeaderBytes) {
    return fail("binary size " + std::to_string(bytes.size() - kHeaderBytes) +
                " bytes, header says " + std::to_string(size));
  }
  if (get<std::uint64_t>(bytes, 32) !=
      entry_checksum(key, bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes)) {
    return fail("checksum mismatch (corrupt entry)");
  }
  return std::vector<unsigned char>(bytes.begin() + static_cast<std::ptrdiff_t>(kHeaderBytes),
                                    bytes.end());
}

std::filesystem::path ProgramCache::entry_path(std::string_view key) const {
  return dir_ / (hex16(xxh3_64(key)) + ".clbin");
}

bool ProgramCache::usable() const {
  if (!enabled()) return false;
  const std::string name = dir_.string();
  bool first_use = false;
  bool ok = true;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto it = usable_dirs().find(name);
    if (it != usable_dirs().end()) return it->second;
    first_use = true;
    std::error_code ec;
    const auto st = std::filesystem::status(dir_, ec);
    if (std::filesystem::exists(st) && !std::filesystem::is_directory(st)) {
      ok = false;
      why = "is not a directory";
    } else {
      std::filesystem::create_directories(dir_, ec);
      if (ec) {
        ok = false;
        why = "cannot be created (" + ec.message() + ")";
      } else if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
        ok = false;
        why = "is not writable";
      }
    }
    usable_dirs()[name] = ok;
  }
  if (!ok) {
    warn("program cache '" + name + "' " + why + "; running without a cache");
  } else if (first_use) {
    remove_orphans();
  }
  return ok;
}

std::size_t ProgramCache::remove_orphans() const {
  std::size_t removed = 0;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir_, ec), end;
  if (ec) return 0;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string file = it->path().filename().string();
    const auto tmp = file.find(".tmp.");
    if (tmp == std::string::npos) continue;
    const std::string rest = file.substr(tmp + 5);
    long pid = 0;
    const auto r = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
    const bool parsed = r.ec == std::errc{} && pid > 0;
    const bool writer_gone = parsed && pid != static_cast<long>(::getpid()) &&
                             ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    std::error_code tec;
    const auto mtime = std::filesystem::last_write_time(it->path(), tec);
    const bool stale = !tec && now - mtime > std::chrono::hours(24);
    if ((writer_gone || stale || !parsed) && std::filesystem::remove(it->path(), tec)) ++removed;
  }
  return removed;
}

std::optional<std::vector<unsigned char>> ProgramCache::load(std::string_view key,
                                                             std::string* why) const {
  if (why) why->clear();
  if (!usable()) return std::nullopt;
  const auto file = entry_path(key);
  std::error_code ec;
  const auto st = std::filesystem::symlink_status(file, ec);
  if (ec || !std::filesystem::exists(st)) return std::nullopt;
  std::string reason;
  std::optional<std::vector<unsigned char>> binary;
  if (!std::filesystem::is_regular_file(st)) {
    reason = "not a regular file";
  } else if (std::filesystem::file_size(file, ec) > kMaxEntryBytes || ec) {
    reason = "too large or unreadable";
  } else {
    std::ifstream in(file, std::ios::binary);
    std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>()};
    if (in.bad()) {
      reason = "cannot be read";
    } else {
      binary = decode_entry(key, bytes, &reason);
    }
  }
  if (binary) return binary;
  if (why) *why = reason;
  std::filesystem::remove(file, ec);  // a directory in its place goes only when empty
  return std::nullopt;
}

bool ProgramCache::store(std::string_view key, const std::vector<unsigned char>& binary) const {
  static std::atomic<unsigned> counter{0};
  if (!usable()) return false;
  const auto p = entry_path(key);
  const auto bytes = encode_entry(key, binary);
  std::error_code ec;
  auto tmp = p;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return false;
    }
  }
  std::filesystem::rename(tmp, p, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

BuiltProgram build_program(Device& device, const ProgramCache& cache, std::string_view what,
                           std::string_view source, std::string_view options) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string opts(options);
  std::string key;
  const bool cached = cache.usable();
  if (cached) {
    key = std::string(source);
    key += '\0';
    key += opts;
    key += '\0';
    key += device.info().name;
    key += '\0';
    key += device.info().driver_version;
    std::string why;
    if (auto binary = cache.load(key, &why)) {
      try {
        auto p = bc::program::create_with_binary(*binary, device.context());
        p.build(opts);
        return {p, true, ms_since(t0)};
      } catch (const bc::opencl_error& e) {
        why = std::string("the driver refused it (") + e.error_string() + ")";
        std::error_code ec;
        std::filesystem::remove(cache.entry_path(key), ec);
      }
    }
    if (!why.empty()) {
      warn("program cache entry " + cache.entry_path(key).string() + " for " + std::string(what) +
           ": " + why + "; rebuilding");
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
  if (cached) cache.store(key, program.binary());
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
