import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common.ts';
import { Rate, Rating } from './tickets.ts';

// The street office's KPI figures (DESIGN §7): one set of figures per group (site, community,
// compound, grid worker, category, property company), each drillable to its tickets, and the
// follow-up (回访) that ends every ticket 双是 / 非双是 / 双否. Computed by hub/src/kpi/core.

const Iso = Type.String({ format: 'date-time' });
const Int = Type.Integer({ minimum: 0 });
const MsOrNull = Type.Union([Type.Number({ minimum: 0 }), Type.Null()]);
const lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));

// ---- follow-up (回访) -------------------------------------------------------------------------
/** 双是 = solved and satisfied; 非双是 = one of the two; 双否 = neither (12345 follow-up). */
export const FOLLOW_UP_OUTCOMES = ['double_yes', 'not_double_yes', 'double_no'] as const;
export const FollowUpOutcome = lit(FOLLOW_UP_OUTCOMES);
export type FollowUpOutcome = Static<typeof FollowUpOutcome>;

/** POST /api/tickets/:id/follow-up — the two questions of the 12345 follow-up. */
export const FollowUpBody = Type.Object({
  /** 是否解决 */
  solved: Type.Boolean(),
  /** 是否满意 */
  satisfied: Type.Boolean(),
  /** Finer grade when satisfied (满意 / 基本满意); default 满意. */
  rating: Type.Optional(Type.Union([Type.Literal('satisfied'), Type.Literal('basically_satisfied')])),
  note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  version: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });
export type FollowUpBody = Static<typeof FollowUpBody>;

export const FollowUp = Type.Object({
  ticketId: Type.String(),
  at: Iso,
  actor: Type.String(),
  solved: Type.Boolean(),
  satisfied: Type.Boolean(),
  outcome: FollowUpOutcome,
  rating: Rating,
  note: Type.Optional(Type.String()),
});
export type FollowUp = Static<typeof FollowUp>;

// ---- figures ----------------------------------------------------------------------------------
export const KpiFigures = Type.Object({
  /** Opened in the period (the cohort), dismissed included. */
  tickets: Int,
  /** 剔除: approved dismissals of the cohort; out of every other figure. */
  dismissed: Int,
  /** 剔除率 = dismissed / tickets. */
  dismissalRate: Rate,
  /** 响应率: a person's accept or arrival by the response deadline / tickets due for a person. */
  responseRate: Rate,
  /** 自动核销: the device cleared the condition before anyone responded; not a response. */
  autoResolved: Int,
  /** autoResolved / (cohort − dismissed). */
  autoResolvedShare: Rate,
  /** 解决率 = resolved or closed with proof (device-verified or photo-evidenced) / (cohort − dismissed). */
  resolutionRate: Rate,
  /** Resolutions of the cohort by proof: the device confirmed (or cleared) it … */
  resolvedDevice: Int,
  /** … a person resolved it with photo evidence … */
  resolvedPhoto: Int,
  /** … or neither (incl. a manual resolve still awaiting its device): not in the 解决率. */
  resolvedUnverified: Int,
  /** 满意率 = 满意 + 基本满意 / rated (latest rating). */
  satisfactionRate: Rate,
  /** 双是率 = 双是 / followed up (latest follow-up). */
  doubleYesRate: Rate,
  /** 见面率 = a worker arrived on site / tickets handled by people (cohort − dismissed − 自动核销). */
  visitRate: Rate,
  /** 诉求: complaints (接诉即办) in the cohort, dismissed excluded. */
  complaints: Int,
  /** Residents of the group's cells (site file); null when the site file has none. */
  population: Type.Union([Int, Type.Null()]),
  /** 万人诉求率 = complaints / population × 10,000. */
  complaintsPer10k: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  proactiveShare: Rate,
  complaintsPreempted: Int,
  /** At generatedAt, over every ticket given. */
  open: Int,
  overdue: Int,
  /** Opening (or reopening) → a person's response, over tickets a person responded to. */
  meanTimeToRespondMs: MsOrNull,
  medianTimeToRespondMs: MsOrNull,
  /** Opening → resolution, over tickets resolved with a person involved (自动核销 apart). */
  meanTimeToResolveMs: MsOrNull,
  medianTimeToResolveMs: MsOrNull,
});
export type KpiFigures = Static<typeof KpiFigures>;

/** The ticket lists behind the figures (失分溯源): GET /api/kpi/drill?figure=… */
export const KPI_DRILLS = [
  'tickets', 'dismissed', 'respondMet', 'respondMissed', 'autoResolved', 'resolved', 'unresolved',
  'satisfied', 'unsatisfied', 'doubleYes', 'notDoubleYes', 'doubleNo', 'visited', 'notVisited',
  'complaints', 'preempted', 'open', 'overdue', 'resolvedDevice', 'resolvedPhoto', 'resolvedUnverified',
] as const;
export const KpiDrillName = lit(KPI_DRILLS);
export type KpiDrillName = Static<typeof KpiDrillName>;
export type KpiDrill = Record<KpiDrillName, string[]>;

export const KPI_DIMENSIONS = ['site', 'community', 'compound', 'worker', 'category', 'propertyCompany'] as const;
export const KpiDimension = lit(KPI_DIMENSIONS);
export type KpiDimension = Static<typeof KpiDimension>;

export const KpiGroupRow = Type.Object({
  id: Type.String(),
  /** Display name (cell, worker, company, category in zh-CN); never just the id where a name exists. */
  name: Type.String(),
  nameEn: Type.Optional(Type.String()),
  /** Competition rank within the dimension (resolution, response, satisfaction, fewer overdue). */
  rank: Type.Integer({ minimum: 1 }),
  figures: KpiFigures,
});
export type KpiGroupRow = Static<typeof KpiGroupRow>;

const Rows = Type.Array(KpiGroupRow);

/** GET /api/kpi/street: every figure, for the whole scope and per group. */
export const StreetKpis = Type.Object({
  siteId: Type.Optional(Id),
  period: Type.Object({ from: Iso, to: Iso }),
  generatedAt: Iso,
  total: KpiFigures,
  /** One list per KPI_DIMENSIONS entry, ranked. */
  groups: Type.Object({
    site: Rows, community: Rows, compound: Rows, worker: Rows, category: Rows, propertyCompany: Rows,
  }),
});
export type StreetKpis = Static<typeof StreetKpis>;

export const KpiDrillReply = Type.Object({
  dimension: Type.Union([KpiDimension, Type.Literal('total')]),
  id: Type.String(),
  figure: KpiDrillName,
  ticketIds: Type.Array(Type.String()),
});
export type KpiDrillReply = Static<typeof KpiDrillReply>;
