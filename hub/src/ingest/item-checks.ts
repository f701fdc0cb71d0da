import type { DeviceRecord, Principal, Registry } from '../site/registry.ts';
import { speaksFor } from './gateway-binding.ts';
import { reject, type Rejection } from './reject.ts';
import type { ValidMessage } from './validate-message.ts';

/** A valid message of a known device, and who sent it: what the checks below look at. */
export interface ItemContext {
  msg: ValidMessage;
  device: DeviceRecord;
  /** The gateway speaking for the device, if a gateway sent it. */
  gateway: Extract<Principal, { kind: 'gateway' }> | null;
  registry: Registry;
}

/** One check of a message against the registry: a refusal, or null to go on. */
export type ItemCheck = (c: ItemContext) => Rejection | null;

const sameFamily: ItemCheck = ({ msg, device }) =>
  device.family === msg.family ? null : reject('schema', `device "${msg.deviceId}" is a ${device.family}, not a ${msg.family}`, msg.deviceId);

const gatewayBound: ItemCheck = ({ msg, device, gateway, registry }) =>
  !gateway || speaksFor(gateway, device, registry) ? null
    : reject('forbidden_topic', `gateway "${gateway.id}" is not bound to device "${msg.deviceId}" in the site file`, msg.deviceId);

const portInRange: ItemCheck = ({ msg, device }) =>
  typeof msg.data.port !== 'number' || device.ports === undefined || msg.data.port <= device.ports ? null
    : reject('schema', `/data/port: ${msg.data.port} but post "${msg.deviceId}" has ${device.ports} ports`, msg.deviceId);

/** Run in this order for every message of a known device; the first refusal wins. */
export const ITEM_CHECKS: readonly ItemCheck[] = [sameFamily, gatewayBound, portInRange];

export function firstRefusal(c: ItemContext): Rejection | null {
  for (const check of ITEM_CHECKS) {
    const r = check(c);
    if (r !== null) return r;
  }
  return null;
}
