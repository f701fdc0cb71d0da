import type { IngestedEvent } from '../../../events.ts';
import type { CompiledDuration } from '../compiled.ts';
import {
  describeEvent, eventEvidence, eventRef, openDecision, subjectCtx, type Sink,
} from '../emit.ts';
import { formatDuration } from '../templates.ts';
import type { DeviceContext, Slot, Subject } from '../types.ts';
import { deviceSubject } from './device-subject.ts';
import type { KindHandler } from './handler.ts';
import { endByDevice, onDueHeld, openRun, resetRun, runDue } from './held-run.ts';

/**
 * `start` without any `stop` for forMs (door opened and not closed; charging session not
 * stopped). The stop ends the run and, if it had opened, resolves: the device proves closure.
 * A stop that arrives after the run came due but before a tick noticed opens and resolves at
 * once, so the outcome does not depend on how often ticks come.
 */
export const durationHandler: KindHandler<CompiledDuration> = {
  onEvent(c, slot, ev, t, dev, _now, x) {
    const data = ev.data;
    if (ev.type === c.start.type && c.start.test(data)) {
      // Late: a stop newer than this start was already applied (closed arrived before opened).
      const at = deviceSubject(c, slot, dev, data, t);
      if (at === null) return;
      const { parts, sk, s } = at;
      catchUp(c, slot, sk, s, t, x);
      s.last = t;
      if (s.since !== undefined || s.open !== undefined) {
        if (!c.restartOnRepeat) return;
        // A new session on the same port means the previous one ended unseen.
        stop(c, slot, sk, s, ev, dev, parts, x);
      }
      s.since = t;
      s.ev = eventRef(ev);
      s.ctx = subjectCtx(c, dev, parts);
      slot.due[sk] = t + c.forMs;
      return;
    }
    for (const m of c.stop) {
      if (ev.type !== m.type || !m.test(data)) continue;
      const at = deviceSubject(c, slot, dev, data, t);
      if (at === null) return;
      const { parts, sk, s } = at;
      catchUp(c, slot, sk, s, t, x);
      s.last = t;
      stop(c, slot, sk, s, ev, dev, parts, x);
      return;
    }
  },

  onDue(c, slot, sk, now, x) {
    onDueHeld(c, slot, sk, now, x, fire);
  },
};

function catchUp(c: CompiledDuration, slot: Slot, sk: string, s: Subject, t: number, x: Sink): void {
  if (runDue(c, s, t)) fire(c, slot, sk, s, x);
}

function fire(c: CompiledDuration, slot: Slot, sk: string, s: Subject, x: Sink): void {
  delete slot.due[sk];
  const ev = s.ev;
  const ctx = s.ctx;
  if (ev === undefined || ctx === undefined) return;
  const stops = c.stop.map((m) => m.type).join('/');
  const d = openDecision(c, ctx, eventEvidence(ev, ctx.dev, `${describeEvent(ev)} with no ${stops} for ${formatDuration(c.forMs, 'en')}`, { cause: 'no_stop', forMs: c.forMs, types: c.stop.map((m) => m.type) }), { data: ev.data });
  openRun(x, slot, sk, s, d);
}

function stop(c: CompiledDuration, slot: Slot, sk: string, s: Subject, e: IngestedEvent, dev: DeviceContext, parts: string, x: Sink): void {
  resetRun(slot, sk, s);
  endByDevice(c, slot, sk, s, e, dev, parts, x);
}
