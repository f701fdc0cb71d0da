/** Multi-row VALUES lists for batched inserts, kept under PostgreSQL's bind-parameter limit. */

/**
 * PostgreSQL takes 65535 parameters per statement, but PGlite 0.3 writes the count as a signed
 * int16: at 32768 it fails with "Invalid array length" and the instance stops answering.
 * The lower limit holds for both.
 */
export const MAX_BIND_PARAMS = 32_767;

/** Splits rows so that rows × columns stays within the limit (with a margin for extra params). */
export function chunkRows<T>(rows: readonly T[], columns: number, maxParams = 30_000): T[][] {
  const perChunk = Math.max(1, Math.floor(Math.min(maxParams, MAX_BIND_PARAMS) / columns));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += perChunk) out.push(rows.slice(i, i + perChunk));
  return out;
}

/**
 * `($1::t1,$2::t2),($3::t1,$4::t2)…` for `rows` rows of the given column types. Explicit casts
 * keep both drivers' parameter typing identical whatever statement the list ends up in.
 */
export function valuesList(rows: number, types: readonly string[]): string {
  const parts: string[] = new Array(rows);
  let n = 1;
  for (let r = 0; r < rows; r++) {
    const cells: string[] = new Array(types.length);
    for (let c = 0; c < types.length; c++) cells[c] = `$${n++}::${types[c]}`;
    parts[r] = `(${cells.join(',')})`;
  }
  return parts.join(',');
}

/** PostgreSQL text can't hold NUL; untrusted text (raw payloads) gets U+FFFD instead. */
export function stripNul(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}
