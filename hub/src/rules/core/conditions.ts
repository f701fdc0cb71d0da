import type { Condition, Matcher } from '@shaobing/schemas';

export type Predicate = (data: Record<string, unknown>) => boolean;

const always: Predicate = () => true;

/**
 * Compiles one condition to a closure (the hot path runs these thousands of times a second).
 * A missing field or a value of another type is false for every operator, `ne` included:
 * an absent reading must never open or clear a ticket.
 */
export function compileCondition(c: Condition): Predicate {
  const f = c.field;
  switch (c.op) {
    case 'eq': { const v = c.value; return (d) => d[f] === v; }
    case 'ne': {
      const v = c.value;
      const t = typeof v;
      return (d) => { const x = d[f]; return typeof x === t && x !== v; };
    }
    case 'gt': { const v = c.value; return (d) => { const x = d[f]; return typeof x === 'number' && x > v; }; }
    case 'gte': { const v = c.value; return (d) => { const x = d[f]; return typeof x === 'number' && x >= v; }; }
    case 'lt': { const v = c.value; return (d) => { const x = d[f]; return typeof x === 'number' && x < v; }; }
    case 'lte': { const v = c.value; return (d) => { const x = d[f]; return typeof x === 'number' && x <= v; }; }
    case 'in': { const set = new Set<unknown>(c.value); return (d) => { const x = d[f]; return x !== undefined && set.has(x); }; }
  }
}

/** AND of all conditions; no conditions = always true. */
export function compileWhere(where: readonly Condition[] | undefined): Predicate {
  if (!where || where.length === 0) return always;
  const ps = where.map(compileCondition);
  if (ps.length === 1) return ps[0]!;
  return (d) => {
    for (const p of ps) if (!p(d)) return false;
    return true;
  };
}

export interface CompiledMatcher { type: string; test: Predicate }

export function compileMatcher(m: Matcher): CompiledMatcher {
  return { type: m.type, test: compileWhere(m.where) };
}

/** The number a template shows as {value}, formatted for people (≤ 2 decimals). */
export function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  return '';
}
