/** One catalogue of API errors: stable code, HTTP status, default message. */
export const ERRORS = {
  HUB_ERR_VALIDATION: [400, 'request does not match the schema'],
  HUB_ERR_BAD_CURSOR: [400, 'cursor is not one this API issued'],
  HUB_ERR_UNAUTHORIZED: [401, 'log in first (Authorization: Bearer <token>)'],
  HUB_ERR_BAD_LOGIN: [401, 'wrong username or password'],
  HUB_ERR_FORBIDDEN: [403, 'your role may not do this'],
  HUB_ERR_NOT_FOUND: [404, 'no such resource'],
  HUB_ERR_UNKNOWN_DEVICE: [404, 'no such device'],
  HUB_ERR_ILLEGAL_TRANSITION: [409, 'this action is not allowed in the ticket\'s current state'],
  HUB_ERR_CONFLICT: [409, 'changed by someone else; reload and retry'],
  HUB_ERR_RATE_LIMITED: [429, 'too many requests'],
  HUB_ERR_STORE_UNAVAILABLE: [503, 'the database is unreachable; retry shortly'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

export class HubError extends Error {
  readonly statusCode: number;
  constructor(readonly code: ErrorCode, message?: string) {
    super(message ?? ERRORS[code][1]);
    this.statusCode = ERRORS[code][0];
  }
}
