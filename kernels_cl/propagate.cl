// Layered graph propagation (the T1 stage), bit-identical to the CPU reference
// (docs/semantics.md, "Layered propagation"; host/propagate/cpu_layered.cpp).
//
// Parameters (-D, with defaults):
//   PROP_WG     work-group size of every kernel here (default 128); the host launches
//               with exactly this local size (local scratch arrays are sized by it).
//   PROP_CHUNK  contiguous nodes per work-item (default 8); a group covers
//               PROP_WG * PROP_CHUNK nodes.
//
// Data layout: a batch of graphs is concatenated into one node range [0, n) and one
// edge range; graph_of[u] names the graph of node u (nodes of a graph are contiguous).
//
//   out-CSR (push side)     o_ptr[u] .. o_ptr[u+1]-1  ->  o_dst[j]  (global node ids)
//   in-CSR  (pull side)     t_ptr[v] .. t_ptr[v+1]-1  ->  t_src[j], t_wr[j]
//
// The in-CSR lists the in-edges of every v in ascending (key_rank[u], u, e): the
// canonical summation order. t_wr[j] = (weight, rel_mult) of the edge, already flushed
// (|x| < FLT_MIN -> +0.0f), as the reference reads them: one float2, so placing an edge
// is two scattered stores, not three (on PoCL the build's placement took about a
// fifth less time). The device builds it with the csr_* kernels at the end of this file.
//
// Launches (PROP_CHUNK nodes per work-item; what follows is per node):
//   prop_init and prop_seed, once: layer 0 (acc, c and F_0 from the seeds).
//   prop_expand, once, for F_0 (node u with front[u] set): the frontier step below.
//   prop_pull, once per layer d (node v): if touched[v] (every v after a layer that
//     left the marks out, see "Dense layers"), walks v's in-edges in
//     canonical order and, for each expanding source u,
//         t = flush(flush(flush(c_cur[u] * w) * rel_mult) * decay)      (3 multiplies)
//     drops t if |t| < eps, else sum = flush(sum + t) starting from 0.0f. If anything
//     arrived: c_next[v] = sum, acc[v] = flush(acc[v] + sum) (once), v joins F_{d+1}
//     and takes the frontier step for layer d+1 right away. Each item's sum is
//     sequential in that fixed order, so the bits do not depend on scheduling; no
//     atomics touch floats.
//   The frontier step (expand_node) for a node u of F_d: |acc[u]| >= node_budget counts
//     a budget hit; otherwise u is expanding, its out-degree is added to the graph's
//     "expanded edges" (the host turns them into radius/layer cap hits when depth d+1
//     is capped) and, when depth d+1 allows contributions (`mark`), touched[v] = 1 is
//     stored for each out-neighbour v (every writer stores the same value) so the next
//     pull walks only nodes that can receive something. expanding/touched/c are double
//     buffered between layers (read: layer d, written: layer d+1).
// Each launch adds into its own block of counters (counters + counter_base), so several
// layers run before the host reads them. After the per-graph counters each block has
// two batch-wide ints (at `extra`): the out-edges of the frontier the launch expanded
// (X_EDGES) and whether it left the marks out (X_DENSE, see "Dense layers" below).
//
// Dense layers. Marking costs one scattered byte store per out-edge of the next
// frontier; when that frontier is large, nearly every node gets touched anyway and the
// marks only cost. prop_pull for layer d therefore leaves the marks out when the
// frontier it starts from, F_d, expanded at least `dense_edges` out-edges (the host
// passes 1/64 of the batch's edges), and then the pull of layer d+1 visits every
// node. A node that nothing can reach finds no expanding source and writes nothing, so
// the result is the same bits either way; only the work differs. The decision is read
// from the previous launch's block (or, at the first launch of a round, from the host,
// which read the previous round), so every work-item takes the same one.
// Per-graph counters (int, summed by the host into 64-bit metrics per layer) are summed
// per item while its nodes stay in one graph, then reduced in local memory per run of
// equal graph ids in the work-group and added with one atomic per run and counter.
// max_delta_local travels as the int bits of |t| (non-negative floats order like their
// bit patterns), combined with atomic_max.
//
// No fma, no pow, no relaxed math: the decay value of each layer comes from the host
// table as an argument; built without -cl-fast-relaxed-math / -cl-mad-enable.

#pragma OPENCL FP_CONTRACT OFF

#ifndef PROP_WG
#define PROP_WG 128
#endif
#ifndef PROP_CHUNK
#define PROP_CHUNK 8
#endif

// Counter slots per graph.
#define C_BUDGET_HITS 0
#define C_EXPANDED_EDGES 1
#define C_NEXT_FRONTIER 2
#define C_PROPAGATIONS 3
#define C_MAX_BITS 4
#define C_COUNT 5
// Batch-wide ints of a launch's block, from its `extra` offset.
#define X_EDGES 0
#define X_DENSE 1

inline float flush(float x) {
  return fabs(x) < FLT_MIN ? 0.0f : x;
}

// Adds one item's sums for graph g (g < 0: nothing) straight to the global counters.
inline void add_counters(__global int* counters, int g, int a, int b, int c, int slot_a, int slot_b,
                         int slot_c, int c_is_max) {
  if (g < 0) return;
  __global int* cg = counters + g * C_COUNT;
  if (a != 0) atomic_add(cg + slot_a, a);
  if (b != 0) atomic_add(cg + slot_b, b);
  if (c != 0) {
    if (c_is_max) {
      atomic_max(cg + slot_c, c);
    } else {
      atomic_add(cg + slot_c, c);
    }
  }
}

// Reduces the items' final (a, b, c) over each run of equal graph ids g in the
// work-group and adds each run's sums with one atomic per counter. Every item of the
// group must call it. Runs of one graph may repeat (sums commute: still exact).
inline void commit_counters(__local int* lg, __local int* la, __local int* lb, __local int* lc,
                            int g, int a, int b, int c, int slot_a, int slot_b, int slot_c,
                            int c_is_max, __global int* counters) {
  const int lid = (int)get_local_id(0);
  lg[lid] = g;
  la[lid] = a;
  lb[lid] = b;
  lc[lid] = c;
  barrier(CLK_LOCAL_MEM_FENCE);
  if (g >= 0 && (lid == 0 || lg[lid - 1] != g)) {
    int sa = 0, sb = 0, sc = 0;
    for (int j = lid; j < PROP_WG && lg[j] == g; ++j) {
      sa += la[j];
      sb += lb[j];
      sc = c_is_max ? max(sc, lc[j]) : sc + lc[j];
    }
    add_counters(counters, g, sa, sb, sc, slot_a, slot_b, slot_c, c_is_max);
  }
}

// Adds the group's summed `edges` to the launch's batch-wide X_EDGES (one atomic per
// group). Every item of the group must call it; `scratch` is free local memory.
inline void commit_edge_total(__local int* scratch, int edges, __global int* extra) {
  const int lid = (int)get_local_id(0);
  barrier(CLK_LOCAL_MEM_FENCE);
  scratch[lid] = edges;
  barrier(CLK_LOCAL_MEM_FENCE);
  if (lid == 0) {
    int sum = 0;
    for (int j = 0; j < PROP_WG; ++j) sum += scratch[j];
    if (sum != 0) atomic_add(extra + X_EDGES, sum);
  }
}

// Item i visits the contiguous nodes i * PROP_CHUNK + k, k = 0 .. PROP_CHUNK-1: ascending,
// so graph ids never decrease along an item's walk, and an item rarely crosses a graph
// boundary (strided visits were measured slower on batches of small graphs: nearly
// every node then flushed its own counters with atomics).
#define NODE_BASE() ((int)get_global_id(0) * PROP_CHUNK)

// Budget check and push-side marking for a node u of the next frontier (shared by
// prop_expand for F_0 and prop_pull for F_{d+1}).
inline uchar expand_node(int u, float acc_u, float node_budget, int mark, __global const int* o_ptr,
                         __global const int* o_dst, __global uchar* touched, int* hits,
                         int* degrees) {
  if (fabs(acc_u) >= node_budget) {
    ++*hits;
    return 0;
  }
  const int b = o_ptr[u], e = o_ptr[u + 1];
  *degrees += e - b;
  if (mark) {
    for (int j = b; j < e; ++j) touched[o_dst[j]] = 1;
  }
  return 1;
}

// Layer 0 on the device: prop_init clears acc, the F_0 flags and both touched arrays
// (PROP_CHUNK nodes per item); prop_seed then writes each distinct seed node's c0 (the
// host summed duplicates in input order) into c and acc and sets its F_0 flag. Seed
// nodes are distinct, so no two items write the same place. c is read only where a
// node is expanding, so it needs no clearing.
__kernel __attribute__((reqd_work_group_size(PROP_WG, 1, 1))) void prop_init(
    const int n, __global float* acc, __global uchar* front, __global uchar* touched_a,
    __global uchar* touched_b) {
  const int base = NODE_BASE();
  for (int k = 0; k < PROP_CHUNK; ++k) {
    const int u = base + k;
    if (u >= n) break;
    acc[u] = 0.0f;
    front[u] = 0;
    touched_a[u] = 0;
    touched_b[u] = 0;
  }
}

__kernel void prop_seed(const int k, __global const int* nodes, __global const float* c0,
                        __global float* c, __global float* acc, __global uchar* front) {
  const int i = (int)get_global_id(0);
  if (i >= k) return;
  const int u = nodes[i];
  c[u] = c0[i];
  acc[u] = c0[i];
  front[u] = 1;
}

__kernel __attribute__((reqd_work_group_size(PROP_WG, 1, 1))) void prop_expand(
    const int n, __global const int* graph_of, __global const uchar* front,
    __global const float* acc, __global const int* o_ptr, __global const int* o_dst,
    __global uchar* expanding, __global uchar* touched, const float node_budget, const int mark,
    __global int* counters, const int counter_base, const int extra) {
  __local int lg[PROP_WG], la[PROP_WG], lb[PROP_WG], lc[PROP_WG];
  counters += counter_base;
  int cur_g = -1, hits = 0, degrees = 0, all_degrees = 0;
  const int base = NODE_BASE();
  for (int k = 0; k < PROP_CHUNK; ++k) {
    const int u = base + k;
    if (u >= n) break;
    uchar ex = 0;
    if (front[u]) {
      const int g = graph_of[u];
      if (g != cur_g) {
        add_counters(counters, cur_g, hits, degrees, 0, C_BUDGET_HITS, C_EXPANDED_EDGES,
                     C_EXPANDED_EDGES, 0);
        cur_g = g;
        hits = degrees = 0;
      }
      const int before = degrees;
      ex = expand_node(u, acc[u], node_budget, mark, o_ptr, o_dst, touched, &hits, &degrees);
      all_degrees += degrees - before;
    }
    expanding[u] = ex;
  }
  commit_counters(lg, la, lb, lc, cur_g, hits, degrees, 0, C_BUDGET_HITS, C_EXPANDED_EDGES,
                  C_EXPANDED_EDGES, 0, counters);
  commit_edge_total(la, all_degrees, counters + extra);
}

__kernel __attribute__((reqd_work_group_size(PROP_WG, 1, 1))) void prop_pull(
    const int n, __global const int* graph_of, __global const int* t_ptr, __global const int* t_src,
    __global const float2* t_wr, __global const uchar* expanding, __global const float* c_cur,
    __global uchar* touched, __global float* c_next, __global float* acc, const float decay,
    const float eps, const float node_budget, const int mark_next, __global const int* o_ptr,
    __global const int* o_dst, __global uchar* expanding_next, __global uchar* touched_next,
    __global int* counters, const int counter_base, const int extra, const int prev_extra,
    const int host_prev_edges, const int host_prev_dense, const int dense_edges) {
  __local int lg[PROP_WG], la[PROP_WG], lb[PROP_WG], lc[PROP_WG];
  // The launch that expanded F_d: its block (prev_extra > 0: that many ints before this
  // launch's batch-wide ints) or the host's copy of it.
  const int prev_edges =
      prev_extra > 0 ? counters[counter_base + extra - prev_extra + X_EDGES] : host_prev_edges;
  const int prev_dense =
      prev_extra > 0 ? counters[counter_base + extra - prev_extra + X_DENSE] : host_prev_dense;
  const int dense_next = mark_next && prev_edges >= dense_edges;
  const int mark = mark_next && !dense_next;
  counters += counter_base;
  if (dense_next && get_global_id(0) == 0) counters[extra + X_DENSE] = 1;
  int cur_g = -1, reached = 0, props = 0, max_bits = 0, hits = 0, degrees = 0, all_degrees = 0;
  const int base = NODE_BASE();
  for (int k = 0; k < PROP_CHUNK; ++k) {
    const int v = base + k;
    if (v >= n) break;
    uchar ex_next = 0;
    const uchar tv = touched[v];
    if (tv || prev_dense) {
      if (tv) touched[v] = 0;
      const int g = graph_of[v];
      if (g != cur_g) {
        add_counters(counters, cur_g, reached, props, max_bits, C_NEXT_FRONTIER, C_PROPAGATIONS,
                     C_MAX_BITS, 1);
        add_counters(counters, cur_g, hits, degrees, 0, C_BUDGET_HITS, C_EXPANDED_EDGES,
                     C_EXPANDED_EDGES, 0);
        cur_g = g;
        reached = props = max_bits = hits = degrees = 0;
      }
      float sum = 0.0f;
      int got = 0;
      const int e = t_ptr[v + 1];
      for (int j = t_ptr[v]; j < e; ++j) {
        const int u = t_src[j];
        if (!expanding[u]) continue;
        const float2 wr = t_wr[j];
        float t = flush(c_cur[u] * wr.x);
        t = flush(t * wr.y);
        t = flush(t * decay);
        const float a = fabs(t);
        if (a < eps) continue;
        got = 1;
        ++props;
        max_bits = max(max_bits, as_int(a));
        sum = flush(sum + t);
      }
      if (got) {
        ++reached;
        c_next[v] = sum;
        const float acc_v = flush(acc[v] + sum);
        acc[v] = acc_v;
        // v is in F_{d+1}: decide now whether it expands at layer d+1.
        const int before = degrees;
        ex_next =
            expand_node(v, acc_v, node_budget, mark, o_ptr, o_dst, touched_next, &hits, &degrees);
        all_degrees += degrees - before;
      }
    }
    expanding_next[v] = ex_next;
  }
  // Two commits: the next frontier's budget hits and edges share the group's scratch.
  commit_counters(lg, la, lb, lc, cur_g, reached, props, max_bits, C_NEXT_FRONTIER, C_PROPAGATIONS,
                  C_MAX_BITS, 1, counters);
  barrier(CLK_LOCAL_MEM_FENCE);
  commit_counters(lg, la, lb, lc, cur_g, hits, degrees, 0, C_BUDGET_HITS, C_EXPANDED_EDGES,
                  C_EXPANDED_EDGES, 0, counters);
  commit_edge_total(la, all_degrees, counters + extra);
}

// ---------------------------------------------------------------------------------
// Building the in-CSR on the device (host/propagate/device_csr.cpp drives these).
//
// The canonical in-CSR lists the in-edges of every v in ascending (key_rank[u], u, e).
// It is built as a stable sort, in three steps:
//   1. node order: the node ids sorted stably by (graph, key_rank) with LSD radix passes
//      (csr_node_count / exclusive scan / csr_node_scatter, one digit per pass);
//      ascending node ids is the starting order, so ties keep ascending u.
//   2. edge buckets: walking the nodes in that order and each node's out-edges in CSR
//      order gives every edge in canonical source order; csr_edge_count and
//      csr_edge_scatter place them stably by the high bits of the target v into
//      buckets of at most 2^lowbits consecutive targets, as records
//      (v, u, bits of flush(weight), bits of flush(rel_mult)).
//   3. csr_bucket_sort, one work-item per bucket: a counting sort of the bucket by v,
//      stable, writing t_ptr, t_src, t_wr.
// Stability in steps 1 and 2 comes from "one item, one contiguous chunk": item i walks
// its chunk in order, counts digits into its own histogram row hist[i * digits + d],
// and after an exclusive scan of hist in digit-major order (d, then i) writes each
// element at its digit's running position. (Rows per item keep an item's counters
// together: a column layout measured 20x slower on a CPU device.) Items are independent and nothing
// uses atomics, so the order (and so the bits) never depends on scheduling. The kernels are plain
// loops and suit any device; on a CPU device each item streams through memory.

// Item i counts the digits of vals[j] for j in its chunk of [0, n):
//   d = ((keys[val] ^ flip) >> shift) & mask, val = identity ? j : vals[j].
__kernel void csr_node_count(const int n, const int chunk, const int items,
                             __global const int* vals, const int identity, __global const int* keys,
                             const uint flip, const int shift, const uint mask,
                             __global int* hist) {
  const int i = (int)get_global_id(0);
  if (i >= items) return;
  for (uint d = 0; d <= mask; ++d) hist[(uint)i * (mask + 1) + d] = 0;
  const int b = i * chunk, e = min(n, b + chunk);
  for (int j = b; j < e; ++j) {
    const int val = identity ? j : vals[j];
    const uint d = (((uint)keys[val] ^ flip) >> shift) & mask;
    ++hist[(uint)i * (mask + 1) + d];
  }
}

// Same walk; hist holds each (digit, item) start (exclusive scan of the counts).
__kernel void csr_node_scatter(const int n, const int chunk, const int items,
                               __global const int* vals, const int identity,
                               __global const int* keys, const uint flip, const int shift,
                               const uint mask, __global int* hist, __global int* out) {
  const int i = (int)get_global_id(0);
  if (i >= items) return;
  const int b = i * chunk, e = min(n, b + chunk);
  for (int j = b; j < e; ++j) {
    const int val = identity ? j : vals[j];
    const uint d = (((uint)keys[val] ^ flip) >> shift) & mask;
    out[hist[(uint)i * (mask + 1) + d]++] = val;
  }
}

// Item i walks the node positions of its chunk, u = identity ? p : order[p], and the
// out-edges of each u; counts the buckets v >> lowbits of their targets.
__kernel void csr_edge_count(const int n, const int chunk, const int items,
                             __global const int* order, const int identity,
                             __global const int* o_ptr, __global const int* o_dst,
                             const int lowbits, const int buckets, __global int* hist) {
  const int i = (int)get_global_id(0);
  if (i >= items) return;
  for (int d = 0; d < buckets; ++d) hist[i * buckets + d] = 0;
  const int b = i * chunk, e = min(n, b + chunk);
  for (int p = b; p < e; ++p) {
    const int u = identity ? p : order[p];
    const int je = o_ptr[u + 1];
    for (int j = o_ptr[u]; j < je; ++j) ++hist[i * buckets + (o_dst[j] >> lowbits)];
  }
}

__kernel void csr_edge_scatter(const int n, const int chunk, const int items,
                               __global const int* order, const int identity,
                               __global const int* o_ptr, __global const int* o_dst,
                               const int lowbits, const int buckets, __global int* hist,
                               __global const float* weight, __global const float* rel_mult,
                               __global int4* rec) {
  const int i = (int)get_global_id(0);
  if (i >= items) return;
  const int b = i * chunk, e = min(n, b + chunk);
  for (int p = b; p < e; ++p) {
    const int u = identity ? p : order[p];
    const int je = o_ptr[u + 1];
    for (int j = o_ptr[u]; j < je; ++j) {
      const int v = o_dst[j];
      rec[hist[i * buckets + (v >> lowbits)]++] =
          (int4)(v, u, as_int(flush(weight[j])), as_int(flush(rel_mult[j])));
    }
  }
}

// The direct variant of step 2 for devices with few, strong work-items (a CPU device):
// every target is its own bucket (lowbits 0, buckets n, one histogram row of n per
// item, few items), so after csr_edge_count and the scan each (v, item) entry is the
// position of that item's first edge into v, and csr_edge_place writes the edges
// straight into the final arrays: no records and no step 3. Same walk, same order.
__kernel void csr_edge_place(const int n, const int chunk, const int items,
                             __global const int* order, const int identity,
                             __global const int* o_ptr, __global const int* o_dst,
                             __global int* hist, __global const float* weight,
                             __global const float* rel_mult, __global int* t_src,
                             __global float2* t_wr) {
  const int i = (int)get_global_id(0);
  if (i >= items) return;
  __global int* row = hist + (long)i * n;
  const int b = i * chunk, e = min(n, b + chunk);
  for (int p = b; p < e; ++p) {
    const int u = identity ? p : order[p];
    const int je = o_ptr[u + 1];
    for (int j = o_ptr[u]; j < je; ++j) {
      const int pos = row[o_dst[j]]++;
      t_src[pos] = u;
      t_wr[pos] = (float2)(flush(weight[j]), flush(rel_mult[j]));
    }
  }
}

// After csr_edge_place, the last item's row (row `last` of hist) holds the end of every
// target's list:
// t_ptr[v + 1] = that end, t_ptr[0] = 0. Item i covers targets [i * chunk, ...).
__kernel void csr_ptr_from_ends(const int n, const int chunk, const int items, const int last,
                                __global const int* hist, __global int* t_ptr) {
  const int i = (int)get_global_id(0);
  if (i >= items) return;
  __global const int* last_row = hist + (long)last * n;
  if (i == 0) t_ptr[0] = 0;
  const int b = i * chunk, e = min(n, b + chunk);
  for (int v = b; v < e; ++v) t_ptr[v + 1] = last_row[v];
}

// Item b sorts bucket b (targets [b << lowbits, (b+1) << lowbits) within [0, n)) by v,
// stably. After csr_edge_scatter, hist[(items - 1) * buckets + d] is the end of bucket d.
// t_ptr of the bucket's targets serves as the counting array.
__kernel void csr_bucket_sort(const int n, const int items, const int lowbits, const int buckets,
                              __global const int* hist, __global const int4* rec,
                              __global int* t_ptr, __global int* t_src, __global float2* t_wr) {
  const int b = (int)get_global_id(0);
  if (b >= buckets) return;
  const long v0l = (long)b << lowbits;
  if (v0l >= n) return;
  const int v0 = (int)v0l;
  const int v1 = (int)min((long)n, ((long)b + 1) << lowbits);
  const int s = b == 0 ? 0 : hist[(items - 1) * buckets + b - 1];
  const int t = hist[(items - 1) * buckets + b];
  for (int v = v0; v < v1; ++v) t_ptr[v] = 0;
  for (int j = s; j < t; ++j) ++t_ptr[rec[j].x];
  int run = s;
  for (int v = v0; v < v1; ++v) {
    const int c = t_ptr[v];
    t_ptr[v] = run;
    run += c;
  }
  for (int j = s; j < t; ++j) {
    const int4 r = rec[j];
    const int pos = t_ptr[r.x]++;
    t_src[pos] = r.y;
    t_wr[pos] = as_float2(r.zw);
  }
  // t_ptr[v] now holds the end of v's list, which is where v+1's begins.
  for (int v = v1 - 1; v > v0; --v) t_ptr[v] = t_ptr[v - 1];
  t_ptr[v0] = s;
  if (v1 == n) t_ptr[n] = t;
}

// Batches of small graphs: item g builds graph g's in-CSR alone, the same three steps
// in one sequential walk (its data stays in cache). Nodes [no, no + n_g) and edges
// [eo, eo + e_g) of graph g; ids are global. Node order: LSD radix passes of 8 bits over
// the key_bits varying bits of the flipped keys, counted in private memory, between
// order_a and order_b (scratch, n). Then t_ptr of the graph's targets counts in-degrees,
// becomes the running position of each target, and edges are placed in node order.
__kernel void csr_graph_build(const int graphs, __global const int* node_offset,
                              __global const int* o_ptr, __global const int* o_dst,
                              __global const int* key_rank, const int key_bits,
                              __global const float* weight, __global const float* rel_mult,
                              __global int* order_a, __global int* order_b, __global int* t_ptr,
                              __global int* t_src, __global float2* t_wr) {
  const int g = (int)get_global_id(0);
  if (g >= graphs) return;
  const int no = node_offset[g], nn = node_offset[g + 1];
  const int eo = o_ptr[no], ee = o_ptr[nn];
  __global int* in = order_a;
  __global int* out = order_b;
  for (int u = no; u < nn; ++u) in[u] = u;
  int count[256];
  for (int shift = 0; shift < key_bits; shift += 8) {
    for (int d = 0; d < 256; ++d) count[d] = 0;
    for (int p = no; p < nn; ++p) ++count[(((uint)key_rank[in[p]] ^ 0x80000000u) >> shift) & 255u];
    int run = no;
    for (int d = 0; d < 256; ++d) {
      const int c = count[d];
      count[d] = run;
      run += c;
    }
    for (int p = no; p < nn; ++p) {
      const int u = in[p];
      out[count[(((uint)key_rank[u] ^ 0x80000000u) >> shift) & 255u]++] = u;
    }
    __global int* t = in;
    in = out;
    out = t;
  }
  for (int v = no; v < nn; ++v) t_ptr[v] = 0;
  for (int j = eo; j < ee; ++j) ++t_ptr[o_dst[j]];
  int run = eo;
  for (int v = no; v < nn; ++v) {
    const int c = t_ptr[v];
    t_ptr[v] = run;
    run += c;
  }
  for (int p = no; p < nn; ++p) {
    const int u = in[p];
    const int je = o_ptr[u + 1];
    for (int j = o_ptr[u]; j < je; ++j) {
      const int pos = t_ptr[o_dst[j]]++;
      t_src[pos] = u;
      t_wr[pos] = (float2)(flush(weight[j]), flush(rel_mult[j]));
    }
  }
  // t_ptr[v] now holds the end of v's list, which is where v+1's begins.
  for (int v = nn - 1; v > no; --v) t_ptr[v] = t_ptr[v - 1];
  if (nn > no) t_ptr[no] = eo;
  if (g == graphs - 1) t_ptr[nn] = ee;
}

// Exclusive scan in place of the `rows` x `cols` array data (row-major), taken in
// column-major order: element k of the scan is data[(k % cols) * rows + k / cols]
// (cols = 1: a plain array). The histograms above are one row per item and are
// scanned digit by digit. Three launches: item i sums its chunk of k (scan_sums), one
// item scans the sums (scan_partials; partial[parts] = total), and item i rewrites its
// chunk from its offset (scan_apply). Integer sums: exact in any order.
inline int scan_at(int k, int rows, int cols) {
  return (k % cols) * rows + k / cols;
}

__kernel void scan_sums(const int rows, const int cols, const int chunk, const int parts,
                        __global const int* data, __global int* partial) {
  const int i = (int)get_global_id(0);
  if (i >= parts) return;
  const int b = i * chunk, e = min(rows * cols, b + chunk);
  int s = 0;
  for (int k = b; k < e; ++k) s += data[scan_at(k, rows, cols)];
  partial[i] = s;
}

__kernel void scan_partials(const int parts, __global int* partial) {
  if (get_global_id(0) != 0) return;
  int run = 0;
  for (int i = 0; i < parts; ++i) {
    const int c = partial[i];
    partial[i] = run;
    run += c;
  }
  partial[parts] = run;
}

__kernel void scan_apply(const int rows, const int cols, const int chunk, const int parts,
                         __global int* data, __global const int* partial) {
  const int i = (int)get_global_id(0);
  if (i >= parts) return;
  const int b = i * chunk, e = min(rows * cols, b + chunk);
  int run = partial[i];
  for (int k = b; k < e; ++k) {
    const int at = scan_at(k, rows, cols);
    const int c = data[at];
    data[at] = run;
    run += c;
  }
}
