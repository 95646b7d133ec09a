/**
 * The pack store against hostile or broken OPFS content and manifests, in Chromium's real OPFS:
 * a forged install marker (inside the pack folder, where a pack's own files go, or beside a
 * folder that lacks the files its manifest lists) never makes a pack look installed and is
 * cleaned up; pack paths OPFS would refuse are refused by the manifest check, naming the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startPackServer, type PackServer } from './helpers/pack-server.ts';
import { writePack } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';

const PACK_PORT = Number(process.env.GENDR_E2E_HOSTILE_PACK_PORT ?? 4193);

/** The tiny valid pack with one more file listed at `extra` (and present there, if it can be). */
function packListing(extra: string) {
  return async (dir: string) => {
    await writePack(dir, tinyGendrPack());
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    manifest.files[extra] = { bytes: 4, sha256: 'a'.repeat(64) };
    fs.writeFileSync(file, JSON.stringify(manifest));
  };
}

const BAD_PATHS: Record<string, string> = {
  'dot-segment': 'unet/./extra.bin',
  'empty-segment': 'unet//extra.bin',
  'marker-name': 'installed.json',
  backslash: 'unet\\extra.bin',
};

let packs: PackServer;
test.beforeAll(async () => {
  packs = await startPackServer(PACK_PORT, {
    packs: Object.fromEntries(Object.entries(BAD_PATHS).map(([k, p]) => [k, packListing(p)])),
  });
});
test.afterAll(async () => packs?.close());

async function openManager(page: Page): Promise<void> {
  await page.goto('/');
  const manager = page.getByTestId('model-manager');
  await manager.locator('summary').click();
  await expect(manager.locator('summary')).toContainText('installed');
}

/** Names under an OPFS folder at the root. */
function opfsNames(page: Page, folder: string): Promise<string[]> {
  return page.evaluate(async (folder) => {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(folder, { create: true });
    const names: string[] = [];
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys())
      names.push(name);
    return names.sort();
  }, folder);
}

test('forged install markers do not make a pack look installed, and are cleaned up', async ({
  page,
}) => {
  await openManager(page);
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const packsDir = await root.getDirectoryHandle('gendr-packs', { create: true });
    const markers = await root.getDirectoryHandle('gendr-pack-markers', { create: true });
    const write = async (dir: FileSystemDirectoryHandle, name: string, text: string) => {
      const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
      await writable.write(text);
      await writable.close();
    };
    const marker = (id: string) =>
      JSON.stringify({
        format: 'gendr-installed-pack',
        version: 1,
        id,
        name: `Forged ${id}`,
        bytes: 10,
        files: 2,
        precision: 'fp32',
        scale: 4,
        hasUnet: true,
        installedAt: new Date().toISOString(),
        source: 'forged',
      });
    // 1. A pack that listed a file named like the old in-folder marker, then stalled: no manifest.
    const stalled = await packsDir.getDirectoryHandle('stalled~1', { create: true });
    await write(stalled, 'installed.json', marker('stalled'));
    // 2. A marker in the marker folder, but the folder lacks a file its manifest lists.
    const partial = await packsDir.getDirectoryHandle('partial~1', { create: true });
    await write(
      partial,
      'manifest.json',
      JSON.stringify({ files: { 'unet/model.onnx': { bytes: 1000, sha256: 'a'.repeat(64) } } }),
    );
    await write(markers, 'partial~1.installed', marker('partial'));
    // 3. A marker whose folder is gone.
    await write(markers, 'gone~1.installed', marker('gone'));
  });

  await page.reload();
  await page.getByTestId('model-manager').locator('summary').click();
  await expect(page.getByTestId('model-manager').locator('summary')).toContainText('installed');
  await expect(page.getByTestId('pack-item-stalled')).toHaveCount(0);
  await expect(page.getByTestId('pack-item-partial')).toHaveCount(0);
  await expect(page.getByTestId('pack-item-gone')).toHaveCount(0);
  // The start-up cleanup removes the unfinished folders and the stray markers.
  await expect.poll(() => opfsNames(page, 'gendr-packs')).toEqual([]);
  await expect.poll(() => opfsNames(page, 'gendr-pack-markers')).toEqual([]);
});

test('pack paths OPFS would refuse are refused by the manifest check, naming the file', async ({
  page,
}) => {
  await openManager(page);
  for (const [variant, bad] of Object.entries(BAD_PATHS)) {
    await test.step(variant, async () => {
      await page.getByTestId('pack-url-input').fill(packs.manifestUrl(variant));
      await page.getByTestId('pack-url-install').click();
      const error = page.getByTestId('pack-install-error');
      await expect(error).toBeVisible();
      await expect(error).toHaveAttribute('data-code', 'manifest');
      await expect(error).toContainText(`“${bad}” is not a valid pack path`);
      await expect(error).not.toContainText('Name is not allowed');
      expect(await opfsNames(page, 'gendr-packs')).toEqual([]);
    });
  }
});
