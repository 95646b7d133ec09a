/**
 * The walls between page, workers, engine and tools (eslint.layers.js) fail the lint, and so
 * `npm test`, on a wrong import: each case lints a deliberate bad file with the project's own
 * ESLint config, and a good one beside it.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/shared.ts';

const eslint = new ESLint({ cwd: repoRoot });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals')
    .map((m) => m.message);
}

describe('layer walls', () => {
  it('the page may import the contract, but not a worker, the engine or a runtime', async () => {
    expect(
      await problems(
        'src/lib/wall-probe.ts',
        "import type { ModelDescriptor } from '../../workers/contract/model.ts';\nexport type M = ModelDescriptor;\n",
      ),
    ).toEqual([]);
    const bad = await problems(
      'src/lib/wall-probe.ts',
      [
        "import { createRestoreService } from '../../workers/restore/restore-service.ts';",
        "import { upscaleImage } from '../../engine/upscale.ts';",
        "import * as ort from 'onnxruntime-web';",
        'export const all = [createRestoreService, upscaleImage, ort];',
      ].join('\n'),
    );
    expect(bad).toHaveLength(3);
    expect(bad[0]).toMatch(/workers\/contract/);
  });

  it('the engine has no DOM, worker or Node: imports and globals', async () => {
    const bad = await problems(
      'engine/wall-probe.ts',
      [
        "import fs from 'node:fs';",
        "import { loadOrt } from '../workers/restore/ort-loader.ts';",
        'export const x = [fs, loadOrt, document.title, self.name, process.env];',
      ].join('\n'),
    );
    expect(bad).toHaveLength(5);
    expect(
      await problems(
        'engine/wall-probe.ts',
        "import { planFor } from './upscale.ts';\nexport const p = planFor;\n",
      ),
    ).toEqual([]);
  });

  it('the two workers stay apart, and the contract depends on no worker', async () => {
    expect(
      await problems(
        'workers/restore/wall-probe.ts',
        "import { createPackStoreService } from '../pack-store/pack-store-service.ts';\nexport const s = createPackStoreService;\n",
      ),
    ).toHaveLength(1);
    expect(
      await problems(
        'workers/pack-store/wall-probe.ts',
        "import { builtinRunner } from '../restore/runners/builtin-runner.ts';\nexport const r = builtinRunner;\n",
      ),
    ).toHaveLength(1);
    expect(
      await problems(
        'workers/contract/wall-probe.ts',
        "import type { Sink } from '../restore/event-sink.ts';\nexport type S = Sink;\n",
      ),
    ).toHaveLength(1);
  });

  it('tools never import the page or the workers', async () => {
    expect(
      await problems(
        'tools/cli/wall-probe.ts',
        "import { useAppStore } from '../../src/state/store.ts';\nimport { eventSink } from '../../workers/restore/event-sink.ts';\nexport const x = [useAppStore, eventSink];\n",
      ),
    ).toHaveLength(2);
  });
});
