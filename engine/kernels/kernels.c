/*
 * Hand-written WebAssembly SIMD kernels for the built-in ESRGAN graphs (fp32, NHWC), driven by
 * program.ts. Built by tools/kernels/build-kernels.ts with clang (wasm32, -msimd128 and optionally
 * -mrelaxed-simd, freestanding: no libc); the caller owns the memory.
 *
 * Activations are NHWC with a zero border: PADL pixels left/top and PADR right/bottom, so no
 * kernel needs bounds checks (a W x H image with C channels holds (W+PADL+PADR)*(H+PADL+PADR)*C
 * floats). Kernels write only the W x H interior, so the border stays zero. A convolution reads one
 * or more channel slices (a Concat is never materialised) and writes a channel range of its output
 * buffer with the bias, an optional residual add and an optional ReLU fused in.
 *
 * - conv_direct: any odd k x k, stride 1, 'same' padding.
 * - conv_winograd: 3x3 as Winograd F(6x6, 3x3) (64 multiplies per 36 outputs instead of 324) and
 *   5x5 as F(4x4, 5x5) (64 per 16 outputs instead of 400), on the same 8x8 input transform.
 */
#include <wasm_simd128.h>

#define PADL 2
#define PADR 6 /* F(6x6, 3x3) tiles read up to 6 columns and rows past the image */

#ifdef RELAXED
#define MADD(a, b, c) __builtin_wasm_relaxed_madd_f32x4((a), (b), (c))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

#define COB 8 /* output channels per block: two v128 */
#ifndef PXB
#define PXB 4 /* pixels (or Winograd tiles) per micro-kernel: 8 accumulators, so V8 keeps all in registers */
#endif
#ifndef TB
#define TB 20 /* Winograd tiles per block, a multiple of PXB (kernel-session.ts sizes the scratch for up to 32) */
#endif
_Static_assert(TB % PXB == 0, "TB must be a multiple of PXB");

#define F4(x) wasm_f32x4_splat(x)
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul

typedef struct {
  const float *data; /* padded buffer, offset to the slice's first channel */
  int stride;        /* channels of the buffer */
  int channels;      /* channels of this slice */
  const float *w;    /* direct: this slice's packed weights [co/COB][k*k][channels][COB] */
} Slice;

enum { FLAG_RELU = 1, FLAG_RESIDUAL = 2, FLAG_PRELU = 4 };

static inline int pixel(int y, int x, int W) { return (y + PADL) * (W + PADL + PADR) + x + PADL; }

/*
 * Bias + residual + activation for COB channels of one pixel, storing only the first n. The
 * activation is ReLU, or PReLU with per-channel slopes `sl` (COB of them; LeakyReLU is PReLU with
 * one slope everywhere): max(v, 0) + slope * min(v, 0).
 */
static inline void epilogue(v128_t lo, v128_t hi, float *o, const float *r, int n, int flags, const float *sl) {
  if (flags & FLAG_RESIDUAL) {
    if (n == COB) {
      lo = ADD(lo, wasm_v128_load(r));
      hi = ADD(hi, wasm_v128_load(r + 4));
    } else {
      float t[COB];
      for (int j = 0; j < COB; j++) t[j] = j < n ? r[j] : 0;
      lo = ADD(lo, wasm_v128_load(t));
      hi = ADD(hi, wasm_v128_load(t + 4));
    }
  }
  if (flags & FLAG_RELU) {
    lo = wasm_f32x4_max(lo, F4(0));
    hi = wasm_f32x4_max(hi, F4(0));
  } else if (flags & FLAG_PRELU) {
    lo = ADD(wasm_f32x4_max(lo, F4(0)), MUL(wasm_v128_load(sl), wasm_f32x4_min(lo, F4(0))));
    hi = ADD(wasm_f32x4_max(hi, F4(0)), MUL(wasm_v128_load(sl + 4), wasm_f32x4_min(hi, F4(0))));
  }
  if (n == COB) {
    wasm_v128_store(o, lo);
    wasm_v128_store(o + 4, hi);
  } else {
    float t[COB];
    wasm_v128_store(t, lo);
    wasm_v128_store(t + 4, hi);
    for (int j = 0; j < n; j++) o[j] = t[j];
  }
}

/*
 * Direct convolution for rows y0 <= y < y1. `co` is a multiple of COB (weights zero-padded), only
 * `coReal` channels are stored, at `out` (already offset to the first output channel).
 */
void conv_direct(const Slice *slices, int nslices, int k, int W, int y0, int y1, const float *bias, float *out,
                 int outStride, int co, int coReal, const float *res, int resStride, int flags, const float *slope) {
  const int half = k / 2;
  const int rowPix = W + PADL + PADR;
  for (int y = y0; y < y1; y++) {
    for (int cb = 0; cb < co; cb += COB) {
      const v128_t b0 = wasm_v128_load(bias + cb), b1 = wasm_v128_load(bias + cb + 4);
      const int n = coReal - cb < COB ? coReal - cb : COB;
      int x = 0;
      for (; x + PXB <= W; x += PXB) {
        v128_t acc[PXB][2];
#pragma clang loop unroll(full)
        for (int q = 0; q < PXB; q++) {
          acc[q][0] = b0;
          acc[q][1] = b1;
        }
        for (int s = 0; s < nslices; s++) {
          const Slice sl = slices[s];
          const int ci = sl.channels, st = sl.stride;
          const float *wb = sl.w + (cb / COB) * (k * k * ci * COB);
          for (int ky = 0; ky < k; ky++) {
            const float *row = sl.data + (pixel(y + ky - half, x - half, W)) * st;
            for (int kx = 0; kx < k; kx++) {
              const float *p = row + kx * st;
              const float *wp = wb + (ky * k + kx) * ci * COB;
              for (int c = 0; c < ci; c++, wp += COB) {
                const v128_t w0 = wasm_v128_load(wp), w1 = wasm_v128_load(wp + 4);
#pragma clang loop unroll(full)
                for (int q = 0; q < PXB; q++) {
                  const v128_t v = wasm_v128_load32_splat(p + q * st + c);
                  acc[q][0] = MADD(v, w0, acc[q][0]);
                  acc[q][1] = MADD(v, w1, acc[q][1]);
                }
              }
            }
          }
        }
        const int p0 = pixel(y, x, W);
        const float *r = res ? res + p0 * resStride + cb : 0;
        float *o = out + p0 * outStride + cb;
#pragma clang loop unroll(full)
        for (int q = 0; q < PXB; q++)
          epilogue(acc[q][0], acc[q][1], o + q * outStride, r + q * resStride, n, flags, slope + cb);
      }
      for (; x < W; x++) {
        v128_t a0 = b0, a1 = b1;
        for (int s = 0; s < nslices; s++) {
          const Slice sl = slices[s];
          const int ci = sl.channels, st = sl.stride;
          const float *wb = sl.w + (cb / COB) * (k * k * ci * COB);
          for (int ky = 0; ky < k; ky++) {
            const float *row = sl.data + (pixel(y + ky - half, x - half, W)) * st;
            for (int kx = 0; kx < k; kx++) {
              const float *p = row + kx * st;
              const float *wp = wb + (ky * k + kx) * ci * COB;
              for (int c = 0; c < ci; c++, wp += COB) {
                const v128_t v = wasm_v128_load32_splat(p + c);
                a0 = MADD(v, wasm_v128_load(wp), a0);
                a1 = MADD(v, wasm_v128_load(wp + 4), a1);
              }
            }
          }
        }
        const int p0 = pixel(y, x, W);
        epilogue(a0, a1, out + p0 * outStride + cb, res ? res + p0 * resStride + cb : 0, n, flags, slope + cb);
      }
    }
  }
  (void)rowPix;
}

/* One Winograd GEMM: M[t][o] = sum_c V[t][c] U[c][o] for nt tiles (U packed [co/COB][ci][COB]). */
static inline void gemm_tiles(const float *Vk, const float *U0, float *Mk, int nt, int ci, int co) {
  for (int cb = 0; cb < co; cb += COB) {
    const float *Uk = U0 + (cb / COB) * ci * COB;
    int t = 0;
    for (; t + PXB <= nt; t += PXB) {
      v128_t acc[PXB][2];
#pragma clang loop unroll(full)
      for (int q = 0; q < PXB; q++) {
        acc[q][0] = F4(0);
        acc[q][1] = F4(0);
      }
      const float *v = Vk + t * ci;
      const float *w = Uk;
      for (int c = 0; c < ci; c++, w += COB) {
        const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
#pragma clang loop unroll(full)
        for (int q = 0; q < PXB; q++) {
          const v128_t sp = wasm_v128_load32_splat(v + q * ci + c);
          acc[q][0] = MADD(sp, w0, acc[q][0]);
          acc[q][1] = MADD(sp, w1, acc[q][1]);
        }
      }
      float *m = Mk + t * co + cb;
#pragma clang loop unroll(full)
      for (int q = 0; q < PXB; q++) {
        wasm_v128_store(m + q * co, acc[q][0]);
        wasm_v128_store(m + q * co + 4, acc[q][1]);
      }
    }
    for (; t < nt; t++) {
      v128_t a0 = F4(0), a1 = F4(0);
      const float *v = Vk + t * ci;
      const float *w = Uk;
      for (int c = 0; c < ci; c++, w += COB) {
        const v128_t s = wasm_v128_load32_splat(v + c);
        a0 = MADD(s, wasm_v128_load(w), a0);
        a1 = MADD(s, wasm_v128_load(w + 4), a1);
      }
      wasm_v128_store(Mk + t * co + cb, a0);
      wasm_v128_store(Mk + t * co + cb + 4, a1);
    }
  }
}

/* B^T d on the 8-point tiles (points 0, 1, -1, 2, -2, 1/2, -1/2, infinity), 8 vectors. */
static inline void bt8(const v128_t *d, v128_t *o) {
  const v128_t c525 = F4(5.25f), c425 = F4(4.25f), c025 = F4(0.25f), c125 = F4(1.25f);
  const v128_t c05 = F4(0.5f), c25 = F4(2.5f), c2 = F4(2.f), c4 = F4(4.f), c5 = F4(5.f);
  o[0] = ADD(SUB(d[6], d[0]), MUL(c525, SUB(d[2], d[4])));
  o[7] = ADD(SUB(d[7], d[1]), MUL(c525, SUB(d[3], d[5])));
  v128_t t1 = SUB(ADD(d[2], d[6]), MUL(c425, d[4]));
  v128_t t2 = SUB(ADD(d[1], d[5]), MUL(c425, d[3]));
  o[1] = ADD(t1, t2);
  o[2] = SUB(t1, t2);
  t1 = SUB(ADD(MUL(c025, d[2]), d[6]), MUL(c125, d[4]));
  t2 = ADD(SUB(MUL(c05, d[1]), MUL(c25, d[3])), MUL(c2, d[5]));
  o[3] = ADD(t1, t2);
  o[4] = SUB(t1, t2);
  t1 = SUB(ADD(MUL(c4, d[2]), d[6]), MUL(c5, d[4]));
  t2 = ADD(SUB(MUL(c2, d[1]), MUL(c25, d[3])), MUL(c05, d[5]));
  o[5] = ADD(t1, t2);
  o[6] = SUB(t1, t2);
}

/* A^T m on the 8-point tiles: 8 vectors -> m (6 for 3x3 kernels, 4 for 5x5). */
static inline void at8(const v128_t *m, v128_t *o, int n) {
  const v128_t s12 = ADD(m[1], m[2]), d12 = SUB(m[1], m[2]);
  const v128_t s34 = ADD(m[3], m[4]), d34 = SUB(m[3], m[4]);
  const v128_t s56 = ADD(m[5], m[6]), d56 = SUB(m[5], m[6]);
  o[0] = ADD(ADD(m[0], s12), ADD(s34, s56));
  o[1] = ADD(ADD(d12, MUL(F4(2.f), d34)), MUL(F4(0.5f), d56));
  o[2] = ADD(ADD(s12, MUL(F4(4.f), s34)), MUL(F4(0.25f), s56));
  o[3] = ADD(ADD(d12, MUL(F4(8.f), d34)), MUL(F4(0.125f), d56));
  if (n == 4) {
    o[3] = ADD(o[3], m[7]);
    return;
  }
  o[4] = ADD(ADD(s12, MUL(F4(16.f), s34)), MUL(F4(0.0625f), s56));
  o[5] = ADD(ADD(ADD(d12, MUL(F4(32.f), d34)), MUL(F4(0.03125f), d56)), m[7]);
}

/*
 * 'same' convolution as Winograd on 8x8 input tiles: F(6x6, 3x3) when m = 6 (3x3 kernels) or
 * F(4x4, 5x5) when m = 4 (5x5 kernels), over output tile rows [ty0, ty1) (clipped to H).
 * U: transformed weights [64][co/COB][ciTotal][COB] (ciTotal = all slices' channels, each a multiple
 * of 4). Scratch V and M: 64 * TB * ciTotal and 64 * TB * co floats.
 */
void conv_winograd(int m, const Slice *slices, int nslices, int W, int H, int ty0, int ty1, const float *U,
                   const float *bias, float *out, int outStride, int co, int coReal, const float *res,
                   int resStride, int flags, const float *slope, float *V, float *M) {
  int ci = 0;
  for (int s = 0; s < nslices; s++) ci += slices[s].channels;
  const int tilesX = (W + m - 1) / m;
  const int half_k = m == 6 ? 1 : 2;
  for (int ty = ty0; ty < ty1; ty++) {
    for (int tx0 = 0; tx0 < tilesX; tx0 += TB) {
      const int nt = tilesX - tx0 < TB ? tilesX - tx0 : TB;
      /* The GEMM runs whole micro-kernel blocks: up to PXB-1 extra rows of stale, finite scratch whose
         results are never read (TB is a multiple of PXB, so they stay inside the scratch). */
      const int ntGemm = (nt + PXB - 1) / PXB * PXB;
      /* 1. input transform */
      for (int t = 0; t < nt; t++) {
        const int x0 = (tx0 + t) * m - half_k, y0 = ty * m - half_k;
        int cOff = 0;
        for (int s = 0; s < nslices; s++) {
          const Slice sl = slices[s];
          for (int c = 0; c < sl.channels; c += 4) {
            v128_t d[8][8], tmp[8][8];
            for (int i = 0; i < 8; i++) {
              const float *row = sl.data + pixel(y0 + i, x0, W) * sl.stride + c;
              for (int j = 0; j < 8; j++) d[i][j] = wasm_v128_load(row + j * sl.stride);
            }
            for (int j = 0; j < 8; j++) {
              v128_t col[8], r[8];
              for (int i = 0; i < 8; i++) col[i] = d[i][j];
              bt8(col, r);
              for (int i = 0; i < 8; i++) tmp[i][j] = r[i];
            }
            for (int i = 0; i < 8; i++) {
              v128_t r[8];
              bt8(tmp[i], r);
              for (int j = 0; j < 8; j++) wasm_v128_store(V + ((i * 8 + j) * TB + t) * ci + cOff + c, r[j]);
            }
          }
          cOff += sl.channels;
        }
      }
      /* 2. 64 GEMMs */
      for (int k = 0; k < 64; k++) gemm_tiles(V + k * TB * ci, U + (k * (co / COB)) * ci * COB, M + k * TB * co, ntGemm, ci, co);
      /* 3. output transform + epilogue */
      for (int t = 0; t < nt; t++) {
        const int x0 = (tx0 + t) * m, y0 = ty * m;
        for (int cb = 0; cb < co; cb += COB) {
          const int n = coReal - cb < COB ? coReal - cb : COB;
          v128_t r[2][6][6];
          for (int half = 0; half < 2; half++) {
            const int c = cb + 4 * half;
            v128_t mm[8][8], tmp[6][8];
            for (int i = 0; i < 8; i++)
              for (int j = 0; j < 8; j++) mm[i][j] = wasm_v128_load(M + ((i * 8 + j) * TB + t) * co + c);
            for (int j = 0; j < 8; j++) {
              v128_t col[8], o6[6];
              for (int i = 0; i < 8; i++) col[i] = mm[i][j];
              at8(col, o6, m);
              for (int i = 0; i < m; i++) tmp[i][j] = o6[i];
            }
            const v128_t b = wasm_v128_load(bias + c);
            for (int i = 0; i < m; i++) {
              v128_t o6[6];
              at8(tmp[i], o6, m);
              for (int j = 0; j < m; j++) r[half][i][j] = ADD(o6[j], b);
            }
          }
          for (int i = 0; i < m && y0 + i < H; i++) {
            for (int j = 0; j < m && x0 + j < W; j++) {
              const int p = pixel(y0 + i, x0 + j, W);
              epilogue(r[0][i][j], r[1][i][j], out + p * outStride + cb, res ? res + p * resStride + cb : 0, n, flags,
                       slope + cb);
            }
          }
        }
      }
    }
  }
}

/* z = a x + b y over n floats (y may be null: z = a x). Whole padded buffers: borders stay zero. */
void lincomb(float *z, const float *x, float a, const float *y, float b, int n) {
  const v128_t va = F4(a), vb = F4(b);
  int i = 0;
  if (y) {
    for (; i + 4 <= n; i += 4)
      wasm_v128_store(z + i, ADD(MUL(va, wasm_v128_load(x + i)), MUL(vb, wasm_v128_load(y + i))));
    for (; i < n; i++) z[i] = a * x[i] + b * y[i];
  } else {
    for (; i + 4 <= n; i += 4) wasm_v128_store(z + i, MUL(va, wasm_v128_load(x + i)));
    for (; i < n; i++) z[i] = a * x[i];
  }
}

void fill_zero(float *p, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, F4(0));
  for (; i < n; i++) p[i] = 0;
}

/* Rows [y0, y1) of NCHW planes (C x H x W) -> the padded NHWC buffer (stride channels). */
void nchw_to_nhwc(const float *src, int C, int H, int W, float *dst, int stride) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      float *d = dst + pixel(y, x, W) * stride;
      for (int c = 0; c < C; c++) d[c] = src[(c * H + y) * W + x];
    }
}

/* DepthToSpace (DCR) between padded NHWC buffers: W x H x (s*s*C) -> (W s) x (H s) x C. */
void depth_to_space(const float *src, int srcStride, int C, int W, int H, int s, float *dst) {
  const int OW = W * s;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const float *p = src + pixel(y, x, W) * srcStride;
      for (int i = 0; i < s; i++)
        for (int j = 0; j < s; j++) {
          float *d = dst + pixel(y * s + i, x * s + j, OW) * C;
          for (int c = 0; c < C; c++) d[c] = p[(i * s + j) * C + c];
        }
    }
}

/*
 * Padded NHWC (W x H x s*s*C, DCR order; s = 1 for none) -> NCHW C x (H s) x (W s), clipped, for
 * source rows [y0, y1). With `skip` (a padded NHWC buffer of C channels at 1/sf of the output
 * resolution, stride skipStride), its nearest-neighbour upsampling is added before the clip.
 */
void to_nchw(const float *src, int stride, int C, int W, int H, int s, float lo, float hi, float *dst, int y0,
             int y1, const float *skip, int skipStride, int sf) {
  const int OW = W * s, OH = H * s;
  const int SW = skip ? OW / sf : 0;
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < W; x++) {
      const float *p = src + pixel(y, x, W) * stride;
      for (int i = 0; i < s; i++)
        for (int j = 0; j < s; j++) {
          const float *q = skip ? skip + pixel((y * s + i) / sf, (x * s + j) / sf, SW) * skipStride : 0;
          for (int c = 0; c < C; c++) {
            float v = p[(i * s + j) * C + c];
            if (q) v += q[c];
            v = v < lo ? lo : (v > hi ? hi : v);
            dst[(c * OH + y * s + i) * OW + x * s + j] = v;
          }
        }
    }
}
