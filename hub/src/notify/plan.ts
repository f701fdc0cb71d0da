import type { NotifyChannel, Severity, Ticket, TicketChange } from '@shaobing/schemas';
import type { NotifyPayload, OutboxRow } from './outbox-repo.ts';

/**
 * Who gets told what (DESIGN §6), pure: a ticket change → outbox rows. The assigned worker
 * hears of every step of their ticket; the community's group joins at escalation level 1
 * (社区) and for critical tickets, the street's group at level 2 (街道, 吹哨报到); the global
 * channels (NOTIFY_WEBHOOK_URL) get everything. Quiet hours hold everything but critical.
 */
export const NOTIFY_EVENTS = ['dispatched', 'sla_warning', 'overdue', 'escalated', 'reopened', 'critical_opened', 'offered', 'taken'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export interface NotifyDirectory {
  workerChannels(siteId: string, workerId: string): readonly NotifyChannel[];
  /** Group channels of the ticket's community (level 'community') or street. */
  groupOf(siteId: string, cellId: string, level: 'community' | 'street'): { cellId: string; channels: readonly NotifyChannel[] } | undefined;
  global: readonly NotifyChannel[];
  quietHours(siteId: string): { from: string; to: string } | undefined;
  timezone(siteId: string): string;
  /** Base URL of the hub for the phone-page link; undefined = no link. */
  publicUrl?: string;
}

/** Non-critical rows wait this long so a burst of similar ones goes out as one message. */
export const GROUP_WINDOW_MS = 2000;

const LABEL: Record<NotifyEvent, string> = {
  dispatched: '派单', sla_warning: '催办', overdue: '超时升级', escalated: '升级求助', reopened: '再派件', critical_opened: '紧急工单', offered: '抢单', taken: '已被抢',
};

/** The notification a change means, if any. */
export function eventOf(c: TicketChange, action: string): NotifyEvent | null {
  // 人工核准: nobody hears of an alert under review; its confirmation is its opening.
  if (c.ticket.status === 'pending_review') return null;
  if (action === 'confirm_review' && c.kind === 'status') return opening(c.ticket);
  if (c.kind === 'opened') return c.ticket.severity === 'critical' ? 'critical_opened' : offered(c.ticket).length > 0 ? 'offered' : null;
  if (c.kind === 'sla_warning') return 'sla_warning';
  if (c.kind === 'escalated') return c.actor.startsWith('system:') ? 'overdue' : 'escalated';
  if (c.kind === 'status' && c.ticket.status === 'reopened') return 'reopened';
  if (c.kind === 'status' && action === 'dispatch') return 'dispatched';
  // 抢单: the first accept of an offered ticket; the others are told it is gone.
  if (c.kind === 'status' && action === 'accept' && offered(c.ticket).length > 0 && c.from !== 'accepted') return 'taken';
  return null;
}

const offered = (t: Ticket): readonly string[] => t.offeredTo ?? [];

/** A confirmed review: critical as opened, else dispatched to its worker, else offered (抢单). */
function opening(t: Ticket): NotifyEvent | null {
  if (t.severity === 'critical') return 'critical_opened';
  if (t.status === 'dispatched') return 'dispatched';
  return offered(t).length > 0 ? 'offered' : null;
}

/** Minutes from `now` until quiet hours end, or 0 when not in them (windows may wrap midnight). */
export function quietMinutesLeft(now: number, tz: string, q: { from: string; to: string } | undefined): number {
  if (q === undefined) return 0;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now));
  const hh = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const mm = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  const cur = hh * 60 + mm;
  const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
  const from = toMin(q.from);
  const to = toMin(q.to);
  const inside = from <= to ? cur >= from && cur < to : cur >= from || cur < to;
  return inside ? (to - cur + 1440) % 1440 : 0;
}

function payloadOf(t: Ticket, event: NotifyEvent, at: string, dir: NotifyDirectory, note: string | undefined): NotifyPayload {
  const title = t.title['zh-CN'];
  const text = `【${LABEL[event]}】${title} · ${t.locationLabel} · 工单 ${t.id} · 处理时限 ${t.resolveBy}${note ? ` · ${note}` : ''}`;
  return {
    event, siteId: t.siteId, ticketId: t.id, severity: t.severity, title, text, at,
    ...(dir.publicUrl ? { url: `${dir.publicUrl.replace(/\/$/, '')}/m/#/t/${encodeURIComponent(t.id)}` } : {}),
  };
}

export function planNotifications(c: TicketChange, action: string, dir: NotifyDirectory, now: number): OutboxRow[] {
  const event = eventOf(c, action);
  if (event === null) return [];
  const t = c.ticket;
  const severity: Severity = t.severity;
  const quiet = severity === 'critical' ? 0 : quietMinutesLeft(now, dir.timezone(t.siteId), dir.quietHours(t.siteId));
  const dueAt = new Date(now + (severity === 'critical' ? 0 : Math.max(GROUP_WINDOW_MS, quiet * 60_000))).toISOString();
  const createdAt = new Date(now).toISOString();
  const payload = payloadOf(t, event, c.at, dir, c.note);
  const rows: OutboxRow[] = [];
  const add = (recipient: string, channels: readonly NotifyChannel[]) => {
    for (const channel of channels) rows.push({ ticketId: t.id, siteId: t.siteId, event, severity, recipient, channel, payload, dueAt, createdAt });
  };
  if (t.assigneeId !== undefined && event !== 'taken') add(t.assigneeId, dir.workerChannels(t.siteId, t.assigneeId));
  // 抢单: an offer goes to every worker offered it (a critical one too); "taken" to the others.
  if (event === 'offered' || event === 'critical_opened') for (const w of offered(t)) add(w, dir.workerChannels(t.siteId, w));
  if (event === 'taken') for (const w of offered(t).filter((id) => id !== t.assigneeId)) add(w, dir.workerChannels(t.siteId, w));
  const level = t.escalationLevel;
  const wantsCommunity = ((event === 'overdue' || event === 'escalated') && level >= 1) || event === 'critical_opened';
  const wantsStreet = (event === 'overdue' || event === 'escalated') && level >= 2;
  if (wantsCommunity) { const g = dir.groupOf(t.siteId, t.cellId, 'community'); if (g) add(g.cellId, g.channels); }
  if (wantsStreet) { const g = dir.groupOf(t.siteId, t.cellId, 'street'); if (g) add(g.cellId, g.channels); }
  add('all', dir.global);
  return rows;
}
