#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "clgauge/error.hpp"
#include "clgauge/propagate.hpp"
#include "propagate/device_batch.hpp"

namespace clgauge {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

[[noreturn]] void bad(const std::string& message) {
  throw Error(ReasonCode::bad_input, message);
}

void check_length(const char* field, std::size_t got, std::size_t want, const char* of) {
  if (got != want) {
    bad(std::string(field) + ": length " + std::to_string(got) + ", expected " +
        std::to_string(want) + " (" + of + ")");
  }
}

void check_finite(const char* field, const std::vector<float>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      bad(std::string(field) + "[" + std::to_string(i) + "]: non-finite value " + num(v[i]));
    }
  }
}

}  // namespace

void Graph::validate() const {
  if (indptr.empty()) bad("indptr: empty (a graph of n nodes needs n+1 entries)");
  if (indptr.size() - 1 > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1)) {
    bad("indptr: length " + std::to_string(indptr.size()) + " exceeds the int32 node limit");
  }
  if (indptr[0] != 0) bad("indptr[0]: must be 0, got " + std::to_string(indptr[0]));
  for (std::size_t i = 1; i < indptr.size(); ++i) {
    if (indptr[i] < indptr[i - 1]) {
      bad("indptr[" + std::to_string(i) + "]: not monotone (" + std::to_string(indptr[i]) +
          " after " + std::to_string(indptr[i - 1]) + ")");
    }
  }
  const std::size_t n = indptr.size() - 1;
  const auto e = static_cast<std::size_t>(indptr.back());
  if (indices.size() != e) {
    bad("indices: length " + std::to_string(indices.size()) + ", expected " + std::to_string(e) +
        " (indptr[" + std::to_string(n) + "])");
  }
  check_length("weights", weights.size(), e, "indices length");
  check_length("rel_code", rel_code.size(), e, "indices length");
  check_length("rel_mult", rel_mult.size(), e, "indices length");
  check_length("key_rank", key_rank.size(), n, "node count");
  // One pass over the edges in blocks: each block is checked with branch-free
  // reductions the compiler vectorises, and only a block that fails is searched for
  // its first bad position. Errors keep their order: indices, then weights, then
  // rel_mult, each at its first bad position.
  constexpr std::size_t kBlock = 4096;
  const auto nodes = static_cast<std::uint32_t>(n);
  auto non_finite = [](float x) {
    return (std::bit_cast<std::uint32_t>(x) & 0x7f800000u) == 0x7f800000u;
  };
  std::size_t bad_weight = e, bad_rel_mult = e;
  for (std::size_t b = 0; b < e; b += kBlock) {
    const std::size_t end = std::min(e, b + kBlock);
    bool index_bad = false, weight_bad = false, rel_mult_bad = false;
    for (std::size_t i = b; i < end; ++i) {
      index_bad |= static_cast<std::uint32_t>(indices[i]) >= nodes;  // negatives wrap high
      weight_bad |= non_finite(weights[i]);
      rel_mult_bad |= non_finite(rel_mult[i]);
    }
    if (index_bad) {
      for (std::size_t i = b; i < end; ++i) {
        if (indices[i] < 0 || static_cast<std::size_t>(indices[i]) >= n) {
          bad("indices[" + std::to_string(i) + "]: " + std::to_string(indices[i]) +
              " out of range [0, " + std::to_string(n) + ")");
        }
      }
    }
    if (weight_bad && bad_weight == e) {
      bad_weight = b;
      while (!non_finite(weights[bad_weight])) ++bad_weight;
    }
    if (rel_mult_bad && bad_rel_mult == e) {
      bad_rel_mult = b;
      while (!non_finite(rel_mult[bad_rel_mult])) ++bad_rel_mult;
    }
  }
  if (bad_weight < e) {
    bad("weights[" + std::to_string(bad_weight) + "]: non-finite value " +
        num(weights[bad_weight]));
  }
  if (bad_rel_mult < e) {
    bad("rel_mult[" + std::to_string(bad_rel_mult) + "]: non-finite value " +
        num(rel_mult[bad_rel_mult]));
  }
}

namespace propagate_detail {

// The checks of Graph::validate as predicates, for the device path's parallel pass.
bool structure_valid(const Graph& g) {
  if (g.indptr.empty() ||
      g.indptr.size() - 1 >
          static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1) ||
      g.indptr[0] != 0) {
    return false;
  }
  bool monotone = true;
  for (std::size_t i = 1; i < g.indptr.size(); ++i) monotone &= g.indptr[i] >= g.indptr[i - 1];
  const auto e = static_cast<std::size_t>(g.indptr.back());
  return monotone && g.indices.size() == e && g.weights.size() == e && g.rel_code.size() == e &&
         g.rel_mult.size() == e && g.key_rank.size() == g.indptr.size() - 1;
}

bool edges_valid(const Graph& g, std::size_t begin, std::size_t end) {
  const auto nodes = static_cast<std::uint32_t>(g.indptr.empty() ? 0 : g.indptr.size() - 1);
  auto non_finite = [](float x) {
    return (std::bit_cast<std::uint32_t>(x) & 0x7f800000u) == 0x7f800000u;
  };
  bool bad = false;
  for (std::size_t i = begin; i < end; ++i) {
    bad |= static_cast<std::uint32_t>(g.indices[i]) >= nodes;  // negatives wrap high
    bad |= non_finite(g.weights[i]);
    bad |= non_finite(g.rel_mult[i]);
  }
  return !bad;
}

}  // namespace propagate_detail

void Seeds::validate(std::int32_t graph_nodes) const {
  check_length("seed_weights", weights.size(), nodes.size(), "seed_nodes length");
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i] < 0 || nodes[i] >= graph_nodes) {
      bad("seed_nodes[" + std::to_string(i) + "]: " + std::to_string(nodes[i]) +
          " out of range [0, " + std::to_string(graph_nodes) + ")");
    }
  }
  check_finite("seed_weights", weights);
}

void PropagateParams::validate() const {
  if (!(rate > 0.0f && rate <= 1.0f)) bad("rate: " + num(rate) + " outside (0, 1]");
  if (!(std::isfinite(floor) && floor >= 0.0f))
    bad("floor: " + num(floor) + " must be finite and >= 0");
  if (radius_cap < 0) bad("radius_cap: " + std::to_string(radius_cap) + " is negative");
  if (iter_cap_layers < 0) {
    bad("iter_cap_layers: " + std::to_string(iter_cap_layers) + " is negative");
  }
  if (!(node_budget > 0.0f)) bad("node_budget: " + num(node_budget) + " must be > 0");
  if (!(std::isfinite(eps) && eps > 0.0f)) bad("eps: " + num(eps) + " must be finite and > 0");
}

}  // namespace clgauge
