// The OpenCL path: a batch of graphs concatenated into one node and edge range, one
// launch per layer for the whole batch (plus one for the seeds' frontier step;
// kernels_cl/propagate.cl says what each work-item computes). The host builds the
// in-CSR in canonical (key_rank, u, e) order.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
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

namespace propagate_detail {
namespace {

constexpr int kWorkGroup = 128;
constexpr int kChunk = 8;                         // nodes per work-item
constexpr std::int32_t kRadixMinEdges = 1 << 18;  // see in_edges_by_radix
constexpr int kCounters = 5;                      // slots per graph, see propagate.cl
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

// Nodes of one graph in ascending (key_rank, node). Small graphs sort packed 64-bit
// keys; large ones use a stable LSD radix sort on the key_rank bits (sign flipped), so
// equal ranks keep ascending node order.
std::vector<std::int32_t> key_rank_order(const std::vector<std::int32_t>& key_rank) {
  const std::size_t n = key_rank.size();
  auto key = [&](std::size_t u) { return static_cast<std::uint32_t>(key_rank[u]) ^ 0x80000000u; };
  std::vector<std::int32_t> order(n);
  if (n < (1u << 16)) {
    std::vector<std::uint64_t> packed(n);
    for (std::size_t u = 0; u < n; ++u) packed[u] = (std::uint64_t{key(u)} << 32) | u;
    std::sort(packed.begin(), packed.end());
    for (std::size_t i = 0; i < n; ++i)
      order[i] = static_cast<std::int32_t>(packed[i] & 0xffffffffu);
    return order;
  }
  std::vector<std::int32_t> tmp(n);
  std::iota(order.begin(), order.end(), 0);
  std::uint32_t lo = std::numeric_limits<std::uint32_t>::max(), hi = 0;
  for (std::size_t u = 0; u < n; ++u) {
    lo = std::min(lo, key(u));
    hi = std::max(hi, key(u));
  }
  std::vector<std::size_t> count(2049);
  for (int shift = 0; shift < 32; shift += 11) {
    // Keys between lo and hi share every bit where lo and hi agree: no digit left to sort.
    if (((lo ^ hi) >> shift) == 0) break;
    std::fill(count.begin(), count.end(), 0);
    for (const auto u : order) ++count[((key(static_cast<std::size_t>(u)) >> shift) & 2047u) + 1];
    for (std::size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
    for (const auto u : order)
      tmp[count[(key(static_cast<std::size_t>(u)) >> shift) & 2047u]++] = u;
    order.swap(tmp);
  }
  return order;
}

}  // namespace

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

// Large graphs: a random scatter into E-sized arrays misses the cache on every edge.
// Instead, list the edges in canonical source order, then sort them by target with a
// stable LSD radix sort (digits of at most 11 bits, so each pass writes to at most 2048
// sequential streams). The in-edges of graph g occupy [eo, eo + E) of the batch's in-CSR.
static void in_edges_by_radix(const Graph& g, std::int32_t go, std::size_t eo, PackedGraphs& b) {
  struct InEdge {
    std::int32_t v, src;
    float w, rm;
  };
  const auto e = static_cast<std::size_t>(g.edges());
  // Default-initialised (not zeroed): every slot is written before it is read.
  std::unique_ptr<InEdge[]> a(new InEdge[e]), tmp(new InEdge[e]);
  std::size_t k = 0;
  for (const auto u : key_rank_order(g.key_rank)) {
    const auto uu = static_cast<std::size_t>(u);
    for (auto j = static_cast<std::size_t>(g.indptr[uu]);
         j < static_cast<std::size_t>(g.indptr[uu + 1]); ++j) {
      a[k++] = {g.indices[j], u, flush(g.weights[j]), flush(g.rel_mult[j])};
    }
  }
  // As few passes as 11-bit digits need, with the bits spread evenly over them (fewer
  // buckets per pass, fewer pages written at once).
  const int bits = std::bit_width(static_cast<std::uint32_t>(std::max(g.nodes() - 1, 0)));
  const int passes = (bits + 10) / 11;
  const int digit = passes > 0 ? (bits + passes - 1) / passes : 0;
  const std::uint32_t mask = (1u << digit) - 1;
  std::vector<std::size_t> count((std::size_t{1} << digit) + 1);
  for (int pass = 0; pass < passes; ++pass) {
    const int shift = pass * digit;
    std::fill(count.begin(), count.end(), 0);
    for (std::size_t i = 0; i < e; ++i)
      ++count[((static_cast<std::uint32_t>(a[i].v) >> shift) & mask) + 1];
    for (std::size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
    for (std::size_t i = 0; i < e; ++i)
      tmp[count[(static_cast<std::uint32_t>(a[i].v) >> shift) & mask]++] = a[i];
    a.swap(tmp);
  }
  for (std::size_t i = 0; i < e; ++i) {
    b.t_src[eo + i] = go + a[i].src;
    b.t_w[eo + i] = a[i].w;
    b.t_rm[eo + i] = a[i].rm;
  }
}

// Packs graph gi into its node range [no, no + n) and edge range [eo, eo + E) of the
// batch arrays. Every in-list comes out in ascending (key_rank[u], u, e): sources are
// visited in (key_rank, u) order and their edges in CSR order, then placed by target
// stably.
static void pack_one(const Graph& g, std::int32_t gi, std::int32_t no, std::int32_t eo,
                     PackedGraphs& b) {
  const auto gn = static_cast<std::size_t>(g.nodes());
  const auto nn = static_cast<std::size_t>(no), ee = static_cast<std::size_t>(eo);
  for (std::size_t u = 0; u < gn; ++u) {
    b.graph_of[nn + u] = gi;
    b.o_ptr[nn + u] = g.indptr[u] + eo;
  }
  for (std::size_t j = 0; j < g.indices.size(); ++j) b.o_dst[ee + j] = g.indices[j] + no;
  // In-degree prefix sums, local to the graph: t_ptr[no + v] = eo + in-edges before v.
  std::vector<std::int32_t> cursor(gn + 1, 0);
  for (const auto v : g.indices) ++cursor[static_cast<std::size_t>(v) + 1];
  for (std::size_t v = 0; v < gn; ++v) cursor[v + 1] += cursor[v];
  for (std::size_t v = 0; v < gn; ++v) b.t_ptr[nn + v] = eo + cursor[v];
  if (g.edges() >= kRadixMinEdges) {
    in_edges_by_radix(g, no, ee, b);
    return;
  }
  // Small graphs: a direct scatter stays in cache.
  for (const auto u : key_rank_order(g.key_rank)) {
    const auto uu = static_cast<std::size_t>(u);
    for (auto j = static_cast<std::size_t>(g.indptr[uu]);
         j < static_cast<std::size_t>(g.indptr[uu + 1]); ++j) {
      const auto pos =
          ee + static_cast<std::size_t>(cursor[static_cast<std::size_t>(g.indices[j])]++);
      b.t_src[pos] = no + u;
      b.t_w[pos] = flush(g.weights[j]);
      b.t_rm[pos] = flush(g.rel_mult[j]);
    }
  }
}

PackedGraphs pack_graphs(std::span<const Graph> graphs) {
  std::int64_t total_n = 0, total_e = 0;
  for (const auto& g : graphs) {
    total_n += g.nodes();
    total_e += g.edges();
  }
  if (total_n + 1 > std::numeric_limits<std::int32_t>::max() ||
      total_e > std::numeric_limits<std::int32_t>::max()) {
    throw Error(ReasonCode::invalid_config,
                "batch too large for the device path: " + std::to_string(total_n) + " nodes, " +
                    std::to_string(total_e) + " edges (int32 indices)");
  }
  PackedGraphs b;
  b.n = static_cast<std::int32_t>(total_n);
  b.e = static_cast<std::int32_t>(total_e);
  const auto n = static_cast<std::size_t>(total_n);
  const auto e = static_cast<std::size_t>(total_e);
  b.graph_of.resize(n);
  b.o_ptr.resize(n + 1);
  b.o_dst.resize(e);
  b.t_ptr.resize(n + 1);
  b.t_src.resize(e);
  b.t_w.resize(e);
  b.t_rm.resize(e);
  b.node_offset.resize(graphs.size() + 1, 0);
  std::vector<std::int32_t> edge_offset(graphs.size() + 1, 0);
  for (std::size_t gi = 0; gi < graphs.size(); ++gi) {
    b.node_offset[gi + 1] = b.node_offset[gi] + graphs[gi].nodes();
    edge_offset[gi + 1] = edge_offset[gi] + graphs[gi].edges();
  }
  b.o_ptr[n] = b.e;
  b.t_ptr[n] = b.e;

  // Graphs occupy disjoint node and edge ranges, so they pack independently: split the
  // batch into contiguous runs of about equal edge counts, one host thread each.
  const std::size_t threads =
      total_e < (1 << 16) ? 1 : std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<std::size_t> cut{0};
  for (std::size_t t = 1; t < threads; ++t) {
    const auto want = static_cast<std::int64_t>(total_e) * static_cast<std::int64_t>(t) /
                      static_cast<std::int64_t>(threads);
    const auto it = std::lower_bound(edge_offset.begin(), edge_offset.end() - 1, want);
    cut.push_back(std::max(cut.back(), static_cast<std::size_t>(it - edge_offset.begin())));
  }
  cut.push_back(graphs.size());
  auto pack_range = [&](std::size_t first, std::size_t last) {
    for (std::size_t gi = first; gi < last; ++gi) {
      pack_one(graphs[gi], static_cast<std::int32_t>(gi), b.node_offset[gi], edge_offset[gi], b);
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t + 1 < cut.size(); ++t)
    pool.emplace_back(pack_range, cut[t], cut[t + 1]);
  pack_range(cut[0], cut[1]);
  for (auto& th : pool) th.join();
  return b;
}

PackedSeeds pack_seeds(const PackedGraphs& b, std::span<const Seeds> seeds) {
  PackedSeeds s;
  const auto n = static_cast<std::size_t>(b.n);
  s.front0.assign(n, 0);
  s.c0.assign(n, 0.0f);
  s.frontier0.resize(seeds.size());
  s.max_c0.resize(seeds.size(), 0.0f);
  std::vector<float> c0;
  for (std::size_t gi = 0; gi < seeds.size(); ++gi) {
    const auto no = static_cast<std::size_t>(b.node_offset[gi]);
    const auto distinct = seed_layer(seeds[gi], b.node_offset[gi + 1] - b.node_offset[gi], c0);
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
  PackedGraphs packed;  // topology only; kept for node offsets and counts
  bc::buffer graph_of, o_ptr, o_dst, t_ptr, t_src, t_w, t_rm;
  double prepare_ms = 0, upload_ms = 0;
};

PropagateDeviceBatch::PropagateDeviceBatch(Device& device, const ProgramCache& cache,
                                           std::span<const Graph> graphs, bool validated) {
  if (!validated) {
    for (std::size_t i = 0; i < graphs.size(); ++i) {
      try {
        graphs[i].validate();
      } catch (const Error& e) {
        if (graphs.size() == 1) throw;
        throw Error(e.code(), "graph " + std::to_string(i) + ": " + e.what());
      }
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto st = std::make_shared<State>();
  st->device = &device;
  st->packed = pack_graphs(graphs);
  st->prepare_ms = ms_since(t0);
  const BuiltProgram built = build_program(
      device, cache, "propagate", kernel_source("propagate"),
      "-DPROP_WG=" + std::to_string(kWorkGroup) + " -DPROP_CHUNK=" + std::to_string(kChunk));
  st->program = built.program;
  st->build_ms = built.build_ms;
  const auto tu = std::chrono::steady_clock::now();
  try {
    auto& ctx = device.context();
    auto& q = device.queue();
    auto& b = st->packed;
    st->graph_of = upload(ctx, q, b.graph_of);
    st->o_ptr = upload(ctx, q, b.o_ptr);
    st->o_dst = upload(ctx, q, b.o_dst);
    st->t_ptr = upload(ctx, q, b.t_ptr);
    st->t_src = upload(ctx, q, b.t_src);
    st->t_w = upload(ctx, q, b.t_w);
    st->t_rm = upload(ctx, q, b.t_rm);
    q.finish();
    // Only offsets are needed from here on: give the edge arrays back.
    b.o_ptr = {};
    b.o_dst = {};
    b.t_ptr = {};
    b.t_src = {};
    b.t_w = {};
    b.t_rm = {};
    b.graph_of = {};
  } catch (const bc::opencl_error& e) {
    throw Error(ReasonCode::launch_failed,
                std::string("propagate: OpenCL error while uploading: ") + e.error_string());
  }
  st->upload_ms = ms_since(tu);
  state_ = std::move(st);
}

PropagateDeviceBatch::PropagateDeviceBatch(Device& device, const ProgramCache& cache,
                                           std::span<const Graph> graphs)
    : PropagateDeviceBatch(device, cache, graphs, false) {}

std::size_t PropagateDeviceBatch::graphs() const {
  return state_->packed.node_offset.size() - 1;
}

PropagateBatchResult PropagateDeviceBatch::run(std::span<const Seeds> seeds,
                                               const PropagateParams& p, DeviceTiming* timing) {
  const auto t0 = std::chrono::steady_clock::now();
  State& st = *state_;
  const PackedGraphs& b = st.packed;
  const std::size_t G = graphs();
  if (seeds.size() != G) {
    throw Error(ReasonCode::bad_input, "seeds: " + std::to_string(seeds.size()) +
                                           " seed sets for " + std::to_string(G) + " graphs");
  }
  p.validate();
  for (std::size_t i = 0; i < G; ++i) {
    try {
      seeds[i].validate(b.node_offset[i + 1] - b.node_offset[i]);
    } catch (const Error& e) {
      if (G == 1) throw;
      throw Error(e.code(), "graph " + std::to_string(i) + ": " + e.what());
    }
  }
  const PackedSeeds s = pack_seeds(b, seeds);
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
    q.finish();
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
    expand.set_arg(1, st.graph_of);
    expand.set_arg(2, front0);
    expand.set_arg(3, acc);
    expand.set_arg(4, st.o_ptr);
    expand.set_arg(5, st.o_dst);
    expand.set_arg(6, expanding[0]);
    expand.set_arg(7, touched[0]);
    expand.set_arg(8, p.node_budget);
    expand.set_arg(9, static_cast<std::int32_t>(capped(1) ? 0 : 1));
    expand.set_arg(10, counters);
    if (std::any_of(frontier.begin(), frontier.end(), [](auto f) { return f > 0; })) launch(expand);

    bc::kernel pull(st.program, "prop_pull");
    pull.set_arg(0, b.n);
    pull.set_arg(1, st.graph_of);
    pull.set_arg(2, st.t_ptr);
    pull.set_arg(3, st.t_src);
    pull.set_arg(4, st.t_w);
    pull.set_arg(5, st.t_rm);
    pull.set_arg(10, acc);
    pull.set_arg(12, p.eps);
    pull.set_arg(13, p.node_budget);
    pull.set_arg(15, st.o_ptr);
    pull.set_arg(16, st.o_dst);
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
  // All input is checked before any device work starts.
  propagate_detail::validate_batch(graphs, seeds, p);
  PropagateDeviceBatch batch(device, cache, graphs, true);
  auto out = batch.run(seeds, p, timing);
  if (timing) {
    timing->prepare_ms += batch.state_->prepare_ms;
    timing->upload_ms += batch.state_->upload_ms;
    timing->build_ms = batch.state_->build_ms;
    timing->total_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
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
