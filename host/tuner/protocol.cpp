#include "tuner/protocol.hpp"

#include "clgauge/hash.hpp"

namespace clgauge::tuner {

json config_to_json(const GemmConfig& c) {
  json params = json::array();
  for (const auto& [name, value] : c.params) params.push_back({name, value});
  return {{"family", c.family}, {"params", params}};
}

GemmConfig config_from_json(const json& j) {
  GemmConfig c;
  c.family = j.at("family").get<std::string>();
  for (const auto& p : j.at("params")) {
    c.params.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::int64_t>());
  }
  return c;
}

json problem_to_json(const GemmProblem& p) {
  return {{"m", p.m},
          {"n", p.n},
          {"k", p.k},
          {"layout", std::string(to_string(p.layout))},
          {"trans_a", std::string(to_string(p.trans_a))},
          {"trans_b", std::string(to_string(p.trans_b))},
          {"alpha", p.alpha},
          {"beta", p.beta},
          {"lda", p.lda},
          {"ldb", p.ldb},
          {"ldc", p.ldc},
          {"offset_a", p.offset_a},
          {"offset_b", p.offset_b},
          {"offset_c", p.offset_c}};
}

GemmProblem problem_from_json(const json& j) {
  GemmProblem p;
  p.m = j.at("m").get<std::int64_t>();
  p.n = j.at("n").get<std::int64_t>();
  p.k = j.at("k").get<std::int64_t>();
  p.layout = layout_from_string(j.at("layout").get<std::string>());
  p.trans_a = op_from_string(j.at("trans_a").get<std::string>());
  p.trans_b = op_from_string(j.at("trans_b").get<std::string>());
  p.alpha = j.at("alpha").get<float>();
  p.beta = j.at("beta").get<float>();
  p.lda = j.at("lda").get<std::int64_t>();
  p.ldb = j.at("ldb").get<std::int64_t>();
  p.ldc = j.at("ldc").get<std::int64_t>();
  p.offset_a = j.value("offset_a", std::int64_t{0});
  p.offset_b = j.value("offset_b", std::int64_t{0});
  p.offset_c = j.value("offset_c", std::int64_t{0});
  return p;
}

json measure_to_json(const MeasureOptions& m) {
  return {{"warmup", m.warmup},
          {"min_runs", m.min_runs},
          {"max_runs", m.max_runs},
          {"max_mad_ratio", m.max_mad_ratio},
          {"fixed_runs", m.fixed_runs},
          {"abandon_ms", m.abandon_ms},
          {"abandon_after", m.abandon_after}};
}

MeasureOptions measure_from_json(const json& j) {
  MeasureOptions m;
  m.warmup = j.at("warmup").get<int>();
  m.min_runs = j.at("min_runs").get<int>();
  m.max_runs = j.at("max_runs").get<int>();
  m.max_mad_ratio = j.at("max_mad_ratio").get<double>();
  m.fixed_runs = j.at("fixed_runs").get<bool>();
  m.abandon_ms = j.at("abandon_ms").get<double>();
  m.abandon_after = j.at("abandon_after").get<int>();
  return m;
}

std::string seed_to_json(std::uint64_t seed) {
  return hex16(seed);
}

std::uint64_t seed_from_json(const json& j) {
  return parse_hex16(j.get<std::string>(), "seed");
}

}  // namespace clgauge::tuner
