/**
 * The walls between the layers (docs/architecture.md), checked by ESLint on every `npm test`:
 *
 *   src/ (page)        may import workers/contract/ only, never the workers, the engine or a runtime
 *   workers/contract/  types shared by the page and the workers: itself and engine types only
 *   workers/restore/   the restore worker: contract, engine, runtime, opfs; not the pack-store worker
 *   workers/pack-store/ the pack-store worker: contract, opfs, engine; not the restore worker
 *   engine/            no DOM, worker or Node: imports only itself (and pure libraries)
 *   tools/             the CLI, builders, bench: engine, contract, runtime; never the page
 *
 * test/lint-walls.test.ts proves each wall fails a deliberate bad import.
 */

/** An import restriction: `regex` over the import string, with the reason as the message. */
function forbid(regex, message) {
  return { regex, message };
}

const runtimes = forbid(
  '^onnxruntime-',
  'Runtimes are loaded by the restore worker (workers/restore) or the tools, never here.',
);
const nodeBuiltins = forbid('^node:', 'The engine runs in browsers too: no Node modules.');

/** Globals the engine must not touch (tsconfig.engine.json leaves them untyped as well). */
const hostGlobals = [
  'window',
  'document',
  'self',
  'navigator',
  'location',
  'postMessage',
  'importScripts',
  'OffscreenCanvas',
  'ImageBitmap',
  'ImageData',
  'Worker',
  'localStorage',
  'indexedDB',
  'process',
  'Buffer',
  'require',
  '__dirname',
  '__filename',
].map((name) => ({ name, message: 'The engine has no DOM, worker or Node globals.' }));

function restricted(patterns) {
  return { 'no-restricted-imports': ['error', { patterns }] };
}

export const layerRules = [
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: restricted([
      forbid(
        '(^|/)workers/(?!contract/)',
        'The page talks to the workers through workers/contract/ only.',
      ),
      forbid('(^|/)engine/', 'The page never runs a model: use the types in workers/contract/.'),
      forbid('(^|/)tools/', 'The page cannot use build tools.'),
      runtimes,
    ]),
  },
  {
    files: ['workers/contract/**/*.ts'],
    rules: restricted([
      forbid('^\\.\\./(?!\\.\\./engine/)', 'The contract imports only itself and engine types.'),
      runtimes,
    ]),
  },
  {
    files: ['workers/restore/**/*.ts'],
    rules: restricted([
      forbid('(^|/)pack-store/', 'The restore worker reads packs through workers/opfs/.'),
      forbid('(^|/)(src|tools)/', 'Workers depend on no page or tool code.'),
      nodeBuiltins,
    ]),
  },
  {
    files: ['workers/pack-store/**/*.ts'],
    rules: restricted([
      forbid('(^|/)restore/', 'The pack-store worker does not run models.'),
      forbid('(^|/)(src|tools)/', 'Workers depend on no page or tool code.'),
      runtimes,
      nodeBuiltins,
    ]),
  },
  {
    files: ['workers/opfs/**/*.ts', 'workers/runtime/**/*.ts'],
    rules: restricted([
      forbid('(^|/)(restore|pack-store)/', 'Shared worker code depends on neither worker.'),
      forbid('(^|/)(src|tools)/', 'Workers depend on no page or tool code.'),
      nodeBuiltins,
    ]),
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      ...restricted([
        forbid('(^|/)(workers|src|tools)/', 'The engine is a library: it imports only itself.'),
        runtimes,
        nodeBuiltins,
        forbid(
          '^(react|comlink|zustand|sharp)',
          'The engine has no UI, worker or Node dependency.',
        ),
      ]),
      'no-restricted-globals': ['error', ...hostGlobals],
    },
  },
  {
    files: ['tools/**/*.ts'],
    rules: restricted([
      forbid('(^|/)src/', 'Tools never import the page.'),
      forbid('(^|/)workers/(restore|pack-store)/', 'Tools run the engine, not the workers.'),
    ]),
  },
];
