#include "clgauge/tune_report.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <system_error>

#include "clgauge/error.hpp"

extern char** environ;

namespace clgauge {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// ---- report.json, read into values (every check in one place) -------------------------

struct Candidate {
  std::int64_t eval_index = 0;
  std::string config_id, family, params;  // params as "MR=8, NR=32"
  bool ok = false;
  std::string reason_code, detail;
  std::optional<double> gflops, cv, build_ms;
  std::optional<std::int64_t> rank;
};

struct Baseline {
  std::optional<double> gflops, ratio;
  std::string status, detail;
  bool present = false;
};

struct ReplayRow {
  std::string config_id;
  std::vector<double> session_medians;
  std::vector<bool> sessions_correct;
  std::optional<double> median, cv;
  bool correct = false, stable = false, beats = false;
};

struct Winner {
  std::string config_id, family, params;
  std::optional<double> gflops;
  std::map<std::string, std::optional<double>> ratios;
};

struct ShapeReport {
  std::string shape;
  std::optional<std::int64_t> space_size, evaluated;
  std::vector<Candidate> candidates;
  std::vector<std::pair<std::int64_t, double>> best_so_far;
  std::map<std::string, Baseline> baselines;
  std::vector<ReplayRow> replay;
  std::optional<double> stability_cv_max, promotion_margin;
  std::string decision, decision_reason;
  std::optional<Winner> winner;
};

struct Report {
  std::string command, version, device, env_fingerprint, plan_hash, seed, strategy;
  std::string families, layout, trans_a, trans_b;
  std::optional<std::int64_t> budget_configs;
  std::optional<double> budget_time_s, wall_s;
  bool ran_out = false;
  std::int64_t resumed = 0;
  std::vector<ShapeReport> shapes;
};

const std::array<std::pair<const char*, const char*>, 3> kBaselines = {{
    {"default", "device default config"},
    {"clblast", "CLBlast"},
    {"openblas", "OpenBLAS (host)"},
}};

[[noreturn]] void malformed(const std::string& where, const std::string& what) {
  throw Error(ReasonCode::bad_input, "report json: " + where + ": " + what);
}

// A field of an object; nullptr when absent or null (every field but a few is optional).
const json* get(const json& obj, const std::string& where, const char* name) {
  if (!obj.is_object()) malformed(where, "expected an object");
  const auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string at(const std::string& where, const char* name) {
  return where.empty() ? name : where + "." + name;
}

std::string text(const json& obj, const std::string& where, const char* name) {
  const json* v = get(obj, where, name);
  if (v == nullptr) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  if (v->is_array()) {  // a command given as argv
    std::string out;
    for (const auto& x : *v) {
      if (!x.is_string()) malformed(at(where, name), "expected a string or strings");
      out += (out.empty() ? "" : " ") + x.get<std::string>();
    }
    return out;
  }
  malformed(at(where, name), "expected a string, got " + v->dump());
}

std::optional<double> number(const json& obj, const std::string& where, const char* name) {
  const json* v = get(obj, where, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) malformed(at(where, name), "expected a number, got " + v->dump());
  return v->get<double>();
}

std::optional<std::int64_t> integer(const json& obj, const std::string& where, const char* name) {
  const json* v = get(obj, where, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) malformed(at(where, name), "expected an integer, got " + v->dump());
  return v->get<std::int64_t>();
}

bool flag(const json& obj, const std::string& where, const char* name) {
  const json* v = get(obj, where, name);
  if (v == nullptr) return false;
  if (!v->is_boolean()) malformed(at(where, name), "expected true or false, got " + v->dump());
  return v->get<bool>();
}

const json& array(const json& obj, const std::string& where, const char* name) {
  static const json kEmpty = json::array();
  const json* v = get(obj, where, name);
  if (v == nullptr) return kEmpty;
  if (!v->is_array()) malformed(at(where, name), "expected an array");
  return *v;
}

std::string params_text(const json& obj, const std::string& where) {
  const json* v = get(obj, where, "params");
  if (v == nullptr) return "";
  if (!v->is_object()) malformed(at(where, "params"), "expected an object");
  std::string out;
  for (const auto& [name, value] : v->items()) {
    out += (out.empty() ? "" : ", ") + name + "=" +
           (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

Candidate read_candidate(const json& c, const std::string& where) {
  Candidate out;
  out.eval_index = integer(c, where, "eval_index").value_or(0);
  out.config_id = text(c, where, "config_id");
  out.family = text(c, where, "family");
  out.params = params_text(c, where);
  const std::string outcome = text(c, where, "outcome");
  if (outcome != "ok" && outcome != "failed") {
    malformed(at(where, "outcome"), "expected \"ok\" or \"failed\", got \"" + outcome + "\"");
  }
  out.ok = outcome == "ok";
  out.reason_code = text(c, where, "reason_code");
  if (out.reason_code.empty()) out.reason_code = out.ok ? "ok" : "unknown";
  out.detail = text(c, where, "detail");
  out.gflops = number(c, where, "gflops_median");
  out.cv = number(c, where, "cv");
  out.build_ms = number(c, where, "build_ms");
  out.rank = integer(c, where, "rank");
  return out;
}

ReplayRow read_replay(const json& r, const std::string& where) {
  ReplayRow out;
  out.config_id = text(r, where, "config_id");
  for (const auto& x : array(r, where, "session_medians")) {
    if (!x.is_number()) malformed(at(where, "session_medians"), "expected numbers");
    out.session_medians.push_back(x.get<double>());
  }
  for (const auto& x : array(r, where, "sessions_correct")) {
    if (!x.is_boolean()) malformed(at(where, "sessions_correct"), "expected true or false");
    out.sessions_correct.push_back(x.get<bool>());
  }
  out.median = number(r, where, "median_gflops");
  out.cv = number(r, where, "cv_of_medians");
  out.correct = flag(r, where, "correct");
  out.stable = flag(r, where, "stable");
  out.beats = flag(r, where, "beats_baseline");
  return out;
}

std::optional<Winner> read_winner(const json& s, const std::string& where) {
  const json* w = get(s, where, "winner");
  if (w == nullptr) return std::nullopt;
  const std::string here = at(where, "winner");
  Winner out;
  out.config_id = text(*w, here, "config_id");
  out.family = text(*w, here, "family");
  out.params = params_text(*w, here);
  out.gflops = number(*w, here, "gflops_median");
  if (const json* r = get(*w, here, "ratios")) {
    for (const auto& [name, label] : kBaselines)
      out.ratios[name] = number(*r, at(here, "ratios"), name);
  }
  return out;
}

ShapeReport read_shape(const json& s, const std::string& where) {
  ShapeReport out;
  out.shape = text(s, where, "shape");
  if (out.shape.empty()) malformed(at(where, "shape"), "missing");
  out.space_size = integer(s, where, "space_size");
  out.evaluated = integer(s, where, "evaluated");
  const json& cands = array(s, where, "candidates");
  for (std::size_t i = 0; i < cands.size(); ++i) {
    out.candidates.push_back(
        read_candidate(cands[i], at(where, "candidates") + "[" + std::to_string(i) + "]"));
  }
  for (const auto& p : array(s, where, "best_so_far")) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number()) {
      malformed(at(where, "best_so_far"), "expected [eval_index, gflops] pairs, got " + p.dump());
    }
    out.best_so_far.emplace_back(p[0].get<std::int64_t>(), p[1].get<double>());
  }
  if (const json* b = get(s, where, "baselines")) {
    for (const auto& [name, label] : kBaselines) {
      const json* one = get(*b, at(where, "baselines"), name);
      if (one == nullptr) continue;
      const std::string here = at(at(where, "baselines"), name);
      Baseline& base = out.baselines[name];
      base.present = true;
      base.gflops = number(*one, here, "gflops");
      base.ratio = number(*one, here, "ratio");
      base.status = text(*one, here, "status");
      base.detail = text(*one, here, "detail");
    }
  }
  const json& replay = array(s, where, "replay");
  for (std::size_t i = 0; i < replay.size(); ++i) {
    out.replay.push_back(
        read_replay(replay[i], at(where, "replay") + "[" + std::to_string(i) + "]"));
  }
  if (const json* g = get(s, where, "gates")) {
    out.stability_cv_max = number(*g, at(where, "gates"), "stability_cv_max");
    out.promotion_margin = number(*g, at(where, "gates"), "promotion_margin");
  }
  out.decision = text(s, where, "decision");
  out.decision_reason = text(s, where, "decision_reason");
  out.winner = read_winner(s, where);
  return out;
}

Report read_report(std::string_view report_json) {
  const json j = json::parse(report_json, nullptr, false);
  if (j.is_discarded()) malformed("(document)", "not valid JSON");
  if (!j.is_object()) malformed("(document)", "expected an object");
  const std::string schema = text(j, "", "schema");
  if (schema != kTuneReportSchema) {
    malformed("schema",
              "expected \"" + std::string(kTuneReportSchema) + "\", got \"" + schema + "\"");
  }
  Report r;
  r.command = text(j, "", "command");
  r.version = text(j, "", "clgauge_version");
  r.device = text(j, "", "device");
  r.env_fingerprint = text(j, "", "env_fingerprint");
  r.plan_hash = text(j, "", "plan_hash");
  r.seed = text(j, "", "seed");
  r.strategy = text(j, "", "strategy");
  for (const auto& f : array(j, "", "families")) {
    if (!f.is_string()) malformed("families", "expected strings");
    r.families += (r.families.empty() ? "" : ", ") + f.get<std::string>();
  }
  r.layout = text(j, "", "layout");
  r.trans_a = text(j, "", "trans_a");
  r.trans_b = text(j, "", "trans_b");
  if (const json* b = get(j, "", "budget")) {
    r.budget_configs = integer(*b, "budget", "configs");
    r.budget_time_s = number(*b, "budget", "time_s");
    r.ran_out = flag(*b, "budget", "ran_out");
  }
  r.resumed = integer(j, "", "resumed_evaluations").value_or(0);
  r.wall_s = number(j, "", "wall_s");
  const json* shapes = get(j, "", "shapes");
  if (shapes == nullptr || !shapes->is_array()) malformed("shapes", "expected an array");
  for (std::size_t i = 0; i < shapes->size(); ++i) {
    r.shapes.push_back(read_shape((*shapes)[i], "shapes[" + std::to_string(i) + "]"));
  }
  return r;
}

// ---- markdown ----------------------------------------------------------------------

std::string format(const char* f, double x) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), f, x);
  return buf.data();
}

std::string gflops(const std::optional<double>& x) {
  return x ? format("%.1f", *x) : "n/a";
}
std::string ratio(const std::optional<double>& x) {
  return x ? format("%.2fx", *x) : "n/a";
}
std::string percent(const std::optional<double>& x) {
  return x ? format("%.1f%%", *x * 100) : "n/a";
}
std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

// One line of at most `max` characters, safe inside a table cell.
std::string cell(std::string_view s, std::size_t max = 160) {
  std::string out;
  for (const char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > max) out = out.substr(0, max) + "...";
  return out;
}

std::string code(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '`', '\'');
  return out.empty() ? "n/a" : "`" + cell(out) + "`";
}

// Successful candidates in rank order: the tuner's rank, then GFLOP/s, then config id.
std::vector<const Candidate*> ranked(const ShapeReport& s) {
  std::vector<const Candidate*> out;
  for (const auto& c : s.candidates) {
    if (c.ok && c.gflops) out.push_back(&c);
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate* a, const Candidate* b) {
    const auto ra = a->rank.value_or(std::numeric_limits<std::int64_t>::max());
    const auto rb = b->rank.value_or(std::numeric_limits<std::int64_t>::max());
    if (ra != rb) return ra < rb;
    if (*a->gflops != *b->gflops) return *a->gflops > *b->gflops;
    return a->config_id < b->config_id;
  });
  return out;
}

std::string plot_stem(const std::string& shape) {
  std::string out;
  for (const char c : shape) {
    const bool safe = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '.' || c == '-' || c == '_';
    out += safe ? c : '_';
  }
  return out;
}
std::string ranked_plot(const std::string& shape) {
  return plot_stem(shape) + "-ranked.png";
}
std::string progress_plot(const std::string& shape) {
  return plot_stem(shape) + "-progress.png";
}

void header(std::string& md, const Report& r) {
  md += "# Tuning report\n\n";
  md += "- Command: " + code(r.command) + "\n";
  md += "- Device: " + cell(r.device.empty() ? "n/a" : r.device) + "\n";
  md += "- clgauge " + cell(r.version.empty() ? "n/a" : r.version) + ", environment fingerprint " +
        code(r.env_fingerprint) + ", plan hash " + code(r.plan_hash) + ", seed " +
        cell(r.seed.empty() ? "n/a" : r.seed) + "\n";
  md += "- Search: " + cell(r.strategy.empty() ? "n/a" : r.strategy) + " over " +
        cell(r.families.empty() ? "n/a" : r.families) + "; layout " +
        cell(r.layout.empty() ? "n/a" : r.layout) + ", op(A) " +
        cell(r.trans_a.empty() ? "n/a" : r.trans_a) + ", op(B) " +
        cell(r.trans_b.empty() ? "n/a" : r.trans_b) + "\n";
  std::string budget;
  if (r.budget_configs) budget += std::to_string(*r.budget_configs) + " configs per shape";
  if (r.budget_time_s)
    budget += (budget.empty() ? "" : ", ") + format("%g s in all", *r.budget_time_s);
  if (budget.empty()) budget = "none (every candidate of the space)";
  md += "- Budget: " + budget + (r.wall_s ? format("; the run took %.1f s", *r.wall_s) : "") + "\n";
  if (r.ran_out) {
    md +=
        "- **The budget ran out** before the search was done: each winner is the best of what "
        "was evaluated in time.\n";
  }
  if (r.resumed > 0) {
    md += "- Resumed: " + std::to_string(r.resumed) +
          " evaluations came from the results store of an earlier, interrupted run and were "
          "not repeated.\n";
  } else {
    md += "- Resumed: none (a fresh results store).\n";
  }
  md += "\n";
}

void summary(std::string& md, const Report& r) {
  md += "## Summary\n\n";
  md += "| shape | winner | GFLOP/s | / default | / CLBlast | / OpenBLAS | decision |\n";
  md += "|---|---|--:|--:|--:|--:|---|\n";
  for (const auto& s : r.shapes) {
    md += "| " + cell(s.shape) + " | ";
    if (s.winner) {
      const auto& w = *s.winner;
      const auto rt = [&](const char* name) {
        const auto it = w.ratios.find(name);
        return ratio(it == w.ratios.end() ? std::nullopt : it->second);
      };
      md += code(w.config_id) + " " + cell(w.family) + " | " + gflops(w.gflops) + " | " +
            rt("default") + " | " + rt("clblast") + " | " + rt("openblas");
    } else {
      md += "none | n/a | n/a | n/a | n/a";
    }
    md += " | " + cell(s.decision.empty() ? "n/a" : s.decision) + " |\n";
  }
  md += "\n";
}

void winner_story(std::string& md, const ShapeReport& s) {
  md += "**Decision: " + cell(s.decision.empty() ? "n/a" : s.decision) + ".** " +
        cell(s.decision_reason, 1000) + "\n\n";
  if (!s.winner) {
    md += "No winner: no candidate passed the correctness and stability gates.\n\n";
    return;
  }
  const auto& w = *s.winner;
  md += "The winner, " + code(w.config_id) + " (" + cell(w.family) +
        (w.params.empty() ? "" : ": " + cell(w.params, 400)) + "), runs at " + gflops(w.gflops) +
        " GFLOP/s";
  std::string against;
  for (const auto& [name, label] : kBaselines) {
    const auto it = w.ratios.find(name);
    if (it == w.ratios.end() || !it->second) continue;
    against += (against.empty() ? "" : ", ") + ratio(it->second) +
               (std::string_view(name) == "default" ? " the " : " ") + label;
  }
  md += (against.empty() ? "" : ": " + against) + ".\n\n";
}

void search_story(std::string& md, const ShapeReport& s) {
  std::size_t ok = 0;
  for (const auto& c : s.candidates) ok += c.ok ? 1 : 0;
  const auto evaluated = s.evaluated.value_or(static_cast<std::int64_t>(s.candidates.size()));
  md += "Evaluated " + std::to_string(evaluated) +
        (s.space_size ? " of " + std::to_string(*s.space_size) + " candidates in the space"
                      : " candidates") +
        ": " + std::to_string(ok) + " ran, " + std::to_string(s.candidates.size() - ok) +
        " failed.\n\n";
}

void baselines_table(std::string& md, const ShapeReport& s) {
  md += "| baseline | GFLOP/s | winner / baseline | status |\n|---|--:|--:|---|\n";
  for (const auto& [name, label] : kBaselines) {
    const auto it = s.baselines.find(name);
    if (it == s.baselines.end()) {
      md += std::string("| ") + label + " | n/a | n/a | not measured |\n";
      continue;
    }
    const auto& b = it->second;
    std::string status = b.status.empty() ? "n/a" : cell(b.status);
    if (!b.detail.empty()) status += ": " + cell(b.detail);
    md += std::string("| ") + label + " | " + gflops(b.gflops) + " | " + ratio(b.ratio) + " | " +
          status + " |\n";
  }
  md += "\n";
}

void replay_table(std::string& md, const ShapeReport& s) {
  md += "### Replay\n\n";
  if (s.replay.empty()) {
    md += "Nothing was replayed.\n\n";
    return;
  }
  md += "The top " + std::to_string(s.replay.size()) + " replayed with fresh inputs per session. ";
  md +=
      "Gates: every session correct; CV of the session medians <= " + percent(s.stability_cv_max) +
      "; median >= " + (s.promotion_margin ? format("%.2f", *s.promotion_margin) : "n/a") +
      "x the device default config.\n\n";
  md +=
      "| config | session medians (GFLOP/s) | median | CV | correct | stable | beats baseline |\n";
  md += "|---|---|--:|--:|---|---|---|\n";
  for (const auto& r : s.replay) {
    std::string medians;
    for (std::size_t i = 0; i < r.session_medians.size(); ++i) {
      const bool wrong = i < r.sessions_correct.size() && !r.sessions_correct[i];
      medians +=
          (i == 0 ? "" : ", ") + format("%.1f", r.session_medians[i]) + (wrong ? " (wrong)" : "");
    }
    md += "| " + code(r.config_id) + " | " + (medians.empty() ? "n/a" : medians) + " | " +
          gflops(r.median) + " | " + percent(r.cv) + " | " + yes_no(r.correct) + " | " +
          yes_no(r.stable) + " | " + yes_no(r.beats) + " |\n";
  }
  md += "\n";
}

void failures_table(std::string& md, const ShapeReport& s) {
  md += "### What failed\n\n";
  std::map<std::string, std::vector<const Candidate*>> by_reason;
  for (const auto& c : s.candidates) {
    if (!c.ok) by_reason[c.reason_code].push_back(&c);
  }
  if (by_reason.empty()) {
    md += "Nothing failed.\n\n";
    return;
  }
  std::vector<std::pair<std::string, std::vector<const Candidate*>>> rows(by_reason.begin(),
                                                                          by_reason.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  md += "| reason | count | examples |\n|---|--:|---|\n";
  for (const auto& [reason, cands] : rows) {
    std::string examples;
    for (std::size_t i = 0; i < cands.size() && i < 3; ++i) {
      examples += (i == 0 ? "" : "; ") + code(cands[i]->config_id);
      if (!cands[i]->detail.empty()) examples += ": " + cell(cands[i]->detail, 120);
    }
    md += "| " + cell(reason) + " | " + std::to_string(cands.size()) + " | " + examples + " |\n";
  }
  md += "\n";
}

void best_table(std::string& md, const ShapeReport& s) {
  const auto order = ranked(s);
  if (order.empty()) return;
  const std::size_t shown = std::min<std::size_t>(order.size(), 10);
  md += "### Best candidates\n\n";
  md += "The fastest " + std::to_string(shown) + " of " + std::to_string(order.size()) +
        " that ran (screening medians).\n\n";
  md += "| rank | config | family | params | GFLOP/s | CV | build ms |\n";
  md += "|--:|---|---|---|--:|--:|--:|\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& c = *order[i];
    md += "| " + (c.rank ? std::to_string(*c.rank) : std::string("n/a")) + " | " +
          code(c.config_id) + " | " + cell(c.family) + " | " + cell(c.params) + " | " +
          gflops(c.gflops) + " | " + percent(c.cv) + " | " +
          (c.build_ms ? format("%.0f", *c.build_ms) : "n/a") + " |\n";
  }
  md += "\n";
}

// `drawn`: the plot files to link; nullopt links every plot a shape would have.
std::string markdown(const Report& r, const std::optional<std::set<std::string>>& drawn) {
  const auto linked = [&](const std::string& file) { return !drawn || drawn->count(file) > 0; };
  std::string md;
  header(md, r);
  summary(md, r);
  for (const auto& s : r.shapes) {
    md += "## " + cell(s.shape) + "\n\n";
    winner_story(md, s);
    search_story(md, s);
    baselines_table(md, s);
    replay_table(md, s);
    failures_table(md, s);
    best_table(md, s);
    if (ranked(s).empty()) continue;
    if (linked(ranked_plot(s.shape))) {
      md += "![GFLOP/s of every candidate that ran, ranked](" + ranked_plot(s.shape) + ")\n\n";
    }
    if (linked(progress_plot(s.shape))) {
      md += "![Best so far versus evaluations](" + progress_plot(s.shape) + ")\n\n";
    }
  }
  while (md.size() > 1 && md[md.size() - 1] == '\n' && md[md.size() - 2] == '\n') md.pop_back();
  return md;
}

// ---- plots (gnuplot as a child process, data inline) ---------------------------------

// A gnuplot single-quoted string: nothing is interpreted except '' for a quote.
std::string gp_quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string baseline_lines(const ShapeReport& s) {
  static const std::array<const char*, 3> kColours = {"#d62728", "#2ca02c", "#9467bd"};
  std::string out;
  for (std::size_t i = 0; i < kBaselines.size(); ++i) {
    const auto it = s.baselines.find(kBaselines[i].first);
    if (it == s.baselines.end() || !it->second.gflops) continue;
    const double g = *it->second.gflops;
    out += ", " + format("%.9g", g) + " with lines dt 2 lw 2 lc rgb '" + kColours[i] + "' title " +
           gp_quote(std::string(kBaselines[i].second) + format(" (%.1f)", g));
  }
  return out;
}

// Ranks and evaluation numbers are integers: no 0.5 tics on short axes.
std::string integer_tics(std::int64_t last) {
  return last <= 20 ? "set xtics 1\n" : "set xtics autofreq\n";
}

std::string plot_script(const ShapeReport& s) {
  const auto order = ranked(s);
  const std::size_t failed = s.candidates.size() - order.size();
  std::string gp;
  gp += "set terminal pngcairo size 960,540 noenhanced\nset grid\nset key below horizontal\n";
  gp += "set ylabel 'GFLOP/s'\nset yrange [0:*]\n";
  // Ranked: one point per successful candidate, best first.
  gp += "$ranked << EOD\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    gp += std::to_string(i + 1) + " " + format("%.9g", *order[i]->gflops) + "\n";
  }
  gp += "EOD\n";
  gp += "set output " + gp_quote(ranked_plot(s.shape)) + "\n";
  gp += "set title " +
        gp_quote(s.shape + ": " + std::to_string(order.size()) + " candidates ranked" +
                 (failed > 0 ? " (" + std::to_string(failed) + " failed, not shown)" : "")) +
        "\n";
  gp += "set xlabel 'rank'\nset xrange [0:" + std::to_string(order.size() + 1) + "]\n" +
        integer_tics(static_cast<std::int64_t>(order.size()));
  gp += "plot $ranked using 1:2 with points pt 7 ps 1 lc rgb '#1f77b4' title 'candidates'" +
        baseline_lines(s) + "\n";
  // Progress: each evaluation that ran, and the best so far as a staircase.
  std::int64_t last = 1;
  gp += "$evals << EOD\n";
  for (const auto& c : s.candidates) {
    if (!c.ok || !c.gflops) continue;
    gp += std::to_string(c.eval_index) + " " + format("%.9g", *c.gflops) + "\n";
    last = std::max(last, c.eval_index);
  }
  gp += "EOD\n$best << EOD\n";
  for (const auto& [i, g] : s.best_so_far) {
    gp += std::to_string(i) + " " + format("%.9g", g) + "\n";
    last = std::max(last, i);
  }
  gp += "EOD\n";
  gp += "set output " + gp_quote(progress_plot(s.shape)) + "\n";
  gp += "set title " + gp_quote(s.shape + ": best so far versus evaluations") + "\n";
  gp += "set xlabel 'evaluation'\nset xrange [0:" + std::to_string(last + 1) + "]\n" +
        integer_tics(last);
  gp += "plot $evals using 1:2 with points pt 7 ps 0.8 lc rgb '#888888' title 'each evaluation'";
  if (!s.best_so_far.empty()) {
    gp += ", $best using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'best so far'";
  }
  gp += baseline_lines(s) + "\nunset output\n";
  return gp;
}

struct ChildRun {
  int spawn_error = 0;  // errno of posix_spawnp; ENOENT: no gnuplot on PATH
  int status = 0;       // waitpid status
  bool timed_out = false;
  std::string output;  // stdout and stderr together
};

// gnuplot reads the script on stdin (a socket, so a gnuplot that exits early gives EPIPE
// and never SIGPIPE) and runs in `cwd`, so that the file names in the script are plain.
ChildRun run_gnuplot(const std::string& script, const fs::path& cwd) {
  ChildRun run;
  int in[2];
  int out[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    run.spawn_error = errno;
    return run;
  }
  if (::pipe2(out, O_CLOEXEC) != 0) {
    run.spawn_error = errno;
    ::close(in[0]);
    ::close(in[1]);
    return run;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[1], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  char arg0[] = "gnuplot";
  char* argv[] = {arg0, nullptr};
  pid_t pid = 0;
  run.spawn_error = posix_spawnp(&pid, "gnuplot", &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[1]);
  ::close(out[1]);
  if (run.spawn_error != 0) {
    ::close(in[0]);
    ::close(out[0]);
    return run;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::size_t sent = 0;
  int in_fd = in[0];
  if (script.empty()) ::shutdown(in_fd, SHUT_WR);
  for (;;) {
    std::array<pollfd, 2> fds = {pollfd{out[0], POLLIN, 0}, pollfd{in_fd, POLLOUT, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    const int n = ::poll(fds.data(), in_fd >= 0 && sent < script.size() ? 2 : 1,
                         static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (in_fd >= 0 && sent < script.size() && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t w = ::send(in_fd, script.data() + sent, script.size() - sent, MSG_NOSIGNAL);
      if (w > 0) sent += static_cast<std::size_t>(w);
      if (w < 0 && errno != EINTR && errno != EAGAIN) sent = script.size();  // gnuplot gone
      if (sent == script.size()) ::shutdown(in_fd, SHUT_WR);
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      std::array<char, 4096> buf{};
      const ssize_t r = ::read(out[0], buf.data(), buf.size());
      if (r == 0) break;
      if (r > 0)
        run.output.append(buf.data(), static_cast<std::size_t>(r));
      else if (errno != EINTR)
        break;
    }
  }
  ::close(in[0]);
  ::close(out[0]);
  while (::waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
  }
  return run;
}

bool is_png(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::array<char, 8> sig{};
  in.read(sig.data(), sig.size());
  static constexpr std::array<char, 8> kPng = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  return in.gcount() == 8 && sig == kPng;
}

std::string first_lines(const std::string& s, std::size_t n) {
  std::string out;
  std::size_t lines = 0;
  for (const char c : s) {
    if (c == '\n') {
      if (++lines == n) break;
      out += " / ";
    } else {
      out += c;
    }
  }
  while (out.size() >= 3 && out.compare(out.size() - 3, 3, " / ") == 0) out.resize(out.size() - 3);
  return out;
}

}  // namespace

std::vector<fs::path> draw_gnuplot_pngs(const std::string& script, const fs::path& dir,
                                        const std::vector<fs::path>& expected,
                                        std::vector<std::string>& warnings) {
  const auto run = run_gnuplot(script, dir);
  if (run.spawn_error == ENOENT) {
    warnings.push_back("gnuplot not found on PATH: no plots (install Debian package gnuplot-nox)");
    return {};
  }
  if (run.spawn_error != 0) {
    warnings.push_back(std::string("gnuplot could not be started: ") +
                       std::strerror(run.spawn_error));
    return {};
  }
  if (run.timed_out) warnings.push_back("gnuplot ran past 60 s and was killed");
  if (!run.timed_out && !(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0)) {
    warnings.push_back("gnuplot failed: " + first_lines(run.output, 3));
  }
  std::vector<fs::path> written;
  for (const auto& p : expected) {
    std::error_code ec;
    if (is_png(p)) {
      written.push_back(p);
    } else {
      fs::remove(p, ec);  // never leave a broken image behind
      warnings.push_back("plot " + p.filename().string() + " was not drawn");
    }
  }
  return written;
}

std::string gnuplot_quote(std::string_view s) {
  return gp_quote(s);
}

namespace {

// Draws the plots of every shape that has a successful candidate; returns those written.
std::vector<fs::path> draw_plots(const Report& r, const fs::path& dir,
                                 std::vector<std::string>& warnings) {
  std::string script;
  std::vector<fs::path> expected;
  for (const auto& s : r.shapes) {
    if (ranked(s).empty()) {
      warnings.push_back("shape " + s.shape + ": no candidate ran successfully; no plots");
      continue;
    }
    script += plot_script(s);
    expected.push_back(dir / ranked_plot(s.shape));
    expected.push_back(dir / progress_plot(s.shape));
  }
  if (expected.empty()) return {};
  return draw_gnuplot_pngs(script, dir, expected, warnings);
}

void write_text(const fs::path& file, const std::string& text, const fs::path& dir) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error(ReasonCode::io_error,
                  dir.string() + ": cannot write " + file.filename().string() + " there");
    }
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error(ReasonCode::io_error, dir.string() + ": cannot write " + file.filename().string() +
                                          " there (" + ec.message() + ")");
  }
}

}  // namespace

std::string tune_report_markdown(std::string_view report_json) {
  return tune_report_markdown(report_json, true);
}

std::string tune_report_markdown(std::string_view report_json, bool link_plots) {
  return markdown(
      read_report(report_json),
      link_plots ? std::nullopt : std::optional<std::set<std::string>>(std::set<std::string>{}));
}

ReportFiles write_tune_report(std::string_view report_json, const fs::path& dir) {
  const Report report = read_report(report_json);  // bad input: nothing written
  const std::string pretty = json::parse(report_json).dump(2) + "\n";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw Error(ReasonCode::io_error, dir.string() + ": cannot create the report folder" +
                                          (ec ? " (" + ec.message() + ")" : std::string()));
  }
  ReportFiles files;
  write_text(dir / "report.json", pretty, dir);
  files.files.push_back(dir / "report.json");
  const auto plots = draw_plots(report, dir, files.warnings);
  std::set<std::string> drawn;
  for (const auto& p : plots) drawn.insert(p.filename().string());
  write_text(dir / "report.md", markdown(report, drawn), dir);
  files.files.push_back(dir / "report.md");
  files.files.insert(files.files.end(), plots.begin(), plots.end());
  return files;
}

}  // namespace clgauge
