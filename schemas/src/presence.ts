import type { Family } from './common.ts';

/**
 * A device's presence as the hub tracks it in memory (devices/presence.ts) and stores it in
 * device_state (store/device-state-writer.ts); times in epoch ms. One shape for both layers.
 */
export interface DeviceState {
  siteId: string;
  deviceId: string;
  family: Family;
  lastSeen: number | null;
  online: boolean;
  status: Record<string, unknown> | null;
  statusAt: number | null;
}
