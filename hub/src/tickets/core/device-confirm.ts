import type { Ticket } from '@shaobing/schemas';
import { toMs, type EpochMs, type TicketAction } from './types.ts';

/**
 * No fake closures (未诉先办 audits): a manual resolve of a device-verifiable ticket waits for
 * its device. Past `confirmBy` without the device's all-clear, the condition held: reopen
 * (再派件) with the device's latest reading in the audit note. `readingOf` gives that reading
 * as text (the shell reads it from the store); pure otherwise.
 */
export function unconfirmedResolutions(
  tickets: readonly Ticket[], now: EpochMs, readingOf: (t: Ticket) => string | undefined,
): Array<{ ticketId: string; action: TicketAction }> {
  const out: Array<{ ticketId: string; action: TicketAction }> = [];
  for (const t of tickets) {
    const r = t.resolution;
    if (t.status !== 'resolved' || r?.awaitingDevice !== true || r.confirmBy === undefined || toMs(r.confirmBy) > now) continue;
    const reading = readingOf(t);
    const note = `device did not confirm the resolution by ${r.confirmBy}${reading ? `; it still reports ${reading}` : ''}: reopened (再派件)`;
    out.push({ ticketId: t.id, action: { kind: 'reopen', note, version: t.version, reason: { code: 'device_not_confirmed', params: { confirmBy: r.confirmBy, ...(reading ? { reading } : {}) } } } });
  }
  return out;
}
