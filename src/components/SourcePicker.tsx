import { useId, useRef } from 'react';
import { openFiles } from '../features/batch/intake.ts';
import { useAppStore } from '../state/store.ts';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function SourcePicker() {
  const source = useAppStore((s) => s.source);
  const sourceError = useAppStore((s) => s.sourceError);
  const sourceNote = useAppStore((s) => s.sourceNote);
  const input = useRef<HTMLInputElement>(null);
  const hintId = useId();

  return (
    <section className="panel-section" aria-labelledby="source-heading">
      <h2 id="source-heading">Photo</h2>
      <input
        ref={input}
        className="visually-hidden"
        type="file"
        accept="image/*,.svg"
        multiple
        data-testid="file-input"
        aria-label="Choose a photo"
        aria-describedby={hintId}
        onChange={(event) => {
          openFiles([...(event.currentTarget.files ?? [])]);
          event.currentTarget.value = '';
        }}
      />
      <button
        type="button"
        className="button"
        onClick={() => input.current?.click()}
        aria-describedby={hintId}
      >
        {source ? 'Open another photo…' : 'Open a photo…'}
      </button>
      <p id={hintId} className="hint">
        or drop it anywhere, or paste it with {isMac ? '⌘' : 'Ctrl'}+V. Several at once go into a
        queue. Nothing leaves your device.
      </p>
      {source && (
        <p className="source-info" data-testid="source-info">
          <span className="file-name" title={source.name}>
            {source.name}
          </span>{' '}
          <span className="muted">
            {source.width} × {source.height}
          </span>
        </p>
      )}
      {sourceNote && <p className="note">{sourceNote}</p>}
      {sourceError && (
        <p className="error" role="alert" data-testid="source-error">
          {sourceError}
        </p>
      )}
    </section>
  );
}
