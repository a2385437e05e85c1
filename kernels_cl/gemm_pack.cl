// gemm_pack.cl: copies op(A) or op(B) into contiguous, zero-padded panels, so the
// GEMM kernels read one layout whatever the caller's layout, transposes, leading
// dimensions and offsets were.
//
// Parameters (-D, defaults below so the file also builds alone):
//   PANEL  panel width: rows of op(A) per panel (MR or MWG), or columns of op(B)
//          per panel (NR or NWG)                                       default 8
//
// A logical matrix X(p, k), 0 <= p < P, 0 <= k < K, is read from
//   src[off + p * sp + k * sk]
// (for op(A): p = row i; for op(B): p = column j). It is written as
//
//   dst: | panel 0                 | panel 1                 | ...
//        | k=0: X(0..PANEL-1, 0)   | k=0: X(PANEL..2*PANEL-1,0)|
//        | k=1: X(0..PANEL-1, 1)   | ...                      |
//        | ... up to k = Kp-1      |                          |
//
//   dst[(pp * Kp + k) * PANEL + q] = X(pp * PANEL + q, k), or 0.0f outside the
//   matrix (p >= P or k >= K). Kp >= K is K rounded up to the consumer's k-block.
//
// Work-item (k, pp) writes one PANEL-wide row of panel pp. Only copies: no arithmetic,
// so packing never changes a bit.

#ifndef PANEL
#define PANEL 8
#endif

__kernel void pack_panels(const int P, const int K, const int Kp,
                          __global const float* restrict src, const long off, const long sp,
                          const long sk, __global float* restrict dst) {
  const int k = get_global_id(0);
  const int pp = get_global_id(1);
  if (k >= Kp) return;
  __global float* row = dst + ((long)pp * Kp + k) * PANEL;
  const int p0 = pp * PANEL;
  if (k < K && p0 + PANEL <= P && sp == 1) {
    // Contiguous source row (e.g. row-major B, or column-major A): vector copy.
    __global const float* s = src + off + p0 + (long)k * sk;
#if PANEL % 4 == 0
    for (int q = 0; q < PANEL / 4; ++q) vstore4(vload4(q, s), q, row);
#else
    for (int q = 0; q < PANEL; ++q) row[q] = s[q];
#endif
    return;
  }
  for (int q = 0; q < PANEL; ++q) {
    const int p = p0 + q;
    row[q] = (p < P && k < K) ? src[off + (long)p * sp + (long)k * sk] : 0.0f;
  }
}
