import { CATEGORY_TEAM } from '@shaobing/schemas';
import type { KpiTicket } from './core/index.ts';
import type { KpiFacts } from './kpi-facts-repo.ts';
import type { KpiRow } from './kpi-repo.ts';

const EMPTY = { 'zh-CN': '', en: '' };

/** The resolution's proof as kpi/core verificationOf reads it (photo ids stand in as placeholders). */
function resolutionOf(by: 'device' | 'operator', f: KpiFacts): NonNullable<KpiTicket['resolution']> {
  return {
    by, ...(f.verification !== null ? { verification: f.verification } : {}), ...(f.awaitingDevice ? { awaitingDevice: true } : {}),
    ...(f.photos > 0 ? { photos: Array.from({ length: f.photos }, (_, i) => `photo-${i}`) } : {}),
  };
}

/**
 * A ticket as the KPI core sees it, built from the columns (kpi-repo kpiRows) instead of
 * the jsonb document: every field kpi/core reads is real — state, origin, rating, pre-emption,
 * deadlines and timestamps, worker and cell. Text, evidence and the escalation ladder are
 * neutral placeholders: KPIs never look at them, and these objects never leave the KPI shell.
 * (kpi-shell.test.ts checks the snapshot against computeKpis over the full documents.)
 */
export function ticketForKpi(r: KpiRow, facts?: KpiFacts): KpiTicket {
  return {
    id: r.id, siteId: r.siteId, origin: r.origin, status: r.status, severity: r.severity, category: r.category, team: CATEGORY_TEAM[r.category],
    title: EMPTY, description: EMPTY, cellId: r.cellId, locationLabel: '', ...(r.assigneeId !== null ? { assigneeId: r.assigneeId } : {}),
    ladder: { grid: null, community: null, street: null }, escalationLevel: 0, escalatedAt: null, occurrences: 1, evidence: [],
    deviceVerifiable: false, openedAt: r.openedAt, slaStartedAt: r.slaStartedAt, dispatchedAt: null,
    acceptedAt: r.acceptedAt, resolvedAt: r.resolvedAt, closedAt: r.closedAt,
    respondBy: r.respondBy, resolveBy: r.resolveBy, warnedRespond: false, warnedResolve: false,
    ...(r.rating !== null ? { rating: r.rating } : {}), reopenCount: 0, linkedTicketIds: [], preempted: r.preempted, version: 1,
    // Who resolved it, the arrival and the follow-up decide 响应率, 自动核销, 见面率 and 双是率.
    ...(facts?.resolvedBy ? { resolution: resolutionOf(facts.resolvedBy, facts) } : {}),
    arrivedAt: facts?.arrivedAt ?? null,
    followUp: facts?.followUp ?? null,
  };
}
