/**
 * One catalogue of API errors: stable code, HTTP status, default message. The hub throws these
 * (hub/src/errors.ts HubError); the dashboard reads the codes of error replies against it.
 */
export const API_ERRORS = {
  HUB_ERR_VALIDATION: [400, 'request does not match the schema'],
  HUB_ERR_BAD_CURSOR: [400, 'cursor is not one this API issued'],
  HUB_ERR_UNAUTHORIZED: [401, 'log in first (Authorization: Bearer <token>)'],
  HUB_ERR_BAD_LOGIN: [401, 'wrong username or password'],
  HUB_ERR_FORBIDDEN: [403, 'your role may not do this'],
  HUB_ERR_NOT_FOUND: [404, 'no such resource'],
  HUB_ERR_UNKNOWN_DEVICE: [404, 'no such device'],
  HUB_ERR_ILLEGAL_TRANSITION: [409, 'this action is not allowed in the ticket\'s current state'],
  HUB_ERR_CONFLICT: [409, 'changed by someone else; reload and retry'],
  HUB_ERR_ALREADY_TAKEN: [409, 'another worker took this ticket first (抢单)'],
  // Tickets (TICKET_ERROR_CODES in tickets.ts; a stale `version` maps to HUB_ERR_CONFLICT).
  HUB_ERR_TICKET_NOT_FOUND: [404, 'no such ticket'],
  HUB_ERR_TICKET_EXISTS: [409, 'the ticket already exists'],
  HUB_ERR_NOTE_REQUIRED: [400, 'this action needs a note'],
  HUB_ERR_ASSIGNEE_REQUIRED: [400, 'no grid worker to dispatch to'],
  HUB_ERR_NOT_DEVICE_VERIFIABLE: [409, 'this ticket cannot be resolved by its device'],
  HUB_ERR_DISMISSAL_PENDING: [409, 'a dismissal request is already waiting for approval'],
  HUB_ERR_NO_DISMISSAL_PENDING: [409, 'no dismissal request is waiting'],
  HUB_ERR_SELF_APPROVAL: [403, 'a dismissal must be approved by someone other than the requester'],
  HUB_ERR_MAX_ESCALATION: [409, 'already escalated to the street'],
  HUB_ERR_PHOTO_REQUIRED: [400, 'resolving this ticket needs at least one photo'],
  HUB_ERR_AWAITING_REVIEW: [409, 'this AI alert waits for a control-room check (人工核准): confirm or reject it first'],
  HUB_ERR_BAD_ATTACHMENT: [415, 'attachments must be JPEG, PNG or WebP images'],
  HUB_ERR_ATTACHMENT_TOO_LARGE: [413, 'attachment too large'],
  HUB_ERR_TOO_MANY_ATTACHMENTS: [409, 'this ticket has the most attachments allowed'],
  HUB_ERR_ATTACHMENT_NOT_FOUND: [404, 'no such attachment'],
  HUB_ERR_UNKNOWN_SITE: [404, 'no such site'],
  HUB_ERR_UNKNOWN_CELL: [400, 'no such grid cell in this site'],
  HUB_ERR_RATE_LIMITED: [429, 'too many requests'],
  HUB_ERR_STORE_UNAVAILABLE: [503, 'the database is unreachable; retry shortly'],
} as const satisfies Record<string, readonly [number, string]>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Whether a reply's `code` is one of the catalogue's (anything else is not the hub speaking). */
export const isApiErrorCode = (code: unknown): code is ApiErrorCode => typeof code === 'string' && Object.hasOwn(API_ERRORS, code);
