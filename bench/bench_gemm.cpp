// Square SGEMM side by side on one machine: clgauge's default config, CLBlast's Gemm on
// the same OpenCL device, and OpenBLAS cblas_sgemm on the host. GFLOP/s counters.
// Every contender is timed the same way: wall clock from the call until its work is
// finished (clFinish for the OpenCL ones), so multi-kernel paths are fully counted.
//
//   build/release/bench/bench_gemm --benchmark_min_time=2

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <clblast.h>

#include <memory>
#include <vector>

#include <boost/compute/buffer.hpp>

#include "clgauge/gemm.hpp"
#include "clgauge/parity.hpp"

namespace bc = boost::compute;

namespace {

struct Fixture {
  clgauge::Device device = clgauge::Device::open();
  clgauge::ProgramCache cache = clgauge::ProgramCache::from_environment();
};

Fixture* fixture() {
  static std::unique_ptr<Fixture> f = []() -> std::unique_ptr<Fixture> {
    if (clgauge::list_devices().empty()) return nullptr;
    return std::make_unique<Fixture>();
  }();
  return f.get();
}

clgauge::GemmProblem square(std::int64_t n) {
  clgauge::GemmProblem p;
  p.m = p.n = p.k = n;
  return p.resolved();
}

void flops_counter(benchmark::State& state, const clgauge::GemmProblem& p) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(p.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_clgauge_default(benchmark::State& state) {
  auto* f = fixture();
  if (!f) return state.SkipWithError("no OpenCL device");
  const auto p = square(state.range(0));
  const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
  auto buf = clgauge::upload_gemm_inputs(f->device, h);
  const auto config = clgauge::default_gemm_config(f->device.info());
  clgauge::GemmKernel kernel(f->device, f->cache, config);
  kernel.run(p, buf.a, buf.b, buf.c);  // first launch, not counted
  for (auto _ : state) {
    kernel.run(p, buf.a, buf.b, buf.c);  // returns when the GEMM has finished
  }
  state.SetLabel(config.canonical());
  flops_counter(state, p);
}

void BM_clblast(benchmark::State& state) {
  auto* f = fixture();
  if (!f) return state.SkipWithError("no OpenCL device");
  const auto p = square(state.range(0));
  const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
  auto buf = clgauge::upload_gemm_inputs(f->device, h);
  cl_command_queue q = f->device.queue().get();
  auto call = [&]() {
    cl_event ev = nullptr;
    const auto status = clblast::Gemm<float>(
        clblast::Layout::kRowMajor, clblast::Transpose::kNo, clblast::Transpose::kNo,
        static_cast<size_t>(p.m), static_cast<size_t>(p.n), static_cast<size_t>(p.k), p.alpha,
        buf.a.get(), 0, static_cast<size_t>(p.lda), buf.b.get(), 0, static_cast<size_t>(p.ldb),
        p.beta, buf.c.get(), 0, static_cast<size_t>(p.ldc), &q, &ev);
    if (status != clblast::StatusCode::kSuccess) return false;
    clReleaseEvent(ev);
    f->device.queue().finish();
    return true;
  };
  if (!call()) return state.SkipWithError("CLBlast Gemm failed");  // compiles its kernels
  for (auto _ : state) {
    if (!call()) return state.SkipWithError("CLBlast Gemm failed");
  }
  flops_counter(state, p);
}

void BM_openblas(benchmark::State& state) {
  const auto p = square(state.range(0));
  const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
  std::vector<float> c = h.c;
  const auto n = static_cast<blasint>(p.m);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, p.alpha, h.a.data(), n,
                h.b.data(), n, p.beta, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  flops_counter(state, p);
}

// The bit-exact CPU reference that every parity check runs (not a contender: it keeps
// the canonical k order, but must check n = 2048 in seconds).
void BM_cpu_reference_canonical(benchmark::State& state) {
  const auto p = square(state.range(0));
  const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
  std::vector<float> c = h.c;
  for (auto _ : state) {
    clgauge::gemm_reference_canonical(p, h.a, h.b, c);
    benchmark::DoNotOptimize(c.data());
  }
  flops_counter(state, p);
}

BENCHMARK(BM_clgauge_default)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_clblast)->Arg(512)->Arg(1024)->Arg(2048)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_openblas)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_cpu_reference_canonical)->Arg(2048)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
