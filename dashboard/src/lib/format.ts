import type { Rate, StoredEvent, Ticket } from './contract.ts';
import { FAMILY_DEFINITIONS } from './contract.ts';
import { hasKey, translate, type Locale, type MessageKey, type Params } from '../i18n/index.ts';
import { fieldText } from './explain.ts';

export type Translate = (key: MessageKey, params?: Params) => string;

/** Which clock a ticket is on: response until someone accepts, then resolution. */
export type Deadline = { phase: 'respond' | 'resolve'; dueMs: number } | { phase: 'none' };

export function deadlineOf(t: Pick<Ticket, 'status' | 'respondBy' | 'resolveBy'>): Deadline {
  switch (t.status) {
    case 'open':
    case 'dispatched':
    case 'reopened':
      return { phase: 'respond', dueMs: Date.parse(t.respondBy) };
    case 'accepted':
      return { phase: 'resolve', dueMs: Date.parse(t.resolveBy) };
    default:
      return { phase: 'none' };
  }
}

export function isOverdue(t: Pick<Ticket, 'status' | 'respondBy' | 'resolveBy'>, nowMs: number): boolean {
  const d = deadlineOf(t);
  return d.phase !== 'none' && nowMs > d.dueMs;
}

/** A duration for a countdown: the two largest units, in the locale's words. */
export function formatDuration(ms: number, locale: Locale): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return translate(locale, 'time.days', { d, h });
  if (h > 0) return translate(locale, 'time.hours', { h, m });
  if (m > 0) return translate(locale, 'time.minutes', { m, s: String(sec).padStart(2, '0') });
  return translate(locale, 'time.seconds', { s: sec });
}

export interface TimeLeft { text: string; overdue: boolean; phase: 'respond' | 'resolve' | 'none'; ms: number }

export function timeLeft(t: Pick<Ticket, 'status' | 'respondBy' | 'resolveBy'>, nowMs: number, locale: Locale): TimeLeft {
  const d = deadlineOf(t);
  if (d.phase === 'none') return { text: translate(locale, 'time.done'), overdue: false, phase: 'none', ms: 0 };
  const ms = d.dueMs - nowMs;
  const dur = formatDuration(ms, locale);
  if (ms < 0) return { text: translate(locale, 'time.overdue', { d: dur }), overdue: true, phase: d.phase, ms };
  return { text: translate(locale, d.phase === 'respond' ? 'time.respond' : 'time.resolve', { d: dur }), overdue: false, phase: d.phase, ms };
}

// Building an Intl formatter costs far more than using one: keep one per locale and style.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: Locale, style: 'time' | 'dateTime'): Intl.DateTimeFormat {
  const key = `${locale}/${style}`;
  let f = formatters.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = style === 'time'
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
      : { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
    f = new Intl.DateTimeFormat(locale, opts);
    formatters.set(key, f);
  }
  return f;
}

/** Local wall-clock time of an instant (the browser's zone). */
export function formatTime(iso: string | number, locale: Locale): string {
  return formatter(locale, 'time').format(new Date(iso));
}

export function formatDateTime(iso: string | number, locale: Locale): string {
  return formatter(locale, 'dateTime').format(new Date(iso));
}

export function formatRate(r: Rate | undefined | null): string {
  if (!r || r.value === null) return '—';
  return `${(r.value * 100).toFixed(r.value === 1 ? 0 : 1)}%`;
}

const UNITS = new Map<string, string>(
  Object.values(FAMILY_DEFINITIONS).flatMap((f) => f.metrics.map((m) => [`${m.type}/${m.field}`, m.unit] as const)),
);

/** One line describing what a device said, for the ticker. */
export function eventSummary(e: Pick<StoredEvent, 'type' | 'data'>, t: Translate): string {
  const parts: string[] = [];
  const kind = e.data.kind;
  if (typeof kind === 'string' && hasKey(`alertKind.${kind}`)) parts.push(t(`alertKind.${kind}` as MessageKey));
  for (const [k, v] of Object.entries(e.data)) {
    if (k === 'kind' || parts.length >= 3) continue;
    const unit = typeof v === 'number' ? UNITS.get(`${e.type}/${k}`) : undefined;
    if (unit !== undefined) parts.push(`${round(v as number)}${unit}`);
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
      // Field names and coded values from the catalogue ("置信度 0.93", "人脸"), never the raw key.
      const s = fieldText(k, v, t);
      if (s !== null) parts.push(s);
    }
  }
  return parts.join(' · ');
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1);
}

/** A label from the catalogue for a value from data, or the raw value when there is none. */
export function labelOf(prefix: string, value: string, t: Translate): string {
  const key = `${prefix}.${value}`;
  return hasKey(key) ? t(key) : value;
}
