// SGEMM side by side on one machine: clgauge's size-aware default config, CLBlast's Gemm
// on the same OpenCL device, and OpenBLAS cblas_sgemm on the host. GFLOP/s counters.
// Every contender is timed the same way: wall clock from the call until its work is
// finished (clFinish for the OpenCL ones), so multi-kernel paths are fully counted.
//
//   build/release/bench/bench_gemm --benchmark_min_time=2
//
// Sweep mode (how docs/gemm.md's family table was measured): every valid config of the
// named spaces on each shape, timed by device event time (median of --runs launches
// after one warm-up), then the best config of each family and OpenBLAS re-timed
// alternately (--rounds rounds, median of each) so the ratios come from one run:
//
//   build/release/bench/bench_gemm --sweep direct_basic,regtile_basic,localtile_basic
//       --shapes 128,256,512,4096x256x64,8192x128x128,32x32x8192,3000x20x3000,64x4096x4096

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <clblast.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/compute/buffer.hpp>

#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/parity.hpp"
#include "clgauge/space.hpp"

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

clgauge::GemmProblem shape(std::int64_t m, std::int64_t n, std::int64_t k) {
  clgauge::GemmProblem p;
  p.m = m;
  p.n = n;
  p.k = k;
  return p.resolved();
}

// "512" (square) or "MxNxK".
clgauge::GemmProblem parse_shape(const std::string& s) {
  std::int64_t v[3] = {0, 0, 0};
  std::istringstream in(s);
  std::string part;
  int count = 0;
  while (count < 3 && std::getline(in, part, 'x')) v[count++] = std::stoll(part);
  if (count == 1) return shape(v[0], v[0], v[0]);
  if (count != 3 || !in.eof())
    throw clgauge::Error(clgauge::ReasonCode::bad_input, "--shapes: bad shape '" + s + "'");
  return shape(v[0], v[1], v[2]);
}

void flops_counter(benchmark::State& state, const clgauge::GemmProblem& p) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(p.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void run_clgauge(benchmark::State& state, const clgauge::GemmProblem& p,
                 const clgauge::GemmConfig& config) {
  auto* f = fixture();
  if (!f) return state.SkipWithError("no OpenCL device");
  const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
  auto buf = clgauge::upload_gemm_inputs(f->device, h);
  clgauge::GemmKernel kernel(f->device, f->cache, config);
  kernel.run(p, buf.a, buf.b, buf.c);  // first launch, not counted
  for (auto _ : state) {
    kernel.run(p, buf.a, buf.b, buf.c);  // returns when the GEMM has finished
  }
  state.SetLabel(config.canonical());
  flops_counter(state, p);
}

void BM_clgauge_default(benchmark::State& state, clgauge::GemmProblem p) {
  auto* f = fixture();
  if (!f) return state.SkipWithError("no OpenCL device");
  run_clgauge(state, p, clgauge::default_gemm_config(f->device.info(), p));
}

void BM_clblast(benchmark::State& state, clgauge::GemmProblem p) {
  auto* f = fixture();
  if (!f) return state.SkipWithError("no OpenCL device");
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

void openblas_sgemm(const clgauge::GemmProblem& p, const clgauge::GemmHostData& h,
                    std::vector<float>& c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(p.m),
              static_cast<blasint>(p.n), static_cast<blasint>(p.k), p.alpha, h.a.data(),
              static_cast<blasint>(p.lda), h.b.data(), static_cast<blasint>(p.ldb), p.beta,
              c.data(), static_cast<blasint>(p.ldc));
}

void BM_openblas(benchmark::State& state, clgauge::GemmProblem p) {
  const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
  std::vector<float> c = h.c;
  for (auto _ : state) {
    openblas_sgemm(p, h, c);
    benchmark::DoNotOptimize(c.data());
  }
  flops_counter(state, p);
}

// The bit-exact CPU reference that every parity check runs (not a contender: it keeps
// the canonical k order, but must check n = 2048 in seconds).
void BM_cpu_reference_canonical(benchmark::State& state) {
  const auto p = shape(state.range(0), state.range(0), state.range(0));
  const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
  std::vector<float> c = h.c;
  for (auto _ : state) {
    clgauge::gemm_reference_canonical(p, h.a, h.b, c);
    benchmark::DoNotOptimize(c.data());
  }
  flops_counter(state, p);
}

BENCHMARK(BM_cpu_reference_canonical)->Arg(2048)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- sweep mode --------------------------------------------------------------------

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median device time (first kernel start to last kernel end) of `runs` launches.
double time_config(clgauge::GemmKernel& kernel, const clgauge::GemmProblem& p,
                   clgauge::GemmDeviceBuffers& buf, int runs) {
  kernel.run(p, buf.a, buf.b, buf.c);  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) ms.push_back(kernel.run(p, buf.a, buf.b, buf.c).total_ms);
  return median(ms);
}

double time_openblas(const clgauge::GemmProblem& p, const clgauge::GemmHostData& h, int runs) {
  std::vector<float> c = h.c;
  openblas_sgemm(p, h, c);  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    openblas_sgemm(p, h, c);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(ms);
}

std::vector<clgauge::GemmConfig> space_configs(const std::string& name,
                                               const clgauge::DeviceInfo& info) {
  auto space = clgauge::compile_space(clgauge::find_space_file(name),
                                      clgauge::DeviceLimits::from_device(info));
  const auto names = space.space().parameter_names();
  std::vector<clgauge::GemmConfig> out;
  for (const auto& cand : space.candidates()) {
    clgauge::GemmConfig cfg{space.space().family, {}};
    for (std::size_t i = 0; i < names.size(); ++i)
      cfg.params.emplace_back(names[i], cand.values[i]);
    if (!clgauge::gemm_config_invalid_reason(cfg, info)) out.push_back(cfg);
  }
  return out;
}

int sweep(const std::vector<std::string>& spaces, const std::vector<std::string>& shapes, int runs,
          int rounds) {
  auto* f = fixture();
  if (!f) {
    std::fprintf(stderr, "no OpenCL device\n");
    return 1;
  }
  const auto& info = f->device.info();
  std::vector<clgauge::GemmConfig> configs;
  for (const auto& s : spaces) {
    auto c = space_configs(s, info);
    configs.insert(configs.end(), c.begin(), c.end());
  }
  std::map<std::string, std::unique_ptr<clgauge::GemmKernel>> kernels;  // by id
  for (const auto& cfg : configs)
    kernels[cfg.id()] = std::make_unique<clgauge::GemmKernel>(f->device, f->cache, cfg);
  const int openblas_threads = openblas_get_num_threads();
  std::printf("device: %s; %zu configs\n", info.label().c_str(), configs.size());
  for (const auto& text : shapes) {
    const auto p = parse_shape(text);
    const auto h = clgauge::make_gemm_inputs(p, 42, clgauge::Distribution::uniform);
    auto buf = clgauge::upload_gemm_inputs(f->device, h);
    // Best config per family by median device time.
    std::map<std::string, std::pair<double, clgauge::GemmConfig>> best;
    for (const auto& cfg : configs) {
      const double ms = time_config(*kernels[cfg.id()], p, buf, runs);
      std::printf("  %s %s %.4f ms %.1f GFLOP/s\n", p.shape().c_str(), cfg.canonical().c_str(), ms,
                  p.flops() * 1e-6 / ms);
      auto it = best.find(cfg.family);
      if (it == best.end() || ms < it->second.first) best[cfg.family] = {ms, cfg};
    }
    const auto dflt = clgauge::default_gemm_config(info, p);
    auto dkernel = std::make_unique<clgauge::GemmKernel>(f->device, f->cache, dflt);
    // Alternate the winners, the size-aware default and OpenBLAS.
    std::map<std::string, std::vector<double>> samples;
    for (int r = 0; r < rounds; ++r) {
      for (const auto& [fam, b] : best)
        samples[fam].push_back(time_config(*kernels[b.second.id()], p, buf, runs));
      samples["default"].push_back(time_config(*dkernel, p, buf, runs));
      openblas_set_num_threads(1);
      samples["openblas1"].push_back(time_openblas(p, h, runs));
      openblas_set_num_threads(openblas_threads);
      samples["openblas"].push_back(time_openblas(p, h, runs));
    }
    // OpenBLAS with all cores (the reference) and with one thread: on a machine shared
    // with other work its threads wait on each other, so the faster of the two is the
    // baseline the ratios use (never flattering clgauge).
    const double blas_all = median(samples["openblas"]);
    const double blas_one = median(samples["openblas1"]);
    const double blas = std::min(blas_all, blas_one);
    std::printf("shape %s: openblas %.1f GFLOP/s (%d threads), %.1f (1 thread)\n",
                p.shape().c_str(), p.flops() * 1e-6 / blas_all, openblas_threads,
                p.flops() * 1e-6 / blas_one);
    for (const auto& [fam, b] : best) {
      const double ms = median(samples[fam]);
      std::printf("shape %s: best %s %.1f GFLOP/s (%.2fx openblas) %s\n", p.shape().c_str(),
                  fam.c_str(), p.flops() * 1e-6 / ms, blas / ms, b.second.canonical().c_str());
    }
    const double dms = median(samples["default"]);
    std::printf("shape %s: default %.1f GFLOP/s (%.2fx openblas) %s\n", p.shape().c_str(),
                p.flops() * 1e-6 / dms, blas / dms, dflt.canonical().c_str());
    std::fflush(stdout);
  }
  return 0;
}

const std::vector<std::string>& default_shapes() {
  static const std::vector<std::string> s = {"128",        "256",          "512",
                                             "1024",       "4096x256x64",  "8192x128x128",
                                             "32x32x8192", "3000x20x3000", "64x4096x4096"};
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_gemm: clgauge vs CLBlast vs OpenBLAS"};
  app.allow_extras();  // the rest goes to Google Benchmark
  std::vector<std::string> spaces;
  std::vector<std::string> shapes = default_shapes();
  int runs = 5;
  int rounds = 3;
  app.add_option("--sweep", spaces, "spaces to sweep (comma-separated)")->delimiter(',');
  app.add_option("--shapes", shapes, "shapes: 512 or MxNxK, comma-separated")->delimiter(',');
  app.add_option("--runs", runs, "timed launches per measurement (median)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--rounds", rounds, "alternating rounds of the final comparison")
      ->check(CLI::Range(1, 100));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!spaces.empty()) return sweep(spaces, shapes, runs, rounds);

  for (const auto& text : shapes) {
    const auto p = parse_shape(text);
    const auto tag = "/" + p.shape();
    benchmark::RegisterBenchmark(("BM_clgauge_default" + tag).c_str(), BM_clgauge_default, p)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_clblast" + tag).c_str(), BM_clblast, p)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_openblas" + tag).c_str(), BM_openblas, p)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  std::vector<std::string> extra = app.remaining();
  std::vector<char*> rest;
  rest.push_back(argv[0]);
  for (auto& s : extra) rest.push_back(s.data());
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
