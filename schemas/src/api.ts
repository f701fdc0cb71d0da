import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Channel, Family, Id } from './common.ts';

/** Rejection reason codes (contract): dead letters, metrics and logs use exactly these. */
export const REJECT_REASONS = ['bad_json', 'schema', 'unknown_device', 'too_large', 'forbidden_topic', 'rate_limited', 'ingest_error'] as const;
export const RejectReason = Type.Union(REJECT_REASONS.map((r) => Type.Literal(r)));
export type RejectReason = Static<typeof RejectReason>;

export const IsoTime = Type.String({ format: 'date-time' });

export const StoredEvent = Type.Object({
  siteId: Id,
  deviceId: Id,
  family: Family,
  channel: Channel,
  type: Type.String(),
  msgId: Type.String(),
  ts: IsoTime,
  receivedAt: IsoTime,
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type StoredEvent = Static<typeof StoredEvent>;

export const EventsQuery = Type.Object({
  siteId: Type.Optional(Id),
  deviceId: Type.Optional(Id),
  family: Type.Optional(Family),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  channel: Type.Optional(Channel),
  from: Type.Optional(IsoTime),
  to: Type.Optional(IsoTime),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'opaque; from the previous page' })),
});
export type EventsQuery = Static<typeof EventsQuery>;

export const Page = <T extends TSchema>(item: T) => Type.Object({
  items: Type.Array(item),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const DeviceView = Type.Object({
  siteId: Id,
  deviceId: Id,
  family: Family,
  cellId: Id,
  location: Type.String(),
  online: Type.Boolean(),
  lastSeen: Type.Union([IsoTime, Type.Null()]),
  status: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  rejected: Type.Integer({ description: 'messages rejected from this device since start' }),
});
export type DeviceView = Static<typeof DeviceView>;

export const DeadLetter = Type.Object({
  id: Type.String(),
  receivedAt: IsoTime,
  reason: RejectReason,
  detail: Type.String(),
  topic: Type.String(),
  clientId: Type.Union([Type.String(), Type.Null()]),
  siteId: Type.Union([Type.String(), Type.Null()]),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  raw: Type.String({ description: 'payload as text, truncated' }),
});
export type DeadLetter = Static<typeof DeadLetter>;

export const DeadLettersQuery = Type.Object({
  siteId: Type.Optional(Id),
  deviceId: Type.Optional(Id),
  reason: Type.Optional(RejectReason),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
export type DeadLettersQuery = Static<typeof DeadLettersQuery>;

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  store: Type.Object({ kind: Type.String(), connected: Type.Boolean(), timescale: Type.Boolean(), pending: Type.Integer(), lastError: Type.Union([Type.String(), Type.Null()]) }),
  broker: Type.Object({ mode: Type.String(), clients: Type.Integer() }),
  uptimeS: Type.Number(),
  /** Store maintenance (hub/src/store/maintenance.ts): who owns it, what the database can do, TimescaleDB job health. */
  maintenance: Type.Object({
    owner: Type.Union([Type.Literal('hub'), Type.Literal('database')]),
    reason: Type.String(),
    features: Type.Object({ hypertables: Type.Boolean(), licensed: Type.Boolean({ description: 'compression and continuous aggregates (Timescale license)' }), jobs: Type.Boolean() }),
    jobs: Type.Array(Type.Object({
      jobId: Type.Integer(), proc: Type.String(), target: Type.Union([Type.String(), Type.Null()]),
      problem: Type.Union([Type.Literal('failed'), Type.Literal('late')]),
      lastError: Type.Union([Type.String(), Type.Null()]), lastSuccess: Type.Union([Type.String(), Type.Null()]),
    })),
    diskBytes: Type.Union([Type.Integer(), Type.Null()]),
  }),
});
export type Health = Static<typeof Health>;

export const ApiError = Type.Object({ code: Type.String(), message: Type.String(), statusCode: Type.Integer() });
