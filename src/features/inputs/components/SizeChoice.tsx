import type { Size } from '../size-check.ts';

export interface SizeChoiceProps {
  message: string;
  downscaleTo: Size | null;
  onDownscale(size: Size): void;
  onRefuse(): void;
}

/** A too-large image: the numbers, and the user's choice to downscale it or leave it. */
export function SizeChoice({ message, downscaleTo, onDownscale, onRefuse }: SizeChoiceProps) {
  return (
    <div className="size-choice" role="alert" data-testid="size-choice">
      <p className="error" data-testid="size-message">
        {message}
      </p>
      <div className="size-choice-buttons">
        {downscaleTo && (
          <button
            type="button"
            className="button primary"
            data-testid="downscale-button"
            onClick={() => onDownscale(downscaleTo)}
          >
            Downscale to {downscaleTo.width} × {downscaleTo.height} and restore
          </button>
        )}
        <button type="button" className="button" data-testid="refuse-button" onClick={onRefuse}>
          Don’t restore it
        </button>
      </div>
    </div>
  );
}
