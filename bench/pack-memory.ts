/**
 * Peak memory while installing and loading a generated ~200 MB model pack in the built app.
 *
 *   npx vite build --outDir /tmp/gendr-dist-pwa
 *   GENDR_DIST=/tmp/gendr-dist-pwa npx tsx bench/pack-memory.ts [--width 3600] [--port 4199]
 *
 * Generates the pack (test/helpers/big-pack.ts) into a temporary folder, serves it from another
 * origin, and drives Debian's Chromium with a persistent profile (so OPFS is on disk, as for a
 * user, not in memory as in an incognito profile). Every 50 ms it samples the resident memory
 * (VmRSS) of each Chromium process by type; the renderer holds the page and its workers (the
 * pack store and the restore worker with onnxruntime-web). Reported: the baseline with the app
 * open, the peak during the install, the peak while the pack is loaded into onnxruntime-web and
 * restores a 64x48 image, and the renderer's own high-water mark (VmHWM).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import sharp from 'sharp';
import { writeBigPack } from '../test/helpers/big-pack.ts';

const { values } = parseArgs({
  options: {
    width: { type: 'string', default: '3600' },
    port: { type: 'string', default: '4199' },
    'pack-port': { type: 'string', default: '4198' },
  },
});
process.env.GENDR_DIST ??= path.resolve('dist');
const { serveDist } = await import('../e2e/helpers/dist-server.ts');

const MB = 1024 * 1024;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-pack-memory-'));

interface Proc {
  pid: number;
  type: string;
}

function readProc(pid: number, file: string): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

function statusKb(pid: number, key: string): number {
  const match = readProc(pid, 'status')?.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Chromium's processes: the one whose command line names our profile, and its descendants. */
function chromiumProcesses(profile: string): Proc[] {
  const parents = new Map<number, number>();
  const types = new Map<number, string>();
  let root = -1;
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readProc(pid, 'stat');
    const cmdline = readProc(pid, 'cmdline');
    if (!stat || !cmdline) continue;
    parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    // Chromium rewrites its children's titles: arguments may be separated by spaces.
    const args = cmdline.split(/[\0 ]/);
    const type = args.find((a) => a.startsWith('--type='))?.slice(7);
    const sub = args.find((a) => a.startsWith('--utility-sub-type='))?.slice(19);
    types.set(pid, type ? (sub ? `${type}:${sub.split('.').pop()}` : type) : 'browser');
    if (!type && args.some((a) => a === `--user-data-dir=${profile}`)) root = pid;
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid; p > 1; p = parents.get(p) ?? 0) if (p === root) return true;
    return false;
  };
  return [...types.keys()].filter(inTree).map((pid) => ({ pid, type: types.get(pid)! }));
}

class Sampler {
  private timer: NodeJS.Timeout | null = null;
  peakByType = new Map<string, number>();
  peakTotal = 0;
  peakRenderer = 0;

  constructor(private readonly profile: string) {}

  sample(): { total: number; renderer: number; byType: Map<string, number> } {
    const byType = new Map<string, number>();
    let total = 0;
    let renderer = 0;
    for (const p of chromiumProcesses(this.profile)) {
      const rss = statusKb(p.pid, 'VmRSS');
      total += rss;
      byType.set(p.type, (byType.get(p.type) ?? 0) + rss);
      if (p.type === 'renderer') renderer = Math.max(renderer, rss);
    }
    return { total, renderer, byType };
  }

  start(): void {
    this.peakByType.clear();
    this.peakTotal = 0;
    this.peakRenderer = 0;
    this.timer = setInterval(() => {
      const s = this.sample();
      this.peakTotal = Math.max(this.peakTotal, s.total);
      this.peakRenderer = Math.max(this.peakRenderer, s.renderer);
      for (const [type, rss] of s.byType)
        this.peakByType.set(type, Math.max(this.peakByType.get(type) ?? 0, rss));
    }, 50);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

function mb(bytes: number): number {
  return Math.round((bytes / MB) * 10) / 10;
}

// 1. The pack, generated on disk and served from another origin (CORS, as a pack host must).
const packDir = path.join(scratch, 'pack');
let t = performance.now();
const pack = await writeBigPack(packDir, Number(values.width));
console.error(`generated ${mb(pack.bytes)} MB pack in ${Math.round(performance.now() - t)} ms`);
const packServer = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
  const file = path.join(packDir, path.normalize(rel));
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (!file.startsWith(packDir) || !fs.existsSync(file)) return void res.writeHead(404).end();
  res.writeHead(200, { 'Content-Length': fs.statSync(file).size });
  fs.createReadStream(file).pipe(res);
});
const packPort = Number(values['pack-port']);
await new Promise<void>((resolve) => packServer.listen(packPort, 'localhost', resolve));
const app = await serveDist(Number(values.port));

const input = path.join(scratch, 'input.png');
await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
  .png()
  .toFile(input);

// 2. Chromium with a profile on disk.
const profile = path.join(scratch, 'profile');
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  serviceWorkers: 'block',
  acceptDownloads: false,
});
const page = context.pages()[0] ?? (await context.newPage());
const sampler = new Sampler(profile);
try {
  await page.goto(`${app.origin}/`);
  await page.getByTestId('model-manager').locator('summary').click();
  await page.getByTestId('model-option-esrgan-medium').waitFor();
  await page.waitForTimeout(2000);
  const baseline = sampler.sample();

  // 3. Install.
  sampler.start();
  t = performance.now();
  await page.getByTestId('pack-url-input').fill(`http://localhost:${packPort}/manifest.json`);
  await page.getByTestId('pack-url-install').click();
  await page.getByTestId('pack-installed').waitFor({ timeout: 600_000 });
  const installMs = performance.now() - t;
  sampler.stop();
  const install = {
    peakRenderer: sampler.peakRenderer,
    peakTotal: sampler.peakTotal,
    byType: new Map(sampler.peakByType),
  };
  await page.waitForTimeout(2000);
  const afterInstall = sampler.sample();

  // 4. Load into onnxruntime-web (WASM) and restore a small image.
  sampler.start();
  t = performance.now();
  await page.getByTestId(`model-option-pack:${pack.id}`).check();
  await page.getByTestId('backend-option-wasm').check();
  await page.getByTestId('file-input').setInputFiles(input);
  await page
    .getByTestId('run-status')
    .and(page.locator('[data-phase="done"], [data-phase="failed"]'))
    .waitFor({ timeout: 600_000 });
  const loadMs = performance.now() - t;
  sampler.stop();
  const phase = await page.getByTestId('run-status').getAttribute('data-phase');
  if (phase !== 'done') throw new Error(await page.getByTestId('run-error').innerText());
  const rendererPids = chromiumProcesses(profile).filter((p) => p.type === 'renderer');
  const hwm = Math.max(...rendererPids.map((p) => statusKb(p.pid, 'VmHWM')));

  const report = {
    pack: { bytes: pack.bytes, mb: mb(pack.bytes), encoderMb: mb(pack.encoderBytes) },
    baselineMb: { renderer: mb(baseline.renderer), allChromium: mb(baseline.total) },
    install: {
      seconds: Math.round(installMs / 100) / 10,
      peakRendererMb: mb(install.peakRenderer),
      rendererGrowthMb: mb(install.peakRenderer - baseline.renderer),
      peakAllChromiumMb: mb(install.peakTotal),
      peakByTypeMb: Object.fromEntries([...install.byType].map(([k, v]) => [k, mb(v)])),
      rendererAfterMb: mb(afterInstall.renderer),
    },
    loadAndRestore: {
      seconds: Math.round(loadMs / 100) / 10,
      peakRendererMb: mb(sampler.peakRenderer),
      rendererGrowthMb: mb(sampler.peakRenderer - afterInstall.renderer),
      peakAllChromiumMb: mb(sampler.peakTotal),
      peakByTypeMb: Object.fromEntries([...sampler.peakByType].map(([k, v]) => [k, mb(v)])),
    },
    rendererHighWaterMarkMb: mb(hwm),
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  sampler.stop();
  await context.close();
  await app.close();
  packServer.closeAllConnections();
  packServer.close();
  fs.rmSync(scratch, { recursive: true, force: true });
}
