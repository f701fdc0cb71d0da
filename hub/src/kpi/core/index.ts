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
 *   computeStreetKpis(tickets, period, now, sites) → { report, drill(dimension, id, figure) }
 *     every street figure per site / 社区 / 楼院 / worker / category / 物业公司, with ticket ids.
 *
 * Definitions (decided in definitions.ts, one ticket at a time):
 *   响应率 = a person's accept / arrival / operator resolution by respondBy ÷ tickets due for a
 *            person, judged in the period the outcome became known; a device's own recovery
 *            before the deadline is 自动核销 (counted apart, never a response); dismissed never count.
 *   满意率 = (satisfied + basically_satisfied) / rated, cohort, latest rating.
 *   双是率 = 双是 / followed up; 见面率 = arrived / resolved by people; 剔除率 = dismissed / cohort.
 *   万人诉求率 = complaints / residents × 10,000 (population from the site file's grid).
 *   proactive share = proactive / (proactive + complaint), cohort − dismissed.
 *   mean/median response = over tickets a person responded to; resolution = over tickets
 *            resolved with a person involved; both over the current SLA cycle.
 *   解决率 = resolutions proven by the device or a photo / (cohort − dismissed); unverified
 *            ones (incl. a manual resolve awaiting its device) are counted apart.
 *   rates are null (not 0) when their denominator is 0.
 */
export { computeKpis, rank, snapshotOf, type KpiOptions, type SnapshotAccs } from './snapshot.ts';
export { add, newAcc, rate, median, figuresOf, type Acc, type Period } from './accumulate.ts';
export {
  personResponseAt, isAutoResolved, responseOutcome, followUpOutcome, timeToRespondMs, timeToResolveMs, isOverdue, verificationOf, judge, isKpiCase, type KpiTicket, type ResponseOutcome, type Verdict,
} from './definitions.ts';
export { computeStreetKpis, rankGroups, StreetGroups, type KpiSite, type StreetResult } from './street.ts';
export { toCsv, csvCell, rankingCsvRows, seasonalCsvRows, WARNING_BASIS_ZH, type CsvCell } from './csv.ts';
