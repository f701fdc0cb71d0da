import type { LiveBatch, LiveDataMessage, LiveHello, LiveReset, StoredEvent, Ticket } from '../src/lib/contract.ts';

export const NOW = Date.parse('2025-03-01T08:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;

let n = 0;
export function ticket(o: Partial<Ticket> = {}): Ticket {
  n++;
  return {
    id: `t${n}`, siteId: 'demo', origin: 'proactive', status: 'open', severity: 'normal', category: 'sanitation', team: 'cleaning',
    title: { 'zh-CN': '垃圾满溢', en: 'Bin full' }, description: { 'zh-CN': '', en: '' }, cellId: 'u1', locationLabel: '1号楼',
    ladder: { grid: 'w1', community: null, street: null }, escalationLevel: 0, escalatedAt: null, occurrences: 1, evidence: [],
    deviceVerifiable: true, openedAt: iso(NOW - 10 * MIN), slaStartedAt: iso(NOW - 10 * MIN), dispatchedAt: null, acceptedAt: null,
    resolvedAt: null, closedAt: null, respondBy: iso(NOW + 110 * MIN), resolveBy: iso(NOW + 7 * 24 * 60 * MIN),
    warnedRespond: false, warnedResolve: false, reopenCount: 0, linkedTicketIds: [], preempted: false, version: 1, ...o,
  };
}

export function event(o: Partial<StoredEvent> = {}): StoredEvent {
  n++;
  return { siteId: 'demo', deviceId: 'bin-1', family: 'bin', channel: 'telemetry', type: 'bin.telemetry', msgId: `m${n}`, ts: iso(NOW + n), receivedAt: iso(NOW + n), data: { fillPct: 50 }, ...o };
}

export const hello = (seq: number, epoch = 'e1'): LiveHello => ({ seq, kind: 'hello', at: iso(NOW), payload: { protocol: 1, epoch, oldestSeq: 1, username: 'admin', sites: null, batchMs: 100 } });
export const reset = (seq: number, epoch = 'e1'): LiveReset => ({ seq, kind: 'reset', at: iso(NOW), payload: { reason: 'too_far_behind', epoch } });
export const msg = (seq: number): LiveDataMessage => ({ seq, kind: 'event', at: iso(NOW), payload: event({ msgId: `s${seq}` }) });
export const batch = (after: number, seqs: number[], upTo = seqs[seqs.length - 1] ?? after): LiveBatch => ({ kind: 'batch', after, upTo, messages: seqs.map(msg) });
