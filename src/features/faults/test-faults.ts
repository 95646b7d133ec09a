/**
 * TEST-ONLY: the end-to-end tests provoke worker faults by setting, before the app loads
 * (Playwright's page.addInitScript),
 *
 *   window.__GENDR_TEST_FAULTS__ = [{ match: 'b.png', crashAfterRuns: 1 }, …]
 *
 * Each entry applies to restores of images whose file name contains `match` (all when absent).
 * Nothing in the app sets this global, so normal use can never trigger a fault.
 */
import type { TestFaults } from '../../../workers/contract/test-faults.ts';

export interface TestFaultRule extends TestFaults {
  match?: string;
}

declare global {
  interface Window {
    __GENDR_TEST_FAULTS__?: TestFaultRule[];
  }
}

export function testFaultsFor(name: string): TestFaults | undefined {
  const rules = typeof window === 'undefined' ? undefined : window.__GENDR_TEST_FAULTS__;
  if (!Array.isArray(rules)) return undefined;
  const rule = rules.find((r) => !r.match || name.includes(r.match));
  if (!rule) return undefined;
  const { match: _match, ...faults } = rule;
  return faults;
}
