/** The small HTML report of `npm run eval`: the table, and crops side by side for each image. */
import { escapeHtml } from './escape.ts';

export interface EvalRow {
  image: string;
  method: string;
  psnr: number;
  ssim: number;
  ms: number | null;
}

export interface CropSet {
  image: string;
  /** [label, relative PNG path] in display order. */
  crops: [string, string][];
}

export function htmlReport(
  title: string,
  notes: string[],
  rows: EvalRow[],
  crops: CropSet[],
): string {
  const methods = [...new Set(rows.map((r) => r.method))];
  const images = [...new Set(rows.map((r) => r.image))];
  const cell = (image: string, method: string) => {
    const r = rows.find((x) => x.image === image && x.method === method);
    return r ? `${r.psnr.toFixed(2)} / ${r.ssim.toFixed(4)}` : '';
  };
  const mean = (method: string, key: 'psnr' | 'ssim') => {
    const v = rows.filter((r) => r.method === method).map((r) => r[key]);
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; margin: 1rem 0; }
td, th { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { display: inline-block; margin: 0 0.5rem 0.5rem 0; text-align: center; }
figure img { width: 192px; height: 192px; image-rendering: pixelated; display: block; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<table><thead><tr><th>image (PSNR dB / SSIM on Y)</th>${methods.map((m) => `<th>${escapeHtml(m)}</th>`).join('')}</tr></thead><tbody>
${images.map((i) => `<tr><td>${escapeHtml(i)}</td>${methods.map((m) => `<td>${cell(i, m)}</td>`).join('')}</tr>`).join('\n')}
<tr><th>mean</th>${methods.map((m) => `<th>${mean(m, 'psnr').toFixed(2)} / ${mean(m, 'ssim').toFixed(4)}</th>`).join('')}</tr>
</tbody></table>
${crops
  .map(
    (c) =>
      `<h2>${escapeHtml(c.image)}</h2>\n${c.crops
        .map(
          ([label, src]) =>
            `<figure><img src="${escapeHtml(src)}" alt="${escapeHtml(label)}"><figcaption>${escapeHtml(label)}</figcaption></figure>`,
        )
        .join('')}`,
  )
  .join('\n')}
</body></html>
`;
}
