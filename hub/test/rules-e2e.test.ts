import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { HubHandle } from '../src/hub.ts';
import { closeClient, connectAs, startTestHub } from './support/test-hub.ts';

/*
 * Every default rule end to end: a real device publishes over MQTT to the real broker, the
 * message is stored, the rule engine decides, and exactly the expected ticket exists in the
 * database with its severity, grid worker and deadlines. Time is a controllable clock: device
 * timestamps and rule ticks follow it, so "2 minutes" and "24 hours" take no wall time.
 */
const MIN = 60_000;
let clock = Date.now() - 48 * 3600_000; // start two days back so advancing never passes real time
let hub: HubHandle;
const clients = new Map<string, MqttClient>();
let n = 0;

async function send(user: string, channel: 'event' | 'telemetry' | 'status', type: string, data: Record<string, unknown>): Promise<void> {
  let c = clients.get(user);
  if (!c) {
    c = await connectAs(hub, user);
    clients.set(user, c);
  }
  const [site, device] = user.split('/');
  const family = type.split('.')[0];
  const msg = { id: `e2e-${++n}`, ts: clock, type, data };
  await c.publishAsync(`shaobing/v1/${site}/${family}/${device}/${channel}`, JSON.stringify(msg), { qos: 1 });
}

/** Lets the engine evaluate what was committed, then ticks at the current clock. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 30)); // the commit's bus event is emitted after PUBACK
  await hub.rules.idle();
  await hub.rules.tickNow(clock);
}
async function advance(ms: number): Promise<void> {
  clock += ms;
  await settle();
}

interface Row { id: string; rule_id: string; status: string; severity: string; category: string; assignee_id: string | null; device_id: string | null; opened_at: Date; respond_by: Date; resolve_by: Date; doc: { occurrences: number; escalationLevel: number } }
const tickets = (ruleId: string, deviceId?: string) =>
  hub.db.query<Row & Record<string, unknown>>(`SELECT * FROM tickets WHERE rule_id = $1 ${deviceId ? 'AND device_id = $2' : ''} ORDER BY opened_at`, deviceId ? [ruleId, deviceId] : [ruleId]);

beforeAll(async () => {
  hub = await startTestHub({ ruleTickMs: 60_000 }, { now: () => clock });
});
afterAll(async () => {
  await Promise.all([...clients.values()].map(closeClient));
  await hub?.stop();
});

describe('default rules → proactive tickets over real MQTT', () => {
  it('bin.full: ≥ 80 % held 2 min opens one normal sanitation ticket for the compound cleaner; repeats add occurrences; < 30 % resolves it', async () => {
    await send('t1/bin-1', 'telemetry', 'bin.telemetry', { fillPct: 85 });
    await advance(1 * MIN);
    expect(await tickets('bin.full', 'bin-1')).toHaveLength(0); // not yet held for 2 min
    await send('t1/bin-1', 'telemetry', 'bin.telemetry', { fillPct: 88 });
    await advance(1 * MIN + 1000);
    const [t] = await tickets('bin.full', 'bin-1');
    expect(t).toMatchObject({ status: 'open', severity: 'normal', category: 'sanitation', assignee_id: 'w-yard' });
    expect(t!.respond_by.getTime() - t!.opened_at.getTime()).toBe(2 * 3600_000);
    expect(t!.resolve_by.getTime() - t!.opened_at.getTime()).toBe(7 * 24 * 3600_000);

    await send('t1/bin-1', 'telemetry', 'bin.telemetry', { fillPct: 95 });
    await settle();
    await send('t1/bin-1', 'telemetry', 'bin.telemetry', { fillPct: 20 });
    await settle();
    const after = await tickets('bin.full', 'bin-1');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ status: 'resolved' });
  });

  it('bin.hot: ≥ 60 °C is a critical fire risk with 5 min / 2 h deadlines', async () => {
    await send('t1/bin-1', 'telemetry', 'bin.telemetry', { fillPct: 10, temperatureC: 64 });
    await settle();
    const [t] = await tickets('bin.hot', 'bin-1');
    expect(t).toMatchObject({ severity: 'critical', category: 'fire_safety' });
    expect(t!.respond_by.getTime() - t!.opened_at.getTime()).toBe(5 * MIN);
  });

  it('charger: overheat and smoke critical, overload high, fault normal — per port, repeats are occurrences', async () => {
    await send('t1/chg-1', 'telemetry', 'charger.telemetry', { port: 2, powerW: 300, temperatureC: 70, plugged: true });
    await send('t1/chg-1', 'telemetry', 'charger.telemetry', { port: 3, powerW: 1300, temperatureC: 40, plugged: true });
    await send('t1/chg-1', 'event', 'charger.smoke', { port: 4 });
    await send('t1/chg-1', 'event', 'charger.fault', { port: 1, code: 'E42' });
    await settle();
    expect(await tickets('charger.overheat', 'chg-1')).toMatchObject([{ severity: 'critical' }]);
    expect(await tickets('charger.overload', 'chg-1')).toMatchObject([{ severity: 'high' }]);
    expect(await tickets('charger.smoke', 'chg-1')).toMatchObject([{ severity: 'critical', category: 'fire_safety' }]);
    expect(await tickets('charger.fault', 'chg-1')).toMatchObject([{ severity: 'normal', category: 'equipment' }]);
    await send('t1/chg-1', 'event', 'charger.smoke', { port: 4 });
    await settle();
    const smoke = await tickets('charger.smoke', 'chg-1');
    expect(smoke).toHaveLength(1);
    expect(smoke[0]!.doc.occurrences).toBe(2);
  });

  it('charger: a session longer than 8 h opens a ticket', async () => {
    await send('t1/chg-1', 'event', 'charger.session_start', { port: 3, sessionId: 's-long' });
    await advance(8 * 3600_000 + MIN);
    expect(await tickets('charger.long_session', 'chg-1')).toHaveLength(1);
  });

  it('door: forced is critical; 5 denied within 2 min is one security ticket; held open > 60 s opens and closing resolves it', async () => {
    await send('t1/door-1', 'event', 'door.forced', {});
    for (let i = 0; i < 5; i++) await send('t1/door-1', 'event', 'door.access_denied', { credential: 'card', reason: 'unknown_credential' });
    await send('t1/door-1', 'event', 'door.opened', { method: 'card' });
    await settle();
    expect(await tickets('door.forced', 'door-1')).toMatchObject([{ severity: 'critical' }]);
    expect(await tickets('door.denied_burst', 'door-1')).toHaveLength(1);
    expect(await tickets('door.held_open', 'door-1')).toHaveLength(0);
    await advance(61_000);
    expect(await tickets('door.held_open', 'door-1')).toMatchObject([{ status: 'open' }]);
    await send('t1/door-1', 'event', 'door.closed', {});
    await settle();
    expect(await tickets('door.held_open', 'door-1')).toMatchObject([{ status: 'resolved' }]);
  });

  it('camera: alerts ≥ 0.8 confidence open a ticket and merge repeats; a weak alert opens nothing', async () => {
    await send('t1/cam-1', 'event', 'camera.alert', { kind: 'thrown_object', confidence: 0.55 });
    await settle();
    expect(await hub.db.query(`SELECT 1 FROM tickets WHERE device_id = 'cam-1' AND rule_id LIKE 'camera.%thrown%'`)).toHaveLength(0);
    await send('t1/cam-1', 'event', 'camera.alert', { kind: 'ebike_in_elevator', confidence: 0.92, snapshotUrl: 'http://127.0.0.1/s/9.jpg' });
    await send('t1/cam-1', 'event', 'camera.alert', { kind: 'ebike_in_elevator', confidence: 0.95 });
    await settle();
    const rows = await hub.db.query<Row & Record<string, unknown>>(`SELECT * FROM tickets WHERE device_id = 'cam-1' AND doc->>'category' = 'fire_safety'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ severity: 'high' });
    expect(rows[0]!.doc.occurrences).toBe(2);
  });

  it('door.elderly_inactivity: 24 h without door activity in a flagged unit opens a care ticket', async () => {
    await send('t1/door-1', 'event', 'door.access_granted', { credential: 'face' });
    await settle();
    await advance(23 * 3600_000);
    expect(await tickets('door.elderly_inactivity', 'door-1')).toHaveLength(0);
    await advance(1 * 3600_000 + MIN);
    expect(await tickets('door.elderly_inactivity', 'door-1')).toMatchObject([{ category: 'care' }]);
  });

  it('offline: a bin silent for more than 10 min opens an offline ticket; coming back resolves it', async () => {
    await send('t1/bin-1', 'telemetry', 'bin.telemetry', { fillPct: 12 });
    const live = async () => (await tickets('bin.offline', 'bin-1')).filter((t) => t.status === 'open');
    await advance(9 * MIN);
    expect(await live()).toHaveLength(0);
    await advance(2 * MIN);
    const [t] = await live();
    expect(t).toMatchObject({ category: 'equipment' });
    await send('t1/bin-1', 'telemetry', 'bin.telemetry', { fillPct: 12 });
    await settle();
    expect(await live()).toHaveLength(0);
    expect((await hub.db.query('SELECT status FROM tickets WHERE id = $1', [t!.id]))[0]).toEqual({ status: 'resolved' });
  });

  it('a redelivered message (same id) never opens a second ticket', async () => {
    const c = clients.get('t1/door-1')!;
    const msg = { id: 'dup-forced-1', ts: clock, type: 'door.tamper', data: {} };
    await c.publishAsync('shaobing/v1/t1/door/door-1/event', JSON.stringify(msg), { qos: 1 });
    await c.publishAsync('shaobing/v1/t1/door/door-1/event', JSON.stringify(msg), { qos: 1, dup: true });
    await settle();
    const [t] = await tickets('door.tamper', 'door-1');
    expect(t!.doc.occurrences).toBe(1);
  });
});
