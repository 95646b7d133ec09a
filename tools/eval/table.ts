/** Per-method means of `npm run eval` and the paper-style Markdown table. */

export interface EvalRow {
  image: string;
  method: string;
  psnr: number;
  ssim: number;
  /** NaN when not computed (no pristine parameters, or an image under 96x96). */
  niqe: number;
  /** Restore time in ms; null for results made elsewhere. */
  ms: number | null;
}

export interface MethodSummary {
  method: string;
  images: number;
  psnr: number;
  ssim: number;
  niqe: number;
  ms: number | null;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Means per method, in the order the methods first appear. */
export function summarise(rows: EvalRow[]): MethodSummary[] {
  return [...new Set(rows.map((r) => r.method))].map((method) => {
    const mine = rows.filter((r) => r.method === method);
    const niqe = mine.map((r) => r.niqe).filter((v) => !Number.isNaN(v));
    const ms = mine.map((r) => r.ms).filter((v): v is number => v !== null);
    return {
      method,
      images: mine.length,
      psnr: mean(mine.map((r) => r.psnr)),
      ssim: mean(mine.map((r) => r.ssim)),
      niqe: niqe.length === mine.length ? mean(niqe) : NaN,
      ms: ms.length ? mean(ms) : null,
    };
  });
}

export function tableMarkdown(summary: MethodSummary[]): string {
  const lines = [
    '| Method | PSNR-Y ↑ | SSIM-Y ↑ | NIQE ↓ | ms/image |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...summary.map(
      (s) =>
        `| ${s.method} | ${s.psnr.toFixed(2)} | ${s.ssim.toFixed(4)} | ${Number.isNaN(s.niqe) ? '–' : s.niqe.toFixed(2)} | ${s.ms === null ? '–' : s.ms.toFixed(0)} |`,
    ),
  ];
  return lines.join('\n');
}
