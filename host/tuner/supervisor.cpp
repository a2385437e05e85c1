#include "tuner/supervisor.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "clgauge/error.hpp"

extern char** environ;

namespace clgauge::tuner {
namespace {

std::filesystem::path self_exe_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

// The folder of the shared library this code is in (the build tree or <prefix>/lib).
std::filesystem::path library_dir() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&find_worker_executable), &info) == 0 || !info.dli_fname) {
    return {};
  }
  std::error_code ec;
  const auto lib = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::filesystem::path() : lib.parent_path();
}

bool is_executable(const std::filesystem::path& p) {
  return !p.empty() && ::access(p.c_str(), X_OK) == 0 && !std::filesystem::is_directory(p);
}

}  // namespace

std::filesystem::path find_worker_executable() {
  std::vector<std::filesystem::path> tried;
  if (const char* env = std::getenv("CLGAUGE_WORKER"); env && *env) {
    if (is_executable(env)) return env;
    throw Error(ReasonCode::io_error,
                std::string("CLGAUGE_WORKER=") + env + " is not an executable file");
  }
  for (const auto& dir : {self_exe_dir(), library_dir()}) {
    if (dir.empty()) continue;
    for (const auto& p :
         {dir / "clgauge-worker", dir / ".." / "libexec" / "clgauge" / "clgauge-worker",
          dir / ".." / "clgauge-worker"}) {
      if (is_executable(p)) return p.lexically_normal();
      tried.push_back(p.lexically_normal());
    }
  }
  std::string where;
  for (const auto& p : tried) where += (where.empty() ? "" : ", ") + p.string();
  throw Error(
      ReasonCode::io_error,
      "cannot find the clgauge-worker executable (set CLGAUGE_WORKER; looked in " + where + ")");
}

WorkerProcess::WorkerProcess(const WorkerCommand& command, double ready_timeout_s) {
  // Writing to a worker that just died must fail with EPIPE, not kill the tuner.
  ::signal(SIGPIPE, SIG_IGN);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    throw Error(ReasonCode::io_error, std::string("socketpair: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
  if (!command.log.empty()) {
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, command.log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  std::vector<std::string> args;
  args.push_back(command.executable.string());
  args.insert(args.end(), command.args.begin(), command.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc =
      ::posix_spawn(&pid_, command.executable.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(sv[1]);
  fd_ = sv[0];
  if (rc != 0) {
    ::close(fd_);
    fd_ = -1;
    pid_ = -1;
    throw Error(ReasonCode::io_error,
                "cannot start " + command.executable.string() + ": " + std::strerror(rc));
  }
  std::string why;
  const auto line = read_line(ready_timeout_s, why);
  if (!line) {
    const std::string status = reap(true);
    throw Error(why == "timeout" ? ReasonCode::timeout : ReasonCode::crashed,
                "worker did not start: " + why + (status.empty() ? "" : " (" + status + ")"));
  }
  hello_ = json::parse(*line, nullptr, false);
  if (hello_.is_discarded() || !hello_.value("ready", false)) {
    reap(true);
    const std::string detail = hello_.is_object() ? hello_.value("detail", *line) : *line;
    throw Error(ReasonCode::device_unavailable, "worker could not open its device: " + detail);
  }
}

WorkerProcess::~WorkerProcess() {
  if (pid_ > 0) {
    const std::string quit = "{\"op\":\"quit\"}\n";
    [[maybe_unused]] const auto n = ::send(fd_, quit.data(), quit.size(), MSG_NOSIGNAL);
    // A worker that does not leave within a second is killed.
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      ::usleep(10000);
    }
    if (pid_ > 0) reap(true);
  }
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> WorkerProcess::read_line(double timeout_s, std::string& why) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(timeout_s);
  while (true) {
    if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      why = "timeout";
      return std::nullopt;
    }
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = "crashed";
      return std::nullopt;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string WorkerProcess::reap(bool kill_first) {
  if (pid_ <= 0) return {};
  if (kill_first) ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return {};
}

WorkerProcess::Reply WorkerProcess::request(const json& request, double first_timeout_s,
                                            double stage_timeout_s) {
  Reply reply;
  if (pid_ <= 0) {
    reply.status = Status::crashed;
    reply.detail = "worker is not running";
    return reply;
  }
  const std::string line = request.dump() + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    const auto n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  double timeout = first_timeout_s;
  while (true) {
    std::string why;
    const auto got = read_line(timeout, why);
    if (!got) {
      const bool timed_out = why == "timeout";
      // A worker that stopped answering is killed; one that closed its end is reaped.
      const std::string status = reap(timed_out);
      reply.status = timed_out ? Status::timeout : Status::crashed;
      reply.detail = timed_out
                         ? "no answer within " + std::to_string(timeout) + " s; worker " + status
                         : "worker died: " + status;
      return reply;
    }
    json j = json::parse(*got, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      reap(true);
      reply.status = Status::crashed;
      reply.detail = "worker sent a malformed line";
      return reply;
    }
    if (j.contains("stage")) {
      timeout = stage_timeout_s;
      continue;
    }
    reply.body = std::move(j);
    return reply;
  }
}

}  // namespace clgauge::tuner
