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

export const Worker = Type.Object({
  id: Id,
  name: Name,
  cellId: Id,
  teams: Type.Array(Team, { uniqueItems: true }),
  phone: Type.Optional(Type.String({ maxLength: 32 })),
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

export const Gateway = Type.Object({ id: Id, name: Type.Optional(Name), secretHash: SecretHash }, { additionalProperties: false });
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
}, { additionalProperties: false });
export type Site = Static<typeof Site>;

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
