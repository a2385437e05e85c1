#include "clgauge/baselines.hpp"

#include <cblas.h>
#include <clblast.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "runtime/json_io.hpp"

namespace clgauge {
namespace {

double since_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Error bad_params(std::string_view source, const std::string& field, const std::string& why) {
  return Error(ReasonCode::bad_input, std::string(source) + ": " + field + ": " + why);
}

std::string status_text(clblast::StatusCode s) {
  return std::to_string(static_cast<int>(s));
}

using ParamList = std::vector<std::pair<std::string, std::size_t>>;

ParamList retrieve(Device& device, const std::string& kernel) {
  std::unordered_map<std::string, std::size_t> map;
  const auto status =
      clblast::RetrieveParameters(device.device().id(), kernel, clblast::Precision::kSingle, map);
  if (status != clblast::StatusCode::kSuccess) {
    throw Error(ReasonCode::launch_failed, "CLBlast RetrieveParameters(" + kernel +
                                               ") returned status " + status_text(status));
  }
  ParamList out(map.begin(), map.end());
  std::sort(out.begin(), out.end());  // by name: never the map's iteration order
  return out;
}

void override_params(Device& device, const std::string& kernel, const ParamList& params,
                     const std::string& source) {
  const std::unordered_map<std::string, std::size_t> map(params.begin(), params.end());
  const auto status =
      clblast::OverrideParameters(device.device().id(), kernel, clblast::Precision::kSingle, map);
  if (status == clblast::StatusCode::kMissingOverrideParameter) {
    std::string missing;
    for (const auto& [name, value] : retrieve(device, kernel)) {
      if (map.count(name) == 0) missing += (missing.empty() ? "" : " ") + name;
    }
    throw Error(ReasonCode::bad_input,
                source + ": best_parameters: CLBlast's " + kernel + " also needs " +
                    (missing.empty() ? std::string("more parameters") : missing));
  }
  if (status != clblast::StatusCode::kSuccess) {
    throw Error(ReasonCode::launch_failed, "CLBlast OverrideParameters(" + kernel +
                                               ") returned status " + status_text(status));
  }
}

}  // namespace

LaunchTiming clblast_gemm(Device& device, const GemmProblem& problem, GemmDeviceBuffers& buffers) {
  const GemmProblem p = problem.resolved();
  const auto layout =
      p.layout == Layout::row ? clblast::Layout::kRowMajor : clblast::Layout::kColMajor;
  auto op = [](Op o) { return o == Op::n ? clblast::Transpose::kNo : clblast::Transpose::kYes; };
  cl_command_queue q = device.queue().get();
  cl_event ev = nullptr;
  const auto t0 = std::chrono::steady_clock::now();
  const auto status = clblast::Gemm<float>(
      layout, op(p.trans_a), op(p.trans_b), static_cast<size_t>(p.m), static_cast<size_t>(p.n),
      static_cast<size_t>(p.k), p.alpha, buffers.a.get(), static_cast<size_t>(p.offset_a),
      static_cast<size_t>(p.lda), buffers.b.get(), static_cast<size_t>(p.offset_b),
      static_cast<size_t>(p.ldb), p.beta, buffers.c.get(), static_cast<size_t>(p.offset_c),
      static_cast<size_t>(p.ldc), &q, &ev);
  if (status != clblast::StatusCode::kSuccess) {
    throw Error(ReasonCode::launch_failed, "CLBlast Gemm on " + p.shape() + " returned status " +
                                               std::to_string(static_cast<int>(status)));
  }
  boost::compute::event event(ev, false);
  event.wait();
  LaunchTiming t;
  t.host_ms = since_ms(t0);
  // CLBlast may enqueue several kernels (pad, transpose, GEMM) and its event covers only
  // the last one, so device time would flatter it: it is timed call to finish instead.
  t.kernel_ms = event_ms(event);
  t.device_ms = t.host_ms;
  return t;
}

LaunchTiming openblas_gemm(const GemmProblem& problem, const GemmHostData& in,
                           std::vector<float>& c) {
  const GemmProblem p = problem.resolved();
  constexpr auto kMax = static_cast<std::int64_t>(std::numeric_limits<blasint>::max());
  for (std::int64_t v : {p.m, p.n, p.k, p.lda, p.ldb, p.ldc}) {
    if (v > kMax) {
      throw Error(ReasonCode::bad_input,
                  "OpenBLAS: dimension " + std::to_string(v) + " exceeds its integer type");
    }
  }
  const auto order = p.layout == Layout::row ? CblasRowMajor : CblasColMajor;
  auto op = [](Op o) { return o == Op::n ? CblasNoTrans : CblasTrans; };
  const auto t0 = std::chrono::steady_clock::now();
  cblas_sgemm(order, op(p.trans_a), op(p.trans_b), static_cast<blasint>(p.m),
              static_cast<blasint>(p.n), static_cast<blasint>(p.k), p.alpha,
              in.a.data() + p.offset_a, static_cast<blasint>(p.lda), in.b.data() + p.offset_b,
              static_cast<blasint>(p.ldb), p.beta, c.data() + p.offset_c,
              static_cast<blasint>(p.ldc));
  LaunchTiming t;
  t.host_ms = t.device_ms = t.kernel_ms = since_ms(t0);
  return t;
}

std::string ClblastParams::params_text() const {
  std::string out;
  for (const auto& [name, value] : params) {
    out += (out.empty() ? "" : " ") + name + "=" + std::to_string(value);
  }
  return out;
}

ClblastParams parse_clblast_params(std::string_view json_text, std::string_view source) {
  const auto doc = io::parse_json<nlohmann::ordered_json>(json_text, source);
  if (!doc.is_object()) {
    throw bad_params(source, "(top level)", "want a JSON object as clblast_tuner_xgemm writes");
  }
  auto text = [&](const char* field, bool required) -> std::string {
    const auto it = doc.find(field);
    if (it == doc.end()) {
      if (required) throw bad_params(source, field, "missing (not a CLBlast tuner output?)");
      return {};
    }
    if (!it->is_string()) throw bad_params(source, field, "want a string, got " + io::excerpt(*it));
    return it->get<std::string>();
  };
  ClblastParams p;
  p.source = std::string(source);
  p.kernel_family = text("kernel_family", true);
  const std::string precision = text("precision", true);
  if (precision != "32") {
    throw bad_params(source, "precision",
                     "'" + io::excerpt_text(precision) +
                         "': clgauge compares float32 GEMM (tune with -precision 32)");
  }
  // The kernel family names CLBlast's parameter database: "xgemm_<V>" tunes "Xgemm",
  // "xgemm_direct_<V>" tunes "XgemmDirect", whose best_kernel is the entry point that ran
  // (XgemmDirectNN, XgemmDirectTN, ...).
  auto variant = [&](std::string_view prefix) {
    if (p.kernel_family.rfind(prefix, 0) != 0 || p.kernel_family.size() == prefix.size()) {
      return false;
    }
    return std::all_of(p.kernel_family.begin() + static_cast<std::ptrdiff_t>(prefix.size()),
                       p.kernel_family.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (variant("xgemm_direct_")) {
    p.kernel = "XgemmDirect";
  } else if (variant("xgemm_")) {
    p.kernel = "Xgemm";
  } else {
    throw bad_params(source, "kernel_family",
                     "'" + io::excerpt_text(p.kernel_family) +
                         "': want xgemm_<V> or xgemm_direct_<V> (clblast_tuner_xgemm or "
                         "clblast_tuner_xgemm_direct output)");
  }
  const std::string best = text("best_kernel", true);
  if (p.kernel == "Xgemm" ? best != "Xgemm" : best.rfind("XgemmDirect", 0) != 0) {
    throw bad_params(source, "best_kernel",
                     "'" + io::excerpt_text(best) + "' does not belong to kernel family '" +
                         p.kernel_family + "'");
  }
  p.device = text("device", false);
  auto number = [&](const char* field, auto& out) {
    const std::string t = text(field, false);
    if (t.empty()) return;
    using T = std::remove_reference_t<decltype(out)>;
    T v{};
    const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc{} || r.ptr != t.data() + t.size()) {
      throw bad_params(source, field, "'" + io::excerpt_text(t) + "' is not a number");
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v) || v < 0) {
        throw bad_params(source, field, "'" + io::excerpt_text(t) + "' is not a time");
      }
    } else {
      if (v < 1) throw bad_params(source, field, "'" + io::excerpt_text(t) + "' is not a size");
    }
    out = v;
  };
  number("best_time", p.best_time_ms);
  number("arg_m", p.m);
  number("arg_n", p.n);
  number("arg_k", p.k);
  const std::string list = text("best_parameters", true);
  std::size_t pos = 0;
  while (pos < list.size()) {
    if (list[pos] == ' ') {
      ++pos;
      continue;
    }
    const std::size_t end = std::min(list.find(' ', pos), list.size());
    const std::string item = list.substr(pos, end - pos);
    pos = end;
    const auto eq = item.find('=');
    const std::string name = eq == std::string::npos ? item : item.substr(0, eq);
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (eq == std::string::npos || !name_ok) {
      throw bad_params(source, "best_parameters",
                       "'" + io::excerpt_text(item) + "': want NAME=VALUE (upper-case name)");
    }
    const std::string value = item.substr(eq + 1);
    std::size_t v = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || r.ec != std::errc{} || r.ptr != value.data() + value.size()) {
      throw bad_params(source, "best_parameters",
                       "'" + io::excerpt_text(item) + "': value is not a non-negative integer");
    }
    const bool seen = std::any_of(p.params.begin(), p.params.end(),
                                  [&](const auto& kv) { return kv.first == name; });
    if (seen || (name == "PRECISION" && v != 32)) {
      throw bad_params(source, "best_parameters",
                       "'" + io::excerpt_text(item) +
                           "': " + (seen ? "given twice" : "precision other than 32"));
    }
    if (name != "PRECISION") p.params.emplace_back(name, v);
  }
  if (p.params.empty()) throw bad_params(source, "best_parameters", "no parameters");
  return p;
}

ClblastParams load_clblast_params(const std::string& file) {
  return parse_clblast_params(io::read_input_file(file, "--clblast-params", 64u << 20), file);
}

std::vector<std::pair<std::string, std::size_t>> clblast_parameters(Device& device,
                                                                    const std::string& kernel) {
  return retrieve(device, kernel);
}

ClblastOverride::ClblastOverride(Device& device, const ClblastParams& params)
    : device_(&device), kernel_(params.kernel), previous_(retrieve(device, params.kernel)) {
  override_params(device, params.kernel, params.params, params.source);
}

ClblastOverride::~ClblastOverride() {
  // Putting back parameters CLBlast itself reported cannot be refused; if it is, the next
  // CLBlast call in this process keeps the override, which is all that can happen here.
  const std::unordered_map<std::string, std::size_t> map(previous_.begin(), previous_.end());
  (void)clblast::OverrideParameters(device_->device().id(), kernel_, clblast::Precision::kSingle,
                                    map);
}

std::string clblast_gemm_kernel(Device& device, const GemmProblem& problem) {
  std::size_t min_indirect = 0;
  for (const auto& [name, value] : retrieve(device, "GemmRoutine")) {
    if (name == "XGEMM_MIN_INDIRECT_SIZE") min_indirect = value;
  }
  // CLBlast 1.5: direct when m * n * k < XGEMM_MIN_INDIRECT_SIZE^3 (unsigned long long).
  const auto mnk = static_cast<unsigned long long>(problem.m) *
                   static_cast<unsigned long long>(problem.n) *
                   static_cast<unsigned long long>(problem.k);
  const auto s = static_cast<unsigned long long>(min_indirect);
  return mnk < s * s * s ? "XgemmDirect" : "Xgemm";
}

}  // namespace clgauge
