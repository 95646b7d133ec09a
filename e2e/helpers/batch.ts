/** Driving the batch queue: items by name, their status, waiting for the queue to settle. */
import { expect, type Locator, type Page } from '@playwright/test';

export function item(page: Page, name: string): Locator {
  return page.locator(`[data-testid="batch-item"][data-name="${name}"]`);
}

export async function expectStatus(
  page: Page,
  name: string,
  status: string | RegExp,
  timeout = 180_000,
): Promise<void> {
  await expect(item(page, name)).toHaveAttribute('data-status', status, { timeout });
}

/** Statuses of all items, in order. */
export function statuses(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-testid="batch-item"]')].map((el) => [
        el.getAttribute('data-name') ?? '',
        el.getAttribute('data-status') ?? '',
      ]),
    ),
  );
}

/**
 * Records, from inside the page, the most items ever running at once (the queue must run one at
 * a time), polled every animation frame.
 */
export async function watchConcurrency(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const w = window as Window & { __maxRunning?: number };
    w.__maxRunning = 0;
    const tick = () => {
      const running = document.querySelectorAll(
        '[data-testid="batch-item"][data-status="running"]',
      ).length;
      w.__maxRunning = Math.max(w.__maxRunning ?? 0, running);
      requestAnimationFrame(tick);
    };
    tick();
  });
  return () =>
    page.evaluate(() => (window as Window & { __maxRunning?: number }).__maxRunning ?? 0);
}
