#pragma once
// Timing a compiled GEMM config on a problem: the one measurement routine that
// `clgauge gemm`, the tuner's workers and the benchmarks share.
//
// Protocol: `warmup` uncounted launches, then counted launches timed by OpenCL profiling
// events (first kernel start to last kernel end, packing included) and by the host clock
// (enqueue to finish: what a caller pays). Stopping rule: `min_runs` runs; while
// MAD / median > `max_mad_ratio`, double the runs, up to `max_runs`. Early abandonment:
// after `abandon_after` counted runs whose median exceeds `abandon_ms`, stop.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "clgauge/gemm.hpp"
#include "clgauge/parity.hpp"
#include "clgauge/stats.hpp"

namespace clgauge {

struct MeasureOptions {
  int warmup = 1;               // uncounted launches (the first one is reported apart)
  int min_runs = 7;             // screening runs
  int max_runs = 31;            // cap of the doubling rule
  double max_mad_ratio = 0.05;  // MAD / median above this doubles the runs
  bool fixed_runs = false;      // exactly min_runs, no doubling (clgauge gemm --runs)
  double abandon_ms = 0;        // > 0: abandon when the first runs' median exceeds this
  int abandon_after = 3;        // counted runs before abandonment is judged
};

struct GemmMeasurement {
  std::vector<double> device_ms;  // each counted run: device time, events
  std::vector<double> host_ms;    // each counted run: enqueue to finish, host clock
  std::vector<double> kernel_ms;  // each counted run: the GEMM kernel alone
  std::vector<double> pack_ms;    // each counted run: the packing kernels
  double first_launch_ms = 0;     // device time of the first launch (a warm-up)
  double first_launch_host_ms = 0;
  bool abandoned = false;
  double mad_ratio = 0;  // MAD / median of device_ms when the rule stopped

  SampleStats device_stats() const { return summarize(device_ms); }
  // 2mnk / median device time.
  double gflops_median(const GemmProblem& problem) const;
};

// Median absolute deviation from the median, divided by the median (0 for a 0 median).
double mad_ratio(std::span<const double> samples);

// One launch of anything being timed (a config, CLBlast, a host BLAS).
struct LaunchTiming {
  double device_ms = 0;  // device time (events); host libraries report host time here
  double host_ms = 0;    // call to finish, host clock
  double kernel_ms = 0;  // the main kernel alone, when known
  double pack_ms = 0;    // packing kernels, when any
};
using LaunchFn = std::function<LaunchTiming()>;

// The protocol above for any launch function.
GemmMeasurement measure_launches(const LaunchFn& launch, const MeasureOptions& options);

// Runs `kernel` on the uploaded problem. When beta != 0, C is rewritten from `c_in`
// before each launch (outside the timed span) so every launch computes the same thing.
// Throws what GemmKernel::run throws.
GemmMeasurement measure_gemm(GemmKernel& kernel, Device& device, const GemmProblem& problem,
                             GemmDeviceBuffers& buffers, std::span<const float> c_in,
                             const MeasureOptions& options);

}  // namespace clgauge
