import { USER_ROLES, type OperatorAction, type UserRole } from '@shaobing/schemas';
import type { FastifyRequest } from 'fastify';
import { visibleSites } from './auth.ts';
import { HubError } from '../errors.ts';
import type { Registry } from '../site/registry.ts';
import { ACTION_ROLES } from '../tickets/core/index.ts';
import type { TicketActor } from '../tickets/ticket-service.ts';

/** Helpers shared by the ticket, complaint, KPI, report and grid routes. */

/** The authenticated operator as the ticket service's actor. */
export function actorOf(req: FastifyRequest): TicketActor {
  return { username: req.user.sub, role: req.user.role, sites: visibleSites(req) };
}

/**
 * The sites a read covers: the one asked for (404 unknown, 403 not the operator's), or every
 * site the operator may see.
 */
export function siteScope(req: FastifyRequest, registry: Registry, siteId: string | undefined): string[] {
  const visible = visibleSites(req);
  if (siteId !== undefined) {
    if (!registry.sites.has(siteId)) throw new HubError('HUB_ERR_UNKNOWN_SITE', `no site ${siteId}`);
    if (visible && !visible.includes(siteId)) throw new HubError('HUB_ERR_FORBIDDEN', `you may not see site ${siteId}`);
    return [siteId];
  }
  return [...registry.sites.keys()].filter((s) => !visible || visible.includes(s));
}

/** The least operator role the permission table lets take `action` (the route's 403 gate). */
export function minRoleFor(action: OperatorAction): UserRole {
  const role = USER_ROLES.find((r) => ACTION_ROLES[action].includes(r));
  if (role === undefined) throw new Error(`no operator role may ${action}`);
  return role;
}

/** URL segment of an action: `request_dismiss` → `request-dismiss`. */
export const actionSegment = (a: OperatorAction): string => a.replaceAll('_', '-');

/**
 * A string field of a request part that no route schema has typed yet (onRequest and
 * preValidation hooks run before validation): the value, or undefined for anything else.
 */
export function stringField(part: unknown, name: string): string | undefined {
  if (typeof part !== 'object' || part === null || !(name in part)) return undefined;
  const value: unknown = Reflect.get(part, name);
  return typeof value === 'string' ? value : undefined;
}
