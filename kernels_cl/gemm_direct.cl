// gemm_direct.cl: register-tiled GEMM in one launch, no packing pass, no local memory.
//
//   C = alpha * op(A) * op(B) + beta * C      (float32)
//
// op(A) and op(B) are read in place through strides, so every layout, transpose,
// leading dimension and offset is one kernel:
//
//   a(i, k) = A[offA + i * sai + k * sak]      b(k, j) = B[offB + k * sbk + j * sbj]
//   C(i, j) = C[offC + i * sci + j * scj]
//
// Each work-item owns an MR x NR tile of C held in MR * NR/VW vector registers of width
// VW. Per k it loads NR values of row k of op(B) (one vloadVW per vector when sbj == 1
// and N >= NR, else a gather with clamped columns) and MR scalars of column k of op(A)
// (rows past M clamped; their results are never stored). The last tile of a row or
// column is shifted back inside the matrix, overlapping its neighbour: the overlap is
// computed twice, identically, and stored once.
//
// The host swaps the roles of A and B (computing C^T = op(B)^T op(A)^T, with C's
// strides swapped) when that turns a strided op(B) row into a contiguous one: then
// fma(b, a, acc) replaces fma(a, b, acc), which is the same exact product.
//
// Parameters (-D; the defaults below let the file build alone):
//   MR   rows of C per work-item                               default 4
//   NR   columns of C per work-item (a multiple of VW)         default 16
//   VW   vector width of the accumulators: 1, 2, 4, 8 or 16    default 8
//   WGM  work-group size along rows of tiles (dimension 1)     default 1
//   WGN  work-group size along columns of tiles (dimension 0)  default 1
//
// Layout (row-major, op = n shown; the other cases differ only in the strides):
//
//        op(B): K x N                       C: M x N
//   k=0  [. . . [b b b b] . . .]            +------------------+
//   k=1  [. . . [b b b b] . . .]            |     [ MR x NR ]  |  tile (ip, jp) =
//   ...          NR wide, col jp*NR         |     [  tile   ]  |  work-item (jp, ip)
//                                           +------------------+  = global id (0, 1)
//        op(A): M x K
//   row ip*MR   [a a a a a ... ] (k ->)
//   ...  MR rows, one scalar each per k
//
// Order of operations (the promise behind bitwise parity): for each element,
//   acc = 0.0f; for k = 0 .. K-1: acc = fma(a(i,k), b(k,j), acc)     (ascending k)
//   t = alpha * acc;  C = (beta == 0) ? t : fma(beta, C_old, t)
// C is never read when beta == 0. Vector lanes are independent elements.

#pragma OPENCL FP_CONTRACT OFF

#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 16
#endif
#ifndef VW
#define VW 8
#endif
#ifndef WGM
#define WGM 1
#endif
#ifndef WGN
#define WGN 1
#endif

#define NV (NR / VW)

#if VW == 1
#define realV float
#define LOADV(i, p) ((p)[i])
#define STOREV(v, i, p) ((p)[i] = (v))
#else
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define realV CAT(float, VW)
#define LOADV(i, p) CAT(vload, VW)(i, p)
#define STOREV(v, i, p) CAT(vstore, VW)(v, i, p)
#endif

__kernel __attribute__((reqd_work_group_size(WGN, WGM, 1)))
void gemm_direct(const int M, const int N, const int K, const float alpha, const float beta,
                 __global const float* restrict A, const long offA, const long sai,
                 const long sak, __global const float* restrict B, const long offB,
                 const long sbk, const long sbj, __global float* C, const long offC,
                 const long sci, const long scj) {
  const int jp = get_global_id(0);
  const int ip = get_global_id(1);
  const int i0 = ip * MR;  // the tile this work-item stores
  const int j0 = jp * NR;
  if (j0 >= N || i0 >= M) return;  // padding work-items of the last group
  // The last tile of a row or column is shifted back to end at M or N (when the matrix
  // is at least a tile wide), so it stays on the vector path; it recomputes a few
  // elements of its neighbour with the same k order and stores only its own.
  const int it = (i0 + MR > M && M >= MR) ? M - MR : i0;  // the tile it computes
  const int jt = (j0 + NR > N && N >= NR) ? N - NR : j0;

  // Fixed-trip loops are fully unrolled so the accumulators live in registers.
  realV acc[MR][NV];
#pragma unroll
  for (int r = 0; r < MR; ++r)
#pragma unroll
    for (int c = 0; c < NV; ++c) acc[r][c] = (realV)(0.0f);

  long arow[MR];
#pragma unroll
  for (int r = 0; r < MR; ++r) arow[r] = offA + (long)min(it + r, M - 1) * sai;

  const bool full_n = jt + NR <= N;
  if (full_n && sbj == 1) {
    // Contiguous rows of op(B): one vector load per VW columns.
    __global const float* bp = B + offB + jt;
#pragma unroll 4
    for (int k = 0; k < K; ++k) {
      realV b[NV];
#pragma unroll
      for (int c = 0; c < NV; ++c) b[c] = LOADV(c, bp + (long)k * sbk);
#pragma unroll
      for (int r = 0; r < MR; ++r) {
        const float a = A[arow[r] + (long)k * sak];
#pragma unroll
        for (int c = 0; c < NV; ++c) acc[r][c] = fma((realV)(a), b[c], acc[r][c]);
      }
    }
  } else {
    // Strided rows of op(B), or N < NR: gather, columns past N clamped.
    long bcol[NR];
#pragma unroll
    for (int q = 0; q < NR; ++q) bcol[q] = offB + (long)min(jt + q, N - 1) * sbj;
#pragma unroll 2
    for (int k = 0; k < K; ++k) {
      float row[NR];
#pragma unroll
      for (int q = 0; q < NR; ++q) row[q] = B[bcol[q] + (long)k * sbk];
      realV b[NV];
#pragma unroll
      for (int c = 0; c < NV; ++c) b[c] = LOADV(c, row);
#pragma unroll
      for (int r = 0; r < MR; ++r) {
        const float a = A[arow[r] + (long)k * sak];
#pragma unroll
        for (int c = 0; c < NV; ++c) acc[r][c] = fma((realV)(a), b[c], acc[r][c]);
      }
    }
  }

  if (full_n && jt == j0 && it + MR <= M && scj == 1) {
    // Whole columns of the tile, contiguous rows of C: vector stores (same per-lane
    // arithmetic). Rows below i0 belong to the neighbouring tile.
#pragma unroll
    for (int r = 0; r < MR; ++r) {
      if (it + r < i0) continue;
      __global float* crow = C + offC + (long)(it + r) * sci + j0;
#pragma unroll
      for (int c = 0; c < NV; ++c) {
        const realV t = (realV)(alpha) * acc[r][c];
        if (beta == 0.0f) {
          STOREV(t, c, crow);
        } else {
          STOREV(fma((realV)(beta), LOADV(c, crow), t), c, crow);
        }
      }
    }
    return;
  }
  for (int r = 0; r < MR; ++r) {
    const int i = it + r;
    if (i >= M) break;
    if (i < i0) continue;
    for (int c = 0; c < NV; ++c) {
      float lane[VW];
      STOREV(acc[r][c], 0, lane);
      for (int v = 0; v < VW; ++v) {
        const int j = jt + c * VW + v;
        if (j >= N) break;
        if (j < j0) continue;
        const long idx = offC + (long)i * sci + (long)j * scj;
        const float t = alpha * lane[v];
        if (beta == 0.0f) {
          C[idx] = t;
        } else {
          C[idx] = fma(beta, C[idx], t);
        }
      }
    }
  }
}
