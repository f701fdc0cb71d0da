import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { HUB_MQTT_USERNAME } from '../src/broker/external-auth.ts';
import { OPERATORS, secretOf } from './support/test-site.ts';
import { connectAs, startTestHub } from './support/test-hub.ts';

/*
 * The hub as EMQX's HTTP authenticator and authoriser, over real HTTP, with the request
 * shapes the docker-compose `cluster` profile configures EMQX to send (every placeholder is a
 * JSON string). The verdicts must be the embedded broker's for the same client: one hub's
 * embedded aedes is asked the same questions over MQTT and must agree.
 */
const SECRET = 'hook-secret-0123456789abcdef';

describe('EMQX HTTP authentication / authorization hooks', () => {
  let hub: HubHandle;
  beforeAll(async () => { hub = await startTestHub({ brokerHookSecret: SECRET }); }, 60_000);
  afterAll(async () => { await hub?.stop(); });

  const post = (path: string, body: unknown, secret: string | null = SECRET) => fetch(`${hub.httpUrl}/api/broker/emqx/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) }, body: JSON.stringify(body),
  });
  const authn = async (clientid: string, username: string, password: string, zone: string | null = 'default') => {
    const res = await post('authn', { clientid, username, password, peerhost: '10.0.0.7', ...(zone !== null ? { zone } : {}) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return (await res.json()) as { result: string; is_superuser: boolean };
  };
  const authz = async (clientid: string, username: string, action: string, topic: string) => {
    const res = await post('authz', { clientid, username, action, topic, qos: '1', retain: 'false', peerhost: '10.0.0.7' });
    expect(res.status).toBe(200);
    return ((await res.json()) as { result: string }).result;
  };

  it('authn: site-file credentials and the client-id rule; never superuser', async () => {
    expect(await authn('t1/door-1', 't1/door-1', secretOf('t1/door-1'))).toEqual({ result: 'allow', is_superuser: false });
    expect(await authn('t1/gw-1#2', 't1/gw-1', secretOf('t1/gw-1'))).toEqual({ result: 'allow', is_superuser: false });
    expect((await authn('t1/door-1', 't1/door-1', 'wrong')).result).toBe('deny');
    expect((await authn('t1/bin-1', 't1/door-1', secretOf('t1/door-1'))).result).toBe('deny'); // another credential's id
    expect((await authn('x', 'nobody', 'x')).result).toBe('deny');
    expect(await authn('admin#watch', 'admin', OPERATORS.admin, 'operators')).toEqual({ result: 'allow', is_superuser: false });
    expect((await authn('admin', 'admin', 'not-the-password', 'operators')).result).toBe('deny');
    // The hubs' own ingest connections: the hook secret as password, `<user>#<hubId>-ingest-<i>`.
    expect((await authn(`${HUB_MQTT_USERNAME}#hub-a-ingest-0`, HUB_MQTT_USERNAME, SECRET)).result).toBe('allow');
    expect((await authn(`${HUB_MQTT_USERNAME}#hub-a-ingest-0`, HUB_MQTT_USERNAME, 'guess-guess-guess')).result).toBe('deny');
  });

  it('authn: operators only through the listener zone whose sessions end with the connection (EMQX passes no clean_start)', async () => {
    // The embedded broker refuses an operator's persistent session; behind EMQX the zone does it.
    expect((await authn('admin#watch', 'admin', OPERATORS.admin, 'default')).result).toBe('deny');
    expect((await authn('admin#watch', 'admin', OPERATORS.admin, null)).result).toBe('deny'); // a body template without ${zone}
    expect((await authn('admin#watch', 'admin', OPERATORS.admin, 'operators')).result).toBe('allow');
    // Devices keep their persistent sessions in any zone.
    expect((await authn('t1/door-1', 't1/door-1', secretOf('t1/door-1'), 'default')).result).toBe('allow');
  });

  it('authz: the embedded broker\'s publish and subscribe ACL', async () => {
    expect(await authz('t1/door-1', 't1/door-1', 'publish', 'shaobing/v1/t1/door/door-1/event')).toBe('allow');
    expect(await authz('t1/door-1', 't1/door-1', 'publish', 'shaobing/v1/t1/bin/bin-1/telemetry')).toBe('deny'); // not its own device
    expect(await authz('t1/door-1', 't1/door-1', 'publish', 'shaobing/v1/t2/door/door-1/event')).toBe('deny');
    expect(await authz('t1/door-1', 't1/door-1', 'subscribe', 'shaobing/v1/t1/#')).toBe('deny'); // no downlink in v1
    expect(await authz('t1/gw-1#1', 't1/gw-1', 'publish', 'shaobing/v1/t1/bin/bin-2/telemetry')).toBe('allow');
    expect(await authz('admin', 'admin', 'subscribe', 'shaobing/v1/t1/#')).toBe('allow');
    expect(await authz('admin', 'admin', 'publish', 'shaobing/v1/t1/door/door-1/event')).toBe('deny');
    expect(await authz('viewer', 'viewer', 'subscribe', '$SYS/#')).toBe('deny');
    expect(await authz(`${HUB_MQTT_USERNAME}#h-ingest-3`, HUB_MQTT_USERNAME, 'subscribe', '$share/shaobing/shaobing/v1/t1/#')).toBe('allow');
    expect(await authz(`${HUB_MQTT_USERNAME}#h-ingest-3`, HUB_MQTT_USERNAME, 'publish', 'shaobing/v1/t1/door/door-1/event')).toBe('deny');
    expect(await authz(`${HUB_MQTT_USERNAME}#h-ingest-3`, HUB_MQTT_USERNAME, 'subscribe', '$SYS/#')).toBe('deny');
    // A client id that is not the username's is refused here too (EMQX checks per request).
    expect(await authz('t1/bin-1', 't1/door-1', 'publish', 'shaobing/v1/t1/door/door-1/event')).toBe('deny');
  });

  it('agrees with the embedded broker on the same client', async () => {
    // The embedded broker refuses a forbidden publish by closing the connection and accepts its own topic.
    const door = await connectAs(hub, 't1/door-1');
    await door.publishAsync('shaobing/v1/t1/door/door-1/event', JSON.stringify({ id: 'emqx-agree-1', ts: new Date().toISOString(), type: 'door.opened', data: {} }), { qos: 1 });
    const closed = new Promise<void>((r) => door.once('close', () => r()));
    door.publish('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify({ id: 'emqx-agree-2', ts: new Date().toISOString(), type: 'bin.telemetry', data: { fillPct: 1 } }), { qos: 1 });
    await closed;
    await door.endAsync(true);
    expect(await authz('t1/door-1', 't1/door-1', 'publish', 'shaobing/v1/t1/door/door-1/event')).toBe('allow');
    expect(await authz('t1/door-1', 't1/door-1', 'publish', 'shaobing/v1/t1/bin/bin-1/telemetry')).toBe('deny');
  });

  it('without the shared secret, or with bad bodies, the hooks answer with errors EMQX reads as a refusal', async () => {
    const body = { clientid: 't1/door-1', username: 't1/door-1', password: secretOf('t1/door-1') };
    expect((await post('authn', body, null)).status).toBe(401);
    expect((await post('authn', body, 'wrong-secret-wrong-secret')).status).toBe(401);
    expect((await post('authz', { ...body, action: 'publish', topic: 'shaobing/v1/t1/door/door-1/event' }, null)).status).toBe(401);
    expect((await post('authn', { username: 'x' })).status).toBe(400);
    expect((await post('authz', { clientid: 'a', username: 'a', action: 'delete', topic: 'x' })).status).toBe(400);
  });

  it('are off when BROKER_HOOK_SECRET is unset', async () => {
    const plain = await startTestHub();
    try {
      const res = await fetch(`${plain.httpUrl}/api/broker/emqx/authn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(404);
    } finally {
      await plain.stop();
    }
  }, 60_000);
});
