#pragma once
// A tuner worker: a process that opens one device and serves build, evaluate, replay and
// baseline requests over stdin/stdout (tuner/protocol.hpp) until EOF or "quit". The tuner
// runs every candidate in such a process, so a kernel that crashes or hangs costs one
// candidate and one worker, never the run.

#include <functional>

#include "clgauge/gemm.hpp"

namespace clgauge::tuner {

// Test seams: called with each config right before its first launch. The production
// worker passes none; the test worker (tests/tuner/) plants a crashing and a hanging kernel.
struct WorkerHooks {
  std::function<void(const GemmConfig&, Device&, const ProgramCache&)> before_launch;
};

// argv: [--device N] [--cache-dir DIR | --no-cache]. Returns the process exit status.
int worker_main(int argc, const char* const* argv, const WorkerHooks& hooks);

}  // namespace clgauge::tuner
