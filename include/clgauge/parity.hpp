#pragma once
// CPU references for GEMM and the parity checks that hold device results to them.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "clgauge/gemm.hpp"

namespace clgauge {

struct ParityMismatch {
  std::size_t index = 0;  // buffer index
  std::int64_t row = -1;  // -1 when the index is padding (outside the m x n matrix)
  std::int64_t col = -1;
  float got = 0;
  float want = 0;
  bool operator==(const ParityMismatch&) const = default;
};

struct ParityReport {
  std::string mode;          // "bitwise" or "tolerance"
  std::size_t elements = 0;  // elements compared
  std::size_t mismatches = 0;
  double max_abs = 0;         // max |got - want| (inf when a NaN differs)
  double max_rel = 0;         // max |got - want| / |want| over want != 0
  std::uint64_t max_ulp = 0;  // max distance in units in the last place
  double safety = 0;          // tolerance mode: the safety factor applied to the bound
  std::optional<ParityMismatch> first;

  bool passed() const { return mismatches == 0; }
  bool operator==(const ParityReport&) const = default;
};

// Stable JSON form: {"mode", "passed", "elements", "mismatches", "max_abs", "max_rel",
// "max_ulp", "safety", "first": null | {"index", "row", "col", "got", "want"}}.
std::string to_json(const ParityReport& report);

// Distance between two floats in ULPs (their positions on the ordered float line);
// UINT64_MAX when exactly one is NaN.
std::uint64_t ulp_distance(float a, float b);

// The canonical result, bit for bit: for each element of C (in place, c holds C_in on
// entry and C_out on return; padding is untouched):
//   acc = 0.0f; for k = 0..K-1: acc = std::fma(a(i,k), b(k,j), acc)
//   t = alpha * acc; c = (beta == 0) ? t : std::fma(beta, c_old, t)
// Vectorised across output columns and threaded across rows; each element keeps its
// k order, so the bits do not depend on either.
void gemm_reference_canonical(const GemmProblem& problem, std::span<const float> a,
                              std::span<const float> b, std::span<float> c);

// The result in double: alpha * sum_k double(a) * double(b) + beta * c_old, as an m x n
// row-major array. When `abs_bound` is not empty it receives
// |alpha| * sum_k |a(i,k)| |b(k,j)| + |beta| |c_old| per element (the error scale).
void gemm_reference_f64(const GemmProblem& problem, std::span<const float> a,
                        std::span<const float> b, std::span<const float> c_in,
                        std::span<double> out, std::span<double> abs_bound = {});

// Bit-for-bit comparison of two whole C buffers (padding included).
ParityReport compare_bitwise(const GemmProblem& problem, std::span<const float> got,
                             std::span<const float> want);

// Element error within gamma(K) * scale * safety, gamma(K) = K u / (1 - K u), u = 2^-24,
// against the float64 reference. Padding of C must be unchanged from c_in.
ParityReport compare_tolerance(const GemmProblem& problem, std::span<const float> a,
                               std::span<const float> b, std::span<const float> c_in,
                               std::span<const float> got, double safety = 2.0);

}  // namespace clgauge

#include <vector>

#include "clgauge/random.hpp"

namespace clgauge {

// Host copies of a problem's three buffers, drawn from one seeded stream: element x of
// the stored A buffer (padding and offset included) is random_element(seed, x), of B
// random_element(seed, 2^40 + x), of C random_element(seed, 2^41 + x). With
// nan_c_when_beta_zero, C's elements are quiet NaNs when beta == 0, so a kernel that
// reads C shows it.
struct GemmHostData {
  std::vector<float> a;
  std::vector<float> b;
  std::vector<float> c;
};
GemmHostData make_gemm_inputs(const GemmProblem& problem, std::uint64_t seed, Distribution d,
                              bool nan_c_when_beta_zero = false);

// Device copies of the three buffers (blocking writes on the device's queue).
struct GemmDeviceBuffers {
  boost::compute::buffer a;
  boost::compute::buffer b;
  boost::compute::buffer c;
};
GemmDeviceBuffers upload_gemm_inputs(Device& device, const GemmHostData& host);

}  // namespace clgauge
