import { pino } from 'pino';
import { expect, it } from 'vitest';
import { DeadLetterWriter } from '../src/store/dead-letter-writer.ts';
import type { DeviceState } from '@shaobing/schemas';
import { DeviceStateWriter } from '../src/store/device-state-writer.ts';
import { describeEachStore } from './support/each-store.ts';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

describeEachStore('side writers on %s', (store) => {
    it('DeadLetterWriter stores rejected payloads, sanitised and cut to size', async () => {
      const w = new DeadLetterWriter({ db: store.db, log: silent, maxRawChars: 11 });
      w.add({ reason: 'bad_json', detail: 'Unexpected token', topic: 'shaobing/v1/s-dl/bin/b1/telemetry', clientId: 'gw-1', siteId: 's-dl', deviceId: 'b1', raw: '{"fill": 5\u0000 and then a lot more', receivedAt: T0 });
      w.add({ reason: 'forbidden_topic', detail: 'not a shaobing topic', topic: 'other/s-dl', raw: 'x' });
      expect(w.pending).toBe(2);
      await w.flush();
      expect(w.pending).toBe(0);
      const rows = await store.db.query(`SELECT id, received_at, reason, client_id, site_id, device_id, raw FROM dead_letters WHERE topic LIKE '%s-dl%' ORDER BY id`);
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ received_at: new Date(T0), reason: 'bad_json', client_id: 'gw-1', site_id: 's-dl', device_id: 'b1', raw: '{"fill": 5\uFFFD' });
      expect(rows[1]).toMatchObject({ reason: 'forbidden_topic', client_id: null, site_id: null, raw: 'x' });
      expect(typeof rows[0]!.id).toBe('number');
      await w.close();
    });

    it('DeviceStateWriter upserts the latest state per device and loads it back', async () => {
      let next: DeviceState[] = [];
      const w = new DeviceStateWriter({ db: store.db, log: silent, source: () => next.splice(0), flushIntervalMs: 60_000 });
      next = [
        { siteId: 's-ds', deviceId: 'd1', family: 'door', lastSeen: T0 + 1000, online: true, status: { battery: 90 }, statusAt: T0 + 1000 },
        { siteId: 's-ds', deviceId: 'd2', family: 'bin', lastSeen: null, online: false, status: null, statusAt: null },
      ];
      await w.flush();
      // An older snapshot (another hub, or a retried flush) must not move time or status back.
      next = [{ siteId: 's-ds', deviceId: 'd1', family: 'door', lastSeen: T0, online: false, status: { battery: 10 }, statusAt: T0 }];
      await w.flush();
      next = [{ siteId: 's-ds', deviceId: 'd2', family: 'bin', lastSeen: T0 + 5000, online: true, status: null, statusAt: null }];
      await w.close();

      const rows = (await w.load()).filter((r) => r.siteId === 's-ds').sort((a, b) => a.deviceId.localeCompare(b.deviceId));
      expect(rows).toEqual([
        { siteId: 's-ds', deviceId: 'd1', family: 'door', lastSeen: T0 + 1000, online: false, status: { battery: 90 }, statusAt: T0 + 1000 },
        { siteId: 's-ds', deviceId: 'd2', family: 'bin', lastSeen: T0 + 5000, online: true, status: null, statusAt: null },
      ]);
    });

    it('DeviceStateWriter writes 10k devices in one flush', async () => {
      let next: DeviceState[] = [];
      const w = new DeviceStateWriter({ db: store.db, log: silent, source: () => next.splice(0), flushIntervalMs: 60_000 });
      next = Array.from({ length: 10_000 }, (_, i) => ({ siteId: 's-10k', deviceId: `d${i}`, family: 'charger' as const, lastSeen: T0 + i, online: true, status: null, statusAt: null }));
      await w.flush();
      const [row] = await store.db.query<{ n: number }>(`SELECT count(*) AS n FROM device_state WHERE site_id = 's-10k'`);
      expect(row!.n).toBe(10_000);
      await w.close();
    });
});
