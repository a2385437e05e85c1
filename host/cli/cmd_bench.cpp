// clgauge bench: configs against each other, CLBlast and OpenBLAS, with verdicts. Flags in,
// BenchRequest out, clgauge::run_bench() does the work, this file prints the result.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "clgauge/bench.hpp"
#include "clgauge/error.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/tuner.hpp"
#include "cli/command.hpp"

namespace clgauge::cli {
namespace {

struct BenchFlags {
  std::string configs = "tuned,default";
  std::string shapes;
  std::string layout = "row", trans_a = "n", trans_b = "n";
  std::string vs;
  std::vector<std::string> clblast_params;
  double min_time = 1.0;
  std::uint64_t max_runs = 20;
  double target_ci = 2.0;
  std::uint64_t seed = 42;
  bool json = false;
  bool csv = false;
  std::string plot;
  DeviceFlags device;
};

Error bad(const std::string& m) {
  return Error(ReasonCode::bad_input, m);
}

// Comma-separated items; an empty item is an error naming the flag.
std::vector<std::string> split_list(const std::string& list, const std::string& flag) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto end = std::min(list.find(',', pos), list.size());
    std::string item = list.substr(pos, end - pos);
    if (item.empty()) {
      throw bad(flag + " '" + list + "': empty item " + std::to_string(out.size()));
    }
    out.push_back(std::move(item));
    pos = end + 1;
  }
  return out;
}

BenchRequest make_request(const BenchFlags& f) {
  BenchRequest r;
  r.configs = split_list(f.configs, "--configs");
  r.shapes = f.shapes.empty() ? default_tune_shapes() : parse_gemm_shapes(f.shapes);
  for (auto& p : r.shapes) {
    p.layout = layout_from_string(f.layout);
    p.trans_a = op_from_string(f.trans_a);
    p.trans_b = op_from_string(f.trans_b);
  }
  if (!f.vs.empty()) r.baselines = split_list(f.vs, "--vs");
  for (const auto& file : f.clblast_params) r.clblast_params.push_back(load_clblast_params(file));
  r.min_time_s = f.min_time;
  r.max_runs = f.max_runs;
  r.target_ci_pct = f.target_ci;
  r.seed = f.seed;
  r.no_cache = f.device.no_cache;
  validate(r);
  return r;
}

int run_bench_command(const BenchFlags& f, Streams s) {
  // Everything the user typed is checked before the device is touched.
  if (f.json && f.csv) throw bad("--json and --csv: give one of them");
  BenchRequest req = make_request(f);
  if (!f.plot.empty()) {
    const std::filesystem::path png(f.plot);
    const auto dir = png.has_parent_path() ? png.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
      throw bad("--plot '" + f.plot + "': folder '" + dir.string() + "' is not writable");
    }
    if (!png.has_filename() || std::filesystem::is_directory(png, ec)) {
      throw bad("--plot '" + f.plot + "': want a file name");
    }
  }
  req.progress = [&s](const std::string& line) { s.err << "clgauge bench: " << line << "\n"; };
  Device device = f.device.open();
  const BenchResult result = run_bench(device, req);
  if (f.json) {
    s.out << bench_json(result);
  } else if (f.csv) {
    s.out << bench_csv(result);
  } else {
    s.out << bench_table(result);
  }
  if (!f.plot.empty()) {
    for (const auto& w : write_bench_plot(result, f.plot)) s.err << "clgauge bench: " << w << "\n";
  }
  return result.all_ok() ? 0 : 1;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand(
      "bench", "benchmark GEMM configs against each other, CLBlast and OpenBLAS, with verdicts");
  cmd->add_option("--configs", f->configs,
                  "comma-separated: default, tuned, family:NAME, a config id (16 hex) or a "
                  "canonical 'family=...;P=v;...'")
      ->capture_default_str();
  cmd->add_option("--shapes", f->shapes,
                  "comma-separated MxNxK or N (= NxNxN) (default: the tuner's default shapes)");
  cmd->add_option("--layout", f->layout, "row|col")->capture_default_str();
  cmd->add_option("--trans-a", f->trans_a, "n|t")->capture_default_str();
  cmd->add_option("--trans-b", f->trans_b, "n|t")->capture_default_str();
  cmd->add_option("--vs", f->vs, "baselines, comma-separated: clblast, openblas");
  cmd->add_option("--clblast-params", f->clblast_params,
                  "JSON written by CLBlast's clblast_tuner_xgemm or clblast_tuner_xgemm_direct, "
                  "applied through CLBlast's OverrideParameters (repeatable: one per kernel)")
      ->check(input_file_validator());
  cmd->add_option("--min-time", f->min_time, "seconds of timed rounds per shape, at least")
      ->capture_default_str();
  cmd->add_option("--max-runs", f->max_runs, "timed runs per contestant, at most")
      ->capture_default_str();
  cmd->add_option("--target-ci", f->target_ci,
                  "stop when every median's 95% CI half-width is within this many percent")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "inputs and bootstrap resampling")->capture_default_str();
  cmd->add_flag("--json", f->json, "print every sample and statistic as one JSON document");
  cmd->add_flag("--csv", f->csv, "print every sample as CSV");
  cmd->add_option("--plot", f->plot, "write a PNG: GFLOP/s by shape per contestant, CI bars");
  f->device.add_to(*cmd);
  return [f](Streams s) { return run_bench_command(*f, s); };
}

}  // namespace clgauge::cli
