import type { Channel, Family, MessageType } from '@shaobing/schemas';

/**
 * A device message after ingest accepted it: validated, enriched, ready to store.
 * This is what the store writes, the rule core evaluates and the live feed streams.
 */
export interface IngestedEvent {
  siteId: string;
  deviceId: string;
  family: Family;
  channel: Channel;
  type: MessageType;
  /** The envelope id as text; (siteId, deviceId, msgId, ts) is the idempotence key. */
  msgId: string;
  /** Device timestamp, epoch ms. */
  ts: number;
  /** Hub receive time, epoch ms. */
  receivedAt: number;
  data: Record<string, unknown>;
  /** Bytes of the message as received (its share of a gateway batch), when ingest knows it: a size hint. */
  rawBytes?: number;
  /** events.ingest_seq, when read back from the database (cluster event tail). */
  ingestSeq?: number;
}

/** One numeric sample extracted from telemetry (schemas' family `metrics`). */
export interface Reading {
  siteId: string;
  deviceId: string;
  metric: string;
  /** Charging-post port, 0 when the metric is not per port. */
  port: number;
  value: number;
  msgId: string;
  ts: number;
}
