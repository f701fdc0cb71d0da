/*
 * 门禁 door controller of a unit entrance. ~30 residents make ~80 passages a day, bunched at
 * the morning and evening commute; a passage is access_granted → opened → closed a few
 * seconds later (never held > 60 s, never forced: those are scenarios). A rare access_denied
 * (expired card, face mismatch) is normal life. Heartbeat every 60 s.
 */
import type { Device } from '@shaobing/schemas';
import type { Rng } from '../random.ts';
import { round } from '../random.ts';
import { Agenda, SECOND, dailyCurve, maxOf, nextArrival, type Emit, type Profile } from './types.ts';

const PASSAGES_PER_DAY = 80;
const HEARTBEAT_MS = 60 * SECOND;
const DENIED_SHARE = 0.015;
//                     0    1    2    3    4    5    6    7  8  9    10 11 12   13 14 15 16 17   18 19   20   21 22   23
const WEIGHTS = [0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 1.2, 3, 3, 1.5, 1, 1, 1.5, 1, 1, 1, 1, 2.5, 3, 2.5, 1.5, 1, 0.5, 0.2];
const curve = dailyCurve(WEIGHTS);
const PEAK = maxOf(WEIGHTS);

const CREDENTIALS = [['face', 40], ['card', 35], ['qr', 15], ['password', 5], ['remote', 5]] as const;
const DENIAL_REASONS = [['expired', 3], ['unknown_credential', 3], ['face_mismatch', 3], ['blacklisted', 0.3], ['other', 1]] as const;

function heartbeat(_device: Device, rng: Rng): Emit {
  return { type: 'door.heartbeat', data: { rssiDbm: round(rng.float(-95, -55), 0) } };
}

export const doorProfile: Profile = {
  family: 'door',
  firmware: 'AC-3.2.1',
  heartbeatEveryMs: HEARTBEAT_MS,
  heartbeat,
  meanRatePerSec: () => 1 / 60 + (PASSAGES_PER_DAY * 2.8) / 86400,
  create(device, rng, t0) {
    const agenda = new Agenda();
    // Each unit has its own residents, pseudonymous refs (never names), stable per seed.
    const residents = Array.from({ length: rng.int(15, 45) }, () => `r-${rng.hex(8)}`);
    agenda.every(t0 + rng.float(0, HEARTBEAT_MS), HEARTBEAT_MS, () => [heartbeat(device, rng)]);
    const passage = (at: number): Emit[] => {
      agenda.schedule(nextArrival(rng, at, PASSAGES_PER_DAY, curve, PEAK), passage);
      const credential = rng.weighted(CREDENTIALS);
      if (rng.chance(DENIED_SHARE)) {
        return [{ type: 'door.access_denied', data: { credential, reason: rng.weighted(DENIAL_REASONS) } }];
      }
      // The close is tied to the open in real time (see Emit.then), not scheduled on the
      // simulated clock: slowed or parked, a simulated door would otherwise stay open.
      const then = { afterMs: rng.float(3, 12) * SECOND, emit: { type: 'door.closed', data: { door: 'main' } } as const };
      // People leave by the exit button; they come in with a credential.
      if (rng.chance(0.45)) return [{ type: 'door.opened', data: { door: 'main', method: 'exit_button' }, then }];
      return [
        { type: 'door.access_granted', data: { credential, subjectRef: rng.pick(residents) } },
        { type: 'door.opened', data: { door: 'main', method: credential }, then },
      ];
    };
    agenda.schedule(nextArrival(rng, t0, PASSAGES_PER_DAY, curve, PEAK), passage);
    return agenda;
  },
};
