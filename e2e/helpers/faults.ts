/**
 * Installs TEST-ONLY fault rules before the app loads (see src/features/faults/test-faults.ts):
 * restores of files whose name contains `match` get the faults.
 */
import type { Page } from '@playwright/test';
import type { TestFaultRule } from '../../src/features/faults/test-faults.ts';

export async function injectFaults(page: Page, rules: TestFaultRule[]): Promise<void> {
  await page.addInitScript((r) => {
    (window as Window & { __GENDR_TEST_FAULTS__?: unknown }).__GENDR_TEST_FAULTS__ = r;
  }, rules);
}
