// The OpenCL path: a batch of graphs concatenated into one node and edge range, one
// launch per layer for the whole batch (plus one for the seeds' frontier step;
// kernels_cl/propagate.cl says what each work-item computes). The device builds the
// in-CSR in canonical (key_rank, u, e) order (device_csr.cpp).

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <memory>

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
constexpr int kChunk = 8;     // nodes per work-item
constexpr int kCounters = 5;  // slots per graph, see propagate.cl
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

// Throws Error(bad_input) naming the graph (in a batch of more than one).
void validate_seeds(std::span<const std::int32_t> node_offset, std::span<const Seeds> seeds,
                    const PropagateParams& p) {
  const std::size_t graphs = node_offset.size() - 1;
  if (seeds.size() != graphs) {
    throw Error(ReasonCode::bad_input, "seeds: " + std::to_string(seeds.size()) +
                                           " seed sets for " + std::to_string(graphs) + " graphs");
  }
  p.validate();
  for (std::size_t i = 0; i < graphs; ++i) {
    try {
      seeds[i].validate(node_offset[i + 1] - node_offset[i]);
    } catch (const Error& e) {
      if (graphs == 1) throw;
      throw Error(e.code(), "graph " + std::to_string(i) + ": " + e.what());
    }
  }
}

}  // namespace

namespace propagate_detail {

void validate_batch(std::span<const Graph> graphs, std::span<const Seeds> seeds,
                    const PropagateParams& p) {
  if (graphs.size() != seeds.size()) {
    throw Error(ReasonCode::bad_input, "seeds: " + std::to_string(seeds.size()) +
                                           " seed sets for " + std::to_string(graphs.size()) +
                                           " graphs");
  }
  p.validate();
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    try {
      graphs[i].validate();
      seeds[i].validate(graphs[i].nodes());
    } catch (const Error& e) {
      if (graphs.size() == 1) throw;
      throw Error(e.code(), "graph " + std::to_string(i) + ": " + e.what());
    }
  }
}

BuiltProgram build_propagate_program(Device& device, const ProgramCache& cache) {
  return build_program(
      device, cache, "propagate", kernel_source("propagate"),
      "-DPROP_WG=" + std::to_string(kWorkGroup) + " -DPROP_CHUNK=" + std::to_string(kChunk));
}

PackedSeeds pack_seeds(std::span<const std::int32_t> node_offset, std::span<const Seeds> seeds) {
  PackedSeeds s;
  const auto n = static_cast<std::size_t>(node_offset.back());
  s.front0.assign(n, 0);
  s.c0.assign(n, 0.0f);
  s.frontier0.resize(seeds.size());
  s.max_c0.resize(seeds.size(), 0.0f);
  std::vector<float> c0;
  for (std::size_t gi = 0; gi < seeds.size(); ++gi) {
    const auto no = static_cast<std::size_t>(node_offset[gi]);
    const auto distinct = seed_layer(seeds[gi], node_offset[gi + 1] - node_offset[gi], c0);
    s.frontier0[gi] = static_cast<std::int64_t>(distinct.size());
    for (const auto v : distinct) {
      const auto vv = static_cast<std::size_t>(v);
      s.front0[no + vv] = 1;
      s.c0[no + vv] = c0[vv];
      s.max_c0[gi] = std::max(s.max_c0[gi], std::fabs(c0[vv]));
    }
  }
  return s;
}

}  // namespace propagate_detail

namespace {

template <class T>
bc::buffer upload(bc::context& ctx, bc::command_queue& q, const std::vector<T>& v) {
  // OpenCL has no empty buffers; a one-element buffer stands in for an empty array.
  bc::buffer buf(ctx, std::max<std::size_t>(v.size(), 1) * sizeof(T), bc::buffer::read_write);
  if (!v.empty()) q.enqueue_write_buffer(buf, 0, v.size() * sizeof(T), v.data());
  return buf;
}

bc::buffer scratch(bc::context& ctx, std::size_t bytes) {
  return bc::buffer(ctx, std::max<std::size_t>(bytes, 1), bc::buffer::read_write);
}

}  // namespace

struct PropagateDeviceBatch::State {
  Device* device;
  boost::compute::program program;
  double build_ms = 0;
  DeviceGraphs graphs;
};

PropagateDeviceBatch::PropagateDeviceBatch(Device& device, const ProgramCache& cache,
                                           std::span<const Graph> graphs, Use use) {
  if (use == Use::persistent) {
    for (std::size_t i = 0; i < graphs.size(); ++i) {
      try {
        graphs[i].validate();
      } catch (const Error& e) {
        if (graphs.size() == 1) throw;
        throw Error(e.code(), "graph " + std::to_string(i) + ": " + e.what());
      }
    }
  }
  auto st = std::make_shared<State>();
  st->device = &device;
  const BuiltProgram built = build_propagate_program(device, cache);
  st->program = built.program;
  st->build_ms = built.build_ms;
  st->graphs = build_device_graphs(device, st->program, graphs, use == Use::one_shot);
  state_ = std::move(st);
}

PropagateDeviceBatch::PropagateDeviceBatch(Device& device, const ProgramCache& cache,
                                           std::span<const Graph> graphs)
    : PropagateDeviceBatch(device, cache, graphs, Use::persistent) {}

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
    bc::buffer front0 = upload(ctx, q, s.front0);
    bc::buffer c[2] = {upload(ctx, q, s.c0), scratch(ctx, n * sizeof(float))};
    bc::buffer acc = upload(ctx, q, s.c0);
    bc::buffer expanding[2] = {scratch(ctx, n), scratch(ctx, n)};
    bc::buffer touched[2] = {scratch(ctx, n), scratch(ctx, n)};
    bc::buffer counters = scratch(ctx, G * kCounters * sizeof(std::int32_t));
    const std::uint8_t zero8 = 0;
    const std::int32_t zero32 = 0;
    if (n > 0) {
      q.enqueue_fill_buffer(touched[0], &zero8, 1, 0, n);
      q.enqueue_fill_buffer(touched[1], &zero8, 1, 0, n);
    }
    tm.upload_ms = ms_since(tu);

    // Contributions at depth `depth` are allowed unless a cap bites.
    auto capped = [&](std::int64_t depth) {
      return depth > p.radius_cap || depth > p.iter_cap_layers;
    };
    constexpr std::size_t kPerGroup = kWorkGroup * kChunk;
    const std::size_t global = (n + kPerGroup - 1) / kPerGroup * kWorkGroup;
    std::vector<std::int32_t> k(G * kCounters);
    std::vector<std::int32_t> pending_hits(G), pending_edges(G);  // of the frontier to expand
    std::vector<bc::event> events;
    auto launch = [&](bc::kernel& kernel) {
      q.enqueue_fill_buffer(counters, &zero32, sizeof zero32, 0, k.size() * sizeof(std::int32_t));
      events.push_back(q.enqueue_1d_range_kernel(kernel, 0, global, kWorkGroup));
      ++tm.launches;
      q.enqueue_read_buffer(counters, 0, k.size() * sizeof(std::int32_t), k.data());
      for (std::size_t gi = 0; gi < G; ++gi) {
        pending_hits[gi] = k[gi * kCounters + budget_hits];
        pending_edges[gi] = k[gi * kCounters + expanded_edges];
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
    if (std::any_of(frontier.begin(), frontier.end(), [](auto f) { return f > 0; })) launch(expand);

    bc::kernel pull(st.program, "prop_pull");
    pull.set_arg(0, b.n);
    pull.set_arg(1, b.graph_of);
    pull.set_arg(2, b.t_ptr);
    pull.set_arg(3, b.t_src);
    pull.set_arg(4, b.t_w);
    pull.set_arg(5, b.t_rm);
    pull.set_arg(10, acc);
    pull.set_arg(12, p.eps);
    pull.set_arg(13, p.node_budget);
    pull.set_arg(15, b.o_ptr);
    pull.set_arg(16, b.o_dst);
    pull.set_arg(19, counters);
    int cur = 0;
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
      pull.set_arg(6, expanding[cur]);
      pull.set_arg(7, c[cur]);
      pull.set_arg(8, touched[cur]);
      pull.set_arg(9, c[1 - cur]);
      pull.set_arg(11, decay_value(p, d + 1));
      pull.set_arg(14, static_cast<std::int32_t>(capped(d + 2) ? 0 : 1));
      pull.set_arg(17, expanding[1 - cur]);
      pull.set_arg(18, touched[1 - cur]);
      launch(pull);
      for (std::size_t gi = 0; gi < G; ++gi) {
        const std::int32_t* kg = &k[gi * kCounters];
        m[gi].propagations += kg[propagations];
        m[gi].max_delta_local = std::max(m[gi].max_delta_local, std::bit_cast<float>(kg[max_bits]));
        frontier[gi] = kg[next_frontier];
      }
      cur = 1 - cur;
    }
    std::vector<float> acc_host(n);
    if (n > 0) q.enqueue_read_buffer(acc, 0, n * sizeof(float), acc_host.data());
    for (const auto& ev : events) tm.kernel_ms += event_ms(ev);

    PropagateBatchResult out;
    for (std::size_t gi = 0; gi < G; ++gi) {
      std::vector<float> part(acc_host.begin() + b.node_offset[gi],
                              acc_host.begin() + b.node_offset[gi + 1]);
      out.results.push_back(collect_output(part, p.eps, m[gi]));
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
  // All input is checked, once, before any device work starts.
  propagate_detail::validate_batch(graphs, seeds, p);
  const double validate_ms = ms_since(t0);
  // The graphs outlive this call's batch: the device may read them in place.
  PropagateDeviceBatch batch(device, cache, graphs, PropagateDeviceBatch::Use::one_shot);
  auto out = batch.run_validated(seeds, p, timing, std::chrono::steady_clock::now());
  if (timing) {
    const DeviceGraphs& g = batch.state_->graphs;
    timing->prepare_ms += validate_ms + g.prepare_ms;
    timing->upload_ms += g.upload_ms;
    timing->csr_ms = g.csr_ms;
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
