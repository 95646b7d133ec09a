/**
 * Embedding: pages on other localhost ports (other origins) embed the built app with `?embed`
 * and drive it with postMessage, exactly as docs/embed.md tells a customer to.
 *
 * - An allowed parent (listed in embed-config.json) gets `ready`, progress with tile rectangles
 *   and a result Blob whose pixels match the command line's within 2/255; without cross-origin
 *   isolation the app runs on one thread and says so.
 * - A cross-origin-isolated parent passes isolation on (allow="cross-origin-isolated"): threads.
 * - A parent that is not allowed gets nothing, and its message starts no work.
 * - Invalid and oversized messages from an allowed parent get structured errors.
 */
import fs from 'node:fs';
import { expect, test, type Frame, type Page } from '@playwright/test';
import { serveDist, type DistServer } from './helpers/dist-server.ts';
import { maxChannelDiff, readRgba, scratchPath, smallPhotoPath } from './helpers/images.ts';
import { serveParent, type ParentServer } from './helpers/parent-server.ts';
import { cliUpscale } from './helpers/reference.ts';

const APP_PORT = Number(process.env.GENDR_E2E_EMBED_APP_PORT ?? 4197);
const ALLOWED_PORT = Number(process.env.GENDR_E2E_EMBED_PARENT_PORT ?? 4198);
const OTHER_PORT = Number(process.env.GENDR_E2E_EMBED_OTHER_PORT ?? 4199);
const MODEL = 'esrgan-slim-x2';

interface EmbedHook {
  ignored: number;
  handled: number;
  stage: string | null;
  listening: boolean;
}

declare global {
  interface Window {
    __messages: { type: string; [key: string]: unknown }[];
    gendrReady: Promise<{ crossOriginIsolated: boolean; threads: number; models: unknown[] }>;
    gendrRestore(
      image: Blob,
      options: Record<string, unknown>,
    ): Promise<{
      image: Blob;
      width: number;
      height: number;
      backend: string;
      threads: number;
      cpuEngine: string | null;
    }>;
    __gendrEmbed: EmbedHook;
  }
}

/** The parent page: the snippet of docs/embed.md plus a little plumbing for the test. */
function parentHtml(appOrigin: string, allowIsolation: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A page that embeds GenDR Web</title></head>
<body>
<script type="module">
  const APP = ${JSON.stringify(appOrigin)};
  window.__messages = [];
  const frame = document.createElement('iframe');
  frame.src = APP + '/?embed';
  ${allowIsolation ? "frame.allow = 'cross-origin-isolated';" : ''}
  frame.style.cssText = 'width: 640px; height: 420px; border: 0';
  let ready;
  window.gendrReady = new Promise((resolve) => (ready = resolve));
  window.addEventListener('message', (event) => {
    if (event.origin !== APP || event.source !== frame.contentWindow) return;
    window.__messages.push(event.data);
    if (event.data.type === 'ready') ready(event.data);
  });
  // In case the app was ready before this page listened: ask again.
  frame.addEventListener('load', () => frame.contentWindow.postMessage({ type: 'ping' }, APP));
  document.body.append(frame);

  window.gendrRestore = (image, options) =>
    new Promise((resolve, reject) => {
      const id = crypto.randomUUID();
      const onMessage = (event) => {
        if (event.origin !== APP || event.data.id !== id) return;
        if (event.data.type === 'result') resolve(event.data);
        else if (event.data.type === 'error') reject(Object.assign(new Error(event.data.message), event.data));
        else return;
        window.removeEventListener('message', onMessage);
      };
      window.addEventListener('message', onMessage);
      frame.contentWindow.postMessage({ type: 'restore', id, image, options }, APP);
    });
</script>
</body></html>`;
}

let app: DistServer;
let allowed: ParentServer;
let other: ParentServer;

test.beforeAll(async () => {
  app = await serveDist(APP_PORT);
  app.writeFile(
    'embed-config.json',
    JSON.stringify({ allowedOrigins: [`http://localhost:${ALLOWED_PORT}`] }),
  );
  other = await serveParent(OTHER_PORT, parentHtml(app.origin, false));
});
test.afterAll(async () => {
  await Promise.all([app?.close(), allowed?.close(), other?.close()]);
});
test.afterEach(async () => {
  await allowed?.close();
});

function appFrame(page: Page): Frame {
  const frame = page.frames().find((f) => f.url().startsWith(`${app.origin}/`));
  if (!frame) throw new Error('the app iframe is not there');
  return frame;
}

async function restoreInParent(page: Page, file: string, options: Record<string, unknown>) {
  const base64 = fs.readFileSync(file).toString('base64');
  return page.evaluate(
    async ({ base64, options }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const result = await window.gendrRestore(new Blob([bytes], { type: 'image/png' }), options);
      const out = new Uint8Array(await result.image.arrayBuffer());
      let binary = '';
      for (let i = 0; i < out.length; i += 0x8000)
        binary += String.fromCharCode(...out.subarray(i, i + 0x8000));
      return { ...result, image: btoa(binary), type: result.image.type };
    },
    { base64, options },
  );
}

test('an allowed page on another origin gets a correct restored image, on one thread without isolation', async ({
  page,
}) => {
  allowed = await serveParent(ALLOWED_PORT, parentHtml(app.origin, false));
  const input = await smallPhotoPath();
  const reference = cliUpscale(input, MODEL);
  await page.goto(allowed.origin);
  const ready = await page.evaluate(() => window.gendrReady);
  expect(ready.crossOriginIsolated).toBe(false);
  expect(ready.threads).toBe(1);
  expect(ready.models).toContainEqual({ id: MODEL, name: expect.any(String), scale: 2 });
  await expect(appFrame(page).getByTestId('embed-environment')).toHaveText(
    'One thread: this page is not cross-origin isolated',
  );

  const result = await restoreInParent(page, input, {
    model: MODEL,
    backend: 'wasm',
    tiles: 'rects',
  });
  expect(result.type).toBe('image/png');
  expect([result.width, result.height]).toEqual([96, 96]);
  expect(result.backend).toBe('wasm');
  // Without isolation the fast kernels still run, on one thread (their memory cannot be shared).
  expect(result.cpuEngine).toBe('kernels');
  expect(result.threads).toBe(1);
  const file = scratchPath('embed-result.png');
  fs.writeFileSync(file, Buffer.from(result.image, 'base64'));
  const got = await readRgba(file);
  expect(maxChannelDiff(got, await readRgba(await reference))).toBeLessThanOrEqual(2);

  const messages = await page.evaluate(() => window.__messages);
  const progress = messages.filter((m) => m.type === 'progress');
  expect(progress.map((m) => m.stage)).toContain('restoring');
  const tiles = progress.filter((m) => m.tile);
  expect(tiles.length).toBeGreaterThanOrEqual(1);
  const area = tiles.reduce((sum, m) => {
    const t = m.tile as { width: number; height: number };
    return sum + t.width * t.height;
  }, 0);
  expect(area).toBe(96 * 96);
  // The embedded page shows the result.
  await expect(appFrame(page).getByTestId('embed-app')).toHaveAttribute('data-stage', 'done');
});

test('a cross-origin-isolated page passes isolation on: the app runs WASM on several threads', async ({
  page,
}) => {
  allowed = await serveParent(ALLOWED_PORT, parentHtml(app.origin, true), true);
  await page.goto(allowed.origin);
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  const ready = await page.evaluate(() =>
    Promise.race([
      window.gendrReady,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the embedded app never said ready')), 30_000),
      ),
    ]),
  );
  expect(ready.crossOriginIsolated).toBe(true);
  expect(ready.threads).toBeGreaterThan(1);
  const result = await restoreInParent(page, await smallPhotoPath(), {
    model: MODEL,
    backend: 'wasm',
  });
  expect([result.width, result.height]).toEqual([96, 96]);
  expect(result.cpuEngine).toBe('kernels');
  expect(result.threads).toBeGreaterThan(1);
});

test('invalid and oversized messages get structured errors', async ({ page }) => {
  allowed = await serveParent(ALLOWED_PORT, parentHtml(app.origin, false));
  await page.goto(allowed.origin);
  await page.evaluate(() => window.gendrReady);
  const errors = await page.evaluate(async () => {
    const attempt = (image: unknown, options: Record<string, unknown>) =>
      window
        .gendrRestore(image as Blob, options)
        .then(() => null)
        .catch((e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    return {
      badOption: await attempt(new Blob([new Uint8Array(10)]), { model: 'no-such-model' }),
      badType: await attempt('not an image', {}),
      unknownKey: await attempt(new Blob([new Uint8Array(10)]), { colour: 'blue' }),
      tooBig: await attempt(new ArrayBuffer(65 * 1024 * 1024), {}),
      notImage: await attempt(new Blob([new Uint8Array(100)], { type: 'image/png' }), {}),
    };
  });
  expect(errors.badOption).toMatchObject({ code: 'unknown-model' });
  expect(errors.badType).toMatchObject({ code: 'invalid-message' });
  expect(errors.badType?.message).toMatch(/image/);
  expect(errors.unknownKey).toMatchObject({ code: 'invalid-message' });
  expect(errors.tooBig).toMatchObject({ code: 'too-large' });
  expect(errors.notImage).toMatchObject({ code: 'unsupported-image' });
});

test('a page on an origin that is not allowed gets nothing, and its message starts no work', async ({
  page,
}) => {
  await page.goto(other.origin);
  await expect
    .poll(() => appFrame(page).evaluate(() => window.__gendrEmbed?.listening ?? false))
    .toBe(true);
  const input = fs.readFileSync(await smallPhotoPath()).toString('base64');
  await page.evaluate(
    ({ base64, model }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      void window.gendrRestore(new Blob([bytes], { type: 'image/png' }), { model });
    },
    { base64: input, model: MODEL },
  );
  await expect
    .poll(() => appFrame(page).evaluate(() => window.__gendrEmbed.ignored))
    .toBeGreaterThanOrEqual(2); // the ping and the restore
  await page.waitForTimeout(3000);
  expect(await page.evaluate(() => window.__messages)).toEqual([]);
  const hook = await appFrame(page).evaluate(() => ({ ...window.__gendrEmbed }));
  expect(hook).toMatchObject({ handled: 0, stage: null });
  await expect(appFrame(page).getByTestId('embed-app')).toHaveAttribute('data-stage', 'idle');
});
