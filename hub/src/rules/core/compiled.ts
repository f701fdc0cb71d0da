import type { Category, DedupScope, Family, Rule, RuleKind, Severity } from '@shaobing/schemas';
import type { CompiledMatcher, Predicate } from './conditions.ts';
import type { CompiledSchedule } from './schedule.ts';
import type { CompiledTemplate } from './templates.ts';

/** What every compiled rule carries, whatever its kind. */
interface Base {
  id: string;
  kind: RuleKind;
  family: Family;
  /** Dedup key prefix: `dedupGroup` or the rule id. */
  group: string;
  rule: Rule;
  severity: Severity;
  category: Category;
  scope: DedupScope;
  verifiable: boolean;
  schedule: CompiledSchedule | null;
  keyFields: readonly string[];
  valueField: string | null;
  /** The number compared against valueField, shown as {threshold}. */
  threshold: unknown;
  title: CompiledTemplate;
  description: CompiledTemplate;
  /** Event types this rule listens to (the per-type index of a rule set). */
  types: readonly string[];
}

export interface CompiledMatch extends Base { kind: 'match'; on: CompiledMatcher; clearOn: CompiledMatcher | null; quietMs: number | null }
export interface CompiledThreshold extends Base {
  kind: 'threshold'; on: CompiledMatcher; forMs: number; clearWhen: Predicate; clearOn: CompiledMatcher | null;
}
export interface CompiledCount extends Base { kind: 'count'; on: CompiledMatcher; minCount: number; windowMs: number }
export interface CompiledDuration extends Base {
  kind: 'duration'; start: CompiledMatcher; stop: readonly CompiledMatcher[]; forMs: number; restartOnRepeat: boolean;
}
export interface CompiledAbsence extends Base { kind: 'absence'; activity: ReadonlySet<string>; forMs: number; requireElderlyCare: boolean }
export interface CompiledOffline extends Base { kind: 'offline'; forMs: number; lastWillMs: number | null }

export type CompiledRule = CompiledMatch | CompiledThreshold | CompiledCount | CompiledDuration | CompiledAbsence | CompiledOffline;

/** The enabled rules of one site, indexed for the hot path. */
export interface RuleSet {
  /** Event type → rules listening to it (match, threshold, count, duration, absence). */
  byType: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Family → offline rules (every message of the family is a sign of life). */
  offline: ReadonlyMap<Family, readonly CompiledOffline[]>;
  /** Family → rules a tick checks device by device (absence, offline). */
  scan: ReadonlyMap<Family, ReadonlyArray<CompiledAbsence | CompiledOffline>>;
  byId: ReadonlyMap<string, CompiledRule>;
}

/** compileRules()/compileRuleFiles() output: opaque to the shell, immutable, safe to share. */
export interface CompiledRules {
  /** Rules for sites without their own RuleFile. */
  base: RuleSet;
  /** Sites with a RuleFile of their own. */
  sites: ReadonlyMap<string, RuleSet>;
  /** Longest memory any rule needs; see historyWindowMs(). */
  historyWindowMs: number;
  /** The merged rule definitions (base), e.g. for the API to list. */
  rules: readonly Rule[];
}

export function ruleSetFor(c: CompiledRules, siteId: string): RuleSet {
  return c.sites.get(siteId) ?? c.base;
}
