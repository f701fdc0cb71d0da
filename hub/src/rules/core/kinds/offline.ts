import type { IngestedEvent } from '../../../events.ts';
import type { CompiledOffline } from '../compiled.ts';
import { canOpenAt, clockEvidence, dedupKey, dueNoLaterThan, describeEvent, endEpisode, eventEvidence, eventRef, hasOrphans, openDecision, startEpisode, subjectCtx, type Sink } from '../emit.ts';
import { formatDuration } from '../templates.ts';
import type { DeviceContext, Slot, Subject } from '../types.ts';
import type { KindHandler } from './handler.ts';

/**
 * No message of any kind for forMs → open; the next message → resolve. Liveness is measured on
 * the hub clock (`now`, the receive time), like presence: a gateway replaying its buffer after
 * reconnecting is back online even though the buffered timestamps are old.
 *
 * Last Will: a `{online:false}` status is not a sign of life (the broker sends it for a dead
 * connection), so the silence timer keeps running from the last real message. It does not
 * open at once by default, because a gateway reboot would otherwise open a ticket for every
 * device behind it; set `lastWillMs` (0 = immediately) to open that long after the Will.
 */
export const offlineHandler: KindHandler<CompiledOffline> = {
  onEvent(c, slot, ev, _t, dev, now, x) {
    const sk = dev.deviceId;
    let s = slot.s[sk];
    const will = isLastWill(ev);
    if (s === undefined) {
      s = slot.s[sk] = will ? { seen: now, will: now } : { seen: now };
      if (!will && hasOrphans(x.state)) resolve(c, slot, sk, s, ev, dev, x);
      track(c, slot, s);
      return;
    }
    if (will) {
      if (s.will === undefined) s.will = now;
      track(c, slot, s);
      return;
    }
    if (s.open === undefined) {
      const due = dueAt(c, s);
      if (now >= due && canOpenAt(c, now)) fire(c, slot, sk, s, dev, due, x);
    }
    if ((s.seen ?? 0) < now) s.seen = now;
    if (s.will !== undefined) delete s.will;
    if (s.open !== undefined || hasOrphans(x.state)) resolve(c, slot, sk, s, ev, dev, x);
    track(c, slot, s);
  },

  scan(c, slot, dev, now, x) {
    let s = slot.s[dev.deviceId];
    if (s === undefined) { s = slot.s[dev.deviceId] = { seen: now }; return dueAt(c, s); }
    if (s.open !== undefined) return undefined;
    const due = dueAt(c, s);
    if (now >= due && canOpenAt(c, now)) fire(c, slot, dev.deviceId, s, dev, due, x);
    return s.open === undefined ? due : undefined;
  },
};

/** A subject without an open episode comes due at its silence (or Last Will) deadline. */
function track(c: CompiledOffline, slot: Slot, s: Subject): void {
  if (s.open === undefined) dueNoLaterThan(slot, dueAt(c, s));
}

function isLastWill(ev: IngestedEvent): boolean {
  return ev.channel === 'status' && ev.data.online === false;
}

function dueAt(c: CompiledOffline, s: Subject): number {
  const silence = (s.seen ?? 0) + c.forMs;
  return s.will !== undefined && c.lastWillMs !== null ? Math.min(silence, s.will + c.lastWillMs) : silence;
}

function fire(c: CompiledOffline, slot: Slot, sk: string, s: Subject, dev: DeviceContext, due: number, x: Sink): void {
  const last = new Date(s.seen ?? 0).toISOString();
  const why = s.will !== undefined && due < (s.seen ?? 0) + c.forMs
    ? `Last Will / offline status at ${new Date(s.will).toISOString()}; last message ${last}`
    : `no message for ${formatDuration(c.forMs, 'en')} (last ${last})`;
  const detail = { cause: 'offline' as const, forMs: c.forMs, lastAt: last };
  startEpisode(x, slot, sk, s, openDecision(c, subjectCtx(c, dev, ''), clockEvidence(due, dev.deviceId, why, detail), {}));
}

function resolve(c: CompiledOffline, slot: Slot, sk: string, s: Subject, ev: IngestedEvent, dev: DeviceContext, x: Sink): void {
  const ref = eventRef(ev);
  endEpisode(x, c, slot, sk, s, eventEvidence(ref, dev.deviceId, `back online: ${describeEvent(ref)}`, { cause: 'back_online' }), () => dedupKey(c, dev, ''));
}
