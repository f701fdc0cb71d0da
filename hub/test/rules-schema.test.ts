import { RuleFile, Validator } from '@shaobing/schemas';
import { describe, expect, it } from 'vitest';
import { compileRuleFiles, compileRules, formatDuration, parseRuleFile, RuleError } from '../src/rules/core/index.ts';
import { DEFAULT_RULES } from '../src/rules/defaults/index.ts';
import { device, Harness, rule, T0 } from './rules-fixtures.ts';

function issuesOf(f: () => unknown): string[] {
  try { f(); } catch (e) { if (e instanceof RuleError) return e.issues; throw e; }
  throw new Error('expected a RuleError');
}

const base = { id: 'x.rule', family: 'bin', kind: 'threshold', on: { type: 'bin.telemetry', where: [{ field: 'fillPct', op: 'gte', value: 80 }] }, forMs: 0 } as const;

describe('rule schema and compilation errors', () => {
  it('reports schema problems by kind, with the path and the rule id', () => {
    const issues = issuesOf(() => compileRules([rule({ ...base, forMs: -1 }), { kind: 'nope' }, rule({ kind: 'count', family: 'door', on: { type: 'door.access_denied' }, minCount: 1, windowMs: 1000 })]));
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^rules\/0 \(x\.rule\): \/forMs/);
    expect(issues[1]).toMatch(/kind must be one of match, threshold/);
    expect(issues[2]).toMatch(/\/minCount/);
  });

  it('catches what the schema cannot: types, families, fields, key fields, placeholders, zones, duplicates', () => {
    const issues = issuesOf(() => compileRules([
      rule({ ...base, id: 'a', on: { type: 'bin.overflow' } }),
      rule({ ...base, id: 'b', family: 'door' }),
      rule({ ...base, id: 'c', on: { type: 'bin.telemetry', where: [{ field: 'fillPercent', op: 'gte', value: 80 }] } }),
      rule({ ...base, id: 'd', keyFields: ['port'] }),
      rule({ ...base, id: 'e', title: { 'zh-CN': '{device} {valeu}', en: '{data.nothing}' } }),
      rule({ ...base, id: 'f', schedule: { from: '22:00', to: '06:00', tz: 'Mars/Olympus' } }),
      rule({ ...base, id: 'g', clearWhen: [{ field: 'tempC', op: 'lt', value: 1 }] }),
      rule({ kind: 'offline', id: 'h', family: 'bin', forMs: 1000, keyFields: ['port'] }),
      rule({ ...base, id: 'i', on: { type: 'bin.telemetry' } }),
      rule({ ...base, id: 'a2' }), rule({ ...base, id: 'a2' }),
    ]));
    const text = issues.join('\n');
    expect(text).toContain('(a)/on: unknown message type "bin.overflow"');
    expect(text).toContain('(b)/on: "bin.telemetry" is not a door message');
    expect(text).toContain('(c)/on: "bin.telemetry" has no field "fillPercent"');
    expect(text).toContain('(d)/keyFields: "bin.telemetry" has no field "port"');
    expect(text).toContain('(e)/title/zh-CN: unknown placeholder {valeu}');
    expect(text).toContain('(e)/title/en: {data.nothing}: no field "nothing"');
    expect(text).toContain('(f)/schedule/tz: unknown time zone "Mars/Olympus"');
    expect(text).toContain('(g)/clearWhen: "bin.telemetry" has no field "tempC"');
    expect(text).toContain('(h)/keyFields: not used by offline rules');
    expect(text).toContain('(i)/on/where: a threshold needs at least one condition');
    expect(text).toContain('duplicate rule id "a2"');
  });

  it('conditions on missing fields or other types are false for every operator', () => {
    const ne = rule({ kind: 'match', id: 'ne', family: 'door', on: { type: 'door.opened', where: [{ field: 'method', op: 'ne', value: 'card' }] } });
    const inn = rule({ kind: 'match', id: 'in', family: 'door', on: { type: 'door.opened', where: [{ field: 'method', op: 'in', value: ['remote', 'key'] }] } });
    const d = device('door-1', 'door');
    const h = new Harness([ne, inn], [d]);
    expect(h.at(T0, d, 'door.opened', {})).toEqual([]);
    expect(h.at(T0, d, 'door.opened', { method: 'card' })).toEqual([]);
    expect(h.at(T0, d, 'door.opened', { method: 'key' }).map((x) => x.ruleId)).toEqual(['ne', 'in']);
    expect(h.at(T0, d, 'door.opened', { method: 'face' }).map((x) => x.ruleId)).toEqual(['ne']);
  });
});

describe('RuleFile: per-site overrides merged over the defaults by id', () => {
  const file = {
    version: 1,
    rules: [
      { id: 'bin.full', forMs: 30_000 },
      { ...DEFAULT_RULES.find((r) => r.id === 'bin.hot')!, severity: 'high' },
      rule({ ...base, id: 'site.new_rule' }),
    ],
    disable: ['door.tamper'],
  };

  it('validates against the RuleFile schema', () => {
    expect(new Validator(RuleFile).validate(file).ok).toBe(true);
    expect(new Validator(RuleFile).validate({ ...file, version: 2 }).ok).toBe(false);
  });

  it('patches amend, full rules replace or add, disable turns off', () => {
    const c = compileRuleFiles(DEFAULT_RULES, [file]);
    const get = (id: string) => c.rules.find((r) => r.id === id);
    expect(get('bin.full')).toMatchObject({ forMs: 30_000, kind: 'threshold', severity: 'normal' });
    expect(get('bin.hot')?.severity).toBe('high');
    expect(get('site.new_rule')).toBeDefined();
    expect(get('door.tamper')?.enabled).toBe(false);
    expect(c.base.byId.has('door.tamper')).toBe(false);
    expect(c.rules).toHaveLength(DEFAULT_RULES.length + 1);
  });

  it('a site file applies to that site only, on top of the global files', () => {
    const c = compileRuleFiles(DEFAULT_RULES, [file, { version: 1, siteId: 'north', rules: [{ id: 'bin.full', forMs: 1000 }] }]);
    const rule = (site: string) => (c.sites.get(site) ?? c.base).byId.get('bin.full');
    expect(rule('north')).toMatchObject({ forMs: 1000 });
    expect(rule('south')).toMatchObject({ forMs: 30_000 });
    expect(c.sites.get('north')?.byId.has('door.tamper')).toBe(false);
  });

  it('clear errors: bad entries, unknown ids, merged rules that do not validate', () => {
    expect(issuesOf(() => parseRuleFile({ version: 1, rules: [{ id: 'x', kind: 'match' }, { id: 'bad id!' }] })).join('\n'))
      .toMatch(/file\/rules\/0 \(x\): .*\n.*rule file\/rules\/1: \/id/);
    expect(issuesOf(() => compileRuleFiles(DEFAULT_RULES, [{ version: 1, rules: [{ id: 'no.such', forMs: 1 }], disable: ['nor.this'] }])))
      .toEqual(['file 0/rules/0: patch for unknown rule "no.such"', 'file 0/disable: unknown rule "nor.this"']);
    expect(issuesOf(() => compileRuleFiles(DEFAULT_RULES, [{ version: 1, rules: [{ id: 'bin.full', forMs: 'soon' }] }]))[0]).toMatch(/\(bin\.full\): \/forMs/);
    expect(issuesOf(() => parseRuleFile({ version: 1 }))[0]).toMatch(/rules/);
  });
});

describe('templates', () => {
  it('durations read naturally in both languages', () => {
    const cases: Array<[number, string, string]> = [
      [5000, '5秒', '5 s'], [60_000, '1分钟', '1 min'], [90 * 60_000, '1小时30分钟', '1 h 30 min'],
      [24 * 3600_000, '24小时', '24 h'], [8 * 3600_000, '8小时', '8 h'], [3 * 86_400_000, '3天', '3 d'], [250, '250毫秒', '250 ms'],
    ];
    for (const [ms, zh, en] of cases) {
      expect(formatDuration(ms, 'zh-CN')).toBe(zh);
      expect(formatDuration(ms, 'en')).toBe(en);
    }
  });

  it('placeholders render: value, threshold, count, for, window, data fields', () => {
    const r = rule({
      kind: 'count', id: 'tpl', family: 'door', on: { type: 'door.access_denied' }, minCount: 2, windowMs: 90_000,
      title: { 'zh-CN': '{location}：{count}次/{window}，阈值{threshold}', en: '{device} {data.reason} {data.credential}' },
    });
    const d = device('door-9', 'door', { locationLabel: '3号楼' });
    const h = new Harness([r], [d]);
    h.at(T0, d, 'door.access_denied', { credential: 'card', reason: 'expired' });
    const [o] = h.at(T0 + 1000, d, 'door.access_denied', { credential: 'face', reason: 'face_mismatch' });
    expect(o?.kind === 'open' && o.title).toEqual({ 'zh-CN': '3号楼：2次/1分钟30秒，阈值2', en: 'door-9 face_mismatch face' });
  });
});
