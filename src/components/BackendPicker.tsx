import type { BackendPreference } from '../../workers/worker/protocol.ts';
import { useAppStore } from '../state/store.ts';

const OPTIONS: { id: BackendPreference; label: string; title: string }[] = [
  { id: 'auto', label: 'Auto', title: 'WebGPU on a real GPU, otherwise WASM' },
  {
    id: 'webgpu',
    label: 'WebGPU',
    title: 'Always try WebGPU (falls back to WASM if it cannot run)',
  },
  { id: 'wasm', label: 'WASM', title: 'Run on the CPU with WebAssembly threads' },
];

export function BackendPicker() {
  const backend = useAppStore((s) => s.backend);
  const setBackend = useAppStore((s) => s.setBackend);
  const worker = useAppStore((s) => s.worker);

  return (
    <section className="panel-section">
      <fieldset className="choice-group">
        <legend>Run on</legend>
        <div className="segmented">
          {OPTIONS.map((option) => (
            <label
              key={option.id}
              title={option.title}
              className={backend === option.id ? 'checked' : undefined}
            >
              <input
                type="radio"
                name="backend"
                value={option.id}
                checked={backend === option.id}
                data-testid={`backend-option-${option.id}`}
                onChange={() => setBackend(option.id)}
              />
              <span>{option.label}</span>
            </label>
          ))}
        </div>
        {worker && (
          <p className="hint" data-testid="environment">
            {worker.webgpuAdapter
              ? `WebGPU adapter: ${worker.webgpuAdapter}. `
              : 'No WebGPU adapter. '}
            WASM: {worker.wasmThreads} thread{worker.wasmThreads === 1 ? '' : 's'}
            {worker.crossOriginIsolated ? '' : ' (page is not cross-origin isolated)'}.
          </p>
        )}
      </fieldset>
    </section>
  );
}
