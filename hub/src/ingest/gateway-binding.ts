import type { DeviceRecord, Principal, Registry } from '../site/registry.ts';

/**
 * A gateway speaks only for the devices the site file binds to it (`gatewayId`), unless the
 * site file marks it `siteWide` (a head-end that relays the whole site).
 */
export function speaksFor(gateway: Extract<Principal, { kind: 'gateway' }>, device: DeviceRecord, registry: Registry): boolean {
  if (device.gatewayId === gateway.id) return true;
  return registry.sites.get(gateway.siteId)?.gateways.find((g) => g.id === gateway.id)?.siteWide === true;
}
