import type { Schedule } from '@shaobing/schemas';

export const DEFAULT_TZ = 'Asia/Shanghai';

export interface CompiledSchedule {
  /** days[1..7] (ISO weekday) → active; index 0 unused. */
  days: boolean[];
  fromMin: number;
  toMin: number;
  tz: string;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    // en-US + h23 gives stable part values ("Mon", "00".."23") whatever the process locale.
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws RangeError for an unknown IANA zone (compileRules turns that into a rule error). */
export function assertTimeZone(tz: string): void {
  formatter(tz);
}

function hm(s: string): number {
  return Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
}

export function compileSchedule(s: Schedule): CompiledSchedule {
  const days = new Array<boolean>(8).fill(s.days === undefined);
  for (const d of s.days ?? []) days[d] = true;
  const tz = s.tz ?? DEFAULT_TZ;
  assertTimeZone(tz);
  return { days, fromMin: hm(s.from), toMin: hm(s.to), tz };
}

/** Wall-clock weekday (1 = Monday) and minute of day of an instant in a zone; no I/O. */
export function localTime(epochMs: number, tz: string): { weekday: number; minute: number } {
  let weekday = 1;
  let hour = 0;
  let minute = 0;
  for (const p of formatter(tz).formatToParts(epochMs)) {
    if (p.type === 'weekday') weekday = WEEKDAY[p.value] ?? 1;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

/**
 * Is the instant inside the active hours? A window crossing midnight belongs to the day it
 * started: with days=[5] (Friday), 22:00–06:00 covers Fri 22:00 → Sat 06:00.
 */
export function scheduleActive(s: CompiledSchedule, epochMs: number): boolean {
  const { weekday, minute } = localTime(epochMs, s.tz);
  if (s.fromMin === s.toMin) return s.days[weekday] === true;
  if (s.fromMin < s.toMin) return s.days[weekday] === true && minute >= s.fromMin && minute < s.toMin;
  if (minute >= s.fromMin) return s.days[weekday] === true;
  if (minute < s.toMin) return s.days[weekday === 1 ? 7 : weekday - 1] === true;
  return false;
}
