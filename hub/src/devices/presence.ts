import type { DeviceState, Family } from '@shaobing/schemas';
import type { IngestedEvent } from '../events.ts';
import type { DeviceRecord } from '../site/registry.ts';
import { DeadlineHeap } from './deadline-heap.ts';

/**
 * Longest a scheduled check may lie ahead: limits come from the rules, which can be reloaded,
 * so every online device is looked at again at least this often (21k devices: ~350 a second,
 * not 21k).
 */
export const PRESENCE_RECHECK_MS = 60_000;

export interface PresenceChange { state: DeviceState; reason: 'message' | 'status' | 'timeout' }

/**
 * Last-seen and online/offline per device. Online when a message arrives; offline on a
 * `{online:false}` status (Last Will, retained) or after `offlineAfterMs` of silence (the
 * offline rules' forMs, so the online dot and the offline ticket agree). Keeps the latest
 * state in memory; `takeDirty()` hands changed rows to the store writer in coalesced batches.
 *
 * Silence is found from a deadline heap, not a scan of every device: each online device has
 * one entry, due when it would go silent (or at the next recheck). A message only moves
 * `lastSeen`; when the entry comes due the device's real deadline is looked at again and the
 * entry re-pushed if it has heard from the device since. A sweep costs the devices due, not
 * the devices known.
 */
export class Presence {
  private readonly states = new Map<string, DeviceState>();
  private readonly dirty = new Set<string>();
  private readonly deadlines = new DeadlineHeap<string>();
  /** Keys with an entry in `deadlines` (at most one each). */
  private readonly scheduled = new Set<string>();

  constructor(private readonly opts: {
    onChange?: (c: PresenceChange) => void;
    /** Silence before a device counts offline; undefined = never by silence alone. */
    offlineAfterMs: (siteId: string, family: Family) => number | undefined;
    /**
     * Scaling out: whether this hub owns the site (holds its lease). Only the owner marks a
     * site's devices offline by silence and persists their state; the others learn it from
     * the owner's device_state rows (`learnOffline`). Default: every site is this hub's.
     */
    owns?: (siteId: string) => boolean;
  }) {}

  private owned(siteId: string): boolean {
    return this.opts.owns?.(siteId) ?? true;
  }

  /** Seeds state from the store at start-up so last-seen survives a restart. */
  restore(rows: DeviceState[]): void {
    for (const r of rows) {
      const key = `${r.siteId}/${r.deviceId}`;
      const s = { ...r };
      this.states.set(key, s);
      // Looked at by the first sweep, whatever its clock (the rules that give the limits may
      // not be loaded yet).
      if (s.online && !this.scheduled.has(key)) {
        this.deadlines.push(-Infinity, key);
        this.scheduled.add(key);
      }
    }
  }

  seen(e: IngestedEvent): void {
    const key = `${e.siteId}/${e.deviceId}`;
    const prev = this.states.get(key);
    const s: DeviceState = prev ?? { siteId: e.siteId, deviceId: e.deviceId, family: e.family, lastSeen: null, online: false, status: null, statusAt: null };
    const wasOnline = s.online;
    s.lastSeen = Math.max(s.lastSeen ?? 0, e.receivedAt);
    let reason: PresenceChange['reason'] = 'message';
    if (e.channel === 'status') {
      s.status = e.data;
      s.statusAt = e.receivedAt;
      s.online = e.data.online !== false;
      reason = 'status';
    } else {
      s.online = true;
    }
    this.states.set(key, s);
    this.dirty.add(key);
    if (s.online && !this.scheduled.has(key)) this.schedule(key, s, s.lastSeen);
    if (s.online !== wasOnline || reason === 'status') this.opts.onChange?.({ state: { ...s }, reason });
  }

  /** Marks silent devices offline; call on a timer. Returns how many went offline. */
  sweep(now: number): number {
    let n = 0;
    while (this.deadlines.peek() <= now) {
      const key = this.deadlines.pop()!;
      this.scheduled.delete(key);
      const s = this.states.get(key);
      if (!s?.online) continue; // seen() schedules it again when it is back
      if (!this.owned(s.siteId)) {
        this.schedule(key, s, now); // another hub's verdict; looked at again should this hub take the site over
        continue;
      }
      const limit = this.opts.offlineAfterMs(s.siteId, s.family);
      if (limit !== undefined && s.lastSeen !== null && now - s.lastSeen > limit) {
        s.online = false;
        this.dirty.add(key);
        n++;
        this.opts.onChange?.({ state: { ...s }, reason: 'timeout' });
      } else {
        this.schedule(key, s, now);
      }
    }
    return n;
  }

  /** One heap entry for an online device: when it goes silent by today's limit, or the next recheck. */
  private schedule(key: string, s: DeviceState, now: number): void {
    const limit = this.opts.offlineAfterMs(s.siteId, s.family);
    const recheck = now + PRESENCE_RECHECK_MS;
    // Offline once now - lastSeen > limit: due one millisecond past lastSeen + limit.
    const due = limit === undefined || s.lastSeen === null ? recheck : Math.min(s.lastSeen + limit + 1, recheck);
    this.deadlines.push(Math.max(due, now + 1), key);
    this.scheduled.add(key);
  }

  /**
   * Offline verdicts of the owning hub (its device_state rows): a device this hub still
   * shows online goes offline when the owner's verdict covers the last message seen here.
   */
  learnOffline(rows: readonly DeviceState[]): number {
    let n = 0;
    for (const r of rows) {
      const s = this.states.get(`${r.siteId}/${r.deviceId}`);
      if (r.online || !s?.online || this.owned(r.siteId) || r.lastSeen === null || (s.lastSeen ?? 0) > r.lastSeen) continue;
      s.online = false;
      n++;
      this.opts.onChange?.({ state: { ...s }, reason: 'timeout' });
    }
    return n;
  }

  get(siteId: string, deviceId: string): DeviceState | undefined {
    return this.states.get(`${siteId}/${deviceId}`);
  }

  /** The view of a registered device, known or not yet heard from. */
  view(d: DeviceRecord): DeviceState {
    return this.states.get(`${d.siteId}/${d.deviceId}`) ?? { siteId: d.siteId, deviceId: d.deviceId, family: d.family, lastSeen: null, online: false, status: null, statusAt: null };
  }

  /** Takes the rows changed since the last call (for the coalesced store write). */
  takeDirty(): DeviceState[] {
    const out: DeviceState[] = [];
    for (const key of this.dirty) {
      const s = this.states.get(key);
      if (s && this.owned(s.siteId)) out.push({ ...s });
    }
    this.dirty.clear();
    return out;
  }
}
