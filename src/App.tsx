import { useEffect } from 'react';
import { BackendPicker } from './components/BackendPicker.tsx';
import { EmptyState } from './components/EmptyState.tsx';
import { ModelPicker } from './components/ModelPicker.tsx';
import { ColorFixPicker } from './features/model-manager/ColorFixPicker.tsx';
import { OfflineModels } from './pwa/OfflineModels.tsx';
import { BatchPanel } from './features/batch/components/BatchPanel.tsx';
import { InputsPanel } from './features/inputs/components/InputsPanel.tsx';
import { ModelManager } from './features/model-manager/ModelManager.tsx';
import { RestoreButton } from './components/RestoreButton.tsx';
import { RunStatus } from './components/RunStatus.tsx';
import { SourcePicker } from './components/SourcePicker.tsx';
import { Viewer } from './components/Viewer.tsx';
import { useImageInput } from './hooks/use-image-input.ts';
import { UpdatePrompt } from './pwa/UpdatePrompt.tsx';
import { useAppStore } from './state/store.ts';

export function App() {
  const init = useAppStore((s) => s.init);
  const hasSource = useAppStore((s) => s.source !== null);
  const { dragging, dropProps } = useImageInput();

  useEffect(() => {
    void init();
  }, [init]);

  return (
    <div className={`app${dragging ? ' dragging' : ''}`} data-testid="drop-zone" {...dropProps}>
      <header className="app-header">
        <h1>
          <span className="logo" aria-hidden="true">
            ◆
          </span>{' '}
          GenDR <span className="muted">Web</span>
        </h1>
        <p className="tagline">Photo super-resolution that runs entirely in your browser.</p>
      </header>
      <main className="layout">
        <aside className="panel" aria-label="Settings">
          <SourcePicker />
          <InputsPanel />
          <ModelPicker />
          <ColorFixPicker />
          <OfflineModels />
          <BackendPicker />
          <RestoreButton />
          <ModelManager />
        </aside>
        <section className="stage" aria-label="Image">
          <RunStatus />
          {hasSource ? <Viewer /> : <EmptyState />}
          <BatchPanel />
        </section>
      </main>
      <UpdatePrompt />
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop to restore
        </div>
      )}
    </div>
  );
}
