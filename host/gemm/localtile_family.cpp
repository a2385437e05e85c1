// gemm.localtile: CLBlast-style work-group tiles staged in local memory, over packed
// A and B panels.

#include <string>

#include "gemm/family.hpp"

namespace bc = boost::compute;

namespace clgauge::gemm_detail {
namespace {

class Localtile final : public FamilyImpl {
 public:
  const GemmFamily& info() const override {
    static const GemmFamily f{
        "gemm.localtile",
        "gemm_localtile",
        true,
        {{"MWG", 64, "rows of C per work-group"},
         {"NWG", 64, "columns of C per work-group"},
         {"KWG", 16, "depth of one K slice staged in local memory"},
         {"MDIMC", 16, "work-items along rows (dimension 1)"},
         {"NDIMC", 16, "work-items along columns (dimension 0)"},
         {"VWM", 4, "vector width of global-to-local copies: 1, 2 or 4"},
         {"LPAD", 1, "extra floats per local row against bank conflicts: 0 or 1"}}};
    return f;
  }

  std::optional<std::string> invalid_reason(const GemmConfig& c,
                                            const DeviceLimits& d) const override {
    const auto mwg = c.get("MWG"), nwg = c.get("NWG"), kwg = c.get("KWG");
    const auto mdimc = c.get("MDIMC"), ndimc = c.get("NDIMC"), vwm = c.get("VWM");
    const auto lpad = c.get("LPAD");
    if (mwg < 1 || nwg < 1 || kwg < 1 || mdimc < 1 || ndimc < 1) {
      return rule_failed("tile sizes must be >= 1", c);
    }
    if (mwg > 256 || nwg > 256 || kwg > 256)
      return rule_failed("MWG, NWG and KWG must be <= 256", c);
    if (!is_pow2_upto(vwm, 4))
      return rule_failed("VWM = " + std::to_string(vwm) + " not in {1,2,4}", c);
    if (lpad != 0 && lpad != 1) return rule_failed("LPAD must be 0 or 1", c);
    if (mwg % mdimc != 0) return rule_failed("MWG % MDIMC != 0", c);
    if (nwg % ndimc != 0) return rule_failed("NWG % NDIMC != 0", c);
    if (mwg % vwm != 0 || nwg % vwm != 0)
      return rule_failed("MWG and NWG must be multiples of VWM", c);
    if ((mwg / mdimc) * (nwg / ndimc) > 256) {
      return rule_failed("(MWG/MDIMC) * (NWG/NDIMC) exceeds the register budget of 256 floats", c);
    }
    if (auto why = work_group_invalid(c, d, "NDIMC", ndimc, "MDIMC", mdimc)) return why;
    const auto local_bytes = static_cast<std::uint64_t>(kwg * (mwg + lpad + nwg + lpad) * 4);
    if (local_bytes > d.local_mem_bytes) {
      return rule_failed("needs " + std::to_string(local_bytes) +
                             " bytes of local memory, device has " +
                             std::to_string(d.local_mem_bytes),
                         c);
    }
    return std::nullopt;
  }

  std::vector<std::string> basic_spaces() const override { return {"localtile_basic"}; }

  PackNeeds packing(const GemmConfig& c) const override {
    return {c.get("MWG"), c.get("NWG"), c.get("KWG")};
  }

  Geometry bind(bc::kernel& kernel, const GemmConfig& c, const LaunchOperands& ops) const override {
    const auto& p = ops.problem;
    const auto sc = c_strides(p);
    kernel.set_args(static_cast<cl_int>(p.m), static_cast<cl_int>(p.n), static_cast<cl_int>(ops.kp),
                    p.alpha, p.beta, *ops.a_panels, *ops.b_panels, ops.c,
                    static_cast<cl_long>(sc.off), static_cast<cl_long>(sc.sp),
                    static_cast<cl_long>(sc.sq));
    const auto mdimc = static_cast<std::size_t>(c.get("MDIMC"));
    const auto ndimc = static_cast<std::size_t>(c.get("NDIMC"));
    Geometry g;
    g.global = {ceil_div(p.n, c.get("NWG")) * ndimc, ceil_div(p.m, c.get("MWG")) * mdimc};
    g.local = {ndimc, mdimc};
    return g;
  }
};

}  // namespace

const FamilyImpl& localtile_family() {
  static const Localtile f;
  return f;
}

}  // namespace clgauge::gemm_detail
