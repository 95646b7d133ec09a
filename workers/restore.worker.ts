/**
 * The restore worker: a module Web Worker exposed with Comlink. It owns onnxruntime-web and the
 * engine; the page only decodes, displays and encodes. See workers/worker/protocol.ts.
 */
import * as Comlink from 'comlink';
import { holdLifeLock } from './worker/faults/life-lock.ts';
import { createRestoreService } from './worker/restore-service.ts';

holdLifeLock();
Comlink.expose(createRestoreService());
