import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { HubHandle } from '../src/hub.ts';
import { createTestDatabase, makeDatabaseUnreachable, restoreDatabase } from './support/pg.ts';
import { closeClient, connectAs, envelope, eventually } from './support/test-hub.ts';
import { startTestHub } from './support/test-hub.ts';

/*
 * DESIGN §9 "no loss": while PostgreSQL is unreachable the hub stops acknowledging QoS 1,
 * holds what it accepted, reconnects and drains; every acknowledged message is stored.
 * Needs the real PostgreSQL server (CI provides it; the suite fails, not skips, without it there).
 */
describe.runIf(inject('pgUrl'))('durable acknowledgement across a database outage', () => {
  let hub: HubHandle;
  let db: { url: string; drop(): Promise<void> };
  let bin: MqttClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub({ databaseUrl: db.url });
    bin = await connectAs(hub, 't1/bin-1', { keepalive: 0 });
  });
  afterAll(async () => {
    await closeClient(bin);
    await hub?.stop();
    await restoreDatabase(db.url).catch(() => undefined);
    await db?.drop();
  });

  it('holds PUBACKs while the database is down and stores every acknowledged message after it returns', async () => {
    const topic = 'shaobing/v1/t1/bin/bin-1/telemetry';
    const before = Array.from({ length: 20 }, (_, i) => envelope('bin.telemetry', { fillPct: i }));
    for (const m of before) await bin.publishAsync(topic, JSON.stringify(m), { qos: 1 });

    await makeDatabaseUnreachable(db.url);
    const during = Array.from({ length: 30 }, (_, i) => envelope('bin.telemetry', { fillPct: 50 + i }));
    const acked = new Set<string>();
    const pubs = during.map((m) => bin.publishAsync(topic, JSON.stringify(m), { qos: 1 }).then(() => acked.add(m.id)));

    // Long enough for several batch cycles and retries: nothing may be acknowledged.
    await new Promise((r) => setTimeout(r, 1500));
    expect(acked.size).toBe(0);
    const health = await (await fetch(`${hub.httpUrl}/healthz`)).json() as { status: string; store: { connected: boolean; pending: number } };
    expect(health.status).toBe('degraded');
    expect(health.store.pending).toBeGreaterThan(0);

    await restoreDatabase(db.url);
    await Promise.all(pubs);
    expect(acked.size).toBe(during.length);
    const ids = [...before, ...during].map((m) => m.id);
    const rows = await hub.db.query('SELECT msg_id FROM events WHERE msg_id = ANY($1::text[])', [ids]);
    expect(rows.map((r) => r.msg_id).sort()).toEqual([...ids].sort());
    await eventually(async () => ((await (await fetch(`${hub.httpUrl}/healthz`)).json()) as { status: string }).status === 'ok');
  });

  it('does not lose a rule decision whose ticket write fails while the database is down', async () => {
    let clock = Date.now();
    const db2 = await createTestDatabase();
    const hub2 = await startTestHub({ databaseUrl: db2.url, ruleTickMs: 60_000 }, { now: () => clock });
    try {
      const door = await connectAs(hub2, 't1/door-1');
      await door.publishAsync('shaobing/v1/t1/door/door-1/event', JSON.stringify({ ...envelope('door.opened', {}), ts: clock }), { qos: 1 });
      await closeClient(door);
      await new Promise((r) => setTimeout(r, 50));
      await hub2.rules.idle();
      await makeDatabaseUnreachable(db2.url);
      clock += 61_000; // the door has now been held open > 60 s: the tick decides to open a ticket
      const ticked = hub2.rules.tickNow(clock);
      await new Promise((r) => setTimeout(r, 1200)); // its write fails and is retried meanwhile
      await restoreDatabase(db2.url);
      await ticked;
      const rows = await hub2.db.query(`SELECT status FROM tickets WHERE rule_id = 'door.held_open' AND device_id = 'door-1'`);
      expect(rows).toEqual([{ status: 'open' }]);
    } finally {
      await hub2.stop();
      await db2.drop();
    }
  });
});
