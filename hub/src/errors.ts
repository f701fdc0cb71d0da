import { API_ERRORS, type ApiErrorCode } from '@shaobing/schemas';

/** The catalogue (code → status, default message) lives in schemas/src/errors.ts: the dashboard reads the same codes. */
export type ErrorCode = ApiErrorCode;

export class HubError extends Error {
  readonly statusCode: number;
  constructor(readonly code: ErrorCode, message?: string) {
    super(message ?? API_ERRORS[code][1]);
    this.statusCode = API_ERRORS[code][0];
  }
}
