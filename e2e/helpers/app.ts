/** Driving the app the way a user does: pick settings, drop or open a file, wait, download. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, type Page } from '@playwright/test';
import { scratchPath } from './images.ts';

export type Backend = 'auto' | 'webgpu' | 'wasm';

/** Opens the app and waits until the model list is in. */
export async function openApp(page: Page): Promise<void> {
  await page.goto('/');
  // The default photo model (Real-ESRGAN general on a machine without a hardware GPU).
  await expect(page.getByTestId('model-option-realesr-general-x4v3')).toBeChecked();
}

export async function chooseModel(page: Page, family: string, scale: number): Promise<void> {
  await page.getByTestId(`model-option-${family}`).check();
  await page.getByTestId(`scale-option-${scale}`).check();
}

export async function chooseBackend(page: Page, backend: Backend): Promise<void> {
  await page.getByTestId(`backend-option-${backend}`).check();
}

/** Drops a file on the app, as a drag and drop from the desktop would. */
export async function dropFile(page: Page, file: string, type = 'image/png'): Promise<void> {
  const base64 = fs.readFileSync(file).toString('base64');
  const dataTransfer = await page.evaluateHandle(
    ({ base64, name, type }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type }));
      return transfer;
    },
    { base64, name: path.basename(file), type },
  );
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

export async function openFile(page: Page, file: string): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(file);
}

/** Waits for the current restore to end and expects it to have succeeded. */
export async function waitForResult(page: Page, timeout = 180_000): Promise<void> {
  const status = page.getByTestId('run-status');
  await expect(status).toHaveAttribute('data-phase', /^(done|failed|cancelled)$/, { timeout });
  const error = page.getByTestId('run-error');
  if (await error.isVisible()) throw new Error(`restore failed: ${await error.innerText()}`);
  await expect(status).toHaveAttribute('data-phase', 'done');
}

/** Clicks Download and returns the saved file's path and suggested name. */
export async function download(
  page: Page,
  name: string,
): Promise<{ file: string; suggested: string }> {
  const [saved] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('download-button').click(),
  ]);
  const file = scratchPath(name);
  await saved.saveAs(file);
  return { file, suggested: saved.suggestedFilename() };
}
