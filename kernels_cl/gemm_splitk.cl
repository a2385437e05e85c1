// gemm_splitk.cl: split-K GEMM in two passes. Tolerance-only: it sums K in a different
// order from the canonical accumulation, so its bits may differ from the reference; it
// is held to the gamma(K) error bound instead (docs/parity.md).
//
//   C = alpha * op(A) * op(B) + beta * C      (float32)
//
//   a(i, k) = A[offA + i * sai + k * sak]      b(k, j) = B[offB + k * sbk + j * sbj]
//   C(i, j) = C[offC + i * sci + j * scj]
//
// Pass 1 (gemm_splitk): K is cut into SPLITS chunks of `chunk` = ceil(K / SPLITS)
// consecutive k. Work-item (j, s * Mr + i) computes one chunk of one element:
//   p = 0.0f; for k in chunk s (ascending): p = fma(a(i,k), b(k,j), p)
// and stores it in P[(s * M + i) * N + j]. The chunks of one element run in parallel.
//
// Pass 2 (gemm_splitk_reduce): work-item (j, i) adds the chunks in order s = 0, 1, ...:
//   acc = P[0] + P[1] + ... + P[SPLITS-1]      (left to right, plain float adds)
//   t = alpha * acc;  C = (beta == 0) ? t : fma(beta, C_old, t)
// C is never read when beta == 0. The order is fixed, so the result is deterministic
// (the same bits on every run), only not the canonical bits.
//
// Parameters (-D; the defaults below let the file build alone):
//   SPLITS  chunks of K, 2..16                                 default 4
//   WGX     work-group size along columns of C (dimension 0)   default 16
//   WGY     work-group size along rows (dimension 1)           default 1

#pragma OPENCL FP_CONTRACT OFF

#ifndef SPLITS
#define SPLITS 4
#endif
#ifndef WGX
#define WGX 16
#endif
#ifndef WGY
#define WGY 1
#endif

__kernel void gemm_splitk(const int M, const int N, const int K, const int chunk, const int Mr,
                          __global const float* A, const long offA, const long sai, const long sak,
                          __global const float* B, const long offB, const long sbk, const long sbj,
                          __global float* P) {
  const int j = (int)get_global_id(0);
  const int row = (int)get_global_id(1);
  const int s = row / Mr;
  const int i = row - s * Mr;
  if (j >= N || i >= M || s >= SPLITS) return;
  const int k0 = s * chunk;
  const int k1 = min(K, k0 + chunk);
  float p = 0.0f;
  for (int k = k0; k < k1; ++k) {
    p = fma(A[offA + (long)i * sai + (long)k * sak], B[offB + (long)k * sbk + (long)j * sbj], p);
  }
  P[((long)s * M + i) * N + j] = p;
}

__kernel void gemm_splitk_reduce(const int M, const int N, const float alpha, const float beta,
                                 __global const float* P, __global float* C, const long offC,
                                 const long sci, const long scj) {
  const int j = (int)get_global_id(0);
  const int i = (int)get_global_id(1);
  if (j >= N || i >= M) return;
  const long mn = (long)M * N;
  const long at = (long)i * N + j;
  float acc = P[at];
  for (int s = 1; s < SPLITS; ++s) acc = acc + P[(long)s * mn + at];
  const float t = alpha * acc;
  const long c = offC + (long)i * sci + (long)j * scj;
  C[c] = (beta == 0.0f) ? t : fma(beta, C[c], t);
}
