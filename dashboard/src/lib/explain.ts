import type { AuditEntry, Evidence } from './contract.ts';
import { hasKey, type MessageKey } from '../i18n/index.ts';
import type { Translate } from './format.ts';

/*
 * Evidence lines and audit reasons from the hub's structured data (Evidence.detail,
 * AuditEntry.reason) in the reader's language: "开门后 20 秒内无关门", "2 分钟内 5 次",
 * "回访评价：不满意 · …". The English `summary`/`note` is the fallback for rows from before
 * the data existed.
 */

type Detail = NonNullable<Evidence['detail']>;
type FieldValue = string | number | boolean;

/** Identifiers that mean nothing to a reader (the ticket shows the device and time already). */
const HIDDEN_FIELDS = new Set(['sessionId', 'trackId', 'subjectRef', 'snapshotUrl', 'message']);
/** Fields whose value is itself a code with its own catalogue prefix. */
const CODE_FIELDS: Record<string, string> = { kind: 'alertKind', credential: 'credential', method: 'credential', reason: 'deniedReason' };

/** A duration as words: "2 分钟", "1 小时 30 分钟", "20 秒". */
export function durationWords(ms: number, t: Translate): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400), h = Math.floor((s % 86_400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const parts: string[] = [];
  if (d) parts.push(t('dur.days', { n: d }));
  if (h) parts.push(t('dur.hours', { n: h }));
  if (m) parts.push(t('dur.minutes', { n: m }));
  if (sec || parts.length === 0) parts.push(t('dur.seconds', { n: sec }));
  return parts.slice(0, 2).join(t('dur.join'));
}

const tryKey = (key: string, t: Translate, fallback: string): string => (hasKey(key) ? t(key as MessageKey) : fallback);

export function eventTypeLabel(type: string, t: Translate): string {
  return tryKey(`eventType.${type}`, t, type);
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1);
}

/** One field of an event: "置信度 0.93", "人脸", "电量 80%"; null for identifiers. */
export function fieldText(key: string, v: FieldValue, t: Translate, unit?: string): string | null {
  if (HIDDEN_FIELDS.has(key)) return null;
  const code = CODE_FIELDS[key];
  if (code !== undefined && typeof v === 'string') return tryKey(`${code}.${v}`, t, v);
  const name = tryKey(`field.${key}`, t, key);
  if (typeof v === 'boolean') return `${name} ${v ? t('value.yes') : t('value.no')}`;
  if (typeof v === 'number') {
    if (key === 'durationS') return `${name} ${durationWords(v * 1000, t)}`;
    return `${name} ${round(v)}${unit ?? ''}`;
  }
  if (v.length > 40 || /^https?:/.test(v)) return null;
  return `${name} ${v}`;
}

export function fieldsText(fields: Detail['fields'], t: Translate, unitOf?: (key: string) => string | undefined): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields ?? {})) {
    const s = fieldText(k, v, t, unitOf?.(k));
    if (s !== null) out.push(s);
  }
  return out.join(t('list.sep'));
}

/** The evidence line in the reader's language; the stored English summary when no detail exists. */
export function evidenceText(ev: Evidence, t: Translate, formatTime: (iso: string) => string): string {
  const d = ev.detail;
  if (!d) return ev.summary;
  const what = [eventTypeLabel(ev.type, t), fieldsText(d.fields, t)].filter((s) => s !== '').join(' · ');
  const dur = d.forMs !== undefined ? durationWords(d.forMs, t) : '';
  const types = (d.types ?? []).map((x) => eventTypeLabel(x, t)).join(t('list.or'));
  const last = d.lastAt !== undefined ? formatTime(d.lastAt) : '—';
  switch (d.cause) {
    case 'event': return what;
    case 'held': return t('evidence.held', { what, dur });
    case 'count': return t('evidence.count', { what, window: durationWords(d.windowMs ?? 0, t), n: d.count ?? 0 });
    case 'no_stop': return t('evidence.noStop', { what, dur, types });
    case 'offline': return t('evidence.offline', { dur, last });
    case 'absence': return t('evidence.absence', { dur, types, last });
    case 'quiet': return t('evidence.quiet', { dur });
    case 'back_online': return t('evidence.backOnline', { what });
  }
}

/** "fill_pct=92, power_w[2]=0" (the confirmation sweep's reading list) with the metrics named. */
function readingText(s: string, t: Translate): string {
  return s.split(', ').map((part) => {
    const m = /^(\w+)(\[\d+\])?=(.+)$/.exec(part);
    if (!m) return part;
    const port = m[2] ? ` ${t('detail.port')} ${m[2].slice(1, -1)}` : '';
    return `${tryKey(`metric.${m[1]}`, t, m[1]!)}${port} ${m[3]}`;
  }).join(t('list.sep'));
}

/** A confidence as a whole percentage ("72 %"); '—' when absent. */
export const pct = (x: unknown): string => (typeof x === 'number' ? `${Math.round(x * 100)}%` : '—');

/** An audit row's note in the reader's language: the reason as data, then the operator's words. */
export function auditNote(a: Pick<AuditEntry, 'note' | 'reason'>, t: Translate, formatTime: (iso: string) => string): string | null {
  const r = a.reason;
  if (!r) return a.note ?? null;
  const p = r.params ?? {};
  const str = (k: string): string => String(p[k] ?? '');
  let line: string;
  switch (r.code) {
    case 'rated': line = t('reason.rated', { rating: tryKey(`rating.${str('rating')}`, t, str('rating')) }); break;
    case 'dismiss_requested': line = t('reason.dismissRequested', { reason: tryKey(`dismissReason.${str('reason')}`, t, str('reason')) }); break;
    case 'dismiss_approved': line = t('reason.dismissApproved', { reason: tryKey(`dismissReason.${str('reason')}`, t, str('reason')) }); break;
    case 'sla_warning': line = t('reason.slaWarning', { deadline: tryKey(`deadline.${str('deadline')}`, t, str('deadline')), percent: str('percent') }); break;
    case 'linked': line = t('reason.linked', { id: str('ticketId') }); break;
    case 'escalated': line = t('reason.escalated', { level: tryKey(`escalation.${str('level')}`, t, str('level')) }); break;
    case 'device_not_confirmed':
      line = t('reason.deviceNotConfirmed', { at: p.confirmBy !== undefined ? formatTime(str('confirmBy')) : '—' });
      if (p.reading !== undefined) line += t('reason.stillReports', { reading: readingText(str('reading'), t) });
      break;
    case 'arrived': line = t('reason.arrived'); break;
    case 'awaiting_device': line = t('reason.awaitingDevice'); break;
    case 'device_confirmed': line = t('reason.deviceConfirmed'); break;
    case 'resolved_by_device': line = t('reason.resolvedByDevice'); break;
    case 'recurred': line = t('reason.recurred'); break;
    case 'second_handling': line = t('reason.secondHandling'); break;
    case 'review_confirmed': line = t('reason.reviewConfirmed', { confidence: pct(p.confidence), below: pct(p.below) }); break;
    case 'review_rejected': line = t('reason.reviewRejected', { confidence: pct(p.confidence), below: pct(p.below) }); break;
  }
  return r.text ? `${line} · ${r.text}` : line;
}

/** Who did it: a person's username as is; the hub's own steps named (the rule id is a code). */
export function actorText(actor: string, t: Translate): string {
  if (!actor.startsWith('system')) return actor;
  const part = actor.slice(7);
  return `${t('detail.system')}（${tryKey(`actor.${part}`, t, t('actor.rule'))}）`;
}
