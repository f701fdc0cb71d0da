import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeEvent, LiveClient, startLive, type LiveHarness } from './live-support.ts';

let h: LiveHarness | null = null;
const clients: LiveClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await h?.close();
  h = null;
});

const rawSocket = (c: LiveClient): Socket => (c.ws as unknown as { _socket: Socket })._socket;
const tick = () => new Promise<void>((r) => setImmediate(r));
const PAD = 'x'.repeat(2000);

// A real collection before each heap reading, so the comparison measures what is retained.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
// Socket buffers are Buffers (external memory), so count those with the JS heap.
const heapUsed = () => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.external; };

async function flood(harness: LiveHarness, events: number): Promise<void> {
  for (let i = 0; i < events; i += 200) {
    harness.bus.emit('events.stored', Array.from({ length: 200 }, () => fakeEvent('a', { data: { fillPct: 50, pad: PAD } })));
    await tick();
  }
}

describe('live feed: a slow consumer', () => {
  it('does not grow hub memory: the socket buffer stays bounded, the ring is bounded, the client is reset when it drains', async () => {
    const maxBufferedBytes = 256 * 1024;
    const maxFrameBytes = 64 * 1024;
    const ringMaxBytes = 2 * 1024 * 1024;
    h = await startLive({ ringSize: 20_000, ringMaxBytes, maxBufferedBytes, maxFrameBytes, batchMs: 10 });
    const slow = await LiveClient.connect(`${h.wsUrl}?token=${h.token('boss')}`);
    clients.push(slow);
    await slow.waitFor((x) => x.frames.length === 1);
    slow.send({ kind: 'resume', lastSeq: 0 });
    await new Promise((r) => setTimeout(r, 50));
    rawSocket(slow).pause(); // stops reading: the TCP window closes, the hub's socket fills

    await flood(h, 2000); // warm-up: the ring reaches its byte bound, the socket its limit
    const heapBefore = heapUsed();
    const total = 20_000; // ≈ 42 MB of messages in all
    await flood(h, total - 2000);
    await new Promise((r) => setTimeout(r, 100));
    const stats = h.feed.stats();
    const heapGrowth = heapUsed() - heapBefore;

    expect(stats.behind).toBe(1);
    // What the hub holds for the slow client: at most the limit plus the frame that crossed it.
    expect(stats.maxBufferedSeen).toBeLessThanOrEqual(maxBufferedBytes + maxFrameBytes);
    expect(stats.ringBytes).toBeLessThanOrEqual(ringMaxBytes);
    // 38 MB more went through; the hub retained none of it beyond its bounds.
    expect(heapGrowth).toBeLessThan(8 * 1024 * 1024);

    rawSocket(slow).resume();
    await slow.waitFor((x) => x.frames.some((f) => f.kind === 'reset'), 10_000);
    const reset = slow.frames.find((f) => f.kind === 'reset');
    expect(reset).toMatchObject({ payload: { reason: 'slow_consumer' } });
    h.bus.emit('events.stored', [fakeEvent()]);
    await slow.waitFor((x) => x.messages().some((m) => m.seq === total + 1));
    // Before the reset: a gap-free prefix; after it: the stream continues from reset.seq.
    const seqs = slow.messages().map((m) => m.seq);
    const beforeReset = seqs.filter((s) => s <= (reset?.seq ?? 0) && s < total + 1);
    expect(beforeReset).toEqual(Array.from({ length: beforeReset.length }, (_, i) => i + 1));
  }, 60_000);

  it('does not hold back the other clients', async () => {
    h = await startLive({ maxBufferedBytes: 64 * 1024, maxFrameBytes: 32 * 1024, batchMs: 10 });
    const slow = await LiveClient.connect(`${h.wsUrl}?token=${h.token('boss')}`);
    const fast = await LiveClient.connect(`${h.wsUrl}?token=${h.token('boss')}`);
    clients.push(slow, fast);
    await slow.waitFor((x) => x.frames.length === 1);
    await fast.waitFor((x) => x.frames.length === 1);
    slow.send({ kind: 'resume', lastSeq: 0 });
    fast.send({ kind: 'resume', lastSeq: 0 });
    await new Promise((r) => setTimeout(r, 50));
    rawSocket(slow).pause();
    await flood(h, 5000);
    await fast.waitFor((x) => x.messages().length === 5000, 15_000);
    expect(h.feed.stats().behind).toBe(1);
  }, 30_000);

  it('cuts a client that stays stalled past stallTimeoutMs', async () => {
    h = await startLive({ maxBufferedBytes: 64 * 1024, maxFrameBytes: 32 * 1024, batchMs: 10, stallTimeoutMs: 300 });
    const slow = await LiveClient.connect(`${h.wsUrl}?token=${h.token('boss')}`);
    clients.push(slow);
    await slow.waitFor((x) => x.frames.length === 1);
    slow.send({ kind: 'resume', lastSeq: 0 });
    await new Promise((r) => setTimeout(r, 50));
    rawSocket(slow).pause();
    await flood(h, 6000);
    const deadline = Date.now() + 5000;
    while (h.feed.stats().clients > 0 && Date.now() < deadline) {
      h.bus.emit('events.stored', [fakeEvent()]);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(h.feed.stats().clients).toBe(0);
  }, 30_000);
});
