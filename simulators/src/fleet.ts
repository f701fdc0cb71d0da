/*
 * MQTT connections of the simulated fleet: one Link per device (own credentials) or per
 * gateway. A link counts what it sends and what the broker acknowledged, applies
 * backpressure through a cap on unacknowledged publishes, and can be dropped without
 * DISCONNECT (so the broker fires the Last Will) and brought back.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface FleetCounters { sent: number; acked: number; failed: number; rejectedConnects: number; malformed: number; connected: number }

export interface LinkOptions {
  url: string;
  kind: 'device' | 'gateway';
  siteId: string;
  id: string;
  username: string;
  password: string;
  qos: 0 | 1;
  maxInflight: number;
  will?: { topic: string; payload: string };
  counters: FleetCounters;
  log: (line: string) => void;
  /** Called on every (re)connection, e.g. to publish the retained status. */
  onConnect: (link: Link) => void;
  /** Called when the link can take more messages again. */
  onReady: (link: Link) => void;
}

export class Link {
  client: MqttClient | null = null;
  connected = false;
  rejected = false;
  /** Dropped by a scenario: stays down until resumed. */
  suspended = false;
  inflight = 0;
  private closing = false;
  private detach: () => void = () => {};
  private settleConnect: () => void = () => {};
  private readonly pending = new Set<(err?: Error | null) => void>();

  constructor(readonly opts: LinkOptions) {}

  get kind(): 'device' | 'gateway' { return this.opts.kind; }
  get id(): string { return this.opts.id; }
  get ready(): boolean { return this.connected && !this.suspended && this.inflight < this.opts.maxInflight; }

  /** Connects; resolves on the first outcome (connected, refused, or unreachable). */
  connect(): Promise<void> {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.username,
      username: o.username,
      password: o.password,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      connectTimeout: 10_000,
      reconnectPeriod: 1000 + Math.floor(Math.random() * 1000), // jitter: no thundering herd
      queueQoSZero: false,
      resubscribe: false,
      ...(o.will ? { will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: o.kind === 'device' } } : {}),
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (): void => { if (!settled) { settled = true; resolve(); } };
      this.settleConnect = settle; // end() before any outcome must not leave connectAll waiting
      const onConnect = (): void => {
        if (!this.connected) o.counters.connected++;
        this.connected = true;
        settle();
        o.onConnect(this);
        o.onReady(this);
      };
      const onClose = (): void => {
        if (this.connected) o.counters.connected--;
        this.connected = false;
        settle();
      };
      const onError = (err: Error & { code?: number }): void => {
        // CONNACK refusals (4 bad credentials, 5 not authorised): count once, do not retry.
        if (err.code === 4 || err.code === 5 || /Connection refused/.test(err.message)) {
          if (!this.rejected) { this.rejected = true; o.counters.rejectedConnects++; o.log(`connect refused for ${o.username}: ${err.message}`); }
          client.end(true);
        }
        settle();
      };
      // Stays attached for good: a late error (CONNACK timer after end) must not crash the process.
      client.on('error', () => {});
      client.on('connect', onConnect);
      client.on('close', onClose);
      client.on('error', onError);
      // Only ours: removeAllListeners would also strip mqtt.js's own 'close' handler.
      this.detach = () => { client.off('connect', onConnect); client.off('close', onClose); client.off('error', onError); };
    });
  }

  /** Publishes; `count` is how many device messages the payload carries (a batch has many). */
  publish(topic: string, payload: string | Buffer, count: number, opts: { retain?: boolean; qos?: 0 | 1; malformed?: boolean } = {}): void {
    const c = this.opts.counters;
    const client = this.client;
    c.sent += count;
    if (opts.malformed) c.malformed += count;
    if (!client || this.closing) { c.failed += count; return; }
    this.inflight++;
    const settle = (err?: Error | null): void => {
      if (!this.pending.delete(settle)) return;
      this.inflight--;
      if (err) c.failed += count; else c.acked += count;
      if (this.inflight === Math.floor(this.opts.maxInflight / 2)) this.opts.onReady(this);
    };
    this.pending.add(settle);
    client.publish(topic, payload, { qos: opts.qos ?? this.opts.qos, retain: opts.retain ?? false }, settle);
  }

  /** Kills the socket without DISCONNECT: the broker publishes the Last Will. */
  drop(): void {
    this.suspended = true;
    this.client?.end(true);
    for (const settle of [...this.pending]) settle(new Error('connection dropped'));
  }

  async resume(): Promise<void> {
    if (!this.suspended) return;
    this.suspended = false;
    this.detach();
    await this.connect();
  }

  /** Clean DISCONNECT after in-flight messages are acknowledged (forced after `timeoutMs`). */
  async end(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      // Not connected: nothing to wait for, and a graceful end would wait for a reconnect.
      if (!this.connected) { client.end(true, {}, () => resolve()); return; }
      const timer = setTimeout(() => client.end(true, {}, () => resolve()), timeoutMs);
      client.end(false, {}, () => { clearTimeout(timer); resolve(); });
    });
    this.detach();
    this.settleConnect();
    // A forced end (client was down) never calls back what mqtt.js still held: count it failed.
    for (const settle of [...this.pending]) settle(new Error('client ended'));
    if (this.connected) this.opts.counters.connected--;
    this.connected = false;
  }
}

/** Connects links with at most `concurrency` CONNECTs in flight. */
export async function connectAll(links: Link[], concurrency: number, isStopped: () => boolean): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < links.length && !isStopped()) await links[next++]!.connect();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, links.length)) }, worker));
}
