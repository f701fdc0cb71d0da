import type { RuleDecision } from '@shaobing/schemas';
import type { IngestedEvent } from '../../events.ts';
import type { CompiledRules } from './compiled.ts';
import { evaluate } from './evaluate.ts';
import type { DeviceContext, RuleState } from './types.ts';

/**
 * Plays stored events through evaluate() as the live hub would have seen them: each event at
 * its receive time, ticks every `tickEveryMs` from `from`, and a last tick exactly at `to`.
 * Events received before `from` warm the state up without ticks; events after `to` are skipped.
 * Events of devices missing from `devices` (removed from the site file) are skipped.
 */
export function replay(
  rules: CompiledRules, state: RuleState, events: readonly IngestedEvent[], devices: readonly DeviceContext[],
  from: number, to: number, tickEveryMs: number, onDecisions: (decisions: RuleDecision[], at: number) => void,
): void {
  if (!(tickEveryMs > 0)) throw new RangeError('tickEveryMs must be > 0');
  const byKey = new Map<string, DeviceContext>();
  for (const d of devices) byKey.set(`${d.siteId}/${d.deviceId}`, d);
  let nextTick = from;
  let lastTick = -Infinity;
  const tick = (at: number): void => {
    lastTick = at;
    const r = evaluate(rules, state, { kind: 'tick', now: at, devices }, at);
    if (r.decisions.length > 0) onDecisions(r.decisions, at);
  };
  for (const ev of events) {
    const at = ev.receivedAt;
    if (at > to) continue;
    while (nextTick <= at) { tick(nextTick); nextTick += tickEveryMs; }
    const device = byKey.get(`${ev.siteId}/${ev.deviceId}`);
    if (device === undefined) continue;
    const r = evaluate(rules, state, { kind: 'event', event: ev, device }, at);
    if (r.decisions.length > 0) onDecisions(r.decisions, at);
  }
  while (nextTick <= to) { tick(nextTick); nextTick += tickEveryMs; }
  if (lastTick < to) tick(to);
}
