/**
 * The model picker: models grouped as Photo (best / fast), Anime & illustration, Classic (the
 * UpscalerJS models) and installed packs; each card shows its size and, once a photo is open, an
 * estimate of the time it takes for this image on this device. Every model offers output scales
 * 2, 3 and 4 (up to its own): a smaller one runs the model at its scale and resizes the result.
 */
import { useMemo } from 'react';
import { formatBytes } from '../lib/format.ts';
import { modelFamilies, type AppModel, type ModelFamily } from '../lib/model-index.ts';
import { estimateMs, formatDuration } from '../lib/time-estimate.ts';
import { useAppStore } from '../state/store.ts';

const GROUPS: { id: AppModel['group']; label: string }[] = [
  { id: 'photo', label: 'Photo' },
  { id: 'anime', label: 'Anime & illustration' },
  { id: 'classic', label: 'Classic' },
  { id: 'pack', label: 'Installed packs' },
];

/** Output scales every model offers below its own, by resizing its result. */
const RESIZED_SCALES = [2, 3, 4];

/** The scales a family offers: its models' own, and the resized ones below its largest. */
export function familyScales(family: ModelFamily): number[] {
  const native = [...family.byScale.keys()];
  const max = Math.max(...native);
  return [...new Set([...native, ...RESIZED_SCALES.filter((s) => s <= max)])].sort((a, b) => a - b);
}

/** The model that gives `scale`: the family's own, else the smallest larger one (resized). */
export function modelForScale(family: ModelFamily, scale: number): AppModel | null {
  const own = family.byScale.get(scale);
  if (own) return own;
  const larger = [...family.byScale.values()].filter((m) => m.scale > scale);
  return larger.length ? larger.reduce((a, b) => (b.scale < a.scale ? b : a)) : null;
}

export function ModelPicker() {
  const models = useAppStore((s) => s.models);
  const modelsError = useAppStore((s) => s.modelsError);
  const modelId = useAppStore((s) => s.modelId);
  const outputScale = useAppStore((s) => s.outputScale);
  const source = useAppStore((s) => s.source);
  const worker = useAppStore((s) => s.worker);
  const backendPreference = useAppStore((s) => s.backend);
  const selectModel = useAppStore((s) => s.selectModel);
  const families = useMemo(() => modelFamilies(models), [models]);
  const selected = models.find((m) => m.id === modelId);
  const selectedFamily = families.find((f) => f.family === selected?.family);
  const currentScale = outputScale ?? selected?.scale ?? 4;
  const backend =
    backendPreference === 'wasm' || !worker?.webgpuHardware
      ? ('wasm' as const)
      : ('webgpu' as const);

  const choose = (family: ModelFamily, scale: number) => {
    const scales = familyScales(family);
    // Keep the scale when the family has it, else the nearest one it has.
    const best = scales.reduce((a, b) => (Math.abs(b - scale) < Math.abs(a - scale) ? b : a));
    const model = modelForScale(family, best);
    if (model) selectModel(model.id, best);
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

  const card = (family: ModelFamily) => {
    const model = modelForScale(family, currentScale) ?? [...family.byScale.values()][0];
    const checked = selected?.family === family.family;
    const estimate = source ? estimateMs(model, source.width, source.height, backend) : null;
    return (
      <label key={family.family} className={`card-option${checked ? ' checked' : ''}`}>
        <input
          type="radio"
          name="model-family"
          value={family.family}
          checked={checked}
          data-testid={`model-option-${family.family}`}
          onChange={() => choose(family, currentScale)}
        />
        <span className="card-title">
          {family.label}
          {model.tier && <span className="badge">{model.tier}</span>}
          <span className="badge">{formatBytes(model.bytes)}</span>
        </span>
        <span className="card-description">{family.description}</span>
        {estimate !== null && (
          <span className="card-description" data-testid={`model-estimate-${family.family}`}>
            {formatDuration(estimate)} for this image on{' '}
            {backend === 'wasm' ? 'the CPU' : 'the GPU'}
          </span>
        )}
      </label>
    );
  };

  const scales = selectedFamily ? familyScales(selectedFamily) : [];
  const allScales = [...new Set(families.flatMap(familyScales))].sort((a, b) => a - b);
  return (
    <section className="panel-section">
      <fieldset className="choice-group" data-testid="model-picker">
        <legend>Model</legend>
        {GROUPS.map(({ id, label }) => {
          const members = families.filter((f) => f.byScale.values().next().value?.group === id);
          if (members.length === 0) return null;
          return (
            <div key={id} className="model-group" data-testid={`model-group-${id}`}>
              <p className="hint model-group-label">{label}</p>
              {members.map(card)}
            </div>
          );
        })}
      </fieldset>
      <fieldset className="choice-group">
        <legend>Scale</legend>
        <div className="segmented">
          {allScales.map((scale) => {
            const available = scales.includes(scale);
            const resized = selectedFamily ? !selectedFamily.byScale.has(scale) : false;
            return (
              <label
                key={scale}
                className={currentScale === scale ? 'checked' : undefined}
                title={
                  resized ? 'The model runs at its own scale; the result is resized' : undefined
                }
              >
                <input
                  type="radio"
                  name="model-scale"
                  value={scale}
                  checked={currentScale === scale}
                  disabled={!available}
                  data-testid={`scale-option-${scale}`}
                  onChange={() => selectedFamily && choose(selectedFamily, scale)}
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
