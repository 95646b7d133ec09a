/** The "Make all models available offline" button, with its progress. */
import { useState } from 'react';
import { errorText } from '../../workers/contract/error-text.ts';
import { formatBytes } from '../lib/format.ts';
import { canCacheModels, makeAllModelsOffline, type OfflineProgress } from './offline-models.ts';

export function OfflineModels() {
  const [progress, setProgress] = useState<OfflineProgress | null>(null);
  const [state, setState] = useState<'idle' | 'running' | 'done' | 'failed'>('idle');
  const [error, setError] = useState<string | null>(null);
  if (!canCacheModels()) return null;

  const start = () => {
    setState('running');
    setError(null);
    makeAllModelsOffline(setProgress)
      .then(() => setState('done'))
      .catch((e: unknown) => {
        setError(`Not every model could be saved for offline use: ${errorText(e)}`);
        setState('failed');
      });
  };

  return (
    <section className="panel-section">
      <button
        type="button"
        className="button"
        onClick={start}
        disabled={state === 'running'}
        data-testid="offline-all"
      >
        Make all models available offline
      </button>
      {progress && (
        <p className="hint" data-testid="offline-all-progress" data-state={state}>
          {state === 'done' ? 'Every model works offline: ' : 'Saving: '}
          {progress.filesDone} of {progress.files} files, {formatBytes(progress.bytesDone)} of{' '}
          {formatBytes(progress.bytesTotal)}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!progress && (
        <p className="hint">
          Otherwise each model is saved for offline use the first time it runs.
        </p>
      )}
    </section>
  );
}
