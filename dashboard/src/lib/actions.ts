import { OPERATOR_ACTIONS, type OperatorAction, type Rating, type DismissReason } from './contract.ts';

/** What the form of each action asks for; the hub validates the same (schemas/tickets.ts bodies). */
export const ACTION_FORM: Record<OperatorAction, { note: 'required' | 'optional'; field?: 'assignee' | 'rating' | 'reason' }> = {
  dispatch: { note: 'optional', field: 'assignee' },
  accept: { note: 'optional' },
  comment: { note: 'required' },
  resolve: { note: 'required' },
  rate: { note: 'optional', field: 'rating' },
  request_dismiss: { note: 'required', field: 'reason' },
  approve_dismiss: { note: 'optional' },
  reject_dismiss: { note: 'required' },
  escalate: { note: 'required' },
  reopen: { note: 'required' },
  arrive: { note: 'optional' },
};

/** Order of the buttons: the usual next step first, the exceptional ones last. */
const ORDER: readonly OperatorAction[] = ['dispatch', 'accept', 'arrive', 'resolve', 'rate', 'comment', 'escalate', 'reopen', 'request_dismiss', 'approve_dismiss', 'reject_dismiss'];

/** The hub's allowedActions (snake or kebab case) as known actions, in button order. */
export function normaliseActions(allowed: readonly string[]): OperatorAction[] {
  const set = new Set(allowed.map((a) => a.replaceAll('-', '_')));
  return ORDER.filter((a) => set.has(a) && (OPERATOR_ACTIONS as readonly string[]).includes(a));
}

export interface ActionForm { note: string; assigneeId?: string; rating?: Rating; reasonCategory?: DismissReason }

/** The request body, or an error key when a required field is missing. */
export function actionBody(action: OperatorAction, form: ActionForm, version: number): { ok: true; body: Record<string, unknown> } | { ok: false; missing: 'note' | 'assignee' | 'rating' | 'reason' } {
  const spec = ACTION_FORM[action];
  const note = form.note.trim();
  if (spec.note === 'required' && !note) return { ok: false, missing: 'note' };
  const body: Record<string, unknown> = { version };
  if (note) body.note = note;
  if (spec.field === 'assignee') {
    if (form.assigneeId) body.assigneeId = form.assigneeId;
  } else if (spec.field === 'rating') {
    if (!form.rating) return { ok: false, missing: 'rating' };
    body.rating = form.rating;
  } else if (spec.field === 'reason') {
    if (!form.reasonCategory) return { ok: false, missing: 'reason' };
    body.reasonCategory = form.reasonCategory;
  }
  return { ok: true, body };
}
