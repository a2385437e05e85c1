// Layered graph propagation (the T1 stage), bit-identical to the CPU reference
// (DESIGN.md, "Layered propagation"; host/propagate/cpu_layered.cpp).
//
// Parameters (-D, with defaults):
//   PROP_WG  work-group size of every kernel here (default 128); the host launches
//            with exactly this local size (local scratch arrays are sized by it).
//
// Data layout: a batch of graphs is concatenated into one node range [0, n) and one
// edge range; graph_of[u] names the graph of node u (nodes of a graph are contiguous).
//
//   out-CSR (push side)     o_ptr[u] .. o_ptr[u+1]-1  ->  o_dst[j]  (global node ids)
//   in-CSR  (pull side)     t_ptr[v] .. t_ptr[v+1]-1  ->  t_src[j], t_w[j], t_rm[j]
//
// The host builds the in-CSR so that the in-edges of every v are listed in ascending
// (key_rank[u], u, e): the canonical summation order. t_w and t_rm are the edge's weight
// and rel_mult, already flushed (|x| < FLT_MIN -> +0.0f) on the host, as the reference
// reads them.
//
// One layer d is two launches, one work-item per node:
//   prop_expand (item u): if u is in the frontier F_d, either counts a node-budget hit
//     (|acc[u]| >= node_budget) or marks u expanding, adds its out-degree to the graph's
//     "expanded edges" and, when contributions are allowed at depth d+1 (`mark`), sets
//     touched[v] = 1 for each out-neighbour v (every writer stores the same value).
//   prop_pull (item v): if touched[v], walks v's in-edges in canonical order and, for
//     each expanding source u,
//         t = flush(flush(flush(c_cur[u] * w) * rel_mult) * decay)      (3 multiplies)
//     drops t if |t| < eps, else sum = flush(sum + t) starting from 0.0f. If anything
//     arrived: c_next[v] = sum, acc[v] = flush(acc[v] + sum) (once), v joins F_{d+1}.
//     Each item's sum is sequential in that fixed order, so the bits do not depend on
//     scheduling; no atomics touch floats.
// Per-graph counters (int, summed by the host into 64-bit metrics per layer) are reduced
// in local memory per contiguous run of one graph's nodes in the work-group, then added
// with one atomic per run. max_delta_local travels as the int bits of |t| (non-negative
// floats order like their bit patterns), combined with atomic_max.
//
// No fma, no pow, no relaxed math: the decay value of each layer comes from the host
// table as an argument; built without -cl-fast-relaxed-math / -cl-mad-enable.

#pragma OPENCL FP_CONTRACT OFF

#ifndef PROP_WG
#define PROP_WG 128
#endif

// Counter slots per graph.
#define C_BUDGET_HITS 0
#define C_EXPANDED_EDGES 1
#define C_NEXT_FRONTIER 2
#define C_PROPAGATIONS 3
#define C_MAX_BITS 4
#define C_COUNT 5

inline float flush(float x) { return fabs(x) < FLT_MIN ? 0.0f : x; }

// Reduces (a, b, c) over each run of equal graph ids g in the work-group (g < 0: no
// node) and adds them to counters[g * C_COUNT + slot_*]; c is combined with max when
// c_is_max. Every item of the group must call it.
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
    __global int* cg = counters + g * C_COUNT;
    if (sa != 0) atomic_add(cg + slot_a, sa);
    if (sb != 0) atomic_add(cg + slot_b, sb);
    if (sc != 0) {
      if (c_is_max) {
        atomic_max(cg + slot_c, sc);
      } else {
        atomic_add(cg + slot_c, sc);
      }
    }
  }
}

__kernel __attribute__((reqd_work_group_size(PROP_WG, 1, 1))) void prop_expand(
    const int n, __global const int* graph_of, __global const uchar* front,
    __global const float* acc, __global const int* o_ptr, __global const int* o_dst,
    __global uchar* expanding, __global uchar* touched, const float node_budget, const int mark,
    __global int* counters) {
  __local int lg[PROP_WG], la[PROP_WG], lb[PROP_WG], lc[PROP_WG];
  const int u = (int)get_global_id(0);
  int g = -1, hit = 0, degree = 0;
  if (u < n) {
    g = graph_of[u];
    uchar ex = 0;
    if (front[u]) {
      if (fabs(acc[u]) >= node_budget) {
        hit = 1;
      } else {
        ex = 1;
        const int b = o_ptr[u], e = o_ptr[u + 1];
        degree = e - b;
        if (mark) {
          for (int j = b; j < e; ++j) touched[o_dst[j]] = 1;
        }
      }
    }
    expanding[u] = ex;
  }
  commit_counters(lg, la, lb, lc, g, hit, degree, 0, C_BUDGET_HITS, C_EXPANDED_EDGES,
                  C_EXPANDED_EDGES, 0, counters);
}

__kernel __attribute__((reqd_work_group_size(PROP_WG, 1, 1))) void prop_pull(
    const int n, __global const int* graph_of, __global const int* t_ptr,
    __global const int* t_src, __global const float* t_w, __global const float* t_rm,
    __global const uchar* expanding, __global const float* c_cur, __global uchar* touched,
    __global float* c_next, __global uchar* front_next, __global float* acc, const float decay,
    const float eps, __global int* counters) {
  __local int lg[PROP_WG], la[PROP_WG], lb[PROP_WG], lc[PROP_WG];
  const int v = (int)get_global_id(0);
  int g = -1, got = 0, props = 0, max_bits = 0;
  if (v < n) {
    g = graph_of[v];
    if (touched[v]) {
      touched[v] = 0;
      float sum = 0.0f;
      const int e = t_ptr[v + 1];
      for (int j = t_ptr[v]; j < e; ++j) {
        const int u = t_src[j];
        if (!expanding[u]) continue;
        float t = flush(c_cur[u] * t_w[j]);
        t = flush(t * t_rm[j]);
        t = flush(t * decay);
        const float a = fabs(t);
        if (a < eps) continue;
        got = 1;
        ++props;
        max_bits = max(max_bits, as_int(a));
        sum = flush(sum + t);
      }
      if (got) {
        c_next[v] = sum;
        acc[v] = flush(acc[v] + sum);
      }
    }
    front_next[v] = (uchar)got;
  }
  commit_counters(lg, la, lb, lc, g, got, props, max_bits, C_NEXT_FRONTIER, C_PROPAGATIONS,
                  C_MAX_BITS, 1, counters);
}
