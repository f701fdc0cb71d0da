/*
 * A real aedes broker on port 0 for simulator tests, with access control that follows the
 * MQTT contract (a device only under its own topics, a gateway only under its own site) and a
 * record of every publish with the principal that sent it.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import { parseTopic } from '@shaobing/schemas';

export interface Received { username: string; topic: string; payload: Buffer; retain: boolean; at: number }

export interface TestBroker {
  url: string;
  broker: Aedes;
  received: Received[];
  close(): Promise<void>;
}

export async function startTestBroker(credentials: Map<string, string>): Promise<TestBroker> {
  const usernames = new Map<string, string>();
  const received: Received[] = [];
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const ok = username !== undefined && credentials.get(username) === password?.toString();
      if (ok) usernames.set(client.id, username!);
      done(ok ? null : Object.assign(new Error('bad username or password'), { returnCode: 4 as const }), ok);
    },
    authorizePublish: (client, packet, done) => {
      const user = client ? usernames.get(client.id) : undefined;
      const t = parseTopic(packet.topic);
      if (!user || !t) return done(new Error('forbidden_topic'));
      const [site, id] = user.split('/') as [string, string];
      const own = t.siteId === site && (t.kind === 'device' ? t.deviceId === id || id.startsWith('gw-') : t.gatewayId === id);
      done(own ? null : new Error('forbidden_topic'));
    },
  });
  broker.on('publish', (packet, client) => {
    if (!client && !packet.topic.startsWith('shaobing/')) return; // $SYS and the like
    const username = client ? usernames.get(client.id) ?? '?' : 'broker';
    received.push({ username, topic: packet.topic, payload: Buffer.from(packet.payload), retain: packet.retain, at: Date.now() });
  });
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    received,
    close: () => new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))),
  };
}
