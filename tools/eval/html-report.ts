/**
 * The HTML report of `npm run eval`: the summary table, a per-image table sortable by any metric
 * (click a header), and for each image the LR input, every method and the HR reference side by
 * side, each at 100% and at 400%; moving the pointer over (or clicking) any 100% view moves the
 * 400% window of all of them. Vanilla JS, no external URLs; the crops are PNG files in crops/.
 */
import { escapeHtml } from './escape.ts';
import { summarise, type EvalRow } from './table.ts';

export interface ImageCrops {
  image: string;
  /** Side of the HR crop in pixels. */
  size: number;
  /** Relative PNG paths: the LR crop (size / scale pixels), the HR crop, and each method's. */
  lr: string;
  hr: string;
  methods: [string, string][];
}

const ZOOM = 4;

const SCRIPT = `
const ZOOM = ${ZOOM};
document.querySelectorAll('table.sortable').forEach((table) => {
  const body = table.tBodies[0];
  const cards = document.getElementById('cards');
  table.querySelectorAll('th[data-col]').forEach((th) => {
    th.addEventListener('click', () => {
      const col = Number(th.dataset.col);
      const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
      table.querySelectorAll('th[data-col]').forEach((h) => delete h.dataset.dir);
      th.dataset.dir = dir;
      const key = (tr) => {
        const td = tr.children[col];
        return td.dataset.v === undefined ? td.textContent : Number(td.dataset.v);
      };
      const rows = [...body.rows].sort((a, b) => {
        const x = key(a), y = key(b);
        const c = typeof x === 'number' ? (Number.isNaN(x) ? 1 : Number.isNaN(y) ? -1 : x - y) : String(x).localeCompare(String(y));
        return dir === 'asc' ? c : -c;
      });
      rows.forEach((r) => body.appendChild(r));
      rows.forEach((r) => cards.appendChild(document.getElementById(r.dataset.card)));
    });
  });
});
document.querySelectorAll('.card').forEach((card) => {
  const size = Number(card.dataset.size);
  const win = size / ZOOM;
  const move = (fx, fy) => {
    const x = Math.max(0, Math.min(size - win, fx * size - win / 2));
    const y = Math.max(0, Math.min(size - win, fy * size - win / 2));
    card.querySelectorAll('.z img').forEach((img) => {
      img.style.transform = 'translate(' + -x * ZOOM + 'px,' + -y * ZOOM + 'px)';
    });
    card.querySelectorAll('.box').forEach((b) => {
      b.style.left = x + 'px';
      b.style.top = y + 'px';
    });
  };
  card.querySelectorAll('.v').forEach((v) => {
    const at = (e) => {
      const r = v.getBoundingClientRect();
      move((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
    };
    v.addEventListener('pointermove', at);
    v.addEventListener('click', at);
  });
  move(0.5, 0.5);
});
`;

export function htmlReport(
  title: string,
  notes: string[],
  rows: EvalRow[],
  crops: ImageCrops[],
): string {
  const summary = summarise(rows);
  const methods = summary.map((s) => s.method);
  const images = [...new Set(rows.map((r) => r.image))];
  const num = (v: number, digits: number) =>
    Number.isNaN(v) ? '<td data-v="NaN">–</td>' : `<td data-v="${v}">${v.toFixed(digits)}</td>`;
  const metricCells = (image: string, method: string) => {
    const r = rows.find((x) => x.image === image && x.method === method);
    return r ? num(r.psnr, 2) + num(r.ssim, 4) + num(r.niqe, 2) : '<td></td><td></td><td></td>';
  };
  let col = 1;
  const headers = methods
    .map((m) =>
      ['PSNR-Y', 'SSIM-Y', 'NIQE']
        .map((k) => `<th data-col="${col++}">${escapeHtml(m)}<br>${k}</th>`)
        .join(''),
    )
    .join('');
  const cardId = (i: number) => `card-${i}`;
  const figure = (label: string, src: string, size: number, lr = false) =>
    `<figure><div class="v" style="width:${size}px;height:${size}px"><img src="${escapeHtml(src)}" alt="${escapeHtml(label)}" width="${size}" height="${size}"${lr ? ' class="px"' : ''}><span class="box" style="width:${size / ZOOM}px;height:${size / ZOOM}px"></span></div>` +
    `<div class="z" style="width:${size}px;height:${size}px"><img src="${escapeHtml(src)}" alt="${escapeHtml(label)} at ${ZOOM * 100}%" width="${size * ZOOM}" height="${size * ZOOM}" class="px"></div>` +
    `<figcaption>${escapeHtml(label)}</figcaption></figure>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; margin: 1rem 0; }
td, th { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th[data-col] { cursor: pointer; user-select: none; }
th[data-dir="asc"]::after { content: " ▲"; }
th[data-dir="desc"]::after { content: " ▼"; }
.card { margin: 1.5rem 0; }
figure { display: inline-block; margin: 0 0.5rem 0.5rem 0; text-align: center; vertical-align: top; }
.v, .z { position: relative; overflow: hidden; display: block; }
.v { cursor: crosshair; margin-bottom: 4px; }
.v img, .z img { display: block; max-width: none; }
.z img { transform-origin: 0 0; }
.px { image-rendering: pixelated; }
.box { position: absolute; outline: 1px solid #f0f; pointer-events: none; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<h2>Means</h2>
<table><thead><tr><th>method</th><th>images</th><th>PSNR-Y ↑</th><th>SSIM-Y ↑</th><th>NIQE ↓</th><th>ms/image</th></tr></thead><tbody>
${summary.map((s) => `<tr><td>${escapeHtml(s.method)}</td><td>${s.images}</td>${num(s.psnr, 2)}${num(s.ssim, 4)}${num(s.niqe, 2)}<td>${s.ms === null ? '–' : s.ms.toFixed(0)}</td></tr>`).join('\n')}
</tbody></table>
<h2>Per image</h2>
<p>Click a header to sort (the crops below follow the order). Point at a 100% crop to move the ${ZOOM * 100}% window of every crop of that image.</p>
<table class="sortable"><thead><tr><th data-col="0">image</th>${headers}</tr></thead><tbody>
${images.map((image, i) => `<tr data-card="${cardId(i)}"><td><a href="#${cardId(i)}">${escapeHtml(image)}</a></td>${methods.map((m) => metricCells(image, m)).join('')}</tr>`).join('\n')}
</tbody></table>
<div id="cards">
${crops
  .map((c) => {
    const i = images.indexOf(c.image);
    return `<section class="card" id="${cardId(i)}" data-size="${c.size}"><h3>${escapeHtml(c.image)}</h3>${[
      figure('LR (input)', c.lr, c.size, true),
      ...c.methods.map(([m, src]) => figure(m, src, c.size)),
      figure('HR (reference)', c.hr, c.size),
    ].join('')}</section>`;
  })
  .join('\n')}
</div>
<script>${SCRIPT}</script>
</body></html>
`;
}
