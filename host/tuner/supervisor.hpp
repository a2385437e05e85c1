#pragma once
// Supervised worker processes (tuner/worker/): spawned with posix_spawn, spoken to over a
// socket pair, one JSON line each way, with a deadline on every reply. A worker that dies
// or misses its deadline is killed and reported; the caller starts a fresh one.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tuner/protocol.hpp"

namespace clgauge::tuner {

struct WorkerCommand {
  std::filesystem::path executable;
  std::vector<std::string> args;
  std::filesystem::path log;  // the worker's stderr (appended); empty: inherit
};

// The clgauge-worker executable: $CLGAUGE_WORKER, else beside the running executable,
// else <exe dir>/../libexec/clgauge/. Throws Error(io_error) listing where it looked.
std::filesystem::path find_worker_executable();

class WorkerProcess {
 public:
  enum class Status { ok, crashed, timeout };
  struct Reply {
    Status status = Status::ok;
    json body;           // the final reply (ok)
    std::string detail;  // crashed/timeout: what happened
  };

  // Spawns the worker and waits up to `ready_timeout_s` for its ready line. Throws
  // Error(device_unavailable) when it reports it could not open its device, and
  // Error(crashed|timeout) when it dies or stays silent.
  WorkerProcess(const WorkerCommand& command, double ready_timeout_s);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  const json& hello() const { return hello_; }
  bool alive() const { return pid_ > 0; }

  // Sends `request`; the first reply line must come within `first_timeout_s`; each stage
  // line ({"stage":...}) restarts the clock with `stage_timeout_s`. On a crash or timeout
  // the worker is killed and reaped and alive() becomes false.
  Reply request(const json& request, double first_timeout_s, double stage_timeout_s);

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string pending_;  // bytes read past the last line
  json hello_;
  std::optional<std::string> read_line(double timeout_s, std::string& why);
  std::string reap(bool kill_first);
};

}  // namespace clgauge::tuner
