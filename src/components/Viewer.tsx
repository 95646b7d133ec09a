import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import {
  TransformComponent,
  TransformWrapper,
  type ReactZoomPanPinchContentRef,
} from 'react-zoom-pan-pinch';
import { useAppStore } from '../state/store.ts';
import { CompareDivider } from './CompareDivider.tsx';

interface Transform {
  scale: number;
  positionX: number;
  positionY: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The image area: the original (scaled up smoothly) under the result, which fills in tile by tile
 * while restoring; once done, a before/after divider. One zoom/pan transform moves both layers,
 * so they stay in sync; the divider lives outside the transform and clips the result layer.
 */
export function Viewer() {
  const source = useAppStore((s) => s.source);
  const run = useAppStore((s) => s.run);
  const selectedScale = useAppStore((s) => s.models.find((m) => m.id === s.modelId)?.scale ?? 1);
  const scale = run?.scale ?? selectedScale;
  const width = (source?.width ?? 0) * scale;
  const height = (source?.height ?? 0) * scale;
  const comparing = run?.phase === 'done';
  const showResult = !!run && run.phase !== 'failed' && run.width === width;

  const [split, setSplit] = useState(0.5);
  const [zoom, setZoom] = useState(1);
  const viewer = useRef<HTMLDivElement>(null);
  const beforeHolder = useRef<HTMLDivElement>(null);
  const afterHolder = useRef<HTMLDivElement>(null);
  const controls = useRef<ReactZoomPanPinchContentRef>(null);
  const transform = useRef<Transform>({ scale: 1, positionX: 0, positionY: 0 });

  // The canvases are made by the store; mount them here.
  useLayoutEffect(() => {
    beforeHolder.current?.replaceChildren(...(source ? [source.canvas] : []));
  }, [source]);
  useLayoutEffect(() => {
    afterHolder.current?.replaceChildren(...(run && showResult ? [run.canvas] : []));
  }, [run?.canvas, showResult]); // eslint-disable-line react-hooks/exhaustive-deps

  const updateClip = useCallback(() => {
    const layer = afterHolder.current;
    const box = viewer.current;
    if (!layer || !box) return;
    if (!comparing) {
      layer.style.clipPath = 'none';
      return;
    }
    const { scale: s, positionX } = transform.current;
    const x = clamp((split * box.clientWidth - positionX) / s, 0, width);
    layer.style.clipPath = `inset(0 0 0 ${x}px)`;
  }, [comparing, split, width]);

  useLayoutEffect(updateClip, [updateClip]);

  // The divider is a fraction of the viewer's width: re-clip when the viewer is resized.
  useEffect(() => {
    const box = viewer.current;
    if (!box) return;
    const observer = new ResizeObserver(() => updateClip());
    observer.observe(box);
    return () => observer.disconnect();
  }, [updateClip, source]);

  // A new picture (or scale): show all of it.
  useEffect(() => {
    if (width > 0) void controls.current?.fitToView({ animationTime: 0 });
  }, [width, height, source]);

  if (!source) return null;

  return (
    <div className="viewer" ref={viewer} data-testid="viewer">
      <TransformWrapper
        ref={controls}
        minScale={0.01}
        maxScale={32}
        fitOnInit="contain"
        centerZoomedOut
        limitToBounds
        wheel={{ step: 0.003 }}
        doubleClick={{ mode: 'toggle', step: 1 }}
        keyboard={{ disabled: false }}
        onTransform={(_ref, state) => {
          transform.current = state;
          setZoom(state.scale);
          updateClip();
        }}
      >
        <TransformComponent
          wrapperClass="viewer-viewport"
          wrapperProps={{
            tabIndex: 0,
            'aria-label':
              'Image: drag or use the arrow keys to pan; scroll, pinch or press + and − to zoom',
            role: 'img',
          }}
        >
          <div
            className={`stack${zoom >= 2 ? ' pixelated' : ''}`}
            style={{ width, height }}
            data-testid="image-stack"
          >
            <div className="layer before" ref={beforeHolder} data-testid="before-layer" />
            <div className="layer after" ref={afterHolder} data-testid="output-layer" />
          </div>
        </TransformComponent>
      </TransformWrapper>
      {comparing && (
        <>
          <span className="layer-label left" aria-hidden="true">
            Original, smoothed
          </span>
          <span className="layer-label right" aria-hidden="true">
            Restored
          </span>
          <CompareDivider value={split} onChange={setSplit} />
        </>
      )}
      <div className="zoom-bar" role="group" aria-label="Zoom">
        <button
          type="button"
          aria-label="Zoom out"
          onClick={() => void controls.current?.zoomOut(0.5, 150)}
        >
          −
        </button>
        <output className="zoom-value" aria-live="off" data-testid="zoom-value">
          {Math.round(zoom * 100)}%
        </output>
        <button
          type="button"
          aria-label="Zoom in"
          onClick={() => void controls.current?.zoomIn(0.5, 150)}
        >
          +
        </button>
        <button
          type="button"
          onClick={() => void controls.current?.fitToView({ animationTime: 150 })}
        >
          Fit
        </button>
        <button type="button" onClick={() => void controls.current?.centerView(1, 150)}>
          100%
        </button>
      </div>
    </div>
  );
}
