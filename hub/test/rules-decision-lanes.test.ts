import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { createTestDatabase } from './support/pg.ts';
import { closeClient, connectAs, envelope, eventually, startTestHub } from './support/test-hub.ts';

/*
 * A ticket write that waits (here: a row another transaction holds, as an operator's action
 * or a slow commit would) delays its own ticket only. Before decisions were applied per dedup
 * key, every ticket opened after it waited in the same queue — which is how publish → ticket
 * frame grew to seconds under load.
 */
describe('rule decisions: one waiting ticket write does not hold the others', () => {
  let hub: HubHandle;
  let holder: pg.Client;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const t = await createTestDatabase();
    drop = t.drop;
    hub = await startTestHub({ databaseUrl: t.url });
    holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
  }, 60_000);
  afterAll(async () => {
    await holder?.end();
    await hub?.stop();
    await drop?.();
  }, 60_000);

  const ticketOf = async (deviceId: string) =>
    (await hub.db.query<{ id: string; occurrences: number }>(`SELECT id, (doc->>'occurrences')::int AS occurrences FROM tickets WHERE device_id = $1`, [deviceId]))[0];

  it('opens another device\'s ticket while one ticket\'s row is locked, then lands the held one in order', async () => {
    const charger = await connectAs(hub, 't1/chg-1');
    const door = await connectAs(hub, 't1/door-1');
    try {
      await charger.publishAsync('shaobing/v1/t1/charger/chg-1/event', JSON.stringify(envelope('charger.smoke', { port: 1 })), { qos: 1 });
      const first = await eventually(() => ticketOf('chg-1'), 10_000);
      expect(first.occurrences).toBe(1);

      // Another transaction holds the charger's ticket row: its next occurrence must wait.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM tickets WHERE id = $1 FOR UPDATE', [first.id]);
      await charger.publishAsync('shaobing/v1/t1/charger/chg-1/event', JSON.stringify(envelope('charger.smoke', { port: 2 })), { qos: 1 });
      await door.publishAsync('shaobing/v1/t1/door/door-1/event', JSON.stringify(envelope('door.forced', {})), { qos: 1 });

      // The door's ticket is opened although the charger's update (queued before it) still waits.
      await eventually(() => ticketOf('door-1'), 10_000);
      expect((await ticketOf('chg-1'))!.occurrences).toBe(1);

      await holder.query('ROLLBACK');
      await hub.rules.idle();
      expect((await ticketOf('chg-1'))!.occurrences).toBe(2);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await closeClient(charger);
      await closeClient(door);
    }
  }, 60_000);
});
