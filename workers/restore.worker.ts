/**
 * The restore worker: a module Web Worker exposed with Comlink. It owns onnxruntime-web and the
 * engine; the page only decodes, displays and encodes. See workers/worker/protocol.ts.
 */
import * as Comlink from 'comlink';
import { createRestoreService } from './worker/restore-service.ts';

Comlink.expose(createRestoreService());
