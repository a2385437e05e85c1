#pragma once
// GEMM: the problem, kernel configs, the kernel families and running them.
//
//   C = alpha * op(A) * op(B) + beta * C      float32, op = none or transpose
//
// Bitwise contract (every config of every family with GemmFamily::bitwise): for each element
//   acc = 0.0f; for k = 0..K-1: acc = fma(a(i,k), b(k,j), acc)
//   t = alpha * acc; result = (beta == 0) ? t : fma(beta, c_old, t)
// and C is never read when beta == 0.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/compute/buffer.hpp>

#include "clgauge/device_limits.hpp"
#include "clgauge/runtime.hpp"

namespace clgauge {

enum class Layout { row, col };
enum class Op { n, t };

std::string_view to_string(Layout l);
std::string_view to_string(Op o);
Layout layout_from_string(std::string_view s);  // "row" | "col", throws Error(bad_input)
Op op_from_string(std::string_view s);          // "n" | "t", throws Error(bad_input)

struct GemmProblem {
  std::int64_t m = 1;
  std::int64_t n = 1;
  std::int64_t k = 1;
  Layout layout = Layout::row;
  Op trans_a = Op::n;
  Op trans_b = Op::n;
  float alpha = 1.0f;
  float beta = 0.0f;
  std::int64_t lda = 0;  // 0: the tight minimum (see min_lda)
  std::int64_t ldb = 0;
  std::int64_t ldc = 0;
  std::int64_t offset_a = 0;  // in elements
  std::int64_t offset_b = 0;
  std::int64_t offset_c = 0;

  // A is stored as (trans_a == n ? m x k : k x m) in `layout`; its leading dimension
  // is at least the stored row length (row-major) or column length (column-major).
  std::int64_t min_lda() const;
  std::int64_t min_ldb() const;
  std::int64_t min_ldc() const;
  // The same problem with every 0 leading dimension replaced by its minimum.
  GemmProblem resolved() const;
  // Throws Error(bad_input) naming the field and value: sizes < 1, a leading
  // dimension below its minimum, a negative offset, and any buffer whose extent
  // (offset + (rows - 1) * ld + cols elements, in bytes) does not fit in 63 bits.
  // After validate() every size and index below is exact (no wrap-around).
  void validate() const;

  // Bytes each buffer needs (a_elements() * sizeof(float), ...). Require validate().
  std::uint64_t a_bytes() const;
  std::uint64_t b_bytes() const;
  std::uint64_t c_bytes() const;
  // Before allocating anything: throws Error(bad_input) naming the matrix, the bytes
  // and the flags that size it (--m/--n/--k, --lda.., --offset-a..) when a buffer
  // exceeds the device's CL_DEVICE_MAX_MEM_ALLOC_SIZE or the three together exceed
  // its global memory. Validates first.
  void check_fits(const DeviceInfo& device) const;
  // The same against this machine's physical memory, for host copies of A, B and C
  // (`c_copies` copies of C: inputs, results, reference). Validates first.
  void check_fits_host(int c_copies = 2) const;

  // Elements a buffer must hold (offset included). Requires resolved().
  std::size_t a_elements() const;
  std::size_t b_elements() const;
  std::size_t c_elements() const;
  // Buffer index of op(A)(i, p), op(B)(p, j) and C(i, j). Requires resolved().
  std::size_t a_index(std::int64_t i, std::int64_t p) const;
  std::size_t b_index(std::int64_t p, std::int64_t j) const;
  std::size_t c_index(std::int64_t i, std::int64_t j) const;

  double flops() const {
    return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  }
  // "<m>x<n>x<k>": the shape part of seed strings and tuning keys.
  std::string shape() const;

  bool operator==(const GemmProblem&) const = default;
};

// One tuning parameter of a kernel family.
struct GemmParam {
  std::string name;
  std::int64_t default_value = 0;
  std::string meaning;
};

struct GemmFamily {
  std::string name;    // "gemm.direct", "gemm.localtile", "gemm.regtile", "gemm.splitk"
  std::string kernel;  // kernels_cl/<kernel>.cl and its entry point
  // Every config gives the canonical bits. false: tolerance-only (gemm.splitk sums K in
  // chunks), held to the gamma(K) bound of compare_tolerance and never a device default.
  bool bitwise = true;
  std::vector<GemmParam> params;  // declared order
};

// The registered families, in name order.
const std::vector<GemmFamily>& gemm_families();
// Throws Error(bad_input) "unknown family" listing the known ones.
const GemmFamily& gemm_family(std::string_view name);
// The family's shipped basic space file names (tuning/spaces/<name>.json), e.g.
// {"regtile_basic"}: what `clgauge tune --family F` searches by default.
// Throws Error(bad_input) for an unknown family.
std::vector<std::string> gemm_family_spaces(std::string_view family);

// A kernel config: a family and a value for each of its parameters, in declared order.
struct GemmConfig {
  std::string family;
  std::vector<std::pair<std::string, std::int64_t>> params;

  // "family=<f>;P1=<v1>;P2=<v2>;..." (declared order, values in decimal).
  std::string canonical() const;
  // XXH3-64 of canonical(), 16 hex digits.
  std::string id() const;
  // Throws Error(bad_input) for a name the config does not have.
  std::int64_t get(std::string_view name) const;

  static GemmConfig defaults_for(std::string_view family);
  // The family's defaults with `overrides` applied; throws Error(bad_input) for an
  // unknown family or parameter name.
  static GemmConfig make(std::string_view family,
                         const std::vector<std::pair<std::string, std::int64_t>>& overrides);
  // Reads "family=<f>;P1=<v1>;..." exactly as canonical() writes it (declared order,
  // every parameter, decimal values), so one config has one spelling. Throws
  // Error(bad_input) "<label>: <what is wrong>", label being where the text came from
  // (e.g. "--config 'family=...'").
  static GemmConfig parse_canonical(std::string_view text, std::string_view label);

  bool operator==(const GemmConfig&) const = default;
};

// The config with this id (16 hex digits, either case) among every candidate of the
// shipped GEMM spaces: each tuning/spaces file (first search folder that has it, see
// space_search_dirs) whose family is a registered GEMM family, basic and extended,
// tolerance-only families included. Device limits are not applied: whether the config
// fits a device is for gemm_config_rejection. nullopt when no shipped space has it.
std::optional<GemmConfig> find_shipped_config(std::string_view id);

// Why a config cannot run on a device, or nullopt when it can: the family's own rules
// (docs/gemm.md) over divisibility, allowed values, work-group limits, local memory and
// a register budget. The limits may come from a live device or a limits file.
// Throws Error(bad_input) for an unknown family.
std::optional<std::string> gemm_config_invalid_reason(const GemmConfig& config,
                                                      const DeviceLimits& limits);
// The same, with the limits of a device (DeviceLimits::from_device).
std::optional<std::string> gemm_config_invalid_reason(const GemmConfig& config,
                                                      const DeviceInfo& device);

// The default config for a device type, for large problems (see docs/gemm.md for the
// measurements behind each).
GemmConfig default_gemm_config(const DeviceInfo& device);
// The default config for a device type and a problem size: small and skinny problems get
// a direct (unpacked) config where that was measured to win on the device type, others
// the size-independent default above. Always valid on the device.
GemmConfig default_gemm_config(const DeviceInfo& device, const GemmProblem& problem);

struct GemmTiming {
  double pack_ms = 0;    // device time of the packing kernels (0 for gemm.direct)
  double kernel_ms = 0;  // device time of the GEMM kernel
  double total_ms = 0;   // start of the first kernel to end of the last
};

// A config compiled for one device, ready to run on any problem.
class GemmKernel {
 public:
  // Builds the programs (through the cache). Throws Error(invalid_config) when the
  // config is invalid for the device and Error(build_failed) with the build log.
  GemmKernel(Device& device, const ProgramCache& cache, GemmConfig config);

  const GemmConfig& config() const { return config_; }
  double build_ms() const { return build_ms_; }
  bool from_cache() const { return from_cache_; }

  // Enqueues the GEMM and waits for it. Throws Error(bad_input) for an invalid problem
  // or a buffer too small for it, Error(launch_failed) for an OpenCL error.
  GemmTiming run(const GemmProblem& problem, const boost::compute::buffer& a,
                 const boost::compute::buffer& b, boost::compute::buffer& c);

 private:
  Device* device_;
  GemmConfig config_;
  boost::compute::kernel main_;
  boost::compute::kernel pack_a_;
  boost::compute::kernel pack_b_;
  boost::compute::buffer a_panels_;
  boost::compute::buffer b_panels_;
  boost::compute::kernel post_;     // a family's second pass (split-K reduction), if any
  boost::compute::buffer scratch_;  // what the main kernel leaves for the second pass
  double build_ms_ = 0;
  bool from_cache_ = false;
};

// One-call GEMM on device buffers: config defaults to default_gemm_config(device, problem).
GemmTiming gemm(Device& device, const GemmProblem& problem, const boost::compute::buffer& a,
                const boost::compute::buffer& b, boost::compute::buffer& c,
                const std::optional<GemmConfig>& config = std::nullopt,
                const ProgramCache& cache = ProgramCache::from_environment());

}  // namespace clgauge
