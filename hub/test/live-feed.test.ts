import { afterEach, describe, expect, it } from 'vitest';
import { fakeEvent, kpiSnapshot, LiveClient, openedChange, startLive, type LiveHarness } from './live-support.ts';

let h: LiveHarness | null = null;
const clients: LiveClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await h?.close();
  h = null;
});

async function connect(url: string): Promise<LiveClient> {
  const c = await LiveClient.connect(url);
  clients.push(c);
  await c.waitFor((x) => x.frames.length > 0);
  return c;
}

/** Checks the batch chain: each `after` is the previous `upTo`, seqs strictly increase. */
function assertChain(c: LiveClient, startAt: number): number {
  let last = startAt;
  for (const f of c.frames) {
    if (f.kind === 'hello') continue;
    if (f.kind === 'reset') { last = f.seq; continue; }
    if (f.kind === 'replay') throw new Error('a single hub never replays from the store');
    expect(f.after).toBe(last);
    for (const m of f.messages) {
      expect(m.seq).toBeGreaterThan(last);
      last = m.seq;
    }
    expect(f.upTo).toBeGreaterThanOrEqual(last);
    last = f.upTo;
  }
  return last;
}

describe('live feed: authentication', () => {
  it('refuses the upgrade without a token, with a bad one, and for an unknown operator', async () => {
    h = await startLive();
    await expect(LiveClient.connect(h.wsUrl)).rejects.toMatchObject({ statusCode: 401 });
    await expect(LiveClient.connect(`${h.wsUrl}?token=not.a.jwt`)).rejects.toMatchObject({ statusCode: 401 });
    const forged = h.token('boss').slice(0, -4) + 'AAAA';
    await expect(LiveClient.connect(`${h.wsUrl}?token=${forged}`)).rejects.toMatchObject({ statusCode: 401 });
    await expect(LiveClient.connect(`${h.wsUrl}?token=${h.token('mallory')}`)).rejects.toMatchObject({ statusCode: 401 });
  });

  it('closes the socket when the token expires', async () => {
    h = await startLive();
    // JWT expiry has whole-second resolution: '1s' can lapse before the upgrade completes.
    const c = await connect(`${h.wsUrl}?token=${h.token('boss', null, '2s')}`);
    await c.waitFor((x) => x.closed !== null, 5000);
    expect(c.closed?.code).toBe(4401);
  });

  it('cuts a peer that stops answering pings; keeps one that answers', async () => {
    h = await startLive({}, { pingIntervalMs: 100 });
    const mute = await LiveClient.connect(`${h.wsUrl}?token=${h.token('boss')}`, { autoPong: false });
    const ok = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    clients.push(mute);
    await mute.waitFor((x) => x.closed !== null, 3000);
    expect(mute.closed?.code).toBe(1006); // terminated, no close frame
    expect(ok.closed).toBeNull();
  });

  it('closes on a malformed client message and on a subscription to a foreign site', async () => {
    h = await startLive();
    const bad = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    bad.send({ kind: 'gimme' });
    await bad.waitFor((x) => x.closed !== null);
    expect(bad.closed?.code).toBe(4400);
    const anna = await connect(`${h.wsUrl}?token=${h.token('anna', ['a'])}`);
    anna.send({ kind: 'subscribe', siteId: 'b' });
    await anna.waitFor((x) => x.closed !== null);
    expect(anna.closed?.code).toBe(4403);
  });
});

describe('live feed: sequence, batching, resume', () => {
  it('says hello with epoch and head, streams nothing before resume, then strictly increasing seqs', async () => {
    h = await startLive({ batchMs: 20 });
    h.bus.emit('events.stored', [fakeEvent(), fakeEvent()]);
    const c = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    const hello = c.hello();
    expect(hello.seq).toBe(2);
    expect(hello.payload.epoch).toBe(h.feed.epoch);
    h.bus.emit('events.stored', [fakeEvent()]);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.frames).toHaveLength(1); // hello only: no resume yet

    c.send({ kind: 'resume', lastSeq: hello.seq, epoch: hello.payload.epoch });
    for (let i = 0; i < 20; i++) h.bus.emit('events.stored', [fakeEvent(), fakeEvent('b')]);
    await c.waitFor((x) => x.messages().length === 41);
    expect(c.messages().map((m) => m.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 3));
    expect(assertChain(c, hello.seq)).toBe(43);
    const first = c.messages()[0]!;
    expect(first.kind).toBe('event');
    if (first.kind === 'event') expect(first.payload).toMatchObject({ siteId: 'a', family: 'bin', type: 'bin.telemetry' });
  });

  it('batches a burst into frames of at most 200 messages', async () => {
    h = await startLive({ batchMs: 100 });
    const c = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    c.send({ kind: 'resume', lastSeq: c.hello().seq });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 1000; i++) h.bus.emit('events.stored', [fakeEvent()]);
    await c.waitFor((x) => x.messages().length === 1000);
    const batches = c.frames.filter((f) => f.kind === 'batch');
    expect(batches.length).toBeLessThanOrEqual(6);
    for (const b of batches) if (b.kind === 'batch') expect(b.messages.length).toBeLessThanOrEqual(200);
    assertChain(c, 0);
  });

  it('after a disconnect, resume delivers exactly the missed messages: no gap, no duplicate', async () => {
    h = await startLive({ batchMs: 10 });
    const url = `${h.wsUrl}?token=${h.token('boss')}`;
    const c1 = await connect(url);
    const hello = c1.hello();
    c1.send({ kind: 'resume', lastSeq: hello.seq, epoch: hello.payload.epoch });
    for (let i = 0; i < 30; i++) h.bus.emit('events.stored', [fakeEvent()]);
    await c1.waitFor((x) => x.messages().length === 30);
    const lastSeen = assertChain(c1, hello.seq);
    await c1.close();

    for (let i = 0; i < 25; i++) h.bus.emit('events.stored', [fakeEvent()]);
    h.bus.emit('ticket.changed', openedChange('t1', 'a'));
    const c2 = await connect(url);
    c2.send({ kind: 'resume', lastSeq: lastSeen, epoch: hello.payload.epoch });
    for (let i = 0; i < 5; i++) h.bus.emit('events.stored', [fakeEvent()]);
    await c2.waitFor((x) => x.messages().length === 31);
    const seqs = [...c1.messages(), ...c2.messages()].map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
    assertChain(c2, lastSeen);
    expect(c2.messages().find((m) => m.kind === 'ticket')?.payload).toMatchObject({ ticketId: 't1', action: 'open', from: null, ticket: { id: 't1', siteId: 'a', status: 'open' } });
  });

  it('resets a client too far behind the ring, or from another epoch', async () => {
    h = await startLive({ ringSize: 50, batchMs: 10 });
    for (let i = 0; i < 120; i++) h.bus.emit('events.stored', [fakeEvent()]);
    const c = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    const epoch = c.hello().payload.epoch;
    expect(c.hello().payload.oldestSeq).toBe(71);
    c.send({ kind: 'resume', lastSeq: 10, epoch });
    await c.waitFor((x) => x.frames.some((f) => f.kind === 'reset'));
    const reset = c.frames.find((f) => f.kind === 'reset');
    expect(reset).toMatchObject({ kind: 'reset', seq: 120, payload: { reason: 'too_far_behind' } });
    h.bus.emit('events.stored', [fakeEvent()]);
    await c.waitFor((x) => x.messages().length === 1);
    expect(c.messages()[0]?.seq).toBe(121);
    assertChain(c, 0);

    const other = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    other.send({ kind: 'resume', lastSeq: 100, epoch: 'some-earlier-hub' });
    await other.waitFor((x) => x.frames.some((f) => f.kind === 'reset'));
    expect(other.frames[1]).toMatchObject({ kind: 'reset', payload: { reason: 'epoch_changed' } });

    // Exactly at the edge: oldest − 1 is still resumable.
    const edge = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    edge.send({ kind: 'resume', lastSeq: h.feed.ring.oldest - 1, epoch });
    await edge.waitFor((x) => x.messages().length === 50);
    expect(edge.frames.some((f) => f.kind === 'reset')).toBe(false);
  });
});

describe('live feed: visibility and filters', () => {
  it('shows an operator only their sites; the chain stays checkable across filtered messages', async () => {
    h = await startLive({ batchMs: 10 });
    const anna = await connect(`${h.wsUrl}?token=${h.token('anna', ['a'])}`);
    expect(anna.hello().payload.sites).toEqual(['a']);
    anna.send({ kind: 'resume', lastSeq: anna.hello().seq });
    for (let i = 0; i < 10; i++) h.bus.emit('events.stored', [fakeEvent('a'), fakeEvent('b'), fakeEvent('b')]);
    h.bus.emit('ticket.changed', openedChange('tb', 'b'));
    h.bus.emit('kpi.updated', kpiSnapshot()); // street-wide: not for a one-site operator
    h.bus.emit('kpi.updated', kpiSnapshot('a'));
    await anna.waitFor((x) => x.messages().some((m) => m.kind === 'kpi'));
    const msgs = anna.messages();
    expect(msgs.filter((m) => m.kind === 'event')).toHaveLength(10);
    expect(msgs.every((m) => m.kind !== 'event' || m.payload.siteId === 'a')).toBe(true);
    expect(msgs.some((m) => m.kind === 'ticket')).toBe(false);
    expect(msgs.filter((m) => m.kind === 'kpi').map((m) => m.payload)).toEqual([kpiSnapshot('a')]);
    assertChain(anna, 0);
  });

  it('subscribe narrows to a site and families', async () => {
    h = await startLive({ batchMs: 10 });
    const c = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    c.send({ kind: 'subscribe', siteId: 'b', families: ['door'] });
    await new Promise((r) => setTimeout(r, 30));
    h.bus.emit('events.stored', [fakeEvent('b'), fakeEvent('b', { family: 'door', type: 'door.opened', channel: 'event' }), fakeEvent('a', { family: 'door', type: 'door.opened', channel: 'event' })]);
    h.bus.emit('ticket.changed', openedChange('tb', 'b'));
    await c.waitFor((x) => x.messages().length === 2);
    expect(c.messages().map((m) => m.kind)).toEqual(['event', 'ticket']);
  });
});

describe('live feed: cost and latency on the ingest path', () => {
  it('builds an event\'s text only when a session first sends it, and charges the ring its real size then', async () => {
    h = await startLive({ batchMs: 20 });
    const e = fakeEvent('a', { rawBytes: 60 });
    h.bus.emit('events.stored', [e]);
    const entry = h.feed.ring.get(h.feed.ring.head)!;
    expect(entry.serialised).toBe(false); // nobody connected: nothing built
    expect(h.feed.ring.bytes).toBe(entry.bytes);
    const c = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    c.send({ kind: 'resume', lastSeq: 0, epoch: c.hello().payload.epoch });
    await c.waitFor((x) => x.messages().length === 1);
    const sent = c.messages()[0]!;
    expect(sent.kind === 'event' && sent.payload).toMatchObject({ msgId: e.msgId, deviceId: e.deviceId, data: e.data, ts: new Date(e.ts).toISOString() });
    expect(entry.serialised).toBe(true);
    expect(entry.bytes).toBe(Buffer.byteLength(entry.json));
    expect(h.feed.ring.bytes).toBe(entry.bytes);
    // Without a size hint (an event from elsewhere) the text is built at once and measured.
    h.bus.emit('events.stored', [fakeEvent('a')]);
    expect(h.feed.ring.get(h.feed.ring.head)!.serialised).toBe(true);
  });

  it('sends a ticket frame at once, not at the next flush tick', async () => {
    h = await startLive({ batchMs: 60_000 });
    h.bus.emit('events.stored', [fakeEvent('a')]);
    const c = await connect(`${h.wsUrl}?token=${h.token('boss')}`);
    // Resuming one back is answered at once: then the session is surely streaming.
    c.send({ kind: 'resume', lastSeq: c.hello().seq - 1, epoch: c.hello().payload.epoch });
    await c.waitFor((x) => x.messages().length === 1);
    h.bus.emit('events.stored', [fakeEvent('a')]); // waits for the (minute-long) tick…
    await new Promise((r) => setTimeout(r, 100));
    expect(c.messages()).toHaveLength(1);
    h.bus.emit('ticket.changed', openedChange('t-now', 'a')); // …until a ticket takes it along
    await c.waitFor((x) => x.messages().some((m) => m.kind === 'ticket'), 5_000);
    expect(c.messages().map((m) => m.kind)).toEqual(['event', 'event', 'ticket']);
  });
});
