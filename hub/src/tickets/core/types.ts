import type {
  AuditReason,
  Evidence, UserRole, Team, Rating, DismissReason, Ticket, AuditEntry, TicketChange, TicketErrorCode,
} from '@shaobing/schemas';

/** Epoch milliseconds; every core takes `now` as a parameter and never reads a clock. */
export type EpochMs = number;

/** Who acts: an operator or grid worker (username + role) or the hub itself (`system:<ruleId>`, `system:sla`). */
export interface Actor {
  id: string;
  role: UserRole | 'system';
  /** Workers only: what they may see and act on (tickets/core/worker-scope.ts). */
  scope?: WorkerScope;
}

/** A grid worker's reach: their site, teams, and their cell with every cell below it. */
export interface WorkerScope {
  workerId: string;
  siteId: string;
  teams: readonly Team[];
  cellIds: ReadonlySet<string>;
}

/** Fields every action may carry: the version the caller saw (optimistic concurrency). */
interface Base { version?: number }

/** Actions an operator may take (REST bodies map 1:1: `{ kind: 'dispatch', ...body }`). */
export type OperatorTicketAction =
  | Base & { kind: 'dispatch'; assigneeId?: string; note?: string }
  | Base & { kind: 'accept'; note?: string }
  | Base & { kind: 'comment'; note: string }
  | Base & {
    kind: 'resolve'; note: string; photoUrl?: string;
    /** Attachment ids of the ticket (the shell checks they belong to it). */
    photos?: string[];
    /** Site rule (resolvePhotoRequired), set by the shell: a non-device-verifiable ticket needs a photo. */
    photoRequired?: boolean;
    /** How long the device has to confirm a manual resolve (the rule's hold time), set by the shell. */
    confirmWithinMs?: number;
  }
  | Base & { kind: 'arrive'; note?: string }
  | Base & { kind: 'rate'; rating: Rating; note?: string }
  | Base & { kind: 'request_dismiss'; reasonCategory: DismissReason; note: string }
  | Base & { kind: 'approve_dismiss'; note?: string }
  | Base & { kind: 'reject_dismiss'; note: string }
  /** Operators must give a note; the SLA sweep (system) may not. */
  | Base & { kind: 'escalate'; note?: string }
  /** Operators must give a note; a recurrence (system) brings evidence instead. */
  | Base & { kind: 'reopen'; note?: string; evidence?: Evidence; /** Why the system reopened it (再派件 by the sweep, 二次办理), as data. */ reason?: AuditReason }
  | ReviewTicketAction;

/** 人工核准: an operator confirms (→ dispatch) or rejects (→ dismissed, 误报) an AI alert under review. */
export type ReviewTicketAction =
  /** `evidence`: a confident repeat of the alert confirmed it (system only). */
  | Base & { kind: 'confirm_review'; assigneeId?: string; note?: string; evidence?: Evidence }
  | Base & { kind: 'reject_review'; note?: string };

/** Actions only the hub itself takes. */
export type SystemTicketAction =
  | Base & { kind: 'open'; ticket: Ticket }
  | Base & { kind: 'add_occurrence'; evidence: Evidence }
  | Base & { kind: 'resolve_by_device'; evidence: Evidence }
  | Base & { kind: 'sla_warn'; deadline: 'respond' | 'resolve' }
  | Base & { kind: 'link'; ticketId: string; preempted?: boolean }
  | Base & { kind: 'close'; note?: string }
  /** The device proved a manually resolved ticket's condition cleared: closed, device-verified. */
  | Base & { kind: 'confirm_by_device'; evidence: Evidence };

export type TicketAction = OperatorTicketAction | SystemTicketAction;
export type TicketActionKind = TicketAction['kind'];

export interface TicketError { code: TicketErrorCode; message: string }

export type ApplyResult =
  | {
    ok: true;
    ticket: Ticket;
    /** false for an idempotent no-op (already warned, already linked): nothing to write. */
    changed: boolean;
    audit: AuditEntry[];
    events: TicketChange[];
  }
  | { ok: false; error: TicketError };

export const toIso = (ms: EpochMs): string => new Date(ms).toISOString();
const digits = (s: string, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
};

/**
 * ISO → epoch ms. Timestamps we write are always `toISOString()` form (24 chars, Z); parsing
 * those by hand is ~5× cheaper than Date.parse, which matters in the 10k-ticket SLA sweep.
 * Anything else (offsets, no millis) goes through Date.parse.
 */
export function toMs(iso: string): EpochMs {
  if (iso.length !== 24 || iso.charCodeAt(23) !== 90 /* Z */ || iso.charCodeAt(10) !== 84 /* T */) return Date.parse(iso);
  return Date.UTC(digits(iso, 0, 4), digits(iso, 5, 2) - 1, digits(iso, 8, 2), digits(iso, 11, 2), digits(iso, 14, 2), digits(iso, 17, 2), digits(iso, 20, 3));
}
