// Hand-built graphs whose results and metrics are worked out by hand in the comments.
// Each case runs on the CPU reference and, when a device is present, the device path.

#include <gtest/gtest.h>

#include <cfloat>
#include <limits>

#include "clgauge/propagate.hpp"

namespace clgauge {

// Readable gtest failure messages.
void PrintTo(const PropagateResult& r, std::ostream* os) {
  *os << to_json(r);
}

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Graph from an edge list (src, dst, weight), rel_mult 1, key_rank = node id unless given.
Graph edges(std::int32_t n, std::vector<std::tuple<int, int, float>> list,
            std::vector<std::int32_t> key_rank = {}) {
  Graph g;
  g.indptr.assign(static_cast<std::size_t>(n) + 1, 0);
  for (const auto& [s, d, w] : list) ++g.indptr[static_cast<std::size_t>(s) + 1];
  for (std::size_t u = 0; u < static_cast<std::size_t>(n); ++u) g.indptr[u + 1] += g.indptr[u];
  std::vector<std::int32_t> cursor(g.indptr.begin(), g.indptr.end() - 1);
  g.indices.resize(list.size());
  g.weights.resize(list.size());
  g.rel_code.assign(list.size(), 0);
  g.rel_mult.assign(list.size(), 1.0f);
  for (const auto& [s, d, w] : list) {
    const auto j = static_cast<std::size_t>(cursor[static_cast<std::size_t>(s)]++);
    g.indices[j] = d;
    g.weights[j] = w;
  }
  if (key_rank.empty()) {
    for (std::int32_t u = 0; u < n; ++u) key_rank.push_back(u);
  }
  g.key_rank = key_rank;
  return g;
}

PropagateParams params(float rate, std::int32_t radius = 10, std::int32_t layers = 10,
                       float budget = kInf, float eps = 1e-8f) {
  PropagateParams p;
  p.rate = rate;
  p.radius_cap = radius;
  p.iter_cap_layers = layers;
  p.node_budget = budget;
  p.eps = eps;
  return p;
}

PropagateMetrics metrics(std::int64_t pops, std::int64_t iters, std::int64_t props,
                         std::int64_t radius, std::int64_t layer, std::int64_t budget, float mdl) {
  return {pops, iters, props, radius, layer, budget, mdl};
}

// Checks the CPU reference against the hand-worked answer, then the device (if any)
// against the reference bit for bit.
void expect_result(const Graph& g, const Seeds& s, const PropagateParams& p,
                   const std::vector<std::int32_t>& nodes, const std::vector<float>& vals,
                   const PropagateMetrics& m) {
  const PropagateResult want{nodes, vals, m};
  const auto got = propagate_cpu_layered(g, s, p);
  EXPECT_EQ(got, want) << to_json(got) << "\nwanted\n" << to_json(want);
  if (!list_devices().empty()) {
    static Device dev = Device::open();
    EXPECT_EQ(propagate_device(dev, ProgramCache::from_environment(), g, s, p), got);
  }
}

const Graph kChain = edges(3, {{0, 1, 1.0f}, {1, 2, 1.0f}});

TEST(PropagateReference, ChainDecaysByTheTable) {
  // d0: F={0}, c0=1. d1 (decay 0.5): c(1)=0.5. d2 (decay 0.25): c(2)=0.5*0.25=0.125.
  // pops 1+1+1, iters 2 (F_2={2} has no out-edges), 2 propagations, max delta 1 (c0).
  expect_result(kChain, {{0}, {1.0f}}, params(0.5f), {0, 1, 2}, {1.0f, 0.5f, 0.125f},
                metrics(3, 2, 2, 0, 0, 0, 1.0f));
}

TEST(PropagateReference, RadiusCapCountsEdgesBeyondIt) {
  // radius_cap 1: layer 1 expands node 1, whose edge would reach depth 2 > 1: one hit.
  expect_result(kChain, {{0}, {1.0f}}, params(0.5f, 1, 10), {0, 1}, {1.0f, 0.5f},
                metrics(2, 1, 1, 1, 0, 0, 1.0f));
  // Radius is checked first when both caps bite.
  expect_result(kChain, {{0}, {1.0f}}, params(0.5f, 1, 1), {0, 1}, {1.0f, 0.5f},
                metrics(2, 1, 1, 1, 0, 0, 1.0f));
  // radius_cap 0: the seed's edge already counts.
  expect_result(kChain, {{0}, {1.0f}}, params(0.5f, 0, 10), {0}, {1.0f},
                metrics(1, 0, 0, 1, 0, 0, 1.0f));
}

TEST(PropagateReference, LayerCapCountsEdgesBeyondIt) {
  expect_result(kChain, {{0}, {1.0f}}, params(0.5f, 10, 1), {0, 1}, {1.0f, 0.5f},
                metrics(2, 1, 1, 0, 1, 0, 1.0f));
}

TEST(PropagateReference, FloorBoundsTheDecay) {
  // decay[1] = max(0.1, 0.3) = 0.3 (float), decay[2] = 0.3: c(1) = 0.3f, c(2) = 0.3f*0.3f.
  PropagateParams p = params(0.1f);
  p.floor = 0.3f;
  expect_result(kChain, {{0}, {1.0f}}, p, {0, 1, 2}, {1.0f, 0.3f, 0.3f * 0.3f},
                metrics(3, 2, 2, 0, 0, 0, 1.0f));
}

TEST(PropagateReference, DuplicateSeedsParallelEdgesSelfLoopAndCancellation) {
  // Seeds 0 twice: c0(0) = 0.25 + 0.75 = 1, F0 = {0} (pops 1).
  // Node 0: 0->1 (1), 0->1 (-1), 0->2 (2), rate 1: three propagations, max delta 2.
  // c1(1) = 0 + 1 + (-1) = 0: node 1 still joins F1 (it received contributions).
  // Layer 1: pops += 2; node 1's self loop gives 0*1 = 0 < eps: dropped; node 2 has no edges.
  // Output: |acc| >= eps: node 0 (1) and node 2 (2); node 1 sums to 0.
  const Graph g = edges(3, {{0, 1, 1.0f}, {0, 1, -1.0f}, {0, 2, 2.0f}, {1, 1, 1.0f}});
  expect_result(g, {{0, 0}, {0.25f, 0.75f}}, params(1.0f), {0, 2}, {1.0f, 2.0f},
                metrics(3, 1, 3, 0, 0, 0, 2.0f));
}

TEST(PropagateReference, SelfLoopGrowsUntilTheNodeBudget) {
  // 0->0 with weight 1, rate 1, budget 3: acc 1 -> 2 -> 3; at layer 2 |acc| = 3 >= 3 is a
  // budget hit. pops 3, iters 2, propagations 2.
  const Graph g = edges(1, {{0, 0, 1.0f}});
  expect_result(g, {{0}, {1.0f}}, params(1.0f, 10, 10, 3.0f), {0}, {3.0f},
                metrics(3, 2, 2, 0, 0, 1, 1.0f));
  // Budget hit on the seed itself: no expansion at all.
  expect_result(kChain, {{0}, {1.0f}}, params(0.5f, 10, 10, 1.0f), {0}, {1.0f},
                metrics(1, 0, 0, 0, 0, 1, 1.0f));
}

TEST(PropagateReference, EpsDropsContributionsAndOutputs) {
  // 1e-9 * 1 * 1 * 1 < 1e-8: dropped, not a propagation; node 1 never joins a frontier.
  const Graph g = edges(2, {{0, 1, 1e-9f}});
  expect_result(g, {{0}, {1.0f}}, params(1.0f), {0}, {1.0f}, metrics(1, 0, 0, 0, 0, 0, 1.0f));
  // A seed below eps still expands (it is in F0) but is not output.
  const Graph h = edges(2, {{0, 1, 1e4f}});
  expect_result(h, {{0}, {5e-9f}}, params(1.0f), {1}, {5e-9f * 1e4f},
                metrics(2, 1, 1, 0, 0, 0, 5e-9f * 1e4f));
}

TEST(PropagateReference, DenormalResultsAreFlushedToZero) {
  // Two normal contributions, 2*FLT_MIN and -1.5*FLT_MIN, sum to 0.5*FLT_MIN: a denormal,
  // flushed to +0. eps is the smallest float so that only the flush keeps node 1 out.
  const float eps = std::numeric_limits<float>::denorm_min();
  const Graph g = edges(2, {{0, 1, 2 * FLT_MIN}, {0, 1, -1.5f * FLT_MIN}});
  expect_result(g, {{0}, {1.0f}}, params(1.0f, 10, 10, kInf, eps), {0}, {1.0f},
                metrics(2, 1, 2, 0, 0, 0, 1.0f));
  // A product below FLT_MIN is flushed before the eps test: 1e-20 * 1e-20 -> 0 < eps.
  const Graph h = edges(2, {{0, 1, 1e-20f}});
  expect_result(h, {{0}, {1e-20f}}, params(1.0f, 10, 10, kInf, eps), {0}, {1e-20f},
                metrics(1, 0, 0, 0, 0, 0, 1e-20f));
  // A denormal input weight is read as +0.
  const Graph k = edges(2, {{0, 1, 1e-39f}});
  expect_result(k, {{0}, {1e30f}}, params(1.0f, 10, 10, kInf, eps), {0}, {1e30f},
                metrics(1, 0, 0, 0, 0, 0, 1e30f));
}

TEST(PropagateReference, ContributionsSumInKeyRankOrder) {
  // Seeds 1, 2, 3 carry 1e8, 1, -1e8 into node 0 (rate 1). key_rank orders them 1, 3, 2:
  // 0 + 1e8 - 1e8 + 1 = 1. In node order (1, 2, 3) the 1 would be absorbed by 1e8: 0.
  const Graph g = edges(4, {{1, 0, 1.0f}, {2, 0, 1.0f}, {3, 0, 1.0f}}, {0, 0, 2, 1});
  const Seeds s{{1, 2, 3}, {1e8f, 1.0f, -1e8f}};
  expect_result(g, s, params(1.0f), {0, 1, 2, 3}, {1.0f, 1e8f, 1.0f, -1e8f},
                metrics(4, 1, 3, 0, 0, 0, 1e8f));
  // Equal key_rank: ties break by node id, 1e8 + 1 - 1e8 = 0: node 0 is not output.
  const Graph h = edges(4, {{1, 0, 1.0f}, {2, 0, 1.0f}, {3, 0, 1.0f}}, {5, 5, 5, 5});
  expect_result(h, s, params(1.0f), {1, 2, 3}, {1e8f, 1.0f, -1e8f},
                metrics(4, 1, 3, 0, 0, 0, 1e8f));
}

TEST(PropagateReference, ThreeMultipliesInOrder) {
  // c2 = ((c * w) * rel_mult) * decay, each rounded: with c = 3, w = 1/3, rel_mult = 3,
  // decay 1: (3 * 0.333333343f) rounds to 1.0f exactly, then * 3 = 3.
  Graph g = edges(2, {{0, 1, 1.0f / 3.0f}});
  g.rel_mult[0] = 3.0f;
  const float c2 = ((3.0f * (1.0f / 3.0f)) * 3.0f) * 1.0f;
  expect_result(g, {{0}, {3.0f}}, params(1.0f), {0, 1}, {3.0f, c2},
                metrics(2, 1, 1, 0, 0, 0, 3.0f));
}

TEST(PropagateReference, NoSeedsAndEmptyGraph) {
  expect_result(kChain, {}, params(0.5f), {}, {}, metrics(0, 0, 0, 0, 0, 0, 0.0f));
  const Graph empty = edges(1, {});
  expect_result(empty, {{0}, {2.0f}}, params(0.5f), {0}, {2.0f}, metrics(1, 0, 0, 0, 0, 0, 2.0f));
}

TEST(PropagateReference, DecayTableIsRoundedFromDouble) {
  PropagateParams p = params(0.1f);
  const auto t = decay_table(p, 3);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0], 1.0f);
  EXPECT_EQ(t[1], static_cast<float>(static_cast<double>(0.1f)));
  EXPECT_EQ(t[3], static_cast<float>(static_cast<double>(0.1f) * 0.1f * 0.1f));
}

TEST(PropagateReference, BatchTotalsSumCountersAndMaxDelta) {
  const std::vector<Graph> graphs{kChain, kChain};
  const std::vector<Seeds> seeds{{{0}, {1.0f}}, {{1}, {4.0f}}};
  const auto r = propagate_batch_cpu(graphs, seeds, params(0.5f));
  ASSERT_EQ(r.results.size(), 2u);
  // Graph 1: F0={1}, c(2)=2: pops 2, iters 1, 1 propagation, max delta 4.
  EXPECT_EQ(r.results[1], (PropagateResult{{1, 2}, {4.0f, 2.0f}, metrics(2, 1, 1, 0, 0, 0, 4.0f)}));
  EXPECT_EQ(r.totals, metrics(5, 2, 3, 0, 0, 0, 4.0f));
}

}  // namespace
}  // namespace clgauge
