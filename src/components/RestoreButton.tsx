import { isActive, useAppStore } from '../state/store.ts';

export function RestoreButton() {
  const source = useAppStore((s) => s.source);
  const run = useAppStore((s) => s.run);
  const model = useAppStore((s) => s.models.find((m) => m.id === s.modelId));
  const restore = useAppStore((s) => s.restore);
  const busy = isActive(run?.phase);
  const same = run && model && run.modelId === model.id && run.phase === 'done';

  return (
    <section className="panel-section">
      <button
        type="button"
        className="button primary wide"
        data-testid="restore-button"
        disabled={!source || !model || busy}
        onClick={() => void restore()}
      >
        {busy
          ? 'Restoring…'
          : same
            ? 'Restore again'
            : model
              ? `Restore with ${model.name}`
              : 'Restore'}
      </button>
    </section>
  );
}
