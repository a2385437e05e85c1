#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/parity.hpp"

namespace clgauge {
namespace {

// Maps float bits onto a line where adjacent floats differ by one; -0 and +0 share a
// point (they are equal numbers; compare_bitwise still counts them as different bits).
std::int64_t ordered(float x) {
  const auto bits = static_cast<std::int64_t>(std::bit_cast<std::uint32_t>(x));
  return bits & 0x80000000LL ? -(bits & 0x7fffffffLL) : bits;
}

// (row, col) of a buffer index of C, or (-1, -1) for padding.
std::pair<std::int64_t, std::int64_t> locate(const GemmProblem& p, std::size_t index) {
  const auto idx = static_cast<std::int64_t>(index);
  if (idx < p.offset_c) return {-1, -1};
  const std::int64_t major = (idx - p.offset_c) / p.ldc, minor = (idx - p.offset_c) % p.ldc;
  const std::int64_t rows = p.layout == Layout::row ? p.m : p.n;
  const std::int64_t cols = p.layout == Layout::row ? p.n : p.m;
  if (major >= rows || minor >= cols) return {-1, -1};
  return p.layout == Layout::row ? std::pair{major, minor} : std::pair{minor, major};
}

void note(ParityReport& r, const GemmProblem& p, std::size_t index, float got, float want) {
  const double abs = (std::isnan(got) || std::isnan(want))
                         ? std::numeric_limits<double>::infinity()
                         : std::fabs(static_cast<double>(got) - static_cast<double>(want));
  r.max_abs = std::max(r.max_abs, abs);
  if (want != 0.0f && !std::isnan(want)) {
    r.max_rel = std::max(r.max_rel, abs / std::fabs(static_cast<double>(want)));
  }
  r.max_ulp = std::max(r.max_ulp, ulp_distance(got, want));
  if (!r.first) {
    const auto [row, col] = locate(p, index);
    r.first = ParityMismatch{index, row, col, got, want};
  }
}

}  // namespace

std::uint64_t ulp_distance(float a, float b) {
  if (std::isnan(a) != std::isnan(b)) return std::numeric_limits<std::uint64_t>::max();
  if (std::isnan(a)) return 0;
  const std::int64_t d = ordered(a) - ordered(b);
  return static_cast<std::uint64_t>(d < 0 ? -d : d);
}

std::string to_json(const ParityReport& r) {
  nlohmann::ordered_json j;
  j["mode"] = r.mode;
  j["passed"] = r.passed();
  j["elements"] = r.elements;
  j["mismatches"] = r.mismatches;
  // JSON has no infinity: an unbounded error (NaN involved) is written as null.
  j["max_abs"] = std::isfinite(r.max_abs) ? nlohmann::ordered_json(r.max_abs) : nullptr;
  j["max_rel"] = std::isfinite(r.max_rel) ? nlohmann::ordered_json(r.max_rel) : nullptr;
  j["max_ulp"] = r.max_ulp;
  j["safety"] = r.safety;
  if (r.first) {
    auto f = nlohmann::ordered_json::object();
    f["index"] = r.first->index;
    f["row"] = r.first->row;
    f["col"] = r.first->col;
    f["got"] = std::isfinite(r.first->got) ? nlohmann::ordered_json(r.first->got) : nullptr;
    f["want"] = std::isfinite(r.first->want) ? nlohmann::ordered_json(r.first->want) : nullptr;
    j["first"] = f;
  } else {
    j["first"] = nullptr;
  }
  return j.dump();
}

ParityReport compare_bitwise(const GemmProblem& problem, std::span<const float> got,
                             std::span<const float> want) {
  const GemmProblem p = problem.resolved();
  if (got.size() != want.size()) {
    throw Error(ReasonCode::bad_input, "compare_bitwise: got holds " + std::to_string(got.size()) +
                                           " floats, want holds " + std::to_string(want.size()));
  }
  ParityReport r;
  r.mode = "bitwise";
  r.elements = got.size();
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(got[i]) != std::bit_cast<std::uint32_t>(want[i])) {
      ++r.mismatches;
      note(r, p, i, got[i], want[i]);
    }
  }
  return r;
}

ParityReport compare_tolerance(const GemmProblem& problem, std::span<const float> a,
                               std::span<const float> b, std::span<const float> c_in,
                               std::span<const float> got, double safety) {
  problem.validate();
  const GemmProblem p = problem.resolved();
  if (got.size() != c_in.size()) {
    throw Error(ReasonCode::bad_input, "compare_tolerance: C_out and C_in differ in length");
  }
  const auto mn = static_cast<std::size_t>(p.m * p.n);
  std::vector<double> ref(mn), scale(mn);
  gemm_reference_f64(p, a, b, c_in, ref, scale);
  const double u = std::ldexp(1.0, -24), ku = static_cast<double>(p.k) * u;
  const double gamma = ku < 1.0 ? ku / (1.0 - ku) : std::numeric_limits<double>::infinity();

  ParityReport r;
  r.mode = "tolerance";
  r.safety = safety;
  r.elements = got.size();
  std::vector<char> inside(got.size(), 0);
  for (std::int64_t i = 0; i < p.m; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) {
      const std::size_t idx = p.c_index(i, j);
      inside[idx] = 1;
      const auto o = static_cast<std::size_t>(i * p.n + j);
      const float want = static_cast<float>(ref[o]);
      const double err = std::fabs(static_cast<double>(got[idx]) - ref[o]);
      const bool ok = !std::isnan(got[idx]) && err <= gamma * scale[o] * safety;
      if (!ok) {
        ++r.mismatches;
        note(r, p, idx, got[idx], want);
      } else {
        r.max_abs = std::max(r.max_abs, err);
        if (ref[o] != 0.0) r.max_rel = std::max(r.max_rel, err / std::fabs(ref[o]));
        r.max_ulp = std::max(r.max_ulp, ulp_distance(got[idx], want));
      }
    }
  // Padding and everything outside C must come back untouched.
  for (std::size_t idx = 0; idx < got.size(); ++idx) {
    if (!inside[idx] &&
        std::bit_cast<std::uint32_t>(got[idx]) != std::bit_cast<std::uint32_t>(c_in[idx])) {
      ++r.mismatches;
      note(r, p, idx, got[idx], c_in[idx]);
    }
  }
  return r;
}

}  // namespace clgauge
