// CPU GEMM references. This file is compiled with -ffp-contract=off (library-wide):
// every fused multiply-add here is an explicit std::fma.

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "clgauge/error.hpp"
#include "clgauge/parity.hpp"

namespace clgauge {
namespace {

// op(A) as a row-major m x k array and op(B) as a row-major k x n array.
struct Dense {
  std::vector<float> a;
  std::vector<float> b;
};

void check_spans(const GemmProblem& p, std::size_t a, std::size_t b, std::size_t c) {
  if (a < p.a_elements() || b < p.b_elements() || c < p.c_elements()) {
    throw Error(ReasonCode::bad_input,
                "reference GEMM " + p.shape() + ": a buffer is smaller than the problem needs");
  }
}

Dense densify(const GemmProblem& p, std::span<const float> a, std::span<const float> b) {
  Dense d;
  d.a.resize(static_cast<std::size_t>(p.m * p.k));
  d.b.resize(static_cast<std::size_t>(p.k * p.n));
  for (std::int64_t i = 0; i < p.m; ++i)
    for (std::int64_t q = 0; q < p.k; ++q)
      d.a[static_cast<std::size_t>(i * p.k + q)] = a[p.a_index(i, q)];
  for (std::int64_t q = 0; q < p.k; ++q)
    for (std::int64_t j = 0; j < p.n; ++j)
      d.b[static_cast<std::size_t>(q * p.n + j)] = b[p.b_index(q, j)];
  return d;
}

// Runs body(row_begin, row_end) over [0, rows) on up to hardware_concurrency threads.
template <typename Body>
void parallel_rows(std::int64_t rows, std::int64_t min_work_rows, Body body) {
  const auto hw = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  const std::int64_t threads =
      std::clamp<std::int64_t>(rows / std::max<std::int64_t>(1, min_work_rows), 1, hw);
  if (threads == 1) {
    body(0, rows);
    return;
  }
  std::vector<std::thread> pool;
  const std::int64_t chunk = (rows + threads - 1) / threads;
  for (std::int64_t t = 0; t < threads; ++t) {
    const std::int64_t lo = t * chunk, hi = std::min(rows, lo + chunk);
    if (lo < hi) pool.emplace_back(body, lo, hi);
  }
  for (auto& th : pool) th.join();
}

constexpr std::int64_t kColBlock = 512;

// acc_r[j] = fma(a[r], b[j], acc_r[j]) for four rows: the hot loop, vectorised across j.
// Compiled twice, once for AVX2+FMA and once generic, and picked at run time, so the
// same binary uses hardware FMA where the CPU has it; the generic copy calls the
// (correctly rounded) libm fma. Both give the same bits.
[[gnu::always_inline]] inline void fma_rows4_body(const float* __restrict__ a,
                                                  const float* __restrict__ b,
                                                  float* __restrict__ acc0,
                                                  float* __restrict__ acc1,
                                                  float* __restrict__ acc2,
                                                  float* __restrict__ acc3, std::int64_t width) {
  const float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  for (std::int64_t j = 0; j < width; ++j) {
    const float bj = b[j];
    acc0[j] = std::fma(a0, bj, acc0[j]);
    acc1[j] = std::fma(a1, bj, acc1[j]);
    acc2[j] = std::fma(a2, bj, acc2[j]);
    acc3[j] = std::fma(a3, bj, acc3[j]);
  }
}

[[gnu::target("avx2,fma")]] void fma_rows4_avx2(const float* a, const float* b, float* acc0,
                                                float* acc1, float* acc2, float* acc3,
                                                std::int64_t width) {
  fma_rows4_body(a, b, acc0, acc1, acc2, acc3, width);
}

void fma_rows4_generic(const float* a, const float* b, float* acc0, float* acc1, float* acc2,
                       float* acc3, std::int64_t width) {
  fma_rows4_body(a, b, acc0, acc1, acc2, acc3, width);
}

using FmaRows4 = void (*)(const float*, const float*, float*, float*, float*, float*, std::int64_t);

FmaRows4 pick_fma_rows4() {
  __builtin_cpu_init();
  const bool hw = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return hw ? &fma_rows4_avx2 : &fma_rows4_generic;
}

}  // namespace

void gemm_reference_canonical(const GemmProblem& problem, std::span<const float> a,
                              std::span<const float> b, std::span<float> c) {
  problem.validate();
  const GemmProblem p = problem.resolved();
  check_spans(p, a.size(), b.size(), c.size());
  const Dense d = densify(p, a, b);
  const std::int64_t K = p.k, N = p.n;
  static const FmaRows4 fma_rows4 = pick_fma_rows4();

  parallel_rows((p.m + 3) / 4, 4, [&](std::int64_t g0, std::int64_t g1) {
    std::vector<float> acc(static_cast<std::size_t>(4 * kColBlock));
    std::vector<float> a4(static_cast<std::size_t>(4 * K));
    for (std::int64_t g = g0; g < g1; ++g) {
      const std::int64_t i0 = g * 4, rows = std::min<std::int64_t>(4, p.m - i0);
      // a4[q*4 + r] = op(A)(i0 + r, q); rows past m repeat the last row (never stored).
      for (std::int64_t q = 0; q < K; ++q)
        for (std::int64_t r = 0; r < 4; ++r)
          a4[static_cast<std::size_t>(q * 4 + r)] =
              d.a[static_cast<std::size_t>(std::min(i0 + r, p.m - 1) * K + q)];
      for (std::int64_t j0 = 0; j0 < N; j0 += kColBlock) {
        const std::int64_t w = std::min(kColBlock, N - j0);
        std::fill(acc.begin(), acc.end(), 0.0f);
        float* r0 = acc.data();
        for (std::int64_t q = 0; q < K; ++q) {
          fma_rows4(a4.data() + q * 4, d.b.data() + q * N + j0, r0, r0 + kColBlock,
                    r0 + 2 * kColBlock, r0 + 3 * kColBlock, w);
        }
        for (std::int64_t r = 0; r < rows; ++r)
          for (std::int64_t jj = 0; jj < w; ++jj) {
            const float t = p.alpha * acc[static_cast<std::size_t>(r * kColBlock + jj)];
            float& out = c[p.c_index(i0 + r, j0 + jj)];
            out = (p.beta == 0.0f) ? t : std::fma(p.beta, out, t);
          }
      }
    }
  });
}

void gemm_reference_f64(const GemmProblem& problem, std::span<const float> a,
                        std::span<const float> b, std::span<const float> c_in,
                        std::span<double> out, std::span<double> abs_bound) {
  problem.validate();
  const GemmProblem p = problem.resolved();
  check_spans(p, a.size(), b.size(), c_in.size());
  const auto mn = static_cast<std::size_t>(p.m * p.n);
  if (out.size() < mn || (!abs_bound.empty() && abs_bound.size() < mn)) {
    throw Error(ReasonCode::bad_input, "reference GEMM f64: output holds fewer than m*n values");
  }
  const Dense d = densify(p, a, b);
  const double alpha = p.alpha, beta = p.beta;
  parallel_rows(p.m, 4, [&](std::int64_t i0, std::int64_t i1) {
    std::vector<double> acc(static_cast<std::size_t>(p.n)), mag(static_cast<std::size_t>(p.n));
    for (std::int64_t i = i0; i < i1; ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      std::fill(mag.begin(), mag.end(), 0.0);
      for (std::int64_t q = 0; q < p.k; ++q) {
        const double av = d.a[static_cast<std::size_t>(i * p.k + q)];
        const float* brow = d.b.data() + q * p.n;
        for (std::int64_t j = 0; j < p.n; ++j) {
          acc[static_cast<std::size_t>(j)] += av * brow[j];
          mag[static_cast<std::size_t>(j)] += std::fabs(av * brow[j]);
        }
      }
      for (std::int64_t j = 0; j < p.n; ++j) {
        const auto o = static_cast<std::size_t>(i * p.n + j);
        const auto jj = static_cast<std::size_t>(j);
        double v = alpha * acc[jj];
        double s = std::fabs(alpha) * mag[jj];
        if (p.beta != 0.0f) {  // C is not read when beta == 0
          const double cold = c_in[p.c_index(i, j)];
          v += beta * cold;
          s += std::fabs(beta) * std::fabs(cold);
        }
        out[o] = v;
        if (!abs_bound.empty()) abs_bound[o] = s;
      }
    }
  });
}

}  // namespace clgauge
