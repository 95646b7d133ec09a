import { useRef, type KeyboardEvent, type PointerEvent } from 'react';

interface Props {
  /** Divider position, 0 (all "after") … 1 (all "before"), as a fraction of the viewer width. */
  value: number;
  onChange(value: number): void;
}

const clamp = (v: number) => Math.min(1, Math.max(0, v));

/** The draggable, keyboard-accessible before/after divider, laid over the (un-zoomed) viewport. */
export function CompareDivider({ value, onChange }: Props) {
  const dragging = useRef(false);

  const fromPointer = (event: PointerEvent<HTMLDivElement>) => {
    const box = event.currentTarget.parentElement?.getBoundingClientRect();
    if (box && box.width > 0) onChange(clamp((event.clientX - box.left) / box.width));
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const step = event.shiftKey ? 0.1 : 0.02;
    const next =
      event.key === 'ArrowLeft' || event.key === 'ArrowDown'
        ? value - step
        : event.key === 'ArrowRight' || event.key === 'ArrowUp'
          ? value + step
          : event.key === 'PageDown'
            ? value - 0.1
            : event.key === 'PageUp'
              ? value + 0.1
              : event.key === 'Home'
                ? 0
                : event.key === 'End'
                  ? 1
                  : null;
    if (next === null) return;
    event.preventDefault();
    onChange(clamp(next));
  };

  return (
    <div
      className="divider"
      style={{ left: `${value * 100}%` }}
      onPointerDown={(event) => {
        dragging.current = true;
        event.currentTarget.setPointerCapture(event.pointerId);
        event.stopPropagation();
        fromPointer(event);
      }}
      onPointerMove={(event) => {
        if (dragging.current) fromPointer(event);
      }}
      onPointerUp={() => (dragging.current = false)}
      onPointerCancel={() => (dragging.current = false)}
      data-testid="compare-divider"
    >
      <div
        className="divider-handle"
        role="slider"
        tabIndex={0}
        aria-label="Before / after divider"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(value * 100)}
        aria-valuetext={`${Math.round(value * 100)}% original`}
        onKeyDown={onKeyDown}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path d="M9 6 3 12l6 6M15 6l6 6-6 6" fill="none" stroke="currentColor" strokeWidth="2" />
        </svg>
      </div>
    </div>
  );
}
