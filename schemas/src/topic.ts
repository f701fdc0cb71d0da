import { CHANNELS, FAMILIES, type Channel, type Family } from './common.ts';

export const TOPIC_ROOT = 'shaobing';
export const TOPIC_VERSION = 'v1';
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** shaobing/v1/{siteId}/{family}/{deviceId}/{channel} */
export interface DeviceTopic { kind: 'device'; siteId: string; family: Family; deviceId: string; channel: Channel }
/** shaobing/v1/{siteId}/gateway/{gatewayId}/batch — a JSON array of items for many devices of the site. */
export interface GatewayTopic { kind: 'gateway'; siteId: string; gatewayId: string }
export type ParsedTopic = DeviceTopic | GatewayTopic;

export function deviceTopic(siteId: string, family: Family, deviceId: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${TOPIC_VERSION}/${siteId}/${family}/${deviceId}/${channel}`;
}
export function gatewayBatchTopic(siteId: string, gatewayId: string): string {
  return `${TOPIC_ROOT}/${TOPIC_VERSION}/${siteId}/gateway/${gatewayId}/batch`;
}
/** Wildcard that covers one site (for operators and the hub in external-broker mode). */
export function siteWildcard(siteId: string): string {
  return `${TOPIC_ROOT}/${TOPIC_VERSION}/${siteId}/#`;
}

/** Parses a topic of the v1 contract; returns null for anything else. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 6 || parts[0] !== TOPIC_ROOT || parts[1] !== TOPIC_VERSION) return null;
  const [, , siteId, family, id, last] = parts as [string, string, string, string, string, string];
  if (!ID_RE.test(siteId) || !ID_RE.test(id)) return null;
  if (family === 'gateway') return last === 'batch' ? { kind: 'gateway', siteId, gatewayId: id } : null;
  if (!(FAMILIES as readonly string[]).includes(family) || !(CHANNELS as readonly string[]).includes(last)) return null;
  return { kind: 'device', siteId, family: family as Family, deviceId: id, channel: last as Channel };
}
