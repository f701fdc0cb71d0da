import { VERIFICATIONS, type Verification } from '@shaobing/schemas';
import type { Queryable } from '../store/db.ts';

/** What the KPI definitions need beside the ticket columns (kpi/core/definitions.ts KpiTicket). */
export interface KpiFacts {
  resolvedBy: 'device' | 'operator' | null;
  /** The resolution's proof as recorded (kpi/core verificationOf decides what it counts as). */
  verification: Verification | null;
  awaitingDevice: boolean;
  photos: number;
  /** 到场 in the current SLA cycle: the ticket's own field when it has one, else the first 'arrive' audit row. */
  arrivedAt: string | null;
  /** Latest follow-up (回访). */
  followUp: { solved: boolean; satisfied: boolean } | null;
}

const ISO = (expr: string): string => `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The facts of the given tickets that have any (never-touched open tickets have none and are
 * skipped by the database). One round trip; the audit and follow-up look-ups use their indexes.
 */
export async function kpiFacts(q: Queryable, ids: readonly string[]): Promise<Map<string, KpiFacts>> {
  const out = new Map<string, KpiFacts>();
  if (ids.length === 0) return out;
  const rows = await q.query<{ id: string; resolved_by: string | null; verification: string | null; awaiting: boolean | null; photos: number | null; arrived_at: string | null; solved: boolean | null; satisfied: boolean | null }>(
    `SELECT t.id, t.doc->'resolution'->>'by' AS resolved_by, t.doc->'resolution'->>'verification' AS verification,
            (t.doc->'resolution'->>'awaitingDevice')::boolean AS awaiting,
            COALESCE(jsonb_array_length(t.doc->'resolution'->'photos'), 0)::int
              + CASE WHEN t.doc->'resolution' ? 'photoUrl' THEN 1 ELSE 0 END AS photos,
            COALESCE(t.doc->>'arrivedAt',
              (SELECT ${ISO('min(a.at)')} FROM ticket_audit a WHERE a.ticket_id = t.id AND a.action = 'arrive' AND a.at >= t.sla_started_at)) AS arrived_at,
            f.solved, f.satisfied
       FROM tickets t
       LEFT JOIN LATERAL (SELECT solved, satisfied FROM follow_ups WHERE ticket_id = t.id ORDER BY id DESC LIMIT 1) f ON true
      WHERE t.id = ANY($1::text[]) AND t.status <> 'open'`,
    [ids]);
  for (const r of rows) {
    out.set(r.id, {
      resolvedBy: r.resolved_by === 'device' || r.resolved_by === 'operator' ? r.resolved_by : null,
      verification: VERIFICATIONS.find((v) => v === r.verification) ?? null,
      awaitingDevice: r.awaiting === true,
      photos: r.photos ?? 0,
      arrivedAt: r.arrived_at,
      followUp: r.solved === null || r.satisfied === null ? null : { solved: r.solved, satisfied: r.satisfied },
    });
  }
  return out;
}
