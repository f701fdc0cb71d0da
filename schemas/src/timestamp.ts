/**
 * Strict ISO-8601 timestamps of the contract: `YYYY-MM-DD[T ]hh:mm[:ss[.fff]]` and a zone
 * (`Z`, `±hh:mm` or `±hhmm`). `Date.parse` rolls impossible values over (30 February becomes
 * 2 March, `T24:00` the next day) and takes any offset; a message's time must be what the
 * device meant or be refused, so this parser checks every field.
 */
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Largest UTC offset in use (Kiribati, +14:00; the lowest is −12:00 but ±14:00 is the ISO bound). */
const MAX_OFFSET_MIN = 14 * 60;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Ingest checks a message's ts twice (the schema's date-time format, then to read it): the
// second call is answered from the first.
let lastText: string | null = null;
let lastResult: number | null = null;

/** Epoch milliseconds of a strict ISO-8601 timestamp, or null if it is not one. */
export function parseIsoTimestamp(text: string): number | null {
  if (text === lastText) return lastResult;
  const result = parseStrict(text);
  lastText = text;
  lastResult = result;
  return result;
}

function parseStrict(text: string): number | null {
  const m = ISO_RE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
    if (Math.abs(offsetMin) > MAX_OFFSET_MIN) return null;
  }
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  // Date.UTC reads years 0–99 as 1900–1999; those take the long way.
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMin * 60_000;
}
