/**
 * NIQE (Mittal, Soundararajan and Bovik, "Making a 'completely blind' image quality analyzer",
 * 2013), following the MATLAB release as BasicSR and pyiqa port it: on an 8-bit luma plane
 * (0..255, rounded), 96x96 blocks, two scales with MATLAB's antialiased bicubic x0.5 (imresize)
 * between them, 18 AGGD features per block and scale, and the Mahalanobis-like distance of the
 * fitted multivariate Gaussian to the pristine one (mean `mu`, covariance `cov`, from the
 * MATLAB model parameters). Lower is better.
 */
import type { LumaPlane } from './metrics.ts';
import { parseNpz } from './npz.ts';

export interface NiqeParams {
  /** Pristine feature mean (36). */
  mu: Float64Array;
  /** Pristine feature covariance (36 x 36, row-major). */
  cov: Float64Array;
  /** Local-normalisation window (7 x 7, row-major), sums to 1. */
  window: Float64Array;
  windowSize: number;
}

const FEATURES = 36;
const BLOCK = 96;

/** The parameters from BasicSR's `niqe_pris_params.npz` (mu_pris_param, cov_pris_param, gaussian_window). */
export function niqeParamsFromNpz(bytes: Uint8Array): NiqeParams {
  const arrays = parseNpz(bytes);
  const get = (name: string, count: number) => {
    const a = arrays.get(name);
    if (!a || a.data.length !== count)
      throw new Error(`NIQE parameters: ${name} missing or not ${count} values`);
    return a.data;
  };
  const win = arrays.get('gaussian_window');
  const windowSize = win ? win.shape[0] : 7;
  return {
    mu: get('mu_pris_param', FEATURES),
    cov: get('cov_pris_param', FEATURES * FEATURES),
    window: win ? win.data : gaussian2d(7, 7 / 6),
    windowSize,
  };
}

function gaussian2d(size: number, sigma: number): Float64Array {
  const w = new Float64Array(size * size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      sum += w[y * size + x] = Math.exp(-((x - c) ** 2 + (y - c) ** 2) / (2 * sigma * sigma));
  return w.map((v) => v / sum);
}

// Lanczos approximation (g = 7, 9 terms), with reflection below 0.5: about 15 significant digits.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];
export function gamma(z: number): number {
  if (z < 0.5) return Math.PI / (Math.sin(Math.PI * z) * gamma(1 - z));
  const x0 = z - 1;
  let a = LANCZOS[0];
  const t = x0 + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x0 + i);
  return Math.sqrt(2 * Math.PI) * t ** (x0 + 0.5) * Math.exp(-t) * a;
}

// The shape grid of the AGGD fit (0.2, 0.201, ..., 10) and r(a) = G(2/a)^2 / (G(1/a) G(3/a)).
const GAM = Float64Array.from({ length: 9801 }, (_, i) => 0.2 + i * 0.001);
const R_GAM = GAM.map((a) => gamma(2 / a) ** 2 / (gamma(1 / a) * gamma(3 / a)));

/** Asymmetric generalised Gaussian fit by moment matching: [alpha, beta_left, beta_right]. */
function aggd(values: Float64Array): [number, number, number] {
  let sl = 0;
  let nl = 0;
  let sr = 0;
  let nr = 0;
  let sabs = 0;
  let s2 = 0;
  for (const v of values) {
    if (v < 0) {
      sl += v * v;
      nl++;
    } else if (v > 0) {
      sr += v * v;
      nr++;
    }
    sabs += Math.abs(v);
    s2 += v * v;
  }
  const n = values.length;
  const leftStd = Math.sqrt(sl / nl);
  const rightStd = Math.sqrt(sr / nr);
  const gh = leftStd / rightStd;
  const rhat = (sabs / n) ** 2 / (s2 / n);
  const rnorm = (rhat * (gh ** 3 + 1) * (gh + 1)) / (gh ** 2 + 1) ** 2;
  // With no negative (or no positive) values the ratio is NaN; numpy's and torch's argmin then
  // return the first index, so alpha is the grid's first value and only the betas are NaN.
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < R_GAM.length; i++) {
    const d = Math.abs(R_GAM[i] - rnorm);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  const alpha = GAM[best];
  const k = Math.sqrt(gamma(1 / alpha) / gamma(3 / alpha));
  return [alpha, leftStd * k, rightStd * k];
}

/** The 18 features of one block of normalised coefficients (bw x bh, row-major). */
function blockFeatures(block: Float64Array, bw: number, bh: number, out: number[]): void {
  const [a0, l0, r0] = aggd(block);
  out.push(a0, (l0 + r0) / 2);
  const prod = new Float64Array(block.length);
  // Products with the circularly shifted block (numpy roll by [dy, dx]): horizontal,
  // vertical, and the two diagonals.
  for (const [dy, dx] of [
    [0, 1],
    [1, 0],
    [1, 1],
    [1, -1],
  ]) {
    for (let y = 0; y < bh; y++) {
      const sy = (y - dy + bh) % bh;
      for (let x = 0; x < bw; x++) {
        const sx = (x - dx + bw) % bw;
        prod[y * bw + x] = block[y * bw + x] * block[sy * bw + sx];
      }
    }
    const [a, l, r] = aggd(prod);
    out.push(a, (r - l) * (gamma(2 / a) / gamma(1 / a)), l, r);
  }
}

/** (x - mu) / (sigma + 1) with local mean and deviation under the window, edges replicated. */
function normalise(src: Float64Array, w: number, h: number, p: NiqeParams): Float64Array {
  const k = p.windowSize;
  const c = (k - 1) >> 1;
  // The image with `c` replicated pixels on every side, so the inner loop needs no clamping.
  const pw = w + 2 * c;
  const padded = new Float64Array(pw * (h + 2 * c));
  for (let y = 0; y < h + 2 * c; y++) {
    const row = Math.min(h - 1, Math.max(0, y - c)) * w;
    for (let x = 0; x < pw; x++)
      padded[y * pw + x] = src[row + Math.min(w - 1, Math.max(0, x - c))];
  }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      let m2 = 0;
      for (let j = 0; j < k; j++) {
        const base = (y + j) * pw + x;
        for (let i = 0; i < k; i++) {
          const v = padded[base + i];
          const wt = p.window[j * k + i];
          m += wt * v;
          m2 += wt * v * v;
        }
      }
      out[y * w + x] = (src[y * w + x] - m) / (Math.sqrt(Math.abs(m2 - m * m)) + 1);
    }
  }
  return out;
}

function cubic(x: number): number {
  const a = Math.abs(x);
  if (a <= 1) return 1.5 * a ** 3 - 2.5 * a ** 2 + 1;
  if (a <= 2) return -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2;
  return 0;
}

/** Taps of MATLAB imresize (bicubic, antialiased when shrinking, symmetric edges) along one axis. */
function contributions(inLen: number, outLen: number, scale: number) {
  const aa = scale < 1;
  const width = aa ? 4 / scale : 4;
  const taps = Math.ceil(width) + 2;
  const index = new Int32Array(outLen * taps);
  const weight = new Float64Array(outLen * taps);
  for (let o = 0; o < outLen; o++) {
    const u = (o + 1) / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - width / 2);
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const j = left + t; // 1-based source index
      const wt = aa ? scale * cubic((u - j) * scale) : cubic(u - j);
      let i = j - 1;
      if (i < 0) i = -i - 1;
      if (i >= inLen) i = 2 * inLen - 1 - i;
      index[o * taps + t] = i;
      weight[o * taps + t] = wt;
      sum += wt;
    }
    for (let t = 0; t < taps; t++) weight[o * taps + t] /= sum;
  }
  return { index, weight, taps };
}

/** MATLAB `imresize(img, 0.5)` (bicubic, antialiased), unrounded, unclamped. */
export function imresizeHalf(src: Float64Array, w: number, h: number): Float64Array {
  const ow = Math.ceil(w / 2);
  const oh = Math.ceil(h / 2);
  const cy = contributions(h, oh, 0.5);
  const cx = contributions(w, ow, 0.5);
  const tmp = new Float64Array(w * oh);
  for (let o = 0; o < oh; o++) {
    for (let t = 0; t < cy.taps; t++) {
      const wt = cy.weight[o * cy.taps + t];
      if (wt === 0) continue;
      const row = cy.index[o * cy.taps + t] * w;
      for (let x = 0; x < w; x++) tmp[o * w + x] += wt * src[row + x];
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let o = 0; o < ow; o++) {
      let s = 0;
      for (let t = 0; t < cx.taps; t++)
        s += cx.weight[o * cx.taps + t] * tmp[y * w + cx.index[o * cx.taps + t]];
      out[y * ow + o] = s;
    }
  }
  return out;
}

/** Symmetric positive semi-definite pseudo-inverse by Jacobi eigendecomposition. */
function pinvSymmetric(m: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const eig = Array.from({ length: n }, (_, i) => a[i * n + i]);
  const tol = Math.max(...eig.map(Math.abs)) * n * 2.220446049250313e-16;
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    if (Math.abs(eig[k]) <= tol) continue;
    const inv = 1 / eig[k];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) out[i * n + j] += v[i * n + k] * inv * v[j * n + k];
  }
  return out;
}

/**
 * NIQE of a luma plane with values in 0..255 (round it first to match MATLAB on 8-bit input).
 * The image is cropped to whole 96x96 blocks; it needs at least one.
 */
export function niqe(plane: LumaPlane, params: NiqeParams): number {
  const bw = Math.floor(plane.width / BLOCK);
  const bh = Math.floor(plane.height / BLOCK);
  if (bw === 0 || bh === 0)
    throw new Error(
      `NIQE needs at least ${BLOCK}x${BLOCK} pixels, got ${plane.width}x${plane.height}`,
    );
  let w = bw * BLOCK;
  let h = bh * BLOCK;
  let img: Float64Array = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    img.set(plane.data.subarray(y * plane.width, y * plane.width + w), y * w);
  const feats: number[][] = Array.from({ length: bw * bh }, () => []);
  for (const scale of [1, 2]) {
    const norm = normalise(img, w, h, params);
    const size = BLOCK / scale;
    const block = new Float64Array(size * size);
    for (let by = 0; by < bh; by++) {
      for (let bx = 0; bx < bw; bx++) {
        for (let y = 0; y < size; y++)
          block.set(
            norm.subarray((by * size + y) * w + bx * size, (by * size + y) * w + (bx + 1) * size),
            y * size,
          );
        blockFeatures(block, size, size, feats[by * bw + bx]);
      }
    }
    if (scale === 1) {
      img = imresizeHalf(img, w, h);
      w /= 2;
      h /= 2;
    }
  }
  // Mean over blocks ignoring NaN per feature; covariance over the blocks without any NaN.
  const mu = new Float64Array(FEATURES);
  for (let f = 0; f < FEATURES; f++) {
    let s = 0;
    let n = 0;
    for (const row of feats) {
      if (!Number.isNaN(row[f])) {
        s += row[f];
        n++;
      }
    }
    mu[f] = s / n;
  }
  const clean = feats.filter((row) => row.every((v) => !Number.isNaN(v)));
  const cov = new Float64Array(FEATURES * FEATURES);
  if (clean.length > 1) {
    const mean = new Float64Array(FEATURES);
    for (const row of clean) for (let f = 0; f < FEATURES; f++) mean[f] += row[f] / clean.length;
    for (const row of clean)
      for (let i = 0; i < FEATURES; i++)
        for (let j = 0; j < FEATURES; j++)
          cov[i * FEATURES + j] += ((row[i] - mean[i]) * (row[j] - mean[j])) / (clean.length - 1);
  }
  const mixed = cov.map((c, i) => (c + params.cov[i]) / 2);
  const inv = pinvSymmetric(mixed, FEATURES);
  let q = 0;
  for (let i = 0; i < FEATURES; i++)
    for (let j = 0; j < FEATURES; j++)
      q += (params.mu[i] - mu[i]) * inv[i * FEATURES + j] * (params.mu[j] - mu[j]);
  return Math.sqrt(q);
}
