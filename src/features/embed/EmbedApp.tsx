/**
 * The app in `?embed` mode: minimal chrome for an iframe. No settings or file controls: the
 * embedding page sends photos with postMessage (embed-controller.ts); this shows the restore as
 * its tiles stream in, and says what it runs on (one thread without cross-origin isolation).
 */
import { useEffect, useRef } from 'react';
import { useEmbedStore } from './embed-store.ts';
import './embed.css';

const STAGE_TEXT: Record<string, string> = {
  queued: 'Waiting…',
  decoding: 'Reading the image…',
  'loading-runtime': 'Loading the runtime…',
  'loading-model': 'Loading the model…',
  restoring: 'Restoring…',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function OutputCanvas({ canvas }: { canvas: HTMLCanvasElement }) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    element.replaceChildren(canvas);
    return () => canvas.remove();
  }, [canvas]);
  return <div className="embed-canvas" ref={holder} data-testid="embed-output" />;
}

export function EmbedApp() {
  const job = useEmbedStore((s) => s.job);
  const listening = useEmbedStore((s) => s.listening);
  const isolated = useEmbedStore((s) => s.crossOriginIsolated);
  const threads = useEmbedStore((s) => s.threads);
  const startError = useEmbedStore((s) => s.startError);

  const active = job && !['done', 'failed', 'cancelled'].includes(job.stage);
  return (
    <div className="embed" data-testid="embed-app" data-stage={job?.stage ?? 'idle'}>
      <div className="embed-stage">
        {job?.canvas ? (
          <OutputCanvas canvas={job.canvas} />
        ) : (
          <p className="embed-idle">
            {startError ??
              (listening ? 'Waiting for a photo from this page…' : 'Starting GenDR Web…')}
          </p>
        )}
      </div>
      <footer className="embed-bar">
        <span className="embed-brand">
          <span aria-hidden="true">◆</span> GenDR Web
        </span>
        {job && (
          <span className="embed-status" data-testid="embed-status" aria-live="polite">
            {STAGE_TEXT[job.stage]}
            {job.total > 0 && active ? ` ${job.done} / ${job.total} tiles` : ''}
            {job.error ? `: ${job.error}` : ''}
          </span>
        )}
        {active && job.total > 0 && (
          <progress max={job.total} value={job.done} aria-label="Restore progress" />
        )}
        <span
          className="embed-env"
          data-testid="embed-environment"
          data-isolated={String(isolated)}
          data-threads={threads}
          title={
            isolated
              ? undefined
              : 'The page embedding this is not cross-origin isolated, so WebAssembly runs on one thread (WebGPU is unaffected). See docs/embed.md.'
          }
        >
          {isolated
            ? `WASM · ${threads} threads`
            : 'One thread: this page is not cross-origin isolated'}
        </span>
      </footer>
    </div>
  );
}
