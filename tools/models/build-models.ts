/**
 * `npm run models` (also postinstall, predev, prebuild, pretest): converts the built-in UpscalerJS
 * ESRGAN models from node_modules to ONNX in public/models, or does nothing when they are current.
 * Prints one line. Options: --force (rebuild everything), --verbose (one line per model too),
 * --out <dir> (write somewhere other than public/models).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBuiltinModels } from './builtin-models.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const args = new Set(argv);
const outIndex = argv.indexOf('--out');
if (outIndex >= 0 && !argv[outIndex + 1]) {
  console.error('models: --out needs a folder');
  process.exit(2);
}
const outDir =
  outIndex >= 0 ? path.resolve(argv[outIndex + 1]) : path.join(repoRoot, 'public', 'models');
const where = path.relative(process.cwd(), outDir) || '.';
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

try {
  const result = await buildBuiltinModels({
    repoRoot,
    outDir,
    force: args.has('--force'),
    onModel: args.has('--verbose')
      ? (m, ms, rewrites) =>
          console.log(
            `  ${m.id}: ${mb(m.bytes)}, tileMargin ${m.tileMargin}, ${ms.toFixed(0)} ms, rewrites ` +
              Object.entries(rewrites)
                .map(([pass, n]) => `${pass} x${n}`)
                .join(', '),
          )
      : undefined,
  });
  switch (result.status) {
    case 'current':
      console.log(`models: ${result.models} up to date in ${where} (${mb(result.bytes)})`);
      break;
    case 'built':
      console.log(
        `models: converted ${result.converted.length} of ${result.models} in ${(result.ms / 1000).toFixed(1)} s ` +
          `into ${where} (${mb(result.bytes)})`,
      );
      // Not fatal either: the app lists only the models that were built.
      for (const s of result.skipped ?? []) {
        console.warn(
          `models: WITHOUT ${s.ids.join(', ')}: ${s.package} not available: ${s.reason}`,
        );
      }
      break;
    case 'missing-sources':
      // Not fatal: an install without dev dependencies has no sources (and may need no models).
      console.warn(
        `models: ${result.missing.join(', ')} not installed; ` +
          (result.existing ? `kept the existing ${where}` : `${where} NOT built`),
      );
      break;
  }
} catch (err) {
  console.error(
    `models: build failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  process.exitCode = 1;
}
