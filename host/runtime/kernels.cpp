#include "clgauge/kernels.hpp"

#include <string>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"

namespace clgauge {

const std::vector<KernelFile>& kernel_files() {
  return detail::embedded_kernel_files();
}

std::string_view kernel_source(std::string_view name) {
  for (const auto& f : kernel_files()) {
    if (f.name == name) return f.source;
  }
  throw Error(ReasonCode::internal, "kernel source '" + std::string(name) + "' is not embedded");
}

std::uint64_t kernel_sources_hash() {
  static const std::uint64_t hash = [] {
    std::string all;
    for (const auto& f : kernel_files()) {
      all.append(f.name);
      all.push_back('\0');
      all.append(f.source);
      all.push_back('\0');
    }
    return xxh3_64(all);
  }();
  return hash;
}

}  // namespace clgauge
