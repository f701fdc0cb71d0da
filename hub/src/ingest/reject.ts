import type { RejectReason } from '@shaobing/schemas';

/** A message the hub refuses, with a stable reason code (contract) and a human detail. */
export interface Rejection {
  reason: RejectReason;
  detail: string;
  deviceId?: string;
}

export const reject = (reason: RejectReason, detail: string, deviceId?: string): Rejection =>
  deviceId === undefined ? { reason, detail } : { reason, detail, deviceId };
