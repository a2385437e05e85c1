// A clgauge-worker built only for tests: regtile configs with MR == 3 crash the worker
// (SIGSEGV) and configs with MR == 5 never finish, right where a kernel would launch.
// The tuner must record them as `crashed` and `timeout` and carry on with fresh workers.

#include <csignal>
#include <cstdlib>
#include <thread>

#include "tuner/worker/worker.hpp"

int main(int argc, char** argv) {
  clgauge::tuner::WorkerHooks hooks;
  hooks.before_launch = [](const clgauge::GemmConfig& c, clgauge::Device&,
                           const clgauge::ProgramCache&) {
    if (c.family != "gemm.regtile") return;
    if (c.get("MR") == 3) {
      std::raise(SIGSEGV);
      std::abort();  // a driver may catch SIGSEGV; a crash is a crash
    }
    if (c.get("MR") == 5) {
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  };
  return clgauge::tuner::worker_main(argc, argv, hooks);
}
