import type { CompiledMatch } from '../compiled.ts';
import { canOpenAt, clockEvidence, dedupKey, describeEvent, endEpisode, eventEvidence, eventRef, hasOrphans, keyParts, openDecision, startEpisode, subjectCtx } from '../emit.ts';
import { formatDuration } from '../templates.ts';
import { deviceSubject } from './device-subject.ts';
import type { KindHandler } from './handler.ts';

/**
 * Every matching event opens the ticket; repeats are occurrences (same dedup key, the ticket
 * engine merges them). With `clearOn`/`quietMs` the subject remembers its open episode so the
 * clearing event or the quiet timer can end it.
 */
export const matchHandler: KindHandler<CompiledMatch> = {
  onEvent(c, slot, ev, t, dev, _now, x) {
    const data = ev.data;
    const stateful = c.clearOn !== null || c.quietMs !== null;
    if (ev.type === c.on.type && c.on.test(data)) {
      const ref = eventRef(ev);
      if (!stateful) {
        if (canOpenAt(c, t)) x.out.push(openDecision(c, subjectCtx(c, dev, keyParts(c, data)), eventEvidence(ref, dev.deviceId, describeEvent(ref)), { value: valueOf(c, data), data }));
        return;
      }
      // Late: older than what this camera already told us (e.g. a clear); the present is known.
      const at = deviceSubject(c, slot, dev, data, t);
      if (at === null) return;
      const { parts, sk, s } = at;
      s.last = t;
      if (s.open === undefined && !canOpenAt(c, t)) return;
      const d = openDecision(c, subjectCtx(c, dev, parts), eventEvidence(ref, dev.deviceId, describeEvent(ref)), { value: valueOf(c, data), data });
      if (s.open === undefined) startEpisode(x, slot, sk, s, d);
      else x.out.push(d);
      if (c.quietMs !== null) slot.due[sk] = t + c.quietMs;
      return;
    }
    if (c.clearOn !== null && ev.type === c.clearOn.type && c.clearOn.test(data)) {
      const at = deviceSubject(c, slot, dev, data, t);
      if (at === null) return;
      const { parts, sk, s } = at;
      s.last = t;
      delete slot.due[sk];
      if (s.open === undefined && !hasOrphans(x.state)) return;
      const ref = eventRef(ev);
      endEpisode(x, c, slot, sk, s, eventEvidence(ref, dev.deviceId, describeEvent(ref)), () => dedupKey(c, dev, parts));
    }
  },

  /** Quiet timer: no repeat for quietMs since the last alert. */
  onDue(c, slot, sk, now, x) {
    const s = slot.s[sk];
    if (s?.open === undefined || c.quietMs === null || s.last === undefined) { delete slot.due[sk]; return; }
    const at = s.last + c.quietMs;
    if (now < at) { slot.due[sk] = at; return; }
    delete slot.due[sk];
    endEpisode(x, c, slot, sk, s, clockEvidence(at, s.open.deviceId, `no repeat for ${formatDuration(c.quietMs, 'en')}`, { cause: 'quiet', forMs: c.quietMs }));
  },
};

function valueOf(c: CompiledMatch, data: Record<string, unknown>): unknown {
  return c.valueField === null ? undefined : data[c.valueField];
}

