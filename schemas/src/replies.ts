import { Type, type Static } from '@sinclair/typebox';
import { Family, Id } from './common.ts';
import { GridCell, OperatorRole, UserRole, Worker } from './site.ts';
import { AuditEntry, OperatorAction, Ticket, TicketDetail } from './tickets.ts';

/*
 * REST replies (and the chart queries) that the hub serves and the dashboard reads: one
 * definition validates/serialises in the hub's routes and types the dashboard's client.
 */

const Iso = Type.String({ format: 'date-time' });
const lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));

/** POST /api/auth/login */
export const LoginReply = Type.Object({
  token: Type.String(), expiresAt: Type.String(), username: Type.String(), displayName: Type.String(), role: UserRole,
  siteIds: Type.Union([Type.Array(Type.String()), Type.Null()]),
});
export type LoginReply = Static<typeof LoginReply>;

/** GET /api/tickets/:id */
export const TicketDetailReply = Type.Object({ ...TicketDetail.properties, allowedActions: Type.Array(OperatorAction) });
export type TicketDetailReply = Static<typeof TicketDetailReply>;
/** POST /api/tickets/:id/<action>: the ticket as stored, its timeline with this action, and what the caller may do next. */
export const TicketActionReply = Type.Object({ ticket: Ticket, audit: Type.Array(AuditEntry), allowedActions: Type.Array(OperatorAction) });
export type TicketActionReply = Static<typeof TicketActionReply>;

/** GET /api/grid */
export const GridReply = Type.Object({ cells: Type.Array(GridCell), workers: Type.Array(Worker) });
export type GridReply = Static<typeof GridReply>;

// ---- charts: GET /api/stats/events, /api/stats/tickets, /api/readings ------------------------
export const CHART_BUCKETS = ['5m', '1h', '1d'] as const;
export const READING_BUCKETS = ['1m', '5m', '1h', '1d'] as const;
const ChartBucket = lit(CHART_BUCKETS);
const ReadingBucket = lit(READING_BUCKETS);
const Range = {
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
  utcOffsetMin: Type.Optional(Type.Integer({ minimum: -840, maximum: 840, default: 0, description: 'minutes east of UTC; buckets start at local midnight' })),
};

export const EventStatsQuery = Type.Object({ siteId: Type.Optional(Id), bucket: Type.Optional(ChartBucket), ...Range });
export const EventStats = Type.Object({
  bucket: ChartBucket, from: Iso, to: Iso,
  items: Type.Array(Type.Object({ t: Iso, family: Family, count: Type.Integer({ minimum: 0 }) })),
});
export const TicketStatsQuery = EventStatsQuery;
export const TicketStats = Type.Object({
  bucket: ChartBucket, from: Iso, to: Iso,
  items: Type.Array(Type.Object({ t: Iso, opened: Type.Integer({ minimum: 0 }), resolved: Type.Integer({ minimum: 0 }) })),
});
export const ReadingsQuery = Type.Object({
  siteId: Id, deviceId: Id,
  metric: Type.String({ pattern: '^[a-z_]{1,32}$' }),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, default: 0 })),
  bucket: Type.Optional(ReadingBucket),
  ...Range,
});
export const Readings = Type.Object({
  bucket: ReadingBucket, from: Iso, to: Iso, metric: Type.String(), port: Type.Integer(),
  items: Type.Array(Type.Object({ t: Iso, avg: Type.Number(), min: Type.Number(), max: Type.Number(), count: Type.Integer({ minimum: 0 }) })),
});
export type EventStats = Static<typeof EventStats>;
export type TicketStats = Static<typeof TicketStats>;
export type Readings = Static<typeof Readings>;

/** GET /api/about (public, before login): what the login page may show. */
export const AboutReply = Type.Object({
  /** The hub runs the bundled demo site, whose demo operator passwords work: the login page lists them. */
  demo: Type.Boolean(),
});
export type AboutReply = Static<typeof AboutReply>;

/** POST /api/registry/devices (admin): a device added to the registry; its secret shown once. */
export const RegistryDeviceBody = Type.Object({
  siteId: Id, id: Id, family: Family, cellId: Id,
  label: Type.String({ minLength: 1, maxLength: 100 }),
  gatewayId: Type.Optional(Id),
  ports: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  /** A device that only speaks through its gateway gets no secret. */
  noSecret: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
/** The credential of a device or gateway after `add` or `rotate-secret`; `secret` is never shown again. */
export const RegistryCredentialReply = Type.Object({
  username: Type.String(), secret: Type.Union([Type.String(), Type.Null()]), version: Type.Integer({ minimum: 1 }),
});
export type RegistryDeviceBody = Static<typeof RegistryDeviceBody>;
export type RegistryCredentialReply = Static<typeof RegistryCredentialReply>;
