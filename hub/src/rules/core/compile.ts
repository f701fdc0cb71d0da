import type { Family, Rule, RuleFile } from '@shaobing/schemas';
import type { CompiledAbsence, CompiledOffline, CompiledRule, CompiledRules, RuleSet } from './compiled.ts';
import { compileMatcher, compileWhere } from './conditions.ts';
import { compileSchedule } from './schedule.ts';
import { compileTemplate } from './templates.ts';
import { checkRuleSemantics, listenedTypes, parseRuleFile, RuleError, validateRuleShape } from './validate-rule.ts';

/**
 * Validates rule definitions (schema + semantics) and indexes the enabled ones by event type.
 * One rule set for every site. Throws RuleError listing every problem.
 */
export function compileRules(rules: readonly unknown[]): CompiledRules {
  const issues: string[] = [];
  const base = compileSet(rules, 'rules', issues);
  if (issues.length > 0) throw new RuleError(issues);
  return { base: base.set, sites: new Map(), historyWindowMs: base.historyMs, rules: base.rules };
}

/**
 * Defaults overridden by RULES_FILE documents, merged by rule id in order: files without
 * `siteId` apply to every site, then each site's own files on top of that.
 * Throws RuleError (keep serving the previous CompiledRules on a hot reload that fails).
 */
export function compileRuleFiles(defaults: readonly Rule[], files: readonly unknown[]): CompiledRules {
  const parsed = files.map((f, i) => parseRuleFile(f, `file ${i}`));
  const issues: string[] = [];
  const globalRules = parsed.reduce<unknown[]>((acc, f, i) => (f.siteId === undefined ? applyRuleFile(acc, f, `file ${i}`, issues) : acc), [...defaults]);
  const perSite = new Map<string, unknown[]>();
  parsed.forEach((f, i) => {
    if (f.siteId !== undefined) perSite.set(f.siteId, applyRuleFile(perSite.get(f.siteId) ?? globalRules, f, `file ${i}`, issues));
  });
  if (issues.length > 0) throw new RuleError(issues);
  const base = compileSet(globalRules, 'rules', issues);
  const sites = new Map<string, RuleSet>();
  let historyMs = base.historyMs;
  for (const [siteId, rules] of perSite) {
    const s = compileSet(rules, `site ${siteId}`, issues);
    sites.set(siteId, s.set);
    historyMs = Math.max(historyMs, s.historyMs);
  }
  if (issues.length > 0) throw new RuleError(issues);
  return { base: base.set, sites, historyWindowMs: historyMs, rules: base.rules };
}

/** One file over a rule list: full rules replace or add, patches amend (shallow), `disable` turns off. */
function applyRuleFile(rules: readonly unknown[], file: RuleFile, where: string, issues: string[]): unknown[] {
  const byId = new Map<string, unknown>();
  for (const r of rules) byId.set((r as { id: string }).id, r);
  file.rules.forEach((entry, i) => {
    const id = entry.id;
    if ('kind' in entry && entry.kind !== undefined) { byId.set(id, entry); return; }
    const prev = byId.get(id);
    if (prev === undefined) { issues.push(`${where}/rules/${i}: patch for unknown rule "${id}"`); return; }
    byId.set(id, { ...(prev as object), ...entry });
  });
  for (const id of file.disable ?? []) {
    const prev = byId.get(id);
    if (prev === undefined) issues.push(`${where}/disable: unknown rule "${id}"`);
    else byId.set(id, { ...(prev as object), enabled: false });
  }
  return [...byId.values()];
}

function compileSet(input: readonly unknown[], where: string, issues: string[]): { set: RuleSet; rules: Rule[]; historyMs: number } {
  const rules: Rule[] = [];
  const seen = new Set<string>();
  input.forEach((value, i) => {
    const before = issues.length;
    if (!validateRuleShape(value, `${where}/${i}`, issues)) return;
    if (seen.has(value.id)) issues.push(`${where}/${i}: duplicate rule id "${value.id}"`);
    seen.add(value.id);
    checkRuleSemantics(value, `${where}/${i}`, issues);
    if (issues.length === before) rules.push(value);
  });
  const byType = new Map<string, CompiledRule[]>();
  const offline = new Map<Family, CompiledOffline[]>();
  const scan = new Map<Family, Array<CompiledAbsence | CompiledOffline>>();
  const byId = new Map<string, CompiledRule>();
  let historyMs = 0;
  rules.forEach((rule, i) => {
    const c = compileOne(rule, `${where}/${i}`, issues);
    historyMs = Math.max(historyMs, memoryMs(rule));
    if (!rule.enabled) return;
    byId.set(rule.id, c);
    for (const t of c.types) push(byType, t, c);
    if (c.kind === 'offline') push(offline, c.family, c);
    if (c.kind === 'offline' || c.kind === 'absence') push(scan, c.family, c);
  });
  return { set: { byType, offline, scan, byId }, rules, historyMs };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v); else m.set(k, [v]);
}

/** How far back a rule looks: the history rebuildState() needs to resume it. */
function memoryMs(r: Rule): number {
  switch (r.kind) {
    case 'match': return r.quietMs ?? 0;
    case 'threshold': return r.forMs;
    case 'count': return r.windowMs;
    case 'duration': return r.forMs;
    case 'absence': return r.forMs;
    case 'offline': return Math.max(r.forMs, r.lastWillMs ?? 0);
  }
}

function compileOne(rule: Rule, where: string, issues: string[]): CompiledRule {
  const fields = checkRuleSemantics(rule, where, []);
  const valueField = rule.valueField ?? firstField(rule);
  const base = {
    id: rule.id,
    family: rule.family,
    group: rule.dedupGroup ?? rule.id,
    rule,
    severity: rule.severity,
    category: rule.category,
    scope: rule.dedupScope,
    verifiable: rule.deviceVerifiable,
    schedule: rule.schedule ? compileSchedule(rule.schedule) : null,
    keyFields: rule.keyFields ?? [],
    valueField,
    threshold: rule.kind === 'count' ? rule.minCount : thresholdOf(rule, valueField),
    title: compileTemplate(rule.title, fields, issues, `${where} (${rule.id})/title`),
    description: compileTemplate(rule.description, fields, issues, `${where} (${rule.id})/description`),
    types: listenedTypes(rule).types,
  };
  switch (rule.kind) {
    case 'match':
      return { ...base, kind: 'match', on: compileMatcher(rule.on), clearOn: rule.clearOn ? compileMatcher(rule.clearOn) : null, quietMs: rule.quietMs ?? null };
    case 'threshold': {
      const on = compileMatcher(rule.on);
      const clearWhen = rule.clearWhen ? compileWhere(rule.clearWhen) : (d: Record<string, unknown>) => !on.test(d);
      return { ...base, kind: 'threshold', on, forMs: rule.forMs, clearWhen, clearOn: rule.clearOn ? compileMatcher(rule.clearOn) : null };
    }
    case 'count':
      return { ...base, kind: 'count', on: compileMatcher(rule.on), minCount: rule.minCount, windowMs: rule.windowMs };
    case 'duration':
      return { ...base, kind: 'duration', start: compileMatcher(rule.start), stop: rule.stop.map(compileMatcher), forMs: rule.forMs, restartOnRepeat: rule.onRepeatStart === 'restart' };
    case 'absence':
      return { ...base, kind: 'absence', activity: new Set(rule.activity), forMs: rule.forMs, requireElderlyCare: rule.requireElderlyCare };
    case 'offline':
      return { ...base, kind: 'offline', forMs: rule.forMs, lastWillMs: rule.lastWillMs ?? null };
  }
}

function firstField(rule: Rule): string | null {
  if (rule.kind === 'match' || rule.kind === 'threshold' || rule.kind === 'count') return rule.on.where?.[0]?.field ?? null;
  return null;
}

function thresholdOf(rule: Rule, field: string | null): unknown {
  if (field === null || !(rule.kind === 'match' || rule.kind === 'threshold')) return undefined;
  return rule.on.where?.find((c) => c.field === field && c.op !== 'in')?.value;
}
