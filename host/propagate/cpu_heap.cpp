// The original priority-queue T1, kept for users migrating from it. Every contribution
// is its own queue entry; entries pop by |contribution| descending, then key_rank
// ascending, node ascending, push order. It agrees with the layered reference only by
// tolerance (different summation order), and only where every node is reached on one
// layer. Cost grows with the number of paths, not edges.

#include <algorithm>
#include <cmath>
#include <queue>

#include "propagate/canonical.hpp"

namespace clgauge {

using propagate_detail::contribution;
using propagate_detail::flush;

namespace {

struct Entry {
  float c;
  std::int32_t key_rank;
  std::int32_t node;
  std::int64_t depth;
  std::uint64_t seq;
};

// std::priority_queue pops the largest under this "less".
struct PopsLater {
  bool operator()(const Entry& a, const Entry& b) const {
    const float ma = std::fabs(a.c), mb = std::fabs(b.c);
    if (ma != mb) return ma < mb;
    if (a.key_rank != b.key_rank) return a.key_rank > b.key_rank;
    if (a.node != b.node) return a.node > b.node;
    return a.seq > b.seq;
  }
};

}  // namespace

PropagateResult propagate_cpu_heap(const Graph& g, const Seeds& s, const PropagateParams& p) {
  p.validate();
  g.validate();
  s.validate(g.nodes());
  std::vector<float> c0;
  const auto seeds = propagate_detail::seed_layer(s, g.nodes(), c0);
  std::vector<float> acc = c0;
  std::vector<float> decay{1.0f};
  std::priority_queue<Entry, std::vector<Entry>, PopsLater> queue;
  std::uint64_t seq = 0;
  PropagateMetrics m;
  for (const auto u : seeds) {
    const auto uu = static_cast<std::size_t>(u);
    m.max_delta_local = std::max(m.max_delta_local, std::fabs(c0[uu]));
    queue.push({c0[uu], g.key_rank[uu], u, 0, seq++});
  }
  while (!queue.empty()) {
    const Entry top = queue.top();
    queue.pop();
    ++m.pops;
    m.iters = std::max(m.iters, top.depth);
    const auto uu = static_cast<std::size_t>(top.node);
    const std::int64_t depth = top.depth + 1;
    if (!propagate_detail::passes_gates(g, uu, acc[uu], depth, p, m)) continue;
    while (static_cast<std::int64_t>(decay.size()) <= depth) {
      decay.push_back(propagate_detail::decay_value(p, static_cast<std::int64_t>(decay.size())));
    }
    const float dec = decay[static_cast<std::size_t>(depth)];
    for (auto e = static_cast<std::size_t>(g.indptr[uu]);
         e < static_cast<std::size_t>(g.indptr[uu + 1]); ++e) {
      const float c2 = contribution(top.c, g.weights[e], g.rel_mult[e], dec);
      if (std::fabs(c2) < p.eps) continue;
      ++m.propagations;
      m.max_delta_local = std::max(m.max_delta_local, std::fabs(c2));
      const auto v = static_cast<std::size_t>(g.indices[e]);
      acc[v] = flush(acc[v] + c2);
      queue.push({c2, g.key_rank[v], g.indices[e], depth, seq++});
    }
  }
  return propagate_detail::collect_output(acc, p.eps, m);
}

}  // namespace clgauge
