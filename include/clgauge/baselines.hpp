#pragma once
// The baselines every tuned result is compared with: CLBlast's GEMM on the same OpenCL
// device and OpenBLAS's sgemm on the host. They live in the separate library
// clgauge::baselines, so only programs that compare against them link CLBlast and OpenBLAS.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clgauge/gemm.hpp"
#include "clgauge/measure.hpp"
#include "clgauge/parity.hpp"

namespace clgauge {

// One CLBlast Gemm call on the uploaded problem, timed by the host clock from the call to
// its finish (device_ms too: CLBlast's event covers only its last kernel, reported as
// kernel_ms); waits for it. Throws Error(launch_failed) naming CLBlast's status code.
LaunchTiming clblast_gemm(Device& device, const GemmProblem& problem, GemmDeviceBuffers& buffers);

// One OpenBLAS cblas_sgemm call on host copies; `c` holds C_in on entry and C_out after.
// Host time is reported as both device_ms and host_ms. Throws Error(bad_input) for a problem
// whose sizes do not fit OpenBLAS's integer type.
LaunchTiming openblas_gemm(const GemmProblem& problem, const GemmHostData& in,
                           std::vector<float>& c);

// ---- CLBlast tuned by CLBlast (clgauge bench --clblast-params) ----------------------

// A parameter set for one CLBlast kernel, as CLBlast's own tuner writes it
// (clblast_tuner_xgemm / clblast_tuner_xgemm_direct, Debian clblast-utils): one JSON object
// per tuning phase with string fields "kernel_family" ("xgemm_1", "xgemm_direct_2", ...),
// "precision" ("32"), "best_kernel" (the entry point: "Xgemm", or "XgemmDirectNN",
// "XgemmDirectTN", ... for the direct kernel), "best_time" (ms) and
// "best_parameters" ("GEMMK=0 KREG=1 KWG=32 ... PRECISION=32 ..."), plus the tuned sizes
// ("arg_m", "arg_n", "arg_k") and the device ("device").
struct ClblastParams {
  std::string source;                // the file (or text) it came from, for messages
  std::string kernel;                // CLBlast's database name: "Xgemm" | "XgemmDirect"
  std::string kernel_family;         // "xgemm_1", ...
  double best_time_ms = 0;           // the tuner's best time (0 when the file has none)
  std::string device;                // the device the tuner ran on ("" when absent)
  std::int64_t m = 0, n = 0, k = 0;  // the tuned sizes (0 when absent)
  // Kernel parameters in the file's order, PRECISION left out (it is not a parameter).
  std::vector<std::pair<std::string, std::size_t>> params;
  // "GEMMK=0 KREG=1 ...": the parameters as one line.
  std::string params_text() const;
  bool operator==(const ClblastParams&) const = default;
};
// Throws Error(bad_input) "<source>: <field>: <why>" for anything else: malformed JSON, a
// missing or non-string field, a precision other than "32" (clgauge compares float32), a
// kernel family other than xgemm_<V> / xgemm_direct_<V> or a best_kernel not of it, a
// parameter that is not NAME=<decimal integer>, a parameter given twice, no parameters.
ClblastParams parse_clblast_params(std::string_view json_text, std::string_view source);
// Reads and parses a file (Error(bad_input) naming it when it cannot be read).
ClblastParams load_clblast_params(const std::string& file);

// CLBlast's current single-precision parameters for `kernel` on the device
// (RetrieveParameters): its built-in database, or an override applied before.
// Throws Error(launch_failed) naming CLBlast's status.
std::vector<std::pair<std::string, std::size_t>> clblast_parameters(Device& device,
                                                                    const std::string& kernel);

// Applies a parameter set through clblast::OverrideParameters (the next Gemm call recompiles
// with it) and puts the previous parameters back when destroyed, so the override lasts only
// as long as this object. Throws Error(bad_input) naming the parameters CLBlast needs that the
// set lacks, Error(launch_failed) for any other CLBlast status.
class ClblastOverride {
 public:
  ClblastOverride(Device& device, const ClblastParams& params);
  ~ClblastOverride();
  ClblastOverride(const ClblastOverride&) = delete;
  ClblastOverride& operator=(const ClblastOverride&) = delete;

 private:
  Device* device_;
  std::string kernel_;
  std::vector<std::pair<std::string, std::size_t>> previous_;
};

// Which kernel CLBlast's Gemm runs for a problem on the device: "XgemmDirect" when
// m * n * k < XGEMM_MIN_INDIRECT_SIZE^3 (CLBlast's "GemmRoutine" parameter), else "Xgemm"
// (with its pad / transpose helpers around it).
std::string clblast_gemm_kernel(Device& device, const GemmProblem& problem);

}  // namespace clgauge
