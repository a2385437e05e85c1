#include "cli/simulate.hpp"

#include "clgauge/error.hpp"
#include "clgauge/search.hpp"

namespace clgauge::cli {

int run_simulate(const SimulateFlags& f, Streams s) {
  if (f.repeat == 0) throw Error(ReasonCode::bad_input, "--repeat: 0 (must be at least 1)");
  const RecordedSpace rs = load_recorded_space(f.file, f.shape);
  if (f.repeat <= 1) {
    const auto r = simulate(rs, f.strategy, f.seed, f.budget_configs, f.budget_time);
    s.out << (f.json ? to_json(r, rs) + "\n" : to_text(r, rs));
  } else {
    const auto r =
        simulate_repeat(rs, f.strategy, f.seed, f.repeat, f.budget_configs, f.budget_time);
    s.out << (f.json ? to_json(r, rs) + "\n" : to_text(r, rs));
  }
  return 0;
}

}  // namespace clgauge::cli
