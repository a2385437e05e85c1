// Search strategies: proposal cost (Google Benchmark), and the simulation experiment of
// docs/search.md.
//
//   bench_search [benchmark flags]        time one proposal at 17,956 configs (the CLBlast
//                                         Xgemm recording shipped in tests/data/search/kt)
//   bench_search --experiment OUT FILE..  every strategy x 20 seeds on each recording: writes
//                                         OUT/search-experiment.md (the table) and
//                                         OUT/<name>-best-so-far.{dat,png} (gnuplot)

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "clgauge/search.hpp"

namespace {

namespace fs = std::filesystem;
using namespace clgauge;

fs::path data_dir() {
  return fs::path(__FILE__).parent_path().parent_path() / "tests" / "data" / "search" / "kt";
}

const RecordedSpace& xgemm() {
  static const RecordedSpace rs =
      load_recorded_space(data_dir() / "kt-cache-clblast-xgemm-rtx2080ti.json.gz");
  return rs;
}

// One proposal after `history` evaluations drawn by the strategy itself.
void BM_Propose(benchmark::State& state, const char* strategy) {
  const RecordedSpace& rs = xgemm();
  const auto n = static_cast<std::size_t>(state.range(0));
  auto s = make_search_strategy(strategy, 1);
  s->set_budget(1000);
  std::vector<Observation> history;
  while (history.size() < n) {
    const auto next = s->propose(rs.space, history, 1);
    history.push_back({next.front(), rs.objective[next.front()]});
  }
  for (auto _ : state) {
    auto p = s->propose(rs.space, history, 1);
    benchmark::DoNotOptimize(p);
  }
  state.counters["configs"] = static_cast<double>(rs.space.configs.size());
}
BENCHMARK_CAPTURE(BM_Propose, random, "random")->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Propose, local, "local")->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Propose, bo, "bo")
    ->Arg(20)
    ->Arg(60)
    ->Arg(100)
    ->Arg(200)
    ->Arg(400)
    ->Unit(benchmark::kMillisecond);

// ------------------------------------------------------------------------------ experiment

constexpr std::size_t kSeeds = 20;

std::uint64_t budget_for(const std::string& strategy, std::size_t space) {
  if (strategy == "bo") return std::min<std::size_t>(space, 200);
  if (strategy == "local") return std::min<std::size_t>(space, 3000);
  return space;  // exhaustive and random: the whole space, so every margin is reached
}

std::string cell(const std::optional<double>& v, int precision = 4) {
  if (!v) return "never";
  std::ostringstream o;
  o.precision(precision);
  o << *v;
  return o.str();
}

std::string ratio_cell(const std::optional<double>& v) {
  if (!v) return "none";
  std::ostringstream o;
  o << std::fixed;
  o.precision(3);
  o << *v;
  return o.str();
}

// An evaluation count (a median may end in .5).
std::string count_cell(const std::optional<double>& v) {
  if (!v) return "never";
  std::ostringstream o;
  o << std::fixed;
  o.precision(*v == std::floor(*v) ? 0 : 1);
  o << *v;
  return o.str();
}

int experiment(const fs::path& out, const std::vector<std::string>& files) {
  fs::create_directories(out);
  std::ofstream md(out / "search-experiment.md");
  md << std::unitbuf;
  md << "| recording | strategy | budget | to 1%: median / p90 (reached) | to 5% | to 10% | "
        "best/opt after 25 | 50 | 100 | 200 |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& file : files) {
    const RecordedSpace rs = load_recorded_space(file);
    const std::string name =
        fs::path(file).filename().string().substr(0, fs::path(file).filename().string().find('.'));
    std::cerr << name << ": " << rs.space.configs.size() << " configs\n";
    std::vector<std::vector<double>> curves;  // per strategy: median best/opt after i evals
    const std::size_t kCurve = 1000;
    std::vector<std::pair<std::string, std::uint64_t>> runs;
    for (const auto& strategy : search_strategy_names()) {
      if (strategy == "bo")
        runs.emplace_back(strategy, std::min<std::size_t>(rs.space.configs.size(), 100));
      runs.emplace_back(strategy, budget_for(strategy, rs.space.configs.size()));
    }
    for (const auto& [strategy, budget] : runs) {
      const auto s = simulate_repeat(rs, strategy, 1, kSeeds, budget);
      md << "| " << name << " | " << strategy << " | " << budget;
      for (std::size_t m = 0; m < 3; ++m) {
        md << " | " << count_cell(s.within[m].median) << " / " << count_cell(s.within[m].p90)
           << " (" << s.within[m].reached << "/" << kSeeds << ")";
      }
      for (std::size_t k = 0; k < 4; ++k) md << " | " << ratio_cell(s.best_after_ratio_median[k]);
      md << " |\n";
      std::vector<double> curve;
      for (std::size_t i = 0; i < std::min(kCurve, static_cast<std::size_t>(budget)); ++i) {
        std::vector<double> v;
        for (const auto& r : s.results) {
          const auto bsf = r.best_so_far();
          const auto& b = bsf[std::min(i, bsf.size() - 1)];
          v.push_back(b ? *b / *rs.optimum() : 1e9);
        }
        std::sort(v.begin(), v.end());
        curve.push_back(0.5 * (v[(v.size() - 1) / 2] + v[v.size() / 2]));
      }
      if (budget == budget_for(strategy, rs.space.configs.size()))
        curves.push_back(std::move(curve));
      std::cerr << "  " << strategy << " " << budget << " done\n";
    }
    const fs::path dat = out / (name + "-best-so-far.dat");
    std::ofstream d(dat);
    d << "# evaluations, then per strategy ("
      << "exhaustive random local bo"
      << "): median over " << kSeeds << " seeds of best-so-far / optimum\n";
    for (std::size_t i = 0; i < kCurve; ++i) {
      d << i + 1;
      for (const auto& c : curves) d << " " << (i < c.size() ? cell(c[i], 6) : std::string("NaN"));
      d << "\n";
    }
    d.close();
    const fs::path png = out / (name + "-best-so-far.png");
    const std::string script =
        "set terminal pngcairo size 800,500 noenhanced\nset output '" + png.string() +
        "'\nset logscale x\nset logscale y\nset xlabel 'evaluations'\nset ylabel 'best so far / "
        "optimum (median of " +
        std::to_string(kSeeds) + " seeds)'\nset title '" + name +
        "'\nset key top right opaque\nset grid\nset yrange [0.99:2.5]\nset ytics (1, 1.01, 1.05, "
        "1.1, 1.2, 1.5, 2, 2.5)\nplot '" +
        dat.string() +
        "' using 1:2 with lines lw 2 title 'exhaustive', '' using 1:3 with lines lw 2 title "
        "'random', '' using 1:4 with lines lw 2 title 'local', '' using 1:5 with lines lw 2 "
        "title 'bo', 1.05 with lines dt 2 lc rgb 'gray' title 'within 5%'\n";
    std::ofstream(out / (name + "-best-so-far.gp")) << script;
    FILE* gp = popen("gnuplot", "w");
    if (gp) {
      std::fputs(script.c_str(), gp);
      if (pclose(gp) != 0) std::cerr << "gnuplot failed; " << dat << " is written\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--experiment") {
    if (argc < 4) {
      std::cerr << "usage: bench_search --experiment OUT_DIR RECORDING...\n";
      return 2;
    }
    return experiment(argv[2], std::vector<std::string>(argv + 3, argv + argc));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
