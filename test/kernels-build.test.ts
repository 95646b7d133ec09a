/**
 * The committed kernel builds (engine/kernels/wasm/*.wasm) are exactly what
 * `npm run kernels` produces from kernels.c, so nobody ships a stale binary. Needs clang-16 +
 * lld-16 (apt; .ci/run installs them); skips with a message without them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKernels, kernelFile, type Flavour } from '../tools/kernels/build-kernels.ts';

const clang = process.env.CLANG ?? 'clang-16';
const haveClang = (() => {
  try {
    execFileSync(clang, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!haveClang)
  console.log(
    `skipped: ${clang} not found (apt-get install clang-16 lld-16) to check the committed kernel builds`,
  );

describe.skipIf(!haveClang)('committed kernel builds', () => {
  it('match a fresh build of kernels.c byte for byte', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-kernels-'));
    try {
      const built = buildKernels(clang, dir);
      for (const flavour of ['simd', 'relaxed'] as Flavour[]) {
        const fresh = fs.readFileSync(built[`kernels-${flavour}`]);
        const committed = fs.readFileSync(kernelFile(flavour));
        expect(
          Buffer.compare(fresh, committed),
          `engine/kernels/wasm/kernels-${flavour}.wasm is stale: run \`npm run kernels\``,
        ).toBe(0);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
