/**
 * KPI core (三率, DESIGN §7): pure maths over arrays of tickets, no I/O, no clock.
 *
 * For the shell (node-cron reports, REST, dashboard header):
 *   computeKpis(tickets, { from, to }, now, { siteId?, index?, hotspots? }) → KpiSnapshot
 *     - period is [from, to) in epoch ms; the report job picks day/week/month bounds in TZ_REPORTS.
 *     - pass tickets opened in [from − longest respond window, to) plus all live tickets of the
 *       site (open/overdue are "now" figures over whatever is passed).
 *     - `index` (tickets/core buildGridIndex) enables the community ranking.
 *   rank(rows) → KpiRankingRow[]      competition ranking used for workers and communities
 *   toCsv(rows) / rankingCsvRows(r)   RFC 4180 export, formula-injection safe
 *
 * Definitions (decided here, documented in accumulate.ts):
 *   响应率 = responded by respondBy / due, where a ticket is "due" in the period in which its
 *            outcome became known (its response if in time, else its respondBy once passed);
 *            a response is acceptance or an earlier resolution; dismissed never count.
 *   解决率 = resolved or closed / cohort − dismissed (cohort = opened in the period).
 *   满意率 = (satisfied + basically_satisfied) / rated, cohort, latest rating.
 *   proactive share = proactive / (proactive + complaint), cohort − dismissed.
 *   complaints pre-empted = cohort complaints with `preempted`.
 *   mean times = over the current SLA cycle (slaStartedAt → response / resolution).
 *   rates are null (not 0) when their denominator is 0.
 */
export { computeKpis, rank, type KpiOptions } from './snapshot.ts';
export { rate, responseAt, type Period } from './accumulate.ts';
export { toCsv, csvCell, rankingCsvRows, type CsvCell } from './csv.ts';
