import type { Family, MessageType, Rule, RuleDecision } from '@shaobing/schemas';
import type { IngestedEvent } from '../src/events.ts';
import {
  compileRules, emptyState, evaluate, type CompiledRules, type DeviceContext, type RuleState,
} from '../src/rules/core/index.ts';

/** Monday 2026-01-05 00:00 UTC = 08:00 in Asia/Shanghai. Plain numbers are the fake clock. */
export const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
export const SEC = 1000;
export const MIN = 60_000;
export const HOUR = 3_600_000;

export function device(id: string, family: Family, extra: Partial<DeviceContext> = {}): DeviceContext {
  return { siteId: 's1', deviceId: id, family, cellId: 'c-unit-1', unitId: 'u1', buildingId: 'b1', elderlyCare: false, locationLabel: `${id} @ 1号楼1单元`, ...extra };
}

let seq = 0;
export function event(dev: DeviceContext, type: MessageType, data: Record<string, unknown>, ts: number, receivedAt = ts): IngestedEvent {
  const channel = type.endsWith('.telemetry') || type.endsWith('.heartbeat') ? 'telemetry' : type.endsWith('.status') ? 'status' : 'event';
  return { siteId: dev.siteId, deviceId: dev.deviceId, family: dev.family, channel, type, msgId: `m${++seq}`, ts, receivedAt, data };
}

/** A rule with every common field filled in; pass the kind-specific part. */
export function rule(r: Record<string, unknown> & { kind: Rule['kind'] }): Rule {
  return {
    id: 'test.rule', family: 'bin', enabled: true, severity: 'normal', category: 'sanitation',
    dedupScope: 'device', deviceVerifiable: true,
    title: { 'zh-CN': '测试 {device}', en: 'Test {device}' },
    description: { 'zh-CN': '{location} {value}', en: '{location} {value}' },
    ...r,
  } as Rule;
}

/** Drives evaluate() like the shell: events at their receive time, ticks on demand. */
export class Harness {
  state: RuleState = emptyState();
  readonly log: Array<{ at: number; d: RuleDecision }> = [];
  readonly rules: CompiledRules;

  constructor(rules: CompiledRules | readonly Rule[], readonly devices: DeviceContext[] = []) {
    this.rules = Array.isArray(rules) ? compileRules(rules) : (rules as CompiledRules);
  }

  send(e: IngestedEvent, dev?: DeviceContext): RuleDecision[] {
    const d = dev ?? this.devices.find((x) => x.deviceId === e.deviceId);
    if (!d) throw new Error(`unknown device ${e.deviceId}`);
    return this.record(evaluate(this.rules, this.state, { kind: 'event', event: e, device: d }, e.receivedAt).decisions, e.receivedAt);
  }

  /** Shorthand: an event of `dev` at `ts`. */
  at(ts: number, dev: DeviceContext, type: MessageType, data: Record<string, unknown> = {}): RuleDecision[] {
    return this.send(event(dev, type, data, ts), dev);
  }

  tick(now: number, devices: Iterable<DeviceContext> = this.devices): RuleDecision[] {
    return this.record(evaluate(this.rules, this.state, { kind: 'tick', now, devices }, now).decisions, now);
  }

  /** Ticks every `step` ms from `from` to `to` inclusive; returns all decisions. */
  ticks(from: number, to: number, step: number): RuleDecision[] {
    const out: RuleDecision[] = [];
    for (let t = from; t <= to; t += step) out.push(...this.tick(t));
    return out;
  }

  record(ds: RuleDecision[], at: number): RuleDecision[] {
    for (const d of ds) this.log.push({ at, d });
    return ds;
  }
}

export const opens = (ds: readonly RuleDecision[]) => ds.filter((d) => d.kind === 'open');
export const resolves = (ds: readonly RuleDecision[]) => ds.filter((d) => d.kind === 'resolve_by_device');
/** `open:<key>` / `resolve:<key>` — compact, order-preserving, easy to compare. */
export const brief = (ds: readonly RuleDecision[]) => ds.map((d) => `${d.kind === 'open' ? 'open' : 'resolve'}:${d.dedupKey}`);
