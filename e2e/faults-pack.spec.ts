/**
 * The fault policy is the same for every kind of model: an installed pack goes through the same
 * restore path as the built-in models, so a worker crash, a throwing model and running out of
 * memory behave for a pack exactly as for them (e2e/faults-crash.spec.ts,
 * e2e/faults-memory.spec.ts): the item fails with the reason or recovers with a notice, a new
 * worker starts, and the queue carries on.
 */
import { expect, test } from '@playwright/test';
import { chooseBackend } from './helpers/app.ts';
import { expectStatus, item, statuses } from './helpers/batch.ts';
import { injectFaults } from './helpers/faults.ts';
import { smallPngs } from './helpers/inputs.ts';
import { startPackServer, type PackServer } from './helpers/pack-server.ts';

const PACK_PORT = Number(process.env.GENDR_E2E_PACK_PORT ?? 4196) + 3;

let packs: PackServer;

test.beforeAll(async () => {
  packs = await startPackServer(PACK_PORT);
});
test.afterAll(async () => packs?.close());

test('a pack meets the same fault policy: crash, throwing model, out of memory', async ({
  page,
}) => {
  const files = await smallPngs(
    ['first.png', 'crash-me.png', 'throw-me.png', 'oom-pack.png', 'oom-never.png', 'last.png'],
    24,
  );
  const workers: string[] = [];
  page.on('worker', (worker) => {
    if (worker.url().includes('restore.worker')) workers.push(worker.url());
  });
  await injectFaults(page, [
    // The encoder runs, then the worker dies before the next session run.
    { match: 'crash-me', crashAfterRuns: 1 },
    { match: 'throw-me', throwingModel: true },
    // The encoder's 96x96 input needs a 108 KB buffer, over a 50 KB limit: smaller tiles fit.
    { match: 'oom-pack', bufferLimitBytes: 50_000 },
    // Over a 5 KB limit even with the smallest tiles.
    { match: 'oom-never', bufferLimitBytes: 5_000 },
  ]);
  await page.goto('/');
  const manager = page.getByTestId('model-manager');
  await manager.locator('summary').click();
  await page.getByTestId('pack-url-input').fill(packs.manifestUrl('good'));
  await page.getByTestId('pack-url-install').click();
  await expect(page.getByTestId('pack-installed')).toContainText('Test pack (good)');
  await page.getByTestId('model-option-pack/good').check();
  await chooseBackend(page, 'wasm');
  await page.getByTestId('file-input').setInputFiles(files);

  await expectStatus(page, 'last.png', /^(done|failed)$/);
  expect(await statuses(page)).toEqual({
    'first.png': 'done',
    'crash-me.png': 'failed',
    'throw-me.png': 'failed',
    'oom-pack.png': 'done',
    'oom-never.png': 'failed',
    'last.png': 'done',
  });
  await expect(item(page, 'crash-me.png').getByTestId('item-error')).toHaveText(
    'Restoring failed: The restore worker stopped unexpectedly (it crashed or ran out of memory); a new one was started.',
  );
  await expect(item(page, 'throw-me.png').getByTestId('item-error')).toHaveText(
    'Restoring failed: the model failed on this input (test fault)',
  );
  // Out of memory: retried with smaller tiles, said so, and finished at the right size...
  await expect(item(page, 'oom-pack.png').getByTestId('item-note').first()).toContainText(
    'Ran out of memory',
  );
  await expect(item(page, 'oom-pack.png').getByTestId('item-status')).toContainText('96');
  // ...or, still over the limit with the smallest tiles, gave up with the plain reason.
  await expect(item(page, 'oom-never.png').getByTestId('item-error')).toContainText(
    'Out of memory even with the smallest tiles',
  );
  expect(workers.length).toBeGreaterThanOrEqual(2);
  // Each item kept the model it was queued with.
  await expect(item(page, 'last.png').getByTestId('item-settings')).toContainText('Test pack');
});
