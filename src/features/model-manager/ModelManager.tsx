/**
 * The model manager: install model packs from a manifest URL, a folder or dropped files; see the
 * install's progress; list, size and delete installed packs; storage used and whether it persists.
 */
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { formatBytes } from '../../lib/format.ts';
import {
  filesFromDrop,
  filesFromInput,
  hasDirectoryPicker,
  pickDirectory,
} from './collect-files.ts';
import { formatSize, installPercent, installProgressText } from './install-text.ts';
import { useModelManager } from './model-manager-store.ts';
import { packStore, type InstalledPack } from './pack-store-client.ts';
import { startPackModelSync } from './pack-models.ts';
import './model-manager.css';

function InstallForm() {
  const install = useModelManager((s) => s.install);
  const installing = useModelManager((s) => s.installing);
  const [url, setUrl] = useState('');
  const [dragging, setDragging] = useState(false);
  const folderInput = useRef<HTMLInputElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // Not in React's attribute types: a folder picker for browsers without showDirectoryPicker.
    if (folderInput.current) folderInput.current.webkitdirectory = true;
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (url.trim()) void install({ kind: 'url', url: url.trim() });
  };
  const chooseFolder = async () => {
    if (!hasDirectoryPicker()) {
      folderInput.current?.click();
      return;
    }
    const files = await pickDirectory();
    if (files?.length) void install({ kind: 'files', files });
  };
  const fromInput = (input: HTMLInputElement) => {
    const files = filesFromInput(input.files);
    input.value = '';
    if (files.length) void install({ kind: 'files', files });
  };
  // The whole app takes dropped photos: a drop here is a pack and stops here.
  const onDragOver = (event: DragEvent) => {
    event.preventDefault();
    event.stopPropagation();
    setDragging(true);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    event.stopPropagation();
    setDragging(false);
    if (installing) return;
    void filesFromDrop(event.dataTransfer).then((files) => {
      if (files.length) void install({ kind: 'files', files });
    });
  };

  return (
    <>
      <form className="pack-url" onSubmit={submit}>
        <label htmlFor="pack-url">Install from a manifest URL</label>
        <div className="pack-url-row">
          <input
            id="pack-url"
            type="url"
            inputMode="url"
            placeholder="https://example.com/my-pack/manifest.json"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            data-testid="pack-url-input"
          />
          <button
            type="submit"
            className="button"
            disabled={installing || !url.trim()}
            data-testid="pack-url-install"
          >
            Install
          </button>
        </div>
      </form>
      <div
        className={`pack-drop${dragging ? ' dragging' : ''}`}
        data-testid="pack-drop-zone"
        onDragEnter={onDragOver}
        onDragOver={onDragOver}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <span>Drop a pack’s folder or files here, or</span>{' '}
        <button
          type="button"
          className="link-button"
          disabled={installing}
          onClick={() => void chooseFolder()}
          data-testid="pack-folder-button"
        >
          choose its folder
        </button>{' '}
        <span>/</span>{' '}
        <button
          type="button"
          className="link-button"
          disabled={installing}
          onClick={() => filesInput.current?.click()}
        >
          its files
        </button>
        <input
          ref={folderInput}
          type="file"
          hidden
          onChange={(e) => fromInput(e.currentTarget)}
          data-testid="pack-folder-input"
        />
        <input
          ref={filesInput}
          type="file"
          multiple
          hidden
          onChange={(e) => fromInput(e.currentTarget)}
          data-testid="pack-files-input"
        />
      </div>
    </>
  );
}

function InstallStatus() {
  const installing = useModelManager((s) => s.installing);
  const progress = useModelManager((s) => s.progress);
  const error = useModelManager((s) => s.installError);
  const installed = useModelManager((s) => s.installed);
  const canRetry = useModelManager((s) => s.lastSource !== null);
  const cancel = useModelManager((s) => s.cancelInstall);
  const retry = useModelManager((s) => s.retry);
  const dismiss = useModelManager((s) => s.dismissError);

  return (
    <>
      {installing && (
        <div className="pack-progress" data-testid="pack-install-progress">
          <div className="pack-progress-head">
            <strong>
              {progress?.packName ? `Installing “${progress.packName}”` : 'Installing…'}
            </strong>
            <button
              type="button"
              className="link-button"
              onClick={cancel}
              data-testid="pack-install-cancel"
            >
              Cancel
            </button>
          </div>
          <progress
            max={100}
            value={progress && progress.bytesTotal > 0 ? installPercent(progress) : undefined}
            aria-label="Install progress"
          />
          <p className="hint" data-testid="pack-install-text" aria-live="polite">
            {progress ? installProgressText(progress) : 'Starting…'}
            {progress?.file && (
              <>
                <br />
                <span className="pack-file">{progress.file}</span> ({progress.filesDone + 1} of{' '}
                {progress.fileCount})
              </>
            )}
          </p>
        </div>
      )}
      {error && !installing && (
        <div
          className="error pack-error"
          role="alert"
          data-testid="pack-install-error"
          data-code={error.code}
          data-file={error.file ?? ''}
        >
          <p>{error.message}</p>
          <p className="pack-error-actions">
            {canRetry && error.code !== 'busy' && (
              <button
                type="button"
                className="link-button"
                onClick={() => void retry()}
                data-testid="pack-install-retry"
              >
                Try again
              </button>
            )}
            <button type="button" className="link-button" onClick={dismiss}>
              Dismiss
            </button>
          </p>
        </div>
      )}
      {installed && !installing && !error && (
        <p className="note" role="status" data-testid="pack-installed">
          Installed “{installed}”.
        </p>
      )}
    </>
  );
}

function PackRow({ pack }: { pack: InstalledPack }) {
  const remove = useModelManager((s) => s.remove);
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const onDelete = () => {
    if (!confirming) {
      setConfirming(true);
      return;
    }
    setRemoving(true);
    void remove(pack.id);
  };
  return (
    <li className="pack-item" data-testid={`pack-item-${pack.id}`} data-bytes={pack.bytes}>
      <div className="pack-item-head">
        <span className="pack-name">{pack.name}</span>
        <span className="badge" data-testid="pack-size">
          {formatBytes(pack.bytes)}
        </span>
      </div>
      <p className="hint">
        ×{pack.scale} · {pack.precision} · {pack.hasUnet ? 'VAE + UNet' : 'VAE only'} ·{' '}
        {pack.licence}
      </p>
      <button
        type="button"
        className={`link-button${confirming ? ' danger' : ''}`}
        disabled={removing}
        onClick={onDelete}
        onBlur={() => setConfirming(false)}
        data-testid={`pack-delete-${pack.id}`}
      >
        {removing ? 'Deleting…' : confirming ? 'Click again to delete' : 'Delete'}
      </button>
    </li>
  );
}

function StorageLine() {
  const storage = useModelManager((s) => s.storage);
  const persisted = useModelManager((s) => s.persisted);
  if (!storage) return null;
  return (
    <p className="hint" data-testid="storage-estimate" data-usage={storage.usage}>
      This site uses {formatSize(storage.usage)} of {formatSize(storage.quota)} the browser allows
      it.{' '}
      {persisted === true
        ? 'Storage is persistent.'
        : persisted === false
          ? 'The browser may clear it when space runs low.'
          : ''}
    </p>
  );
}

export function ModelManager() {
  const packs = useModelManager((s) => s.packs);
  const listed = useModelManager((s) => s.listed);
  const listError = useModelManager((s) => s.listError);
  const refresh = useModelManager((s) => s.refresh);

  useEffect(() => {
    startPackModelSync();
    // Also removes what an interrupted install (a closed tab) left behind.
    void packStore()
      .cleanup()
      .catch(() => 0)
      .then(refresh);
  }, [refresh]);

  return (
    <details className="panel-section model-manager" data-testid="model-manager">
      <summary>
        <h2>Model packs</h2>
        {listed && <span className="badge">{packs.length} installed</span>}
      </summary>
      <InstallForm />
      <InstallStatus />
      {listError && (
        <p className="error" role="alert">
          {listError}
        </p>
      )}
      {packs.length > 0 && (
        <ul className="pack-list" data-testid="pack-list">
          {packs.map((pack) => (
            <PackRow key={pack.id} pack={pack} />
          ))}
        </ul>
      )}
      <StorageLine />
    </details>
  );
}
