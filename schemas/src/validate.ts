import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { FormatRegistry } from '@sinclair/typebox';
import { parseIsoTimestamp } from './timestamp.ts';

// TypeBox ships no string formats; register the ones the contract uses.
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => parseIsoTimestamp(v) !== null);
}
if (!FormatRegistry.Has('uri')) {
  FormatRegistry.Set('uri', (v) => { try { return Boolean(new URL(v).protocol); } catch { return false; } });
}

export interface ValidationIssue { path: string; message: string }
export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** A compiled validator: the same schema gives runtime checks and the static type. */
export class Validator<S extends TSchema> {
  private readonly check: TypeCheck<S>;
  constructor(readonly schema: S) { this.check = TypeCompiler.Compile(schema); }
  validate(value: unknown, maxIssues = 5): Validated<Static<S>> {
    if (this.check.Check(value)) return { ok: true, value };
    const issues: ValidationIssue[] = [];
    for (const e of this.check.Errors(value)) {
      issues.push({ path: e.path || '/', message: e.message });
      if (issues.length >= maxIssues) break;
    }
    return { ok: false, issues };
  }
  is(value: unknown): value is Static<S> { return this.check.Check(value); }
}

export function formatIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
