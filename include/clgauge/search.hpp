#pragma once
// Search strategies (which configs a tuner evaluates next) and simulation (running a strategy
// against recorded measurements instead of live kernels). Pure code: no OpenCL.
//
// Strategies: "exhaustive" (enumeration order), "random" (without replacement, the order of
// random_order(size, seed)), "local" (iterated local search over one-step neighbours with
// random restarts) and "bo" (Gaussian-process model-guided search). See docs/search.md.
//
// Determinism: a strategy's answer depends only on (name, seed, space, history, count), never
// on earlier calls; ties are broken by config id; randomness is Philox (Random123); no
// unordered containers, no std:: distributions.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clgauge/space.hpp"

namespace clgauge {

// What a strategy sees: parameters with ordered values, and the valid configs.
struct SearchSpace {
  std::string family;
  std::vector<std::string> names;           // declared order
  std::vector<std::vector<double>> values;  // per parameter, declared order
  std::vector<std::vector<std::uint32_t>>
      configs;                   // valid configs as value indices, enumeration order
  std::vector<std::string> ids;  // config id of each config (tie-breaks)
};

// From a compiled space file (one shard of it).
SearchSpace search_space_from(CompiledSpace& space, const Shard& shard = {});

struct Observation {
  std::size_t config = 0;  // index into SearchSpace::configs
  std::optional<double>
      objective;  // lower is better (the tuner passes median ms); nullopt = failed
};

class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;
  virtual std::string_view name() const = 0;
  // Up to `count` distinct configs not in `history`, in the order to evaluate them; empty
  // when none is left. Same seed + same space + same history + same count -> same answer.
  virtual std::vector<std::size_t> propose(const SearchSpace& space,
                                           std::span<const Observation> history,
                                           std::size_t count) = 0;
  // The number of evaluations the run may spend in all (history included), when known.
  // "bo" spends its last evaluations on a local polish around the best; the others ignore it.
  virtual void set_budget(std::optional<std::uint64_t> budget_configs) { (void)budget_configs; }
};

std::vector<std::string> search_strategy_names();  // "exhaustive", "random", "local", "bo"
// Error(bad_input) naming the strategy and the known names.
std::unique_ptr<SearchStrategy> make_search_strategy(std::string_view name, std::uint64_t seed);
// "bo" when budget < space size, else "exhaustive".
std::string default_search_strategy(std::uint64_t budget_configs, std::uint64_t space_size);

// Neighbours of a config: the valid configs that differ from it in exactly one parameter, by
// one step in that parameter's declared value order. Ascending config index.
class NeighbourIndex {
 public:
  explicit NeighbourIndex(const SearchSpace& space);
  std::vector<std::size_t> neighbours(std::size_t config) const;
  // The config with these value indices, if valid.
  std::optional<std::size_t> find(std::span<const std::uint32_t> value_indices) const;

 private:
  const SearchSpace* space_;
  std::vector<std::size_t> sorted_;  // config indices sorted by value indices
};

// ---------------------------------------------------------------------------------------------
// Simulation

// A space with one recorded measurement per config.
struct RecordedSpace {
  std::string source;  // the file, as errors and reports name it
  std::string format;  // "kernel-tuner-cache" | "clgauge-results-store"
  std::string label;   // kernel and device (cache), or family and shape (store)
  SearchSpace space;
  // Per parameter and value: the value as JSON text, for reports (e.g. "32", "\"abc\"").
  std::vector<std::vector<std::string>> value_text;
  std::vector<std::optional<double>> objective;  // per config; lower is better; nullopt = failed
  std::vector<std::string> outcome;              // per config: "ok" or the failure's name
  // Per config: recorded compile + verification + run time in seconds, when the file has it.
  std::vector<std::optional<double>> cost_s;

  std::size_t valid() const;              // configs with an objective
  std::optional<double> optimum() const;  // the smallest objective
};

// Reads a Kernel Tuner cache (.json, or .json.gz by its gzip magic) or a clgauge results
// store (SQLite). For a store, `shape` picks the shape of the "search" rows ("" = the shape
// with the most rows, ties by the smaller name), the family with the most rows of that shape
// is the space, and the latest row of a config wins. Error(io_error) when unreadable;
// Error(bad_input) "<file>: <field or position>: <what>" when malformed.
RecordedSpace load_recorded_space(const std::filesystem::path& file, std::string_view shape = "");
// The same from bytes already read (plain or gzip JSON); `source` names them in errors.
RecordedSpace parse_kernel_tuner_cache(std::string_view bytes, std::string_view source);

struct SimulatedEvaluation {
  std::size_t index = 0;   // 0-based evaluation number
  std::size_t config = 0;  // index into the recorded space
  std::optional<double> objective;
  std::string outcome;  // "ok" or the recorded failure
  std::optional<double> cost_s;
};

inline constexpr double kWithinMargins[] = {0.01, 0.05, 0.10};
inline constexpr std::size_t kBestAfter[] = {25, 50, 100, 200};

struct SimulationResult {
  std::string strategy;
  std::uint64_t seed = 0;
  std::uint64_t budget_configs = 0;
  std::optional<double> budget_time_s;
  bool ran_out_of_time = false;
  std::string source;
  std::size_t space_size = 0;  // configs in the file
  std::size_t valid = 0;       // of which measured successfully
  std::optional<double> optimum;
  std::vector<SimulatedEvaluation> evaluations;
  std::optional<std::size_t> best;  // index into evaluations
  double spent_s = 0;               // recorded cost of the evaluations (0 when unknown)
  // Evaluations until the best-so-far is within 1%, 5%, 10% of the optimum (1-based count).
  std::optional<std::size_t> evals_to_within[3];
  // Best objective after N = 25, 50, 100, 200 evaluations (nullopt: none feasible yet).
  std::optional<double> best_after[4];
  // Best-so-far after each evaluation (nullopt until the first success).
  std::vector<std::optional<double>> best_so_far() const;
};

// Runs `strategy` (seeded) against the recording until budget_configs evaluations, the
// recorded time budget, or the space is spent. Error(bad_input) for a budget of 0, a time
// budget on a file without recorded times, or an unknown strategy.
SimulationResult simulate(const RecordedSpace& recorded, std::string_view strategy,
                          std::uint64_t seed, std::uint64_t budget_configs,
                          std::optional<double> budget_time_s = std::nullopt);

// {"strategy","seed","budget_configs","budget_time_s","source","space_size","valid","optimum",
//  "evaluations":[{"index","config_id","params":{name:value},"objective","outcome","cost_s"}],
//  "best":{"index","config_id","params","objective"}|null,
//  "evals_to_within":{"1%","5%","10%"},"best_after":{"25","50","100","200"},
//  "ran_out_of_time","spent_s"}
std::string to_json(const SimulationResult& result, const RecordedSpace& recorded);
// A few lines a person reads.
std::string to_text(const SimulationResult& result, const RecordedSpace& recorded);

// The distribution of evals_to_within over seeds seed .. seed+runs-1.
struct MarginSummary {
  double margin = 0;             // 0.01, 0.05, 0.10
  std::optional<double> median;  // nullopt when at least half never reached it
  std::optional<double> p90;     // nearest rank; nullopt when >10% never reached it
  std::size_t reached = 0;       // runs that reached it
};
struct RepeatSummary {
  std::string strategy;
  std::uint64_t first_seed = 0;
  std::size_t runs = 0;
  std::uint64_t budget_configs = 0;
  std::optional<double> optimum;
  MarginSummary within[3];
  // Median over runs of best_after[i] / optimum (nullopt when a run had none).
  std::optional<double> best_after_ratio_median[4];
  std::vector<SimulationResult> results;  // one per seed
};
RepeatSummary simulate_repeat(const RecordedSpace& recorded, std::string_view strategy,
                              std::uint64_t first_seed, std::size_t runs,
                              std::uint64_t budget_configs,
                              std::optional<double> budget_time_s = std::nullopt);
std::string to_json(const RepeatSummary& summary, const RecordedSpace& recorded);
std::string to_text(const RepeatSummary& summary, const RecordedSpace& recorded);

}  // namespace clgauge
