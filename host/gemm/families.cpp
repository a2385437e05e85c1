// The GEMM kernel families: the registry, the rules every family shares, and the
// default configs per device type.

#include <algorithm>
#include <string>

#include "clgauge/config_id.hpp"
#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/kernels.hpp"
#include "gemm/family.hpp"

namespace clgauge {
namespace gemm_detail {

Strides a_strides(const GemmProblem& p) {
  const bool row_walk = (p.layout == Layout::row) == (p.trans_a == Op::n);
  return row_walk ? Strides{p.offset_a, p.lda, 1} : Strides{p.offset_a, 1, p.lda};
}

Strides b_strides(const GemmProblem& p) {
  const bool contiguous_j = (p.layout == Layout::row) == (p.trans_b == Op::n);
  return contiguous_j ? Strides{p.offset_b, 1, p.ldb} : Strides{p.offset_b, p.ldb, 1};
}

Strides c_strides(const GemmProblem& p) {
  return p.layout == Layout::row ? Strides{p.offset_c, p.ldc, 1} : Strides{p.offset_c, 1, p.ldc};
}

std::string FamilyImpl::build_options(const GemmConfig& c) const {
  // -w: drivers warn about things that are not ours (PoCL on AVX2 warns that float16
  // changes its internal ABI); build errors still arrive with the full log.
  std::string opts = "-cl-std=CL1.2 -w";
  for (const auto& [name, value] : c.params) opts += " -D" + name + "=" + std::to_string(value);
  return opts;
}

std::string FamilyImpl::source() const {
  return std::string(kernel_source(info().kernel));
}

Geometry FamilyImpl::bind_post(boost::compute::kernel&, const GemmConfig& c,
                               const LaunchOperands&) const {
  throw Error(ReasonCode::internal, c.family + " has no second pass");
}

namespace {

void sort_by_name(std::vector<const FamilyImpl*>& v) {
  std::sort(v.begin(), v.end(),
            [](const auto* x, const auto* y) { return x->info().name < y->info().name; });
}

// The registry: the built-in families plus any a test registered.
std::vector<const FamilyImpl*>& registry() {
  static std::vector<const FamilyImpl*> all = [] {
    std::vector<const FamilyImpl*> v = {&direct_family(), &localtile_family(), &regtile_family(),
                                        &splitk_family()};
    sort_by_name(v);
    return v;
  }();
  return all;
}

std::vector<GemmFamily>& registry_infos() {
  static std::vector<GemmFamily> infos = [] {
    std::vector<GemmFamily> v;
    for (const auto* f : registry()) v.push_back(f->info());
    return v;
  }();
  return infos;
}

void rebuild_infos() {
  sort_by_name(registry());
  registry_infos().clear();
  for (const auto* f : registry()) registry_infos().push_back(f->info());
}

}  // namespace

const std::vector<const FamilyImpl*>& family_impls() {
  return registry();
}

void register_test_family(const FamilyImpl& family) {
  for (const auto* f : registry()) {
    if (f->info().name == family.info().name) {
      throw Error(ReasonCode::bad_input, "family '" + f->info().name + "' is already registered");
    }
  }
  registry().push_back(&family);
  rebuild_infos();
}

void unregister_test_family(std::string_view name) {
  auto& r = registry();
  r.erase(std::remove_if(r.begin(), r.end(), [&](const auto* f) { return f->info().name == name; }),
          r.end());
  rebuild_infos();
}

const FamilyImpl& family_impl(std::string_view name) {
  std::string known;
  for (const auto* f : family_impls()) {
    if (f->info().name == name) return *f;
    known += (known.empty() ? "" : ", ") + f->info().name;
  }
  throw Error(ReasonCode::bad_input,
              "unknown family '" + std::string(name) + "' (known: " + known + ")");
}

std::string rule_failed(const std::string& rule, const GemmConfig& c) {
  return c.family + " config " + c.id() + ": " + rule;
}

bool is_pow2_upto(std::int64_t v, std::int64_t max) {
  return v >= 1 && v <= max && (v & (v - 1)) == 0;
}

std::size_t ceil_div(std::int64_t a, std::int64_t b) {
  return static_cast<std::size_t>((a + b - 1) / b);
}

std::optional<std::string> work_group_invalid(const GemmConfig& c, const DeviceLimits& d,
                                              std::string_view x_name, std::int64_t x,
                                              std::string_view y_name, std::int64_t y) {
  if (x < 1 || y < 1) return rule_failed("work-group sizes must be >= 1", c);
  if (static_cast<std::uint64_t>(x * y) > d.max_wg_size) {
    return rule_failed(std::string(y_name) + " * " + std::string(x_name) + " = " +
                           std::to_string(x * y) + " exceeds max_wg_size " +
                           std::to_string(d.max_wg_size),
                       c);
  }
  if (static_cast<std::uint64_t>(x) > d.max_wi_sizes[0] ||
      static_cast<std::uint64_t>(y) > d.max_wi_sizes[1]) {
    return rule_failed("work-group shape exceeds max_wi_sizes", c);
  }
  return std::nullopt;
}

}  // namespace gemm_detail

const std::vector<GemmFamily>& gemm_families() {
  return gemm_detail::registry_infos();
}

const GemmFamily& gemm_family(std::string_view name) {
  return gemm_detail::family_impl(name).info();
}

std::vector<std::string> gemm_family_spaces(std::string_view family) {
  return gemm_detail::family_impl(family).basic_spaces();
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
                                                      const DeviceLimits& limits) {
  const auto& impl = gemm_detail::family_impl(config.family);
  const auto& f = impl.info();
  bool same_names = config.params.size() == f.params.size();
  for (std::size_t i = 0; same_names && i < f.params.size(); ++i) {
    same_names = config.params[i].first == f.params[i].name;
  }
  if (!same_names) {
    return config.family + " config must list its parameters in declared order";
  }
  return impl.invalid_reason(config, limits);
}

std::optional<std::string> gemm_config_invalid_reason(const GemmConfig& config,
                                                      const DeviceInfo& device) {
  return gemm_config_invalid_reason(config, DeviceLimits::from_device(device));
}

namespace {

GemmConfig first_valid(const std::vector<GemmConfig>& prefs, const DeviceLimits& limits) {
  for (const auto& c : prefs) {
    if (!gemm_config_invalid_reason(c, limits)) return c;
  }
  return prefs.back();
}

// Valid on any device that can run a kernel at all (work-group 1x1, no local memory).
GemmConfig last_resort() {
  return GemmConfig::make("gemm.regtile",
                          {{"MR", 1}, {"NR", 4}, {"VW", 4}, {"WGM", 1}, {"WGN", 1}});
}

bool small_or_skinny(const GemmProblem& p) {
  // Where packing costs more than it saves, measured on PoCL/CPU (docs/gemm.md,
  // "Defaults"): up to 512^3 of work, a depth of at most 128, or one side of C at
  // most 64 (64x4096x4096 and 4096x64x4096 included). 1024^3 and up stay packed.
  const double volume =
      static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
  return volume <= 512.0 * 512.0 * 512.0 || std::min(p.m, p.n) <= 64 || p.k <= 128;
}

}  // namespace

GemmConfig default_gemm_config(const DeviceInfo& device) {
  // Preference lists per device type; the first config valid on the device wins.
  // CPU: measured on PoCL (2-core AMD EPYC) with bench_gemm; see docs/gemm.md.
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
    // 1024^3 against 30 other regtile shapes (docs/gemm.md, "Defaults").
    prefs.push_back(GemmConfig::make("gemm.regtile",
                                     {{"MR", 6}, {"NR", 16}, {"VW", 16}, {"WGM", 16}, {"WGN", 1}}));
  }
  prefs.push_back(last_resort());
  return first_valid(prefs, DeviceLimits::from_device(device));
}

GemmConfig default_gemm_config(const DeviceInfo& device, const GemmProblem& problem) {
  // Only CPU devices have direct-family measurements so far; every other device type
  // keeps its size-independent default until it is measured (the tuner finds the best
  // family per shape on any device anyway).
  // Row-major n,t and column-major t,n make the direct kernel gather op(B) element by
  // element: 8 GFLOP/s at 512^3 against 199 for packed regtile, so those stay packed.
  const GemmProblem resolved = problem.resolved();
  if (!device.is_cpu() || !small_or_skinny(problem) || gemm_detail::direct_gathers(resolved)) {
    return default_gemm_config(device);
  }
  // The widest column tile that fits the kernel's N keeps every tile on the vector-load
  // path (a tile wider than N gathers). PoCL names its CPU device after the LLVM target
  // ("pthread-skylake-avx512-..."): with AVX-512's 32 registers of 16 floats an 8x32 tile
  // at VW 16 (16 accumulators) measured best. Elsewhere (AVX2 or unknown; not measured
  // here) 6 rows x 16 columns at VW 8 is 12 accumulators, which with the B vectors and
  // the broadcast fit 16 registers.
  const bool avx512 = device.name.find("avx512") != std::string::npos;
  const bool swapped = gemm_detail::direct_swaps_operands(resolved);
  const std::int64_t kernel_n = swapped ? problem.m : problem.n;
  const std::int64_t kernel_m = swapped ? problem.n : problem.m;
  const std::int64_t widest = avx512 ? 32 : 16;
  std::int64_t nr = 4;
  while (nr * 2 <= widest && nr * 2 <= kernel_n) nr *= 2;
  const std::int64_t vw = std::min<std::int64_t>(nr, avx512 ? 16 : 8);
  const std::int64_t mr = avx512 ? 8 : 6;
  // Up to 8 row tiles per work-group run back to back on one core and share their B
  // strip from cache (+30-80% at 64x4096x4096 and 4096x64x4096), but never so many that
  // fewer than two work-groups per compute unit remain (32x32x8192 has 4 row tiles).
  const auto tiles_m = static_cast<std::int64_t>(gemm_detail::ceil_div(kernel_m, mr));
  const auto tiles_n = static_cast<std::int64_t>(gemm_detail::ceil_div(kernel_n, nr));
  const auto units = static_cast<std::int64_t>(std::max<std::uint32_t>(device.compute_units, 1));
  std::int64_t wgm = 8;
  while (wgm > 1 &&
         static_cast<std::int64_t>(gemm_detail::ceil_div(tiles_m, wgm)) * tiles_n < 2 * units) {
    wgm /= 2;
  }
  // When C is two column tiles wide, both tiles of a row strip share one work-group
  // instead: they run back to back and the second reads the strip's MR rows of A from
  // cache (A is most of the traffic there: 94 -> 180 GFLOP/s at 3000x20x3000, 105 -> 140
  // at 4096x64x4096, where WGM 8 with it measured slower than WGM 1).
  std::int64_t wgn = 1;
  if (tiles_n == 2) {
    wgn = 2;
    wgm = 1;
  }
  std::vector<GemmConfig> prefs = {
      GemmConfig::make("gemm.direct",
                       {{"MR", mr}, {"NR", nr}, {"VW", vw}, {"WGM", wgm}, {"WGN", wgn}}),
      GemmConfig::make("gemm.direct",
                       {{"MR", 4}, {"NR", nr}, {"VW", std::min<std::int64_t>(nr, 8)}}),
      default_gemm_config(device)};
  return first_valid(prefs, DeviceLimits::from_device(device));
}

}  // namespace clgauge
