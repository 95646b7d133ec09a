/** The table and HTML report of `npm run eval` (tools/eval/table.ts, tools/eval/html-report.ts). */
import { describe, expect, it } from 'vitest';
import { htmlReport } from '../tools/eval/html-report.ts';
import { summarise, tableMarkdown, type EvalRow } from '../tools/eval/table.ts';

const rows: EvalRow[] = [
  { image: 'a.png', method: 'bicubic', psnr: 30, ssim: 0.8, niqe: 10, ms: 2 },
  { image: 'a.png', method: 'x<y>', psnr: 28, ssim: 0.7, niqe: 6, ms: null },
  { image: 'b.png', method: 'bicubic', psnr: 32, ssim: 0.9, niqe: NaN, ms: 4 },
  { image: 'b.png', method: 'x<y>', psnr: 29, ssim: 0.75, niqe: 7, ms: null },
];

describe('eval table', () => {
  it('averages per method, in order, with NIQE only when every image has one', () => {
    const s = summarise(rows);
    expect(s.map((m) => m.method)).toEqual(['bicubic', 'x<y>']);
    expect(s[0]).toMatchObject({ images: 2, psnr: 31, ms: 3 });
    expect(s[0].ssim).toBeCloseTo(0.85, 12);
    expect(Number.isNaN(s[0].niqe)).toBe(true);
    expect(s[1]).toMatchObject({ psnr: 28.5, niqe: 6.5, ms: null });
    expect(s[1].ssim).toBeCloseTo(0.725, 12);
    const md = tableMarkdown(s).split('\n');
    expect(md[0]).toBe('| Method | PSNR-Y ↑ | SSIM-Y ↑ | NIQE ↓ | ms/image |');
    expect(md[2]).toBe('| bicubic | 31.00 | 0.8500 | – | 3 |');
    expect(md[3]).toBe('| x<y> | 28.50 | 0.7250 | 6.50 | – |');
  });

  it('writes an escaped, self-contained report with sortable columns and both zoom levels', () => {
    const html = htmlReport(
      'T & <t>',
      ['n'],
      rows,
      ['a.png', 'b.png'].map((image) => ({
        image,
        size: 8,
        lr: `crops/${image}-lr.png`,
        hr: `crops/${image}-hr.png`,
        methods: [
          ['bicubic', `crops/${image}-b.png`],
          ['x<y>', `crops/${image}-x.png`],
        ],
      })),
    );
    expect(html).toContain('<title>T &#38; &#60;t&#62;</title>');
    expect(html).not.toContain('x<y>');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // image + 2 methods x 3 metrics
    expect([...html.matchAll(/<th data-col="/g)]).toHaveLength(7);
    expect(html).toContain('data-v="NaN"');
    // Per image: LR, 2 methods, HR, each at 100% and 400%.
    expect([...html.matchAll(/<img src=/g)]).toHaveLength(2 * 4 * 2);
    expect([...html.matchAll(/width="32" height="32" class="px"/g)]).toHaveLength(2 * 4);
  });
});
