import type { Category, ComplaintInput, Localized, Severity, Ticket } from '@shaobing/schemas';
import { isActive } from './permissions.ts';
import { newTicket } from './new-ticket.ts';
import { offerTicket } from './offer.ts';
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
  /** 抢单: offer it to this many nearest workers of its team (site offerNearest). */
  offerNearest?: number;
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
  const t = newTicket({
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
      ...(input.contact !== undefined ? { contact: input.contact } : {}),
    },
  }, route, now, ctx.policy ?? DEFAULT_SLA_POLICY);
  return ctx.offerNearest === undefined ? t : offerTicket(t, ctx.index, { cellId: input.cellId }, ctx.offerNearest);
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

/**
 * What a complaint's text is about, as the rule ids (or rule-id prefixes) of the proactive
 * tickets that would cover it. Categories are coarse (an e-bike in the lift and a smoking
 * charger are both 消防安全); a topic keeps the matcher from claiming the wrong ticket.
 */
const TOPICS: ReadonlyArray<{ topic: string; all: readonly RegExp[]; rules: readonly string[] }> = [
  { topic: 'ebike_in_elevator', all: [/电动车|电瓶车|电动自行车|e-?bike|scooter/i, /电梯|轿厢|\blift\b|elevator/i], rules: ['camera.ebike_in_elevator'] },
  { topic: 'charging', all: [/充电|charg/i], rules: ['charger.'] },
  { topic: 'smoke_fire', all: [/冒烟|烟雾|着火|起火|明火|smoke|fire\b|burning/i], rules: ['camera.smoke_fire', 'charger.smoke', 'charger.overheat'] },
  { topic: 'fire_lane', all: [/消防通道|fire lane/i], rules: ['camera.fire_lane_blocked'] },
  { topic: 'clutter', all: [/堆物|杂物|堆放|clutter/i], rules: ['camera.corridor_clutter'] },
  { topic: 'thrown_object', all: [/抛物|thrown/i], rules: ['camera.thrown_object'] },
  { topic: 'parking', all: [/停车|占道|parking|parked/i], rules: ['camera.illegal_parking'] },
  { topic: 'garbage', all: [/垃圾|满溢|bin\b|bins\b|trash|garbage|rubbish/i], rules: ['bin.', 'camera.bin_overflow', 'camera.mixed_garbage'] },
  { topic: 'door', all: [/单元门|门禁|大门|door/i], rules: ['door.'] },
];

/** Topics a complaint text mentions; an e-bike in the lift is not "charging" even if the word appears with it. */
export function complaintTopics(text: string): string[] {
  const hits = TOPICS.filter((t) => t.all.every((re) => re.test(text))).map((t) => t.topic);
  return hits;
}

const topicRules = (topics: readonly string[]): string[] => TOPICS.filter((t) => topics.includes(t.topic)).flatMap((t) => t.rules);
const KNOWN_RULES = TOPICS.flatMap((t) => t.rules);
const ruleIn = (ruleId: string | undefined, rules: readonly string[]): boolean =>
  ruleId !== undefined && rules.some((r) => (r.endsWith('.') ? ruleId.startsWith(r) : ruleId === r));

export interface ComplaintMatch {
  proactive: Ticket;
  /** The proactive ticket existed before the resident reported: 未诉先办 worked. */
  preempted: boolean;
  /** Link both ways; apply each with a `system:complaint` actor. */
  links: Array<{ ticketId: string; action: TicketAction }>;
  /** Why this ticket, in words a dispatcher can check. */
  reason: Localized;
}

/** One candidate as the matcher judged it: chosen, a runner-up, or why it was ruled out. */
export interface MatchCandidate {
  ticketId: string;
  verdict: 'chosen' | 'eligible' | 'ruled_out';
  reason: Localized;
}

type ComplaintLike = Pick<Ticket, 'id' | 'siteId' | 'cellId' | 'category' | 'openedAt'> & { complaint?: Ticket['complaint'] };

const LEVEL_LABEL = { street: ['街道', 'street'], community: ['社区', 'community'], compound: ['楼院', 'compound'], unit: ['单元', 'unit'] } as const;

/**
 * How close a ticket's place is to the complaint's: 3 the same cell, 2 a cell inside the
 * complaint's (the ticket is more precise), 1 the ticket's cell encloses the complaint's
 * (a compound-wide ticket for a unit's complaint), 0 not the same place (samePlace).
 */
function placeScore(index: GridIndex, complaintCell: string, ticketCell: string): number {
  if (complaintCell === ticketCell) return 3;
  if (!samePlace(index, complaintCell, ticketCell)) return 0;
  return ancestry(index, ticketCell).some((c) => c.id === complaintCell) ? 2 : 1;
}

/**
 * The proactive ticket that already covers a complaint, with the reasons for every candidate.
 * Eligible: same site and category, same place (samePlace), live or resolved within `windowMs`,
 * and — when the text names a topic — a rule of that topic. Preference, strongest first:
 * topic named and matched › most specific place (same cell › inside › enclosing) › live over
 * recently resolved › nearest in time to the report. A resolved ticket of the very unit beats a
 * live one of the whole compound: the resident saw the same thing the camera saw.
 */
export function explainComplaintMatch(
  complaint: ComplaintLike, candidates: readonly Ticket[], index: GridIndex, now: EpochMs, windowMs = COMPLAINT_MATCH_WINDOW_MS,
  /** The dispatcher's decision: link this eligible ticket instead, or (null) none; undefined = the best. */
  prefer?: string | null,
): { match: ComplaintMatch | null; candidates: MatchCandidate[] } {
  const topics = complaintTopics(complaint.complaint?.text ?? '');
  const rules = topicRules(topics);
  const reportedAt = toMs(complaint.complaint?.reportedAt ?? complaint.openedAt);
  const judged: Array<MatchCandidate & { score: number[]; ticket: Ticket }> = [];
  const out = (t: Ticket, zh: string, en: string): void => {
    judged.push({ ticketId: t.id, verdict: 'ruled_out', reason: { 'zh-CN': zh, en }, score: [], ticket: t });
  };
  for (const t of candidates) {
    if (t.id === complaint.id) continue;
    if (t.origin !== 'proactive') { out(t, '不是主动发现工单', 'not a proactive ticket'); continue; }
    if (t.siteId !== complaint.siteId) { out(t, '不同站点', 'another site'); continue; }
    if (t.category !== complaint.category) { out(t, '类别不同', 'another category'); continue; }
    const live = isActive(t.status);
    const resolvedAgo = t.resolvedAt === null ? null : now - toMs(t.resolvedAt);
    const recentlyResolved = (t.status === 'resolved' || t.status === 'closed') && resolvedAgo !== null && resolvedAgo <= windowMs;
    if (!live && !recentlyResolved) { out(t, '已办结过久或已剔除', 'resolved too long ago, or dismissed'); continue; }
    const place = placeScore(index, complaint.cellId, t.cellId);
    if (place === 0) { out(t, '不是同一地点', 'not the same place'); continue; }
    const onTopic = ruleIn(t.ruleId, rules);
    // Ruled out only when the ticket is known to be about something else; a custom rule of no
    // known topic stays eligible, behind any on-topic ticket.
    if (rules.length > 0 && !onTopic && ruleIn(t.ruleId, KNOWN_RULES)) { out(t, '诉求内容与该工单所报问题不符', `the complaint is about something else than this ticket (${t.ruleId ?? 'no rule'})`); continue; }
    const cell = index.cells.get(t.cellId);
    const lvl = cell === undefined ? ['网格', 'cell'] : LEVEL_LABEL[cell.level];
    const where = place === 3 ? ['同一网格', 'the same cell'] : place === 2 ? [`所在${lvl[0]}内`, `inside it (${lvl[1]})`] : [`覆盖整个${lvl[0]}`, `covers the whole ${lvl[1]}`];
    const when = live ? ['仍在办理', 'still open']
      : [`${Math.round((resolvedAgo ?? 0) / 60_000)} 分钟前办结`, `resolved ${Math.round((resolvedAgo ?? 0) / 60_000)} min ago`];
    const topicText = onTopic ? ['诉求内容相符，', 'same topic, '] : ['', ''];
    const eventAt = live ? toMs(t.openedAt) : toMs(t.resolvedAt!);
    judged.push({
      ticketId: t.id, verdict: 'eligible', ticket: t,
      reason: { 'zh-CN': `${topicText[0]}${where[0]}，${when[0]}`, en: `${topicText[1]}${where[1]}, ${when[1]}` },
      score: [onTopic ? 1 : 0, place, live ? 1 : 0, -Math.abs(reportedAt - eventAt)],
    });
  }
  const better = (a: number[], b: number[]): boolean => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
    return false;
  };
  let best: (typeof judged)[number] | null = null;
  for (const j of judged) if (j.verdict === 'eligible' && (best === null || better(j.score, best.score))) best = j;
  if (prefer !== undefined) best = prefer === null ? null : judged.find((j) => j.ticketId === prefer && j.verdict === 'eligible') ?? null;
  const list: MatchCandidate[] = judged.map((j) => ({ ticketId: j.ticketId, verdict: j === best ? 'chosen' : j.verdict, reason: j.reason }));
  if (best === null) return { match: null, candidates: list };
  const proactive = best.ticket;
  const preempted = toMs(proactive.openedAt) <= reportedAt;
  return {
    match: {
      proactive,
      preempted,
      reason: best.reason,
      links: [
        { ticketId: complaint.id, action: { kind: 'link', ticketId: proactive.id, preempted } },
        { ticketId: proactive.id, action: { kind: 'link', ticketId: complaint.id } },
      ],
    },
    candidates: list,
  };
}

/** The chosen ticket only (see explainComplaintMatch). */
export function matchComplaint(
  complaint: ComplaintLike, candidates: readonly Ticket[], index: GridIndex, now: EpochMs, windowMs = COMPLAINT_MATCH_WINDOW_MS,
): ComplaintMatch | null {
  return explainComplaintMatch(complaint, candidates, index, now, windowMs).match;
}
