#include "clgauge/baselines.hpp"

#include <cblas.h>
#include <clblast.h>

#include <chrono>
#include <limits>
#include <string>

#include "clgauge/error.hpp"

namespace clgauge {
namespace {

double since_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
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

}  // namespace clgauge
