/*
 * 摄像头 AI camera. The vendor's edge model raises alerts that depend on where the camera
 * looks (lift car → e-bikes, fire lane → blocked lanes, bin point → overflow and mixed
 * garbage, façade → thrown objects). Most detections are low-confidence (< 0.8, no ticket);
 * persistent conditions re-alert every few minutes and are cleared when they disappear.
 * smoke_fire never happens in normal life here: that is the camera-smoke scenario.
 */
import type { Device } from '@shaobing/schemas';
import { cameraPlacement, type CameraPlacement } from '../device-kinds.ts';
import type { Rng } from '../random.ts';
import { round } from '../random.ts';
import { Agenda, MINUTE, SECOND, dailyCurve, maxOf, nextArrival, type Emit, type Profile } from './types.ts';

const HEARTBEAT_MS = 60 * SECOND;
type Kind = 'ebike_in_elevator' | 'fire_lane_blocked' | 'bin_overflow' | 'thrown_object' | 'corridor_clutter' | 'illegal_parking' | 'mixed_garbage';

/** Alerts per day by placement, and the kinds they are. */
const ALERTS: Record<CameraPlacement, { perDay: number; kinds: ReadonlyArray<readonly [Kind, number]>; weights: number[] }> = {
  lift: { perDay: 3, kinds: [['ebike_in_elevator', 8], ['corridor_clutter', 1]], weights: [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.8, 2, 2, 1, 1, 1, 1.5, 1, 1, 1, 1, 2, 3, 3, 2.5, 1.5, 0.8, 0.4] },
  gate: { perDay: 1, kinds: [['illegal_parking', 1]], weights: [0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 2, 2, 1.5, 1, 0.6, 0.3] },
  lane: { perDay: 2, kinds: [['fire_lane_blocked', 3], ['illegal_parking', 2]], weights: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 2.5, 3, 3, 2, 1.5] },
  binpt: { perDay: 2.5, kinds: [['mixed_garbage', 3], ['bin_overflow', 1]], weights: [0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 1, 2, 1.5, 1, 1, 1.5, 2, 1.5, 1, 1, 1, 1.5, 3, 3, 2, 1, 0.5, 0.2] },
  facade: { perDay: 0.2, kinds: [['thrown_object', 1]], weights: [0.5, 0.2, 0.2, 0.2, 0.2, 0.3, 0.8, 1, 1, 1, 1, 1, 1.2, 1, 1, 1, 1, 1.2, 1.5, 1.5, 1.5, 1.2, 1, 0.8] },
};
/** Conditions that stay visible (and re-alert) until they go away; the rest are instants. */
const PERSISTENT: Partial<Record<Kind, { minMin: number; maxMin: number }>> = {
  ebike_in_elevator: { minMin: 1, maxMin: 4 },
  fire_lane_blocked: { minMin: 5, maxMin: 60 },
  illegal_parking: { minMin: 10, maxMin: 90 },
  corridor_clutter: { minMin: 30, maxMin: 240 },
  bin_overflow: { minMin: 10, maxMin: 60 },
};
const REALERT_MS = 5 * MINUTE;

export function snapshotUrl(deviceId: string, trackId: string, n: number): string {
  return `http://127.0.0.1/snapshots/${deviceId}/${trackId}-${n}.jpg`;
}

/** Edge-model confidence: most detections are unsure; ~35 % clear the 0.8 ticket bar. */
function confidence(rng: Rng): number {
  return round(rng.chance(0.35) ? rng.float(0.8, 0.99) : rng.float(0.5, 0.8), 2);
}

function heartbeat(_device: Device, rng: Rng): Emit {
  return { type: 'camera.heartbeat', data: { fps: rng.chance(0.9) ? 25 : round(rng.float(12, 24), 0) } };
}

export const cameraProfile: Profile = {
  family: 'camera',
  firmware: 'IPC-5.7.0',
  heartbeatEveryMs: HEARTBEAT_MS,
  heartbeat,
  meanRatePerSec: (device) => 1 / 60 + (ALERTS[cameraPlacement(device)].perDay * 2) / 86400,
  create(device, rng, t0) {
    const agenda = new Agenda();
    const spec = ALERTS[cameraPlacement(device)];
    const curve = dailyCurve(spec.weights);
    const peak = maxOf(spec.weights);
    let tracks = 0;
    agenda.every(t0 + rng.float(0, HEARTBEAT_MS), HEARTBEAT_MS, () => [heartbeat(device, rng)]);
    const incident = (at: number): Emit[] => {
      agenda.schedule(nextArrival(rng, at, spec.perDay, curve, peak), incident);
      const kind = rng.weighted(spec.kinds);
      const trackId = `trk-${++tracks}`;
      const alert = (n: number): Emit => ({ type: 'camera.alert', data: { kind, confidence: confidence(rng), snapshotUrl: snapshotUrl(device.id, trackId, n), trackId } });
      const lasting = PERSISTENT[kind];
      if (lasting) {
        const endAt = at + rng.float(lasting.minMin, lasting.maxMin) * MINUTE;
        for (let n = 2, t = at + REALERT_MS; t < endAt; n++, t += REALERT_MS) {
          const k = n;
          agenda.schedule(t, () => [alert(k)]);
        }
        agenda.schedule(endAt, () => [{ type: 'camera.alert_cleared', data: { kind, trackId } }]);
      }
      return [alert(1)];
    };
    agenda.schedule(nextArrival(rng, t0, spec.perDay, curve, peak), incident);
    return agenda;
  },
};
