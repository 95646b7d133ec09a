export function EmptyState() {
  return (
    <div className="empty-state" data-testid="empty-state">
      <svg viewBox="0 0 48 48" width="56" height="56" aria-hidden="true">
        <rect
          x="6"
          y="10"
          width="36"
          height="28"
          rx="4"
          fill="none"
          stroke="currentColor"
          strokeWidth="2.5"
        />
        <circle cx="17" cy="20" r="3.5" fill="currentColor" />
        <path d="m9 35 11-11 7 7 5-5 8 8" fill="none" stroke="currentColor" strokeWidth="2.5" />
      </svg>
      <p className="empty-title">Drop a photo here</p>
      <p className="hint">
        or open or paste one. It is restored on this device, tile by tile, with the model you pick:
        nothing is uploaded.
      </p>
    </div>
  );
}
