import { useMemo } from 'react';
import { formatBytes } from '../lib/format.ts';
import { modelFamilies } from '../lib/model-index.ts';
import { useAppStore } from '../state/store.ts';

export function ModelPicker() {
  const models = useAppStore((s) => s.models);
  const modelsError = useAppStore((s) => s.modelsError);
  const modelId = useAppStore((s) => s.modelId);
  const selectModel = useAppStore((s) => s.selectModel);
  const families = useMemo(() => modelFamilies(models), [models]);
  const selected = models.find((m) => m.id === modelId);
  const scales = useMemo(
    () => [...new Set(models.map((m) => m.scale))].sort((a, b) => a - b),
    [models],
  );

  const choose = (family: string, scale: number) => {
    const entry = families.find((f) => f.family === family);
    if (!entry) return;
    // Keep the scale when the family has it, else the nearest one it has.
    const available = [...entry.byScale.keys()];
    const best = available.reduce(
      (a, b) => (Math.abs(b - scale) < Math.abs(a - scale) ? b : a),
      available[0],
    );
    const model = entry.byScale.get(best);
    if (model) selectModel(model.id);
  };

  if (modelsError) {
    return (
      <section className="panel-section">
        <h2>Model</h2>
        <p className="error" role="alert">
          {modelsError}
        </p>
      </section>
    );
  }

  if (models.length === 0) {
    return (
      <section className="panel-section">
        <h2>Model</h2>
        <p className="hint">Loading the list of models…</p>
      </section>
    );
  }

  return (
    <section className="panel-section">
      <fieldset className="choice-group" data-testid="model-picker">
        <legend>Model</legend>
        {families.map((family) => {
          const model = family.byScale.get(selected?.scale ?? 4) ?? [...family.byScale.values()][0];
          const checked = selected?.family === family.family;
          return (
            <label key={family.family} className={`card-option${checked ? ' checked' : ''}`}>
              <input
                type="radio"
                name="model-family"
                value={family.family}
                checked={checked}
                data-testid={`model-option-${family.family}`}
                onChange={() => choose(family.family, selected?.scale ?? 4)}
              />
              <span className="card-title">
                {family.label}
                <span className="badge">{formatBytes(model.bytes)}</span>
              </span>
              <span className="card-description">{family.description}</span>
            </label>
          );
        })}
      </fieldset>
      <fieldset className="choice-group">
        <legend>Scale</legend>
        <div className="segmented">
          {scales.map((scale) => {
            const available =
              families.find((f) => f.family === selected?.family)?.byScale.has(scale) ?? false;
            return (
              <label key={scale} className={selected?.scale === scale ? 'checked' : undefined}>
                <input
                  type="radio"
                  name="model-scale"
                  value={scale}
                  checked={selected?.scale === scale}
                  disabled={!available}
                  data-testid={`scale-option-${scale}`}
                  onChange={() => selected && choose(selected.family, scale)}
                />
                <span>×{scale}</span>
              </label>
            );
          })}
        </div>
      </fieldset>
    </section>
  );
}
