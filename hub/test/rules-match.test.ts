import { describe, expect, it } from 'vitest';
import { CAMERA_RULES, DOOR_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, Harness, HOUR, MIN, opens, SEC, T0 } from './rules-fixtures.ts';

const cam = device('cam-1', 'camera');
const ebike = CAMERA_RULES.find((r) => r.id === 'camera.ebike_in_elevator')!;
const smoke = CAMERA_RULES.find((r) => r.id === 'camera.smoke_fire')!;
const KEY = 'camera.ebike_in_elevator:s1:device:cam-1';
const alert = (kind: string, confidence: number, extra: Record<string, unknown> = {}) => ({ kind, confidence, ...extra });

describe('match: camera alerts', () => {
  it('confidence ≥ the 0.6 floor opens (exactly 0.6 included; under 0.8 the ticket shell holds it for review), 0.59 does not, other kinds do not', () => {
    const h = new Harness([ebike], [cam]);
    expect(h.at(T0, cam, 'camera.alert', alert('ebike_in_elevator', 0.59))).toEqual([]);
    expect(h.at(T0, cam, 'camera.alert', alert('ebike_in_elevator', 0.6))).toMatchObject([{ kind: 'open', dedupKey: KEY }]);
    expect(h.at(T0 + SEC, cam, 'camera.alert', alert('fire_lane_blocked', 0.99))).toEqual([]);
    const [d] = h.at(T0 + 2 * SEC, cam, 'camera.alert', alert('ebike_in_elevator', 0.8, { snapshotUrl: 'https://cdn.example/s/1.jpg' }));
    expect(d).toMatchObject({ kind: 'open', dedupKey: KEY, severity: 'high', category: 'fire_safety', deviceVerifiable: true });
    expect(d?.evidence.snapshotUrl).toBe('https://cdn.example/s/1.jpg');
    expect(d?.evidence.summary).toBe('camera.alert kind=ebike_in_elevator confidence=0.8');
    expect(d?.kind === 'open' && d.description['zh-CN']).toContain('识别到电动自行车进入电梯（置信度 0.8）');
  });

  it('repeats emit open again with the same key (the ticket engine counts occurrences)', () => {
    const h = new Harness([ebike], [cam]);
    h.at(T0, cam, 'camera.alert', alert('ebike_in_elevator', 0.9));
    h.at(T0 + 30 * SEC, cam, 'camera.alert', alert('ebike_in_elevator', 0.95));
    h.at(T0 + 60 * SEC, cam, 'camera.alert', alert('ebike_in_elevator', 0.85));
    expect(brief(h.log.map((l) => l.d))).toEqual([`open:${KEY}`, `open:${KEY}`, `open:${KEY}`]);
    expect(new Set(h.log.map((l) => l.d.evidence.eventKey)).size).toBe(3);
  });

  it('alert_cleared of the same kind resolves; of another kind does not', () => {
    const h = new Harness([ebike], [cam]);
    h.at(T0, cam, 'camera.alert', alert('ebike_in_elevator', 0.9));
    expect(h.at(T0 + SEC, cam, 'camera.alert_cleared', { kind: 'fire_lane_blocked' })).toEqual([]);
    expect(brief(h.at(T0 + 2 * SEC, cam, 'camera.alert_cleared', { kind: 'ebike_in_elevator' }))).toEqual([`resolve:${KEY}`]);
    // Cleared again: nothing open, nothing to say.
    expect(h.at(T0 + 3 * SEC, cam, 'camera.alert_cleared', { kind: 'ebike_in_elevator' })).toEqual([]);
  });

  it('quiet for 10 min auto-resolves; each repeat restarts the quiet timer', () => {
    const h = new Harness([ebike], [cam]);
    h.at(T0, cam, 'camera.alert', alert('ebike_in_elevator', 0.9));
    h.at(T0 + 5 * MIN, cam, 'camera.alert', alert('ebike_in_elevator', 0.9));
    expect(h.tick(T0 + 10 * MIN)).toEqual([]);
    expect(h.tick(T0 + 15 * MIN - 1)).toEqual([]);
    const [r] = h.tick(T0 + 15 * MIN);
    expect(r).toMatchObject({ kind: 'resolve_by_device', dedupKey: KEY });
    expect(r?.evidence.eventKey).toBe(`tick:${new Date(T0 + 15 * MIN).toISOString()}`);
    expect(h.tick(T0 + 30 * MIN)).toEqual([]);
  });

  it('a late alert older than the clear is ignored', () => {
    const h = new Harness([ebike], [cam]);
    h.at(T0, cam, 'camera.alert', alert('ebike_in_elevator', 0.9));
    h.at(T0 + 20 * SEC, cam, 'camera.alert_cleared', { kind: 'ebike_in_elevator' });
    expect(h.at(T0 + 10 * SEC, cam, 'camera.alert', alert('ebike_in_elevator', 0.9))).toEqual([]);
  });

  it('smoke_fire is critical, never auto-resolves (no clear, no quiet)', () => {
    const h = new Harness([smoke], [cam]);
    const [d] = h.at(T0, cam, 'camera.alert', alert('smoke_fire', 0.92));
    expect(d).toMatchObject({ kind: 'open', severity: 'critical', category: 'fire_safety', deviceVerifiable: false });
    expect(h.at(T0 + SEC, cam, 'camera.alert_cleared', { kind: 'smoke_fire' })).toEqual([]);
    expect(h.tick(T0 + HOUR)).toEqual([]);
    // Stateless: nothing remembered per camera.
    expect(Object.keys(h.state.slots['s1/camera.smoke_fire']?.s ?? {})).toEqual([]);
  });

  it('door.held_open report and the opened/closed timer share one ticket; closing resolves once', () => {
    const door = device('door-1', 'door');
    const h = new Harness(DOOR_RULES.filter((r) => r.id.startsWith('door.held_open')), [door]);
    h.at(T0, door, 'door.opened');
    const o = [...h.tick(T0 + 60 * SEC), ...h.at(T0 + 61 * SEC, door, 'door.held_open', { durationS: 61 })];
    expect(brief(o)).toEqual(['open:door.held_open:s1:device:door-1', 'open:door.held_open:s1:device:door-1']);
    expect(brief(h.at(T0 + 90 * SEC, door, 'door.closed'))).toEqual(['resolve:door.held_open:s1:device:door-1']);
    expect(opens(h.at(T0 + 100 * SEC, door, 'door.held_open', { durationS: 60 }))).toEqual([]);
  });
});
