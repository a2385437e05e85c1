#pragma once
// `clgauge tune --simulate FILE`: the glue the tune command calls (flags are registered by
// the tune command itself). Errors propagate as clgauge::Error (bad_input -> exit 2).

#include <cstdint>
#include <optional>
#include <string>

#include "cli/command.hpp"

namespace clgauge::cli {

struct SimulateFlags {
  std::string file;                   // Kernel Tuner cache (.json/.json.gz) or results store
  std::string strategy = "bo";        // --strategy
  std::uint64_t budget_configs = 0;   // --budget-configs (required, >= 1)
  std::optional<double> budget_time;  // --budget-time seconds, against recorded times
  std::uint64_t seed = 0;             // --seed
  std::uint64_t repeat = 1;           // --repeat N: seeds seed .. seed+N-1
  bool json = false;                  // --json
  std::string shape;                  // stores: the shape to simulate ("" = most rows)
};

// Prints one JSON object (--json) or a short summary; returns 0.
int run_simulate(const SimulateFlags& flags, Streams streams);

}  // namespace clgauge::cli
