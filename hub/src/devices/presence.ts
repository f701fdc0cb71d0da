import type { Family } from '@shaobing/schemas';
import type { IngestedEvent } from '../events.ts';
import type { DeviceRecord } from '../site/registry.ts';

/** A device's presence (times in epoch ms); the store persists this shape (device_state). */
export interface DeviceState {
  siteId: string;
  deviceId: string;
  family: Family;
  lastSeen: number | null;
  online: boolean;
  status: Record<string, unknown> | null;
  statusAt: number | null;
}

export interface PresenceChange { state: DeviceState; reason: 'message' | 'status' | 'timeout' }

/**
 * Last-seen and online/offline per device. Online when a message arrives; offline on a
 * `{online:false}` status (Last Will, retained) or after `offlineAfterMs` of silence (the
 * offline rules' forMs, so the online dot and the offline ticket agree). Keeps the latest
 * state in memory; `takeDirty()` hands changed rows to the store writer in coalesced batches.
 */
export class Presence {
  private readonly states = new Map<string, DeviceState>();
  private readonly dirty = new Set<string>();

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
    for (const r of rows) this.states.set(`${r.siteId}/${r.deviceId}`, { ...r });
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
    if (s.online !== wasOnline || reason === 'status') this.opts.onChange?.({ state: { ...s }, reason });
  }

  /** Marks silent devices offline; call on a timer. Returns how many went offline. */
  sweep(now: number): number {
    let n = 0;
    for (const [key, s] of this.states) {
      if (!this.owned(s.siteId)) continue;
      const limit = this.opts.offlineAfterMs(s.siteId, s.family);
      if (limit !== undefined && s.online && s.lastSeen !== null && now - s.lastSeen > limit) {
        s.online = false;
        this.dirty.add(key);
        n++;
        this.opts.onChange?.({ state: { ...s }, reason: 'timeout' });
      }
    }
    return n;
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
