import { OPERATOR_ACTIONS, TICKET_ACTION_BODIES, type OperatorAction, type Rating, type DismissReason } from './contract.ts';

export interface ActionFormSpec { note: 'required' | 'optional'; field?: 'assignee' | 'rating' | 'reason' }

/** The body property behind each extra form control. */
const FIELD_OF = { assigneeId: 'assignee', rating: 'rating', reasonCategory: 'reason' } as const;
const FIELDS = Object.keys(FIELD_OF) as (keyof typeof FIELD_OF)[];

/** What the form of an action asks for, read off the body schema the hub validates (schemas/tickets.ts). */
export function actionForm(action: OperatorAction): ActionFormSpec {
  const body = TICKET_ACTION_BODIES[action];
  const required: readonly string[] = body.required ?? [];
  const field = FIELDS.find((k) => k in body.properties);
  return { note: required.includes('note') ? 'required' : 'optional', ...(field ? { field: FIELD_OF[field] } : {}) };
}

/** Order of the buttons: the usual next step first, the exceptional ones last. */
const ORDER: readonly OperatorAction[] = ['confirm_review', 'reject_review', 'dispatch', 'accept', 'arrive', 'resolve', 'rate', 'comment', 'escalate', 'reopen', 'request_dismiss', 'approve_dismiss', 'reject_dismiss'];

/** The hub's allowedActions (snake or kebab case) as known actions, in button order. */
export function normaliseActions(allowed: readonly string[]): OperatorAction[] {
  const set = new Set(allowed.map((a) => a.replaceAll('-', '_')));
  return ORDER.filter((a) => set.has(a) && (OPERATOR_ACTIONS as readonly string[]).includes(a));
}

export interface ActionForm { note: string; assigneeId?: string; rating?: Rating; reasonCategory?: DismissReason }

/** The request body, or an error key when a required field is missing. */
export function actionBody(action: OperatorAction, form: ActionForm, version: number): { ok: true; body: Record<string, unknown> } | { ok: false; missing: 'note' | 'assignee' | 'rating' | 'reason' } {
  const spec = actionForm(action);
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
