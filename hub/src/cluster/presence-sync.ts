import type { Family } from '@shaobing/schemas';
import type { Presence } from '../devices/presence.ts';
import type { Queryable } from '../store/db.ts';

/**
 * Offline verdicts of other hubs: the devices of sites this hub does not own that their owner
 * has marked offline in device_state. Only offline rows are read — online comes from the event
 * tail, which every hub sees — so one poll costs the size of the silent fleet, not the fleet.
 */
export async function learnOwnersOffline(db: Queryable, presence: Presence, notOwned: readonly string[]): Promise<number> {
  if (notOwned.length === 0) return 0;
  const rows = await db.query<{ site_id: string; device_id: string; family: Family; last_seen: Date | null; status: Record<string, unknown> | null; status_at: Date | null }>(
    'SELECT site_id, device_id, family, last_seen, status, status_at FROM device_state WHERE NOT online AND site_id = ANY($1::text[])', [notOwned]);
  return presence.learnOffline(rows.map((r) => ({
    siteId: r.site_id, deviceId: r.device_id, family: r.family, online: false, lastSeen: r.last_seen?.getTime() ?? null,
    status: r.status, statusAt: r.status_at?.getTime() ?? null,
  })));
}
