// clgauge tune: the GEMM autotuner from the command line. Flags in, TuneRequest out,
// clgauge::tune() does the work, this file prints progress and the summary.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/search.hpp"
#include "clgauge/tune_report.hpp"
#include "clgauge/tuner.hpp"
#include "clgauge/tuning_db.hpp"
#include "cli/command.hpp"
#include "cli/simulate.hpp"

namespace clgauge::cli {
namespace {

struct TuneFlags {
  std::string family = "all";
  std::vector<std::string> spaces;
  std::string shapes;
  std::string layout = "row", trans_a = "n", trans_b = "n";
  std::string strategy;
  std::optional<std::uint64_t> budget_configs;
  std::string budget_time;  // "" = 5m live, no bound in simulation
  std::uint64_t top_k = 3, sessions = 3, runs = 5;
  double abandon_factor = 2.0;
  std::uint64_t seed = 42;
  unsigned jobs = 0;
  std::string store, db, report, shard;
  double build_timeout = 300, run_timeout = 120;
  bool no_baselines = false;
  bool json = false;
  bool no_progress = false;
  std::string simulate;
  std::uint64_t repeat = 1;
  std::string sim_shape;
  DeviceFlags device;
  std::string command_line;
};

Error bad(const std::string& m) {
  return Error(ReasonCode::bad_input, m);
}

// "90s", "5m", "1.5h", "120" (seconds); "none" for no bound.
std::optional<double> parse_duration(const std::string& text) {
  if (text == "none") return std::nullopt;
  double scale = 1;
  std::string number = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        number.pop_back();
        break;
      case 'm':
        scale = 60;
        number.pop_back();
        break;
      case 'h':
        scale = 3600;
        number.pop_back();
        break;
      default:
        break;
    }
  }
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (number.empty() || used != number.size() || !std::isfinite(v)) {
    throw bad("--budget-time '" + text + "': want a duration like 90s, 5m, 1h or none");
  }
  if (!(v > 0)) throw bad("--budget-time '" + text + "': must be > 0");
  return v * scale;
}

// --shapes with the run's layout and ops.
std::vector<GemmProblem> parse_shapes(const std::string& list, const TuneFlags& f) {
  auto shapes = parse_gemm_shapes(list);
  for (auto& p : shapes) {
    p.layout = layout_from_string(f.layout);
    p.trans_a = op_from_string(f.trans_a);
    p.trans_b = op_from_string(f.trans_b);
  }
  return shapes;
}

std::filesystem::path data_home() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
    return std::filesystem::path(x) / "clgauge";
  if (const char* h = std::getenv("HOME"); h && *h) {
    return std::filesystem::path(h) / ".local" / "share" / "clgauge";
  }
  return std::filesystem::current_path() / ".clgauge";
}

// A folder we may write into: created when missing; otherwise an error naming the flag.
void require_writable_dir(const std::filesystem::path& dir, const std::string& flag) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0) {
    throw bad(flag + " '" + dir.string() + "': not a writable directory" +
              (ec ? " (" + ec.message() + ")" : ""));
  }
}

TuneRequest make_request(const TuneFlags& f) {
  TuneRequest r;
  r.shapes = f.shapes.empty() ? default_tune_shapes() : parse_shapes(f.shapes, f);
  for (auto& p : r.shapes) {
    p.layout = layout_from_string(f.layout);
    p.trans_a = op_from_string(f.trans_a);
    p.trans_b = op_from_string(f.trans_b);
  }
  if (f.family.empty()) throw bad("--family '': want a family name or all");
  r.families = {f.family};
  for (const auto& s : f.spaces) r.spaces.push_back(find_space_file(s));
  r.strategy = f.strategy;
  r.budget_configs = f.budget_configs;
  r.budget_time_s = parse_duration(f.budget_time.empty() ? "5m" : f.budget_time);
  r.top_k = f.top_k;
  r.replay_sessions = f.sessions;
  r.replay_runs = f.runs;
  r.abandon_factor = f.abandon_factor;
  r.seed = f.seed;
  r.jobs = f.jobs;
  if (!f.shard.empty()) r.shard = Shard::parse(f.shard, "--shard");
  r.build_timeout_s = f.build_timeout;
  r.run_timeout_s = f.run_timeout;
  r.clblast_baseline = r.openblas_baseline = !f.no_baselines;
  r.no_cache = f.device.no_cache;
  r.command_line = f.command_line;
  validate(r);
  return r;
}

std::string fmt(double v, int prec = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string duration_text(double s) {
  if (s < 0) return "?";
  if (s < 90) return fmt(s, 0) + "s";
  return fmt(s / 60, 1) + "m";
}

// One line per call on a terminal (redrawn in place); otherwise a line every 10 s and at
// every phase change.
class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& err, bool enabled)
      : err_(err), enabled_(enabled), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressPrinter() {
    if (tty_ && drawn_) err_ << "\n";
  }
  void operator()(const TuneProgress& p) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    std::string line = "[" + std::to_string(p.shape_index + 1) + "/" + std::to_string(p.shapes) +
                       "] " + p.shape + " " + p.phase + " " + std::to_string(p.done) + "/" +
                       std::to_string(p.total);
    if (p.best_gflops > 0) {
      line += "  best " + fmt(p.best_gflops) + " GFLOP/s";
      if (p.default_gflops > 0)
        line += " (" + fmt(p.best_gflops / p.default_gflops, 2) + "x default)";
    }
    if (p.eta_s >= 0 && p.phase == "search") line += "  eta " + duration_text(p.eta_s);
    line += "  " + duration_text(p.elapsed_s);
    if (tty_) {
      std::string shown = line + "  " + p.current;
      if (shown.size() > 150) shown.resize(150);
      err_ << "\r\033[K" << shown << std::flush;
      drawn_ = true;
      return;
    }
    if (p.phase != last_phase_ || now - last_ >= std::chrono::seconds(10) || p.phase == "done") {
      err_ << "clgauge tune: " << line << "\n";
      last_ = now;
      last_phase_ = p.phase;
    }
  }

 private:
  std::ostream& err_;
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::string last_phase_;
};

std::string ratio_text(const ShapeResult& s, const std::string& name) {
  if (!s.winner) return "-";
  for (const auto& b : s.baselines) {
    if (b.name == name && b.gflops > 0) return fmt(s.replay[*s.winner].median_gflops / b.gflops, 2);
  }
  return "-";
}

void print_summary(const TuneResult& r, const std::filesystem::path& report_dir, Streams s) {
  s.out << "device       " << r.device << "  fingerprint " << r.env_fingerprint << "\n"
        << "plan         " << r.plan_hash << "  strategy " << r.strategy << "  families "
        << r.families.front() << "\n";
  s.out << "shape              winner            family          GFLOP/s  x default  x clblast  "
           "x openblas  decision  evaluated\n";
  for (const auto& sh : r.shapes) {
    char line[256];
    const ReplayResult* w = sh.winner ? &sh.replay[*sh.winner] : nullptr;
    std::snprintf(line, sizeof line, "%-18s %-17s %-15s %8s  %9s  %9s  %10s  %-8s  %zu/%lu\n",
                  sh.shape.c_str(), w ? w->config_id.c_str() : "-",
                  w ? w->config.family.c_str() : "-", w ? fmt(w->median_gflops).c_str() : "-",
                  ratio_text(sh, "default").c_str(), ratio_text(sh, "clblast").c_str(),
                  ratio_text(sh, "openblas").c_str(), std::string(to_string(sh.decision)).c_str(),
                  sh.candidates.size(), static_cast<unsigned long>(sh.space_size));
    s.out << line;
    if (!sh.decision_reason.empty()) s.out << "                   " << sh.decision_reason << "\n";
  }
  s.out << "time         " << fmt(r.wall_s) << " s"
        << (r.ran_out_of_time ? " (the time budget ran out: results are the best found in time)"
                              : "")
        << "\n";
  if (r.resumed_evaluations > 0) {
    s.out << "resumed      " << r.resumed_evaluations << " evaluations from the store\n";
  }
  if (!r.db_file.empty()) s.out << "database     " << r.db_file.string() << "\n";
  s.out << "report       " << report_dir.string() << "/report.md\n";
}

int run_tune(TuneFlags& f, Streams s) {
  if (!f.simulate.empty()) {
    SimulateFlags sim;
    sim.file = f.simulate;
    sim.strategy = f.strategy.empty() ? "bo" : f.strategy;
    sim.budget_configs = f.budget_configs.value_or(100);
    sim.seed = f.seed;
    sim.repeat = f.repeat;
    sim.json = f.json;
    sim.shape = f.sim_shape;
    if (!f.budget_time.empty()) sim.budget_time = parse_duration(f.budget_time);
    return run_simulate(sim, s);
  }
  if (f.repeat != 1) throw bad("--repeat needs --simulate");
  TuneRequest req = make_request(f);
  // Everything the user typed is checked; now the device.
  const auto devices = list_devices();
  if (devices.empty()) {
    throw Error(ReasonCode::device_unavailable,
                "no OpenCL device found: tuning needs one (clgauge gemm runs on the CPU path)");
  }
  const DeviceInfo device = select_device(f.device.device, devices);
  const std::string plan = tune_plan_hash(device, req);
  const std::filesystem::path run_dir = data_home() / "runs" / plan;
  const std::filesystem::path report_dir =
      f.report.empty() ? run_dir / "report" : std::filesystem::path(f.report);
  req.store = f.store.empty() ? run_dir / "store.sqlite" : std::filesystem::path(f.store);
  req.db_dir = f.db.empty() ? user_tuning_db_dir() : std::filesystem::path(f.db);
  require_writable_dir(req.db_dir, "--db");
  require_writable_dir(report_dir, "--report");
  if (req.store.has_parent_path()) require_writable_dir(req.store.parent_path(), "--store");
  if (std::filesystem::is_directory(req.store)) {
    throw bad("--store '" + req.store.string() + "': is a directory, want a file");
  }
  ProgressPrinter printer(s.err, !f.no_progress);
  req.progress = [&printer](const TuneProgress& p) { printer(p); };
  const TuneResult result = tune(device, req);
  const ReportFiles files = write_tune_report(result.report_json, report_dir);
  for (const auto& w : files.warnings) s.err << "clgauge tune: " << w << "\n";
  if (f.json) {
    s.out << result.report_json << "\n";
  } else {
    print_summary(result, report_dir, s);
  }
  return 0;
}

}  // namespace

Runner add_tune_command(CLI::App& app) {
  auto f = std::make_shared<TuneFlags>();
  auto* cmd = app.add_subcommand("tune", "autotune GEMM for your shapes on your device");
  cmd->add_option("--family", f->family, "gemm.regtile, gemm.localtile, ... or all")
      ->capture_default_str();
  cmd->add_option("--space", f->spaces, "space NAME or FILE, repeatable (replaces --family)");
  cmd->add_option("--shapes", f->shapes,
                  "comma-separated 512 (square) or MxNxK items (default: a square and skinny set)");
  cmd->add_option("--layout", f->layout, "row|col")->capture_default_str();
  cmd->add_option("--trans-a", f->trans_a, "n|t")->capture_default_str();
  cmd->add_option("--trans-b", f->trans_b, "n|t")->capture_default_str();
  cmd->add_option("--strategy", f->strategy,
                  "search strategy (default: bo when the budget is smaller than the space, else "
                  "exhaustive)");
  cmd->add_option("--budget-configs", f->budget_configs, "candidates evaluated per shape");
  cmd->add_option("--budget-time", f->budget_time,
                  "bound on the whole run, replay included: 90s, 5m (default), 1h or none");
  cmd->add_option("--top-k", f->top_k, "candidates replayed per shape")->capture_default_str();
  cmd->add_option("--replay-sessions", f->sessions, "replay sessions")->capture_default_str();
  cmd->add_option("--replay-runs", f->runs, "runs per replay session")->capture_default_str();
  cmd->add_option("--abandon-factor", f->abandon_factor,
                  "abandon a candidate slower than this multiple of the best so far")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "master seed")->capture_default_str();
  cmd->add_option("--jobs", f->jobs, "parallel builds (default: the number of cores)");
  cmd->add_option("--store", f->store,
                  "results store (default: $XDG_DATA_HOME/clgauge/runs/<plan>/store.sqlite)");
  cmd->add_option("--db", f->db, "tuning database folder (default: $XDG_DATA_HOME/clgauge/db)");
  cmd->add_option("--report", f->report,
                  "report folder (default: $XDG_DATA_HOME/clgauge/runs/<plan>/report)");
  cmd->add_option("--shard", f->shard, "i/N: tune only that shard of each space");
  cmd->add_option("--build-timeout", f->build_timeout, "seconds a build may take")
      ->capture_default_str();
  cmd->add_option("--run-timeout", f->run_timeout, "seconds a verified, timed evaluation may take")
      ->capture_default_str();
  cmd->add_flag("--no-baselines", f->no_baselines, "skip the CLBlast and OpenBLAS baselines");
  cmd->add_flag("--json", f->json, "print report.json instead of the summary");
  cmd->add_flag("--no-progress", f->no_progress, "no progress lines on stderr");
  cmd->add_option(
      "--simulate", f->simulate,
      "run the strategy against recorded measurements (Kernel Tuner cache .json/.json.gz "
      "or a clgauge store) instead of live kernels");
  cmd->add_option("--repeat", f->repeat, "with --simulate: seeds seed..seed+N-1")
      ->capture_default_str();
  cmd->add_option(
      "--simulate-shape", f->sim_shape,
      "with --simulate on a store: the shape to replay (default: the one with most rows)");
  f->device.add_to(*cmd);
  return [f, cmd](Streams s) {
    f->command_line = "clgauge tune";
    for (const auto& r : cmd->get_options()) {
      if (r->count() == 0 || r->get_name() == "--help") continue;
      f->command_line += " " + r->get_name();
      if (r->get_type_size() == 0) continue;  // a flag
      for (const auto& v : r->results()) f->command_line += " " + v;
    }
    return run_tune(*f, s);
  };
}

}  // namespace clgauge::cli
