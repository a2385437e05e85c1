// clgauge bench output: the table people read, the JSON and CSV that carry every sample,
// and the gnuplot PNG.

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "clgauge/bench.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/tune_report.hpp"

namespace clgauge {
namespace {

using json = nlohmann::ordered_json;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Shortest text that reads back to the same double ("nan"/"inf" never occur in samples).
std::string num(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string pad(std::string s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string problem_text(const GemmProblem& p) {
  std::string s = p.shape() + " " + std::string(to_string(p.layout)) + " op " +
                  std::string(to_string(p.trans_a)) + std::string(to_string(p.trans_b));
  if (p.alpha != 1.0f || p.beta != 0.0f) {
    s += " alpha " + num(p.alpha) + " beta " + num(p.beta);
  }
  return s;
}

std::string ratio_cell(const BenchComparison& c) {
  std::string v(to_string(c.verdict));
  if (c.verdict == Verdict::tie) v += " " + fmt("%+.1f%%", c.effect_pct);
  return fmt("%.2f", c.ratio.ratio) + " [" + fmt("%.2f", c.ratio.lo) + "," +
         fmt("%.2f", c.ratio.hi) + "] " + v;
}

const BenchComparison* comparison(const BenchRow& row, const std::string& against) {
  for (const auto& c : row.comparisons) {
    if (c.against == against) return &c;
  }
  return nullptr;
}

json problem_json(const GemmProblem& p) {
  return {{"shape", p.shape()},
          {"m", p.m},
          {"n", p.n},
          {"k", p.k},
          {"layout", std::string(to_string(p.layout))},
          {"trans_a", std::string(to_string(p.trans_a))},
          {"trans_b", std::string(to_string(p.trans_b))},
          {"alpha", p.alpha},
          {"beta", p.beta}};
}

json config_json(const ResolvedConfig& rc) {
  json params = json::object();
  for (const auto& [name, value] : rc.config.params) params[name] = value;
  return {
      {"family", rc.config.family}, {"id", rc.config.id()}, {"canonical", rc.config.canonical()},
      {"params", params},           {"source", rc.source},  {"explanation", rc.explanation}};
}

json clblast_params_json(const ClblastParams& p) {
  json params = json::object();
  for (const auto& [name, value] : p.params) params[name] = value;
  return {{"source", p.source},
          {"kernel", p.kernel},
          {"kernel_family", p.kernel_family},
          {"best_time_ms", p.best_time_ms},
          {"device", p.device},
          {"m", p.m},
          {"n", p.n},
          {"k", p.k},
          {"params", params}};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string bench_table(const BenchResult& r) {
  std::string out = "device   " + r.device + "\n";
  out += "method   interleaved rounds after " + std::to_string(r.warmup) +
         " warm-up; stop when every median's 95% CI is within " + fmt("%g", r.target_ci_pct) +
         "% (at least " + std::to_string(r.min_runs) + " runs and " + fmt("%g", r.min_time_s) +
         " s) or at " + std::to_string(r.max_runs) + " runs; seed " + std::to_string(r.seed) + "\n";
  for (const auto& w : r.warnings) out += "warning  " + w + "\n";
  for (const auto& s : r.shapes) {
    out += "\n" + problem_text(s.problem) + ": " + std::to_string(s.rounds) + " rounds, " +
           fmt("%.1f", s.seconds) + " s, " +
           (s.converged ? "CI target met" : "CI target not met (run limit)") + "\n";
    // Ratio columns: the first contestant, then each baseline.
    std::vector<std::string> cols;
    if (!s.rows.empty()) cols.push_back(s.rows.front().name);
    for (const auto& row : s.rows) {
      if (row.kind != "config" && std::find(cols.begin(), cols.end(), row.name) == cols.end()) {
        cols.push_back(row.name);
      }
    }
    std::size_t name_w = 10;
    for (const auto& row : s.rows) name_w = std::max(name_w, row.name.size() + 2);
    const std::size_t ratio_w = 30;
    std::string head = pad("contestant", name_w) + pad("GFLOP/s", 9, true) + "  " +
                       pad("95% CI", 17) + pad("host GF/s", 9, true) + pad("CV", 7, true) +
                       pad("runs", 6, true) + pad("out", 5, true) + "  ";
    for (const auto& c : cols) head += pad("x " + c, ratio_w);
    while (!head.empty() && head.back() == ' ') head.pop_back();
    out += head + "\n";
    for (const auto& row : s.rows) {
      std::string line = pad(row.name, name_w);
      if (row.samples.empty()) {
        line += "not timed: " + std::string(to_string(row.status)) + ": " + row.detail;
        out += line + "\n";
        continue;
      }
      const BenchStats& st = row.stats;
      line += pad(fmt("%.1f", st.median_gflops), 9, true) + "  " +
              pad("[" + fmt("%.1f", st.ci.lo) + ", " + fmt("%.1f", st.ci.hi) + "]", 17) +
              pad(fmt("%.1f", st.host_median_gflops), 9, true) +
              pad(fmt("%.1f%%", st.cv * 100), 7, true) + pad(std::to_string(st.runs), 6, true) +
              pad(std::to_string(st.outliers), 5, true) + "  ";
      for (const auto& c : cols) {
        const BenchComparison* cmp = comparison(row, c);
        line += pad(cmp ? ratio_cell(*cmp) : "-", ratio_w);
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      if (row.status != ReasonCode::ok) {
        line += "  (stopped: " + std::string(to_string(row.status)) + ")";
      }
      out += line + "\n";
    }
    // What each contestant was.
    for (const auto& row : s.rows) {
      if (row.config) {
        out += "  " + row.name + " = " + row.config->config.id() + " " +
               row.config->config.canonical() + " (" + row.config->source + ")";
      } else if (row.kind == "clblast" && !row.clblast_kernel.empty()) {
        out +=
            "  clblast ran " + row.clblast_kernel + " with " +
            (row.clblast_origin == "CLBlast defaults" ? "CLBlast's defaults"
                                                      : "parameters from " + row.clblast_origin) +
            ": " + row.clblast_params;
      } else if (row.kind == "openblas") {
        out += "  openblas = cblas_sgemm on the host";
      } else {
        continue;
      }
      if (row.parity) {
        out += "; " + row.check + " check " + (row.parity->passed() ? "passed" : "FAILED");
      }
      out += "\n";
    }
  }
  out +=
      "\nratio: median GFLOP/s of the row / of the column (host wall time when a baseline is "
      "involved,\ndevice time otherwise), bootstrap 95% CI; faster/slower: the whole CI beyond "
      "1% and\nMann-Whitney p < 0.05, else tie (effect). out: runs with modified Z > 3.5, kept.\n";
  return out;
}

std::string bench_json(const BenchResult& r) {
  json j;
  j["schema"] = kBenchSchema;
  j["clgauge_version"] = r.clgauge_version;
  j["device"] = r.device;
  j["env_fingerprint"] = hex16(r.fingerprint);
  j["settings"] = {{"min_time_s", r.min_time_s},
                   {"min_runs", r.min_runs},
                   {"max_runs", r.max_runs},
                   {"target_ci_pct", r.target_ci_pct},
                   {"warmup", r.warmup},
                   {"seed", r.seed},
                   {"resamples", r.resamples},
                   {"ci_level", 0.95},
                   {"verdict_margin", 0.01},
                   {"verdict_alpha", 0.05},
                   {"outlier_z", 3.5}};
  json overrides = json::array();
  for (const auto& p : r.clblast_overrides) overrides.push_back(clblast_params_json(p));
  j["clblast_overrides"] = overrides;
  j["warnings"] = r.warnings;
  json shapes = json::array();
  for (const auto& s : r.shapes) {
    json js;
    js["problem"] = problem_json(s.problem);
    js["input_seed"] = hex16(s.input_seed);
    js["rounds"] = s.rounds;
    js["seconds"] = s.seconds;
    js["converged"] = s.converged;
    json rows = json::array();
    for (const auto& row : s.rows) {
      json jr;
      jr["name"] = row.name;
      jr["kind"] = row.kind;
      jr["config"] = row.config ? config_json(*row.config) : json(nullptr);
      jr["check"] = row.check;
      jr["parity"] = row.parity ? json::parse(to_json(*row.parity)) : json(nullptr);
      jr["status"] = std::string(to_string(row.status));
      jr["detail"] = row.detail;
      if (row.kind == "clblast") {
        jr["clblast"] = {{"kernel", row.clblast_kernel},
                         {"params", row.clblast_params},
                         {"origin", row.clblast_origin}};
      }
      if (row.samples.empty()) {
        jr["stats"] = nullptr;
      } else {
        const BenchStats& st = row.stats;
        jr["stats"] = {{"runs", st.runs},
                       {"median_gflops", st.median_gflops},
                       {"host_median_gflops", st.host_median_gflops},
                       {"ci_lo", st.ci.lo},
                       {"ci_hi", st.ci.hi},
                       {"ci_coverage", st.ci.coverage},
                       {"ci_exact", st.ci.exact},
                       {"ci_half_width_pct", st.ci.half_width_pct()},
                       {"cv", st.cv},
                       {"outliers", st.outliers}};
      }
      json samples = json::array();
      for (const auto& sm : row.samples) {
        samples.push_back({{"round", sm.round},
                           {"device_ms", sm.device_ms},
                           {"host_ms", sm.host_ms},
                           {"kernel_ms", sm.kernel_ms},
                           {"outlier", sm.outlier}});
      }
      jr["samples"] = samples;
      json cmps = json::array();
      for (const auto& c : row.comparisons) {
        cmps.push_back({{"against", c.against},
                        {"role", c.role},
                        {"metric", c.metric},
                        {"ratio", c.ratio.ratio},
                        {"ci_lo", c.ratio.lo},
                        {"ci_hi", c.ratio.hi},
                        {"resamples", c.ratio.resamples},
                        {"u", c.test.u},
                        {"p_value", c.test.p_value},
                        {"exact_p", c.test.exact},
                        {"rank_biserial", c.test.rank_biserial},
                        {"effect_pct", c.effect_pct},
                        {"verdict", std::string(to_string(c.verdict))}});
      }
      jr["comparisons"] = cmps;
      rows.push_back(jr);
    }
    js["contestants"] = rows;
    shapes.push_back(js);
  }
  j["shapes"] = shapes;
  return j.dump(2) + "\n";
}

std::string bench_csv(const BenchResult& r) {
  std::string out =
      "shape,m,n,k,contestant,kind,config_id,round,device_ms,host_ms,kernel_ms,device_gflops,"
      "host_gflops,outlier\n";
  for (const auto& s : r.shapes) {
    const double flops = s.problem.flops();
    for (const auto& row : s.rows) {
      const std::string id = row.config ? row.config->config.id() : "";
      for (const auto& sm : row.samples) {
        out += s.problem.shape() + "," + std::to_string(s.problem.m) + "," +
               std::to_string(s.problem.n) + "," + std::to_string(s.problem.k) + "," +
               csv_field(row.name) + "," + row.kind + "," + id + "," + std::to_string(sm.round) +
               "," + num(sm.device_ms) + "," + num(sm.host_ms) + "," + num(sm.kernel_ms) + "," +
               num(sm.device_ms > 0 ? flops / (sm.device_ms * 1e6) : 0.0) + "," +
               num(sm.host_ms > 0 ? flops / (sm.host_ms * 1e6) : 0.0) + "," +
               (sm.outlier ? "1" : "0") + "\n";
      }
    }
  }
  return out;
}

std::vector<std::string> write_bench_plot(const BenchResult& r, const std::filesystem::path& png) {
  namespace fs = std::filesystem;
  const fs::path dir = png.has_parent_path() ? png.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
    throw Error(ReasonCode::io_error,
                "--plot " + png.string() + ": cannot write into " + dir.string());
  }
  // Series: contestant names in order of first appearance.
  std::vector<std::string> names;
  for (const auto& s : r.shapes) {
    for (const auto& row : s.rows) {
      if (std::find(names.begin(), names.end(), row.name) == names.end()) {
        names.push_back(row.name);
      }
    }
  }
  std::string gp = "set terminal pngcairo size 960,540 noenhanced\nset grid\n";
  gp += "set key below horizontal\nset ylabel 'GFLOP/s (median, 95% CI)'\nset xlabel 'shape'\n";
  gp += "set yrange [0:*]\nset xrange [-0.5:" + num(static_cast<double>(r.shapes.size()) - 0.5) +
        "]\n";
  gp += "set title " + gnuplot_quote("clgauge bench: " + r.device) + "\nset xtics (";
  for (std::size_t i = 0; i < r.shapes.size(); ++i) {
    gp += (i ? ", " : "") + gnuplot_quote(r.shapes[i].problem.shape()) + " " + std::to_string(i);
  }
  gp += ")\n";
  std::string plot;
  for (std::size_t k = 0; k < names.size(); ++k) {
    gp += "$s" + std::to_string(k) + " << EOD\n";
    std::size_t points = 0;
    const double offset =
        (static_cast<double>(k) - (static_cast<double>(names.size()) - 1) / 2.0) * 0.06;
    for (std::size_t i = 0; i < r.shapes.size(); ++i) {
      for (const auto& row : r.shapes[i].rows) {
        if (row.name != names[k] || row.samples.empty()) continue;
        gp += num(static_cast<double>(i) + offset) + " " + num(row.stats.median_gflops) + " " +
              num(row.stats.ci.lo) + " " + num(row.stats.ci.hi) + "\n";
        ++points;
      }
    }
    gp += "EOD\n";
    if (points == 0) continue;
    plot += std::string(plot.empty() ? "plot " : ", ") + "$s" + std::to_string(k) +
            " using 1:2:3:4 with yerrorlines pt 7 lw 2 title " + gnuplot_quote(names[k]);
  }
  std::vector<std::string> warnings;
  if (plot.empty()) {
    warnings.push_back("--plot: no contestant was timed; no plot");
    return warnings;
  }
  gp += "set output " + gnuplot_quote(png.filename().string()) + "\n" + plot + "\nunset output\n";
  draw_gnuplot_pngs(gp, dir, {dir / png.filename()}, warnings);
  return warnings;
}

}  // namespace clgauge
