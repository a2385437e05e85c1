// Simulation: a strategy against a recorded space (docs/search.md, "Simulation").

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "clgauge/error.hpp"
#include "clgauge/search.hpp"

namespace clgauge {
namespace {

using ordered_json = nlohmann::ordered_json;

const char* const kMarginNames[] = {"1%", "5%", "10%"};

ordered_json params_json(const RecordedSpace& rs, std::size_t config) {
  ordered_json p = ordered_json::object();
  for (std::size_t i = 0; i < rs.space.names.size(); ++i) {
    p[rs.space.names[i]] = ordered_json::parse(rs.value_text[i][rs.space.configs[config][i]]);
  }
  return p;
}

template <class T>
ordered_json opt(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

std::string fmt(double v, int precision = 4) {
  std::ostringstream s;
  s.precision(precision);
  s << v;
  return s.str();
}

}  // namespace

std::vector<std::optional<double>> SimulationResult::best_so_far() const {
  std::vector<std::optional<double>> out;
  std::optional<double> best;
  for (const auto& e : evaluations) {
    if (e.objective && (!best || *e.objective < *best)) best = e.objective;
    out.push_back(best);
  }
  return out;
}

SimulationResult simulate(const RecordedSpace& rs, std::string_view strategy_name,
                          std::uint64_t seed, std::uint64_t budget_configs,
                          std::optional<double> budget_time_s) {
  if (budget_configs == 0) {
    throw Error(ReasonCode::bad_input, "--budget-configs: 0 (must be at least 1)");
  }
  if (budget_time_s && !(*budget_time_s > 0)) {
    throw Error(ReasonCode::bad_input, "--budget-time: " + fmt(*budget_time_s) + " (must be > 0)");
  }
  if (budget_time_s) {
    for (std::size_t i = 0; i < rs.cost_s.size(); ++i) {
      if (!rs.cost_s[i]) {
        throw Error(ReasonCode::bad_input, rs.source + ": --budget-time: config " +
                                               rs.space.ids[i] +
                                               " has no recorded compile or run time");
      }
    }
  }
  auto strategy = make_search_strategy(strategy_name, seed);
  strategy->set_budget(budget_configs);
  SimulationResult r;
  r.strategy = std::string(strategy->name());
  r.seed = seed;
  r.budget_configs = budget_configs;
  r.budget_time_s = budget_time_s;
  r.source = rs.source;
  r.space_size = rs.space.configs.size();
  r.valid = rs.valid();
  r.optimum = rs.optimum();
  std::vector<Observation> history;
  while (history.size() < budget_configs) {
    if (budget_time_s && r.spent_s >= *budget_time_s) {
      r.ran_out_of_time = true;
      break;
    }
    const auto next = strategy->propose(rs.space, history, 1);
    if (next.empty()) break;
    const std::size_t c = next.front();
    SimulatedEvaluation e;
    e.index = r.evaluations.size();
    e.config = c;
    e.objective = rs.objective[c];
    e.outcome = rs.outcome[c];
    e.cost_s = rs.cost_s[c];
    if (e.cost_s) r.spent_s += *e.cost_s;
    if (e.objective && (!r.best || *e.objective < *r.evaluations[*r.best].objective)) {
      r.best = e.index;
    }
    history.push_back({c, e.objective});
    r.evaluations.push_back(std::move(e));
  }
  const auto bsf = r.best_so_far();
  if (r.optimum) {
    for (std::size_t m = 0; m < 3; ++m) {
      const double limit = *r.optimum * (1.0 + kWithinMargins[m]);
      for (std::size_t i = 0; i < bsf.size(); ++i) {
        if (bsf[i] && *bsf[i] <= limit) {
          r.evals_to_within[m] = i + 1;
          break;
        }
      }
    }
  }
  for (std::size_t k = 0; k < 4; ++k) {
    const std::size_t n = kBestAfter[k];
    if (!bsf.empty()) r.best_after[k] = bsf[std::min(n, bsf.size()) - 1];
  }
  return r;
}

std::string to_json(const SimulationResult& r, const RecordedSpace& rs) {
  ordered_json j;
  j["strategy"] = r.strategy;
  j["seed"] = r.seed;
  j["budget_configs"] = r.budget_configs;
  j["budget_time_s"] = opt(r.budget_time_s);
  j["source"] = r.source;
  j["space_size"] = r.space_size;
  j["valid"] = r.valid;
  j["optimum"] = opt(r.optimum);
  ordered_json evs = ordered_json::array();
  for (const auto& e : r.evaluations) {
    evs.push_back({{"index", e.index},
                   {"config_id", rs.space.ids[e.config]},
                   {"params", params_json(rs, e.config)},
                   {"objective", opt(e.objective)},
                   {"outcome", e.outcome},
                   {"cost_s", opt(e.cost_s)}});
  }
  j["evaluations"] = std::move(evs);
  if (r.best) {
    const auto& b = r.evaluations[*r.best];
    j["best"] = {{"index", b.index},
                 {"config_id", rs.space.ids[b.config]},
                 {"params", params_json(rs, b.config)},
                 {"objective", opt(b.objective)}};
  } else {
    j["best"] = nullptr;
  }
  ordered_json w;
  for (std::size_t m = 0; m < 3; ++m) w[kMarginNames[m]] = opt(r.evals_to_within[m]);
  j["evals_to_within"] = std::move(w);
  ordered_json ba;
  for (std::size_t k = 0; k < 4; ++k) ba[std::to_string(kBestAfter[k])] = opt(r.best_after[k]);
  j["best_after"] = std::move(ba);
  j["ran_out_of_time"] = r.ran_out_of_time;
  j["spent_s"] = r.spent_s;
  return j.dump();
}

std::string to_text(const SimulationResult& r, const RecordedSpace& rs) {
  std::ostringstream o;
  o << "simulated " << r.strategy << " (seed " << r.seed << ") on " << rs.source << " (" << rs.label
    << "): " << r.space_size << " configs, " << r.valid << " valid, optimum "
    << (r.optimum ? fmt(*r.optimum, 6) : std::string("none")) << "\n";
  o << r.evaluations.size() << " evaluations (budget " << r.budget_configs;
  if (r.budget_time_s)
    o << " configs, " << fmt(*r.budget_time_s) << " s; spent " << fmt(r.spent_s) << " s";
  else
    o << " configs";
  o << (r.ran_out_of_time ? ", ran out of time" : "") << ")\n";
  if (r.best) {
    const auto& b = r.evaluations[*r.best];
    o << "best " << fmt(*b.objective, 6) << " at evaluation " << b.index + 1 << ": "
      << params_json(rs, b.config).dump() << " (" << rs.space.ids[b.config] << ")\n";
  } else {
    o << "no successful evaluation\n";
  }
  o << "evaluations to within";
  for (std::size_t m = 0; m < 3; ++m) {
    o << (m ? ", " : " ") << kMarginNames[m] << ": "
      << (r.evals_to_within[m] ? std::to_string(*r.evals_to_within[m]) : std::string("never"));
  }
  o << "\n";
  return o.str();
}

RepeatSummary simulate_repeat(const RecordedSpace& rs, std::string_view strategy,
                              std::uint64_t first_seed, std::size_t runs,
                              std::uint64_t budget_configs, std::optional<double> budget_time_s) {
  if (runs == 0) throw Error(ReasonCode::bad_input, "--repeat: 0 (must be at least 1)");
  RepeatSummary s;
  s.first_seed = first_seed;
  s.runs = runs;
  s.budget_configs = budget_configs;
  s.optimum = rs.optimum();
  for (std::size_t i = 0; i < runs; ++i) {
    s.results.push_back(simulate(rs, strategy, first_seed + i, budget_configs, budget_time_s));
  }
  s.strategy = s.results.front().strategy;
  const double inf = std::numeric_limits<double>::infinity();
  for (std::size_t m = 0; m < 3; ++m) {
    std::vector<double> v;
    for (const auto& r : s.results) {
      v.push_back(r.evals_to_within[m] ? static_cast<double>(*r.evals_to_within[m]) : inf);
      s.within[m].reached += r.evals_to_within[m] ? 1 : 0;
    }
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    const double p90 = v[static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n))) - 1];
    s.within[m].margin = kWithinMargins[m];
    if (std::isfinite(med)) s.within[m].median = med;
    if (std::isfinite(p90)) s.within[m].p90 = p90;
  }
  for (std::size_t k = 0; k < 4; ++k) {
    std::vector<double> v;
    for (const auto& r : s.results) {
      v.push_back(r.best_after[k] && s.optimum ? *r.best_after[k] / *s.optimum : inf);
    }
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    if (std::isfinite(med)) s.best_after_ratio_median[k] = med;
  }
  return s;
}

std::string to_json(const RepeatSummary& s, const RecordedSpace& rs) {
  ordered_json j;
  j["strategy"] = s.strategy;
  j["first_seed"] = s.first_seed;
  j["runs"] = s.runs;
  j["budget_configs"] = s.budget_configs;
  j["source"] = rs.source;
  j["space_size"] = rs.space.configs.size();
  j["valid"] = rs.valid();
  j["optimum"] = opt(s.optimum);
  ordered_json w;
  for (std::size_t m = 0; m < 3; ++m) {
    ordered_json per = ordered_json::array();
    for (const auto& r : s.results) per.push_back(opt(r.evals_to_within[m]));
    w[kMarginNames[m]] = {{"median", opt(s.within[m].median)},
                          {"p90", opt(s.within[m].p90)},
                          {"reached", s.within[m].reached},
                          {"per_seed", std::move(per)}};
  }
  j["evals_to_within"] = std::move(w);
  ordered_json ba;
  for (std::size_t k = 0; k < 4; ++k) {
    ba[std::to_string(kBestAfter[k])] = opt(s.best_after_ratio_median[k]);
  }
  j["best_after_ratio_median"] = std::move(ba);
  return j.dump();
}

std::string to_text(const RepeatSummary& s, const RecordedSpace& rs) {
  std::ostringstream o;
  o << "simulated " << s.strategy << ", seeds " << s.first_seed << ".." << s.first_seed + s.runs - 1
    << ", budget " << s.budget_configs << " configs, on " << rs.source << " (" << rs.label
    << "): " << rs.space.configs.size() << " configs, " << rs.valid() << " valid\n";
  o << "evaluations to within  median    p90  reached\n";
  for (std::size_t m = 0; m < 3; ++m) {
    auto cell = [](const std::optional<double>& v) {
      return v ? fmt(*v, 6) : std::string("never");
    };
    o << "  " << kMarginNames[m] << std::string(22 - std::string(kMarginNames[m]).size(), ' ')
      << cell(s.within[m].median)
      << std::string(8 - std::min<std::size_t>(7, cell(s.within[m].median).size()), ' ')
      << cell(s.within[m].p90)
      << std::string(7 - std::min<std::size_t>(6, cell(s.within[m].p90).size()), ' ')
      << s.within[m].reached << "/" << s.runs << "\n";
  }
  o << "median best / optimum after";
  for (std::size_t k = 0; k < 4; ++k) {
    o << (k ? ", " : " ") << kBestAfter[k] << ": "
      << (s.best_after_ratio_median[k] ? fmt(*s.best_after_ratio_median[k]) : std::string("none"));
  }
  o << "\n";
  return o.str();
}

}  // namespace clgauge
