import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Family, Id } from './common.ts';
import { Category, DedupScope, Localized, Severity } from './decisions.ts';

/**
 * Rule definitions (DESIGN §5): declarative data, validated by these schemas, evaluated by
 * the pure rule core (hub/src/rules/core). Defaults live in hub/src/rules/defaults; a site
 * overrides them with a RuleFile (RULES_FILE), merged by rule id.
 *
 * Conditions read `event.data.<field>`. A missing field or a value of the wrong type makes
 * every operator false (ne included): an absent reading never opens or clears anything.
 */

const FieldName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 64, description: 'a field of the message `data`' });
/** Checked against the message catalogue (and the rule's family) when the rules are compiled. */
const MessageTypeName = Type.String({ pattern: '^[a-z]+\\.[a-z_]+$', maxLength: 64, description: 'message type, e.g. bin.telemetry' });
const Scalar = Type.Union([Type.String({ maxLength: 128 }), Type.Number(), Type.Boolean()]);

export const CONDITION_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'] as const;
export const Condition = Type.Union([
  Type.Object({ field: FieldName, op: Type.Union([Type.Literal('eq'), Type.Literal('ne')]), value: Scalar }, { additionalProperties: false }),
  Type.Object({ field: FieldName, op: Type.Union([Type.Literal('gt'), Type.Literal('gte'), Type.Literal('lt'), Type.Literal('lte')]), value: Type.Number() }, { additionalProperties: false }),
  Type.Object({ field: FieldName, op: Type.Literal('in'), value: Type.Array(Scalar, { minItems: 1, maxItems: 64 }) }, { additionalProperties: false }),
]);
export type Condition = Static<typeof Condition>;

/** An event type plus conditions that must all hold (AND). */
export const Matcher = Type.Object({
  type: MessageTypeName,
  where: Type.Optional(Type.Array(Condition, { maxItems: 16 })),
}, { additionalProperties: false });
export type Matcher = Static<typeof Matcher>;

const MAX_MS = 30 * 24 * 3600_000;
/** Milliseconds; units in the name (DESIGN §13 style). */
const Ms = (description: string, minimum = 0) => Type.Integer({ minimum, maximum: MAX_MS, description });

const HourMinute = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM, 24-hour, local to `tz`' });
/**
 * Active hours. `from` > `to` crosses midnight (22:00–06:00); the part after midnight belongs to
 * the day the window started on (Friday 22:00 → Saturday 06:00 needs only day 5). `from` = `to`
 * means the whole day. Outside the window a rule does not open tickets; it still tracks state
 * and still resolves, so a ticket opened inside the window can close outside it.
 */
export const Schedule = Type.Object({
  days: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true, description: 'ISO weekdays, 1 = Monday; default every day' })),
  from: HourMinute,
  to: HourMinute,
  tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone; default Asia/Shanghai' })),
}, { additionalProperties: false });
export type Schedule = Static<typeof Schedule>;

/** Fields every rule has, whatever its kind. */
const common = {
  id: Id,
  family: Family,
  enabled: Type.Boolean(),
  severity: Severity,
  category: Category,
  /** Placeholders: {device} {location} {value} {threshold} {count} {for} {window} {data.<field>}. */
  title: Localized,
  description: Localized,
  dedupScope: DedupScope,
  /** The device can prove closure: a clear emits `resolve_by_device`. If false a clear only re-arms the rule. */
  deviceVerifiable: Type.Boolean(),
  schedule: Type.Optional(Schedule),
  /** Rules with the same group share tickets (dedup key prefix); default: the rule id. */
  dedupGroup: Type.Optional(Id),
  /** Data fields that split one device into several subjects and tickets (a charger's `port`). */
  keyFields: Type.Optional(Type.Array(FieldName, { maxItems: 4, uniqueItems: true })),
  /** Data field shown as {value}; default: the field of the first condition. */
  valueField: Type.Optional(FieldName),
  notes: Type.Optional(Type.String({ maxLength: 1000 })),
};

/** Every matching event opens (or adds an occurrence to) the ticket; optional auto-clear. */
export const MatchRule = Type.Object({
  ...common,
  kind: Type.Literal('match'),
  on: Matcher,
  /** An event saying the condition is gone (camera.alert_cleared of the same kind). */
  clearOn: Type.Optional(Matcher),
  /** Clears when no matching event came for this long. */
  quietMs: Type.Optional(Ms('auto-clear after this long without a repeat', 1)),
}, { additionalProperties: false });

/** `on` holds continuously for `forMs` (by the latest reading) → open; `clearWhen` → clear. */
export const ThresholdRule = Type.Object({
  ...common,
  kind: Type.Literal('threshold'),
  on: Matcher,
  forMs: Ms('how long the condition must hold before opening; 0 = at once'),
  /** Hysteresis: readings matching neither `on.where` nor this keep the state. Default: `on.where` is false. */
  clearWhen: Type.Optional(Type.Array(Condition, { minItems: 1, maxItems: 16 })),
  /** An event that also clears (bin.emptied). */
  clearOn: Type.Optional(Matcher),
}, { additionalProperties: false });

/** At least `minCount` matching events within any `windowMs` (inclusive: span ≤ windowMs). */
export const CountRule = Type.Object({
  ...common,
  kind: Type.Literal('count'),
  on: Matcher,
  minCount: Type.Integer({ minimum: 2, maximum: 1000 }),
  windowMs: Ms('sliding window', 1),
}, { additionalProperties: false });

/** `start` not followed by any of `stop` within `forMs` → open; a later `stop` → clear. */
export const DurationRule = Type.Object({
  ...common,
  kind: Type.Literal('duration'),
  start: Matcher,
  stop: Type.Array(Matcher, { minItems: 1, maxItems: 8 }),
  forMs: Ms('how long after `start` without `stop` before opening', 1),
  /** A second `start` while running: keep the first start time (door) or begin a new run (charger session). */
  onRepeatStart: Type.Optional(Type.Union([Type.Literal('keep'), Type.Literal('restart')], { default: 'keep' })),
}, { additionalProperties: false });

/** None of the `activity` events for `forMs` → open (关爱); any activity → clear. Per dedup scope. */
export const AbsenceRule = Type.Object({
  ...common,
  kind: Type.Literal('absence'),
  activity: Type.Array(MessageTypeName, { minItems: 1, maxItems: 16, uniqueItems: true }),
  forMs: Ms('silence that opens', 1),
  /** Only devices whose cell (or an ancestor) is flagged `elderlyCare`. */
  requireElderlyCare: Type.Boolean(),
}, { additionalProperties: false });

/**
 * No message of any kind for `forMs` → open; any message → clear. A `{online:false}` status
 * (Last Will) is not a sign of life; with `lastWillMs` it also opens that long after it came.
 */
export const OfflineRule = Type.Object({
  ...common,
  kind: Type.Literal('offline'),
  forMs: Ms('silence that opens', 1),
  lastWillMs: Type.Optional(Ms('open this long after a Last Will / {online:false} status; unset = silence timer only')),
}, { additionalProperties: false });

export const RULE_KINDS = ['match', 'threshold', 'count', 'duration', 'absence', 'offline'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** One schema per kind, for precise validation messages (a union only says "no member matched"). */
export const RULE_SCHEMAS: Record<RuleKind, TObject> = {
  match: MatchRule, threshold: ThresholdRule, count: CountRule, duration: DurationRule, absence: AbsenceRule, offline: OfflineRule,
};

export const Rule = Type.Union([MatchRule, ThresholdRule, CountRule, DurationRule, AbsenceRule, OfflineRule]);
export type Rule = Static<typeof Rule>;
export type MatchRule = Static<typeof MatchRule>;
export type ThresholdRule = Static<typeof ThresholdRule>;
export type CountRule = Static<typeof CountRule>;
export type DurationRule = Static<typeof DurationRule>;
export type AbsenceRule = Static<typeof AbsenceRule>;
export type OfflineRule = Static<typeof OfflineRule>;

/**
 * A partial rule: shallow-merged over the rule with the same id (arrays and objects are
 * replaced whole), e.g. `{ "id": "bin.full", "forMs": 5000 }`. The merged rule must validate.
 */
export const RulePatch = Type.Object({
  id: Id,
  kind: Type.Optional(Type.Never({ description: 'a patch has no kind; give a kind to replace the rule whole' })),
}, { additionalProperties: true });
export type RulePatch = Static<typeof RulePatch> & Record<string, unknown>;

/**
 * RULES_FILE: overrides merged over the defaults by rule id — a full rule replaces or adds,
 * a patch amends, `disable` turns rules off. Without `siteId` it applies to every site.
 */
export const RuleFile = Type.Object({
  version: Type.Literal(1),
  siteId: Type.Optional(Id),
  rules: Type.Array(Type.Union([Rule, RulePatch]), { maxItems: 1000 }),
  disable: Type.Optional(Type.Array(Id, { maxItems: 1000 })),
}, { additionalProperties: false, $id: 'RuleFile' });
export type RuleFile = Static<typeof RuleFile>;
