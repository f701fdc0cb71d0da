import {
  MESSAGE_TYPES, RULE_KINDS, RULE_SCHEMAS, RulePatch, Validator, familyOfType, formatIssues, isMessageType,
  type Matcher, type Rule, type RuleFile, type RuleKind,
} from '@shaobing/schemas';
import { Type } from '@sinclair/typebox';
import { assertTimeZone, DEFAULT_TZ } from './schedule.ts';

/** Invalid rules or rule files; `issues` has one line per problem with its path. */
export class RuleError extends Error {
  readonly code = 'HUB_ERR_RULES_INVALID';
  constructor(readonly issues: string[]) {
    super(`invalid rules: ${issues.slice(0, 10).join('; ')}${issues.length > 10 ? `; … ${issues.length - 10} more` : ''}`);
    this.name = 'RuleError';
  }
}

const kindValidators = Object.fromEntries(RULE_KINDS.map((k) => [k, new Validator(RULE_SCHEMAS[k])])) as Record<RuleKind, Validator<(typeof RULE_SCHEMAS)[RuleKind]>>;
const patchValidator = new Validator(RulePatch);
const fileHeader = new Validator(Type.Object({
  version: Type.Literal(1),
  siteId: Type.Optional(RULE_SCHEMAS.match.properties.id!),
  rules: Type.Array(Type.Unknown(), { maxItems: 1000 }),
  disable: Type.Optional(Type.Array(RULE_SCHEMAS.match.properties.id!, { maxItems: 1000 })),
}, { additionalProperties: false }));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Schema check of one rule, by its kind so the messages say what is wrong. */
export function validateRuleShape(value: unknown, where: string, issues: string[]): value is Rule {
  if (!isRecord(value)) { issues.push(`${where}: not an object`); return false; }
  const kind = value.kind;
  if (typeof kind !== 'string' || !(RULE_KINDS as readonly string[]).includes(kind)) {
    issues.push(`${where}: kind must be one of ${RULE_KINDS.join(', ')}`);
    return false;
  }
  const r = kindValidators[kind as RuleKind].validate(value, 10);
  if (!r.ok) issues.push(`${where}${typeof value.id === 'string' ? ` (${value.id})` : ''}: ${formatIssues(r.issues)}`);
  return r.ok;
}

/** Parses a RULES_FILE document with one message per bad entry (not "no union member matched"). */
export function parseRuleFile(value: unknown, where = 'rule file'): RuleFile {
  const issues: string[] = [];
  const head = fileHeader.validate(value, 10);
  if (!head.ok) throw new RuleError([`${where}: ${formatIssues(head.issues)}`]);
  head.value.rules.forEach((entry, i) => {
    if (isRecord(entry) && !('kind' in entry)) {
      const p = patchValidator.validate(entry, 5);
      if (!p.ok) issues.push(`${where}/rules/${i}: ${formatIssues(p.issues)}`);
    } else {
      validateRuleShape(entry, `${where}/rules/${i}`, issues);
    }
  });
  if (issues.length > 0) throw new RuleError(issues);
  return value as RuleFile;
}

function dataFieldsOf(type: string): ReadonlySet<string> {
  return isMessageType(type) ? new Set(Object.keys(MESSAGE_TYPES[type].data.properties)) : new Set();
}

/** Matchers and types a rule listens to, with their role (for semantic checks). */
export function listenedTypes(rule: Rule): { matchers: Array<[string, Matcher]>; types: string[] } {
  const matchers: Array<[string, Matcher]> = [];
  switch (rule.kind) {
    case 'match':
    case 'threshold':
      matchers.push(['on', rule.on]);
      if (rule.clearOn) matchers.push(['clearOn', rule.clearOn]);
      break;
    case 'count': matchers.push(['on', rule.on]); break;
    case 'duration':
      matchers.push(['start', rule.start]);
      rule.stop.forEach((m, i) => matchers.push([`stop/${i}`, m]));
      break;
    case 'absence': rule.activity.forEach((t, i) => matchers.push([`activity/${i}`, { type: t }])); break;
    case 'offline': break;
  }
  return { matchers, types: [...new Set(matchers.map(([, m]) => m.type))] };
}

/**
 * What the schema cannot say: types exist and belong to the family, fields exist in the
 * message payloads, key fields exist in every listened type, the zone is real.
 */
export function checkRuleSemantics(rule: Rule, where: string, issues: string[]): Set<string> {
  const at = `${where} (${rule.id})`;
  const { matchers } = listenedTypes(rule);
  const allFields = new Set<string>();
  for (const [role, m] of matchers) {
    if (!isMessageType(m.type)) { issues.push(`${at}/${role}: unknown message type "${m.type}"`); continue; }
    if (familyOfType(m.type) !== rule.family) issues.push(`${at}/${role}: "${m.type}" is not a ${rule.family} message`);
    const fields = dataFieldsOf(m.type);
    for (const f of fields) allFields.add(f);
    for (const c of m.where ?? []) if (!fields.has(c.field)) issues.push(`${at}/${role}: "${m.type}" has no field "${c.field}"`);
    for (const k of rule.keyFields ?? []) if (!fields.has(k)) issues.push(`${at}/keyFields: "${m.type}" has no field "${k}"`);
  }
  if ((rule.kind === 'absence' || rule.kind === 'offline') && (rule.keyFields?.length ?? 0) > 0) {
    issues.push(`${at}/keyFields: not used by ${rule.kind} rules (one subject per device or dedup scope)`);
  }
  const primary = matchers[0]?.[1].type;
  if (rule.valueField !== undefined && (primary === undefined || !dataFieldsOf(primary).has(rule.valueField))) {
    issues.push(`${at}/valueField: "${primary ?? rule.kind}" has no field "${rule.valueField}"`);
  }
  if (rule.kind === 'threshold') {
    if ((rule.on.where?.length ?? 0) === 0) issues.push(`${at}/on/where: a threshold needs at least one condition`);
    const fields = dataFieldsOf(rule.on.type);
    for (const c of rule.clearWhen ?? []) if (!fields.has(c.field)) issues.push(`${at}/clearWhen: "${rule.on.type}" has no field "${c.field}"`);
  }
  try {
    if (rule.schedule) assertTimeZone(rule.schedule.tz ?? DEFAULT_TZ);
  } catch {
    issues.push(`${at}/schedule/tz: unknown time zone "${rule.schedule?.tz ?? ''}"`);
  }
  return allFields;
}
