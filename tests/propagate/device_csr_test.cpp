// The in-CSR the device builds, element by element against the host definition.

#include <gtest/gtest.h>

#include <bit>
#include <limits>
#include <optional>
#include <string>

#include "clgauge/hash.hpp"
#include "clgauge/propagate.hpp"
#include "clgauge/random.hpp"
#include "propagate/device_batch.hpp"

namespace clgauge {
namespace {

using propagate_detail::CsrBuild;
using propagate_detail::UploadMode;

std::optional<Device>& shared_device() {
  static std::optional<Device> device;
  if (!device && !list_devices().empty()) device = Device::open();
  return device;
}

std::uint32_t pick(std::uint64_t seed, std::uint64_t index, std::uint32_t bound) {
  const float u = random_element(seed, index, Distribution::uniform);  // [-1, 1)
  return static_cast<std::uint32_t>((static_cast<double>(u) + 1.0) * 0.5 * bound) % bound;
}

// Sizes from empty to a few thousand edges; key_rank from all-equal through few
// distinct values to the full int32 range; denormal and negative edge values.
Graph random_graph(std::uint64_t seed) {
  const std::int32_t n =
      1 + static_cast<std::int32_t>(pick(seed, 0, pick(seed, 1, 3) ? 300 : 3000));
  const std::int64_t e = pick(seed, 2, static_cast<std::uint32_t>(6 * n + 1));
  Graph g = pick(seed, 3, 2) ? generate_rmat(n, e, seed) : generate_uniform(n, e, seed);
  switch (pick(seed, 4, 6)) {
    case 0:
      for (auto& k : g.key_rank) k = 7;
      break;
    case 1:
      for (auto& k : g.key_rank) k %= 3;
      break;
    case 2:
      for (std::size_t u = 0; u < g.key_rank.size(); ++u)
        g.key_rank[u] = pick(seed, 1000 + u, 2) ? std::numeric_limits<std::int32_t>::min()
                                                : std::numeric_limits<std::int32_t>::max();
      break;
    case 3:
      for (std::size_t u = 0; u < g.key_rank.size(); ++u)
        g.key_rank[u] = static_cast<std::int32_t>(
            std::bit_cast<std::uint32_t>(random_element(seed, 1000 + u, Distribution::uniform)));
      break;
    case 4:
      for (auto& k : g.key_rank) k = -(k % 40);
      break;
    default:
      break;  // the generator's ranks: ties by construction
  }
  for (std::size_t j = 0; j < g.weights.size(); ++j) {
    if (pick(seed, 5000 + j, 17) == 0) g.weights[j] = 1e-39f;
    if (pick(seed, 9000 + j, 17) == 0) g.rel_mult[j] = -2e-39f;
  }
  return g;
}

void expect_same(const propagate_detail::InCsr& want, const propagate_detail::InCsr& got,
                 const std::string& what) {
  ASSERT_EQ(want.t_ptr, got.t_ptr) << what;
  ASSERT_EQ(want.t_src, got.t_src) << what;
  ASSERT_EQ(want.t_w.size(), got.t_w.size()) << what;
  ASSERT_EQ(want.t_rm.size(), got.t_rm.size()) << what;
  for (std::size_t j = 0; j < want.t_w.size(); ++j) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(want.t_w[j]), std::bit_cast<std::uint32_t>(got.t_w[j]))
        << what << ": t_w[" << j << "]";
    ASSERT_EQ(std::bit_cast<std::uint32_t>(want.t_rm[j]), std::bit_cast<std::uint32_t>(got.t_rm[j]))
        << what << ": t_rm[" << j << "]";
  }
}

void check(Device& dev, std::span<const Graph> graphs, const std::string& what) {
  const auto program =
      propagate_detail::build_propagate_program(dev, ProgramCache::from_environment());
  const auto want = propagate_detail::host_in_csr(graphs);
  // Both upload ways, every build; a graph is read in place (borrowed) only on the
  // host-memory way, so borrowed alternates with the build. A borrowed build is a
  // one-shot call's: its arrays come from the pool, and it is not waited for.
  for (const auto mode : {UploadMode::host_memory, UploadMode::copy}) {
    for (const auto how : {CsrBuild::per_graph, CsrBuild::batch_wide, CsrBuild::direct}) {
      const bool borrowed = how != CsrBuild::per_graph;
      const auto d =
          propagate_detail::build_device_graphs(dev, program.program, graphs, borrowed, mode, how);
      EXPECT_EQ(d.mode, mode);
      expect_same(want, propagate_detail::read_in_csr(dev, d),
                  what + (mode == UploadMode::copy ? " copy" : " host_memory") +
                      (borrowed ? " borrowed" : " owned") +
                      (how == CsrBuild::per_graph    ? " per_graph"
                       : how == CsrBuild::batch_wide ? " batch_wide"
                                                     : " direct"));
      EXPECT_EQ(d.build, how);
      d.lease->give_back();  // read_in_csr's reads were blocking: the build is done
    }
  }
}

TEST(PropagateDeviceCsr, MatchesTheHostOnSingleGraphs) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  for (std::uint64_t i = 0; i < 40; ++i) {
    const Graph g = random_graph(xxh3_64("csr/" + std::to_string(i)));
    check(*dev, std::span(&g, 1), "graph " + std::to_string(i));
  }
}

TEST(PropagateDeviceCsr, MatchesTheHostOnBatches) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  for (std::uint64_t b = 0; b < 16; ++b) {
    const std::uint64_t bseed = xxh3_64("csr-batch/" + std::to_string(b));
    std::vector<Graph> graphs;
    for (std::uint32_t i = 0, count = 2 + pick(bseed, 0, 30); i < count; ++i) {
      graphs.push_back(random_graph(xxh3_64(std::to_string(bseed) + "/" + std::to_string(i))));
      if (pick(bseed, 10 + i, 8) == 0)
        graphs.back() = generate_uniform(1 + pick(bseed, 50 + i, 9), 0, i);
    }
    check(*dev, graphs, "batch " + std::to_string(b));
  }
}

TEST(PropagateDeviceCsr, LargeGraphsSpanManyBucketsAndPasses) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  // 2^17 + 3 nodes: 17 target bits (128 buckets of 1024 targets), two node-order
  // passes, hundreds of items; key_rank ties everywhere.
  std::vector<Graph> graphs{generate_rmat((1 << 17) + 3, 600000, 11)};
  for (auto& k : graphs[0].key_rank) k %= 1000;
  check(*dev, graphs, "rmat 2^17");
  graphs.push_back(generate_uniform(5000, 70000, 12));
  graphs.push_back(generate_rmat(1, 5, 13));  // self loops only
  check(*dev, graphs, "rmat 2^17 + 2");
}

TEST(PropagateDeviceCsr, EmptyGraphsAndNoEdges) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  Graph empty;
  empty.indptr = {0};
  check(*dev, std::span(&empty, 1), "empty");
  const Graph isolated = generate_uniform(40, 0, 3);
  check(*dev, std::span(&isolated, 1), "no edges");
  std::vector<Graph> mixed{empty, isolated, generate_rmat(30, 100, 4), empty};
  check(*dev, mixed, "mixed");
}

}  // namespace
}  // namespace clgauge
