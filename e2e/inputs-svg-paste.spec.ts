/**
 * SVGs with an internal DTD subset (as drawing programs save them) open and restore; an
 * entity-expansion bomb is refused with the reason; a paste whose target is the window (nothing
 * focused) opens the pasted image instead of throwing.
 */
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { chooseBackend, chooseModel, openApp, openFile, waitForResult } from './helpers/app.ts';
import { flatPng, textFile } from './helpers/inputs.ts';

async function slimApp(page: Page) {
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
}

const DRAWING = `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
  <!ENTITY ns_svg "http://www.w3.org/2000/svg">
  <!ENTITY fill "#e33">
]>
<svg xmlns="&ns_svg;" width="40px" height="25px"><rect width="40" height="25" fill="&fill;"/></svg>`;

function billionLaughs(): string {
  let dtd = '<!ENTITY l0 "lol">';
  for (let i = 1; i <= 9; i++) dtd += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
  return `<?xml version="1.0"?><!DOCTYPE svg [${dtd}]><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&l9;</text></svg>`;
}

test('an SVG with an internal DTD subset opens; a billion-laughs SVG is refused quickly', async ({
  page,
}) => {
  await slimApp(page);
  await openFile(page, textFile('drawing.svg', DRAWING));
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('80x50');
  await expect(page.getByText('SVG rasterised at 40 × 25 px.')).toBeVisible();

  await openFile(page, textFile('laughs.svg', billionLaughs()));
  await expect(page.getByTestId('source-error')).toContainText(
    '“laughs.svg” is an SVG that cannot be rasterised: its DTD entities would expand to more than 16 MB',
    { timeout: 10_000 },
  );
});

test('a paste on the window opens the image instead of throwing', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await slimApp(page);
  const base64 = fs.readFileSync(await flatPng('pasted-src.png', 12, 10)).toString('base64');
  await page.evaluate((base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const empty = new DataTransfer();
    window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: empty }));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data }));
  }, base64);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('24x20');
  expect(errors).toEqual([]);
});
