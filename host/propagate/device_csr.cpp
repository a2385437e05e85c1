// A batch's graphs on the device: the upload (no staging copy where the device shares
// host memory) and the canonical in-CSR, built by the device (kernels_cl/propagate.cl,
// "Building the in-CSR on the device"). host_in_csr is the definition it is held to.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>

#include <sys/mman.h>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <boost/compute/exception/opencl_error.hpp>
#include <boost/compute/kernel.hpp>

#include "clgauge/error.hpp"
#include "propagate/canonical.hpp"
#include "propagate/device_batch.hpp"

namespace bc = boost::compute;

namespace clgauge::propagate_detail {
namespace {

// Work-group size of the one-chunk-per-item kernels (they use no local memory).
constexpr std::size_t kItemsPerGroup = 4;
// Widest radix digit of the node-order passes (a histogram column per digit value).
constexpr int kNodeDigitBits = 11;
// Bucket split of the targets: at most 2^14 buckets, at least 64 when n allows, and
// buckets of about 2^12 targets (a bucket's counting array, t_ptr, stays in cache; on
// PoCL 2^12 measured a little faster than 2^10 and 2^14 at 10^6 and 10^7 edges).
constexpr int kBucketBitsMin = 6, kBucketBitsMax = 14, kBucketTargetBits = 12;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

template <class... Args>
bc::kernel make_kernel(const bc::program& program, const char* name, const Args&... args) {
  bc::kernel k(program, name);
  std::size_t i = 0;
  (k.set_arg(i++, args), ...);
  return k;
}

// Launches `items` work-items of a one-chunk-per-item kernel (each returns when its
// id is past `items`).
void launch(bc::command_queue& q, const bc::kernel& k, std::int64_t items,
            const bc::wait_list& waits = {}) {
  const auto n = static_cast<std::size_t>(items);
  const std::size_t local = n < kItemsPerGroup ? 1 : kItemsPerGroup;
  q.enqueue_1d_range_kernel(k, 0, (n + local - 1) / local * local, local, waits);
}

bc::buffer device_buffer(const bc::context& ctx, std::size_t bytes, cl_mem_flags flags = 0) {
  return bc::buffer(ctx, std::max<std::size_t>(bytes, 4), bc::buffer::read_write | flags);
}

void BOOST_COMPUTE_CL_CALLBACK free_host_block(cl_mem, void* block) {
  std::free(block);
}

// A large array on a device that works in host memory: host memory we allocate, in
// 2 MiB pages where the OS grants them, handed over with CL_MEM_USE_HOST_PTR and freed
// when the buffer is destroyed. The in-CSR arrays are written once, right after they
// are allocated; in 4 KiB pages, faulting them in cost about as much as the writes
// (0.4 ms per MiB, measured on PoCL in a VM). Elsewhere: an ordinary buffer.
bc::buffer large_buffer(const bc::context& ctx, std::size_t bytes, bool host_memory) {
  constexpr std::size_t kPage = std::size_t{2} << 20;
  if (!host_memory || bytes < kPage) return device_buffer(ctx, bytes);
  const std::size_t rounded = (bytes + kPage - 1) / kPage * kPage;
  void* block = std::aligned_alloc(kPage, rounded);
  if (block == nullptr) return device_buffer(ctx, bytes);
#ifdef MADV_HUGEPAGE
  madvise(block, rounded, MADV_HUGEPAGE);  // advice only: 4 KiB pages still work
#endif
  cl_int err = CL_SUCCESS;
  cl_mem mem =
      clCreateBuffer(ctx.get(), CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, block, &err);
  if (err != CL_SUCCESS) {
    std::free(block);
    throw bc::opencl_error(err);
  }
  bc::buffer buf(mem, false);
  err = clSetMemObjectDestructorCallback(mem, free_host_block, block);
  if (err != CL_SUCCESS) {
    // Without the callback the block would be freed too early or never: keep it safe
    // by letting the implementation own a copy instead.
    buf = bc::buffer();
    std::free(block);
    return device_buffer(ctx, bytes);
  }
  return buf;
}

// Host memory blocks for arrays the host fills before their buffer exists: the buffer is
// then created over the block with CL_MEM_USE_HOST_PTR, so its content is the block's
// from the start (no map, no wait for the device). The block goes back to this pool
// from the buffer's destructor callback, which runs once no command uses it.
struct HostBlock {
  void* ptr = nullptr;
  std::size_t size = 0;
};
struct BlockPool {
  std::mutex mutex;
  std::vector<HostBlock> free;  // oldest first
  std::size_t bytes = 0;
};
BlockPool& block_pool() {
  static BlockPool* p = new BlockPool;  // never destroyed, like the buffer pool
  return *p;
}

HostBlock take_block(std::size_t bytes) {
  {
    BlockPool& p = block_pool();
    const std::lock_guard<std::mutex> lock(p.mutex);
    std::size_t best = p.free.size();
    for (std::size_t i = 0; i < p.free.size(); ++i) {
      const std::size_t size = p.free[i].size;
      if (size < bytes || size / 2 > bytes) continue;
      if (best == p.free.size() || size < p.free[best].size) best = i;
    }
    if (best < p.free.size()) {
      const HostBlock b = p.free[best];
      p.bytes -= b.size;
      p.free.erase(p.free.begin() + static_cast<std::ptrdiff_t>(best));
      return b;
    }
  }
  // 2 MiB-aligned (huge pages requested) when large, page-aligned otherwise: either
  // satisfies any CL_DEVICE_MEM_BASE_ADDR_ALIGN in practice (at most 128 bytes on the
  // devices we know).
  constexpr std::size_t kHuge = std::size_t{2} << 20, kSmall = 4096;
  const std::size_t align = bytes >= kHuge ? kHuge : kSmall;
  const std::size_t rounded = (bytes + align - 1) / align * align;
  HostBlock b{std::aligned_alloc(align, rounded), rounded};
  if (b.ptr == nullptr) throw bc::opencl_error(CL_OUT_OF_HOST_MEMORY);
#ifdef MADV_HUGEPAGE
  if (align == kHuge) madvise(b.ptr, rounded, MADV_HUGEPAGE);
#endif
  return b;
}

void give_block(const HostBlock& b) {
  BlockPool& p = block_pool();
  const std::lock_guard<std::mutex> lock(p.mutex);
  p.free.push_back(b);
  p.bytes += b.size;
  while (p.bytes > kPoolBytes) {
    p.bytes -= p.free.front().size;
    std::free(p.free.front().ptr);
    p.free.erase(p.free.begin());
  }
}

void BOOST_COMPUTE_CL_CALLBACK return_block(cl_mem, void* data) {
  const auto* b = static_cast<HostBlock*>(data);
  give_block(*b);
  delete b;
}

// A buffer over a block the host has filled (`bytes` of it are the array).
bc::buffer filled_buffer(const bc::context& ctx, const HostBlock& block, std::size_t bytes) {
  cl_int err = CL_SUCCESS;
  cl_mem mem = clCreateBuffer(ctx.get(), CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
                              std::max<std::size_t>(bytes, 4), block.ptr, &err);
  if (err != CL_SUCCESS) {
    give_block(block);
    throw bc::opencl_error(err);
  }
  bc::buffer buf(mem, false);
  auto* data = new HostBlock(block);
  err = clSetMemObjectDestructorCallback(mem, return_block, data);
  if (err != CL_SUCCESS) {
    // No callback: let the implementation own a copy, and keep the block.
    delete data;
    bc::buffer copy(ctx, std::max<std::size_t>(bytes, 4),
                    bc::buffer::read_write | CL_MEM_COPY_HOST_PTR, block.ptr);
    buf = bc::buffer();
    give_block(block);
    return copy;
  }
  return buf;
}

struct PoolEntry {
  Memory kind;
  cl_context context;  // the buffer keeps it alive, so the handle is never reused meanwhile
  bc::buffer buffer;
};
struct Pool {
  std::mutex mutex;
  std::vector<PoolEntry> free;  // oldest first
  std::size_t bytes = 0;
};
Pool& pool() {
  // Never destroyed: releasing OpenCL objects after the runtime has shut down at exit is
  // not safe. The memory stays reachable (no leak report).
  static Pool* p = new Pool;
  return *p;
}

bc::buffer allocate(const bc::context& ctx, std::size_t bytes, Memory kind) {
  switch (kind) {
    case Memory::host_array:
      return large_buffer(ctx, bytes, true);
    case Memory::device:
      break;
  }
  return device_buffer(ctx, bytes);
}

}  // namespace

void Lease::adopt(Lease&& other) {
  for (auto& h : other.held_) held_.push_back(std::move(h));
  other.held_.clear();
}

bc::buffer Lease::take(const bc::context& ctx, std::size_t bytes, Memory kind) {
  bytes = std::max<std::size_t>(bytes, 4);
  if (!pooled_) return allocate(ctx, bytes, kind);
  bc::buffer buf;
  {
    // The smallest pooled buffer that fits and wastes at most half of itself.
    Pool& p = pool();
    const std::lock_guard<std::mutex> lock(p.mutex);
    std::size_t best = p.free.size();
    for (std::size_t i = 0; i < p.free.size(); ++i) {
      const PoolEntry& f = p.free[i];
      const std::size_t size = f.buffer.size();
      if (f.kind != kind || f.context != ctx.get() || size < bytes || size / 2 > bytes) continue;
      if (best == p.free.size() || size < p.free[best].buffer.size()) best = i;
    }
    if (best < p.free.size()) {
      buf = std::move(p.free[best].buffer);
      p.bytes -= buf.size();
      p.free.erase(p.free.begin() + static_cast<std::ptrdiff_t>(best));
    }
  }
  if (buf.get() == nullptr) buf = allocate(ctx, bytes, kind);
  held_.push_back({kind, buf});
  return buf;
}

void Lease::give_back() {
  if (!pooled_) return;
  Pool& p = pool();
  const std::lock_guard<std::mutex> lock(p.mutex);
  for (auto& h : held_) {
    if (h.buffer.size() > kPoolBytes) continue;
    p.bytes += h.buffer.size();
    p.free.push_back({h.kind, h.buffer.get_context().get(), std::move(h.buffer)});
  }
  held_.clear();
  while (p.bytes > kPoolBytes) {
    p.bytes -= p.free.front().buffer.size();
    p.free.erase(p.free.begin());
  }
}

namespace {

// Exclusive scan in place of a histogram with one row of `digits` counters per item,
// in digit-major order (digit, then item): the start of each (digit, item) run.
void scan_histogram(bc::command_queue& q, const bc::program& program, Lease& scratch,
                    bc::buffer& hist, std::int32_t digits, std::int32_t items) {
  const std::int64_t count = std::int64_t{digits} * items;
  const std::int64_t chunk = ceil_div(count, std::clamp<std::int64_t>(count / 16384, 1, 1024));
  const auto parts = static_cast<std::int32_t>(ceil_div(count, chunk));
  bc::buffer partial =
      scratch.take(q.get_context(), (static_cast<std::size_t>(parts) + 1) * 4, Memory::device);
  const auto ch = static_cast<std::int32_t>(chunk);
  launch(q, make_kernel(program, "scan_sums", digits, items, ch, parts, hist, partial), parts);
  launch(q, make_kernel(program, "scan_partials", parts, partial), 1);
  launch(q, make_kernel(program, "scan_apply", digits, items, ch, parts, hist, partial), parts);
}

// The nodes of the batch sorted stably by (graph, key_rank): LSD radix passes over the
// key_rank bits that vary (`key_bits` of the sign-flipped keys), then the graph bits.
// Empty when no bit varies: the order is the identity.
std::optional<bc::buffer> node_order(bc::command_queue& q, const bc::program& program,
                                     Lease& scratch, std::int32_t n, std::size_t graphs,
                                     int key_bits, const bc::buffer& key_rank,
                                     const bc::buffer& graph_of, const bc::wait_list& waits) {
  struct Pass {
    const bc::buffer* keys;
    std::uint32_t flip;
    int shift, bits;
  };
  std::vector<Pass> passes;
  auto add = [&](const bc::buffer& keys, std::uint32_t flip, int total) {
    if (total == 0) return;
    // As few digits as the width allows, of about equal widths.
    const int count = (total + kNodeDigitBits - 1) / kNodeDigitBits;
    const int digit = (total + count - 1) / count;
    for (int shift = 0; shift < total; shift += digit)
      passes.push_back({&keys, flip, shift, std::min(digit, total - shift)});
  };
  add(key_rank, 0x80000000u, key_bits);
  add(graph_of, 0, std::bit_width(graphs - 1));
  if (passes.empty()) return std::nullopt;

  const std::int64_t chunk = ceil_div(n, std::clamp<std::int64_t>(n / 16384, 1, 256));
  const auto items = static_cast<std::int32_t>(ceil_div(n, chunk));
  int widest = 0;
  for (const auto& pass : passes) widest = std::max(widest, pass.bits);
  const bc::context ctx = q.get_context();
  bc::buffer hist = scratch.take(
      ctx, (std::size_t{1} << widest) * static_cast<std::size_t>(items) * 4, Memory::device);
  bc::buffer order[2] = {scratch.take(ctx, static_cast<std::size_t>(n) * 4, Memory::device),
                         scratch.take(ctx, static_cast<std::size_t>(n) * 4, Memory::device)};
  int out = 0;
  bool first = true;
  for (const auto& pass : passes) {
    const std::uint32_t mask = (1u << pass.bits) - 1;
    const auto ch = static_cast<std::int32_t>(chunk);
    const std::int32_t identity = first ? 1 : 0;
    const bc::buffer& in = order[1 - out];
    launch(q,
           make_kernel(program, "csr_node_count", n, ch, items, in, identity, *pass.keys, pass.flip,
                       pass.shift, mask, hist),
           items, first ? waits : bc::wait_list());
    scan_histogram(q, program, scratch, hist, static_cast<std::int32_t>(mask + 1), items);
    launch(q,
           make_kernel(program, "csr_node_scatter", n, ch, items, in, identity, *pass.keys,
                       pass.flip, pass.shift, mask, hist, order[out]),
           items);
    first = false;
    out = 1 - out;
  }
  return order[1 - out];
}

// Batches whose graphs are all at most this many edges build one graph per work-item.
// A CPU device runs a work-item as a plain loop, where walking one graph alone does
// the least work (at 10^6 edges it took about 0.7x the CPU time of the batch-wide
// build on PoCL); elsewhere long serial items would idle the device.
constexpr std::int32_t kSmallGraphEdges = 1 << 16;
constexpr std::int32_t kSmallGraphEdgesCpu = 1 << 22;
// The direct build up to this many edges per graph on a CPU device; beyond it the
// random writes into the final arrays miss the caches and buckets win (at 10^7 edges
// direct took 1.4x the CPU time of batch_wide on PoCL; at 10^6, 0.9x).
constexpr std::int32_t kDirectEdgesCpu = 1 << 22;
// The direct build: at most this many items, and items * n counters below 2^28.
constexpr std::uint32_t kDirectItemsMax = 16;
constexpr std::int32_t kDirectHistMax = std::int32_t{1} << 28;

// The in-CSR from the out-CSR on the device (kernels_cl/propagate.cl, steps 1-3).
// The three wait lists: before the first read of key_rank/graph_of, of o_ptr/o_dst,
// and of the weights/rel_mult.
void build_in_csr(bc::command_queue& q, const bc::program& program, Lease& scratch, DeviceGraphs& d,
                  CsrBuild how, std::int32_t direct_items, int key_bits, const bc::buffer& key_rank,
                  const bc::buffer& weight, const bc::buffer& rel_mult,
                  const bc::wait_list& keys_ready, const bc::wait_list& edges_ready,
                  const bc::wait_list& values_ready) {
  const std::int32_t n = d.n, e = d.e;
  if (how == CsrBuild::per_graph) {
    const auto graphs = static_cast<std::int32_t>(d.node_offset.size() - 1);
    const bc::context ctx = q.get_context();
    bc::buffer offsets = scratch.take(ctx, d.node_offset.size() * 4, Memory::device);
    q.enqueue_write_buffer(offsets, 0, d.node_offset.size() * 4, d.node_offset.data());
    bc::buffer order_a = scratch.take(ctx, static_cast<std::size_t>(n) * 4, Memory::device);
    bc::buffer order_b = scratch.take(ctx, static_cast<std::size_t>(n) * 4, Memory::device);
    bc::wait_list all = keys_ready;
    for (const auto& ev : edges_ready) all.insert(ev);
    for (const auto& ev : values_ready) all.insert(ev);
    launch(q,
           make_kernel(program, "csr_graph_build", graphs, offsets, d.o_ptr, d.o_dst, key_rank,
                       static_cast<std::int32_t>(key_bits), weight, rel_mult, order_a, order_b,
                       d.t_ptr, d.t_src, d.t_wr),
           graphs, all);
    return;
  }
  const auto order = e > 0 ? node_order(q, program, scratch, n, d.node_offset.size() - 1, key_bits,
                                        key_rank, d.graph_of, keys_ready)
                           : std::nullopt;
  const std::int32_t identity = order ? 0 : 1;
  const bc::buffer& order_buf = order ? *order : d.graph_of;  // not read when identity
  const bc::context ctx = q.get_context();
  bc::wait_list first_edges = edges_ready;
  if (!order) {  // then nothing has waited for graph_of's write yet
    for (const auto& ev : keys_ready) first_edges.insert(ev);
  }
  if (how == CsrBuild::direct) {
    const std::int32_t items = direct_items;
    const auto ch = static_cast<std::int32_t>(ceil_div(n, items));
    bc::buffer hist = scratch.take(
        ctx, static_cast<std::size_t>(n) * static_cast<std::size_t>(items) * 4, Memory::device);
    launch(q,
           make_kernel(program, "csr_edge_count", n, ch, items, order_buf, identity, d.o_ptr,
                       d.o_dst, std::int32_t{0}, n, hist),
           items, first_edges);
    scan_histogram(q, program, scratch, hist, n, items);
    launch(q,
           make_kernel(program, "csr_edge_place", n, ch, items, order_buf, identity, d.o_ptr,
                       d.o_dst, hist, weight, rel_mult, d.t_src, d.t_wr),
           items, values_ready);
    // The last item's row: a sub-buffer would need an aligned origin, so pass the offset.
    const std::int64_t ptr_chunk = ceil_div(n, std::clamp<std::int64_t>(n / 65536, 1, 64));
    const auto ptr_items = static_cast<std::int32_t>(ceil_div(n, ptr_chunk));
    launch(q,
           make_kernel(program, "csr_ptr_from_ends", n, static_cast<std::int32_t>(ptr_chunk),
                       ptr_items, std::int32_t{items - 1}, hist, d.t_ptr),
           ptr_items);
    return;
  }

  const int bits = std::bit_width(static_cast<std::uint32_t>(n - 1));
  const int high =
      std::min(bits, std::clamp(bits - kBucketTargetBits, kBucketBitsMin, kBucketBitsMax));
  const std::int32_t low = bits - high, buckets = std::int32_t{1} << high;
  const std::int64_t chunk = ceil_div(n, std::clamp<std::int64_t>(e / 16384, 1, 512));
  const auto items = static_cast<std::int32_t>(ceil_div(n, chunk));
  const auto ch = static_cast<std::int32_t>(chunk);
  bc::buffer hist = scratch.take(
      ctx, static_cast<std::size_t>(buckets) * static_cast<std::size_t>(items) * 4, Memory::device);
  bc::buffer rec =
      scratch.take(ctx, static_cast<std::size_t>(e) * 16,
                   d.mode == UploadMode::host_memory ? Memory::host_array : Memory::device);
  launch(q,
         make_kernel(program, "csr_edge_count", n, ch, items, order_buf, identity, d.o_ptr, d.o_dst,
                     low, buckets, hist),
         items, first_edges);
  scan_histogram(q, program, scratch, hist, buckets, items);
  launch(q,
         make_kernel(program, "csr_edge_scatter", n, ch, items, order_buf, identity, d.o_ptr,
                     d.o_dst, low, buckets, hist, weight, rel_mult, rec),
         items, values_ready);
  launch(q,
         make_kernel(program, "csr_bucket_sort", n, items, low, buckets, hist, rec, d.t_ptr,
                     d.t_src, d.t_wr),
         buckets);
}

// Graph arrays concatenated in batch order, ids made global. The destinations are
// host memory blocks about to back buffers, or host vectors about to be written.
struct Destinations {
  std::int32_t *o_ptr, *o_dst, *key_rank, *graph_of;
  float *weight, *rel_mult;
};

// The range of the sign-flipped key_rank values (signed order = unsigned order).
struct KeyRange {
  std::uint32_t lo = std::numeric_limits<std::uint32_t>::max(), hi = 0;
  void add(std::span<const std::int32_t> keys) {
    for (const auto k : keys) {
      const std::uint32_t key = static_cast<std::uint32_t>(k) ^ 0x80000000u;
      lo = std::min(lo, key);
      hi = std::max(hi, key);
    }
  }
  void add(const KeyRange& other) {
    lo = std::min(lo, other.lo);
    hi = std::max(hi, other.hi);
  }
  // The bits that vary over the range (0 when it is empty or one value).
  int bits() const { return lo > hi ? 0 : std::bit_width(lo ^ hi); }
};

// Graph gi at its place in the batch (nodes from `no`, edges from `eo`).
void pack_graph(const Graph& g, std::int32_t gi, std::int32_t no, std::int32_t eo,
                const Destinations& to, KeyRange& keys) {
  const auto nn = static_cast<std::size_t>(no), ee = static_cast<std::size_t>(eo);
  const auto gn = static_cast<std::size_t>(g.nodes()), ge = static_cast<std::size_t>(g.edges());
  for (std::size_t u = 0; u < gn; ++u) to.o_ptr[nn + u] = g.indptr[u] + eo;
  for (std::size_t j = 0; j < ge; ++j) to.o_dst[ee + j] = g.indices[j] + no;
  std::copy_n(g.key_rank.data(), gn, to.key_rank + nn);
  keys.add(std::span<const std::int32_t>(g.key_rank.data(), gn));
  std::fill_n(to.graph_of + nn, gn, gi);
  std::copy_n(g.weights.data(), ge, to.weight + ee);
  std::copy_n(g.rel_mult.data(), ge, to.rel_mult + ee);
}

bool shares_host_memory(Device& device) {
  return device.device().get_info<cl_bool>(CL_DEVICE_HOST_UNIFIED_MEMORY) == CL_TRUE;
}

}  // namespace

struct HostBatch::Impl {
  std::int32_t n = 0, e = 0, max_edges = 0;
  std::vector<std::int32_t> node_offset;
  int key_bits = 0;
  UploadMode mode = UploadMode::copy;
  // A batch of several graphs, concatenated: in host memory blocks (host_memory; the
  // order of Destinations) or in vectors (copy).
  HostBlock block[6];
  std::vector<std::int32_t> i32[4];
  std::vector<float> f32[2];
  double ms = 0;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    for (const auto& b : block)
      if (b.ptr != nullptr) give_block(b);
  }
};

HostBatch::HostBatch() = default;
HostBatch::HostBatch(HostBatch&&) noexcept = default;
HostBatch& HostBatch::operator=(HostBatch&&) noexcept = default;
HostBatch::~HostBatch() = default;

HostBatch pack_batch(Device& device, std::span<const Graph> graphs, UploadMode mode,
                     const GraphCheck& check) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t count = graphs.size();
  std::int64_t total_n = 0, total_e = 0;
  std::int32_t max_edges = 0;
  for (const auto& g : graphs) {
    total_n += g.nodes();
    total_e += g.edges();
    max_edges = std::max(max_edges, g.edges());
  }
  auto edges_of = [&](std::size_t i) { return graphs[i].indices.size(); };
  if (total_n + 1 > std::numeric_limits<std::int32_t>::max() ||
      total_e > std::numeric_limits<std::int32_t>::max()) {
    // Bad input is named first, as on every other way in.
    if (check)
      for_each_split(
          count, edges_of, [&](std::size_t i, int) { check(i); }, kValidateThreadEdges);
    throw Error(ReasonCode::invalid_config,
                "batch too large for the device path: " + std::to_string(total_n) + " nodes, " +
                    std::to_string(total_e) + " edges (int32 indices)");
  }
  HostBatch out;
  out.impl = std::make_unique<HostBatch::Impl>();
  HostBatch::Impl& b = *out.impl;
  b.n = static_cast<std::int32_t>(total_n);
  b.e = static_cast<std::int32_t>(total_e);
  b.max_edges = max_edges;
  b.node_offset.assign(count + 1, 0);
  std::vector<std::int32_t> edge_offset(count + 1, 0);
  for (std::size_t gi = 0; gi < count; ++gi) {
    b.node_offset[gi + 1] = b.node_offset[gi] + graphs[gi].nodes();
    edge_offset[gi + 1] = edge_offset[gi] + graphs[gi].edges();
  }
  if (mode == UploadMode::automatic)
    mode = shares_host_memory(device) ? UploadMode::host_memory : UploadMode::copy;
  b.mode = mode;

  KeyRange keys;
  if (count == 1) {
    // Used as it is (read in place, or written straight from its arrays).
    if (check) check(0);
    keys.add(graphs[0].key_rank);
  } else {
    const auto n = static_cast<std::size_t>(b.n), e = static_cast<std::size_t>(b.e);
    Destinations to{};
    if (mode == UploadMode::host_memory) {
      const std::size_t bytes[6] = {(n + 1) * 4, e * 4, n * 4, n * 4, e * 4, e * 4};
      for (int i = 0; i < 6; ++i) b.block[i] = take_block(std::max<std::size_t>(bytes[i], 4));
      to = {static_cast<std::int32_t*>(b.block[0].ptr), static_cast<std::int32_t*>(b.block[1].ptr),
            static_cast<std::int32_t*>(b.block[2].ptr), static_cast<std::int32_t*>(b.block[3].ptr),
            static_cast<float*>(b.block[4].ptr),        static_cast<float*>(b.block[5].ptr)};
    } else {
      b.i32[0].resize(n + 1);
      b.i32[1].resize(e);
      b.i32[2].resize(n);
      b.i32[3].resize(n);
      b.f32[0].resize(e);
      b.f32[1].resize(e);
      to = {b.i32[0].data(), b.i32[1].data(), b.i32[2].data(),
            b.i32[3].data(), b.f32[0].data(), b.f32[1].data()};
    }
    // One pass: each graph is checked, then copied while its arrays are in cache.
    KeyRange part[2];
    for_each_split(
        count, [&](std::size_t i) { return graphs[i].indices.size() + graphs[i].indptr.size(); },
        [&](std::size_t i, int half) {
          if (check) check(i);
          pack_graph(graphs[i], static_cast<std::int32_t>(i), b.node_offset[i], edge_offset[i], to,
                     part[half]);
        },
        kPackThreadEdges);
    to.o_ptr[n] = b.e;
    keys.add(part[0]);
    keys.add(part[1]);
  }
  b.key_bits = b.n > 0 ? keys.bits() : 0;
  b.ms = ms_since(t0);
  return out;
}

DeviceGraphs build_device_graphs(Device& device, const bc::program& program,
                                 std::span<const Graph> graphs, bool borrowed, UploadMode mode,
                                 CsrBuild how, const GraphCheck& check) {
  HostBatch packed = pack_batch(device, graphs, mode, check);
  return build_device_graphs(device, program, graphs, std::move(packed), borrowed, how);
}

DeviceGraphs build_device_graphs(Device& device, const bc::program& program,
                                 std::span<const Graph> graphs, HostBatch&& packed, bool borrowed,
                                 CsrBuild how) {
  // Owned here to the end: a copy-mode batch's vectors are read by asynchronous writes
  // until the drain below has waited for them.
  const HostBatch batch = std::move(packed);
  HostBatch::Impl& hb = *batch.impl;
  DeviceGraphs d;
  d.n = hb.n;
  d.e = hb.e;
  d.node_offset = std::move(hb.node_offset);
  d.prepare_ms = hb.ms;
  d.mode = hb.mode;
  const int key_bits = hb.key_bits;
  const auto tu = std::chrono::steady_clock::now();
  const UploadMode mode = hb.mode;

  const auto n = static_cast<std::size_t>(d.n), e = static_cast<std::size_t>(d.e);
  auto& ctx = device.context();
  auto& q = device.queue();
  // A one-shot call's arrays go back to the pool when the call is done; a persistent
  // batch owns its arrays. Temporaries of the build go back when it has finished.
  d.lease = std::make_shared<Lease>(borrowed);
  Lease& keep = *d.lease;
  Lease scratch;
  try {
    const Memory large = mode == UploadMode::host_memory ? Memory::host_array : Memory::device;
    d.t_ptr = keep.take(ctx, (n + 1) * 4, large);
    d.t_src = keep.take(ctx, e * 4, large);
    d.t_wr = keep.take(ctx, e * 8, large);
    const bool single = graphs.size() == 1;
    const bool host_batch = mode == UploadMode::host_memory && !single;
    if (!host_batch) d.graph_of = keep.take(ctx, n * 4, Memory::device);
    bc::buffer key_rank, weight, rel_mult;
    bc::wait_list keys_ready, edges_ready, values_ready;
    std::optional<bc::command_queue> transfers;
    // Writes read host memory until they finish: wait for them on every way out.
    // On the way out by an exception, the build's commands too (they read the staging).
    struct Drain {
      bc::command_queue& q;
      std::optional<bc::command_queue>& transfers;
      ~Drain() {
        if (std::uncaught_exceptions() > 0) clFinish(q.get());
        if (transfers) clFinish(transfers->get());
      }
    } drain{q, transfers};
    const Graph* g = single ? &graphs[0] : nullptr;

    if (mode == UploadMode::host_memory && single) {
      // The device reads host memory: hand it the graph's own arrays. READ_ONLY, and
      // no kernel writes them, so the const data is never modified.
      auto in_place = [&](const auto& v, bool borrow) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if (v.empty()) return device_buffer(ctx, 4);
        const cl_mem_flags how = borrow ? CL_MEM_USE_HOST_PTR : CL_MEM_COPY_HOST_PTR;
        return bc::buffer(ctx, v.size() * sizeof(T), CL_MEM_READ_ONLY | how,
                          const_cast<T*>(v.data()));
      };
      // o_ptr/o_dst stay with the batch: read in place only when the caller keeps the
      // graph alive that long, else copied once into memory the device owns.
      d.o_ptr = in_place(g->indptr, borrowed);
      d.o_dst = in_place(g->indices, borrowed);
      key_rank = in_place(g->key_rank, true);
      weight = in_place(g->weights, true);
      rel_mult = in_place(g->rel_mult, true);
      const std::int32_t zero = 0;
      if (n > 0) q.enqueue_fill_buffer(d.graph_of, &zero, sizeof zero, 0, n * 4);
    } else if (mode == UploadMode::host_memory) {
      // A batch, packed by the host into host memory blocks (reused across calls):
      // each wraps in a buffer, no map, no staging copy, no wait.
      bc::buffer* bufs[6] = {&d.o_ptr, &d.o_dst, &key_rank, &d.graph_of, &weight, &rel_mult};
      const std::size_t bytes[6] = {(n + 1) * 4, e * 4, n * 4, n * 4, e * 4, e * 4};
      for (int i = 0; i < 6; ++i) {
        const HostBlock block = hb.block[i];
        hb.block[i] = {};  // the buffer owns it now (filled_buffer returns it on failure)
        *bufs[i] = filled_buffer(ctx, block, bytes[i]);
      }
    } else {
      // Separate device memory: writes on a second queue, in the order the build reads
      // the arrays, each launch waiting only for what it reads.
      d.o_ptr = keep.take(ctx, (n + 1) * 4, Memory::device);
      d.o_dst = keep.take(ctx, e * 4, Memory::device);
      key_rank = scratch.take(ctx, n * 4, Memory::device);
      weight = scratch.take(ctx, e * 4, Memory::device);
      rel_mult = scratch.take(ctx, e * 4, Memory::device);
      transfers.emplace(ctx, device.device());
      auto& tq = *transfers;
      const std::int32_t *o_ptr = nullptr, *o_dst = nullptr, *keys = nullptr, *graph_of = nullptr;
      const float *w = nullptr, *rm = nullptr;
      if (single) {
        o_ptr = g->indptr.data();
        o_dst = g->indices.data();
        keys = g->key_rank.data();
        w = g->weights.data();
        rm = g->rel_mult.data();
        const std::int32_t zero = 0;
        if (n > 0) q.enqueue_fill_buffer(d.graph_of, &zero, sizeof zero, 0, n * 4);
      } else {
        o_ptr = hb.i32[0].data();
        o_dst = hb.i32[1].data();
        keys = hb.i32[2].data();
        graph_of = hb.i32[3].data();
        w = hb.f32[0].data();
        rm = hb.f32[1].data();
      }
      auto write = [&](const bc::buffer& buf, const void* from, std::size_t bytes) {
        return bytes == 0 ? bc::event() : tq.enqueue_write_buffer_async(buf, 0, bytes, from);
      };
      auto wait_for = [](bc::wait_list& list, const bc::event& ev) {
        if (ev.get() != nullptr) list.insert(ev);
      };
      if (graph_of) wait_for(keys_ready, write(d.graph_of, graph_of, n * 4));
      wait_for(keys_ready, write(key_rank, keys, n * 4));
      write(d.o_ptr, o_ptr, (n + 1) * 4);
      wait_for(edges_ready, write(d.o_dst, o_dst, e * 4));
      write(weight, w, e * 4);
      wait_for(values_ready, write(rel_mult, rm, e * 4));
      // The queue is in order: the last write of each group implies the earlier ones.
      if (edges_ready.empty()) wait_for(edges_ready, tq.enqueue_marker());
      if (values_ready.empty()) values_ready = edges_ready;
      tq.flush();
    }
    d.upload_ms = ms_since(tu);

    const auto tb = std::chrono::steady_clock::now();
    d.csr_begin = q.enqueue_marker();
    if (n == 0) {
      d.build = how;  // nothing to build
      const std::int32_t zero = 0;
      q.enqueue_fill_buffer(d.t_ptr, &zero, sizeof zero, 0, 4);
    } else {
      const bool cpu = device.info().is_cpu();
      const auto units = static_cast<std::int32_t>(
          std::clamp<std::uint32_t>(device.info().compute_units, 1, kDirectItemsMax));
      // Every item's histogram row is n counters (int32 indexing).
      const std::int32_t direct_items =
          std::clamp<std::int32_t>(units, 1, std::max<std::int32_t>(1, kDirectHistMax / d.n));
      const std::int32_t max_edges = hb.max_edges;
      if (how == CsrBuild::automatic) {
        if (!cpu) {
          how = max_edges <= kSmallGraphEdges ? CsrBuild::per_graph : CsrBuild::batch_wide;
        } else if (max_edges <= kSmallGraphEdgesCpu &&
                   static_cast<std::int64_t>(graphs.size()) >= 2 * std::int64_t{units}) {
          how = CsrBuild::per_graph;
        } else {
          how = max_edges <= kDirectEdgesCpu ? CsrBuild::direct : CsrBuild::batch_wide;
        }
      }
      d.build = how;
      build_in_csr(q, program, scratch, d, how, direct_items, key_bits, key_rank, weight, rel_mult,
                   keys_ready, edges_ready, values_ready);
    }
    d.csr_end = q.enqueue_marker();
    q.flush();
    if (borrowed) {
      // A one-shot call goes on with the propagation on the same in-order queue: no
      // wait here. The temporaries go back with the call's arrays.
      d.lease->adopt(std::move(scratch));
    } else {
      q.finish();
      d.csr_ms = ms_since(tb);
      scratch.give_back();
    }
  } catch (const bc::opencl_error& err) {
    throw Error(ReasonCode::launch_failed,
                std::string("propagate: OpenCL error while building the in-CSR: ") +
                    err.error_string() + " (" + std::to_string(err.error_code()) + ")");
  }
  return d;
}

double csr_span_ms(const DeviceGraphs& d) {
  if (d.csr_begin.get() == nullptr || d.csr_end.get() == nullptr) return 0;
  try {
    return span_ms(d.csr_begin, d.csr_end);
  } catch (const bc::opencl_error&) {
    return 0;  // a device may give no profiling for markers
  }
}

InCsr read_in_csr(Device& device, const DeviceGraphs& d) {
  InCsr c;
  const auto n = static_cast<std::size_t>(d.n), e = static_cast<std::size_t>(d.e);
  c.t_ptr.resize(n + 1);
  c.t_src.resize(e);
  c.t_w.resize(e);
  c.t_rm.resize(e);
  auto& q = device.queue();
  q.enqueue_read_buffer(d.t_ptr, 0, (n + 1) * 4, c.t_ptr.data());
  if (e > 0) {
    q.enqueue_read_buffer(d.t_src, 0, e * 4, c.t_src.data());
    std::vector<float> pairs(2 * e);
    q.enqueue_read_buffer(d.t_wr, 0, e * 8, pairs.data());
    for (std::size_t j = 0; j < e; ++j) {
      c.t_w[j] = pairs[2 * j];
      c.t_rm[j] = pairs[2 * j + 1];
    }
  }
  return c;
}

InCsr host_in_csr(std::span<const Graph> graphs) {
  InCsr c;
  c.t_ptr.push_back(0);
  std::int32_t no = 0, eo = 0;
  for (const Graph& g : graphs) {
    const auto n = static_cast<std::size_t>(g.nodes());
    std::vector<std::int32_t> sources(n);
    std::iota(sources.begin(), sources.end(), 0);
    std::stable_sort(sources.begin(), sources.end(), [&](std::int32_t a, std::int32_t b) {
      return g.key_rank[static_cast<std::size_t>(a)] < g.key_rank[static_cast<std::size_t>(b)];
    });
    std::vector<std::int32_t> cursor(n + 1, 0);
    for (const auto v : g.indices) ++cursor[static_cast<std::size_t>(v) + 1];
    for (std::size_t v = 0; v < n; ++v) cursor[v + 1] += cursor[v];
    for (std::size_t v = 1; v <= n; ++v) c.t_ptr.push_back(eo + cursor[v]);
    const std::size_t base = c.t_src.size();
    c.t_src.resize(base + g.indices.size());
    c.t_w.resize(base + g.indices.size());
    c.t_rm.resize(base + g.indices.size());
    for (const auto u : sources) {
      const auto uu = static_cast<std::size_t>(u);
      for (auto j = static_cast<std::size_t>(g.indptr[uu]);
           j < static_cast<std::size_t>(g.indptr[uu + 1]); ++j) {
        const auto pos =
            base + static_cast<std::size_t>(cursor[static_cast<std::size_t>(g.indices[j])]++);
        c.t_src[pos] = no + u;
        c.t_w[pos] = flush(g.weights[j]);
        c.t_rm[pos] = flush(g.rel_mult[j]);
      }
    }
    no += g.nodes();
    eo += g.edges();
  }
  return c;
}

}  // namespace clgauge::propagate_detail
