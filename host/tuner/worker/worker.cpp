#include "tuner/worker/worker.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/compute/exception/opencl_error.hpp>

#include "clgauge/baselines.hpp"
#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/measure.hpp"
#include "clgauge/parity.hpp"
#include "tuner/protocol.hpp"

namespace clgauge::tuner {
namespace {

// The protocol goes to a private copy of the original stdout; fd 1 itself is pointed at
// stderr, so nothing a driver prints can corrupt a reply.
class ReplyChannel {
 public:
  ReplyChannel() : fd_(::dup(STDOUT_FILENO)) { ::dup2(STDERR_FILENO, STDOUT_FILENO); }
  void send(const json& j) const {
    const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
      const auto n = ::write(fd_, line.data() + done, line.size() - done);
      if (n <= 0) return;  // the parent is gone; the next read sees EOF
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  int fd_;
};

struct Worker {
  Device device;
  ProgramCache cache;
  const WorkerHooks& hooks;
  const ReplyChannel& out;
};

json failure(ReasonCode code, const std::string& detail) {
  return {{"reason", std::string(to_string(code))}, {"detail", detail}};
}

double since_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Bitwise against the canonical reference, or by tolerance against float64 (the gamma(K)
// bound of compare_tolerance). A tolerance-only family (GemmFamily::bitwise false, e.g.
// gemm.splitk) is always held to the tolerance bound: its bits are not the canonical ones.
ParityReport verify_output(const std::string& mode, const GemmConfig& config, const GemmProblem& p,
                           const GemmHostData& in, const std::vector<float>& got) {
  if (mode == "bitwise" && gemm_family(config.family).bitwise) {
    std::vector<float> want = in.c;
    gemm_reference_canonical(p, in.a, in.b, want);
    return compare_bitwise(p, got, want);
  }
  return compare_tolerance(p, in.a, in.b, in.c, got);
}

std::optional<json> parity_failure(const ParityReport& r) {
  if (r.passed()) return std::nullopt;
  return failure(r.mode == "bitwise" ? ReasonCode::parity_mismatch : ReasonCode::tolerance_exceeded,
                 to_json(r));
}

std::vector<float> read_c(Device& dev, const GemmDeviceBuffers& buf, std::size_t n) {
  std::vector<float> out(n);
  dev.queue().enqueue_read_buffer(buf.c, 0, n * sizeof(float), out.data());
  return out;
}

json samples_json(const GemmMeasurement& m) {
  return {{"samples_ms", m.device_ms}, {"host_ms", m.host_ms}};
}

json build(Worker& w, const json& req) {
  const GemmKernel kernel(w.device, w.cache, config_from_json(req.at("config")));
  return {{"reason", "ok"},
          {"detail", ""},
          {"build_ms", kernel.build_ms()},
          {"from_cache", kernel.from_cache()}};
}

json evaluate(Worker& w, const json& req) {
  const GemmConfig config = config_from_json(req.at("config"));
  const GemmProblem p = problem_from_json(req.at("problem")).resolved();
  p.validate();
  GemmKernel kernel(w.device, w.cache, config);
  w.out.send({{"stage", "built"}, {"build_ms", kernel.build_ms()}});
  if (w.hooks.before_launch) w.hooks.before_launch(config, w.device, w.cache);

  const GemmHostData in =
      make_gemm_inputs(p, seed_from_json(req.at("seed")), Distribution::uniform, true);
  GemmDeviceBuffers buf = upload_gemm_inputs(w.device, in);
  const auto t0 = std::chrono::steady_clock::now();
  const GemmTiming first = kernel.run(p, buf.a, buf.b, buf.c);
  const double first_host = since_ms(t0);
  const auto report = verify_output(req.at("verify").get<std::string>(), config, p, in,
                                    read_c(w.device, buf, in.c.size()));
  if (auto fail = parity_failure(report)) {
    (*fail)["build_ms"] = kernel.build_ms();
    return *fail;
  }
  const GemmMeasurement m =
      measure_gemm(kernel, w.device, p, buf, in.c, measure_from_json(req.at("measure")));
  json r = {{"reason", m.abandoned ? "abandoned_slow" : "ok"},
            {"detail", ""},
            {"build_ms", kernel.build_ms()},
            {"first_launch_ms", first.total_ms},
            {"first_launch_host_ms", first_host},
            {"abandoned", m.abandoned}};
  r.update(samples_json(m));
  return r;
}

// Candidates interleaved run by run, each on its own seeded inputs, each verified first.
json replay(Worker& w, const json& req) {
  const GemmProblem p = problem_from_json(req.at("problem")).resolved();
  p.validate();
  const auto runs = req.at("runs").get<int>();
  struct Slot {
    std::optional<GemmKernel> kernel;
    GemmHostData in;
    std::optional<GemmDeviceBuffers> buf;
    json result;
    std::vector<double> device_ms, host_ms;
  };
  std::vector<Slot> slots(req.at("configs").size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    try {
      slots[i].kernel.emplace(w.device, w.cache, config_from_json(req.at("configs")[i]));
    } catch (const Error& e) {
      slots[i].result = failure(e.code(), e.what());
    }
  }
  w.out.send({{"stage", "built"}});
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto& s = slots[i];
    if (!s.kernel) continue;
    if (w.hooks.before_launch) w.hooks.before_launch(s.kernel->config(), w.device, w.cache);
    s.in = make_gemm_inputs(p, seed_from_json(req.at("seeds")[i]), Distribution::uniform, true);
    s.buf = upload_gemm_inputs(w.device, s.in);
    s.kernel->run(p, s.buf->a, s.buf->b, s.buf->c);
    if (auto fail =
            parity_failure(verify_output(req.at("verify")[i].get<std::string>(), s.kernel->config(),
                                         p, s.in, read_c(w.device, *s.buf, s.in.c.size())))) {
      s.result = *fail;
      s.kernel.reset();
    }
  }
  for (int r = 0; r < runs; ++r) {
    for (auto& s : slots) {
      if (!s.kernel) continue;
      if (p.beta != 0.0f) {
        w.device.queue().enqueue_write_buffer(s.buf->c, 0, s.in.c.size() * sizeof(float),
                                              s.in.c.data());
      }
      const auto t0 = std::chrono::steady_clock::now();
      const GemmTiming t = s.kernel->run(p, s.buf->a, s.buf->b, s.buf->c);
      s.host_ms.push_back(since_ms(t0));
      s.device_ms.push_back(t.total_ms);
    }
  }
  json results = json::array();
  for (auto& s : slots) {
    if (s.kernel) {
      s.result = {
          {"reason", "ok"}, {"detail", ""}, {"samples_ms", s.device_ms}, {"host_ms", s.host_ms}};
    }
    results.push_back(s.result);
  }
  return {{"results", results}};
}

json baseline(Worker& w, const json& req) {
  const std::string name = req.at("name").get<std::string>();
  const GemmProblem p = problem_from_json(req.at("problem")).resolved();
  p.validate();
  const GemmHostData in =
      make_gemm_inputs(p, seed_from_json(req.at("seed")), Distribution::uniform);
  const MeasureOptions options = measure_from_json(req.at("measure"));
  std::vector<float> got;
  LaunchFn launch;
  std::optional<GemmDeviceBuffers> buf;
  std::vector<float> host_c = in.c;
  if (name == "clblast") {
    buf = upload_gemm_inputs(w.device, in);
    launch = [&] {
      if (p.beta != 0.0f) {
        w.device.queue().enqueue_write_buffer(buf->c, 0, in.c.size() * sizeof(float), in.c.data());
      }
      return clblast_gemm(w.device, p, *buf);
    };
    launch();  // CLBlast compiles its kernels on the first call
    got = read_c(w.device, *buf, in.c.size());
  } else if (name == "openblas") {
    launch = [&] {
      host_c = in.c;
      return openblas_gemm(p, in, host_c);
    };
    launch();
    got = host_c;
  } else {
    return failure(ReasonCode::bad_input, "unknown baseline '" + name + "'");
  }
  w.out.send({{"stage", "built"}});
  if (auto fail = parity_failure(compare_tolerance(p, in.a, in.b, in.c, got))) return *fail;
  const GemmMeasurement m = measure_launches(launch, options);
  json r = {{"reason", "ok"}, {"detail", ""}};
  r.update(samples_json(m));
  return r;
}

json serve(Worker& w, const json& req) {
  const std::string op = req.at("op").get<std::string>();
  if (op == "build") return build(w, req);
  if (op == "evaluate") return evaluate(w, req);
  if (op == "replay") return replay(w, req);
  if (op == "baseline") return baseline(w, req);
  return failure(ReasonCode::bad_input, "unknown op '" + op + "'");
}

}  // namespace

int worker_main(int argc, const char* const* argv, const WorkerHooks& hooks) {
  const ReplyChannel out;
  std::string device_spec;
  ProgramCache cache = ProgramCache::from_environment();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--device" && i + 1 < argc) {
      device_spec = argv[++i];
    } else if (arg == "--cache-dir" && i + 1 < argc) {
      cache = ProgramCache::at(argv[++i]);
    } else if (arg == "--no-cache") {
      cache = ProgramCache::disabled();
    } else {
      std::cerr << "clgauge-worker: unknown argument '" << arg << "'\n";
      return 2;
    }
  }
  std::optional<Worker> w;
  try {
    w.emplace(Worker{Device::open(device_spec), cache, hooks, out});
  } catch (const Error& e) {
    out.send(
        {{"ready", false}, {"reason", std::string(to_string(e.code()))}, {"detail", e.what()}});
    return 1;
  }
  out.send({{"ready", true},
            {"device", w->device.info().label()},
            {"fingerprint", hex16(w->device.info().fingerprint)}});
  std::string line;
  while (std::getline(std::cin, line)) {
    json reply;
    try {
      const json req = json::parse(line);
      if (req.value("op", "") == "quit") break;
      reply = serve(*w, req);
    } catch (const Error& e) {
      reply = failure(e.code(), e.what());
    } catch (const boost::compute::opencl_error& e) {
      reply = failure(ReasonCode::launch_failed, e.what());
    } catch (const std::exception& e) {
      reply = failure(ReasonCode::internal, std::string("worker: ") + e.what());
    }
    out.send(reply);
  }
  return 0;
}

}  // namespace clgauge::tuner
