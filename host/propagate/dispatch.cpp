// The dispatcher: the stage's switches (enabled, backend, strict_parity) over the
// CPU reference and the device path, with counted fallbacks.

#include "clgauge/error.hpp"
#include "propagate/canonical.hpp"
#include "propagate/device_batch.hpp"

namespace clgauge {

std::string_view to_string(PropagateBackend b) {
  return b == PropagateBackend::opencl ? "opencl" : "cpu";
}

PropagateBackend propagate_backend_from_string(std::string_view name) {
  if (name == "opencl") return PropagateBackend::opencl;
  if (name == "cpu") return PropagateBackend::cpu;
  throw Error(ReasonCode::bad_input,
              "backend: unknown '" + std::string(name) + "' (want opencl|cpu)");
}

PropagateDispatcher::PropagateDispatcher(PropagateConfig config, Device* device, ProgramCache cache)
    : config_(config), device_(device), cache_(std::move(cache)) {}

PropagateDispatch PropagateDispatcher::run(std::span<const Graph> graphs,
                                           std::span<const Seeds> seeds, const PropagateParams& p) {
  // Bad input is the caller's error on every path: it is rejected, never a fallback.
  // Each path checks everything before it runs (the device path in its packing pass,
  // before any device work) and throws Error(bad_input), which is passed on below.
  PropagateDispatch out;
  auto cpu = [&](const char* reason) {
    ++fallbacks_[reason];
    out.fallback_reason = reason;
    out.backend = "cpu";
    out.result = propagate_batch_cpu(graphs, seeds, p);
    return out;
  };
  if (!config_.enabled) return cpu("disabled");
  if (config_.backend == PropagateBackend::cpu) return cpu("backend_cpu");
  if (device_ == nullptr) return cpu("device_unavailable");
  try {
    out.result = propagate_batch_device(*device_, cache_, graphs, seeds, p);
  } catch (const Error& e) {
    switch (e.code()) {
      case ReasonCode::invalid_config:
        return cpu("too_large");
      case ReasonCode::build_failed:
        return cpu("build_failed");
      case ReasonCode::launch_failed:
        return cpu("launch_failed");
      default:
        throw;
    }
  }
  out.backend = "opencl";
  if (config_.strict_parity) {
    const PropagateBatchResult reference = propagate_batch_cpu(graphs, seeds, p);
    out.parity_checked = true;
    out.parity_difference = first_difference(reference, out.result);
    if (out.parity_difference) {
      ++mismatches_;
      ++fallbacks_["parity_mismatch"];
      out.fallback_reason = "parity_mismatch";
      out.backend = "cpu";
      out.result = reference;
    }
  }
  return out;
}

}  // namespace clgauge
