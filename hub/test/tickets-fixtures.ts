// Shared fixtures for the ticket/KPI core tests: a small grid, a fake clock, ticket builders.
import type { Evidence, GridCell, Ticket, TicketStatus, Worker } from '@shaobing/schemas';
import { applyAction, buildGridIndex, newTicket, routeTicket, type Actor, type TicketAction } from '../src/tickets/core/index.ts';

export const T0 = Date.parse('2026-03-02T08:00:00.000Z');
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const iso = (ms: number): string => new Date(ms).toISOString();

/** 街道 S1 › 社区 C1 › 楼院 P1 › units U1, U2; P2 › U3; 社区 C2 › P3 (nobody staffed below C2). */
export const GRID: GridCell[] = [
  { id: 'S1', level: 'street', name: '街道' },
  { id: 'C1', level: 'community', name: '社区一', parentId: 'S1' },
  { id: 'P1', level: 'compound', name: '一号院', parentId: 'C1' },
  { id: 'U1', level: 'unit', name: '1-1单元', parentId: 'P1' },
  { id: 'U2', level: 'unit', name: '1-2单元', parentId: 'P1' },
  { id: 'P2', level: 'compound', name: '二号院', parentId: 'C1' },
  { id: 'U3', level: 'unit', name: '2-1单元', parentId: 'P2' },
  { id: 'C2', level: 'community', name: '社区二', parentId: 'S1' },
  { id: 'P3', level: 'compound', name: '三号院', parentId: 'C2' },
];
export const WORKERS: Worker[] = [
  { id: 'w-street', name: '街道调度', cellId: 'S1', teams: ['security'] },
  { id: 'w-street-clean', name: '街道环卫', cellId: 'S1', teams: ['cleaning'] },
  { id: 'w-comm', name: '社区网格长', cellId: 'C1', teams: ['security', 'care'] },
  { id: 'w-clean', name: '保洁', cellId: 'P1', teams: ['cleaning'] },
  { id: 'w-sec', name: '保安', cellId: 'P1', teams: ['security'] },
  { id: 'w-u1', name: '网格员', cellId: 'U1', teams: ['care'] },
];
export const INDEX = buildGridIndex(GRID, WORKERS);

export const SYSTEM: Actor = { id: 'system:sla', role: 'system' };
export const ADMIN: Actor = { id: 'root', role: 'admin' };
export const DISPATCHER: Actor = { id: 'disp', role: 'dispatcher' };
export const SUPERVISOR: Actor = { id: 'sup', role: 'supervisor' };
export const SUPERVISOR2: Actor = { id: 'sup2', role: 'supervisor' };

export function evidence(n: number, at = T0): Evidence {
  return { eventKey: `site1/bin-1/${n}`, ts: iso(at), type: 'bin.fill', deviceId: 'bin-1', summary: `fill 9${n % 10}%` };
}

let seq = 0;
/** A fresh open proactive ticket at `at` (default T0), routed on the test grid. */
export function makeTicket(over: Partial<Ticket> = {}, at = T0): Ticket {
  const cellId = over.cellId ?? 'U1';
  const category = over.category ?? 'sanitation';
  const route = routeTicket({ cellId, category }, INDEX);
  const t = newTicket({
    id: `t${++seq}`, siteId: 'site1', origin: 'proactive', severity: over.severity ?? 'normal', category,
    title: { 'zh-CN': '垃圾满溢', en: 'Bin overflow' }, description: { 'zh-CN': '满溢', en: 'overflow' },
    cellId, locationLabel: '1号院', deviceVerifiable: true, evidence: [evidence(0, at)], deviceId: 'bin-1',
    ruleId: 'bin-overflow', dedupKey: 'bin-overflow:bin-1',
  }, route, at);
  return { ...t, ...over };
}

/** Apply or throw: for building a ticket's history in tests. */
export function must(t: Ticket | null, a: TicketAction, actor: Actor, now: number): Ticket {
  const r = applyAction(t, a, actor, now);
  if (!r.ok) throw new Error(`${a.kind}: ${r.error.code} ${r.error.message}`);
  return r.ticket;
}

/** A ticket in `status`, reached through the real state machine (so its timestamps are coherent). */
export function ticketIn(status: TicketStatus, over: Partial<Ticket> = {}, at = T0): Ticket {
  let t = makeTicket(over, at);
  if (status === 'open') return t;
  // 人工核准: an AI alert under the bar opens like this (tickets/core ticketFromDecision).
  if (status === 'pending_review') return { ...t, status, review: { confidence: 0.7, below: 0.8 }, ...over };
  t = must(t, { kind: 'dispatch' }, DISPATCHER, at + MIN);
  if (status === 'dispatched') return t;
  if (status === 'dismissed') {
    t = must(t, { kind: 'request_dismiss', reasonCategory: 'false_alarm', note: 'sensor fault' }, DISPATCHER, at + 2 * MIN);
    return must(t, { kind: 'approve_dismiss' }, SUPERVISOR, at + 3 * MIN);
  }
  t = must(t, { kind: 'accept' }, DISPATCHER, at + 2 * MIN);
  if (status === 'accepted') return t;
  t = must(t, { kind: 'resolve', note: 'emptied' }, DISPATCHER, at + 10 * MIN);
  if (status === 'resolved') return t;
  if (status === 'closed') return must(t, { kind: 'rate', rating: 'satisfied' }, DISPATCHER, at + 20 * MIN);
  return must(t, { kind: 'rate', rating: 'unsatisfied' }, DISPATCHER, at + 20 * MIN); // reopened
}
