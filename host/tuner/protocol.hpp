#pragma once
// The line protocol between the tuner and its supervised worker processes: one JSON
// object per line each way. The parent sends a request; the worker may answer with
// stage lines ({"stage":"built",...}) before the final reply, and each stage line
// restarts the parent's clock with the next timeout (build, then run).
//
// Requests (op):
//   build    {config}                                   -> {reason, detail, build_ms, from_cache}
//   evaluate {config, problem, seed, verify, measure}   -> stage built, then
//            {reason, detail, build_ms, first_launch_ms, samples_ms, host_ms, abandoned}
//   replay   {configs, problem, seeds, runs, verify[]}  -> stage built, then
//            {results: [{reason, detail, samples_ms, host_ms}]}   (runs interleaved)
//   baseline {name, problem, seed, measure}             -> {reason, detail, samples_ms, host_ms}
//   quit
// The worker announces itself with {ready, device, fingerprint} once its device is open.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "clgauge/gemm.hpp"
#include "clgauge/measure.hpp"

namespace clgauge::tuner {

using json = nlohmann::ordered_json;

json config_to_json(const GemmConfig& c);
GemmConfig config_from_json(const json& j);
json problem_to_json(const GemmProblem& p);
GemmProblem problem_from_json(const json& j);
json measure_to_json(const MeasureOptions& m);
MeasureOptions measure_from_json(const json& j);

// Seeds travel as 16 hex digits so no JSON reader rounds them.
std::string seed_to_json(std::uint64_t seed);
std::uint64_t seed_from_json(const json& j);

}  // namespace clgauge::tuner
