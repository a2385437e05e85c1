#include "clgauge/device_limits.hpp"

#include "clgauge/error.hpp"
#include "clgauge/runtime.hpp"
#include "scheduler/json_input.hpp"

namespace clgauge {
namespace {

using scheduler_detail::excerpt;
using scheduler_detail::fail;

std::uint64_t read_size(const nlohmann::ordered_json& obj, const std::string& field,
                        std::string_view source) {
  const auto it = obj.find(field);
  if (it == obj.end()) fail(source, field, "missing");
  if (!it->is_number_unsigned()) {
    if (it->is_number_integer()) fail(source, field, excerpt(*it) + " is negative");
    fail(source, field, excerpt(*it) + " is not a non-negative integer");
  }
  return it->get<std::uint64_t>();
}

bool read_flag(const nlohmann::ordered_json& obj, const std::string& field,
               std::string_view source) {
  const auto it = obj.find(field);
  if (it == obj.end()) fail(source, field, "missing");
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number_unsigned() && it->get<std::uint64_t>() <= 1)
    return it->get<std::uint64_t>() == 1;
  fail(source, field, excerpt(*it) + " is not a boolean (true, false, 0 or 1)");
}

}  // namespace

const std::vector<std::string>& device_limit_names() {
  static const std::vector<std::string> names = {
      "local_mem_bytes", "max_wg_size",      "max_wi_size0", "max_wi_size1", "max_wi_size2",
      "compute_units",   "global_mem_bytes", "is_gpu",       "is_cpu"};
  return names;
}

DeviceLimits DeviceLimits::from_device(const DeviceInfo& device) {
  DeviceLimits l;
  l.local_mem_bytes = device.local_mem_bytes;
  l.max_wg_size = device.max_wg_size;
  l.max_wi_sizes = device.max_wi_sizes;
  l.compute_units = device.compute_units;
  l.global_mem_bytes = device.global_mem_bytes;
  l.is_gpu = device.is_gpu();
  l.is_cpu = device.is_cpu();
  return l;
}

DeviceLimits DeviceLimits::parse(std::string_view json_text, std::string_view source) {
  const auto doc = scheduler_detail::parse_json(json_text, source);
  if (!doc.is_object()) fail(source, "top level", "expected a JSON object of device limits");
  // Fields in file order first, so the first bad field in the file is the one named.
  for (const auto& [key, value] : doc.items()) {
    if (key == "name" || key == "description") {
      if (!value.is_string()) fail(source, key, "expected a string");
      continue;
    }
    bool known = false;
    for (const auto& n : device_limit_names()) known = known || key == n;
    if (!known) {
      fail(source, key,
           "unknown field (limits are: local_mem_bytes, max_wg_size, "
           "max_wi_size0..2, compute_units, global_mem_bytes, is_gpu, is_cpu)");
    }
    if (key == "is_gpu" || key == "is_cpu") {
      read_flag(doc, key, source);
    } else {
      read_size(doc, key, source);
    }
  }
  DeviceLimits l;
  l.local_mem_bytes = read_size(doc, "local_mem_bytes", source);
  l.max_wg_size = read_size(doc, "max_wg_size", source);
  for (std::size_t d = 0; d < 3; ++d) {
    l.max_wi_sizes[d] = read_size(doc, "max_wi_size" + std::to_string(d), source);
  }
  l.compute_units = read_size(doc, "compute_units", source);
  l.global_mem_bytes = read_size(doc, "global_mem_bytes", source);
  l.is_gpu = read_flag(doc, "is_gpu", source);
  l.is_cpu = read_flag(doc, "is_cpu", source);
  return l;
}

DeviceLimits DeviceLimits::load(const std::filesystem::path& file) {
  return parse(scheduler_detail::read_text_file(file), file.string());
}

std::vector<std::pair<std::string, double>> DeviceLimits::named_values() const {
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  const auto& n = device_limit_names();
  return {{n[0], d(local_mem_bytes)},  {n[1], d(max_wg_size)},     {n[2], d(max_wi_sizes[0])},
          {n[3], d(max_wi_sizes[1])},  {n[4], d(max_wi_sizes[2])}, {n[5], d(compute_units)},
          {n[6], d(global_mem_bytes)}, {n[7], is_gpu ? 1.0 : 0.0}, {n[8], is_cpu ? 1.0 : 0.0}};
}

std::string DeviceLimits::to_json() const {
  nlohmann::ordered_json j;
  j["local_mem_bytes"] = local_mem_bytes;
  j["max_wg_size"] = max_wg_size;
  j["max_wi_size0"] = max_wi_sizes[0];
  j["max_wi_size1"] = max_wi_sizes[1];
  j["max_wi_size2"] = max_wi_sizes[2];
  j["compute_units"] = compute_units;
  j["global_mem_bytes"] = global_mem_bytes;
  j["is_gpu"] = is_gpu;
  j["is_cpu"] = is_cpu;
  return j.dump();
}

}  // namespace clgauge
