import { describe, expect, it } from 'vitest';
import type { LivePosition } from '@shaobing/schemas';
import type { IngestedEvent } from '../src/events.ts';
import type { TicketBusChange } from '../src/bus.ts';
import { closeAfterEach, fakeEvent, LiveClient, openedChange, startLive, type LiveScope } from './live-support.ts';

/*
 * Resume by database position (schemas/src/live.ts, README "Scaling out"), on one feed with a
 * store behind it: what a hub does for a client that comes from another hub. The store here
 * is a table in memory; cluster-live-presence.test.ts runs the same against two hub processes.
 */
const scope: LiveScope = { h: null, clients: [] };
closeAfterEach(scope);

const ev = (storeSeq: number, siteId = 'a'): IngestedEvent => fakeEvent(siteId, { ingestSeq: storeSeq, msgId: `db-${storeSeq}` });
const ticket = (storeSeq: number): TicketBusChange => ({ ...openedChange(`tk-${storeSeq}`, 'a'), changeSeq: storeSeq });
const pos = (events: number, tickets = 0, stream = 's1'): LivePosition => ({ stream, events, tickets });

/** A feed whose database holds `rows`; `deliver` is the hub's tail delivering rows to the ring. */
async function clusteredFeed(rows: { events: IngestedEvent[]; tickets: TicketBusChange[] }, opts: { replayLimit?: number } = {}) {
  const harness = await startLive({ batchMs: 20, ...opts });
  scope.h = harness;
  harness.feed.attachStore({
    stream: 's1',
    read: async (from) => {
      if (from.events > Math.max(0, ...rows.events.map((e) => e.ingestSeq!))) return 'bad_position';
      return { events: rows.events.filter((e) => e.ingestSeq! > from.events), tickets: rows.tickets.filter((c) => c.changeSeq! > from.tickets) };
    },
  }, pos(10));
  const deliver = (events: IngestedEvent[], floor: number) => { harness.bus.emit('events.stored', events); harness.feed.setPosition(floor, 0); };
  return { deliver };
}

async function connect(): Promise<LiveClient> {
  const c = await LiveClient.connect(`${scope.h!.wsUrl}?token=${scope.h!.token('boss')}`);
  scope.clients.push(c);
  await c.waitFor((x) => x.frames.length > 0);
  return c;
}

const storeSeqs = (c: LiveClient, kind: 'replay' | 'batch') => c.frames.flatMap((f) => (f.kind === kind ? f.messages.map((m) => `${m.kind}:${m.storeSeq}`) : []));

describe('live feed: resume by database position', () => {
  it('replays what the database stored after the position, then streams the ring from its head without what the replay sent or the client had', async () => {
    const stored = { events: [ev(10), ev(11), ev(12), ev(13)], tickets: [ticket(5)] };
    const { deliver } = await clusteredFeed(stored);
    deliver([ev(11), ev(12)], 12);
    const c = await connect();
    const hello = c.hello();
    expect(hello.payload.position).toEqual(pos(12));
    // A client of another hub that has every event up to 9 (and 11 above it).
    c.send({ kind: 'resume', lastSeq: 77, epoch: 'another-hub', position: pos(9) });
    await c.waitFor((x) => x.frames.some((f) => f.kind === 'replay' && f.final));
    const replay = c.frames.find((f) => f.kind === 'replay')!;
    if (replay.kind !== 'replay') throw new Error('no replay');
    expect(replay).toMatchObject({ seq: hello.seq, epoch: hello.payload.epoch, final: true, position: pos(12) });
    expect(storeSeqs(c, 'replay')).toEqual(['event:10', 'event:11', 'event:12', 'event:13', 'ticket:5']);
    // The tail delivers 13 late (the replay had it), 9 (at the client's position), then 14 and ticket 6.
    deliver([ev(13), ev(9), ev(14)], 14);
    scope.h!.bus.emit('ticket.changed', ticket(6));
    await c.waitFor((x) => storeSeqs(x, 'batch').includes('ticket:6'));
    expect(storeSeqs(c, 'batch')).toEqual(['event:14', 'ticket:6']);
    const first = c.frames.find((f) => f.kind === 'batch');
    expect(first?.kind === 'batch' && first.after).toBe(hello.seq);
    expect(c.frames.filter((f) => f.kind === 'reset')).toEqual([]);
  });

  it('resets as before when the position is of another database, beyond what was stored, or too far behind', async () => {
    const { deliver } = await clusteredFeed({ events: [ev(10), ev(11), ev(12), ev(13)], tickets: [] }, { replayLimit: 2 });
    deliver([ev(11)], 11);
    const cases: [LivePosition, string][] = [[pos(9, 0, 'other-db'), 'epoch_changed'], [pos(99), 'bad_position'], [pos(9), 'too_far_behind']];
    for (const [position, reason] of cases) {
      const c = await connect();
      c.send({ kind: 'resume', lastSeq: 5, epoch: 'another-hub', position });
      await c.waitFor((x) => x.frames.some((f) => f.kind === 'reset'));
      const reset = c.frames.find((f) => f.kind === 'reset');
      expect(reset?.kind === 'reset' && reset.payload).toMatchObject({ reason, position: pos(11) });
      expect(c.frames.some((f) => f.kind === 'replay')).toBe(false);
    }
    // Within the limit it replays.
    const ok = await connect();
    ok.send({ kind: 'resume', lastSeq: 5, epoch: 'another-hub', position: pos(11) });
    await ok.waitFor((x) => x.frames.some((f) => f.kind === 'replay'));
    expect(storeSeqs(ok, 'replay')).toEqual(['event:12', 'event:13']);
  });
});
