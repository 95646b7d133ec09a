import type {
  BackendPreference,
  CpuEngine,
  GpuPrecision,
} from '../../workers/contract/restore-protocol.ts';
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

const ENGINES: { id: CpuEngine; label: string }[] = [
  { id: 'kernels', label: 'Fast kernels (Winograd, fp32)' },
  { id: 'onnxruntime', label: 'onnxruntime-web (reference)' },
];

const PRECISIONS: { id: GpuPrecision; label: string }[] = [
  { id: 'auto', label: 'fp16 where the GPU has shader-f16' },
  { id: 'fp32', label: 'fp32 always (exact)' },
];

export function BackendPicker() {
  const backend = useAppStore((s) => s.backend);
  const setBackend = useAppStore((s) => s.setBackend);
  const worker = useAppStore((s) => s.worker);
  const cpuEngine = useAppStore((s) => s.cpuEngine);
  const setCpuEngine = useAppStore((s) => s.setCpuEngine);
  const gpuPrecision = useAppStore((s) => s.gpuPrecision);
  const setGpuPrecision = useAppStore((s) => s.setGpuPrecision);

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
        {backend !== 'webgpu' && (
          <label
            className="inline-select"
            title="What runs the built-in models on the CPU. Both compute in fp32 and match the original models; the kernels are about three times as fast."
          >
            CPU engine{' '}
            <select
              data-testid="cpu-engine"
              value={cpuEngine}
              onChange={(event) => setCpuEngine(event.target.value as CpuEngine)}
            >
              {ENGINES.map((engine) => (
                <option key={engine.id} value={engine.id}>
                  {engine.label}
                </option>
              ))}
            </select>
          </label>
        )}
        {backend !== 'wasm' && (
          <label
            className="inline-select"
            title="Built-in models with an fp16 form run it on a WebGPU adapter with shader-f16: half the download, within 45 dB PSNR of fp32 (docs/real-esrgan.md). fp32 always runs the exact model."
          >
            GPU precision{' '}
            <select
              data-testid="gpu-precision"
              value={gpuPrecision}
              onChange={(event) => setGpuPrecision(event.target.value as GpuPrecision)}
            >
              {PRECISIONS.map((precision) => (
                <option key={precision.id} value={precision.id}>
                  {precision.label}
                </option>
              ))}
            </select>
          </label>
        )}
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
