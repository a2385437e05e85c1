#include <nlohmann/json.hpp>

#include "clgauge/hash.hpp"
#include "cli/command.hpp"

namespace clgauge::cli {
namespace {

nlohmann::ordered_json to_json(const DeviceInfo& d) {
  return {{"index", d.index},
          {"platform", d.platform},
          {"platform_version", d.platform_version},
          {"device", d.name},
          {"type", d.type},
          {"compute_units", d.compute_units},
          {"global_mem_bytes", d.global_mem_bytes},
          {"local_mem_bytes", d.local_mem_bytes},
          {"max_alloc_bytes", d.max_alloc_bytes},
          {"max_wg_size", d.max_wg_size},
          {"max_wi_sizes", d.max_wi_sizes},
          {"opencl_c_version", d.opencl_c_version},
          {"driver_version", d.driver_version},
          {"fp64", d.fp64},
          {"fingerprint", hex16(d.fingerprint)}};
}

}  // namespace

Runner add_devices_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("devices", "list OpenCL devices (flat index over all platforms)");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print a JSON array");
  return [json](Streams s) {
    const auto devices = list_devices();
    if (*json) {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& d : devices) arr.push_back(to_json(d));
      s.out << arr.dump(2) << "\n";
      return 0;
    }
    if (devices.empty()) {
      s.out << "no OpenCL device found (no ICD installed, or no platform reports a device); "
               "jobs with a CPU path run on the CPU\n";
      return 0;
    }
    for (const auto& d : devices) {
      s.out << "[" << d.index << "] " << d.label() << "\n"
            << "    type " << d.type << ", " << d.compute_units << " compute units, global "
            << (d.global_mem_bytes >> 20) << " MiB, local " << (d.local_mem_bytes >> 10)
            << " KiB, max work-group " << d.max_wg_size << "\n"
            << "    " << d.opencl_c_version << ", driver " << d.driver_version << ", fp64 "
            << (d.fp64 ? "yes" : "no") << ", fingerprint " << hex16(d.fingerprint) << "\n";
    }
    return 0;
  };
}

}  // namespace clgauge::cli
