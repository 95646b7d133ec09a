/**
 * The colour fix a model pack applies after decoding (AdaIN, wavelet or none), shown only while a
 * pack is the selected model: built-in models have no such step. Used by the next restore.
 */
import type { ColorFix } from '../../../workers/contract/restore-protocol.ts';
import { useAppStore } from '../../state/store.ts';

const OPTIONS: { id: ColorFix; label: string; title: string }[] = [
  {
    id: 'adain',
    label: 'AdaIN',
    title: 'Match each colour channel’s mean and spread to the input (default)',
  },
  {
    id: 'wavelet',
    label: 'Wavelet',
    title: 'Take low frequencies (colours) from the input and detail from the model',
  },
  { id: 'none', label: 'None', title: 'Keep the decoder’s colours as they are' },
];

export function ColorFixPicker() {
  const isPack = useAppStore(
    (s) => s.models.find((m) => m.id === s.modelId)?.descriptor.kind === 'pack',
  );
  const colorFix = useAppStore((s) => s.colorFix);
  const setColorFix = useAppStore((s) => s.setColorFix);
  if (!isPack) return null;

  return (
    <section className="panel-section">
      <fieldset className="choice-group" data-testid="color-fix-picker">
        <legend>Colour fix</legend>
        <div className="segmented">
          {OPTIONS.map((option) => (
            <label
              key={option.id}
              title={option.title}
              className={colorFix === option.id ? 'checked' : undefined}
            >
              <input
                type="radio"
                name="color-fix"
                value={option.id}
                checked={colorFix === option.id}
                aria-describedby="color-fix-hint"
                data-testid={`color-fix-option-${option.id}`}
                onChange={() => setColorFix(option.id)}
              />
              <span>{option.label}</span>
            </label>
          ))}
        </div>
        <p className="hint" id="color-fix-hint">
          Applied after decoding, against the upscaled input. Takes effect on the next restore.
        </p>
      </fieldset>
    </section>
  );
}
