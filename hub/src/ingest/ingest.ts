import { parseTopic, type ParsedTopic, type RejectReason } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { IngestedEvent, Reading } from '../events.ts';
import type { Metrics } from '../metrics.ts';
import type { Principal, Registry } from '../site/registry.ts';
import { extractReadings } from './readings.ts';
import { DeadLetterBudget } from './dead-letter-budget.ts';
import { firstRefusal } from './item-checks.ts';
import { reject, type Rejection } from './reject.ts';
import { rawForDeadLetter, safeText } from './storable-text.ts';
import { isRejection, parsePayload, validateMessage, type Expect } from './validate-message.ts';

/** What ingest needs from the store: a durable write and a dead-letter sink. */
export interface EventSink { write(event: IngestedEvent, readings: Reading[]): Promise<void> }
export interface DeadLetterRow { reason: RejectReason; detail: string; topic: string; clientId: string | null; siteId: string | null; deviceId: string | null; raw: string }
export interface DeadLetterSink { add(row: DeadLetterRow): void }
export interface PresenceSink { seen(event: IngestedEvent): void }

export interface Publish {
  topic: string;
  payload: Buffer;
  clientId: string | null;
  /** The authenticated device or gateway; null for trusted internal publishers. */
  principal: Principal | null;
  /** parseTopic(topic), when the caller already has it (the broker parses it for the ACL). */
  parsedTopic?: ParsedTopic | null;
}

export interface IngestOutcome {
  accepted: number;
  /** Resolves, with how many were stored, when every accepted message of this publish is committed. */
  committed: Promise<number>;
}

/**
 * The ingest path, in this order: the publish (admit: topic → size → parse → gateway) → each
 * item validated → a known device → ITEM_CHECKS (family, gateway binding, port range) → store
 * (count, presence, durable write).
 * Never throws for bad input: every refusal is logged, counted and dead-lettered.
 */
export class Ingest {
  /** Rejections per `site/device` since start (exposed by /api/devices; not a metric label: 10k devices). */
  readonly rejectedByDevice = new Map<string, number>();
  private readonly deadLetterBudget = new DeadLetterBudget();

  constructor(private readonly deps: {
    registry: Registry; events: EventSink; deadLetters: DeadLetterSink; presence: PresenceSink;
    metrics: Metrics; log: Logger; maxPayloadBytes: number; now?: () => number;
  }) {}

  handle(pub: Publish): IngestOutcome {
    const now = this.deps.now?.() ?? Date.now();
    const admitted = this.admit(pub);
    if ('refusal' in admitted) return this.refuse(pub, admitted.refusal, admitted.siteId);
    const { siteId, items, expect, gateway, escaped } = admitted;
    const writes: Promise<number>[] = [];
    const rawBytes = Math.ceil(pub.payload.length / items.length);
    for (const item of items) {
      const msg = validateMessage(item, expect, now, escaped);
      if (isRejection(msg)) {
        this.record(pub, msg, siteId, items.length > 1 ? item : undefined);
        continue;
      }
      const device = this.deps.registry.device(siteId, msg.deviceId);
      const refusal = device ? firstRefusal({ msg, device, gateway, registry: this.deps.registry })
        : reject('unknown_device', `no device "${msg.deviceId}" in site "${siteId}"`, msg.deviceId);
      if (refusal) {
        this.record(pub, refusal, siteId);
        continue;
      }
      writes.push(this.store(pub, { siteId, ...msg, receivedAt: now, rawBytes }));
    }
    // One envelope per publish is the common case: its write is the answer (no Promise.all).
    const committed = writes.length === 1 ? writes[0]! : Promise.all(writes).then((n) => n.reduce((a, b) => a + b, 0));
    return { accepted: writes.length, committed };
  }

  /** The publish as a whole, in order: topic → size → parse (JSON, gateway batch) → the gateway speaking. */
  private admit(pub: Publish): { refusal: Rejection; siteId: string | null } | { siteId: string; items: unknown[]; expect: Expect; gateway: Extract<Principal, { kind: 'gateway' }> | null; escaped: boolean } {
    const topic = pub.parsedTopic !== undefined ? pub.parsedTopic : parseTopic(pub.topic);
    if (!topic) return { refusal: reject('forbidden_topic', `not a shaobing/v1 topic: ${pub.topic.slice(0, 200)}`), siteId: null };
    const siteId = topic.siteId;
    const topicDevice = topic.kind === 'device' ? topic.deviceId : undefined;
    if (pub.payload.length > this.deps.maxPayloadBytes) {
      return { refusal: reject('too_large', `payload of ${pub.payload.length} bytes (max ${this.deps.maxPayloadBytes})`, topicDevice), siteId };
    }
    const parsed = parsePayload(pub.payload);
    if (isRejection(parsed)) return { refusal: topicDevice ? { ...parsed, deviceId: topicDevice } : parsed, siteId };
    if (topic.kind === 'gateway' && !parsed.batch) return { refusal: reject('schema', 'a gateway batch topic takes a JSON array of items'), siteId };
    // The gateway speaking: the embedded broker's login, else (external broker, which
    // authenticated it and bound it to its topics) the gateway its batch topic names.
    const topicGateway = topic.kind === 'gateway' ? this.deps.registry.principal(`${siteId}/${topic.gatewayId}`) : undefined;
    const gateway = pub.principal?.kind === 'gateway' ? pub.principal : topicGateway?.kind === 'gateway' ? topicGateway : null;
    if (topic.kind === 'gateway' && !gateway) return { refusal: reject('forbidden_topic', `no gateway "${topic.gatewayId}" in site "${siteId}"`), siteId };
    const expect: Expect = topic.kind === 'device' ? { deviceId: topic.deviceId, family: topic.family, channel: topic.channel } : {};
    return { siteId, items: parsed.items, expect, gateway, escaped: parsed.escaped };
  }

  /** Counts an accepted message, tells presence, and writes it; resolves 1 when stored, 0 when the database refused its data. */
  private store(pub: Publish, event: IngestedEvent): Promise<number> {
    this.deps.metrics.accepted.inc({ family: event.family, channel: event.channel });
    this.deps.presence.seen(event);
    return this.deps.events.write(event, extractReadings(event)).then(() => 1, (err: Error) => {
      // The database refused this message's data itself (not an outage): dead-letter it,
      // acknowledge, and let the rest of the publish through; rethrow anything else.
      if (err.name !== 'UnstorableEventError') throw err;
      this.record(pub, reject('schema', `database refused the data: ${err.message}`, event.deviceId), event.siteId);
      return 0;
    });
  }

  /** Refuses a whole publish (forbidden topic, too large, bad JSON, rate limited). */
  refuse(pub: Publish, r: Rejection, siteId: string | null): IngestOutcome {
    this.record(pub, r, siteId);
    return { accepted: 0, committed: Promise.resolve(0) };
  }

  /** Counts, logs and dead-letters one rejection (rows and lines sampled per source). */
  private record(pub: Publish, r: Rejection, siteId: string | null, item?: unknown): void {
    const { metrics, log, deadLetters } = this.deps;
    metrics.rejected.inc({ reason: r.reason });
    const deviceId = r.deviceId ?? (pub.principal?.kind === 'device' ? pub.principal.id : null);
    // Only registered devices get a counter: ids from hostile payloads must not grow the map.
    if (deviceId && siteId && this.deps.registry.device(siteId, deviceId)) {
      const key = `${siteId}/${deviceId}`;
      this.rejectedByDevice.set(key, (this.rejectedByDevice.get(key) ?? 0) + 1);
    }
    // A flood must not fill the dead-letter table (or the log): rows and lines are sampled per
    // source and reason; the counters above stay exact.
    const source = pub.principal ? `${pub.principal.siteId}/${pub.principal.id}` : `${siteId ?? '-'}/${deviceId ?? '-'}`;
    const leftOut = this.deadLetterBudget.admit(source, r.reason, this.deps.now?.() ?? Date.now());
    if (leftOut === null) return;
    log.warn({ reason: r.reason, detail: r.detail, topic: pub.topic.slice(0, 200), clientId: pub.clientId, deviceId, leftOut }, 'message rejected');
    const raw = item === undefined ? rawForDeadLetter(pub.payload) : rawForDeadLetter(Buffer.from(JSON.stringify(item) ?? ''));
    const detail = leftOut > 0 ? `${r.detail} (${leftOut} similar rejections from this source not stored)` : r.detail;
    deadLetters.add({ reason: r.reason, detail: safeText(detail, 1000), topic: safeText(pub.topic, 500), clientId: pub.clientId && safeText(pub.clientId, 200), siteId, deviceId, raw });
  }
}
