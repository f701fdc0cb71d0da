// Entry of the embedded store's worker thread (see pglite-thread.ts). A worker does not inherit
// the parent's TypeScript loader, so this plain module loads pglite-worker.ts through tsx.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
