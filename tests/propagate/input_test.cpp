// Bad input on every path (API, files, CLI): Error(bad_input) naming the field and the
// first bad position, exit status 2, nothing run. Plus file round trips and generators.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "bad_input.hpp"
#include "clgauge/error.hpp"
#include "clgauge/propagate.hpp"
#include "cli/cli_test_util.hpp"
#include "propagate/device_batch.hpp"

namespace clgauge {
namespace {

using test::bad_input_message;

const std::string kData = std::string(CLGAUGE_TEST_DATA_DIR) + "/propagate/";

Graph chain() {
  return read_graph_file(kData + "chain.json");
}

// Expects Error(bad_input) whose message contains `needle`.
template <class F>
void expect_bad(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; wanted one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(PropagateInput, GraphValidationNamesFieldAndPosition) {
  const Seeds s{{0}, {1.0f}};
  const PropagateParams p;
  auto run = [&](Graph g) { return [g, &s, &p] { (void)propagate_cpu_layered(g, s, p); }; };
  Graph g = chain();
  g.indptr = {0, 2, 1, 2};
  expect_bad(run(g), "indptr[2]: not monotone");
  g = chain();
  g.indptr[0] = 1;
  expect_bad(run(g), "indptr[0]");
  g = chain();
  g.indices[1] = 3;
  expect_bad(run(g), "indices[1]: 3 out of range [0, 3)");
  g = chain();
  g.indices[0] = -1;
  expect_bad(run(g), "indices[0]");
  g = chain();
  g.indices.push_back(0);
  expect_bad(run(g), "indices: length 3, expected 2");
  g = chain();
  g.weights.pop_back();
  expect_bad(run(g), "weights: length 1");
  g = chain();
  g.rel_code.pop_back();
  expect_bad(run(g), "rel_code: length 1");
  g = chain();
  g.rel_mult.push_back(1.0f);
  expect_bad(run(g), "rel_mult: length 3");
  g = chain();
  g.key_rank.pop_back();
  expect_bad(run(g), "key_rank: length 2");
  g = chain();
  g.weights[1] = std::numeric_limits<float>::quiet_NaN();
  expect_bad(run(g), "weights[1]: non-finite");
  g = chain();
  g.rel_mult[0] = std::numeric_limits<float>::infinity();
  expect_bad(run(g), "rel_mult[0]: non-finite");
  g = chain();
  g.indptr.clear();
  expect_bad(run(g), "indptr: empty");
}

TEST(PropagateInput, SeedAndParamValidation) {
  const Graph g = chain();
  auto seeds = [&](Seeds s) { return [&g, s] { (void)propagate_cpu_layered(g, s, {}); }; };
  expect_bad(seeds({{0, 3}, {1, 1}}), "seed_nodes[1]: 3 out of range");
  expect_bad(seeds({{-1}, {1}}), "seed_nodes[0]");
  expect_bad(seeds({{0, 1}, {1}}), "seed_weights: length 1, expected 2");
  expect_bad(seeds({{0, 1}, {1, std::numeric_limits<float>::infinity()}}),
             "seed_weights[1]: non-finite");
  auto params = [&](PropagateParams p) {
    return [&g, p] { (void)propagate_cpu_layered(g, {{0}, {1}}, p); };
  };
  PropagateParams p;
  p.rate = 0.0f;
  expect_bad(params(p), "rate");
  p.rate = 1.5f;
  expect_bad(params(p), "rate: 1.5 outside (0, 1]");
  p = {};
  p.radius_cap = -1;
  expect_bad(params(p), "radius_cap: -1 is negative");
  p = {};
  p.iter_cap_layers = -2;
  expect_bad(params(p), "iter_cap_layers: -2");
  p = {};
  p.eps = 0.0f;
  expect_bad(params(p), "eps");
  p = {};
  p.node_budget = std::numeric_limits<float>::quiet_NaN();
  expect_bad(params(p), "node_budget");
  p = {};
  p.floor = -1.0f;
  expect_bad(params(p), "floor");
}

TEST(PropagateInput, EveryPathRejectsBeforeRunning) {
  Graph bad_graph = chain();
  bad_graph.indices[0] = 9;
  const std::vector<Graph> graphs{chain(), bad_graph};
  const std::vector<Seeds> seeds{{{0}, {1}}, {{0}, {1}}};
  expect_bad([&] { (void)propagate_batch_cpu(graphs, seeds, {}); }, "graph 1: indices[0]");
  expect_bad([&] { (void)propagate_cpu_heap(bad_graph, seeds[0], {}); }, "indices[0]");
  expect_bad([&] { (void)propagate_batch_cpu(graphs, std::span(seeds).first(1), {}); },
             "seeds: 1 seed sets for 2 graphs");
  // The dispatcher and the device path reject it too, before touching the device.
  PropagateDispatcher d({true, PropagateBackend::opencl, true}, nullptr, ProgramCache::disabled());
  expect_bad([&] { (void)d.run(graphs, seeds, {}); }, "graph 1: indices[0]");
  if (!list_devices().empty()) {
    Device dev = Device::open();
    expect_bad(
        [&] { (void)propagate_batch_device(dev, ProgramCache::disabled(), graphs, seeds, {}); },
        "graph 1: indices[0]");
    // With a device: rejected as bad input, never run on the CPU instead.
    PropagateDispatcher on({true, PropagateBackend::opencl, true}, &dev, ProgramCache::disabled());
    expect_bad([&] { (void)on.run(graphs, seeds, {}); }, "graph 1: indices[0]");
    expect_bad([&] { (void)on.run(graphs, std::span(seeds).first(1), {}); },
               "seeds: 1 seed sets for 2 graphs");
    PropagateParams negative;
    negative.radius_cap = -1;
    expect_bad(
        [&] { (void)on.run(std::span(graphs).first(1), std::span(seeds).first(1), negative); },
        "radius_cap: -1 is negative");
    EXPECT_TRUE(on.fallback_counts().empty());
  }
}

// The device path checks large inputs with two threads; the error must be the one the
// sequential Graph::validate gives (first field in its order, first bad position).
TEST(PropagateInput, ThreadedValidationGivesTheSequentialError) {
  // The production threshold is 2^19 edges; 2^17 here keeps the test fast and still
  // splits the graph (and the batch) between two threads.
  constexpr std::size_t kThreads = std::size_t{1} << 17;
  const Graph big = generate_uniform(5000, 300000, 31);
  const PropagateParams p;
  struct Case {
    const char* what;
    void (*spoil)(Graph&);
  };
  const Case cases[] = {
      {"valid", [](Graph&) {}},
      {"index late", [](Graph& g) { g.indices[290000] = -1; }},
      {"index late, weight early",
       [](Graph& g) {
         g.indices[250000] = 5000;
         g.weights[3] = std::numeric_limits<float>::infinity();
       }},
      {"two weights",
       [](Graph& g) {
         g.weights[200000] = std::numeric_limits<float>::quiet_NaN();
         g.weights[100000] = -std::numeric_limits<float>::infinity();
       }},
      {"rel_mult late, weight late",
       [](Graph& g) {
         g.rel_mult[160000] = std::numeric_limits<float>::infinity();
         g.weights[299999] = std::numeric_limits<float>::infinity();
       }},
      {"indptr", [](Graph& g) { g.indptr[4000] = g.indptr[3999] - 1; }},
      {"length", [](Graph& g) { g.rel_mult.pop_back(); }},
      {"key_rank", [](Graph& g) { g.key_rank.push_back(0); }},
  };
  // What the packing pass runs: each graph checked by validate_entry, the batch split
  // between two threads by for_each_split.
  auto threaded = [&](const std::vector<Graph>& graphs, const std::vector<Seeds>& seeds) {
    propagate_detail::for_each_split(
        graphs.size(), [&](std::size_t i) { return graphs[i].indices.size(); },
        [&](std::size_t i, int) { propagate_detail::validate_entry(graphs, seeds, i, kThreads); },
        kThreads);
  };
  for (const auto& c : cases) {
    Graph g = big;
    c.spoil(g);
    const Seeds s{{0}, {1.0f}};
    const std::string want = bad_input_message([&] { g.validate(); });
    EXPECT_EQ(bad_input_message([&] { threaded({g}, {s}); }), want) << c.what;
    // In a batch, after a valid large graph: the same error, named by its graph.
    const std::vector<Graph> graphs{big, generate_rmat(50, 200, 1), g};
    const std::vector<Seeds> seeds(3, s);
    EXPECT_EQ(bad_input_message([&] { threaded(graphs, seeds); }),
              want.empty() ? "" : "graph 2: " + want)
        << c.what;
    EXPECT_EQ(bad_input_message([&] { propagate_detail::validate_batch(graphs, seeds, p); }),
              want.empty() ? "" : "graph 2: " + want)
        << c.what;
  }
}

// The device path checks a batch inside the host's packing pass, split between two
// threads from 2^18 edges: the first error in batch order must be the one the
// sequential validate_batch names, for the one-shot call and the persistent batch,
// and a failed call must leave the next one exact.
TEST(PropagateInput, PackingPassGivesTheSequentialError) {
  if (list_devices().empty()) GTEST_SKIP() << "no OpenCL device";
  Device dev = Device::open();
  std::vector<Graph> good;
  std::vector<Seeds> good_seeds;
  for (int i = 0; i < 40; ++i) {  // 4 * 10^5 edges: the pass takes two threads
    good.push_back(generate_uniform(1000, 10000, 100 + static_cast<std::uint64_t>(i)));
    good_seeds.push_back({{i % 1000, 7}, {1.0f, 0.5f}});
  }
  PropagateParams p;
  p.radius_cap = 3;
  struct Case {
    const char* what;
    void (*spoil)(std::vector<Graph>&, std::vector<Seeds>&);
  };
  const Case cases[] = {
      {"late index", [](auto& g, auto&) { g[37].indices[9000] = 1000; }},
      {"early weight, late index",
       [](auto& g, auto&) {
         g[3].weights[5] = std::numeric_limits<float>::infinity();
         g[36].indices[1] = -1;
       }},
      {"late graph first in the helper's range",
       [](auto& g, auto&) { g[39].rel_mult[0] = std::numeric_limits<float>::quiet_NaN(); }},
      {"seeds before a bad graph",
       [](auto& g, auto& s) {
         s[33].nodes[1] = 5000;
         g[34].indptr[10] = -3;
       }},
      {"lengths", [](auto& g, auto&) { g[20].key_rank.pop_back(); }},
  };
  const ProgramCache cache = ProgramCache::disabled();
  for (const auto& c : cases) {
    std::vector<Graph> graphs = good;
    std::vector<Seeds> seeds = good_seeds;
    c.spoil(graphs, seeds);
    const std::string want =
        bad_input_message([&] { propagate_detail::validate_batch(graphs, seeds, p); });
    ASSERT_FALSE(want.empty()) << c.what;
    EXPECT_EQ(
        bad_input_message([&] { (void)propagate_batch_device(dev, cache, graphs, seeds, p); }),
        want)
        << c.what;
    if (want.find("seed") == std::string::npos) {
      EXPECT_EQ(bad_input_message([&] { PropagateDeviceBatch batch(dev, cache, graphs); }), want)
          << c.what;
    }
  }
  // The pooled host blocks of the failed calls are reused: still exact.
  EXPECT_EQ(propagate_batch_device(dev, cache, good, good_seeds, p),
            propagate_batch_cpu(good, good_seeds, p));
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("clgauge-prop-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  std::filesystem::path dir_;
};

using PropagateFiles = TempDir;

TEST_F(PropagateFiles, BinaryAndJsonRoundTrip) {
  const Graph g = generate_rmat(300, 1500, 11);
  write_graph_file(path("g.bin"), g, true);
  write_graph_file(path("g.json"), g, false);
  EXPECT_EQ(read_graph_file(path("g.bin")), g);
  EXPECT_EQ(read_graph_file(path("g.json")), g);  // %.9g round-trips float32
  const Seeds s{{1, 2}, {0.1f, -3e-7f}};
  EXPECT_EQ(seeds_from_json(seeds_to_json(s)), s);
}

TEST_F(PropagateFiles, TruncatedForeignAndCorruptFilesAreRejected) {
  const std::string bytes = graph_to_binary(chain());
  write("trunc.bin", bytes.substr(0, bytes.size() - 3));
  expect_bad([&] { (void)read_graph_file(path("trunc.bin")); }, "truncated (expected");
  write("header.bin", bytes.substr(0, 12));
  expect_bad([&] { (void)read_graph_file(path("header.bin")); }, "truncated header");
  write("foreign.bin", "PK\x03\x04 this is a zip file, not a graph");
  expect_bad([&] { (void)read_graph_file(path("foreign.bin")); }, "magic");
  std::string corrupt = bytes;
  corrupt[40] ^= 0x10;
  write("corrupt.bin", corrupt);
  expect_bad([&] { (void)read_graph_file(path("corrupt.bin")); }, "checksum");
  std::string v2 = bytes;
  v2[8] = 2;
  write("v2.bin", v2);
  expect_bad([&] { (void)read_graph_file(path("v2.bin")); }, "unsupported version 2");
  write("extra.bin", bytes + "x");
  expect_bad([&] { (void)read_graph_file(path("extra.bin")); }, "trailing bytes");
  write("bad.json",
        R"({"indptr": [0, 1], "indices": [0], "weights": [1], "rel_code": [0], "rel_mult": [1]})");
  expect_bad([&] { (void)read_graph_file(path("bad.json")); }, "key_rank: missing");
  write(
      "bad2.json",
      R"({"indptr": [0, 1.5], "indices": [0], "weights": [1], "rel_code": [0], "rel_mult": [1], "key_rank": [0]})");
  expect_bad([&] { (void)read_graph_file(path("bad2.json")); }, "indptr[1]: not an int32");
  write(
      "bad3.json",
      R"({"indptr": [0, 1], "indices": [0], "weights": [1e39], "rel_code": [0], "rel_mult": [1], "key_rank": [0]})");
  expect_bad([&] { (void)read_graph_file(path("bad3.json")); }, "weights[0]: non-finite");
  write("broken.json", "{\"indptr\": [0,");
  expect_bad([&] { (void)read_graph_file(path("broken.json")); }, "not valid JSON");
  write("seeds.json", R"({"seed_nodes": [0, "a"], "seed_weights": [1, 2]})");
  expect_bad([&] { (void)read_seeds_file(path("seeds.json")); }, "seed_nodes[1]: not an int32");
}

TEST(PropagateGenerate, DeterministicPerSeedAndValid) {
  const Graph a = generate_rmat(1000, 5000, 3);
  EXPECT_NO_THROW(a.validate());
  EXPECT_EQ(a, generate_rmat(1000, 5000, 3));
  EXPECT_NE(a, generate_rmat(1000, 5000, 4));
  EXPECT_NE(a, generate_rmat(1000, 5000, 3, {0.25, 0.25, 0.25}));
  const Graph u = generate_uniform(77, 300, 3);
  EXPECT_NO_THROW(u.validate());
  EXPECT_EQ(u, generate_uniform(77, 300, 3));
  EXPECT_EQ(u.edges(), 300);
  expect_bad([] { (void)generate_rmat(0, 10, 1); }, "nodes");
  expect_bad([] { (void)generate_rmat(10, 10, 1, {0.6, 0.3, 0.3}); }, "rmat");
}

// --- the CLI, in process -------------------------------------------------------------

using test::run_cli;

using PropagateCli = TempDir;

TEST_F(PropagateCli, RunsAndPrintsJson) {
  const auto r = run_cli({"propagate", "--graph", kData + "chain.json", "--seeds-file",
                          kData + "seeds.json", "--rate", "0.5", "--backend", "cpu", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(R"("d_nodes":[0,1,2],"d_vals":[1,0.5,0.125])"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("backend":"cpu")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("env_fingerprint":")"), std::string::npos) << r.out;
  const auto h = run_cli({"propagate", "--graph", kData + "chain.json", "--seed-nodes", "0",
                          "--seed-weights", "1", "--backend", "heap", "--json"});
  ASSERT_EQ(h.status, 0) << h.err;
  EXPECT_NE(h.out.find(R"("d_vals":[1,0.5,0.125])"), std::string::npos) << h.out;
}

TEST_F(PropagateCli, DeviceRunWithStrictParity) {
  const auto r = run_cli({"propagate", "--graph", kData + "chain.json", "--seed-nodes", "0,0",
                          "--seed-weights", "0.5,0.5", "--strict-parity", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(R"("d_vals":[1,0.5,0.125])"), std::string::npos) << r.out;
  if (!list_devices().empty()) {
    EXPECT_NE(r.out.find(R"("backend":"opencl")"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(R"("strict_parity":"identical")"), std::string::npos) << r.out;
  }
}

TEST_F(PropagateCli, GeneratesDeterministically) {
  for (const auto* name : {"a.bin", "b.bin"}) {
    const auto r = run_cli({"propagate", "--generate", "rmat", "--nodes", "500", "--edges", "2000",
                            "--seed", "9", "--rmat-a", "0.45", "--out", path(name)});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  EXPECT_EQ(read_graph_file(path("a.bin")), read_graph_file(path("b.bin")));
  EXPECT_EQ(read_graph_file(path("a.bin")), generate_rmat(500, 2000, 9, {0.45, 0.19, 0.19}));
  const auto u = run_cli({"propagate", "--generate", "uniform", "--nodes", "50", "--edges", "100",
                          "--out", path("u.json")});
  ASSERT_EQ(u.status, 0) << u.err;
  EXPECT_EQ(read_graph_file(path("u.json")), generate_uniform(50, 100, 42));
}

TEST_F(PropagateCli, BadInputIsOneLineAndExitTwo) {
  const std::string g = kData + "chain.json";
  write("trunc.bin", graph_to_binary(chain()).substr(0, 50));
  write(
      "bad_indptr.json",
      R"({"indptr": [0, 2, 1, 2], "indices": [1, 2], "weights": [1, 1], "rel_code": [0, 0], "rel_mult": [1, 1], "key_rank": [0, 1, 2]})");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--graph", g, "--seed-nodes", "0,7", "--seed-weights", "1,1"},
       "seed_nodes[1]: 7 out of range"},
      {{"--graph", g, "--seed-nodes", "0,x", "--seed-weights", "1,1"}, "seed_nodes[1]: 'x'"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "nan"}, "seed_weights[0]: non-finite"},
      {{"--graph", g, "--seed-nodes", "0,1", "--seed-weights", "1"},
       "seed_weights: length 1, expected 2"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "1", "--rate", "0"},
       "rate: 0 outside (0, 1]"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "1", "--rate", "1.01"}, "rate"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "1", "--radius-cap", "-1"},
       "radius_cap: -1"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "1", "--iter-cap-layers", "-3"},
       "iter_cap_layers: -3"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "1", "--eps", "-1"}, "eps"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "1", "--backend", "gpu"},
       "--backend: unknown 'gpu'"},
      {{"--graph", g, "--seed-nodes", "0", "--seed-weights", "1", "--backend", "heap",
        "--strict-parity"},
       "--strict-parity"},
      {{"--graph", path("trunc.bin"), "--seed-nodes", "0", "--seed-weights", "1"}, "truncated"},
      {{"--graph", path("bad_indptr.json"), "--seed-nodes", "0", "--seed-weights", "1"},
       "indptr[2]: not monotone"},
      {{"--graph", g, "--seeds-file", kData + "seeds.json", "--seed-nodes", "0"}, "--seeds-file"},
      {{"--seed-nodes", "0", "--seed-weights", "1"}, "--graph: required"},
      {{"--generate", "rmat", "--nodes", "10", "--edges", "5"}, "--out: required"},
      {{"--generate", "ring", "--nodes", "10", "--edges", "5", "--out", path("x")},
       "--generate: unknown"},
      {{"--generate", "rmat", "--nodes", "0", "--edges", "5", "--out", path("x")}, "--nodes: 0"},
  };
  for (const auto& [args, needle] : cases) {
    std::vector<std::string> full{"propagate"};
    full.insert(full.end(), args.begin(), args.end());
    const auto r = run_cli(full);
    EXPECT_EQ(r.status, 2) << needle << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << needle << ": " << r.out;
    EXPECT_EQ(r.err.rfind("clgauge propagate: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // A flag value that is not a number is caught by the parser: still exit 2.
  EXPECT_EQ(run_cli({"propagate", "--graph", g, "--rate", "fast"}).status, 2);
}

}  // namespace
}  // namespace clgauge
