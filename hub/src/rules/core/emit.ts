import type { DedupScope, Evidence, RuleDecision } from '@shaobing/schemas';
import type { IngestedEvent } from '../../events.ts';
import type { CompiledRule } from './compiled.ts';
import { scheduleActive } from './schedule.ts';
import { render, type TemplateVars } from './templates.ts';
import type { DeviceContext, EventRef, OpenDecision, RuleState, Slot, Subject, SubjectCtx } from './types.ts';

/** What a kind handler writes to: the state (orphans) and the decisions of this evaluate() call. */
export interface Sink { state: RuleState; out: RuleDecision[] }

/** `:port=2` for each key field present in the data; '' for rules without key fields. */
export function keyParts(c: CompiledRule, data: Record<string, unknown>): string {
  if (c.keyFields.length === 0) return '';
  let s = '';
  for (const f of c.keyFields) {
    const v = data[f];
    if (v !== undefined && v !== null) s += `:${f}=${String(v)}`;
  }
  return s;
}

/** unit/building come from the device's ancestors; a device outside one falls back to its own cell. */
export function scopeId(scope: DedupScope, d: DeviceContext): string {
  switch (scope) {
    case 'device': return `device:${d.deviceId}`;
    case 'unit': return d.unitId ? `unit:${d.unitId}` : `cell:${d.cellId}`;
    case 'building': return d.buildingId ? `building:${d.buildingId}` : `cell:${d.cellId}`;
    case 'site': return 'site';
  }
}

/** `<group>:<siteId>:<scope>:<id>[:<field>=<value>…]` — ids never contain ':' (schema pattern). */
export function dedupKey(c: CompiledRule, d: DeviceContext, parts: string): string {
  return `${c.group}:${d.siteId}:${scopeId(c.scope, d)}${parts}`;
}

export function subjectCtx(c: CompiledRule, d: DeviceContext, parts: string): SubjectCtx {
  return { site: d.siteId, dev: d.deviceId, cell: d.cellId, loc: d.locationLabel, dk: dedupKey(c, d, parts) };
}

export function eventRef(e: IngestedEvent): EventRef {
  return { key: `${e.siteId}/${e.deviceId}/${e.msgId}`, ts: e.ts, type: e.type, data: e.data };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const cut = (s: string): string => (s.length > 500 ? `${s.slice(0, 497)}...` : s);

type EvidenceDetail = NonNullable<Evidence['detail']>;

/** The event's scalar fields, the ones describeEvent prints (the dashboard translates them). */
export function eventFields(ref: EventRef): NonNullable<EvidenceDetail['fields']> {
  const out: NonNullable<EvidenceDetail['fields']> = {};
  for (const k in ref.data) {
    if (k === 'snapshotUrl') continue;
    const v = ref.data[k];
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'string') out[k] = v.slice(0, 200);
  }
  return out;
}

/** `detail` (cause and figures) travels beside the English `summary`, so any language can render it. */
export function eventEvidence(ref: EventRef, deviceId: string, summary: string, detail: Omit<EvidenceDetail, 'fields'> = { cause: 'event' }): Evidence {
  const snap = ref.data.snapshotUrl;
  return {
    eventKey: ref.key, ts: iso(ref.ts), type: ref.type, deviceId, summary: cut(summary),
    ...(typeof snap === 'string' ? { snapshotUrl: snap } : {}),
    detail: { ...detail, fields: eventFields(ref) },
  };
}

/**
 * Evidence of a clock-driven condition (silence). Its time is when the condition was met, not
 * when a tick noticed, so a replay after a restart produces the identical evidence.
 */
export function clockEvidence(at: number, deviceId: string | undefined, summary: string, detail?: EvidenceDetail): Evidence {
  return { eventKey: `tick:${iso(at)}`, ts: iso(at), type: 'tick', ...(deviceId ? { deviceId } : {}), summary: cut(summary), ...(detail ? { detail } : {}) };
}

export function canOpenAt(c: CompiledRule, t: number): boolean {
  return c.schedule === null || scheduleActive(c.schedule, t);
}

export function openDecision(c: CompiledRule, ctx: SubjectCtx, evidence: Evidence, vars: Partial<TemplateVars>): OpenDecision {
  const v: TemplateVars = {
    device: ctx.dev, location: ctx.loc, threshold: c.threshold,
    forMs: 'forMs' in c ? c.forMs : 'quietMs' in c ? c.quietMs ?? undefined : undefined,
    windowMs: c.kind === 'count' ? c.windowMs : undefined,
    ...vars,
  };
  return {
    kind: 'open', ruleId: c.id, siteId: ctx.site, deviceId: ctx.dev, cellId: ctx.cell, dedupKey: ctx.dk,
    severity: c.severity, category: c.category, title: render(c.title, v), description: render(c.description, v),
    deviceVerifiable: c.verifiable, evidence,
  };
}

/** Starts an episode of a subject: remembers the decision (for clears and re-assertion) and emits it. */
export function startEpisode(x: Sink, slot: Slot, sk: string, s: Subject, d: OpenDecision): void {
  s.open = d;
  const list = slot.active[d.dedupKey];
  if (list === undefined) slot.active[d.dedupKey] = [sk];
  else if (!list.includes(sk)) list.push(sk);
  delete x.state.orphans[d.dedupKey];
  x.out.push(d);
}

/**
 * Ends the subject's episode. The ticket resolves (device-verifiable rules only) when no other
 * subject of the same dedup key is still active: one bin of a building emptied is not enough.
 * Without an episode, a clear still resolves an orphan ticket of the key (see RuleState).
 */
export function endEpisode(x: Sink, c: CompiledRule, slot: Slot, sk: string, s: Subject, evidence: Evidence, orphanKey?: () => string): void {
  const open = s.open;
  if (open === undefined) {
    if (orphanKey !== undefined && hasOrphans(x.state)) {
      const dk = orphanKey();
      if (x.state.orphans[dk] === true) {
        delete x.state.orphans[dk];
        if (c.verifiable) x.out.push({ kind: 'resolve_by_device', ruleId: c.id, siteId: slot.site, dedupKey: dk, evidence });
      }
    }
    return;
  }
  delete s.open;
  const dk = open.dedupKey;
  const list = slot.active[dk];
  if (list !== undefined) {
    const i = list.indexOf(sk);
    if (i >= 0) list.splice(i, 1);
    if (list.length > 0) return;
    delete slot.active[dk];
  }
  if (c.verifiable) x.out.push({ kind: 'resolve_by_device', ruleId: c.id, siteId: slot.site, dedupKey: dk, evidence });
}

export function hasOrphans(state: RuleState): boolean {
  for (const _ in state.orphans) return true;
  return false;
}

/** Slot keys per rule and site, built once: a fresh concatenation per lookup showed up in profiles. */
const slotKeys = new WeakMap<CompiledRule, Map<string, string>>();

function slotKey(siteId: string, c: CompiledRule): string {
  let bySite = slotKeys.get(c);
  if (bySite === undefined) slotKeys.set(c, (bySite = new Map()));
  let key = bySite.get(siteId);
  if (key === undefined) bySite.set(siteId, (key = `${siteId}/${c.id}`));
  return key;
}

/** A subject's silence now ends at `at`: ticks must scan again by then (see Slot.next). */
export function dueNoLaterThan(slot: Slot, at: number): void {
  if (slot.next !== undefined && at < slot.next) slot.next = at;
}

export function getSlot(state: RuleState, siteId: string, c: CompiledRule): Slot {
  const key = slotKey(siteId, c);
  let slot = state.slots[key];
  // A hot reload may change a rule's kind under the same id: its old memory means nothing now.
  if (slot === undefined || slot.kind !== c.kind) {
    slot = { site: siteId, rule: c.id, kind: c.kind, s: {}, due: {}, active: {} };
    state.slots[key] = slot;
  }
  return slot;
}

/** `camera.alert kind=smoke_fire confidence=0.93`: the event in one line for the evidence list. */
export function describeEvent(ref: EventRef): string {
  let s = ref.type;
  for (const k in ref.data) {
    if (k === 'snapshotUrl') continue;
    const v = ref.data[k];
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') s += ` ${k}=${String(v)}`;
  }
  return s;
}
