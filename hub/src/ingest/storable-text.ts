/**
 * PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses lone UTF-16 surrogates.
 * A payload carrying either would fail its whole batch forever, so ingest rejects it up front.
 * Returns the JSON path of the first offending string, or null.
 */
export function unstorableTextPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? path || '/' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = unstorableTextPath(value[i], `${path}/${i}`);
      if (p) return p;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000') || !k.isWellFormed()) return `${path}/${k.replace(/[^\x20-\x7e]/g, '?')}`;
      const p = unstorableTextPath(v, `${path}/${k}`);
      if (p) return p;
    }
  }
  return null;
}

/** Makes raw bytes safe to keep as dead-letter text: UTF-8 with replacement, no NULs, truncated. */
export function rawForDeadLetter(payload: Buffer, maxBytes = 2048): string {
  const slice = payload.subarray(0, maxBytes);
  const text = slice.toString('utf8').replace(/\u0000/g, '\\u0000').toWellFormed();
  return payload.length > maxBytes ? `${text}…[truncated, ${payload.length} bytes]` : text;
}

/** Any text from the wire (topic, client id, parser message) made storable and bounded. */
export function safeText(text: string, maxChars: number): string {
  return text.slice(0, maxChars).replace(/\u0000/g, '\\u0000').toWellFormed();
}
