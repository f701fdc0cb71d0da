import { describe, expect, it } from 'vitest';
import { auditNote, durationWords, evidenceText } from '../src/lib/explain.ts';
import { dispatchOptions } from '../src/lib/dispatch.ts';
import { placeOptions } from '../src/lib/place-options.ts';
import { translate, type MessageKey } from '../src/i18n/index.ts';
import type { Evidence, GridCell } from '../src/lib/contract.ts';
import { ticket } from './fixtures.ts';

const zh = (k: MessageKey, p?: Record<string, string | number>) => translate('zh-CN', k, p);
const en = (k: MessageKey, p?: Record<string, string | number>) => translate('en', k, p);
const time = (iso: string) => iso.slice(11, 16);
const ev = (o: Partial<Evidence>): Evidence => ({ eventKey: 'k', ts: '2025-03-01T08:00:00Z', type: 'door.opened', summary: 'English summary', ...o });

describe('evidence and audit rows from data, in the reader\'s language', () => {
  it('durations as words', () => {
    expect(durationWords(120_000, zh)).toBe('2 分钟');
    expect(durationWords(20_000, zh)).toBe('20 秒');
    expect(durationWords(5_400_000, zh)).toBe('1 小时 30 分钟');
    expect(durationWords(120_000, en)).toBe('2 min');
  });

  it('each cause, with event types and coded fields translated', () => {
    expect(evidenceText(ev({ detail: { cause: 'no_stop', forMs: 20_000, types: ['door.closed'], fields: { method: 'card' } } }), zh, time)).toBe('开门 · 刷卡，20 秒内无关门');
    expect(evidenceText(ev({ type: 'door.access_denied', detail: { cause: 'count', count: 5, windowMs: 120_000, fields: { credential: 'card', reason: 'expired' } } }), zh, time))
      .toBe('拒绝通行 · 刷卡，凭证过期（2 分钟内 5 次）');
    expect(evidenceText(ev({ type: 'bin.telemetry', detail: { cause: 'held', forMs: 120_000, fields: { fillPct: 92 } } }), zh, time)).toBe('满溢监测 · 满溢度 92，持续 2 分钟');
    expect(evidenceText(ev({ type: 'tick', detail: { cause: 'offline', forMs: 600_000, lastAt: '2025-03-01T07:50:00Z' } }), zh, time)).toBe('10 分钟无任何消息（最后一次 07:50）');
    expect(evidenceText(ev({ type: 'camera.alert', detail: { cause: 'event', fields: { kind: 'smoke_fire', confidence: 0.93, trackId: 't-1' } } }), en, time)).toBe('AI alert · smoke or fire, confidence 0.93'.replace('smoke or fire', translate('en', 'alertKind.smoke_fire')));
  });

  it('older evidence and audit rows without data keep their stored text', () => {
    expect(evidenceText(ev({}), zh, time)).toBe('English summary');
    expect(auditNote({ note: 'free text' }, zh, time)).toBe('free text');
    expect(auditNote({}, zh, time)).toBeNull();
  });

  it('audit reasons with the operator\'s own words after them', () => {
    expect(auditNote({ note: 'unsatisfied: 门还是关不严', reason: { code: 'rated', params: { rating: 'unsatisfied' }, text: '门还是关不严' } }, zh, time)).toBe('回访评价：不满意 · 门还是关不严');
    expect(auditNote({ note: 'false_alarm: x', reason: { code: 'dismiss_requested', params: { reason: 'false_alarm' }, text: 'x' } }, zh, time)).toBe('申请剔除（误报） · x');
    expect(auditNote({ reason: { code: 'sla_warning', params: { deadline: 'respond', percent: 80 } } }, zh, time)).toBe('响应时限已过 80%（催办）');
    expect(auditNote({ reason: { code: 'device_not_confirmed', params: { confirmBy: '2025-03-01T08:02:00Z', reading: 'fill_pct=95' } } }, zh, time))
      .toBe('设备未在 08:02 前确认恢复，再派件（设备仍报告 满溢度 95）');
  });
});

describe('dispatch list and place picker', () => {
  const cells: GridCell[] = [
    { id: 'st', level: 'street', name: '街道' }, { id: 'c1', level: 'community', name: '社区一', parentId: 'st' },
    { id: 'y1', level: 'compound', name: '一号院', parentId: 'c1' }, { id: 'u1', level: 'unit', name: '1单元', parentId: 'y1' },
    { id: 'y2', level: 'compound', name: '二号院', parentId: 'c1' },
  ];
  it('suggests the right team covering the place first, then the least loaded', () => {
    const workers = [
      { id: 'w-far', name: '甲', cellId: 'y2', teams: ['cleaning' as const] },
      { id: 'w-busy', name: '乙', cellId: 'y1', teams: ['cleaning' as const] },
      { id: 'w-free', name: '丙', cellId: 'c1', teams: ['cleaning' as const] },
      { id: 'w-guard', name: '丁', cellId: 'y1', teams: ['security' as const] },
    ];
    const tickets = [ticket({ assigneeId: 'w-busy', status: 'accepted' }), ticket({ assigneeId: 'w-busy', status: 'dispatched' }), ticket({ assigneeId: 'w-free', status: 'closed' })];
    const list = dispatchOptions(workers, cells, tickets, { category: 'sanitation', cellId: 'u1' });
    expect(list.map((o) => [o.id, o.suggested, o.load, o.cellName])).toEqual([
      ['w-free', true, 0, '社区一'], ['w-busy', true, 2, '一号院'], ['w-guard', false, 0, '一号院'], ['w-far', false, 0, '二号院'], // ties by name (pinyin: ding < jia)
    ]);
  });
  it('the grid tree as an indented list', () => {
    expect(placeOptions(cells).map((p) => `${p.depth}:${p.id}`)).toEqual(['0:st', '1:c1', '2:y2', '2:y1', '3:u1'] /* by name in pinyin order: 二 < 一 */);
  });
});
