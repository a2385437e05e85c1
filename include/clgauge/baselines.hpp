#pragma once
// The baselines every tuned result is compared with: CLBlast's GEMM on the same OpenCL
// device and OpenBLAS's sgemm on the host. They live in the separate library
// clgauge::baselines, so only programs that compare against them link CLBlast and OpenBLAS.

#include <vector>

#include "clgauge/gemm.hpp"
#include "clgauge/measure.hpp"
#include "clgauge/parity.hpp"

namespace clgauge {

// One CLBlast Gemm call on the uploaded problem, timed by the host clock from the call to
// its finish (device_ms too: CLBlast's event covers only its last kernel, reported as
// kernel_ms); waits for it. Throws Error(launch_failed) naming CLBlast's status code.
LaunchTiming clblast_gemm(Device& device, const GemmProblem& problem, GemmDeviceBuffers& buffers);

// One OpenBLAS cblas_sgemm call on host copies; `c` holds C_in on entry and C_out after.
// Host time is reported as both device_ms and host_ms. Throws Error(bad_input) for a problem
// whose sizes do not fit OpenBLAS's integer type.
LaunchTiming openblas_gemm(const GemmProblem& problem, const GemmHostData& in,
                           std::vector<float>& c);

}  // namespace clgauge
