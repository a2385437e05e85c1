// clgauge bench: resolving contestants, the interleaved loop, and the run itself.

#include "clgauge/bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "clgauge/baselines.hpp"
#include "clgauge/config_id.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/random.hpp"
#include "clgauge/space.hpp"

namespace clgauge {
namespace {

Error bad(const std::string& msg) {
  return Error(ReasonCode::bad_input, msg);
}

double since_s(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double since_ms(std::chrono::steady_clock::time_point t0) {
  return since_s(t0) * 1e3;
}

std::string item_label(std::string_view item) {
  return "--configs '" + std::string(item) + "'";
}

bool is_hex16(std::string_view s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

// ---- validation and resolution -------------------------------------------------------

void validate(const BenchRequest& r) {
  if (r.configs.empty() && r.baselines.empty()) {
    throw bad("--configs: no contestants (give configs or --vs baselines)");
  }
  if (r.shapes.empty()) throw bad("--shapes: empty shape list");
  for (std::size_t i = 0; i < r.configs.size(); ++i) {
    const std::string& item = r.configs[i];
    if (item.empty()) throw bad("--configs: empty item");
    if (std::find(r.configs.begin(), r.configs.begin() + static_cast<std::ptrdiff_t>(i), item) !=
        r.configs.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw bad(item_label(item) + ": given twice");
    }
    if (item == "default" || item == "tuned" || is_hex16(item)) continue;
    if (item.rfind("family:", 0) == 0) {
      try {
        gemm_family(item.substr(7));
      } catch (const Error& e) {
        throw bad(item_label(item) + ": " + e.what());
      }
      continue;
    }
    if (item.rfind("family=", 0) == 0) {
      GemmConfig::parse_canonical(item, item_label(item));
      continue;
    }
    throw bad(item_label(item) +
              ": want default, tuned, family:NAME, a canonical 'family=...;P=v;...' or a "
              "16-hex-digit config id");
  }
  for (std::size_t i = 0; i < r.baselines.size(); ++i) {
    const auto& b = r.baselines[i];
    if (b != "clblast" && b != "openblas") {
      throw bad("--vs '" + b + "': unknown baseline (want clblast, openblas)");
    }
    if (std::find(r.baselines.begin(), r.baselines.begin() + static_cast<std::ptrdiff_t>(i), b) !=
        r.baselines.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw bad("--vs '" + b + "': given twice");
    }
  }
  if (r.max_runs == 0) throw bad("--max-runs 0: must be >= 1");
  if (r.min_runs == 0) throw bad("min_runs 0: must be >= 1");
  if (!(r.target_ci_pct > 0 && r.target_ci_pct < 100)) {
    throw bad("--target-ci " + std::to_string(r.target_ci_pct) + ": must be in (0, 100)");
  }
  if (!std::isfinite(r.min_time_s) || r.min_time_s < 0) {
    throw bad("--min-time " + std::to_string(r.min_time_s) + ": must be >= 0 seconds");
  }
  if (r.warmup < 0) throw bad("warmup " + std::to_string(r.warmup) + ": must be >= 0");
  if (r.resamples == 0) throw bad("resamples: must be >= 1");
  if (!r.clblast_params.empty() &&
      std::find(r.baselines.begin(), r.baselines.end(), "clblast") == r.baselines.end()) {
    throw bad("--clblast-params needs --vs clblast");
  }
}

ResolvedConfig resolve_bench_config(std::string_view item, const DeviceInfo& device,
                                    const GemmProblem& shape, const TuningDbList& dbs) {
  ResolvedConfig r;
  r.item = std::string(item);
  if (item == "default") {
    r.config = default_gemm_config(device, shape);
    r.source = "device-default";
  } else if (item == "tuned") {
    const ConfigSelection sel = select_gemm_config(device, shape, dbs);
    r.config = sel.config;
    r.source = sel.source;
    r.explanation = sel.explanation;
  } else if (item.rfind("family:", 0) == 0) {
    try {
      r.config = GemmConfig::defaults_for(item.substr(7));
    } catch (const Error& e) {
      throw bad(item_label(item) + ": " + e.what());
    }
    r.source = "family-default";
  } else if (item.rfind("family=", 0) == 0) {
    r.config = GemmConfig::parse_canonical(item, item_label(item));
    r.source = "explicit";
  } else if (is_hex16(item)) {
    const std::string id = lower(item);
    std::vector<GemmConfig> known;
    for (const auto& f : gemm_families()) known.push_back(GemmConfig::defaults_for(f.name));
    known.push_back(default_gemm_config(device));
    known.push_back(default_gemm_config(device, shape));
    for (const auto& [file, db] : dbs) {
      for (const auto& e : db.entries) known.push_back(e.config);
    }
    std::optional<GemmConfig> found;
    for (const auto& c : known) {
      if (c.id() == id) {
        found = c;
        break;
      }
    }
    if (!found) found = find_shipped_config(id);
    if (!found) {
      throw bad(item_label(item) +
                ": unknown config id (not a family default, a device default, a tuning "
                "database entry nor a candidate of a shipped space; give the canonical "
                "'family=...;P=v;...' instead)");
    }
    r.config = *found;
    r.source = "explicit";
  } else {
    throw bad(item_label(item) +
              ": want default, tuned, family:NAME, a canonical 'family=...;P=v;...' or a "
              "16-hex-digit config id");
  }
  if (auto why = gemm_config_invalid_reason(r.config, device)) {
    throw Error(ReasonCode::invalid_config,
                item_label(item) + " (" + r.config.id() + ") for " + shape.shape() + ": " + *why);
  }
  return r;
}

// ---- the interleaved loop ------------------------------------------------------------

BenchLoopResult run_interleaved(std::span<const LaunchFn> launches, const BenchLoopOptions& o) {
  BenchLoopResult r;
  r.timings.resize(launches.size());
  r.failures.resize(launches.size());
  auto launch = [&](std::size_t i, bool counted) {
    if (r.failures[i]) return;
    try {
      const LaunchTiming t = launches[i]();
      if (counted) r.timings[i].push_back(t);
    } catch (const Error& e) {
      r.failures[i] = e;
    }
  };
  for (int w = 0; w < o.warmup; ++w) {
    for (std::size_t i = 0; i < launches.size(); ++i) launch(i, false);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t max_runs = std::max<std::size_t>(1, o.max_runs);
  while (r.rounds < max_runs) {
    for (std::size_t i = 0; i < launches.size(); ++i) launch(i, true);
    ++r.rounds;
    bool met = true;
    bool any_live = false;
    for (std::size_t i = 0; i < launches.size(); ++i) {
      if (r.failures[i] || r.timings[i].empty()) continue;
      any_live = true;
      std::vector<double> gflops;
      for (const auto& t : r.timings[i]) {
        gflops.push_back(t.device_ms > 0 ? o.flops / (t.device_ms * 1e6) : 0.0);
      }
      const MedianCi ci = median_ci(gflops);
      if (!ci.exact || ci.half_width_pct() > o.target_ci_pct) met = false;
    }
    r.converged = met && any_live;
    if (!any_live) break;
    if (r.rounds >= o.min_runs && since_s(t0) >= o.min_time_s && r.converged) break;
  }
  r.seconds = since_s(t0);
  return r;
}

// ---- the run ---------------------------------------------------------------------------

bool BenchResult::all_ok() const {
  for (const auto& s : shapes) {
    for (const auto& row : s.rows) {
      if (row.status != ReasonCode::ok) return false;
    }
  }
  return true;
}

namespace {

// One contestant of one shape, with what it needs while it is timed.
struct Live {
  BenchRow row;
  GemmKernel* kernel = nullptr;
  std::optional<GemmDeviceBuffers> buffers;
  std::vector<float> host_c;  // OpenBLAS
  LaunchFn launch;
};

std::vector<float> read_c(Device& dev, const GemmDeviceBuffers& buf, std::size_t n) {
  std::vector<float> out(n);
  dev.queue().enqueue_read_buffer(buf.c, 0, n * sizeof(float), out.data());
  return out;
}

void fail(BenchRow& row, const Error& e) {
  row.status = e.code();
  row.detail = e.what();
}

void judge(BenchRow& row, const ParityReport& report) {
  row.parity = report;
  if (report.passed()) return;
  row.status =
      report.mode == "bitwise" ? ReasonCode::parity_mismatch : ReasonCode::tolerance_exceeded;
  row.detail = report.mode + " check failed: " + std::to_string(report.mismatches) + " of " +
               std::to_string(report.elements) + " elements";
  if (report.first) {
    row.detail += " (first at row " + std::to_string(report.first->row) + ", col " +
                  std::to_string(report.first->col) + ")";
  }
}

// CLBlast parameter sets by kernel: the lowest best_time of the files for each.
std::vector<ClblastParams> pick_overrides(const std::vector<ClblastParams>& all) {
  std::map<std::string, ClblastParams> best;
  for (const auto& p : all) {
    auto it = best.find(p.kernel);
    if (it == best.end()) {
      best.emplace(p.kernel, p);
    } else if (p.best_time_ms > 0 &&
               (it->second.best_time_ms <= 0 || p.best_time_ms < it->second.best_time_ms)) {
      it->second = p;
    }
  }
  std::vector<ClblastParams> out;
  out.reserve(best.size());
  for (auto& [k, p] : best) out.push_back(std::move(p));
  return out;
}

}  // namespace

BenchResult run_bench(Device& device, const BenchRequest& req) {
  validate(req);
  const DeviceInfo& info = device.info();
  BenchResult result;
  result.device = "[" + std::to_string(info.index) + "] " + info.label() + " (" + info.type + ")";
  result.device_name = info.name;
  result.fingerprint = info.fingerprint;
  result.clgauge_version = std::string(version());
  result.min_time_s = req.min_time_s;
  result.min_runs = std::min(req.min_runs, req.max_runs);
  result.max_runs = req.max_runs;
  result.target_ci_pct = req.target_ci_pct;
  result.warmup = req.warmup;
  result.seed = req.seed;
  result.resamples = req.resamples;
  auto progress = [&](const std::string& line) {
    if (req.progress) req.progress(line);
  };

  // Everything that can be refused is refused before anything runs.
  const TuningDbList dbs =
      req.databases ? *req.databases : load_tuning_databases(tuning_device_id(info));
  std::vector<std::vector<ResolvedConfig>> resolved(req.shapes.size());
  for (std::size_t s = 0; s < req.shapes.size(); ++s) {
    const GemmProblem p = req.shapes[s].resolved();
    p.validate();
    p.check_fits(info);
    p.check_fits_host(3);
    for (const auto& item : req.configs) {
      resolved[s].push_back(resolve_bench_config(item, info, p, dbs));
    }
  }
  result.clblast_overrides = pick_overrides(req.clblast_params);
  std::vector<std::unique_ptr<ClblastOverride>> overrides;
  for (const auto& p : result.clblast_overrides) {
    overrides.push_back(std::make_unique<ClblastOverride>(device, p));
    if (!p.device.empty() && p.device != info.name) {
      result.warnings.push_back(p.source + ": tuned on '" + p.device + "', not on '" + info.name +
                                "'");
    }
  }

  const ProgramCache cache =
      req.no_cache ? ProgramCache::disabled() : ProgramCache::from_environment();
  std::map<std::string, std::unique_ptr<GemmKernel>> kernels;  // by config id
  for (std::size_t s = 0; s < req.shapes.size(); ++s) {
    const GemmProblem p = req.shapes[s].resolved();
    BenchShape shape;
    shape.problem = p;
    shape.input_seed = derive_seed(req.seed, "bench", "inputs", p.shape(), 0, 0);
    progress("[" + std::to_string(s + 1) + "/" + std::to_string(req.shapes.size()) + "] " +
             p.shape() + ": inputs and references");
    // Our kernels get NaN in C when beta == 0 (a kernel that reads C shows it); CLBlast and
    // OpenBLAS compute beta * C like any BLAS, so they get finite C.
    const GemmHostData in = make_gemm_inputs(p, shape.input_seed, Distribution::uniform, true);
    const GemmHostData in_finite =
        p.beta == 0.0f ? make_gemm_inputs(p, shape.input_seed, Distribution::uniform, false) : in;
    std::vector<float> canonical = in.c;
    gemm_reference_canonical(p, in.a, in.b, canonical);

    std::vector<Live> live;
    for (const auto& rc : resolved[s]) {
      Live l;
      l.row.name = rc.item;
      l.row.kind = "config";
      l.row.config = rc;
      live.push_back(std::move(l));
    }
    for (const auto& b : req.baselines) {
      Live l;
      l.row.name = b;
      l.row.kind = b;
      l.row.check = "tolerance";
      live.push_back(std::move(l));
    }
    // Build and check every contestant once, before any timing.
    for (auto& l : live) {
      BenchRow& row = l.row;
      progress("  " + p.shape() + ": checking " + row.name);
      try {
        if (row.kind == "config") {
          const GemmConfig& cfg = row.config->config;
          auto& k = kernels[cfg.id()];
          if (!k) k = std::make_unique<GemmKernel>(device, cache, cfg);
          l.kernel = k.get();
          l.buffers = upload_gemm_inputs(device, in);
          l.kernel->run(p, l.buffers->a, l.buffers->b, l.buffers->c);
          const auto got = read_c(device, *l.buffers, in.c.size());
          const bool bitwise = gemm_family(cfg.family).bitwise;
          row.check = bitwise ? "bitwise" : "tolerance";
          judge(row, bitwise ? compare_bitwise(p, got, canonical)
                             : compare_tolerance(p, in.a, in.b, in.c, got));
          GemmKernel* kernel = l.kernel;
          GemmDeviceBuffers* buf = &*l.buffers;
          l.launch = [&device, kernel, buf, &p, &in] {
            if (p.beta != 0.0f) {
              device.queue().enqueue_write_buffer(buf->c, 0, in.c.size() * sizeof(float),
                                                  in.c.data());
            }
            const auto t0 = std::chrono::steady_clock::now();
            const GemmTiming t = kernel->run(p, buf->a, buf->b, buf->c);
            return LaunchTiming{t.total_ms, since_ms(t0), t.kernel_ms, t.pack_ms};
          };
        } else if (row.kind == "clblast") {
          row.clblast_kernel = clblast_gemm_kernel(device, p);
          row.clblast_params.clear();
          for (const auto& [name, value] : clblast_parameters(device, row.clblast_kernel)) {
            row.clblast_params +=
                (row.clblast_params.empty() ? "" : " ") + name + "=" + std::to_string(value);
          }
          row.clblast_origin = "CLBlast defaults";
          for (const auto& o : result.clblast_overrides) {
            if (o.kernel == row.clblast_kernel) row.clblast_origin = o.source;
          }
          l.buffers = upload_gemm_inputs(device, in_finite);
          (void)clblast_gemm(device, p, *l.buffers);  // CLBlast compiles on its first call
          judge(row, compare_tolerance(p, in_finite.a, in_finite.b, in_finite.c,
                                       read_c(device, *l.buffers, in_finite.c.size())));
          GemmDeviceBuffers* buf = &*l.buffers;
          l.launch = [&device, buf, &p, &in_finite] {
            if (p.beta != 0.0f) {
              device.queue().enqueue_write_buffer(buf->c, 0, in_finite.c.size() * sizeof(float),
                                                  in_finite.c.data());
            }
            return clblast_gemm(device, p, *buf);
          };
        } else {
          l.host_c = in_finite.c;
          (void)openblas_gemm(p, in_finite, l.host_c);  // starts OpenBLAS's threads
          judge(row, compare_tolerance(p, in_finite.a, in_finite.b, in_finite.c, l.host_c));
          std::vector<float>* c = &l.host_c;
          l.launch = [c, &p, &in_finite] {
            std::copy(in_finite.c.begin(), in_finite.c.end(), c->begin());
            return openblas_gemm(p, in_finite, *c);
          };
        }
      } catch (const Error& e) {
        fail(row, e);
      }
    }

    // Time the contestants that passed, interleaved.
    std::vector<LaunchFn> launches;
    std::vector<std::size_t> index;  // live index of each launch
    for (std::size_t i = 0; i < live.size(); ++i) {
      if (live[i].row.status == ReasonCode::ok && live[i].launch) {
        launches.push_back(live[i].launch);
        index.push_back(i);
      }
    }
    progress("  " + p.shape() + ": timing " + std::to_string(launches.size()) +
             " contestants, interleaved");
    BenchLoopOptions lo;
    lo.min_runs = std::min(req.min_runs, req.max_runs);
    lo.max_runs = req.max_runs;
    lo.warmup = req.warmup;
    lo.min_time_s = req.min_time_s;
    lo.target_ci_pct = req.target_ci_pct;
    lo.flops = p.flops();
    const BenchLoopResult loop = run_interleaved(launches, lo);
    shape.rounds = loop.rounds;
    shape.seconds = loop.seconds;
    shape.converged = loop.converged;
    for (std::size_t j = 0; j < launches.size(); ++j) {
      BenchRow& row = live[index[j]].row;
      for (std::size_t r = 0; r < loop.timings[j].size(); ++r) {
        const auto& t = loop.timings[j][r];
        row.samples.push_back(BenchSample{r, t.device_ms, t.host_ms, t.kernel_ms, false});
      }
      if (loop.failures[j]) fail(row, *loop.failures[j]);
    }
    for (auto& l : live) shape.rows.push_back(std::move(l.row));
    compute_bench_statistics(shape, req.seed, req.resamples);
    progress("  " + p.shape() + ": " + std::to_string(shape.rounds) + " rounds in " +
             std::to_string(static_cast<int>(std::lround(shape.seconds))) + " s" +
             (shape.converged ? "" : " (CI target not met: max runs reached)"));
    result.shapes.push_back(std::move(shape));
  }
  return result;
}

// ---- statistics -----------------------------------------------------------------------

void compute_bench_statistics(BenchShape& shape, std::uint64_t seed, std::size_t resamples) {
  const double flops = shape.problem.flops();
  auto gflops = [&](double ms) { return ms > 0 ? flops / (ms * 1e6) : 0.0; };
  auto series = [&](const BenchRow& row, bool host) {
    std::vector<double> v;
    for (const auto& s : row.samples) v.push_back(gflops(host ? s.host_ms : s.device_ms));
    return v;
  };
  for (auto& row : shape.rows) {
    row.stats = BenchStats{};
    row.comparisons.clear();
    if (row.samples.empty()) continue;
    const auto dev = series(row, false);
    const auto host = series(row, true);
    row.stats.runs = dev.size();
    row.stats.ci = median_ci(dev);
    row.stats.median_gflops = row.stats.ci.median;
    row.stats.host_median_gflops = summarize(host).median;
    row.stats.cv = summarize(dev).cv;
    const auto out = modified_z_outliers(dev);
    row.stats.outliers = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      row.samples[i].outlier = out[i];
      row.stats.outliers += out[i] ? 1 : 0;
    }
  }
  // Ratios: to the first contestant, then to each baseline (rows of kind != "config").
  for (std::size_t i = 0; i < shape.rows.size(); ++i) {
    BenchRow& row = shape.rows[i];
    if (row.samples.empty()) continue;
    std::vector<std::pair<std::size_t, std::string>> refs;
    if (i != 0) refs.emplace_back(0, "first");
    for (std::size_t j = 0; j < shape.rows.size(); ++j) {
      if (j != i && shape.rows[j].kind != "config") {
        if (j == 0) {
          refs[0].second = "baseline";  // the first contestant is a baseline: one comparison
        } else {
          refs.emplace_back(j, "baseline");
        }
      }
    }
    for (const auto& [j, role] : refs) {
      const BenchRow& other = shape.rows[j];
      if (other.samples.empty()) continue;
      BenchComparison c;
      c.against = other.name;
      c.role = role;
      const bool host = row.kind != "config" || other.kind != "config";
      c.metric = host ? "host" : "device";
      const auto a = series(row, host);
      const auto b = series(other, host);
      const std::uint64_t s =
          derive_seed(seed, "bench", "bootstrap/" + std::to_string(i) + "/" + std::to_string(j),
                      shape.problem.shape(), 0, 0);
      c.ratio = bootstrap_median_ratio_ci(a, b, s, resamples);
      c.test = mann_whitney_u(a, b);
      c.verdict = decide_verdict(c.ratio, c.test.p_value);
      c.effect_pct = (c.ratio.ratio - 1.0) * 100.0;
      row.comparisons.push_back(std::move(c));
    }
  }
}

}  // namespace clgauge
