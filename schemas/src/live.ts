import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Family, Id } from './common.ts';
import { StoredEvent } from './api.ts';
import { KpiSnapshot, Ticket, TicketChange, TicketStatus } from './tickets.ts';

/*
 * The live feed (WebSocket GET /ws?token=<jwt>), contract v1.
 *
 * Every data message (event, ticket, presence, kpi) gets the next number of one per-process
 * counter, `seq`, and is kept in a bounded ring buffer on the hub. The server sends:
 *   - `hello` once per connection: the hub's `epoch` (new on every hub start) and the current
 *     head `seq`. Nothing is streamed until the client says where to start with `resume`.
 *   - `batch` frames: `{ after, upTo, messages }`. `after` is the `upTo` of the previous batch
 *     sent on this connection (or the resume point), so a client can check it has every
 *     message: its last seen position must equal `after`. `upTo` ≥ every seq in the batch and
 *     also covers messages filtered out for this client (other sites/families).
 *   - `reset` when the client asked for a position the ring no longer holds, a different epoch,
 *     or fell too far behind while slow: the client reloads state over REST and continues
 *     from `reset.seq`.
 * hello and reset carry the current head as their `seq`; they don't consume a number.
 *
 * The client sends `resume {lastSeq, epoch}` (a fresh client resumes from hello.seq) and may
 * send `subscribe {siteId?, families?}` to narrow the stream to one site / some families.
 */

export const LIVE_PROTOCOL_VERSION = 1;
export const LIVE_DATA_KINDS = ['event', 'ticket', 'presence', 'kpi'] as const;
export type LiveDataKind = (typeof LIVE_DATA_KINDS)[number];
export const LIVE_RESET_REASONS = ['epoch_changed', 'too_far_behind', 'slow_consumer', 'bad_position'] as const;

const Seq = Type.Integer({ minimum: 0, description: 'per-process message number; 0 = nothing yet' });
const At = Type.String({ format: 'date-time', description: 'when the hub published the message' });
const lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));

/** A ticket changed (opened, transitioned, occurrence, SLA warning, escalation, comment…). */
export const LiveTicketPayload = Type.Object({
  ticketId: Type.String(),
  siteId: Id,
  /** What happened: a TicketChange kind or an action name (`dispatch`, `resolve`…). */
  action: Type.String(),
  ticket: Ticket,
  from: Type.Optional(Type.Union([TicketStatus, Type.Null()])),
  actor: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  /** Who could see it before (TicketChange.was): lets a worker's feed drop a ticket no longer theirs. */
  was: Type.Optional(TicketChange.properties.was),
});
export type LiveTicketPayload = Static<typeof LiveTicketPayload>;

export const LivePresencePayload = Type.Object({
  siteId: Id,
  deviceId: Id,
  family: Family,
  online: Type.Boolean(),
  lastSeen: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  reason: lit(['message', 'status', 'timeout'] as const),
});
export type LivePresencePayload = Static<typeof LivePresencePayload>;

/*
 * Clustered hubs (README "Scaling out") also number events and ticket changes from the shared
 * database: `storeSeq` (events.ingest_seq / tickets.change_seq), the same on every hub. A
 * `position` says "every event with storeSeq ≤ events and every ticket change ≤ tickets has
 * reached you" (of what your filters let through), within one database (`stream`). A client
 * reconnecting to ANOTHER hub resumes with its position: that hub answers with `replay`
 * frames — what was stored after it — and continues from its own head, gap-free; a position
 * too far behind gets a reset as before. Messages above the position may arrive again in a
 * replay: the client drops a storeSeq it has already applied.
 */
export const LivePosition = Type.Object({
  stream: Type.String({ maxLength: 64, description: 'the database the numbers belong to' }),
  events: Seq,
  tickets: Seq,
}, { additionalProperties: false });
export type LivePosition = Static<typeof LivePosition>;

const StoreSeq = Type.Optional(Type.Integer({ minimum: 1, description: 'events.ingest_seq / tickets.change_seq (clustered hubs)' }));

const data = <K extends LiveDataKind, P extends TSchema>(kind: K, payload: P) =>
  Type.Object({ seq: Seq, kind: Type.Literal(kind), at: At, payload, storeSeq: StoreSeq });

export const LiveEventMessage = data('event', StoredEvent);
export const LiveTicketMessage = data('ticket', LiveTicketPayload);
export const LivePresenceMessage = data('presence', LivePresencePayload);
export const LiveKpiMessage = data('kpi', KpiSnapshot);
export const LiveDataMessage = Type.Union([LiveEventMessage, LiveTicketMessage, LivePresenceMessage, LiveKpiMessage]);
export type LiveDataMessage = Static<typeof LiveDataMessage>;

export const LiveHello = Type.Object({
  seq: Seq,
  kind: Type.Literal('hello'),
  at: At,
  payload: Type.Object({
    protocol: Type.Literal(LIVE_PROTOCOL_VERSION),
    /** Changes when the hub restarts: positions of another epoch mean nothing. */
    epoch: Type.String(),
    /** Oldest seq still in the ring; resuming from before oldestSeq − 1 gets a reset. */
    oldestSeq: Seq,
    username: Type.String(),
    /** Sites this connection may see; null = all. */
    sites: Type.Union([Type.Array(Id), Type.Null()]),
    batchMs: Type.Integer({ minimum: 1 }),
    /** Clustered hubs: the position at `seq`. */
    position: Type.Optional(LivePosition),
  }),
});
export type LiveHello = Static<typeof LiveHello>;

export const LiveReset = Type.Object({
  seq: Seq,
  kind: Type.Literal('reset'),
  at: At,
  payload: Type.Object({ reason: lit(LIVE_RESET_REASONS), epoch: Type.String(), position: Type.Optional(LivePosition) }),
});
export type LiveReset = Static<typeof LiveReset>;

export const LiveBatch = Type.Object({
  kind: Type.Literal('batch'),
  after: Seq,
  upTo: Seq,
  messages: Type.Array(LiveDataMessage),
  /** Clustered hubs: the position at `upTo`. */
  position: Type.Optional(LivePosition),
});
export type LiveBatch = Static<typeof LiveBatch>;

/**
 * The answer to a resume by position: what the database stored after it, in frames; only the
 * `final` one moves the client (to `epoch`/`seq` and `position`), so a connection lost
 * mid-replay resumes from the old position again. Batches follow from `seq`.
 */
export const LiveReplay = Type.Object({
  kind: Type.Literal('replay'),
  seq: Seq,
  epoch: Type.String(),
  final: Type.Boolean(),
  position: LivePosition,
  messages: Type.Array(LiveDataMessage),
});
export type LiveReplay = Static<typeof LiveReplay>;

/** One WebSocket text frame from the hub. */
export const LiveServerFrame = Type.Union([LiveHello, LiveReset, LiveBatch, LiveReplay]);
export type LiveServerFrame = Static<typeof LiveServerFrame>;

export const LiveResume = Type.Object({
  kind: Type.Literal('resume'),
  lastSeq: Seq,
  /** The epoch lastSeq belongs to; a different epoch gets a reset. */
  epoch: Type.Optional(Type.String({ maxLength: 64 })),
  /** Where the client is in the database's numbering (clustered hubs): lets another hub resume it. */
  position: Type.Optional(LivePosition),
}, { additionalProperties: false });
export const LiveSubscribe = Type.Object({
  kind: Type.Literal('subscribe'),
  /** Narrow to one site (must be one the operator may see); absent = all visible sites. */
  siteId: Type.Optional(Id),
  /** Event/presence families to receive; absent = all. Tickets and KPIs are not filtered. */
  families: Type.Optional(Type.Array(Family, { maxItems: 4 })),
}, { additionalProperties: false });
export const LiveClientMessage = Type.Union([LiveResume, LiveSubscribe]);
export type LiveResume = Static<typeof LiveResume>;
export type LiveSubscribe = Static<typeof LiveSubscribe>;
export type LiveClientMessage = Static<typeof LiveClientMessage>;

/**
 * Close codes of /ws in the private range (4000–4999), so the client tells "log in again"
 * (token expired, forbidden) from "reconnect" (anything else).
 */
export const LIVE_CLOSE = {
  badMessage: 4400,
  tokenExpired: 4401,
  forbidden: 4403,
} as const;
