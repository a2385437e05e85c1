// gemm.direct: register tiles read op(A) and op(B) in place, one launch, no packing.

#include <string>
#include <utility>

#include "gemm/family.hpp"

namespace bc = boost::compute;

namespace clgauge::gemm_detail {
namespace {

class Direct final : public FamilyImpl {
 public:
  const GemmFamily& info() const override {
    static const GemmFamily f{"gemm.direct",
                              "gemm_direct",
                              true,
                              {{"MR", 4, "rows of C per work-item"},
                               {"NR", 16, "columns of C per work-item (multiple of VW)"},
                               {"VW", 8, "accumulator vector width: 1, 2, 4, 8 or 16"},
                               {"WGM", 1, "work-group size along rows of tiles (dimension 1)"},
                               {"WGN", 1, "work-group size along columns of tiles (dimension 0)"}}};
    return f;
  }

  std::optional<std::string> invalid_reason(const GemmConfig& c,
                                            const DeviceLimits& d) const override {
    const auto mr = c.get("MR"), nr = c.get("NR"), vw = c.get("VW");
    const auto wgm = c.get("WGM"), wgn = c.get("WGN");
    if (mr < 1 || mr > 16) return rule_failed("MR = " + std::to_string(mr) + " not in 1..16", c);
    if (!is_pow2_upto(vw, 16))
      return rule_failed("VW = " + std::to_string(vw) + " not in {1,2,4,8,16}", c);
    if (nr < 1 || nr > 128) return rule_failed("NR = " + std::to_string(nr) + " not in 1..128", c);
    if (nr % vw != 0)
      return rule_failed("NR % VW != 0 (" + std::to_string(nr) + " % " + std::to_string(vw) + ")",
                         c);
    if (mr * nr > 256)
      return rule_failed(
          "MR * NR = " + std::to_string(mr * nr) + " exceeds the register budget of 256 floats", c);
    return work_group_invalid(c, d, "WGN", wgn, "WGM", wgm);
  }

  std::vector<std::string> basic_spaces() const override { return {"direct_basic"}; }

  PackNeeds packing(const GemmConfig&) const override { return {0, 0, 1}; }

  Geometry bind(bc::kernel& kernel, const GemmConfig& c, const LaunchOperands& ops) const override {
    const auto& p = ops.problem;
    // The kernel vector-loads rows of its B operand when their stride is 1. If op(B)'s
    // rows are strided but op(A)'s columns are contiguous, compute C^T = op(B)^T op(A)^T
    // instead: the same products (fma(b, a, acc) == fma(a, b, acc)) in the same k order.
    Strides sa = a_strides(p), sb = b_strides(p), sc = c_strides(p);
    std::int64_t m = p.m, n = p.n;
    const bc::buffer* a = &ops.a;
    const bc::buffer* b = &ops.b;
    if (direct_swaps_operands(p)) {
      std::swap(sa, sb);
      std::swap(m, n);
      std::swap(a, b);
      std::swap(sc.sp, sc.sq);
    }
    // Kernel B operand: b(k, j) = B[off + k * sbk + j * sbj] with sbk = sb.sq, sbj = sb.sp.
    kernel.set_args(static_cast<cl_int>(m), static_cast<cl_int>(n), static_cast<cl_int>(p.k),
                    p.alpha, p.beta, *a, static_cast<cl_long>(sa.off), static_cast<cl_long>(sa.sp),
                    static_cast<cl_long>(sa.sq), *b, static_cast<cl_long>(sb.off),
                    static_cast<cl_long>(sb.sq), static_cast<cl_long>(sb.sp), ops.c,
                    static_cast<cl_long>(sc.off), static_cast<cl_long>(sc.sp),
                    static_cast<cl_long>(sc.sq));
    const auto wgm = c.get("WGM"), wgn = c.get("WGN");
    const auto tiles_n = static_cast<std::int64_t>(ceil_div(n, c.get("NR")));
    const auto tiles_m = static_cast<std::int64_t>(ceil_div(m, c.get("MR")));
    Geometry g;
    g.global = {ceil_div(tiles_n, wgn) * static_cast<std::size_t>(wgn),
                ceil_div(tiles_m, wgm) * static_cast<std::size_t>(wgm)};
    g.local = {static_cast<std::size_t>(wgn), static_cast<std::size_t>(wgm)};
    return g;
  }
};

}  // namespace

bool direct_swaps_operands(const GemmProblem& p) {
  return b_strides(p).sp != 1 && a_strides(p).sp == 1;
}

bool direct_gathers(const GemmProblem& p) {
  return b_strides(p).sp != 1 && a_strides(p).sp != 1;
}

const FamilyImpl& direct_family() {
  static const Direct f;
  return f;
}

}  // namespace clgauge::gemm_detail
