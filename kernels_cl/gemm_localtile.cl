// gemm_localtile.cl: work-group-tiled GEMM staged through __local memory, the
// shape GPUs want.
//
//   C = alpha * op(A) * op(B) + beta * C      (float32)
//
// A work-group of NDIMC x MDIMC work-items computes an MWG x NWG tile of C. For each
// KWG-deep slice of K it copies the matching A panel slice (KWG x MWG) and B panel
// slice (KWG x NWG) into __local memory with VWM-wide vector loads, then every
// work-item accumulates its WPTM x WPTN elements, strided by MDIMC rows and NDIMC
// columns so neighbouring work-items read neighbouring local words.
//
// Parameters (-D; the defaults below let the file build alone):
//   MWG    rows of C per work-group                                   default 64
//   NWG    columns of C per work-group                                default 64
//   KWG    depth of one staged K slice                                default 16
//   MDIMC  work-items along rows (dimension 1)                        default 16
//   NDIMC  work-items along columns (dimension 0)                     default 16
//   VWM    vector width of global->local copies: 1, 2 or 4           default 4
//   LPAD   extra floats per local row against bank conflicts: 0 or 1 default 1
//
// Memory (panels from gemm_pack.cl, Kp = K rounded up to KWG, zero padded):
//
//   Ap panel ip:  Ap[(ip*Kp + k)*MWG + r] = op(A)(ip*MWG + r, k)
//   Bp panel jp:  Bp[(jp*Kp + k)*NWG + c] = op(B)(k, jp*NWG + c)
//   one K slice of a panel is a contiguous KWG*MWG (KWG*NWG) block:
//
//      Als[kk][r]  (row length MWG + LPAD)    Bls[kk][c]  (row length NWG + LPAD)
//
//   work-item (tx, ty) owns rows ty + wm*MDIMC and columns tx + wn*NDIMC of the tile.
//
// Order of operations (the promise behind bitwise parity): for each element,
//   acc = 0.0f; for k = 0 .. Kp-1: acc = fma(a(i,k), b(k,j), acc)     (ascending k)
//   t = alpha * acc;  C = (beta == 0) ? t : fma(beta, C_old, t)
// Padded k (K <= k < Kp) adds fma(0, 0, acc) == acc exactly (acc is never -0), so
// the bits are those of the K-step loop. C is never read when beta == 0.

#pragma OPENCL FP_CONTRACT OFF

#ifndef MWG
#define MWG 64
#endif
#ifndef NWG
#define NWG 64
#endif
#ifndef KWG
#define KWG 16
#endif
#ifndef MDIMC
#define MDIMC 16
#endif
#ifndef NDIMC
#define NDIMC 16
#endif
#ifndef VWM
#define VWM 4
#endif
#ifndef LPAD
#define LPAD 1
#endif

#define WPTM (MWG / MDIMC)
#define WPTN (NWG / NDIMC)
#define THREADS (MDIMC * NDIMC)
#define LDA_L (MWG + LPAD)
#define LDB_L (NWG + LPAD)

#if VWM == 1
#define realM float
#define LOADM(i, p) ((p)[i])
#define STOREM(v, p) ((p)[0] = (v))
#else
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define realM CAT(float, VWM)
#define LOADM(i, p) CAT(vload, VWM)(i, p)
#define STOREM(v, p) CAT(vstore, VWM)(v, 0, p)
#endif

// Copies a contiguous KWG x W block (row length W) into local rows of length W + LPAD.
#define STAGE(W, LDL, src, dst)                                          \
  for (int v = tid; v < (KWG * (W)) / VWM; v += THREADS) {               \
    const realM x = LOADM(v, src);                                       \
    const int e = v * VWM;                                               \
    const int kk = e / (W);                                              \
    const int q = e - kk * (W);                                          \
    STOREM(x, (dst) + kk * (LDL) + q);                                   \
  }

__kernel __attribute__((reqd_work_group_size(NDIMC, MDIMC, 1)))
void gemm_localtile(const int M, const int N, const int Kp, const float alpha, const float beta,
                    __global const float* restrict Ap, __global const float* restrict Bp,
                    __global float* C, const long offC, const long sci, const long scj) {
  __local float Als[KWG * LDA_L];
  __local float Bls[KWG * LDB_L];
  const int tx = get_local_id(0);
  const int ty = get_local_id(1);
  const int tid = ty * NDIMC + tx;
  const int jp = get_group_id(0);
  const int ip = get_group_id(1);

  float acc[WPTM][WPTN];
  for (int wm = 0; wm < WPTM; ++wm)
    for (int wn = 0; wn < WPTN; ++wn) acc[wm][wn] = 0.0f;

  __global const float* ap = Ap + (long)ip * Kp * MWG;
  __global const float* bp = Bp + (long)jp * Kp * NWG;
  for (int k0 = 0; k0 < Kp; k0 += KWG) {
    barrier(CLK_LOCAL_MEM_FENCE);
    STAGE(MWG, LDA_L, ap + (long)k0 * MWG, Als)
    STAGE(NWG, LDB_L, bp + (long)k0 * NWG, Bls)
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < KWG; ++kk) {
      float a[WPTM];
      float b[WPTN];
      for (int wm = 0; wm < WPTM; ++wm) a[wm] = Als[kk * LDA_L + ty + wm * MDIMC];
      for (int wn = 0; wn < WPTN; ++wn) b[wn] = Bls[kk * LDB_L + tx + wn * NDIMC];
      for (int wm = 0; wm < WPTM; ++wm)
        for (int wn = 0; wn < WPTN; ++wn) acc[wm][wn] = fma(a[wm], b[wn], acc[wm][wn]);
    }
  }

  for (int wm = 0; wm < WPTM; ++wm) {
    const int i = ip * MWG + ty + wm * MDIMC;
    if (i >= M) break;
    for (int wn = 0; wn < WPTN; ++wn) {
      const int j = jp * NWG + tx + wn * NDIMC;
      if (j >= N) break;
      const long idx = offC + (long)i * sci + (long)j * scj;
      const float t = alpha * acc[wm][wn];
      if (beta == 0.0f) {
        C[idx] = t;
      } else {
        C[idx] = fma(beta, C[idx], t);
      }
    }
  }
}
