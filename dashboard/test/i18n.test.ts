import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { en } from '../src/i18n/en.ts';
import { zhCN } from '../src/i18n/zh-CN.ts';
import { translate } from '../src/i18n/index.ts';
import { CATEGORIES, FAMILIES, FAMILY_DEFINITIONS, OPERATOR_ACTIONS, RATINGS, SEVERITIES, TICKET_STATUSES, DISMISS_REASONS, GRID_LEVELS } from '../src/lib/contract.ts';
import { BOARD_FILTERS } from '../src/lib/board.ts';

const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogue', () => {
  it('zh-CN and en have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort());
  });

  it('every entry is non-empty and both languages use the same parameters', () => {
    for (const [k, zh] of Object.entries(zhCN)) {
      const e = en[k as keyof typeof zhCN];
      expect(zh.length, k).toBeGreaterThan(0);
      expect(e.length, k).toBeGreaterThan(0);
      expect(params(e), k).toEqual(params(zh));
    }
  });

  it('has a label for every value of the contract the UI shows', () => {
    const keys = new Set(Object.keys(zhCN));
    const need = [
      ...TICKET_STATUSES.map((s) => `status.${s}`), ...SEVERITIES.map((s) => `severity.${s}`), ...CATEGORIES.map((c) => `category.${c}`),
      ...FAMILIES.map((f) => `family.${f}`), ...OPERATOR_ACTIONS.map((a) => `action.${a}`), ...RATINGS.map((r) => `rating.${r}`),
      ...DISMISS_REASONS.map((r) => `dismissReason.${r}`), ...GRID_LEVELS.map((l) => `level.${l}`), ...BOARD_FILTERS.map((f) => `board.filter.${f}`),
      ...Object.values(FAMILY_DEFINITIONS).flatMap((f) => Object.keys(f.messages).map((t) => `eventType.${t}`)),
      ...Object.values(FAMILY_DEFINITIONS).flatMap((f) => f.metrics.map((m) => `metric.${m.metric}`)),
    ];
    expect(need.filter((k) => !keys.has(k))).toEqual([]);
  });

  it('every key the components use exists (no literal text outside the catalogue)', () => {
    const dir = join(import.meta.dirname, '../src/components');
    const used = new Set<string>();
    for (const f of [...readdirSync(dir).map((x) => join(dir, x)), join(import.meta.dirname, '../src/App.svelte')]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(50);
    expect([...used].filter((k) => !(k in zhCN))).toEqual([]);
  });

  it('fills parameters', () => {
    expect(translate('zh-CN', 'alarm.banner', { n: 3 })).toBe('紧急工单 3 件待处理');
    expect(translate('en', 'board.count', { n: 7 })).toBe('7 tickets');
  });
});
