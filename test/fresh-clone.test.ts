/** A fresh clone without node_modules: the scripts say what to run instead of a module stack. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';

it.each([
  ['bin/run-ts.mjs', 'entry.ts'],
  ['bin/gendr-web.mjs', 'models'],
])('%s without installed dependencies prints one line naming `npm ci`', (script, arg) => {
  const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-fresh-'));
  try {
    fs.cpSync('bin', path.join(clone, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(clone, 'package.json'), '{"type":"module"}');
    fs.writeFileSync(path.join(clone, 'entry.ts'), 'console.log("ran");\n');
    const run = spawnSync(process.execPath, [script, arg], {
      cwd: clone,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      'gendr-web: dependencies are not installed; run `npm ci` (or `npm install`) first.',
    ]);
  } finally {
    fs.rmSync(clone, { recursive: true, force: true });
  }
});

it('the browser tests without Chromium print one line naming `apt-get install chromium`', () => {
  const run = spawnSync(
    process.execPath,
    [path.resolve('node_modules/@playwright/test/cli.js'), 'test', '--list'],
    {
      encoding: 'utf8',
      env: { ...process.env, GENDR_CHROMIUM: '/nonexistent/chromium' },
    },
  );
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split('\n')).toEqual([
    'Browser tests need Chromium at /nonexistent/chromium: run `apt-get install chromium`.',
  ]);
});
