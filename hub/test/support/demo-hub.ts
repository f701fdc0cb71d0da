import pino from 'pino';
import type { Category } from '@shaobing/schemas';
import { DEMO_OPERATORS } from '../../../simulators/src/operators.ts';
import { loadConfig } from '../../src/config.ts';
import { startHub, type HubHandle } from '../../src/hub.ts';
import { DASHBOARD_DIST } from '../live-browser.ts';

/*
 * The street-office browser suites' rig: a real hub over the bundled demo site serving the
 * built dashboard, the demo operators' tokens, and proactive tickets seeded at a device through
 * the real ticket service (as the rule engine's decisions would open them).
 */

export function startDemoHub(): Promise<HubHandle> {
  const config = loadConfig({}, { httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn' });
  return startHub(config, { log: pino({ level: 'warn' }), dashboardDir: DASHBOARD_DIST });
}

/** A bearer token for one of the demo operators (DEMO_OPERATORS). */
export async function demoToken(hub: HubHandle, username: string): Promise<string> {
  const password = DEMO_OPERATORS.find((o) => o.username === username)?.password;
  if (password === undefined) throw new Error(`no demo operator ${username}`);
  const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new Error(`login ${username}: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** Opens a proactive ticket at a device at time `at`; returns its id. */
export async function seedDeviceTicket(hub: HubHandle, t: { key: string; at: number; category: Category; cellId: string; deviceId: string }): Promise<string> {
  await hub.tickets.applyDecisions([{
    kind: 'open', ruleId: t.category === 'fire_safety' ? 'charger.overheat' : 'bin.full', siteId: hub.registry.file.sites[0]!.id, cellId: t.cellId, deviceId: t.deviceId,
    dedupKey: t.key, severity: 'normal', category: t.category, deviceVerifiable: false,
    title: { 'zh-CN': `工单 ${t.key}`, en: t.key }, description: { 'zh-CN': '', en: '' },
    evidence: { eventKey: `ev-${t.key}`, ts: new Date(t.at).toISOString(), type: 'x', summary: t.key },
  }], t.at);
  return (await hub.db.query<{ id: string }>('SELECT id FROM tickets WHERE dedup_key = $1', [t.key]))[0]!.id;
}
