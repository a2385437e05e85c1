#include "clgauge/measure.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "clgauge/error.hpp"

namespace clgauge {
namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

double mad_ratio(std::span<const double> samples) {
  if (samples.empty()) return 0;
  const std::vector<double> v(samples.begin(), samples.end());
  const double med = median_of(v);
  if (med == 0) return 0;
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) dev.push_back(std::fabs(x - med));
  return median_of(std::move(dev)) / med;
}

double GemmMeasurement::gflops_median(const GemmProblem& problem) const {
  if (device_ms.empty()) return 0;
  const double ms = device_stats().median;
  return ms > 0 ? problem.flops() / (ms * 1e6) : 0;
}

GemmMeasurement measure_launches(const LaunchFn& launch, const MeasureOptions& options) {
  if (options.min_runs < 1 || options.max_runs < options.min_runs || options.warmup < 0) {
    throw Error(ReasonCode::bad_input, "measure: need 1 <= min_runs <= max_runs and warmup >= 0");
  }
  GemmMeasurement m;
  auto run_once = [&](bool counted, bool first) {
    const LaunchTiming t = launch();
    if (first) {
      m.first_launch_ms = t.device_ms;
      m.first_launch_host_ms = t.host_ms;
    }
    if (counted) {
      m.device_ms.push_back(t.device_ms);
      m.host_ms.push_back(t.host_ms);
      m.kernel_ms.push_back(t.kernel_ms);
      m.pack_ms.push_back(t.pack_ms);
    }
  };
  for (int w = 0; w < options.warmup; ++w) run_once(false, w == 0);
  int target = options.min_runs;
  while (true) {
    while (static_cast<int>(m.device_ms.size()) < target) {
      run_once(true, options.warmup == 0 && m.device_ms.empty());
      if (options.abandon_ms > 0 && static_cast<int>(m.device_ms.size()) == options.abandon_after &&
          median_of(m.device_ms) > options.abandon_ms) {
        m.abandoned = true;
        m.mad_ratio = mad_ratio(m.device_ms);
        return m;
      }
    }
    m.mad_ratio = mad_ratio(m.device_ms);
    if (options.fixed_runs || m.mad_ratio <= options.max_mad_ratio || target >= options.max_runs) {
      return m;
    }
    target = std::min(target * 2, options.max_runs);
  }
}

GemmMeasurement measure_gemm(GemmKernel& kernel, Device& device, const GemmProblem& problem,
                             GemmDeviceBuffers& buffers, std::span<const float> c_in,
                             const MeasureOptions& options) {
  const bool rewrite_c = problem.beta != 0.0f;
  auto& q = device.queue();
  return measure_launches(
      [&] {
        if (rewrite_c) {
          q.enqueue_write_buffer(buffers.c, 0, c_in.size() * sizeof(float), c_in.data());
        }
        const auto t0 = std::chrono::steady_clock::now();
        const GemmTiming t = kernel.run(problem, buffers.a, buffers.b, buffers.c);
        const double host =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        return LaunchTiming{t.total_ms, host, t.kernel_ms, t.pack_ms};
      },
      options);
}

}  // namespace clgauge
