/**
 * Column values of a database row read back into the contract's types, checked rather than cast:
 * the store wrote them from validated input, so a value outside the contract means a damaged or
 * foreign row, and the request fails loudly instead of passing it on.
 */

/** A text column holding one of the contract's literals (family, channel, reject reason, …). */
export function oneOf<T extends string>(allowed: readonly T[], v: unknown, column: string): T {
  const found = allowed.find((a) => a === v);
  if (found === undefined) throw new Error(`row column ${column} holds ${JSON.stringify(v)}, not one of ${allowed.join(', ')}`);
  return found;
}

/** A JSON object column (jsonb); anything else is a damaged row. */
export function jsonObject(v: unknown, column: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`row column ${column} is not a JSON object`);
  return Object.fromEntries(Object.entries(v));
}

/** A nullable text column. */
export function textOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
