import { parseIsoTimestamp } from '@shaobing/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { closeClient, connectAs, envelope, eventually, startTestHub } from './support/test-hub.ts';
import { testSiteFile, writeTestSiteFile } from './support/test-site.ts';

describe('strict ISO-8601 timestamps', () => {
  // [text, epoch ms or null for refused]
  const TABLE: [string, number | null][] = [
    ['2026-11-30T08:00:00Z', Date.UTC(2026, 10, 30, 8)],
    ['2026-11-30T08:00:00.123Z', Date.UTC(2026, 10, 30, 8, 0, 0, 123)],
    ['2026-11-30T08:00:00.123456789Z', Date.UTC(2026, 10, 30, 8, 0, 0, 123)],
    ['2026-11-30 08:00:00+08:00', Date.UTC(2026, 10, 30, 0)],
    ['2026-11-30T08:00+0800', Date.UTC(2026, 10, 30, 0)],
    ['2026-11-30T08:00:00-05:30', Date.UTC(2026, 10, 30, 13, 30)],
    ['2026-11-30T08:00:00+14:00', Date.UTC(2026, 10, 29, 18)],
    ['2026-11-30T08:00:00-14:00', Date.UTC(2026, 10, 30, 22)],
    ['2028-02-29T12:00:00Z', Date.UTC(2028, 1, 29, 12)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['2026-12-31T23:59:59Z', Date.UTC(2026, 11, 31, 23, 59, 59)],
    ['2026-11-31T08:00:00Z', null], // 31 November: Date.parse gives 1 December
    ['2026-02-29T08:00:00Z', null], // not a leap year
    ['1900-02-29T08:00:00Z', null], // centuries are not, unless divisible by 400
    ['2026-13-01T08:00:00Z', null],
    ['2026-00-10T08:00:00Z', null],
    ['2026-11-00T08:00:00Z', null],
    ['2026-11-30T24:00:00Z', null], // Date.parse gives the next day
    ['2026-11-30T23:60:00Z', null],
    ['2026-11-30T23:59:60Z', null], // leap seconds are not representable in epoch ms
    ['2026-11-30T08:00:00+2359', null],
    ['2026-11-30T08:00:00+14:01', null],
    ['2026-11-30T08:00:00+15:00', null],
    ['2026-11-30T08:00:00+08:60', null],
    ['2026-11-30T08:00:00', null], // no zone: ambiguous
    ['2026-11-30', null],
    ['2026-11-30T8:00:00Z', null],
    ['+02026-11-30T08:00:00Z', null],
    ['2026-11-30T08:00:00.Z', null],
    ['2026-11-30T08:00:00.1234567890Z', null],
    ['Mon, 30 Nov 2026 08:00:00 GMT', null],
    ['yesterday at noon', null],
    ['', null],
  ];
  it.each(TABLE)('%s', (text, expected) => {
    expect(parseIsoTimestamp(text)).toBe(expected);
  });
});

describe('strict decoding and gateway binding in the hub', () => {
  let hub: HubHandle;
  beforeAll(async () => {
    // The test site plus a second gateway that is not bound to bin-2, and one marked site-wide.
    const base = await testSiteFile();
    const site = structuredClone(base);
    const gw = site.sites[0]!.gateways[0]!;
    site.sites[0]!.gateways.push({ ...gw, id: 'gw-2' }, { ...gw, id: 'gw-all', siteWide: true });
    // Reuse gw-1's secret for the extra gateways (the test secrets are derived from the username).
    const { hashDeviceSecret } = await import('@shaobing/schemas/credentials');
    const { secretOf } = await import('./support/test-site.ts');
    site.sites[0]!.gateways[1]!.secretHash = hashDeviceSecret(secretOf('t1/gw-2'));
    site.sites[0]!.gateways[2]!.secretHash = hashDeviceSecret(secretOf('t1/gw-all'));
    hub = await startTestHub({ siteFile: await writeTestSiteFile(site) });
  });
  afterAll(async () => { await hub?.stop(); });

  async function deadLetters(): Promise<{ reason: string; detail: string; device_id: string | null }[]> {
    return hub.db.query('SELECT reason, detail, device_id FROM dead_letters ORDER BY id');
  }

  it('refuses invalid UTF-8 inside a JSON string as schema and stores nothing', async () => {
    const bin = await connectAs(hub, 't1/bin-1');
    const e = envelope('bin.telemetry', { fillPct: 5 });
    // A string field holding the bytes FF FE: JSON-wise fine, but not UTF-8.
    const json = Buffer.from(JSON.stringify({ ...e, id: 'XX' }));
    const at = json.indexOf('XX');
    json[at] = 0xff;
    json[at + 1] = 0xfe;
    await bin.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', json, { qos: 1 });
    const ts = envelope('bin.telemetry', { fillPct: 5 });
    await bin.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify({ ...ts, ts: '2026-11-31T08:00:00Z' }), { qos: 1 });
    await closeClient(bin);
    const rows = await eventually(async () => { const r = await deadLetters(); return r.length >= 2 ? r : null; });
    expect(rows.map((r) => r.reason)).toEqual(['schema', 'schema']);
    expect(rows[0]!.detail).toBe('payload is not valid UTF-8');
    expect(rows[1]!.detail).toMatch(/\/ts/); // the envelope's date-time format is the strict parser
    const stored = await hub.db.query(`SELECT msg_id FROM events WHERE device_id = 'bin-1' AND msg_id LIKE '%\uFFFD%'`);
    expect(stored).toEqual([]);
  });

  it('lets a gateway speak only for its bound devices, unless site-wide; checks charger ports', async () => {
    const item = (deviceId: string, type: string, data: Record<string, unknown>) => ({ deviceId, ...envelope(type, data) });
    const own = item('bin-2', 'bin.telemetry', { fillPct: 40 });
    const gw1 = await connectAs(hub, 't1/gw-1');
    await gw1.publishAsync('shaobing/v1/t1/gateway/gw-1/batch', JSON.stringify([own, item('door-1', 'door.heartbeat', {})]), { qos: 1 });
    // A device topic of a device bound to gw-1, published by gw-2.
    const gw2 = await connectAs(hub, 't1/gw-2');
    const foreign = envelope('bin.telemetry', { fillPct: 41 });
    await gw2.publishAsync('shaobing/v1/t1/bin/bin-2/telemetry', JSON.stringify(foreign), { qos: 1 });
    const gwAll = await connectAs(hub, 't1/gw-all');
    const relayed = item('door-1', 'door.heartbeat', {});
    const badPort = item('chg-1', 'charger.telemetry', { port: 5, powerW: 100, temperatureC: 30, plugged: true });
    const goodPort = item('chg-1', 'charger.telemetry', { port: 4, powerW: 100, temperatureC: 30, plugged: true });
    await gwAll.publishAsync('shaobing/v1/t1/gateway/gw-all/batch', JSON.stringify([relayed, badPort, goodPort]), { qos: 1 });
    await Promise.all([gw1, gw2, gwAll].map(closeClient));

    const stored = await hub.db.query<{ msg_id: string }>('SELECT msg_id FROM events WHERE msg_id = ANY($1::text[]) ORDER BY msg_id', [[own.id, foreign.id, relayed.id, badPort.id, goodPort.id]]);
    expect(stored.map((r) => r.msg_id).sort()).toEqual([own.id, relayed.id, goodPort.id].sort());
    const rows = await eventually(async () => { const r = (await deadLetters()).filter((x) => x.device_id !== 'bin-1'); return r.length >= 3 ? r : null; });
    expect(rows.map((r) => [r.reason, r.device_id])).toEqual([
      ['forbidden_topic', 'door-1'],
      ['forbidden_topic', 'bin-2'],
      ['schema', 'chg-1'],
    ]);
    expect(rows[2]!.detail).toMatch(/port: 5 but post "chg-1" has 4 ports/);
  });
});
