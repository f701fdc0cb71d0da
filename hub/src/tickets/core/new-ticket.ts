import { MAX_TICKET_EVIDENCE } from '@shaobing/schemas';
import type { Category, ComplaintInfo, Evidence, Localized, Origin, Severity, Ticket } from '@shaobing/schemas';
import type { Route } from './routing.ts';
import { computeDeadlines, DEFAULT_SLA_POLICY, type SlaPolicy } from './sla.ts';
import { toIso, type EpochMs } from './types.ts';

export interface NewTicketInput {
  id: string;
  siteId: string;
  origin: Origin;
  severity: Severity;
  category: Category;
  title: Localized;
  description: Localized;
  cellId: string;
  locationLabel: string;
  deviceVerifiable: boolean;
  evidence: Evidence[];
  deviceId?: string;
  ruleId?: string;
  dedupKey?: string;
  complaint?: ComplaintInfo;
}

/** A fresh `open` ticket, routed and with its SLA clock started at `now`. */
export function newTicket(input: NewTicketInput, route: Route, now: EpochMs, policy: SlaPolicy = DEFAULT_SLA_POLICY): Ticket {
  const at = toIso(now);
  const { evidence, ...rest } = input;
  return {
    ...rest,
    status: 'open',
    team: route.team,
    ...(route.assigneeId !== null ? { assigneeId: route.assigneeId } : {}),
    ladder: route.ladder,
    escalationLevel: 0,
    escalatedAt: null,
    occurrences: Math.max(1, evidence.length),
    evidence: evidence.slice(-MAX_TICKET_EVIDENCE),
    openedAt: at,
    slaStartedAt: at,
    dispatchedAt: null,
    acceptedAt: null,
    resolvedAt: null,
    closedAt: null,
    ...computeDeadlines(input.severity, now, policy),
    warnedRespond: false,
    warnedResolve: false,
    reopenCount: 0,
    linkedTicketIds: [],
    preempted: false,
    version: 1,
  };
}
