import type { ImageMetadata } from '../metadata/image-metadata.ts';
import { useInputsStore } from '../inputs-store.ts';

/** What metadata the photo has, and the choice to keep it in the result or strip it. */
export function MetadataOption({ metadata }: { metadata: ImageMetadata | null | undefined }) {
  const keep = useInputsStore((s) => s.keepMetadata);
  const setKeep = useInputsStore((s) => s.setKeepMetadata);
  const parts = [
    ...(metadata?.exif ? [`EXIF${metadata.camera ? ` (${metadata.camera})` : ''}`] : []),
    ...(metadata?.icc
      ? [`colour profile (${metadata.profile ?? 'ICC'}, converted to sRGB for the result)`]
      : []),
  ];
  if (parts.length === 0) return null;
  // Only EXIF is carried over: the colours are converted to sRGB when the photo is opened.
  const hasExif = !!metadata?.exif;
  return (
    <div className="metadata-option" data-testid="metadata">
      <p className="hint" data-testid="metadata-summary">
        Metadata: {parts.join(', ')}.
      </p>
      {hasExif && (
        <label className="checkbox">
          <input
            type="checkbox"
            checked={keep}
            data-testid="keep-metadata"
            onChange={(event) => setKeep(event.currentTarget.checked)}
          />{' '}
          Keep EXIF in the result (orientation is reset; the pixels are already upright)
        </label>
      )}
    </div>
  );
}
