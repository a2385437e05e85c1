#include <algorithm>
#include <limits>
#include <new>
#include <string>

#include <boost/compute/exception/opencl_error.hpp>

#include "clgauge/error.hpp"
#include "clgauge/parity.hpp"

namespace clgauge {
namespace {

const char* flags_of(char matrix) {
  switch (matrix) {
    case 'A':
      return "--m, --k, --lda, --offset-a";
    case 'B':
      return "--k, --n, --ldb, --offset-b";
    default:
      return "--m, --n, --ldc, --offset-c";
  }
}

// Host memory for one matrix; out of memory says which matrix, how much and which flags.
void allocate(std::vector<float>& v, std::size_t elements, char matrix) {
  try {
    v.resize(elements);
  } catch (const std::bad_alloc&) {
    throw Error(ReasonCode::bad_input, std::string("out of host memory allocating matrix ") +
                                           matrix + ": " + std::to_string(elements) + " floats (" +
                                           std::to_string(elements * sizeof(float)) +
                                           " bytes, sized by " + flags_of(matrix) + ")");
  }
}

}  // namespace

GemmHostData make_gemm_inputs(const GemmProblem& problem, std::uint64_t seed, Distribution d,
                              bool nan_c_when_beta_zero) {
  problem.check_fits_host();
  const GemmProblem p = problem.resolved();
  GemmHostData h;
  allocate(h.a, p.a_elements(), 'A');
  allocate(h.b, p.b_elements(), 'B');
  allocate(h.c, p.c_elements(), 'C');
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
  auto upload = [&](const std::vector<float>& v, char matrix) {
    const std::size_t bytes = std::max<std::size_t>(v.size(), 1) * sizeof(float);
    try {
      boost::compute::buffer buf(device.context(), bytes);
      device.queue().enqueue_write_buffer(buf, 0, v.size() * sizeof(float), v.data());
      return buf;
    } catch (const boost::compute::opencl_error& e) {
      throw Error(ReasonCode::launch_failed, std::string("allocating and uploading matrix ") +
                                                 matrix + " on " + device.info().name + ": " +
                                                 std::to_string(bytes) + " bytes (sized by " +
                                                 flags_of(matrix) + "; device max allocation " +
                                                 std::to_string(device.info().max_alloc_bytes) +
                                                 " bytes) failed: " + e.error_string());
    }
  };
  return {upload(host.a, 'A'), upload(host.b, 'B'), upload(host.c, 'C')};
}

}  // namespace clgauge
