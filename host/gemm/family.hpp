#pragma once
// One object per GEMM kernel family (internal). A family owns its parameters, its
// validity rules (against DeviceLimits, so a limits file works like a live device), its
// build options, what it needs packed, and its launch geometry. GemmKernel and the
// public functions of gemm.hpp only ask these objects; nothing else names a family.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/compute/buffer.hpp>
#include <boost/compute/kernel.hpp>

#include "clgauge/device_limits.hpp"
#include "clgauge/gemm.hpp"

namespace clgauge::gemm_detail {

// X(p, q) = buf[off + p * sp + q * sq] for one operand.
struct Strides {
  std::int64_t off = 0;
  std::int64_t sp = 0;
  std::int64_t sq = 0;
};
// op(A)(i, k): p = i, q = k.  Requires a resolved problem.
Strides a_strides(const GemmProblem& p);
// op(B)(k, j) seen as X(j, k): p = j, q = k.
Strides b_strides(const GemmProblem& p);
// C(i, j): p = i, q = j.
Strides c_strides(const GemmProblem& p);

// What the packing pass (gemm_pack.cl) must produce before the main kernel runs.
struct PackNeeds {
  std::int64_t panel_a = 0;  // rows of op(A) per panel; 0: A is read in place
  std::int64_t panel_b = 0;  // columns of op(B) per panel; 0: B is read in place
  std::int64_t k_block = 1;  // panels hold K rounded up to a multiple of this
};

// The buffers a launch reads and writes.
struct LaunchOperands {
  const GemmProblem& problem;  // resolved and validated
  const boost::compute::buffer& a;
  const boost::compute::buffer& b;
  boost::compute::buffer& c;
  const boost::compute::buffer* a_panels = nullptr;  // set when PackNeeds::panel_a > 0
  const boost::compute::buffer* b_panels = nullptr;  // set when PackNeeds::panel_b > 0
  std::int64_t kp = 0;                               // K rounded up to k_block
  // set when scratch_floats() > 0: written by the main kernel, read by the second pass
  const boost::compute::buffer* scratch = nullptr;
};

// Global and local sizes of the main kernel (dimension 0 = columns of tiles).
struct Geometry {
  std::array<std::size_t, 2> global{};
  std::array<std::size_t, 2> local{};
};

class FamilyImpl {
 public:
  virtual ~FamilyImpl() = default;
  // Name, kernel file/entry point and parameters in declared order.
  virtual const GemmFamily& info() const = 0;
  // Family rules only; the caller has checked the parameter names and their order.
  virtual std::optional<std::string> invalid_reason(const GemmConfig& c,
                                                    const DeviceLimits& limits) const = 0;
  // Shipped basic space file names (tuning/spaces/<name>.json).
  virtual std::vector<std::string> basic_spaces() const = 0;
  // OpenCL C 1.2, every parameter as -D, no fast-math or mad flags (parity needs exact fma).
  virtual std::string build_options(const GemmConfig& c) const;
  virtual PackNeeds packing(const GemmConfig& c) const = 0;
  // Sets the main kernel's arguments for one problem and returns its geometry.
  virtual Geometry bind(boost::compute::kernel& kernel, const GemmConfig& c,
                        const LaunchOperands& ops) const = 0;
  // The OpenCL C source of the family's program (default: kernels_cl/<kernel>.cl).
  virtual std::string source() const;

  // An optional second pass after the main kernel (split-K: the main kernel leaves
  // partial sums in a scratch buffer, the second pass reduces them into C). Its entry
  // point lives in the same program; "" (the default) means there is none.
  virtual std::string post_entry(const GemmConfig&) const { return {}; }
  // Floats of scratch the main kernel and the second pass share for one problem.
  virtual std::size_t scratch_floats(const GemmConfig&, const GemmProblem&) const { return 0; }
  // Sets the second pass's arguments and returns its geometry (only with post_entry).
  virtual Geometry bind_post(boost::compute::kernel& kernel, const GemmConfig& c,
                             const LaunchOperands& ops) const;
};

// The registered families, in name order.
const std::vector<const FamilyImpl*>& family_impls();
// Throws Error(bad_input) "unknown family" listing the known ones.
const FamilyImpl& family_impl(std::string_view name);

const FamilyImpl& direct_family();
// gemm.direct computes C^T = op(B)^T op(A)^T when that makes its B operand's rows
// contiguous; then the kernel's N (the width its column tiles cover) is the problem's m.
bool direct_swaps_operands(const GemmProblem& p);
// Neither op(B)'s rows nor op(A)'s columns are contiguous (row-major n,t; column-major
// t,n): gemm.direct then gathers op(B) element by element, which is slow.
bool direct_gathers(const GemmProblem& p);
const FamilyImpl& localtile_family();
const FamilyImpl& regtile_family();
const FamilyImpl& splitk_family();

// Tests only: adds a family to the registry (for example a deliberately wrong kernel,
// whose source() may be a string), or removes it again. The registry and gemm_families()
// are rebuilt in name order. Not thread-safe: call it while nothing else uses families.
// Throws Error(bad_input) for a name that is already registered.
void register_test_family(const FamilyImpl& family);
void unregister_test_family(std::string_view name);

// Helpers for the rules.
std::string rule_failed(const std::string& rule, const GemmConfig& c);
bool is_pow2_upto(std::int64_t v, std::int64_t max);
std::size_t ceil_div(std::int64_t a, std::int64_t b);
// Work-group size and shape against max_wg_size and max_wi_sizes; dims {x, y}.
std::optional<std::string> work_group_invalid(const GemmConfig& c, const DeviceLimits& limits,
                                              std::string_view x_name, std::int64_t x,
                                              std::string_view y_name, std::int64_t y);

}  // namespace clgauge::gemm_detail
