import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { parseTopic } from '@shaobing/schemas';
import type { Ingest } from '../ingest/ingest.ts';
import { reject } from '../ingest/reject.ts';

/**
 * Scale-out mode (MQTT_URL set): the hub is a client of an external broker cluster (EMQX,
 * Mosquitto…), which then owns device authentication and topic ACLs. A persistent session
 * (clean=false, fixed client id) makes the broker queue QoS 1 messages while the hub is down,
 * and the PUBACK to the broker is sent only after the message committed (handleMessage).
 */
export async function connectExternalBroker(opts: { url: string; clientId: string; username?: string; password?: string; topics: string[]; ingest: Ingest; log: Logger }): Promise<MqttClient> {
  const client = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(opts.username ? { username: opts.username } : {}),
    ...(opts.password ? { password: opts.password } : {}),
  });
  client.handleMessage = (packet, done) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload);
    const pub = { topic: packet.topic, payload, clientId: null, principal: null };
    try {
      const outcome = opts.ingest.handle(pub);
      outcome.committed.then(() => done(), (err: Error) => done(err));
    } catch (err) {
      // A bug on one message must not stall the session: dead-letter it (as the embedded broker
      // does), then acknowledge and move on.
      opts.log.error({ err, topic: packet.topic.slice(0, 200) }, 'ingest failed on a message from the external broker; dead-lettered');
      opts.ingest.refuse(pub, reject('schema', `could not be processed: ${(err as Error).message}`), parseTopic(packet.topic)?.siteId ?? null);
      done();
    }
  };
  client.on('error', (err) => opts.log.warn({ err: err.message }, 'external broker error'));
  client.on('reconnect', () => opts.log.info('reconnecting to external broker'));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', (ack) => {
      // With a persistent session the subscription survives; subscribing again is harmless.
      if (ack.sessionPresent) opts.log.info('external broker session resumed');
      client.subscribe(opts.topics, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
    client.once('error', reject);
  });
  opts.log.info({ url: opts.url.replace(/\/\/[^@]*@/, '//***@'), topics: opts.topics }, 'ingesting from external broker');
  return client;
}
