/**
 * The restore worker: a module Web Worker exposed with Comlink. It owns onnxruntime-web and the
 * engine; the page only decodes, displays and encodes. See workers/contract/restore-protocol.ts.
 */
import * as Comlink from 'comlink';
import { holdLifeLock } from './faults/life-lock.ts';
import { createRestoreService } from './restore-service.ts';

holdLifeLock();
Comlink.expose(createRestoreService());
