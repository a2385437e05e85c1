// The heap T1 against the layered reference (by tolerance where they must agree), and
// the dispatcher's switches and fallbacks.

#include <gtest/gtest.h>

#include <cmath>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/propagate.hpp"
#include "clgauge/random.hpp"

namespace clgauge {
namespace {

// A layered DAG: `width` nodes per layer, `depth` layers, each node of layer i has
// `fan` edges into layer i+1 (parallel edges allowed) with positive weights. Every node
// is reached on one layer only. With fan == 1 it is a forest.
Graph layered_dag(std::uint64_t seed, int width, int depth, int fan) {
  const int n = width * depth;
  Graph g;
  g.indptr.push_back(0);
  std::uint64_t k = 0;
  for (int u = 0; u < n; ++u) {
    const int layer = u / width;
    if (layer + 1 < depth) {
      for (int f = 0; f < fan; ++f) {
        const float r = random_element(seed, k++, Distribution::uniform);  // [-1, 1)
        const int target = (layer + 1) * width +
                           static_cast<int>((static_cast<double>(r) + 1.0) * 0.5 * width) % width;
        g.indices.push_back(fan == 1 ? (layer + 1) * width + (u % width) : target);
        g.weights.push_back(0.2f +
                            0.4f * (random_element(seed, k++, Distribution::uniform) + 1.0f));
        g.rel_mult.push_back(0.75f + 0.25f * random_element(seed, k++, Distribution::uniform));
        g.rel_code.push_back(f);
      }
    }
    g.indptr.push_back(static_cast<std::int32_t>(g.indices.size()));
    g.key_rank.push_back(
        static_cast<std::int32_t>(random_element(seed, k++, Distribution::uniform) * 8));
  }
  return g;
}

TEST(PropagateHeap, AgreesByToleranceOnSingleLayerDags) {
  PropagateParams p;
  p.rate = 0.8f;
  p.radius_cap = 10;
  p.iter_cap_layers = 10;
  p.eps = 1e-12f;
  for (std::uint64_t i = 0; i < 30; ++i) {
    const std::uint64_t seed = xxh3_64("heap/" + std::to_string(i));
    const Graph g = layered_dag(seed, 4 + static_cast<int>(i % 5), 3 + static_cast<int>(i % 3), 3);
    const Seeds s{{0, 1, 0}, {1.0f, 0.5f, 0.25f}};
    const auto layered = propagate_cpu_layered(g, s, p);
    const auto heap = propagate_cpu_heap(g, s, p);
    ASSERT_EQ(layered.d_nodes, heap.d_nodes) << "seed " << seed;
    EXPECT_GT(layered.d_nodes.size(), 4u);
    EXPECT_GT(layered.metrics.propagations, 8);
    EXPECT_EQ(layered.metrics.iters, heap.metrics.iters);
    for (std::size_t j = 0; j < layered.d_vals.size(); ++j) {
      // Different summation order only: a few ulps per layer and fan-in.
      const float a = layered.d_vals[j], b = heap.d_vals[j];
      EXPECT_LE(std::fabs(a - b), 1e-5f * std::fabs(a))
          << "seed " << seed << " node " << layered.d_nodes[j];
    }
  }
}

TEST(PropagateHeap, EqualsLayeredBitForBitOnTrees) {
  // One contribution per node: no summation order to differ in, so even the metrics agree.
  PropagateParams p;
  p.rate = 0.7f;
  for (std::uint64_t i = 0; i < 10; ++i) {
    const Graph g = layered_dag(xxh3_64("tree/" + std::to_string(i)), 6, 4, 1);
    const Seeds s{{0, 2, 3}, {1.0f, -2.0f, 0.5f}};
    EXPECT_EQ(propagate_cpu_layered(g, s, p), propagate_cpu_heap(g, s, p));
  }
}

TEST(PropagateHeap, PopsEveryEntryInPriorityOrder) {
  // 0 -> 1 (w 1), 0 -> 2 (w 2), both on to 3 (w 1); rate 1. Heap entries: 0; then 2 (|2|)
  // before 1 (|1|); node 3 receives two entries (2 and 1), each popped: pops 5, iters 2,
  // propagations 4. acc(3) = 0 + 2 + 1 = 3 either way.
  Graph g;
  g.indptr = {0, 2, 3, 4, 4};
  g.indices = {1, 2, 3, 3};
  g.weights = {1, 2, 1, 1};
  g.rel_code = {0, 0, 0, 0};
  g.rel_mult = {1, 1, 1, 1};
  g.key_rank = {0, 1, 2, 3};
  PropagateParams p;
  p.rate = 1.0f;
  const auto r = propagate_cpu_heap(g, {{0}, {1.0f}}, p);
  EXPECT_EQ(r, (PropagateResult{{0, 1, 2, 3}, {1, 1, 2, 3}, {5, 2, 4, 0, 0, 0, 2.0f}}));
  // Layered: node 3 is one frontier entry with c = 1 + 2: pops 4.
  EXPECT_EQ(propagate_cpu_layered(g, {{0}, {1.0f}}, p).metrics.pops, 4);
}

std::vector<Graph> some_graphs() {
  return {generate_rmat(200, 800, 1), generate_uniform(50, 200, 2), generate_rmat(1, 0, 3)};
}
std::vector<Seeds> some_seeds() {
  return {{{0, 5}, {1, 2}}, {{3}, {-1}}, {{0}, {1}}};
}

TEST(PropagateDispatch, OffByDefaultAndCountsWhyTheCpuRan) {
  const auto graphs = some_graphs();
  const auto seeds = some_seeds();
  const auto want = propagate_batch_cpu(graphs, seeds, {});
  PropagateDispatcher off(PropagateConfig{}, nullptr, ProgramCache::disabled());
  auto r = off.run(graphs, seeds, {});
  EXPECT_EQ(r.backend, "cpu");
  EXPECT_EQ(r.fallback_reason, "disabled");
  EXPECT_EQ(r.result, want);
  PropagateDispatcher cpu({true, PropagateBackend::cpu, false}, nullptr, ProgramCache::disabled());
  EXPECT_EQ(cpu.run(graphs, seeds, {}).fallback_reason, "backend_cpu");
  PropagateDispatcher none({true, PropagateBackend::opencl, true}, nullptr,
                           ProgramCache::disabled());
  r = none.run(graphs, seeds, {});
  r = none.run(graphs, seeds, {});
  EXPECT_EQ(r.fallback_reason, "device_unavailable");
  EXPECT_EQ(r.result, want);
  EXPECT_EQ(none.fallback_counts().at("device_unavailable"), 2);
  EXPECT_EQ(propagate_backend_from_string("cpu"), PropagateBackend::cpu);
  EXPECT_THROW(propagate_backend_from_string("cuda"), Error);
}

TEST(PropagateDispatch, StrictParityRunsBothOnTheDevice) {
  if (list_devices().empty()) GTEST_SKIP() << "no OpenCL device";
  Device dev = Device::open();
  const auto graphs = some_graphs();
  const auto seeds = some_seeds();
  PropagateDispatcher d({true, PropagateBackend::opencl, true}, &dev,
                        ProgramCache::from_environment());
  const auto r = d.run(graphs, seeds, {});
  EXPECT_EQ(r.backend, "opencl");
  EXPECT_TRUE(r.fallback_reason.empty());
  EXPECT_TRUE(r.parity_checked);
  EXPECT_FALSE(r.parity_difference.has_value());
  EXPECT_EQ(r.result, propagate_batch_cpu(graphs, seeds, {}));
  EXPECT_TRUE(d.fallback_counts().empty());
}

TEST(PropagateDispatch, FirstDifferenceNamesGraphFieldAndIndex) {
  const auto graphs = some_graphs();
  const auto seeds = some_seeds();
  const auto a = propagate_batch_cpu(graphs, seeds, {});
  EXPECT_FALSE(first_difference(a, a).has_value());
  auto b = a;
  b.results[1].d_vals[0] = std::nextafter(b.results[1].d_vals[0], 10.0f);
  auto diff = first_difference(a, b);
  ASSERT_TRUE(diff.has_value());
  EXPECT_EQ(diff->graph, 1u);
  EXPECT_EQ(diff->field, "d_vals");
  EXPECT_EQ(diff->index, 0u);
  b = a;
  b.results[2].metrics.pops += 1;
  diff = first_difference(a, b);
  ASSERT_TRUE(diff.has_value());
  EXPECT_EQ(diff->field, "metrics.pops");
  EXPECT_NE(diff->describe().find("graph 2"), std::string::npos);
}

}  // namespace
}  // namespace clgauge
