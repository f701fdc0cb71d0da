import { Type, type Static } from '@sinclair/typebox';
import { Family, Id } from './common.ts';

export const GRID_LEVELS = ['street', 'community', 'compound', 'unit'] as const;
/** 街道 › 社区 › 楼院 › 单元 */
export const GridLevel = Type.Union(GRID_LEVELS.map((l) => Type.Literal(l)));
export type GridLevel = Static<typeof GridLevel>;

export const TEAMS = ['cleaning', 'security', 'maintenance', 'care'] as const;
export const Team = Type.Union(TEAMS.map((t) => Type.Literal(t)));
export type Team = Static<typeof Team>;

export const OPERATOR_ROLES = ['viewer', 'dispatcher', 'supervisor', 'admin'] as const;
export const OperatorRole = Type.Union(OPERATOR_ROLES.map((r) => Type.Literal(r)));
export type OperatorRole = Static<typeof OperatorRole>;

/**
 * Everyone who logs in: grid workers (网格员, phone page) beside the control-room roles.
 * `worker` ranks below `viewer`: a worker reads only their own tickets, never the whole board.
 */
export const USER_ROLES = ['worker', ...OPERATOR_ROLES] as const;
export const UserRole = Type.Union(USER_ROLES.map((r) => Type.Literal(r)));
export type UserRole = Static<typeof UserRole>;

const Name = Type.String({ minLength: 1, maxLength: 100 });
/** `sha256:<64 hex>` of a high-entropy device secret (see README: why not a slow KDF here). */
const SecretHash = Type.String({ pattern: '^sha256:[0-9a-f]{64}$' });
/** `scrypt$N$r$p$salt$hash` (base64) of an operator password. */
const PasswordHash = Type.String({ pattern: '^scrypt\\$\\d+\\$\\d+\\$\\d+\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' });

export const GridCell = Type.Object({
  id: Id,
  level: GridLevel,
  name: Name,
  nameEn: Type.Optional(Name),
  parentId: Type.Optional(Id),
  /** 关爱: a unit with elderly residents living alone; enables the door inactivity welfare check. */
  elderlyCare: Type.Optional(Type.Boolean()),
  /** Residents living in this cell (万人诉求率); a parent without it sums its children. */
  population: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  /** 物业公司 managing this cell (usually set on a compound); cells below inherit it. */
  propertyCompany: Type.Optional(Name),
}, { additionalProperties: false });
export type GridCell = Static<typeof GridCell>;

const HttpUrl = Type.String({ pattern: '^https?://', maxLength: 1024 });
/**
 * One destination of notifications: a generic webhook (JSON, `x-shaobing-signature` = hex
 * HMAC-SHA256 of the body under `secret`), a WeCom group robot (企业微信群机器人), a DingTalk
 * robot (signed URL when `secret` is set), or e-mail over SMTP (NOTIFY_SMTP_URL).
 */
export const NotifyChannel = Type.Union([
  Type.Object({ kind: Type.Literal('webhook'), url: HttpUrl, secret: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('wecom'), url: HttpUrl }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('dingtalk'), url: HttpUrl, secret: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('email'), to: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 200 }) }, { additionalProperties: false }),
]);
export type NotifyChannel = Static<typeof NotifyChannel>;

const HhMm = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' });
/** Per-site notification routing and the field rules of the phone page. */
export const SiteNotify = Type.Object({
  /** Group channels by grid cell: the community's at escalation level 1, the street's at 2 (吹哨). */
  groups: Type.Optional(Type.Array(Type.Object({ cellId: Id, channels: Type.Array(NotifyChannel, { minItems: 1, maxItems: 8 }) }, { additionalProperties: false }))),
  /** Local time (site timezone) when only critical notifications go out; the rest wait until it ends. */
  quietHours: Type.Optional(Type.Object({ from: HhMm, to: HhMm }, { additionalProperties: false })),
}, { additionalProperties: false });
export type SiteNotify = Static<typeof SiteNotify>;

export const Worker = Type.Object({
  id: Id,
  name: Name,
  cellId: Id,
  teams: Type.Array(Team, { uniqueItems: true }),
  phone: Type.Optional(Type.String({ maxLength: 32 })),
  /** Phone-page login (username = the worker id); absent = no account. */
  passwordHash: Type.Optional(PasswordHash),
  /** Where this worker's notifications go (DESIGN §6 outbox). */
  notify: Type.Optional(Type.Array(NotifyChannel, { maxItems: 8 })),
  /** Usual position (抢单 ranks workers of the same grid distance by metres from the device). */
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
}, { additionalProperties: false });
export type Worker = Static<typeof Worker>;

export const Location = Type.Object({
  label: Name,
  floor: Type.Optional(Type.Integer({ minimum: -10, maximum: 200 })),
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
}, { additionalProperties: false });

export const Device = Type.Object({
  id: Id,
  family: Family,
  cellId: Id,
  location: Location,
  /** Own credentials; a device behind a gateway may have none. */
  secretHash: Type.Optional(SecretHash),
  gatewayId: Type.Optional(Id),
  /** Charging posts: number of ports. */
  ports: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
}, { additionalProperties: false });
export type Device = Static<typeof Device>;

export const Gateway = Type.Object({
  id: Id, name: Type.Optional(Name), secretHash: SecretHash,
  /** May publish for every device of the site; otherwise only for devices whose `gatewayId` is this gateway. */
  siteWide: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type Gateway = Static<typeof Gateway>;

export const Site = Type.Object({
  id: Id,
  name: Name,
  nameEn: Type.Optional(Name),
  timezone: Type.Optional(Type.String({ maxLength: 64 })),
  grid: Type.Array(GridCell, { minItems: 1 }),
  workers: Type.Array(Worker),
  gateways: Type.Array(Gateway),
  devices: Type.Array(Device),
  notify: Type.Optional(SiteNotify),
  /** A worker's manual resolve of a ticket its device cannot verify needs a photo (default true). */
  resolvePhotoRequired: Type.Optional(Type.Boolean()),
  /**
   * 抢单: tickets of a category (key, e.g. "sanitation") are offered to this many nearest workers
   * of its team instead of one assignee; the first to accept takes it. Absent = assign as usual.
   */
  offerNearest: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z_]+$' }), Type.Integer({ minimum: 2, maximum: 20 }))),
  /**
   * 人工核准: an AI alert (a camera's) whose confidence is below `below` opens a ticket that waits
   * for an operator's confirm/reject instead of dispatching. `byCategory` overrides it per ticket
   * category (e.g. "fire_safety": 0.6); 0 turns review off. Default DEFAULT_REVIEW_BELOW (0.8, DESIGN §5).
   */
  aiReview: Type.Optional(Type.Object({
    below: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    byCategory: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z_]+$' }), Type.Number({ minimum: 0, maximum: 1 }))),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type Site = Static<typeof Site>;

/** The confidence bar of DESIGN §5: an alert at or above it dispatches; below it waits for review. */
export const DEFAULT_REVIEW_BELOW = 0.8;

export const Operator = Type.Object({
  username: Id,
  displayName: Name,
  role: OperatorRole,
  passwordHash: PasswordHash,
  /** Sites this operator may see; omitted = all. */
  siteIds: Type.Optional(Type.Array(Id)),
}, { additionalProperties: false });
export type Operator = Static<typeof Operator>;

/** The site file (SITE_FILE): one or more sites and the operators of the control room. */
export const SiteFile = Type.Object({
  version: Type.Literal(1),
  sites: Type.Array(Site, { minItems: 1 }),
  operators: Type.Array(Operator),
}, { additionalProperties: false, $id: 'SiteFile' });
export type SiteFile = Static<typeof SiteFile>;
