// gemm_regtile.cl: register-tiled GEMM, no local memory, no barriers.
//
//   C = alpha * op(A) * op(B) + beta * C      (float32)
//
// Each work-item owns an MR x NR tile of C and keeps it in MR * NR/VW vector
// registers of width VW. B arrives packed into NR-wide column panels (gemm_pack.cl);
// A arrives packed into MR-high row panels when PACK_A = 1, else it is read in place
// through (offA, sai, sak).
//
// Parameters (-D; the defaults below let the file build alone):
//   MR      rows of C per work-item                               default 6
//   NR      columns of C per work-item (a multiple of VW)         default 16
//   VW      vector width of the accumulators: 1, 2, 4, 8 or 16    default 8
//   WGM     work-group size along rows of tiles (dimension 1)     default 1
//   WGN     work-group size along columns of tiles (dimension 0)  default 16
//   PACK_A  1: read A from MR-high panels; 0: read A in place     default 1
//
// Memory (K = depth, panels from gemm_pack.cl with Kp = K):
//
//        Bp panel jp (NR wide)            C tile (ip, jp)
//   k=0  [b b b b ... b]                  rows ip*MR .. ip*MR+MR-1
//   k=1  [b b b b ... b]                  cols jp*NR .. jp*NR+NR-1
//   ...                                   work-item (jp, ip) = global id (0, 1)
//
//   Ap panel ip (PACK_A=1):  Ap[(ip*K + k)*MR + r] = op(A)(ip*MR + r, k)
//
// Order of operations (the promise behind bitwise parity): for each element,
//   acc = 0.0f; for k = 0 .. K-1: acc = fma(a(i,k), b(k,j), acc)     (ascending k)
//   t = alpha * acc;  C = (beta == 0) ? t : fma(beta, C_old, t)
// C is never read when beta == 0. Vector lanes are independent elements.

#pragma OPENCL FP_CONTRACT OFF

#ifndef MR
#define MR 6
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
#define WGN 16
#endif
#ifndef PACK_A
#define PACK_A 1
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
void gemm_regtile(const int M, const int N, const int K, const float alpha, const float beta,
                  __global const float* restrict A, const long offA, const long sai,
                  const long sak, __global const float* restrict Bp, __global float* C,
                  const long offC, const long sci, const long scj) {
  const int jp = get_global_id(0);
  const int ip = get_global_id(1);
  if (jp * NR >= N || ip * MR >= M) return;  // padding work-items of the last group

  // Fixed-trip loops are fully unrolled so the accumulators live in registers.
  realV acc[MR][NV];
#pragma unroll
  for (int r = 0; r < MR; ++r)
#pragma unroll
    for (int c = 0; c < NV; ++c) acc[r][c] = (realV)(0.0f);

  __global const float* bp = Bp + (long)jp * K * NR;
#if PACK_A
  __global const float* ap = A + (long)ip * K * MR;
#else
  long arow[MR];  // rows past M are clamped; their results are never stored
#pragma unroll
  for (int r = 0; r < MR; ++r) arow[r] = offA + (long)min(ip * MR + r, M - 1) * sai;
#endif

  // Unrolled by 4 so loads of the next k steps overlap the FMAs of this one (measured:
  // +20-25% at 1024^3 and 2048^3 on PoCL/AVX2). Each element still sees ascending k.
#pragma unroll 4
  for (int k = 0; k < K; ++k) {
    realV b[NV];
#pragma unroll
    for (int c = 0; c < NV; ++c) b[c] = LOADV(c, bp + (long)k * NR);
#pragma unroll
    for (int r = 0; r < MR; ++r) {
#if PACK_A
      const float a = ap[(long)k * MR + r];
#else
      const float a = A[arow[r] + (long)k * sak];
#endif
#pragma unroll
      for (int c = 0; c < NV; ++c) acc[r][c] = fma((realV)(a), b[c], acc[r][c]);
    }
  }

  for (int r = 0; r < MR; ++r) {
    const int i = ip * MR + r;
    if (i >= M) break;
    for (int c = 0; c < NV; ++c) {
      float lane[VW];
      STOREV(acc[r][c], 0, lane);
      for (int v = 0; v < VW; ++v) {
        const int j = jp * NR + c * VW + v;
        if (j >= N) break;
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
