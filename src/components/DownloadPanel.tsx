import { useId } from 'react';
import { OUTPUT_FORMATS, outputFileName, type OutputFormat } from '../lib/encode-image.ts';
import { useAppStore } from '../state/store.ts';

/** Format, quality and the Download button, shown next to the finished result. */
export function DownloadPanel() {
  const run = useAppStore((s) => s.run);
  const source = useAppStore((s) => s.source);
  const format = useAppStore((s) => s.format);
  const quality = useAppStore((s) => s.quality);
  const downloading = useAppStore((s) => s.downloading);
  const downloadError = useAppStore((s) => s.downloadError);
  const setFormat = useAppStore((s) => s.setFormat);
  const setQuality = useAppStore((s) => s.setQuality);
  const download = useAppStore((s) => s.download);
  const formatId = useId();
  const qualityId = useId();
  if (run?.phase !== 'done' || !source) return null;
  const lossy = OUTPUT_FORMATS.find((f) => f.id === format)?.lossy ?? false;
  const fileName = outputFileName(source.name, run.scale, format);

  return (
    <div className="download" role="group" aria-label="Download the result">
      <label htmlFor={formatId} className="visually-hidden">
        Format
      </label>
      <select
        id={formatId}
        value={format}
        data-testid="format-select"
        onChange={(event) => setFormat(event.currentTarget.value as OutputFormat)}
      >
        {OUTPUT_FORMATS.map((f) => (
          <option key={f.id} value={f.id}>
            {f.label}
          </option>
        ))}
      </select>
      {lossy && (
        <label className="quality" htmlFor={qualityId}>
          <span>Quality {Math.round(quality * 100)}</span>
          <input
            id={qualityId}
            type="range"
            min={5}
            max={100}
            step={1}
            value={Math.round(quality * 100)}
            data-testid="quality-input"
            onChange={(event) => setQuality(Number(event.currentTarget.value) / 100)}
          />
        </label>
      )}
      <button
        type="button"
        className="button primary"
        data-testid="download-button"
        disabled={downloading}
        title={fileName}
        onClick={() => void download()}
      >
        {downloading ? 'Preparing…' : 'Download'}
      </button>
      {downloadError && (
        <p className="error" role="alert">
          {downloadError}
        </p>
      )}
    </div>
  );
}
