// Graph files, binary CSR (CLGAUGE_FUZZ_GRAPH_BINARY=1) or JSON, and their validation.
#include "clgauge/propagate.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  const auto g = CLGAUGE_FUZZ_GRAPH_BINARY ? clgauge::graph_from_binary(input)
                                           : clgauge::graph_from_json(input);
  g.validate();
  (void)clgauge::graph_to_json(g);
}
