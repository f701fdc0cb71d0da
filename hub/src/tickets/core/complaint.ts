import type { Category, ComplaintInput, Localized, Severity, Ticket } from '@shaobing/schemas';
import { isActive } from './permissions.ts';
import { newTicket } from './new-ticket.ts';
import { ancestry, routeTicket, type GridIndex } from './routing.ts';
import { DEFAULT_SLA_POLICY, type SlaPolicy } from './sla.ts';
import { toIso, toMs, type EpochMs, type TicketAction } from './types.ts';

/** A proactive ticket resolved up to this long ago still answers a complaint (the fix was recent). */
export const COMPLAINT_MATCH_WINDOW_MS = 7 * 24 * 60 * 60_000;

/** Category names as residents and street offices say them. */
export const CATEGORY_LABEL: Record<Category, Localized> = {
  fire_safety: { 'zh-CN': '消防安全', en: 'fire safety' },
  sanitation: { 'zh-CN': '环境卫生', en: 'sanitation' },
  security: { 'zh-CN': '治安防范', en: 'security' },
  order: { 'zh-CN': '公共秩序', en: 'public order' },
  care: { 'zh-CN': '关爱服务', en: 'care' },
  equipment: { 'zh-CN': '设施设备', en: 'equipment' },
};

export interface ComplaintContext {
  newId: string;
  index: GridIndex;
  load?: ReadonlyMap<string, number>;
  policy?: SlaPolicy;
  /** Defaults to the cell's name. */
  locationLabel?: string;
  /** Complaints default to normal; the intake desk may raise it. */
  severity?: Severity;
}

/** A 接诉即办 ticket from a complaint. Its SLA clock starts at intake (`now`), not at reportedAt. */
export function ticketFromComplaint(input: ComplaintInput, ctx: ComplaintContext, now: EpochMs): Ticket {
  const label = CATEGORY_LABEL[input.category];
  const text = input.text.slice(0, 500);
  const route = routeTicket({ cellId: input.cellId, category: input.category }, ctx.index, ctx.load);
  return newTicket({
    id: ctx.newId,
    siteId: input.siteId,
    origin: 'complaint',
    severity: ctx.severity ?? 'normal',
    category: input.category,
    title: { 'zh-CN': `居民诉求：${label['zh-CN']}`, en: `Resident complaint: ${label.en}` },
    description: { 'zh-CN': text, en: text },
    cellId: input.cellId,
    locationLabel: ctx.locationLabel ?? ctx.index.cells.get(input.cellId)?.name ?? input.cellId,
    deviceVerifiable: false,
    evidence: [],
    complaint: {
      source: input.source,
      text: input.text,
      ...(input.externalRef !== undefined ? { externalRef: input.externalRef } : {}),
      reportedAt: input.reportedAt ?? toIso(now),
    },
  }, route, now, ctx.policy ?? DEFAULT_SLA_POLICY);
}

/**
 * "Same place" for complaint matching: the same cell, or one cell inside the other where the
 * outer one is a compound (楼院) or a unit — a resident of unit 3-2 complaining about the
 * courtyard bin matches the bin's compound-level ticket, and vice versa. Sibling units and
 * anything at community or street level do not match: too coarse to claim 未诉先办.
 */
export function samePlace(index: GridIndex, a: string, b: string): boolean {
  if (a === b) return true;
  const inside = (inner: string, outer: string): boolean => {
    const chain = ancestry(index, inner);
    const hit = chain.find((c) => c.id === outer);
    return hit !== undefined && (hit.level === 'compound' || hit.level === 'unit');
  };
  return inside(a, b) || inside(b, a);
}

export interface ComplaintMatch {
  proactive: Ticket;
  /** The proactive ticket existed before the resident reported: 未诉先办 worked. */
  preempted: boolean;
  /** Link both ways; apply each with a `system:complaint` actor. */
  links: Array<{ ticketId: string; action: TicketAction }>;
}

type ComplaintLike = Pick<Ticket, 'id' | 'siteId' | 'cellId' | 'category' | 'openedAt'> & { complaint?: Ticket['complaint'] };

/**
 * The proactive ticket that already covers a complaint: same site, same category, same place
 * (samePlace), and live or resolved within `windowMs`. Preference: live over resolved, exact
 * cell over nested cell, then the most recently opened.
 */
export function matchComplaint(
  complaint: ComplaintLike, candidates: readonly Ticket[], index: GridIndex, now: EpochMs, windowMs = COMPLAINT_MATCH_WINDOW_MS,
): ComplaintMatch | null {
  let best: Ticket | null = null;
  let bestScore = -Infinity;
  for (const t of candidates) {
    if (t.origin !== 'proactive' || t.siteId !== complaint.siteId || t.category !== complaint.category) continue;
    const live = isActive(t.status);
    const recentlyResolved = (t.status === 'resolved' || t.status === 'closed') && t.resolvedAt !== null && now - toMs(t.resolvedAt) <= windowMs;
    if (!live && !recentlyResolved) continue;
    if (!samePlace(index, complaint.cellId, t.cellId)) continue;
    // Lexicographic preference packed in one number: live › exact cell › newest.
    const score = (live ? 4e15 : 0) + (t.cellId === complaint.cellId ? 2e15 : 0) + toMs(t.openedAt);
    if (score > bestScore) { best = t; bestScore = score; }
  }
  if (best === null) return null;
  const reportedAt = complaint.complaint?.reportedAt ?? complaint.openedAt;
  const preempted = toMs(best.openedAt) <= toMs(reportedAt);
  return {
    proactive: best,
    preempted,
    links: [
      { ticketId: complaint.id, action: { kind: 'link', ticketId: best.id, preempted } },
      { ticketId: best.id, action: { kind: 'link', ticketId: complaint.id } },
    ],
  };
}
