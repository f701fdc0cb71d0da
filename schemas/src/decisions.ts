import { Type, type Static } from '@sinclair/typebox';
import { Id, Team } from './index-deps.ts';

/** Ticket severity decides the SLA (DESIGN §6). */
export const SEVERITIES = ['critical', 'high', 'normal'] as const;
export const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));
export type Severity = Static<typeof Severity>;

/** Ticket category; routing maps it to a team (CATEGORY_TEAM). */
export const CATEGORIES = ['fire_safety', 'sanitation', 'security', 'order', 'care', 'equipment'] as const;
export const Category = Type.Union(CATEGORIES.map((c) => Type.Literal(c)));
export type Category = Static<typeof Category>;

export const CATEGORY_TEAM: Record<Category, Static<typeof Team>> = {
  fire_safety: 'security',
  sanitation: 'cleaning',
  security: 'security',
  order: 'security',
  care: 'care',
  equipment: 'maintenance',
};

export const DEDUP_SCOPES = ['device', 'unit', 'building', 'site'] as const;
export const DedupScope = Type.Union(DEDUP_SCOPES.map((s) => Type.Literal(s)));
export type DedupScope = Static<typeof DedupScope>;

export const Localized = Type.Object({ 'zh-CN': Type.String({ maxLength: 500 }), en: Type.String({ maxLength: 500 }) });
export type Localized = Static<typeof Localized>;

/** What an evidence line records (its `detail.cause`). */
export const EVIDENCE_CAUSES = ['event', 'held', 'count', 'no_stop', 'offline', 'absence', 'quiet', 'back_online'] as const;
export type EvidenceCause = (typeof EVIDENCE_CAUSES)[number];

export const Evidence = Type.Object({
  eventKey: Type.String({ description: 'siteId/deviceId/msgId of the event, or tick:<iso> for clock-driven rules' }),
  ts: Type.String({ format: 'date-time' }),
  type: Type.String(),
  deviceId: Type.Optional(Id),
  summary: Type.String({ maxLength: 500 }),
  snapshotUrl: Type.Optional(Type.String({ maxLength: 1024 })),
  /** `summary` as data, for the reader's language (absent on evidence from before it existed). */
  detail: Type.Optional(Type.Object({
    cause: Type.Union(EVIDENCE_CAUSES.map((c) => Type.Literal(c))),
    /** The event's scalar fields (kind=smoke_fire, confidence=0.93), as describeEvent lists them. */
    fields: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 200 }), Type.Number(), Type.Boolean()]))),
    forMs: Type.Optional(Type.Number()),
    count: Type.Optional(Type.Integer()),
    windowMs: Type.Optional(Type.Number()),
    /** Event types that would have ended the condition (duration), or the silent ones (absence). */
    types: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })),
    lastAt: Type.Optional(Type.String()),
  })),
});
export type Evidence = Static<typeof Evidence>;

/**
 * What the pure rule core decides; the ticket shell applies it.
 * The contract between hub/src/rules (producer) and hub/src/tickets (consumer).
 */
export const RuleDecision = Type.Union([
  Type.Object({
    kind: Type.Literal('open'),
    ruleId: Type.String(),
    siteId: Id,
    deviceId: Type.Optional(Id),
    cellId: Id,
    dedupKey: Type.String({ description: 'ruleId + scope key; one open ticket per key (database-enforced)' }),
    severity: Severity,
    category: Category,
    title: Localized,
    description: Localized,
    deviceVerifiable: Type.Boolean(),
    evidence: Evidence,
  }),
  /** The condition cleared and the device proves it: resolve the open ticket of this key. */
  Type.Object({
    kind: Type.Literal('resolve_by_device'),
    ruleId: Type.String(),
    siteId: Id,
    dedupKey: Type.String(),
    evidence: Evidence,
  }),
]);
export type RuleDecision = Static<typeof RuleDecision>;
