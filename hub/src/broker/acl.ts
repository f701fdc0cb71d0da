import type { Operator } from '@shaobing/schemas';
import type { ParsedTopic } from '@shaobing/schemas';
import type { Principal } from '../site/registry.ts';

/** Who is on the other end of an MQTT connection. */
export type MqttIdentity = { kind: 'principal'; principal: Principal } | { kind: 'operator'; operator: Operator };

/**
 * Publish ACL (DESIGN §4): a device only under its own topics, a gateway only under its own
 * site (any device topic of the site, or its own batch topic); operators do not publish data.
 */
export function mayPublish(who: MqttIdentity, topic: ParsedTopic | null): boolean {
  if (!topic || who.kind !== 'principal') return false;
  const p = who.principal;
  if (topic.siteId !== p.siteId) return false;
  if (p.kind === 'device') return topic.kind === 'device' && topic.deviceId === p.id && topic.family === p.family;
  return topic.kind === 'device' || topic.gatewayId === p.id;
}

/**
 * Subscribe ACL: devices and gateways have no downlink in v1; operators may watch the sites
 * they are allowed (wildcards included); only unrestricted operators may use `#` or `shaobing/v1/#`.
 */
export function maySubscribe(who: MqttIdentity, filter: string): boolean {
  if (who.kind !== 'operator') return false;
  if (filter.startsWith('$')) return who.operator.role === 'admin';
  const sites = who.operator.siteIds;
  if (!sites) return true;
  const parts = filter.split('/');
  return parts[0] === 'shaobing' && parts[1] === 'v1' && parts[2] !== undefined && sites.includes(parts[2]);
}
