#pragma once
// The OpenCL C sources of kernels_cl/, embedded into the library at build time.

#include <cstdint>
#include <string_view>
#include <vector>

namespace clgauge {

struct KernelFile {
  std::string_view name;    // file stem, e.g. "gemm_regtile"
  std::string_view source;  // the file's bytes
};

// All embedded files, sorted by name.
const std::vector<KernelFile>& kernel_files();
// Source of one file; throws Error(internal) if it is not embedded.
std::string_view kernel_source(std::string_view name);
// XXH3-64 over "name\0source\0" of every file in name order: part of the
// environment fingerprint, so a changed kernel changes every fingerprint.
std::uint64_t kernel_sources_hash();

namespace detail {
const std::vector<KernelFile>& embedded_kernel_files();
}

}  // namespace clgauge
