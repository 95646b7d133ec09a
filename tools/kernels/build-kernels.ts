/**
 * Compiles the hand-written kernels (engine/kernels/kernels.c) to WebAssembly with clang
 * (Debian: `apt-get install clang-16 lld-16`), freestanding, in two flavours: plain SIMD128 and
 * relaxed SIMD (f32x4.relaxed_madd).
 *
 * The two .wasm files (~25 KB each) are committed in engine/kernels/wasm/, so installing
 * and building the app needs no C compiler; `npm run kernels` rebuilds them after a change to
 * kernels.c, and test/kernels-build.test.ts checks that the committed files are exactly what this
 * build produces (custom sections, such as clang's version string, are stripped so the bytes do not
 * depend on the Debian package revision).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the committed builds live (the worker imports them from here). */
export const kernelsOut = path.join(repoRoot, 'engine/kernels/wasm');

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

/** The committed build of one flavour. */
export function kernelFile(flavour: Flavour): string {
  return path.join(kernelsOut, `kernels-${flavour}.wasm`);
}

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
        // No name or producers sections: smaller, and the same bytes from any clang-16 package.
        '-Wl,--strip-all',
        ...exports.map((e) => `-Wl,--export=${e}`),
        '-o',
        out,
        path.join(repoRoot, 'engine/kernels', `${name}.c`),
      ]);
      built[`${name}-${flavour}`] = out;
    }
  }
  return built;
}

// `npm run kernels` (= node bin/run-ts.mjs tools/kernels/build-kernels.ts [outDir]).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(
    buildKernels(undefined, process.argv[2] ? path.resolve(process.argv[2]) : kernelsOut),
  );
}
