// clgauge gemm: one GEMM on a device, timed, with its parity check.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include <boost/compute/buffer.hpp>
#include <nlohmann/json.hpp>

#include "clgauge/baselines.hpp"
#include "clgauge/error.hpp"
#include "clgauge/gemm.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/measure.hpp"
#include "clgauge/parity.hpp"
#include "clgauge/space.hpp"
#include "clgauge/stats.hpp"
#include "clgauge/tuning_db.hpp"
#include "cli/command.hpp"
#include "tuner/protocol.hpp"

namespace bc = boost::compute;
using json = nlohmann::ordered_json;

namespace clgauge::cli {
namespace {

struct GemmFlags {
  std::int64_t m = 1024, n = 1024, k = 1024;
  std::string layout = "row", trans_a = "n", trans_b = "n";
  float alpha = 1.0f, beta = 0.0f;
  std::int64_t lda = 0, ldb = 0, ldc = 0;
  std::int64_t offset_a = 0, offset_b = 0, offset_c = 0;
  std::string family;
  std::vector<std::string> params;
  std::string config;
  std::uint64_t seed = 42;
  std::string distribution = "uniform";
  std::string check = "bitwise";
  double safety = 2.0;
  int runs = 10;
  int warmup = 2;
  std::string dump;
  bool json = false;
  bool explain = false;
  bool vs_openblas = false;
  DeviceFlags device;
};

Error bad(const std::string& msg) {
  return Error(ReasonCode::bad_input, msg);
}

GemmProblem problem_from(const GemmFlags& f) {
  GemmProblem p;
  p.m = f.m;
  p.n = f.n;
  p.k = f.k;
  p.layout = layout_from_string(f.layout);
  p.trans_a = op_from_string(f.trans_a);
  p.trans_b = op_from_string(f.trans_b);
  p.alpha = f.alpha;
  p.beta = f.beta;
  p.lda = f.lda;
  p.ldb = f.ldb;
  p.ldc = f.ldc;
  p.offset_a = f.offset_a;
  p.offset_b = f.offset_b;
  p.offset_c = f.offset_c;
  try {
    p.validate();
  } catch (const Error& e) {
    // "offset_a = -1: ..." -> "--offset-a = -1: ...": name the flag the user typed. Size
    // messages ("A (--m, --k, --lda, --offset-a) ...") already name their flags.
    std::string msg = e.what();
    const auto eq = msg.find(" = ");
    if (eq == std::string::npos || msg.find("--") != std::string::npos) throw;
    std::replace(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(eq), '_', '-');
    throw bad("--" + msg);
  }
  if (!std::isfinite(p.alpha)) throw bad("--alpha " + std::to_string(f.alpha) + ": not finite");
  if (!std::isfinite(p.beta)) throw bad("--beta " + std::to_string(f.beta) + ": not finite");
  return p.resolved();
}

std::int64_t parse_int(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  std::int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw bad(what + ": '" + text + "' is not an integer");
  return v;
}

// Accepts a 16-hex-digit id (looked up among the known configs) or a canonical string
// "family=<f>;P1=<v1>;...".
GemmConfig config_from_text(const std::string& text, const DeviceInfo* device) {
  if (text.rfind("family=", 0) == 0) {
    return GemmConfig::parse_canonical(text, "--config '" + text + "'");
  }
  parse_hex16(text, "--config");
  std::vector<GemmConfig> known;
  for (const auto& f : gemm_families()) known.push_back(GemmConfig::defaults_for(f.name));
  if (device) known.push_back(default_gemm_config(*device));
  for (const auto& c : known) {
    if (c.id() == text) return c;
  }
  if (auto c = find_shipped_config(text)) return *c;
  throw bad("--config " + text +
            ": unknown config id: not a family default nor in a shipped space (give the "
            "canonical form 'family=...;NAME=V;...' instead)");
}

struct ChosenConfig {
  GemmConfig config;
  // "explicit", "family-default", "device-default", "tuned-exact", "tuned-nearest"
  std::string source;
  std::string explanation;
};

ChosenConfig choose_config(const GemmFlags& f, const DeviceInfo* device, const GemmProblem& p) {
  if (!f.config.empty()) {
    if (!f.family.empty() || !f.params.empty()) {
      throw bad("--config cannot be combined with --family or --param");
    }
    return {config_from_text(f.config, device), "explicit", ""};
  }
  std::vector<std::pair<std::string, std::int64_t>> overrides;
  for (const auto& p : f.params) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw bad("--param '" + p + "': want NAME=VALUE");
    overrides.emplace_back(p.substr(0, eq), parse_int(p.substr(eq + 1), "--param " + p));
  }
  if (f.family.empty()) {
    if (!overrides.empty()) throw bad("--param needs --family");
    if (!device) return {GemmConfig::defaults_for("gemm.regtile"), "family-default", ""};
    // The tuning database: exact shape, else the nearest tuned one, else the device default.
    const ConfigSelection sel = select_gemm_config(*device, p);
    return {sel.config, sel.source, sel.explanation};
  }
  gemm_family(f.family);  // names the unknown family
  return {GemmConfig::make(f.family, overrides), overrides.empty() ? "family-default" : "explicit",
          ""};
}

// The problem as the tuner's workers also see it (tuner/protocol.hpp).
json problem_json(const GemmProblem& p) {
  return tuner::problem_to_json(p);
}

json config_json(const GemmConfig& c, const std::string& source) {
  json params = json::object();
  for (const auto& [name, value] : c.params) params[name] = value;
  return {{"family", c.family}, {"id", c.id()}, {"params", params}, {"source", source}};
}

// Raw little-endian float32, whatever the host byte order.
void write_f32(const std::filesystem::path& path, const std::vector<float>& v) {
  std::ofstream out(path, std::ios::binary);
  for (float x : v) {
    const auto u = std::bit_cast<std::uint32_t>(x);
    const char bytes[4] = {static_cast<char>(u & 0xff), static_cast<char>((u >> 8) & 0xff),
                           static_cast<char>((u >> 16) & 0xff), static_cast<char>(u >> 24)};
    out.write(bytes, 4);
  }
  if (!out) throw Error(ReasonCode::io_error, "cannot write " + path.string());
}

void dump(const std::string& dir, const GemmProblem& p, const GemmConfig& c, const GemmHostData& in,
          const std::vector<float>& c_out, std::uint64_t seed, std::uint64_t input_seed,
          const std::string& distribution) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ReasonCode::io_error, "--dump " + dir + ": " + ec.message());
  const std::filesystem::path d(dir);
  write_f32(d / "A.f32", in.a);
  write_f32(d / "B.f32", in.b);
  write_f32(d / "C_in.f32", in.c);
  write_f32(d / "C_out.f32", c_out);
  json j = problem_json(p);
  j["config_id"] = c.id();
  j["config"] = config_json(c, "dump")["params"];
  j["family"] = c.family;
  j["seed"] = seed;
  j["input_seed"] = input_seed;
  j["input_distribution"] = distribution;
  std::ofstream out(d / "problem.json");
  out << j.dump(2) << "\n";
  if (!out) throw Error(ReasonCode::io_error, "cannot write " + (d / "problem.json").string());
}

ParityReport check(const std::string& mode, const GemmProblem& p, const GemmHostData& in,
                   const std::vector<float>& got, double safety) {
  if (mode == "bitwise") {
    std::vector<float> want = in.c;
    gemm_reference_canonical(p, in.a, in.b, want);
    return compare_bitwise(p, got, want);
  }
  return compare_tolerance(p, in.a, in.b, in.c, got, safety);
}

// What one `clgauge gemm` measured.
struct Measurement {
  std::vector<float> c_out;  // C after the first launch (the one checked and dumped)
  std::vector<double> run_ms, pack_ms, kernel_ms;
  double build_ms = 0;
  double first_ms = 0;
  bool cache_hit = false;
  bool cpu_only = false;
  std::string device_label = "CPU reference (no OpenCL device)";
  std::uint64_t fingerprint = environment_fingerprint(nullptr);
  // --vs-openblas: pairs launched alternately (clgauge, OpenBLAS, clgauge, ...).
  std::vector<double> pair_device_ms, pair_host_ms, pair_openblas_ms;
};

// One clgauge launch then one OpenBLAS call, `runs` times, so both see the same machine.
void alternate_with_openblas(const GemmFlags& f, Device& dev, GemmKernel& kernel,
                             const GemmProblem& p, const GemmHostData& in,
                             GemmDeviceBuffers& buffers, Measurement& m) {
  std::vector<float> host_c = in.c;
  (void)openblas_gemm(p, in, host_c);  // OpenBLAS starts its threads on the first call
  for (int r = 0; r < f.runs; ++r) {
    if (p.beta != 0.0f) {
      dev.queue().enqueue_write_buffer(buffers.c, 0, in.c.size() * sizeof(float), in.c.data());
    }
    const auto t0 = std::chrono::steady_clock::now();
    const GemmTiming t = kernel.run(p, buffers.a, buffers.b, buffers.c);
    m.pair_host_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    m.pair_device_ms.push_back(t.total_ms);
    host_c = in.c;
    m.pair_openblas_ms.push_back(openblas_gemm(p, in, host_c).host_ms);
  }
}

Measurement measure_on_cpu(const GemmFlags& f, const GemmProblem& p, const GemmHostData& in,
                           Streams s) {
  s.err << "clgauge gemm: no OpenCL device found; running the CPU reference path "
           "(parity check skipped)\n";
  Measurement m;
  m.cpu_only = true;
  for (int r = 0; r < f.warmup + f.runs; ++r) {
    std::vector<float> out = in.c;
    const auto t0 = std::chrono::steady_clock::now();
    gemm_reference_canonical(p, in.a, in.b, out);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (r == 0) {
      m.first_ms = ms;
      m.c_out = std::move(out);
    }
    if (r >= f.warmup) m.run_ms.push_back(ms);
  }
  return m;
}

Measurement measure_on_device(const GemmFlags& f, const DeviceInfo& info, const GemmConfig& config,
                              const GemmProblem& p, const GemmHostData& in) {
  Measurement m;
  Device dev = Device::open(info);
  m.device_label = "[" + std::to_string(info.index) + "] " + info.label() + " (" + info.type + ")";
  m.fingerprint = info.fingerprint;
  GemmKernel kernel(dev, f.device.cache(), config);
  m.build_ms = kernel.build_ms();
  m.cache_hit = kernel.from_cache();
  auto buffers = upload_gemm_inputs(dev, in);
  MeasureOptions opts;
  opts.warmup = f.warmup;
  opts.min_runs = opts.max_runs = f.runs;
  opts.fixed_runs = true;
  const GemmMeasurement g = measure_gemm(kernel, dev, p, buffers, in.c, opts);
  // Every launch computed the same C (C_in is rewritten before each when beta != 0).
  m.c_out.resize(in.c.size());
  dev.queue().enqueue_read_buffer(buffers.c, 0, in.c.size() * sizeof(float), m.c_out.data());
  m.first_ms = g.first_launch_ms;
  m.run_ms = g.device_ms;
  m.pack_ms = g.pack_ms;
  m.kernel_ms = g.kernel_ms;
  if (f.vs_openblas) alternate_with_openblas(f, dev, kernel, p, in, buffers, m);
  return m;
}

SampleStats gflops_stats(const GemmProblem& p, const Measurement& m) {
  std::vector<double> gflops;
  for (double ms : m.run_ms) gflops.push_back(p.flops() / (ms * 1e6));
  return summarize(gflops);
}

void print_json(const GemmFlags& f, const GemmProblem& p, const ChosenConfig& chosen,
                const Measurement& m, const std::optional<ParityReport>& parity,
                std::uint64_t input_seed, Streams s) {
  const SampleStats g = gflops_stats(p, m);
  const SampleStats t = summarize(m.run_ms);
  json j;
  j["problem"] = problem_json(p);
  j["config"] = config_json(chosen.config, chosen.source);
  if (!chosen.explanation.empty()) j["config"]["explanation"] = chosen.explanation;
  j["device"] = m.device_label;
  j["gflops"] = {{"median", g.median}, {"min", g.min}, {"max", g.max}};
  j["timings"] = {{"build_ms", m.build_ms},
                  {"build_from_cache", m.cache_hit},
                  {"first_launch_ms", m.first_ms},
                  {"warmup", f.warmup},
                  {"runs_ms", m.run_ms},
                  {"median_ms", t.median},
                  {"min_ms", t.min},
                  {"p10_ms", t.p10},
                  {"p90_ms", t.p90},
                  {"mean_ms", t.mean},
                  {"std_ms", t.stddev},
                  {"cv", t.cv}};
  if (!m.pair_openblas_ms.empty()) {
    const double blas = summarize(m.pair_openblas_ms).median;
    j["vs_openblas"] = {{"runs", m.pair_openblas_ms.size()},
                        {"openblas_median_ms", blas},
                        {"clgauge_median_ms", summarize(m.pair_device_ms).median},
                        {"clgauge_host_median_ms", summarize(m.pair_host_ms).median},
                        {"ratio_device", blas / summarize(m.pair_device_ms).median},
                        {"ratio_host", blas / summarize(m.pair_host_ms).median}};
  }
  if (!m.pack_ms.empty()) {
    j["timings"]["pack_median_ms"] = summarize(m.pack_ms).median;
    j["timings"]["kernel_median_ms"] = summarize(m.kernel_ms).median;
  }
  j["parity"] =
      parity ? json::parse(to_json(*parity)) : json{{"mode", m.cpu_only ? "skipped" : "none"}};
  j["seed"] = f.seed;
  j["input_seed"] = hex16(input_seed);
  j["input_distribution"] = f.distribution;
  j["env_fingerprint"] = hex16(m.fingerprint);
  s.out << j.dump(2) << "\n";
}

void print_text(const GemmFlags& f, const GemmProblem& p, const ChosenConfig& chosen,
                const Measurement& m, const std::optional<ParityReport>& parity,
                std::uint64_t input_seed, Streams s) {
  const SampleStats g = gflops_stats(p, m);
  const SampleStats t = summarize(m.run_ms);
  s.out << "device       " << m.device_label << "\n"
        << "config       " << chosen.config.canonical() << "  id " << chosen.config.id() << " ("
        << chosen.source << ")\n"
        << "problem      " << p.shape() << " " << to_string(p.layout) << " op "
        << to_string(p.trans_a) << to_string(p.trans_b) << " alpha " << p.alpha << " beta "
        << p.beta << " ld " << p.lda << "/" << p.ldb << "/" << p.ldc << "\n"
        << "inputs       " << f.distribution << ", seed " << f.seed << " -> " << hex16(input_seed)
        << "\n";
  if (!m.cpu_only) {
    s.out << "build        " << m.build_ms << " ms" << (m.cache_hit ? " (from cache)" : "") << "\n";
  }
  s.out << "first launch " << m.first_ms << " ms\n"
        << "runs         " << f.runs << " (+" << f.warmup << " warm-up): median " << t.median
        << " ms, " << g.median << " GFLOP/s (min " << g.min << ", max " << g.max << ")\n";
  if (parity) {
    s.out << "parity       " << parity->mode << " " << (parity->passed() ? "PASS" : "FAIL") << ": "
          << parity->elements << " elements, " << parity->mismatches << " mismatches, max abs "
          << parity->max_abs << ", max ulp " << parity->max_ulp;
    if (parity->first) {
      s.out << "; first at index " << parity->first->index << " (row " << parity->first->row
            << ", col " << parity->first->col << "): got " << parity->first->got << ", want "
            << parity->first->want;
    }
    s.out << "\n";
  } else {
    s.out << "parity       " << (m.cpu_only ? "skipped (no device)" : "not checked") << "\n";
  }
  if (!m.pair_openblas_ms.empty()) {
    const double ours = summarize(m.pair_device_ms).median;
    const double ours_host = summarize(m.pair_host_ms).median;
    const double blas = summarize(m.pair_openblas_ms).median;
    s.out << "openblas     " << m.pair_openblas_ms.size()
          << " runs alternating with clgauge: median " << blas << " ms, "
          << p.flops() / (blas * 1e6) << " GFLOP/s; clgauge/OpenBLAS " << blas / ours
          << " (device time), " << blas / ours_host << " (host wall)\n";
  }
  s.out << "fingerprint  " << hex16(m.fingerprint) << "\n";
}

void check_flags(const GemmFlags& f) {
  distribution_from_string(f.distribution);
  if (f.check != "bitwise" && f.check != "tolerance" && f.check != "none") {
    throw bad("--check '" + f.check + "': want bitwise|tolerance|none");
  }
  if (f.runs < 1) throw bad("--runs " + std::to_string(f.runs) + ": must be >= 1");
  if (f.warmup < 0) throw bad("--warmup " + std::to_string(f.warmup) + ": must be >= 0");
  if (!(f.safety > 0)) throw bad("--safety: must be > 0");
}

int run_gemm(const GemmFlags& f, Streams s) {
  // Everything the user typed is checked before any device work.
  const GemmProblem p = problem_from(f);
  check_flags(f);
  const auto devices = list_devices();
  const bool cpu_only = devices.empty() && f.device.device.empty();
  std::optional<DeviceInfo> info;
  if (!cpu_only) {
    info = select_device(f.device.device, devices);
    p.check_fits(*info);  // every buffer the flags imply, before anything is allocated
  }
  const ChosenConfig chosen = choose_config(f, info ? &*info : nullptr, p);
  if (f.explain) {
    s.err << "config       "
          << (chosen.explanation.empty() ? chosen.source + ": chosen by the flags"
                                         : chosen.explanation)
          << "\n";
  }
  if (info) {
    if (auto why = gemm_config_invalid_reason(chosen.config, *info)) {
      throw Error(ReasonCode::invalid_config, "invalid config: " + *why);
    }
  }

  const std::uint64_t input_seed =
      derive_seed(f.seed, "parity", chosen.config.id(), p.shape(), 0, 0);
  const GemmHostData in = make_gemm_inputs(p, input_seed, distribution_from_string(f.distribution));
  const Measurement m =
      cpu_only ? measure_on_cpu(f, p, in, s) : measure_on_device(f, *info, chosen.config, p, in);
  std::optional<ParityReport> parity;
  if (!cpu_only && f.check != "none") parity = check(f.check, p, in, m.c_out, f.safety);
  if (!f.dump.empty()) {
    dump(f.dump, p, chosen.config, in, m.c_out, f.seed, input_seed, f.distribution);
  }
  if (f.json) {
    print_json(f, p, chosen, m, parity, input_seed, s);
  } else {
    print_text(f, p, chosen, m, parity, input_seed, s);
  }
  return parity && !parity->passed() ? 1 : 0;
}

}  // namespace

Runner add_gemm_command(CLI::App& app) {
  auto f = std::make_shared<GemmFlags>();
  auto* cmd = app.add_subcommand("gemm", "run one GEMM on a device, timed, with a parity check");
  cmd->add_option("--m", f->m, "rows of op(A) and C")->capture_default_str();
  cmd->add_option("--n", f->n, "columns of op(B) and C")->capture_default_str();
  cmd->add_option("--k", f->k, "columns of op(A), rows of op(B)")->capture_default_str();
  cmd->add_option("--layout", f->layout, "row|col")->capture_default_str();
  cmd->add_option("--trans-a", f->trans_a, "n|t")->capture_default_str();
  cmd->add_option("--trans-b", f->trans_b, "n|t")->capture_default_str();
  cmd->add_option("--alpha", f->alpha)->capture_default_str();
  cmd->add_option("--beta", f->beta, "C is never read when 0")->capture_default_str();
  cmd->add_option("--lda", f->lda, "leading dimension of A (default: tight)");
  cmd->add_option("--ldb", f->ldb, "leading dimension of B (default: tight)");
  cmd->add_option("--ldc", f->ldc, "leading dimension of C (default: tight)");
  cmd->add_option("--offset-a", f->offset_a, "offset of A in its buffer, in elements");
  cmd->add_option("--offset-b", f->offset_b, "offset of B in its buffer, in elements");
  cmd->add_option("--offset-c", f->offset_c, "offset of C in its buffer, in elements");
  cmd->add_option("--family", f->family,
                  "kernel family (gemm.direct, gemm.localtile, gemm.regtile)");
  cmd->add_option("--param", f->params, "NAME=VALUE, repeatable (with --family)");
  cmd->add_option("--config", f->config, "config id (16 hex) or canonical 'family=..;P=v;..'");
  cmd->add_option("--seed", f->seed, "master seed")->capture_default_str();
  cmd->add_option("--input-distribution", f->distribution, "uniform|normal")->capture_default_str();
  cmd->add_option("--check", f->check, "bitwise|tolerance|none")->capture_default_str();
  cmd->add_option("--safety", f->safety, "tolerance safety factor")->capture_default_str();
  cmd->add_option("--runs", f->runs, "timed runs")->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "uncounted warm-up runs")->capture_default_str();
  cmd->add_option("--dump", f->dump, "write A.f32, B.f32, C_in.f32, C_out.f32, problem.json");
  cmd->add_flag("--json", f->json, "print one JSON object");
  cmd->add_flag("--vs-openblas", f->vs_openblas,
                "also time OpenBLAS sgemm on the host, alternating with the device runs");
  cmd->add_flag("--explain", f->explain,
                "say which config was chosen and why (tuning database entry, nearest shape, "
                "default)");
  f->device.add_to(*cmd);
  return [f](Streams s) { return run_gemm(*f, s); };
}

}  // namespace clgauge::cli
