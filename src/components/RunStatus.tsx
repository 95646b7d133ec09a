import { useNow } from '../hooks/use-now.ts';
import { estimateRemainingMs, formatEta, formatSeconds } from '../lib/format.ts';
import { isActive, useAppStore, type RunState } from '../state/store.ts';
import { DownloadPanel } from './DownloadPanel.tsx';

const STAGE_TEXT: Partial<Record<RunState['phase'], string>> = {
  starting: 'Starting…',
  'loading-runtime': 'Loading the runtime…',
  'loading-model': 'Loading the model…',
  restoring: 'Restoring…',
};

const ENGINE_TEXT = { kernels: 'fast kernels', onnxruntime: 'onnxruntime' } as const;

export function backendLabel(
  run: Pick<RunState, 'backend' | 'threads' | 'cpuEngine' | 'precision'>,
): string {
  if (run.backend === 'webgpu') return run.precision === 'fp16' ? 'WebGPU · fp16' : 'WebGPU';
  if (run.backend !== 'wasm') return '';
  const parts = ['WASM'];
  if (run.cpuEngine) parts.push(ENGINE_TEXT[run.cpuEngine]);
  if (run.threads) parts.push(`${run.threads} thread${run.threads === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** Progress, ETA, Cancel, the backend that ran, notices and errors: shown right above the image. */
export function RunStatus() {
  const run = useAppStore((s) => s.run);
  const cancel = useAppStore((s) => s.cancel);
  const restore = useAppStore((s) => s.restore);
  const active = isActive(run?.phase);
  const now = useNow(active);
  if (!run) return null;

  const elapsed = run.restoringSince === null ? 0 : now - run.restoringSince;
  const eta = run.phase === 'restoring' ? estimateRemainingMs(run.done, run.total, elapsed) : null;

  return (
    <div className="run-status" data-testid="run-status" data-phase={run.phase}>
      {active && (
        <div className="progress-row">
          <div className="progress-text" aria-live="polite">
            <strong>{STAGE_TEXT[run.phase]}</strong>{' '}
            {run.total > 0 && (
              <span data-testid="progress-text">
                {run.done} / {run.total} tiles · {formatEta(eta)}
              </span>
            )}
          </div>
          <progress
            data-testid="progress"
            aria-label="Restore progress"
            max={run.total || 1}
            value={run.phase === 'restoring' ? run.done : undefined}
          />
          <button
            type="button"
            className="button danger"
            data-testid="cancel-button"
            onClick={cancel}
          >
            Cancel
          </button>
        </div>
      )}
      {run.phase === 'done' && (
        <div className="done-row">
          <p className="done-line" data-testid="done">
            <span
              className="badge ok"
              data-testid="backend-used"
              data-backend={run.backend ?? ''}
              data-cpu-engine={run.cpuEngine ?? ''}
              data-precision={run.precision ?? ''}
            >
              {backendLabel(run)}
            </span>{' '}
            <span>
              {run.modelName}: {run.width} × {run.height}
              {run.runMs !== null && <> in {formatSeconds(run.runMs)}</>}
            </span>
            <span className="visually-hidden" data-testid="result-size">
              {run.width}x{run.height}
            </span>
          </p>
          <DownloadPanel />
        </div>
      )}
      {run.phase === 'cancelled' && (
        <p className="done-line" data-testid="cancelled">
          Cancelled.{' '}
          <button type="button" className="link-button" onClick={() => void restore()}>
            Start again
          </button>
        </p>
      )}
      {active && run.backend && (
        <p className="hint" data-testid="backend-running" data-backend={run.backend}>
          Running on {run.backend === 'webgpu' ? 'WebGPU' : 'WASM'}
        </p>
      )}
      {run.notices.map((notice, i) => (
        <p key={i} className="notice" role="status" data-testid="notice">
          {notice}
        </p>
      ))}
      {run.error && (
        <p className="error" role="alert" data-testid="run-error">
          {run.error}
        </p>
      )}
    </div>
  );
}
