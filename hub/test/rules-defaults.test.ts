import { CAMERA_ALERT_KINDS, Rule, RuleDecision, RULE_SCHEMAS, Validator } from '@shaobing/schemas';
import { describe, expect, it } from 'vitest';
import { compileRuleFiles, compileRules, type DeviceContext } from '../src/rules/core/index.ts';
import { DEFAULT_RULES, DEFAULT_RULES_BY_FAMILY } from '../src/rules/defaults/index.ts';
import { device, Harness, HOUR, MIN, SEC, T0 } from './rules-fixtures.ts';

type Fire = (h: Harness, d: DeviceContext) => RuleDecision[];
const offline = (ms: number): Fire => (h) => { h.tick(T0); return h.tick(T0 + ms); };
const alert = (kind: string): Fire => (h, d) => h.at(T0, d, 'camera.alert', { kind, confidence: 0.8, snapshotUrl: 'https://cdn.example/a.jpg' });
const tel = (powerW: number, temperatureC: number, plugged = true) => ({ port: 2, powerW, temperatureC, plugged });

/** A crafted input that must make each default rule open a ticket. */
const FIRE: Record<string, Fire> = {
  'door.held_open': (h, d) => { h.at(T0, d, 'door.opened'); return h.tick(T0 + MIN); },
  'door.held_open_reported': (h, d) => h.at(T0, d, 'door.held_open', { durationS: 61 }),
  'door.forced': (h, d) => h.at(T0, d, 'door.forced'),
  'door.tamper': (h, d) => h.at(T0, d, 'door.tamper'),
  'door.denied_burst': (h, d) => [0, 1, 2, 3, 4].flatMap((i) => h.at(T0 + i * 20 * SEC, d, 'door.access_denied', { credential: 'qr', reason: 'expired' })),
  'door.elderly_inactivity': (h) => { h.tick(T0); return h.tick(T0 + 24 * HOUR); },
  'door.offline': offline(10 * MIN),
  ...Object.fromEntries(CAMERA_ALERT_KINDS.map((k) => [`camera.${k}`, alert(k)])),
  'camera.offline': offline(10 * MIN),
  'bin.full': (h, d) => { h.at(T0, d, 'bin.telemetry', { fillPct: 80 }); return h.tick(T0 + 2 * MIN); },
  'bin.hot': (h, d) => h.at(T0, d, 'bin.telemetry', { fillPct: 20, temperatureC: 60 }),
  'bin.offline': offline(10 * MIN),
  'charger.overheat': (h, d) => h.at(T0, d, 'charger.telemetry', tel(300, 65)),
  'charger.smoke': (h, d) => h.at(T0, d, 'charger.smoke', {}),
  'charger.overload': (h, d) => h.at(T0, d, 'charger.telemetry', tel(1001, 40)),
  'charger.full_not_unplugged': (h, d) => { h.at(T0, d, 'charger.telemetry', tel(29, 30)); return h.tick(T0 + 90 * MIN); },
  'charger.long_session': (h, d) => { h.at(T0, d, 'charger.session_start', { port: 2, sessionId: 'x' }); return h.tick(T0 + 8 * HOUR); },
  'charger.fault': (h, d) => h.at(T0, d, 'charger.fault', { code: 'E12', message: 'relay stuck' }),
  'charger.offline': offline(30 * MIN),
};

describe('default rules', () => {
  const validator = new Validator(Rule);

  it('every default validates against the Rule schema and its kind schema; ids are unique', () => {
    for (const r of DEFAULT_RULES) {
      expect(validator.validate(r).ok, r.id).toBe(true);
      expect(new Validator(RULE_SCHEMAS[r.kind]).is(r), r.id).toBe(true);
    }
    expect(new Set(DEFAULT_RULES.map((r) => r.id)).size).toBe(DEFAULT_RULES.length);
    for (const [family, list] of Object.entries(DEFAULT_RULES_BY_FAMILY)) for (const r of list) expect(r.family).toBe(family);
    expect(() => compileRules(DEFAULT_RULES)).not.toThrow();
  });

  it('DESIGN §5 thresholds and severities', () => {
    const by = (id: string) => DEFAULT_RULES.find((r) => r.id === id)!;
    expect(by('door.forced').severity).toBe('critical');
    expect(by('door.denied_burst')).toMatchObject({ minCount: 5, windowMs: 120_000, severity: 'high', category: 'security' });
    expect(by('door.elderly_inactivity')).toMatchObject({ forMs: 24 * HOUR, requireElderlyCare: true, category: 'care' });
    expect(by('camera.smoke_fire')).toMatchObject({ severity: 'critical', category: 'fire_safety', deviceVerifiable: false });
    expect(by('camera.thrown_object')).toMatchObject({ severity: 'high', category: 'security', deviceVerifiable: false });
    expect(by('camera.ebike_in_elevator')).toMatchObject({ severity: 'high', quietMs: 10 * MIN });
    expect(by('bin.full')).toMatchObject({ forMs: 2 * MIN, category: 'sanitation', deviceVerifiable: true });
    expect(by('bin.hot').severity).toBe('critical');
    expect(by('charger.overheat').severity).toBe('critical');
    expect(by('charger.overload').severity).toBe('high');
    expect(by('charger.offline')).toMatchObject({ forMs: 30 * MIN });
    expect(by('door.offline')).toMatchObject({ forMs: 10 * MIN });
  });

  it('a crafted input exists for every default rule', () => {
    expect(Object.keys(FIRE).sort()).toEqual(DEFAULT_RULES.map((r) => r.id).sort());
  });

  for (const r of DEFAULT_RULES) {
    it(`${r.id} fires and renders its templates`, () => {
      const dev = device(`${r.family}-1`, r.family, { elderlyCare: true, locationLabel: 'Bldg 1 Unit 1' });
      const h = new Harness([r], [dev]);
      const decisions = FIRE[r.id]!(h, dev);
      // Every decision honours the contract with the ticket engine.
      for (const d of decisions) expect(new Validator(RuleDecision).validate(d).ok, JSON.stringify(d)).toBe(true);
      const open = decisions.find((d) => d.kind === 'open');
      if (open?.kind !== 'open') throw new Error(`${r.id} did not open`);
      expect(open).toMatchObject({ ruleId: r.id, severity: r.severity, category: r.category, deviceVerifiable: r.deviceVerifiable, siteId: 's1' });
      for (const text of [open.title['zh-CN'], open.title.en, open.description['zh-CN'], open.description.en]) {
        expect(text).not.toMatch(/[{}]/);
        expect(text).not.toMatch(/\s{2,}|（）|\(\)/);
      }
      expect(open.title['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      // English text is plain: no Chinese slipped in (symbols ≥ and ° are fine).
      expect(open.description.en).toMatch(/^[\x20-\x7e°≥]+$/);
    });
  }

  it('durations are overridable per site through a RuleFile patch (e2e shortens 2 min to 5 s)', () => {
    const rules = compileRuleFiles(DEFAULT_RULES, [{ version: 1, siteId: 'e2e', rules: [{ id: 'bin.full', forMs: 5000 }] }]);
    const fast = device('bin-1', 'bin', { siteId: 'e2e' });
    const slow = device('bin-2', 'bin');
    const h = new Harness(rules, [fast, slow]);
    h.at(T0, fast, 'bin.telemetry', { fillPct: 90 });
    h.at(T0, slow, 'bin.telemetry', { fillPct: 90 });
    expect(h.tick(T0 + 5 * SEC).map((d) => d.dedupKey)).toEqual(['bin.full:e2e:device:bin-1']);
    expect(h.tick(T0 + 2 * MIN).map((d) => d.dedupKey)).toEqual(['bin.full:s1:device:bin-2']);
    expect(h.log[0]?.d.kind === 'open' && h.log[0].d.description['zh-CN']).toContain('已持续 5秒');
  });
});
