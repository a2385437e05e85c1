// The GEMM kernel families: their parameters, validity rules and default configs.

#include <algorithm>
#include <string>

#include "clgauge/config_id.hpp"
#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"

namespace clgauge {
namespace {

const std::vector<GemmFamily>& families() {
  static const std::vector<GemmFamily> all = {
      {"gemm.localtile",
       "gemm_localtile",
       true,
       {{"MWG", 64, "rows of C per work-group"},
        {"NWG", 64, "columns of C per work-group"},
        {"KWG", 16, "depth of one K slice staged in local memory"},
        {"MDIMC", 16, "work-items along rows (dimension 1)"},
        {"NDIMC", 16, "work-items along columns (dimension 0)"},
        {"VWM", 4, "vector width of global-to-local copies: 1, 2 or 4"},
        {"LPAD", 1, "extra floats per local row against bank conflicts: 0 or 1"}}},
      {"gemm.regtile",
       "gemm_regtile",
       true,
       {{"MR", 6, "rows of C per work-item"},
        {"NR", 16, "columns of C per work-item (multiple of VW)"},
        {"VW", 8, "accumulator vector width: 1, 2, 4, 8 or 16"},
        {"WGM", 1, "work-group size along rows of tiles (dimension 1)"},
        {"WGN", 16, "work-group size along columns of tiles (dimension 0)"},
        {"PACK_A", 1, "1: read A from packed MR-high panels; 0: read A in place"}}},
  };
  return all;
}

bool is_pow2_upto(std::int64_t v, std::int64_t max) {
  return v >= 1 && v <= max && (v & (v - 1)) == 0;
}

std::string fail(const std::string& rule, const GemmConfig& c) {
  return c.family + " config " + c.id() + ": " + rule;
}

std::optional<std::string> regtile_invalid(const GemmConfig& c, const DeviceInfo& d) {
  const auto mr = c.get("MR"), nr = c.get("NR"), vw = c.get("VW");
  const auto wgm = c.get("WGM"), wgn = c.get("WGN"), pack_a = c.get("PACK_A");
  if (mr < 1 || mr > 16) return fail("MR = " + std::to_string(mr) + " not in 1..16", c);
  if (!is_pow2_upto(vw, 16)) return fail("VW = " + std::to_string(vw) + " not in {1,2,4,8,16}", c);
  if (nr < 1 || nr > 128) return fail("NR = " + std::to_string(nr) + " not in 1..128", c);
  if (nr % vw != 0)
    return fail("NR % VW != 0 (" + std::to_string(nr) + " % " + std::to_string(vw) + ")", c);
  if (mr * nr > 256)
    return fail(
        "MR * NR = " + std::to_string(mr * nr) + " exceeds the register budget of 256 floats", c);
  if (wgm < 1 || wgn < 1) return fail("work-group sizes must be >= 1", c);
  if (static_cast<std::uint64_t>(wgm * wgn) > d.max_wg_size) {
    return fail("WGM * WGN = " + std::to_string(wgm * wgn) + " exceeds max_wg_size " +
                    std::to_string(d.max_wg_size),
                c);
  }
  if (static_cast<std::uint64_t>(wgn) > d.max_wi_sizes[0] ||
      static_cast<std::uint64_t>(wgm) > d.max_wi_sizes[1]) {
    return fail("work-group shape exceeds max_wi_sizes", c);
  }
  if (pack_a != 0 && pack_a != 1) return fail("PACK_A must be 0 or 1", c);
  return std::nullopt;
}

std::optional<std::string> localtile_invalid(const GemmConfig& c, const DeviceInfo& d) {
  const auto mwg = c.get("MWG"), nwg = c.get("NWG"), kwg = c.get("KWG");
  const auto mdimc = c.get("MDIMC"), ndimc = c.get("NDIMC"), vwm = c.get("VWM");
  const auto lpad = c.get("LPAD");
  if (mwg < 1 || nwg < 1 || kwg < 1 || mdimc < 1 || ndimc < 1) {
    return fail("tile sizes must be >= 1", c);
  }
  if (mwg > 256 || nwg > 256 || kwg > 256) return fail("MWG, NWG and KWG must be <= 256", c);
  if (!is_pow2_upto(vwm, 4)) return fail("VWM = " + std::to_string(vwm) + " not in {1,2,4}", c);
  if (lpad != 0 && lpad != 1) return fail("LPAD must be 0 or 1", c);
  if (mwg % mdimc != 0) return fail("MWG % MDIMC != 0", c);
  if (nwg % ndimc != 0) return fail("NWG % NDIMC != 0", c);
  if (mwg % vwm != 0 || nwg % vwm != 0) return fail("MWG and NWG must be multiples of VWM", c);
  if ((mwg / mdimc) * (nwg / ndimc) > 256) {
    return fail("(MWG/MDIMC) * (NWG/NDIMC) exceeds the register budget of 256 floats", c);
  }
  if (static_cast<std::uint64_t>(mdimc * ndimc) > d.max_wg_size) {
    return fail("MDIMC * NDIMC = " + std::to_string(mdimc * ndimc) + " exceeds max_wg_size " +
                    std::to_string(d.max_wg_size),
                c);
  }
  if (static_cast<std::uint64_t>(ndimc) > d.max_wi_sizes[0] ||
      static_cast<std::uint64_t>(mdimc) > d.max_wi_sizes[1]) {
    return fail("work-group shape exceeds max_wi_sizes", c);
  }
  const auto local_bytes = static_cast<std::uint64_t>(kwg * (mwg + lpad + nwg + lpad) * 4);
  if (local_bytes > d.local_mem_bytes) {
    return fail("needs " + std::to_string(local_bytes) + " bytes of local memory, device has " +
                    std::to_string(d.local_mem_bytes),
                c);
  }
  return std::nullopt;
}

}  // namespace

const std::vector<GemmFamily>& gemm_families() {
  return families();
}

const GemmFamily& gemm_family(std::string_view name) {
  std::string known;
  for (const auto& f : families()) {
    if (f.name == name) return f;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  throw Error(ReasonCode::bad_input,
              "unknown family '" + std::string(name) + "' (known: " + known + ")");
}

std::string GemmConfig::canonical() const {
  return config_canonical(family, params);
}

std::string GemmConfig::id() const {
  return config_id(family, params);
}

std::int64_t GemmConfig::get(std::string_view name) const {
  for (const auto& [n, v] : params) {
    if (n == name) return v;
  }
  throw Error(ReasonCode::bad_input,
              family + " config has no parameter '" + std::string(name) + "'");
}

GemmConfig GemmConfig::defaults_for(std::string_view family) {
  const auto& f = gemm_family(family);
  GemmConfig c{f.name, {}};
  for (const auto& p : f.params) c.params.emplace_back(p.name, p.default_value);
  return c;
}

GemmConfig GemmConfig::make(std::string_view family,
                            const std::vector<std::pair<std::string, std::int64_t>>& overrides) {
  GemmConfig c = defaults_for(family);
  for (const auto& [name, value] : overrides) {
    // A named copy: clang 14 (the fuzz build) cannot capture a structured binding.
    const std::string& wanted = name;
    auto it = std::find_if(c.params.begin(), c.params.end(),
                           [&](const auto& p) { return p.first == wanted; });
    if (it == c.params.end()) {
      std::string known;
      for (const auto& p : c.params) known += (known.empty() ? "" : ", ") + p.first;
      throw Error(ReasonCode::bad_input, "unknown parameter '" + name + "' for family " + c.family +
                                             " (known: " + known + ")");
    }
    it->second = value;
  }
  return c;
}

std::optional<std::string> gemm_config_invalid_reason(const GemmConfig& config,
                                                      const DeviceInfo& device) {
  const auto& f = gemm_family(config.family);
  bool same_names = config.params.size() == f.params.size();
  for (std::size_t i = 0; same_names && i < f.params.size(); ++i) {
    same_names = config.params[i].first == f.params[i].name;
  }
  if (!same_names) {
    return config.family + " config must list its parameters in declared order";
  }
  if (f.name == "gemm.regtile") return regtile_invalid(config, device);
  return localtile_invalid(config, device);
}

GemmConfig default_gemm_config(const DeviceInfo& device) {
  // Preference lists per device type; the first config valid on the device wins.
  // CPU: measured on PoCL (2-core AMD EPYC, AVX2) with bench_gemm; see README.
  // GPU: the local-memory family with CLBlast-style 64x64 work-group tiles.
  std::vector<GemmConfig> prefs;
  if (device.is_gpu()) {
    prefs.push_back(GemmConfig::defaults_for("gemm.localtile"));
    prefs.push_back(GemmConfig::make("gemm.localtile", {{"MDIMC", 8}, {"NDIMC", 8}}));
    prefs.push_back(GemmConfig::make("gemm.regtile",
                                     {{"MR", 4}, {"NR", 4}, {"VW", 4}, {"WGM", 8}, {"WGN", 8}}));
  } else {
    // 6 rows x one float16 column strip: 12 AVX2 accumulators plus B and the broadcast
    // fit the 16 vector registers. A 16-row work-group runs its work-items back to back
    // on one core, so one B panel is reused from cache by 16 row strips. Measured at
    // 1024^3 against 30 other regtile shapes (README, "Default configs").
    prefs.push_back(GemmConfig::make("gemm.regtile",
                                     {{"MR", 6}, {"NR", 16}, {"VW", 16}, {"WGM", 16}, {"WGN", 1}}));
  }
  prefs.push_back(
      GemmConfig::make("gemm.regtile", {{"MR", 1}, {"NR", 4}, {"VW", 4}, {"WGM", 1}, {"WGN", 1}}));
  for (const auto& c : prefs) {
    if (!gemm_config_invalid_reason(c, device)) return c;
  }
  return prefs.back();
}

}  // namespace clgauge
