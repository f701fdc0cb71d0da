import type { Evidence, Family, RuleDecision, RuleKind } from '@shaobing/schemas';
import type { IngestedEvent } from '../../events.ts';

/** Where a device sits, resolved from the site file by the shell (a DeviceRecord fits). */
export interface DeviceContext {
  siteId: string;
  deviceId: string;
  family: Family;
  cellId: string;
  /** Nearest ancestor cell of level 'unit' (单元). */
  unitId?: string;
  /** Nearest ancestor cell of level 'compound' (楼院). */
  buildingId?: string;
  /** The cell or an ancestor is flagged elderlyCare (关爱). */
  elderlyCare: boolean;
  locationLabel: string;
}

export type RuleInput =
  | { kind: 'event'; event: IngestedEvent; device: DeviceContext }
  /**
   * Clock tick: elapses durations, windows, absence and offline. `devices` = every registered
   * device. `fullScan: false` (the engine's steady ticks) visits devices only for rules with a
   * silence due by now; pass true (the default) whenever the devices or the rules changed, so
   * new devices start being watched.
   */
  | { kind: 'tick'; now: number; devices: Iterable<DeviceContext>; fullScan?: boolean };

export type OpenDecision = Extract<RuleDecision, { kind: 'open' }>;
export type ResolveDecision = Extract<RuleDecision, { kind: 'resolve_by_device' }>;

/** A rule that threw on one input: its other work and every other rule's decisions still count. */
export interface RuleFailure { ruleId: string; error: string }

export interface EvalResult { state: RuleState; decisions: RuleDecision[]; failures?: RuleFailure[] }

/** The event an episode rests on, kept so a clock-driven decision can cite it. */
export interface EventRef {
  key: string;
  ts: number;
  type: string;
  data: Record<string, unknown>;
}

/** Who and where, captured when an episode starts (a tick has no event to take it from). */
export interface SubjectCtx {
  site: string;
  dev: string;
  cell: string;
  loc: string;
  /** The dedup key this subject's tickets go under. */
  dk: string;
}

/**
 * Per-subject memory of one rule. One shape for all kinds (fields unused by a kind stay
 * absent) so the state stays plain JSON without a tagged union per entry.
 */
export interface Subject {
  /** Newest event time applied to this subject: older events are late and ignored (see index.ts). */
  last?: number;
  /** threshold: condition true since; duration: run started at. */
  since?: number;
  /** absence / offline: last sign of life (or when the engine started watching). */
  seen?: number;
  /** offline: a Last Will / {online:false} status came at (hub clock). */
  will?: number;
  /** count: times of matching events, ascending. */
  times?: number[];
  ev?: EventRef;
  ctx?: SubjectCtx;
  /** The open decision we emitted and have not cleared: an episode in progress. */
  open?: OpenDecision;
}

/** State of one rule in one site. */
export interface Slot {
  site: string;
  rule: string;
  kind: RuleKind;
  /** Subjects by subject key (device[:key fields], or dedup key for count/absence). */
  s: Record<string, Subject>;
  /** Subjects waiting for the clock: subject key → time it becomes due. */
  due: Record<string, number>;
  /** Dedup key → subject keys with an open episode; the ticket resolves when the last one clears. */
  active: Record<string, string[]>;
  /**
   * Absence/offline: no subject can come due before this time (a lower bound), so ticks skip
   * the device scan until then. Absent: unknown, scan at the next tick.
   */
  next?: number;
}

/**
 * All memory of the rule engine: plain JSON (snapshot it with JSON.stringify), mutated in
 * place by evaluate(). Rebuildable from history with rebuildState().
 */
export interface RuleState {
  v: 1;
  /** Key `${siteId}/${ruleId}`. */
  slots: Record<string, Slot>;
  /**
   * Dedup keys of tickets open in the database that the replayed history did not explain
   * (opened before the history window). A device-proven clear of such a key still resolves it.
   */
  orphans: Record<string, true>;
}

export function emptyState(): RuleState {
  return { v: 1, slots: {}, orphans: {} };
}

export type { Evidence };
