/**
 * Compiles the experimental hand-written kernels (workers/engine/kernels/*.c) to WebAssembly with
 * clang (Debian: `apt-get install clang-16 lld-16`), freestanding, in two flavours: plain SIMD128
 * and relaxed SIMD (f32x4.relaxed_madd). Output: node_modules/.cache/gendr-kernels/<name>-<flavour>.wasm.
 * Used by the bench (tools/bench), the kernel tests and tools/perf/kernel-bench.ts; the app would
 * load them from public/kernels/ (see docs/bench.md for the proposed integration).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const kernelsOut = path.join(repoRoot, 'node_modules/.cache/gendr-kernels');

export const KERNEL_EXPORTS = [
  'conv_direct',
  'conv_winograd',
  'lincomb',
  'fill_zero',
  'nchw_to_nhwc',
  'depth_to_space',
  'to_nchw',
];
const SOURCES: Record<string, string[]> = { kernels: KERNEL_EXPORTS };

export type Flavour = 'simd' | 'relaxed';

export function buildKernels(
  clang = process.env.CLANG ?? 'clang-16',
  outDir = kernelsOut,
): Record<string, string> {
  mkdirSync(outDir, { recursive: true });
  const built: Record<string, string> = {};
  for (const [name, exports] of Object.entries(SOURCES)) {
    for (const flavour of ['simd', 'relaxed'] as Flavour[]) {
      const out = path.join(outDir, `${name}-${flavour}.wasm`);
      execFileSync(clang, [
        '--target=wasm32',
        '-O3',
        '-msimd128',
        ...(flavour === 'relaxed' ? ['-mrelaxed-simd', '-DRELAXED'] : []),
        '-nostdlib',
        '-ffreestanding',
        '-Wl,--no-entry',
        // Shared memory, so a helper worker can run the other half of each layer on the same buffers.
        '-matomics',
        '-mbulk-memory',
        '-Wl,--import-memory',
        '-Wl,--shared-memory',
        '-Wl,--max-memory=4294967296',
        '-Wl,-z,stack-size=65536',
        '-Wl,--export=__heap_base',
        '-Wl,--export=__stack_pointer',
        ...exports.map((e) => `-Wl,--export=${e}`),
        '-o',
        out,
        path.join(repoRoot, 'workers/engine/kernels', `${name}.c`),
      ]);
      built[`${name}-${flavour}`] = out;
    }
  }
  return built;
}

// `node bin/run-ts.mjs tools/perf/build-kernels.ts [outDir]`, e.g. public/kernels for the app.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(
    buildKernels(undefined, process.argv[2] ? path.resolve(process.argv[2]) : kernelsOut),
  );
}
