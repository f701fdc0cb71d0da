/*
 * The shared contract (schemas/) as the dashboard uses it. Imported file by file rather than
 * through the package index: the index also pulls in the runtime validator, which the browser
 * doesn't need. Types are erased; the constants are small.
 */
export { FAMILIES, type Family } from '../../../schemas/src/common.ts';
export { SEVERITIES, CATEGORIES, CATEGORY_TEAM, type Severity, type Category, type Evidence, type Localized } from '../../../schemas/src/decisions.ts';
export {
  TICKET_STATUSES, ACTIVE_TICKET_STATUSES, DEDUP_TICKET_STATUSES, OPERATOR_ACTIONS, RATINGS, DISMISS_REASONS, TICKET_ACTION_BODIES,
  type Ticket, type TicketStatus, type TicketDetail, type AuditEntry, type KpiSnapshot, type Rate, type OperatorAction,
  type DispatchBody, type AcceptBody, type CommentBody, type ResolveBody, type RateBody, type RequestDismissBody,
  type ApproveDismissBody, type RejectDismissBody, type EscalateBody, type ReopenBody, type Rating, type DismissReason,
  type AttachmentInfo,
} from '../../../schemas/src/tickets.ts';
export { FAMILY_DEFINITIONS } from '../../../schemas/src/families/index.ts';
export type { StoredEvent, DeviceView } from '../../../schemas/src/api.ts';
export { GRID_LEVELS, TEAMS, type GridCell, type Worker, type OperatorRole, type GridLevel, type Team } from '../../../schemas/src/site.ts';
export { LIVE_CLOSE } from '../../../schemas/src/live.ts';
export { isApiErrorCode, type ApiErrorCode } from '../../../schemas/src/errors.ts';
export type { LoginReply, TicketDetailReply, TicketActionReply, GridReply, EventStats, TicketStats, Readings } from '../../../schemas/src/replies.ts';
export type {
  LiveServerFrame, LiveDataMessage, LiveHello, LiveReset, LiveBatch, LiveClientMessage, LiveTicketPayload, LivePresencePayload,
  LiveReplay, LivePosition,
} from '../../../schemas/src/live.ts';
export { COMPLAINT_SOURCES, type ComplaintInput, type ComplaintSource } from '../../../schemas/src/tickets.ts';
export { FOLLOW_UP_OUTCOMES, type FollowUp, type FollowUpBody, type FollowUpOutcome } from '../../../schemas/src/kpi.ts';
export type { ProblemCandidate, AdoptedProblem, AdoptProblemBody, SeasonalWarning } from '../../../schemas/src/insights.ts';
export type { StreetKpis, KpiFigures, KpiGroupRow, KpiDimension, KpiDrillName } from '../../../schemas/src/kpi.ts';
export type { Hotspot, HotspotCell, HotspotsReply, HotspotTicketQuery, PlanCell, PlanDevice } from '../../../schemas/src/insights.ts';
