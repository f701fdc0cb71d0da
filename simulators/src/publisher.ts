/*
 * Turns what the fleet says into MQTT publishes: an envelope per message, a device's own topic
 * (status retained, QoS 1) or its gateway's JSON-array batch, flushed when full or after
 * BATCH_FLUSH_MS; raw (malformed) publishes go out as they are.
 */
import { MAX_BATCH_ITEMS, channelOfType, deviceTopic, gatewayBatchTopic, type BatchItem, type Site } from '@shaobing/schemas';
import type { Link } from './fleet.ts';
import { linkKey, type SimDevice } from './fleet-build.ts';
import { MIXED_WEIGHTS, kindFitsSender, malformedMessage, type MalformedKind, type RawMessage } from './malformed.ts';
import type { Emit } from './profiles/index.ts';
import type { Rng } from './random.ts';

const BATCH_FLUSH_MS = 100;
const BATCH_MAX = 200;

export interface PublisherOptions {
  nonce: string;
  links: Map<string, Link>;
  /** Picks the kind and target of malformed messages. */
  rng: Rng;
  /** Real time in ms (batch ages). */
  clock: () => number;
  log: (line: string) => void;
}

export class Publisher {
  private readonly batches = new Map<Link, { items: BatchItem[]; since: number }>();

  constructor(private readonly o: PublisherOptions) {}

  emit(d: SimDevice, e: Emit): void {
    const env = { id: `${this.o.nonce}-${++d.counter}`, ts: new Date().toISOString(), type: e.type, data: e.data };
    if (d.link.kind === 'device') {
      const channel = channelOfType(e.type);
      d.link.publish(deviceTopic(d.site.id, d.device.family, d.device.id, channel), JSON.stringify(env), 1, channel === 'status' ? { retain: true, qos: 1 } : {});
      return;
    }
    let batch = this.batches.get(d.link);
    if (!batch) { batch = { items: [], since: this.o.clock() }; this.batches.set(d.link, batch); }
    batch.items.push({ deviceId: d.device.id, id: env.id, ts: Date.now(), type: env.type, data: env.data });
    if (batch.items.length >= BATCH_MAX) this.flush(d.link);
  }

  /** One malformed or hostile message that fits the device's link (device or gateway). */
  malformed(d: SimDevice): void {
    const rng = this.o.rng;
    const senderKind = d.link.kind;
    const kind: MalformedKind = rng.weighted(MIXED_WEIGHTS.filter(([k]) => kindFitsSender(k, senderKind)));
    const other = d.site.devices[rng.int(0, d.site.devices.length - 1)]!;
    const sender = senderKind === 'device' ? { kind: 'device' as const, siteId: d.site.id, device: d.device } : { kind: 'gateway' as const, siteId: d.site.id, gatewayId: d.link.id, device: d.device };
    this.raw(malformedMessage(kind, sender, other, `${this.o.nonce}-x${++d.counter}`, rng), d.site);
  }

  raw(raw: RawMessage, site: Site): void {
    const link = this.o.links.get(linkKey(raw.via.kind, site.id, raw.via.id));
    if (!link) { this.o.log(`no client for ${raw.via.kind} ${raw.via.id}: ${raw.kind} not sent`); return; }
    // QoS 0 always: a QoS 1 publish the hub answers by closing the connection would be
    // redelivered by mqtt.js on every reconnect, forever.
    link.publish(raw.topic, raw.payload, 1, { malformed: true, qos: 0 });
  }

  flush(link: Link): void {
    const batch = this.batches.get(link);
    if (!batch || batch.items.length === 0) return;
    this.batches.delete(link);
    for (let i = 0; i < batch.items.length; i += MAX_BATCH_ITEMS) {
      const chunk = batch.items.slice(i, i + MAX_BATCH_ITEMS);
      link.publish(gatewayBatchTopic(link.opts.siteId, link.id), JSON.stringify(chunk), chunk.length);
    }
  }

  /** Batches older than BATCH_FLUSH_MS (all of them with `all`). */
  flushDue(all = false): void {
    const now = this.o.clock();
    for (const [link, batch] of [...this.batches]) if (all || now - batch.since >= BATCH_FLUSH_MS) this.flush(link);
  }
}
