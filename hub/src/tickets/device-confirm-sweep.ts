import type { Ticket } from '@shaobing/schemas';
import { applyAction, unconfirmedResolutions, type Actor } from './core/index.ts';
import type { TicketContext } from './context.ts';
import { commitWrites, writeOf, type TicketWrite } from './ticket-writer.ts';

export const DEVICE_CONFIRM_ACTOR: Actor = { id: 'system:device-confirm', role: 'system' };

/** The device's latest readings as text for the audit (`fillPct=92`), read once per ticket. */
async function latestReadings(ctx: TicketContext, t: Ticket): Promise<string | undefined> {
  if (t.deviceId === undefined) return undefined;
  const rows = await ctx.db.query<{ metric: string; port: number; value: number }>(
    `SELECT DISTINCT ON (metric, port) metric, port, value FROM readings
      WHERE site_id = $1 AND device_id = $2
      ORDER BY metric, port, ts DESC LIMIT 8`, [t.siteId, t.deviceId]);
  if (rows.length === 0) return undefined;
  return rows.map((r) => `${r.metric}${r.port ? `[${r.port}]` : ''}=${Number(r.value)}`).join(', ');
}

/**
 * Reopens (再派件) manual resolves whose device did not confirm them by `confirmBy`
 * (tickets/core unconfirmedResolutions), with the device's latest reading in the audit note.
 * Runs with the SLA sweep. Optimistic like it: a ticket that changed meanwhile is left for the
 * next pass. Returns how many tickets were reopened.
 */
export async function sweepUnconfirmed(ctx: TicketContext, now: number): Promise<number> {
  const waiting = (await ctx.db.query<{ doc: Ticket }>(
    `SELECT doc FROM tickets WHERE status = 'resolved' AND (doc->'resolution'->>'awaitingDevice') = 'true'
        AND (doc->'resolution'->>'confirmBy')::timestamptz <= $1::timestamptz`, [new Date(now).toISOString()])).map((r) => r.doc);
  if (waiting.length === 0) return 0;
  const readings = new Map<string, string | undefined>();
  for (const t of waiting) readings.set(t.id, await latestReadings(ctx, t));
  const writes: TicketWrite[] = [];
  for (const { ticketId, action } of unconfirmedResolutions(waiting, now, (t) => readings.get(t.id))) {
    const t = waiting.find((x) => x.id === ticketId)!;
    const r = applyAction(t, action, DEVICE_CONFIRM_ACTOR, now, ctx.policy);
    if (!r.ok || !r.changed) continue;
    writes.push(writeOf(t, r, 'reopen'));
  }
  const landed = await commitWrites(ctx.db, ctx.bus, writes, 'partial', ctx.outbox);
  for (const w of landed ?? []) ctx.log.info({ ticketId: w.ticket.id, note: w.audit[0]?.note }, 'manual resolve not confirmed by the device: reopened');
  return landed?.length ?? 0;
}
