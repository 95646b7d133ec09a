/**
 * SVGs with an internal DTD subset (as drawing programs write them) are recognised as SVG; entity
 * expansion bombs and self-referring entities are refused quickly with the reason, unexpanded.
 */
import { describe, expect, it } from 'vitest';
import { identifyFile, sniffKind } from '../src/features/inputs/file-kind.ts';
import { svgIntrinsicSize } from '../src/features/inputs/svg.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

const ILLUSTRATOR = `<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: a drawing program -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
  <!ENTITY ns_svg "http://www.w3.org/2000/svg">
  <!ENTITY ns_xlink "http://www.w3.org/1999/xlink">
  <!ENTITY st0 "fill:#e33;stroke:none">
  <!-- a comment with > and ] inside -->
]>
<svg version="1.1" xmlns="&ns_svg;" xmlns:xlink="&ns_xlink;" width="40px" height="25px">
  <rect style="&st0;" width="40" height="25"/>
</svg>`;

function billionLaughs(levels: number): string {
  let dtd = '<!ENTITY lol0 "lol">';
  for (let i = 1; i <= levels; i++) dtd += `\n<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
  return `<?xml version="1.0"?>\n<!DOCTYPE svg [${dtd}\n]>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&lol${levels};</text></svg>`;
}

describe('SVG with an internal DTD subset', () => {
  it('is recognised as an SVG and its size is read', () => {
    expect(sniffKind(bytes(ILLUSTRATOR))).toBe('svg');
    expect(identifyFile(bytes(ILLUSTRATOR), 'logo.svg').kind).toBe('svg');
    expect(svgIntrinsicSize(ILLUSTRATOR)).toEqual({ width: 40, height: 25 });
  });

  it('still refuses a text file that only mentions <svg>', () => {
    expect(sniffKind(bytes('notes: <!DOCTYPE svg [ ]> <svg width="1" height="1">'))).toBeNull();
    expect(sniffKind(bytes('<!DOCTYPE svg [ <!ENTITY a "never closed" '))).toBeNull();
  });

  it('refuses a billion-laughs bomb quickly, with the reason', () => {
    const bomb = billionLaughs(9); // 3·10⁹ characters if expanded
    expect(sniffKind(bytes(bomb))).toBe('svg');
    const started = performance.now();
    const result = svgIntrinsicSize(bomb);
    expect(performance.now() - started).toBeLessThan(200);
    expect(result).toMatch(/entities would expand to more than 16 MB .*entity-expansion bomb/);
    // A small, harmless expansion passes.
    expect(svgIntrinsicSize(billionLaughs(3))).toEqual({ width: 10, height: 10 });
  });

  it('refuses a quadratic blow-up (one big entity referenced many times)', () => {
    const big = 'x'.repeat(100_000);
    const svg = `<!DOCTYPE svg [<!ENTITY a "${big}">]><svg width="1" height="1">${'&a;'.repeat(200)}</svg>`;
    expect(svgIntrinsicSize(svg)).toMatch(/entity-expansion bomb/);
  });

  it('refuses entities that refer to themselves', () => {
    const svg = `<!DOCTYPE svg [<!ENTITY a "&b;"><!ENTITY b "&a;">]><svg width="1" height="1">&a;</svg>`;
    expect(svgIntrinsicSize(svg)).toMatch(/entity “[ab]” refers to itself/);
  });
});
