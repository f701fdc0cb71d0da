import type { LiveDataKind, LiveDataMessage, LivePresencePayload, LiveTicketPayload, StoredEvent } from '@shaobing/schemas';
import type { TicketBusChange } from '../bus.ts';
import type { PresenceChange } from '../devices/presence.ts';
import type { IngestedEvent } from '../events.ts';

/** The payload of a live message kind, read off the contract's message union. */
export type LivePayload<K extends LiveDataKind> = Extract<LiveDataMessage, { kind: K }>['payload'];

const iso = (ms: number): string => new Date(ms).toISOString();

/** The one place hub domain types become live payloads. */
export function eventPayload(e: IngestedEvent): StoredEvent {
  return {
    siteId: e.siteId, deviceId: e.deviceId, family: e.family, channel: e.channel, type: e.type, msgId: e.msgId,
    ts: iso(e.ts), receivedAt: iso(e.receivedAt), data: e.data,
  };
}

export function presencePayload(c: PresenceChange): LivePresencePayload {
  const s = c.state;
  return { siteId: s.siteId, deviceId: s.deviceId, family: s.family, online: s.online, lastSeen: s.lastSeen === null ? null : iso(s.lastSeen), reason: c.reason };
}

export function ticketPayload(c: TicketBusChange): LiveTicketPayload {
  return {
    ticketId: c.ticketId, siteId: c.siteId, action: c.action, ticket: c.ticket, from: c.from, actor: c.actor,
    ...(c.note !== undefined ? { note: c.note } : {}),
    ...(c.was !== undefined ? { was: c.was } : {}),
  };
}

/** One event's live text; `storeSeq` only when it was read back from the database (clustered). */
export function eventJson(seq: number, atMs: number, e: IngestedEvent): string {
  const at = new Date(atMs).toISOString();
  return JSON.stringify(e.ingestSeq === undefined ? { seq, kind: 'event', at, payload: eventPayload(e) } : { seq, kind: 'event', at, payload: eventPayload(e), storeSeq: e.ingestSeq });
}

/** One ticket change's live text (see eventJson). */
export function ticketJson(seq: number, atMs: number, c: TicketBusChange): string {
  const at = new Date(atMs).toISOString();
  const payload = ticketPayload(c);
  return JSON.stringify(c.changeSeq === undefined ? { seq, kind: 'ticket', at, payload } : { seq, kind: 'ticket', at, payload, storeSeq: c.changeSeq });
}
