/**
 * Chromium for the bench: the system browser launched with playwright-core, one fresh context per
 * measurement where memory is measured, and the renderer process's peak resident memory read from
 * /proc (Linux). Dedicated workers live in their page's renderer process, so the renderer's peak is
 * page + worker.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type CDPSession,
  type Page,
} from 'playwright-core';
import type { BenchApi } from '../page/protocol.ts';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-precise-memory-info',
  // A headless page counts as hidden: without these, Chromium lowers its renderer's priority and
  // throttles it, which makes timings bimodal on a machine shared with other work.
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface BenchBrowser {
  browser: Browser;
  cdp: CDPSession;
  version: string;
  /** Opens the bench page in a fresh context (so a fresh renderer process). */
  open(): Promise<BenchPage>;
  close(): Promise<void>;
}

export interface BenchPage {
  page: Page;
  context: BrowserContext;
  /** Calls `window.gendrBench[method](arg)` in the page. */
  call<K extends keyof BenchApi>(
    method: K,
    arg?: Parameters<BenchApi[K]>[0],
  ): Promise<Awaited<ReturnType<BenchApi[K]>>>;
  /** The renderer process of this page (found as the renderer that appeared when it opened). */
  rendererPid: number | null;
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function rendererPids(cdp: CDPSession): Promise<number[]> {
  try {
    const info = (await cdp.send('SystemInfo.getProcessInfo')) as {
      processInfo: { type: string; id: number }[];
    };
    return info.processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  } catch {
    return [];
  }
}

/** Resident memory now and at peak (kB -> bytes) of a process, or null off Linux. */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number } | null> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  if (!text) return null;
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Resets a process's peak resident memory to its current value (Linux: clear_refs 5). */
export async function resetPeak(pid: number): Promise<boolean> {
  return writeFile(`/proc/${pid}/clear_refs`, '5').then(
    () => true,
    () => false,
  );
}

export async function launchBench(pageUrl: string): Promise<BenchBrowser> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  const cdp = await browser.newBrowserCDPSession();
  return {
    browser,
    cdp,
    version: browser.version(),
    async open() {
      const before = new Set(await rendererPids(cdp));
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning' || process.env.GENDR_BENCH_VERBOSE)
          console.log(`  [page ${m.type()}] ${m.text()}`);
      });
      page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
      const load = async () => {
        await page.goto(pageUrl);
        await page.waitForFunction(() => document.body.dataset.ready === 'true');
      };
      await load();
      let rendererPid: number | null = null;
      const fresh = (await rendererPids(cdp)).filter((p) => !before.has(p));
      let best = -1;
      for (const pid of fresh) {
        const mem = await processMemory(pid);
        if (mem && mem.rss > best) {
          best = mem.rss;
          rendererPid = pid;
        }
      }
      return {
        page,
        context,
        rendererPid,
        call: (method, arg) =>
          page.evaluate(
            ([m, a]) =>
              (
                window as unknown as {
                  gendrBench: Record<string, (x: unknown) => Promise<unknown>>;
                }
              ).gendrBench[m](a),
            [method, arg] as const,
          ) as never,
        reload: load,
        close: () => context.close(),
      };
    },
    async close() {
      await browser.close();
    },
  };
}
