#pragma once
// Pieces of the canonical semantics shared by every propagation path (docs/semantics.md,
// "Layered propagation"). Built with -ffp-contract=off like the rest of the library.

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "clgauge/propagate.hpp"

namespace clgauge::propagate_detail {

// Any float with magnitude below FLT_MIN becomes +0.0f (-0.0f too), so devices that
// flush denormals and devices that keep them agree. Inputs are read through it as
// well: a device without denormal support would read a denormal weight as zero.
inline float flush(float x) {
  return std::fabs(x) < FLT_MIN ? 0.0f : x;
}

// c2 = ((c * w) * rel_mult) * decay, three rounded multiplies in that order.
inline float contribution(float c, float w, float rel_mult, float decay) {
  const float t1 = flush(c * flush(w));
  const float t2 = flush(t1 * flush(rel_mult));
  return flush(t2 * decay);
}

// c0 per seed node: float sum of its seed weights in input order, from 0.0f.
// Returns the distinct seed nodes in first-appearance order; c0 is dense (n).
std::vector<std::int32_t> seed_layer(const Seeds& s, std::int32_t n, std::vector<float>& c0);

// Nodes with |acc| >= eps, ascending.
PropagateResult collect_output(std::span<const float> acc, float eps, PropagateMetrics m);

// decay[d] = max(float(pow(double(rate), d)), floor), flushed; 1.0f for d <= 0. Computed
// on the host in double; every path (and every kernel, through its arguments) reads it.
float decay_value(const PropagateParams& p, std::int64_t d);

// The gates in front of one expansion, in the canonical order: a node whose |acc|
// reached node_budget counts one node_budget_hit; otherwise edges to `depth` beyond
// radius_cap (then iter_cap_layers) count one radius_cap_hit (layer_cap_hit) per
// out-edge. Returns whether u's edges are expanded.
inline bool passes_gates(const Graph& g, std::size_t u, float acc_u, std::int64_t depth,
                         const PropagateParams& p, PropagateMetrics& m) {
  if (std::fabs(acc_u) >= p.node_budget) {
    ++m.node_budget_hits;
    return false;
  }
  const std::int64_t degree = g.indptr[u + 1] - g.indptr[u];
  if (depth > p.radius_cap) {
    m.radius_cap_hits += degree;
    return false;
  }
  if (depth > p.iter_cap_layers) {
    m.layer_cap_hits += degree;
    return false;
  }
  return true;
}

// Depth at which contributions stop being allowed (the smaller cap); decay entries
// beyond it are never read.
inline std::int32_t contribution_depth_limit(const PropagateParams& p) {
  return p.radius_cap < p.iter_cap_layers ? p.radius_cap : p.iter_cap_layers;
}

}  // namespace clgauge::propagate_detail

namespace clgauge::propagate_detail {
// Stage totals: counters summed, iters and max_delta_local as maxima.
PropagateMetrics batch_totals(const std::vector<PropagateResult>& results);
}  // namespace clgauge::propagate_detail
