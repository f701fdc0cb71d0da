import type { Period } from './core/index.ts';

/** Report kinds (DESIGN §7): 日监控排名, 周调度分析, 月总结通报. */
export const REPORT_KINDS = ['daily', 'weekly', 'monthly'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

interface LocalDate { y: number; m: number; d: number }

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** Wall-clock fields of an instant in `tz`. */
function wall(ms: number, tz: string): LocalDate & { h: number; min: number; s: number } {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year!, m: p.month!, d: p.day!, h: p.hour!, min: p.minute!, s: p.second! };
}

/** Offset of `tz` from UTC at an instant, in ms (Asia/Shanghai: +8 h). */
function offsetAt(ms: number, tz: string): number {
  const w = wall(ms, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(ms / 1000) * 1000;
}

/** 00:00 of a local date in `tz` as epoch ms (correct across DST changes: re-checked once). */
export function localMidnight(date: LocalDate, tz: string): number {
  const guess = Date.UTC(date.y, date.m - 1, date.d);
  let at = guess - offsetAt(guess, tz);
  const again = guess - offsetAt(at, tz);
  if (again !== at) at = again;
  return at;
}

/** The local calendar date of an instant in `tz`. */
export function localDate(ms: number, tz: string): LocalDate {
  const w = wall(ms, tz);
  return { y: w.y, m: w.m, d: w.d };
}

/** Calendar arithmetic on local dates (via UTC, which has no DST). */
function addDays(date: LocalDate, days: number): LocalDate {
  const u = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: u.getUTCFullYear(), m: u.getUTCMonth() + 1, d: u.getUTCDate() };
}

/**
 * The report period containing `ms`, as [from, to) epoch ms at local midnights in `tz`:
 * a calendar day, an ISO week (Monday first, as Chinese offices count), a calendar month.
 */
export function periodOf(kind: ReportKind, ms: number, tz: string): Period {
  const today = localDate(ms, tz);
  let start: LocalDate;
  let end: LocalDate;
  if (kind === 'daily') {
    start = today;
    end = addDays(today, 1);
  } else if (kind === 'weekly') {
    const weekday = new Date(Date.UTC(today.y, today.m - 1, today.d)).getUTCDay(); // 0 = Sunday
    start = addDays(today, -((weekday + 6) % 7));
    end = addDays(start, 7);
  } else {
    start = { y: today.y, m: today.m, d: 1 };
    end = today.m === 12 ? { y: today.y + 1, m: 1, d: 1 } : { y: today.y, m: today.m + 1, d: 1 };
  }
  return { from: localMidnight(start, tz), to: localMidnight(end, tz) };
}

/** The last complete period before the one containing `now` (what a report job reports on). */
export function previousPeriod(kind: ReportKind, now: number, tz: string): Period {
  return periodOf(kind, periodOf(kind, now, tz).from - 1, tz);
}

/** `2026-03-02` (local date in tz) of an instant: file names and the CSV `period` parameter. */
export function localDateLabel(ms: number, tz: string): string {
  const d = localDate(ms, tz);
  return `${d.y}-${String(d.m).padStart(2, '0')}-${String(d.d).padStart(2, '0')}`;
}

/** Parses `YYYY-MM-DD` or `YYYY-MM` as a local date (the 1st for a month); null when malformed. */
export function parseLocalDate(s: string): LocalDate | null {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(s);
  if (!m) return null;
  const date = { y: Number(m[1]), m: Number(m[2]), d: m[3] === undefined ? 1 : Number(m[3]) };
  const check = new Date(Date.UTC(date.y, date.m - 1, date.d));
  return check.getUTCMonth() === date.m - 1 && check.getUTCDate() === date.d ? date : null;
}
