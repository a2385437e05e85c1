// CLBlast tuner outputs (--clblast-params): parse; what parses names a kernel CLBlast has,
// has parameters, and its parameter line parses back to the same parameters.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "clgauge/baselines.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  const auto p = clgauge::parse_clblast_params(input, "fuzz.json");
  if (p.params.empty() || (p.kernel != "Xgemm" && p.kernel != "XgemmDirect")) std::abort();
  const nlohmann::json again = {{"kernel_family", p.kernel_family},
                                {"precision", "32"},
                                {"best_kernel", p.kernel},
                                {"best_parameters", p.params_text()}};
  if (clgauge::parse_clblast_params(again.dump(), "round trip").params != p.params) std::abort();
}
