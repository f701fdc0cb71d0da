import { MAX_TICKET_EVIDENCE } from '@shaobing/schemas';
import type { AuditEntry, AuditReason, Evidence, Ticket, TicketChange } from '@shaobing/schemas';
import { precheck, roleMayTake } from './permissions.ts';
import { computeDeadlines, DEFAULT_SLA_POLICY, type SlaPolicy } from './sla.ts';
import { toIso, type Actor, type ApplyResult, type EpochMs, type TicketAction, type TicketError } from './types.ts';

type ChangeKind = TicketChange['kind'];
interface Change {
  next: Ticket;
  kind: ChangeKind;
  note?: string | undefined;
  /** The note as data (translated by the dashboard); `note` stays the English line. */
  reason?: AuditReason;
  /** Occurrences are not transitions: the evidence list records them, the audit would drown. */
  audit?: boolean;
  deadline?: 'respond' | 'resolve';
  notify?: string | null;
}

/** How long a device has to confirm a manual resolve when the shell does not know the rule's hold time. */
export const DEFAULT_DEVICE_CONFIRM_MS = 2 * 60_000;

const fail = (code: TicketError['code'], message: string): ApplyResult => ({ ok: false, error: { code, message } });
const unchanged = (ticket: Ticket): ApplyResult => ({ ok: true, ticket, changed: false, audit: [], events: [] });

/** A resolve of this ticket needs a photo: its device cannot prove the fix and the site requires one. */
export const resolveNeedsPhoto = (t: Pick<Ticket, 'deviceVerifiable'>, siteRequires: boolean): boolean => !t.deviceVerifiable && siteRequires;

/** Keep the most recent evidence only; `occurrences` keeps the true count. */
export function appendEvidence(list: readonly Evidence[], e: Evidence): Evidence[] {
  const keep = list.length >= MAX_TICKET_EVIDENCE ? list.slice(list.length - MAX_TICKET_EVIDENCE + 1) : list.slice();
  keep.push(e);
  return keep;
}

/**
 * 再派件: back to the grid worker with a fresh SLA cycle — new deadlines from `now`, warnings and
 * escalation reset, response/resolution timestamps cleared so the KPIs judge the new cycle.
 * The latest rating stays (an 不满意 keeps counting until a later follow-up replaces it).
 */
export function reopenTicket(t: Ticket, now: EpochMs, policy: SlaPolicy): Ticket {
  const { resolution: _dropped, ...rest } = t;
  return {
    ...rest,
    ...computeDeadlines(t.severity, now, policy),
    status: 'reopened',
    reopenCount: t.reopenCount + 1,
    slaStartedAt: toIso(now),
    warnedRespond: false,
    warnedResolve: false,
    escalationLevel: 0,
    escalatedAt: null,
    dispatchedAt: null,
    acceptedAt: null,
    resolvedAt: null,
    closedAt: null,
    arrivedAt: null,
  };
}

/** Who may see it changed (reassigned, taken, offers withdrawn, left or entered review): the live feed must tell the ones who lost it. */
function changedHands(prev: Ticket, next: Ticket): boolean {
  return prev.assigneeId !== next.assigneeId || (prev.offeredTo ?? []).join() !== (next.offeredTo ?? []).join() || prev.status !== next.status;
}

function finish(prev: Ticket | null, c: Change, action: TicketAction, actor: Actor, at: string): ApplyResult {
  const next: Ticket = prev === null ? c.next : { ...c.next, version: prev.version + 1 };
  const from = prev === null ? null : prev.status;
  const audit: AuditEntry[] = c.audit === false ? [] : [{
    ticketId: next.id, at, actor: actor.id, action: action.kind, from, to: next.status,
    ...(c.note !== undefined ? { note: c.note } : {}),
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
  }];
  const was = prev !== null && changedHands(prev, next)
    ? { was: { status: prev.status, ...(prev.assigneeId !== undefined ? { assigneeId: prev.assigneeId } : {}), ...(prev.offeredTo !== undefined ? { offeredTo: prev.offeredTo } : {}) } }
    : {};
  const event: TicketChange = {
    kind: c.kind, ticket: next, from, at, actor: actor.id, ...was,
    ...(c.note !== undefined ? { note: c.note } : {}),
    ...(c.deadline !== undefined ? { deadline: c.deadline } : {}),
    ...(c.notify !== undefined ? { notify: c.notify } : {}),
  };
  return { ok: true, ticket: next, changed: true, audit, events: [event] };
}

/**
 * The ticket state machine (DESIGN §6): one action by one actor at `now` → the new ticket, its
 * audit rows and live-feed events, or a stable error. Pure: the shell persists the result with
 * `UPDATE … WHERE id = $id AND version = $prev.version`.
 *
 * Check order: permission, then version (a stale screen gets "conflict", not a confusing
 * "illegal"), then status and preconditions, then the payload (notes, assignee).
 */
export function applyAction(
  ticket: Ticket | null, action: TicketAction, actor: Actor, now: EpochMs, policy: SlaPolicy = DEFAULT_SLA_POLICY,
): ApplyResult {
  const at = toIso(now);
  if (!roleMayTake(actor.role, action.kind)) return fail('HUB_ERR_FORBIDDEN', `role ${actor.role} may not ${action.kind}`);
  if (action.kind === 'open') {
    if (ticket !== null) return fail('HUB_ERR_TICKET_EXISTS', `ticket ${ticket.id} already exists`);
    if (action.ticket.status !== 'open' && action.ticket.status !== 'pending_review') return fail('HUB_ERR_ILLEGAL_TRANSITION', 'a new ticket starts open (or waiting for review)');
    return finish(null, { next: action.ticket, kind: 'opened' }, action, actor, at);
  }
  if (ticket === null) return fail('HUB_ERR_TICKET_NOT_FOUND', 'no such ticket');
  if (action.version !== undefined && action.version !== ticket.version) {
    return fail('HUB_ERR_VERSION_CONFLICT', `ticket changed (version ${ticket.version}, you saw ${action.version}); reload`);
  }
  const pre = precheck(ticket, action.kind, actor);
  if (pre !== null) return { ok: false, error: pre };

  const operator = actor.role !== 'system';
  // Operators explain what they did; blank notes are as good as none.
  const note = 'note' in action && typeof action.note === 'string' && action.note.trim() !== '' ? action.note.trim() : undefined;
  const needsNote = (): ApplyResult | null =>
    note === undefined ? fail('HUB_ERR_NOTE_REQUIRED', `${action.kind} needs a note`) : null;
  const done = (c: Change): ApplyResult => finish(ticket, c, action, actor, at);
  const why = (code: AuditReason['code'], params?: AuditReason['params'], text = note): AuditReason =>
    ({ code, ...(params !== undefined ? { params } : {}), ...(text !== undefined ? { text } : {}) });
  const t = ticket;

  switch (action.kind) {
    case 'dispatch': {
      const assigneeId = action.assigneeId ?? t.assigneeId;
      if (assigneeId === undefined) return fail('HUB_ERR_ASSIGNEE_REQUIRED', 'no grid worker to dispatch to');
      return done({ next: { ...t, status: 'dispatched', assigneeId, dispatchedAt: at }, kind: 'status', note });
    }
    case 'accept': {
      // A worker taking an unassigned ticket (抢单) becomes its assignee; it counts as dispatched to them.
      const claimed = actor.scope !== undefined && t.assigneeId === undefined
        ? { assigneeId: actor.scope.workerId, dispatchedAt: t.dispatchedAt ?? at } : {};
      return done({ next: { ...t, ...claimed, status: 'accepted', acceptedAt: at }, kind: 'status', note });
    }
    case 'arrive':
      if (t.arrivedAt) return unchanged(t);
      return done({ next: { ...t, arrivedAt: at }, kind: 'arrived', note: note ?? 'arrived on site (到场)', reason: why('arrived') });
    case 'comment':
      return needsNote() ?? done({ next: t, kind: 'comment', note });
    case 'resolve': {
      const missing = needsNote();
      if (missing) return missing;
      const photos = action.photos ?? [];
      if (resolveNeedsPhoto(t, action.photoRequired === true) && photos.length === 0 && action.photoUrl === undefined) {
        return fail('HUB_ERR_PHOTO_REQUIRED', 'resolving a ticket its device cannot verify needs at least one photo');
      }
      // No fake closures: a device that can prove the fix gets the last word (confirm or reopen).
      const proof = t.deviceVerifiable
        ? { awaitingDevice: true, confirmBy: toIso(now + (action.confirmWithinMs ?? DEFAULT_DEVICE_CONFIRM_MS)) }
        : { verification: photos.length > 0 || action.photoUrl !== undefined ? 'photo' as const : 'unverified' as const };
      const resolution = {
        by: 'operator' as const, ...(note !== undefined ? { note } : {}), ...(action.photoUrl !== undefined ? { photoUrl: action.photoUrl } : {}),
        ...(photos.length > 0 ? { photos } : {}), ...proof,
      };
      return done({ next: { ...t, status: 'resolved', resolvedAt: at, resolution }, kind: 'status', note: t.deviceVerifiable ? `${note ?? ''} (awaiting device confirmation)` : note,
        ...(t.deviceVerifiable ? { reason: why('awaiting_device') } : {}) });
    }
    case 'confirm_by_device': {
      const summary = action.evidence.summary.slice(0, 2000);
      const resolution = { ...t.resolution!, awaitingDevice: false, verification: 'device' as const };
      return done({
        next: { ...t, status: 'closed', closedAt: at, resolution, evidence: appendEvidence(t.evidence, action.evidence) },
        kind: 'status', note: `device confirmed: ${summary}`, reason: why('device_confirmed', undefined, undefined),
      });
    }
    case 'resolve_by_device': {
      const summary = action.evidence.summary.slice(0, 2000);
      const resolution = { by: 'device' as const, ...(summary !== '' ? { note: summary } : {}), verification: 'device' as const };
      return done({
        next: { ...t, status: 'resolved', resolvedAt: at, resolution, evidence: appendEvidence(t.evidence, action.evidence) },
        kind: 'status', note: summary || undefined, reason: why('resolved_by_device', undefined, undefined),
      });
    }
    case 'rate': {
      const rated = action.rating;
      const label = note === undefined ? rated : `${rated}: ${note}`;
      const reason = why('rated', { rating: rated });
      if (rated === 'unsatisfied') return done({ next: { ...reopenTicket(t, now, policy), rating: rated }, kind: 'status', note: label, reason });
      const closedAt = t.status === 'closed' ? t.closedAt : at;
      return done({ next: { ...t, status: 'closed', closedAt, rating: rated }, kind: 'status', note: label, reason });
    }
    case 'close':
      return done({ next: { ...t, status: 'closed', closedAt: at }, kind: 'status', note });
    case 'reopen': {
      if (operator) { const missing = needsNote(); if (missing) return missing; }
      let next = reopenTicket(t, now, policy);
      if (action.evidence !== undefined) {
        next = { ...next, occurrences: t.occurrences + 1, evidence: appendEvidence(t.evidence, action.evidence) };
      }
      const reason = action.reason !== undefined ? action.reason
        : action.evidence && note === undefined ? why('recurred') : undefined;
      return done({ next, kind: 'status', note: note ?? (action.evidence ? `recurred: ${action.evidence.summary}` : undefined), ...(reason ? { reason } : {}) });
    }
    case 'request_dismiss': {
      const missing = needsNote();
      if (missing) return missing;
      const dismissal = { requestedBy: actor.id, requestedAt: at, reasonCategory: action.reasonCategory, note: note ?? '' };
      return done({ next: { ...t, dismissal }, kind: 'dismissal', note: `${action.reasonCategory}: ${note ?? ''}`, reason: why('dismiss_requested', { reason: action.reasonCategory }) });
    }
    case 'approve_dismiss': {
      const dismissal = { ...t.dismissal!, approvedBy: actor.id, approvedAt: at };
      return done({ next: { ...t, status: 'dismissed', dismissal }, kind: 'status', note: note ?? t.dismissal!.reasonCategory, reason: why('dismiss_approved', { reason: t.dismissal!.reasonCategory }) });
    }
    case 'reject_dismiss': {
      const missing = needsNote();
      if (missing) return missing;
      const { dismissal: _rejected, ...rest } = t;
      return done({ next: rest, kind: 'dismissal', note });
    }
    case 'escalate': {
      if (operator) { const missing = needsNote(); if (missing) return missing; }
      const level = t.escalationLevel + 1;
      const notify = level === 1 ? t.ladder.community : t.ladder.street;
      const rung = level === 1 ? 'community (社区)' : 'street (街道, 吹哨报到)';
      return done({ next: { ...t, escalationLevel: level, escalatedAt: at }, kind: 'escalated', note: note ?? `overdue: escalated to ${rung}`, notify, reason: why('escalated', { level }) });
    }
    case 'confirm_review': {
      // 人工核准 confirmed: dispatched as any ticket, with its SLA clock started now — nobody was
      // asked to act while it waited, and the wait shows apart (openedAt → review.at). A
      // confident repeat (system) opens it as that alert would have: open, for the dispatcher.
      const review = { ...t.review!, verdict: 'confirmed' as const, by: actor.id, at };
      const assigneeId = action.assigneeId ?? t.assigneeId;
      const seen = action.evidence !== undefined ? { occurrences: t.occurrences + 1, evidence: appendEvidence(t.evidence, action.evidence) } : {};
      const base: Ticket = { ...t, ...seen, ...computeDeadlines(t.severity, now, policy), slaStartedAt: at, warnedRespond: false, warnedResolve: false, review };
      const next: Ticket = assigneeId !== undefined && operator ? { ...base, status: 'dispatched', assigneeId, dispatchedAt: at } : { ...base, status: 'open' };
      const params = { confidence: review.confidence, below: review.below };
      return done({ next, kind: 'status', note: note ?? (action.evidence !== undefined ? `confirmed by a confident repeat: ${action.evidence.summary}` : 'review confirmed (人工核准)'), reason: why('review_confirmed', params) });
    }
    case 'reject_review': {
      // A false alarm (误报): dismissed (剔除) by the reviewer, evidence and camera snapshot kept.
      const review = { ...t.review!, verdict: 'rejected' as const, by: actor.id, at };
      const text = note ?? 'false alarm (误报)';
      const dismissal = { requestedBy: actor.id, requestedAt: at, reasonCategory: 'false_alarm' as const, note: text, approvedBy: actor.id, approvedAt: at };
      return done({ next: { ...t, status: 'dismissed', dismissal, review }, kind: 'status', note: `false alarm (误报): ${text}`,
        reason: why('review_rejected', { confidence: review.confidence, below: review.below }) });
    }
    case 'add_occurrence':
      return done({ next: { ...t, occurrences: t.occurrences + 1, evidence: appendEvidence(t.evidence, action.evidence) }, kind: 'occurrence', audit: false });
    case 'sla_warn': {
      const flag = action.deadline === 'respond' ? 'warnedRespond' : 'warnedResolve';
      if (t[flag]) return unchanged(t);
      return done({ next: { ...t, [flag]: true }, kind: 'sla_warning', deadline: action.deadline, note: `${action.deadline} deadline ${Math.round(policy.warnRatio * 100)} % elapsed (催办)`,
        reason: why('sla_warning', { deadline: action.deadline, percent: Math.round(policy.warnRatio * 100) }, undefined) });
    }
    case 'link': {
      if (t.linkedTicketIds.includes(action.ticketId)) return unchanged(t);
      const next = { ...t, linkedTicketIds: [...t.linkedTicketIds, action.ticketId], preempted: t.preempted || action.preempted === true };
      return done({ next, kind: 'linked', note: `linked ${action.ticketId}`, reason: why('linked', { ticketId: action.ticketId }, undefined) });
    }
  }
}
