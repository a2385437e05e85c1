#pragma once
// The one error type of clgauge, and the closed set of reason codes that
// results, logs and errors share.

#include <stdexcept>
#include <string>
#include <string_view>

namespace clgauge {

// A closed enum: every value is documented in docs/usage.md ("Reason codes") and
// written to logs by its snake_case name.
enum class ReasonCode {
  ok,                  // nothing went wrong
  build_failed,        // the OpenCL program did not compile; the message holds the log
  launch_failed,       // enqueueing or running a kernel returned an OpenCL error
  timeout,             // a kernel or build ran past its time limit
  crashed,             // the worker process evaluating a candidate died (signal or abort)
  parity_mismatch,     // a bitwise parity check found a differing element
  tolerance_exceeded,  // a tolerance parity check found an element out of bounds
  abandoned_slow,      // a tuning candidate was slower than the stated multiple of the best
  invalid_config,      // a kernel config violates its family's validity rules
  device_unavailable,  // no OpenCL platform or device, or the named one is absent
  bad_input,           // the caller's input is malformed (names the field and value)
  io_error,            // a file could not be read or written
  internal,            // a broken invariant inside clgauge (a bug)
  out_of_budget,       // a tuning run's time budget ran out before this evaluation
};

std::string_view to_string(ReasonCode code);
// Throws Error(bad_input) for a name that is not a reason code.
ReasonCode reason_code_from_string(std::string_view name);

class Error : public std::runtime_error {
 public:
  Error(ReasonCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ReasonCode code() const { return code_; }

 private:
  ReasonCode code_;
};

}  // namespace clgauge
