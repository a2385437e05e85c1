// Layered propagation: device path vs the single-threaded CPU reference, on R-MAT
// graphs and on a batch of 1,000 small graphs. Counters: edges_per_s = graph edges
// (the whole input, summed over the batch) per second of one full call, so the device
// figure includes validation, the upload, the device building the in-CSR, every
// layer's launches and the read-back. The device also reports prepare_ms / upload_ms /
// csr_ms / kernel_ms per call.
// BM_DevicePrepared keeps the graphs on the device (PropagateDeviceBatch) and times
// only the per-seed-set work. process_cpu_ms is the CPU time of the whole process per
// call, every thread counted (the OpenCL runtime's workers too): on a machine shared
// with other work, where wall time depends on how many cores the run was given, it
// compares the work each path does.
//
//   CLGAUGE_CACHE_DIR=/tmp/prop-cache build/release/bench/bench_propagate

#include <benchmark/benchmark.h>

#include <ctime>
#include <map>
#include <optional>

#include "clgauge/propagate.hpp"
#include "clgauge/random.hpp"

namespace {

using namespace clgauge;

struct Case {
  std::vector<Graph> graphs;
  std::vector<Seeds> seeds;
  std::int64_t edges = 0;
};

Seeds pick_seeds(std::uint64_t seed, std::int32_t n, int k) {
  Seeds s;
  for (int i = 0; i < k; ++i) {
    const double u =
        (static_cast<double>(random_element(seed, 2 * i, Distribution::uniform)) + 1.0) * 0.5;
    s.nodes.push_back(static_cast<std::int32_t>(u * n) % n);
    s.weights.push_back(1.0f + random_element(seed, 2 * i + 1, Distribution::uniform));
  }
  return s;
}

// Cached per (nodes, edges, graphs): generating 10^7 edges takes seconds.
const Case& rmat_case(std::int64_t nodes, std::int64_t edges, std::int64_t count) {
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, Case> cache;
  auto& c = cache[{nodes, edges, count}];
  if (c.graphs.empty()) {
    for (std::int64_t i = 0; i < count; ++i) {
      const auto seed = static_cast<std::uint64_t>(1000 + i);
      c.graphs.push_back(generate_rmat(static_cast<std::int32_t>(nodes), edges, seed));
      c.seeds.push_back(pick_seeds(seed, static_cast<std::int32_t>(nodes), count > 1 ? 2 : 16));
      c.edges += edges;
    }
  }
  return c;
}

PropagateParams bench_params() {
  PropagateParams p;
  p.rate = 0.5f;
  p.radius_cap = 4;
  p.iter_cap_layers = 4;
  return p;
}

Device* device() {
  static std::optional<Device> dev;
  if (!dev && !list_devices().empty()) dev = Device::open();
  return dev ? &*dev : nullptr;
}

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

// Process CPU time over the timed loop, per iteration (call it before and after).
struct ProcessCpu {
  double start = process_cpu_ms();
  void report(benchmark::State& state) const {
    state.counters["process_cpu_ms"] =
        (process_cpu_ms() - start) / static_cast<double>(state.iterations());
  }
};

void report(benchmark::State& state, const Case& c) {
  state.counters["edges_per_s"] =
      benchmark::Counter(static_cast<double>(c.edges) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["graphs"] = static_cast<double>(c.graphs.size());
  state.counters["edges"] = static_cast<double>(c.edges);
}

void BM_Cpu(benchmark::State& state) {
  const Case& c = rmat_case(state.range(0), state.range(1), state.range(2));
  const auto p = bench_params();
  const ProcessCpu cpu;
  for (auto _ : state) benchmark::DoNotOptimize(propagate_batch_cpu(c.graphs, c.seeds, p));
  cpu.report(state);
  report(state, c);
}

void BM_Device(benchmark::State& state) {
  Device* dev = device();
  if (!dev) {
    state.SkipWithError("no OpenCL device");
    return;
  }
  const Case& c = rmat_case(state.range(0), state.range(1), state.range(2));
  const auto p = bench_params();
  const auto cache = ProgramCache::from_environment();
  DeviceTiming t, sum;
  const ProcessCpu cpu;
  for (auto _ : state) {
    benchmark::DoNotOptimize(propagate_batch_device(*dev, cache, c.graphs, c.seeds, p, &t));
    sum.prepare_ms += t.prepare_ms;
    sum.kernel_ms += t.kernel_ms;
    sum.upload_ms += t.upload_ms;
    sum.build_ms += t.build_ms;
    sum.csr_ms += t.csr_ms;
  }
  cpu.report(state);
  report(state, c);
  const double n = static_cast<double>(state.iterations());
  state.counters["prepare_ms"] = sum.prepare_ms / n;
  state.counters["upload_ms"] = sum.upload_ms / n;
  state.counters["kernel_ms"] = sum.kernel_ms / n;
  state.counters["build_ms"] = sum.build_ms / n;
  state.counters["csr_ms"] = sum.csr_ms / n;
  state.counters["layers"] = t.layers;
}

// The steady state: graphs packed and uploaded once, then one call per seed set.
void BM_DevicePrepared(benchmark::State& state) {
  Device* dev = device();
  if (!dev) {
    state.SkipWithError("no OpenCL device");
    return;
  }
  const Case& c = rmat_case(state.range(0), state.range(1), state.range(2));
  const auto p = bench_params();
  PropagateDeviceBatch batch(*dev, ProgramCache::from_environment(), c.graphs);
  DeviceTiming t, sum;
  const ProcessCpu cpu;
  for (auto _ : state) {
    benchmark::DoNotOptimize(batch.run(c.seeds, p, &t));
    sum.prepare_ms += t.prepare_ms;
    sum.kernel_ms += t.kernel_ms;
  }
  cpu.report(state);
  report(state, c);
  const double n = static_cast<double>(state.iterations());
  state.counters["prepare_ms"] = sum.prepare_ms / n;
  state.counters["kernel_ms"] = sum.kernel_ms / n;
  state.counters["layers"] = t.layers;
}

// Args: nodes, edges per graph, graphs.
void sizes(benchmark::internal::Benchmark* b) {
  b->Args({10000, 100000, 1})->Args({100000, 1000000, 1})->Args({1000000, 10000000, 1});
  b->Args({200, 1000, 1000});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_Cpu)->Apply(sizes);
BENCHMARK(BM_Device)->Apply(sizes);
BENCHMARK(BM_DevicePrepared)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
