// Enumerating and counting a space of 2,000,000 raw combinations with six constraints
// (tuning/spaces/synthetic_large.json). Target: under one second for either.
//
//   ./build/release/bench/bench_enumerate

#include <benchmark/benchmark.h>

#include "clgauge/space.hpp"

namespace {

clgauge::DeviceLimits bench_limits() {
  clgauge::DeviceLimits l;
  l.local_mem_bytes = 65536;
  l.max_wg_size = 1024;
  l.max_wi_sizes = {256, 256, 64};
  l.compute_units = 32;
  l.global_mem_bytes = std::uint64_t{8} << 30;
  l.is_gpu = true;
  return l;
}

const clgauge::ParameterSpace& synthetic_space() {
  static const auto space =
      clgauge::ParameterSpace::load(clgauge::find_space_file("synthetic_large"));
  return space;
}

void set_counters(benchmark::State& state, std::uint64_t valid) {
  const auto raw = static_cast<double>(synthetic_space().raw_size());
  state.counters["raw_combinations"] = raw;
  state.counters["valid_candidates"] = static_cast<double>(valid);
  state.counters["constraints"] = static_cast<double>(synthetic_space().constraints.size());
  state.counters["raw_per_s"] =
      benchmark::Counter(raw, benchmark::Counter::kIsIterationInvariantRate);
}

// Visits every valid candidate (values only, no ids).
void BM_Enumerate(benchmark::State& state) {
  clgauge::CompiledSpace space(synthetic_space(), bench_limits());
  std::uint64_t valid = 0;
  for (auto _ : state) {
    std::uint64_t n = 0;
    std::int64_t checksum = 0;
    space.for_each([&](std::uint64_t, std::span<const std::int64_t> v) {
      ++n;
      checksum += v.back();
      return true;
    });
    benchmark::DoNotOptimize(checksum);
    valid = n;
  }
  set_counters(state, valid);
}
BENCHMARK(BM_Enumerate)->Unit(benchmark::kMillisecond);

// Counts without listing.
void BM_Count(benchmark::State& state) {
  clgauge::CompiledSpace space(synthetic_space(), bench_limits());
  std::uint64_t valid = 0;
  for (auto _ : state) {
    valid = space.count();
    benchmark::DoNotOptimize(valid);
  }
  set_counters(state, valid);
}
BENCHMARK(BM_Count)->Unit(benchmark::kMillisecond);

// One shard of eight with ids (the config-id hash per kept candidate).
void BM_ShardCandidates(benchmark::State& state) {
  clgauge::CompiledSpace space(synthetic_space(), bench_limits());
  std::uint64_t kept = 0;
  for (auto _ : state) {
    const auto c = space.candidates(clgauge::Shard{3, 8});
    kept = c.size();
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["kept"] = static_cast<double>(kept);
}
BENCHMARK(BM_ShardCandidates)->Unit(benchmark::kMillisecond);

// 20,000,000 raw combinations: the synthetic space with a tenth parameter that no
// constraint names. Counting multiplies that suffix out instead of walking it.
void BM_CountTwentyMillion(benchmark::State& state) {
  auto wide = synthetic_space();
  wide.parameters.push_back({"H", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}});
  clgauge::CompiledSpace space(wide, bench_limits());
  std::uint64_t valid = 0;
  for (auto _ : state) {
    valid = space.count();
    benchmark::DoNotOptimize(valid);
  }
  state.counters["raw_combinations"] = static_cast<double>(wide.raw_size());
  state.counters["valid_candidates"] = static_cast<double>(valid);
}
BENCHMARK(BM_CountTwentyMillion)->Unit(benchmark::kMillisecond);

// Parsing the six constraints into muParser bytecode: paid once per space.
void BM_Compile(benchmark::State& state) {
  for (auto _ : state) {
    clgauge::CompiledSpace space(synthetic_space(), bench_limits());
    benchmark::DoNotOptimize(&space);
  }
}
BENCHMARK(BM_Compile)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
