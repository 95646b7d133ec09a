import { useEffect, useMemo } from 'react';
import { formatBytes } from '../../../lib/format.ts';
import { useBatchStore } from '../batch-store.ts';
import { isUnfinished, type BatchItem, type BatchStatus } from '../batch-types.ts';
import '../batch.css';

const STATUS_TEXT: Record<BatchStatus, string> = {
  queued: 'Waiting',
  running: 'Restoring…',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  'too-large': 'Too large',
  interrupted: 'Interrupted: resume to finish',
};

/** An object URL for a Blob, revoked when the Blob changes or the component goes away. */
function useObjectUrl(blob: Blob | null): string | null {
  const url = useMemo(() => (blob ? URL.createObjectURL(blob) : null), [blob]);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  return url;
}

function Item({ item }: { item: BatchItem }) {
  const cancel = useBatchStore((s) => s.cancel);
  const retry = useBatchStore((s) => s.retry);
  const remove = useBatchStore((s) => s.remove);
  const downscale = useBatchStore((s) => s.downscale);
  const thumbnail = useObjectUrl(item.thumbnail);
  const result = useObjectUrl(item.result);
  const unfinished = isUnfinished(item.status);

  return (
    <li
      className={`batch-item status-${item.status}`}
      data-testid="batch-item"
      data-name={item.name}
      data-status={item.status}
    >
      <div className="batch-thumb">
        {thumbnail ? (
          <img src={thumbnail} alt="" data-testid="item-thumbnail" />
        ) : (
          <span aria-hidden="true">◇</span>
        )}
      </div>
      <div className="batch-body">
        <p className="batch-name" title={item.name}>
          {item.name}
        </p>
        {item.settings && (
          <p className="batch-settings hint" data-testid="item-settings">
            {item.settings.modelName} · {item.settings.format.toUpperCase()}
          </p>
        )}
        <p className="batch-status" data-testid="item-status">
          {STATUS_TEXT[item.status]}
          {item.status === 'running' && item.total > 0 && ` ${item.done} / ${item.total} tiles`}
          {item.status === 'done' && item.resultSize && (
            <>
              {' '}
              · {item.resultSize.width} × {item.resultSize.height}
              {item.result && ` · ${formatBytes(item.result.size)}`}
            </>
          )}
        </p>
        {item.status === 'running' && (
          <progress max={item.total || 1} value={item.total ? item.done : undefined} />
        )}
        {item.notes.map((note, i) => (
          <p key={i} className="batch-note" data-testid="item-note">
            {note}
          </p>
        ))}
        {item.error && (
          <p className="error" data-testid="item-error">
            {item.error}
          </p>
        )}
        <div className="batch-actions">
          {item.status === 'done' && result && item.resultName && (
            <a
              className="button small"
              href={result}
              download={item.resultName}
              data-testid="item-download"
            >
              Download
            </a>
          )}
          {item.status === 'too-large' && item.downscaleTo && (
            <button
              type="button"
              className="button small"
              data-testid="item-downscale"
              onClick={() => downscale(item.id, item.downscaleTo!)}
            >
              Downscale to {item.downscaleTo.width} × {item.downscaleTo.height}
            </button>
          )}
          {(item.status === 'failed' ||
            item.status === 'cancelled' ||
            item.status === 'interrupted') && (
            <button
              type="button"
              className="button small"
              data-testid="item-retry"
              onClick={() => retry(item.id)}
            >
              {item.status === 'interrupted' ? 'Resume' : 'Try again'}
            </button>
          )}
          {unfinished ? (
            <button
              type="button"
              className="button small danger"
              data-testid="item-cancel"
              onClick={() => cancel(item.id)}
            >
              Cancel
            </button>
          ) : (
            <button
              type="button"
              className="button small"
              data-testid="item-remove"
              aria-label={`Remove ${item.name}`}
              onClick={() => remove(item.id)}
            >
              Remove
            </button>
          )}
        </div>
      </div>
    </li>
  );
}

/** The queue: every file with its status, thumbnail and result; cancel, resume, ZIP, clear. */
export function BatchPanel() {
  const items = useBatchStore((s) => s.items);
  const zipping = useBatchStore((s) => s.zipping);
  const storageError = useBatchStore((s) => s.storageError);
  const cancelAll = useBatchStore((s) => s.cancelAll);
  const resumeAll = useBatchStore((s) => s.resumeAll);
  const clearFinished = useBatchStore((s) => s.clearFinished);
  const downloadZip = useBatchStore((s) => s.downloadZip);
  if (items.length === 0) return null;
  const doneCount = items.filter((i) => i.status === 'done').length;
  const unfinished = items.filter((i) => isUnfinished(i.status)).length;
  const interrupted = items.filter((i) => i.status === 'interrupted').length;

  return (
    <section className="batch-panel" aria-label="Queue" data-testid="batch-panel">
      <header className="batch-header">
        <h2>
          Queue{' '}
          <span className="muted" data-testid="batch-summary">
            {doneCount} of {items.length} done
          </span>
        </h2>
        <div className="batch-actions">
          {interrupted > 0 && (
            <button
              type="button"
              className="button small primary"
              data-testid="resume-all"
              onClick={resumeAll}
            >
              Resume {interrupted}
            </button>
          )}
          {unfinished > 0 && (
            <button
              type="button"
              className="button small danger"
              data-testid="cancel-all"
              onClick={cancelAll}
            >
              Cancel all
            </button>
          )}
          {doneCount > 0 && (
            <button
              type="button"
              className="button small"
              data-testid="download-zip"
              disabled={zipping}
              onClick={() => void downloadZip()}
            >
              {zipping ? 'Zipping…' : `Download ${doneCount} as ZIP`}
            </button>
          )}
          {items.length > unfinished && (
            <button
              type="button"
              className="button small"
              data-testid="clear-results"
              onClick={clearFinished}
            >
              Clear finished
            </button>
          )}
        </div>
      </header>
      {storageError && <p className="error">{storageError}</p>}
      <ul className="batch-list">
        {items.map((item) => (
          <Item key={item.id} item={item} />
        ))}
      </ul>
    </section>
  );
}
