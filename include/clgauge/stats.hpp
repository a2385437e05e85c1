#pragma once
// Summary statistics of timing samples.

#include <vector>

namespace clgauge {

struct SampleStats {
  std::size_t count = 0;
  double median = 0;  // mean of the two middle values for an even count
  double min = 0;
  double max = 0;
  double p10 = 0;  // linear interpolation between order statistics
  double p90 = 0;
  double mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1)
  double cv = 0;      // stddev / mean, 0 when mean is 0
  bool operator==(const SampleStats&) const = default;
};

// Throws Error(bad_input) for an empty sample.
SampleStats summarize(std::vector<double> samples);

}  // namespace clgauge
