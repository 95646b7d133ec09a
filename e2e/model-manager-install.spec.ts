/**
 * The model manager in the built app: installing packs from a URL (another origin), a picked
 * folder and dropped files into OPFS; progress; list, size, delete; bad packs rejected naming the
 * file and the problem; interrupted and cancelled installs leave nothing and can be retried; a full
 * quota says how much space is needed. Real worker, real OPFS, real HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { copyVariant, startPackServer, type PackServer } from './helpers/pack-server.ts';

const PACK_PORT = Number(process.env.GENDR_E2E_PACK_PORT ?? 4196);

let packs: PackServer;

test.beforeAll(async () => {
  packs = await startPackServer(PACK_PORT);
});
test.afterAll(async () => packs?.close());

async function openManager(page: Page): Promise<void> {
  await page.goto('/');
  const manager = page.getByTestId('model-manager');
  await manager.locator('summary').click();
  await expect(manager.locator('summary')).toContainText('installed');
}

async function installFromUrl(page: Page, url: string): Promise<void> {
  await page.getByTestId('pack-url-input').fill(url);
  await page.getByTestId('pack-url-install').click();
}

/** Folders under gendr-packs/ in OPFS, finished or not. */
function opfsFolders(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle('gendr-packs', { create: true });
    const names: string[] = [];
    const entries = (dir as unknown as { keys(): AsyncIterable<string> }).keys();
    for await (const name of entries) names.push(name);
    return names;
  });
}

async function expectInstallError(page: Page, code: string, file: string | null, text: RegExp) {
  const error = page.getByTestId('pack-install-error');
  await expect(error).toBeVisible();
  await expect(error).toHaveAttribute('data-code', code);
  if (file !== null) await expect(error).toHaveAttribute('data-file', file);
  await expect(error).toContainText(text);
}

test('a pack installs from a manifest URL with progress, is listed with its size, survives a reload and is deleted', async ({
  page,
}) => {
  await openManager(page);
  await installFromUrl(page, packs.manifestUrl('slow'));
  const progress = page.getByTestId('pack-install-text');
  await expect(progress).toContainText(/of 2\.\d MB \(\d+%\)/);
  await expect(progress).toContainText(/MB\/s|KB\/s/);
  await expect(page.getByTestId('pack-installed')).toContainText('Test pack (slow)', {
    timeout: 60_000,
  });

  await installFromUrl(page, packs.manifestUrl('good'));
  await expect(page.getByTestId('pack-installed')).toContainText('Test pack (good)');
  const item = page.getByTestId('pack-item-good');
  await expect(item.getByTestId('pack-size')).toHaveText('2.3 MB');
  const bytes = Number(await item.getAttribute('data-bytes'));
  const manifest = JSON.parse(fs.readFileSync(path.join(packs.dir, 'good/manifest.json'), 'utf8'));
  const listed = Object.values(manifest.files as Record<string, { bytes: number }>).reduce(
    (sum, f) => sum + f.bytes,
    fs.statSync(path.join(packs.dir, 'good/manifest.json')).size,
  );
  expect(bytes).toBe(listed);
  await expect(page.getByTestId('storage-estimate')).toContainText(/uses .* of .* the browser/);
  const usage = Number(await page.getByTestId('storage-estimate').getAttribute('data-usage'));
  expect(usage).toBeGreaterThanOrEqual(2 * bytes);

  await page.reload();
  await page.getByTestId('model-manager').locator('summary').click();
  await expect(page.getByTestId('pack-item-good')).toBeVisible();
  await expect(page.getByTestId('pack-item-slow')).toBeVisible();
  expect((await opfsFolders(page)).sort()).toEqual([
    expect.stringMatching(/^good~/),
    expect.stringMatching(/^slow~/),
  ]);

  await page.getByTestId('pack-delete-good').click();
  await page.getByTestId('pack-delete-good').click();
  await expect(page.getByTestId('pack-item-good')).toHaveCount(0);
  await expect(page.getByTestId('pack-item-slow')).toBeVisible();
  expect(await opfsFolders(page)).toEqual([expect.stringMatching(/^slow~/)]);
});

test('bad packs are rejected naming the file and the problem, and leave nothing behind', async ({
  page,
}) => {
  await openManager(page);
  const cases: [string, string, string, RegExp][] = [
    ['bad-hash', 'hash-mismatch', 'unet/model.onnx', /unet\/model\.onnx .*sha256/],
    ['missing', 'missing-file', 'vae_decoder/model.onnx', /vae_decoder\/model\.onnx is missing/],
    [
      'not-onnx',
      'onnx-unparsable',
      'vae_decoder/model.onnx',
      /vae_decoder\/model\.onnx is not a valid ONNX model/,
    ],
    [
      'wrong-shape',
      'interface-mismatch',
      'vae_encoder/model.onnx',
      /vae_encoder output latent_parameters has size 32 on axis 1/,
    ],
  ];
  for (const [variant, code, file, text] of cases) {
    await installFromUrl(page, packs.manifestUrl(variant));
    await expectInstallError(page, code, file, text);
    expect(await opfsFolders(page), variant).toEqual([]);
  }
  await installFromUrl(page, `${packs.origin}/nowhere/`);
  await expectInstallError(page, 'missing-file', 'manifest.json', /manifest\.json is missing/);
  await expect(page.getByTestId('pack-list')).toHaveCount(0);
});

test('an interrupted download leaves nothing half-installed and can be retried', async ({
  page,
}) => {
  await openManager(page);
  await installFromUrl(page, packs.manifestUrl('flaky'));
  await expectInstallError(page, 'network', 'unet/model.onnx', /broke off/);
  await expect(page.getByTestId('pack-list')).toHaveCount(0);
  expect(await opfsFolders(page)).toEqual([]);

  await page.getByTestId('pack-install-retry').click();
  await expect(page.getByTestId('pack-installed')).toContainText('Test pack (flaky)');
  await expect(page.getByTestId('pack-item-flaky')).toBeVisible();
  expect(await opfsFolders(page)).toEqual([expect.stringMatching(/^flaky~/)]);
});

test('Cancel stops an install and removes what it wrote', async ({ page }) => {
  await openManager(page);
  await installFromUrl(page, packs.manifestUrl('slow'));
  await expect(page.getByTestId('pack-install-text')).toContainText(/unet\/model\.onnx/, {
    timeout: 30_000,
  });
  expect((await opfsFolders(page)).length).toBe(1);
  await page.getByTestId('pack-install-cancel').click();
  await expectInstallError(page, 'cancelled', null, /cancelled/);
  expect(await opfsFolders(page)).toEqual([]);
  await expect(page.getByTestId('pack-list')).toHaveCount(0);
});

test('a pack installs from a picked folder and from dropped loose files', async ({ page }) => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-pick-'));
  const folder = await copyVariant(packs, 'good', scratch);
  await openManager(page);
  await page.getByTestId('pack-folder-input').setInputFiles(folder);
  await expect(page.getByTestId('pack-installed')).toContainText('Test pack (good)');
  await expect(page.getByTestId('pack-item-good')).toBeVisible();
  const item = page.getByTestId('pack-item-good');
  await item.getByTestId('pack-delete-good').dblclick();
  await expect(item).toHaveCount(0);

  // Loose files, as dropped from a file manager: three are called model.onnx.
  const files = [
    'manifest.json',
    'vae_encoder/model.onnx',
    'unet/model.onnx',
    'vae_decoder/model.onnx',
    'prompt_embeds.safetensors',
  ].map((rel) => ({
    name: path.basename(rel),
    base64: fs.readFileSync(path.join(folder, rel)).toString('base64'),
  }));
  const transfer = await page.evaluateHandle((list) => {
    const t = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      t.items.add(new File([bytes], f.name));
    }
    return t;
  }, files.reverse());
  const zone = page.getByTestId('pack-drop-zone');
  await zone.dispatchEvent('dragover', { dataTransfer: transfer });
  await zone.dispatchEvent('drop', { dataTransfer: transfer });
  await expect(page.getByTestId('pack-installed')).toContainText('Test pack (good)');
  await expect(page.getByTestId('pack-item-good')).toBeVisible();
  // The drop went to the manager, not to the photo input.
  await expect(page.getByTestId('source-error')).toHaveCount(0);
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('a full quota gives a plain message saying how much space is needed', async ({
  page,
  baseURL,
}) => {
  await openManager(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', {
    origin: new URL(baseURL!).origin,
    quotaSize: usage + 512 * 1024,
  });
  await installFromUrl(page, packs.manifestUrl('good'));
  await expectInstallError(
    page,
    'quota',
    null,
    /Not enough storage for “Test pack \(good\)”: it needs 2\.\d MB, and (only .* is free|the browser refused)/,
  );
  expect(await opfsFolders(page)).toEqual([]);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin });
  await page.getByTestId('pack-install-retry').click();
  await expect(page.getByTestId('pack-item-good')).toBeVisible();
});

test('a file the browser will not store although it reports room (a private window) is named in plain words, and nothing is kept', async ({
  page,
}) => {
  // Playwright's contexts are private: Chromium keeps their storage in memory and refuses a file
  // of about 1.4 GB or more while the estimate still reports gigabytes free. The manifest here
  // declares such a UNet; the refusal comes when the file's space is reserved, before any download.
  const variant = path.join(packs.dir, 'refused');
  fs.cpSync(path.join(packs.dir, 'good'), variant, { recursive: true });
  const manifestFile = path.join(variant, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  manifest.id = 'refused';
  manifest.name = 'Test pack (refused)';
  manifest.files['unet/model.onnx'].bytes = 1_600_000_000;
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));

  await openManager(page);
  const free = await page.evaluate(async () => {
    const e = await navigator.storage.estimate();
    return (e.quota ?? 0) - (e.usage ?? 0);
  });
  expect(free).toBeGreaterThan(2_000_000_000);
  await installFromUrl(page, packs.manifestUrl('refused'));
  await expectInstallError(
    page,
    'quota',
    null,
    /Not enough storage for “Test pack \(refused\)”: it needs 15\d\d MB, and the browser refused to store it, although it reported room for it\. A private window .* normal window/,
  );
  expect(await opfsFolders(page)).toEqual([]);
  expect(packs.requests.filter((r) => r.includes('refused/unet'))).toEqual([]);
  // The installed list is as it was, and a normal pack still installs.
  await installFromUrl(page, packs.manifestUrl('good'));
  await expect(page.getByTestId('pack-item-good')).toBeVisible();
});
