// The canonical layered reference (docs/semantics.md, "Layered propagation", steps 1-4).
// Single-threaded on purpose: it is the definition the device path is held to.

#include <algorithm>
#include <bit>
#include <cmath>

#include "clgauge/error.hpp"
#include "propagate/canonical.hpp"
#include "propagate/device_batch.hpp"

namespace clgauge {
namespace propagate_detail {

std::vector<std::int32_t> seed_layer(const Seeds& s, std::int32_t n, std::vector<float>& c0) {
  c0.assign(static_cast<std::size_t>(n), 0.0f);
  std::vector<char> seen(static_cast<std::size_t>(n), 0);
  std::vector<std::int32_t> distinct;
  for (std::size_t i = 0; i < s.nodes.size(); ++i) {
    const auto u = static_cast<std::size_t>(s.nodes[i]);
    if (!seen[u]) {
      seen[u] = 1;
      distinct.push_back(s.nodes[i]);
    }
    c0[u] = flush(c0[u] + flush(s.weights[i]));
  }
  return distinct;
}

PropagateResult collect_output(std::span<const float> acc, float eps, PropagateMetrics m) {
  PropagateResult r;
  for (std::size_t v = 0; v < acc.size(); ++v) {
    if (std::fabs(acc[v]) >= eps) {
      r.d_nodes.push_back(static_cast<std::int32_t>(v));
      r.d_vals.push_back(acc[v]);
    }
  }
  r.metrics = m;
  return r;
}

}  // namespace propagate_detail

using propagate_detail::contribution;
using propagate_detail::flush;

namespace propagate_detail {
float decay_value(const PropagateParams& p, std::int64_t d) {
  if (d <= 0) return 1.0f;
  const float powed =
      static_cast<float>(std::pow(static_cast<double>(p.rate), static_cast<double>(d)));
  return flush(std::max(powed, flush(p.floor)));
}
}  // namespace propagate_detail

std::vector<float> decay_table(const PropagateParams& p, std::int32_t max_depth) {
  std::vector<float> t(static_cast<std::size_t>(std::max(max_depth, 0)) + 1, 1.0f);
  for (std::int32_t d = 1; d <= max_depth; ++d) {
    t[static_cast<std::size_t>(d)] = propagate_detail::decay_value(p, d);
  }
  return t;
}

bool PropagateResult::operator==(const PropagateResult& o) const {
  if (d_nodes != o.d_nodes || d_vals.size() != o.d_vals.size()) return false;
  for (std::size_t i = 0; i < d_vals.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(d_vals[i]) != std::bit_cast<std::uint32_t>(o.d_vals[i])) {
      return false;
    }
  }
  return metrics == o.metrics && std::bit_cast<std::uint32_t>(metrics.max_delta_local) ==
                                     std::bit_cast<std::uint32_t>(o.metrics.max_delta_local);
}

PropagateResult propagate_cpu_layered(const Graph& g, const Seeds& s, const PropagateParams& p) {
  p.validate();
  g.validate();
  s.validate(g.nodes());
  const auto n = static_cast<std::size_t>(g.nodes());

  std::vector<float> c_cur;
  std::vector<std::int32_t> frontier = propagate_detail::seed_layer(s, g.nodes(), c_cur);
  std::vector<float> acc = c_cur;
  std::vector<float> c_next(n, 0.0f);
  std::vector<char> got(n, 0);
  std::vector<std::int32_t> next;

  PropagateMetrics m;
  for (const auto u : frontier) {
    m.max_delta_local = std::max(m.max_delta_local, std::fabs(c_cur[static_cast<std::size_t>(u)]));
  }
  for (std::int64_t d = 0; !frontier.empty(); ++d) {
    m.pops += static_cast<std::int64_t>(frontier.size());
    m.iters = d;
    // Visiting sources in (key_rank, node) order, and each source's edges in CSR order,
    // hands every target its contributions in ascending (key_rank[u], u, e).
    std::sort(frontier.begin(), frontier.end(), [&](std::int32_t a, std::int32_t b) {
      const auto ka = g.key_rank[static_cast<std::size_t>(a)];
      const auto kb = g.key_rank[static_cast<std::size_t>(b)];
      return ka != kb ? ka < kb : a < b;
    });
    const std::int64_t depth = d + 1;
    const float dec = propagate_detail::decay_value(p, depth);
    next.clear();
    for (const auto u : frontier) {
      const auto uu = static_cast<std::size_t>(u);
      if (!propagate_detail::passes_gates(g, uu, acc[uu], depth, p, m)) continue;
      for (auto e = static_cast<std::size_t>(g.indptr[uu]);
           e < static_cast<std::size_t>(g.indptr[uu + 1]); ++e) {
        const float c2 = contribution(c_cur[uu], g.weights[e], g.rel_mult[e], dec);
        if (std::fabs(c2) < p.eps) continue;
        ++m.propagations;
        m.max_delta_local = std::max(m.max_delta_local, std::fabs(c2));
        const auto v = static_cast<std::size_t>(g.indices[e]);
        if (!got[v]) {
          got[v] = 1;
          c_next[v] = 0.0f;
          next.push_back(g.indices[e]);
        }
        c_next[v] = flush(c_next[v] + c2);
      }
    }
    for (const auto v : next) {
      const auto vv = static_cast<std::size_t>(v);
      acc[vv] = flush(acc[vv] + c_next[vv]);
      got[vv] = 0;
    }
    std::swap(c_cur, c_next);
    std::swap(frontier, next);
  }
  return propagate_detail::collect_output(acc, p.eps, m);
}

namespace {

void add_to_totals(PropagateMetrics& t, const PropagateMetrics& m) {
  t.pops += m.pops;
  t.iters = std::max(t.iters, m.iters);
  t.propagations += m.propagations;
  t.radius_cap_hits += m.radius_cap_hits;
  t.layer_cap_hits += m.layer_cap_hits;
  t.node_budget_hits += m.node_budget_hits;
  t.max_delta_local = std::max(t.max_delta_local, m.max_delta_local);
}

}  // namespace

namespace propagate_detail {
PropagateMetrics batch_totals(const std::vector<PropagateResult>& results) {
  PropagateMetrics t;
  for (const auto& r : results) add_to_totals(t, r.metrics);
  return t;
}
}  // namespace propagate_detail

PropagateBatchResult propagate_batch_cpu(std::span<const Graph> graphs,
                                         std::span<const Seeds> seeds, const PropagateParams& p) {
  propagate_detail::validate_batch(graphs, seeds, p);
  PropagateBatchResult out;
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    out.results.push_back(propagate_cpu_layered(graphs[i], seeds[i], p));
  }
  out.totals = propagate_detail::batch_totals(out.results);
  return out;
}

}  // namespace clgauge
