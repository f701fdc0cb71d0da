import type { KpiRankingRow, Rate, SeasonalWarning } from '@shaobing/schemas';
import { CATEGORY_LABEL } from '../../tickets/core/complaint.ts';

export type CsvCell = string | number | boolean | null | undefined;

/**
 * Spreadsheets execute text starting with these as formulas (CSV injection, OWASP): a ticket
 * title or complaint text is resident input, so such cells get a leading apostrophe. Numbers
 * we produce are data, never formulas, and stay as they are (-3 remains -3).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let s = String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  // RFC 4180: quote when the cell holds a quote, comma or line break; double inner quotes.
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 text: CRLF line ends, quoting as needed. Prepend '\uFEFF' if Excel must detect UTF-8. */
export function toCsv(rows: ReadonlyArray<ReadonlyArray<CsvCell>>): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + (rows.length > 0 ? '\r\n' : '');
}

const pct = (r: Rate): CsvCell => (r.value === null ? '' : Math.round(r.value * 10000) / 100);

/**
 * A ranking (grid workers or communities) as CSV rows, header first; rates in percent, then the
 * resolutions by proof (device / photo / unverified; blank for reports stored before them).
 * They come last so a reader of the older columns by position still reads them right.
 * `nameOf` gives the display name (worker, community); the id stays beside it for tracing.
 * `site` (the site's name) leads each row, so several sites fit in one file.
 */
export function rankingCsvRows(rows: readonly KpiRankingRow[], nameOf: (id: string) => string = (id) => id, site?: string, header = true): CsvCell[][] {
  return [
    ...(header ? [['site', 'rank', 'name', 'id', 'tickets', 'response_rate_pct', 'resolution_rate_pct', 'satisfaction_rate_pct', 'overdue', 'resolved_device', 'resolved_photo', 'resolved_unverified']] : []),
    ...rows.map((r) => [site ?? '', r.rank, nameOf(r.id), r.id, r.tickets, pct(r.responseRate), pct(r.resolutionRate), pct(r.satisfactionRate), r.overdue, r.resolvedDevice, r.resolvedPhoto, r.resolvedUnverified]),
  ];
}

/** What a seasonal warning's basis reads as in a report. */
export const WARNING_BASIS_ZH: Record<SeasonalWarning['basis'], string> = { same_weeks_earlier_year: '往年同期', recent_trend: '近期趋势' };

/**
 * The seasonal warnings section of a report CSV (季节性预警, after the ranking and a blank
 * line): its header always, so the section is there even when nothing warns; one row per
 * warning with the site's name, the category, the place, the basis, ×ratio and the reason.
 */
export function seasonalCsvRows(warnings: ReadonlyArray<{ site: string; warning: SeasonalWarning }>): CsvCell[][] {
  return [
    [],
    ['site', 'seasonal_warning_category', 'place', 'basis', 'ratio', 'tickets', 'reason'],
    ...warnings.map(({ site, warning: w }) => [site, CATEGORY_LABEL[w.category]['zh-CN'], w.placeName, WARNING_BASIS_ZH[w.basis], Math.round(w.ratio * 10) / 10, w.count, w.reason['zh-CN']]),
  ];
}
