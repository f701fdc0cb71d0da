import mqtt, { type MqttClient } from 'mqtt';
import { parseTopic } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { Ingest } from '../ingest/ingest.ts';
import { reject } from '../ingest/reject.ts';

export interface IngestPoolOptions {
  url: string;
  /** This hub's identity (cluster/hub-id.ts): client ids are `<hubId>-ingest-<i>`. */
  hubId: string;
  /**
   * Stable HUB_ID → persistent sessions (clean=false): the broker keeps what it queued for a
   * connection across a restart of this hub. A derived id changes on every start, so its
   * sessions are clean: a persistent session nobody resumes would keep taking its share of
   * the traffic (Mosquitto hands shared messages to offline sessions too) and hold it forever.
   */
  persistent: boolean;
  /** Shared-subscription group: hubs in one group split the traffic, each message to one of them. */
  group: string;
  connections: number;
  siteIds: readonly string[];
  ingest: Ingest;
  log: Logger;
  username?: string;
  password?: string;
}

export interface IngestPool {
  /** Connections currently up. */
  connected(): number;
  close(): Promise<void>;
}

/** `$share/<group>/shaobing/v1/<site>/#` for each site the hub serves. */
export function sharedTopics(group: string, siteIds: readonly string[]): string[] {
  return siteIds.map((site) => `$share/${group}/shaobing/v1/${site}/#`);
}

/**
 * Scale-out ingest (MQTT_URL set): the hub is a client of an external broker cluster (EMQX,
 * Mosquitto…), which owns device authentication and topic ACLs. Every hub subscribes to the
 * same shared subscriptions over a pool of connections — mqtt.js hands over one message at a
 * time per connection and waits for its acknowledgement, so throughput comes from the pool —
 * and the PUBACK to the broker is sent only after the message's batch committed. Any hub may
 * store any message; the events dedup key keeps redeliveries out.
 */
export async function connectIngestPool(opts: IngestPoolOptions): Promise<IngestPool> {
  const topics = sharedTopics(opts.group, opts.siteIds);
  // Behind a broker that checks the client-id rule (EMQX calling the hub's hooks), ids are
  // `<username>#<hubId>-ingest-<i>`, like any credential with several connections.
  const username = opts.username ?? decodeURIComponent(new URL(opts.url).username);
  const prefix = username ? `${username}#` : '';
  const clients = await Promise.all(Array.from({ length: opts.connections }, (_, i) =>
    connectOne(opts, `${prefix}${opts.hubId}-ingest-${i}`, topics, opts.log.child({ conn: i }))));
  opts.log.info({ url: opts.url.replace(/\/\/[^@]*@/, '//***@'), topics, connections: clients.length, persistent: opts.persistent }, 'ingesting from external broker');
  return {
    connected: () => clients.filter((c) => c.connected).length,
    close: async () => { await Promise.all(clients.map((c) => new Promise<void>((r) => c.end(false, {}, () => r())))); },
  };
}

async function connectOne(opts: IngestPoolOptions, clientId: string, topics: string[], log: Logger): Promise<MqttClient> {
  const client = mqtt.connect(opts.url, {
    clientId,
    clean: !opts.persistent,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(opts.username ? { username: opts.username } : {}),
    ...(opts.password ? { password: opts.password } : {}),
  });
  client.handleMessage = (packet, done) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload);
    const pub = { topic: packet.topic, payload, clientId: null, principal: null };
    let committed: Promise<number>;
    try {
      committed = opts.ingest.handle(pub).committed;
    } catch (err) {
      // A bug on one message must not stall the session, nor vanish: dead-letter it, then ack.
      log.error({ err, topic: packet.topic.slice(0, 200) }, 'ingest failed on a message from the external broker; dead-lettered');
      opts.ingest.refuse(pub, reject('ingest_error', `ingest threw: ${(err as Error).message}`), parseTopic(packet.topic)?.siteId ?? null);
      done();
      return;
    }
    committed.then(() => done(), (err: Error) => {
      // Not stored (store closing, or past its pending limit): never ack. Dropping the
      // connection makes the broker redeliver the message, unacknowledged, after reconnect.
      log.error({ err: err.message, topic: packet.topic.slice(0, 200) }, 'message not stored; reconnecting so the broker redelivers it');
      client.stream.destroy();
    });
  };
  client.on('error', (err) => log.warn({ err: err.message }, 'external broker error'));
  client.on('reconnect', () => log.info('reconnecting to external broker'));
  await new Promise<void>((resolve, reject) => {
    client.once('error', reject);
    client.on('connect', (ack) => {
      // A resumed persistent session already has the subscriptions; subscribing again is
      // harmless and covers a broker that lost its state.
      if (ack.sessionPresent) log.info({ clientId }, 'external broker session resumed');
      client.subscribe(topics, { qos: 1 }, (err) => {
        if (err) log.error({ err: err.message }, 'subscribe failed');
        client.off('error', reject);
        if (err) reject(err); else resolve();
      });
    });
  });
  return client;
}
