// gemm.regtile: register tiles over packed B panels (and packed or in-place A).

#include <string>

#include "gemm/family.hpp"

namespace bc = boost::compute;

namespace clgauge::gemm_detail {
namespace {

class Regtile final : public FamilyImpl {
 public:
  const GemmFamily& info() const override {
    static const GemmFamily f{
        "gemm.regtile",
        "gemm_regtile",
        true,
        {{"MR", 6, "rows of C per work-item"},
         {"NR", 16, "columns of C per work-item (multiple of VW)"},
         {"VW", 8, "accumulator vector width: 1, 2, 4, 8 or 16"},
         {"WGM", 1, "work-group size along rows of tiles (dimension 1)"},
         {"WGN", 16, "work-group size along columns of tiles (dimension 0)"},
         {"PACK_A", 1, "1: read A from packed MR-high panels; 0: read A in place"}}};
    return f;
  }

  std::optional<std::string> invalid_reason(const GemmConfig& c,
                                            const DeviceLimits& d) const override {
    const auto mr = c.get("MR"), nr = c.get("NR"), vw = c.get("VW");
    const auto wgm = c.get("WGM"), wgn = c.get("WGN"), pack_a = c.get("PACK_A");
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
    if (auto why = work_group_invalid(c, d, "WGN", wgn, "WGM", wgm)) return why;
    if (pack_a != 0 && pack_a != 1) return rule_failed("PACK_A must be 0 or 1", c);
    return std::nullopt;
  }

  std::vector<std::string> basic_spaces() const override { return {"regtile_basic"}; }

  PackNeeds packing(const GemmConfig& c) const override {
    return {c.get("PACK_A") == 1 ? c.get("MR") : 0, c.get("NR"), 1};
  }

  Geometry bind(bc::kernel& kernel, const GemmConfig& c, const LaunchOperands& ops) const override {
    const auto& p = ops.problem;
    const bool pack_a = ops.a_panels != nullptr;
    const auto sa = a_strides(p);
    const auto sc = c_strides(p);
    kernel.set_args(static_cast<cl_int>(p.m), static_cast<cl_int>(p.n), static_cast<cl_int>(p.k),
                    p.alpha, p.beta, pack_a ? *ops.a_panels : ops.a, static_cast<cl_long>(sa.off),
                    static_cast<cl_long>(sa.sp), static_cast<cl_long>(sa.sq), *ops.b_panels, ops.c,
                    static_cast<cl_long>(sc.off), static_cast<cl_long>(sc.sp),
                    static_cast<cl_long>(sc.sq));
    const auto wgm = c.get("WGM"), wgn = c.get("WGN");
    const auto tiles_n = static_cast<std::int64_t>(ceil_div(p.n, c.get("NR")));
    const auto tiles_m = static_cast<std::int64_t>(ceil_div(p.m, c.get("MR")));
    Geometry g;
    g.global = {ceil_div(tiles_n, wgn) * static_cast<std::size_t>(wgn),
                ceil_div(tiles_m, wgm) * static_cast<std::size_t>(wgm)};
    g.local = {static_cast<std::size_t>(wgn), static_cast<std::size_t>(wgm)};
    return g;
  }
};

}  // namespace

const FamilyImpl& regtile_family() {
  static const Regtile f;
  return f;
}

}  // namespace clgauge::gemm_detail
