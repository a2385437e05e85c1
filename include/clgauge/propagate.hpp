#pragma once
// Layered graph propagation (the T1 spreading-activation stage): a canonical CPU
// reference, the original priority-queue T1, the OpenCL path that reproduces the
// canonical bits, batches of many graphs, and the dispatcher with the stage's switches.
// The canonical semantics are fixed in docs/semantics.md ("Layered propagation") and
// summarised in docs/propagate.md.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clgauge/runtime.hpp"

namespace clgauge {

// CSR over outgoing edges: the out-edges of node u are e = indptr[u] .. indptr[u+1]-1.
struct Graph {
  std::vector<std::int32_t> indptr;    // n+1, indptr[0] == 0, non-decreasing, back() == E
  std::vector<std::int32_t> indices;   // E, target node of each edge, in [0, n)
  std::vector<float> weights;          // E, finite
  std::vector<std::int32_t> rel_code;  // E, carried, unused by propagation
  std::vector<float> rel_mult;         // E, finite
  std::vector<std::int32_t> key_rank;  // n, first tie-break of the summation order

  std::int32_t nodes() const {
    return indptr.empty() ? 0 : static_cast<std::int32_t>(indptr.size() - 1);
  }
  std::int32_t edges() const { return static_cast<std::int32_t>(indices.size()); }
  // Throws Error(bad_input) naming the field and the first bad position.
  void validate() const;
  bool operator==(const Graph&) const = default;
};

struct Seeds {
  std::vector<std::int32_t> nodes;  // seed_nodes, duplicates allowed (their weights add up)
  std::vector<float> weights;       // seed_weights, finite, one per node entry
  // Throws Error(bad_input) naming the field and the first bad position.
  void validate(std::int32_t graph_nodes) const;
  bool operator==(const Seeds&) const = default;
};

struct PropagateParams {
  float rate = 0.5f;                 // decay base, in (0, 1]
  float floor = 0.0f;                // lower bound of the decay table, finite, >= 0
  std::int32_t radius_cap = 4;       // >= 0
  std::int32_t iter_cap_layers = 8;  // >= 0
  float node_budget = std::numeric_limits<float>::infinity();  // > 0, not NaN
  float eps = 1e-8f;                                           // finite, > 0
  void validate() const;
  bool operator==(const PropagateParams&) const = default;
};

struct PropagateMetrics {
  std::int64_t pops = 0;
  std::int64_t iters = 0;
  std::int64_t propagations = 0;
  std::int64_t radius_cap_hits = 0;
  std::int64_t layer_cap_hits = 0;
  std::int64_t node_budget_hits = 0;
  float max_delta_local = 0.0f;
  bool operator==(const PropagateMetrics&) const = default;
};

struct PropagateResult {
  std::vector<std::int32_t> d_nodes;  // ascending
  std::vector<float> d_vals;
  PropagateMetrics metrics;
  // Bitwise: compares float bit patterns, so equality means identical bits.
  bool operator==(const PropagateResult& o) const;
};

// Per-graph results and the stage totals (counters summed, max of max_delta_local;
// iters is the maximum over the graphs).
struct PropagateBatchResult {
  std::vector<PropagateResult> results;
  PropagateMetrics totals;
  bool operator==(const PropagateBatchResult&) const = default;
};

// The first place where two results differ, or nullopt when their bits are identical.
struct PropagateDifference {
  std::size_t graph = 0;
  std::string field;  // "d_nodes.size", "d_nodes", "d_vals", "metrics.<name>"
  std::size_t index = 0;
  std::string expected;  // reference (CPU) value as text
  std::string actual;
  std::string describe() const;
  bool operator==(const PropagateDifference&) const = default;
};
std::optional<PropagateDifference> first_difference(const PropagateBatchResult& expected,
                                                    const PropagateBatchResult& actual);

// decay[d] = max(float(pow(double(rate), d)), floor) for d >= 1 (d = 0 is 1.0f), flushed.
// The single source of decay values for every path.
std::vector<float> decay_table(const PropagateParams& params, std::int32_t max_depth);

// --- the paths -----------------------------------------------------------------
PropagateResult propagate_cpu_layered(const Graph& g, const Seeds& s, const PropagateParams& p);
// The original priority-queue T1; agrees with the layered reference only by tolerance.
PropagateResult propagate_cpu_heap(const Graph& g, const Seeds& s, const PropagateParams& p);
PropagateResult propagate_device(Device& device, const ProgramCache& cache, const Graph& g,
                                 const Seeds& s, const PropagateParams& p);

// Many graphs, each with its own seeds, sharing the params. graphs.size() == seeds.size().
PropagateBatchResult propagate_batch_cpu(std::span<const Graph> graphs,
                                         std::span<const Seeds> seeds, const PropagateParams& p);
// Runs the whole batch in one set of launches per layer (graphs concatenated).
// Device time of the last call is reported through `timing` when given.
struct DeviceTiming {
  double prepare_ms = 0;  // host: validation, offsets, concatenation of a batch, seeds
  double build_ms = 0;    // obtaining the program (cache hit or compile)
  double upload_ms = 0;   // host wall time of the uploads
  double csr_ms = 0;      // the device building the canonical in-CSR (full call only)
  double kernel_ms = 0;   // sum of kernel profiling times
  double total_ms = 0;    // host wall time of the whole call
  std::int32_t layers = 0;
  std::int32_t launches = 0;
};
PropagateBatchResult propagate_batch_device(Device& device, const ProgramCache& cache,
                                            std::span<const Graph> graphs,
                                            std::span<const Seeds> seeds, const PropagateParams& p,
                                            DeviceTiming* timing = nullptr);

// A batch of graphs validated, packed (canonical in-CSR built) and uploaded once, then
// run with any number of seed sets: the steady state of an engine whose graphs persist
// across turns. Same bits as propagate_batch_device. `device` must outlive it; copies
// share the uploaded buffers.
class PropagateDeviceBatch {
 public:
  PropagateDeviceBatch(Device& device, const ProgramCache& cache, std::span<const Graph> graphs);
  // seeds.size() == graphs(); params and seeds are validated before any device work.
  PropagateBatchResult run(std::span<const Seeds> seeds, const PropagateParams& p,
                           DeviceTiming* timing = nullptr);
  std::size_t graphs() const;

 private:
  friend PropagateBatchResult propagate_batch_device(Device&, const ProgramCache&,
                                                     std::span<const Graph>, std::span<const Seeds>,
                                                     const PropagateParams&, DeviceTiming*);
  // one_shot: the caller keeps the graphs alive as long as this object, so a device
  // sharing host memory may read them in place. The graphs, and `seeds` (one set per
  // graph) when not empty, are validated in the pass that packs the batch.
  enum class Use { persistent, one_shot };
  PropagateDeviceBatch(Device& device, const ProgramCache& cache, std::span<const Graph> graphs,
                       Use use, std::span<const Seeds> seeds);
  PropagateBatchResult run_validated(std::span<const Seeds> seeds, const PropagateParams& p,
                                     DeviceTiming* timing,
                                     std::chrono::steady_clock::time_point t0);
  struct State;
  std::shared_ptr<State> state_;
};

// --- the dispatcher --------------------------------------------------------------
enum class PropagateBackend { opencl, cpu };
std::string_view to_string(PropagateBackend b);
PropagateBackend propagate_backend_from_string(std::string_view name);  // throws bad_input

// Mirrors perf.native.t1.*: off by default (then the CPU reference runs).
struct PropagateConfig {
  bool enabled = false;
  PropagateBackend backend = PropagateBackend::opencl;
  bool strict_parity = false;
  bool operator==(const PropagateConfig&) const = default;
};

struct PropagateDispatch {
  PropagateBatchResult result;
  std::string backend;          // "opencl" or "cpu": the path whose result this is
  std::string fallback_reason;  // empty when the configured path ran; else why the CPU ran
  bool parity_checked = false;
  std::optional<PropagateDifference> parity_difference;  // set when strict parity failed
};

// Runs batches by the config. `device` may be null (no device on this machine): then
// every call takes the CPU path and counts "device_unavailable". Never silently
// wrong: under strict_parity a difference is reported and the CPU result returned.
class PropagateDispatcher {
 public:
  PropagateDispatcher(PropagateConfig config, Device* device, ProgramCache cache);
  PropagateDispatch run(std::span<const Graph> graphs, std::span<const Seeds> seeds,
                        const PropagateParams& p);
  // How many calls fell back to the CPU, by reason: "disabled", "backend_cpu",
  // "device_unavailable", "too_large", "build_failed", "launch_failed", "parity_mismatch".
  // ("disabled" and "backend_cpu" are configured choices, counted for the record.)
  const std::map<std::string, std::int64_t>& fallback_counts() const { return fallbacks_; }
  std::int64_t parity_mismatches() const { return mismatches_; }

 private:
  PropagateConfig config_;
  Device* device_;
  ProgramCache cache_;
  std::map<std::string, std::int64_t> fallbacks_;
  std::int64_t mismatches_ = 0;
};

// --- files and JSON ----------------------------------------------------------------
// Binary CSR file (little-endian), see docs/propagate.md:
//   "CLGPROP1" magic (8 bytes), u32 version (1), u32 reserved (0), u64 n, u64 E,
//   indptr i32[n+1], indices i32[E], weights f32[E], rel_code i32[E], rel_mult f32[E],
//   key_rank i32[n], u64 XXH3-64 of every byte before it.
std::string graph_to_binary(const Graph& g);
Graph graph_from_binary(std::string_view bytes);  // throws bad_input (truncated, foreign, ...)
std::string graph_to_json(const Graph& g);
Graph graph_from_json(std::string_view text);
// Reads either form (binary by its magic, else JSON) and validates it.
Graph read_graph_file(const std::string& path);
void write_graph_file(const std::string& path, const Graph& g, bool binary);

std::string seeds_to_json(const Seeds& s);
Seeds seeds_from_json(std::string_view text);
Seeds read_seeds_file(const std::string& path);

std::string to_json(const PropagateMetrics& m);
std::string to_json(const PropagateResult& r);  // d_vals as %.9g
std::string to_json(const PropagateParams& p);

// --- generators (deterministic per seed, Philox4x32-10) ---------------------------
struct RmatParams {
  double a = 0.57, b = 0.19, c = 0.19;  // d = 1 - a - b - c
};
Graph generate_rmat(std::int32_t nodes, std::int64_t edges, std::uint64_t seed,
                    RmatParams abc = {});
Graph generate_uniform(std::int32_t nodes, std::int64_t edges, std::uint64_t seed);

}  // namespace clgauge
