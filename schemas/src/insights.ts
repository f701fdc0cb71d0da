import { Type, type Static } from '@sinclair/typebox';
import { Category, Localized } from './decisions.ts';

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
