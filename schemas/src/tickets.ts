import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common.ts';
import { Team } from './site.ts';
import { Category, Evidence, Localized, Severity } from './decisions.ts';

// Tickets (工单), their audit trail, the REST action bodies, complaints (接诉即办) and the KPI
// snapshot (三率). Contract between hub/src/tickets, hub/src/kpi, the REST API and the dashboard.

const Iso = Type.String({ format: 'date-time' });
const IsoOrNull = Type.Union([Iso, Type.Null()]);
const IdOrNull = Type.Union([Id, Type.Null()]);
const Note = Type.String({ minLength: 1, maxLength: 2000 });
const lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));

/**
 * DESIGN §6. `reopened` = 再派件 (unsatisfied follow-up or recurrence); `dismissed` = 剔除;
 * `pending_review` = 人工核准: an AI alert below the site's confidence bar, waiting for an operator.
 */
export const TICKET_STATUSES = ['open', 'dispatched', 'accepted', 'resolved', 'closed', 'dismissed', 'reopened', 'pending_review'] as const;
export const TicketStatus = lit(TICKET_STATUSES);
export type TicketStatus = Static<typeof TicketStatus>;

/**
 * Statuses in which a ticket is "live": SLA clocks run and the dedup key is taken.
 * The database's unique partial index on dedup_key uses exactly these (DESIGN §6).
 */
export const ACTIVE_TICKET_STATUSES = ['open', 'dispatched', 'accepted', 'reopened'] as const satisfies readonly TicketStatus[];

/**
 * Statuses that hold the dedup key (one per key, database-enforced: migration 090): the live ones
 * and `pending_review`, so repeats of an alert under review merge into it. No SLA clock runs in
 * `pending_review` and it is neither dispatched nor overdue: it is not in ACTIVE_TICKET_STATUSES.
 */
export const DEDUP_TICKET_STATUSES = [...ACTIVE_TICKET_STATUSES, 'pending_review'] as const satisfies readonly TicketStatus[];

/** 人工核准 verdicts: confirmed → dispatched as usual; rejected → dismissed as a false alarm (误报). */
export const REVIEW_VERDICTS = ['confirmed', 'rejected'] as const;
/**
 * Why an AI alert waited for review, and the reviewer's word. `confidence` is the alert's, `below`
 * the site's bar for its category (site aiReview). The SLA clock starts at the confirmation.
 */
export const AlertReview = Type.Object({
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  below: Type.Number({ minimum: 0, maximum: 1 }),
  verdict: Type.Optional(lit(REVIEW_VERDICTS)),
  /** Operator username, or `system:<ruleId>` when a confident repeat confirmed it. */
  by: Type.Optional(Type.String()),
  at: Type.Optional(Iso),
});
export type AlertReview = Static<typeof AlertReview>;

/** proactive = 未诉先办 (opened by a rule); complaint = 接诉即办 (opened from a resident). */
export const ORIGINS = ['proactive', 'complaint'] as const;
export const Origin = lit(ORIGINS);
export type Origin = Static<typeof Origin>;

/** 满意 / 基本满意 / 不满意 */
export const RATINGS = ['satisfied', 'basically_satisfied', 'unsatisfied'] as const;
export const Rating = lit(RATINGS);
export type Rating = Static<typeof Rating>;

export const DISMISS_REASONS = ['false_alarm', 'out_of_jurisdiction', 'duplicate', 'test', 'other'] as const;
export const DismissReason = lit(DISMISS_REASONS);
export type DismissReason = Static<typeof DismissReason>;

export const COMPLAINT_SOURCES = ['hotline_12345', 'app', 'walk_in', 'other'] as const;
export const ComplaintSource = lit(COMPLAINT_SOURCES);
export type ComplaintSource = Static<typeof ComplaintSource>;

/** 0 grid worker (网格员), 1 community (社区), 2 street (街道, 吹哨报到). */
export const EscalationLevel = Type.Integer({ minimum: 0, maximum: 2 });
export const MAX_ESCALATION_LEVEL = 2;
/** Evidence kept on a ticket: the most recent ones; `occurrences` keeps the full count. */
export const MAX_TICKET_EVIDENCE = 50;

export const Dismissal = Type.Object({
  requestedBy: Type.String(),
  requestedAt: Iso,
  reasonCategory: DismissReason,
  note: Note,
  /** Absent while the request waits for a supervisor. */
  approvedBy: Type.Optional(Type.String()),
  approvedAt: Type.Optional(Iso),
});
export type Dismissal = Static<typeof Dismissal>;

/** Who is told at each rung of the escalation ladder (from routing, fixed when opened). */
export const EscalationLadder = Type.Object({ grid: IdOrNull, community: IdOrNull, street: IdOrNull });
export type EscalationLadder = Static<typeof EscalationLadder>;

/** The resident's contact for the 回访 follow-up (and Open311's first_name/last_name/phone/email). */
export const ComplaintContact = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 100 })),
  phone: Type.Optional(Type.String({ maxLength: 32 })),
  email: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });
export type ComplaintContact = Static<typeof ComplaintContact>;

export const ComplaintInfo = Type.Object({
  source: ComplaintSource,
  text: Type.String({ maxLength: 2000 }),
  externalRef: Type.Optional(Type.String({ maxLength: 100 })),
  reportedAt: Iso,
  contact: Type.Optional(ComplaintContact),
});
export type ComplaintInfo = Static<typeof ComplaintInfo>;

// ---- the field loop (grid workers on the phone page, photo evidence, device confirmation) ----
/** How a resolution was proven (KPIs: the 解决率 counts device-verified and photo-evidenced). */
export const VERIFICATIONS = ['device', 'photo', 'unverified'] as const;
export const Verification = lit(VERIFICATIONS);
export type Verification = Static<typeof Verification>;
const ResolutionProof = {
  /** Attachment ids (POST /api/tickets/:id/attachments) shown as the proof of the work. */
  photos: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10 })),
  verification: Type.Optional(Verification),
  /**
   * A manual resolve of a device-verifiable ticket: the device must still confirm it by
   * `confirmBy` (the rule's hold time), else the ticket is reopened (no fake closures).
   */
  awaitingDevice: Type.Optional(Type.Boolean()),
  confirmBy: Type.Optional(Iso),
};
const FieldLoop = {
  /** 到场: when the worker reported being on site (the 见面率). */
  arrivedAt: Type.Optional(IsoOrNull),
  /** 抢单: the workers this unassigned ticket was offered to; the first to accept takes it. */
  offeredTo: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
};

export const Ticket = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  siteId: Id,
  origin: Origin,
  ruleId: Type.Optional(Type.String()),
  dedupKey: Type.Optional(Type.String()),
  status: TicketStatus,
  severity: Severity,
  category: Category,
  team: Team,
  title: Localized,
  description: Localized,
  cellId: Id,
  deviceId: Type.Optional(Id),
  locationLabel: Type.String({ maxLength: 200 }),
  /** Grid worker doing the work; absent until routed/dispatched. */
  assigneeId: Type.Optional(Id),
  ladder: EscalationLadder,
  escalationLevel: EscalationLevel,
  escalatedAt: IsoOrNull,
  occurrences: Type.Integer({ minimum: 1 }),
  evidence: Type.Array(Evidence, { maxItems: MAX_TICKET_EVIDENCE }),
  /** The device can prove the condition cleared (resolve_by_device is allowed). */
  deviceVerifiable: Type.Boolean(),
  openedAt: Iso,
  /** Start of the current SLA cycle: openedAt, or the last reopen. */
  slaStartedAt: Iso,
  dispatchedAt: IsoOrNull,
  acceptedAt: IsoOrNull,
  resolvedAt: IsoOrNull,
  closedAt: IsoOrNull,
  respondBy: Iso,
  resolveBy: Iso,
  warnedRespond: Type.Boolean(),
  warnedResolve: Type.Boolean(),
  resolution: Type.Optional(Type.Object({
    by: Type.Union([Type.Literal('device'), Type.Literal('operator')]),
    note: Type.Optional(Note),
    photoUrl: Type.Optional(Type.String({ maxLength: 1024 })),
    ...ResolutionProof,
  })),
  ...FieldLoop,
  /** 人工核准: present on AI alerts that opened below the confidence bar. */
  review: Type.Optional(AlertReview),
  /** Latest follow-up (回访) rating; a later rating replaces it. */
  rating: Type.Optional(Rating),
  dismissal: Type.Optional(Dismissal),
  reopenCount: Type.Integer({ minimum: 0 }),
  /** complaint ↔ proactive links (the measure of 未诉先办). */
  linkedTicketIds: Type.Array(Type.String()),
  /** Complaint tickets only: a proactive ticket already covered it. */
  preempted: Type.Boolean(),
  complaint: Type.Optional(ComplaintInfo),
  /** Optimistic concurrency: +1 on every change; updates are `WHERE version = $old`. */
  version: Type.Integer({ minimum: 1 }),
});
export type Ticket = Static<typeof Ticket>;

/**
 * Why an audit row says what it says, as data (the dashboard renders it in the reader's language;
 * `note` keeps the English line for logs and older rows). `text` is the operator's own words.
 */
export const AUDIT_REASON_CODES = [
  'rated', 'dismiss_requested', 'dismiss_approved', 'sla_warning', 'linked', 'escalated', 'arrived',
  'awaiting_device', 'device_confirmed', 'resolved_by_device', 'device_not_confirmed', 'recurred', 'second_handling',
  'review_confirmed', 'review_rejected',
] as const;
export const AuditReason = Type.Object({
  code: lit(AUDIT_REASON_CODES),
  params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 500 }), Type.Number()]))),
  text: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type AuditReason = Static<typeof AuditReason>;

export const AuditEntry = Type.Object({
  ticketId: Type.String(),
  at: Iso,
  /** Operator username, or `system:<ruleId>`, `system:sla`, `system:complaint`. */
  actor: Type.String(),
  action: Type.String(),
  from: Type.Union([TicketStatus, Type.Null()]),
  to: TicketStatus,
  note: Type.Optional(Type.String({ maxLength: 2000 })),
  reason: Type.Optional(AuditReason),
});
export type AuditEntry = Static<typeof AuditEntry>;

/** Who may see a ticket: its status, assignee and 抢单 offer (TicketChange.was). */
export const TicketHolders = Type.Object({ status: TicketStatus, assigneeId: Type.Optional(Id), offeredTo: Type.Optional(Type.Array(Type.String())) });
export type TicketHolders = Static<typeof TicketHolders>;

/** Live-feed notification of one ticket change (WebSocket). */
export const TICKET_CHANGE_KINDS = ['opened', 'status', 'occurrence', 'sla_warning', 'escalated', 'comment', 'linked', 'dismissal', 'arrived', 'attachment'] as const;
export const TicketChange = Type.Object({
  kind: lit(TICKET_CHANGE_KINDS),
  ticket: Ticket,
  from: Type.Union([TicketStatus, Type.Null()]),
  at: Iso,
  actor: Type.String(),
  note: Type.Optional(Type.String()),
  deadline: Type.Optional(Type.Union([Type.Literal('respond'), Type.Literal('resolve')])),
  /** escalated: the worker to notify at the new level (null = nobody configured). */
  notify: Type.Optional(IdOrNull),
  /**
   * Who could see the ticket before this change, when that changed (reassigned, taken by another,
   * reviewed): a worker's live socket gets the change as a removal when it no longer concerns them.
   */
  was: Type.Optional(TicketHolders),
});
export type TicketChange = Static<typeof TicketChange>;

// ---- REST action bodies: POST /api/tickets/:id/<action> -------------------------------------
/** Optional on every body: reject with HUB_ERR_VERSION_CONFLICT if the ticket moved on. */
const Version = { version: Type.Optional(Type.Integer({ minimum: 1 })) };
export const DispatchBody = Type.Object({ assigneeId: Type.Optional(Id), note: Type.Optional(Note), ...Version }, { additionalProperties: false });
export const AcceptBody = Type.Object({ note: Type.Optional(Note), ...Version }, { additionalProperties: false });
export const CommentBody = Type.Object({ note: Note, ...Version }, { additionalProperties: false });
export const ResolveBody = Type.Object({ note: Note, photoUrl: Type.Optional(Type.String({ maxLength: 1024 })), photos: ResolutionProof.photos, ...Version }, { additionalProperties: false });
export const ArriveBody = Type.Object({ note: Type.Optional(Note), ...Version }, { additionalProperties: false });
export type ArriveBody = Static<typeof ArriveBody>;
export const RateBody = Type.Object({ rating: Rating, note: Type.Optional(Note), ...Version }, { additionalProperties: false });
export const RequestDismissBody = Type.Object({ reasonCategory: DismissReason, note: Note, ...Version }, { additionalProperties: false });
export const ApproveDismissBody = Type.Object({ note: Type.Optional(Note), ...Version }, { additionalProperties: false });
export const RejectDismissBody = Type.Object({ note: Note, ...Version }, { additionalProperties: false });
export const EscalateBody = Type.Object({ note: Note, ...Version }, { additionalProperties: false });
export const ReopenBody = Type.Object({ note: Note, ...Version }, { additionalProperties: false });
/** 人工核准 confirm: dispatch to the routed worker (or `assigneeId`); the SLA clock starts now. */
export const ConfirmReviewBody = Type.Object({ assigneeId: Type.Optional(Id), note: Type.Optional(Note), ...Version }, { additionalProperties: false });
/** 人工核准 reject: a false alarm (误报), dismissed with the camera's evidence kept. */
export const RejectReviewBody = Type.Object({ note: Type.Optional(Note), ...Version }, { additionalProperties: false });
export type ConfirmReviewBody = Static<typeof ConfirmReviewBody>;
export type RejectReviewBody = Static<typeof RejectReviewBody>;
export type DispatchBody = Static<typeof DispatchBody>;
export type AcceptBody = Static<typeof AcceptBody>;
export type CommentBody = Static<typeof CommentBody>;
export type ResolveBody = Static<typeof ResolveBody>;
export type RateBody = Static<typeof RateBody>;
export type RequestDismissBody = Static<typeof RequestDismissBody>;
export type ApproveDismissBody = Static<typeof ApproveDismissBody>;
export type RejectDismissBody = Static<typeof RejectDismissBody>;
export type EscalateBody = Static<typeof EscalateBody>;
export type ReopenBody = Static<typeof ReopenBody>;

/** Operator actions (URL segment = the name); the state machine's permission table uses them. */
export const OPERATOR_ACTIONS = ['dispatch', 'accept', 'comment', 'resolve', 'rate', 'request_dismiss', 'approve_dismiss', 'reject_dismiss', 'escalate', 'reopen', 'arrive', 'confirm_review', 'reject_review'] as const;
export const OperatorAction = lit(OPERATOR_ACTIONS);
export type OperatorAction = Static<typeof OperatorAction>;

export const TICKET_ACTION_BODIES = {
  dispatch: DispatchBody, accept: AcceptBody, comment: CommentBody, resolve: ResolveBody, rate: RateBody,
  request_dismiss: RequestDismissBody, approve_dismiss: ApproveDismissBody, reject_dismiss: RejectDismissBody,
  escalate: EscalateBody, reopen: ReopenBody, arrive: ArriveBody,
  confirm_review: ConfirmReviewBody, reject_review: RejectReviewBody,
} as const satisfies Record<OperatorAction, unknown>;

/**
 * Stable error codes of ticket actions. Status and message live in the one catalogue
 * (schemas/src/errors.ts API_ERRORS; hubErrorOf does not compile if a code is missing there).
 */
export const TICKET_ERROR_CODES = [
  'HUB_ERR_ILLEGAL_TRANSITION', 'HUB_ERR_FORBIDDEN', 'HUB_ERR_NOTE_REQUIRED', 'HUB_ERR_VERSION_CONFLICT',
  'HUB_ERR_TICKET_NOT_FOUND', 'HUB_ERR_TICKET_EXISTS', 'HUB_ERR_ASSIGNEE_REQUIRED', 'HUB_ERR_NOT_DEVICE_VERIFIABLE',
  'HUB_ERR_DISMISSAL_PENDING', 'HUB_ERR_NO_DISMISSAL_PENDING', 'HUB_ERR_SELF_APPROVAL', 'HUB_ERR_MAX_ESCALATION',
  'HUB_ERR_PHOTO_REQUIRED', 'HUB_ERR_AWAITING_REVIEW',
] as const;
export const TicketErrorCode = lit(TICKET_ERROR_CODES);
export type TicketErrorCode = Static<typeof TicketErrorCode>;

// ---- complaints, queries, detail ------------------------------------------------------------
export const ComplaintInput = Type.Object({
  siteId: Id,
  cellId: Id,
  category: Category,
  text: Type.String({ minLength: 1, maxLength: 2000 }),
  source: ComplaintSource,
  externalRef: Type.Optional(Type.String({ maxLength: 100, description: 'e.g. the 12345 hotline case number' })),
  reportedAt: Type.Optional(Iso),
  contact: Type.Optional(ComplaintContact),
  /**
   * The dispatcher's word on the link: a candidate's ticket id confirms that link (it must be
   * eligible), null rejects linking; absent = the matcher's choice.
   */
  // Null first: the API's ajv coerces types, and would turn null into '' for a string branch tried first.
  linkTo: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 64 })])),
}, { additionalProperties: false });
export type ComplaintInput = Static<typeof ComplaintInput>;

export const TicketsQuery = Type.Object({
  siteId: Type.Optional(Id),
  status: Type.Optional(Type.Array(TicketStatus, { maxItems: TICKET_STATUSES.length })),
  severity: Type.Optional(Severity),
  category: Type.Optional(Category),
  cellId: Type.Optional(Id),
  /** Tickets of this grid cell or any cell below it (a 楼院 and its 单元); needs siteId. */
  within: Type.Optional(Id),
  /** The tickets of one device (a hotspot's drill-down). */
  deviceId: Type.Optional(Id),
  /** false: only tickets without a device (complaints, manual tickets); true: only device tickets. */
  hasDevice: Type.Optional(Type.Boolean()),
  assigneeId: Type.Optional(Id),
  overdue: Type.Optional(Type.Boolean()),
  origin: Type.Optional(Origin),
  /** openedAt range, [from, to). */
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'opaque; from the previous page' })),
}, { additionalProperties: false });
export type TicketsQuery = Static<typeof TicketsQuery>;

export const AttachmentInfo = Type.Object({
  id: Type.String(), ticketId: Type.String(), at: Iso, by: Type.String(),
  mime: Type.Union([Type.Literal('image/jpeg'), Type.Literal('image/png'), Type.Literal('image/webp')]),
  bytes: Type.Integer({ minimum: 1 }),
  /** 'camera' = fetched from a camera alert's snapshotUrl; 'upload' = a person's photo. */
  source: Type.Union([Type.Literal('upload'), Type.Literal('camera')]),
});
export type AttachmentInfo = Static<typeof AttachmentInfo>;

/** One notification's delivery to one channel, for the timeline. */
export const DeliveryInfo = Type.Object({
  id: Type.String(), event: Type.String(), channel: Type.String(), recipient: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]),
  attempts: Type.Integer({ minimum: 0 }), createdAt: Iso, sentAt: IsoOrNull, lastError: Type.Union([Type.String(), Type.Null()]),
});
export type DeliveryInfo = Static<typeof DeliveryInfo>;

export const TicketDetail = Type.Object({
  ticket: Ticket,
  audit: Type.Array(AuditEntry),
  attachments: Type.Optional(Type.Array(AttachmentInfo)),
  deliveries: Type.Optional(Type.Array(DeliveryInfo)),
  /** Resolving it needs at least one photo (not device-verifiable and the site requires photos). */
  photoRequired: Type.Optional(Type.Boolean()),
  /** Tickets in linkedTicketIds (complaints of a proactive ticket, or the proactive one of a complaint). */
  linked: Type.Array(Ticket),
});
export type TicketDetail = Static<typeof TicketDetail>;

// ---- KPIs (三率, DESIGN §7) -------------------------------------------------------------------
/** A ratio with its parts; value is null when the denominator is 0 (not 0 %, not 100 %). */
export const Rate = Type.Object({
  value: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
  numerator: Type.Integer({ minimum: 0 }),
  denominator: Type.Integer({ minimum: 0 }),
});
export type Rate = Static<typeof Rate>;

export const KpiRankingRow = Type.Object({
  /** Grid worker id, or community cell id. */
  id: Type.String(),
  rank: Type.Integer({ minimum: 1 }),
  tickets: Type.Integer({ minimum: 0 }),
  responseRate: Rate,
  resolutionRate: Rate,
  satisfactionRate: Rate,
  overdue: Type.Integer({ minimum: 0 }),
  /** Resolutions by proof (device-verified / photo-evidenced / unverified). Absent in reports stored before it existed. */
  resolvedDevice: Type.Optional(Type.Integer({ minimum: 0 })),
  resolvedPhoto: Type.Optional(Type.Integer({ minimum: 0 })),
  resolvedUnverified: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type KpiRankingRow = Static<typeof KpiRankingRow>;

export const KpiSnapshot = Type.Object({
  siteId: Type.Optional(Id),
  period: Type.Object({ from: Iso, to: Iso }),
  generatedAt: Iso,
  /** Tickets opened in the period (the cohort), dismissed included. */
  tickets: Type.Integer({ minimum: 0 }),
  responseRate: Rate,
  resolutionRate: Rate,
  satisfactionRate: Rate,
  proactiveShare: Rate,
  /** At generatedAt, over all tickets given (not only the cohort). */
  open: Type.Integer({ minimum: 0 }),
  overdue: Type.Integer({ minimum: 0 }),
  meanTimeToRespondMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  meanTimeToResolveMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  complaintsPreempted: Type.Integer({ minimum: 0 }),
  /** 自动核销: cohort tickets the device cleared before anyone responded (not responses). Absent in reports stored before it existed. */
  autoResolved: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Resolutions of the cohort by proof (the 解决率 counts device + photo). Absent in reports stored before it existed. */
  resolvedDevice: Type.Optional(Type.Integer({ minimum: 0 })),
  resolvedPhoto: Type.Optional(Type.Integer({ minimum: 0 })),
  resolvedUnverified: Type.Optional(Type.Integer({ minimum: 0 })),
  medianTimeToRespondMs: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()])),
  medianTimeToResolveMs: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()])),
  hotspots: Type.Array(Type.Object({ cellId: Id, count: Type.Integer({ minimum: 1 }) })),
  workers: Type.Array(KpiRankingRow),
  communities: Type.Array(KpiRankingRow),
});
export type KpiSnapshot = Static<typeof KpiSnapshot>;
