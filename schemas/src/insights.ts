import { Type, type Static } from '@sinclair/typebox';
import { Category, Localized } from './decisions.ts';
import { Family, Id } from './common.ts';
import { GridLevel } from './site.ts';
import { TicketStatus } from './tickets.ts';

// 每月一题 and seasonal early warning (DESIGN §7), as served by /api/insights/*.

const Reason = Localized;

export const ProblemCandidate = Type.Object({
  category: Category,
  placeId: Type.String(),
  placeName: Type.String(),
  volume: Type.Integer({ minimum: 0 }),
  previous: Type.Integer({ minimum: 0 }),
  growth: Type.Union([Type.Number(), Type.Null()]),
  repeatRate: Type.Number({ minimum: 0, maximum: 1 }),
  score: Type.Number({ minimum: 0 }),
  ticketIds: Type.Array(Type.String()),
  hotspots: Type.Array(Type.Object({ spot: Type.String(), count: Type.Integer({ minimum: 1 }) })),
  reason: Reason,
});
export type ProblemCandidate = Static<typeof ProblemCandidate>;

export const AdoptedProblem = Type.Object({
  siteId: Type.String(),
  month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }),
  category: Category,
  placeId: Type.String(),
  placeName: Type.String(),
  volume: Type.Integer({ minimum: 0 }),
  adoptedBy: Type.String(),
  adoptedAt: Type.String({ format: 'date-time' }),
  note: Type.Optional(Type.String()),
  nextMonth: Type.Union([Type.Object({ volume: Type.Integer({ minimum: 0 }), change: Type.Union([Type.Number(), Type.Null()]) }), Type.Null()]),
});
export type AdoptedProblem = Static<typeof AdoptedProblem>;

export const AdoptProblemBody = Type.Object({
  siteId: Type.String({ minLength: 1, maxLength: 64 }),
  month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }),
  category: Category,
  placeId: Type.String({ minLength: 1, maxLength: 64 }),
  note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
}, { additionalProperties: false });
export type AdoptProblemBody = Static<typeof AdoptProblemBody>;

export const SeasonalWarning = Type.Object({
  category: Category,
  placeId: Type.String(),
  placeName: Type.String(),
  basis: Type.Union([Type.Literal('same_weeks_earlier_year'), Type.Literal('recent_trend')]),
  ratio: Type.Number({ minimum: 0 }),
  count: Type.Integer({ minimum: 0 }),
  reason: Reason,
});
export type SeasonalWarning = Static<typeof SeasonalWarning>;

// ---- 高频点位 (hotspots) on the site plan: GET /api/insights/hotspots ----------------------

const Iso = Type.String({ format: 'date-time' });
const Count = Type.Integer({ minimum: 0 });
const ByCategory = Type.Array(Type.Object({ category: Category, count: Type.Integer({ minimum: 1 }) }), { description: 'every category in the window, most first (the filter only chooses what `count` ranks)' });

export const HotspotsQuery = Type.Object({
  siteId: Id,
  category: Type.Optional(Category),
  /** Window of openedAt, [from, to); default the 30 days up to now. */
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
}, { additionalProperties: false });
export type HotspotsQuery = Static<typeof HotspotsQuery>;

/** The GET /api/tickets query that lists exactly the tickets a hotspot counts (its drill-down). */
export const HotspotTicketQuery = Type.Object({
  siteId: Id,
  deviceId: Type.Optional(Id),
  cellId: Type.Optional(Id),
  /** A block on the plan: the tickets at or below this cell. */
  within: Type.Optional(Id),
  hasDevice: Type.Optional(Type.Boolean()),
  category: Type.Optional(Category),
  status: Type.Array(TicketStatus),
  from: Iso,
  to: Iso,
}, { additionalProperties: false });
export type HotspotTicketQuery = Static<typeof HotspotTicketQuery>;

/**
 * A spot: a device (its tickets), or a grid cell (the tickets placed there without a device,
 * e.g. residents' complaints). Each ticket counts at exactly one spot.
 */
export const Hotspot = Type.Object({
  rank: Type.Integer({ minimum: 1 }),
  kind: Type.Union([Type.Literal('device'), Type.Literal('cell')]),
  id: Type.String(),
  cellId: Type.String(),
  name: Type.String(),
  family: Type.Optional(Family),
  lat: Type.Optional(Type.Number()),
  lng: Type.Optional(Type.Number()),
  count: Type.Integer({ minimum: 1 }),
  byCategory: ByCategory,
  tickets: HotspotTicketQuery,
});
export type Hotspot = Static<typeof Hotspot>;

/** A grid cell's tickets at or below it (a 楼院's or 单元's heat on the plan), and the query listing them. */
export const HotspotCell = Type.Object({ cellId: Type.String(), level: GridLevel, name: Type.String(), count: Type.Integer({ minimum: 1 }), byCategory: ByCategory, tickets: HotspotTicketQuery });
export type HotspotCell = Static<typeof HotspotCell>;

/** What the plan is drawn from: every cell and device of the site, coordinates where known. */
export const PlanCell = Type.Object({ id: Type.String(), level: GridLevel, name: Type.String(), nameEn: Type.Optional(Type.String()), parentId: Type.Optional(Type.String()) });
export type PlanCell = Static<typeof PlanCell>;
export const PlanDevice = Type.Object({
  id: Type.String(), family: Family, cellId: Type.String(), label: Type.String(),
  lat: Type.Optional(Type.Number()), lng: Type.Optional(Type.Number()),
});
export type PlanDevice = Static<typeof PlanDevice>;

export const HotspotsReply = Type.Object({
  siteId: Type.String(),
  from: Iso,
  to: Iso,
  category: Type.Optional(Category),
  /** Tickets counted (of the category, when filtered). */
  total: Count,
  spots: Type.Array(Hotspot),
  cells: Type.Array(HotspotCell),
  plan: Type.Object({ cells: Type.Array(PlanCell), devices: Type.Array(PlanDevice) }),
});
export type HotspotsReply = Static<typeof HotspotsReply>;
