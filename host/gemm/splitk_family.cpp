// gemm.splitk: split-K in two passes (chunks of K in parallel, then an ordered
// reduction). Tolerance-only: the reordered sum does not give the canonical bits, so
// parity holds it to the gamma(K) bound, and no device default ever picks it.

#include <string>

#include "gemm/family.hpp"

namespace bc = boost::compute;

namespace clgauge::gemm_detail {
namespace {

class SplitK final : public FamilyImpl {
 public:
  const GemmFamily& info() const override {
    static const GemmFamily f{"gemm.splitk",
                              "gemm_splitk",
                              false,
                              {{"SPLITS", 4, "chunks of K computed in parallel: 2..16"},
                               {"WGX", 16, "work-group size along columns of C (dimension 0)"},
                               {"WGY", 1, "work-group size along rows of C (dimension 1)"}}};
    return f;
  }

  std::optional<std::string> invalid_reason(const GemmConfig& c,
                                            const DeviceLimits& d) const override {
    const auto splits = c.get("SPLITS");
    if (splits < 2 || splits > 16) {
      return rule_failed("SPLITS = " + std::to_string(splits) + " not in 2..16", c);
    }
    return work_group_invalid(c, d, "WGX", c.get("WGX"), "WGY", c.get("WGY"));
  }

  std::vector<std::string> basic_spaces() const override { return {"splitk_basic"}; }

  PackNeeds packing(const GemmConfig&) const override { return {0, 0, 1}; }

  std::string post_entry(const GemmConfig&) const override { return "gemm_splitk_reduce"; }

  std::size_t scratch_floats(const GemmConfig& c, const GemmProblem& p) const override {
    return static_cast<std::size_t>(c.get("SPLITS")) * static_cast<std::size_t>(p.m) *
           static_cast<std::size_t>(p.n);
  }

  Geometry bind(bc::kernel& kernel, const GemmConfig& c, const LaunchOperands& ops) const override {
    const auto& p = ops.problem;
    const Strides sa = a_strides(p), sb = b_strides(p);
    const auto splits = c.get("SPLITS"), wgx = c.get("WGX"), wgy = c.get("WGY");
    const auto chunk = static_cast<std::int64_t>(ceil_div(p.k, splits));
    const auto mr = static_cast<std::int64_t>(ceil_div(p.m, wgy)) * wgy;
    kernel.set_args(static_cast<cl_int>(p.m), static_cast<cl_int>(p.n), static_cast<cl_int>(p.k),
                    static_cast<cl_int>(chunk), static_cast<cl_int>(mr), ops.a,
                    static_cast<cl_long>(sa.off), static_cast<cl_long>(sa.sp),
                    static_cast<cl_long>(sa.sq), ops.b, static_cast<cl_long>(sb.off),
                    static_cast<cl_long>(sb.sq), static_cast<cl_long>(sb.sp), *ops.scratch);
    Geometry g;
    g.global = {ceil_div(p.n, wgx) * static_cast<std::size_t>(wgx),
                static_cast<std::size_t>(mr * splits)};
    g.local = {static_cast<std::size_t>(wgx), static_cast<std::size_t>(wgy)};
    return g;
  }

  Geometry bind_post(bc::kernel& kernel, const GemmConfig& c,
                     const LaunchOperands& ops) const override {
    const auto& p = ops.problem;
    const Strides sc = c_strides(p);
    const auto wgx = c.get("WGX"), wgy = c.get("WGY");
    kernel.set_args(static_cast<cl_int>(p.m), static_cast<cl_int>(p.n), p.alpha, p.beta,
                    *ops.scratch, ops.c, static_cast<cl_long>(sc.off), static_cast<cl_long>(sc.sp),
                    static_cast<cl_long>(sc.sq));
    Geometry g;
    g.global = {ceil_div(p.n, wgx) * static_cast<std::size_t>(wgx),
                ceil_div(p.m, wgy) * static_cast<std::size_t>(wgy)};
    g.local = {static_cast<std::size_t>(wgx), static_cast<std::size_t>(wgy)};
    return g;
  }
};

}  // namespace

const FamilyImpl& splitk_family() {
  static const SplitK f;
  return f;
}

}  // namespace clgauge::gemm_detail
