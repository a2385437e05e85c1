// clgauge plan: enumerate a parameter space against device limits, shard it, and lay
// out the replay plan. Pure planning: no kernel is built or run.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/plan.hpp"
#include "clgauge/space.hpp"
#include "cli/command.hpp"

namespace clgauge::cli {
namespace {

struct PlanFlags {
  std::string space;
  std::string device;
  std::string limits_file;
  std::string shapes = "1024x1024x1024";
  std::string shard = "0/1";
  std::uint64_t seed = 42;
  std::uint64_t top_k = 0;
  std::uint64_t sessions = 3;
  std::uint64_t runs = 3;
  std::uint64_t max_work = CompiledSpace::kDefaultWorkLimit;
  bool top_k_given = false;
  bool random_order = false;
  bool count = false;
  bool json = false;
};

struct Limits {
  DeviceLimits values;
  std::string source;  // "device [i] platform / name" or "file <path>"
};

Limits resolve_limits(const PlanFlags& f) {
  if (!f.limits_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(f.limits_file, ec)) {
      throw Error(ReasonCode::bad_input, "--device-limits: '" + f.limits_file + "': no such file");
    }
    return {DeviceLimits::load(f.limits_file), "file " + f.limits_file};
  }
  const auto devices = list_devices();
  if (devices.empty()) {
    throw Error(ReasonCode::bad_input,
                "--device-limits: no OpenCL device found, so there are no device limits to plan "
                "against; pass --device-limits FILE (see tuning/limits/example_gpu.json)");
  }
  const auto d = select_device(f.device, devices);
  return {DeviceLimits::from_device(d), "device [" + std::to_string(d.index) + "] " + d.label()};
}

nlohmann::ordered_json candidate_json(const Candidate& c, std::uint64_t rank,
                                      const std::vector<std::string>& names) {
  nlohmann::ordered_json params;
  for (std::size_t i = 0; i < names.size(); ++i) params[names[i]] = c.values[i];
  return {{"rank", rank}, {"index", c.index}, {"id", c.id}, {"params", params}};
}

// The plan document: everything the output says, in one canonical JSON value. Its
// hash (XXH3-64 of dump() with no whitespace, before "plan_hash" is added) is the plan
// hash printed by both output forms.
nlohmann::ordered_json plan_document(const PlanFlags& f, CompiledSpace& compiled,
                                     const Limits& limits, const Shard& shard, std::uint64_t valid,
                                     const std::vector<Candidate>& listed,
                                     const std::optional<ReplayPlan>& replay) {
  const ParameterSpace& space = compiled.space();
  const auto names = space.parameter_names();
  nlohmann::ordered_json doc;
  doc["schema"] = "clgauge-plan-v1";
  doc["space"] = {{"name", f.space},
                  {"family", space.family},
                  {"parameters", names},
                  {"raw_combinations", space.raw_size()},
                  {"constraints", space.constraints}};
  // Only the limits some constraint names: the result depends on nothing else, and a
  // device's other limits (free global memory on PoCL) may change from run to run.
  nlohmann::ordered_json used = nlohmann::ordered_json::object();
  for (const auto& [name, value] : compiled.used_limits()) {
    used[name] = static_cast<std::uint64_t>(value);
  }
  doc["limits"] = {{"source", limits.source}, {"used", used}};
  doc["shard"] = shard.str();
  doc["order"] = f.random_order ? "random" : "declared";
  doc["seed"] = f.seed;
  doc["valid_candidates"] = valid;
  auto list = nlohmann::ordered_json::array();
  for (std::size_t r = 0; r < listed.size(); ++r)
    list.push_back(candidate_json(listed[r], r, names));
  doc["candidates"] = std::move(list);
  if (replay) {
    doc["replay_plan"] = nlohmann::ordered_json::parse(replay->canonical_json());
    doc["replay_plan_hash"] = hex16(replay->hash());
  } else {
    doc["replay_plan"] = nullptr;
  }
  return doc;
}

void print_text(std::ostream& out, const nlohmann::ordered_json& doc, const PlanFlags& f,
                const std::vector<Candidate>& listed, const std::optional<ReplayPlan>& replay,
                std::uint64_t total) {
  const auto& space = doc["space"];
  out << "space " << f.space << ": " << space["family"].get<std::string>() << ", "
      << space["parameters"].size() << " parameters, " << space["raw_combinations"]
      << " raw combinations, " << space["constraints"].size() << " constraints\n";
  out << "limits " << doc["limits"]["source"].get<std::string>() << ":";
  for (const auto& [name, value] : doc["limits"]["used"].items())
    out << " " << name << "=" << value;
  out << "\n";
  out << "shard " << doc["shard"].get<std::string>() << ": " << listed.size() << " of " << total
      << " valid candidates, "
      << (f.random_order ? "random order, seed " + std::to_string(f.seed)
                         : std::string("declared order"))
      << "\n";
  out << "rank index id";
  for (const auto& n : space["parameters"]) out << " " << n.get<std::string>();
  out << "\n";
  for (std::size_t r = 0; r < listed.size(); ++r) {
    out << r << " " << listed[r].index << " " << listed[r].id;
    for (const auto v : listed[r].values) out << " " << v;
    out << "\n";
  }
  if (replay) {
    out << "replay plan: top " << replay->config_ids.size() << ", " << replay->sessions
        << " sessions x " << replay->runs << " runs, shapes";
    for (const auto& s : replay->shapes) out << " " << s;
    out << ", master seed " << replay->master_seed << ", " << replay->entries.size()
        << " entries\n";
    out << "rank tag shape seed\n";
    for (const auto& e : replay->entries) {
      out << e.rank << " " << e.tag << " " << e.shape << " " << hex16(e.seed) << "\n";
    }
    out << "replay plan hash " << hex16(replay->hash()) << "\n";
  }
  out << "plan hash " << doc["plan_hash"].get<std::string>() << "\n";
}

int run_plan(const PlanFlags& f, Streams s) {
  const Shard shard = Shard::parse(f.shard, "--shard");
  // Flags are checked before any file is read, so each error names its own flag.
  const auto shapes = parse_shape_list(f.shapes, "--shapes");
  if (f.top_k_given && f.top_k == 0) {
    throw Error(ReasonCode::bad_input, "--top-k: '0': must be at least 1");
  }
  if (f.sessions == 0)
    throw Error(ReasonCode::bad_input, "--replay-sessions: '0': must be at least 1");
  if (f.runs == 0) throw Error(ReasonCode::bad_input, "--replay-runs: '0': must be at least 1");
  if (f.max_work == 0) throw Error(ReasonCode::bad_input, "--max-work: '0': must be at least 1");
  const auto space_file = find_space_file(f.space);
  auto space = ParameterSpace::load(space_file);
  const Limits limits = resolve_limits(f);
  CompiledSpace compiled(std::move(space), limits.values);
  compiled.set_work_limit(f.max_work);

  if (f.count) {
    s.out << compiled.count(shard) << "\n";
    return 0;
  }
  const std::uint64_t total = compiled.count();
  auto listed = compiled.candidates(shard);
  if (f.random_order) listed = in_random_order(std::move(listed), f.seed);

  std::optional<ReplayPlan> replay;
  if (f.top_k > 0) {
    std::vector<std::string> ranked;
    for (std::size_t r = 0; r < listed.size() && r < f.top_k; ++r) ranked.push_back(listed[r].id);
    replay = ReplayPlan::make(std::move(ranked), shapes, f.sessions, f.runs, f.seed);
  }
  auto doc = plan_document(f, compiled, limits, shard, total, listed, replay);
  doc["plan_hash"] = hex16(xxh3_64(doc.dump()));
  if (f.json) {
    s.out << doc.dump(2) << "\n";
  } else {
    print_text(s.out, doc, f, listed, replay, total);
  }
  return 0;
}

}  // namespace

Runner add_plan_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "plan", "enumerate a parameter space against device limits; shards and replay plans");
  auto f = std::make_shared<PlanFlags>();
  cmd->add_option("--space", f->space, "space NAME (tuning/spaces/NAME.json) or a space FILE")
      ->required();
  auto* device = cmd->add_option("--device", f->device,
                                 "device whose limits apply: flat index or substring (default: "
                                 "CLGAUGE_DEVICE, else the first GPU, else the first device)");
  auto* limits = cmd->add_option("--device-limits", f->limits_file,
                                 "JSON file of device limits (plan for a device that is absent)")
                     ->check(input_file_validator());
  device->excludes(limits);
  limits->excludes(device);
  cmd->add_option("--shapes", f->shapes, "comma-separated <m>x<n>x<k> shapes of the replay plan")
      ->capture_default_str();
  cmd->add_option("--shard", f->shard, "i/N: keep candidates whose number c has c mod N == i")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "master seed")->capture_default_str();
  auto* top_k = cmd->add_option(
      "--top-k", f->top_k, "replay plan for the first K listed candidates (rank = listing order)");
  cmd->add_option("--replay-sessions", f->sessions, "sessions per replayed candidate")
      ->capture_default_str()
      ->needs(top_k);
  cmd->add_option("--replay-runs", f->runs, "runs per session")
      ->capture_default_str()
      ->needs(top_k);
  cmd->add_option("--max-work", f->max_work,
                  "stop enumerating after this many bound parameter values (a bound on the "
                  "time a huge space can take)")
      ->capture_default_str();
  cmd->add_flag("--random-order", f->random_order,
                "list candidates in the seeded random order (random search) instead of "
                "declared order");
  auto* count = cmd->add_flag(
      "--count", f->count, "print the number of valid candidates (in the shard) and nothing else");
  cmd->add_flag("--json", f->json, "print the plan as JSON")->excludes(count);
  return [f, top_k](Streams s) {
    f->top_k_given = top_k->count() > 0;
    return run_plan(*f, s);
  };
}

}  // namespace clgauge::cli
