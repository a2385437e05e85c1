// The OpenCL path: a batch of graphs concatenated into one node and edge range, one
// launch per layer for the whole batch (plus one for the seeds' frontier step;
// kernels_cl/propagate.cl says what each work-item computes). The device builds the
// in-CSR in canonical (key_rank, u, e) order (device_csr.cpp).

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/compute/buffer.hpp>
#include <boost/compute/exception/opencl_error.hpp>
#include <boost/compute/kernel.hpp>

#include "clgauge/error.hpp"
#include "clgauge/kernels.hpp"
#include "propagate/canonical.hpp"
#include "propagate/device_batch.hpp"

namespace bc = boost::compute;

namespace clgauge {

using namespace propagate_detail;

namespace {

constexpr int kWorkGroup = 128;
constexpr int kChunk = 8;                   // nodes per work-item
constexpr int kCounters = 5;                // slots per graph, see propagate.cl
constexpr std::size_t kLayersPerRound = 4;  // pulls launched before the host reads counters
enum Slot {
  budget_hits = 0,
  expanded_edges = 1,
  next_frontier = 2,
  propagations = 3,
  max_bits = 4
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Runs check() for graph i of a batch of `graphs`; its Error names the graph when the
// batch has more than one.
template <class Check>
void for_graph(std::size_t i, std::size_t graphs, Check check) {
  try {
    check();
  } catch (const Error& e) {
    if (graphs == 1) throw;
    throw Error(e.code(), "graph " + std::to_string(i) + ": " + e.what());
  }
}

// Throws Error(bad_input) naming the graph (in a batch of more than one).
void validate_seeds(std::span<const std::int32_t> node_offset, std::span<const Seeds> seeds,
                    const PropagateParams& p) {
  const std::size_t graphs = node_offset.size() - 1;
  validate_call(graphs, seeds.size(), p);
  for (std::size_t i = 0; i < graphs; ++i) {
    for_graph(i, graphs, [&] { seeds[i].validate(node_offset[i + 1] - node_offset[i]); });
  }
}

}  // namespace

namespace propagate_detail {

namespace {

// Graph::validate's result, checked in one pass split between two threads when the
// graph is large: each half of the edge arrays is checked by a predicate; only when
// something is bad does Graph::validate run (alone) to name the field and the first
// bad position, so the message is the same either way.
void validate_graph(const Graph& g, std::size_t thread_edges) {
  const std::size_t e = g.indices.size();
  if (e < thread_edges) {
    g.validate();
    return;
  }
  bool structure = false, low = false, high = false;
  {
    std::jthread helper([&] {
      high = g.weights.size() == e && g.rel_mult.size() == e && edges_valid(g, e / 2, e);
    });
    structure = structure_valid(g);
    low = structure && edges_valid(g, 0, e / 2);
  }
  if (!(structure && low && high)) g.validate();  // throws, naming the first bad place
}

}  // namespace

void validate_call(std::size_t graphs, std::size_t seed_sets, const PropagateParams& p) {
  if (graphs != seed_sets) {
    throw Error(ReasonCode::bad_input, "seeds: " + std::to_string(seed_sets) + " seed sets for " +
                                           std::to_string(graphs) + " graphs");
  }
  p.validate();
}

void validate_batch(std::span<const Graph> graphs, std::span<const Seeds> seeds,
                    const PropagateParams& p) {
  validate_call(graphs.size(), seeds.size(), p);
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    validate_entry(graphs, seeds, i, std::numeric_limits<std::size_t>::max());
  }
}

void validate_entry(std::span<const Graph> graphs, std::span<const Seeds> seeds, std::size_t i,
                    std::size_t thread_edges) {
  for_graph(i, graphs.size(), [&] {
    validate_graph(graphs[i], thread_edges);
    if (!seeds.empty()) seeds[i].validate(graphs[i].nodes());
  });
}

namespace {
std::atomic<std::int64_t> dense_override{-1};  // -1: none
}  // namespace

std::int64_t dense_threshold(std::int64_t batch_edges) {
  const std::int64_t pinned = dense_override.load();
  return pinned >= 0 ? pinned : std::max<std::int64_t>(1, batch_edges / 64);
}

void set_dense_threshold_for_tests(std::optional<std::int64_t> edges) {
  dense_override.store(edges ? std::max<std::int64_t>(0, *edges) : -1);
}

BuiltProgram build_propagate_program(Device& device, const ProgramCache& cache) {
  // Built once per context and device in a process: even a cache hit (load, verify,
  // clBuildProgram from the binary) cost 2.5-7 ms here, a tenth of a one-shot call at
  // 10^6 edges. The memo holds the context, so its handle is never reused meanwhile.
  struct Built {
    cl_context context;
    cl_device_id device;
    bc::program program;
  };
  static std::mutex mutex;
  static auto* built = new std::vector<Built>;  // never destroyed, see Lease's pool
  const auto t0 = std::chrono::steady_clock::now();
  const std::lock_guard<std::mutex> lock(mutex);
  for (const auto& b : *built) {
    if (b.context == device.context().get() && b.device == device.device().id()) {
      return {b.program, true, ms_since(t0)};
    }
  }
  BuiltProgram p = build_program(
      device, cache, "propagate", kernel_source("propagate"),
      "-DPROP_WG=" + std::to_string(kWorkGroup) + " -DPROP_CHUNK=" + std::to_string(kChunk));
  built->push_back({device.context().get(), device.device().id(), p.program});
  return p;
}

PackedSeeds pack_seeds(std::span<const std::int32_t> node_offset, std::span<const Seeds> seeds) {
  PackedSeeds s;
  s.frontier0.resize(seeds.size());
  s.max_c0.resize(seeds.size(), 0.0f);
  std::vector<std::pair<std::int32_t, std::size_t>> order;  // (node, input position)
  for (std::size_t gi = 0; gi < seeds.size(); ++gi) {
    const Seeds& sd = seeds[gi];
    order.clear();
    for (std::size_t i = 0; i < sd.nodes.size(); ++i) order.emplace_back(sd.nodes[i], i);
    // Sorted by node, input order kept within a node: each c0 is the float sum of its
    // seed weights in input order from 0.0f, as seed_layer computes it.
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < order.size();) {
      const std::int32_t u = order[i].first;
      float c0 = 0.0f;
      for (; i < order.size() && order[i].first == u; ++i)
        c0 = flush(c0 + flush(sd.weights[order[i].second]));
      s.nodes.push_back(node_offset[gi] + u);
      s.c0.push_back(c0);
      ++s.frontier0[gi];
      s.max_c0[gi] = std::max(s.max_c0[gi], std::fabs(c0));
    }
  }
  return s;
}

}  // namespace propagate_detail

namespace {

template <class T>
bc::buffer upload(Lease& lease, bc::context& ctx, bc::command_queue& q, const std::vector<T>& v) {
  // Not blocking (the queue may still be building the in-CSR): `v` must outlive the
  // write, which the caller's final blocking read (or its drain) guarantees.
  bc::buffer buf = lease.take(ctx, v.size() * sizeof(T), Memory::device);
  if (!v.empty()) q.enqueue_write_buffer_async(buf, 0, v.size() * sizeof(T), v.data());
  return buf;
}

}  // namespace

struct PropagateDeviceBatch::State {
  Device* device;
  boost::compute::program program;
  double build_ms = 0;
  DeviceGraphs graphs;
};

PropagateDeviceBatch::PropagateDeviceBatch(Device& device, const ProgramCache& cache,
                                           std::span<const Graph> graphs, Use use,
                                           std::span<const Seeds> seeds) {
  // Every graph (and seed set) is checked in the host's pass over the batch, before
  // anything touches the device: bad input is named, never a build or launch failure.
  HostBatch packed = pack_batch(device, graphs, UploadMode::automatic,
                                [&](std::size_t i) { validate_entry(graphs, seeds, i); });
  auto st = std::make_shared<State>();
  st->device = &device;
  const BuiltProgram built = build_propagate_program(device, cache);
  st->program = built.program;
  st->build_ms = built.build_ms;
  st->graphs =
      build_device_graphs(device, st->program, graphs, std::move(packed), use == Use::one_shot);
  state_ = std::move(st);
}

PropagateDeviceBatch::PropagateDeviceBatch(Device& device, const ProgramCache& cache,
                                           std::span<const Graph> graphs)
    : PropagateDeviceBatch(device, cache, graphs, Use::persistent, {}) {}

std::size_t PropagateDeviceBatch::graphs() const {
  return state_->graphs.node_offset.size() - 1;
}

PropagateBatchResult PropagateDeviceBatch::run(std::span<const Seeds> seeds,
                                               const PropagateParams& p, DeviceTiming* timing) {
  const auto t0 = std::chrono::steady_clock::now();
  validate_seeds(state_->graphs.node_offset, seeds, p);
  return run_validated(seeds, p, timing, t0);
}

PropagateBatchResult PropagateDeviceBatch::run_validated(std::span<const Seeds> seeds,
                                                         const PropagateParams& p,
                                                         DeviceTiming* timing,
                                                         std::chrono::steady_clock::time_point t0) {
  State& st = *state_;
  const DeviceGraphs& b = st.graphs;
  const std::size_t G = graphs();
  const PackedSeeds s = pack_seeds(b.node_offset, seeds);
  DeviceTiming tm;
  tm.prepare_ms = ms_since(t0);
  auto& ctx = st.device->context();
  auto& q = st.device->queue();
  const auto n = static_cast<std::size_t>(b.n);
  std::vector<PropagateMetrics> m(G);
  for (std::size_t gi = 0; gi < G; ++gi) m[gi].max_delta_local = s.max_c0[gi];
  std::vector<std::int64_t> frontier = s.frontier0;

  try {
    const auto tu = std::chrono::steady_clock::now();
    std::vector<float> acc_host(n);  // before the drain: a read may still target it
    // Scratch from the pool, back to it once the last read has finished.
    Lease lease;
    // Leaving by an exception: let pending commands finish before the host memory they
    // use (the seeds, acc_host) goes away.
    struct Drain {
      bc::command_queue& q;
      ~Drain() {
        if (std::uncaught_exceptions() > 0) clFinish(q.get());
      }
    } drain{q};
    bc::buffer front0 = lease.take(ctx, n, Memory::device);
    bc::buffer c[2] = {lease.take(ctx, n * sizeof(float), Memory::device),
                       lease.take(ctx, n * sizeof(float), Memory::device)};
    bc::buffer acc = lease.take(ctx, n * sizeof(float), Memory::device);
    bc::buffer expanding[2] = {lease.take(ctx, n, Memory::device),
                               lease.take(ctx, n, Memory::device)};
    bc::buffer touched[2] = {lease.take(ctx, n, Memory::device),
                             lease.take(ctx, n, Memory::device)};
    // Per launch: kCounters per graph, then the batch-wide X_EDGES and X_DENSE.
    const std::size_t extra = G * kCounters;
    const std::size_t slot = extra + 2;  // counters per launch
    bc::buffer counters =
        lease.take(ctx, (1 + kLayersPerRound) * slot * sizeof(std::int32_t), Memory::device);
    const std::int32_t zero32 = 0;
    constexpr std::size_t kPerGroup = kWorkGroup * kChunk;
    const std::size_t global = (n + kPerGroup - 1) / kPerGroup * kWorkGroup;
    if (n > 0) {
      bc::kernel init(st.program, "prop_init");
      init.set_arg(0, b.n);
      init.set_arg(1, acc);
      init.set_arg(2, front0);
      init.set_arg(3, touched[0]);
      init.set_arg(4, touched[1]);
      q.enqueue_1d_range_kernel(init, 0, global, kWorkGroup);
    }
    if (!s.nodes.empty()) {
      const auto k = static_cast<std::int32_t>(s.nodes.size());
      bc::buffer nodes = upload(lease, ctx, q, s.nodes);
      bc::buffer c0 = upload(lease, ctx, q, s.c0);
      bc::kernel seed(st.program, "prop_seed");
      seed.set_arg(0, k);
      seed.set_arg(1, nodes);
      seed.set_arg(2, c0);
      seed.set_arg(3, c[0]);
      seed.set_arg(4, acc);
      seed.set_arg(5, front0);
      q.enqueue_1d_range_kernel(seed, 0, static_cast<std::size_t>(k), 0);
    }
    tm.upload_ms = ms_since(tu);

    // Contributions at depth `depth` are allowed unless a cap bites.
    auto capped = [&](std::int64_t depth) {
      return depth > p.radius_cap || depth > p.iter_cap_layers;
    };
    // Layers are launched in rounds of up to kLayersPerRound pulls, each writing its own
    // counter slot, and the host reads a round's counters once: one wait per round, not
    // per layer (a wait costs a wake-up of the device's threads, milliseconds on a busy
    // machine). A pull after the frontier emptied finds nothing touched and counts zeros;
    // the host stops reading at the first empty frontier, so the result is the same.
    const std::int64_t limit = contribution_depth_limit(p);  // pulls d < limit can run
    // A pull leaves the marks out when the frontier it starts from expanded at least
    // this many out-edges (kernels_cl/propagate.cl, "Dense layers").
    const std::int64_t dense_edges = dense_threshold(b.e);
    std::vector<std::int32_t> k((1 + kLayersPerRound) * slot);
    std::vector<std::int32_t> pending_hits(G), pending_edges(G);  // of the frontier to expand
    std::vector<bc::event> events;
    // The counter block's offset: argument 11 of prop_expand, 19 of prop_pull.
    auto launch = [&](bc::kernel& kernel, std::size_t base_arg, std::size_t at) {
      kernel.set_arg(base_arg, static_cast<std::int32_t>(at * slot));
      events.push_back(q.enqueue_1d_range_kernel(kernel, 0, global, kWorkGroup));
      ++tm.launches;
    };
    auto read_counters = [&](std::size_t slots) {
      q.enqueue_read_buffer(counters, 0, slots * slot * sizeof(std::int32_t), k.data());
    };
    auto take_pending = [&](std::size_t at) {
      for (std::size_t gi = 0; gi < G; ++gi) {
        pending_hits[gi] = k[at * slot + gi * kCounters + budget_hits];
        pending_edges[gi] = k[at * slot + gi * kCounters + expanded_edges];
      }
    };

    // F_0: budget checks and marks for layer 1.
    bc::kernel expand(st.program, "prop_expand");
    expand.set_arg(0, b.n);
    expand.set_arg(1, b.graph_of);
    expand.set_arg(2, front0);
    expand.set_arg(3, acc);
    expand.set_arg(4, b.o_ptr);
    expand.set_arg(5, b.o_dst);
    expand.set_arg(6, expanding[0]);
    expand.set_arg(7, touched[0]);
    expand.set_arg(8, p.node_budget);
    expand.set_arg(9, static_cast<std::int32_t>(capped(1) ? 0 : 1));
    expand.set_arg(10, counters);
    expand.set_arg(12, static_cast<std::int32_t>(extra));

    bc::kernel pull(st.program, "prop_pull");
    pull.set_arg(0, b.n);
    pull.set_arg(1, b.graph_of);
    pull.set_arg(2, b.t_ptr);
    pull.set_arg(3, b.t_src);
    pull.set_arg(4, b.t_wr);
    pull.set_arg(9, acc);
    pull.set_arg(11, p.eps);
    pull.set_arg(12, p.node_budget);
    pull.set_arg(14, b.o_ptr);
    pull.set_arg(15, b.o_dst);
    pull.set_arg(18, counters);
    pull.set_arg(20, static_cast<std::int32_t>(extra));
    pull.set_arg(24, static_cast<std::int32_t>(std::min<std::int64_t>(
                         dense_edges, std::numeric_limits<std::int32_t>::max())));
    // Pulls d0 .. d0+count-1 into slots 1 .. count (slot 0: the expand of F_0).
    std::int64_t launched = 0;  // pulls launched so far
    bool acc_read = false;      // acc_host already holds the final acc
    std::int64_t round_start = 0;
    std::size_t last_used = 0;  // slots the previous round used (k holds them)
    auto launch_round = [&](bool with_expand) {
      round_start = launched;
      const std::int64_t count = std::min<std::int64_t>(kLayersPerRound, limit - launched);
      const std::size_t used = 1 + static_cast<std::size_t>(count);
      // The first pull of a round without the expand reads F_d's figures from the
      // host's copy of the previous round's last launch; later ones from the device.
      std::int32_t host_edges = 0, host_dense = 0;
      if (!with_expand && last_used > 0) {
        host_edges = k[(last_used - 1) * slot + extra + 0];
        host_dense = k[(last_used - 1) * slot + extra + 1];
      }
      q.enqueue_fill_buffer(counters, &zero32, sizeof zero32, 0,
                            used * slot * sizeof(std::int32_t));
      if (with_expand) launch(expand, 11, 0);
      for (std::int64_t i = 0; i < count; ++i, ++launched) {
        const std::int64_t d = launched;
        const int cur = static_cast<int>(d % 2);
        pull.set_arg(5, expanding[cur]);
        pull.set_arg(6, c[cur]);
        pull.set_arg(7, touched[cur]);
        pull.set_arg(8, c[1 - cur]);
        pull.set_arg(10, decay_value(p, d + 1));
        pull.set_arg(13, static_cast<std::int32_t>(capped(d + 2) ? 0 : 1));
        pull.set_arg(16, expanding[1 - cur]);
        pull.set_arg(17, touched[1 - cur]);
        const bool prev_on_device = i > 0 || with_expand;
        pull.set_arg(21, static_cast<std::int32_t>(prev_on_device ? slot : 0));
        pull.set_arg(22, host_edges);
        pull.set_arg(23, host_dense);
        launch(pull, 19, static_cast<std::size_t>(1 + i));
      }
      // When no pull can follow this round (the caps allow none), acc is final once it
      // has run: read it in the same wait.
      if (launched == limit && n > 0) {
        q.enqueue_read_buffer_async(acc, 0, n * sizeof(float), acc_host.data());
        acc_read = true;
      }
      read_counters(used);
      last_used = used;
    };
    const bool any = std::any_of(frontier.begin(), frontier.end(), [](auto f) { return f > 0; });
    if (any) {
      launch_round(true);
      take_pending(0);
    }
    for (std::int64_t d = 0;
         std::any_of(frontier.begin(), frontier.end(), [](auto f) { return f > 0; }); ++d) {
      const bool stop = capped(d + 1);
      for (std::size_t gi = 0; gi < G; ++gi) {
        if (frontier[gi] == 0) continue;
        m[gi].pops += frontier[gi];
        m[gi].iters = d;
        m[gi].node_budget_hits += pending_hits[gi];
        if (stop) {
          (d + 1 > p.radius_cap ? m[gi].radius_cap_hits : m[gi].layer_cap_hits) +=
              pending_edges[gi];
        }
      }
      ++tm.layers;
      if (stop) break;
      if (d >= launched) launch_round(false);
      const std::size_t at = static_cast<std::size_t>(1 + d - round_start);
      take_pending(at);
      for (std::size_t gi = 0; gi < G; ++gi) {
        const std::int32_t* kg = &k[at * slot + gi * kCounters];
        m[gi].propagations += kg[propagations];
        m[gi].max_delta_local = std::max(m[gi].max_delta_local, std::bit_cast<float>(kg[max_bits]));
        frontier[gi] = kg[next_frontier];
      }
    }
    if (n > 0 && !acc_read) q.enqueue_read_buffer(acc, 0, n * sizeof(float), acc_host.data());
    for (const auto& ev : events) tm.kernel_ms += event_ms(ev);
    lease.give_back();  // the read was blocking and the queue is in order: all done

    PropagateBatchResult out;
    for (std::size_t gi = 0; gi < G; ++gi) {
      const auto from = static_cast<std::size_t>(b.node_offset[gi]);
      const auto to = static_cast<std::size_t>(b.node_offset[gi + 1]);
      out.results.push_back(
          collect_output(std::span<const float>(acc_host).subspan(from, to - from), p.eps, m[gi]));
    }
    out.totals = batch_totals(out.results);
    tm.total_ms = ms_since(t0);
    if (timing) *timing = tm;
    return out;
  } catch (const bc::opencl_error& e) {
    throw Error(ReasonCode::launch_failed, std::string("propagate: OpenCL error ") +
                                               e.error_string() + " (" +
                                               std::to_string(e.error_code()) + ")");
  }
}

PropagateBatchResult propagate_batch_device(Device& device, const ProgramCache& cache,
                                            std::span<const Graph> graphs,
                                            std::span<const Seeds> seeds, const PropagateParams& p,
                                            DeviceTiming* timing) {
  const auto t0 = std::chrono::steady_clock::now();
  // All input is checked, once, before any device work starts: the params and the seed
  // count here, each graph and seed set in the batch's packing pass.
  validate_call(graphs.size(), seeds.size(), p);
  const double validate_ms = ms_since(t0);
  // The graphs outlive this call's batch: the device may read them in place.
  PropagateDeviceBatch batch(device, cache, graphs, PropagateDeviceBatch::Use::one_shot, seeds);
  auto out = batch.run_validated(seeds, p, timing, std::chrono::steady_clock::now());
  // The call's device work is over (run_validated ends with a blocking read).
  batch.state_->graphs.lease->give_back();
  if (timing) {
    const DeviceGraphs& g = batch.state_->graphs;
    timing->prepare_ms += validate_ms + g.prepare_ms;
    timing->upload_ms += g.upload_ms;
    timing->csr_ms = csr_span_ms(g);
    timing->build_ms = batch.state_->build_ms;
    timing->total_ms = ms_since(t0);
  }
  return out;
}

PropagateResult propagate_device(Device& device, const ProgramCache& cache, const Graph& g,
                                 const Seeds& s, const PropagateParams& p) {
  auto batch = propagate_batch_device(device, cache, std::span<const Graph>(&g, 1),
                                      std::span<const Seeds>(&s, 1), p);
  return std::move(batch.results.front());
}

}  // namespace clgauge
