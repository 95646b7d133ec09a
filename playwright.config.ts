import fs from 'node:fs';
import { defineConfig } from '@playwright/test';

/** The browser the tests drive: Debian's Chromium (Playwright's own download is not used). */
const CHROMIUM = process.env.GENDR_CHROMIUM ?? '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  // One line instead of Playwright's launch stack, once per test.
  console.error(`Browser tests need Chromium at ${CHROMIUM}: run \`apt-get install chromium\`.`);
  process.exit(1);
}

/** Port of the production server the tests start (not 4173, so a running `npm start` does not clash). */
const PORT = Number(process.env.GENDR_E2E_PORT ?? 4183);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // One browser at a time: the restores use every core, and timings would suffer otherwise.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 240_000,
  expect: { timeout: 60_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: 'chromium',
    acceptDownloads: true,
    // The app's service worker precaches ~170 MB (ORT + every model) in the background; only the
    // offline tests (e2e/offline-*.spec.ts) let it run, so the others measure the app alone.
    serviceWorkers: 'block',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  webServer: {
    // The production server on the built dist/ (`npm run test:e2e` builds first).
    command: 'node bin/run-ts.mjs tools/serve.ts',
    url: `http://localhost:${PORT}/`,
    env: {
      PORT: String(PORT),
      ...(process.env.GENDR_DIST ? { GENDR_DIST: process.env.GENDR_DIST } : {}),
    },
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
  },
});
