import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { startBatch } from './features/batch/batch-runner.ts';
import { EmbedApp } from './features/embed/EmbedApp.tsx';
import { startEmbed } from './features/embed/embed-controller.ts';
import { isEmbedMode } from './features/embed/embed-mode.ts';
import { installTestHook } from './lib/test-hook.ts';
import { startPwa } from './pwa/start-pwa.ts';
import './styles.css';

// ?embed: minimal chrome, driven by the embedding page over postMessage (no batch queue there).
const embed = isEmbedMode();
installTestHook();
if (embed) startEmbed();
else startBatch();
startPwa();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(<StrictMode>{embed ? <EmbedApp /> : <App />}</StrictMode>);
