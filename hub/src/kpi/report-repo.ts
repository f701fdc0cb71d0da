import type { KpiSnapshot } from '@shaobing/schemas';
import type { Queryable } from '../store/db.ts';
import type { ReportKind } from './periods.ts';

/** A stored report (table `reports`, migrations/010_tickets.sql). */
export interface StoredReport {
  kind: ReportKind;
  siteId: string;
  periodStart: string;
  periodEnd: string;
  generatedAt: string;
  snapshot: KpiSnapshot;
}

interface Row extends Record<string, unknown> {
  kind: string; site_id: string; period_start: Date; period_end: Date; generated_at: Date; snapshot: KpiSnapshot;
}

const toReport = (r: Row): StoredReport => ({
  kind: r.kind as ReportKind, siteId: r.site_id, periodStart: r.period_start.toISOString(), periodEnd: r.period_end.toISOString(),
  generatedAt: r.generated_at.toISOString(), snapshot: r.snapshot,
});

/** Stores a report; a re-run for the same (kind, site, period) replaces the earlier one. */
export async function saveReport(q: Queryable, r: StoredReport): Promise<void> {
  await q.query(
    `INSERT INTO reports (kind, site_id, period_start, period_end, generated_at, snapshot)
     VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5::timestamptz, $6::jsonb)
     ON CONFLICT (kind, site_id, period_start) DO UPDATE
       SET period_end = EXCLUDED.period_end, generated_at = EXCLUDED.generated_at, snapshot = EXCLUDED.snapshot`,
    [r.kind, r.siteId, r.periodStart, r.periodEnd, r.generatedAt, JSON.stringify(r.snapshot)]);
}

export async function hasReport(q: Queryable, kind: ReportKind, siteId: string, periodStart: number): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM reports WHERE kind = $1 AND site_id = $2 AND period_start = $3::timestamptz', [kind, siteId, new Date(periodStart).toISOString()]);
  return rows.length > 0;
}

export async function getReport(q: Queryable, kind: ReportKind, siteId: string, periodStart: number): Promise<StoredReport | null> {
  const rows = await q.query<Row>(
    'SELECT * FROM reports WHERE kind = $1 AND site_id = $2 AND period_start = $3::timestamptz', [kind, siteId, new Date(periodStart).toISOString()]);
  return rows[0] ? toReport(rows[0]) : null;
}

/** Newest first. */
export async function listReports(q: Queryable, siteIds: readonly string[], kind: ReportKind | undefined, limit: number): Promise<StoredReport[]> {
  const rows = await q.query<Row>(
    `SELECT * FROM reports WHERE site_id = ANY($1::text[]) AND ($2::text IS NULL OR kind = $2)
     ORDER BY period_start DESC, kind, site_id LIMIT ${Math.max(1, Math.min(limit, 1000))}`,
    [siteIds, kind ?? null]);
  return rows.map(toReport);
}
