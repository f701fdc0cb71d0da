import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JSON_DIR, jsonSchemaFiles } from '../scripts/export-json-schema.ts';

describe('vendor JSON Schema files (schemas/json)', () => {
  it('are up to date with schemas/src (run `npm run schemas:export` after changing the contract)', () => {
    const expected = jsonSchemaFiles();
    for (const [name, text] of expected) {
      expect(existsSync(`${JSON_DIR}${name}`), `${name} missing`).toBe(true);
      expect(readFileSync(`${JSON_DIR}${name}`, 'utf8'), `${name} is stale`).toBe(text);
    }
    const onDisk = readdirSync(`${JSON_DIR}messages`).map((f) => `messages/${f}`);
    expect(onDisk.filter((f) => !expected.has(f)), 'files for message types that no longer exist').toEqual([]);
  });
});

describe('vendor JSON Schema files work in a standard validator (ajv)', async () => {
  const { default: Ajv } = await import('ajv');
  const { default: addFormats } = await import('ajv-formats');
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const load = (name: string) => JSON.parse(readFileSync(`${JSON_DIR}${name}`, 'utf8')) as object;

  it('accepts a valid message and rejects a broken one', () => {
    const check = ajv.compile(load('messages/bin.telemetry.schema.json'));
    expect(check({ id: 'b-1', ts: '2026-11-22T10:00:00+08:00', type: 'bin.telemetry', data: { fillPct: 81.5 } })).toBe(true);
    expect(check({ id: 'b-1', ts: '2026-11-22T10:00:00+08:00', type: 'bin.telemetry', data: { fillPct: 181 } })).toBe(false);
    expect(check({ id: 'b-1', ts: 1795320000000, type: 'door.opened', data: {} })).toBe(false);
  });
});
