import { describe, expect, it } from 'vitest';
import { SeqTracker } from '../src/lib/live/tracker.ts';
import type { LiveBatch, LiveDataMessage, LiveHello, LivePosition, LiveReplay } from '../src/lib/contract.ts';
import { batch, event, hello, iso, NOW, reset } from './fixtures.ts';

describe('SeqTracker', () => {
  it('a fresh client adopts the head, refreshes, and resumes from there', () => {
    const tr = new SeqTracker();
    expect(tr.onHello(hello(40))).toEqual({ resume: { lastSeq: 40, epoch: 'e1' }, refresh: true });
    expect(tr.lastSeq).toBe(40);
  });

  it('accepts batches that start where it is; tracks upTo past filtered messages', () => {
    const tr = new SeqTracker();
    tr.onHello(hello(0));
    const r1 = tr.onBatch(batch(0, [1, 2, 3]));
    expect(r1.ok && r1.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    // Messages 4–6 were for another site: the hub says upTo 7, we get only 7.
    const r2 = tr.onBatch(batch(3, [7], 9));
    expect(r2.ok && r2.messages.map((m) => m.seq)).toEqual([7]);
    expect(tr.lastSeq).toBe(9);
  });

  it('reports a gap instead of applying past a hole', () => {
    const tr = new SeqTracker();
    tr.onHello(hello(10));
    expect(tr.onBatch(batch(12, [13]))).toEqual({ ok: false, reason: 'gap' });
    expect(tr.lastSeq).toBe(10);
    expect(tr.gaps).toBe(1);
  });

  it('drops duplicates inside a batch', () => {
    const tr = new SeqTracker();
    tr.onHello(hello(5));
    const r = tr.onBatch(batch(5, [6, 6, 7]));
    expect(r.ok && r.messages.map((m) => m.seq)).toEqual([6, 7]);
    expect(tr.duplicates).toBe(1);
  });

  it('after a reconnect to the same hub, resumes from its own position without a refresh', () => {
    const tr = new SeqTracker();
    tr.onHello(hello(0));
    tr.onBatch(batch(0, [1, 2]));
    expect(tr.onHello(hello(50))).toEqual({ resume: { lastSeq: 2, epoch: 'e1' }, refresh: false });
    const r = tr.onBatch(batch(2, [3, 4, 5]));
    expect(r.ok).toBe(true);
  });

  it('a restarted hub (new epoch) means refresh from its head', () => {
    const tr = new SeqTracker();
    tr.onHello(hello(0, 'old'));
    tr.onBatch(batch(0, [1, 2]));
    expect(tr.onHello(hello(7, 'new'))).toEqual({ resume: { lastSeq: 7, epoch: 'new' }, refresh: true });
  });

  it('a reset repositions at the hub head', () => {
    const tr = new SeqTracker();
    tr.onHello(hello(0));
    tr.onReset(reset(900));
    expect(tr.lastSeq).toBe(900);
    expect(tr.onBatch(batch(900, [901])).ok).toBe(true);
    expect(tr.resets).toBe(1);
  });
});

describe('SeqTracker across hubs (database positions)', () => {
  const pos = (events: number, tickets = 0, stream = 'db1'): LivePosition => ({ stream, events, tickets });
  const helloAt = (seq: number, epoch: string, p: LivePosition): LiveHello => { const h = hello(seq, epoch); return { ...h, payload: { ...h.payload, position: p } }; };
  const stored = (seq: number, storeSeq: number): LiveDataMessage => ({ seq, kind: 'event', at: iso(NOW), payload: event({ msgId: `db${storeSeq}` }), storeSeq });
  const batchAt = (after: number, msgs: LiveDataMessage[], p: LivePosition): LiveBatch => ({ kind: 'batch', after, upTo: msgs.at(-1)?.seq ?? after, messages: msgs, position: p });
  const replay = (seq: number, epoch: string, msgs: LiveDataMessage[], p: LivePosition, final = true): LiveReplay => ({ kind: 'replay', seq, epoch, final, position: p, messages: msgs });

  it('resumes on another hub of the same database by position, and takes its epoch only at the final replay frame', () => {
    const tr = new SeqTracker();
    tr.onHello(helloAt(10, 'hub-a', pos(100)));
    tr.onBatch(batchAt(10, [stored(11, 101), stored(12, 103)], pos(101))); // 102 not committed yet: position stays at 101
    // Hub A dies; hub B says hello: resume by position, no reload, nothing adopted yet.
    expect(tr.onHello(helloAt(500, 'hub-b', pos(90)))).toEqual({ resume: { lastSeq: 12, epoch: 'hub-a', position: pos(101) }, refresh: false });
    expect(tr.epoch).toBe('hub-a');
    // B replays what was stored after 101: 102 (missed) and 103 (already applied → dropped).
    const part = tr.onReplay(replay(500, 'hub-b', [stored(500, 102)], pos(101), false));
    expect(part.map((m) => m.storeSeq)).toEqual([102]);
    expect(tr.epoch).toBe('hub-a'); // cut off now, we would resume from 101 again
    expect(tr.onReplay(replay(500, 'hub-b', [stored(500, 103), stored(500, 104)], pos(104))).map((m) => m.storeSeq)).toEqual([104]);
    expect({ epoch: tr.epoch, lastSeq: tr.lastSeq, position: tr.position, duplicates: tr.duplicates, replays: tr.replays }).toEqual({ epoch: 'hub-b', lastSeq: 500, position: pos(104), duplicates: 1, replays: 1 });
    // B's batches continue from its head; a row B's lagging tail delivers late is dropped; B's older position does not move us back.
    const r = tr.onBatch(batchAt(500, [stored(501, 104), stored(502, 105)], pos(99)));
    expect(r.ok && r.messages.map((m) => m.storeSeq)).toEqual([105]);
    expect(tr.position).toEqual(pos(104));
  });

  it('a hub of another database is a fresh start (reload), as before', () => {
    const tr = new SeqTracker();
    tr.onHello(helloAt(10, 'hub-a', pos(100)));
    expect(tr.onHello(helloAt(3, 'hub-x', pos(7, 0, 'db2')))).toEqual({ resume: { lastSeq: 3, epoch: 'hub-x', position: pos(7, 0, 'db2') }, refresh: true });
  });

  it('a reset adopts the hub\'s position and forgets what it had seen', () => {
    const tr = new SeqTracker();
    tr.onHello(helloAt(10, 'hub-a', pos(100)));
    tr.onReset({ ...reset(40, 'hub-b'), payload: { reason: 'too_far_behind', epoch: 'hub-b', position: pos(900, 5) } });
    expect(tr.position).toEqual(pos(900, 5));
    const r = tr.onBatch(batchAt(40, [stored(41, 901)], pos(901, 5)));
    expect(r.ok && r.messages).toHaveLength(1);
  });
});
