/**
 * Messages between the hub's thread and the worker thread that runs PGlite (pglite-thread.ts ↔
 * pglite-worker.ts). Every request carries an id; the worker answers each with a `result` or
 * `error` of the same id, in the order PGlite finished them. Values cross by structured clone,
 * so PGlite's own type parsers (Date, parsed jsonb, numbers) run in the worker and arrive as is.
 */
import type { StoreFeatures } from './db.ts';

/** What the hub's side hands over to open a database in the thread. */
export interface PgliteOpen {
  dataDir: string;
  /**
   * PGlite's WASM module and file-system bundle, read once per process and handed to every
   * thread: a module shared between threads keeps the code its functions were compiled to,
   * so a store opened again does not start cold.
   */
  wasmModule: WebAssembly.Module;
  fsBundle: Blob;
  /** A new database: the cached empty one to start from (pglite-template.ts), if any. */
  template: Blob | undefined;
  /** A new database without a template: dump it right after initdb for the next one. */
  makeTemplate: boolean;
}

/**
 * `open` starts a session: a database opened in the thread, answered by `ready` or
 * `open-failed`. `close` ends it (PGlite flushes its files); the thread then waits for the
 * next `open`, so a store opened again in this process skips the thread's start.
 * `tx`: the open transaction a statement belongs to (from `begin`); absent: outside any.
 */
export type PgliteRequest =
  | ({ id: number; op: 'open' } & PgliteOpen)
  | { id: number; op: 'query'; sql: string; params: unknown[] | undefined; tx: number | undefined }
  | { id: number; op: 'exec'; sql: string; tx: number | undefined }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit'; tx: number }
  | { id: number; op: 'rollback'; tx: number }
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; channel: string }
  | { id: number; op: 'close' };

export type PgliteReply =
  | { kind: 'ready'; timescale: boolean; features: StoreFeatures; timescaleError: string | null; template: Blob | undefined }
  | { kind: 'open-failed'; error: SerializedError }
  | { kind: 'result'; id: number; rows: Record<string, unknown>[] | undefined; tx: number | undefined }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'notify'; channel: string; payload: string };

/** A database error's message and its PostgreSQL fields (code, detail, constraint, …). */
export interface SerializedError {
  message: string;
  fields: Record<string, string>;
}

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { message: String(err), fields: {} };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(err)) if (typeof v === 'string' && k !== 'message' && k !== 'stack' && k !== 'name') fields[k] = v;
  return { message: err.message, fields };
}

/** An Error carrying the same fields, so isDataError() and errorText() read it as before. */
export function deserializeError(e: SerializedError): Error {
  return Object.assign(new Error(e.message), e.fields);
}
