// Parity campaigns, the pure part: names, the allowlist, the scenario matrix and the
// replay command. Nothing here touches a device.

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

#include "clgauge/campaign.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/random.hpp"
#include "clgauge/tuning_db.hpp"
#include "runtime/json_io.hpp"

namespace clgauge {
namespace {

using ojson = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& message) {
  throw Error(ReasonCode::bad_input, message);
}

// Comma-separated items; an empty item is an error naming its position.
std::vector<std::string> split_list(std::string_view text, std::string_view field) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0;; ++i) {
    const std::size_t end = text.find(',', start);
    const std::string item(
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (item.empty()) bad(std::string(field) + "[" + std::to_string(i) + "]: empty item");
    out.push_back(item);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::int64_t parse_int(std::string_view text, const std::string& what) {
  std::int64_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size()) {
    bad(what + ": '" + io::excerpt_text(text) + "' is not an integer");
  }
  return v;
}

struct SourcedConfig {
  GemmConfig config;
  std::string source;
};

// The variants every shape x layout x ops combination runs in: tight leading dimensions
// with beta != 0 (C is read), padded leading dimensions with offsets, and beta == 0 with
// NaN in C (C must never be read).
struct Variant {
  const char* name;
  float alpha;
  float beta;
  bool padded;
};
constexpr std::array<Variant, 3> kVariants = {{{"tight", 1.5f, -0.75f, false},
                                               {"padded", -1.0f, 0.5f, true},
                                               {"beta0nan", 0.75f, 0.0f, false}}};

const std::vector<std::string> kDefaultShapes = {"1x1x1", "13x7x31", "61x67x59", "131x127x257"};

GemmProblem make_problem(const std::string& shape, Layout layout, Op ta, Op tb, const Variant& v) {
  GemmProblem p;
  const auto x1 = shape.find('x'), x2 = shape.find('x', x1 + 1);
  p.m = parse_int(shape.substr(0, x1), "shape m");
  p.n = parse_int(shape.substr(x1 + 1, x2 - x1 - 1), "shape n");
  p.k = parse_int(shape.substr(x2 + 1), "shape k");
  p.layout = layout;
  p.trans_a = ta;
  p.trans_b = tb;
  p.alpha = v.alpha;
  p.beta = v.beta;
  if (v.padded) {
    p = p.resolved();
    p.lda += 3;
    p.ldb += 5;
    p.ldc += 2;
    p.offset_a = 5;
    p.offset_b = 3;
    p.offset_c = 7;
  }
  p.validate();
  return p.resolved();
}

struct GraphSpec {
  std::string generator;
  std::int32_t nodes = 0;
  std::int64_t edges = 0;
};

std::vector<GraphSpec> parse_graphs(const std::string& text) {
  if (text.empty()) {
    return {{"rmat", 64, 256}, {"uniform", 64, 256}, {"rmat", 1000, 6000}, {"uniform", 1000, 6000}};
  }
  std::vector<GraphSpec> out;
  std::set<std::string> seen;
  const auto items = split_list(text, "--graphs");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string field = "--graphs[" + std::to_string(i) + "]";
    const std::string& item = items[i];
    const auto colon = item.find(':');
    const auto x = item.find('x', colon == std::string::npos ? 0 : colon);
    if (colon == std::string::npos || x == std::string::npos) {
      bad(field + ": '" + io::excerpt_text(item) + "': want <rmat|uniform>:<nodes>x<edges>");
    }
    GraphSpec g;
    g.generator = item.substr(0, colon);
    if (g.generator != "rmat" && g.generator != "uniform") {
      bad(field + ": unknown generator '" + io::excerpt_text(g.generator) +
          "' (want rmat|uniform)");
    }
    const auto nodes = parse_int(item.substr(colon + 1, x - colon - 1), field + " nodes");
    g.edges = parse_int(item.substr(x + 1), field + " edges");
    if (nodes < 1 || nodes > 1'000'000)
      bad(field + ": nodes " + std::to_string(nodes) + " must be in [1, 1000000]");
    if (g.edges < 0 || g.edges > 10'000'000) {
      bad(field + ": edges " + std::to_string(g.edges) + " must be in [0, 10000000]");
    }
    g.nodes = static_cast<std::int32_t>(nodes);
    if (!seen.insert(item).second) bad(field + ": '" + item + "' is repeated");
    out.push_back(g);
  }
  return out;
}

struct NamedParams {
  const char* name;
  PropagateParams params;
};

std::vector<NamedParams> propagate_param_sets() {
  PropagateParams capped;
  capped.rate = 0.8f;
  capped.floor = 0.05f;
  capped.radius_cap = 3;
  capped.iter_cap_layers = 2;
  capped.node_budget = 1.5f;
  capped.eps = 1e-6f;
  return {{"default", PropagateParams{}}, {"capped", capped}};
}

constexpr std::array<std::int32_t, 2> kBatchSizes = {1, 3};

std::vector<std::uint64_t> scenario_seeds(const CampaignRequest& req, const std::string& config_id,
                                          const std::string& case_id) {
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t i = 0; i < req.seeds; ++i) {
    seeds.push_back(derive_seed(req.seed, "parity", config_id, case_id, 0, i));
  }
  return seeds;
}

std::vector<SourcedConfig> gemm_configs(const CampaignRequest& req, const DeviceInfo& device,
                                        std::span<const GemmConfig> tuned,
                                        std::vector<std::string>& notes) {
  std::set<std::string> family_filter;
  for (const auto& f : req.families) family_filter.insert(gemm_family(f).name);
  auto wanted = [&](const GemmConfig& c) {
    return family_filter.empty() || family_filter.count(c.family) > 0;
  };
  const std::vector<std::string> items =
      req.configs.empty() ? std::vector<std::string>{"default", "tuned"} : req.configs;
  std::vector<SourcedConfig> out;
  std::set<std::string> ids;
  auto add = [&](const GemmConfig& c, const std::string& source) {
    if (!ids.insert(c.id()).second) return;
    if (auto why = gemm_config_invalid_reason(c, device)) {
      if (source == "explicit") throw Error(ReasonCode::invalid_config, "--configs: " + *why);
      notes.push_back(source + " config left out (invalid on the device): " + *why);
      return;
    }
    out.push_back({c, source});
  };
  for (const auto& item : items) {
    if (item == "default") {
      for (const auto& f : gemm_families()) {
        const auto c = GemmConfig::defaults_for(f.name);
        if (wanted(c)) add(c, "default");
      }
    } else if (item == "tuned") {
      if (tuned.empty()) notes.push_back("no tuning database entries for this device");
      for (const auto& c : tuned) {
        if (wanted(c)) add(c, "tuned");
      }
    } else if (item.rfind("family=", 0) == 0) {
      add(GemmConfig::parse_canonical(item, "--configs '" + io::excerpt_text(item) + "'"),
          "explicit");
    } else {
      parse_hex16(item, "--configs");
      std::optional<GemmConfig> found;
      for (const auto& f : gemm_families()) {
        const auto c = GemmConfig::defaults_for(f.name);
        if (c.id() == item) found = c;
      }
      for (const auto& c : tuned) {
        if (!found && c.id() == item) found = c;
      }
      if (!found) {
        bad("--configs " + item +
            ": unknown config id (not a family default nor a tuned winner; give the canonical "
            "form 'family=...;NAME=V;...')");
      }
      add(*found, "explicit");
    }
  }
  return out;
}

void plan_gemm(const CampaignRequest& req, const DeviceInfo& device,
               std::span<const GemmConfig> tuned, CampaignPlan& plan) {
  std::vector<std::string> shapes = kDefaultShapes;
  if (!req.shapes.empty()) {
    shapes.clear();
    std::set<std::string> seen;
    for (std::size_t i = 0; i < req.shapes.size(); ++i) {
      const std::string s = parse_shape(req.shapes[i], "--shapes");
      if (!seen.insert(s).second) bad("--shapes[" + std::to_string(i) + "]: '" + s + "' repeated");
      shapes.push_back(s);
    }
  }
  const auto configs = gemm_configs(req, device, tuned, plan.notes);
  for (const auto& [config, source] : configs) {
    plan.configs.push_back(config);
    const bool bitwise = gemm_family(config.family).bitwise;
    for (const auto& shape : shapes) {
      for (const Layout layout : {Layout::row, Layout::col}) {
        for (const Op ta : {Op::n, Op::t}) {
          for (const Op tb : {Op::n, Op::t}) {
            for (const auto& v : kVariants) {
              CampaignScenario s;
              s.suite = "gemm";
              s.config_id = config.id();
              s.shape = shape;
              s.case_id = config.family + "@" + s.config_id + "/" + std::string(to_string(layout)) +
                          "-" + std::string(to_string(ta)) + std::string(to_string(tb)) + "/" +
                          shape + "/" + v.name;
              s.bitwise = bitwise;
              s.seeds = scenario_seeds(req, s.config_id, s.case_id);
              s.gemm = GemmScenario{config, source, make_problem(shape, layout, ta, tb, v), v.name};
              plan.scenarios.push_back(std::move(s));
            }
          }
        }
      }
    }
  }
}

void plan_propagate(const CampaignRequest& req, CampaignPlan& plan) {
  const auto graphs = parse_graphs(req.graphs);
  for (const auto& g : graphs) {
    for (const auto& [name, params] : propagate_param_sets()) {
      for (const std::int32_t batch : kBatchSizes) {
        CampaignScenario s;
        s.suite = "propagate";
        s.config_id = hex16(xxh3_64("propagate.layered;" + to_json(params)));
        s.shape = std::to_string(g.nodes) + "x" + std::to_string(g.edges);
        s.case_id = g.generator + "-" + s.shape + "/" + name + "/batch" + std::to_string(batch);
        s.bitwise = true;
        s.seeds = scenario_seeds(req, s.config_id, s.case_id);
        s.propagate = PropagateScenario{g.generator, g.nodes, g.edges, name, params, batch};
        plan.scenarios.push_back(std::move(s));
      }
    }
  }
}

// Arguments that need no quoting in a POSIX shell.
bool shell_safe(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_./:@%+=,-").find(c) != std::string_view::npos;
  });
}

std::string shell_quote(std::string_view s) {
  if (shell_safe(s)) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

std::string_view to_string(CampaignSuite s) {
  switch (s) {
    case CampaignSuite::gemm:
      return "gemm";
    case CampaignSuite::propagate:
      return "propagate";
    case CampaignSuite::all:
      return "all";
  }
  return "?";
}

std::string_view to_string(CampaignMode m) {
  switch (m) {
    case CampaignMode::strict:
      return "strict";
    case CampaignMode::hardened:
      return "hardened";
    case CampaignMode::both:
      return "both";
  }
  return "?";
}

CampaignSuite campaign_suite_from_string(std::string_view s) {
  for (auto v : {CampaignSuite::gemm, CampaignSuite::propagate, CampaignSuite::all}) {
    if (to_string(v) == s) return v;
  }
  bad("--suite '" + io::excerpt_text(s) + "': unknown suite (want gemm|propagate|all)");
}

CampaignMode campaign_mode_from_string(std::string_view s) {
  for (auto v : {CampaignMode::strict, CampaignMode::hardened, CampaignMode::both}) {
    if (to_string(v) == s) return v;
  }
  bad("--mode '" + io::excerpt_text(s) + "': unknown mode (want strict|hardened|both)");
}

std::vector<AllowlistEntry> parse_allowlist(std::string_view text, std::string_view source) {
  const std::string src(source);
  const auto j = io::parse_json(text, source);
  if (!j.is_object()) bad(src + ": want an object {\"allow\": [...]}");
  for (const auto& [key, value] : j.items()) {
    if (key != "allow") bad(src + ": " + key + ": unknown key (want only \"allow\")");
  }
  if (!j.contains("allow")) bad(src + ": allow: missing");
  const auto& allow = j.at("allow");
  if (!allow.is_array()) bad(src + ": allow: want an array of {\"pattern\", \"reason\"}");
  std::vector<AllowlistEntry> out;
  for (std::size_t i = 0; i < allow.size(); ++i) {
    const std::string field = src + ": allow[" + std::to_string(i) + "]";
    const auto& e = allow[i];
    if (!e.is_object()) bad(field + ": want an object {\"pattern\", \"reason\"}");
    for (const auto& [key, value] : e.items()) {
      if (key != "pattern" && key != "reason") bad(field + "." + key + ": unknown key");
    }
    AllowlistEntry entry;
    for (const char* key : {"pattern", "reason"}) {
      if (!e.contains(key)) bad(field + "." + key + ": missing");
      if (!e.at(key).is_string()) {
        bad(field + "." + key + ": " + io::excerpt(e.at(key)) + " is not a string");
      }
      const std::string value = e.at(key).get<std::string>();
      if (value.empty()) bad(field + "." + key + ": empty");
      if (value.find('\0') != std::string::npos) bad(field + "." + key + ": contains a NUL");
      (std::string_view(key) == "pattern" ? entry.pattern : entry.reason) = value;
    }
    out.push_back(entry);
  }
  return out;
}

std::vector<AllowlistEntry> load_allowlist(const std::filesystem::path& file) {
  return parse_allowlist(io::read_input_file(file, "--allowlist", std::uintmax_t{1} << 24),
                         file.string());
}

const AllowlistEntry* match_allowlist(std::span<const AllowlistEntry> allowlist,
                                      std::string_view scenario_id) {
  const std::string id(scenario_id);
  for (const auto& e : allowlist) {
    if (::fnmatch(e.pattern.c_str(), id.c_str(), 0) == 0) return &e;
  }
  return nullptr;
}

std::vector<GemmConfig> tuned_gemm_configs(const DeviceInfo& device) {
  std::vector<GemmConfig> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& [file, db] : load_tuning_databases(tuning_device_id(device))) {
    for (const auto& e : db.entries) {
      if (gemm_config_invalid_reason(e.config, device)) continue;
      if (seen.insert({e.config.family, e.config.id()}).second) out.push_back(e.config);
    }
  }
  std::sort(out.begin(), out.end(), [](const GemmConfig& a, const GemmConfig& b) {
    return std::pair(a.family, a.id()) < std::pair(b.family, b.id());
  });
  return out;
}

CampaignPlan plan_campaign(const CampaignRequest& req, const DeviceInfo& device,
                           std::span<const GemmConfig> tuned) {
  if (req.seeds < 1) bad("--seeds 0: at least one seed per scenario");
  if (req.seeds > 10000) bad("--seeds " + std::to_string(req.seeds) + ": at most 10000");
  if (!(req.tolerance_safety > 0) || !(req.tolerance_p99 > 0)) {
    bad("tolerance bounds must be > 0");
  }
  CampaignPlan plan;
  CampaignSuite suite = req.suite;
  std::string wanted_case = req.case_id;
  if (!wanted_case.empty()) {
    // A whole scenario id "<suite>/<mode>:<case>" names its case too.
    const auto colon = wanted_case.find(':');
    const auto slash = wanted_case.find('/');
    if (colon != std::string::npos && slash != std::string::npos && slash < colon &&
        wanted_case.find('@') > colon) {
      const std::string prefix = wanted_case.substr(0, slash);
      if (prefix == "gemm" || prefix == "propagate") wanted_case = wanted_case.substr(colon + 1);
    }
  }
  if (suite == CampaignSuite::gemm || suite == CampaignSuite::all) {
    plan_gemm(req, device, tuned, plan);
  }
  if (suite == CampaignSuite::propagate || suite == CampaignSuite::all) {
    plan_propagate(req, plan);
  }
  if (plan.scenarios.empty()) bad("the campaign has no scenarios (check --families and --configs)");
  if (!wanted_case.empty()) {
    auto it = std::find_if(plan.scenarios.begin(), plan.scenarios.end(),
                           [&](const auto& s) { return s.case_id == wanted_case; });
    if (it == plan.scenarios.end()) {
      bad("--case '" + io::excerpt_text(req.case_id, 120) + "': no such scenario among the " +
          std::to_string(plan.scenarios.size()) +
          " planned (give the flags of the run that logged it)");
    }
    CampaignScenario only = *it;
    plan.scenarios = {only};
    if (only.gemm) {
      plan.configs = {only.gemm->config};
    } else {
      plan.configs.clear();
    }
  }
  return plan;
}

std::string campaign_replay_command(const CampaignRequest& req, const CampaignScenario& s,
                                    CampaignMode mode) {
  std::vector<std::string> args = {"clgauge", "parity",
                                   "--suite", s.suite,
                                   "--seed",  std::to_string(req.seed),
                                   "--seeds", std::to_string(req.seeds),
                                   "--mode",  std::string(to_string(mode))};
  if (s.gemm) {
    if (!req.shapes.empty()) args.insert(args.end(), {"--shapes", join(req.shapes)});
    if (!req.families.empty()) args.insert(args.end(), {"--families", join(req.families)});
    if (!req.configs.empty()) args.insert(args.end(), {"--configs", join(req.configs)});
  } else if (!req.graphs.empty()) {
    args.insert(args.end(), {"--graphs", req.graphs});
  }
  if (!req.allowlist_file.empty()) args.insert(args.end(), {"--allowlist", req.allowlist_file});
  if (!req.device_spec.empty()) args.insert(args.end(), {"--device", req.device_spec});
  args.insert(args.end(), {"--case", s.case_id});
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + shell_quote(a);
  return out;
}

}  // namespace clgauge
