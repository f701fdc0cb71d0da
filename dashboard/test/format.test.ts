import { describe, expect, it } from 'vitest';
import { eventSummary, formatDuration, formatRate, formatTime, isOverdue, labelOf, timeLeft } from '../src/lib/format.ts';
import { translate, type MessageKey } from '../src/i18n/index.ts';
import { NOW, iso, ticket } from './fixtures.ts';

const tZh = (k: MessageKey, p?: Record<string, string | number>) => translate('zh-CN', k, p);

describe('durations and time left', () => {
  it('shows the two largest units, in each language', () => {
    expect(formatDuration(42_000, 'zh-CN')).toBe('42秒');
    expect(formatDuration(5 * 60_000 + 7_000, 'zh-CN')).toBe('5分07秒');
    expect(formatDuration(5 * 60_000 + 7_000, 'en')).toBe('5m 07s');
    expect(formatDuration(2 * 3_600_000 + 15 * 60_000, 'en')).toBe('2h 15m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000, 'zh-CN')).toBe('3天4小时');
    expect(formatDuration(-90_000, 'en')).toBe('1m 30s');
  });

  it('counts down to the response deadline, then to resolution, then shows overdue', () => {
    const open = ticket({ respondBy: iso(NOW + 4 * 60_000) });
    expect(timeLeft(open, NOW, 'zh-CN')).toMatchObject({ text: '响应 4分00秒', overdue: false, phase: 'respond' });
    expect(timeLeft(open, NOW + 5 * 60_000, 'en')).toMatchObject({ text: 'overdue 1m 00s', overdue: true });
    const accepted = ticket({ status: 'accepted', resolveBy: iso(NOW + 2 * 3_600_000) });
    expect(timeLeft(accepted, NOW, 'en').text).toBe('resolve 2h 0m');
    expect(timeLeft(ticket({ status: 'closed' }), NOW, 'en')).toMatchObject({ phase: 'none', overdue: false });
  });

  it('is not overdue exactly at the deadline', () => {
    const tk = ticket({ respondBy: iso(NOW) });
    expect(isOverdue(tk, NOW)).toBe(false);
    expect(isOverdue(tk, NOW + 1)).toBe(true);
  });
});

describe('other formats', () => {
  it('rates: percent, or a dash when nothing was due', () => {
    expect(formatRate({ value: 0.9345, numerator: 93, denominator: 100 })).toBe('93.5%');
    expect(formatRate({ value: 1, numerator: 3, denominator: 3 })).toBe('100%');
    expect(formatRate({ value: null, numerator: 0, denominator: 0 })).toBe('—');
    expect(formatRate(null)).toBe('—');
  });

  it('times are local wall-clock time', () => {
    const d = new Date(2025, 2, 1, 9, 5, 7); // local time
    expect(formatTime(d.getTime(), 'en')).toBe('09:05:07');
  });

  it('summarises events with units and translated alert kinds', () => {
    expect(eventSummary({ type: 'bin.telemetry', data: { fillPct: 85, temperatureC: 23.456 } }, tZh)).toBe('85% · 23.5°C');
    expect(eventSummary({ type: 'camera.alert', data: { kind: 'smoke_fire', confidence: 0.93, snapshotUrl: 'http://x/y.jpg' } }, tZh)).toBe('烟火 · 置信度 0.93');
  });

  it('labels fall back to the raw value', () => {
    expect(labelOf('status', 'open', tZh)).toBe('待派单');
    expect(labelOf('status', 'weird', tZh)).toBe('weird');
  });
});
