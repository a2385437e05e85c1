#include <algorithm>
#include <limits>

#include "clgauge/parity.hpp"

namespace clgauge {

GemmHostData make_gemm_inputs(const GemmProblem& problem, std::uint64_t seed, Distribution d,
                              bool nan_c_when_beta_zero) {
  problem.validate();
  const GemmProblem p = problem.resolved();
  GemmHostData h;
  h.a.resize(p.a_elements());
  h.b.resize(p.b_elements());
  h.c.resize(p.c_elements());
  fill_random(h.a, seed, d, 0);
  fill_random(h.b, seed, d, 1ULL << 40);
  if (nan_c_when_beta_zero && p.beta == 0.0f) {
    std::fill(h.c.begin(), h.c.end(), std::numeric_limits<float>::quiet_NaN());
  } else {
    fill_random(h.c, seed, d, 1ULL << 41);
  }
  return h;
}

GemmDeviceBuffers upload_gemm_inputs(Device& device, const GemmHostData& host) {
  auto upload = [&](const std::vector<float>& v) {
    boost::compute::buffer buf(device.context(),
                               std::max<std::size_t>(v.size(), 1) * sizeof(float));
    device.queue().enqueue_write_buffer(buf, 0, v.size() * sizeof(float), v.data());
    return buf;
  };
  return {upload(host.a), upload(host.b), upload(host.c)};
}

}  // namespace clgauge
