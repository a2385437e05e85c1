// The replay gates and the tuning decision: a pure function of the replay results.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "clgauge/tuner.hpp"

namespace clgauge {

std::string_view to_string(TuneDecision d) {
  switch (d) {
    case TuneDecision::promote:
      return "promote";
    case TuneDecision::iterate:
      return "iterate";
    case TuneDecision::refine:
      return "refine";
  }
  return "refine";
}

namespace {

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

ReplayVerdict decide(std::vector<ReplayResult>& replay, double baseline_gflops, double cv_max,
                     double margin) {
  ReplayVerdict v;
  bool any_correct = false, any_correct_stable = false;
  for (std::size_t i = 0; i < replay.size(); ++i) {
    auto& r = replay[i];
    r.correct = !r.sessions_correct.empty() &&
                std::all_of(r.sessions_correct.begin(), r.sessions_correct.end(),
                            [](bool ok) { return ok; });
    r.stable =
        r.correct && r.session_medians_gflops.size() == r.sessions_correct.size() && r.cv <= cv_max;
    r.beats_baseline =
        r.correct && baseline_gflops > 0 && r.median_gflops >= baseline_gflops * margin;
    any_correct = any_correct || r.correct;
    if (r.correct && r.stable) {
      any_correct_stable = true;
      // Fastest first; equal speeds go to the smaller config id. Being the fastest, the
      // winner beats the baseline whenever any correct and stable candidate does.
      if (!v.winner || r.median_gflops > replay[*v.winner].median_gflops ||
          (r.median_gflops == replay[*v.winner].median_gflops &&
           r.config_id < replay[*v.winner].config_id)) {
        v.winner = i;
      }
    }
  }
  if (v.winner && replay[*v.winner].beats_baseline) {
    v.decision = TuneDecision::promote;
    v.reason = "the winner is correct in every session, stable (CV " +
               fixed2(replay[*v.winner].cv * 100) + "% <= " + fixed2(cv_max * 100) +
               "%) and beats the device default by >= " + fixed2(margin) + "x";
  } else if (!any_correct) {
    v.decision = TuneDecision::refine;
    v.reason = replay.empty() ? "no candidate was correct in the search, nothing to replay"
                              : "no replayed candidate passed parity in every session";
  } else if (any_correct_stable) {
    v.decision = TuneDecision::iterate;
    v.reason = baseline_gflops > 0
                   ? "correct and stable candidates exist, but none beats the device default by " +
                         fixed2(margin) + "x"
                   : "correct and stable candidates exist, but the device default could not be "
                     "measured to compare with";
  } else {
    v.decision = TuneDecision::refine;
    v.reason = "correct candidates exist, but none is stable (CV of session medians > " +
               fixed2(cv_max * 100) + "%)";
  }
  return v;
}

}  // namespace clgauge
