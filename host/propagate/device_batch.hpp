#pragma once
// The host side of the device path, kept apart so tests can check its pieces alone:
// validation, the upload of a batch, the in-CSR the device builds, and the host
// reference that in-CSR is held to.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include <boost/compute/buffer.hpp>
#include <boost/compute/event.hpp>
#include <boost/compute/program.hpp>

#include "clgauge/propagate.hpp"

namespace clgauge::propagate_detail {

// The seed-set count against the graph count, then the params: Error(bad_input).
void validate_call(std::size_t graphs, std::size_t seed_sets, const PropagateParams& p);
// Params, every graph and every seed set, in batch order; Error(bad_input) names the
// graph (in a batch of more than one), the field and the first bad position.
void validate_batch(std::span<const Graph> graphs, std::span<const Seeds> seeds,
                    const PropagateParams& p);
// Graph i of a batch and, when `seeds` is not empty, seed set i: Error(bad_input) as
// validate_batch words it. From `thread_edges` edges the graph's two halves are checked
// on two threads (the device path), with the same first error. From 2^19: at 10^6 edges
// the check took 0.65 ms on two threads against 0.9 ms on one (idle machine). On a busy
// machine the helper may wait for a core while the caller waits at the join (at load
// average 12 the median call at 10^6 edges got slower, not faster).
constexpr std::size_t kValidateThreadEdges = std::size_t{1} << 19;
void validate_entry(std::span<const Graph> graphs, std::span<const Seeds> seeds, std::size_t i,
                    std::size_t thread_edges = kValidateThreadEdges);
// Runs fn(i, part) for i in [0, count) in ascending order: all of it on the calling
// thread (part 0) unless the summed weight(i) reaches `min_total`; then split in two
// ranges of about equal weight, the second on a helper thread (part 1). Stops at the
// first exception of each range and rethrows the first in index order, as a sequential
// loop would.
template <class Weight, class Fn>
void for_each_split(std::size_t count, Weight weight, Fn fn, std::size_t min_total) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += weight(i);
  std::size_t split = count, part = 0;
  if (total >= min_total && count > 1) {
    for (split = 0; split < count && part < total / 2; ++split) part += weight(split);
  }
  if (split == 0 || split >= count) {
    for (std::size_t i = 0; i < count; ++i) fn(i, 0);
    return;
  }
  std::exception_ptr late;  // the helper's first exception, in [split, count)
  {
    std::jthread helper([&] {
      try {
        for (std::size_t i = split; i < count; ++i) fn(i, 1);
      } catch (...) {
        late = std::current_exception();
      }
    });
    for (std::size_t i = 0; i < split; ++i) fn(i, 0);  // an exception here is the first
  }
  if (late) std::rethrow_exception(late);
}

// Called with a graph's index before its data is first used (see build_device_graphs).
using GraphCheck = std::function<void(std::size_t)>;
// A batch's packing (validation and concatenation) takes two host threads from this
// many edges: it reads each graph once, from cache, while it is checked.
constexpr std::size_t kPackThreadEdges = std::size_t{1} << 18;

// Graph::validate's checks as predicates (true: nothing bad), for the threaded pass.
bool structure_valid(const Graph& g);
bool edges_valid(const Graph& g, std::size_t begin, std::size_t end);

// Device memory kept between calls. A one-shot call's arrays (and every run's
// scratch) are taken from a pool per context and given back when the call's device
// work has finished, so the next call of a similar size reuses memory that is already
// mapped instead of faulting fresh pages in (at 10^7 edges that cost as much as the
// build itself). At most kPoolBytes stay pooled per process, oldest dropped first;
// buffers of a call that fails are released, never pooled (commands may still read them).
enum class Memory {
  device,      // plain read-write buffer
  host_array,  // on host-memory devices: 2 MiB-aligned host memory (CL_MEM_USE_HOST_PTR)
};
constexpr std::size_t kPoolBytes = std::size_t{1} << 30;

class Lease {
 public:
  // pooled: whether buffers come from (and go back to) the pool.
  explicit Lease(bool pooled = true) : pooled_(pooled) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease(Lease&&) = default;
  Lease& operator=(Lease&&) = default;
  ~Lease() = default;  // without give_back(), the buffers are simply released
  // A buffer of at least `bytes` (at least 4: OpenCL has no empty buffers).
  boost::compute::buffer take(const boost::compute::context& ctx, std::size_t bytes, Memory kind);
  // Call only when no command that uses the buffers is pending.
  void give_back();
  // Takes over the buffers of `other` (to give them back later, together).
  void adopt(Lease&& other);

 private:
  struct Held {
    Memory kind;
    boost::compute::buffer buffer;
  };
  bool pooled_;
  std::vector<Held> held_;
};

// How graph arrays reach the device. `automatic` asks the device: one that shares
// host memory (CL_DEVICE_HOST_UNIFIED_MEMORY) gets `host_memory`, any other `copy`.
//   host_memory: a single borrowed graph is read in place (CL_MEM_USE_HOST_PTR); a
//                batch is concatenated by the host into host memory blocks (pooled,
//                aligned) that then back CL_MEM_USE_HOST_PTR buffers. No staging copy,
//                no map, no wait either way.
//   copy:        device buffers filled by writes on a second queue, in the order the
//                in-CSR build needs them, so later arrays travel while it runs.
enum class UploadMode { automatic, host_memory, copy };

// How the device builds the in-CSR: `per_graph`, one work-item per graph walking it
// alone (batches of small graphs); `batch_wide`, every step spread over the whole batch
// through buckets of targets (large graphs); `direct`, the batch split among a few
// work-items (as many as the device has compute units, at most 16), each placing its
// edges straight into the final arrays (large graphs on a CPU device).
// `automatic`: per_graph when no graph has more than 2^16 edges (2^14 on a CPU device,
// and then only with more graphs than compute units); else direct on a CPU device,
// batch_wide elsewhere.
enum class CsrBuild { automatic, per_graph, batch_wide, direct };

// A batch's topology on the device. Node and edge ids are global over the batch
// (graphs concatenated in order); see kernels_cl/propagate.cl for the layout.
struct DeviceGraphs {
  std::int32_t n = 0, e = 0;
  std::vector<std::int32_t> node_offset;          // G+1
  boost::compute::buffer graph_of, o_ptr, o_dst;  // out-CSR
  boost::compute::buffer t_ptr, t_src, t_wr;      // in-CSR, canonical order per target
  UploadMode mode = UploadMode::copy;             // the way that was taken
  std::shared_ptr<Lease> lease;                   // pooled arrays of a one-shot call
  CsrBuild build = CsrBuild::automatic;           // the build that ran
  boost::compute::event csr_begin, csr_end;       // markers around the build
  double prepare_ms = 0;  // host: the checks, offsets and a batch's concatenation
  double upload_ms = 0;   // host wall time of buffer creation and the transfers' issue
  double csr_ms = 0;      // persistent batches: wall time from the first build launch to the in-CSR
                          // done; one-shot calls do not wait for it (see csr_span_ms)
};

// Device time of the build, from its markers' profiling (0 when the device gives none).
// Only after the build has finished.
double csr_span_ms(const DeviceGraphs& d);

// The "propagate" kernels, built (or fetched from the cache) for the device.
BuiltProgram build_propagate_program(Device& device, const ProgramCache& cache);

// Uploads graphs and builds the canonical in-CSR on the device with `program` (the
// "propagate" kernels). `borrowed`: the graphs outlive the result, so their memory may
// back device buffers. `check`, when given, runs for every graph before any device
// work and before the graph is read otherwise: for a batch inside the host's packing
// pass (graph by graph, while its arrays are in cache), for a single graph first; the
// first error in batch order propagates. Error(invalid_config) when the batch exceeds
// int32 indexing (after the checks).
DeviceGraphs build_device_graphs(Device& device, const boost::compute::program& program,
                                 std::span<const Graph> graphs, bool borrowed,
                                 UploadMode mode = UploadMode::automatic,
                                 CsrBuild how = CsrBuild::automatic, const GraphCheck& check = {});

// The host's half of build_device_graphs, split off so a caller can do it before
// anything touches the device (the program build included): the checks, the offsets
// and, for a batch of several graphs, the concatenation. Throws as build_device_graphs.
class HostBatch {
 public:
  HostBatch();
  HostBatch(HostBatch&&) noexcept;
  HostBatch& operator=(HostBatch&&) noexcept;
  ~HostBatch();
  struct Impl;
  std::unique_ptr<Impl> impl;
};
HostBatch pack_batch(Device& device, std::span<const Graph> graphs, UploadMode mode,
                     const GraphCheck& check);
// The device's half: `packed` comes from pack_batch(device, graphs, ...).
DeviceGraphs build_device_graphs(Device& device, const boost::compute::program& program,
                                 std::span<const Graph> graphs, HostBatch&& packed, bool borrowed,
                                 CsrBuild how = CsrBuild::automatic);

// The in-CSR of a batch as plain arrays (global ids).
struct InCsr {
  std::vector<std::int32_t> t_ptr, t_src;
  std::vector<float> t_w, t_rm;  // flushed
  bool operator==(const InCsr&) const = default;
};
// Reads the device's in-CSR back (tests).
InCsr read_in_csr(Device& device, const DeviceGraphs& graphs);
// The definition, on the host: per graph, sources in ascending (key_rank, u), each
// one's out-edges in CSR order, placed by target in that order.
InCsr host_in_csr(std::span<const Graph> graphs);

// A pull leaves the next frontier's marks out (and the pull after it visits every
// node) when the frontier it starts from expanded at least this many out-edges
// (kernels_cl/propagate.cl, "Dense layers"): 1/64 of the batch's edges. Either way
// gives the same bits; only the work differs. On PoCL (idle, kernel time of a one-shot
// call) the marks-always policy took 8.5 ms at 10^6 edges and 77 ms at 10^7; from 1/64
// 6.8 ms and 65 ms; marks never (every pull dense) 6.9 ms and 60 ms. A sparse first
// layer is kept for devices where idle work-items are not free. Tests pin it (0: every
// layer dense, nullopt: the default) to run both ways.
std::int64_t dense_threshold(std::int64_t batch_edges);
void set_dense_threshold_for_tests(std::optional<std::int64_t> edges);

// Layer 0 of every graph, dense over the batch.
// Only the seeds travel: O(seeds) host work, no array of the batch's size.
struct PackedSeeds {
  std::vector<std::int32_t> nodes;      // distinct seed nodes (global ids), ascending per graph
  std::vector<float> c0;                // their layer-0 values
  std::vector<std::int64_t> frontier0;  // |F_0| per graph
  std::vector<float> max_c0;            // max |c0| per graph
};
// Packs validated seeds, one set per graph; node_offset as in DeviceGraphs.
PackedSeeds pack_seeds(std::span<const std::int32_t> node_offset, std::span<const Seeds> seeds);

}  // namespace clgauge::propagate_detail
