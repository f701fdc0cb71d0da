import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { HubHandle } from '../src/hub.ts';
import { openDb } from '../src/store/open-db.ts';
import { closeClient, connectAs, startTestHub } from './support/test-hub.ts';

/*
 * Rule state survives a restart: a 2-min fill duration and a 24-h inactivity window that were
 * running when the hub stopped still open their tickets at the right time afterwards — from the
 * state snapshot, and (snapshot lost) from the stored history alone.
 */
const MIN = 60_000;

describe.each([
  { name: 'resumed from the state snapshot', dropSnapshot: false },
  { name: 'rebuilt from stored events (no snapshot)', dropSnapshot: true },
])('restart mid-window: $name', ({ dropSnapshot }) => {
  it('opens the duration and inactivity tickets at the right time after the restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-restart-'));
    let clock = Date.now() - 48 * 3600_000;
    const t0 = clock;
    const start = () => startTestHub({ dataDir, ruleTickMs: 60_000 }, { now: () => clock });
    const publish = async (hub: HubHandle, user: string, topic: string, type: string, data: object, id: string) => {
      const c = await connectAs(hub, user);
      await c.publishAsync(topic, JSON.stringify({ id, ts: clock, type, data }), { qos: 1 });
      await closeClient(c);
    };

    let hub = await start();
    await publish(hub, 't1/bin-1', 'shaobing/v1/t1/bin/bin-1/telemetry', 'bin.telemetry', { fillPct: 90 }, 'r-1');
    await publish(hub, 't1/door-1', 'shaobing/v1/t1/door/door-1/event', 'door.access_granted', { credential: 'card' }, 'r-2');
    await new Promise((r) => setTimeout(r, 30));
    await hub.rules.idle();
    clock += 1 * MIN;
    await hub.rules.tickNow(clock);
    await hub.stop();
    if (dropSnapshot) {
      const db = await openDb({ dataDir, log: pino({ level: 'silent' }) });
      await db.query('DELETE FROM rule_state');
      await db.close();
    }

    clock += 30_000; // the hub was down for 30 s
    hub = await start();
    try {
      const tickets = (rule: string) => hub.db.query<{ opened_at: Date } & Record<string, unknown>>('SELECT opened_at FROM tickets WHERE rule_id = $1', [rule]);
      await hub.rules.tickNow(clock);
      expect(await tickets('bin.full')).toHaveLength(0); // 1.5 min held so far
      clock = t0 + 2 * MIN + 1000;
      await hub.rules.tickNow(clock);
      const [full] = await tickets('bin.full');
      expect(full, 'bin.full opened after the restart').toBeDefined();
      expect(full!.opened_at.getTime()).toBeLessThanOrEqual(t0 + 2 * MIN + 1000);
      expect(full!.opened_at.getTime()).toBeGreaterThanOrEqual(t0 + 2 * MIN);

      clock = t0 + 23 * 3600_000;
      await hub.rules.tickNow(clock);
      expect(await tickets('door.elderly_inactivity')).toHaveLength(0);
      clock = t0 + 24 * 3600_000 + MIN;
      await hub.rules.tickNow(clock);
      expect(await tickets('door.elderly_inactivity')).toHaveLength(1);
    } finally {
      await hub.stop();
    }
  }, 90_000); // three embedded opens and two hub starts: over the default 30 s on a loaded machine
});
