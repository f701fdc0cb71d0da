import { describe, expect, it } from 'vitest';
import { SeqTracker } from '../src/lib/live/tracker.ts';
import { batch, hello, reset } from './fixtures.ts';

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
