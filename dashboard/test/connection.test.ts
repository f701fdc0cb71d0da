import { describe, expect, it } from 'vitest';
import { LiveConnection, type SocketLike } from '../src/lib/live/connection.ts';
import type { LiveDataMessage } from '../src/lib/contract.ts';
import { batch, hello, reset } from './fixtures.ts';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(d: string): void { this.sent.push(JSON.parse(d)); }
  close(): void { this.closed = true; }
  frame(f: unknown): void { this.onmessage?.({ data: JSON.stringify(f) }); }
  drop(code = 1006): void { this.onclose?.({ code }); }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const got: LiveDataMessage[] = [];
  const log: string[] = [];
  const conn = new LiveConnection({
    url: () => 'ws://hub/ws?token=x',
    onMessages: (ms) => got.push(...ms),
    onRefresh: () => log.push('refresh'),
    onStatus: (s) => log.push(s),
    onAuthFailed: () => log.push('auth'),
    createSocket: (u) => { const s = new FakeSocket(u); sockets.push(s); return s; },
    setTimer: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
    clearTimer: () => undefined,
    random: () => 1,
    backoffMs: { initial: 500, max: 4000 },
  });
  return { conn, sockets, timers, got, log, last: () => sockets[sockets.length - 1]! };
}

describe('LiveConnection', () => {
  it('resumes after a drop from the last seq it applied: no gap, no duplicate', () => {
    const h = harness();
    h.conn.start();
    h.last().frame(hello(0));
    expect(h.last().sent).toEqual([{ kind: 'resume', lastSeq: 0, epoch: 'e1' }]);
    h.last().frame(batch(0, [1, 2, 3]));
    h.last().drop();
    expect(h.log).toContain('offline');
    expect(h.timers).toHaveLength(1);
    h.timers[0]!.fn();
    h.last().frame(hello(10));
    expect(h.last().sent).toEqual([{ kind: 'resume', lastSeq: 3, epoch: 'e1' }]);
    h.last().frame(batch(3, [4, 5, 6, 7, 8, 9, 10]));
    expect(h.got.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(h.log.filter((x) => x === 'refresh')).toHaveLength(1); // only the first hello
  });

  it('backs off exponentially up to the cap, and resets the backoff once live', () => {
    const h = harness();
    h.conn.start();
    for (let i = 0; i < 5; i++) {
      h.last().drop();
      h.timers[h.timers.length - 1]!.fn();
    }
    expect(h.timers.map((t) => t.ms)).toEqual([500, 1000, 2000, 4000, 4000]);
    h.last().frame(hello(0));
    h.last().drop();
    expect(h.timers[h.timers.length - 1]!.ms).toBe(500);
  });

  it('reconnects at once on a gap and never applies past it', () => {
    const h = harness();
    h.conn.start();
    h.last().frame(hello(0));
    h.last().frame(batch(0, [1]));
    h.last().frame(batch(5, [6]));
    expect(h.got.map((m) => m.seq)).toEqual([1]);
    expect(h.sockets).toHaveLength(2);
    expect(h.sockets[0]!.closed).toBe(true);
    h.last().frame(hello(6));
    expect(h.last().sent).toEqual([{ kind: 'resume', lastSeq: 1, epoch: 'e1' }]);
  });

  it('refreshes on reset and continues from the reset point', () => {
    const h = harness();
    h.conn.start();
    h.last().frame(hello(0));
    h.last().frame(reset(500));
    h.last().frame(batch(500, [501]));
    expect(h.log.filter((x) => x === 'refresh')).toHaveLength(2);
    expect(h.got.map((m) => m.seq)).toEqual([501]);
  });

  it('stops and reports when the token is refused', () => {
    const h = harness();
    h.conn.start();
    h.last().drop(4401);
    expect(h.log).toContain('auth');
    expect(h.timers).toHaveLength(0);
  });

  it('suspend keeps it down until resume; late events of the old socket are ignored', () => {
    const h = harness();
    h.conn.start();
    const first = h.last();
    first.frame(hello(0));
    h.conn.suspend();
    first.frame(batch(0, [1]));
    first.drop();
    expect(h.timers).toHaveLength(0);
    expect(h.got).toHaveLength(0);
    h.conn.resume();
    expect(h.sockets).toHaveLength(2);
    h.last().frame(hello(1));
    expect(h.last().sent).toEqual([{ kind: 'resume', lastSeq: 0, epoch: 'e1' }]);
  });
});
